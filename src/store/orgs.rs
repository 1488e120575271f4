//! Organizations.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::OrgName;
use crate::domain::org::Org;

pub async fn create(conn: &mut PgConnection, name: &OrgName) -> Result<Org, sqlx::Error> {
    sqlx::query_as!(
        Org,
        "INSERT INTO orgs (id, name) VALUES ($1, $2) RETURNING id, name, created_at",
        Uuid::new_v4(),
        name.as_str()
    )
    .fetch_one(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Org>, sqlx::Error> {
    sqlx::query_as!(Org, "SELECT id, name, created_at FROM orgs WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<Org>, sqlx::Error> {
    sqlx::query_as!(Org, "SELECT id, name, created_at FROM orgs ORDER BY name, id")
        .fetch_all(conn)
        .await
}
