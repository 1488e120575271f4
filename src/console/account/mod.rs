//! Your account: display name, language, time zone, password, and your signed-in sessions. A
//! person's own page, whatever org they administer (so the layout shows no org bar); each form
//! posts to its own path and comes back to `/account?saved=...`, or is shown again (422) with
//! its errors beside its fields and nothing changed.

pub mod password;
pub mod profile;
pub mod sessions;
mod zones;

use crate::console::urls::Site;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::catalog::{self, Lang};
use super::session::SignedIn;
use super::{Layout, PageError, render};
use crate::domain::Action;
use crate::domain::actor::Actor;
use crate::state::AppState;
use crate::store;
use crate::store::audit::{NewEvent, Origin};

pub use zones::zone_of;

/// Records something the user did to their own account in the audit log of every org they
/// administer, so each org's admins see it; in no org's (org_id null) when they administer
/// none, so it is still recorded. Run it in the transaction of the change.
pub async fn record_own(
    conn: &mut PgConnection,
    user_id: Uuid,
    action: Action,
    origin: &Origin,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let orgs = store::users::administered_org_ids(conn, user_id).await?;
    let orgs: Vec<Option<Uuid>> = match orgs.is_empty() {
        true => vec![None],
        false => orgs.into_iter().map(Some).collect(),
    };
    for org_id in orgs {
        store::audit::record(
            conn,
            NewEvent {
                org_id,
                actor: Actor::User(user_id),
                action,
                target_kind: Some("user"),
                target_id: Some(user_id.to_string()),
                ip: origin.ip,
                user_agent: origin.user_agent(),
                details: details.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

/// A zone as the select offers it.
pub struct ZoneChoice {
    name: &'static str,
    label: String,
}

/// One live session of the user, as the list shows it.
pub struct SessionView {
    public_id: Uuid,
    listing: store::sessions::SessionListing,
    current: bool,
}

impl SessionView {
    fn address(&self) -> Option<String> {
        self.listing.ip.map(|ip| ip.to_string())
    }
}

/// The errors of the page's forms, each shown beside its field.
#[derive(Default)]
pub struct Errors {
    display_name: Option<String>,
    language: Option<&'static str>,
    zone: Option<&'static str>,
    current_password: Option<&'static str>,
    new_password: Option<String>,
    repeat_password: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.display_name.is_some()
            || self.language.is_some()
            || self.zone.is_some()
            || self.current_password.is_some()
            || self.new_password.is_some()
            || self.repeat_password.is_some()
    }
}

#[derive(Template)]
#[template(path = "account/show.html")]
pub struct AccountPage {
    layout: Layout,
    m: &'static catalog::account::Messages,
    notice: Option<&'static str>,
    email: String,
    display_name: String,
    language: &'static str,
    zone: &'static str,
    zones: Vec<ZoneChoice>,
    sessions: Vec<SessionView>,
    errors: Errors,
}

impl AccountPage {
    /// The page as the database has it now, for this session.
    async fn load(state: &AppState, signed: &SignedIn, req: &HttpRequest) -> Result<AccountPage, PageError> {
        let session = &signed.session;
        let mut conn = state.pool.acquire().await?;
        let listings = store::sessions::list_live(&mut conn, session.user_id()).await?;
        let mut layout = Layout::signed_in(signed.lang, session, state, req);
        // The language switch comes back to this page, not to the path a form posted to.
        layout.here = Site.account().to_string();
        let zone = layout.zone.name();
        Ok(AccountPage {
            m: catalog::account::of(signed.lang),
            notice: None,
            email: session.user.email.clone(),
            display_name: session.user.display_name.clone(),
            language: signed.lang.tag(),
            zone,
            zones: zones::offered(layout.zone)
                .map(|zone| ZoneChoice {
                    name: zone.name(),
                    label: zones::label(zone),
                })
                .collect(),
            sessions: listings
                .into_iter()
                .map(|listing| SessionView {
                    public_id: listing.public_id,
                    current: listing.public_id == session.user.public_id,
                    listing,
                })
                .collect(),
            errors: Errors::default(),
            layout,
        })
    }

    fn langs(&self) -> [Lang; 2] {
        Lang::ALL
    }

    fn has_other_sessions(&self) -> bool {
        self.sessions.iter().any(|s| !s.current)
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    saved: String,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: SignedIn,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, PageError> {
    let mut page = AccountPage::load(&state, &signed, &req).await?;
    let m = page.m;
    page.notice = match query.saved.as_str() {
        "profile" => Some(m.saved_profile),
        "language" => Some(m.saved_language),
        "time-zone" => Some(m.saved_time_zone),
        "password" => Some(m.saved_password),
        "others" => Some(m.ended_others),
        "session" => Some(m.ended_one),
        _ => None,
    };
    render(StatusCode::OK, &page)
}

/// Back to the page, saying what was saved.
fn saved(what: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", Site.account().with("saved", what).to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}
