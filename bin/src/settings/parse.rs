//! Parsers for single configuration values, free of any environment access.
//!
//! Each takes the trimmed text of one variable and returns the typed value, or the
//! "expected …" half of the error line; the caller adds the variable's name and the value.

use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::str::FromStr;

use actix_web::http::header::HeaderName;
use auth_crypto::{HashScheme, JwtAlgorithm};
use auth_persistence::DbConfig;
use ipnet::IpNet;

use super::{LogFilter, LogFormat};

/// The longest accepted request-id header name.
const MAX_HEADER_NAME_LEN: usize = 64;

/// An integer within `range`, e.g. `PORT` in `0..=65535`.
pub(super) fn int_in<T>(text: &str, range: RangeInclusive<T>) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display,
{
    text.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "expected an integer from {} to {}",
                range.start(),
                range.end()
            )
        })
}

/// `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`, ignoring ASCII case.
pub(super) fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false (also 1/0, yes/no, on/off)".to_owned()),
    }
}

/// A database URL whose scheme the data layer supports, as the data layer's settings (with
/// its default limits). A PostgreSQL URL's `sslmode` and `sslrootcert` are checked here too.
pub(super) fn database_url(text: &str) -> Result<DbConfig, String> {
    DbConfig::new(text).map_err(|err| match err {
        auth_persistence::RepoError::InvalidUrl(why) => why,
        _ => "expected postgres://, postgresql:// or sqlite://PATH".to_owned(),
    })
}

/// `HS256`, `HS384`, `HS512`, `EdDSA` or `ES256`, ignoring ASCII case.
pub(super) fn jwt_algorithm(text: &str) -> Result<JwtAlgorithm, String> {
    let canonical = if text.eq_ignore_ascii_case("eddsa") {
        "EdDSA".to_owned()
    } else {
        text.to_ascii_uppercase()
    };
    canonical
        .parse()
        .map_err(|_| "expected HS256, HS384, HS512, EdDSA or ES256".to_owned())
}

/// `argon2id` or `bcrypt`, ignoring ASCII case.
pub(super) fn hash_scheme(text: &str) -> Result<HashScheme, String> {
    text.parse()
        .map_err(|_| "expected argon2id or bcrypt".to_owned())
}

/// An IP address to listen on; `localhost` means `127.0.0.1`, and `[::1]` is read as `::1`.
pub(super) fn host(text: &str) -> Result<IpAddr, String> {
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse()
        .map_err(|_| "expected an IP address such as 127.0.0.1 or ::, or localhost".to_owned())
}

/// Comma-separated IP addresses or CIDR blocks; a bare address is a /32 (or /128) block.
/// Blank items are skipped.
pub(super) fn trusted_proxies(text: &str) -> Result<Vec<IpNet>, String> {
    list(text)
        .map(|item| {
            item.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{item:?} is not an IP address or CIDR block such as 10.0.0.0/8")
                })
        })
        .collect()
}

/// Comma-separated browser origins (`scheme://host[:port]`), stored in lower case.
/// Blank items are skipped, so an empty value is an empty list.
pub(super) fn cors_origins(text: &str) -> Result<Vec<String>, String> {
    list(text).map(cors_origin).collect()
}

/// One origin: `http` or `https`, a host name or IP address, an optional port, nothing else.
fn cors_origin(item: &str) -> Result<String, String> {
    if item == "*" {
        return Err(
            "\"*\" is not allowed: credentials are sent only to origins listed by name".to_owned(),
        );
    }
    let not_an_origin =
        || format!("{item:?} is not an origin: expected http(s)://host[:port] with no path");
    let origin = item.to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://").ok_or_else(not_an_origin)?;
    if !matches!(scheme, "http" | "https") || authority.contains(['/', '?', '#', '@']) {
        return Err(not_an_origin());
    }
    let (host, port) = split_host_port(authority).ok_or_else(not_an_origin)?;
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && !host.starts_with(['.', '-'])
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
    };
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    if host_ok && port_ok {
        Ok(origin)
    } else {
        Err(not_an_origin())
    }
}

/// Splits `host[:port]` or `[v6][:port]`; `None` if text follows a `]` that is not a port.
pub(super) fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        let (host, rest) = authority.split_at(end);
        match rest {
            "" => Some((host, None)),
            _ => rest.strip_prefix(':').map(|port| (host, Some(port))),
        }
    } else {
        Some(match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        })
    }
}

/// A level (`trace` … `error`, any case) or an `EnvFilter` directive string with at least
/// one `target=level`.
pub(super) fn log_level(text: &str) -> Result<LogFilter, String> {
    LogFilter::parse(text)
}

/// `json` or `pretty`, ignoring ASCII case.
pub(super) fn log_format(text: &str) -> Result<LogFormat, String> {
    if text.eq_ignore_ascii_case("json") {
        Ok(LogFormat::Json)
    } else if text.eq_ignore_ascii_case("pretty") {
        Ok(LogFormat::Pretty)
    } else {
        Err("expected json or pretty".to_owned())
    }
}

/// An HTTP header name: 1 to 64 RFC 7230 token characters (stored in lower case, as HTTP
/// header names compare).
pub(super) fn header_name(text: &str) -> Result<HeaderName, String> {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    ((1..=MAX_HEADER_NAME_LEN).contains(&text.len()) && text.bytes().all(is_tchar))
        .then(|| HeaderName::from_bytes(text.as_bytes()).ok())
        .flatten()
        .ok_or_else(|| {
            format!(
                "expected a header name of 1 to {MAX_HEADER_NAME_LEN} letters, digits or !#$%&'*+-.^_`|~"
            )
        })
}

/// The trimmed, non-blank items of a comma-separated list.
fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}
