//! Ending your other sessions: all of them ("sign out everywhere else") or one, named by its
//! public id. This session stays: the header's sign-out ends it. Both are recorded as
//! `user.other_sessions_ended` with how many ended (and which, for one).

use crate::console::form::{Button, Form};
use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::{record_own, saved};
use crate::console::session::SignedIn;
use crate::console::{PageError, origin};
use crate::domain::Action;
use crate::state::AppState;
use crate::store;

pub async fn end_others(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let user_id = signed.session.user_id();
    let mut tx = state.pool.begin().await?;
    let ended = store::sessions::delete_others(&mut tx, user_id, &signed.session.id_hash).await?;
    let details = serde_json::json!({ "sessions_ended": ended });
    record_own(
        &mut tx,
        user_id,
        Action::OtherSessionsEnded,
        &origin(&req, &state),
        details,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%user_id, sessions_ended = ended, "signed out everywhere else");
    Ok(saved("others"))
}

pub async fn end_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let public_id: Uuid = path.parse().map_err(|_| PageError::NotFound)?;
    let user_id = signed.session.user_id();
    let mut tx = state.pool.begin().await?;
    // Another user's session, this one, or none at all: the same 404.
    if !store::sessions::delete_other(&mut tx, user_id, public_id, &signed.session.id_hash).await? {
        return Err(PageError::NotFound);
    }
    let details = serde_json::json!({ "sessions_ended": 1, "session": public_id });
    record_own(
        &mut tx,
        user_id,
        Action::OtherSessionsEnded,
        &origin(&req, &state),
        details,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%user_id, session = %public_id, "signed out one other session");
    Ok(saved("session"))
}
