//! The HTML console: server-rendered askama pages on one base layout, working without
//! JavaScript, in English and Japanese. Each page's template struct lives beside its handler.

pub mod account;
pub mod api_keys;
pub mod assets;
pub mod audit_log;
pub mod catalog;
pub mod field_errors;
pub mod form;
pub mod home;
pub mod language;
pub mod login;
pub mod members;
pub mod orgs;
pub mod plain_text;
pub mod policies;
pub mod presession;
pub mod redirect;
pub mod routes;
pub mod session;
pub mod setup;
pub mod single_use;
pub mod urls;

pub use routes::register as routes;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use catalog::{Lang, Messages};
use session::{Session, Viewer};

use crate::state::AppState;
use crate::store::Failure;

/// The org a page belongs to, as the layout shows it, with the URLs of its pages.
#[derive(Debug, Clone)]
pub struct OrgBar {
    pub id: Uuid,
    pub name: String,
    pub urls: urls::OrgUrls,
}

/// What every page's layout needs, whatever the page: its language and messages, who is
/// signed in, the current org, and the token of the layout's own forms (language, sign-out).
#[derive(Debug, Clone)]
pub struct Layout {
    pub lang: Lang,
    pub t: &'static Messages,
    pub user_name: Option<String>,
    /// The token of the layout's forms (the language switch, and sign-out once signed in);
    /// empty where the page offers none (error pages).
    pub csrf: String,
    /// This page's path, where the language switch comes back to.
    pub here: String,
    /// The viewer's time zone, which every date and time on the page is shown in: their own
    /// setting once signed in, else UTC.
    pub zone: chrono_tz::Tz,
    /// The URLs of the pages outside any org.
    pub site: urls::Site,
}

impl Layout {
    pub fn new(lang: Lang) -> Layout {
        Layout {
            lang,
            t: lang.messages(),
            user_name: None,
            csrf: String::new(),
            here: "/".into(),
            zone: chrono_tz::Tz::UTC,
            site: urls::Site,
        }
    }

    /// A page for someone who has not signed in: its language switch is bound to the browser's
    /// pre-session cookie.
    pub fn anonymous(state: &AppState, lang: Lang, presession: &str, req: &HttpRequest) -> Layout {
        Layout {
            csrf: form::token::<language::SwitchForm>(state, None, presession),
            here: here(req),
            ..Layout::new(lang)
        }
    }

    pub fn signed_in(lang: Lang, session: &Session, state: &AppState, req: &HttpRequest) -> Layout {
        Layout {
            user_name: Some(session.user.display_name.clone()),
            // The language switch's token is the session's, like every form a session sends.
            csrf: form::token::<language::SwitchForm>(state, Some(session), ""),
            here: here(req),
            zone: account::zone_of(session.user.zoneinfo.as_deref()),
            ..Layout::new(lang)
        }
    }

    /// The org bar of the page: none outside an org (`OrgLayout` has one).
    pub fn org_bar(&self) -> Option<&OrgBar> {
        None
    }

    /// A day in the viewer's language and time zone.
    pub fn date(&self, at: &DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format(self.t.date_format).to_string()
    }

    /// A time in the viewer's language and time zone, naming the zone.
    pub fn date_time(&self, at: &DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.zone);
        format!("{} {}", local.format(self.t.date_time_format), self.zone_name())
    }

    /// The viewer's time zone as pages name it: its IANA name, or UTC.
    pub fn zone_name(&self) -> &'static str {
        match self.zone {
            chrono_tz::Tz::UTC => self.t.utc,
            zone => zone.name(),
        }
    }

    /// The footer's note of the time zone every time on the page is in.
    pub fn times_note(&self) -> String {
        let note = catalog::account::of(self.lang).times_shown_in;
        catalog::fill(note, &[("zone", self.zone_name())])
    }

    /// A message with its one placeholder `{name}` filled.
    pub fn fill(&self, message: &str, name: &str, value: impl std::fmt::Display) -> String {
        catalog::fill(message, &[(name, &value.to_string())])
    }
}

/// The layout of a page of one org: the org is always there, so its templates need not ask.
/// Built once per request by the `OrgAdmin` extractor.
#[derive(Debug, Clone)]
pub struct OrgLayout {
    base: Layout,
    pub org: OrgBar,
}

