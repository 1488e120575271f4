//! The rules of an admin API key that do not depend on storage: its name, its lifetime and
//! its status at a given time.

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::Scope;
use super::actor::Actor;
use super::scope::KeyScopes;
use super::token::PublicId;

use super::names::NameError;

/// A key's name: trimmed, 1 to 100 characters, so people can tell their keys apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<KeyName, NameError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(NameError::TooLong(Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::ControlCharacters);
        }
        Ok(KeyName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a key stops working, as it is written. The database turns it into `expires_at` against
/// its own clock, at the statement that inserts the key, and its CHECK keeps that after the
/// key's creation and at most 365 days later (`api_keys_expiry_window`): no application clock
/// can stretch a key past a year. `AskedExpiry::settle` decides it; the CHECK is the last word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This many days after the key's creation.
    InDays(u16),
    /// At this time.
    At(DateTime<Utc>),
}

impl Expiry {
    pub const MAX_DAYS: u16 = 365;
    pub const DEFAULT_DAYS: u16 = 30;
}

/// Why an expiry cannot be had. Each door says it in its own words; `Display` is the API's and
/// the CLI's English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("The expiry must be in the future and at most {} days away.", Expiry::MAX_DAYS)]
    NotInFuture,
    #[error("A key can live at most {} days.", Expiry::MAX_DAYS)]
    TooFar,
    #[error("This organization's key lifetime policy allows new keys at most {0} days.")]
    BeyondPolicy(u16),
    #[error(
        "A key may not outlive the key that creates it, which expires at {}.",
        .0.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )]
    OutlivesCreator(DateTime<Utc>),
    #[error("Give a date (2027-01-31) or a time with its offset (2027-01-31T09:00:00Z).")]
    Unreadable,
    /// The database's CHECK refused it (its clock and the application's disagree).
    #[error("The expiry must be in the future and at most {} days away.", Expiry::MAX_DAYS)]
    OutOfWindow,
}

/// When a new key should stop working, as its creator asked, before the limits in force are
/// applied. One meaning of a bare date for every door: the key works through that whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedExpiry {
    /// Nothing asked: 30 days, cut to the org's policy and to the creating key's expiry.
    Default,
    /// This many days from the key's creation (1 to 365).
    InDays(u16),
    /// Through the whole of this day in this time zone: UTC through the API and the CLI, the
    /// viewer's own in the console.
    Through(NaiveDate, Tz),
    /// At this time.
    At(DateTime<Utc>),
}

impl AskedExpiry {
    /// A key that lives `days` days (1 to 365) from its creation.
    pub fn in_days(days: i64) -> Result<AskedExpiry, ExpiryError> {
        if days < 1 {
            return Err(ExpiryError::NotInFuture);
        }
        match u16::try_from(days) {
            Ok(days) if days <= Expiry::MAX_DAYS => Ok(AskedExpiry::InDays(days)),
            _ => Err(ExpiryError::TooFar),
        }
    }

    /// An RFC 3339 time, or a date (`2027-01-31`): through that whole day in `zone`.
    pub fn parse(input: &str, zone: Tz) -> Result<AskedExpiry, ExpiryError> {
        let input = input.trim();
        if let Ok(time) = DateTime::parse_from_rfc3339(input) {
            return Ok(AskedExpiry::At(time.with_timezone(&Utc)));
        }
        let date = NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| ExpiryError::Unreadable)?;
        Ok(AskedExpiry::Through(date, zone))
    }

    /// The expiry to write, given the limits in force at `now`: what was asked when it is within
    /// them; a bare date whose day the limit falls in, cut to the limit (and `Settled` says so);
    /// otherwise the error of the first limit it passes.
    pub fn settle(self, limits: &Limits, now: DateTime<Utc>) -> Result<Settled, ExpiryError> {
        let latest = limits.latest(now);
        match self {
            AskedExpiry::Default => {
                let days = limits
                    .policy_days
                    .map_or(Expiry::DEFAULT_DAYS, |p| p.min(Expiry::DEFAULT_DAYS));
                let at = now + days_of(days);
                Ok(match limits.creator_expires {
                    Some(creator) if at > creator => Settled::exact(Expiry::At(creator), creator),
                    _ => Settled::exact(Expiry::InDays(days), at),
                })
            }
            AskedExpiry::InDays(days) => {
                let at = now + days_of(days);
                limits.admit(at, now)?;
                Ok(Settled::exact(Expiry::InDays(days), at))
            }
            AskedExpiry::At(at) => {
                limits.admit(at, now)?;
                Ok(Settled::exact(Expiry::At(at), at))
            }
            AskedExpiry::Through(date, zone) => {
                let (start, end) = day_in(date, zone);
                if end <= now {
                    return Err(ExpiryError::NotInFuture);
                }
                if end <= latest.at {
                    return Ok(Settled::exact(Expiry::At(end), end));
                }
                if start >= latest.at {
                    return Err(latest.passed());
                }
                // The limit falls in the day asked for: the key works until the limit.
                Ok(Settled {
                    expiry: latest.expiry(),
                    expires_at: latest.at,
                    clamped_to: Some(latest.limit),
                })
            }
        }
    }
}

