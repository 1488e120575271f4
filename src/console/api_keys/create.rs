//! Creating an API key in the console, in Atlassian's order: the kind (scoped or unscoped), a
//! name, an expiry (a preset or a date, never past a year nor the org's lifetime policy), the
//! scopes for a scoped key, a review step, then create. The create POST's own response shows the
//! value once (no redirect, `no-store`); its form token is single-use, recorded in the key's own
//! transaction, so a reload or a back-and-submit creates and shows nothing.

use crate::console::form::{ConsoleForm, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::console::catalog::Messages;
use crate::console::session::OrgAdmin;
use crate::console::single_use::FormToken;
use crate::console::{OrgLayout, PageError, field_errors, origin, render};
use crate::domain::actor::Actor;
use crate::domain::api_key::{AskedExpiry, ExpiryError, KeyName, Limits, Settled};
use crate::domain::scope::ScopesError;
use crate::domain::{KeyScopes, Scope};
use crate::operations::{Operation, Operations};
use crate::service::keys::{self, KeyError, KeyRequest, Minted};
use crate::state::AppState;

/// The expiry presets, in days; 30 is chosen unless the person picks another.
pub const PRESETS: [u16; 5] = [7, 30, 90, 180, 365];
const DEFAULT_PRESET: &str = "30";
/// What the review page's single-use form token is for.
const FORM_TOKEN_PURPOSE: &str = "create-api-key";

/// Which kind of key the form makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scoped,
    Unscoped,
}

impl Kind {
    fn parse(input: &str) -> Option<Kind> {
        match input {
            "scoped" => Some(Kind::Scoped),
            "unscoped" => Some(Kind::Unscoped),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Scoped => "scoped",
            Kind::Unscoped => "unscoped",
        }
    }

    pub fn is_scoped(self) -> bool {
        self == Kind::Scoped
    }
}

/// The create form as posted (scopes are repeated fields). Carries no secret.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KeyForm {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    expiry: String,
    expiry_date: String,
    scopes: Vec<String>,
    form_token: String,
    /// The review's "edit" button: back to the form, as typed.
    edit: Option<String>,
}

impl ConsoleForm for KeyForm {}

impl KeyForm {
    fn has_scope(&self, scope: &Scope) -> bool {
        self.scopes.iter().any(|s| s == scope.name())
    }
}

/// What is wrong with each field, in the viewer's language.
#[derive(Debug, Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub expiry: Option<String>,
    pub scopes: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.name.is_some() || self.expiry.is_some() || self.scopes.is_some()
    }
}

/// A valid request for a key, ready to review or create.
struct Valid {
    name: KeyName,
    scopes: KeyScopes,
    expiry: AskedExpiry,
    /// The expiry as the limits read now settle it; the key service settles it again under its
    /// locks.
    settled: Settled,
}

/// The form's context for a key the admin creates now.
async fn form_context<'a>(state: &'a AppState, admin: &OrgAdmin) -> Result<FormContext<'a>, PageError> {
    Ok(FormContext {
        operations: &state.operations,
        limits: keys::limits(&state.pool, admin.org(), Actor::User(admin.session.user_id())).await?,
        now: Utc::now(),
    })
}

/// What is wrong with an expiry, in the viewer's language.
fn expiry_message(t: &Messages, err: &ExpiryError) -> String {
    match err {
        ExpiryError::NotInFuture => t.expiry_in_past.to_owned(),
        ExpiryError::BeyondPolicy(days) => {
            crate::console::catalog::fill(t.expiry_beyond_policy, &[("n", &days.to_string())])
        }
        ExpiryError::Unreadable => t.expiry_date_unreadable.to_owned(),
        ExpiryError::TooFar | ExpiryError::OutlivesCreator(_) | ExpiryError::OutOfWindow => t.expiry_too_far.to_owned(),
    }
}

/// What is wrong with the scopes, in the viewer's language.
fn scopes_message(t: &Messages, err: &ScopesError) -> String {
    match err {
        ScopesError::Unknown(name) => crate::console::catalog::fill(t.scope_unknown, &[("scope", name)]),
        ScopesError::Empty | ScopesError::UnscopedFromScoped | ScopesError::Beyond(_) => t.scopes_required.to_owned(),
    }
}

