//! The audit log's filters as the page's GET form and its links carry them: parsed into a
//! `store::audit::LogFilter`, or refused field by field in the viewer's language.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::console::catalog::audit_log::Messages;
use crate::domain::Action;
use crate::store::audit::{LogActor, LogFilter};

/// The actor filter's value for any API key.
pub const ANY_KEY: &str = "keys";
/// The actor filter's value for keyward's own work.
pub const SYSTEM: &str = "keyward";

/// The page's query string, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// `kind:id`, e.g. `api_key:<uuid>`: the events of one target (other pages link here).
    #[serde(default)]
    pub target: String,
    /// `1`: only refused uses of revoked or expired keys.
    #[serde(default)]
    pub forgotten: String,
    /// The keyset of the previous page's last event: `<microseconds since the epoch>_<id>`.
    #[serde(default)]
    pub after: String,
    /// `csv` or `jsonl` to download the filtered events instead of a page.
    #[serde(default)]
    pub format: String,
}

/// The filters as the form shows them again and the links carry them on (trimmed, as sent).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub action: String,
    pub actor: String,
    pub from: String,
    pub to: String,
    pub target: String,
    pub forgotten: bool,
}

impl Filters {
    pub fn of(query: &LogQuery) -> Filters {
        let clip = |value: &str| value.trim().chars().take(200).collect::<String>();
        Filters {
            action: clip(&query.action),
            actor: clip(&query.actor),
            from: clip(&query.from),
            to: clip(&query.to),
            target: clip(&query.target),
            forgotten: query.forgotten == "1",
        }
    }

    /// The query string of these filters (no cursor, no format), `&`-joined, maybe empty.
    pub fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("from", &self.from),
            ("to", &self.to),
            ("target", &self.target),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if self.forgotten {
            query.append_pair("forgotten", "1");
        }
        query.finish()
    }

    /// These filters' query string with one more pair.
    pub fn with(&self, name: &str, value: &str) -> String {
        let mut query = self.query();
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair(name, value)
                .finish(),
        );
        query
    }

    /// These filters without the target one.
    pub fn without_target(&self) -> String {
        Filters {
            target: String::new(),
            ..self.clone()
        }
        .query()
    }

    /// These filters without the forgotten-keys one.
    pub fn without_forgotten(&self) -> String {
        Filters {
            forgotten: false,
            ..self.clone()
        }
        .query()
    }

    pub fn is_empty(&self) -> bool {
        self.query().is_empty()
    }
}

/// Each field's refusal, shown beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterErrors {
    pub action: Option<&'static str>,
    pub actor: Option<&'static str>,
    pub from: Option<&'static str>,
    pub to: Option<&'static str>,
    pub target: Option<&'static str>,
}

impl FilterErrors {
    pub fn any(&self) -> bool {
        *self != FilterErrors::default()
    }
}

/// The filters as the store reads them, with the dates taken as whole days in `zone`; or
/// what is wrong with each field.
pub fn parse(filters: &Filters, zone: chrono_tz::Tz, m: &'static Messages) -> Result<LogFilter, FilterErrors> {
    let mut errors = FilterErrors::default();
    let action = match filters.action.as_str() {
        "" => None,
        name => name
            .parse::<Action>()
            .map_err(|_| errors.action = Some(m.action_unknown))
            .ok(),
    };
    let actor = match filters.actor.as_str() {
        "" => None,
        ANY_KEY => Some(LogActor::AnyKey),
        SYSTEM => Some(LogActor::System),
        id => id
            .parse::<Uuid>()
            .map(LogActor::Id)
            .map_err(|_| errors.actor = Some(m.actor_unknown))
            .ok(),
    };
    let from = match filters.from.as_str() {
        "" => None,
        day => parse_day(day).map_err(|_| errors.from = Some(m.date_unreadable)).ok(),
    };
    let to = match filters.to.as_str() {
        "" => None,
        day => parse_day(day).map_err(|_| errors.to = Some(m.date_unreadable)).ok(),
    };
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.from = Some(m.from_after_to);
    }
    let target = match filters.target.as_str() {
        "" => None,
        target => parse_target(target)
            .map_err(|_| errors.target = Some(m.target_unreadable))
            .ok(),
    };
    if errors.any() {
        return Err(errors);
    }
    Ok(LogFilter {
        from: from.map(|day| day_start(day, zone)),
        // Through the end of the `to` day: before the start of the next one.
        to: to
            .and_then(|day| day.checked_add_days(Days::new(1)))
            .map(|day| day_start(day, zone)),
        action,
        actor,
        target,
        forgotten: filters.forgotten,
    })
}

/// A date input's value, `YYYY-MM-DD`, in years a log can hold.
fn parse_day(input: &str) -> Result<NaiveDate, ()> {
    let day = NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| ())?;
    if !(1970..=9999).contains(&chrono::Datelike::year(&day)) {
        return Err(());
    }
    Ok(day)
}

