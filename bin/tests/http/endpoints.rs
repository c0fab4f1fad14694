//! Every row of the endpoint table: status codes and body shapes of the happy paths and of
//! each endpoint's own failures.

use auth_errors::ErrorCode;
use auth_persistence::db_test;
use serde_json::json;

use crate::support::{PASSWORD, app, assert_error, post, register, register_body, send};

fn bearer(token: &serde_json::Value) -> (String, String) {
    (
        "Authorization".to_owned(),
        format!("Bearer {}", token.as_str().unwrap()),
    )
}

db_test!(async fn register_answers_201_with_tokens_and_the_user(db) {
    let app = app(db).await;
    let (status, headers, body) =
        send(&app, post("/auth/register", &register_body(" Ann@Example.com ", "Ann"))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1800);
    assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));
    assert!(body["refresh_token"].as_str().unwrap().starts_with("eyJ"));
    let user = &body["user"];
    assert_eq!(user["email"], "Ann@Example.com", "trimmed, spelling kept");
    assert_eq!(user["username"], "Ann");
    assert_eq!(user["is_active"], true);
    assert!(user["id"].is_i64());
    assert!(user["last_login"].is_null());
    assert_eq!(user["created_at"].as_str().unwrap().len(), 24);
    let text = body.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains("argon2"), "no password or hash");
});

db_test!(async fn register_refuses_bad_fields_with_400_naming_them(db) {
    let app = app(db).await;
    let bad = json!({"email": "nope", "username": "a b", "password": "password123"});
    let response = send(&app, post("/auth/register", &bad)).await;
    let envelope = assert_error(&response, 400, ErrorCode::ValidationError);
    let fields: Vec<String> = envelope.errors.unwrap().into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["email", "username", "password"]);
    assert!(!response.2.to_string().contains("password123"), "never echoes the password");
    let missing = send(&app, post("/auth/register", &json!({"email": "a@b.co"}))).await;
    let envelope = assert_error(&missing, 400, ErrorCode::ValidationError);
    assert_eq!(envelope.errors.unwrap()[0].field, "username");
});

db_test!(async fn register_refuses_taken_identities_whatever_the_case_with_409(db) {
    let app = app(db).await;
    register(&app).await;
    for (email, username) in [("ANN@example.com", "someone"), ("other@example.com", "aNN")] {
        let response = send(&app, post("/auth/register", &register_body(email, username))).await;
        assert_error(&response, 409, ErrorCode::UserExists);
    }
});

db_test!(async fn login_answers_200_by_email_or_username(db) {
    let app = app(db).await;
    register(&app).await;
    for body in [json!({"email": "ann@example.com", "password": PASSWORD}), json!({"username": "ANN", "password": PASSWORD})] {
        let (status, headers, body) = send(&app, post("/auth/login", &body)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers.get("cache-control").unwrap(), "no-store");
        assert_eq!(body["user"]["username"], "Ann");
        assert!(body["user"]["last_login"].is_string(), "last_login is set");
    }
});

db_test!(async fn login_failures_are_401_invalid_credentials_and_missing_identifiers_400(db) {
    let app = app(db).await;
    register(&app).await;
    let wrong = send(&app, post("/auth/login", &json!({"email": "ann@example.com", "password": "wrong password"}))).await;
    let unknown = send(&app, post("/auth/login", &json!({"username": "ghost", "password": PASSWORD}))).await;
    let wrong = assert_error(&wrong, 401, ErrorCode::InvalidCredentials);
    let unknown = assert_error(&unknown, 401, ErrorCode::InvalidCredentials);
    assert_eq!(wrong.detail, unknown.detail);
    let neither = send(&app, post("/auth/login", &json!({"password": PASSWORD}))).await;
    assert_error(&neither, 400, ErrorCode::ValidationError);
});

db_test!(async fn refresh_rotates_and_refuses_the_wrong_kind_of_token(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let (status, _, refreshed) =
        send(&app, post("/auth/refresh", &json!({"refresh_token": registered["refresh_token"]}))).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(refreshed["refresh_token"], registered["refresh_token"]);
    let access = send(&app, post("/auth/refresh", &json!({"refresh_token": registered["access_token"]}))).await;
    assert_error(&access, 401, ErrorCode::InvalidToken);
    let garbage = send(&app, post("/auth/refresh", &json!({"refresh_token": "garbage"}))).await;
    assert_error(&garbage, 401, ErrorCode::InvalidToken);
});

