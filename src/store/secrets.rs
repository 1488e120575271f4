//! Secrets every instance shares, created once by whichever instance starts first.

use sqlx::PgPool;

/// The secret with this name, created with `fresh` if none exists yet. Concurrent first starts
/// agree: the insert that loses keeps the winner's value.
pub async fn get_or_create(pool: &PgPool, name: &str, fresh: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query!(
        "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        fresh
    )
    .execute(pool)
    .await?;
    sqlx::query_scalar!("SELECT secret FROM server_secrets WHERE name = $1", name)
        .fetch_one(pool)
        .await
}
