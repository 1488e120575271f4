//! Who is looking at a page: the signed-in session, if any, and the language. Sessions are rows
//! of `sessions` found by the SHA-256 of the cookie's random id; the idle and absolute timeouts
//! are the database's to judge (store::sessions), so ending a user's sessions is one DELETE.
//! actix-session is not used: its store trait has one TTL and cannot end every session of one
//! user.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::catalog::Lang;
use super::urls::OrgUrls;
use super::{Layout, OrgLayout, PageError};
use crate::domain::{OrgId, UserId};
use crate::state::AppState;
use crate::store;
use crate::store::sessions::LiveSession;

/// The CSRF purpose of every form a signed-in user posts.
const CSRF_PURPOSE: &str = "console";
/// The cookie that remembers the chosen language, signed in or not.
pub const LANG_COOKIE: &str = "kw_lang";

pub fn cookie_name(state: &AppState) -> &'static str {
    if state.https { "__Host-kw_session" } else { "kw_session" }
}

pub fn id_hash(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

/// The session cookie for a new id: HttpOnly, SameSite=Lax, and `__Host-` with Secure over
/// HTTPS. No Max-Age: the server decides when it ends.
pub fn cookie(state: &AppState, id: String) -> Cookie<'static> {
    Cookie::build(cookie_name(state), id)
        .path("/")
        .http_only(true)
        .secure(state.https)
        .same_site(SameSite::Lax)
        .finish()
}

/// A cookie that removes the session cookie from the browser.
pub fn removal(state: &AppState) -> Cookie<'static> {
    let mut gone = cookie(state, String::new());
    gone.make_removal();
    gone
}

/// The language cookie, kept a year.
pub fn lang_cookie(state: &AppState, lang: Lang) -> Cookie<'static> {
    Cookie::build(LANG_COOKIE, lang.tag())
        .path("/")
        .http_only(true)
        .secure(state.https)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish()
}

/// The language of a request without a session: the language cookie, else Accept-Language.
pub fn request_lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::from_tag(c.value()))
        .unwrap_or_else(|| {
            Lang::negotiate(
                req.headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

/// A signed-in browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: Vec<u8>,
    pub user: LiveSession,
}

impl Session {
    pub fn user_id(&self) -> Uuid {
        self.user.user_id
    }

    /// What the tokens of this session's forms are made from: its purpose and the session's
    /// own secret (`form::token` and `form::Form` make and check them).
    pub(super) fn form_binding(&self) -> (&'static str, String) {
        (CSRF_PURPOSE, hex::encode(&self.user.csrf_secret))
    }
}

/// Whoever sent the request: a session when one is live, and the language to answer in (the
/// user's own setting, else the language cookie, else Accept-Language).
#[derive(Clone)]
pub struct Viewer {
    pub lang: Lang,
    pub session: Option<Session>,
}

impl Viewer {
    pub async fn of(req: &HttpRequest, state: &AppState) -> Result<Viewer, PageError> {
        let session = match req.cookie(cookie_name(state)) {
            Some(cookie) if !cookie.value().is_empty() => {
                let id_hash = id_hash(cookie.value());
                let mut conn = state.pool.acquire().await?;
                store::sessions::find_live(&mut conn, &id_hash)
                    .await?
                    .map(|user| Session { id_hash, user })
            }
            _ => None,
        };
        let lang = session
            .as_ref()
            .and_then(|s| s.user.locale.as_deref())
            .and_then(Lang::from_tag)
            .unwrap_or_else(|| request_lang(req));
        Ok(Viewer { lang, session })
    }
}

impl Viewer {
    /// The viewer of this request, looked up once however many extractors ask: a handler's
    /// extractors run at the same time, so the first to ask looks the session up and the
    /// others wait for its answer (a page's `OrgAdmin` and its `Form` read the same session,
    /// even when it ends during the request). A failed lookup is tried again by the next.
    pub async fn cached(req: &HttpRequest, state: &AppState) -> Result<Viewer, PageError> {
        let cell = {
            let mut extensions = req.extensions_mut();
            match extensions.get::<Rc<OnceCell<Viewer>>>() {
                Some(cell) => Rc::clone(cell),
                None => {
                    let cell = Rc::new(OnceCell::new());
                    extensions.insert(Rc::clone(&cell));
                    cell
                }
            }
        };
        cell.get_or_try_init(|| Viewer::of(req, state)).await.cloned()
    }
}

pub(super) fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, PageError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| PageError::Internal(anyhow::anyhow!("application state missing")))
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            Viewer::cached(&req, &state).await
        })
    }
}

/// A page only a signed-in user sees: without a live session the browser is sent to sign in,
/// and brought back here afterwards.
pub struct SignedIn {
    pub lang: Lang,
    pub session: Session,
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<SignedIn, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            let viewer = Viewer::cached(&req, &state).await?;
            let Some(session) = viewer.session else {
                let next = match req.method() {
                    &actix_web::http::Method::GET => req.uri().path_and_query().map(|p| p.as_str().to_owned()),
                    _ => None,
                };
                return Err(PageError::SignIn { next });
            };
            Ok(SignedIn {
                lang: viewer.lang,
                session,
            })
        })
    }
}

/// A page of one organization (`/o/{orgId}/...`), for a signed-in admin of it. An org the user
/// does not administer (or no longer: suspended, demoted, removed) is 404, exactly like an org
/// that does not exist.
pub struct OrgAdmin {
    pub lang: Lang,
    pub session: Session,
    pub org_id: Uuid,
    /// The page's layout, with the org's bar and URLs.
    pub layout: OrgLayout,
}

impl OrgAdmin {
    /// The org the page is of.
    pub fn org(&self) -> OrgId {
        OrgId::from(self.org_id)
    }

    /// The URLs of the org's pages.
    pub fn urls(&self) -> OrgUrls {
        self.layout.org.urls
    }

    /// The signed-in admin.
    pub fn person(&self) -> UserId {
        UserId::from(self.session.user_id())
    }
}

impl FromRequest for OrgAdmin {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<OrgAdmin, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let signed_in = SignedIn::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let SignedIn { lang, session } = signed_in.await?;
            let org_id = req
                .match_info()
                .get("orgId")
                .and_then(|id| id.parse::<Uuid>().ok())
                .ok_or(PageError::NotFound)?;
            let state = state_of(&req)?;
            let mut conn = state.pool.acquire().await?;
            let org_name = store::memberships::administered_org(&mut conn, session.user_id(), org_id)
                .await?
                .ok_or(PageError::NotFound)?;
            let layout = OrgLayout::new(Layout::signed_in(lang, &session, &state, &req), org_id, org_name);
            Ok(OrgAdmin {
                lang,
                session,
                org_id,
                layout,
            })
        })
    }
}
