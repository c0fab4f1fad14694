//! Every response carries the hardening headers, errors included, whoever produced them; the
//! docs pages get a policy that lets them load their own assets; no response names the server
//! software, in process or over a real socket.

use std::io::{Read as _, Write as _};

use actix_web::http::header::HeaderMap;
use actix_web::test::TestRequest;
use auth_crypto::PasswordConfig;
use auth_persistence::db_test;
use auth_service::middleware::security_headers::{API_CSP, DOCS_CSP};
use auth_service::startup::Application;
use serde_json::json;

use crate::support::{PASSWORD, app, post, register_body, send, settings};

fn assert_hardened(headers: &HeaderMap, csp: &str, what: &str) {
    assert_eq!(
        headers.get("x-content-type-options").unwrap(),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        headers.get("referrer-policy").unwrap(),
        "no-referrer",
        "{what}"
    );
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY", "{what}");
    assert_eq!(
        headers.get("content-security-policy").unwrap(),
        csp,
        "{what}"
    );
    assert!(headers.get("server").is_none(), "{what}");
}

db_test!(async fn every_api_response_carries_the_hardening_headers(db) {
    let app = app(db).await;
    let requests = [
        ("health", TestRequest::get().uri("/health")),
        ("root", TestRequest::get().uri("/")),
        ("openapi", TestRequest::get().uri("/openapi.json")),
        ("register", post("/auth/register", &register_body("ann@example.com", "ann"))),
        ("404", TestRequest::get().uri("/nope")),
        ("405", TestRequest::get().uri("/auth/login")),
        ("415", TestRequest::post().uri("/auth/login").set_payload("{}")),
        ("401", TestRequest::get().uri("/auth/me")),
        ("panic", TestRequest::get().uri("/test/panic")),
        ("429", TestRequest::get().uri("/test/limited")),
        ("preflight", TestRequest::default().method(actix_web::http::Method::OPTIONS).uri("/auth/login")
            .insert_header(("Origin", "http://localhost:3000"))
            .insert_header(("Access-Control-Request-Method", "POST"))),
    ];
    for (what, request) in requests {
        let (_, headers, _) = send(&app, request).await;
        assert_hardened(&headers, API_CSP, what);
    }
});

db_test!(async fn every_error_response_is_marked_not_cacheable(db) {
    let app = app(db).await;
    let bad_login = post("/auth/login", &json!({"email": "nobody@example.com", "password": PASSWORD}));
    let requests = [
        ("404", TestRequest::get().uri("/nope")),
        ("405", TestRequest::get().uri("/auth/login")),
        ("400", TestRequest::post().uri("/auth/login").insert_header(("content-type", "application/json")).set_payload("{")),
        ("401 login", bad_login),
        ("401 me", TestRequest::get().uri("/auth/me").insert_header(("Authorization", "Bearer nope"))),
        ("panic", TestRequest::get().uri("/test/panic")),
        ("429", TestRequest::get().uri("/test/limited")),
    ];
    for (what, request) in requests {
        let (status, headers, _) = send(&app, request).await;
        assert!(status.is_client_error() || status.is_server_error(), "{what}: {status}");
        assert_eq!(headers.get("cache-control").unwrap(), "no-store", "{what}");
    }
    let (_, headers, _) = send(&app, TestRequest::get().uri("/health")).await;
    assert!(headers.get("cache-control").is_none(), "successes keep their own caching rules");
});

db_test!(async fn docs_pages_get_a_policy_that_lets_them_load_their_own_assets(db) {
    let app = app(db).await;
    for path in ["/docs", "/docs/", "/docs/swagger-initializer.js", "/docs/swagger-ui.css", "/redoc", "/redoc/redoc.standalone.js"] {
        let (status, headers, _) = send(&app, TestRequest::get().uri(path)).await;
        assert!(status.is_success() || status.is_redirection(), "{path}: {status}");
        assert_hardened(&headers, DOCS_CSP, path);
    }
    let (status, headers, _) = send(&app, TestRequest::get().uri("/docs/missing.js")).await;
    assert_eq!(status, 404);
    assert_hardened(&headers, API_CSP, "a docs 404 is a JSON envelope");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
});

/// The raw response head of `GET path` from a real server on `port`.
async fn raw_head(port: u16, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .to_ascii_lowercase()
    })
    .await
    .unwrap()
}

db_test!(async fn the_real_server_names_no_server_software(db) {
    let app = Application::build_with_passwords(settings(db), PasswordConfig::for_tests()).await.unwrap();
    let (port, handle) = (app.port(), app.handle());
    let server = tokio::spawn(app.run_until_stopped());
    for path in ["/health", "/nope", "/docs/"] {
        let head = raw_head(port, path).await;
        assert!(head.starts_with("http/1.1 "), "{head}");
        assert!(!head.contains("\r\nserver:"), "{path}: {head}");
        assert!(head.contains("\r\nx-content-type-options: nosniff"), "{path}: {head}");
    }
    handle.stop(true).await;
    server.await.unwrap().unwrap();
});
