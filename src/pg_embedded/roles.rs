//! The application database of the private cluster and its roles: `keyward_owner` owns the
//! database and runs the migrations, `keyward` serves requests as a member of `keyward_app` and
//! owns nothing. Set up, and upgraded from earlier versions, by initdb's superuser at every start.

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::data_dir::Layout;
use super::error::ClusterError;

/// The database keyward's tables live in.
pub(super) const APP_DATABASE: &str = "keyward";
/// Owns the database, its schema and every table; migrations run as this login.
pub(super) const OWNER_ROLE: &str = "keyward_owner";
/// Serves requests: a member of `keyward_app` (whose grants the migrations state), owns nothing.
pub(super) const SERVING_ROLE: &str = "keyward";

/// The roles, idempotently: created when missing, and reset to what they must be when present.
/// One start/attach decision runs at a time (the lock file), so no other keyward process races
/// this on the same cluster.
const ROLES: &str = r#"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyward_owner') THEN
        CREATE ROLE keyward_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyward_app') THEN
        CREATE ROLE keyward_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyward') THEN
        CREATE ROLE keyward LOGIN;
    END IF;
END
$$;
ALTER ROLE keyward_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE keyward LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
GRANT keyward_app TO keyward;
"#;

/// Inside the database: the schema and everything in it belong to the owner. A data directory
/// made by an earlier keyward has them owned by the superuser, whose objects `REASSIGN OWNED`
/// refuses to move (they are "required by the database system"), so each object of schema
/// public not owned by keyward_owner is given to it by name. Only that schema is touched; array
/// types and sequences owned by a column follow their table or type by themselves.
const OWNERSHIP: &str = r#"
ALTER SCHEMA public OWNER TO keyward_owner;
DO $$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT format('ALTER TABLE %s OWNER TO keyward_owner', c.oid::regclass) AS statement
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND c.relowner <> 'keyward_owner'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO keyward_owner', p.oid::regprocedure)
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'keyward_owner'::regrole
        UNION ALL
        SELECT format('ALTER TYPE %s OWNER TO keyward_owner', t.oid::regtype)
        FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace
          AND t.typtype IN ('e', 'd', 'r')
          AND t.typowner <> 'keyward_owner'::regrole
    LOOP
        EXECUTE object.statement;
    END LOOP;
END
$$;
"#;

impl Layout {
    /// Options for the application database as `role`, over the private socket.
    pub(super) fn app_options(&self, role: &str) -> PgConnectOptions {
        self.connect_options(APP_DATABASE).username(role)
    }

    /// Creates the roles and the application database when missing, and gives an existing
    /// database (and everything in its schema) to the owner role.
    pub(super) async fn ensure_app_database(&self) -> Result<(), ClusterError> {
        let failed = |source| ClusterError::CreateDatabase {
            database: APP_DATABASE,
            source,
        };
        let mut conn = PgConnection::connect_with(&self.connect_options("postgres"))
            .await
            .map_err(failed)?;
        sqlx::raw_sql(ROLES).execute(&mut conn).await.map_err(failed)?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(APP_DATABASE)
            .fetch_one(&mut conn)
            .await
            .map_err(failed)?;
        if exists {
            sqlx::raw_sql("ALTER DATABASE keyward OWNER TO keyward_owner")
                .execute(&mut conn)
                .await
                .map_err(failed)?;
        } else {
            // CREATE DATABASE cannot run in a transaction: simple protocol.
            sqlx::raw_sql("CREATE DATABASE keyward OWNER keyward_owner")
                .execute(&mut conn)
                .await
                .map_err(failed)?;
            tracing::info!("created the database {APP_DATABASE} in the private PostgreSQL");
        }
        let _ = conn.close().await;

        let mut conn = PgConnection::connect_with(&self.connect_options(APP_DATABASE))
            .await
            .map_err(failed)?;
        sqlx::raw_sql(OWNERSHIP).execute(&mut conn).await.map_err(failed)?;
        let _ = conn.close().await;
        Ok(())
    }
}
