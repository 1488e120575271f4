//! Benchmark: Settings > API keys for an org with 10,000 keys. The budget is a p95 of at most
//! 50 ms for the page, whatever the tab, filter, sort or page; the figures sit beside two
//! baselines measured in the same run: `/healthz` (the HTTP floor) and the same page of an org
//! with 10 keys (what the list costs when the org is small).
//!
//! One `keyward serve` pinned to CPU 0, this process pinned to CPU 1, PostgreSQL unpinned, on a
//! fresh database of the server named by `DATABASE_URL`. Each request is timed from the first
//! byte sent to the last byte read on a kept-alive loopback connection, so a figure is the
//! server's time plus a loopback round trip: an upper bound of the server time. Every loop is
//! bounded in count and in time. Exit status: 0 when the budget holds, 1 when it is missed,
//! 2 when the benchmark could not measure.

#[allow(dead_code)]
mod servers;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

use keyward::domain::OrgName;
use servers::{BenchDatabase, Instances};
use stats::percentile;

/// Keys of the large org, as the issue's budget names it.
const KEYS: i64 = 10_000;
/// Keys of the baseline org.
const SMALL_KEYS: i64 = 10;
/// People who created the large org's keys (the creator filter's choices).
const CREATORS: usize = 8;
/// Timed requests per case, after `WARM_UP` untimed ones; and the time any one case may take.
const REQUESTS: usize = 300;
const WARM_UP: usize = 20;
const CASE_LIMIT: Duration = Duration::from_secs(120);
/// The budget: p95 of the page, in milliseconds.
const BUDGET_P95_MS: f64 = 50.0;

const SERVER_CPU: usize = 0;
const LOAD_CPU: usize = 1;
const PASSWORD: &str = "bench password, long enough";

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(bench()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("console_keys: could not measure: {err:#}");
            ExitCode::from(2)
        }
    }
}

async fn bench() -> anyhow::Result<bool> {
    let server_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let database = BenchDatabase::create(&server_url).await?;
    eprintln!("console_keys: database {} created and migrated", database.name);
    let measured = measure(&database.pool, &database.url).await;
    let dropped = database.drop_database().await;
    let cases = measured?;
    dropped?;
    Ok(print(&cases))
}

/// One measured request, and what it found.
struct Case {
    label: String,
    large: bool,
    rows: usize,
    p50: f64,
    p95: f64,
    p99: f64,
}

async fn measure(pool: &PgPool, database_url: &str) -> anyhow::Result<Vec<Case>> {
    let started = Instant::now();
    let people = seed_people(pool).await?;
    // keyward stamps a key's creation with the database clock; an org that has had keys for
    // months needs them backdated, which only a superuser switching that trigger off can do.
    sqlx::query("ALTER TABLE api_keys DISABLE TRIGGER api_keys_stamp_insert")
        .execute(pool)
        .await?;
    let large = seed_org(pool, "Ten thousand keys", &people, KEYS).await?;
    let small = seed_org(pool, "Ten keys", &people, SMALL_KEYS).await?;
    sqlx::query("ALTER TABLE api_keys ENABLE TRIGGER api_keys_stamp_insert")
        .execute(pool)
        .await?;
    eprintln!(
        "console_keys: {} keys written in {:.1} s",
        KEYS + SMALL_KEYS,
        started.elapsed().as_secs_f64()
    );
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;

    let binary = PathBuf::from(env!("CARGO_BIN_EXE_keyward"));
    let log_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keyward-console-keys");
    std::fs::create_dir_all(&log_dir)?;
    let pinned = servers::pin_this_process(LOAD_CPU)?;
    eprintln!("console_keys: {pinned}");
    let mut instances = Instances::start(&binary, database_url, SERVER_CPU, &["console"], &log_dir)?;
    let probe = reqwest::Client::new();
    instances.wait_ready(&probe, Duration::from_secs(60)).await?;
    let address = instances.list[0].address;
    let base = format!("http://{address}");

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    sign_in(&browser, &base).await?;

    let keys = |org: Uuid, query: &str| format!("{base}/o/{org}/settings/api-keys{query}");
    let first_creator: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'creator0@bench.example'")
        .fetch_one(pool)
        .await?;
    let second_page = next_page(&browser, &base, &keys(large, "")).await?;
    let mut plan = vec![
        ("GET /healthz (baseline)".to_owned(), false, format!("{base}/healthz")),
        (
            "keys page, org of 10 keys (baseline)".to_owned(),
            false,
            keys(small, ""),
        ),
        ("scoped tab, newest first".to_owned(), true, keys(large, "")),
        ("unscoped tab".to_owned(), true, keys(large, "?tab=unscoped")),
        ("sorted by expiry".to_owned(), true, keys(large, "?sort=expires")),
        ("sorted by last use".to_owned(), true, keys(large, "?sort=last_used")),
        ("search by name".to_owned(), true, keys(large, "?q=deploy%2042")),
        ("search by public id".to_owned(), true, keys(large, "?q=bench0000778")),
        ("revoked only".to_owned(), true, keys(large, "?status=revoked")),
        ("expired only".to_owned(), true, keys(large, "?status=expired")),
        (
            "one creator".to_owned(),
            true,
            keys(large, &format!("?creator={first_creator}")),
        ),
        ("second page (keyset)".to_owned(), true, second_page.clone()),
    ];
    let deep = deep_page(&browser, &base, &second_page, 20).await?;
    plan.push(("page 21 (keyset)".to_owned(), true, deep));

    let mut cases = Vec::new();
    for (label, large, url) in plan {
        instances.check_running()?;
        let (times, rows) = time_page(&browser, &url).await.with_context(|| label.clone())?;
        eprintln!("console_keys: {label}: {} requests", times.len());
        cases.push(Case {
            label,
            large,
            rows,
            p50: ms(percentile(&times, 50.0)),
            p95: ms(percentile(&times, 95.0)),
            p99: ms(percentile(&times, 99.0)),
        });
    }
    drop(instances);
    std::fs::remove_dir_all(&log_dir).ok();
    Ok(cases)
}

