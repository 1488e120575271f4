//! One-step offboarding: removing, suspending or demoting a member. The confirmation lists every
//! active key they answer for; one POST makes the change and revokes those keys in the same
//! transaction (always on removal, by default on suspension and demotion), and its answer lists
//! what was revoked. The last admin is refused, on the confirmation and on the POST.

use crate::console::form::{Button, ConsoleForm, Form};
use crate::console::redirect;
use crate::console::urls::{OrgUrls, Site, Url};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::page_error;
use super::{MemberView, acting, is_last_admin, member_of_org, messages};
use crate::console::api_keys::view::KeyView;
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, origin, render};
use crate::domain::api_key::ApiKey;
use crate::domain::member::Role;
use crate::service::people::{self, KeyHandover, PeopleError, Removal};
use crate::state::AppState;
use crate::store;

/// The three ways an admin leaves a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Remove,
    Suspend,
    Demote,
}

impl Step {
    /// Where the confirmation posts.
    pub fn url(self, org: &OrgUrls, user: uuid::Uuid) -> Url {
        match self {
            Step::Remove => org.remove_member(user),
            Step::Suspend => org.suspend_member(user),
            Step::Demote => org.member_role(user),
        }
    }

    pub fn title(self, m: &'static Messages) -> &'static str {
        match self {
            Step::Remove => m.remove_title,
            Step::Suspend => m.suspend_title,
            Step::Demote => m.demote_title,
        }
    }

    pub fn explained(self, m: &'static Messages) -> &'static str {
        match self {
            Step::Remove => m.remove_explained,
            Step::Suspend => m.suspend_explained,
            Step::Demote => m.demote_explained,
        }
    }

    pub fn confirm(self, m: &'static Messages) -> &'static str {
        match self {
            Step::Remove => m.confirm_remove,
            Step::Suspend => m.confirm_suspend,
            Step::Demote => m.confirm_demote,
        }
    }

    pub fn done(self, m: &'static Messages) -> &'static str {
        match self {
            Step::Remove => m.removed_title,
            Step::Suspend => m.suspended_title,
            Step::Demote => m.demoted_title,
        }
    }

    /// Removal always revokes: a removed member answers for nothing any more.
    pub fn keys_optional(self) -> bool {
        self != Step::Remove
    }
}

#[derive(Template)]
#[template(path = "members/confirm.html")]
struct ConfirmPage {
    layout: OrgLayout,
    m: &'static Messages,
    step: Step,
    view: MemberView,
    keys: Vec<KeyView>,
    refused: bool,
}

impl ConfirmPage {
    fn step_url(&self) -> Url {
        self.step.url(&self.layout.org.urls, self.view.member.user_id)
    }
}

#[derive(Template)]
#[template(path = "members/done.html")]
pub(super) struct DonePage {
    pub layout: OrgLayout,
    pub m: &'static Messages,
    pub title: String,
    pub changed: bool,
    pub revoked: Vec<ApiKey>,
    pub back: String,
    pub back_label: &'static str,
}

async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    step: Step,
) -> Result<HttpResponse, PageError> {
    let view = member_of_org(&state, &admin, &req).await?;
    if step == Step::Demote && !view.is_admin() {
        return Err(PageError::NotFound);
    }
    let refused = is_last_admin(&state, admin.org_id, view.member.user_id).await?;
    let status = if refused { StatusCode::CONFLICT } else { StatusCode::OK };
    let page = confirm_page(&state, &admin, step, view, refused).await?;
    render(status, &page)
}

async fn confirm_page(
    state: &AppState,
    admin: &OrgAdmin,
    step: Step,
    view: MemberView,
    refused: bool,
) -> Result<ConfirmPage, PageError> {
    let keys = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::active_answered_for(&mut conn, admin.org_id, view.member.user_id).await?
    };
    let now = Utc::now();
    Ok(ConfirmPage {
        layout: admin.layout.clone(),
        m: messages(admin.lang),
        step,
        view,
        keys: keys.into_iter().map(|key| KeyView::new(key, now)).collect(),
        refused,
    })
}

pub async fn confirm_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
) -> Result<HttpResponse, PageError> {
    confirm(req, state, admin, Step::Remove).await
}

pub async fn confirm_suspend(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
) -> Result<HttpResponse, PageError> {
    confirm(req, state, admin, Step::Suspend).await
}

pub async fn confirm_demote(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
) -> Result<HttpResponse, PageError> {
    confirm(req, state, admin, Step::Demote).await
}

/// A confirmation's answer. `revoke_keys` is the checkbox: present (checked) or absent.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    revoke_keys: Option<String>,
    #[serde(default)]
    role: String,
}