db_test!(async fn an_expired_refresh_token_is_401_token_expired(db) {
    use std::sync::Arc;
    use auth_crypto::{JwtConfig, ManualClock, TokenCodec, TokenKind};
    use secrecy::ExposeSecret as _;
    let settings = crate::support::settings(db);
    let app = crate::support::app_with(settings.clone()).await;
    let past = ManualClock::new(time::OffsetDateTime::now_utc() - time::Duration::days(8));
    let codec = TokenCodec::new(JwtConfig::new(settings.resolve_jwt_secret().unwrap()), Arc::new(past)).unwrap();
    let old = codec.issue(TokenKind::Refresh, "1", "some-session").unwrap();
    let response = send(&app, post("/auth/refresh", &json!({"refresh_token": old.token.expose_secret()}))).await;
    assert_error(&response, 401, ErrorCode::TokenExpired);
});

db_test!(async fn logout_answers_204_then_the_session_is_dead(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let body = json!({"refresh_token": registered["refresh_token"]});
    let (status, _, empty) = send(&app, post("/auth/logout", &body)).await;
    assert_eq!(status, 204);
    assert!(empty.is_null());
    let (status, ..) = send(&app, post("/auth/logout", &body)).await;
    assert_eq!(status, 204, "logging out twice is fine");
    assert_error(&send(&app, post("/auth/refresh", &body)).await, 401, ErrorCode::InvalidToken);
    let invalid = send(&app, post("/auth/logout", &json!({"refresh_token": "nope"}))).await;
    assert_error(&invalid, 401, ErrorCode::InvalidToken);
});

db_test!(async fn me_answers_the_user_for_a_bearer_access_token(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let req = actix_web::test::TestRequest::get().uri("/auth/me").insert_header(bearer(&registered["access_token"]));
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, registered["user"]);
});

db_test!(async fn me_refuses_missing_malformed_and_refresh_tokens_with_a_bearer_challenge(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let cases = [
        None,
        Some("Basic YW5uOnB3".to_owned()),
        Some("Bearer not.a.jwt".to_owned()),
        Some(format!("Bearer {}", registered["refresh_token"].as_str().unwrap())),
    ];
    for header in cases {
        let mut req = actix_web::test::TestRequest::get().uri("/auth/me");
        if let Some(value) = &header {
            req = req.insert_header(("Authorization", value.as_str()));
        }
        let response = send(&app, req).await;
        assert_error(&response, 401, ErrorCode::InvalidToken);
        let challenge = response.1.get("www-authenticate").unwrap().to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{header:?}: {challenge}");
    }
});

db_test!(async fn health_ready_and_root_answer(db) {
    let app = app(db).await;
    let get = |uri: &str| actix_web::test::TestRequest::get().uri(uri);
    let (status, _, health) = send(&app, get("/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "healthy");
    assert!(health["timestamp"].as_str().unwrap().ends_with('Z'));
    let (status, _, ready) = send(&app, get("/health/ready")).await;
    assert_eq!(status, 200);
    assert_eq!(ready, json!({"status": "ready", "checks": {"database": "ok"}}));
    let (status, _, root) = send(&app, get("/")).await;
    assert_eq!(status, 200);
    assert_eq!(root, json!({"message": "Auth Service API"}));
});

db_test!(async fn jwks_is_an_empty_cacheable_set_with_hmac(db) {
    let app = app(db).await;
    let get = |uri: &str| actix_web::test::TestRequest::get().uri(uri);
    let (status, headers, jwks) = send(&app, get("/.well-known/jwks.json")).await;
    assert_eq!(status, 200);
    assert_eq!(jwks, json!({"keys": []}));
    assert_eq!(headers.get("cache-control").unwrap(), "public, max-age=300");
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
});

db_test!(async fn a_nul_byte_in_a_login_identifier_is_400_and_trips_nothing(db) {
    let app = app(db).await;
    register(&app).await;
    for _ in 0..8 {
        let nul = post("/auth/login", &json!({"username": "ann\u{0}", "password": PASSWORD}));
        assert_error(&send(&app, nul).await, 400, ErrorCode::ValidationError);
    }
    let (status, ..) = send(&app, post("/auth/login", &json!({"username": "ann", "password": PASSWORD}))).await;
    assert_eq!(status, 200, "the breaker stayed closed");
});
