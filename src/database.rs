//! Opens the database a command works on: the server named by `--database-url`, or else the
//! private cluster under `--data-dir` (started, or shared with a keyward already running there).
//! Migrations run as the owner of the tables, requests as a role that owns nothing.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::DatabaseArgs;
use crate::pg_embedded::{ClusterConfig, ClusterError, PrivateCluster};
use crate::store;

pub struct Database {
    pub pool: PgPool,
    cluster: Option<PrivateCluster>,
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl DatabaseError {
    /// Errors an operator fixes by changing configuration or the machine (exit status 2).
    pub fn is_configuration(&self) -> bool {
        matches!(self, DatabaseError::Cluster(e) if e.is_configuration())
    }
}

impl Database {
    /// Applies pending migrations as the owner of the tables (a short-lived pool of its own),
    /// then connects the request pool as the serving role.
    pub async fn open(args: &DatabaseArgs) -> Result<Database, DatabaseError> {
        let (owner, serving, cluster) = match &args.database_url {
            Some(url) => {
                let owner = args.migrate_database_url.as_ref().unwrap_or(url);
                (owner.0.clone(), url.0.clone(), None)
            }
            None => {
                let data_dir = args.data_dir();
                tracing::info!("private PostgreSQL data directory: {}", data_dir.display());
                let cluster = PrivateCluster::start_or_attach(&ClusterConfig { data_dir }).await?;
                (cluster.owner_options(), cluster.serving_options(), Some(cluster))
            }
        };
        let opened = async {
            migrate_as_owner(owner).await?;
            store::connect(serving).await.map_err(DatabaseError::Connect)
        }
        .await;
        let database = match opened {
            Ok(pool) => Database { pool, cluster },
            Err(err) => {
                if let Some(cluster) = cluster {
                    let _ = cluster.stop().await;
                }
                return Err(err);
            }
        };
        if args.database_url.is_some() {
            warn_if_serving_role_is_privileged(&database.pool).await;
        }
        Ok(database)
    }

    /// Closes the pool, then stops the private cluster if this process started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.cluster
            && let Err(err) = cluster.stop().await
        {
            tracing::error!(error = %err, "stopping the private PostgreSQL cluster failed");
        }
    }
}

/// One connection, closed as soon as the migrations are applied: the owner's privileges are
/// never lent to a request.
async fn migrate_as_owner(owner: PgConnectOptions) -> Result<(), DatabaseError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(owner)
        .await
        .map_err(DatabaseError::Connect)?;
    let migrated = store::migrate(&pool).await;
    pool.close().await;
    Ok(migrated?)
}

/// A serving role that is a superuser or owns the tables can switch every guarding trigger off:
/// say so once, at start (the server still runs: that is how keyward ran before it had roles).
async fn warn_if_serving_role_is_privileged(pool: &PgPool) {
    match store::roles::serving_role(pool).await {
        Ok(role) if role.is_superuser || role.owned_tables > 0 => tracing::warn!(
            role = %role.name,
            database = %role.database,
            superuser = role.is_superuser,
            owned_tables = role.owned_tables,
            "requests are served as role {} in database {}, which {}: it can switch off the \
             triggers that keep keys and the audit log honest; serve as a member of keyward_app \
             that owns nothing and pass the owner as --migrate-database-url (see README)",
            role.name,
            role.database,
            if role.is_superuser { "is a superuser" } else { "owns keyward's tables" }
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not check the privileges of the serving role"),
    }
}
