//! The breaker's state gauge and transition counters, read back from a Prometheus recorder
//! that is in force only while the breaker is built.

use metrics_exporter_prometheus::PrometheusBuilder;

use crate::support::{DbError, TIMEOUT, answer, breaker, trip};

/// The whole-number value of the line starting with `series ` in `text`, 0 when absent.
fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |v| v.parse().unwrap_or(u64::MAX))
}

fn moved(text: &str, from: &str, to: &str) -> u64 {
    let series = format!(
        "auth_circuit_breaker_transitions_total{{breaker=\"db\",from=\"{from}\",to=\"{to}\"}}"
    );
    value(text, &series)
}

const STATE: &str = "auth_circuit_breaker_state{breaker=\"db\"}";

#[test]
fn state_and_transitions_are_recorded_in_the_recorder_in_force_at_creation() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let (breaker, clock) = metrics::with_local_recorder(&recorder, breaker);
    assert_eq!(value(&handle.render(), STATE), 0);

    trip(&breaker);
    let text = handle.render();
    assert_eq!(value(&text, STATE), 2, "{text}");
    assert_eq!(moved(&text, "closed", "open"), 1, "{text}");

    clock.advance(TIMEOUT);
    answer(&breaker, Err(DbError::Down)).unwrap_err();
    let text = handle.render();
    assert_eq!(moved(&text, "open", "half_open"), 1, "{text}");
    assert_eq!(moved(&text, "half_open", "open"), 1, "{text}");
    assert_eq!(value(&text, STATE), 2);

    clock.advance(TIMEOUT);
    assert_eq!(answer(&breaker, Ok(7)).unwrap(), 7);
    let text = handle.render();
    assert_eq!(moved(&text, "half_open", "closed"), 1, "{text}");
    assert_eq!(value(&text, STATE), 0);

    trip(&breaker);
    breaker.reset();
    let text = handle.render();
    assert_eq!(moved(&text, "open", "closed"), 1, "{text}");
    assert_eq!(moved(&text, "closed", "open"), 2, "{text}");
    assert_eq!(value(&text, STATE), 0);
}
