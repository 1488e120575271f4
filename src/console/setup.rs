//! First-run setup. With no account in the database, start-up logs a one-time link; its page
//! creates the first administrator and organization, and from then on `/setup` is 404.

use crate::console::redirect;
use crate::console::urls::Site;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{Layout, PageError, field_errors, presession, render_with_cookie, session};
use crate::console::form::{self, BoundTo, ConsoleForm, Form};
use crate::domain::{DisplayName, Email, NewPassword, OrgName, UserAgent};
use crate::service::people::admins::{self, AdminError, MadeBy, NewAdmin, OrgOf};
use crate::state::AppState;
use crate::store;
use crate::store::audit::Origin;

const CSRF_PURPOSE: &str = "setup";
/// How long a printed setup link stays usable.
const TOKEN_LIFETIME: Duration = Duration::hours(1);

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// At start-up: when nobody has an account yet, issue a setup token and log its link. This is
/// the one log line allowed to carry a secret.
pub async fn announce_if_needed(pool: &PgPool, public_base: &str) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    if store::users::any_exist(&mut conn).await? {
        return Ok(());
    }
    let token = crate::random::token();
    store::setup_tokens::issue(&mut conn, &token_hash(&token), Utc::now() + TOKEN_LIFETIME).await?;
    tracing::info!(
        "first-run setup: open {public_base}/setup?token={token} within an hour to create the first administrator"
    );
    Ok(())
}

/// Carries the setup token: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// Carries a password and the setup token: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(default)]
    org_name: String,
}

impl ConsoleForm for SetupForm {
    const BOUND_TO: BoundTo = BoundTo::Presession(CSRF_PURPOSE);
}

/// What the person typed, shown again when something is wrong (never the passwords).
#[derive(Debug, Default)]
struct Values {
    email: String,
    name: String,
    org_name: String,
}

#[derive(Debug, Default)]
struct FieldErrors {
    email: Option<String>,
    name: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
    org_name: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.email.is_some()
            || self.name.is_some()
            || self.password.is_some()
            || self.password_confirm.is_some()
            || self.org_name.is_some()
    }
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    csrf: String,
    token: String,
    values: Values,
    errors: FieldErrors,
    problem: Option<&'static str>,
}

/// 404 once anyone has an account: setup is over for good.
async fn ensure_setup_open(pool: &PgPool) -> Result<(), PageError> {
    let mut conn = pool.acquire().await?;
    if store::users::any_exist(&mut conn).await? {
        return Err(PageError::NotFound);
    }
    Ok(())
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> Result<HttpResponse, PageError> {
    ensure_setup_open(&state.pool).await?;
    let presession = presession::get_or_create(&req, &state);
    let mut conn = state.pool.acquire().await?;
    let usable =
        !query.token.is_empty() && store::setup_tokens::is_usable(&mut conn, &token_hash(&query.token)).await?;
    let layout = Layout::anonymous(&state, session::request_lang(&req), &presession.value, &req);
    let link_unusable = layout.t.setup_link_unusable;
    let page = SetupPage {
        layout,
        csrf: form::token::<SetupForm>(&state, None, &presession.value),
        token: query.token.clone(),
        values: Values::default(),
        errors: FieldErrors::default(),
        problem: (!usable).then_some(link_unusable),
    };
    let status = if usable {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render_with_cookie(status, &page, presession.new_cookie)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Form<SetupForm>,
) -> Result<HttpResponse, PageError> {
    ensure_setup_open(&state.pool).await?;
    let form = form.into_inner();
    let presession = presession::get_or_create(&req, &state);
    let mut page = SetupPage {
        layout: Layout::anonymous(&state, session::request_lang(&req), &presession.value, &req),
        csrf: form::token::<SetupForm>(&state, None, &presession.value),
        token: form.token.clone(),
        values: Values {
            email: form.email.clone(),
            name: form.name.clone(),
            org_name: form.org_name.clone(),
        },
        errors: FieldErrors::default(),
        problem: None,
    };

    let t = page.layout.t;
    let email = Email::parse(&form.email)
        .map_err(|e| page.errors.email = Some(field_errors::email(t, &e)))
        .ok();
    let name = DisplayName::parse(&form.name)
        .map_err(|e| page.errors.name = Some(field_errors::name(t, &e)))
        .ok();
    let org_name = OrgName::parse(&form.org_name)
        .map_err(|e| page.errors.org_name = Some(field_errors::name(t, &e)))
        .ok();
    let password = NewPassword::parse(&form.password)
        .map_err(|e| page.errors.password = Some(field_errors::password(t, &e)))
        .ok();
    if let Some(password) = &password
        && let Err(e) = password.confirm(&form.password_confirm)
    {
        page.errors.password_confirm = Some(field_errors::password(t, &e));
    }
    let (Some(email), Some(name), Some(org_name), Some(password), false) =
        (email, name, org_name, password, page.errors.any())
    else {
        return render_with_cookie(StatusCode::UNPROCESSABLE_ENTITY, &page, None);
    };

    // Only a live token buys an argon2 computation.
    {
        let mut conn = state.pool.acquire().await?;
        if !store::setup_tokens::is_usable(&mut conn, &token_hash(&form.token)).await? {
            page.problem = Some(t.setup_link_unusable);
            return render_with_cookie(StatusCode::BAD_REQUEST, &page, None);
        }
    }
    let password_hash = crate::console::hash_password(&state, &password).await?;

    let mut tx = state.pool.begin().await?;
    // Two setup links can be live at once (one per start); only one first admin may result.
    store::setup_tokens::serialize_setup(&mut tx).await?;
    if store::users::any_exist(&mut tx).await? {
        return Err(PageError::NotFound);
    }
    if !store::setup_tokens::consume(&mut tx, &token_hash(&form.token)).await? {
        drop(tx);
        page.problem = Some(t.setup_link_unusable);
        return render_with_cookie(StatusCode::BAD_REQUEST, &page, None);
    }
    let ip = req
        .peer_addr()
        .map(|peer| crate::auth::client_ip::client_ip(peer.ip(), req.headers(), &state.trusted_proxies));
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| UserAgent::parse(v.as_bytes()));
    let made = admins::make_admin(
        &mut tx,
        OrgOf::New(&org_name),
        &NewAdmin {
            email: &email,
            name: &name,
            password_hash: Some(&password_hash),
        },
        &MadeBy {
            actor: None,
            origin: &Origin { ip, user_agent },
            via: "setup",
        },
    )
    .await
    .map_err(|err| match err {
        AdminError::Database(db) => PageError::Database(db),
        other => PageError::Internal(other.into()),
    })?;
    let (org, user) = (made.org, made.user);
    tx.commit().await?;
    tracing::info!(org_id = %org.id, user_id = %user.id, "first-run setup completed");
    Ok(redirect::to(Site.home()))
}
