//! CORS: listed origins may call with credentials; others get no CORS grant.

use actix_web::test::TestRequest;
use auth_persistence::db_test;

use crate::support::{app, send};

fn preflight(origin: &str) -> TestRequest {
    TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/auth/login")
        .insert_header(("Origin", origin))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header(("Access-Control-Request-Headers", "content-type"))
}

db_test!(async fn listed_origins_are_allowed_with_credentials(db) {
    let app = app(db).await;
    let (status, headers, _) = send(&app, preflight("http://localhost:3000")).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(headers.get("access-control-allow-origin").unwrap(), "http://localhost:3000");
    assert_eq!(headers.get("access-control-allow-credentials").unwrap(), "true");
    let (_, headers, _) = send(&app, TestRequest::get().uri("/health").insert_header(("Origin", "http://localhost:8080"))).await;
    assert_eq!(headers.get("access-control-allow-origin").unwrap(), "http://localhost:8080");
});

db_test!(async fn other_origins_get_no_cors_grant(db) {
    let app = app(db).await;
    let (status, headers, body) = send(&app, preflight("https://evil.example")).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    assert!(status.is_client_error(), "{status}");
    assert!(body["error_code"].is_string(), "refusals are enveloped too: {body}");
});

db_test!(async fn listed_origins_may_send_delete_with_a_bearer_token(db) {
    let app = app(db).await;
    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/auth/sessions/some-id")
        .insert_header(("Origin", "http://localhost:3000"))
        .insert_header(("Access-Control-Request-Method", "DELETE"))
        .insert_header(("Access-Control-Request-Headers", "authorization"));
    let (status, headers, _) = send(&app, preflight).await;
    assert!(status.is_success(), "{status}");
    let methods = headers.get("access-control-allow-methods").unwrap().to_str().unwrap();
    assert!(methods.contains("DELETE"), "{methods}");
    let allowed = headers.get("access-control-allow-headers").unwrap().to_str().unwrap();
    assert!(allowed.to_ascii_lowercase().contains("authorization"), "{allowed}");
});
