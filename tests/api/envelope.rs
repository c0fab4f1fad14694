//! Errors that come from the framework rather than a handler still wear the envelope: unknown
//! route, wrong method, oversized body, wrong media type, malformed JSON.

use auth_tests::{Reply, TestServer, api_test, assert_error};

/// The default body limit (16 KiB).
const LIMIT: usize = 16 * 1024;

/// `POST path` with a raw body and an optional `Content-Type`.
async fn post_raw(
    server: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: String,
) -> Reply {
    let mut request = server.client().post(server.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    server.send(request).await
}

/// A login body of exactly `len` bytes (padded inside the password).
fn login_body_of(len: usize) -> String {
    let frame = r#"{"email":"ann@example.com","password":""}"#;
    let password = "p".repeat(len - frame.len());
    let body = format!(r#"{{"email":"ann@example.com","password":"{password}"}}"#);
    assert_eq!(body.len(), len);
    body
}

api_test!(
    async fn an_unknown_route_is_not_found(server: &TestServer) {
        assert_error(&server.get("/no/such/route").await, 404, "NOT_FOUND");
        let post = post_raw(
            server,
            "/auth/nope",
            Some("application/json"),
            "{}".to_owned(),
        )
        .await;
        assert_error(&post, 404, "NOT_FOUND");
    }
);

api_test!(
    async fn a_known_route_with_the_wrong_method_is_not_allowed(server: &TestServer) {
        assert_error(&server.get("/auth/login").await, 405, "METHOD_NOT_ALLOWED");
        let post = post_raw(
            server,
            "/auth/me",
            Some("application/json"),
            "{}".to_owned(),
        )
        .await;
        assert_error(&post, 405, "METHOD_NOT_ALLOWED");
    }
);

api_test!(
    async fn a_body_over_16_kib_is_too_large(server: &TestServer) {
        let over = post_raw(
            server,
            "/auth/login",
            Some("application/json"),
            login_body_of(LIMIT + 1),
        );
        assert_error(&over.await, 413, "PAYLOAD_TOO_LARGE");
        // At the limit the body is read and judged on its content instead.
        let at = post_raw(
            server,
            "/auth/login",
            Some("application/json"),
            login_body_of(LIMIT),
        )
        .await;
        assert!(
            matches!(at.status, 400 | 401),
            "status {}: {}",
            at.status,
            at.text()
        );
    }
);

api_test!(
    async fn a_body_that_is_not_json_is_an_unsupported_media_type(server: &TestServer) {
        let body = r#"{"email":"ann@example.com","password":"correct horse"}"#;
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let reply = post_raw(server, "/auth/login", content_type, body.to_owned()).await;
            assert_error(&reply, 415, "UNSUPPORTED_MEDIA_TYPE");
        }
    }
);

api_test!(
    async fn malformed_json_is_a_validation_error(server: &TestServer) {
        for body in [
            r#"{"email": "ann@example.com", "#,
            "not json",
            "[]",
            r#"{"email": 5, "password": "x"}"#,
        ] {
            let reply = post_raw(
                server,
                "/auth/login",
                Some("application/json"),
                body.to_owned(),
            )
            .await;
            assert_error(&reply, 400, "VALIDATION_ERROR");
        }
    }
);
