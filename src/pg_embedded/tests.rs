//! The private cluster end to end: start, attach, take over, stop, and nothing left behind.

use std::env;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

use super::cluster_user::ClusterUser;
use super::data_dir::socket_dir_for;
use super::*;

fn cluster_user() -> ClusterUser {
    ClusterUser::current().expect("a user to run PostgreSQL as")
}

/// A temporary directory the cluster's user can enter (tempdirs are created 0700).
fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("keyward-pg-test-")
        .tempdir_in(env::temp_dir())
        .expect("tempdir");
    cluster_user().take_ownership(dir.path()).expect("chown tempdir");
    dir
}

/// Pids (other than ours) whose command line mentions `path`.
fn processes_mentioning(path: &Path) -> Vec<u32> {
    let needle = path.to_string_lossy().into_owned();
    let me = std::process::id();
    fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " ").contains(&needle))
        })
        .collect()
}

/// Pids still mentioning `path` after up to 5 s: the postmaster removes its pid file (which
/// `pg_ctl stop -w` waits for) a moment before it exits.
fn processes_left(path: &Path) -> Vec<u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_mentioning(path);
        if left.is_empty() || std::time::Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn dead_pid() -> u32 {
    (1000..32_000)
        .rev()
        .find(|pid| !Path::new("/proc").join(pid.to_string()).exists())
        .expect("a free pid")
}

async fn query_one(cluster: &PrivateCluster, database: &str, sql: &'static str) -> i64 {
    let mut conn = PgConnection::connect_with(&cluster.connect_options(database))
        .await
        .expect("connect");
    let value: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect("query");
    conn.close().await.expect("close");
    value
}

#[tokio::test]
async fn temporary_cluster_serves_on_a_socket_only_and_leaves_nothing_behind() {
    let cluster = PrivateCluster::start_temporary().await.expect("start");
    let pgdata = cluster.layout.pgdata.clone();
    let dir = cluster.layout.data_dir.clone();

    let mut conn = PgConnection::connect_with(&cluster.connect_options("postgres"))
        .await
        .expect("connect");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("select");
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(&mut conn)
        .await
        .expect("show");
    conn.close().await.expect("close");
    assert_eq!(one, 1);
    assert_eq!(listen, "", "no TCP listener");
    assert_eq!(cluster.role(), ClusterRole::Owner);
    assert!(cluster.socket_dir().join(".s.PGSQL.5432").exists());
    assert!(!processes_mentioning(&pgdata).is_empty());

    cluster.stop().await.expect("stop");

    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
    assert!(!dir.exists(), "temporary directory removed");
}

#[tokio::test]
async fn second_process_attaches_as_guest_and_data_survives_restart() {
    let tmp = reachable_tempdir();
    let cfg = ClusterConfig {
        data_dir: tmp.path().join("data"),
    };

    let owner = PrivateCluster::start_or_attach(&cfg).await.expect("owner");
    assert_eq!(owner.role(), ClusterRole::Owner);
    let pgdata = owner.layout.pgdata.clone();
    let mut conn = PgConnection::connect_with(&owner.connect_options("keyward"))
        .await
        .expect("connect keyward");
    sqlx::raw_sql("CREATE TABLE survivor (id int); INSERT INTO survivor VALUES (7)")
        .execute(&mut conn)
        .await
        .expect("create table");
    conn.close().await.expect("close");

    let guest = PrivateCluster::start_or_attach(&cfg).await.expect("guest");
    assert_eq!(guest.role(), ClusterRole::Guest);
    assert_eq!(guest.socket_dir(), owner.socket_dir());
    assert_eq!(query_one(&guest, "keyward", "SELECT count(*) FROM survivor").await, 1);
    assert_eq!(query_one(&owner, "keyward", "SELECT count(*) FROM survivor").await, 1);

    guest.stop().await.expect("guest stop");
    assert_eq!(query_one(&owner, "keyward", "SELECT 1::int8").await, 1);

    owner.stop().await.expect("owner stop");
    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
    assert!(!cfg.data_dir.join("cluster.owner").exists());

    let again = PrivateCluster::start_or_attach(&cfg).await.expect("restart");
    assert_eq!(again.role(), ClusterRole::Owner);
    assert_eq!(query_one(&again, "keyward", "SELECT sum(id) FROM survivor").await, 7);
    again.stop().await.expect("stop again");
    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
}

