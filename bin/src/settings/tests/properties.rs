//! Property tests of the settings parsers: any value of any variable gives settings or one
//! error naming a variable, never a panic; and values written as documented read back.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use proptest::prelude::*;

use crate::settings::Settings;
use crate::settings::parse::{
    boolean, cors_origins, database_url, hash_scheme, header_name, host, int_in, jwt_algorithm,
    log_format, log_level, split_host_port, trusted_proxies,
};

/// Every variable the loader reads.
const VARIABLES: [&str; 25] = [
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "ARGON2_ITERATIONS",
    "ARGON2_MEMORY_KIB",
    "ARGON2_PARALLELISM",
    "CORS_ORIGINS",
    "DATABASE_MAX_CONNECTIONS",
    "DATABASE_URL",
    "HASHING_MAX_MEMORY_KIB",
    "HASHING_THREADS",
    "HOST",
    "JWT_ALGORITHM",
    "JWT_AUDIENCE",
    "JWT_PREVIOUS_SECRET_KEYS",
    "JWT_SECRET_KEY",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "MAX_BODY_BYTES",
    "PASSWORD_HASH_SCHEME",
    "PASSWORD_MIN_LENGTH",
    "PORT",
    "RATE_LIMIT_ENABLED",
    "RATE_LIMIT_IP_LOGINS",
    "REFRESH_TOKEN_EXPIRE_DAYS",
    "REQUEST_ID_HEADER",
    "TRUSTED_PROXIES",
];

fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
    ]
}

/// Text a person might type for a variable: digits, words, lists, or anything at all.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "-?[0-9]{1,24}",
        "[ a-zA-Z0-9:/.,=\\[\\]_-]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_single_value_is_parsed_or_refused_without_a_panic(text in any::<String>()) {
        let _ = int_in::<u64>(&text, 1..=100);
        let _ = int_in::<i64>(&text, -5..=5);
        let _ = boolean(&text);
        let _ = database_url(&text);
        let _ = jwt_algorithm(&text);
        let _ = hash_scheme(&text);
        let _ = host(&text);
        let _ = trusted_proxies(&text);
        let _ = cors_origins(&text);
        let _ = split_host_port(&text);
        let _ = log_level(&text);
        let _ = log_format(&text);
        if let Ok(name) = header_name(&text) {
            prop_assert_eq!(name.as_str(), text.to_ascii_lowercase());
        }
    }

    #[test]
    fn any_variables_give_settings_or_one_error_naming_a_variable(
        vars in prop::collection::hash_map(prop::sample::select(VARIABLES.to_vec()), value(), 0..6),
    ) {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        if let Err(err) = Settings::from_lookup(|key| map.get(key).cloned()) {
            let line = err.to_string();
            prop_assert!(!err.var().is_empty() && line.contains(err.var()), "{}", line);
            prop_assert!(!line.contains('\n'), "{}", line);
        }
    }

    #[test]
    fn an_integer_in_range_reads_back(n in 0u32..=65_535) {
        prop_assert_eq!(int_in(&n.to_string(), 0..=65_535), Ok(n));
    }

    #[test]
    fn an_address_reads_back_bare_or_bracketed(ip in address()) {
        prop_assert_eq!(host(&ip.to_string()), Ok(ip));
        if ip.is_ipv6() {
            prop_assert_eq!(host(&format!("[{ip}]")), Ok(ip));
        }
    }

    #[test]
    fn a_proxy_list_reads_back(
        nets in prop::collection::vec((address(), any::<u8>()), 0..5),
    ) {
        let nets: Vec<IpNet> = nets
            .into_iter()
            .map(|(ip, len)| {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                IpNet::new(ip, len % (max + 1)).unwrap().trunc()
            })
            .collect();
        let text = nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(" , ");
        prop_assert_eq!(trusted_proxies(&text), Ok(nets));
    }

    #[test]
    fn an_origin_list_reads_back_in_lower_case(
        origins in prop::collection::vec(
            ("https?", "[a-zA-Z0-9]([a-zA-Z0-9.-]{0,20}[a-zA-Z0-9])?", prop::option::of(1u16..)),
            0..4,
        ),
    ) {
        let written: Vec<String> = origins
            .iter()
            .map(|(scheme, name, port)| match port {
                Some(port) => format!("{scheme}://{name}:{port}"),
                None => format!("{scheme}://{name}"),
            })
            .collect();
        let expected: Vec<String> = written.iter().map(|o| o.to_ascii_lowercase()).collect();
        prop_assert_eq!(cors_origins(&written.join(",")), Ok(expected));
    }
}
