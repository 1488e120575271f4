//! Adding a member: an existing account by its email, or a new account (managed by this org)
//! whose one-time set-password link the response shows once. And a new link for a member who
//! lost theirs, only for accounts this org manages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{MemberView, acting, member_of_org, member_path, messages};
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{Layout, PageError, field_errors, origin, render};
use crate::domain::{DisplayName, Email};
use crate::people::{self, PeopleError, password_links};
use crate::state::AppState;
use crate::store;
use crate::store::memberships::Role;

/// What the admin typed, shown again beside any error.
#[derive(Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Default)]
struct FieldErrors {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

#[derive(Template)]
#[template(path = "members/new.html")]
struct AddPage {
    layout: Layout,
    m: &'static Messages,
    form: AddForm,
    errors: FieldErrors,
}

impl AddPage {
    fn role_is(&self, role: &str) -> bool {
        self.form.role == role
    }
}

/// The one page that shows a set-password link: the answer to the POST that issued it.
#[derive(Template)]
#[template(path = "members/link.html")]
struct LinkPage {
    layout: Layout,
    m: &'static Messages,
    name: String,
    user_path: String,
    url: String,
    expires_at: DateTime<Utc>,
    created: bool,
}

impl LinkPage {
    fn intro(&self) -> String {
        let time = self.layout.date_time(&self.expires_at);
        crate::console::catalog::fill(self.m.link_intro, &[("name", &self.name), ("time", &time)])
    }
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>, admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let page = AddPage {
        layout: Layout::for_org(&admin, &state, &req),
        m: messages(admin.lang),
        form: AddForm {
            role: "member".into(),
            ..AddForm::default()
        },
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page)
}

pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, PageError> {
    admin.session.check_form(&req, &state, &form.csrf)?;
    let layout = Layout::for_org(&admin, &state, &req);
    let (t, m) = (layout.t, messages(admin.lang));
    let mut page = AddPage {
        layout,
        m,
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
    let name = match page.form.name.trim() {
        "" => None,
        name => DisplayName::parse(name)
            .map_err(|e| page.errors.name = Some(field_errors::name(t, &e)))
            .ok(),
    };
    let (Some(email), Some(role), None) = (email, role, page.errors.name.as_ref()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    let existing = {
        let mut conn = state.pool.acquire().await?;
        store::users::find_by_email(&mut conn, &email).await?
    };
    let origin = origin(&req, &state);
    let acting = acting(&admin, &origin);
    let refusal = match (existing, name) {
        (Some(user), _) => match people::add_member(&state.pool, &acting, user.id, role).await {
            Ok(()) => {
                tracing::info!(org_id = %admin.org_id, user_id = %user.id, "member added in the console");
                let to = format!("/o/{}/settings/members?added={}", admin.org_id, user.id);
                return Ok(HttpResponse::SeeOther().insert_header(("Location", to)).finish());
            }
            Err(err) => err,
        },
        (None, None) => {
            page.errors.name = Some(m.no_account_needs_name.to_owned());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        (None, Some(name)) => match people::create_member(&state.pool, &acting, &email, &name, role).await {
            Ok((user_id, link)) => {
                tracing::info!(org_id = %admin.org_id, user_id = %user_id, "account created in the console");
                let page = LinkPage {
                    layout: page.layout,
                    m,
                    name: name.as_str().to_owned(),
                    user_path: member_path(admin.org_id, user_id),
                    url: link.url(&state.public_base),
                    expires_at: link.expires_at,
                    created: true,
                };
                return render(StatusCode::OK, &page);
            }
            Err(err) => err,
        },
    };
    page.errors.email = Some(match refusal {
        PeopleError::AlreadyMember => m.already_member.to_owned(),
        PeopleError::EmailTaken => m.email_taken.to_owned(),
        other => return Err(page_error(other)),
    });
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// A new set-password link for a member whose account this org manages; any other account is
/// refused, so an admin of one org can never take over an account another org manages.
pub async fn new_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    admin.session.check_form(&req, &state, &form.csrf)?;
    let MemberView { member } = member_of_org(&state, &admin, &req).await?;
    let origin = origin(&req, &state);
    let link = password_links::reissue(&state.pool, &acting(&admin, &origin), member.user_id)
        .await
        .map_err(page_error)?;
    tracing::info!(org_id = %admin.org_id, user_id = %member.user_id, "set-password link issued in the console");
    let page = LinkPage {
        layout: Layout::for_org(&admin, &state, &req),
        m: messages(admin.lang),
        name: member.display_name,
        user_path: member_path(admin.org_id, member.user_id),
        url: link.url(&state.public_base),
        expires_at: link.expires_at,
        created: false,
    };
    render(StatusCode::OK, &page)
}

/// The page a refusal of `people` ends in, where no form shows it.
pub(super) fn page_error(err: PeopleError) -> PageError {
    match err {
        PeopleError::NotFound => PageError::NotFound,
        PeopleError::NotManaged | PeopleError::Disabled => PageError::Forbidden,
        PeopleError::Database(db) => PageError::Unavailable(db),
        PeopleError::Standing(standing) => standing.into(),
        other => PageError::Internal(other.to_string()),
    }
}
