-- Least privilege. Migrations run as the owner of the tables; requests are served by a login
-- that is a member of `keyward_app` and owns nothing. An owner can do anything to what it owns
-- (skip triggers with session_replication_role, DISABLE TRIGGER, replace a guard function with
-- a no-op), so the rules of the earlier migrations only hold against a role that does not own
-- the tables. What `keyward_app` may do is granted here, table by table, and nothing more.
--
-- EVERY LATER MIGRATION MUST STATE THE GRANTS OF WHAT IT ADDS: a new table, column or sequence
-- is invisible to `keyward_app` until a GRANT names it (no default privileges, on purpose, so
-- each grant is a decision someone wrote down).

-- Roles are cluster-wide, and several databases of one server may run this at once (parallel
-- test databases, CI's `cargo sqlx migrate run`): an advisory lock would not help (those are per
-- database), so a concurrent creator's error is caught instead. A CREATE ROLE racing another
-- one in a concurrent transaction fails with unique_violation on pg_authid rather than
-- duplicate_object. Where the role already exists (created by an administrator, see README),
-- the owner needs no CREATEROLE.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyward_app') THEN
        BEGIN
            CREATE ROLE keyward_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- The database's name differs between deployments and test databases.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO keyward_app', current_database());
END
$$;

-- The serving role uses the schema but never creates anything in it. (PostgreSQL 15 and later
-- grant PUBLIC no CREATE on schema public already; this covers older servers when the migrating
-- role owns the schema, and only warns otherwise.)
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO keyward_app;

-- Organizations and people: created, read and changed (renames, profiles, status, last login,
-- roles, suspension), never deleted (keys and events reference them). Memberships are removed
-- when a member leaves an org; the admin upsert needs UPDATE.
GRANT SELECT, INSERT, UPDATE ON orgs TO keyward_app;
GRANT SELECT, INSERT, UPDATE ON users TO keyward_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO keyward_app;

-- The scope catalog is written by migrations only.
GRANT SELECT ON scopes TO keyward_app;

-- Keys: inserted, read, and changed only where the product changes them: last use, and the
-- revocation columns (which the guard trigger lets move once). No DELETE, no TRUNCATE.
GRANT SELECT, INSERT ON api_keys TO keyward_app;
GRANT UPDATE (last_used_at, last_used_ip, revoked_at, revoked_by_kind, revoked_by_id) ON api_keys TO keyward_app;
-- Scopes are written with their key and never changed.
GRANT SELECT, INSERT ON api_key_scopes TO keyward_app;
-- The audit log is append-only.
GRANT SELECT, INSERT ON audit_events TO keyward_app;

-- Console sessions are renewed (last_seen_at) and ended (logout, expiry, sign out everywhere).
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO keyward_app;
-- A setup token is consumed by an UPDATE ... WHERE used_at IS NULL.
GRANT SELECT, INSERT, UPDATE ON setup_tokens TO keyward_app;
-- Throttling counters are bumped (upsert) and old windows pruned.
GRANT SELECT, INSERT, UPDATE, DELETE ON login_attempts TO keyward_app;
-- Shared secrets are created once (INSERT ... ON CONFLICT DO NOTHING) and read.
GRANT SELECT, INSERT ON server_secrets TO keyward_app;

-- No table has a sequence (ids are uuids), so there is nothing to grant on sequences.

-- A guard that the session_replication_role setting could switch off would guard nothing:
-- every trigger that keeps keys, key scopes and the audit log honest fires always.
ALTER TABLE api_keys ENABLE ALWAYS TRIGGER api_keys_guard_update;
ALTER TABLE api_keys ENABLE ALWAYS TRIGGER api_keys_stamp_insert;
ALTER TABLE api_keys ENABLE ALWAYS TRIGGER api_keys_notify_revoked;
ALTER TABLE api_keys ENABLE ALWAYS TRIGGER api_keys_no_delete;
ALTER TABLE api_keys ENABLE ALWAYS TRIGGER api_keys_no_truncate;
ALTER TABLE api_keys ENABLE ALWAYS TRIGGER api_keys_scoped_has_scopes;
ALTER TABLE api_key_scopes ENABLE ALWAYS TRIGGER api_key_scopes_guard_insert;
ALTER TABLE api_key_scopes ENABLE ALWAYS TRIGGER api_key_scopes_no_change;
ALTER TABLE api_key_scopes ENABLE ALWAYS TRIGGER api_key_scopes_no_truncate;
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update;
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate;
