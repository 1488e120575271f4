//! The per-key rate limit: every answer to a proven key carries its budget in
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; past the limit the key
//! is answered 429 with `Retry-After` until its budget comes back; keys never share a budget;
//! refusals before a key is proven carry no budget; a bad `--api-rate-limit` stops keyward.

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use keyward::domain::Scope;
use reqwest::Method;
use serde_json::json;

use crate::harness::{Answer, Options, TestApp, error_body, keyward};

const RATE_LIMITED: &str = "keyward_api_rate_limited_total";

async fn with_limit(per_minute: u32) -> TestApp {
    TestApp::spawn_with(Options {
        api_rate_limit: Some(per_minute),
        ..Default::default()
    })
    .await
}

fn org_path(org: uuid::Uuid) -> String {
    format!("/admin/v1/orgs/{org}")
}

fn keys_path(org: uuid::Uuid) -> String {
    format!("/admin/api-access/v1/orgs/{org}/api-keys")
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.headers().get(name).and_then(|value| value.to_str().ok())
}

/// The answer's budget: (limit, remaining, reset). Fails the test unless all three are there
/// and sane: the reset an RFC 3339 UTC time after now and at most a minute (the whole bucket)
/// and a second (rounding) ahead.
fn budget(answer: &Answer, what: &str) -> (u32, u32, DateTime<Utc>) {
    let number = |name| {
        header(answer, name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .parse::<u32>()
            .unwrap_or_else(|e| panic!("{what}: {name} is not a count ({e})"))
    };
    let (limit, remaining) = (number("x-ratelimit-limit"), number("x-ratelimit-remaining"));
    let reset = header(answer, "x-ratelimit-reset").unwrap_or_else(|| panic!("{what}: no X-RateLimit-Reset"));
    assert!(reset.ends_with('Z'), "{what}: the reset is in UTC: {reset}");
    let reset = DateTime::parse_from_rfc3339(reset)
        .unwrap_or_else(|e| panic!("{what}: the reset {reset} is not RFC 3339 ({e})"))
        .with_timezone(&Utc);
    let now = Utc::now();
    assert!(
        reset > now - chrono::Duration::seconds(1) && reset <= now + chrono::Duration::seconds(62),
        "{what}: reset {reset} at {now}"
    );
    assert!(remaining < limit, "{what}: {remaining} of {limit} after a request");
    (limit, remaining, reset)
}

fn no_budget(answer: &Answer, what: &str) {
    for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
        assert!(answer.headers().get(name).is_none(), "{what} carries {name}");
    }
}

#[tokio::test]
async fn every_answer_to_a_proven_key_carries_its_budget() {
    // Six a minute: one request's worth comes back every 10 s, so the counts below only fall.
    let app = with_limit(6).await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let key = app.key(org, None).await;
    let scoped = app.key(org, Some(&[Scope::ReadOrgs])).await;

    let found = app.api(Method::GET, &org_path(org), &key.token).await;
    assert_eq!(found.status(), 200);
    let foreign = app.api(Method::GET, &org_path(other), &key.token).await;
    assert_eq!(foreign.status(), 404);
    let keys_before = app.count("api_keys").await;
    let bad = app
        .call(Method::POST, &keys_path(org), &key.token, Some(&json!({ "label": 5 })))
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(app.count("api_keys").await, keys_before, "nothing written");
    let created = app
        .call(
            Method::POST,
            &keys_path(org),
            &key.token,
            Some(&json!({ "label": "nightly" })),
        )
        .await;
    assert_eq!(created.status(), 201);
    let missing_scope = app.api(Method::GET, &keys_path(org), &scoped.token).await;
    assert_eq!(missing_scope.status(), 403);

    let answers = [
        (&found, "200"),
        (&foreign, "404 of another org"),
        (&bad, "400 bad input"),
        (&created, "201 create"),
    ];
    let budgets: Vec<_> = answers.iter().map(|(answer, what)| budget(answer, what)).collect();
    assert!(budgets.iter().all(|(limit, _, _)| *limit == 6), "{budgets:?}");
    let remaining: Vec<u32> = budgets.iter().map(|(_, remaining, _)| *remaining).collect();
    assert_eq!(remaining, [5, 4, 3, 2], "each request of the key spends one");
    assert!(
        budgets.windows(2).all(|pair| pair[0].2 <= pair[1].2),
        "the more is spent, the later the budget is whole again: {budgets:?}"
    );
    let (limit, remaining, _) = budget(&missing_scope, "403 missing scope");
    assert_eq!((limit, remaining), (6, 5), "the scoped key has its own budget");
}

