//! The `keyward` binary as an operator uses it: bad flags, the automation commands, and the
//! private PostgreSQL cluster it runs when no database URL is given. The `keys` commands are
//! `cli::keys`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use crate::harness::{Server, add_ada_to_acme, database_server, fresh_database, keyward, run_with_stdin};

fn data_dir_args(data_dir: &Path) -> Vec<String> {
    vec!["--data-dir".into(), data_dir.to_string_lossy().into_owned()]
}

#[test]
fn a_bad_flag_stops_startup_with_one_line_and_status_2() {
    let cases: [&[&str]; 5] = [
        &["--listen", "not-an-address"],
        &["--database-url", "mysql://localhost/db"],
        &["--public-url", "ftp://keys.example"],
        &["--frobnicate"],
        &["admin", "add", "--email", "ada@example.com", "--name", "Ada"],
    ];
    for args in cases {
        let output = keyward().args(args).stdin(Stdio::null()).output().expect("run keyward");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {stderr:?}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}");
    }
}

#[tokio::test]
async fn admin_add_creates_the_account_and_org_and_orgs_list_shows_it() {
    let (db_name, pool) = fresh_database().await;
    let url = database_server().url(&db_name);

    let mut add = keyward();
    add.args([
        "admin",
        "add",
        "--email",
        "grace@example.com",
        "--name",
        "Grace Hopper",
        "--org-name",
        "Compilers",
    ])
    .env("DATABASE_URL", &url);
    let output = run_with_stdin(add, "a long enough password\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let org_id = String::from_utf8_lossy(&output.stdout).trim().to_owned();

    let list = keyward()
        .args(["orgs", "list"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("orgs list");
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout), format!("{org_id}\tCompilers\n"));

    let (hash, managed_by): (String, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT password_hash, managed_by_org FROM users WHERE email = 'grace@example.com'")
            .fetch_one(&pool)
            .await
            .expect("the account");
    assert!(hash.starts_with("$argon2id$"));
    assert_eq!(
        managed_by, None,
        "managed by the org that verified example.com, and none has: not by the org it joined"
    );

    // A short password, an unknown org and a bad email are refused and write nothing.
    let mut short = keyward();
    short
        .args([
            "admin",
            "add",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--org",
            &org_id,
        ])
        .env("DATABASE_URL", &url);
    assert_eq!(run_with_stdin(short, "short\n").status.code(), Some(2));
    let mut unknown = keyward();
    unknown
        .args([
            "admin",
            "add",
            "--email",
            "y@example.com",
            "--name",
            "Y",
            "--org",
            &uuid::Uuid::new_v4().to_string(),
        ])
        .env("DATABASE_URL", &url);
    assert_eq!(
        run_with_stdin(unknown, "a long enough password\n").status.code(),
        Some(2)
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(users, 1);
}

/// Processes whose command line mentions `path` (the cluster's postgres processes do).
fn processes_using(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(&needle) && entry.file_name() != std::process::id().to_string().as_str() {
                found.push(cmdline);
            }
        }
    }
    found
}

#[tokio::test]
async fn without_a_database_url_keyward_runs_its_own_cluster_and_stops_it() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let data_dir = home.path().join("keyward-data");

    let mut server = Server::start(data_dir_args(&data_dir), &[]);
    server.wait_for("/setup?token=");
    let address = server.address();
    let health = reqwest::get(format!("{address}/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);

    // The cluster listens on a Unix socket inside the data directory, and on no TCP port.
    let socket = data_dir.join("run");
    let options = sqlx::postgres::PgConnectOptions::new()
        .socket(&socket)
        .username("postgres")
        .database("keyward");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
        .await
        .expect("connect over the socket");
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(&mut conn)
        .await
        .expect("show");
    assert_eq!(listen, "");
    sqlx::Connection::close(conn).await.expect("close");

    // CLI commands work beside the running server, on its cluster.
    let mut add = keyward();
    add.arg("--data-dir").arg(&data_dir);
    let added = add_ada_to_acme(add);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let list = keyward()
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["orgs", "list"])
        .output()
        .expect("list");
    assert!(String::from_utf8_lossy(&list.stdout).contains("\tAcme"));
    assert_eq!(
        reqwest::get(format!("{address}/healthz"))
            .await
            .expect("healthz")
            .status(),
        200,
        "the guest left the cluster running"
    );

    server.stop();
    assert_eq!(
        processes_using(&data_dir),
        Vec::<String>::new(),
        "no postgres process outlives keyward"
    );

    // The next start reuses the data: the admin exists, so no setup link.
    let mut again = Server::start(data_dir_args(&data_dir), &[]);
    let address = again.address();
    assert!(!again.seen.iter().any(|l| l.contains("setup?token=")));
    assert_eq!(
        reqwest::get(format!("{address}/healthz"))
            .await
            .expect("healthz")
            .status(),
        200
    );
    let list = keyward()
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["orgs", "list"])
        .output()
        .expect("list");
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("\tAcme"),
        "the data survived the restart"
    );
    again.stop();
    assert_eq!(processes_using(&data_dir), Vec::<String>::new());
}