/// `kind:id`: a kind of lowercase letters and underscores, an id of visible ASCII.
fn parse_target(input: &str) -> Result<(String, String), ()> {
    let (kind, id) = input.split_once(':').ok_or(())?;
    let kind_ok = !kind.is_empty() && kind.len() <= 40 && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let id_ok = !id.is_empty() && id.len() <= 200 && id.bytes().all(|b| b.is_ascii_graphic());
    if !(kind_ok && id_ok) {
        return Err(());
    }
    Ok((kind.to_owned(), id.to_owned()))
}

/// When `day` begins in `zone` (where midnight does not exist that day, the first moment that
/// does).
pub fn day_start(day: NaiveDate, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|hours| {
            zone.from_local_datetime(&(midnight + chrono::Duration::hours(hours)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |at| at.with_timezone(&Utc))
}

/// A page's keyset, as `after` carries it.
pub fn parse_cursor(input: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = input.split_once('_')?;
    Some((
        crate::store::timestamps::from_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

pub fn cursor(time: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{id}", time.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::catalog::audit_log::EN;

    fn filters(pairs: &[(&str, &str)]) -> Filters {
        let mut query = LogQuery::default();
        for (name, value) in pairs {
            let value = (*value).to_owned();
            match *name {
                "action" => query.action = value,
                "actor" => query.actor = value,
                "from" => query.from = value,
                "to" => query.to = value,
                "target" => query.target = value,
                "forgotten" => query.forgotten = value,
                other => panic!("{other}"),
            }
        }
        Filters::of(&query)
    }

    #[test]
    fn dates_are_whole_days_in_the_viewers_zone() {
        let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().expect("zone");
        let filter = parse(&filters(&[("from", "2026-12-01"), ("to", "2026-12-01")]), tokyo, &EN).expect("valid");
        assert_eq!(
            filter.from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-30T15:00:00+00:00")
        );
        assert_eq!(
            filter.to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-01T15:00:00+00:00")
        );
        let utc = parse(&filters(&[("to", "2026-12-31")]), chrono_tz::Tz::UTC, &EN).expect("valid");
        assert_eq!(
            utc.to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2027-01-01T00:00:00+00:00")
        );
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_starts_at_its_first_moment() {
        // Santiago skipped from 00:00 to 01:00 on 2026-09-06.
        let zone: chrono_tz::Tz = "America/Santiago".parse().expect("zone");
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).expect("day");
        assert_eq!(day_start(day, zone).to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn bad_input_is_refused_beside_its_field() {
        let errors = parse(
            &filters(&[
                ("action", "api_key.deleted"),
                ("actor", "bob"),
                ("from", "2026-13-01"),
                ("to", "yesterday"),
            ]),
            chrono_tz::Tz::UTC,
            &EN,
        )
        .expect_err("refused");
        assert_eq!(errors.action, Some(EN.action_unknown));
        assert_eq!(errors.actor, Some(EN.actor_unknown));
        assert_eq!(errors.from, Some(EN.date_unreadable));
        assert_eq!(errors.to, Some(EN.date_unreadable));
        let errors = parse(
            &filters(&[("from", "2026-12-02"), ("to", "2026-12-01")]),
            chrono_tz::Tz::UTC,
            &EN,
        )
        .expect_err("refused");
        assert_eq!(errors.from, Some(EN.from_after_to));
        for target in ["api_key", "API_KEY:x", ":x", "api_key:", "api_key:a b"] {
            let errors = parse(&filters(&[("target", target)]), chrono_tz::Tz::UTC, &EN).expect_err(target);
            assert_eq!(errors.target, Some(EN.target_unreadable), "{target}");
        }
    }

    #[test]
    fn actors_and_targets_parse() {
        let id = Uuid::new_v4();
        let filter = parse(
            &filters(&[
                ("actor", &id.to_string()),
                ("target", &format!("api_key:{id}")),
                ("forgotten", "1"),
            ]),
            chrono_tz::Tz::UTC,
            &EN,
        )
        .expect("valid");
        assert_eq!(filter.actor, Some(LogActor::Id(id)));
        assert_eq!(filter.target, Some(("api_key".to_owned(), id.to_string())));
        assert!(filter.forgotten);
        let keys = parse(&filters(&[("actor", ANY_KEY)]), chrono_tz::Tz::UTC, &EN).expect("valid");
        assert_eq!(keys.actor, Some(LogActor::AnyKey));
    }

    #[test]
    fn the_query_string_carries_the_filters_on() {
        let f = filters(&[
            ("action", "api_key.revoked"),
            ("from", "2026-12-01"),
            ("forgotten", "1"),
        ]);
        assert_eq!(f.query(), "action=api_key.revoked&from=2026-12-01&forgotten=1");
        assert_eq!(
            f.with("format", "csv"),
            "action=api_key.revoked&from=2026-12-01&forgotten=1&format=csv"
        );
        assert_eq!(Filters::default().with("format", "csv"), "format=csv");
    }

    #[test]
    fn cursors_round_trip_to_the_microsecond() {
        let time = DateTime::from_timestamp_micros(1_780_000_000_123_456).expect("time");
        let id = Uuid::new_v4();
        assert_eq!(parse_cursor(&cursor(time, id)), Some((time, id)));
        assert_eq!(parse_cursor("garbage"), None);
    }
}
