//! Assertions on the contract's shared shapes: the error envelope and the time format.

use auth_errors::ErrorBody;
use serde_json::Value;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::Reply;

/// The one wire format of times: RFC 3339, UTC, milliseconds, `Z`.
const WIRE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Asserts that `reply` is the contract's error envelope with `status` and `code`, and
/// returns it.
///
/// Checks: the status; `Content-Type: application/json`; the body decodes as [`ErrorBody`];
/// `error_code` is `code` on the wire; `detail` is not empty; `request_id` is not empty and
/// equals the `X-Request-ID` response header; `timestamp` is in the wire format and recent.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str) -> ErrorBody {
    reply.expect_status(status);
    assert_json(reply);
    let body: ErrorBody = reply.json();
    let raw: Value = reply.json();
    assert_eq!(raw["error_code"], code, "error_code; body: {raw}");
    assert!(!body.detail.is_empty(), "empty detail; body: {raw}");
    assert!(!body.request_id.is_empty(), "empty request_id; body: {raw}");
    assert_eq!(
        reply.header("x-request-id"),
        Some(body.request_id.as_str()),
        "the request id header and body differ"
    );
    assert_timestamp(raw["timestamp"].as_str().expect("timestamp is a string"));
    body
}

/// Asserts `Content-Type: application/json` (parameters such as a charset are allowed).
#[track_caller]
pub fn assert_json(reply: &Reply) {
    assert_eq!(
        reply.media_type(),
        Some("application/json"),
        "content type; body: {}",
        reply.text()
    );
}

/// Asserts that `text` is a wire timestamp (`2024-01-15T10:30:45.123Z`) within a minute of
/// now, and returns it.
#[track_caller]
pub fn assert_timestamp(text: &str) -> OffsetDateTime {
    let at = assert_wire_time(text);
    let skew = (OffsetDateTime::now_utc() - at).abs();
    assert!(skew < Duration::minutes(1), "{text} is not recent");
    at
}

/// Asserts that `text` is a wire timestamp (`2024-01-15T10:30:45.123Z`), at any time, and
/// returns it.
#[track_caller]
pub fn assert_wire_time(text: &str) -> OffsetDateTime {
    match PrimitiveDateTime::parse(text, WIRE_TIME) {
        Ok(at) => at.assume_utc(),
        Err(err) => panic!("{text:?} is not like 2024-01-15T10:30:45.123Z: {err}"),
    }
}
