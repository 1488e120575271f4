-- The audit log. Append-only: nothing may rewrite or remove what happened.

-- Who did something: a signed-in person, an API key, or keyward itself (setup, CLI without a user).
CREATE TYPE actor_kind AS ENUM ('user', 'key', 'system');

CREATE TABLE audit_events (
    id          uuid        PRIMARY KEY,
    -- Null only for events that belong to no organization yet (first-run setup before the org exists).
    org_id      uuid        REFERENCES orgs (id) ON DELETE RESTRICT,
    time        timestamptz NOT NULL DEFAULT now(),
    actor_kind  actor_kind  NOT NULL,
    actor_id    uuid,
    action      text        NOT NULL CONSTRAINT audit_events_action_shape CHECK (action ~ '^[a-z_.]+$'),
    target_kind text,
    target_id   text,
    ip          inet,
    user_agent  text,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- A system actor has no id; a user or key actor always names one.
    CONSTRAINT audit_events_actor_id CHECK ((actor_kind = 'system') = (actor_id IS NULL))
);

-- The org's audit log page and the events API read newest first.
CREATE INDEX audit_events_org_time ON audit_events (org_id, time DESC, id DESC);

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
