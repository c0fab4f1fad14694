//! `METRICS_HOST` and `METRICS_PORT`: on by default on 127.0.0.1:9100, off when the port is
//! set empty, and never on the public port.

use std::collections::HashMap;

use crate::settings::{ConfigError, Settings};

fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let map: HashMap<&str, &str> = vars.iter().copied().collect();
    Settings::from_lookup(|key| map.get(key).map(|v| (*v).to_owned()))
}

#[test]
fn metrics_listen_on_loopback_9100_by_default() {
    let s = load(&[]).unwrap();
    assert_eq!(s.metrics_port, Some(9100));
    let addr = s.metrics_address().map(|a| a.to_string());
    assert_eq!(addr.as_deref(), Some("127.0.0.1:9100"));
}

#[test]
fn an_empty_metrics_port_turns_metrics_off() {
    for empty in ["", "  "] {
        let s = load(&[("METRICS_PORT", empty)]).unwrap();
        assert_eq!(s.metrics_port, None, "{empty:?}");
        assert_eq!(s.metrics_address(), None);
    }
}

#[test]
fn metrics_host_and_port_are_read_and_checked() {
    let s = load(&[("METRICS_HOST", "0.0.0.0"), ("METRICS_PORT", "0")]).unwrap();
    assert_eq!(
        s.metrics_address().map(|a| a.to_string()).as_deref(),
        Some("0.0.0.0:0")
    );
    let err = load(&[("METRICS_PORT", "70000")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid METRICS_PORT="70000": expected an integer from 0 to 65535"#
    );
    assert!(load(&[("METRICS_HOST", "example.org")]).is_err());
}

#[test]
fn metrics_never_share_the_public_port() {
    let err = load(&[("PORT", "9100")]).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Conflict {
            var: "METRICS_PORT",
            other: "PORT",
            ..
        }
    ));
    // Both on free ports is fine: they are two different ones.
    assert!(load(&[("PORT", "0"), ("METRICS_PORT", "0")]).is_ok());
    assert!(load(&[("PORT", "9100"), ("METRICS_PORT", "")]).is_ok());
}

#[test]
fn the_test_settings_keep_metrics_off() {
    assert_eq!(Settings::for_tests().metrics_port, None);
}
