//! `cargo bench --bench load`: the throughput, first-request, revocation and flood budgets of
//! DESIGN.md section 9, measured against two real `keyward` processes the way section 9 says
//! to on a 2-core machine (servers and load generator on different cores, interleaved warmed
//! trials over 15 rounds, medians with their interquartile range, CPU per answer, flood from
//! 127.0.0.2, ≥ 1,000 samples for a p99). See bench/README.md.

mod allowlist;
mod cpu;
mod database_read;
mod http;
mod limiter;
mod report;
mod servers;
mod stats;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

use keyward::auth::argon2id::{self, Argon2Pool};
use keyward::domain::actor::Actor;
use keyward::domain::api_key::{AskedExpiry, KeyName};
use keyward::domain::token::{self, KeyToken};
use keyward::domain::{KeyScopes, OrgName};
use keyward::service::keys::{self, KeyRequest};

use cpu::Usage;
use http::{Connection, Pace, Tally};
use report::{Report, median, quartiles};
use servers::{BenchDatabase, Instance, Instances, metric};

/// Both `keyward` instances run here...
const SERVER_CPU: usize = 0;
/// ...and the load generator (this process) here.
const LOAD_CPU: usize = 1;
const GOOD_FROM: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const FLOOD_FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// Keys that exist but are never used with their secret, for the wrong-secret flood.
const FLOOD_KEYS: usize = 20;
/// Distinct flood requests, cycled: half wrong secrets for those keys, half unknown public ids.
const FLOOD_REQUESTS: usize = 2_000;
/// The flood runs this much before and after the good traffic it disturbs.
const FLOOD_LEAD: Duration = Duration::from_millis(250);
/// A revoked key the other instance still accepts this long after the 204 counts as lost
/// (the budget for a lost notice); its sample is the time waited.
const PROPAGATION_LIMIT: Duration = Duration::from_secs(5);
/// No single request outside the load loops may take longer.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
/// Keys warmed at once on each instance (its argon2 pool runs one and queues eight).
const WARM_LANES: usize = 4;
/// A warm-up request refused by the verification budget (429) is asked again this many times,
/// this long apart.
const WARM_RETRIES: usize = 40;
const WARM_BACKOFF: Duration = Duration::from_millis(250);
/// Phases that do real work per key are bounded in time as well as in count.
const SETUP_LIMIT: Duration = Duration::from_secs(900);
const REVOCATION_LIMIT: Duration = Duration::from_secs(900);
const MAX_POLLS_PER_KEY: usize = 1_000_000;
/// A round measured the machine's neighbours rather than keyward when, in either of its
/// trials, the hypervisor stole more than this share of a pinned CPU, or (where only keyward
/// should be busy on the server CPU) other work took more than this share of it. Such a round
/// is set aside and run again, up to as many rounds again as were asked for.
const DISTURBED: f64 = 0.10;
/// Fewer undisturbed rounds than this and the phase cannot be measured.
const MIN_ROUNDS: usize = 3;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("load: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    // `cargo bench --bench load -- --limiter-only`: the rate limiter's in-process cost alone.
    if std::env::args().any(|arg| arg == "--limiter-only") {
        return match limiter::measure() {
            Ok(cost) => {
                println!(
                    "rate limiter, in process: {:.1} ns per check + {:.1} ns per answer's headers = {:.1} ns",
                    cost.check_ns,
                    cost.headers_ns,
                    cost.total_ns()
                );
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("load: {err:#}");
                ExitCode::from(2)
            }
        };
    }
    match runtime.block_on(bench()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("load: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// How big the run is; each can be changed through the environment.
struct Settings {
    database_url: String,
    trials: usize,
    trial: Duration,
    connections: usize,
    revocations: usize,
    allowlist_changes: usize,
    cold_keys: usize,
    flood_rate: u32,
    flood_connections: usize,
}

impl Settings {
    fn from_env() -> anyhow::Result<Settings> {
        Ok(Settings {
            database_url: std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            trials: setting("KEYWARD_BENCH_TRIALS", 15usize)?.clamp(5, 100),
            trial: Duration::from_secs_f64(setting("KEYWARD_BENCH_TRIAL_SECS", 2.0f64)?.clamp(0.5, 60.0)),
            connections: setting("KEYWARD_BENCH_CONNECTIONS", 32usize)?.clamp(1, 1024),
            revocations: setting("KEYWARD_BENCH_REVOCATIONS", 1_000usize)?.clamp(1, 100_000),
            allowlist_changes: setting("KEYWARD_BENCH_ALLOWLIST_CHANGES", 1_000usize)?.clamp(2, 100_000),
            cold_keys: 20,
            flood_rate: setting("KEYWARD_BENCH_FLOOD_RPS", 2_000u32)?.clamp(1, 1_000_000),
            flood_connections: 8,
        })
    }
}

fn setting<T: FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| anyhow!("{name}={value} is not a valid value")),
        Err(_) => Ok(default),
    }
}

