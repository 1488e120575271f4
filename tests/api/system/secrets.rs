//! A key's value is shown once, on creation, and is reachable nowhere else: no log line (at
//! TRACE, sqlx statements included), no database column, no other response.

use reqwest::Method;

use crate::harness::{TestApp, database_server, keyward, logs};

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(input: &[u8]) -> String {
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Every form the value could leak in: whole, its secret part alone, and URL- or base64-encoded.
fn leaked_forms(token: &str) -> Vec<String> {
    let secret = token.rsplit('_').next().expect("secret part");
    let secret = &secret[..secret.len() - 6];
    let mut forms = vec![token.to_owned(), secret.to_owned()];
    for value in [token, secret] {
        forms.push(value.replace('_', "%5F"));
        let encoded = base64(value.as_bytes());
        forms.push(encoded.clone());
        forms.push(encoded.replace('+', "-").replace('/', "_"));
        // Base64 of a value that is not aligned to 3 bytes in a larger string still carries
        // the aligned middle part.
        forms.push(base64(&value.as_bytes()[1..]));
        forms.push(base64(&value.as_bytes()[2..]));
    }
    forms
}

fn assert_absent(haystack: &str, token: &str, place: &str) {
    for form in leaked_forms(token) {
        assert!(!haystack.contains(&form), "the key value ({form}) appears in {place}");
    }
}

#[tokio::test]
async fn the_key_value_is_in_the_create_output_and_nowhere_else() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let url = database_server().url(&app.db_name);

    let created = keyward()
        .args([
            "keys",
            "create",
            "--org",
            &org.to_string(),
            "--name",
            "deploy",
            "--unscoped",
        ])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "trace")
        .output()
        .expect("keys create");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8(created.stdout).expect("utf-8");
    let token = stdout.trim_end_matches('\n').to_owned();
    assert!(
        token.starts_with("kw_") && !token.contains(char::is_whitespace),
        "stdout is the value alone: {stdout:?}"
    );
    assert_absent(&String::from_utf8_lossy(&created.stderr), &token, "the CLI's own log");

    // Use it every way there is, right and wrong.
    let other = app.key(org, None).await;
    let mut responses = String::new();
    for (method, path) in [
        (Method::GET, "/admin/v1/key".to_owned()),
        (Method::GET, "/admin/v1/orgs".to_owned()),
        (Method::GET, format!("/admin/api-access/v1/orgs/{org}/api-keys")),
        (
            Method::PATCH,
            format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", other.id),
        ),
        (Method::GET, "/admin/v1/nothing-here".to_owned()),
    ] {
        let res = app.api(method, &path, &token).await;
        responses.push_str(&format!("{:?}\n", res.headers()));
        responses.push_str(&res.text().await.expect("body"));
    }
    let mut wrong = token.clone();
    wrong.pop();
    wrong.push('0');
    let res = app.api(Method::GET, "/admin/v1/key", &wrong).await;
    responses.push_str(&res.text().await.expect("body"));
    assert!(responses.contains("deploy"), "the responses describe the key");
    assert_absent(&responses, &token, "an API response");

    // Last use is written in the background; give it a moment before reading everything back.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_absent(&logs(), &token, "a log line");

    let dump = pg_dump(&app.db_name);
    assert!(dump.contains("api_keys"), "the dump has the keys table");
    assert!(
        dump.contains("$argon2id$v=19$m=19456,t=2,p=1$"),
        "only argon2id hashes are stored"
    );
    assert_absent(&dump, &token, "the database");
}

/// A full plain-text dump of the test database, as a thief with a backup would have it.
fn pg_dump(database: &str) -> String {
    let options = database_server().options(database);
    let program = ["/usr/bin/pg_dump", "/usr/lib/postgresql/15/bin/pg_dump"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("pg_dump");
    let mut command = std::process::Command::new(program);
    let host = match options.get_socket() {
        Some(socket) => socket.to_string_lossy().into_owned(),
        None => options.get_host().to_owned(),
    };
    command.args([
        "--no-owner",
        "-h",
        &host,
        "-p",
        &options.get_port().to_string(),
        "-U",
        options.get_username(),
        database,
    ]);
    let output = command.output().expect("pg_dump runs");
    assert!(
        output.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
