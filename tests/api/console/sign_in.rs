//! Signing in and out of the console, over HTTP: the session cookie and its lifetime, the
//! sign-in throttle, CSRF on every state change, where a browser lands, the organization
//! selection, org pages of other orgs, and the language.

use std::time::{Duration, Instant};

use reqwest::header::SET_COOKIE;
use sha2::{Digest, Sha256};

use crate::harness::console::{Console, PASSWORD, person, sign_in_token};
use crate::harness::html;
use crate::harness::{Options, Page, TestApp, behind_proxy, hidden_input, location};

const SESSION: &str = "kw_session";

/// The response's Set-Cookie for `name`.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<actix_web::cookie::Cookie<'static>> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| actix_web::cookie::Cookie::parse(v.to_owned()).ok())
        .find(|c| c.name() == name)
}

/// The message the sign-in page shows as its alert.
fn alert(html: &str) -> String {
    Page::parse(html)
        .text(r#"[role="alert"]"#)
        .expect("an alert on the page")
}

async fn session_count(app: &TestApp) -> i64 {
    app.count("sessions").await
}

/// Where a browser without a live session is sent from `/orgs`.
const TO_SIGN_IN: &str = "/login?next=%2Forgs";

async fn is_signed_in(console: &Console) -> bool {
    let res = console.get("/orgs").await;
    match res.status().as_u16() {
        200 => true,
        303 => {
            assert_eq!(location(&res), TO_SIGN_IN);
            false
        }
        other => panic!("GET /orgs answered {other}"),
    }
}

// The session cookie.

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_and_ends_with_the_browser() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::new(&app);
    let res = console.sign_in("ada@example.com", PASSWORD, "").await;
    assert_eq!(res.status(), 303);
    let cookie = set_cookie(&res, SESSION).expect("a session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);
    assert_eq!(cookie.max_age(), None, "the server decides when a session ends");
    assert_eq!(cookie.expires(), None);
    assert_eq!(
        cookie.secure(),
        None,
        "plain http: a Secure cookie would never come back"
    );
    assert!(cookie.value().len() >= 32, "a long random id");
}

#[tokio::test]
async fn over_https_the_cookies_are_host_prefixed_and_secure() {
    let app = TestApp::spawn_with(Options {
        public_url: Some("https://keys.example.com".parse().expect("url")),
        ..Default::default()
    })
    .await;
    person(&app, "ada@example.com").await;
    // Secure cookies never come back over the test's plain http: carried by hand.
    let client = crate::harness::browser();
    let form = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("sign-in page");
    let presession = set_cookie(&form, "__Host-kw_presession").expect("a __Host- pre-session cookie");
    assert_eq!(presession.secure(), Some(true));
    assert_eq!(presession.http_only(), Some(true));
    assert_eq!(presession.path(), Some("/"));
    assert_eq!(presession.domain(), None);
    let csrf = sign_in_token(&form.text().await.expect("body"));

    let res = client
        .post(format!("{}/login", app.address))
        .header("Cookie", format!("__Host-kw_presession={}", presession.value()))
        .form(&[("csrf", &*csrf), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 303);
    assert!(set_cookie(&res, SESSION).is_none(), "only the __Host- name");
    let cookie = set_cookie(&res, "__Host-kw_session").expect("a __Host- session cookie");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);

    let page = client
        .get(format!("{}/orgs", app.address))
        .header("Cookie", format!("__Host-kw_session={}", cookie.value()))
        .send()
        .await
        .expect("orgs");
    assert_eq!(page.status(), 200, "the __Host- cookie is the session");
}

#[tokio::test]
async fn only_a_hash_of_the_session_id_is_stored() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let id = console.cookie(SESSION).expect("session cookie");

    let stored: Vec<u8> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("one session");
    assert_eq!(stored, Sha256::digest(id.as_bytes()).to_vec());
    assert_ne!(stored, id.as_bytes());
    let rows = app.snapshot("sessions").await.join("\n");
    assert!(!rows.contains(&id), "the id itself is nowhere in the table");
    assert!(!crate::harness::logs().contains(&id), "nor in the log");
}

