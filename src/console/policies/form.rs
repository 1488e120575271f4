//! Creating and editing a policy: an allowlist as a textarea of addresses and CIDR ranges, one
//! per line, or a lifetime as a number of days; a name; enabled or not. The entries go through
//! the same domain parsing as the admin API's (`PolicyRule::parse` on the rule the API would be
//! sent), so both accept and refuse exactly the same; a refused entry is answered beside its
//! field naming its line, and nothing is written.

use crate::console::form::{ConsoleForm, Form};
use std::net::IpAddr;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::view::{Policy, back_to_list, change, policy_of_org, requester_ip};
use crate::console::catalog::{self, Messages, fill};
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, field_errors, origin, render};
use crate::domain::PolicyName;
use crate::domain::policy::{Allowlist, PolicyError, PolicyKind, PolicyRule, PolicyStatus};
use crate::service::policies::PolicyInput;
use crate::state::AppState;

/// The form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PolicyForm {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub ranges: String,
    pub max_days: String,
    /// The checkbox: present when checked.
    #[serde(deserialize_with = "checked")]
    pub enabled: bool,
}

impl ConsoleForm for PolicyForm {}

/// A checkbox's field: present (whatever its value) when checked.
fn checked<'de, D: serde::Deserializer<'de>>(field: D) -> Result<bool, D::Error> {
    <String as serde::Deserialize>::deserialize(field).map(|_| true)
}

impl PolicyForm {
    /// The form filled with a stored policy.
    fn of(policy: &Policy) -> PolicyForm {
        PolicyForm {
            kind: policy.kind.name().to_owned(),
            name: policy.row.name.clone(),
            ranges: policy.ranges().join("\n"),
            max_days: policy.max_days().map(|d| d.to_string()).unwrap_or_default(),
            enabled: policy.enabled,
        }
    }

    /// The allowlist's non-blank lines with their line numbers (from 1), as the textarea shows
    /// them.
    fn range_lines(&self) -> Vec<(usize, &str)> {
        self.ranges
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(at, line)| (at + 1, line))
            .collect()
    }

    /// The typed allowlist, when it reads as one.
    fn allowlist(&self) -> Option<Allowlist> {
        Allowlist::parse(self.range_lines().into_iter().map(|(_, line)| line)).ok()
    }
}

/// What is wrong with each field, in the viewer's language.
#[derive(Debug, Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub ranges: Option<String>,
    pub max_days: Option<String>,
}

impl FieldErrors {
    pub fn any(&self) -> bool {
        self.name.is_some() || self.ranges.is_some() || self.max_days.is_some()
    }
}

/// The rule of the form, parsed as the API parses the rule it is sent.
fn rule_of(form: &PolicyForm, kind: PolicyKind, m: &catalog::policies::Messages) -> Result<PolicyRule, String> {
    match kind {
        PolicyKind::IpAllowlist => {
            let lines = form.range_lines();
            let rule = json!({ "in": lines.iter().map(|(_, line)| *line).collect::<Vec<_>>() });
            PolicyRule::parse(kind, &rule).map_err(|err| match err {
                PolicyError::Range { index, value } => {
                    let line = lines.get(index).map_or(index + 1, |(line, _)| *line);
                    fill(m.range_bad, &[("line", &line.to_string()), ("value", &value)])
                }
                PolicyError::TooManyRanges => fill(m.ranges_too_many, &[("n", &Allowlist::MAX_RANGES.to_string())]),
                _ => m.ranges_empty.to_owned(),
            })
        }
        PolicyKind::KeyLifetime => {
            let days = form.max_days.trim().parse::<i64>().map_err(|_| m.days_bad.to_owned())?;
            PolicyRule::parse(kind, &json!({ "maxDays": days })).map_err(|_| m.days_bad.to_owned())
        }
    }
}

fn parse(
    form: &PolicyForm,
    kind: PolicyKind,
    resources: serde_json::Value,
    t: &Messages,
    m: &catalog::policies::Messages,
) -> Result<PolicyInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = PolicyName::parse(&form.name)
        .map_err(|e| errors.name = Some(field_errors::name(t, &e)))
        .ok();
    let rule = match rule_of(form, kind, m) {
        Ok(rule) => Some(rule),
        Err(message) => {
            match kind {
                PolicyKind::IpAllowlist => errors.ranges = Some(message),
                PolicyKind::KeyLifetime => errors.max_days = Some(message),
            }
            None
        }
    };
    match (name, rule) {
        (Some(name), Some(rule)) => Ok(PolicyInput {
            name,
            status: if form.enabled {
                PolicyStatus::Enabled
            } else {
                PolicyStatus::Disabled
            },
            rule,
            resources,
        }),
        _ => Err(errors),
    }
}

#[derive(Template)]
#[template(path = "policies/form.html")]
struct FormPage {
    layout: OrgLayout,
    m: &'static catalog::policies::Messages,
    kind: PolicyKind,
    /// The policy being edited; None for a new one.
    policy_id: Option<Uuid>,
    form: PolicyForm,
    errors: FieldErrors,
    your_ip: Option<String>,
    /// The typed or stored allowlist leaves out the requester's address.
    excludes_you: bool,
    max_ranges: usize,
}

