//! `/welcome?token=`: where a set-password link lands. The person chooses a password; the link
//! then never works again, and every session of the account ends. Its forms carry a
//! pre-session CSRF token, like setup's and sign-in's.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::messages;
use crate::console::catalog::members::Messages;
use crate::console::form::{self, BoundTo, ConsoleForm, Form};
use crate::console::{Layout, PageError, field_errors, origin, presession, render_with_cookie, session};
use crate::domain::NewPassword;
use crate::service::people::password_links;
use crate::state::AppState;
use crate::store;

const CSRF_PURPOSE: &str = "welcome";

/// Carries the link's token: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct WelcomeQuery {
    #[serde(default)]
    token: String,
}

/// Carries a password and the link's token: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

impl ConsoleForm for WelcomeForm {
    const BOUND_TO: BoundTo = BoundTo::Presession(CSRF_PURPOSE);
}

#[derive(Template)]
#[template(path = "members/welcome.html")]
struct WelcomePage {
    layout: Layout,
    m: &'static Messages,
    csrf: String,
    token: String,
    /// The account's email while the link is usable; None shows why it is not.
    email: Option<String>,
    password_error: Option<String>,
    confirm_error: Option<String>,
    problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "members/welcome_done.html")]
struct DonePage {
    layout: Layout,
    m: &'static Messages,
}

async fn usable_email(state: &AppState, token: &str) -> Result<Option<String>, PageError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let mut conn = state.pool.acquire().await?;
    Ok(store::password_links::usable(&mut conn, &password_links::token_hash(token)).await?)
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<WelcomeQuery>,
) -> Result<HttpResponse, PageError> {
    let presession = presession::get_or_create(&req, &state);
    let lang = session::request_lang(&req);
    let email = usable_email(&state, &query.token).await?;
    let m = messages(lang);
    let page = WelcomePage {
        layout: Layout::anonymous(&state, lang, &presession.value, &req),
        m,
        csrf: form::token::<WelcomeForm>(&state, None, &presession.value),
        token: query.token.clone(),
        problem: email.is_none().then_some(m.welcome_unusable),
        email,
        password_error: None,
        confirm_error: None,
    };
    let status = if page.email.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render_with_cookie(status, &page, presession.new_cookie)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Form<WelcomeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let presession = presession::get_or_create(&req, &state);
    let lang = session::request_lang(&req);
    let m = messages(lang);
    let mut page = WelcomePage {
        layout: Layout::anonymous(&state, lang, &presession.value, &req),
        m,
        csrf: form::token::<WelcomeForm>(&state, None, &presession.value),
        token: form.token.clone(),
        email: None,
        password_error: None,
        confirm_error: None,
        problem: None,
    };
    page.email = usable_email(&state, &form.token).await?;
    if page.email.is_none() {
        page.problem = Some(m.welcome_unusable);
        return render_with_cookie(StatusCode::BAD_REQUEST, &page, None);
    }
    let t = page.layout.t;
    let password = match NewPassword::parse(&form.password) {
        Ok(password) => password,
        Err(e) => {
            page.password_error = Some(field_errors::password(t, &e));
            return render_with_cookie(StatusCode::UNPROCESSABLE_ENTITY, &page, None);
        }
    };
    if let Err(e) = password.confirm(&form.password_confirm) {
        page.confirm_error = Some(field_errors::password(t, &e));
        return render_with_cookie(StatusCode::UNPROCESSABLE_ENTITY, &page, None);
    }
    let password_hash = crate::console::hash_password(&state, &password).await?;
    let used = password_links::use_link(&state.pool, &form.token, &password_hash, &origin(&req, &state))
        .await
        .map_err(super::page_error)?;
    let Some(user_id) = used else {
        // Used by a concurrent submission between the check and now.
        page.problem = Some(m.welcome_unusable);
        page.email = None;
        return render_with_cookie(StatusCode::BAD_REQUEST, &page, None);
    };
    tracing::info!(user_id = %user_id, "password set with a set-password link");
    let done = DonePage { layout: page.layout, m };
    render_with_cookie(StatusCode::OK, &done, None)
}
