//! The org policies keyward enforces, as rules that need no storage: an IP allowlist for the
//! org's API keys, and a limit on the lifetime of the org's new keys. Several enabled policies
//! of one type combine: an address is admitted when any enabled allowlist holds it, and new keys
//! live no longer than the shortest enabled lifetime.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Value, json};

use super::api_key::Expiry;

/// The types of policy keyward enforces; any other is refused, not stored and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    IpAllowlist,
    KeyLifetime,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 2] = [PolicyKind::IpAllowlist, PolicyKind::KeyLifetime];

    /// The type as the API and the database name it.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::IpAllowlist => "ip-allowlist",
            PolicyKind::KeyLifetime => "api-key-lifetime",
        }
    }

    pub fn parse(input: &str) -> Result<PolicyKind, PolicyError> {
        let input = input.trim();
        PolicyKind::ALL
            .into_iter()
            .find(|kind| kind.name() == input)
            .ok_or_else(|| PolicyError::UnsupportedType(input.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyStatus {
    Enabled,
    Disabled,
}

impl PolicyStatus {
    pub fn name(self) -> &'static str {
        match self {
            PolicyStatus::Enabled => "enabled",
            PolicyStatus::Disabled => "disabled",
        }
    }

    pub fn parse(input: &str) -> Result<PolicyStatus, PolicyError> {
        match input.trim() {
            "enabled" => Ok(PolicyStatus::Enabled),
            "disabled" => Ok(PolicyStatus::Disabled),
            other => Err(PolicyError::Status(other.to_owned())),
        }
    }
}

/// Why a policy was refused; each message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("keyward enforces the policy types ip-allowlist and api-key-lifetime; {0:?} is not one of them.")]
    UnsupportedType(String),
    #[error("status must be \"enabled\" or \"disabled\", not {0:?}.")]
    Status(String),
    #[error("An ip-allowlist rule is {{\"in\": [\"203.0.113.0/24\", \"2001:db8::/32\", ...]}}.")]
    AllowlistShape,
    #[error("rule.in[{index}]: {value:?} is not an IP address or a CIDR range such as 203.0.113.0/24.")]
    Range { index: usize, value: String },
    #[error("An allowlist needs at least one range; to admit every address, disable the policy.")]
    EmptyAllowlist,
    #[error("An allowlist holds at most {} ranges.", Allowlist::MAX_RANGES)]
    TooManyRanges,
    #[error(
        "An api-key-lifetime rule is {{\"maxDays\": N}}, N a whole number of days from 1 to {}.",
        Expiry::MAX_DAYS
    )]
    LifetimeShape,
}

/// The address ranges an org's keys may be used from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist(Vec<IpNet>);

impl Allowlist {
    pub const MAX_RANGES: usize = 1000;

    /// CIDR ranges, or single addresses (a /32 or /128). A range with host bits set is taken as
    /// its network (`10.1.2.3/8` is `10.0.0.0/8`); duplicates are dropped; the order is kept.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Allowlist, PolicyError> {
        let mut ranges: Vec<IpNet> = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let entry = entry.trim();
            let range = entry
                .parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| entry.parse::<IpAddr>().map(|ip| IpNet::from(canonical(ip))))
                .map_err(|_| PolicyError::Range {
                    index,
                    value: entry.to_owned(),
                })?;
            if !ranges.contains(&range) {
                ranges.push(range);
            }
            if ranges.len() > Self::MAX_RANGES {
                return Err(PolicyError::TooManyRanges);
            }
        }
        if ranges.is_empty() {
            return Err(PolicyError::EmptyAllowlist);
        }
        Ok(Allowlist(ranges))
    }

    /// A list that admits no address: what a stored rule that cannot be read stands for, so
    /// damage fails closed.
    pub fn nothing() -> Allowlist {
        Allowlist(Vec::new())
    }

    pub fn admits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|range| range.contains(&ip))
    }

    pub fn ranges(&self) -> &[IpNet] {
        &self.0
    }
}

/// An IPv4 client seen through an IPv6 socket (`::ffff:203.0.113.7`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The longest a new key of the org may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyLifetime(u16);

impl KeyLifetime {
    pub fn max_days(self) -> u16 {
        self.0
    }

    pub fn from_days(days: i64) -> Result<KeyLifetime, PolicyError> {
        match u16::try_from(days) {
            Ok(days) if (1..=Expiry::MAX_DAYS).contains(&days) => Ok(KeyLifetime(days)),
            _ => Err(PolicyError::LifetimeShape),
        }
    }
}

/// A policy's rule, parsed for its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRule {
    IpAllowlist(Allowlist),
    KeyLifetime(KeyLifetime),
}

impl PolicyRule {
    pub fn parse(kind: PolicyKind, rule: &Value) -> Result<PolicyRule, PolicyError> {
        match kind {
            PolicyKind::IpAllowlist => {
                let entries = rule
                    .get("in")
                    .and_then(Value::as_array)
                    .ok_or(PolicyError::AllowlistShape)?;
                let texts = entries
                    .iter()
                    .map(|entry| entry.as_str().ok_or(PolicyError::AllowlistShape))
                    .collect::<Result<Vec<&str>, PolicyError>>()?;
                Allowlist::parse(texts).map(PolicyRule::IpAllowlist)
            }
            PolicyKind::KeyLifetime => {
                let days = rule
                    .get("maxDays")
                    .and_then(Value::as_i64)
                    .ok_or(PolicyError::LifetimeShape)?;
                KeyLifetime::from_days(days).map(PolicyRule::KeyLifetime)
            }
        }
    }