impl FormPage {
    fn is_allowlist(&self) -> bool {
        self.kind == PolicyKind::IpAllowlist
    }

    fn title(&self) -> &'static str {
        match (self.kind, self.policy_id.is_some()) {
            (PolicyKind::IpAllowlist, false) => self.m.new_allowlist_title,
            (PolicyKind::IpAllowlist, true) => self.m.edit_allowlist_title,
            (PolicyKind::KeyLifetime, false) => self.m.new_lifetime_title,
            (PolicyKind::KeyLifetime, true) => self.m.edit_lifetime_title,
        }
    }

    /// Where the form posts.
    fn action(&self) -> crate::console::urls::Url {
        match self.policy_id {
            Some(id) => self.layout.org.urls.policy(id),
            None => self.layout.org.urls.policies(),
        }
    }

    /// The ids the ranges field is described by: its hint, its error, the warning.
    fn ranges_described_by(&self) -> String {
        let mut ids = vec!["ranges-hint", "your-address"];
        if self.errors.ranges.is_some() {
            ids.insert(0, "ranges-error");
        }
        if self.excludes_you {
            ids.push("excludes-you");
        }
        ids.join(" ")
    }
}

fn form_page(
    admin: &OrgAdmin,
    layout: OrgLayout,
    kind: PolicyKind,
    policy_id: Option<Uuid>,
    form: PolicyForm,
    errors: FieldErrors,
    ip: Option<IpAddr>,
) -> FormPage {
    let excludes_you = match (kind, ip, form.allowlist()) {
        (PolicyKind::IpAllowlist, Some(ip), Some(list)) => !list.admits(ip),
        _ => false,
    };
    FormPage {
        layout,
        m: catalog::policies::of(admin.lang),
        kind,
        policy_id,
        form,
        errors,
        your_ip: ip.map(|ip| ip.to_string()),
        excludes_you,
        max_ranges: Allowlist::MAX_RANGES,
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default, rename = "type")]
    kind: String,
}

/// `GET .../policies/new?type=ip-allowlist|api-key-lifetime`: an empty form, enabled, named
/// after its type.
pub async fn new(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, PageError> {
    let kind = PolicyKind::parse(&query.kind).map_err(|_| PageError::NotFound)?;
    let m = catalog::policies::of(admin.lang);
    let form = PolicyForm {
        kind: kind.name().to_owned(),
        name: match kind {
            PolicyKind::IpAllowlist => m.allowlist_heading,
            PolicyKind::KeyLifetime => m.lifetime_heading,
        }
        .to_owned(),
        enabled: true,
        ..PolicyForm::default()
    };
    let layout = admin.layout.clone();
    let ip = requester_ip(&req, &state);
    let page = form_page(&admin, layout, kind, None, form, FieldErrors::default(), ip);
    render(StatusCode::OK, &page)
}

/// `POST .../policies`: creates the policy, or shows the form again with its errors.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<PolicyForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let kind = PolicyKind::parse(&form.kind).map_err(|_| PageError::NotFound)?;
    let layout = admin.layout.clone();
    let m = catalog::policies::of(admin.lang);
    let input = match parse(&form, kind, json!([]), layout.t, m) {
        Ok(input) => input,
        Err(errors) => {
            let ip = requester_ip(&req, &state);
            let page = form_page(&admin, layout, kind, None, form, errors, ip);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let origin = origin(&req, &state);
    let row = change(&state, &admin, &origin).create(&input).await?;
    tracing::info!(org_id = %admin.org_id, policy_id = %row.id, kind = row.kind, "policy created in the console");
    Ok(back_to_list(&admin, "created"))
}

/// `GET .../policies/{policyId}`: the form, filled with the policy.
pub async fn edit(req: HttpRequest, state: web::Data<AppState>, admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let policy = policy_of_org(&state, &admin, &req).await?;
    let layout = admin.layout.clone();
    let ip = requester_ip(&req, &state);
    let page = form_page(
        &admin,
        layout,
        policy.kind,
        Some(policy.row.id),
        PolicyForm::of(&policy),
        FieldErrors::default(),
        ip,
    );
    render(StatusCode::OK, &page)
}

/// `POST .../policies/{policyId}`: replaces the policy's name, status and rule (its type and
/// the resources an API client gave it stay), or shows the form again with its errors.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<PolicyForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let policy = policy_of_org(&state, &admin, &req).await?;
    let layout = admin.layout.clone();
    let m = catalog::policies::of(admin.lang);
    let input = match parse(&form, policy.kind, policy.row.resources.clone(), layout.t, m) {
        Ok(input) => input,
        Err(errors) => {
            let ip = requester_ip(&req, &state);
            let page = form_page(&admin, layout, policy.kind, Some(policy.row.id), form, errors, ip);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let origin = origin(&req, &state);
    change(&state, &admin, &origin).update(policy.row.id, &input).await?;
    tracing::info!(org_id = %admin.org_id, policy_id = %policy.row.id, "policy updated in the console");
    Ok(back_to_list(&admin, "updated"))
}