/// Sets up, measures, prints; true when every budget passed. The database is dropped however
/// the measurement ends; the instances are killed by their guard inside `measure`.
async fn bench() -> anyhow::Result<bool> {
    let settings = Arc::new(Settings::from_env()?);
    let cpus = std::thread::available_parallelism()?.get();
    if cpus < 2 {
        bail!("needs two CPUs ({SERVER_CPU} and {LOAD_CPU}) to keep servers and load apart; this machine has {cpus}");
    }
    let database = BenchDatabase::create(&settings.database_url).await?;
    eprintln!("load: database {} created and migrated", database.name);
    let measured = tokio::spawn(measure(settings.clone(), database.pool.clone(), database.url.clone())).await;
    let dropped = database.drop_database().await;
    let report = measured.map_err(|e| anyhow!("the benchmark panicked: {e}"))??;
    dropped?;
    Ok(report.print(&settings))
}

#[derive(Clone)]
struct BenchKey {
    id: Uuid,
    token: String,
}

/// Creates the keys, starts A and B, and runs every measurement in turn.
async fn measure(settings: Arc<Settings>, pool: PgPool, database_url: String) -> anyhow::Result<Report> {
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned());
    let org = keyward::store::orgs::create(&mut *pool.acquire().await?, &OrgName::parse("Benchmark")?)
        .await?
        .id;
    let total = 2 + (settings.cold_keys + 1) + FLOOD_KEYS + settings.revocations;
    eprintln!("load: creating {total} keys (argon2id, two at a time)...");
    let started = Instant::now();
    let made = tokio::time::timeout(SETUP_LIMIT, create_keys(&pool, org, total))
        .await
        .context("creating keys took too long")??;
    eprintln!("load: keys created in {:.1} s", started.elapsed().as_secs_f64());
    let mut made = made.into_iter();
    let admin = made.next().context("no admin key")?;
    let good = made.next().context("no good key")?;
    let cold: Vec<BenchKey> = made.by_ref().take(settings.cold_keys + 1).collect();
    let flood: Vec<BenchKey> = made.by_ref().take(FLOOD_KEYS).collect();
    let revocable: Vec<BenchKey> = made.collect();
    let reference = KeyToken::generate()?;
    let reference_secret = reference.secret().expose_secret().to_owned();
    let reference_hash = argon2id::hash(reference_secret.as_bytes()).map_err(|e| anyhow!("argon2id: {e}"))?;

    let pinned = servers::pin_this_process(LOAD_CPU)?;
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_keyward"));
    let log_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keyward-load");
    std::fs::create_dir_all(&log_dir)?;
    let mut instances = Instances::start(&binary, &database_url, SERVER_CPU, &["A", "B"], &log_dir)?;
    let client = reqwest::Client::builder().timeout(REQUEST_LIMIT).build()?;
    instances.wait_ready(&client, Duration::from_secs(30)).await?;
    let (a, b) = (instances.list[0].clone(), instances.list[1].clone());
    let pids = [a.pid, b.pid];
    eprintln!(
        "load: instances A ({}) and B ({}) ready on CPU {SERVER_CPU}; load generator on CPU {pinned}",
        a.address, b.address
    );

    eprintln!("load: first requests with new keys vs in-process argon2id...");
    let cold = measure_cold(a.address, &cold, &reference_secret, &reference_hash).await?;
    eprintln!("load: bare vs cached-key throughput...");
    let throughput = measure_throughput(&settings, &a, &pids, &good).await?;
    eprintln!("load: the rate limiter's own cost, in process...");
    let limiter = limiter::measure()?;
    eprintln!("load: good-key throughput with and without a wrong-secret flood from {FLOOD_FROM}...");
    let flood = measure_flood(&settings, &client, &a, &pids, &good, &flood).await?;
    instances.check_running()?;
    eprintln!("load: GET /admin/v1/orgs/{{org}}/users (first page) vs pgbench -S and pgbench -f with its SQL...");
    database_read::seed_members(&pool, org).await?;
    let database_read = database_read::measure(&settings, a.address, &good, org, &database_url, &log_dir).await?;
    instances.check_running()?;
    let revocation = measure_revocation(&client, &a, &b, org, &admin, &revocable).await?;
    instances.check_running()?;
    eprintln!(
        "load: {} IP allowlist changes through A, each watched on B...",
        settings.allowlist_changes
    );
    let allowlist = allowlist::measure(&client, &a, &b, org, &admin, &good, settings.allowlist_changes).await?;
    instances.check_running()?;
    drop(instances);
    // The logs hold a line per request; they are kept only when something went wrong.
    std::fs::remove_dir_all(&log_dir).ok();
    Ok(Report {
        pinned,
        load_average,
        cold,
        throughput,
        flood,
        database_read,
        revocation,
        allowlist,
        limiter,
    })
}

