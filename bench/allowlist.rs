//! How fast an IP allowlist change reaches a second instance, measured like revocation: a key
//! cached on A and B, used from `SUBJECT_FROM`; A's admin key (from `GOOD_FROM`, always on the
//! list) alternately takes that address off the org's list and puts it back through A's API, and
//! after each change B is asked until it answers the new way. A's own next request is checked
//! too: the instance that made the change must apply it at once.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use uuid::Uuid;

use super::http::{self, Connection, Tally};
use super::servers::{Instance, metric};
use super::{BenchKey, GOOD_FROM, MAX_POLLS_PER_KEY, PROPAGATION_LIMIT, REQUEST_LIMIT, REVOCATION_LIMIT};

/// The address the measured key is used from: on the list, then off it, then on it again.
const SUBJECT_FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

#[derive(Default)]
pub struct Propagation {
    /// From A's answer to the change until B first answered the new way (refused or admitted).
    pub delays: Vec<Duration>,
    /// A's answer to its first request after each change: 403 after a removal, 200 after a re-add.
    pub on_changer_wrong: u64,
    pub on_changer: Tally,
    pub lost: u64,
    pub notices: f64,
    pub reconnects: f64,
}

fn body(with_subject: bool) -> String {
    let subject = if with_subject { r#", "127.0.0.3/32""# } else { "" };
    format!(
        r#"{{"type": "ip-allowlist", "name": "benchmark", "status": "enabled", "rule": {{"in": ["127.0.0.1/32"{subject}]}}}}"#
    )
}

pub async fn measure(
    client: &reqwest::Client,
    a: &Instance,
    b: &Instance,
    org: Uuid,
    admin: &BenchKey,
    subject: &BenchKey,
    changes: usize,
) -> anyhow::Result<Propagation> {
    let deadline = Instant::now() + REVOCATION_LIMIT;
    let mut changer = Connection::open(a.address, Some(GOOD_FROM)).await?;
    let mut on_a = Connection::open(a.address, Some(SUBJECT_FROM)).await?;
    let mut on_b = Connection::open(b.address, Some(SUBJECT_FROM)).await?;
    let use_on_a = http::get(a.address, "/admin/v1/key", Some(&subject.token));
    let use_on_b = http::get(b.address, "/admin/v1/key", Some(&subject.token));
    for (connection, request) in [(&mut on_a, &use_on_a), (&mut on_b, &use_on_b)] {
        let status = connection.send_within(request, REQUEST_LIMIT).await?;
        if status != 200 {
            bail!("the subject key answered {status} before any policy, not 200");
        }
    }
    let policy = client
        .post(format!("http://{}/admin/v1/orgs/{org}/policies", a.address))
        .bearer_auth(&admin.token)
        .header("Content-Type", "application/json")
        .body(body(true))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    let id = policy["data"]["id"]
        .as_str()
        .context("the created policy has no id")?
        .to_owned();
    let path = format!("/admin/v1/orgs/{org}/policies/{id}");
    let notices_before = metric(client, b.metrics, "keyward_policy_notices_total").await?;
    let reconnects_before = metric(client, b.metrics, "keyward_revocation_listener_reconnects_total").await?;
    let mut result = Propagation::default();
    for change in 0..changes {
        if Instant::now() >= deadline {
            bail!("the allowlist phase took longer than {REVOCATION_LIMIT:?}");
        }
        // Even changes take the subject's address off the list, odd ones put it back.
        let admitted = change % 2 == 1;
        let expected = if admitted { 200 } else { 403 };
        let put = http::with_json("PUT", a.address, &path, &admin.token, &body(admitted));
        let status = changer.send_within(&put, REQUEST_LIMIT).await?;
        let changed_at = Instant::now();
        if status != 200 {
            bail!("changing the allowlist through A answered {status}, not 200");
        }
        let status = on_a.send_within(&use_on_a, REQUEST_LIMIT).await?;
        result.on_changer.record(status);
        if status != expected {
            result.on_changer_wrong += 1;
        }
        let mut seen = false;
        for _ in 0..MAX_POLLS_PER_KEY {
            if on_b.send_within(&use_on_b, REQUEST_LIMIT).await? == expected {
                seen = true;
                break;
            }
            if changed_at.elapsed() >= PROPAGATION_LIMIT {
                break;
            }
        }
        result.delays.push(changed_at.elapsed());
        if !seen {
            result.lost += 1;
        }
        if (change + 1).is_multiple_of(250) {
            eprintln!("load:   {} of {changes} allowlist changes", change + 1);
        }
    }
    result.notices = metric(client, b.metrics, "keyward_policy_notices_total").await? - notices_before;
    result.reconnects =
        metric(client, b.metrics, "keyward_revocation_listener_reconnects_total").await? - reconnects_before;
    Ok(result)
}
