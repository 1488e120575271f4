//! Single-use console form tokens, recorded as they are used.

use sqlx::PgConnection;

/// Records the use of a form token; false when it was used before. Run it in the transaction of
/// the change the form makes, so the two commit or fail together.
pub async fn use_once(conn: &mut PgConnection, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    sqlx::query!("DELETE FROM used_form_tokens WHERE used_at < now() - interval '2 hours'")
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query!(
        "INSERT INTO used_form_tokens (token_hash) VALUES ($1) ON CONFLICT (token_hash) DO NOTHING",
        token_hash
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
