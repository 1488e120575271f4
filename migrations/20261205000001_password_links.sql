-- One-time set-password links: for a person an admin creates in the console, for a member who
-- lost theirs, and for the day the last admin forgets theirs (`keyward admin reset-password`).
-- Only a SHA-256 of each token is stored; a link is valid 24 hours and works once.

CREATE TABLE password_links (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    -- The org whose admin issued the link (its audit log records the link's use): the org that
    -- managed the account then. A link works only while the account is still managed by it.
    org_id     uuid        REFERENCES orgs (id) ON DELETE RESTRICT,
    -- The admin who issued it; null for `keyward admin reset-password`. A link works only while
    -- its issuer is still an active admin of `org_id`: offboarding an admin retires their links.
    issued_by  uuid        REFERENCES users (id) ON DELETE RESTRICT,
    token_hash bytea       NOT NULL
        CONSTRAINT password_links_hash_unique UNIQUE
        CONSTRAINT password_links_hash_length CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set by the single UPDATE ... WHERE used_at IS NULL that consumes the link.
    used_at    timestamptz,
    -- Set when a newer link for the same person replaces it, or the account is disabled.
    retired_at timestamptz,
    CONSTRAINT password_links_lifetime CHECK (expires_at <= created_at + interval '24 hours')
);

-- Issuing a link retires the person's earlier unused ones.
CREATE INDEX password_links_user_unused ON password_links (user_id) WHERE used_at IS NULL AND retired_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON password_links TO keyward_app;

-- A key's detail page lists the keys created through the API with it, and revoking it can
-- revoke those too.
CREATE INDEX api_keys_created_with_key ON api_keys (created_by_id) WHERE created_by_kind = 'key';
