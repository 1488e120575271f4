//! For unit tests that need PostgreSQL: a fresh, migrated database of their own.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::pg_embedded::PrivateCluster;

/// A fresh migrated database: on `DATABASE_URL`'s server when set, else on a private
/// cluster that lives as long as the returned guard.
pub async fn database() -> (PgPool, Option<PrivateCluster>) {
    let (server, cluster): (PgConnectOptions, _) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url.parse().expect("DATABASE_URL"), None),
        Err(_) => {
            let cluster = PrivateCluster::start_temporary().await.expect("private cluster");
            (cluster.connect_options("postgres"), Some(cluster))
        }
    };
    let name = format!("kw_unit_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&server).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut admin)
        .await
        .expect("create database");
    let pool = PgPool::connect_with(server.database(&name)).await.expect("connect");
    super::migrate(&pool).await.expect("migrate");
    (pool, cluster)
}
