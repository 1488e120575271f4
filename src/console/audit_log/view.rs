//! One event as a row of the audit log page: who (a person's name and email, a key's name and
//! public id, or keyward), what (the action in the viewer's language), to what (a link to the
//! key, a person's name), and the details worth reading, compactly.

use crate::console::urls::OrgUrls;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::console::Layout;

use crate::console::catalog::audit_log::Messages;
use crate::domain::Action;
use crate::domain::actor::Actor;
use crate::domain::audit::RefusedBecause;
use crate::store::audit::LogEvent;

/// A name with a second line (an email, a public id) and maybe a link.
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub sub: Option<String>,
    pub link: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EventView {
    pub id: Uuid,
    pub time: DateTime<Utc>,
    pub action: String,
    /// The action's wire name, when the label is a translation of it.
    pub action_name: Option<String>,
    pub actor: Named,
    pub target: Option<Named>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: Vec<(String, String)>,
}

/// The longest detail value the page shows whole.
const DETAIL_CHARS: usize = 200;

impl EventView {
    pub fn new(row: LogEvent, org_id: Uuid, m: &'static Messages, layout: &Layout) -> EventView {
        let event = &row.event;
        let action = event.action.parse::<Action>().ok();
        let key_link = |id: Uuid| OrgUrls::of(org_id).key(id).to_string();
        let actor = match event.actor {
            Actor::System => Named {
                name: m.keyward_itself.to_owned(),
                sub: None,
                link: None,
            },
            Actor::User(id) => Named {
                name: event.actor_name.clone().unwrap_or_else(|| m.unknown_person.to_owned()),
                sub: event.actor_email.clone().or_else(|| Some(id.to_string())),
                link: None,
            },
            Actor::Key(id) => match (&event.actor_name, &row.actor_key_public_id) {
                (Some(name), Some(public_id)) => Named {
                    name: crate::console::catalog::fill(m.api_key_named, &[("name", name)]),
                    sub: Some(public_id.clone()),
                    link: Some(key_link(id)),
                },
                _ => Named {
                    name: m.deleted_api_key.to_owned(),
                    sub: Some(id.to_string()),
                    link: None,
                },
            },
        };
        let target = match (event.target_kind.as_deref(), event.target_id.as_deref()) {
            (Some("api_key"), Some(id)) => Some(match (&row.target_key, id.parse::<Uuid>()) {
                (Some((name, public_id)), Ok(id)) => Named {
                    name: crate::console::catalog::fill(m.api_key_named, &[("name", name)]),
                    sub: Some(public_id.clone()),
                    link: Some(key_link(id)),
                },
                _ => Named {
                    name: m.deleted_api_key.to_owned(),
                    sub: Some(id.to_owned()),
                    link: None,
                },
            }),
            (Some("user"), Some(id)) => Some(match &row.target_user {
                Some((name, email)) => Named {
                    name: name.clone(),
                    sub: Some(email.clone()),
                    link: None,
                },
                None => Named {
                    name: m.unknown_person.to_owned(),
                    sub: Some(id.to_owned()),
                    link: None,
                },
            }),
            (Some("org"), Some(id)) if id == org_id.to_string() => Some(Named {
                name: m.the_organization.to_owned(),
                sub: None,
                link: None,
            }),
            (Some("invitation"), _) => Some(Named {
                name: m.invitation_target.to_owned(),
                sub: event.details.get("email").and_then(Value::as_str).map(str::to_owned),
                link: None,
            }),
            (Some(kind), id) => Some(Named {
                name: kind.to_owned(),
                sub: id.map(str::to_owned),
                link: None,
            }),
            (None, _) => None,
        };
        EventView {
            id: event.id,
            time: event.time,
            action: action.map_or_else(|| event.action.clone(), |a| m.action(a).to_owned()),
            action_name: action.map(|_| event.action.clone()),
            actor,
            target,
            ip: event.ip.map(|ip| ip.to_string()),
            user_agent: event.user_agent.clone(),
            details: details(action, &event.details, m, &|at| layout.date_time(at)),
        }
    }
}

