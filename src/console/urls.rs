//! Where each console page is. Handlers and templates write a console URL only through these
//! functions, so a path is spelled once and a test (`every_url_is_a_route`) checks each against
//! the route table: a page cannot link to a route that does not exist.

use std::borrow::Borrow;
use std::fmt;

use uuid::Uuid;

/// A console URL: a path, and a query built field by field (each value encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url(String);

impl Url {
    fn at(path: impl Into<String>) -> Url {
        Url(path.into())
    }

    /// The URL with one more query field.
    pub fn with(mut self, name: &str, value: impl fmt::Display) -> Url {
        self.0.push(if self.0.contains('?') { '&' } else { '?' });
        let value = value.to_string();
        let pair = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(name, &value)
            .finish();
        self.0.push_str(&pair);
        self
    }

    /// The URL with a query already encoded (a page's filters, a cursor), if not empty.
    pub fn query(mut self, encoded: impl fmt::Display) -> Url {
        let encoded = encoded.to_string();
        if !encoded.is_empty() {
            self.0.push(if self.0.contains('?') { '&' } else { '?' });
            self.0.push_str(&encoded);
        }
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn path(&self) -> &str {
        self.0.split('?').next().unwrap_or_default()
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Url> for String {
    fn from(url: Url) -> String {
        url.0
    }
}

/// The pages outside any org: `Site.login()` in code, `layout.site.login()` in templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site;

impl Site {
    pub fn home(&self) -> Url {
        Url::at("/")
    }

    pub fn setup(&self) -> Url {
        Url::at("/setup")
    }

    pub fn login(&self) -> Url {
        Url::at("/login")
    }

    pub fn logout(&self) -> Url {
        Url::at("/logout")
    }

    pub fn language(&self) -> Url {
        Url::at("/language")
    }

    pub fn orgs(&self) -> Url {
        Url::at("/orgs")
    }

    pub fn account(&self) -> Url {
        Url::at("/account")
    }

    pub fn account_profile(&self) -> Url {
        Url::at("/account/profile")
    }

    pub fn account_language(&self) -> Url {
        Url::at("/account/language")
    }

    pub fn account_time_zone(&self) -> Url {
        Url::at("/account/time-zone")
    }

    pub fn account_password(&self) -> Url {
        Url::at("/account/password")
    }

    pub fn sign_out_other_sessions(&self) -> Url {
        Url::at("/account/sessions/sign-out-others")
    }

    pub fn sign_out_session(&self, public_id: impl fmt::Display) -> Url {
        Url::at(format!("/account/sessions/{public_id}/sign-out"))
    }

    pub fn welcome(&self) -> Url {
        Url::at("/welcome")
    }

    /// The invitation page; its link carries the token as `?token=`.
    pub fn invitations(&self) -> Url {
        Url::at("/invitations")
    }

    /// A static file (`static/`): the stylesheet, the copy button's script.
    pub fn asset(&self, file: &str) -> Url {
        Url::at(format!("/static/{file}"))
    }
}

/// The pages of one org, under `/o/{orgId}/settings/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgUrls {
    org: Uuid,
}

impl OrgUrls {
    pub fn of(org: impl Borrow<Uuid>) -> OrgUrls {
        OrgUrls { org: *org.borrow() }
    }

    fn at(&self, rest: impl fmt::Display) -> Url {
        Url::at(format!("/o/{}/settings/{rest}", self.org))
    }

    /// The keys list (GET) and creating a key (POST).
    pub fn keys(&self) -> Url {
        self.at("api-keys")
    }

    pub fn new_key(&self, kind: &str) -> Url {
        self.at("api-keys/new").with("type", kind)
    }

    pub fn review_key(&self) -> Url {
        self.at("api-keys/review")
    }

    pub fn find_key(&self) -> Url {
        self.at("api-keys/find")
    }

    pub fn key(&self, key: impl Borrow<Uuid>) -> Url {
        let key = key.borrow();
        self.at(format_args!("api-keys/{key}"))
    }

    pub fn revoke_key(&self, key: impl Borrow<Uuid>) -> Url {
        let key = key.borrow();
        self.at(format_args!("api-keys/{key}/revoke"))
    }

    /// Revoking every key one person answers for; the person is `?user=`.
    pub fn revoke_by_creator(&self) -> Url {
        self.at("api-keys/revoke-by-creator")
    }

    /// The members list (GET) and inviting (POST).
    pub fn members(&self) -> Url {
        self.at("members")
    }

    pub fn invite(&self) -> Url {
        self.at("members/new")
    }

    pub fn member(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}"))
    }

    pub fn remove_member(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}/remove"))
    }

    pub fn suspend_member(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}/suspend"))
    }

    pub fn demote_member(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}/demote"))
    }

    pub fn member_role(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}/role"))
    }

    pub fn restore_member(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}/restore"))
    }

    pub fn password_link(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.at(format_args!("members/{user}/password-link"))
    }

    pub fn invitation_link(&self, invitation: impl Borrow<Uuid>) -> Url {
        let invitation = invitation.borrow();
        self.at(format_args!("members/invitations/{invitation}/link"))
    }

    pub fn revoke_invitation(&self, invitation: impl Borrow<Uuid>) -> Url {
        let invitation = invitation.borrow();
        self.at(format_args!("members/invitations/{invitation}/revoke"))
    }

    pub fn audit_log(&self) -> Url {
        self.at("audit-log")
    }

    /// The audit log's events about one key.
    pub fn events_of_key(&self, key: impl Borrow<Uuid>) -> Url {
        let key = key.borrow();
        self.audit_log().with("target", format_args!("api_key:{key}"))
    }

    /// The audit log's events about one member.
    pub fn events_of_member(&self, user: impl Borrow<Uuid>) -> Url {
        let user = user.borrow();
        self.audit_log().with("target", format_args!("user:{user}"))
    }

    /// The policies list (GET) and creating a policy (POST).
    pub fn policies(&self) -> Url {
        self.at("policies")
    }

    pub fn new_policy(&self, kind: &str) -> Url {
        self.at("policies/new").with("type", kind)
    }

    pub fn policy(&self, policy: impl Borrow<Uuid>) -> Url {
        let policy = policy.borrow();
        self.at(format_args!("policies/{policy}"))
    }

    pub fn enable_policy(&self, policy: impl Borrow<Uuid>) -> Url {
        let policy = policy.borrow();
        self.at(format_args!("policies/{policy}/enable"))
    }

    pub fn disable_policy(&self, policy: impl Borrow<Uuid>) -> Url {
        let policy = policy.borrow();
        self.at(format_args!("policies/{policy}/disable"))
    }

    pub fn delete_policy(&self, policy: impl Borrow<Uuid>) -> Url {
        let policy = policy.borrow();
        self.at(format_args!("policies/{policy}/delete"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fields_are_encoded_and_joined() {
        let org = OrgUrls::of(Uuid::nil());
        assert_eq!(
            org.keys().with("creator", "a b&c").with("status", "active").as_str(),
            "/o/00000000-0000-0000-0000-000000000000/settings/api-keys?creator=a+b%26c&status=active"
        );
        assert_eq!(org.keys().query("").as_str(), org.keys().as_str());
        assert_eq!(org.keys().query("tab=scoped").path(), org.keys().as_str());
    }
}
