//! The profile forms of your account: display name, language and time zone. Each change is
//! recorded as `user.profile_updated` naming the field, as the user-management API records it.

use crate::console::form::{ConsoleForm, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use super::{AccountPage, record_own, saved, zones};
use crate::console::catalog::Lang;
use crate::console::session::{self, SignedIn};
use crate::console::{PageError, field_errors, origin, render};
use crate::domain::{Action, DisplayName};
use crate::state::AppState;
use crate::store;
use crate::store::audit::Origin;

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
}

impl ConsoleForm for NameForm {}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
}

impl ConsoleForm for LanguageForm {}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    zone: String,
}

impl ConsoleForm for ZoneForm {}

/// Records that the user changed `field` of their profile, in the transaction of the change.
async fn profile_updated(
    tx: &mut sqlx::PgConnection,
    user_id: Uuid,
    origin: &Origin,
    field: &str,
) -> Result<(), sqlx::Error> {
    let details = serde_json::json!({ "fields": [field] });
    record_own(tx, user_id, Action::UserProfileUpdated, origin, details).await
}

pub async fn save_name(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    form: Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    let name = match DisplayName::parse(&form.display_name) {
        Ok(name) => name,
        Err(err) => {
            let mut page = AccountPage::load(&state, &signed, &req).await?;
            page.display_name = form.display_name.clone();
            page.errors.display_name = Some(field_errors::name(page.layout.t, &err));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if name.as_str() != signed.session.user.display_name {
        let user_id = signed.session.user_id();
        let mut tx = state.pool.begin().await?;
        store::users::set_display_name(&mut tx, user_id, &name).await?;
        profile_updated(&mut tx, user_id, &origin(&req, &state), "name").await?;
        tx.commit().await?;
    }
    Ok(saved("profile"))
}

pub async fn save_language(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    form: Form<LanguageForm>,
) -> Result<HttpResponse, PageError> {
    let Some(lang) = Lang::ALL.into_iter().find(|lang| lang.tag() == form.language) else {
        let mut page = AccountPage::load(&state, &signed, &req).await?;
        page.errors.language = Some(page.m.language_unknown);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let user_id = signed.session.user_id();
    if signed.session.user.locale.as_deref() != Some(lang.tag()) {
        let mut tx = state.pool.begin().await?;
        store::users::set_locale(&mut tx, user_id, lang.tag()).await?;
        profile_updated(&mut tx, user_id, &origin(&req, &state), "locale").await?;
        tx.commit().await?;
    }
    let mut res = saved("language");
    res.add_cookie(&session::lang_cookie(&state, lang))
        .map_err(|e| PageError::Internal(e.into()))?;
    Ok(res)
}

pub async fn save_time_zone(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    form: Form<ZoneForm>,
) -> Result<HttpResponse, PageError> {
    let current = zones::zone_of(signed.session.user.zoneinfo.as_deref());
    // The user's own zone is accepted as it is, even an alias the choice leaves out.
    let chosen = zones::parse(&form.zone).or((form.zone == current.name()).then_some(current));
    let Some(zone) = chosen else {
        let mut page = AccountPage::load(&state, &signed, &req).await?;
        page.errors.zone = Some(page.m.time_zone_unknown);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if signed.session.user.zoneinfo.as_deref() != Some(zone.name()) {
        let user_id = signed.session.user_id();
        let mut tx = state.pool.begin().await?;
        store::users::set_zoneinfo(&mut tx, user_id, Some(zone.name())).await?;
        profile_updated(&mut tx, user_id, &origin(&req, &state), "zoneinfo").await?;
        tx.commit().await?;
    }
    Ok(saved("time-zone"))
}
