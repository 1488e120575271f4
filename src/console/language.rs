//! The language switch on every page: a POST (with the page's CSRF token) that remembers the
//! choice in a cookie and, once signed in, as the user's own setting.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::catalog::Lang;
use super::session::{self, Viewer};
use super::{PageError, presession, redirect};
use crate::auth::csrf;
use crate::state::AppState;
use crate::store;

/// The purpose of the switch's token before sign-in (bound to the pre-session cookie).
pub const CSRF_PURPOSE: &str = "language";

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, PageError> {
    match &viewer.session {
        Some(session) => session.check_form(&req, &state, &form.csrf)?,
        None => {
            let genuine = presession::existing(&req, &state)
                .is_some_and(|value| state.csrf.verify(CSRF_PURPOSE, &value, &form.csrf));
            if !genuine || csrf::is_cross_origin(&req, &state.public_base) {
                return Err(PageError::Forbidden);
            }
        }
    }
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
