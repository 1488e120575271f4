-- One email rule. Until now `users_email_unique` was an index on `lower(email)` and lookups
-- compared `lower(email) = lower($1)`, while the sign-in throttle lowercased in Rust: two
-- rules, and SQL's depends on the database's locale (under C.UTF-8 `lower('İ')` is `i`, under
-- C it is `İ`), so `lİn@example.test` signed in as lin@example.test under another throttle
-- count. From here on an address is compared only by its normalised form, whose rule is
-- `domain::email::normalize` in Rust: trim Unicode White_Space, fold A-Z to a-z, nothing else.
--
-- The column is generated from `email` rather than written by the application, so no writer
-- (the console, the API, the CLI, psql by hand) can leave it disagreeing with the address
-- beside it. `translate` and `btrim` do not consult the locale (both are IMMUTABLE), so this
-- computes what the Rust rule computes on every server; the characters trimmed are exactly
-- Unicode's White_Space, which Rust's `str::trim` removes. A test checks the two agree.
ALTER TABLE users
    ADD COLUMN email_normalized text NOT NULL GENERATED ALWAYS AS (
        translate(
            btrim(email, E'\u0009\u000A\u000B\u000C\u000D\u0020\u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000'),
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
            'abcdefghijklmnopqrstuvwxyz'
        )
    ) STORED;

-- Accounts the old index kept apart but the rule makes one (possible where the database's
-- `lower()` did not fold an ASCII letter, e.g. `I` under a Turkish locale) cannot both keep
-- their address: stop here, naming them, and let an operator decide which one changes.
DO $$
DECLARE
    clashes text;
BEGIN
    SELECT string_agg(accounts, '; ' ORDER BY email_normalized)
    INTO clashes
    FROM (
        SELECT email_normalized,
               format('%s: %s', quote_literal(email_normalized),
                      string_agg(format('%s (%s)', id, quote_literal(email)), ', ' ORDER BY created_at, id)) AS accounts
        FROM users
        GROUP BY email_normalized
        HAVING count(*) > 1
    ) AS clash;
    IF clashes IS NOT NULL THEN
        RAISE EXCEPTION 'accounts whose emails are one address under keyward''s email rule (trimmed, A-Z folded to a-z): %', clashes
            USING HINT = 'change the email of all but one account of each group (UPDATE users SET email = ... WHERE id = ...), then run the migrations again';
    END IF;
END
$$;

-- Emails are unique under the rule. The index keeps its name: callers map a violation of
-- `users_email_unique` to "another account has this email address".
DROP INDEX users_email_unique;
CREATE UNIQUE INDEX users_email_unique ON users (email_normalized);

-- Grants. keyward_app holds table-level SELECT, INSERT and UPDATE on users (migration
-- 20261201000001), which covers a column added later; a generated column cannot be written by
-- anyone, so nothing more is granted.