#[tokio::test]
async fn signing_in_gives_a_new_id_and_ends_the_browsers_old_session() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    // An id planted before sign-in (session fixation) is never the session.
    let planted = "a".repeat(64);
    let console = Console::with_cookie(&app, SESSION, &planted);
    let csrf = console.sign_in_form("").await;
    let form = [("csrf", &*csrf), ("email", "ada@example.com"), ("password", PASSWORD)];
    let res = console.post("/login", &form).await;
    assert_eq!(res.status(), 303);
    let first = console.cookie(SESSION).expect("session cookie");
    assert_ne!(first, planted);
    assert!(!is_signed_in(&Console::with_cookie(&app, SESSION, &planted)).await);

    // Signing in again in the same browser (its sign-in form still in hand).
    let res = console.post("/login", &form).await;
    assert_eq!(res.status(), 303);
    let second = console.cookie(SESSION).expect("session cookie");
    assert_ne!(first, second, "a new id at every sign-in");
    assert!(is_signed_in(&console).await);
    assert!(
        !is_signed_in(&Console::with_cookie(&app, SESSION, &first)).await,
        "the old id is dead"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(ada)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(sessions, 1);
}

#[tokio::test]
async fn signing_out_destroys_the_session_and_its_cookie_no_longer_works() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let id = console.cookie(SESSION).expect("session cookie");
    let csrf = console.csrf().await;

    let res = console.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?ended=signed-out");
    let removal = set_cookie(&res, SESSION).expect("the cookie is removed");
    assert_eq!(removal.value(), "");
    assert_eq!(session_count(&app).await, 0, "the row is gone");
    assert!(!is_signed_in(&console).await);
    assert!(
        !is_signed_in(&Console::with_cookie(&app, SESSION, &id)).await,
        "a kept copy is dead too"
    );
}

#[tokio::test]
async fn get_logout_does_not_sign_out() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let before = app.snapshot("sessions").await;

    let res = console.get("/logout").await;
    assert_eq!(res.status(), 404);
    assert!(set_cookie(&res, SESSION).is_none());
    assert_eq!(app.snapshot("sessions").await, before);
    assert!(is_signed_in(&console).await);
}

#[tokio::test]
async fn sign_out_without_its_token_or_from_another_site_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let csrf = console.csrf().await;
    let other = Console::signed_in(&app, "ada@example.com").await;
    let others_csrf = other.csrf().await;
    let before = app.snapshot("sessions").await;

    let refused = [
        console.post("/logout", &[]).await,
        console.post("/logout", &[("csrf", "00")]).await,
        console.post("/logout", &[("csrf", &others_csrf)]).await,
        console
            .request(reqwest::Method::POST, "/logout")
            .header("Origin", "https://evil.example")
            .form(&[("csrf", &csrf)])
            .send()
            .await
            .expect("request"),
        console
            .request(reqwest::Method::POST, "/logout")
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("csrf", &csrf)])
            .send()
            .await
            .expect("request"),
    ];
    for res in refused {
        assert_eq!(res.status(), 403);
        assert!(set_cookie(&res, SESSION).is_none());
    }
    assert_eq!(app.snapshot("sessions").await, before, "nothing changed");
    assert!(is_signed_in(&console).await);

    // The same form from this site, with its token, signs out.
    let res = console
        .request(reqwest::Method::POST, "/logout")
        .header("Origin", &app.address)
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 303);
    assert!(!is_signed_in(&console).await);
}

// Session lifetime, judged by the server.

/// Ages every session as if its browser had been idle for `minutes`.
async fn idle_for(app: &TestApp, minutes: i32) {
    sqlx::query("UPDATE sessions SET last_seen_at = now() - make_interval(mins => $1)")
        .bind(minutes)
        .execute(&app.pool)
        .await
        .expect("age");
}

#[tokio::test]
async fn a_session_idle_for_more_than_30_minutes_is_over() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;

    idle_for(&app, 29).await;
    assert!(is_signed_in(&console).await, "29 minutes idle is still fine");
    let recent: bool = sqlx::query_scalar("SELECT last_seen_at > now() - interval '1 minute' FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("last seen");
    assert!(recent, "using the session moves its last-seen time on");

    idle_for(&app, 31).await;
    assert!(!is_signed_in(&console).await);
}

