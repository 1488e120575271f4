-- Organizations, people and who administers what.

-- An organization owns API keys, members and audit events. Rows are never deleted
-- (keys and events reference them with ON DELETE RESTRICT).
CREATE TABLE orgs (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL
        -- Names are shown on the selection screen: trimmed, 1 to 100 characters.
        CONSTRAINT orgs_name_shape CHECK (char_length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE user_status AS ENUM ('active', 'disabled');

-- A person who may sign in. One account may administer several organizations.
CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    email          text        NOT NULL
        CONSTRAINT users_email_shape CHECK (char_length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
    display_name   text        NOT NULL
        CONSTRAINT users_display_name_shape CHECK (char_length(display_name) BETWEEN 1 AND 100),
    -- argon2id PHC string; null until the person sets a password.
    password_hash  text
        CONSTRAINT users_password_hash_argon2id CHECK (password_hash LIKE '$argon2id$%'),
    status         user_status NOT NULL DEFAULT 'active',
    -- The one organization allowed to change the account itself (profile, email, disable).
    managed_by_org uuid        REFERENCES orgs (id) ON DELETE RESTRICT,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);

-- Emails are unique whatever their case: Alice@Example.com and alice@example.com are one person.
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

CREATE TYPE membership_role AS ENUM ('admin', 'member');

-- Who belongs to which organization, and in which role. Suspension is per membership so one
-- organization can never lock a person out of another.
CREATE TABLE memberships (
    org_id       uuid            NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
    user_id      uuid            NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    role         membership_role NOT NULL,
    suspended_at timestamptz,
    created_at   timestamptz     NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);

-- The selection screen lists a person's organizations.
CREATE INDEX memberships_user ON memberships (user_id);