    pub fn kind(&self) -> PolicyKind {
        match self {
            PolicyRule::IpAllowlist(_) => PolicyKind::IpAllowlist,
            PolicyRule::KeyLifetime(_) => PolicyKind::KeyLifetime,
        }
    }

    /// The rule as it is stored and shown.
    pub fn to_json(&self) -> Value {
        match self {
            PolicyRule::IpAllowlist(list) => {
                json!({ "in": list.ranges().iter().map(ToString::to_string).collect::<Vec<_>>() })
            }
            PolicyRule::KeyLifetime(lifetime) => json!({ "maxDays": lifetime.max_days() }),
        }
    }
}

/// What the enabled allowlists of an org admit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressPolicy {
    /// No enabled allowlist: every address.
    Open,
    /// Only addresses one of these lists holds.
    Only(Vec<Allowlist>),
}

impl AddressPolicy {
    pub fn of(lists: Vec<Allowlist>) -> AddressPolicy {
        if lists.is_empty() {
            AddressPolicy::Open
        } else {
            AddressPolicy::Only(lists)
        }
    }

    pub fn admits(&self, ip: IpAddr) -> bool {
        match self {
            AddressPolicy::Open => true,
            AddressPolicy::Only(lists) => lists.iter().any(|list| list.admits(ip)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn an_allowlist_admits_the_addresses_of_its_ranges_and_no_other() {
        let list = Allowlist::parse(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]).expect("list");
        assert!(list.admits(ip("203.0.113.200")));
        assert!(list.admits(ip("2001:db8::1")));
        assert!(list.admits(ip("198.51.100.7")));
        assert!(!list.admits(ip("198.51.100.8")));
        assert!(!list.admits(ip("203.0.114.1")));
        assert!(!list.admits(ip("2001:db9::1")));
    }

    #[test]
    fn an_ipv4_client_behind_an_ipv6_socket_is_judged_by_its_ipv4_address() {
        let list = Allowlist::parse(["203.0.113.0/24"]).expect("list");
        assert!(list.admits(ip("::ffff:203.0.113.9")));
        assert!(!list.admits(ip("::ffff:10.0.0.1")));
    }

    #[test]
    fn ranges_are_kept_as_networks_without_duplicates() {
        let list = Allowlist::parse(["10.1.2.3/8", "10.0.0.0/8", " 127.0.0.1 "]).expect("list");
        let shown: Vec<String> = list.ranges().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32"]);
    }

    #[test]
    fn an_allowlist_refuses_garbage_nothing_and_too_much() {
        assert_eq!(
            Allowlist::parse(["10.0.0.0/8", "office"]),
            Err(PolicyError::Range {
                index: 1,
                value: "office".into()
            })
        );
        assert_eq!(Allowlist::parse([]), Err(PolicyError::EmptyAllowlist));
        let many: Vec<String> = (0..1001).map(|i| format!("10.{}.{}.0/24", i / 256, i % 256)).collect();
        assert_eq!(
            Allowlist::parse(many.iter().map(String::as_str)),
            Err(PolicyError::TooManyRanges)
        );
    }

    #[test]
    fn rules_parse_for_their_type_and_show_as_they_are_stored() {
        let rule = PolicyRule::parse(PolicyKind::IpAllowlist, &json!({"in": ["203.0.113.0/24"]})).expect("rule");
        assert_eq!(rule.to_json(), json!({"in": ["203.0.113.0/24"]}));
        let rule = PolicyRule::parse(PolicyKind::KeyLifetime, &json!({"maxDays": 90})).expect("rule");
        assert_eq!(rule, PolicyRule::KeyLifetime(KeyLifetime(90)));
        assert_eq!(rule.to_json(), json!({"maxDays": 90}));
    }

    #[test]
    fn a_lifetime_is_one_to_365_whole_days() {
        for bad in [
            json!({"maxDays": 0}),
            json!({"maxDays": 366}),
            json!({"maxDays": 1.5}),
            json!({"days": 30}),
        ] {
            assert_eq!(
                PolicyRule::parse(PolicyKind::KeyLifetime, &bad),
                Err(PolicyError::LifetimeShape),
                "{bad}"
            );
        }
        assert!(PolicyRule::parse(PolicyKind::KeyLifetime, &json!({"maxDays": 365})).is_ok());
    }

    #[test]
    fn only_the_enforced_types_are_accepted() {
        assert_eq!(PolicyKind::parse("ip-allowlist"), Ok(PolicyKind::IpAllowlist));
        assert_eq!(PolicyKind::parse("api-key-lifetime"), Ok(PolicyKind::KeyLifetime));
        assert_eq!(
            PolicyKind::parse("data-residency"),
            Err(PolicyError::UnsupportedType("data-residency".into()))
        );
    }

    #[test]
    fn several_allowlists_admit_what_any_of_them_holds() {
        let office = Allowlist::parse(["203.0.113.0/24"]).expect("list");
        let ci = Allowlist::parse(["198.51.100.0/24"]).expect("list");
        let policy = AddressPolicy::of(vec![office, ci]);
        assert!(policy.admits(ip("198.51.100.1")));
        assert!(policy.admits(ip("203.0.113.1")));
        assert!(!policy.admits(ip("192.0.2.1")));
        assert!(AddressPolicy::of(Vec::new()).admits(ip("192.0.2.1")));
    }
}