/// The admin who signs in (with a password), then `CREATORS` other admins.
async fn seed_people(pool: &PgPool) -> anyhow::Result<Vec<Uuid>> {
    let hash = keyward::auth::argon2id::hash(PASSWORD.as_bytes()).map_err(|e| anyhow!("argon2id: {e}"))?;
    let mut people = Vec::new();
    for n in 0..=CREATORS {
        let (email, password) = match n {
            0 => ("admin@bench.example".to_owned(), Some(hash.clone())),
            n => (format!("creator{}@bench.example", n - 1), None),
        };
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(&email)
            .bind(email.split('@').next().unwrap_or_default())
            .bind(password)
            .execute(pool)
            .await?;
        people.push(id);
    }
    Ok(people)
}

/// An org administered by `people`, with `count` keys created by them: half scoped (one to
/// three scopes), a fifth revoked, created over about 200 days with lives of 1 to 364 days (so
/// many have expired), four in five used at some time from one of 50 addresses.
async fn seed_org(pool: &PgPool, name: &str, people: &[Uuid], count: i64) -> anyhow::Result<Uuid> {
    let mut tx = pool.begin().await?;
    let org = keyward::store::orgs::create(&mut tx, &OrgName::parse(name)?).await?.id;
    for &user in people {
        sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')")
            .bind(org)
            .bind(user)
            .execute(&mut *tx)
            .await?;
    }
    // Any argon2id PHC string satisfies the table; no key of this benchmark is ever presented.
    let phc = keyward::auth::argon2id::hash(b"never presented").map_err(|e| anyhow!("argon2id: {e}"))?;
    let prefix = if count == KEYS { "bench" } else { "small" };
    sqlx::query(
        "INSERT INTO api_keys (id, org_id, public_id, name, scoped, secret_hash, created_by_kind,
                               created_by_id, responsible_user_id, created_at, expires_at,
                               last_used_at, last_used_ip)
         SELECT gen_random_uuid(), $1, $2 || lpad(i::text, 7, '0'),
                (ARRAY['deploy', 'backup', 'audit export', 'sync'])[1 + i % 4] || ' ' || i,
                i % 2 = 0, $3, 'user', c.id, c.id,
                now() - make_interval(mins => (i * 30)::int),
                now() - make_interval(mins => (i * 30)::int) + make_interval(days => 1 + (i % 364)::int),
                CASE WHEN i % 5 <> 0 THEN now() - make_interval(secs => (i * 7)::int) END,
                CASE WHEN i % 5 <> 0 THEN ('10.0.0.' || (1 + i % 50))::inet END
         FROM generate_series(1, $4::bigint) AS i
         JOIN LATERAL (SELECT ($5::uuid[])[1 + (i % array_length($5::uuid[], 1))::int] AS id) c ON true",
    )
    .bind(org)
    .bind(prefix)
    .bind(&phc)
    .bind(count)
    .bind(people)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO api_key_scopes (key_id, scope)
         SELECT k.id, s.name
         FROM api_keys k
         JOIN LATERAL (SELECT name FROM scopes ORDER BY name LIMIT 1 + abs(hashtext(k.public_id)) % 3) s ON true
         WHERE k.org_id = $1 AND k.scoped",
    )
    .bind(org)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query(
        "UPDATE api_keys SET revoked_at = now(), revoked_by_kind = 'user', revoked_by_id = responsible_user_id
         WHERE org_id = $1 AND right(public_id, 1) IN ('3', '8')",
    )
    .bind(org)
    .execute(pool)
    .await?;
    Ok(org)
}

