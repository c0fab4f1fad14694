//! The client's address: the socket peer, or — only when the peer is a trusted proxy — the
//! first untrusted address of the forwarding headers, read from the right.
//!
//! Reading from the right matters: a client can put anything at the left of the header, but
//! each trusted proxy appends the address it saw, so the rightmost untrusted entry is the
//! last one no client could forge. The standard `Forwarded` header (RFC 7239) is preferred
//! when present, `X-Forwarded-For` is read otherwise; entries may carry a port
//! (`192.0.2.1:4711`, `[2001:db8::1]:443`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::{HttpRequest, web};
use ipnet::IpNet;

use crate::state::AppState;

/// Stands for a header value that is not visible ASCII: it parses as no address.
const UNREADABLE: &str = "unreadable";

/// Resolves the client address from the peer and the `Forwarded` and `X-Forwarded-For`
/// values, believing them only when `peer` is within `trusted`. `Forwarded` wins when it has
/// any value.
pub fn resolve<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: compare them as IPv4.
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops = forwarded_hops(forwarded);
    if hops.is_empty() {
        hops = forwarded_for
            .flat_map(|value| value.split(','))
            .map(parse_node)
            .collect();
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.as_ref().map(IpAddr::to_canonical) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            // An unreadable entry: nothing left of it can be believed.
            None => return client,
        }
    }
    client
}

/// The `for=` node of each element of `Forwarded` values, left to right; `None` for an
/// element without a readable address (no `for`, `unknown`, an obfuscated `_name`, junk).
pub fn forwarded_hops<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Option<IpAddr>> {
    values
        .flat_map(|value| split_outside_quotes(value, ','))
        .filter(|element| !element.trim().is_empty())
        .map(|element| {
            split_outside_quotes(element, ';')
                .into_iter()
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node))
        })
        .collect()
}

/// A node as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:443`, optionally in double quotes. `None` for anything
/// else, including `unknown` and obfuscated identifiers.
pub fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    let node = node
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(node);
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        if !port_ok {
            return None;
        }
        return ip.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (ip, port) = node.rsplit_once(':')?;
    if !is_port(port) {
        return None;
    }
    ip.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// A port as RFC 7239 allows it: digits, or an obfuscated `_name`.
fn is_port(port: &str) -> bool {
    (!port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()))
        || port.strip_prefix('_').is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        })
}

/// Splits `text` at `separator`, except inside double-quoted strings.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The client address of `req`, with the trusted proxies of the app's [`AppState`]; `None`
/// when the server cannot know it (no socket peer, as in in-process tests).
pub fn of(req: &HttpRequest) -> Option<IpAddr> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.trusted_proxies.clone());
    let values = |name: &'static str| {
        req.headers()
            .get_all(name)
            .map(|value| value.to_str().unwrap_or(UNREADABLE))
    };
    req.peer_addr().map(|peer| {
        resolve(
            peer.ip(),
            values("forwarded"),
            values("x-forwarded-for"),
            trusted.as_deref().unwrap_or(&[]),
        )
    })
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use ipnet::IpNet;

    use super::{forwarded_hops, parse_node};

    /// `resolve` with `X-Forwarded-For` only.
    fn resolve<'a>(
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
        trusted: &[IpNet],
    ) -> IpAddr {
        super::resolve(peer, std::iter::empty(), forwarded_for, trusted)
    }

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

    #[test]
    fn nodes_with_ports_brackets_and_quotes_parse() {
        for (node, want) in [
            ("1.2.3.4", Some("1.2.3.4")),
            ("1.2.3.4:5678", Some("1.2.3.4")),
            (" 1.2.3.4:_gw ", Some("1.2.3.4")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("[2001:db8::1]:443", Some("2001:db8::1")),
            ("\"[2001:db8::1]:4711\"", Some("2001:db8::1")),
            ("\"192.0.2.60\"", Some("192.0.2.60")),
            ("unknown", None),
            ("_hidden", None),
            ("1.2.3.4:", None),
            ("1.2.3.4:99999999", None),
            ("[2001:db8::1]443", None),
            ("[1.2.3.4]", None),
            ("[2001:db8::1", None),
            ("example.com:80", None),
            ("", None),
        ] {
            assert_eq!(parse_node(node), want.map(ip), "{node}");
        }
    }

    #[test]
    fn forwarded_reads_the_for_parameter_of_each_element() {
        let hops = forwarded_hops(
            [
                "for=192.0.2.60;proto=http;by=203.0.113.43, FOR=\"[2001:db8::1]:4711\"",
                "proto=https;For=198.51.100.7:80, for=unknown, for=_hidden, by=10.0.0.1",
                "for=\"10.0.0.1\";host=\"a,b;c\"",
            ]
            .into_iter(),
        );
        let want = [
            Some(ip("192.0.2.60")),
            Some(ip("2001:db8::1")),
            Some(ip("198.51.100.7")),
            None,
            None,
            None,
            Some(ip("10.0.0.1")),
        ];
        assert_eq!(hops, want);
    }

    #[test]
    fn forwarded_is_preferred_and_believed_only_from_trusted_proxies() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = super::resolve(
            ip("10.0.0.2"),
            ["for=6.6.6.6, for=\"[2001:db8::7]:443\""].into_iter(),
            ["198.51.100.7"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("2001:db8::7"));
        let got = super::resolve(
            ip("203.0.113.9"),
            ["for=192.0.2.1"].into_iter(),
            std::iter::empty(),
            &trusted,
        );
        assert_eq!(
            got,
            ip("203.0.113.9"),
            "an untrusted peer's header is ignored"
        );
        let got = super::resolve(
            ip("10.0.0.2"),
            ["for=192.0.2.1, for=unknown"].into_iter(),
            ["198.51.100.7"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("10.0.0.2"), "an unreadable hop stops the walk");
    }

    #[test]
    fn forwarded_for_entries_may_carry_ports() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("10.0.0.2"), ["1.2.3.4:5678"].into_iter(), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                ["[2001:db8::1]:443, 10.0.0.3:80"].into_iter(),
                &trusted
            ),
            ip("2001:db8::1")
        );
    }
}
