//! Signing in and out. Sign-in attempts are counted in PostgreSQL per (account, address), per
//! address and per account: the first two refuse further tries for a while; the account alone
//! only slows them (a growing delay), so someone who knows an admin's email cannot lock that
//! admin out from their own address. Every attempt is counted before its password is checked,
//! by the one statement whose counts decide it, so concurrent attempts (on any instance) cannot
//! all be judged against the same stale count. Every failure gets the same message and, for an
//! unknown email, the same argon2id work (a dummy hash).

use crate::console::urls::Site;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::catalog::Lang;
use super::form::{self, BoundTo, ConsoleForm, Form};
use super::session::{self, SignedIn, Viewer};
use super::{Layout, PageError, presession, redirect, render_with_cookie};
use crate::auth::argon2id;
use crate::domain::{Action, Email};
use crate::state::AppState;
use crate::store;

const CSRF_PURPOSE: &str = "login";
/// Failures of one account from one address before that pair is refused for a while.
pub const PAIR_LIMIT: i64 = 5;
/// Failures from one address, over every account, before the address is refused for a while.
pub const ADDRESS_LIMIT: i64 = 30;
/// Failures on one account (from anywhere) before its sign-ins start to be slowed.
const ACCOUNT_FREE_FAILURES: i64 = 5;
/// The longest an account's sign-in is slowed.
const MAX_ACCOUNT_DELAY: Duration = Duration::from_secs(4);

/// The delay before checking a sign-in to an account that failed `failures` times lately:
/// nothing at first, then doubling from a quarter second up to `MAX_ACCOUNT_DELAY`.
pub fn account_delay(failures: i64) -> Duration {
    let over = failures - ACCOUNT_FREE_FAILURES;
    if over < 0 {
        return Duration::ZERO;
    }
    let exponent = u32::try_from(over.min(8)).unwrap_or(8);
    Duration::from_millis(250u64 << exponent).min(MAX_ACCOUNT_DELAY)
}

/// A hash to verify against when the email is unknown, so that answer takes as long as a
/// wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        argon2id::hash(&crate::random::bytes::<32>()).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZHVtbXlkdW1teWR1bW15ZHVtbXlkdW1teWR1bW15ZA".into()
        })
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    email: String,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    no_field_error: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    ended: Option<String>,
}

/// Carries a password: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl ConsoleForm for LoginForm {
    const BOUND_TO: BoundTo = BoundTo::Presession(CSRF_PURPOSE);
}

