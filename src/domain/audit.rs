//! The catalog of audit actions: everything keyward records in its audit log, each with its wire
//! name (as the database and the events API spell it), an English display name and the group
//! the events API lists it under. `store::audit::record` takes only an `Action`, so no event can
//! be written whose action the catalog (and so `GET .../event-actions`) lacks.

use std::fmt;
use std::str::FromStr;

macro_rules! actions {
    ($($variant:ident => $name:literal, $display:literal, $group:literal;)+) => {
        /// One kind of thing that happened, as the audit log records it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)+
        }

        impl Action {
            /// Every action, in catalog order (grouped).
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            /// The wire name, as the database holds it: never change one that has been written.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)+
                }
            }

            /// What happened, in English.
            pub fn display_name(self) -> &'static str {
                match self {
                    $(Action::$variant => $display,)+
                }
            }

            /// The group the action is listed under, in English.
            pub fn group(self) -> &'static str {
                match self {
                    $(Action::$variant => $group,)+
                }
            }
        }
    };
}

actions! {
    OrgCreated => "org.created", "Organization created", "Organization";
    UserCreated => "user.created", "User created", "Users";
    UserDisabled => "user.disabled", "User account disabled", "Users";
    UserEnabled => "user.enabled", "User account enabled", "Users";
    UserEmailChanged => "user.email_changed", "User email changed", "Users";
    UserProfileUpdated => "user.profile_updated", "User profile updated", "Users";
    UserSignedIn => "user.signed_in", "Signed in to the console", "Users";
    PasswordLinkIssued => "user.password_link_issued", "Set-password link issued", "Users";
    PasswordSet => "user.password_set", "Password set with a link", "Users";
    PasswordChanged => "user.password_changed", "Password changed", "Users";
    OtherSessionsEnded => "user.other_sessions_ended", "Signed out everywhere else", "Users";
    MemberAdded => "membership.added", "Member added", "Members";
    InvitationSent => "invitation.sent", "Invitation sent", "Members";
    InvitationReissued => "invitation.reissued", "Invitation link issued again", "Members";
    InvitationRevoked => "invitation.revoked", "Invitation revoked", "Members";
    InvitationAccepted => "invitation.accepted", "Invitation accepted", "Members";
    AdminGranted => "member.admin_granted", "Organization admin added", "Members";
    MembershipSuspended => "membership.suspended", "Member access suspended", "Members";
    MembershipRestored => "membership.restored", "Member access restored", "Members";
    MembershipRoleChanged => "membership.role_changed", "Member role changed", "Members";
    MembershipRemoved => "membership.removed", "Member removed", "Members";
    ApiKeyCreated => "api_key.created", "API key created", "API keys";
    ApiKeyRevoked => "api_key.revoked", "API key revoked", "API keys";
    ApiKeyRejectedUse => "api_key.rejected_use", "API key use refused", "API keys";
    DomainAdded => "domain.added", "Domain added", "Domains";
    DomainVerified => "domain.verified", "Domain verified", "Domains";
    DomainRemoved => "domain.removed", "Domain removed", "Domains";
    PolicyCreated => "policy.created", "Policy created", "Policies";
    PolicyUpdated => "policy.updated", "Policy updated", "Policies";
    PolicyDeleted => "policy.deleted", "Policy deleted", "Policies";
    ClassificationLevelCreated => "classification_level.created", "Classification level created", "Data classification";
    ClassificationLevelUpdated => "classification_level.updated", "Classification level edited", "Data classification";
    ClassificationLevelPublished => "classification_level.published", "Classification level published", "Data classification";
    ClassificationLevelArchived => "classification_level.archived", "Classification level archived", "Data classification";
    ClassificationLevelRestored => "classification_level.restored", "Classification level restored to draft", "Data classification";
    ClassificationLevelsReordered => "classification_level.reordered", "Classification levels reordered", "Data classification";
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Action, UnknownAction> {
        Action::ALL
            .iter()
            .copied()
            .find(|action| action.name() == s)
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_action_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &action in Action::ALL {
            assert_eq!(action.name().parse::<Action>(), Ok(action));
            assert!(seen.insert(action.name()), "{action} twice");
        }
    }

    #[test]
    fn names_fit_the_databases_check_of_an_action() {
        // audit_events_action_shape: '^[a-z_.]+$', and keyward's own family.name form.
        for &action in Action::ALL {
            let name = action.name();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'),
                "{name}"
            );
            assert_eq!(name.split('.').count(), 2, "{name}");
        }
    }

    #[test]
    fn every_action_has_a_display_name_and_a_group() {
        for &action in Action::ALL {
            assert!(
                !action.display_name().is_empty() && !action.group().is_empty(),
                "{action}"
            );
        }
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!("api_key.deleted".parse::<Action>().is_err());
        assert!("API_KEY.CREATED".parse::<Action>().is_err());
    }
}

/// Why a key's use was refused, as an `api_key.rejected_use` event records it in
/// `details.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedBecause {
    Revoked,
    Expired,
    /// The org's IP allowlist does not admit the caller's address.
    AddressNotAllowed,
}

impl RefusedBecause {
    /// The refusals of a forgotten key still in use: revoked, or expired.
    pub const FORGOTTEN: [RefusedBecause; 2] = [RefusedBecause::Revoked, RefusedBecause::Expired];

    /// The reason an event's details name, when it is one.
    pub fn parse(input: &str) -> Option<RefusedBecause> {
        [
            RefusedBecause::Revoked,
            RefusedBecause::Expired,
            RefusedBecause::AddressNotAllowed,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == input)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RefusedBecause::Revoked => "revoked",
            RefusedBecause::Expired => "expired",
            RefusedBecause::AddressNotAllowed => "address_not_allowed",
        }
    }
}

/// The details of an `api_key.rejected_use` event.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RejectedUse {
    pub reason: RefusedBecause,
    /// Whether the caller presented the key's real secret (a forgotten key) or only its
    /// public id.
    pub secret_proven: bool,
}

/// The details of an `api_key.revoked` event: the key's public id, and what revoked it with
/// others when something did.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct KeyRevoked<'a> {
    pub public_id: &'a str,
    /// Revoked with the key it was created with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_with: Option<uuid::Uuid>,
    /// Revoked with every key this person answers for (offboarding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk_for_user: Option<uuid::Uuid>,
    /// What the offboarding was (`member_removed`, `user_disabled`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl KeyRevoked<'_> {
    /// The details as the audit log stores them.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl RejectedUse {
    /// The details as the audit log stores them.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod details_tests {
    use super::*;

    #[test]
    fn details_are_written_with_the_keys_the_audit_log_reads() {
        let id = uuid::Uuid::nil();
        let revoked = KeyRevoked {
            public_id: "abc",
            created_with: None,
            bulk_for_user: Some(id),
            reason: Some("user_disabled"),
        };
        assert_eq!(
            revoked.json(),
            serde_json::json!({ "public_id": "abc", "bulk_for_user": id, "reason": "user_disabled" })
        );
        let rejected = RejectedUse {
            reason: RefusedBecause::Expired,
            secret_proven: true,
        };
        assert_eq!(
            rejected.json(),
            serde_json::json!({ "reason": "expired", "secret_proven": true })
        );
        for reason in [
            RefusedBecause::Revoked,
            RefusedBecause::Expired,
            RefusedBecause::AddressNotAllowed,
        ] {
            assert_eq!(
                serde_json::to_value(reason).ok(),
                Some(serde_json::json!(reason.as_str()))
            );
        }
    }
}
