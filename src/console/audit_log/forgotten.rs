//! Forgotten keys: how many revoked or expired keys of an org were presented in the last 30
//! days, and from how many addresses, as the keys list and the selection screen show it, with
//! a link to those events on the audit log. "The last 30 days" begins at the start of the day
//! 30 days ago in the viewer's time zone, so the count and the linked (whole-day) filter agree.

use crate::console::urls::OrgUrls;
use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::filters::day_start;
use crate::console::catalog::audit_log::Messages;
use crate::console::catalog::{Lang, audit_log, fill};
use crate::store;

/// The days the notice looks back over.
const DAYS: u64 = 30;

/// One org's notice, in the viewer's language.
#[derive(Debug, Clone)]
pub struct ForgottenNotice {
    pub keys: i64,
    pub addresses: i64,
    pub title: &'static str,
    /// The sentence of the keys list.
    pub text: String,
    /// The shorter one of the selection screen.
    pub short: String,
    pub see: &'static str,
    /// The audit log filtered to those events.
    pub link: String,
}

/// The first day the notice counts, in `zone`.
fn first_day(zone: chrono_tz::Tz) -> NaiveDate {
    let today = Utc::now().with_timezone(&zone).date_naive();
    today.checked_sub_days(Days::new(DAYS)).unwrap_or(today)
}

/// The notices of each of `org_ids` that has forgotten keys (one query for them all).
pub async fn notices(
    conn: &mut PgConnection,
    org_ids: &[Uuid],
    zone: chrono_tz::Tz,
    lang: Lang,
) -> Result<HashMap<Uuid, ForgottenNotice>, sqlx::Error> {
    if org_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let day = first_day(zone);
    let counts = store::audit::forgotten_keys(conn, org_ids, day_start(day, zone)).await?;
    let m = audit_log::of(lang);
    Ok(counts
        .into_iter()
        .filter(|(_, found)| found.keys > 0)
        .map(|(org_id, found)| (org_id, build(org_id, found, day, m)))
        .collect())
}

/// One org's notice, if it has forgotten keys.
pub async fn notice(
    conn: &mut PgConnection,
    org_id: Uuid,
    zone: chrono_tz::Tz,
    lang: Lang,
) -> Result<Option<ForgottenNotice>, sqlx::Error> {
    Ok(notices(conn, &[org_id], zone, lang).await?.remove(&org_id))
}

fn build(org_id: Uuid, found: store::audit::ForgottenKeys, day: NaiveDate, m: &'static Messages) -> ForgottenNotice {
    let values = [
        ("keys", found.keys.to_string()),
        ("addresses", found.addresses.to_string()),
    ];
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ForgottenNotice {
        keys: found.keys,
        addresses: found.addresses,
        title: m.forgotten_title,
        text: fill(m.forgotten_notice, &values),
        short: fill(m.forgotten_short, &values),
        see: m.forgotten_see,
        link: OrgUrls::of(org_id)
            .audit_log()
            .with("action", "api_key.rejected_use")
            .with("from", day.format("%Y-%m-%d"))
            .with("forgotten", 1)
            .to_string(),
    }
}
