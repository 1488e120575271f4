//! The one place where the outcomes of keyed requests are counted: the key middleware brings
//! here each admission refusal when it answers it, and each route guard's authorization when
//! the answer leaves. Each keyed request that reaches an endpoint, or is refused, counts once in
//! `keyward_api_auth_total` by outcome, except a key over its request rate, which counts in
//! `keyward_api_rate_limited_total`; a miss refused because the fill budget was spent also
//! counts in `keyward_key_fills_throttled_total`. Neither the refusal nor the authorization
//! carries a metric: each says why, and this module says how that is counted.

use std::sync::atomic::Ordering;

use super::router::Authorization;
use crate::auth::api_key::{Invalid, Refusal};
use crate::metrics::{AuthOutcome, Metrics};

/// Counts a request that admission refused.
pub fn refused(metrics: &Metrics, refusal: Refusal) {
    let outcome = match refusal {
        Refusal::Malformed => AuthOutcome::Malformed,
        Refusal::Invalid(Invalid::Unknown) => AuthOutcome::Unknown,
        Refusal::Invalid(Invalid::WrongSecret) => AuthOutcome::WrongSecret,
        Refusal::Invalid(Invalid::Revoked) | Refusal::Revoked => AuthOutcome::Revoked,
        Refusal::Invalid(Invalid::Expired) | Refusal::Expired => AuthOutcome::Expired,
        Refusal::TooManyFailures { .. } => AuthOutcome::Throttled,
        Refusal::FillBudgetSpent { .. } => {
            metrics.fills_throttled.fetch_add(1, Ordering::Relaxed);
            AuthOutcome::Throttled
        }
        Refusal::Unavailable => AuthOutcome::Unavailable,
        Refusal::AddressNotAllowed => AuthOutcome::AddressRefused,
        Refusal::OverRate(_) => {
            metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    metrics.auth(outcome);
}

/// Counts an admitted request by what its route's guard found.
pub fn authorized(metrics: &Metrics, authorization: Authorization) {
    metrics.auth(match authorization {
        Authorization::Allowed => AuthOutcome::Ok,
        Authorization::ForeignOrg => AuthOutcome::ForeignOrg,
        Authorization::InsufficientScope(_) => AuthOutcome::InsufficientScope,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::api_key::key_rate::{Budget, OverLimit};

    fn counted(count: impl FnOnce(&Metrics)) -> Vec<String> {
        let metrics = Metrics::default();
        count(&metrics);
        metrics
            .render(0)
            .lines()
            .filter(|line| !line.starts_with('#') && !line.ends_with(" 0"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn each_refusal_counts_once_in_its_series() {
        let over = OverLimit {
            budget: Budget {
                limit: 1,
                remaining: 0,
                full_at: 0,
            },
            retry_after_secs: 1,
        };
        for (refusal, series) in [
            (
                Refusal::Malformed,
                vec![r#"keyward_api_auth_total{outcome="malformed"} 1"#],
            ),
            (
                Refusal::Invalid(Invalid::Unknown),
                vec![r#"keyward_api_auth_total{outcome="unknown"} 1"#],
            ),
            (
                Refusal::Invalid(Invalid::WrongSecret),
                vec![r#"keyward_api_auth_total{outcome="wrong_secret"} 1"#],
            ),
            (
                Refusal::Invalid(Invalid::Revoked),
                vec![r#"keyward_api_auth_total{outcome="revoked"} 1"#],
            ),
            (Refusal::Revoked, vec![r#"keyward_api_auth_total{outcome="revoked"} 1"#]),
            (
                Refusal::Invalid(Invalid::Expired),
                vec![r#"keyward_api_auth_total{outcome="expired"} 1"#],
            ),
            (Refusal::Expired, vec![r#"keyward_api_auth_total{outcome="expired"} 1"#]),
            (
                Refusal::TooManyFailures { retry_after_secs: 1 },
                vec![r#"keyward_api_auth_total{outcome="throttled"} 1"#],
            ),
            (
                Refusal::FillBudgetSpent { retry_after_secs: 1 },
                vec![
                    r#"keyward_api_auth_total{outcome="throttled"} 1"#,
                    "keyward_key_fills_throttled_total 1",
                ],
            ),
            (
                Refusal::Unavailable,
                vec![r#"keyward_api_auth_total{outcome="unavailable"} 1"#],
            ),
            (
                Refusal::AddressNotAllowed,
                vec![r#"keyward_api_auth_total{outcome="address_refused"} 1"#],
            ),
            (Refusal::OverRate(over), vec!["keyward_api_rate_limited_total 1"]),
        ] {
            assert_eq!(counted(|metrics| refused(metrics, refusal)), series, "{refusal:?}");
        }
    }

    #[test]
    fn each_authorization_counts_once_in_its_series() {
        for (authorization, outcome) in [
            (Authorization::Allowed, "ok"),
            (Authorization::ForeignOrg, "foreign_org"),
            (
                Authorization::InsufficientScope(crate::domain::Scope::ALL[0]),
                "insufficient_scope",
            ),
        ] {
            assert_eq!(
                counted(|metrics| authorized(metrics, authorization)),
                [format!("keyward_api_auth_total{{outcome=\"{outcome}\"}} 1")],
            );
        }
    }
}
