//! Failed sign-ins, counted in one-minute windows per subject (an account, an address, or the
//! pair), so every instance sees the same counts.

use sqlx::PgConnection;

/// Failures counted over this many minutes.
pub const WINDOW_MINUTES: i32 = 15;

/// The failures of each subject over the last `WINDOW_MINUTES`, in the order asked.
pub async fn recent_failures(conn: &mut PgConnection, subjects: &[String]) -> Result<Vec<i64>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT s.subject AS "subject!", coalesce(sum(a.failures), 0)::bigint AS "failures!"
           FROM unnest($1::text[]) WITH ORDINALITY AS s (subject, position)
           LEFT JOIN login_attempts a
             ON a.subject = s.subject AND a.window_start > now() - make_interval(mins => $2)
           GROUP BY s.subject, s.position
           ORDER BY s.position"#,
        subjects,
        WINDOW_MINUTES
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.failures).collect())
}

/// Counts one failure against each subject in the current minute's window.
pub async fn record_failure(conn: &mut PgConnection, subjects: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO login_attempts (subject, window_start, failures)
         SELECT subject, date_trunc('minute', now()), 1 FROM unnest($1::text[]) AS subject
         ON CONFLICT (subject, window_start) DO UPDATE SET failures = login_attempts.failures + 1",
        subjects
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a subject's failures (the pair of account and address, after a good sign-in), and
/// windows too old to count for anyone.
pub async fn clear(conn: &mut PgConnection, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM login_attempts WHERE subject = $1 OR window_start <= now() - make_interval(mins => $2)",
        subject,
        WINDOW_MINUTES
    )
    .execute(conn)
    .await?;
    Ok(())
}
