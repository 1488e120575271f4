-- The org policies keyward enforces: an IP allowlist for the org's API keys, and a limit on the
-- lifetime of the org's new keys. A change to any policy notifies every instance on the
-- channel its revocation listener already follows, so an allowlist change reaches every
-- instance's cache as fast as a revocation does.

CREATE TABLE policies (
    id         uuid        PRIMARY KEY,
    org_id     uuid        NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
    type       text        NOT NULL CONSTRAINT policies_type_known CHECK (type IN ('ip-allowlist', 'api-key-lifetime')),
    name       text        NOT NULL CONSTRAINT policies_name_shape CHECK (char_length(name) BETWEEN 1 AND 100),
    status     text        NOT NULL CONSTRAINT policies_status_known CHECK (status IN ('enabled', 'disabled')),
    -- The type's rule as the API shows it: `{"in": [CIDR, ...]}` for an allowlist (at most 1,000
    -- ranges), `{"maxDays": N}` (1 to 365) for a key lifetime. The domain types parse it; the
    -- checks here keep a bug from storing something the enforcement cannot read.
    rule       jsonb       NOT NULL CONSTRAINT policies_rule_shape CHECK (
        CASE type
            WHEN 'ip-allowlist' THEN jsonb_typeof(rule -> 'in') = 'array' AND jsonb_array_length(rule -> 'in') <= 1000
            WHEN 'api-key-lifetime' THEN jsonb_typeof(rule -> 'maxDays') = 'number'
                AND (rule ->> 'maxDays')::numeric BETWEEN 1 AND 365
        END
    ),
    -- What the client sent as the policy's resources, kept and shown back; keyward applies
    -- every policy to the whole org.
    resources  jsonb       NOT NULL DEFAULT '[]'::jsonb CONSTRAINT policies_resources_shape CHECK (jsonb_typeof(resources) = 'array'),
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT statement_timestamp()
);

-- The API lists an org's policies by (created_at, id); enforcement reads an org's enabled
-- policies of one type.
CREATE INDEX policies_org_listing ON policies (org_id, created_at, id);
CREATE INDEX policies_org_enabled ON policies (org_id, type) WHERE status = 'enabled';

-- Every change, from any path (API, console, CLI, by hand in psql), tells every instance which
-- org's policies changed. Delivered on commit only.
CREATE FUNCTION policies_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('keyward_policies', OLD.org_id::text);
    ELSE
        PERFORM pg_notify('keyward_policies', NEW.org_id::text);
        IF TG_OP = 'UPDATE' AND OLD.org_id <> NEW.org_id THEN
            PERFORM pg_notify('keyward_policies', OLD.org_id::text);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER policies_notify AFTER INSERT OR UPDATE OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION policies_notify_change();
ALTER TABLE policies ENABLE ALWAYS TRIGGER policies_notify;

-- A policy belongs to its org and keeps its type and creation time.
CREATE FUNCTION policies_keep_identity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.org_id <> OLD.org_id OR NEW.type <> OLD.type OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a policy''s id, org, type and creation time never change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER policies_identity BEFORE UPDATE ON policies
    FOR EACH ROW EXECUTE FUNCTION policies_keep_identity();
ALTER TABLE policies ENABLE ALWAYS TRIGGER policies_identity;

-- Grants. The application reads, creates, updates and deletes policies (the API's DELETE; the
-- audit log keeps what was deleted). It cannot TRUNCATE (a TRUNCATE fires no row trigger, so
-- no instance would hear of it) nor alter the triggers, which it does not own.
GRANT SELECT, INSERT, UPDATE, DELETE ON policies TO keyward_app;