/// `count` unscoped keys of `org`, through the library's one key-creation path, hashed two at a
/// time.
async fn create_keys(pool: &PgPool, org: Uuid, count: usize) -> anyhow::Result<Vec<BenchKey>> {
    let argon2 = Argon2Pool::new(2);
    let mut tasks = JoinSet::new();
    for n in 0..count {
        let (pool, argon2) = (pool.clone(), argon2.clone());
        tasks.spawn(async move {
            let request = KeyRequest {
                org_id: org.into(),
                name: KeyName::parse(&format!("bench key {n}"))?,
                scopes: KeyScopes::Unscoped,
                expiry: AskedExpiry::in_days(30)?,
                created_by: Actor::System,
                responsible_user_id: None,
                origin: Default::default(),
            };
            let created = keys::create(&pool, &argon2, &request).await?;
            let (id, token) = (created.id.uuid(), created.token);
            anyhow::Ok((
                n,
                BenchKey {
                    id,
                    token: token.expose_token(),
                },
            ))
        });
    }
    let mut made = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        made.push(done??);
    }
    made.sort_by_key(|(n, _)| *n);
    Ok(made.into_iter().map(|(_, key)| key).collect())
}

/// First requests with new keys, each timed from write to full response on a warm keep-alive
/// connection, beside one in-process argon2id verification each (alternating, so both see the
/// same machine). The first pair is a warm-up and not counted.
#[derive(Default)]
struct Cold {
    first_requests: Vec<Duration>,
    verifications: Vec<Duration>,
    statuses: Tally,
}

async fn measure_cold(server: SocketAddr, keys: &[BenchKey], secret: &str, phc: &str) -> anyhow::Result<Cold> {
    let mut connection = Connection::open(server, Some(GOOD_FROM)).await?;
    connection
        .send_within(&http::get(server, "/healthz", None), REQUEST_LIMIT)
        .await?;
    let mut cold = Cold::default();
    for (index, key) in keys.iter().enumerate() {
        let started = std::time::Instant::now();
        let verified = argon2id::verify(secret.as_bytes(), phc);
        let verification = started.elapsed();
        if !verified {
            bail!("the in-process argon2id verification failed");
        }
        let request = http::get(server, "/admin/v1/key", Some(&key.token));
        let started = Instant::now();
        let status = connection.send_within(&request, REQUEST_LIMIT).await?;
        let first_request = started.elapsed();
        if index == 0 {
            continue;
        }
        cold.statuses.record(status);
        cold.verifications.push(verification);
        if status == 200 {
            cold.first_requests.push(first_request);
        }
    }
    Ok(cold)
}

