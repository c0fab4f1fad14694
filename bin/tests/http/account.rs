//! Account self-service over HTTP: status codes, bodies and headers of `/auth/password`,
//! `/auth/sessions`, `/auth/sessions/{id}`, `/auth/logout-all` and `DELETE /auth/me`.

use actix_web::http::header;
use actix_web::test::TestRequest;
use auth_errors::ErrorCode;
use auth_persistence::db_test;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, app, app_with, assert_error, post, register, register_body, send, settings,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

fn bearer(tokens: &Value) -> (header::HeaderName, String) {
    (
        header::AUTHORIZATION,
        format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
    )
}

fn login_body(password: &str) -> Value {
    json!({"username": "ann", "password": password})
}

fn change_body(current: &str, new: &str) -> Value {
    json!({"current_password": current, "new_password": new})
}

fn get(path: &str, tokens: &Value) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(tokens))
}

fn delete(path: &str, tokens: &Value) -> TestRequest {
    TestRequest::delete()
        .uri(path)
        .insert_header(bearer(tokens))
}

/// Asserts 401 `INVALID_TOKEN` with a Bearer challenge, as `/auth/me` answers.
fn assert_challenged(response: &(actix_web::http::StatusCode, header::HeaderMap, Value)) {
    assert_error(response, 401, ErrorCode::InvalidToken);
    let challenge = response
        .1
        .get(header::WWW_AUTHENTICATE)
        .expect("a challenge");
    assert!(
        challenge.to_str().unwrap().starts_with("Bearer"),
        "{challenge:?}"
    );
}

db_test!(async fn a_password_change_answers_204_and_ends_the_other_sessions(db) {
    let app = app(db).await;
    let first = register(&app).await;
    let (_, _, second) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    let change = post("/auth/password", &change_body(PASSWORD, NEW_PASSWORD)).insert_header(bearer(&first));
    let (status, _, body) = send(&app, change).await;
    assert_eq!(status, 204, "{body}");
    assert!(body.is_null());
    let (status, ..) = send(&app, get("/auth/me", &first)).await;
    assert_eq!(status, 200, "this session stays");
    assert_challenged(&send(&app, get("/auth/me", &second)).await);
    let refresh = post("/auth/refresh", &json!({"refresh_token": second["refresh_token"]}));
    assert_error(&send(&app, refresh).await, 401, ErrorCode::InvalidToken);
    let old = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    assert_error(&old, 401, ErrorCode::InvalidCredentials);
    let (status, ..) = send(&app, post("/auth/login", &login_body(NEW_PASSWORD))).await;
    assert_eq!(status, 200);
});

db_test!(async fn a_password_change_keeps_only_the_callers_device_token(db) {
    let app = app(db).await;
    let first = register(&app).await;
    let (_, _, second) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    let (mine, theirs) = (first["device_token"].as_str().unwrap(), second["device_token"].as_str().unwrap());
    let change = post("/auth/password", &change_body(PASSWORD, NEW_PASSWORD))
        .insert_header(bearer(&first))
        .insert_header((header::COOKIE, format!("device_token={mine}")));
    let (status, _, body) = send(&app, change).await;
    assert_eq!(status, 204, "{body}");
    for (device, kept) in [(mine, true), (theirs, false)] {
        let body = json!({"username": "ann", "password": NEW_PASSWORD, "device_token": device});
        let (status, _, signed_in) = send(&app, post("/auth/login", &body)).await;
        assert_eq!(status, 200, "{signed_in}");
        assert_eq!(signed_in["device_token"] == device, kept, "{device}: kept {kept}");
    }
});

db_test!(async fn a_bad_new_password_is_400_naming_new_password(db) {
    let app = app(db).await;
    let tokens = register(&app).await;
    for new in ["short", "password123", PASSWORD] {
        let change = post("/auth/password", &change_body(PASSWORD, new)).insert_header(bearer(&tokens));
        let response = send(&app, change).await;
        let envelope = assert_error(&response, 400, ErrorCode::ValidationError);
        let fields: Vec<String> = envelope.errors.unwrap().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["new_password"], "{new}");
        assert!(!response.2.to_string().contains(PASSWORD), "never echoes a password");
    }
    let missing = post("/auth/password", &json!({"current_password": PASSWORD})).insert_header(bearer(&tokens));
    let envelope = assert_error(&send(&app, missing).await, 400, ErrorCode::ValidationError);
    assert_eq!(envelope.errors.unwrap()[0].field, "new_password");
});

