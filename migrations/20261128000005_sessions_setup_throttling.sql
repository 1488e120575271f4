-- Console sessions, first-run setup, sign-in throttling and shared secrets. All of it lives in
-- PostgreSQL so any number of keyward instances can serve behind a load balancer.

-- A signed-in browser. Only a SHA-256 of the session id is stored, so a database reader
-- cannot hijack a session.
CREATE TABLE sessions (
    id_hash      bytea       PRIMARY KEY CONSTRAINT sessions_id_hash_length CHECK (length(id_hash) = 32),
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    csrf_secret  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Written at most once a minute, to keep idle timeouts without a write per request.
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- Ending every session of a person (disable, email change) selects on the user.
CREATE INDEX sessions_user ON sessions (user_id);

-- One-time links printed to the log on first start. Only a SHA-256 of the token is stored.
CREATE TABLE setup_tokens (
    id         uuid        PRIMARY KEY,
    token_hash bytea       NOT NULL CONSTRAINT setup_tokens_hash_unique UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set by the single UPDATE ... WHERE used_at IS NULL that consumes the token.
    used_at    timestamptz
);

-- Failed sign-ins counted per account and per client address, in fixed windows, so the limits
-- hold across instances.
CREATE TABLE login_attempts (
    subject      text        NOT NULL,
    window_start timestamptz NOT NULL,
    failures     integer     NOT NULL DEFAULT 0 CONSTRAINT login_attempts_failures_positive CHECK (failures >= 0),
    PRIMARY KEY (subject, window_start)
);

-- Secrets every instance must share, such as the key that signs pre-session CSRF tokens.
-- Created once by whichever instance starts first.
CREATE TABLE server_secrets (
    name       text        PRIMARY KEY,
    secret     bytea       NOT NULL CONSTRAINT server_secrets_length CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