#[tokio::test]
async fn stale_postmaster_pid_does_not_prevent_a_start() {
    let tmp = reachable_tempdir();
    let cfg = ClusterConfig {
        data_dir: tmp.path().join("data"),
    };
    let first = PrivateCluster::start_or_attach(&cfg).await.expect("first");
    let pgdata = first.layout.pgdata.clone();
    let socket_dir = first.socket_dir().to_path_buf();
    first.stop().await.expect("stop");

    fs::write(
        pgdata.join("postmaster.pid"),
        format!(
            "{}\n{}\n1700000000\n5432\n{}\n\n  5432001         0\nready   \n",
            dead_pid(),
            pgdata.display(),
            socket_dir.display()
        ),
    )
    .expect("write stale pid file");

    let second = PrivateCluster::start_or_attach(&cfg).await.expect("second");
    assert_eq!(second.role(), ClusterRole::Owner);
    assert_eq!(query_one(&second, "keyward", "SELECT 1::int8").await, 1);
    second.stop().await.expect("stop");
    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
}

#[tokio::test]
async fn cluster_whose_owner_died_is_taken_over() {
    let tmp = reachable_tempdir();
    let cfg = ClusterConfig {
        data_dir: tmp.path().join("data"),
    };
    let crashed = PrivateCluster::start_or_attach(&cfg).await.expect("first");
    let pgdata = crashed.layout.pgdata.clone();
    fs::write(cfg.data_dir.join("cluster.owner"), format!("{} 1\n", dead_pid())).expect("fake a dead owner");

    let heir = PrivateCluster::start_or_attach(&cfg).await.expect("heir");
    assert_eq!(heir.role(), ClusterRole::Owner);
    assert_eq!(query_one(&heir, "keyward", "SELECT 1::int8").await, 1);
    heir.stop().await.expect("heir stop");
    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());

    // The first owner finds it already stopped, which is fine.
    crashed.stop().await.expect("first stop");
}

#[tokio::test]
async fn long_data_dir_serves_from_a_short_socket_dir() {
    let tmp = reachable_tempdir();
    let long_name = "d".repeat(80);
    let cfg = ClusterConfig {
        data_dir: tmp.path().join(&long_name),
    };
    let canonical_tmp = fs::canonicalize(tmp.path()).expect("canonical");
    let expected_socket_dir = socket_dir_for(&canonical_tmp.join(&long_name));
    let _remove_socket_dir = RemoveOnDrop(expected_socket_dir.clone());
    assert!(expected_socket_dir.to_string_lossy().starts_with("/tmp/keyward-"));

    let owner = PrivateCluster::start_or_attach(&cfg).await.expect("start");
    assert_eq!(owner.socket_dir(), expected_socket_dir);
    let pgdata = owner.layout.pgdata.clone();
    let guest = PrivateCluster::start_or_attach(&cfg).await.expect("attach");
    assert_eq!(guest.socket_dir(), expected_socket_dir);
    assert_eq!(query_one(&guest, "keyward", "SELECT 1::int8").await, 1);
    guest.stop().await.expect("guest stop");
    owner.stop().await.expect("stop");

    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
}

/// The shared socket directory lives outside the test's tempdir.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn dropping_an_owner_stops_its_cluster() {
    let tmp = reachable_tempdir();
    let cfg = ClusterConfig {
        data_dir: tmp.path().join("data"),
    };
    let owner = PrivateCluster::start_or_attach(&cfg).await.expect("start");
    let pgdata = owner.layout.pgdata.clone();
    drop(owner);
    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
    assert!(!cfg.data_dir.join("cluster.owner").exists());
}

