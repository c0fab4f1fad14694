//! `REQUEST_TIMEOUT_SECONDS` bounds how long the app works on a request: past it the client
//! gets the 503 envelope with `Retry-After`, at once.

use std::time::Instant;

use actix_web::test::TestRequest;
use auth_errors::ErrorCode;
use auth_persistence::db_test;

use crate::support::{SHORT_TIMEOUT, SLOW, app_with, assert_error, send, settings};

db_test!(async fn a_request_past_the_timeout_is_503_with_retry_after_in_the_envelope(db) {
    let mut settings = settings(db);
    settings.request_timeout = SHORT_TIMEOUT;
    let app = app_with(settings).await;
    let started = Instant::now();
    let response = send(&app, TestRequest::get().uri("/test/slow").insert_header(("X-Request-ID", "slow-1"))).await;
    let elapsed = started.elapsed();
    let envelope = assert_error(&response, 503, ErrorCode::ServiceUnavailable);
    assert_eq!(envelope.request_id, "slow-1");
    assert_eq!(envelope.detail, "Service temporarily unavailable");
    let headers = &response.1;
    assert_eq!(headers.get("retry-after").unwrap(), "5");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    assert!(elapsed >= SHORT_TIMEOUT, "{elapsed:?}");
    assert!(elapsed < SLOW / 2, "answered at the timeout, not when the handler ended: {elapsed:?}");
});

db_test!(async fn requests_within_the_timeout_are_untouched(db) {
    let mut settings = settings(db);
    settings.request_timeout = SHORT_TIMEOUT;
    let app = app_with(settings).await;
    for path in ["/health", "/", "/openapi.json"] {
        let (status, headers, _) = send(&app, TestRequest::get().uri(path)).await;
        assert_eq!(status, 200, "{path}");
        assert!(headers.get("retry-after").is_none(), "{path}");
    }
});
