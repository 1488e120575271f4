//! Changing your password: the current one must verify, the new one follow the rules and be
//! repeated. The new hash, the end of every other session of the user and the
//! `user.password_changed` event are one transaction. Tries of the current password are
//! counted in `login_attempts` like sign-in attempts (per account: the session already names
//! it), before the password is checked, and after `WRONG_LIMIT` wrong ones the form refuses for
//! a while, so a stolen session cannot be used to guess the password and take the account over,
//! not even with many tries at once.

use crate::console::form::{ConsoleForm, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{AccountPage, record_own, saved};
use crate::auth::argon2id;
use crate::console::session::SignedIn;
use crate::console::{PageError, field_errors, origin, render};
use crate::domain::Action;
use crate::domain::password::NewPassword;
use crate::state::AppState;
use crate::store;

/// Wrong current passwords (over `store::login_attempts::WINDOW_MINUTES`) before the form
/// refuses even the right one for a while.
const WRONG_LIMIT: i64 = 5;

/// Carries passwords: deliberately not `Debug`.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

impl ConsoleForm for PasswordForm {}

async fn refuse(
    state: &AppState,
    signed: &SignedIn,
    req: &HttpRequest,
    status: StatusCode,
    errors: impl FnOnce(&mut AccountPage),
) -> Result<HttpResponse, PageError> {
    let mut page = AccountPage::load(state, signed, req).await?;
    errors(&mut page);
    render(status, &page)
}

pub async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    form: Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let t = signed.lang.messages();
    let m = crate::console::catalog::account::of(signed.lang);

    let current_missing = form.current_password.is_empty();
    let new = NewPassword::parse(&form.new_password);
    let repeat_error = new
        .as_ref()
        .ok()
        .and_then(|new| new.confirm(&form.repeat_password).err());
    let new = match (new, current_missing, repeat_error) {
        (Ok(new), false, None) => new,
        (new, current_missing, repeat_error) => {
            return refuse(&state, &signed, &req, StatusCode::UNPROCESSABLE_ENTITY, |page| {
                page.errors.current_password = current_missing.then_some(m.current_password_required);
                page.errors.new_password = new.err().map(|e| field_errors::password(t, &e));
                page.errors.repeat_password = repeat_error.map(|e| field_errors::password(t, &e));
            })
            .await;
        }
    };

    let user_id = signed.session.user_id();
    let subject = [format!("password-change:{user_id}")];
    let (tries, old_hash) = {
        let mut conn = state.pool.acquire().await?;
        // Counted before the password is checked: `tries` includes this one.
        let counted = store::login_attempts::count_attempt(&mut conn, &subject).await?;
        let hash = store::users::password_hash(&mut conn, user_id).await?;
        (counted.attempts.first().copied().unwrap_or(i64::MAX), hash)
    };
    if tries > WRONG_LIMIT {
        tracing::info!(%user_id, "password change refused: too many wrong current passwords");
        return refuse(&state, &signed, &req, StatusCode::TOO_MANY_REQUESTS, |page| {
            page.errors.current_password = Some(m.current_password_throttled);
        })
        .await;
    }
    let matches = match old_hash.clone() {
        Some(hash) => {
            let current = form.current_password;
            state
                .people_argon2
                .run(move || argon2id::verify(current.as_bytes(), &hash))
                .await
                .map_err(|e| PageError::Internal(e.into()))?
        }
        None => false,
    };
    let (true, Some(old_hash)) = (matches, old_hash) else {
        tracing::info!(%user_id, "password change refused: wrong current password");
        return refuse(&state, &signed, &req, StatusCode::UNPROCESSABLE_ENTITY, |page| {
            page.errors.current_password = Some(m.current_password_wrong);
        })
        .await;
    };

    let new_hash = crate::console::hash_password(&state, &new).await?;

    let mut tx = state.pool.begin().await?;
    if !store::users::replace_password_hash(&mut tx, user_id, &old_hash, &new_hash).await? {
        // Changed meanwhile (another tab, a set-password link): the current password checked
        // is no longer the current one.
        drop(tx);
        return refuse(&state, &signed, &req, StatusCode::UNPROCESSABLE_ENTITY, |page| {
            page.errors.current_password = Some(m.current_password_wrong);
        })
        .await;
    }
    let ended = store::sessions::delete_others(&mut tx, user_id, &signed.session.id_hash).await?;
    let details = serde_json::json!({ "sessions_ended": ended });
    record_own(
        &mut tx,
        user_id,
        Action::PasswordChanged,
        &origin(&req, &state),
        details,
    )
    .await?;
    store::login_attempts::clear(&mut tx, &subject[0]).await?;
    tx.commit().await?;
    tracing::info!(%user_id, sessions_ended = ended, "password changed");
    Ok(saved("password"))
}
