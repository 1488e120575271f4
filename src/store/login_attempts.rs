//! Sign-in attempts, counted in one-minute windows per subject (an account, an address, or the
//! pair), so every instance sees the same counts. An attempt is counted before its password is
//! checked, by the statement that returns the counts the decision uses: attempts racing each
//! other, on any instance, each see a different count.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Attempts counted over this many minutes.
pub const WINDOW_MINUTES: i32 = 15;

/// One attempt, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The window it was counted in, to take it back from if it succeeds.
    pub window_start: DateTime<Utc>,
    /// Each subject's attempts over the last `WINDOW_MINUTES`, this one included, in the order
    /// the subjects were given.
    pub attempts: Vec<i64>,
}

/// Counts one attempt against each subject (distinct subjects) and returns every subject's
/// count, this attempt included, in one statement.
///
/// Exact under concurrency: the upsert of the current minute's row waits for any attempt still
/// writing it and returns the row as that attempt left it, so N attempts racing on a subject
/// see N different counts. The previous minute's row is upserted too (adding nothing) for the
/// same reason: an attempt that began just before the minute turned and has not committed yet
/// is not in this statement's snapshot, but its row lock makes this upsert wait and read it.
/// Older windows are read from the snapshot, as nothing writes them any more. Rows are locked
/// in (subject, window) order, the same in every statement, so racing attempts never deadlock.
pub async fn count_attempt(conn: &mut PgConnection, subjects: &[String]) -> Result<Counted, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH minute AS (
               SELECT date_trunc('minute', now()) AS current
           ),
           counted AS (
               INSERT INTO login_attempts (subject, window_start, failures)
               SELECT s.subject, w.window_start, w.step
               FROM unnest($1::text[]) AS s (subject)
               CROSS JOIN minute
               CROSS JOIN LATERAL (VALUES (minute.current - interval '1 minute', 0),
                                          (minute.current, 1)) AS w (window_start, step)
               ORDER BY s.subject, w.window_start
               ON CONFLICT (subject, window_start)
                   DO UPDATE SET failures = login_attempts.failures + excluded.failures
               RETURNING subject, failures
           )
           SELECT minute.current AS "window_start!",
                  (SELECT sum(c.failures) FROM counted c WHERE c.subject = s.subject)::bigint
                  + (SELECT coalesce(sum(a.failures), 0) FROM login_attempts a
                     WHERE a.subject = s.subject
                       AND a.window_start > now() - make_interval(mins => $2)
                       AND a.window_start < minute.current - interval '1 minute')::bigint AS "attempts!"
           FROM unnest($1::text[]) WITH ORDINALITY AS s (subject, position)
           CROSS JOIN minute
           ORDER BY s.position"#,
        subjects,
        WINDOW_MINUTES
    )
    .fetch_all(conn)
    .await?;
    let window_start = rows.first().map_or_else(Utc::now, |r| r.window_start);
    Ok(Counted {
        window_start,
        attempts: rows.into_iter().map(|r| r.attempts).collect(),
    })
}

/// A good sign-in: forgets every attempt of `cleared` (the pair of account and address) and
/// takes this one attempt, counted in `window_start`, back from `taken_back` (the address and
/// the account), whose other attempts still count. Then drops windows too old to count.
///
/// The rows are locked in (subject, window) order, as `count_attempt` locks them, so this never
/// deadlocks with attempts counted meanwhile.
pub async fn forgive(
    conn: &mut PgConnection,
    cleared: &str,
    taken_back: &[String],
    window_start: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH locked AS (
             SELECT subject, window_start FROM login_attempts
             WHERE subject = $1 OR (subject = ANY($2) AND window_start = $3)
             ORDER BY subject, window_start
             FOR UPDATE
         )
         UPDATE login_attempts a
         SET failures = CASE WHEN a.subject = $1 THEN 0 ELSE greatest(a.failures - 1, 0) END
         FROM locked
         WHERE a.subject = locked.subject AND a.window_start = locked.window_start",
        cleared,
        taken_back,
        window_start
    )
    .execute(&mut *conn)
    .await?;
    prune(conn).await
}

/// Forgets every attempt of one subject (after the right password), then drops windows too
/// old to count.
pub async fn clear(conn: &mut PgConnection, subject: &str) -> Result<(), sqlx::Error> {
    // Nothing is taken back, so the window named does not matter.
    forgive(conn, subject, &[], Utc::now()).await
}

/// Drops windows too old to count for anyone. Rows another prune is deleting are skipped,
/// not waited for: two prunes never wait on each other.
async fn prune(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM login_attempts WHERE (subject, window_start) IN (
             SELECT subject, window_start FROM login_attempts
             WHERE window_start <= now() - make_interval(mins => $1)
             FOR UPDATE SKIP LOCKED
         )",
        WINDOW_MINUTES
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_database;

    #[tokio::test]
    async fn attempts_racing_on_one_subject_each_see_a_different_count() {
        let (pool, _cluster) = test_database::database().await;
        let subjects = vec!["pair:racing".to_owned(), "address:racing".to_owned()];
        let racers = (0..24).map(|_| {
            let (pool, subjects) = (pool.clone(), subjects.clone());
            tokio::spawn(async move {
                let mut conn = pool.acquire().await.expect("connection");
                count_attempt(&mut conn, &subjects).await.expect("counted")
            })
        });
        let mut seen = Vec::new();
        for racer in racers.collect::<Vec<_>>() {
            let counted = racer.await.expect("racer");
            assert_eq!(counted.attempts[0], counted.attempts[1], "both subjects counted alike");
            seen.push(counted.attempts[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=24).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_success_clears_one_subject_and_takes_itself_back_from_the_others() {
        let (pool, _cluster) = test_database::database().await;
        let mut conn = pool.acquire().await.expect("connection");
        let subjects = vec!["address:a".to_owned(), "account:b".to_owned()];
        count_attempt(&mut conn, &subjects).await.expect("first");
        let second = count_attempt(&mut conn, &subjects).await.expect("second");
        assert_eq!(second.attempts, vec![2, 2]);

        // The second succeeded: the account (here the first subject) is cleared, the address
        // only loses that attempt.
        forgive(&mut conn, "account:b", &subjects[..1], second.window_start)
            .await
            .expect("forgiven");
        let third = count_attempt(&mut conn, &subjects).await.expect("third");
        assert_eq!(third.attempts, vec![2, 1], "the first and this one; this one alone");

        clear(&mut conn, "address:a").await.expect("cleared");
        let fourth = count_attempt(&mut conn, &subjects).await.expect("fourth");
        assert_eq!(fourth.attempts, vec![1, 2]);
    }

    #[tokio::test]
    async fn attempts_older_than_the_window_no_longer_count() {
        let (pool, _cluster) = test_database::database().await;
        let mut conn = pool.acquire().await.expect("connection");
        sqlx::query(
            "INSERT INTO login_attempts (subject, window_start, failures) VALUES
                 ('pair:old', date_trunc('minute', now()) - make_interval(mins => $1), 7),
                 ('pair:old', date_trunc('minute', now()) - interval '5 minutes', 2)",
        )
        .bind(WINDOW_MINUTES)
        .execute(&mut *conn)
        .await
        .expect("arranged");
        let counted = count_attempt(&mut conn, &["pair:old".to_owned()])
            .await
            .expect("counted");
        assert_eq!(counted.attempts, vec![3], "two within the window, and this one");
    }
}
