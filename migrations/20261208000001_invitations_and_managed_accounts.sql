-- Joining an organization is an invitation the person accepts, and an account is managed only
-- by the organization that verified its email's domain.

-- An invitation: an org asks a person (by email) to join in a role. Only a SHA-256 of the
-- link's token is stored. It is pending until the person accepts it, an admin revokes it, or
-- it expires (`expires_at`, 7 days after it was last issued: "expired" is a pending invitation
-- past that time, never written). Inviting the same address again, or asking for a new link,
-- issues the pending invitation again: a new token, a new expiry, the new inviter.
CREATE TABLE invitations (
    id               uuid        PRIMARY KEY,
    org_id           uuid        NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
    -- As the inviter typed it (`domain::Email`); compared only by its normalised form, computed
    -- by the rule `users.email_normalized` uses (migration 20261207000002).
    email            text        NOT NULL CONSTRAINT invitations_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    email_normalized text        NOT NULL GENERATED ALWAYS AS (
        translate(
            btrim(email, E'\u0009\u000A\u000B\u000C\u000D\u0020\u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000'),
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
            'abcdefghijklmnopqrstuvwxyz'
        )
    ) STORED,
    role             membership_role NOT NULL,
    -- The admin who answers for the invitation: the signed-in inviter, or the person the
    -- inviting key answers for. It can be accepted only while they are still an active admin
    -- of the org (and, through the API, while the inviting key is still valid): offboarding an
    -- admin withdraws what they sent.
    invited_by       uuid        REFERENCES users (id) ON DELETE RESTRICT,
    invited_by_key   uuid        REFERENCES api_keys (id) ON DELETE RESTRICT,
    token_hash       bytea       NOT NULL
        CONSTRAINT invitations_hash_unique UNIQUE
        CONSTRAINT invitations_hash_length CHECK (length(token_hash) = 32),
    state            text        NOT NULL DEFAULT 'pending'
        CONSTRAINT invitations_state_known CHECK (state IN ('pending', 'accepted', 'revoked')),
    created_at       timestamptz NOT NULL DEFAULT statement_timestamp(),
    issued_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    expires_at       timestamptz NOT NULL,
    -- The account that accepted it.
    accepted_by      uuid        REFERENCES users (id) ON DELETE RESTRICT,
    ended_at         timestamptz,
    CONSTRAINT invitations_has_inviter CHECK (invited_by IS NOT NULL OR invited_by_key IS NOT NULL),
    CONSTRAINT invitations_lifetime CHECK (expires_at <= issued_at + interval '7 days'),
    CONSTRAINT invitations_end_iff_not_pending CHECK ((state = 'pending') = (ended_at IS NULL)),
    CONSTRAINT invitations_accepted_by_iff_accepted CHECK ((state = 'accepted') = (accepted_by IS NOT NULL))
);

-- At most one pending invitation per org and address: inviting again issues it again.
CREATE UNIQUE INDEX invitations_pending_once ON invitations (org_id, email_normalized) WHERE state = 'pending';

GRANT SELECT, INSERT ON invitations TO keyward_app;
GRANT UPDATE (email, role, invited_by, invited_by_key, token_hash, state, issued_at, expires_at, accepted_by, ended_at)
    ON invitations TO keyward_app;

-- Managed accounts follow verified domains. Until now an account was managed by the org that
-- created it (its first org, setup's org, or `keyward admin add`'s): from here on by the org
-- that has verified the domain of its email, and by no org when none has. The domain is what
-- follows the last `@` of the normalised address; `domains.name` is lower-case ASCII, so an
-- address of another spelling of a domain is managed by nobody.
UPDATE users u
SET managed_by_org = (
    SELECT d.org_id FROM domains d
    WHERE d.status = 'verified' AND d.name = substring(u.email_normalized FROM '@([^@]*)$')
)
WHERE managed_by_org IS DISTINCT FROM (
    SELECT d.org_id FROM domains d
    WHERE d.status = 'verified' AND d.name = substring(u.email_normalized FROM '@([^@]*)$')
);

-- Verifying or releasing a domain finds its accounts by the address's domain.
CREATE INDEX users_email_domain ON users ((substring(email_normalized FROM '@([^@]*)$')));
