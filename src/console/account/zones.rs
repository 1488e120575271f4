//! The time zones a person can choose for their pages: UTC and the IANA database's zones named
//! by area and place (Asia/Tokyo), as chrono-tz compiles them in. The database's older aliases
//! (Japan, US/Pacific, Etc/GMT+9) are left out of the choice but still shown when the
//! user-management API stored one.

use std::sync::OnceLock;

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

const AREAS: [&str; 10] = [
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
];

/// Every zone offered, UTC first, then by name.
pub fn choices() -> &'static [Tz] {
    static CHOICES: OnceLock<Vec<Tz>> = OnceLock::new();
    CHOICES.get_or_init(|| {
        let mut zones: Vec<Tz> = TZ_VARIANTS
            .iter()
            .copied()
            .filter(|zone| AREAS.iter().any(|area| zone.name().starts_with(area)))
            .collect();
        zones.sort_by_key(|zone| zone.name());
        zones.insert(0, Tz::UTC);
        zones
    })
}

/// The zones the select offers a person whose zone is `current`: the choices, and their own
/// zone too when the user-management API stored one of the aliases left out.
pub fn offered(current: Tz) -> impl Iterator<Item = Tz> {
    let alias = (!choices().contains(&current)).then_some(current);
    choices()
        .iter()
        .take(1)
        .copied()
        .chain(alias)
        .chain(choices().iter().skip(1).copied())
}

/// A zone a person chose: one of `choices`, by its exact name.
pub fn parse(name: &str) -> Option<Tz> {
    choices().iter().copied().find(|zone| zone.name() == name)
}

/// The zone pages are shown in for a stored setting: any zone the database knows, else UTC.
pub fn zone_of(stored: Option<&str>) -> Tz {
    stored.and_then(|name| name.parse::<Tz>().ok()).unwrap_or(Tz::UTC)
}

/// How the choice reads: the name and its offset from UTC today, `Asia/Tokyo (UTC+09:00)`.
pub fn label(zone: Tz) -> String {
    if zone == Tz::UTC {
        return "UTC".to_owned();
    }
    let offset = zone.offset_from_utc_datetime(&Utc::now().naive_utc()).fix();
    format!("{} (UTC{offset})", zone.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_utc_and_the_area_zones_without_the_old_aliases() {
        assert_eq!(choices()[0], Tz::UTC);
        assert_eq!(parse("Asia/Tokyo"), Some(Tz::Asia__Tokyo));
        assert_eq!(parse("UTC"), Some(Tz::UTC));
        assert_eq!(parse("Japan"), None);
        assert_eq!(parse("asia/tokyo"), None);
        assert_eq!(parse("Mars/Olympus_Mons"), None);
        assert!(choices().len() > 300, "{}", choices().len());
    }

    #[test]
    fn a_stored_alias_is_still_shown_and_nonsense_is_utc() {
        assert_eq!(zone_of(Some("Japan")), Tz::Japan);
        assert_eq!(zone_of(Some("nowhere")), Tz::UTC);
        assert_eq!(zone_of(None), Tz::UTC);
    }

    #[test]
    fn an_alias_stored_by_the_api_is_offered_so_saving_the_form_keeps_it() {
        let first: Vec<Tz> = offered(Tz::Japan).take(3).collect();
        assert_eq!(first[..2], [Tz::UTC, Tz::Japan]);
        assert_eq!(offered(Tz::Asia__Tokyo).count(), choices().len());
    }

    #[test]
    fn a_label_gives_the_offset() {
        assert_eq!(label(Tz::Asia__Tokyo), "Asia/Tokyo (UTC+09:00)");
        assert_eq!(label(Tz::UTC), "UTC");
    }
}