/// The trials of one kind: each one's rate of 200 answers per second, every answer, and the CPU
/// use around each.
#[derive(Default)]
struct Trials {
    rates: Vec<f64>,
    answers: Tally,
    cpu: Vec<Usage>,
    /// The server's CPU time per answer in each trial, in microseconds.
    cost: Vec<f64>,
}

impl Trials {
    /// Adds one trial; returns its rate and, when its CPU use was measured, the server's µs per
    /// answer.
    fn record(&mut self, (answers, took, usage): (Tally, Duration, Option<Usage>)) -> (f64, Option<f64>) {
        let rate = answers.count(200) as f64 / took.as_secs_f64().max(f64::EPSILON);
        self.rates.push(rate);
        self.answers.merge(&answers);
        let cost = usage.map(|usage| {
            self.cpu.push(usage);
            let cost = usage.server_seconds * 1e6 / (answers.total() as f64).max(1.0);
            self.cost.push(cost);
            cost
        });
        (rate, cost)
    }

    /// Medians of the CPU use during its trials.
    fn cpu(&self) -> String {
        let of = |field: fn(&Usage) -> f64| median(&self.cpu.iter().map(field).collect::<Vec<_>>());
        let (p25, p75) = quartiles(&self.cost);
        format!(
            "A used {:.2} cores ({:.1} µs per answer, IQR {p25:.1}–{p75:.1}), the load generator {:.2}; \
             CPU {SERVER_CPU} idle {:.0}%, other work {:.0}%; CPU {LOAD_CPU} idle {:.0}%, other work {:.0}%",
            of(|u| u.server),
            median(&self.cost),
            of(|u| u.generator),
            of(|u| u.server_cpu_idle) * 100.0,
            of(|u| u.server_cpu_other) * 100.0,
            of(|u| u.load_cpu_idle) * 100.0,
            of(|u| u.load_cpu_other) * 100.0
        )
    }
}

/// Interleaved trials of two kinds, compared round by round.
#[derive(Default)]
struct Rounds {
    first: Trials,
    second: Trials,
    /// Per round in which both trials' CPU use was measured: the first kind's µs per answer over
    /// the second's, i.e. what second / first throughput would be if the server's own CPU time
    /// were all that limited it.
    cpu_ratios: Vec<f64>,
    /// Why each disturbed round was set aside.
    set_aside: Vec<String>,
}

type TrialResult = (Tally, Duration, Option<Usage>);

/// What counts as someone else's work during a trial.
#[derive(Clone, Copy)]
enum Neighbours {
    /// Only the hypervisor's steal: the trial itself may make PostgreSQL work on the server CPU.
    Steal,
    /// Steal, or any work on the server CPU that is not keyward's.
    StealOrOtherWork,
}

impl Rounds {
    fn ratios(&self) -> Vec<f64> {
        let (first, second) = (&self.first.rates, &self.second.rates);
        first.iter().zip(second).map(|(a, b)| b / a).collect()
    }

    fn complete(&self, settings: &Settings) -> bool {
        self.first.rates.len() >= settings.trials
    }

    /// Records a round and returns its two rates, or sets it aside (returning why) when
    /// neighbours disturbed either trial.
    fn add(&mut self, neighbours: Neighbours, first: TrialResult, second: TrialResult) -> Result<(f64, f64), String> {
        for usage in [&first.2, &second.2].into_iter().flatten() {
            let other = match neighbours {
                Neighbours::Steal => 0.0,
                Neighbours::StealOrOtherWork => usage.server_cpu_other,
            };
            if usage.stolen > DISTURBED || other > DISTURBED {
                let why = format!(
                    "{:.0}% stolen by the hypervisor, {:.0}% other work on CPU {SERVER_CPU}",
                    usage.stolen * 100.0,
                    usage.server_cpu_other * 100.0
                );
                self.set_aside.push(why.clone());
                return Err(why);
            }
        }
        let ((first_rate, first_cost), (second_rate, second_cost)) =
            (self.first.record(first), self.second.record(second));
        if let (Some(first_cost), Some(second_cost)) = (first_cost, second_cost) {
            self.cpu_ratios.push(first_cost / second_cost.max(f64::EPSILON));
        }
        Ok((first_rate, second_rate))
    }

