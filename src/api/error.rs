//! The admin API's errors, in the shapes its clients parse: `{"code":401,"message":...}` for
//! key problems, `{"errors":[{id,status,code,title,detail}]}` for everything else.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::Scope;
use crate::domain::api_key::{Expiry, ExpiryError};
use crate::domain::scope::ScopesError;
use crate::service::keys::KeyError;
use crate::service::standing::StandingError;

/// The exact content type the Python client wants for readable error messages.
const JSON: &str = "application/json;charset=UTF-8";

/// `JSON` as a header value: every JSON answer shares the one static string, checked once when
/// keyward is compiled, and none copies it.
pub fn json_content_type() -> HeaderValue {
    const { HeaderValue::from_static(JSON) }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("{title}")]
    Application {
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
    },
    /// A refusal on the user-management API (`/users/...`), in that API's own form:
    /// `{"key":"forbidden","message":...}`.
    #[error("{message}")]
    UserManagement {
        status: StatusCode,
        key: &'static str,
        message: String,
    },
    #[error("insufficient scope: {0}")]
    InsufficientScope(Scope),
    #[error("rate limited")]
    Throttled { retry_after_secs: u64 },
    #[error("temporarily unavailable")]
    Unavailable,
    /// keyward's own mistake: a 500 whose cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn not_found(code: &'static str, title: &'static str, detail: &str) -> ApiError {
        ApiError::Application {
            status: StatusCode::NOT_FOUND,
            code,
            title,
            detail: detail.to_owned(),
        }
    }

    /// The same answer for an org that exists elsewhere and one that does not exist at all.
    pub fn org_not_found() -> ApiError {
        ApiError::not_found(
            "ADMIN-404-2",
            "Organization not found",
            "No organization with this id is visible to this API key.",
        )
    }

    /// 409: the request would break a rule of the org, such as keeping one admin.
    pub fn conflict(code: &'static str, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Application {
            status: StatusCode::CONFLICT,
            code,
            title,
            detail: detail.into(),
        }
    }

    /// 403: the key is valid, but its org's IP allowlist does not hold the caller's address.
    pub fn address_not_allowed() -> ApiError {
        ApiError::Application {
            status: StatusCode::FORBIDDEN,
            code: "ADMIN-403-4",
            title: "Address not allowed",
            detail: "This organization's IP allowlist does not include the address this request came from.".into(),
        }
    }

    pub fn bad_request(code: &'static str, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Application {
            status: StatusCode::BAD_REQUEST,
            code,
            title,
            detail: detail.into(),
        }
    }
}

/// For the people endpoints: a non-member is the same 404 as an unknown id.
impl From<crate::service::people::PeopleError> for ApiError {
    fn from(err: crate::service::people::PeopleError) -> ApiError {
        use crate::service::people::PeopleError;
        match err {
            PeopleError::NotFound => crate::api::directory::user_not_found(),
            PeopleError::NotManaged => ApiError::Application {
                status: StatusCode::FORBIDDEN,
                code: "ADMIN-403-3",
                title: "Account not managed by this organization",
                detail: "This organization does not manage this account, so it cannot change it.".into(),
            },
            // A key's own holder is the one account the API could name as its own.
            PeopleError::OwnAccount => crate::service::standing::StandingError::OwnHolder.into(),
            PeopleError::LastAdmin => ApiError::conflict(
                "ADMIN-409-1",
                "Last admin",
                "This would leave an organization without an active admin: make someone else an admin first.",
            ),
            PeopleError::EmailTaken => {
                ApiError::conflict("ADMIN-409-2", "Email in use", "Another account has this email address.")
            }
            PeopleError::Disabled => ApiError::conflict("ADMIN-409-6", "Account disabled", "The account is disabled."),
            PeopleError::ManagedElsewhere => ApiError::conflict(
                "ADMIN-409-7",
                "Domain managed by another organization",
                "Another organization has verified this address's domain and manages its accounts.",
            ),
            PeopleError::AlreadyMember => ApiError::conflict(
                "ADMIN-409-5",
                "Already a member",
                "This person is already a member of this organization.",
            ),
            PeopleError::Standing(standing) => standing.into(),
            PeopleError::Database(db) => db.into(),
        }
    }
}