fn days_of(days: u16) -> Duration {
    Duration::days(i64::from(days))
}

/// The first and the last second of `date` in `zone`, in UTC. A day that starts in a daylight
/// saving gap starts at the gap's end (gaps are whole quarter hours, at most a few hours long);
/// a day a zone skipped altogether is taken in UTC.
fn day_in(date: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start_of = |day: NaiveDate| {
        (0..4 * 24)
            .find_map(|quarter| {
                let local = day.and_hms_opt(quarter / 4, (quarter % 4) * 15, 0)?;
                zone.from_local_datetime(&local).earliest()
            })
            .map_or_else(|| day.and_time(NaiveTime::MIN).and_utc(), |t| t.with_timezone(&Utc))
    };
    let next = date.succ_opt().unwrap_or(date);
    (start_of(date), start_of(next) - Duration::seconds(1))
}

/// What bounds a new key's life besides the year: read by the service under its lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// The org's key lifetime policy, when one is enabled: the shortest.
    pub policy_days: Option<u16>,
    /// The expiry of the key creating this one, when a key creates it.
    pub creator_expires: Option<DateTime<Utc>>,
}

/// The limit a new key's expiry met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A key lives at most 365 days.
    Year,
    /// The org's key lifetime policy, in days.
    Policy(u16),
    /// The creating key's own expiry.
    Creator(DateTime<Utc>),
}

/// The latest a new key may expire, and which limit says so.
struct Latest {
    at: DateTime<Utc>,
    limit: Limit,
}

impl Latest {
    fn passed(&self) -> ExpiryError {
        match self.limit {
            Limit::Year => ExpiryError::TooFar,
            Limit::Policy(days) => ExpiryError::BeyondPolicy(days),
            Limit::Creator(at) => ExpiryError::OutlivesCreator(at),
        }
    }

    /// The limit as an expiry to write: relative limits stay relative, so the database's clock
    /// measures them from the key's creation as its CHECK does.
    fn expiry(&self) -> Expiry {
        match self.limit {
            Limit::Year => Expiry::InDays(Expiry::MAX_DAYS),
            Limit::Policy(days) => Expiry::InDays(days),
            Limit::Creator(at) => Expiry::At(at),
        }
    }
}

impl Limits {
    /// The latest a key created at `now` may expire: the soonest of the year, the policy and the
    /// creating key's expiry. A policy of a year is the year; a creating key that expires with
    /// the year is the creating key, whose exact time no clock can stretch.
    fn latest(&self, now: DateTime<Utc>) -> Latest {
        let mut latest = Latest {
            at: now + days_of(Expiry::MAX_DAYS),
            limit: Limit::Year,
        };
        if let Some(days) = self.policy_days
            && now + days_of(days) < latest.at
        {
            latest = Latest {
                at: now + days_of(days),
                limit: Limit::Policy(days),
            };
        }
        if let Some(creator) = self.creator_expires
            && creator <= latest.at
        {
            latest = Latest {
                at: creator,
                limit: Limit::Creator(creator),
            };
        }
        latest
    }

    /// `Ok` when a key expiring at `at` is in the future and within every limit.
    fn admit(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ExpiryError> {
        if at <= now {
            return Err(ExpiryError::NotInFuture);
        }
        if at > now + days_of(Expiry::MAX_DAYS) {
            return Err(ExpiryError::TooFar);
        }
        match (self.policy_days, self.creator_expires) {
            (Some(days), _) if at > now + days_of(days) => Err(ExpiryError::BeyondPolicy(days)),
            (_, Some(creator)) if at > creator => Err(ExpiryError::OutlivesCreator(creator)),
            _ => Ok(()),
        }
    }

    /// The last day, in `zone`, that a bare date may name.
    pub fn last_day(&self, now: DateTime<Utc>, zone: Tz) -> NaiveDate {
        self.latest(now).at.with_timezone(&zone).date_naive()
    }
}

/// A new key's expiry, decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub expiry: Expiry,
    /// When it expires, by this application's clock (the database's may differ by the time the
    /// statement takes).
    pub expires_at: DateTime<Utc>,
    /// The limit a bare date's end was cut to, when it was.
    pub clamped_to: Option<Limit>,
}

