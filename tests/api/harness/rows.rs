//! What a test reads back through the owner's pool: counts and whole tables, to check what a
//! request wrote or that a refused one wrote nothing.

use super::TestApp;

impl TestApp {
    /// How many rows `table` holds.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// Every row of `table` as JSON text, for checking that a refused request wrote nothing.
    pub async fn snapshot(&self, table: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1"
        )))
        .fetch_all(&self.pool)
        .await
        .expect("snapshot")
    }

    /// The rows that people endpoints change, all together. Keys are compared by what a
    /// people endpoint may change (their revocation), not by their last use, which the key
    /// middleware records in the background; likewise refused uses of revoked keys.
    pub async fn people_snapshot(&self) -> Vec<Vec<String>> {
        let mut tables = Vec::new();
        for table in [
            "users",
            "memberships",
            "sessions",
            "(SELECT id, revoked_at, revoked_by_id FROM api_keys)",
            "(SELECT * FROM audit_events WHERE action <> 'api_key.rejected_use')",
        ] {
            tables.push(self.snapshot(table).await);
        }
        tables
    }
}
