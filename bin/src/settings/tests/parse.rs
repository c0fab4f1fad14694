//! Tests of the single-value parsers.

use crate::settings::parse::{cors_origins, header_name, host, split_host_port, trusted_proxies};

#[test]
fn origins_keep_scheme_host_and_port_in_lower_case() {
    assert_eq!(
        cors_origins(" HTTPS://App.Example.com , http://127.0.0.1:8080,http://[::1]:3000,")
            .unwrap(),
        [
            "https://app.example.com",
            "http://127.0.0.1:8080",
            "http://[::1]:3000"
        ]
    );
}

#[test]
fn origins_with_a_path_userinfo_or_odd_scheme_are_refused() {
    for bad in [
        "*",
        "localhost:3000",
        "ftp://example.com",
        "http://example.com/",
        "http://example.com/app",
        "http://example.com?x=1",
        "http://user@example.com",
        "http://",
        "http://:80",
        "http://example.com:",
        "http://example.com:0",
        "http://example.com:99999",
        "http://exa mple.com",
        "http://[::1",
        "http://[zz]:80",
        "http://[::1]x",
    ] {
        assert!(cors_origins(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_bracketed_host_splits_from_its_port() {
    assert_eq!(split_host_port("[::1]:80"), Some(("[::1]", Some("80"))));
    assert_eq!(split_host_port("[::1]"), Some(("[::1]", None)));
    assert_eq!(split_host_port("a:1"), Some(("a", Some("1"))));
}

#[test]
fn a_bare_proxy_address_becomes_a_single_host_block() {
    let nets = trusted_proxies("10.0.0.1, 2001:db8::1,192.168.7.9/16").unwrap();
    let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["10.0.0.1/32", "2001:db8::1/128", "192.168.0.0/16"]);
}

#[test]
fn hosts_accept_localhost_and_bracketed_ipv6() {
    assert_eq!(host("LocalHost").unwrap().to_string(), "127.0.0.1");
    assert_eq!(host("[::1]").unwrap().to_string(), "::1");
    assert!(host("example.com").is_err());
}

#[test]
fn header_names_are_http_tokens_up_to_64_characters() {
    assert!(header_name("X-Correlation-Id").is_ok());
    assert!(header_name(&"a".repeat(64)).is_ok());
    assert!(header_name(&"a".repeat(65)).is_err());
    assert!(header_name("X Request").is_err());
    assert!(header_name("X:Request").is_err());
    assert!(header_name("").is_err());
}