#[tokio::test]
async fn the_sign_in_page_says_a_session_ended_only_when_one_did() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let ended = "Your session has ended";

    let stranger = Console::new(&app);
    assert!(
        !stranger.page("/login?next=%2Forgs").await.contains(ended),
        "a first visit"
    );

    let console = Console::signed_in(&app, "ada@example.com").await;
    idle_for(&app, 31).await;
    assert!(
        console.page("/login?next=%2Forgs").await.contains(ended),
        "a session that ran out"
    );
}

#[tokio::test]
async fn an_error_page_keeps_the_signed_in_header_and_the_language_switch() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let missing = "/o/00000000-0000-0000-0000-000000000000/settings/api-keys";

    let stranger = Console::new(&app);
    let res = stranger.get("/no-such-page").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.expect("body");
    assert!(Page::parse(&html).has("#language-switch"), "the switch before sign-in");
    assert!(!Page::parse(&html).has("#sign-out"));

    let console = Console::signed_in(&app, "ada@example.com").await;
    let res = console.get(missing).await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.expect("body");
    assert!(Page::parse(&html).has("#sign-out"), "the signed-in header");
    assert!(Page::parse(&html).has("#language-switch"));

    // Its switch works: the page comes back in Japanese.
    let token = hidden_input(&html, "csrf");
    let res = console
        .post("/language", &[("csrf", &token), ("lang", "ja"), ("back", missing)])
        .await;
    assert_eq!(res.status(), 303);
    let res = console.get(missing).await;
    assert_eq!(res.status(), 404);
    assert_eq!(Page::parse(&res.text().await.expect("body")).lang(), "ja");
}

#[tokio::test]
async fn a_session_ends_12_hours_after_sign_in_however_busy() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let lifetime: bool = sqlx::query_scalar("SELECT expires_at - created_at = interval '12 hours' FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("lifetime");
    assert!(lifetime, "the absolute lifetime is 12 hours");

    sqlx::query(
        "UPDATE sessions SET created_at = now() - interval '12 hours 1 minute',
                             expires_at = now() - interval '1 minute', last_seen_at = now()",
    )
    .execute(&app.pool)
    .await
    .expect("age");
    assert!(
        !is_signed_in(&console).await,
        "active a moment ago, but past its lifetime"
    );
}

#[tokio::test]
async fn a_disabled_users_session_stops_working() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    assert!(is_signed_in(&console).await);

    sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
        .bind(ada)
        .execute(&app.pool)
        .await
        .expect("disable");
    assert!(!is_signed_in(&console).await);
}

// Failed sign-ins.

#[tokio::test]
async fn every_failed_sign_in_gets_the_same_answer() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    person(&app, "ada@example.com").await;
    let disabled = person(&app, "bob@example.com").await;
    sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
        .bind(disabled)
        .execute(&app.pool)
        .await
        .expect("disable");
    app.user("nopassword@example.com", None).await;
    person(&app, "carol@example.com").await;
    let attacker = Console::from(&app, "203.0.113.9");
    for _ in 0..5 {
        let res = attacker.sign_in("carol@example.com", "wrong", "").await;
        assert_eq!(res.status(), 401);
    }

    let console = Console::from(&app, "203.0.113.9");
    let mut answers = Vec::new();
    for (email, password) in [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("bob@example.com", PASSWORD),
        ("nopassword@example.com", ""),
        ("not an email", PASSWORD),
        ("carol@example.com", PASSWORD),
    ] {
        let res = console.sign_in(email, password, "").await;
        let status = res.status();
        assert!(set_cookie(&res, SESSION).is_none(), "{email}: no session");
        let body = res.text().await.expect("body");
        answers.push((email, status, alert(&body), body.replace(email, "")));
    }
    assert_eq!(session_count(&app).await, 0);
    let (_, status, message, page) = &answers[0];
    assert_eq!(*status, 401);
    assert!(message.contains("Sign-in failed"), "{message}");
    for (email, other_status, other_message, other_page) in &answers[1..] {
        assert_eq!(other_status, status, "{email}");
        assert_eq!(other_message, message, "{email}");
        assert_eq!(
            other_page, page,
            "{email}: the whole page but the email typed is the same"
        );
    }
}

