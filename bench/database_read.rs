//! The authenticated database-backed read (DESIGN.md section 9): `GET
//! /admin/v1/orgs/{orgId}/users`, first page, on a cached key, against two PostgreSQL-only
//! references measured in the same run: `pgbench -S` (pgbench's own select-only transaction)
//! and `pgbench -f` running the statement the endpoint runs (the page of members with their
//! count), prepared as sqlx prepares it. Rounds interleave the three.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use sqlx::PgPool;
use uuid::Uuid;

use super::http::{self, Pace};
use super::{BenchKey, GOOD_FROM, LOAD_CPU, Settings};

/// Members of the benchmark org: more than a page, so the page is full and `next` is set.
pub const MEMBERS: i64 = 120;
/// pgbench's clients: as many as an instance's request pool has connections
/// (`keyward::store::connect`), the most database work an instance can have in flight.
pub const PGBENCH_CLIENTS: usize = 16;

/// The statement of `keyward::store::memberships::list` (the page of members with the org's
/// member count), as the endpoint runs it for the first page: the same text, with the cursor
/// the first page leaves unset written as typed NULLs (pgbench cannot bind a NULL) and the page
/// size the endpoint asks for (50 + 1).
const SAME_SQL: &str = r#"SELECT u.id AS user_id, u.email, u.display_name, u.nickname, u.status,
       u.managed_by_org, u.last_login_at, m.role, m.suspended_at,
       m.created_at AS joined_at,
       (SELECT count(*) FROM memberships c WHERE c.org_id = :org) AS total
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = :org
  AND (NULL::timestamptz IS NULL OR (m.created_at, m.user_id) > (NULL::timestamptz, NULL::uuid))
ORDER BY m.created_at, m.user_id
LIMIT 51;
"#;

/// Answers (HTTP) or transactions (pgbench) per second, round by round.
#[derive(Default)]
pub struct DatabaseRead {
    pub keyed: Vec<f64>,
    pub select_only: Vec<f64>,
    pub same_sql: Vec<f64>,
    /// Requests not answered 200 (or not answered at all), over all keyed trials.
    pub refused: u64,
    pub answered: u64,
}

impl DatabaseRead {
    pub fn over_same_sql(&self) -> Vec<f64> {
        self.keyed.iter().zip(&self.same_sql).map(|(k, p)| k / p).collect()
    }

    pub fn over_select_only(&self) -> Vec<f64> {
        self.keyed.iter().zip(&self.select_only).map(|(k, p)| k / p).collect()
    }
}

/// Adds the members to the org, in one statement.
pub async fn seed_members(pool: &PgPool, org: Uuid) -> anyhow::Result<()> {
    sqlx::query(
        "WITH people AS (
             INSERT INTO users (id, email, display_name, managed_by_org)
             SELECT gen_random_uuid(), 'member' || i || '@bench.example', 'Member ' || i, $1
             FROM generate_series(1, $2) AS i
             RETURNING id)
         INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'member' FROM people",
    )
    .bind(org)
    .bind(MEMBERS)
    .execute(pool)
    .await
    .context("adding the benchmark org's members")?;
    Ok(())
}

pub async fn measure(
    settings: &Settings,
    server: SocketAddr,
    good: &BenchKey,
    org: Uuid,
    database_url: &str,
    work_dir: &Path,
) -> anyhow::Result<DatabaseRead> {
    let script = work_dir.join("members_first_page.sql");
    std::fs::write(&script, SAME_SQL)?;
    pgbench(&["-i", "-q", "-s", "1", database_url]).context("pgbench -i")?;
    let seconds = settings.trial.as_secs_f64().ceil().max(1.0) as u64;
    let org_var = format!("org={org}");
    let common = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["-n", "-M", "prepared", "-j", "1"].map(str::to_owned).to_vec();
        args.extend([
            "-c".into(),
            PGBENCH_CLIENTS.to_string(),
            "-T".into(),
            seconds.to_string(),
        ]);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.push(database_url.to_owned());
        args
    };
    let select_only = common(&["-S"]);
    let script_path = script.display().to_string();
    let same_sql = common(&["-f", &script_path, "-D", &org_var]);
    let path = format!("/admin/v1/orgs/{org}/users");
    let keyed = Arc::new(vec![http::get(server, &path, Some(&good.token))]);
    let load = || {
        http::run(
            server,
            Some(GOOD_FROM),
            keyed.clone(),
            settings.connections,
            Pace::AsFastAsAnswered,
            Duration::from_secs(seconds),
        )
    };

    // Warm-up: the key's proof, the instance's pool and prepared statements, PostgreSQL's cache.
    load().await?;
    tps(&select_only)?;
    tps(&same_sql)?;
    let mut read = DatabaseRead::default();
    for round in 1..=settings.trials {
        let s = tps(&select_only)?;
        let f = tps(&same_sql)?;
        let (answers, took) = load().await?;
        let k = answers.count(200) as f64 / took.as_secs_f64().max(f64::EPSILON);
        read.answered += answers.total();
        read.refused += answers.total() - answers.count(200) + answers.errors;
        eprintln!("load:   round {round}: pgbench -S {s:.0} tps, pgbench -f {f:.0} tps, keyed users {k:.0}/s");
        read.select_only.push(s);
        read.same_sql.push(f);
        read.keyed.push(k);
    }
    if read.refused > 0 {
        bail!(
            "{} keyed reads were not answered 200 ({} answered)",
            read.refused,
            read.answered
        );
    }
    Ok(read)
}

/// Runs pgbench pinned to the load generator's CPU and reads its throughput.
fn tps(args: &[String]) -> anyhow::Result<f64> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = pgbench(&args)?;
    out.lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("tps = ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .ok_or_else(|| anyhow!("pgbench printed no tps line:\n{out}"))
}

fn pgbench(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("taskset")
        .arg("-c")
        .arg(LOAD_CPU.to_string())
        .arg("pgbench")
        .args(args)
        .output()
        .context("cannot run pgbench (Debian: postgresql-client)")?;
    if !output.status.success() {
        bail!(
            "pgbench {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
