-- Domains an organization claims, and the organization's data classification levels: the
-- resources behind the domains API (`/admin/v{1,2}/orgs/{orgId}/domains`) and the DLP
-- classification-levels API (`/admin/dlp/v1/orgs/{orgId}/classification-levels`).

-- A domain an org claims. keyward cannot reach DNS or the web, so a claim is verified by the
-- operator's word (`keyward domains verify`), after they checked the DNS record or the HTTP file.
CREATE TABLE domains (
    id          uuid PRIMARY KEY,
    -- No cascade: an org is never deleted while anything refers to it.
    org_id      uuid NOT NULL REFERENCES orgs (id),
    -- A DNS name as `domain::DomainName` parses it: lower-case ASCII labels of 1 to 63
    -- letters, digits and inner hyphens, at least two of them, at most 253 characters. The
    -- check repeats the type's rule so no other path can store a name clients cannot use.
    name        text NOT NULL CONSTRAINT domains_name_shape CHECK (
        char_length(name) <= 253
        AND name ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
    ),
    claim_type  text NOT NULL CONSTRAINT domains_claim_type_known CHECK (claim_type IN ('dns', 'http')),
    status      text NOT NULL DEFAULT 'unverified'
                CONSTRAINT domains_status_known CHECK (status IN ('unverified', 'verified')),
    created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    verified_at timestamptz,
    -- A verified domain says when; an unverified one has no such time.
    CONSTRAINT domains_verified_has_time CHECK ((status = 'verified') = (verified_at IS NOT NULL)),
    -- One claim per org and name.
    CONSTRAINT domains_org_name_unique UNIQUE (org_id, name)
);

-- Several orgs may claim a name (a claim proves nothing), but at most one may have it
-- verified: that is the org whose users the domain's addresses are.
CREATE UNIQUE INDEX domains_verified_once ON domains (name) WHERE status = 'verified';

-- The list is a keyset walk over (created_at, id) within an org.
CREATE INDEX domains_org_listing ON domains (org_id, created_at, id);

-- A classification level: a label admins put on data (Public, Internal, Restricted...). It is
-- created as a draft, edited while a draft, published (then it has a rank: 1 is the most
-- sensitive), archived (its rank given up, the others closing up), and restored as a draft.
-- Levels are never deleted: content labelled with one keeps referring to it.
CREATE TABLE classification_levels (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES orgs (id),
    name        text NOT NULL CONSTRAINT classification_levels_name_shape CHECK (char_length(name) BETWEEN 1 AND 100),
    description text CONSTRAINT classification_levels_description_shape CHECK (char_length(description) BETWEEN 1 AND 1000),
    guideline   text CONSTRAINT classification_levels_guideline_shape CHECK (char_length(guideline) BETWEEN 1 AND 5000),
    -- The colours Atlassian's classification levels offer (`domain::classification::Color`).
    color       text NOT NULL CONSTRAINT classification_levels_color_known CHECK (color IN (
        'RED', 'RED_BOLD', 'ORANGE', 'YELLOW', 'YELLOW_BOLD', 'GREEN', 'BLUE', 'BLUE_BOLD',
        'NAVY', 'TEAL', 'PURPLE', 'GREY', 'LIME'
    )),
    status      text NOT NULL DEFAULT 'draft'
                CONSTRAINT classification_levels_status_known CHECK (status IN ('draft', 'published', 'archived')),
    rank        integer CONSTRAINT classification_levels_rank_positive CHECK (rank >= 1),
    created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- Exactly the published levels are ranked.
    CONSTRAINT classification_levels_rank_iff_published CHECK ((status = 'published') = (rank IS NOT NULL)),
    -- No two published levels of an org share a rank. Deferrable, so one statement that
    -- renumbers several levels (a reorder, an archive closing the gap) is checked at its end,
    -- not row by row. That no rank is skipped is the application's rule: every change takes
    -- the org's classification lock (`store::classification_levels::lock`) and renumbers.
    CONSTRAINT classification_levels_rank_unique UNIQUE (org_id, rank) DEFERRABLE INITIALLY IMMEDIATE
);

-- Names are unique per org among the levels in use (drafts and published), case-insensitively:
-- two levels both called "Internal" would be indistinguishable to the people labelling data.
-- An archived level keeps its name without blocking it; restoring it while another level has
-- taken the name is refused.
CREATE UNIQUE INDEX classification_levels_name_in_use ON classification_levels (org_id, lower(name))
    WHERE status <> 'archived';

CREATE INDEX classification_levels_org ON classification_levels (org_id);

-- Grants (see 20261201000001_least_privilege_roles.sql).
-- Domains are added, verified and removed (by the CLI today, by the console later); the audit
-- log keeps their history, so DELETE is allowed. Only the verification columns change.
GRANT SELECT, INSERT, DELETE ON domains TO keyward_app;
GRANT UPDATE (status, verified_at) ON domains TO keyward_app;
-- Levels are created and changed, never deleted (no DELETE); their org, id and creation time
-- never change.
GRANT SELECT, INSERT ON classification_levels TO keyward_app;
GRANT UPDATE (name, description, guideline, color, status, rank, updated_at) ON classification_levels TO keyward_app;
-- Neither table has a sequence or a trigger.
