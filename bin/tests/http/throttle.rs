//! Throttling over HTTP: the client address (peer, or trusted proxies' `X-Forwarded-For`),
//! route variants, budgets, and a locked account that looks like a wrong password.

use actix_web::test::TestRequest;
use auth_errors::ErrorCode;
use auth_persistence::db_test;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, app_with, assert_error, post, register, register_body, send, settings,
};

const WRONG: &str = "a wrong password";

fn login_from(peer: &str, password: &str) -> TestRequest {
    post(
        "/auth/login",
        &json!({"username": "ann", "password": password}),
    )
    .peer_addr(format!("{peer}:40000").parse().unwrap())
}

/// The body without what differs per request.
fn stable(body: &Value) -> Value {
    let mut body = body.clone();
    let map = body.as_object_mut().unwrap();
    map.remove("request_id");
    map.remove("timestamp");
    body
}

db_test!(async fn repeated_failures_from_one_address_get_429_with_retry_after(db) {
    let app = app_with(settings(db)).await;
    register(&app).await;
    for _ in 0..5 {
        assert_error(&send(&app, login_from("203.0.113.9", WRONG)).await, 401, ErrorCode::InvalidCredentials);
    }
    let limited = send(&app, login_from("203.0.113.9", PASSWORD)).await;
    assert_error(&limited, 429, ErrorCode::RateLimited);
    assert_eq!(limited.1.get("retry-after").unwrap(), "60");
    let (status, ..) = send(&app, login_from("198.51.100.7", PASSWORD)).await;
    assert_eq!(status, 200, "another address is not affected");
});

db_test!(async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(db) {
    let app = app_with(settings(db)).await;
    register(&app).await;
    for n in 0..5 {
        let spoofed = login_from("203.0.113.9", WRONG).insert_header(("X-Forwarded-For", format!("192.0.2.{n}")));
        assert_error(&send(&app, spoofed).await, 401, ErrorCode::InvalidCredentials);
    }
    let spoofed = login_from("203.0.113.9", WRONG).insert_header(("X-Forwarded-For", "192.0.2.99"));
    assert_error(&send(&app, spoofed).await, 429, ErrorCode::RateLimited);
});

db_test!(async fn behind_a_trusted_proxy_each_forwarded_client_counts_on_its_own(db) {
    let mut settings = settings(db);
    settings.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let app = app_with(settings).await;
    register(&app).await;
    for n in 0..8 {
        let forwarded = login_from("10.0.0.2", WRONG).insert_header(("X-Forwarded-For", format!("6.6.6.6, 192.0.2.{n}")));
        assert_error(&send(&app, forwarded).await, 401, ErrorCode::InvalidCredentials);
    }
});

db_test!(async fn route_variants_cannot_dodge_the_limit(db) {
    let app = app_with(settings(db)).await;
    register(&app).await;
    for _ in 0..5 {
        send(&app, login_from("203.0.113.9", WRONG)).await;
    }
    for path in ["/auth/login", "//auth/login", "/auth/login/", "/AUTH/login", "/auth/%6Cogin", "/auth/./login"] {
        let req = TestRequest::post()
            .uri(path)
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"username": "ann", "password": PASSWORD}).to_string())
            .peer_addr("203.0.113.9:40000".parse().unwrap());
        let (status, _, body) = send(&app, req).await;
        assert!(status == 429 || status == 404, "{path}: {status} {body}");
    }
});

db_test!(async fn address_budgets_cover_registration(db) {
    let mut settings = settings(db);
    settings.throttle.ip_register_budget = 2;
    let app = app_with(settings).await;
    for n in 0..3 {
        let req = post("/auth/register", &register_body(&format!("u{n}@example.com"), &format!("user{n}")))
            .peer_addr("203.0.113.9:40000".parse().unwrap());
        let response = send(&app, req).await;
        if n < 2 {
            assert_eq!(response.0, 201, "{}", response.2);
        } else {
            assert_error(&response, 429, ErrorCode::RateLimited);
            assert!(response.1.get("retry-after").is_some());
        }
    }
});

db_test!(async fn a_locked_account_answers_exactly_like_a_wrong_password(db) {
    let mut settings = settings(db);
    settings.throttle.account_lock_after = 2;
    settings.throttle.account_delay_after = 1_000;
    let app = app_with(settings).await;
    register(&app).await;
    let wrong = send(&app, login_from("203.0.113.1", WRONG)).await;
    send(&app, login_from("203.0.113.2", WRONG)).await;
    let locked = send(&app, login_from("203.0.113.3", PASSWORD)).await;
    let unknown = send(&app, post("/auth/login", &json!({"username": "ghost", "password": WRONG}))).await;
    for response in [&wrong, &locked, &unknown] {
        assert_error(response, 401, ErrorCode::InvalidCredentials);
    }
    assert_eq!(stable(&locked.2), stable(&wrong.2));
    assert_eq!(stable(&unknown.2), stable(&wrong.2));
    let names = |headers: &actix_web::http::header::HeaderMap| {
        let mut names: Vec<String> = headers.keys().map(ToString::to_string).collect();
        names.sort();
        names
    };
    assert_eq!(names(&locked.1), names(&wrong.1));
    assert_eq!(names(&unknown.1), names(&wrong.1));
});

db_test!(async fn throttling_switched_off_lets_every_attempt_through(db) {
    let mut settings = settings(db);
    settings.rate_limit_enabled = false;
    let app = app_with(settings).await;
    register(&app).await;
    for _ in 0..8 {
        assert_error(&send(&app, login_from("203.0.113.9", WRONG)).await, 401, ErrorCode::InvalidCredentials);
    }
    let (status, ..) = send(&app, login_from("203.0.113.9", PASSWORD)).await;
    assert_eq!(status, 200);
});

db_test!(async fn behind_a_trusted_proxy_forwarded_addresses_with_ports_count_per_address(db) {
    let mut settings = settings(db);
    settings.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let app = app_with(settings).await;
    register(&app).await;
    for port in 0..5 {
        // The same client from a new source port each time: one address, one budget.
        let a = login_from("10.0.0.2", WRONG).insert_header(("X-Forwarded-For", format!("192.0.2.1:{}", 40000 + port)));
        assert_error(&send(&app, a).await, 401, ErrorCode::InvalidCredentials);
    }
    let a = login_from("10.0.0.2", PASSWORD).insert_header(("X-Forwarded-For", "192.0.2.1:39999"));
    assert_error(&send(&app, a).await, 429, ErrorCode::RateLimited);
    let b = login_from("10.0.0.2", PASSWORD)
        .insert_header(("Forwarded", r#"for="[2001:db8::2]:4711";proto=https"#))
        .insert_header(("X-Forwarded-For", "192.0.2.1:39999"));
    let (status, _, body) = send(&app, b).await;
    assert_eq!(status, 200, "another client behind the proxy has its own budget: {body}");
    let c = login_from("10.0.0.2", PASSWORD).insert_header(("X-Forwarded-For", "[2001:db8::3]:443"));
    let (status, _, body) = send(&app, c).await;
    assert_eq!(status, 200, "{body}");
});