/// The form's fields as domain values, each field's error beside it: a preset is a number of
/// days, a date is that whole day in the viewer's time zone.
fn validate(
    form: &KeyForm,
    kind: Kind,
    limits: &Limits,
    now: DateTime<Utc>,
    layout: &OrgLayout,
) -> Result<Valid, FieldErrors> {
    let t = layout.t;
    let mut errors = FieldErrors::default();
    let name = KeyName::parse(&form.name)
        .map_err(|e| errors.name = Some(field_errors::name(t, &e)))
        .ok();
    let asked = match form.expiry.as_str() {
        "date" => NaiveDate::parse_from_str(form.expiry_date.trim(), "%Y-%m-%d")
            .map(|date| AskedExpiry::Through(date, layout.zone))
            .map_err(|_| expiry_message(t, &ExpiryError::Unreadable)),
        preset => match preset.parse::<u16>() {
            Ok(days) if PRESETS.contains(&days) => Ok(AskedExpiry::InDays(days)),
            _ => Err(t.expiry_choose.to_owned()),
        },
    };
    let expiry = asked
        .and_then(|asked| {
            let settled = asked.settle(limits, now).map_err(|e| expiry_message(t, &e))?;
            Ok((asked, settled))
        })
        .map_err(|message| errors.expiry = Some(message))
        .ok();
    let names = match kind {
        Kind::Unscoped => None,
        Kind::Scoped => Some(form.scopes.iter().map(String::as_str)),
    };
    let scopes = KeyScopes::parse(names)
        .map_err(|e| errors.scopes = Some(scopes_message(t, &e)))
        .ok();
    match (name, expiry, scopes) {
        (Some(name), Some((expiry, settled)), Some(scopes)) if !errors.any() => Ok(Valid {
            name,
            scopes,
            expiry,
            settled,
        }),
        _ => Err(errors),
    }
}

/// One scope as the picker and the review show it: what it is and what it unlocks.
pub struct ScopeChoice {
    pub scope: Scope,
    pub checked: bool,
    pub endpoints: Vec<Operation>,
}

/// The scopes of one API family, in catalog order.
pub struct ScopeGroup {
    pub family: Scope,
    pub scopes: Vec<ScopeChoice>,
}

fn scope_groups(form: &KeyForm, operations: &Operations) -> Vec<ScopeGroup> {
    let mut groups: Vec<ScopeGroup> = Vec::new();
    for &scope in Scope::ALL {
        let choice = ScopeChoice {
            scope,
            checked: form.has_scope(&scope),
            endpoints: operations.unlocked_by(scope).copied().collect(),
        };
        match groups.iter_mut().find(|g| g.family.family() == scope.family()) {
            Some(group) => group.scopes.push(choice),
            None => groups.push(ScopeGroup {
                family: scope,
                scopes: vec![choice],
            }),
        }
    }
    groups
}

/// An expiry preset as the form offers it, with the day it would end.
pub struct Preset {
    pub days: u16,
    pub checked: bool,
    pub ends: DateTime<Utc>,
}

#[derive(Template)]
#[template(path = "api_keys/new.html")]
struct NewKeyPage {
    layout: OrgLayout,
    kind: Kind,
    form: KeyForm,
    errors: FieldErrors,
    presets: Vec<Preset>,
    policy_days: Option<u16>,
    date_min: String,
    date_max: String,
    groups: Vec<ScopeGroup>,
    problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "api_keys/choose.html")]
struct ChooseKindPage {
    layout: OrgLayout,
}

#[derive(Template)]
#[template(path = "api_keys/review.html")]
struct ReviewPage {
    layout: OrgLayout,
    kind: Kind,
    form: KeyForm,
    name: String,
    expires_at: DateTime<Utc>,
    /// The date's day passed a limit, and the key ends at the limit.
    clamped: bool,
    scopes: Vec<ScopeChoice>,
    form_token: String,
}

#[derive(Template)]
#[template(path = "api_keys/created.html")]
struct CreatedPage {
    layout: OrgLayout,
    kind: Kind,
    name: String,
    public_id: String,
    key_id: Uuid,
    value: String,
    expires_at: DateTime<Utc>,
    clamped: bool,
}

#[derive(Template)]
#[template(path = "api_keys/form_used.html")]
struct FormUsedPage {
    layout: OrgLayout,
}

/// What every showing of the form needs besides what was typed: the scope explainer and the
/// limits a new key meets now.
struct FormContext<'a> {
    operations: &'a Operations,
    limits: Limits,
    now: DateTime<Utc>,
}

impl FormContext<'_> {
    fn page(&self, layout: OrgLayout, kind: Kind, form: KeyForm, errors: FieldErrors) -> NewKeyPage {
        new_key_page(self.operations, layout, kind, form, errors, &self.limits, self.now)
    }
}

fn new_key_page(
    operations: &Operations,
    layout: OrgLayout,
    kind: Kind,
    form: KeyForm,
    errors: FieldErrors,
    limits: &Limits,
    now: DateTime<Utc>,
) -> NewKeyPage {
    let chosen = if form.expiry.is_empty() {
        DEFAULT_PRESET
    } else {
        form.expiry.as_str()
    };
    let presets = PRESETS
        .iter()
        .filter(|&&days| AskedExpiry::InDays(days).settle(limits, now).is_ok())
        .map(|&days| Preset {
            days,
            checked: chosen == days.to_string(),
            ends: now + Duration::days(i64::from(days)),
        })
        .collect();
    let groups = scope_groups(&form, operations);
    NewKeyPage {
        date_min: now
            .with_timezone(&layout.zone)
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
        date_max: limits.last_day(now, layout.zone).format("%Y-%m-%d").to_string(),
        layout,
        kind,
        form: KeyForm {
            expiry: chosen.to_owned(),
            ..form
        },
        errors,
        presets,
        policy_days: limits.policy_days,
        groups,
        problem: None,
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default, rename = "type")]
    kind: String,
}

