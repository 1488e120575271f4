-- The org's audit log page filters by action, by actor and by target, newest first, and counts
-- the last 30 days' refused uses of revoked or expired keys (forgotten keys) on every keys list
-- and selection screen. Each filter gets an index that reads its events in the page's order
-- (time, id) within the org, so a filter that matches few of many events does not walk the
-- whole log through audit_events_org_time.

-- Filter by action; the forgotten-keys counts (action api_key.rejected_use, last 30 days).
CREATE INDEX audit_events_org_action_time ON audit_events (org_id, action, time DESC, id DESC);

-- Filter by actor (a person or a key), and the list of people who appear as actors.
CREATE INDEX audit_events_org_actor_time ON audit_events (org_id, actor_id, time DESC, id DESC)
    WHERE actor_id IS NOT NULL;

-- Filter by target: a key's or a person's events (and a key's lifecycle on its detail page).
CREATE INDEX audit_events_org_target_time ON audit_events (org_id, target_kind, target_id, time DESC, id DESC);
