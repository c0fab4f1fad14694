//! The whole life of a session: register → login (email, username) → me → refresh (rotation,
//! reuse revokes the session) → logout.

use auth_tests::{PASSWORD, TestServer, TestUser, Tokens, User, api_test, assert_error};
use serde_json::json;
use time::Duration;

/// Registers `ann`, then signs in by email and by username (in another case); returns the
/// two sessions.
async fn register_and_sign_in_both_ways(server: &TestServer, ann: &TestUser) -> (Tokens, Tokens) {
    let registered = ann.register(server).await;
    assert_eq!(registered.expires_in, 1800);
    assert!(registered.user.is_active);
    assert!(registered.user.id > 0);

    let by_email = ann.login(server).await;
    assert_eq!(by_email.user.id, registered.user.id);
    assert!(
        by_email.user.last_login.is_some(),
        "a login sets last_login"
    );
    let body = json!({"username": ann.username.to_uppercase(), "password": PASSWORD});
    let by_username = Tokens::from_reply(&server.post_json("/auth/login", &body).await, 200);
    assert_eq!(by_username.user.id, registered.user.id);
    assert_eq!(
        by_username.user.username, ann.username,
        "the spelling is kept"
    );

    let me = server.get_bearer("/auth/me", &by_email.access_token).await;
    let me: User = me.expect_status(200).json();
    let User { last_login, .. } = &me;
    assert!(last_login.is_some());
    assert_eq!(
        me,
        User {
            last_login: last_login.clone(),
            ..registered.user
        }
    );
    (by_email, by_username)
}

/// Refreshes `session`, then presents its rotated token again: the session dies, successor
/// included.
async fn refresh_then_reuse(server: &TestServer, session: &Tokens) {
    let refreshed = server
        .post_json("/auth/refresh", &session.refresh_body())
        .await;
    let refreshed = Tokens::from_reply(&refreshed, 200);
    assert_ne!(refreshed.refresh_token, session.refresh_token, "rotation");
    assert_eq!(
        refreshed.device_token, None,
        "refresh hands out no device token"
    );
    assert_eq!(refreshed.user.id, session.user.id);
    let me = server.get_bearer("/auth/me", &refreshed.access_token).await;
    me.expect_status(200);

    let reused = server
        .post_json("/auth/refresh", &session.refresh_body())
        .await;
    assert_error(&reused, 401, "INVALID_TOKEN");
    let successor = server
        .post_json("/auth/refresh", &refreshed.refresh_body())
        .await;
    assert_error(&successor, 401, "INVALID_TOKEN");
    let me = server.get_bearer("/auth/me", &refreshed.access_token).await;
    assert_error(&me, 401, "INVALID_TOKEN");
}

/// Logs `session` out, checks it is dead, and logs it out again.
async fn logout_twice(server: &TestServer, session: &Tokens) {
    let logout = server
        .post_json("/auth/logout", &session.refresh_body())
        .await;
    logout.expect_status(204);
    assert!(logout.body.is_empty(), "204 has no body");
    let after = server
        .post_json("/auth/refresh", &session.refresh_body())
        .await;
    assert_error(&after, 401, "INVALID_TOKEN");
    let me = server.get_bearer("/auth/me", &session.access_token).await;
    assert_error(&me, 401, "INVALID_TOKEN");
    let again = server
        .post_json("/auth/logout", &session.refresh_body())
        .await;
    again.expect_status(204);
}

api_test!(
    async fn register_login_me_refresh_reuse_and_logout_follow_the_contract(db: &TestDb) {
        // No grace: presenting a rotated token again is always a theft signal.
        let server = TestServer::spawn_with(db, |s| s.refresh_reuse_grace = Duration::ZERO).await;
        let (by_email, by_username) =
            register_and_sign_in_both_ways(&server, &TestUser::unique("Ann")).await;
        refresh_then_reuse(&server, &by_email).await;
        // The user's other session lives on until it is logged out.
        let me = server
            .get_bearer("/auth/me", &by_username.access_token)
            .await;
        me.expect_status(200);
        logout_twice(&server, &by_username).await;
        server.stop().await;
    }
);