impl ConsoleForm for StepForm {}

impl StepForm {
    fn handover(&self) -> KeyHandover {
        if self.revoke_keys.is_some() {
            KeyHandover::Revoke
        } else {
            KeyHandover::Keep
        }
    }
}

async fn take_step(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: StepForm,
    step: Step,
) -> Result<HttpResponse, PageError> {
    let view = member_of_org(&state, &admin, &req).await?;
    let origin = origin(&req, &state);
    let acting = acting(&admin, &origin);
    let user_id = view.member.user_id;
    let verifier = Some(&state.verifier);
    let outcome = match step {
        Step::Remove => people::remove(&state.pool, verifier, &acting, user_id).await,
        Step::Suspend => people::suspend(&state.pool, verifier, &acting, user_id, form.handover()).await,
        Step::Demote => people::set_role(&state.pool, verifier, &acting, user_id, Role::Member, form.handover()).await,
    };
    let Removal { changed, revoked_keys } = match outcome {
        Ok(removal) => removal,
        Err(PeopleError::LastAdmin) => {
            let page = confirm_page(&state, &admin, step, view, true).await?;
            return render(StatusCode::CONFLICT, &page);
        }
        Err(err) => return Err(page_error(err)),
    };
    tracing::info!(
        org_id = %admin.org_id, user_id = %user_id, step = ?step, revoked = revoked_keys.len(),
        "member offboarded in the console"
    );
    let m = messages(admin.lang);
    let layout = admin.layout.clone();
    let revoked = revoked_list(&state, admin.org_id, &revoked_keys).await?;
    let (back, back_label) = match step {
        // Leaving an admin role oneself: this org's pages are closed to you from now on.
        _ if user_id == admin.session.user_id() => (Site.orgs().to_string(), layout.t.switch_org),
        Step::Remove => (layout.org.urls.members().to_string(), m.back_to_members),
        _ => (layout.org.urls.member(user_id).to_string(), m.to_member),
    };
    let page = DonePage {
        title: layout.fill(step.done(m), "name", &view.member.display_name),
        layout,
        m,
        changed,
        revoked,
        back,
        back_label,
    };
    render(StatusCode::OK, &page)
}

/// The revoked keys, by name, for the result page.
pub(super) async fn revoked_list(
    state: &AppState,
    org_id: uuid::Uuid,
    revoked: &[(uuid::Uuid, String)],
) -> Result<Vec<ApiKey>, PageError> {
    let ids: Vec<uuid::Uuid> = revoked.iter().map(|(id, _)| *id).collect();
    let mut conn = state.pool.acquire().await?;
    Ok(store::api_keys::by_ids(&mut conn, org_id, &ids).await?)
}

pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    take_step(req, state, admin, form.into_inner(), Step::Remove).await
}

pub async fn suspend(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    take_step(req, state, admin, form.into_inner(), Step::Suspend).await
}

/// `role=member` is the demotion the confirmation posts; `role=admin` makes a member an admin
/// (nothing to revoke, so no confirmation).
pub async fn set_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    match form.role.as_str() {
        "member" => take_step(req, state, admin, form, Step::Demote).await,
        "admin" => {
            let view = member_of_org(&state, &admin, &req).await?;
            let origin = origin(&req, &state);
            let acting = acting(&admin, &origin);
            people::set_role(
                &state.pool,
                None,
                &acting,
                view.member.user_id,
                Role::Admin,
                KeyHandover::Keep,
            )
            .await
            .map_err(page_error)?;
            Ok(redirect::to(
                admin.urls().member(view.member.user_id).with("done", "role"),
            ))
        }
        _ => Err(PageError::NotFound),
    }
}

pub async fn restore(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let view = member_of_org(&state, &admin, &req).await?;
    let origin = origin(&req, &state);
    people::restore(&state.pool, &acting(&admin, &origin), view.member.user_id)
        .await
        .map_err(page_error)?;
    Ok(redirect::to(
        admin.urls().member(view.member.user_id).with("done", "restored"),
    ))
}