    /// Fails when too few rounds were undisturbed to report a median, or when any request of the
    /// measured traffic was not answered 200 (a rate limit, a refusal or a lost connection would
    /// be measured, not the work).
    fn enough(self, what: &str) -> anyhow::Result<Rounds> {
        for trials in [&self.first, &self.second] {
            let refused = trials.answers.total() - trials.answers.count(200) + trials.answers.errors;
            if refused > 0 {
                bail!(
                    "{what}: {refused} of {} requests were not answered 200 ({})",
                    trials.answers.total() + trials.answers.errors,
                    trials.answers.describe()
                );
            }
        }
        if self.first.rates.len() < MIN_ROUNDS {
            bail!(
                "{what}: only {} undisturbed rounds, {} set aside ({}); the machine is too busy to measure",
                self.first.rates.len(),
                self.set_aside.len(),
                self.set_aside.join("; ")
            );
        }
        Ok(self)
    }
}

/// Runs one trial and measures the CPU use around it: `pids` are the instances, the measured one
/// first.
async fn trial(
    pids: &[u32],
    load: impl Future<Output = std::io::Result<(Tally, Duration)>>,
) -> anyhow::Result<(Tally, Duration, Option<Usage>)> {
    let before = cpu::sample(pids);
    let (answers, took) = load.await?;
    let after = cpu::sample(pids);
    let usage = before
        .zip(after)
        .map(|(before, after)| cpu::usage(&before, &after, SERVER_CPU, LOAD_CPU));
    Ok((answers, took, usage))
}

/// bare `/healthz`, then the cached key's `/admin/v1/key`, round after round, after one round
/// of warm-up that also puts the key's proof in the cache.
async fn measure_throughput(
    settings: &Settings,
    a: &Instance,
    pids: &[u32],
    good: &BenchKey,
) -> anyhow::Result<Rounds> {
    let server = a.address;
    let bare = Arc::new(vec![http::get(server, "/healthz", None)]);
    let keyed = Arc::new(vec![http::get(server, "/admin/v1/key", Some(&good.token))]);
    let load = |requests: &Arc<Vec<Vec<u8>>>| {
        http::run(
            server,
            Some(GOOD_FROM),
            requests.clone(),
            settings.connections,
            Pace::AsFastAsAnswered,
            settings.trial,
        )
    };
    load(&keyed).await?;
    load(&bare).await?;
    let mut rounds = Rounds::default();
    for round in 1..=settings.trials * 2 {
        if rounds.complete(settings) {
            break;
        }
        let bare_trial = trial(pids, load(&bare)).await?;
        let keyed_trial = trial(pids, load(&keyed)).await?;
        match rounds.add(Neighbours::StealOrOtherWork, bare_trial, keyed_trial) {
            Ok((bare, keyed)) => eprintln!("load:   round {round}: bare {bare:.0}/s, keyed {keyed:.0}/s"),
            Err(why) => eprintln!("load:   round {round}: set aside ({why})"),
        }
    }
    rounds.enough("throughput")
}

/// Good-key throughput undisturbed and under the flood, interleaved; the flood's responses and
/// the argon2 verifications it cost instance A.
struct Flood {
    rounds: Rounds,
    flood: Tally,
    flood_seconds: f64,
    argon2_caused: f64,
}

