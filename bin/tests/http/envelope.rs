//! Every row of the error table comes back in the envelope, whoever produced it.

use std::sync::Arc;

use actix_web::test::TestRequest;
use auth_crypto::{JwtConfig, PasswordConfig, PasswordHasher, SystemClock, TokenCodec};
use auth_errors::ErrorCode;
use auth_persistence::{DbConfig, DbPool, db_test};
use auth_resilience::{BreakerConfig, CircuitBreaker};
use auth_service::app::build_app;
use auth_service::settings::Settings;
use auth_service::state::AppState;
use auth_services::{AuthConfig, AuthDeps, AuthService, KeyConfig, KeyService};
use serde_json::json;

use crate::support::{PASSWORD, app, assert_error, post, send, wiring};

db_test!(async fn unknown_routes_are_404_and_wrong_methods_405(db) {
    let app = app(db).await;
    assert_error(&send(&app, TestRequest::get().uri("/nope")).await, 404, ErrorCode::NotFound);
    assert_error(&send(&app, TestRequest::get().uri("/auth/unknown")).await, 404, ErrorCode::NotFound);
    assert_error(&send(&app, TestRequest::get().uri("/auth/login")).await, 405, ErrorCode::MethodNotAllowed);
    assert_error(&send(&app, TestRequest::put().uri("/auth/me")).await, 405, ErrorCode::MethodNotAllowed);
    assert_error(&send(&app, TestRequest::get().uri("/auth/logout-all")).await, 405, ErrorCode::MethodNotAllowed);
    assert_error(&send(&app, TestRequest::get().uri("/auth/sessions/some-id")).await, 405, ErrorCode::MethodNotAllowed);
});

db_test!(async fn bodies_over_16_kib_are_413(db) {
    let app = app(db).await;
    let big = json!({"email": "a@b.co", "username": "ann", "password": "x".repeat(17 * 1024)});
    assert_error(&send(&app, post("/auth/register", &big)).await, 413, ErrorCode::PayloadTooLarge);
});

db_test!(async fn non_json_bodies_are_415_and_malformed_json_400(db) {
    let app = app(db).await;
    let text = TestRequest::post().uri("/auth/login").insert_header(("content-type", "text/plain")).set_payload("hi");
    assert_error(&send(&app, text).await, 415, ErrorCode::UnsupportedMediaType);
    let none = TestRequest::post().uri("/auth/login").set_payload("{}");
    assert_error(&send(&app, none).await, 415, ErrorCode::UnsupportedMediaType);
    let broken = TestRequest::post().uri("/auth/login").insert_header(("content-type", "application/json")).set_payload("{\"email\":");
    let envelope = assert_error(&send(&app, broken).await, 400, ErrorCode::ValidationError);
    assert_eq!(envelope.errors.unwrap()[0].field, "body");
    let wrong_type = post("/auth/login", &json!({"email": 5, "password": PASSWORD}));
    assert_error(&send(&app, wrong_type).await, 400, ErrorCode::ValidationError);
});

db_test!(async fn a_panicking_handler_is_a_500_that_leaks_nothing(db) {
    let app = app(db).await;
    let response = send(&app, TestRequest::get().uri("/test/panic")).await;
    let envelope = assert_error(&response, 500, ErrorCode::InternalError);
    assert_eq!(envelope.detail, "Internal server error");
    assert!(!response.2.to_string().contains("boom"));
    // The worker survived.
    let (status, ..) = send(&app, TestRequest::get().uri("/health")).await;
    assert_eq!(status, 200);
});

db_test!(async fn rate_limited_answers_carry_retry_after(db) {
    let app = app(db).await;
    let response = send(&app, TestRequest::get().uri("/test/limited")).await;
    assert_error(&response, 429, ErrorCode::RateLimited);
    assert_eq!(response.1.get("retry-after").unwrap(), "30");
});

/// An app whose database does not answer.
async fn app_without_database() -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    let mut db = DbConfig::new("postgres://postgres@127.0.0.1:1/none").unwrap();
    db.acquire_timeout = std::time::Duration::from_millis(300);
    let pool = DbPool::new(&db).unwrap();
    let settings = Settings::for_tests();
    let clock = Arc::new(SystemClock);
    let tokens = TokenCodec::new(
        JwtConfig::new(settings.resolve_jwt_secret().unwrap()),
        clock.clone(),
    )
    .unwrap();
    let breaker = Arc::new(CircuitBreaker::new("database", BreakerConfig::default()));
    let keys = KeyService::new(
        pool.clone(),
        breaker.clone(),
        clock.clone(),
        tokens.clone(),
        None,
        KeyConfig::default(),
    );
    let auth = AuthService::new(AuthDeps {
        pool: pool.clone(),
        hasher: PasswordHasher::new(PasswordConfig::for_tests()).unwrap(),
        tokens,
        breaker,
        clock,
        config: AuthConfig::default(),
    })
    .unwrap();
    // Borrow the HTTP settings of a working wiring.
    let sqlite = auth_persistence::test_support::TestDb::sqlite().await;
    let mut ok_settings = Settings::for_tests();
    ok_settings.database = sqlite.config().clone();
    let http = wiring(&ok_settings).await.http;
    actix_web::test::init_service(build_app(
        AppState {
            auth,
            keys,
            trusted_proxies: Vec::new().into(),
        },
        http,
    ))
    .await
}

#[tokio::test]
async fn a_database_outage_is_503_with_retry_after_never_401() {
    let app = app_without_database().await;
    let ready = send(&app, TestRequest::get().uri("/health/ready")).await;
    assert_error(&ready, 503, ErrorCode::ServiceUnavailable);
    assert!(ready.1.get("retry-after").is_some());
    let login = send(
        &app,
        post(
            "/auth/login",
            &json!({"email": "a@b.co", "password": PASSWORD}),
        ),
    )
    .await;
    assert_error(&login, 503, ErrorCode::ServiceUnavailable);
    assert!(
        !login.2.to_string().contains("127.0.0.1"),
        "no connection details leak"
    );
    let (status, ..) = send(&app, TestRequest::get().uri("/health")).await;
    assert_eq!(status, 200, "liveness touches nothing");
}

/// `data` as a gzip member with one stored (uncompressed) deflate block.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let crc = !data.iter().fold(!0u32, |crc, &byte| {
        (0..8).fold(crc ^ u32::from(byte), |c, _| {
            if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            }
        })
    });
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    out
}

db_test!(async fn encoded_request_bodies_are_415_before_the_handler(db) {
    let app = app(db).await;
    let body = crate::support::register_body("ann@example.com", "ann").to_string();
    for encoding in ["gzip", "deflate", "br", "identity, gzip"] {
        let encoded = TestRequest::post()
            .uri("/auth/register")
            .insert_header(("content-type", "application/json"))
            .insert_header(("content-encoding", encoding))
            .set_payload(gzip_stored(body.as_bytes()));
        assert_error(&send(&app, encoded).await, 415, ErrorCode::UnsupportedMediaType);
    }
    let identity = post("/auth/register", &serde_json::from_str(&body).unwrap())
        .insert_header(("content-encoding", "identity"));
    let (status, _, reply) = send(&app, identity).await;
    assert_eq!(status, 201, "the refused requests created nothing: {reply}");
});
