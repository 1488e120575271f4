//! Every form the console takes arrives through `Form<T>`: before a handler sees one field, the
//! extractor has checked the form's CSRF token against the browser it was made for and refused a
//! request another site sent, both with a 403. So no handler can forget the check, and a body
//! without a token is a forgery, not a malformed form. Fields are then decoded with
//! `serde_html_form`, which takes repeated fields (`scopes=a&scopes=b`) as a `Vec`.
//!
//! What a form's token is bound to is said once, by the form's type (`ConsoleForm::BOUND_TO`).

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::PageError;
use super::session::{self, Viewer};
use crate::auth::csrf;
use crate::state::AppState;

/// The largest form body the console reads; the longest form (a policy's address ranges) stays
/// far below it.
pub const LIMIT: usize = 64 * 1024;

/// What a form's token is bound to, so a token made for one browser, or for one purpose, is
/// refused anywhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundTo {
    /// The signed-in session: a form only a signed-in user can send. Without a live session,
    /// the browser is sent to sign in and nothing is read.
    Session,
    /// The pre-session cookie, for this purpose, whether or not a session is live: the forms
    /// that come before an account exists or is signed in to (sign-in, setup, welcome), where
    /// the token guards against login CSRF.
    Presession(&'static str),
    /// The session when one is live, else the pre-session cookie for this purpose: forms both
    /// kinds of viewer send (the language switch, an invitation link).
    Viewer(&'static str),
}

/// A form the console takes: its fields, and what its token is bound to.
pub trait ConsoleForm: DeserializeOwned {
    const BOUND_TO: BoundTo = BoundTo::Session;
}

/// A form that carries nothing but its token: a button that acts on what its path names.
#[derive(Debug, serde::Deserialize)]
pub struct Button {}

impl ConsoleForm for Button {}

/// What a form's token is made from for this viewer: a purpose and the value it is bound to
/// (the session's secret, or the pre-session cookie). None where the form needs a session the
/// viewer does not have, or a pre-session cookie the browser did not send.
fn binding(
    bound_to: BoundTo,
    session: Option<&session::Session>,
    presession: Option<&str>,
) -> Option<(&'static str, String)> {
    match (bound_to, session) {
        (BoundTo::Session | BoundTo::Viewer(_), Some(session)) => Some(session.form_binding()),
        (BoundTo::Presession(purpose), _) | (BoundTo::Viewer(purpose), None) => {
            presession.map(|value| (purpose, value.to_owned()))
        }
        (BoundTo::Session, None) => None,
    }
}

/// The token a page's form of type `T` carries, for this viewer: what `Form<T>` checks it
/// against. `presession` is the browser's pre-session value (unused for `BoundTo::Session`).
pub fn token<T: ConsoleForm>(state: &AppState, session: Option<&session::Session>, presession: &str) -> String {
    binding(T::BOUND_TO, session, Some(presession))
        .map(|(purpose, bound)| state.csrf.token(purpose, &bound))
        .unwrap_or_default()
}

/// A posted form whose token and origin were checked. Derefs to its fields.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T> Form<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ConsoleForm + 'static> FromRequest for Form<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Form<T>, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let state = session::state_of(&req)?;
            let viewer = Viewer::cached(&req, &state).await?;
            if T::BOUND_TO == BoundTo::Session && viewer.session.is_none() {
                return Err(PageError::SignIn { next: None });
            }
            let body = body.await.map_err(|_| PageError::BadInput("form".into()))?;
            if !genuine(&req, &state, T::BOUND_TO, viewer.session.as_ref(), &body) {
                return Err(PageError::Forbidden);
            }
            serde_html_form::from_bytes::<T>(&body)
                .map(Form)
                .map_err(|_| PageError::BadInput("form".into()))
        })
    }
}

/// True when the body's `csrf` field was made for this viewer and this form's binding, and no
/// other site sent the request.
fn genuine(
    req: &HttpRequest,
    state: &AppState,
    bound_to: BoundTo,
    session: Option<&session::Session>,
    body: &[u8],
) -> bool {
    let token = url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let presession = super::presession::existing(req, state);
    let made_for_this_browser = binding(bound_to, session, presession.as_deref())
        .is_some_and(|(purpose, bound)| state.csrf.verify(purpose, &bound, &token));
    made_for_this_browser && !csrf::is_cross_origin(req, &state.public_base)
}