#[tokio::test]
async fn after_5_failures_from_one_address_the_pair_is_refused_but_the_owner_signs_in_from_elsewhere() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    person(&app, "admin@example.com").await;
    let attacker = Console::from(&app, "203.0.113.66");
    for _ in 0..5 {
        let res = attacker.sign_in("admin@example.com", "guess", "").await;
        assert_eq!(res.status(), 401);
    }

    let res = attacker.sign_in("admin@example.com", PASSWORD, "").await;
    assert_eq!(res.status(), 401, "the right password is refused from that address now");
    assert!(set_cookie(&res, SESSION).is_none());
    assert_eq!(session_count(&app).await, 0);

    // The attacker keeps failing while the admin signs in from their own address.
    let res = attacker.sign_in("admin@example.com", "guess", "").await;
    assert_eq!(res.status(), 401);
    let admin = Console::from(&app, "198.51.100.7");
    let res = admin.sign_in("admin@example.com", PASSWORD, "").await;
    assert_eq!(res.status(), 303, "not locked out");
    assert!(is_signed_in(&admin).await);
}

#[tokio::test]
async fn after_30_failures_from_one_address_over_any_accounts_that_address_is_refused() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    person(&app, "admin@example.com").await;
    let sprayer = Console::from(&app, "203.0.113.77");
    for n in 0..30 {
        let res = sprayer.sign_in(&format!("user{n}@example.com"), "guess", "").await;
        assert_eq!(res.status(), 401);
    }

    let res = sprayer.sign_in("admin@example.com", PASSWORD, "").await;
    assert_eq!(res.status(), 401, "a right password from that address is refused");
    assert_eq!(session_count(&app).await, 0);
    let res = Console::from(&app, "198.51.100.8")
        .sign_in("admin@example.com", PASSWORD, "")
        .await;
    assert_eq!(res.status(), 303, "other addresses are not affected");
}

