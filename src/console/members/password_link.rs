//! A new set-password link for a member who lost theirs or forgot their password: only for an
//! account this org manages (it verified the email's domain), never the admin's own (that is
//! the account page, with the current password). The link is shown once, in the answer to the
//! POST that issued it.

use crate::console::form::{Button, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use super::{MemberView, acting, member_of_org, messages, page_error};
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, origin, render};
use crate::service::people::password_links;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "members/link.html")]
struct LinkPage {
    layout: OrgLayout,
    m: &'static Messages,
    name: String,
    user_path: String,
    url: String,
    expires_at: DateTime<Utc>,
}

impl LinkPage {
    fn intro(&self) -> String {
        let time = self.layout.date_time(&self.expires_at);
        crate::console::catalog::fill(self.m.link_intro, &[("name", &self.name), ("time", &time)])
    }
}

pub async fn new_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let MemberView { member } = member_of_org(&state, &admin, &req).await?;
    let origin = origin(&req, &state);
    let link = password_links::reissue(&state.pool, &acting(&admin, &origin), member.user_id)
        .await
        .map_err(page_error)?;
    tracing::info!(org_id = %admin.org_id, user_id = %member.user_id, "set-password link issued in the console");
    let page = LinkPage {
        layout: admin.layout.clone(),
        m: messages(admin.lang),
        name: member.display_name,
        user_path: admin.urls().member(member.user_id).to_string(),
        url: link.url(&state.public_base),
        expires_at: link.expires_at,
    };
    render(StatusCode::OK, &page)
}
