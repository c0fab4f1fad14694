//! The client's address: the socket peer, or — only when the peer is a trusted proxy — the
//! first untrusted address of `X-Forwarded-For`, read from the right.
//!
//! Reading from the right matters: a client can put anything at the left of the header, but
//! each trusted proxy appends the address it saw, so the rightmost untrusted entry is the
//! last one no client could forge.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};
use ipnet::IpNet;

use crate::state::AppState;

/// Resolves the client address from the peer and the `X-Forwarded-For` values, believing the
/// header only when `peer` is within `trusted`.
pub fn resolve<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: compare them as IPv4.
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip.to_canonical()) => client = ip.to_canonical(),
            Ok(ip) => return ip.to_canonical(),
            // An unreadable entry: nothing left of it can be believed.
            Err(_) => return client,
        }
    }
    client
}

/// The client address of `req`, with the trusted proxies of the app's [`AppState`]; `None`
/// when the server cannot know it (no socket peer, as in in-process tests).
pub fn of(req: &HttpRequest) -> Option<IpAddr> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.trusted_proxies.clone());
    req.peer_addr().map(|peer| {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok());
        resolve(peer.ip(), forwarded, trusted.as_deref().unwrap_or(&[]))
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use ipnet::IpNet;

    use super::resolve;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let got = resolve(
            ip("203.0.113.9"),
            ["1.2.3.4"].into_iter(),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("203.0.113.9"));
        let got = resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &[]);
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve(
            ip("10.0.0.2"),
            ["6.6.6.6, 198.51.100.7, 10.0.0.1"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("198.51.100.7"), "the spoofed left entry is ignored");
        let got = resolve(
            ip("10.0.0.2"),
            ["6.6.6.6", "198.51.100.7"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("198.51.100.7"), "several headers read as one list");
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_proxies() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve(
            ip("::ffff:10.0.0.2"),
            ["198.51.100.7"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("198.51.100.7"));
        assert_eq!(
            resolve(ip("::ffff:203.0.113.9"), std::iter::empty(), &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn all_trusted_or_unreadable_hops_fall_back_to_the_last_trusted_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("10.0.0.2"), ["10.0.0.9"].into_iter(), &trusted),
            ip("10.0.0.9")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), ["junk, 10.0.0.3"].into_iter(), &trusted),
            ip("10.0.0.3")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
    }
}
