-- Single-use console forms. The review step of "Create API key" hands the browser a signed,
-- random form token; the create POST records the token's SHA-256 here in the same transaction
-- that writes the key, so a reload, a back-and-submit or a replayed request of that form can
-- never create a second key or show a key again. Rows older than the token's lifetime (one
-- hour) are pruned by the same inserts.
CREATE TABLE used_form_tokens (
    token_hash bytea       PRIMARY KEY CONSTRAINT used_form_tokens_hash_length CHECK (length(token_hash) = 32),
    used_at    timestamptz NOT NULL DEFAULT now()
);

-- Pruning selects on age.
CREATE INDEX used_form_tokens_used_at ON used_form_tokens (used_at);

-- Grants: keyward_app inserts a token as it is used, reads nothing back but the conflict, and
-- deletes rows past the token lifetime.
GRANT SELECT, INSERT, DELETE ON used_form_tokens TO keyward_app;

-- A key's detail page in the console lists the key's own lifecycle (created, revoked, refused
-- uses) from the audit log: its events are found by their target. No grant is needed for an
-- index.
CREATE INDEX audit_events_target ON audit_events (org_id, target_kind, target_id, time DESC);
