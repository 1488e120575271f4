//! Creating an API key in the console, in Atlassian's order: the kind (scoped or unscoped), a
//! name, an expiry (a preset or a date, never past a year nor the org's lifetime policy), the
//! scopes for a scoped key, a review step, then create. The create POST's own response shows the
//! value once (no redirect, `no-store`); its form token is single-use, recorded in the key's own
//! transaction, so a reload or a back-and-submit creates and shows nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::endpoints::{Access, ENDPOINTS, Endpoint};
use crate::console::catalog::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{Layout, PageError, field_errors, origin, render};
use crate::domain::Scope;
use crate::domain::api_key::{Expiry, ExpiryError, KeyName};
use crate::domain::policy::PolicyKind;
use crate::domain::scope::UnknownScope;
use crate::keys::{self, KeyError, KeyRequest};
use crate::state::AppState;
use crate::store;
use crate::store::audit::Actor;

/// The expiry presets, in days; 30 is chosen unless the person picks another.
pub const PRESETS: [u16; 5] = [7, 30, 90, 180, 365];
const DEFAULT_PRESET: &str = "30";
/// How long a review page's form token can still create its key.
const FORM_TOKEN_LIFETIME: Duration = Duration::hours(1);
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

/// The create form as posted. Scopes are repeated fields, which serde's form decoding cannot
/// take, so the body is decoded here. Carries no secret.
#[derive(Debug, Clone, Default)]
pub struct KeyForm {
    csrf: String,
    kind: String,
    name: String,
    expiry: String,
    expiry_date: String,
    scopes: Vec<String>,
    form_token: String,
}

impl KeyForm {
    fn decode(body: &[u8]) -> KeyForm {
        let mut form = KeyForm::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            let value = value.into_owned();
            match &*key {
                "csrf" => form.csrf = value,
                "type" => form.kind = value,
                "name" => form.name = value,
                "expiry" => form.expiry = value,
                "expiry_date" => form.expiry_date = value,
                "scopes" => form.scopes.push(value),
                "form_token" => form.form_token = value,
                _ => {}
            }
        }
        form
    }

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
    expiry: Expiry,
    expires_at: DateTime<Utc>,
    scopes: Option<Vec<Scope>>,
}

/// The org's key lifetime policy, in days, when one is enabled.
async fn policy_days(state: &AppState, org_id: Uuid) -> Result<Option<u16>, PageError> {
    let mut conn = state.pool.acquire().await?;
    let rules = store::policies::enabled_rules(&mut conn, org_id, PolicyKind::KeyLifetime.name()).await?;
    Ok(crate::policies::shortest_lifetime(&rules).map(|l| l.max_days()))
}

/// The longest a new key may live in this org.
fn max_days(policy: Option<u16>) -> u16 {
    policy.map_or(Expiry::MAX_DAYS, |days| days.min(Expiry::MAX_DAYS))
}

/// The end of a day in UTC, as an expiry date means.
fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
        .and_utc()
}

fn validate(
    form: &KeyForm,
    kind: Kind,
    policy: Option<u16>,
    now: DateTime<Utc>,
    t: &Messages,
) -> Result<Valid, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = KeyName::parse(&form.name)
        .map_err(|e| errors.name = Some(field_errors::name(t, &e)))
        .ok();
    let limit = max_days(policy);
    let beyond_limit = || match policy {
        Some(days) if days < Expiry::MAX_DAYS => {
            crate::console::catalog::fill(t.expiry_beyond_policy, &[("n", &days.to_string())])
        }
        _ => t.expiry_too_far.to_owned(),
    };
    let expiry = match form.expiry.as_str() {
        "date" => match NaiveDate::parse_from_str(form.expiry_date.trim(), "%Y-%m-%d") {
            Err(_) => {
                errors.expiry = Some(t.expiry_date_unreadable.to_owned());
                None
            }
            Ok(date) => {
                let at = end_of_day(date);
                if at <= now {
                    errors.expiry = Some(t.expiry_in_past.to_owned());
                    None
                } else if at > now + Duration::days(i64::from(limit)) {
                    errors.expiry = Some(beyond_limit());
                    None
                } else {
                    Some((Expiry::At(at), at))
                }
            }
        },
        preset => match preset.parse::<u16>() {
            Ok(days) if PRESETS.contains(&days) && days <= limit => {
                Some((Expiry::InDays(days), now + Duration::days(i64::from(days))))
            }
            Ok(days) if PRESETS.contains(&days) => {
                errors.expiry = Some(beyond_limit());
                None
            }
            _ => {
                errors.expiry = Some(t.expiry_choose.to_owned());
                None
            }
        },
    };
    let scopes = match kind {
        Kind::Unscoped => Some(None),
        Kind::Scoped if form.scopes.is_empty() => {
            errors.scopes = Some(t.scopes_required.to_owned());
            None
        }
        Kind::Scoped => {
            let parsed: Result<Vec<Scope>, UnknownScope> = form.scopes.iter().map(|s| s.parse::<Scope>()).collect();
            match parsed {
                Ok(mut scopes) => {
                    scopes.sort();
                    scopes.dedup();
                    Some(Some(scopes))
                }
                Err(UnknownScope(name)) => {
                    errors.scopes = Some(crate::console::catalog::fill(t.scope_unknown, &[("scope", &name)]));
                    None
                }
            }
        }
    };
    match (name, expiry, scopes) {
        (Some(name), Some((expiry, expires_at)), Some(scopes)) if !errors.any() => Ok(Valid {
            name,
            expiry,
            expires_at,
            scopes,
        }),
        _ => Err(errors),
    }
}

