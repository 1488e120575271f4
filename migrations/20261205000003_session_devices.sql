-- "Your account" lists a person's live sessions and can end one of them. A session is named on
-- that page by a random public id: its primary key is the hash of the cookie's id, which must
-- never reach a page. The address and user agent of the sign-in tell the person which browser
-- each session is; the user agent is bounded like the audit log's (crate::domain::UserAgent).
-- Sessions created before this migration have neither. The table's grants are table-level, so
-- the new columns need none.
ALTER TABLE sessions
    ADD COLUMN public_id  uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT sessions_public_id_unique UNIQUE,
    ADD COLUMN ip         inet,
    ADD COLUMN user_agent text CONSTRAINT sessions_user_agent_length CHECK (char_length(user_agent) BETWEEN 1 AND 512);
