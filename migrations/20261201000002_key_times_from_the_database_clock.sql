-- A key's times come from the database clock, at the statement that writes them.
--
-- revoked_at was stamped with now(), the start of the revoking transaction: a transaction that
-- waited (a lock, a slow audit write) recorded a revocation earlier than it happened, before
-- requests the key really served. statement_timestamp() is when the revoking UPDATE ran. Every
-- other rule of the guard is unchanged.
CREATE OR REPLACE FUNCTION api_keys_guard_update() RETURNS trigger
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
        NEW.revoked_at := statement_timestamp();
    END IF;
    RETURN NEW;
END;
$$;

-- created_at was whatever the application sent, and the expiry window's CHECK measured from
-- it: an instance whose clock ran ahead could issue a key that lives past a year of real time.
-- The insert statement's time is forced whatever is sent (or when nothing is: NOT NULL is
-- checked after this trigger), and keyward computes expires_at in SQL from the same
-- statement_timestamp(), so the CHECK holds against the database clock.
CREATE OR REPLACE FUNCTION api_keys_stamp_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_xact := pg_current_xact_id();
    NEW.created_at := statement_timestamp();
    RETURN NEW;
END;
$$;