/// Signs in through the login form, as a browser does.
async fn sign_in(browser: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let page = browser.get(format!("{base}/login")).send().await?.text().await?;
    let form = page.find(r#"action="/login""#).context("no sign-in form")?;
    let csrf = hidden_value(&page[form..], "csrf").context("no sign-in token")?;
    let res = browser
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@bench.example"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await?;
    if res.status() != 303 {
        bail!("sign-in answered {}", res.status());
    }
    Ok(())
}

fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!(r#"name="{name}""#))?;
    let value = html[at..].find("value=\"")? + at + 7;
    let end = html[value..].find('"')? + value;
    Some(html[value..end].to_owned())
}

/// The URL behind the page's "Next" link.
async fn next_page(browser: &reqwest::Client, base: &str, url: &str) -> anyhow::Result<String> {
    let page = browser.get(url).send().await?.text().await?;
    let at = page.find(r#"id="next-page" href=""#).context("no next page")? + 21;
    let end = page[at..].find('"').context("unterminated link")? + at;
    Ok(format!("{base}{}", page[at..end].replace("&amp;", "&")))
}

/// Follows "Next" `pages` times from `url`.
async fn deep_page(browser: &reqwest::Client, base: &str, url: &str, pages: usize) -> anyhow::Result<String> {
    let mut url = url.to_owned();
    for _ in 0..pages {
        url = next_page(browser, base, &url).await?;
    }
    Ok(url)
}

/// Times `REQUESTS` GETs of `url` (after a warm-up), each of which must be a 200; returns the
/// times and the number of key rows the page showed.
async fn time_page(browser: &reqwest::Client, url: &str) -> anyhow::Result<(Vec<Duration>, usize)> {
    let deadline = Instant::now() + CASE_LIMIT;
    let mut times = Vec::with_capacity(REQUESTS);
    let mut rows = 0;
    for n in 0..WARM_UP + REQUESTS {
        if Instant::now() > deadline {
            bail!("{url}: {n} requests in {CASE_LIMIT:?}, the limit");
        }
        let started = Instant::now();
        let res = browser.get(url).send().await?;
        let status = res.status();
        let body = res.text().await?;
        let elapsed = started.elapsed();
        if status != 200 {
            bail!("{url} answered {status}");
        }
        if n >= WARM_UP {
            times.push(elapsed);
        }
        rows = body.matches(r#"class="key-link""#).count();
    }
    Ok((times, rows))
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

/// Prints the table; true when every case of the large org is within the budget.
fn print(cases: &[Case]) -> bool {
    let healthz = cases
        .iter()
        .find(|c| c.label.starts_with("GET /healthz"))
        .map_or(f64::NAN, |c| c.p95);
    let small = cases
        .iter()
        .find(|c| c.label.contains("10 keys"))
        .map_or(f64::NAN, |c| c.p95);
    println!("Settings > API keys, org of {KEYS} keys; {REQUESTS} timed requests per case, in ms");
    println!(
        "{:<38} {:>5} {:>8} {:>8} {:>8} {:>11} {:>11}",
        "case", "rows", "p50", "p95", "p99", "p95/healthz", "p95/10 keys"
    );
    let mut within = true;
    for case in cases {
        let verdict = if case.large && case.p95 > BUDGET_P95_MS {
            within = false;
            "  over budget"
        } else {
            ""
        };
        println!(
            "{:<38} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>11.1} {:>11.2}{verdict}",
            case.label,
            case.rows,
            case.p50,
            case.p95,
            case.p99,
            case.p95 / healthz,
            case.p95 / small
        );
    }
    let worst = cases.iter().filter(|c| c.large).map(|c| c.p95).fold(0.0, f64::max);
    println!(
        "worst p95 of the 10,000-key org: {worst:.2} ms (budget {BUDGET_P95_MS} ms): {}",
        if within { "met" } else { "MISSED" }
    );
    within
}