async fn measure_flood(
    settings: &Settings,
    client: &reqwest::Client,
    a: &Instance,
    pids: &[u32],
    good: &BenchKey,
    flood_keys: &[BenchKey],
) -> anyhow::Result<Flood> {
    let server = a.address;
    let keyed = Arc::new(vec![http::get(server, "/admin/v1/key", Some(&good.token))]);
    let wrong = Arc::new(flood_requests(server, flood_keys)?);
    let good_load = || {
        http::run(
            server,
            Some(GOOD_FROM),
            keyed.clone(),
            settings.connections,
            Pace::AsFastAsAnswered,
            settings.trial,
        )
    };
    let argon2_series = "keyward_argon2_verifications_started_total";
    let argon2_before = metric(client, a.metrics, argon2_series).await?;
    let mut flood = Flood {
        rounds: Rounds::default(),
        flood: Tally::default(),
        flood_seconds: 0.0,
        argon2_caused: 0.0,
    };
    good_load().await?;
    for round in 1..=settings.trials * 2 {
        if flood.rounds.complete(settings) {
            break;
        }
        let undisturbed = trial(pids, good_load()).await?;
        let flooding = http::run(
            server,
            Some(FLOOD_FROM),
            wrong.clone(),
            settings.flood_connections,
            Pace::PerSecond(settings.flood_rate),
            settings.trial + FLOOD_LEAD * 2,
        );
        let disturbed = async {
            tokio::time::sleep(FLOOD_LEAD).await;
            trial(pids, good_load()).await
        };
        let (flooding, disturbed) = tokio::join!(flooding, disturbed);
        let (flood_answers, flood_took) = flooding?;
        flood.flood.merge(&flood_answers);
        flood.flood_seconds += flood_took.as_secs_f64();
        let flood_rate = flood_answers.total() as f64 / flood_took.as_secs_f64().max(f64::EPSILON);
        match flood.rounds.add(Neighbours::Steal, undisturbed, disturbed?) {
            Ok((undisturbed, flooded)) => eprintln!(
                "load:   round {round}: undisturbed {undisturbed:.0}/s, flooded {flooded:.0}/s (flood {flood_rate:.0}/s: {})",
                flood_answers.describe()
            ),
            Err(why) => eprintln!("load:   round {round}: set aside ({why})"),
        }
    }
    flood.argon2_caused = metric(client, a.metrics, argon2_series).await? - argon2_before;
    flood.rounds = flood.rounds.enough("flood")?;
    Ok(flood)
}

/// Well-formed tokens with valid checksums that must all be refused: wrong secrets for real,
/// never-cached keys (each a cache miss that could cost argon2) and random public ids.
fn flood_requests(server: SocketAddr, flood_keys: &[BenchKey]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut requests = Vec::with_capacity(FLOOD_REQUESTS);
    for n in 0..FLOOD_REQUESTS {
        let fresh = KeyToken::generate()?;
        let public_id = match flood_keys.get((n / 2) % flood_keys.len().max(1)) {
            Some(key) if n % 2 == 0 => KeyToken::parse(&key.token)?.public_id().as_str().to_owned(),
            _ => fresh.public_id().as_str().to_owned(),
        };
        let body = format!("{}{public_id}_{}", token::PREFIX, fresh.secret().expose_secret());
        let value = format!("{body}{}", token::checksum(&body));
        KeyToken::parse(&value)?;
        requests.push(http::get(server, "/admin/v1/key", Some(&value)));
    }
    Ok(requests)
}

/// Revocation through A, seen by B: the delay from A's 204 to B's first refusal of the key, and
/// whatever A answered for the key right after its own 204.
#[derive(Default)]
struct Revocation {
    delays: Vec<Duration>,
    lost: usize,
    skipped: usize,
    warm: Tally,
    on_revoker: Tally,
    on_other: Tally,
    notices: f64,
    reconnects: f64,
}