/// One scope as the picker and the review show it: what it is and what it unlocks.
pub struct ScopeChoice {
    pub scope: Scope,
    pub checked: bool,
    pub endpoints: Vec<&'static Endpoint>,
}

/// The scopes of one API family, in catalog order.
pub struct ScopeGroup {
    pub family: Scope,
    pub scopes: Vec<ScopeChoice>,
}

/// The endpoints a scope unlocks, from the endpoint table.
pub fn endpoints_of(scope: Scope) -> Vec<&'static Endpoint> {
    ENDPOINTS.iter().filter(|e| e.access == Access::Scope(scope)).collect()
}

fn scope_groups(form: &KeyForm) -> Vec<ScopeGroup> {
    let mut groups: Vec<ScopeGroup> = Vec::new();
    for &scope in Scope::ALL {
        let choice = ScopeChoice {
            scope,
            checked: form.has_scope(&scope),
            endpoints: endpoints_of(scope),
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
    layout: Layout,
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
    layout: Layout,
}

#[derive(Template)]
#[template(path = "api_keys/review.html")]
struct ReviewPage {
    layout: Layout,
    kind: Kind,
    form: KeyForm,
    name: String,
    expires_at: DateTime<Utc>,
    scopes: Vec<ScopeChoice>,
    form_token: String,
}

#[derive(Template)]
#[template(path = "api_keys/created.html")]
struct CreatedPage {
    layout: Layout,
    kind: Kind,
    name: String,
    public_id: String,
    key_id: Uuid,
    value: String,
    expires_at: DateTime<Utc>,
}

#[derive(Template)]
#[template(path = "api_keys/form_used.html")]
struct FormUsedPage {
    layout: Layout,
}

fn new_key_page(
    layout: Layout,
    kind: Kind,
    form: KeyForm,
    errors: FieldErrors,
    policy: Option<u16>,
    now: DateTime<Utc>,
) -> NewKeyPage {
    let limit = max_days(policy);
    let chosen = if form.expiry.is_empty() {
        DEFAULT_PRESET
    } else {
        form.expiry.as_str()
    };
    let presets = PRESETS
        .iter()
        .filter(|&&days| days <= limit)
        .map(|&days| Preset {
            days,
            checked: chosen == days.to_string(),
            ends: now + Duration::days(i64::from(days)),
        })
        .collect();
    let last_day = (now + Duration::days(i64::from(limit))).date_naive();
    let last_day = if end_of_day(last_day) > now + Duration::days(i64::from(limit)) {
        last_day.pred_opt().unwrap_or(last_day)
    } else {
        last_day
    };
    let groups = scope_groups(&form);
    NewKeyPage {
        layout,
        kind,
        form: KeyForm {
            expiry: chosen.to_owned(),
            ..form
        },
        errors,
        presets,
        policy_days: policy,
        date_min: now.date_naive().format("%Y-%m-%d").to_string(),
        date_max: last_day.format("%Y-%m-%d").to_string(),
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
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = Layout::for_org(&admin, &state, &req);
    let Some(kind) = Kind::parse(&query.kind) else {
        return render(StatusCode::OK, &ChooseKindPage { layout });
    };
    let policy = policy_days(&state, admin.org_id).await?;
    let page = new_key_page(
        layout,
        kind,
        KeyForm::default(),
        FieldErrors::default(),
        policy,
        Utc::now(),
    );
    render(StatusCode::OK, &page)
}

/// `POST .../api-keys/review`: the form again with its errors, or the review with a single-use
/// token for the create POST. `edit` brings the review back to the form, as typed.
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = KeyForm::decode(&body);
    admin.session.check_form(&req, &state, &form.csrf)?;
    let kind = Kind::parse(&form.kind).ok_or(PageError::NotFound)?;
    let layout = Layout::for_org(&admin, &state, &req);
    let policy = policy_days(&state, admin.org_id).await?;
    let now = Utc::now();
    let editing = url::form_urlencoded::parse(&body).any(|(k, _)| k == "edit");
    let valid = match validate(&form, kind, policy, now, layout.t) {
        Ok(valid) if !editing => valid,
        Ok(_) => {
            let page = new_key_page(layout, kind, form, FieldErrors::default(), policy, now);
            return render(StatusCode::OK, &page);
        }
        Err(errors) => {
            let page = new_key_page(layout, kind, form, errors, policy, now);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let scopes = valid
        .scopes
        .iter()
        .flatten()
        .map(|&scope| ScopeChoice {
            scope,
            checked: true,
            endpoints: endpoints_of(scope),
        })
        .collect();
    let page = ReviewPage {
        form_token: FormToken::issue(&state, &admin, now),
        layout,
        kind,
        name: valid.name.as_str().to_owned(),
        expires_at: valid.expires_at,
        scopes,
        form,
    };
    render(StatusCode::OK, &page)
}

/// `POST .../api-keys`: creates the key and answers with its value, once.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = KeyForm::decode(&body);
    admin.session.check_form(&req, &state, &form.csrf)?;
    let kind = Kind::parse(&form.kind).ok_or(PageError::NotFound)?;
    let layout = Layout::for_org(&admin, &state, &req);
    let now = Utc::now();
    let Some(token_hash) = FormToken::verify(&state, &admin, &form.form_token, now) else {
        // Expired or not ours: review again (nothing was created).
        let policy = policy_days(&state, admin.org_id).await?;
        let mut page = new_key_page(layout, kind, form, FieldErrors::default(), policy, now);
        page.problem = Some(page.layout.t.review_expired);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let policy = policy_days(&state, admin.org_id).await?;
    let valid = match validate(&form, kind, policy, now, layout.t) {
        Ok(valid) => valid,
        Err(errors) => {
            let page = new_key_page(layout, kind, form, errors, policy, now);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let user = admin.session.user_id();
    let request = KeyRequest {
        org_id: admin.org_id,
        name: valid.name,
        scopes: valid.scopes,
        expiry: valid.expiry.into(),
        created_by: Actor::User(user),
        responsible_user_id: Some(user),
        origin: origin(&req, &state),
    };
    let created = keys::create_once(&state.pool, &state.people_argon2, &request, &token_hash).await;
    let (key_id, token) = match created {
        Ok(created) => created,
        Err(KeyError::FormUsed) => return render(StatusCode::CONFLICT, &FormUsedPage { layout }),
        Err(err @ (KeyError::Expiry(_) | KeyError::BeyondPolicy(_))) => {
            let t = layout.t;
            let errors = FieldErrors {
                expiry: Some(match err {
                    KeyError::BeyondPolicy(days) => {
                        crate::console::catalog::fill(t.expiry_beyond_policy, &[("n", &days.to_string())])
                    }
                    KeyError::Expiry(ExpiryError::NotInFuture) => t.expiry_in_past.to_owned(),
                    _ => t.expiry_too_far.to_owned(),
                }),
                ..FieldErrors::default()
            };
            let page = new_key_page(layout, kind, form, errors, policy, now);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        // Suspended, demoted or removed while the form was on its way: the org is no longer theirs.
        Err(KeyError::NotAdmin) => return Err(PageError::NotFound),
        Err(KeyError::Database(err)) => return Err(err.into()),
        Err(err) => return Err(PageError::Internal(err.to_string())),
    };
    tracing::info!(org_id = %admin.org_id, key_id = %key_id, "API key created in the console");
    let page = CreatedPage {
        layout,
        kind,
        name: request.name.as_str().to_owned(),
        public_id: token.public_id().as_str().to_owned(),
        key_id,
        value: token.expose_token(),
        expires_at: valid.expires_at,
    };
    render(StatusCode::OK, &page)
}

/// The review page's single-use token: a random nonce and its issue time, signed for this
/// session and org. Its SHA-256 is what `used_form_tokens` records.
struct FormToken;

impl FormToken {
    fn binding(admin: &OrgAdmin, nonce: &str, issued: i64) -> String {
        format!(
            "{}:{}:{nonce}:{issued}",
            hex::encode(&admin.session.user.csrf_secret),
            admin.org_id
        )
    }

    fn issue(state: &AppState, admin: &OrgAdmin, now: DateTime<Utc>) -> String {
        let nonce = crate::random::token();
        let issued = now.timestamp();
        let mac = state
            .csrf
            .token(FORM_TOKEN_PURPOSE, &Self::binding(admin, &nonce, issued));
        format!("{nonce}.{issued}.{mac}")
    }

    /// The token's hash when it is this session's, for this org, and still fresh.
    fn verify(state: &AppState, admin: &OrgAdmin, token: &str, now: DateTime<Utc>) -> Option<Vec<u8>> {
        let mut parts = token.splitn(3, '.');
        let (nonce, issued, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: i64 = issued.parse().ok()?;
        let fresh = issued <= now.timestamp() && now.timestamp() - issued <= FORM_TOKEN_LIFETIME.num_seconds();
        let genuine = state
            .csrf
            .verify(FORM_TOKEN_PURPOSE, &Self::binding(admin, nonce, issued), mac);
        (fresh && genuine).then(|| Sha256::digest(nonce.as_bytes()).to_vec())
    }
}