impl Settled {
    fn exact(expiry: Expiry, expires_at: DateTime<Utc>) -> Settled {
        Settled {
            expiry,
            expires_at,
            clamped_to: None,
        }
    }
}

/// Whether a key works at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub fn at(now: DateTime<Utc>, expires_at: DateTime<Utc>, revoked_at: Option<DateTime<Utc>>) -> KeyStatus {
        if revoked_at.is_some() {
            KeyStatus::Revoked
        } else if now >= expires_at {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

/// A key as the console and the API show it. Never any part of the secret.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: Uuid,
    pub org_id: Uuid,
    pub public_id: PublicId,
    pub name: String,
    pub scopes: KeyScopes,
    pub created_by: Actor,
    pub responsible_user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<IpAddr>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The responsible person's name and email, when there is one.
    pub creator_name: Option<String>,
    pub creator_email: Option<String>,
}

impl ApiKey {
    /// False for a key without scopes, which may call every endpoint of its org.
    pub fn scoped(&self) -> bool {
        self.scopes.listed().is_some()
    }

    /// The key's scopes; none for a key without scopes.
    pub fn scope_list(&self) -> &[Scope] {
        self.scopes.listed().unwrap_or_default()
    }

    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        KeyStatus::at(now, self.expires_at, self.revoked_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_at_most_100_characters() {
        assert_eq!(KeyName::parse("  deploy bot ").map(|n| n.0), Ok("deploy bot".into()));
        assert!(KeyName::parse(&"鍵".repeat(100)).is_ok());
        assert_eq!(KeyName::parse(&"鍵".repeat(101)), Err(NameError::TooLong(100)));
        assert_eq!(KeyName::parse("   "), Err(NameError::Empty));
    }

    #[test]
    fn expiry_in_days_is_one_to_365() {
        assert_eq!(AskedExpiry::in_days(1), Ok(AskedExpiry::InDays(1)));
        assert_eq!(AskedExpiry::in_days(365), Ok(AskedExpiry::InDays(365)));
        assert_eq!(AskedExpiry::in_days(366), Err(ExpiryError::TooFar));
        assert_eq!(AskedExpiry::in_days(400), Err(ExpiryError::TooFar));
        assert_eq!(AskedExpiry::in_days(i64::MAX), Err(ExpiryError::TooFar));
        assert_eq!(AskedExpiry::in_days(0), Err(ExpiryError::NotInFuture));
        assert_eq!(AskedExpiry::in_days(-30), Err(ExpiryError::NotInFuture));
    }

    fn time(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn an_expiry_is_a_date_or_an_rfc3339_time() {
        assert_eq!(
            AskedExpiry::parse("2027-01-31", Tz::UTC),
            Ok(AskedExpiry::Through(date("2027-01-31"), Tz::UTC))
        );
        assert_eq!(
            AskedExpiry::parse(" 2027-01-31T09:00:00+09:00 ", Tz::UTC),
            Ok(AskedExpiry::At(time("2027-01-31T00:00:00Z"))),
            "an offset is honoured"
        );
        for unreadable in ["", "tomorrow", "2027-02-30", "31/01/2027", "2027-01-31T09:00:00"] {
            assert_eq!(
                AskedExpiry::parse(unreadable, Tz::UTC),
                Err(ExpiryError::Unreadable),
                "{unreadable}"
            );
        }
    }

    #[test]
    fn a_bare_date_means_the_key_works_through_that_whole_day_in_the_zone_asked() {
        let now = time("2026-12-08T10:00:00Z");
        let limits = Limits::default();
        let through = |day, zone| AskedExpiry::Through(date(day), zone).settle(&limits, now);
        assert_eq!(
            through("2027-01-31", Tz::UTC).map(|s| s.expires_at),
            Ok(time("2027-01-31T23:59:59Z"))
        );
        assert_eq!(
            through("2027-01-31", chrono_tz::Asia::Tokyo).map(|s| s.expires_at),
            Ok(time("2027-01-31T14:59:59Z")),
            "the end of the day in Tokyo"
        );
        assert_eq!(
            through("2026-12-08", Tz::UTC).map(|s| s.expiry),
            Ok(Expiry::At(time("2026-12-08T23:59:59Z"))),
            "today is the rest of today"
        );
        assert_eq!(through("2026-12-07", Tz::UTC), Err(ExpiryError::NotInFuture));
        assert_eq!(
            through("2026-12-07", chrono_tz::Pacific::Kiritimati).map(|s| s.expires_at),
            Err(ExpiryError::NotInFuture),
            "yesterday in a zone ahead of UTC is over"
        );
        // Santiago moved its clocks from midnight to 01:00 on 2027-09-05: that day starts at
        // 01:00 local (04:00Z) and the day before ends a second earlier.
        let santiago = chrono_tz::America::Santiago;
        assert_eq!(
            day_in(date("2027-09-04"), santiago).1,
            time("2027-09-05T03:59:59Z"),
            "a day ends where the next one starts, across a gap at midnight"
        );
    }

    #[test]
    fn the_last_allowed_day_works_at_any_hour_and_ends_at_the_limit() {
        for hour in [0, 9, 23] {
            let now = time(&format!("2026-12-08T{hour:02}:30:00Z"));
            let limits = Limits::default();
            let last = limits.last_day(now, Tz::UTC);
            assert_eq!(last, date("2027-12-08"), "at {hour}:30");
            let settled = AskedExpiry::Through(last, Tz::UTC)
                .settle(&limits, now)
                .expect("the last day");
            assert_eq!(settled.expiry, Expiry::InDays(365), "measured by the database's clock");
            assert_eq!(settled.expires_at, now + Duration::days(365));
            assert_eq!(settled.clamped_to, Some(Limit::Year));
            let after = last.succ_opt().expect("a day");
            assert_eq!(
                AskedExpiry::Through(after, Tz::UTC).settle(&limits, now),
                Err(ExpiryError::TooFar)
            );
        }
    }

    #[test]
    fn every_limit_cuts_a_bare_date_and_refuses_what_is_past_its_day() {
        let now = time("2026-12-08T10:00:00Z");
        let policy = Limits {
            policy_days: Some(7),
            creator_expires: None,
        };
        let cut = AskedExpiry::Through(date("2026-12-15"), Tz::UTC)
            .settle(&policy, now)
            .expect("cut");
        assert_eq!(
            (cut.expiry, cut.clamped_to),
            (Expiry::InDays(7), Some(Limit::Policy(7)))
        );
        assert_eq!(
            AskedExpiry::Through(date("2026-12-16"), Tz::UTC).settle(&policy, now),
            Err(ExpiryError::BeyondPolicy(7))
        );
        let creator_expires = time("2026-12-20T06:00:00Z");
        let creator = Limits {
            policy_days: None,
            creator_expires: Some(creator_expires),
        };
        let cut = AskedExpiry::Through(date("2026-12-20"), Tz::UTC)
            .settle(&creator, now)
            .expect("cut");
        assert_eq!(
            (cut.expiry, cut.clamped_to),
            (Expiry::At(creator_expires), Some(Limit::Creator(creator_expires)))
        );
        assert_eq!(
            AskedExpiry::Through(date("2026-12-21"), Tz::UTC).settle(&creator, now),
            Err(ExpiryError::OutlivesCreator(creator_expires))
        );
    }

    #[test]
    fn a_limit_the_same_as_the_year_is_named_as_the_safer_one() {
        let now = time("2026-12-08T10:00:00Z");
        let last = date("2027-12-08");
        let year_policy = Limits {
            policy_days: Some(365),
            creator_expires: None,
        };
        let settled = AskedExpiry::Through(last, Tz::UTC)
            .settle(&year_policy, now)
            .expect("cut");
        assert_eq!(
            (settled.expiry, settled.clamped_to),
            (Expiry::InDays(365), Some(Limit::Year))
        );
        let shorter = Limits {
            policy_days: Some(364),
            creator_expires: None,
        };
        let settled = AskedExpiry::Through(date("2027-12-07"), Tz::UTC)
            .settle(&shorter, now)
            .expect("cut");
        assert_eq!(settled.clamped_to, Some(Limit::Policy(364)));
        let creator_expires = now + Duration::days(365);
        let with_the_year = Limits {
            policy_days: None,
            creator_expires: Some(creator_expires),
        };
        let settled = AskedExpiry::Through(last, Tz::UTC)
            .settle(&with_the_year, now)
            .expect("cut");
        assert_eq!(
            (settled.expiry, settled.clamped_to),
            (Expiry::At(creator_expires), Some(Limit::Creator(creator_expires))),
            "the creating key's own time, not 365 days by a later clock"
        );
    }

    #[test]
    fn exact_times_and_day_counts_are_never_cut_only_refused() {
        let now = time("2026-12-08T10:00:00Z");
        let limits = Limits {
            policy_days: Some(90),
            creator_expires: Some(time("2027-01-01T00:00:00Z")),
        };
        assert_eq!(AskedExpiry::At(now).settle(&limits, now), Err(ExpiryError::NotInFuture));
        assert_eq!(
            AskedExpiry::At(now + Duration::days(366)).settle(&Limits::default(), now),
            Err(ExpiryError::TooFar)
        );
        assert_eq!(
            AskedExpiry::InDays(91)
                .settle(&Limits::default(), now)
                .map(|s| s.expiry),
            Ok(Expiry::InDays(91))
        );
        assert_eq!(
            AskedExpiry::InDays(91).settle(&limits, now),
            Err(ExpiryError::BeyondPolicy(90))
        );
        let policy_only = Limits {
            policy_days: Some(90),
            creator_expires: None,
        };
        assert_eq!(
            AskedExpiry::InDays(90).settle(&policy_only, now).map(|s| s.expiry),
            Ok(Expiry::InDays(90)),
            "the policy's own length is allowed"
        );
        assert_eq!(
            AskedExpiry::At(time("2027-01-01T00:00:01Z")).settle(&limits, now),
            Err(ExpiryError::OutlivesCreator(time("2027-01-01T00:00:00Z")))
        );
    }

    #[test]
    fn an_expiry_may_reach_the_creators_own_and_the_365th_day_but_not_pass_them() {
        let now = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_000_000).expect("time");
        let year = now + Duration::days(365);
        let creator = |at| Limits {
            policy_days: None,
            creator_expires: Some(at),
        };
        let later_creator = creator(year + Duration::days(10));
        assert_eq!(
            AskedExpiry::At(year).settle(&later_creator, now).map(|s| s.expiry),
            Ok(Expiry::At(year))
        );
        let later = year + Duration::microseconds(1);
        assert!(
            AskedExpiry::At(later).settle(&later_creator, now).is_err(),
            "past 365 days"
        );

        let own = now + Duration::days(20);
        assert_eq!(
            AskedExpiry::At(own).settle(&creator(own), now).map(|s| s.expiry),
            Ok(Expiry::At(own))
        );
        let past_own = own + Duration::microseconds(1);
        assert!(
            AskedExpiry::At(past_own).settle(&creator(own), now).is_err(),
            "past the creator's"
        );
    }

    #[test]
    fn the_default_is_thirty_days_cut_to_the_policy_and_to_the_creators_expiry() {
        let now = time("2026-12-08T10:00:00Z");
        let settle = |policy_days, creator_expires| {
            AskedExpiry::Default
                .settle(
                    &Limits {
                        policy_days,
                        creator_expires,
                    },
                    now,
                )
                .map(|s| s.expiry)
        };
        assert_eq!(settle(None, None), Ok(Expiry::InDays(30)));
        assert_eq!(settle(Some(7), None), Ok(Expiry::InDays(7)));
        assert_eq!(settle(Some(365), None), Ok(Expiry::InDays(30)));
        let creator = now + Duration::days(30);
        assert_eq!(settle(None, Some(creator)), Ok(Expiry::InDays(30)));
        let sooner = creator - Duration::microseconds(1);
        assert_eq!(settle(None, Some(sooner)), Ok(Expiry::At(sooner)));
        assert_eq!(settle(Some(7), Some(sooner)), Ok(Expiry::InDays(7)));
    }

    #[test]
    fn revocation_outranks_expiry() {
        let now = Utc::now();
        assert_eq!(KeyStatus::at(now, now + Duration::days(1), None), KeyStatus::Active);
        assert_eq!(KeyStatus::at(now, now, None), KeyStatus::Expired);
        assert_eq!(
            KeyStatus::at(now, now - Duration::days(1), Some(now)),
            KeyStatus::Revoked
        );
    }
}
