-- The scope catalog: what a scoped API key may be allowed to call. Names follow the
-- verb:resource:admin form of the admin APIs we are compatible with. The `Scope` type in
-- src/domain/scope.rs lists the same names; a test keeps the two equal.
CREATE TABLE scopes (
    name        text PRIMARY KEY
        CONSTRAINT scopes_name_shape CHECK (name ~ '^(read|write|delete):[a-z-]+:admin$'),
    family      text NOT NULL,
    description text NOT NULL
);

INSERT INTO scopes (name, family, description) VALUES
    ('read:orgs:admin',                  'Organizations',         'View organizations'),
    ('read:accounts:admin',              'User management',       'View users, their profiles and activity'),
    ('write:accounts:admin',             'User management',       'Suspend, restore and remove users; change profiles, emails and lifecycle'),
    ('read:domains:admin',               'Organizations',         'View domains'),
    ('read:events:admin',                'Organizations',         'View audit log events'),
    ('read:policies:admin',              'Policies',              'View policies'),
    ('write:policies:admin',             'Policies',              'Create and update policies'),
    ('delete:policies:admin',            'Policies',              'Delete policies'),
    ('read:directories:admin',           'Directories',           'View directories'),
    ('read:classification-levels:admin', 'Data classification',   'View classification levels'),
    ('write:classification-levels:admin','Data classification',   'Create, edit, publish, archive and reorder classification levels'),
    ('read:keys:admin',                  'API keys',              'View API keys'),
    ('write:keys:admin',                 'API keys',              'Create API keys'),
    ('delete:keys:admin',                'API keys',              'Revoke API keys');
