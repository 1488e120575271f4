//! The client address a request is attributed to (rate limits, last-used address, audit log).
//! It is the peer address, unless the peer is a trusted proxy: then the first X-Forwarded-For
//! entry found walking from the right past trusted addresses only. actix-web's
//! `realip_remote_addr()` believes any client's header, so it is not used.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// IPv4-mapped IPv6 addresses (from a listener on `[::]`) count as the IPv4 address they carry.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match forwarded_address(hop).map(|ip| ip.to_canonical()) {
            Some(ip) => {
                client = ip;
                if !trusted(&ip) {
                    break;
                }
            }
            // A garbled entry ends the walk: nothing left of it can be trusted.
            None => break,
        }
    }
    client
}

/// One X-Forwarded-For entry: an address, maybe with the port the proxy saw
/// (`203.0.113.7:4711`, `[2001:db8::1]:443`), maybe an IPv6 address in brackets alone
/// (`[2001:db8::1]`), as some proxies write them.
fn forwarded_address(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let bracketed = hop.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(xff: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(xff).expect("ascii"),
        );
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers("198.51.100.1"), &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let forwarded = headers("1.1.1.1, 198.51.100.7, 10.0.0.3");
        assert_eq!(client_ip(ip("10.0.0.2"), &forwarded, &trusted), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers("nonsense, 10.0.0.4"), &trusted),
            ip("10.0.0.4")
        );
    }

    #[test]
    fn forwarded_entries_with_a_port_or_in_brackets_are_that_address() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let proxy = ip("10.0.0.2");
        let cases = [
            ("203.0.113.7:4711", "203.0.113.7"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("198.51.100.1, 203.0.113.7:4711, 10.0.0.3:80", "203.0.113.7"),
            ("[::ffff:203.0.113.7]:443", "203.0.113.7"),
        ];
        for (forwarded, client) in cases {
            assert_eq!(
                client_ip(proxy, &headers(forwarded), &trusted),
                ip(client),
                "{forwarded}"
            );
        }
    }

    #[test]
    fn a_garbled_entry_still_ends_the_walk() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let proxy = ip("10.0.0.2");
        for garbled in [
            "[203.0.113.7]",
            "2001:db8::1]",
            "[2001:db8::1",
            "203.0.113.7:",
            "203.0.113.7:99999",
        ] {
            assert_eq!(
                client_ip(proxy, &headers(&format!("198.51.100.1, {garbled}, 10.0.0.4")), &trusted),
                ip("10.0.0.4"),
                "{garbled}"
            );
        }
    }
}
