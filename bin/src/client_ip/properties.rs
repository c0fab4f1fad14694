//! Property tests of the forwarded-address parsers: any header text resolves to an address
//! without a panic, and a forwarding list written as proxies write it reads back.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use proptest::prelude::*;

use super::{forwarded_hops, parse_node, resolve};

/// An address, IPv4 or IPv6.
fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
    ]
}

/// `address` as a proxy may write it in `X-Forwarded-For`: bare or with a port (IPv6 in
/// brackets then).
fn node(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (_, None) => ip.to_string(),
        (IpAddr::V4(v4), Some(port)) => format!("{v4}:{port}"),
        (IpAddr::V6(v6), Some(port)) => format!("[{v6}]:{port}"),
    }
}

fn trusted() -> Vec<IpNet> {
    vec!["10.0.0.0/8".parse().unwrap()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_header_text_resolves_without_a_panic(
        peer in address(),
        forwarded in prop::collection::vec(any::<String>(), 0..3),
        forwarded_for in prop::collection::vec(any::<String>(), 0..3),
    ) {
        let trusted = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
        let client = resolve(
            peer,
            forwarded.iter().map(String::as_str),
            forwarded_for.iter().map(String::as_str),
            &trusted,
        );
        // Believed or not, the answer is the peer or an address some header named.
        let named: Vec<IpAddr> = forwarded_hops(forwarded.iter().map(String::as_str))
            .into_iter()
            .chain(forwarded_for.iter().flat_map(|v| v.split(',')).map(parse_node))
            .flatten()
            .map(|ip| ip.to_canonical())
            .collect();
        prop_assert!(client == peer.to_canonical() || named.contains(&client));
    }

    #[test]
    fn any_node_text_parses_or_is_refused_without_a_panic(text in any::<String>()) {
        if let Some(ip) = parse_node(&text) {
            prop_assert!(text.contains(&ip.to_string()) || text.contains(':'));
        }
    }

    #[test]
    fn an_x_forwarded_for_list_reads_back(
        hops in prop::collection::vec((address(), prop::option::of(any::<u16>())), 1..6),
    ) {
        let header = hops
            .iter()
            .map(|(ip, port)| node(*ip, *port))
            .collect::<Vec<_>>()
            .join(", ");
        let parsed: Vec<Option<IpAddr>> = header.split(',').map(parse_node).collect();
        let expected: Vec<Option<IpAddr>> = hops.iter().map(|(ip, _)| Some(*ip)).collect();
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn a_forwarded_list_reads_back(
        hops in prop::collection::vec((address(), prop::option::of(any::<u16>())), 1..6),
    ) {
        let header = hops
            .iter()
            .map(|(ip, port)| format!("for=\"{}\";proto=https", node(*ip, *port)))
            .collect::<Vec<_>>()
            .join(", ");
        let expected: Vec<Option<IpAddr>> = hops.iter().map(|(ip, _)| Some(*ip)).collect();
        prop_assert_eq!(forwarded_hops(std::iter::once(header.as_str())), expected);
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client(
        spoofed in prop::collection::vec(address(), 0..3),
        client in any::<[u8; 4]>().prop_filter("not a proxy", |o| o[0] != 10),
        proxies in prop::collection::vec(any::<[u8; 3]>(), 0..3),
    ) {
        let client = IpAddr::V4(Ipv4Addr::from(client));
        let proxy = |o: &[u8; 3]| IpAddr::V4(Ipv4Addr::new(10, o[0], o[1], o[2]));
        let list = spoofed
            .iter()
            .copied()
            .chain([client])
            .chain(proxies.iter().map(proxy))
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let peer = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let resolved = resolve(peer, std::iter::empty(), std::iter::once(list.as_str()), &trusted());
        prop_assert_eq!(resolved, client);
    }
}
