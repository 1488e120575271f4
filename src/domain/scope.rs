//! The scope catalog: what a scoped API key may be allowed to call. The names follow the
//! `verb:resource:admin` form of the admin APIs keyward is compatible with. The `scopes` table
//! is seeded with the same list (a test keeps the two equal).

use std::fmt;
use std::str::FromStr;

macro_rules! scopes {
    ($($variant:ident => $name:literal, $family:literal, $description:literal;)+) => {
        /// One grantable permission of the admin API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope {
            $($variant,)+
        }

        impl Scope {
            /// Every scope, in catalog order.
            pub const ALL: &'static [Scope] = &[$(Scope::$variant,)+];

            /// The wire name, as API clients and the database spell it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Scope::$variant => $name,)+
                }
            }

            /// The API family the console groups the scope under.
            pub fn family(self) -> &'static str {
                match self {
                    $(Scope::$variant => $family,)+
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(Scope::$variant => $description,)+
                }
            }
        }
    };
}

scopes! {
    ReadOrgs => "read:orgs:admin", "Organizations", "View organizations";
    ReadAccounts => "read:accounts:admin", "User management", "View users, their profiles and activity";
    WriteAccounts => "write:accounts:admin", "User management", "Suspend, restore and remove users; change profiles, emails and lifecycle";
    ReadDomains => "read:domains:admin", "Organizations", "View domains";
    ReadEvents => "read:events:admin", "Organizations", "View audit log events";
    ReadPolicies => "read:policies:admin", "Policies", "View policies";
    WritePolicies => "write:policies:admin", "Policies", "Create and update policies";
    DeletePolicies => "delete:policies:admin", "Policies", "Delete policies";
    ReadDirectories => "read:directories:admin", "Directories", "View directories";
    ReadClassificationLevels => "read:classification-levels:admin", "Data classification", "View classification levels";
    WriteClassificationLevels => "write:classification-levels:admin", "Data classification", "Create, edit, publish, archive and reorder classification levels";
    ReadKeys => "read:keys:admin", "API keys", "View API keys";
    WriteKeys => "write:keys:admin", "API keys", "Create API keys";
    DeleteKeys => "delete:keys:admin", "API keys", "Revoke API keys";
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.name() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_scope() {
        for &scope in Scope::ALL {
            assert_eq!(scope.name().parse::<Scope>(), Ok(scope));
        }
    }

    #[test]
    fn names_follow_verb_resource_admin() {
        for &scope in Scope::ALL {
            let parts: Vec<&str> = scope.name().split(':').collect();
            assert_eq!(parts.len(), 3, "{scope}");
            assert!(["read", "write", "delete"].contains(&parts[0]), "{scope}");
            assert_eq!(parts[2], "admin", "{scope}");
        }
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!("read:everything:admin".parse::<Scope>().is_err());
        assert!("READ:ORGS:ADMIN".parse::<Scope>().is_err());
    }
}