async fn measure_revocation(
    client: &reqwest::Client,
    a: &Instance,
    b: &Instance,
    org: Uuid,
    admin: &BenchKey,
    keys: &[BenchKey],
) -> anyhow::Result<Revocation> {
    let phase_deadline = Instant::now() + REVOCATION_LIMIT;
    eprintln!(
        "load: warming {} keys on A and B ({} argon2id verifications on CPU {SERVER_CPU})...",
        keys.len(),
        keys.len() * 2
    );
    let started = Instant::now();
    let mut result = Revocation {
        warm: tokio::time::timeout(REVOCATION_LIMIT, warm_keys(&[a.address, b.address], keys))
            .await
            .context("warming keys took too long")??,
        ..Revocation::default()
    };
    eprintln!(
        "load: warmed in {:.1} s ({}); revoking {} keys through A...",
        started.elapsed().as_secs_f64(),
        result.warm.describe(),
        keys.len()
    );
    let notices_before = metric(client, b.metrics, "keyward_revocation_notices_total").await?;
    let reconnects_before = metric(client, b.metrics, "keyward_revocation_listener_reconnects_total").await?;
    let mut on_a = Connection::open(a.address, Some(GOOD_FROM)).await?;
    let mut on_b = Connection::open(b.address, Some(GOOD_FROM)).await?;
    let mut revoker = Connection::open(a.address, Some(GOOD_FROM)).await?;
    for (index, key) in keys.iter().enumerate() {
        if Instant::now() >= phase_deadline {
            bail!("the revocation phase took longer than {REVOCATION_LIMIT:?}");
        }
        let use_on_a = http::get(a.address, "/admin/v1/key", Some(&key.token));
        let use_on_b = http::get(b.address, "/admin/v1/key", Some(&key.token));
        // Both instances hold the key's proof and accept it just before it is revoked.
        let before_b = on_b.send_within(&use_on_b, REQUEST_LIMIT).await?;
        let before_a = on_a.send_within(&use_on_a, REQUEST_LIMIT).await?;
        if before_a != 200 || before_b != 200 {
            result.skipped += 1;
            continue;
        }
        let path = format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", key.id);
        let revoke = http::request("PATCH", a.address, &path, Some(&admin.token));
        let status = revoker.send_within(&revoke, REQUEST_LIMIT).await?;
        let revoked_at = Instant::now();
        if status != 204 {
            bail!("revoking key {} through A answered {status}, not 204", key.id);
        }
        result
            .on_revoker
            .record(on_a.send_within(&use_on_a, REQUEST_LIMIT).await?);
        let mut refused = None;
        for _ in 0..MAX_POLLS_PER_KEY {
            let status = on_b.send_within(&use_on_b, REQUEST_LIMIT).await?;
            if status != 200 {
                refused = Some(status);
                break;
            }
            if revoked_at.elapsed() >= PROPAGATION_LIMIT {
                break;
            }
        }
        let waited = revoked_at.elapsed();
        match refused {
            Some(status) => result.on_other.record(status),
            None => result.lost += 1,
        }
        result.delays.push(waited);
        if (index + 1).is_multiple_of(250) {
            eprintln!("load:   {} of {} revoked", index + 1, keys.len());
        }
    }
    result.notices = metric(client, b.metrics, "keyward_revocation_notices_total").await? - notices_before;
    result.reconnects =
        metric(client, b.metrics, "keyward_revocation_listener_reconnects_total").await? - reconnects_before;
    Ok(result)
}

/// Uses every key once on every server, `WARM_LANES` at a time per server, so each instance
/// holds every proof.
async fn warm_keys(servers: &[SocketAddr], keys: &[BenchKey]) -> anyhow::Result<Tally> {
    let mut tasks = JoinSet::new();
    for &server in servers {
        for lane in 0..WARM_LANES {
            let tokens: Vec<String> = keys
                .iter()
                .skip(lane)
                .step_by(WARM_LANES)
                .map(|key| key.token.clone())
                .collect();
            tasks.spawn(async move {
                let mut tally = Tally::default();
                let mut connection = Connection::open(server, Some(GOOD_FROM)).await?;
                for token in tokens {
                    let request = http::get(server, "/admin/v1/key", Some(&token));
                    // The instance's verification budget answers 429 when the warm-up outruns
                    // it: wait and ask again, as a well-behaved client would.
                    for attempt in 0..=WARM_RETRIES {
                        match connection.send_within(&request, REQUEST_LIMIT).await {
                            Ok(429) if attempt < WARM_RETRIES => tokio::time::sleep(WARM_BACKOFF).await,
                            Ok(status) => {
                                tally.record(status);
                                break;
                            }
                            Err(_) => {
                                tally.errors += 1;
                                connection = Connection::open(server, Some(GOOD_FROM)).await?;
                                break;
                            }
                        }
                    }
                }
                anyhow::Ok(tally)
            });
        }
    }
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.merge(&done??);
    }
    Ok(tally)
}