db_test!(async fn a_wrong_password_is_401_invalid_credentials_and_counts_as_a_failed_login(db) {
    let mut delayed = settings(db);
    delayed.throttle.account_delay_after = 1;
    let app = app_with(delayed).await;
    let tokens = register(&app).await;
    let wrong = || post("/auth/password", &change_body("a stranger's guess", NEW_PASSWORD)).insert_header(bearer(&tokens));
    let response = send(&app, wrong()).await;
    assert_error(&response, 401, ErrorCode::InvalidCredentials);
    assert!(response.1.get(header::WWW_AUTHENTICATE).is_none(), "not a token failure");
    let wrong_delete = TestRequest::delete().uri("/auth/me").insert_header(bearer(&tokens))
        .insert_header(actix_web::http::header::ContentType::json())
        .set_payload(json!({"password": "another guess"}).to_string());
    assert_error(&send(&app, wrong_delete).await, 401, ErrorCode::InvalidCredentials);
    // The account is now delayed, for a password change as for a login.
    let response = send(&app, wrong()).await;
    assert_error(&response, 429, ErrorCode::RateLimited);
    assert!(response.1.get(header::RETRY_AFTER).is_some());
    let login = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    assert_error(&login, 429, ErrorCode::RateLimited);
});

db_test!(async fn a_locked_account_is_refused_at_the_password_check_as_at_login(db) {
    let mut locking = settings(db);
    locking.throttle.account_lock_after = 2;
    locking.throttle.account_delay_after = 1_000;
    let app = app_with(locking).await;
    let tokens = register(&app).await;
    for _ in 0..2 {
        let wrong = send(&app, post("/auth/login", &login_body("a stranger's guess"))).await;
        assert_error(&wrong, 401, ErrorCode::InvalidCredentials);
    }
    let right = post("/auth/password", &change_body(PASSWORD, NEW_PASSWORD)).insert_header(bearer(&tokens));
    assert_error(&send(&app, right).await, 401, ErrorCode::InvalidCredentials);
    let (status, ..) = send(&app, get("/auth/me", &tokens)).await;
    assert_eq!(status, 200, "the session itself is untouched");
});

db_test!(async fn sessions_lists_the_callers_live_sessions_newest_first_uncached(db) {
    let app = app(db).await;
    let first = register(&app).await;
    let long_agent = "a".repeat(400);
    let second_login = post("/auth/login", &login_body(PASSWORD)).insert_header((header::USER_AGENT, long_agent.as_str()));
    let (_, _, second) = send(&app, second_login).await;
    let (status, headers, body) = send(&app, get("/auth/sessions", &first)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let keys: Vec<&str> = sessions[0].as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "current", "expires_at", "id", "ip", "last_used_at", "user_agent"]);
    assert_eq!(sessions[0]["current"], false, "the newer sign-in comes first");
    assert_eq!(sessions[1]["current"], true);
    assert_eq!(sessions[0]["user_agent"].as_str().unwrap().len(), 256);
    for session in sessions {
        for field in ["created_at", "last_used_at", "expires_at"] {
            assert_eq!(session[field].as_str().unwrap().len(), 24, "{session}");
        }
        assert!(uuid::Uuid::parse_str(session["id"].as_str().unwrap()).is_ok());
    }
    let (_, _, theirs) = send(&app, get("/auth/sessions", &second)).await;
    assert_eq!(theirs["sessions"][0]["current"], true);
});