#[tokio::test]
async fn an_accounts_failures_slow_its_sign_ins_more_and_more_but_never_lock_it() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    person(&app, "admin@example.com").await;
    // Each failure from a different address: neither the pair nor an address is throttled.
    let mut took = Vec::new();
    for n in 0..8 {
        let console = Console::from(&app, &format!("203.0.113.{}", n + 1));
        let csrf = console.sign_in_form("").await;
        let started = Instant::now();
        let res = console
            .post(
                "/login",
                &[("csrf", &csrf), ("email", "admin@example.com"), ("password", "guess")],
            )
            .await;
        took.push(started.elapsed());
        assert_eq!(res.status(), 401);
    }
    // Five failures are free, then a quarter second, doubling.
    assert!(took[5] >= Duration::from_millis(250), "{took:?}");
    assert!(took[6] >= Duration::from_millis(500), "{took:?}");
    assert!(took[7] >= Duration::from_millis(1000), "{took:?}");

    let admin = Console::from(&app, "198.51.100.9");
    let csrf = admin.sign_in_form("").await;
    let started = Instant::now();
    let res = admin
        .post(
            "/login",
            &[("csrf", &csrf), ("email", "admin@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303, "slowed, still signs in");
    assert!(
        started.elapsed() >= Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unknown_email_takes_about_as_long_as_a_wrong_password() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    person(&app, "admin@example.com").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // Five each, interleaved, each from its own address, below every throttle (the account's
    // delay starts after five failures).
    let mut address = 0;
    for n in 0..5 {
        for (email, times) in [
            ("admin@example.com".to_owned(), &mut known),
            (format!("ghost{n}@example.com"), &mut unknown),
        ] {
            address += 1;
            let console = Console::from(&app, &format!("192.0.2.{address}"));
            let csrf = console.sign_in_form("").await;
            let started = Instant::now();
            let res = console
                .post("/login", &[("csrf", &csrf), ("email", &email), ("password", "guess")])
                .await;
            times.push(started.elapsed());
            assert_eq!(res.status(), 401);
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    assert!(
        unknown * 3 >= known && known * 3 >= unknown,
        "known {known:?}, unknown {unknown:?}"
    );
}

/// Transactions of the test's database waiting for a lock on `table`.
async fn waiting_on(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks
         WHERE NOT granted AND relation = $1::regclass
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(table)
    .fetch_one(&app.pool)
    .await
    .expect("pg_locks")
}

/// The race that let 40 concurrent attempts all be judged against a count nobody had raised
/// yet. No attempt can write its session until every one of them has been judged (a lock in a
/// second connection holds the sessions table), so the order in which they are judged is no
/// matter of timing: each is judged on a count that includes every attempt judged before it,
/// so the right password signs in at most `PAIR_LIMIT` times and is refused once the limit is
/// passed, though no attempt has finished.
#[tokio::test]
async fn concurrent_sign_ins_from_one_address_are_judged_on_counts_that_include_each_other() {
    const ATTEMPTS: usize = 40;
    let pair_limit = usize::try_from(keyward::console::login::PAIR_LIMIT).expect("a small limit");
    let app = TestApp::spawn_with(behind_proxy()).await;
    person(&app, "admin@example.com").await;
    let mut browsers = Vec::new();
    for _ in 0..ATTEMPTS {
        let browser = Console::from(&app, "203.0.113.40");
        let csrf = browser.sign_in_form("").await;
        browsers.push((browser, csrf));
    }
    let mut hold = app.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE sessions IN EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .expect("sessions held");

    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let attempts: Vec<_> = browsers
        .into_iter()
        .map(|(browser, csrf)| {
            let answered = answered.clone();
            tokio::spawn(async move {
                let form = [("csrf", &*csrf), ("email", "admin@example.com"), ("password", PASSWORD)];
                let status = browser.post("/login", &form).await.status().as_u16();
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                status
            })
        })
        .collect();
    // Every attempt has been judged once it has answered (refused) or waits to write its
    // session (let in).
    let started = Instant::now();
    loop {
        let waiting = usize::try_from(waiting_on(&app, "sessions").await).expect("count");
        if answered.load(std::sync::atomic::Ordering::SeqCst) + waiting == ATTEMPTS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the attempts never lined up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hold.commit().await.expect("sessions released");

    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("attempt"));
    }
    let signed_in = statuses.iter().filter(|s| **s == 303).count();
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(
        (signed_in, refused),
        (pair_limit, ATTEMPTS - pair_limit),
        "{statuses:?}"
    );
    assert_eq!(usize::try_from(session_count(&app).await).expect("count"), pair_limit);
}

/// Under a C.UTF-8 database, SQL `lower()` makes `İ` an `i` while Rust's `to_lowercase` makes
/// it `i̇`: when the lookup was SQL's and the throttle Rust's, `lİn@example.test` signed in to
/// lin@example.test's account under a count of its own. Now one rule decides both.
#[tokio::test]
async fn no_spelling_of_an_email_skips_its_lockout() {
    let app = TestApp::spawn_with(Options {
        database_locale: Some("C.UTF-8"),
        ..behind_proxy()
    })
    .await;
    person(&app, "lin@example.test").await;
    let attacker = Console::from(&app, "203.0.113.88");
    for _ in 0..5 {
        let res = attacker.sign_in("lin@example.test", "guess", "").await;
        assert_eq!(res.status(), 401);
    }

    for spelling in ["lİn@example.test", "LIN@example.test", " Lin@Example.TEST "] {
        let res = attacker.sign_in(spelling, PASSWORD, "").await;
        assert_eq!(
            res.status(),
            401,
            "{spelling}: the right password, refused from that address"
        );
    }
    assert_eq!(session_count(&app).await, 0);

    // The owner, elsewhere, signs in with the address in any ASCII case; `lİn@example.test`
    // is another address, which has no account.
    let res = Console::from(&app, "198.51.100.20")
        .sign_in("LIN@Example.TEST", PASSWORD, "")
        .await;
    assert_eq!(res.status(), 303, "looked up whatever its case");
    let res = Console::from(&app, "198.51.100.21")
        .sign_in("lİn@example.test", PASSWORD, "")
        .await;
    assert_eq!(res.status(), 401, "not lin's account");
}

// Where a browser lands.

#[tokio::test]
async fn after_sign_in_the_browser_is_back_where_it_was_going() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::new(&app);
    let res = console.get("/orgs?q=acme").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Forgs%3Fq%3Dacme");

    let form = console.page(&location(&res)).await;
    let next = hidden_input(&form, "next");
    assert_eq!(next, "/orgs?q=acme");
    let res = console
        .post(
            "/login",
            &[
                ("csrf", &sign_in_token(&form)),
                ("next", &next),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/orgs?q=acme");
}

#[tokio::test]
async fn a_next_that_leaves_the_site_lands_on_the_front_page() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ] {
        let console = Console::new(&app);
        let query = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>();
        let page = console.page(&format!("/login?next={query}")).await;
        assert_eq!(hidden_input(&page, "next"), "", "{evil:?} is not offered back");
        let form = sign_in_token(&page);

        // Posted as is, whatever the form said.
        let res = console
            .post(
                "/login",
                &[
                    ("csrf", &form),
                    ("next", evil),
                    ("email", "ada@example.com"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{evil:?}");
        assert_eq!(location(&res), "/", "{evil:?}");

        // Already signed in, the sign-in page sends the browser on at once: not there either.
        let res = console.get(&format!("/login?next={query}")).await;
        assert_eq!(res.status(), 303, "{evil:?}");
        assert_eq!(location(&res), "/", "{evil:?}");
    }
}

// The sign-in form's own CSRF protection.

#[tokio::test]
async fn the_sign_in_form_without_its_token_or_from_another_site_is_refused_and_signs_no_one_in() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let console = Console::new(&app);
    let csrf = console.sign_in_form("").await;
    let elsewhere = Console::new(&app);
    let elsewheres_csrf = elsewhere.sign_in_form("").await;
    let credentials = [("email", "ada@example.com"), ("password", PASSWORD)];
    let with = |csrf: &str| {
        let mut form = vec![("csrf", csrf.to_owned())];
        form.extend(credentials.iter().map(|(k, v)| (*k, (*v).to_owned())));
        form
    };
    let send = |console: &Console, form: Vec<(&'static str, String)>, header: Option<(&'static str, &'static str)>| {
        let mut request = console.request(reqwest::Method::POST, "/login").form(&form);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        async move { request.send().await.expect("request") }
    };

    let refused = [
        send(
            &console,
            credentials.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            None,
        )
        .await,
        send(&console, with("00"), None).await,
        send(&console, with(&elsewheres_csrf), None).await,
        send(&Console::new(&app), with(&csrf), None).await,
        send(&console, with(&csrf), Some(("Origin", "https://evil.example"))).await,
        send(&console, with(&csrf), Some(("Sec-Fetch-Site", "cross-site"))).await,
    ];
    for res in refused {
        assert_eq!(res.status(), 403);
        assert!(set_cookie(&res, SESSION).is_none());
    }
    assert_eq!(session_count(&app).await, 0, "no session");
    assert_eq!(app.count("login_attempts").await, 0, "not even counted as a try");

    let res = console
        .request(reqwest::Method::POST, "/login")
        .header("Origin", &app.address)
        .header("Sec-Fetch-Site", "same-origin")
        .form(&with(&csrf))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 303, "the same form from this site signs in");
    assert_eq!(session_count(&app).await, 1);
}

// Organization selection.

async fn revoke(app: &TestApp, key: uuid::Uuid) {
    sqlx::query("UPDATE api_keys SET revoked_at = now(), revoked_by_kind = 'system' WHERE id = $1")
        .bind(key)
        .execute(&app.pool)
        .await
        .expect("revoke");
}

/// The orgs `/orgs` lists: id, name and its active-key count as shown.
fn listed(html: &str) -> Vec<(String, String, String)> {
    let page = Page::parse(html);
    page.all("li")
        .into_iter()
        .filter(|item| html::holds(*item, "a.org-link"))
        .map(|item| {
            let link = html::first_of(item, "a.org-link").expect("an org link");
            let href = link.value().attr("href").unwrap_or_default();
            let id = href.trim_start_matches("/o/").split('/').next().expect("an org id");
            let count = html::first_of(item, "span.muted").map(html::text).expect("a key count");
            (id.to_owned(), html::text(link), count)
        })
        .collect()
}

#[tokio::test]
async fn orgs_lists_exactly_the_orgs_the_user_administers_with_their_active_keys() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    let acme = app.org("Acme Tools").await;
    let beta = app.org("Beta Labs").await;
    let member_only = app.org("Gamma Works").await;
    let suspended = app.org("Delta Tools").await;
    let unrelated = app.org("Epsilon Tools").await;
    app.member(acme, ada, "admin").await;
    app.member(beta, ada, "admin").await;
    app.member(member_only, ada, "member").await;
    app.member(suspended, ada, "admin").await;
    sqlx::query("UPDATE memberships SET suspended_at = now() WHERE org_id = $1")
        .bind(suspended)
        .execute(&app.pool)
        .await
        .expect("suspend");
    let expiring = app.key_with(acme, None, chrono::Duration::seconds(1)).await;
    app.key(acme, None).await;
    app.key(acme, None).await;
    let revoked = app.key(acme, None).await;
    revoke(&app, revoked.id).await;
    for org in [member_only, suspended, unrelated] {
        app.key(org, None).await;
    }
    while !sqlx::query_scalar::<_, bool>("SELECT expires_at <= now() FROM api_keys WHERE id = $1")
        .bind(expiring.id)
        .fetch_one(&app.pool)
        .await
        .expect("expiry")
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let console = Console::signed_in(&app, "ada@example.com").await;

    let all = listed(&console.page("/orgs").await);
    assert_eq!(
        all,
        [
            (
                acme.to_string(),
                "Acme Tools".to_owned(),
                "2 active API keys".to_owned()
            ),
            (beta.to_string(), "Beta Labs".to_owned(), "0 active API keys".to_owned()),
        ]
    );

    let found = listed(&console.page("/orgs?q=TOOLS").await);
    assert_eq!(found, all[..1], "search by name, whatever the case");
    let found = listed(&console.page("/orgs?q=lab").await);
    assert_eq!(found, all[1..]);
    let page = console.page("/orgs?q=gamma").await;
    assert!(listed(&page).is_empty(), "a member-only org is not found either");
    assert!(page.contains("No organization matches your search."));
    assert!(!Page::parse(&page).has("#no-orgs"));
}

#[tokio::test]
async fn the_front_page_goes_straight_into_the_only_org_or_to_the_selection() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    let acme = app.org("Acme").await;
    app.member(acme, ada, "admin").await;
    let console = Console::signed_in(&app, "ada@example.com").await;

    let res = console.get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/o/{acme}/settings/api-keys"));

    let beta = app.org("Beta").await;
    app.member(beta, ada, "admin").await;
    let res = console.get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/orgs");
    assert_eq!(listed(&console.page("/orgs").await).len(), 2);
}

#[tokio::test]
async fn a_user_who_administers_no_org_is_told_so() {
    let app = TestApp::spawn().await;
    let bob = person(&app, "bob@example.com").await;
    let acme = app.org("Acme").await;
    app.member(acme, bob, "member").await;
    let console = Console::signed_in(&app, "bob@example.com").await;

    let res = console.get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/orgs");
    let page = console.page("/orgs").await;
    assert!(Page::parse(&page).has("#no-orgs"), "{page}");
    assert!(page.contains("you are not an admin of any organization"));
    assert!(listed(&page).is_empty());
}

/// The org route these tests reach the `OrgAdmin` extractor through.
fn org_page(org: impl std::fmt::Display) -> String {
    format!("/o/{org}/settings/api-keys")
}

#[tokio::test]
async fn an_org_page_of_an_org_the_user_does_not_administer_is_404_like_no_org() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    let own = app.org("Acme").await;
    let others = app.org("Others").await;
    let member_only = app.org("Member Only").await;
    let suspended = app.org("Suspended").await;
    app.member(own, ada, "admin").await;
    app.member(member_only, ada, "member").await;
    app.member(suspended, ada, "admin").await;
    sqlx::query("UPDATE memberships SET suspended_at = now() WHERE org_id = $1")
        .bind(suspended)
        .execute(&app.pool)
        .await
        .expect("suspend");
    let console = Console::signed_in(&app, "ada@example.com").await;
    assert_eq!(console.get(&org_page(own)).await.status(), 200, "the user's own org");

    // The same page but for the address itself, which the language switch returns to.
    let no_org = uuid::Uuid::new_v4().to_string();
    let missing = console.get(&org_page(&no_org)).await;
    assert_eq!(missing.status(), 404);
    let missing = missing.text().await.expect("body").replace(&no_org, "{orgId}");
    for org in [
        others.to_string(),
        member_only.to_string(),
        suspended.to_string(),
        "not-a-uuid".into(),
    ] {
        let res = console.get(&org_page(&org)).await;
        assert_eq!(res.status(), 404, "{org}");
        assert_eq!(
            res.text().await.expect("body").replace(&org, "{orgId}"),
            missing,
            "{org}: the same page as no org"
        );
    }
}

// Language.

#[tokio::test]
async fn pages_follow_accept_language() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com").await;
    let lang_of = |accept: &'static str| {
        let client = crate::harness::browser();
        let url = format!("{}/login", app.address);
        async move {
            client
                .get(url)
                .header("Accept-Language", accept)
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body")
        }
    };
    assert_eq!(Page::parse(&lang_of("ja").await).lang(), "ja");
    assert!(Page::parse(&lang_of("ja-JP,ja;q=0.9,en;q=0.8").await).lang() == "ja");
    assert!(Page::parse(&lang_of("fr, en;q=0.5, ja;q=0.4").await).lang() == "en");
    assert_eq!(Page::parse(&lang_of("fr").await).lang(), "en");
}