fn page(state: &AppState, lang: Lang, req: &HttpRequest, presession: &str, next: &str, email: String) -> LoginPage {
    LoginPage {
        layout: Layout::anonymous(state, lang, presession, req),
        csrf: form::token::<LoginForm>(state, None, presession),
        next: redirect::local_path(next).unwrap_or("").to_owned(),
        email,
        notice: None,
        problem: None,
        no_field_error: None,
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    if viewer.session.is_some() {
        let to = redirect::local_path(&query.next).unwrap_or("/").to_owned();
        return Ok(HttpResponse::SeeOther().insert_header(("Location", to)).finish());
    }
    let presession = presession::get_or_create(&req, &state);
    let mut page = page(&state, viewer.lang, &req, &presession.value, &query.next, String::new());
    page.notice = match query.ended.as_deref() {
        Some("signed-out") => Some(page.layout.t.signed_out),
        // The browser still presents a session cookie the server no longer honours.
        _ if req.cookie(session::cookie_name(&state)).is_some() => Some(page.layout.t.sign_in_expired),
        _ => None,
    };
    render_with_cookie(StatusCode::OK, &page, presession.new_cookie)
}

/// The throttle's subjects for a sign-in: account and address, address, account. An existing
/// account is named by its id, so every spelling of its email (and its next email) counts
/// alike; any other email by a hash of its normalised form (`domain::email::normalize`, the
/// rule the lookup uses), so the table holds no email typed by a stranger.
fn subjects(account: Option<Uuid>, email: &str, ip: Option<std::net::IpAddr>) -> [String; 3] {
    let account = match account {
        Some(id) => format!("user:{id}"),
        None => {
            let normalized = crate::domain::email::normalize(email);
            format!("email:{}", hex::encode(&Sha256::digest(normalized.as_bytes())[..16]))
        }
    };
    let address = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    [
        format!("pair:{account}:{address}"),
        format!("address:{address}"),
        format!("account:{account}"),
    ]
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let lang = session::request_lang(&req);
    let presession = presession::get_or_create(&req, &state);
    let mut page = page(&state, lang, &req, &presession.value, &form.next, form.email.clone());

    let ip = req
        .peer_addr()
        .map(|peer| crate::auth::client_ip::client_ip(peer.ip(), req.headers(), &state.trusted_proxies));
    let (credentials, subjects, counted) = {
        let mut conn = state.pool.acquire().await?;
        let credentials = match Email::parse(&form.email) {
            Ok(email) => store::users::credentials(&mut conn, &email).await?,
            Err(_) => None,
        };
        let subjects = subjects(credentials.as_ref().map(|c| c.id), &form.email, ip);
        // Counted before anything is verified: the counts below include this attempt.
        let counted = store::login_attempts::count_attempt(&mut conn, &subjects).await?;
        (credentials, subjects, counted)
    };
    let attempts = |i: usize| counted.attempts.get(i).copied().unwrap_or(i64::MAX);
    let (pair, address, account) = (attempts(0), attempts(1), attempts(2));
    let refused = pair > PAIR_LIMIT || address > ADDRESS_LIMIT;
    tokio::time::sleep(account_delay(account - 1)).await;

    let hash = credentials
        .as_ref()
        .and_then(|c| c.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let password = form.password;
    let matches = state
        .people_argon2
        .run(move || argon2id::verify(password.as_bytes(), &hash))
        .await
        .map_err(|e| PageError::Internal(e.into()))?;

    let user = credentials.filter(|c| matches && !refused && c.active && c.password_hash.is_some());
    let Some(user) = user else {
        // Already counted: a failure leaves its attempt in every count.
        tracing::info!(throttled = refused, "sign-in refused");
        page.problem = Some(page.layout.t.sign_in_failed);
        return render_with_cookie(StatusCode::UNAUTHORIZED, &page, None);
    };

    let mut tx = state.pool.begin().await?;
    let id = begin_session(&mut tx, &req, &state, user.id).await?;
    // The pair's earlier failures were this person's own typos: forgotten. The address and the
    // account only lose this attempt, which was no failure: their other attempts may be someone
    // else's (a sprayer behind the same address, a guesser elsewhere) and keep protecting
    // others, so knowing one password never resets a limit that guards other accounts.
    let [pair_subject, others @ ..] = &subjects;
    store::login_attempts::forgive(&mut tx, pair_subject, others, counted.window_start).await?;
    store::sessions::prune(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "signed in");

    let lang = user.locale.as_deref().and_then(Lang::from_tag).unwrap_or(lang);
    let to = redirect::local_path(&form.next).unwrap_or("/").to_owned();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(session::cookie(&state, id))
        .cookie(session::lang_cookie(&state, lang))
        .finish())
}

/// Starts a session of `user_id` for this browser, whose old session, if any, ends: a new id at
/// every sign-in. Records the sign-in; returns the session id for the cookie.
pub async fn begin_session(
    conn: &mut sqlx::PgConnection,
    req: &HttpRequest,
    state: &AppState,
    user_id: Uuid,
) -> Result<String, sqlx::Error> {
    let id = crate::random::token();
    if let Some(old) = req.cookie(session::cookie_name(state)) {
        store::sessions::delete(conn, &session::id_hash(old.value())).await?;
    }
    let origin = super::origin(req, state);
    store::sessions::create(
        conn,
        &session::id_hash(&id),
        user_id,
        &crate::random::bytes::<32>(),
        &origin,
    )
    .await?;
    store::users::record_sign_in(conn, user_id).await?;
    super::account::record_own(conn, user_id, Action::UserSignedIn, &origin, serde_json::json!({})).await?;
    Ok(id)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    /// Where signing in again leads (an invitation for another account), if anywhere.
    #[serde(default)]
    next: String,
}

/// Only a session can be ended: a browser whose session is already over is sent to sign in.
impl ConsoleForm for SignOutForm {}

pub async fn sign_out(
    state: web::Data<AppState>,
    signed: SignedIn,
    form: Form<SignOutForm>,
) -> Result<HttpResponse, PageError> {
    let session = signed.session;
    let mut conn = state.pool.acquire().await?;
    store::sessions::delete(&mut conn, &session.id_hash).await?;
    tracing::info!(user_id = %session.user_id(), "signed out");
    let mut to = Site.login().with("ended", "signed-out");
    if let Some(next) = redirect::local_path(&form.next) {
        to = to.with("next", next);
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", to.to_string()))
        .cookie(session::removal(&state))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_sign_ins_are_slowed_more_and_more_but_never_refused() {
        assert_eq!(account_delay(0), Duration::ZERO);
        assert_eq!(account_delay(ACCOUNT_FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(account_delay(ACCOUNT_FREE_FAILURES), Duration::from_millis(250));
        assert_eq!(account_delay(ACCOUNT_FREE_FAILURES + 1), Duration::from_millis(500));
        assert_eq!(account_delay(1_000_000), MAX_ACCOUNT_DELAY);
    }

    #[test]
    fn subjects_name_an_unknown_account_by_a_hash_of_the_email_rule() {
        let ip = Some("10.0.0.1".parse().expect("ip"));
        let [pair, address, account] = subjects(None, " Admin@Example.com", ip);
        assert_eq!(subjects(None, "admin@example.com", ip)[0], pair);
        assert_ne!(subjects(None, "admİn@example.com", ip)[0], pair, "another address");
        assert_eq!(address, "address:10.0.0.1");
        assert!(!account.contains("example"), "{account}");
    }

    #[test]
    fn subjects_name_an_existing_account_by_its_id_whatever_the_email_typed() {
        let ip = Some("10.0.0.1".parse().expect("ip"));
        let id = Uuid::new_v4();
        let [pair, _, account] = subjects(Some(id), "ADMIN@example.com", ip);
        assert_eq!(account, format!("account:user:{id}"));
        assert_eq!(pair, format!("pair:user:{id}:10.0.0.1"));
        assert_eq!(subjects(Some(id), "someone-else@example.com", ip)[0], pair);
        assert_ne!(subjects(None, "ADMIN@example.com", ip)[2], account);
    }
}