/// `GET .../api-keys/new?type=scoped|unscoped`: the form, or the choice of kind.
pub async fn new(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = admin.layout.clone();
    let Some(kind) = Kind::parse(&query.kind) else {
        return render(StatusCode::OK, &ChooseKindPage { layout });
    };
    let context = form_context(&state, &admin).await?;
    let page = context.page(layout, kind, KeyForm::default(), FieldErrors::default());
    render(StatusCode::OK, &page)
}

/// `POST .../api-keys/review`: the form again with its errors, or the review with a single-use
/// token for the create POST. `edit` brings the review back to the form, as typed.
pub async fn review(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<KeyForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let kind = Kind::parse(&form.kind).ok_or(PageError::NotFound)?;
    let layout = admin.layout.clone();
    let context = form_context(&state, &admin).await?;
    let now = context.now;
    let editing = form.edit.is_some();
    let valid = match validate(&form, kind, &context.limits, now, &layout) {
        Ok(valid) if !editing => valid,
        Ok(_) => {
            let page = context.page(layout, kind, form, FieldErrors::default());
            return render(StatusCode::OK, &page);
        }
        Err(errors) => {
            let page = context.page(layout, kind, form, errors);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let scopes = valid
        .scopes
        .listed()
        .unwrap_or_default()
        .iter()
        .map(|&scope| ScopeChoice {
            scope,
            checked: true,
            endpoints: state.operations.unlocked_by(scope).copied().collect(),
        })
        .collect();
    let page = ReviewPage {
        form_token: FormToken::issue(&state, &admin, FORM_TOKEN_PURPOSE, now),
        layout,
        kind,
        name: valid.name.as_str().to_owned(),
        expires_at: valid.settled.expires_at,
        clamped: valid.settled.clamped_to.is_some(),
        scopes,
        form,
    };
    render(StatusCode::OK, &page)
}

/// `POST .../api-keys`: spends the review's single-use form token and creates the key in one
/// transaction, and answers with its value, once.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<KeyForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let kind = Kind::parse(&form.kind).ok_or(PageError::NotFound)?;
    let layout = admin.layout.clone();
    let context = form_context(&state, &admin).await?;
    let now = context.now;
    let Some(form_token) = FormToken::verify(&state, &admin, FORM_TOKEN_PURPOSE, &form.form_token, now) else {
        // Expired or not ours: review again (nothing was created).
        let mut page = context.page(layout, kind, form, FieldErrors::default());
        page.problem = Some(page.layout.t.review_expired);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let valid = match validate(&form, kind, &context.limits, now, &layout) {
        Ok(valid) => valid,
        Err(errors) => {
            let page = context.page(layout, kind, form, errors);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let user = admin.session.user_id();
    let request = KeyRequest {
        org_id: admin.org(),
        name: valid.name,
        scopes: valid.scopes,
        expiry: valid.expiry,
        created_by: Actor::User(user),
        responsible_user_id: Some(admin.person()),
        origin: origin(&req, &state),
    };
    let minted = Minted::new(&state.people_argon2).await.map_err(key_failure)?;
    let mut tx = state.pool.begin().await?;
    if !form_token.spend(&mut tx).await? {
        return render(StatusCode::CONFLICT, &FormUsedPage { layout });
    }
    let created = match keys::create_with(&mut tx, &state.people_argon2, &request, minted).await {
        Ok(created) => created,
        Err(KeyError::Expiry(err)) => {
            let errors = FieldErrors {
                expiry: Some(expiry_message(layout.t, &err)),
                ..FieldErrors::default()
            };
            let page = context.page(layout, kind, form, errors);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(err) => return Err(key_failure(err)),
    };
    tx.commit().await?;
    tracing::info!(org_id = %admin.org_id, key_id = %created.id, "API key created in the console");
    let page = CreatedPage {
        layout,
        kind,
        name: request.name.as_str().to_owned(),
        public_id: created.token.public_id().as_str().to_owned(),
        key_id: created.id.uuid(),
        value: created.token.expose_token(),
        expires_at: created.expires_at,
        clamped: created.settled.clamped_to.is_some(),
    };
    render(StatusCode::OK, &page)
}

/// A key the console could not create, as a page: an admin suspended, demoted or removed while
/// the form was on its way no longer sees the org.
fn key_failure(err: KeyError) -> PageError {
    match err {
        KeyError::NotAdmin => PageError::NotFound,
        KeyError::Database(db) => db.into(),
        other => PageError::Internal(other.into()),
    }
}