#[test]
fn a_data_directory_postgres_cannot_reach_is_a_clear_configuration_error() {
    if !is_root() {
        eprintln!("skipped: only root runs the cluster as another user");
        return;
    }
    let private = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let output = keyward()
        .arg("--data-dir")
        .arg(private.path().join("data"))
        .args(["orgs", "list"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&private.path().to_string_lossy().into_owned()),
        "names the directory: {stderr}"
    );
    assert_eq!(processes_using(private.path()), Vec::<String>::new());
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn each_command_lists_only_the_flags_it_uses() {
    let help = |args: &[&str]| {
        let output = keyward().args(args).stdin(Stdio::null()).output().expect("run keyward");
        assert!(output.status.success(), "{args:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    for command in [
        &["keys", "--help"][..],
        &["keys", "create", "--help"],
        &["admin", "--help"],
        &["orgs", "--help"],
        &["migrate", "--help"],
    ] {
        let text = help(command);
        for serve_only in ["--listen", "--metrics-listen", "--trusted-proxies", "--public-url"] {
            assert!(!text.contains(serve_only), "{command:?} lists {serve_only}:\n{text}");
        }
        assert!(text.contains("--database-url"), "{command:?}:\n{text}");
        assert!(text.contains("--migrate-database-url"), "{command:?}:\n{text}");
    }
    for command in [&["serve", "--help"][..], &["--help"]] {
        let text = help(command);
        assert!(text.contains("--listen"), "{command:?}:\n{text}");
        assert!(text.contains("--database-url"), "{command:?}:\n{text}");
    }
}

#[test]
fn scopes_explains_what_each_scope_unlocks_without_a_database() {
    let empty = tempfile::tempdir().expect("temporary directory");
    let output = keyward()
        .args([
            "--data-dir",
            &empty.path().join("unused").display().to_string(),
            "scopes",
        ])
        .output()
        .expect("run keyward scopes");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let section = |scope: &str| -> String {
        let start = text
            .find(&format!("{scope}  ("))
            .unwrap_or_else(|| panic!("{scope} missing:\n{text}"));
        let rest = &text[start..];
        let body = rest.split_once('\n').map(|(_, body)| body).unwrap_or_default();
        let lines: Vec<&str> = body.lines().take_while(|l| l.starts_with("    ")).collect();
        lines.join("\n")
    };
    assert!(
        section("read:orgs:admin").contains("GET    /admin/v1/orgs/{orgId}"),
        "{text}"
    );
    assert!(
        section("delete:keys:admin").contains("PATCH  /admin/api-access/v1/orgs/{orgId}/api-keys/revoke/{apiKeyId}"),
        "{text}"
    );
    assert!(!section("read:orgs:admin").contains("api-keys"), "{text}");
    assert!(!empty.path().join("unused").exists(), "no database was started");
}
