//! Device tokens over HTTP: in the register and login responses and as a cookie, honoured
//! from the body or the cookie, so the owner signs in while strangers have locked the account.

use actix_web::http::header;
use auth_errors::ErrorCode;
use auth_persistence::db_test;
use serde_json::{Value, json};

use crate::support::{PASSWORD, app_with, assert_error, post, register, send, settings};

fn login(body: &Value) -> actix_web::test::TestRequest {
    post("/auth/login", body)
}

db_test!(async fn the_owner_signs_in_with_a_device_token_from_the_body_or_the_cookie_while_locked(db) {
    let mut locked = settings(db);
    locked.throttle.account_lock_after = 2;
    locked.throttle.account_delay_after = 1_000;
    let app = app_with(locked).await;
    let registered = register(&app).await;
    let device = registered["device_token"].as_str().expect("register hands out a device token").to_owned();
    let cookie_device = {
        let (status, headers, body) = send(&app, login(&json!({"username": "ann", "password": PASSWORD}))).await;
        assert_eq!(status, 200, "{body}");
        let cookie = headers.get(header::SET_COOKIE).expect("the device token is also a cookie");
        let cookie = cookie.to_str().unwrap().to_owned();
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        let value = body["device_token"].as_str().unwrap();
        assert!(cookie.starts_with(&format!("device_token={value};")), "{cookie}");
        value.to_owned()
    };
    for _ in 0..3 {
        let wrong = login(&json!({"username": "ann", "password": "a stranger's guess"}));
        assert_error(&send(&app, wrong).await, 401, ErrorCode::InvalidCredentials);
    }
    let plain = login(&json!({"username": "ann", "password": PASSWORD}));
    assert_error(&send(&app, plain).await, 401, ErrorCode::InvalidCredentials);

    let by_body = login(&json!({"username": "ann", "password": PASSWORD, "device_token": device}));
    let (status, _, body) = send(&app, by_body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["device_token"], device.as_str(), "a known device keeps its token");
    let by_cookie = login(&json!({"email": "ann@example.com", "password": PASSWORD}))
        .insert_header((header::COOKIE, format!("device_token={cookie_device}")));
    let (status, _, body) = send(&app, by_cookie).await;
    assert_eq!(status, 200, "{body}");

    let refreshed = post("/auth/refresh", &json!({"refresh_token": body["refresh_token"]}));
    let (status, headers, body) = send(&app, refreshed).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("device_token").is_none() && headers.get(header::SET_COOKIE).is_none());
});

db_test!(async fn an_invalid_device_token_is_ignored_never_an_error(db) {
    let app = app_with(settings(db)).await;
    register(&app).await;
    for token in [json!("garbage"), json!(""), json!("x".repeat(5_000))] {
        let body = json!({"username": "ann", "password": PASSWORD, "device_token": token});
        let (status, _, body) = send(&app, login(&body)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["device_token"].as_str().is_some_and(|t| !t.is_empty() && t != "garbage"));
    }
});

db_test!(async fn the_openapi_document_describes_the_device_token(db) {
    let app = app_with(settings(db)).await;
    let (status, _, doc) = send(&app, actix_web::test::TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(status, 200);
    let schemas = &doc["components"]["schemas"];
    for schema in ["LoginByEmail", "LoginByUsername", "TokenResponse"] {
        let field = &schemas[schema]["properties"]["device_token"];
        assert!(field.is_object(), "{schema} lacks device_token: {}", schemas[schema]);
    }
    let required = schemas["TokenResponse"]["required"].as_array().unwrap();
    assert!(!required.contains(&json!("device_token")), "refresh responses carry none");
});

db_test!(async fn a_distributed_burst_locks_strangers_out_but_not_the_owners_device(db) {
    let mut locked = settings(db);
    locked.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    locked.throttle.account_delay_after = 100_000;
    locked.throttle.account_lock_after = 50;
    locked.throttle.ip_login_budget = 100_000;
    // A thousand requests queue for a handful of connections and hashing threads: let them
    // wait rather than 503.
    locked.database_acquire_timeout = std::time::Duration::from_secs(120);
    locked.request_timeout = std::time::Duration::from_secs(120);
    locked.hashing.queue_depth = 10_000;
    locked.hashing.queue_timeout = std::time::Duration::from_secs(120);
    let app = app_with(locked).await;
    let device = register(&app).await["device_token"].as_str().unwrap().to_owned();
    // 1,000 wrong passwords, 5 from each of 200 addresses in different /24s, through the proxy.
    let burst = (0..1_000).map(|n| {
        let body = json!({"username": "ann", "password": "a stranger's guess"});
        let from = format!("100.{}.{}.7", 64 + n % 200 / 100, n % 200);
        let req = login(&body)
            .peer_addr("10.0.0.2:40000".parse().unwrap())
            .insert_header(("X-Forwarded-For", from));
        send(&app, req)
    });
    let answers = futures::future::join_all(burst).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, ..)| status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 401), "only wrong-password answers: {statuses:?}");
    let owner = |device: Option<&str>| {
        let mut body = json!({"username": "ann", "password": PASSWORD});
        if let Some(device) = device {
            body["device_token"] = json!(device);
        }
        login(&body).peer_addr("10.0.0.2:40000".parse().unwrap()).insert_header(("X-Forwarded-For", "198.51.100.1"))
    };
    assert_error(&send(&app, owner(None)).await, 401, ErrorCode::InvalidCredentials);
    let (status, _, body) = send(&app, owner(Some(&device))).await;
    assert_eq!(status, 200, "the owner's device is not locked: {body}");
});
