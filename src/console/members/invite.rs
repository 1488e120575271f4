//! Inviting people: the form (an email and a role), the invitation link shown once in the answer
//! to the POST that made it, and, for the pending invitations the members list shows, a new link
//! or revocation. The answer to the inviter is the same whether the address has an account.

use crate::console::form::{Button, ConsoleForm, Form};
use crate::console::redirect;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{acting, messages, page_error};
use crate::console::catalog::invitations::{self as catalog, Messages as InvitationMessages};
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, field_errors, origin, render};
use crate::domain::Email;
use crate::domain::member::Role;
use crate::service::people::PeopleError;
use crate::service::people::invitations::{self, InvitationLink};
use crate::state::AppState;

/// What the admin typed, shown again beside any error.
#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

impl ConsoleForm for InviteForm {}

#[derive(Debug, Default)]
struct FieldErrors {
    email: Option<String>,
    role: Option<String>,
}

#[derive(Template)]
#[template(path = "members/invite.html")]
struct InvitePage {
    layout: OrgLayout,
    m: &'static Messages,
    i: &'static InvitationMessages,
    form: InviteForm,
    errors: FieldErrors,
}

impl InvitePage {
    fn role_is(&self, role: &str) -> bool {
        self.form.role == role
    }
}

/// The one page that shows an invitation link: the answer to the POST that issued it.
#[derive(Template)]
#[template(path = "members/invited.html")]
struct InvitedPage {
    layout: OrgLayout,
    i: &'static InvitationMessages,
    m: &'static Messages,
    url: String,
    intro: String,
}

impl InvitedPage {
    fn new(layout: OrgLayout, m: &'static Messages, link: &InvitationLink, public_base: &str) -> InvitedPage {
        let i = catalog::of(layout.lang);
        let role = i.as_role(link.role);
        let time = layout.date_time(&link.expires_at);
        let intro = crate::console::catalog::fill(
            i.invited_intro,
            &[("email", &link.email), ("time", &time), ("role", role)],
        );
        InvitedPage {
            layout,
            i,
            m,
            url: link.url(public_base),
            intro,
        }
    }
}

pub async fn form(admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let page = InvitePage {
        layout: admin.layout.clone(),
        m: messages(admin.lang),
        i: catalog::of(admin.lang),
        form: InviteForm {
            role: "member".into(),
            ..InviteForm::default()
        },
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page)
}

pub async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<InviteForm>,
) -> Result<HttpResponse, PageError> {
    let layout = admin.layout.clone();
    let (t, m) = (layout.t, messages(admin.lang));
    let mut page = InvitePage {
        layout,
        m,
        i: catalog::of(admin.lang),
        form: form.into_inner(),
        errors: FieldErrors::default(),
    };
    let email = Email::parse(&page.form.email)
        .map_err(|e| page.errors.email = Some(field_errors::email(t, &e)))
        .ok();
    let role = match page.form.role.as_str() {
        "admin" => Some(Role::Admin),
        "member" => Some(Role::Member),
        _ => {
            page.errors.role = Some(m.role_invalid.to_owned());
            None
        }
    };
    let (Some(email), Some(role)) = (email, role) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let origin = origin(&req, &state);
    match invitations::invite(&state.pool, &acting(&admin, &origin), &email, role).await {
        Ok(link) => {
            tracing::info!(org_id = %admin.org_id, invitation_id = %link.id, "invitation sent in the console");
            let page = InvitedPage::new(page.layout, m, &link, &state.public_base);
            render(StatusCode::OK, &page)
        }
        Err(PeopleError::AlreadyMember) => {
            page.errors.email = Some(m.already_member.to_owned());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(other) => Err(page_error(other)),
    }
}

/// The invitation the path names: any other id is 404.
fn invitation_id(req: &HttpRequest) -> Result<Uuid, PageError> {
    req.match_info()
        .get("invitationId")
        .and_then(|id| id.parse().ok())
        .ok_or(PageError::NotFound)
}

/// A new link for a pending invitation of this org; the earlier one stops working.
pub async fn new_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let id = invitation_id(&req)?;
    let origin = origin(&req, &state);
    let link = match invitations::reissue(&state.pool, &acting(&admin, &origin), id).await {
        Err(PeopleError::NotFound) => return gone(&admin),
        other => other.map_err(page_error)?,
    };
    tracing::info!(org_id = %admin.org_id, invitation_id = %id, "invitation link issued again in the console");
    let page = InvitedPage::new(admin.layout.clone(), messages(admin.lang), &link, &state.public_base);
    render(StatusCode::OK, &page)
}

/// Revokes a pending invitation of this org, then back to the members list, which says so.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let id = invitation_id(&req)?;
    let origin = origin(&req, &state);
    match invitations::revoke(&state.pool, &acting(&admin, &origin), id).await {
        Ok(_) => {}
        Err(PeopleError::NotFound) => return gone(&admin),
        Err(other) => return Err(page_error(other)),
    }
    tracing::info!(org_id = %admin.org_id, invitation_id = %id, "invitation revoked in the console");
    Ok(redirect::to(admin.urls().members().with("revoked", id)))
}

/// The answer when the invitation is no longer pending (accepted or revoked meanwhile, or never
/// this org's): the members list, which shows what is pending now.
fn gone(admin: &OrgAdmin) -> Result<HttpResponse, PageError> {
    let page = GonePage {
        layout: admin.layout.clone(),
        i: catalog::of(admin.lang),
        m: messages(admin.lang),
    };
    render(StatusCode::CONFLICT, &page)
}

#[derive(Template)]
#[template(path = "members/invitation_gone.html")]
struct GonePage {
    layout: OrgLayout,
    i: &'static InvitationMessages,
    m: &'static Messages,
}
