//! Opens the database a command works on: the server named by `--database-url`, or else the
//! private cluster under `--data-dir` (started, or shared with a keyward already running there).

use sqlx::PgPool;

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
    /// Connects and applies pending migrations.
    pub async fn open(args: &DatabaseArgs) -> Result<Database, DatabaseError> {
        let (options, cluster) = match &args.database_url {
            Some(url) => (url.0.clone(), None),
            None => {
                let cluster = PrivateCluster::start_or_attach(&ClusterConfig {
                    data_dir: args.data_dir.clone(),
                })
                .await?;
                (cluster.connect_options("keyward"), Some(cluster))
            }
        };
        let database = match store::connect(options).await {
            Ok(pool) => Database { pool, cluster },
            Err(err) => {
                if let Some(cluster) = cluster {
                    let _ = cluster.stop().await;
                }
                return Err(DatabaseError::Connect(err));
            }
        };
        if let Err(err) = store::migrate(&database.pool).await {
            database.close().await;
            return Err(err.into());
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
