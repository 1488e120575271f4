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

/// What a key may call: every endpoint of its org (a key without scopes), or those its scopes
/// unlock. The one meaning of "scoped" for the doors, the key service and the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScopes {
    Unscoped,
    /// At least one scope, sorted, each once.
    Scoped(Vec<Scope>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    #[error("Give at least one scope, or leave scopes out for a key without scopes.")]
    Empty,
    #[error("{0:?} is not a scope.")]
    Unknown(String),
    #[error("Only an API key without scopes may create an API key without scopes; give scopes.")]
    UnscopedFromScoped,
    #[error("An API key may grant only scopes it has; this one lacks {}.", names(.0))]
    Beyond(Vec<Scope>),
}

fn names(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

impl KeyScopes {
    /// `None` asks for a key without scopes; names are trimmed, sorted and taken once.
    pub fn parse<'a>(names: Option<impl IntoIterator<Item = &'a str>>) -> Result<KeyScopes, ScopesError> {
        let Some(names) = names else {
            return Ok(KeyScopes::Unscoped);
        };
        let mut scopes = names
            .into_iter()
            .map(|name| {
                name.trim()
                    .parse::<Scope>()
                    .map_err(|UnknownScope(name)| ScopesError::Unknown(name))
            })
            .collect::<Result<Vec<Scope>, ScopesError>>()?;
        if scopes.is_empty() {
            return Err(ScopesError::Empty);
        }
        scopes.sort();
        scopes.dedup();
        Ok(KeyScopes::Scoped(scopes))
    }

    /// As the store keeps them: `scoped` and the list.
    pub fn of_stored(scoped: bool, scopes: Vec<Scope>) -> KeyScopes {
        if scoped {
            KeyScopes::Scoped(scopes)
        } else {
            KeyScopes::Unscoped
        }
    }

    /// `Ok` when a key holding `creator` may grant these: a key grants only what it has, and
    /// only a key without scopes makes one.
    pub fn granted_by(&self, creator: &KeyScopes) -> Result<(), ScopesError> {
        match (creator, self) {
            (KeyScopes::Unscoped, _) => Ok(()),
            (KeyScopes::Scoped(_), KeyScopes::Unscoped) => Err(ScopesError::UnscopedFromScoped),
            (KeyScopes::Scoped(held), KeyScopes::Scoped(asked)) => {
                let beyond: Vec<Scope> = asked.iter().filter(|s| !held.contains(s)).copied().collect();
                if beyond.is_empty() {
                    Ok(())
                } else {
                    Err(ScopesError::Beyond(beyond))
                }
            }
        }
    }

    /// The scopes, or `None` for a key without scopes.
    pub fn listed(&self) -> Option<&[Scope]> {
        match self {
            KeyScopes::Unscoped => None,
            KeyScopes::Scoped(scopes) => Some(scopes),
        }
    }
}

#[cfg(test)]
mod key_scopes_tests {
    use super::*;

    #[test]
    fn scopes_are_parsed_once_sorted_and_a_key_grants_only_what_it_has() {
        let parsed = KeyScopes::parse(Some([" write:keys:admin", "read:orgs:admin", "read:orgs:admin"]));
        assert_eq!(parsed, Ok(KeyScopes::Scoped(vec![Scope::ReadOrgs, Scope::WriteKeys])));
        assert_eq!(KeyScopes::parse(None::<[&str; 0]>), Ok(KeyScopes::Unscoped));
        assert_eq!(KeyScopes::parse(Some([])), Err(ScopesError::Empty));
        assert_eq!(
            KeyScopes::parse(Some(["read:everything"])),
            Err(ScopesError::Unknown("read:everything".into()))
        );
        let held = KeyScopes::Scoped(vec![Scope::ReadOrgs]);
        assert_eq!(
            KeyScopes::Unscoped.granted_by(&held),
            Err(ScopesError::UnscopedFromScoped)
        );
        assert_eq!(
            KeyScopes::Scoped(vec![Scope::ReadOrgs, Scope::WriteKeys]).granted_by(&held),
            Err(ScopesError::Beyond(vec![Scope::WriteKeys]))
        );
        assert_eq!(held.granted_by(&held), Ok(()));
        assert_eq!(KeyScopes::Unscoped.granted_by(&KeyScopes::Unscoped), Ok(()));
    }
}