#[tokio::test]
async fn past_its_limit_a_key_is_answered_429_until_its_budget_comes_back() {
    // Sixty a minute: one request's worth back every second.
    let app = with_limit(60).await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let path = org_path(org);

    let mut admitted = 0;
    let refused = loop {
        let answer = app.api(Method::GET, &path, &key.token).await;
        if answer.status() == 429 {
            break answer;
        }
        assert_eq!(answer.status(), 200);
        admitted += 1;
        assert!(admitted < 1_000, "never limited");
    };
    assert!(admitted >= 60, "a whole minute's worth may come at once: {admitted}");

    let (limit, remaining, _) = budget(&refused, "429");
    assert_eq!((limit, remaining), (60, 0));
    let retry_after: u64 = header(&refused, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds");
    assert!(
        (1..=2).contains(&retry_after),
        "one request's worth takes a second: {retry_after}"
    );
    let body = error_body(refused).await;
    assert_eq!(body["errors"][0]["code"], "ADMIN-429-1");
    assert_eq!(body["errors"][0]["status"], "429");
    assert!(app.metric(RATE_LIMITED).await >= 1.0);

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let again = app.api(Method::GET, &path, &key.token).await;
    assert_eq!(again.status(), 200, "served again after Retry-After");
    budget(&again, "200 after waiting");
}

#[tokio::test]
async fn a_key_under_its_limit_is_not_affected_by_another_key_over_it() {
    let app = with_limit(60).await;
    let org = app.org("Acme").await;
    let other_org = app.org("Globex").await;
    let busy = app.key(org, None).await;
    let same_org = app.key(org, None).await;
    let other = app.key(other_org, None).await;

    let mut over = false;
    for _ in 0..1_000 {
        if app.api(Method::GET, &org_path(org), &busy.token).await.status() == 429 {
            over = true;
            break;
        }
    }
    assert!(over, "the busy key reached its limit");

    for (key, org, what) in [(&same_org, org, "same org"), (&other, other_org, "another org")] {
        let answer = app.api(Method::GET, &org_path(org), &key.token).await;
        assert_eq!(answer.status(), 200, "{what}");
        let (limit, remaining, _) = budget(&answer, what);
        assert_eq!((limit, remaining), (60, 59), "{what}: a budget of its own, untouched");
    }
    assert_eq!(
        app.api(Method::GET, &org_path(org), &busy.token).await.status(),
        429,
        "the busy key is still over"
    );
}

#[tokio::test]
async fn refusals_before_a_key_is_proven_carry_no_budget() {
    let app = with_limit(60).await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let path = org_path(org);
    let revoked = app.key(org, None).await;
    assert_eq!(app.api(Method::GET, &path, &revoked.token).await.status(), 200);
    let revoke = format!("{}/revoke/{}", keys_path(org), revoked.id);
    assert_eq!(app.api(Method::PATCH, &revoke, &key.token).await.status(), 204);

    // A key this instance has not proven yet: a wrong secret for a cached key is refused from
    // its cache entry and counts as no failure.
    let unproven = app.key(org, None).await;
    let body = format!("kw_{}_{}", unproven.public_id(), "Z".repeat(32));
    let wrong_secret = format!("{body}{}", keyward::domain::token::checksum(&body));
    for (token, what) in [
        ("", "no key"),
        ("kw_not_a_key", "a malformed key"),
        (wrong_secret.as_str(), "a wrong secret"),
        (revoked.token.as_str(), "a revoked key"),
    ] {
        let answer = app.api(Method::GET, &path, token).await;
        assert_eq!(answer.status(), 401, "{what}");
        no_budget(&answer, what);
    }

    // The failure limiter's 429 (ten wrong secrets a minute for one key from one address) is
    // decided before any key is proven.
    let mut attempts = 0;
    let throttled = loop {
        attempts += 1;
        assert!(attempts <= 30, "the failure limiter never answered 429");
        let answer = app.api(Method::GET, &path, &wrong_secret).await;
        if answer.status() == 429 {
            break answer;
        }
        assert_eq!(answer.status(), 401);
    };
    assert!(header(&throttled, "retry-after").is_some());
    no_budget(&throttled, "the failure limiter's 429");
    assert_eq!(app.metric(RATE_LIMITED).await, 0.0, "no key was over its rate limit");
}

#[test]
fn a_bad_api_rate_limit_stops_keyward_with_one_line_and_status_2() {
    for value in ["0", "-5", "many", "", "6000.5", "99999999999"] {
        let output = keyward()
            .arg(format!("--api-rate-limit={value}"))
            .stdin(Stdio::null())
            .output()
            .expect("run keyward");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{value:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{value:?}: one line, got {stderr:?}"
        );
        assert!(
            stderr.contains("--api-rate-limit"),
            "{value:?}: names the flag: {stderr}"
        );
    }
    // The environment's value is read the same way (`scopes` needs no database).
    let output = keyward()
        .arg("scopes")
        .env("KEYWARD_API_RATE_LIMIT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run keyward");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr:?}");
}