#[tokio::test]
async fn untraversable_parent_is_a_configuration_error_naming_it() {
    if !cluster_user().switch {
        return; // Only root switches users; our own directories are always ours to enter.
    }
    let private = tempfile::Builder::new()
        .prefix("keyward-pg-private-")
        .tempdir_in(env::temp_dir())
        .expect("tempdir");
    fs::set_permissions(private.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    let cfg = ClusterConfig {
        data_dir: private.path().join("data"),
    };

    let err = PrivateCluster::start_or_attach(&cfg).await.expect_err("must refuse");

    assert!(err.is_configuration(), "{err}");
    let private_dir = fs::canonicalize(private.path()).expect("canonical");
    let message = err.to_string();
    assert!(message.contains(&*private_dir.to_string_lossy()), "{message}");
    assert!(message.contains("(mode 0700)"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

const WATCHDOG_CHILD: &str = "KEYWARD_PG_WATCHDOG_CHILD";

/// Run by `watchdog_stops_the_cluster_of_a_killed_process` in a child test process.
#[tokio::test]
#[ignore = "helper: runs only as the child of the watchdog test"]
async fn watchdog_child_holds_a_cluster() {
    if env::var_os(WATCHDOG_CHILD).is_none() {
        return;
    }
    let cluster = PrivateCluster::start_temporary().await.expect("start");
    println!("PGDATA={}", cluster.layout.pgdata.display());
    // The parent kills us long before this; if it does not, clean up normally.
    tokio::time::sleep(Duration::from_secs(120)).await;
    cluster.stop().await.expect("stop");
}

#[test]
fn watchdog_stops_the_cluster_of_a_killed_process() {
    let mut child = Command::new(env::current_exe().expect("test binary"))
        .args([
            "pg_embedded::tests::watchdog_child_holds_a_cluster",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(WATCHDOG_CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child test");
    let stdout = child.stdout.take().expect("stdout");
    let pgdata = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("PGDATA=").map(PathBuf::from));
    child.kill().expect("kill");
    child.wait().expect("wait");
    let pgdata = pgdata.expect("child reported its cluster");
    let dir = pgdata.parent().expect("temporary dir").to_path_buf();

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (!processes_mentioning(&pgdata).is_empty() || dir.exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(processes_left(&pgdata), Vec::<u32>::new());
    assert!(!dir.exists(), "watchdog removed {}", dir.display());
}

/// Every object of schema public in the cluster's application database and its owner.
async fn owners(cluster: &PrivateCluster) -> Vec<(String, String)> {
    let mut conn = PgConnection::connect_with(&cluster.connect_options("keyward"))
        .await
        .expect("connect");
    let owners = sqlx::query_as(
        "SELECT c.relname::text, pg_get_userbyid(c.relowner)::text FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
         UNION ALL SELECT p.proname::text, pg_get_userbyid(p.proowner)::text FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace
         UNION ALL SELECT t.typname::text, pg_get_userbyid(t.typowner)::text FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace
         UNION ALL SELECT 'database', pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = 'keyward'
         UNION ALL SELECT 'schema', pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("owners");
    conn.close().await.expect("close");
    owners
}

#[tokio::test]
async fn the_serving_login_owns_nothing_and_an_older_data_dir_is_handed_to_the_owner() {
    let tmp = reachable_tempdir();
    let cfg = ClusterConfig {
        data_dir: tmp.path().join("data"),
    };
    let cluster = PrivateCluster::start_or_attach(&cfg).await.expect("start");
    let owner = sqlx::PgPool::connect_with(cluster.owner_options())
        .await
        .expect("owner");
    crate::store::migrate(&owner).await.expect("migrate as the owner");
    owner.close().await;

    let mut serving = PgConnection::connect_with(&cluster.serving_options())
        .await
        .expect("serving login");
    let (user, superuser, owned, delete): (String, bool, i64, bool) = sqlx::query_as(
        "SELECT current_user::text, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                (SELECT count(*) FROM pg_class c WHERE pg_has_role(current_user, c.relowner, 'USAGE')
                   AND c.relnamespace = 'public'::regnamespace),
                has_table_privilege('api_keys', 'DELETE')",
    )
    .fetch_one(&mut serving)
    .await
    .expect("serving role");
    serving.close().await.expect("close");
    assert_eq!(user, "keyward");
    assert!(!superuser, "the serving login is no superuser");
    assert_eq!(owned, 0, "the serving login owns no table");
    assert!(!delete, "nor may it delete keys");
    assert!(owners(&cluster).await.iter().all(|(_, owner)| owner == "keyward_owner"));

    // What an earlier keyward left: everything owned by initdb's superuser.
    let mut superuser = PgConnection::connect_with(&cluster.connect_options("keyward"))
        .await
        .expect("superuser");
    sqlx::raw_sql(
        "ALTER DATABASE keyward OWNER TO postgres; ALTER SCHEMA public OWNER TO postgres;
         ALTER TABLE api_keys OWNER TO postgres; ALTER TABLE _sqlx_migrations OWNER TO postgres;
         ALTER TYPE actor_kind OWNER TO postgres; ALTER FUNCTION api_keys_guard_update() OWNER TO postgres;
         CREATE TABLE legacy (id int)",
    )
    .execute(&mut superuser)
    .await
    .expect("make it look old");
    superuser.close().await.expect("close");
    cluster.stop().await.expect("stop");

    let again = PrivateCluster::start_or_attach(&cfg).await.expect("restart");
    let not_the_owners: Vec<_> = owners(&again)
        .await
        .into_iter()
        .filter(|(_, owner)| owner != "keyward_owner")
        .collect();
    assert_eq!(not_the_owners, Vec::<(String, String)>::new());
    let owner = sqlx::PgPool::connect_with(again.owner_options()).await.expect("owner");
    crate::store::migrate(&owner)
        .await
        .expect("migrations still run as the owner");
    owner.close().await;
    again.stop().await.expect("stop again");
}
