-- Admin API keys. Only an argon2id hash of each secret is stored. The verification cache of
-- every keyward instance relies on the triggers below: a key's identity never changes, its
-- revocation is permanent and announced with NOTIFY, and no row ever disappears silently.

CREATE TABLE api_keys (
    id                  uuid        PRIMARY KEY,
    org_id              uuid        NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
    -- The non-secret part of the token (`kw_<public id>_...`): selects the row, shown in the console.
    public_id           text        NOT NULL
        CONSTRAINT api_keys_public_id_unique UNIQUE
        CONSTRAINT api_keys_public_id_shape CHECK (public_id ~ '^[0-9A-Za-z]{8,64}$'),
    name                text        NOT NULL
        CONSTRAINT api_keys_name_shape CHECK (char_length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    -- An unscoped key may call everything; a scoped key only what its api_key_scopes name.
    scoped              boolean     NOT NULL,
    -- argon2id PHC string of the secret: never the secret, never a fast hash of it.
    secret_hash         text        NOT NULL
        CONSTRAINT api_keys_secret_hash_argon2id CHECK (secret_hash LIKE '$argon2id$%'),
    created_by_kind     actor_kind  NOT NULL,
    created_by_id       uuid,
    -- The person answerable for the key: its creator, or for a key created through the API the
    -- creator of the calling key. Bulk revocation when offboarding an admin selects on it.
    responsible_user_id uuid        REFERENCES users (id) ON DELETE RESTRICT,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    last_used_at        timestamptz,
    last_used_ip        inet,
    revoked_at          timestamptz,
    revoked_by_kind     actor_kind,
    revoked_by_id       uuid,
    -- The transaction that inserted the key (forced by a trigger, never changed): only it may
    -- write the key's scopes. xmin would not do: any later UPDATE moves it.
    created_xact        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- Keys live at most a year: Atlassian's limit, and a stolen key's worst case.
    CONSTRAINT api_keys_expiry_window
        CHECK (expires_at > created_at AND expires_at <= created_at + interval '365 days'),
    CONSTRAINT api_keys_created_by
        CHECK ((created_by_kind = 'system') = (created_by_id IS NULL)),
    CONSTRAINT api_keys_revoked_by
        CHECK ((revoked_at IS NULL) = (revoked_by_kind IS NULL)
           AND (revoked_by_kind IS NULL OR (revoked_by_kind = 'system') = (revoked_by_id IS NULL)))
);

-- The keys page lists an org's keys by creation, newest first, with a keyset.
CREATE INDEX api_keys_org_created ON api_keys (org_id, created_at DESC, id DESC);
-- Offboarding revokes every active key a person is answerable for.
CREATE INDEX api_keys_responsible_active ON api_keys (responsible_user_id) WHERE revoked_at IS NULL;

-- Identity fields (name included: the verification cache shows it) never change after insert, revocation is permanent, and revoked_at comes
-- from the database clock whatever the application sent.
CREATE FUNCTION api_keys_guard_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.org_id IS DISTINCT FROM OLD.org_id
       OR NEW.public_id IS DISTINCT FROM OLD.public_id
       OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.secret_hash IS DISTINCT FROM OLD.secret_hash
       OR NEW.scoped IS DISTINCT FROM OLD.scoped
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at
       OR NEW.created_by_kind IS DISTINCT FROM OLD.created_by_kind
       OR NEW.created_by_id IS DISTINCT FROM OLD.created_by_id
       OR NEW.responsible_user_id IS DISTINCT FROM OLD.responsible_user_id
       OR NEW.created_xact IS DISTINCT FROM OLD.created_xact THEN
        RAISE EXCEPTION 'api_keys: identity fields of key % never change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.revoked_at IS NOT NULL THEN
        IF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
           OR NEW.revoked_by_kind IS DISTINCT FROM OLD.revoked_by_kind
           OR NEW.revoked_by_id IS DISTINCT FROM OLD.revoked_by_id THEN
            RAISE EXCEPTION 'api_keys: key % is revoked, and revocation is permanent', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NEW.revoked_at IS NOT NULL THEN
        NEW.revoked_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER api_keys_guard_update BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_guard_update();

CREATE FUNCTION api_keys_stamp_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_xact := pg_current_xact_id();
    RETURN NEW;
END;
$$;

CREATE TRIGGER api_keys_stamp_insert BEFORE INSERT ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_stamp_insert();

-- Every revocation path (console, API, CLI, bulk, psql by hand) tells every instance at once.
-- NOTIFY is delivered when the revoking transaction commits, never before.
CREATE FUNCTION api_keys_notify_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keyward_keys', NEW.public_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_keys_notify_revoked AFTER UPDATE ON api_keys
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION api_keys_notify_revoked();

-- A deleted key would send no revocation notice: rows are never deleted. This also stops a
-- cascade from an org or user, should a later foreign key ever be declared with one.
CREATE FUNCTION api_keys_refuse_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: rows are never deleted; revoke the key instead', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_refuse_delete();
CREATE TRIGGER api_keys_no_truncate BEFORE TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_refuse_delete();

-- The scopes of a scoped key, written in the same transaction as the key and never changed.
CREATE TABLE api_key_scopes (
    key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE RESTRICT,
    scope  text NOT NULL REFERENCES scopes (name) ON DELETE RESTRICT,
    PRIMARY KEY (key_id, scope)
);

-- Rows may be added only by the transaction that inserted the key, and only to a scoped key.
CREATE FUNCTION api_key_scopes_guard_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    key_xact xid8;
    key_scoped boolean;
BEGIN
    SELECT k.created_xact, k.scoped INTO key_xact, key_scoped FROM api_keys k WHERE k.id = NEW.key_id;
    IF key_xact IS DISTINCT FROM pg_current_xact_id() THEN
        RAISE EXCEPTION 'api_key_scopes: scopes of key % are written with the key and never changed', NEW.key_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT key_scoped THEN
        RAISE EXCEPTION 'api_key_scopes: key % is unscoped', NEW.key_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION api_key_scopes_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'api_key_scopes: scopes are written with the key and never changed (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER api_key_scopes_guard_insert BEFORE INSERT ON api_key_scopes
    FOR EACH ROW EXECUTE FUNCTION api_key_scopes_guard_insert();
CREATE TRIGGER api_key_scopes_no_change BEFORE UPDATE OR DELETE ON api_key_scopes
    FOR EACH ROW EXECUTE FUNCTION api_key_scopes_refuse_change();
CREATE TRIGGER api_key_scopes_no_truncate BEFORE TRUNCATE ON api_key_scopes
    FOR EACH STATEMENT EXECUTE FUNCTION api_key_scopes_refuse_change();

-- A scoped key without any scope could call nothing: checked when the creating transaction commits.
CREATE FUNCTION api_keys_scoped_has_scopes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.scoped AND NOT EXISTS (SELECT 1 FROM api_key_scopes s WHERE s.key_id = NEW.id) THEN
        RAISE EXCEPTION 'api_keys: scoped key % needs at least one scope', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER api_keys_scoped_has_scopes AFTER INSERT ON api_keys
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION api_keys_scoped_has_scopes();