/// The details worth reading, as (label, value) pairs: a refused use's reason in words, the
/// public ids of revoked keys, times as the page shows times (`time`), and every other field
/// as it was recorded.
pub fn details(
    action: Option<Action>,
    details: &Value,
    m: &'static Messages,
    time: &dyn Fn(&DateTime<Utc>) -> String,
) -> Vec<(String, String)> {
    let Some(fields) = details.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in fields {
        match (action, name.as_str()) {
            (Some(Action::ApiKeyRejectedUse), "reason") => {
                let reason = match value.as_str().and_then(RefusedBecause::parse) {
                    Some(RefusedBecause::Revoked) => m.reason_revoked.to_owned(),
                    Some(RefusedBecause::Expired) => m.reason_expired.to_owned(),
                    Some(RefusedBecause::AddressNotAllowed) => m.reason_address_not_allowed.to_owned(),
                    None => compact(value),
                };
                let proven = fields.get("secret_proven").and_then(Value::as_bool);
                let reason = match proven {
                    Some(false) => format!("{reason} ({})", m.secret_not_proven),
                    _ => reason,
                };
                out.push((m.reason.to_owned(), reason));
            }
            (Some(Action::ApiKeyRejectedUse), "secret_proven") => {}
            (_, "revoked_keys") => {
                let ids: Vec<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|key| {
                        key.get("public_id")
                            .and_then(Value::as_str)
                            .map_or_else(|| compact(key), str::to_owned)
                    })
                    .collect();
                if !ids.is_empty() {
                    out.push((m.revoked_keys.to_owned(), clip(ids.join(", "))));
                }
            }
            _ => {
                let shown = match value.as_str().and_then(|text| DateTime::parse_from_rfc3339(text).ok()) {
                    Some(at) => time(&at.with_timezone(&Utc)),
                    None => compact(value),
                };
                out.push((name.clone(), clip(shown)));
            }
        }
    }
    out
}

/// A value as text: a string as itself, anything else as compact JSON.
fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn clip(text: String) -> String {
    if text.chars().count() <= DETAIL_CHARS {
        return text;
    }
    let mut clipped: String = text.chars().take(DETAIL_CHARS).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::catalog::audit_log::{EN, JA};
    use serde_json::json;

    fn utc(at: &DateTime<Utc>) -> String {
        at.format("%Y-%m-%d %H:%M").to_string()
    }

    #[test]
    fn a_refused_use_says_why_in_words() {
        let shown = details(
            Some(Action::ApiKeyRejectedUse),
            &json!({"reason": "revoked", "secret_proven": true}),
            &JA,
            &utc,
        );
        assert_eq!(shown, vec![(JA.reason.to_owned(), JA.reason_revoked.to_owned())]);
        let shown = details(
            Some(Action::ApiKeyRejectedUse),
            &json!({"reason": "expired", "secret_proven": false}),
            &EN,
            &utc,
        );
        assert_eq!(shown[0].1, "the key has expired (without the key's secret)");
    }

    #[test]
    fn revoked_keys_are_listed_by_public_id_and_other_fields_as_recorded() {
        let shown = details(
            Some(Action::MembershipRemoved),
            &json!({"role": "admin", "revoked_keys": [{"id": "x", "public_id": "AAA"}, {"id": "y", "public_id": "BBB"}]}),
            &EN,
            &utc,
        );
        assert_eq!(
            shown,
            vec![
                (EN.revoked_keys.to_owned(), "AAA, BBB".to_owned()),
                ("role".to_owned(), "admin".to_owned())
            ]
        );
        let long = "x".repeat(500);
        let shown = details(None, &json!({ "message": long }), &EN, &utc);
        assert_eq!(shown[0].1.chars().count(), DETAIL_CHARS + 1);
        let shown = details(None, &json!({ "expires_at": "2027-01-01T18:29:14.794221Z" }), &EN, &utc);
        assert_eq!(shown[0].1, "2027-01-01 18:29");
    }
}
