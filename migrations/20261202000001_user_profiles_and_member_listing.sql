-- Profiles as the user-management API reads and writes them, and the index the org's user list
-- pages over.

-- The profile fields of the user-management API (`/users/{accountId}/manage/profile`). Null
-- means "not set"; a set value is 1 to N characters, bounded so a client cannot store
-- megabytes in a profile. The limits are the API's own (domain types check the same, so a
-- violation here means a bug, not a user mistake).
ALTER TABLE users
    ADD COLUMN nickname     text CONSTRAINT users_nickname_shape     CHECK (char_length(nickname) BETWEEN 1 AND 100),
    -- An IANA time zone name such as Europe/Berlin.
    ADD COLUMN zoneinfo     text CONSTRAINT users_zoneinfo_shape     CHECK (char_length(zoneinfo) BETWEEN 1 AND 64),
    -- A BCP 47 language tag such as en-US.
    ADD COLUMN locale       text CONSTRAINT users_locale_shape       CHECK (char_length(locale) BETWEEN 1 AND 35),
    ADD COLUMN job_title    text CONSTRAINT users_job_title_shape    CHECK (char_length(job_title) BETWEEN 1 AND 100),
    ADD COLUMN department   text CONSTRAINT users_department_shape   CHECK (char_length(department) BETWEEN 1 AND 100),
    ADD COLUMN organization text CONSTRAINT users_organization_shape CHECK (char_length(organization) BETWEEN 1 AND 100),
    ADD COLUMN location     text CONSTRAINT users_location_shape     CHECK (char_length(location) BETWEEN 1 AND 100);

-- The org's user list is a keyset walk over (membership created_at, user id): this index
-- serves every page, and the count, from the index alone.
CREATE INDEX memberships_org_listing ON memberships (org_id, created_at, user_id);

-- Grants. keyward_app holds table-level SELECT, INSERT and UPDATE on users (migration
-- 20261201000001), and a table-level privilege covers every column, those added later
-- included: the new profile columns need no GRANT of their own, and none is added. The index
-- needs none either. Memberships (SELECT, INSERT, UPDATE, DELETE) and sessions (DELETE, for
-- ending a person's sessions) already have what the user-management API does to them.