impl OrgLayout {
    pub fn new(base: Layout, id: Uuid, name: String) -> OrgLayout {
        OrgLayout {
            base,
            org: OrgBar {
                id,
                name,
                urls: urls::OrgUrls::of(id),
            },
        }
    }

    /// The org bar the base layout shows.
    pub fn org_bar(&self) -> Option<&OrgBar> {
        Some(&self.org)
    }
}

impl std::ops::Deref for OrgLayout {
    type Target = Layout;

    fn deref(&self) -> &Layout {
        &self.base
    }
}

impl std::ops::DerefMut for OrgLayout {
    fn deref_mut(&mut self) -> &mut Layout {
        &mut self.base
    }
}

/// Where a console request came from, as the audit events it causes record it.
pub fn origin(req: &HttpRequest, state: &AppState) -> crate::store::audit::Origin {
    crate::store::audit::Origin {
        ip: req
            .peer_addr()
            .map(|peer| crate::auth::client_ip::client_ip(peer.ip(), req.headers(), &state.trusted_proxies)),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| crate::domain::UserAgent::parse(v.as_bytes())),
    }
}

/// The request's path and query, for coming back to it.
fn here(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// The argon2id hash of a new password, on the people pool (never on the async workers).
pub async fn hash_password(state: &AppState, password: &crate::domain::NewPassword) -> Result<String, PageError> {
    let secret = password.secret().clone();
    state
        .people_argon2
        .run(move || crate::auth::argon2id::hash(secrecy::ExposeSecret::expose_secret(&secret).as_bytes()))
        .await
        .map_err(|e| PageError::Internal(e.into()))?
        .map_err(|e| PageError::Internal(e.into()))
}

/// Renders a page with the given status. Pages are never cached: they show private data.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(|e| PageError::Internal(e.into()))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// `render`, setting the pre-session cookie too when the browser is given one with this page.
pub fn render_with_cookie(
    status: StatusCode,
    page: &impl Template,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, PageError> {
    let mut res = render(status, page)?;
    if let Some(cookie) = cookie {
        res.add_cookie(&cookie).map_err(|e| PageError::Internal(e.into()))?;
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
    /// The field a refused request's bad input was in, as it was named.
    field: Option<&'a str>,
}

/// Failures a page handler can end in, each shown as a page with the right status.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// No live session: to the sign-in page, then back to `next`.
    #[error("sign-in required")]
    SignIn { next: Option<String> },
    /// A state-changing request without this session's token, or sent by another site.
    #[error("forbidden: bad or missing CSRF token, or cross-site request")]
    Forbidden,
    /// Text is text: a query parameter or form field holds a control character no field takes
    /// (`plain_text`). Carries the field's name, as sent.
    #[error("bad input in the field {0}")]
    BadInput(String),
    /// A database error, answered as `store::Failure` reads it (503, 400 or 500).
    #[error("database")]
    Database(#[from] sqlx::Error),
    /// keyward's own mistake: a 500 whose cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// A console change refused for its actor's standing: an admin suspended, demoted or removed
/// while the request was on its way sees what any non-admin sees of the org.
impl From<crate::service::standing::StandingError> for PageError {
    fn from(err: crate::service::standing::StandingError) -> PageError {
        use crate::service::standing::StandingError;
        match err {
            StandingError::NotAdmin => PageError::NotFound,
            StandingError::KeyInvalid | StandingError::OwnHolder => PageError::Forbidden,
            StandingError::Database(db) => db.into(),
        }
    }
}

/// Which error page a response is, so `localize_errors` can render it in the viewer's language
/// (`ResponseError` sees no request).
#[derive(Debug, Clone, Copy)]
enum ErrorKind {
    NotFound,
    Forbidden,
    BadInput,
    Unavailable,
    Internal,
}

/// The field a `BadInput` page names, beside its `ErrorKind` in the response's extensions.
#[derive(Debug, Clone)]
struct BadField(String);

impl ErrorKind {
    fn texts(self, t: &'static Messages) -> (&'static str, &'static str) {
        match self {
            ErrorKind::NotFound => (t.not_found_heading, t.not_found_message),
            ErrorKind::Forbidden => (t.forbidden_heading, t.forbidden_message),
            ErrorKind::BadInput => (t.bad_input_heading, t.bad_input_message),
            ErrorKind::Unavailable => (t.unavailable_heading, t.unavailable_message),
            ErrorKind::Internal => (t.internal_heading, t.internal_message),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::Forbidden => StatusCode::FORBIDDEN,
            PageError::BadInput(_) => StatusCode::BAD_REQUEST,
            PageError::Database(err) => match Failure::of(err) {
                Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                Failure::BadValue => StatusCode::BAD_REQUEST,
                Failure::Bug => StatusCode::INTERNAL_SERVER_ERROR,
            },
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let kind = match self {
            PageError::SignIn { next } => {
                let location = match next.as_deref().and_then(redirect::local_path) {
                    Some(next) if next != "/" => urls::Site.login().with("next", next),
                    _ => urls::Site.login(),
                };
                return HttpResponse::SeeOther()
                    .insert_header(("Location", location.to_string()))
                    .insert_header(("Cache-Control", "no-store"))
                    .finish();
            }
            PageError::NotFound => ErrorKind::NotFound,
            PageError::Forbidden => ErrorKind::Forbidden,
            PageError::BadInput(field) => {
                let field = BadField(field.clone());
                let mut res = error_page(
                    self.status_code(),
                    ErrorKind::BadInput,
                    Layout::new(Lang::En),
                    Some(&field.0),
                );
                res.extensions_mut().insert(ErrorKind::BadInput);
                res.extensions_mut().insert(field);
                return res;
            }
            PageError::Database(err) => match Failure::of(err) {
                Failure::Unavailable => {
                    tracing::warn!(error = %err, "database unavailable");
                    ErrorKind::Unavailable
                }
                // Text is text: input no check refused first is still the sender's, not a 5xx.
                Failure::BadValue => {
                    tracing::warn!(error = %err, "the database refused a value of a console request");
                    ErrorKind::BadInput
                }
                Failure::Bug => {
                    tracing::error!(error = %err, "database error");
                    ErrorKind::Internal
                }
            },
            PageError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                ErrorKind::Internal
            }
        };
        let mut res = error_page(self.status_code(), kind, Layout::new(Lang::En), None);
        res.extensions_mut().insert(kind);
        res
    }
}

fn error_page(status: StatusCode, kind: ErrorKind, layout: Layout, field: Option<&str>) -> HttpResponse {
    let (heading, message) = kind.texts(layout.t);
    let page = ErrorPage {
        layout,
        heading,
        message,
        field,
    };
    let body = page.render().unwrap_or_else(|_| heading.to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// Renders an error page again for the request that met it (`ResponseError` sees no request),
/// on the viewer's layout when `error_layout` can find it, else bare in the request's language.
pub async fn localize_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let Some(kind) = res.response().extensions().get::<ErrorKind>().copied() else {
        return Ok(res.map_into_boxed_body());
    };
    let status = res.status();
    let field = res.response().extensions().get::<BadField>().cloned();
    let (req, _) = res.into_parts();
    let (layout, cookie) = match error_layout(&req, kind).await {
        Some(found) => found,
        None => (Layout::new(session::request_lang(&req)), None),
    };
    let mut response = error_page(status, kind, layout, field.as_ref().map(|f| f.0.as_str()));
    if let Some(cookie) = cookie {
        response.add_cookie(&cookie).ok();
    }
    Ok(ServiceResponse::new(req, response))
}

/// The layout of an error page: the signed-in header (sign-out, language switch) when the
/// request carries a live session, else the language switch on the pre-session cookie (with
/// the cookie to set, when the browser has none yet). None when the database is the error:
/// the page stays bare rather than ask it again.
async fn error_layout(req: &HttpRequest, kind: ErrorKind) -> Option<(Layout, Option<Cookie<'static>>)> {
    if !matches!(kind, ErrorKind::NotFound | ErrorKind::Forbidden | ErrorKind::BadInput) {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    let viewer = Viewer::of(req, state).await.ok()?;
    let (mut layout, cookie) = match &viewer.session {
        Some(session) => (Layout::signed_in(viewer.lang, session, state, req), None),
        None => {
            let presession = presession::get_or_create(req, state);
            let layout = Layout::anonymous(state, viewer.lang, &presession.value, req);
            (layout, presession.new_cookie)
        }
    };
    if req.method() != actix_web::http::Method::GET {
        // The switch returns to a page; a refused POST's path is none.
        layout.here = "/".into();
    }
    Some((layout, cookie))
}
