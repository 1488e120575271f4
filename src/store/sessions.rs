//! Console sessions, as the user-management API ends them.

use sqlx::PgConnection;
use uuid::Uuid;

/// Ends every console session of the account (disabling it, changing its email); returns how
/// many there were. Run it in the transaction that makes the change, so no session outlives it.
pub async fn delete_for_user(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