/// A key is no stronger than its holder's standing: a key revoked while its request waited is
/// a 401 like any revoked key; the rest are 403s.
impl From<crate::service::standing::StandingError> for ApiError {
    fn from(err: crate::service::standing::StandingError) -> ApiError {
        use crate::service::standing::StandingError;
        match err {
            StandingError::KeyInvalid => ApiError::Unauthorized("Invalid API key."),
            StandingError::NotAdmin => ApiError::Application {
                status: StatusCode::FORBIDDEN,
                code: "ADMIN-403-5",
                title: "Key holder is not an active admin",
                detail: "The person this API key answers for is not an active admin of this organization: \
                         the key may still read, but not create keys, change people or change policies."
                    .into(),
            },
            StandingError::OwnHolder => ApiError::Application {
                status: StatusCode::FORBIDDEN,
                code: "ADMIN-403-6",
                title: "Cannot act on the key's own holder",
                detail: "An API key cannot change the person it answers for.".into(),
            },
            StandingError::Database(db) => db.into(),
        }
    }
}

/// A people change's error as the user-management API (`/users/...`) words it: a key refused
/// for its holder's standing is `{"key":"forbidden",...}` there; the rest keep their form.
pub fn user_management(err: crate::service::people::PeopleError) -> ApiError {
    use crate::service::people::PeopleError;
    use crate::service::standing::StandingError;
    match err {
        PeopleError::Standing(refusal @ (StandingError::NotAdmin | StandingError::OwnHolder)) => {
            ApiError::UserManagement {
                status: StatusCode::FORBIDDEN,
                key: "forbidden",
                message: ApiError::from(refusal).to_detail(),
            }
        }
        other => other.into(),
    }
}

impl ApiError {
    /// The detail an application error gives, or its display.
    fn to_detail(&self) -> String {
        match self {
            ApiError::Application { detail, .. } => detail.clone(),
            other => other.to_string(),
        }
    }
}

/// The body of a user-management refusal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserManagementError {
    pub key: String,
    pub message: String,
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        match crate::store::Failure::of(&err) {
            crate::store::Failure::Unavailable => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::Unavailable
            }
            // Text is text: input no check refused first is still the caller's, not a 500.
            crate::store::Failure::BadValue => {
                tracing::warn!(error = %err, "the database refused a value of an API request");
                ApiError::bad_request(
                    "ADMIN-400-24",
                    "Invalid input",
                    "A value in the request is not one keyward can store or search for.",
                )
            }
            crate::store::Failure::Bug => ApiError::Internal(err.into()),
        }
    }
}

/// For the key-creation endpoint: what the caller asked wrongly is a 400 naming the field (a
/// scope the calling key may not grant, a 403), the rest is the server's.
impl From<KeyError> for ApiError {
    fn from(err: KeyError) -> ApiError {
        match err {
            KeyError::Scopes(scopes @ (ScopesError::Empty | ScopesError::Unknown(_))) => {
                ApiError::bad_request("ADMIN-400-2", "Invalid scopes", scopes.to_string())
            }
            KeyError::Scopes(scopes) => ApiError::Application {
                status: StatusCode::FORBIDDEN,
                code: "ADMIN-403-3",
                title: "Not allowed",
                detail: scopes.to_string(),
            },
            KeyError::Expiry(expiry) => ApiError::bad_request("ADMIN-400-3", "Invalid expiry", expiry_detail(expiry)),
            KeyError::CreatorInvalid => ApiError::Unauthorized("Invalid API key."),
            KeyError::NotAdmin => StandingError::NotAdmin.into(),
            KeyError::Database(db) => db.into(),
            KeyError::NoFreePublicId | KeyError::Hashing(_) => ApiError::Internal(err.into()),
        }
    }
}