async fn locale(app: &TestApp, user: uuid::Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT locale FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("locale")
}

#[tokio::test]
async fn the_language_switch_is_remembered_in_a_cookie_and_as_the_users_setting() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let csrf = console.csrf().await;

    let res = console
        .post("/language", &[("csrf", &csrf), ("lang", "ja"), ("back", "/orgs?q=a")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/orgs?q=a");
    let cookie = set_cookie(&res, "kw_lang").expect("a language cookie");
    assert_eq!(cookie.value(), "ja");
    assert!(cookie.max_age().is_some(), "remembered after the browser closes");
    assert_eq!(locale(&app, ada).await.as_deref(), Some("ja"));
    assert_eq!(Page::parse(&console.page("/orgs").await).lang(), "ja");

    // A new sign-in from a browser that never chose.
    let fresh = Console::new(&app);
    let res = fresh.sign_in("ada@example.com", PASSWORD, "").await;
    assert_eq!(res.status(), 303);
    let page = fresh
        .request(reqwest::Method::GET, "/orgs")
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert_eq!(Page::parse(&page).lang(), "ja");

    // Somewhere else to go back to is not followed.
    let res = console
        .post(
            "/language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "//evil.example")],
        )
        .await;
    assert_eq!(location(&res), "/");
}

#[tokio::test]
async fn before_sign_in_the_switch_sets_the_cookie() {
    let app = TestApp::spawn().await;
    let console = Console::new(&app);
    let page = console.page("/login").await;
    let csrf = hidden_input(&page, "csrf");

    let res = console
        .post("/language", &[("csrf", &csrf), ("lang", "ja"), ("back", "/login")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(console.cookie("kw_lang").as_deref(), Some("ja"));
    assert_eq!(Page::parse(&console.page("/login").await).lang(), "ja");
}

#[tokio::test]
async fn the_language_switch_without_its_token_or_from_another_site_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ada = person(&app, "ada@example.com").await;
    let console = Console::signed_in(&app, "ada@example.com").await;
    let csrf = console.csrf().await;
    let stranger = Console::new(&app);
    let strangers_csrf = hidden_input(&stranger.page("/login").await, "csrf");
    let before = app.snapshot("users").await;

    let cross_site = |header: &'static str, value: &'static str| {
        console
            .request(reqwest::Method::POST, "/language")
            .header(header, value)
            .form(&[("csrf", &*csrf), ("lang", "ja")])
            .send()
    };
    let refused = [
        console.post("/language", &[("lang", "ja")]).await,
        console.post("/language", &[("csrf", "00"), ("lang", "ja")]).await,
        console
            .post("/language", &[("csrf", &strangers_csrf), ("lang", "ja")])
            .await,
        cross_site("Origin", "https://evil.example").await.expect("request"),
        cross_site("Sec-Fetch-Site", "cross-site").await.expect("request"),
        // Before sign-in too.
        stranger.post("/language", &[("lang", "ja")]).await,
        stranger
            .request(reqwest::Method::POST, "/language")
            .header("Origin", "https://evil.example")
            .form(&[("csrf", &*strangers_csrf), ("lang", "ja")])
            .send()
            .await
            .expect("request"),
    ];
    for res in refused {
        assert_eq!(res.status(), 403);
        assert!(set_cookie(&res, "kw_lang").is_none());
    }
    assert_eq!(app.snapshot("users").await, before, "nothing changed");
    assert_eq!(locale(&app, ada).await, None);
    assert_eq!(Page::parse(&console.page("/orgs").await).lang(), "en");
    assert_eq!(Page::parse(&stranger.page("/login").await).lang(), "en");
}
