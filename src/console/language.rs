//! The language switch on every page: a POST (with the page's CSRF token) that remembers the
//! choice in a cookie and, once signed in, as the user's own setting.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::catalog::Lang;
use super::form::{BoundTo, ConsoleForm, Form};
use super::session::{self, Viewer};
use super::{PageError, redirect};
use crate::state::AppState;
use crate::store;

/// The purpose of the switch's token before sign-in (bound to the pre-session cookie).
const CSRF_PURPOSE: &str = "language";

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

/// Every page has the switch, signed in or not.
impl ConsoleForm for SwitchForm {
    const BOUND_TO: BoundTo = BoundTo::Viewer(CSRF_PURPOSE);
}

pub async fn switch(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: Form<SwitchForm>,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::from_tag(&form.lang).ok_or(PageError::NotFound)?;
    if let Some(session) = &viewer.session {
        let mut conn = state.pool.acquire().await?;
        store::users::set_locale(&mut conn, session.user_id(), lang.tag()).await?;
    }
    let back = redirect::local_path(&form.back).unwrap_or("/").to_owned();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", back))
        .cookie(session::lang_cookie(&state, lang))
        .finish())
}