db_test!(async fn revoking_a_session_is_204_and_someone_elses_is_404(db) {
    let app = app(db).await;
    let first = register(&app).await;
    let (_, _, second) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    let (_, _, bob) = send(&app, post("/auth/register", &register_body("bob@example.com", "bob"))).await;
    let (_, _, listed) = send(&app, get("/auth/sessions", &bob)).await;
    let bobs = listed["sessions"][0]["id"].as_str().unwrap().to_owned();
    assert_error(&send(&app, delete(&format!("/auth/sessions/{bobs}"), &first)).await, 404, ErrorCode::NotFound);
    assert_error(&send(&app, delete("/auth/sessions/not-a-session", &first)).await, 404, ErrorCode::NotFound);
    let (status, ..) = send(&app, get("/auth/me", &bob)).await;
    assert_eq!(status, 200, "Bob's session is untouched");
    let (_, _, listed) = send(&app, get("/auth/sessions", &first)).await;
    let other = listed["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap();
    let other = other["id"].as_str().unwrap().to_owned();
    let (status, _, body) = send(&app, delete(&format!("/auth/sessions/{other}"), &first)).await;
    assert_eq!(status, 204, "{body}");
    assert_challenged(&send(&app, get("/auth/me", &second)).await);
    assert_error(&send(&app, delete(&format!("/auth/sessions/{other}"), &first)).await, 404, ErrorCode::NotFound);
    let (_, _, listed) = send(&app, get("/auth/sessions", &first)).await;
    let current = listed["sessions"][0]["id"].as_str().unwrap().to_owned();
    let (status, ..) = send(&app, delete(&format!("/auth/sessions/{current}"), &first)).await;
    assert_eq!(status, 204, "the current session may go too");
    assert_challenged(&send(&app, get("/auth/sessions", &first)).await);
});

db_test!(async fn logout_all_is_204_and_ends_every_session(db) {
    let app = app(db).await;
    let first = register(&app).await;
    let (_, _, second) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    let logout_all = TestRequest::post().uri("/auth/logout-all").insert_header(bearer(&first));
    let (status, _, body) = send(&app, logout_all).await;
    assert_eq!(status, 204, "{body}");
    for tokens in [&first, &second] {
        assert_challenged(&send(&app, get("/auth/me", tokens)).await);
        let refresh = post("/auth/refresh", &json!({"refresh_token": tokens["refresh_token"]}));
        assert_error(&send(&app, refresh).await, 401, ErrorCode::InvalidToken);
    }
});

db_test!(async fn deleting_the_account_is_204_and_frees_the_email_and_username(db) {
    let app = app(db).await;
    let tokens = register(&app).await;
    let body = |password: &str| json!({"password": password}).to_string();
    let delete_me = |password: &str| {
        delete("/auth/me", &tokens)
            .insert_header(actix_web::http::header::ContentType::json())
            .set_payload(body(password))
    };
    assert_error(&send(&app, delete_me("not the password")).await, 401, ErrorCode::InvalidCredentials);
    let (status, _, empty) = send(&app, delete_me(PASSWORD)).await;
    assert_eq!(status, 204, "{empty}");
    assert_challenged(&send(&app, get("/auth/me", &tokens)).await);
    assert_error(&send(&app, post("/auth/login", &login_body(PASSWORD))).await, 401, ErrorCode::InvalidCredentials);
    let again = register(&app).await;
    assert!(again["user"]["id"].as_i64().unwrap() > tokens["user"]["id"].as_i64().unwrap(), "ids are never reused");
});

db_test!(async fn every_self_service_endpoint_challenges_a_missing_or_revoked_token(db) {
    let app = app(db).await;
    let tokens = register(&app).await;
    let logout = post("/auth/logout", &json!({"refresh_token": tokens["refresh_token"]}));
    assert_eq!(send(&app, logout).await.0, 204);
    let json_body = |req: TestRequest, body: Value| {
        req.insert_header(actix_web::http::header::ContentType::json()).set_payload(body.to_string())
    };
    let requests = || {
        vec![
            json_body(TestRequest::post().uri("/auth/password"), change_body(PASSWORD, NEW_PASSWORD)),
            TestRequest::get().uri("/auth/sessions"),
            TestRequest::delete().uri("/auth/sessions/some-id"),
            TestRequest::post().uri("/auth/logout-all"),
            json_body(TestRequest::delete().uri("/auth/me"), json!({"password": PASSWORD})),
            TestRequest::get().uri("/auth/me"),
        ]
    };
    for req in requests() {
        assert_challenged(&send(&app, req).await);
    }
    for req in requests() {
        assert_challenged(&send(&app, req.insert_header(bearer(&tokens))).await);
    }
    let (status, ..) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    assert_eq!(status, 200, "nothing was changed");
});

db_test!(async fn a_sign_in_beyond_max_sessions_per_user_ends_the_oldest(db) {
    let mut limited = settings(db);
    limited.max_sessions_per_user = 2;
    let app = app_with(limited).await;
    let oldest = register(&app).await;
    let (_, _, middle) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    let (_, _, newest) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    assert_challenged(&send(&app, get("/auth/me", &oldest)).await);
    let (status, _, listed) = send(&app, get("/auth/sessions", &newest)).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2);
    let (status, ..) = send(&app, get("/auth/me", &middle)).await;
    assert_eq!(status, 200);
});

db_test!(async fn an_idle_session_is_over_for_refresh_and_bearer_alike(db) {
    let mut idle = settings(db);
    idle.session_idle = time::Duration::seconds(1);
    let app = app_with(idle).await;
    let tokens = register(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let refresh = post("/auth/refresh", &json!({"refresh_token": tokens["refresh_token"]}));
    assert_error(&send(&app, refresh).await, 401, ErrorCode::TokenExpired);
    assert_challenged(&send(&app, get("/auth/sessions", &tokens)).await);
    let (_, _, fresh) = send(&app, post("/auth/login", &login_body(PASSWORD))).await;
    let (status, _, listed) = send(&app, get("/auth/sessions", &fresh)).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "the idle session is not listed");
});
