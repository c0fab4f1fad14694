//! Request ids: kept when sane, made otherwise, echoed everywhere.

use actix_web::http::header::HeaderName;
use actix_web::test::TestRequest;
use auth_errors::ErrorCode;
use auth_persistence::db_test;

use crate::support::{app, app_with, assert_error, send, settings};

db_test!(async fn a_sane_incoming_request_id_is_echoed(db) {
    let app = app(db).await;
    let (_, headers, _) = send(&app, TestRequest::get().uri("/health").insert_header(("X-Request-ID", "abc-123_x.y"))).await;
    assert_eq!(headers.get("x-request-id").unwrap(), "abc-123_x.y");
    let response = send(&app, TestRequest::get().uri("/missing").insert_header(("X-Request-ID", "trace-7"))).await;
    assert_eq!(assert_error(&response, 404, ErrorCode::NotFound).request_id, "trace-7");
});

db_test!(async fn an_insane_request_id_is_replaced_by_a_uuid(db) {
    let app = app(db).await;
    for bad in ["has spaces", &"x".repeat(200), "semi;colon"] {
        let (_, headers, _) = send(&app, TestRequest::get().uri("/health").insert_header(("X-Request-ID", bad))).await;
        let id = headers.get("x-request-id").unwrap().to_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    }
    let (_, headers, _) = send(&app, TestRequest::get().uri("/health")).await;
    assert!(uuid::Uuid::parse_str(headers.get("x-request-id").unwrap().to_str().unwrap()).is_ok());
});

db_test!(async fn the_request_id_header_name_is_configurable(db) {
    let mut settings = settings(db);
    settings.request_id_header = HeaderName::from_static("x-correlation-id");
    let app = app_with(settings).await;
    let (_, headers, _) = send(&app, TestRequest::get().uri("/health").insert_header(("X-Correlation-ID", "corr-1"))).await;
    assert_eq!(headers.get("x-correlation-id").unwrap(), "corr-1");
    assert!(headers.get("x-request-id").is_none());
});
