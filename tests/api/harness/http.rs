//! Small readings of an HTTP exchange that many doors share: where a redirect points, and an
//! instance that trusts the proxy in front of it.

use reqwest::header::LOCATION;

use super::Options;

/// Where a redirect sends the browser (empty when the answer has no Location).
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Options for an instance behind a trusted proxy on loopback, so each request may say which
/// client it is for (X-Forwarded-For; `Console::from` sets it).
pub fn behind_proxy() -> Options {
    Options {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("cidr")],
        ..Default::default()
    }
}