/// What is wrong with `expiresAt`, in the API's words.
fn expiry_detail(err: ExpiryError) -> String {
    match err {
        ExpiryError::NotInFuture => "expiresAt must be in the future.".to_owned(),
        ExpiryError::TooFar => format!(
            "An API key lives at most {} days; expiresAt is later.",
            Expiry::MAX_DAYS
        ),
        ExpiryError::OutlivesCreator(at) => format!(
            "A key may not outlive the key that creates it, which expires at {}; give an expiresAt no later.",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ),
        other @ (ExpiryError::BeyondPolicy(_) | ExpiryError::Unreadable | ExpiryError::OutOfWindow) => {
            other.to_string()
        }
    }
}

/// The body of every application error: `{"errors":[{id,status,code,title,detail}]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorList {
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorItem {
    /// The request id, as the server's logs name it.
    pub id: String,
    /// The HTTP status, as a string (`"404"`).
    pub status: String,
    /// A stable code such as `ADMIN-404-2`.
    pub code: String,
    pub title: String,
    pub detail: String,
}

/// The body of a 401: `{"code":401,"message":...}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyErrorBody {
    pub code: u16,
    pub message: String,
}

fn application(status: StatusCode, code: &str, title: &str, detail: &str) -> Vec<u8> {
    let body = ErrorList {
        errors: vec![ErrorItem {
            id: crate::telemetry::next_id(),
            status: status.as_u16().to_string(),
            code: code.to_owned(),
            title: title.to_owned(),
            detail: detail.to_owned(),
        }],
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Application { status, .. } | ApiError::UserManagement { status, .. } => *status,
            ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        res.content_type(json_content_type())
            .insert_header(("Cache-Control", "no-store"));
        let body = match self {
            ApiError::Unauthorized(message) => {
                res.insert_header(("WWW-Authenticate", r#"Bearer realm="keyward""#));
                serde_json::to_vec(&KeyErrorBody {
                    code: 401,
                    message: (*message).to_owned(),
                })
                .unwrap_or_default()
            }
            ApiError::Application {
                code, title, detail, ..
            } => application(status, code, title, detail),
            ApiError::UserManagement { key, message, .. } => serde_json::to_vec(&UserManagementError {
                key: (*key).to_owned(),
                message: message.clone(),
            })
            .unwrap_or_default(),
            ApiError::InsufficientScope(scope) => {
                res.insert_header((
                    "WWW-Authenticate",
                    format!(r#"Bearer error="insufficient_scope", scope="{}""#, scope.name()),
                ));
                application(
                    status,
                    "ADMIN-403-3",
                    "Insufficient scope",
                    &format!("This API key needs the scope {}.", scope.name()),
                )
            }
            ApiError::Throttled { retry_after_secs } => {
                // The X-RateLimit-* headers belong to a proven key's budget: the key middleware
                // adds them to the 429 of a key over its rate limit, and a refusal before any key
                // is proven (too many failed attempts) has none to report.
                res.insert_header(("Retry-After", retry_after_secs.to_string()));
                application(
                    status,
                    "ADMIN-429-1",
                    "Too many requests",
                    "Too many requests; retry after the seconds given in Retry-After.",
                )
            }
            ApiError::Unavailable => {
                res.insert_header(("Retry-After", "1"));
                application(status, "ADMIN-503-1", "Temporarily unavailable", "Retry in a moment.")
            }
            ApiError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "admin API internal error");
                application(
                    status,
                    "ADMIN-500-1",
                    "Internal error",
                    "The request could not be completed.",
                )
            }
        };
        res.body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::api_key::ExpiryError;
    use crate::service::keys::KeyError;

    #[test]
    fn an_expiry_the_database_refused_is_a_400_naming_the_expiry() {
        let err = ApiError::from(KeyError::Expiry(ExpiryError::OutOfWindow));
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        assert!(matches!(
            err,
            ApiError::Application {
                title: "Invalid expiry",
                ..
            }
        ));
    }
}
