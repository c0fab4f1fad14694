//! `POST /auth/refresh` and `POST /auth/logout`: the grace window and refused tokens.
//!
//! Within the grace window (default 10 s) a rotated token presented again returns the same
//! successor: the chain never forks. The two refresh tokens handed out may differ in their
//! bytes (`iat`/`exp` are stamped per response) but carry the same `jti`, so they are
//! interchangeable: using one does not turn the other into a theft signal.

use auth_tests::{TestServer, TestUser, Tokens, api_test, assert_error};
use serde_json::json;

/// Refreshes with `token`'s refresh token, asserting 200.
async fn refresh(server: &TestServer, token: &Tokens) -> Tokens {
    let reply = server
        .post_json("/auth/refresh", &token.refresh_body())
        .await;
    Tokens::from_reply(&reply, 200)
}

/// `token` with the first character of its signature changed (that one carries six full
/// bits; the last may carry only padding).
fn tamper_signature(token: &str) -> String {
    let start = token.rfind('.').expect("a JWT") + 1;
    let first = &token[start..=start];
    let swapped = if first == "A" { "B" } else { "A" };
    format!("{}{swapped}{}", &token[..start], &token[start + 1..])
}

/// Asserts that the two successors of one token are interchangeable and the session lives.
async fn assert_equivalent_successors(server: &TestServer, first: &Tokens, second: &Tokens) {
    assert_ne!(first.refresh_token, "");
    assert_eq!(first.user, second.user);
    // Rotate with the second successor, then present the first: if the chain had forked this
    // would be reuse of a foreign token and revoke the session.
    let next = refresh(server, second).await;
    let again = refresh(server, first).await;
    for tokens in [first, second, &next, &again] {
        let me = server.get_bearer("/auth/me", &tokens.access_token).await;
        me.expect_status(200);
    }
}

api_test!(
    async fn two_refreshes_of_one_token_in_quick_succession_both_succeed(server: &TestServer) {
        let signed_in = TestUser::unique("tabs").register(server).await;
        let first = refresh(server, &signed_in).await;
        let second = refresh(server, &signed_in).await;
        assert_ne!(first.refresh_token, signed_in.refresh_token);
        assert_equivalent_successors(server, &first, &second).await;
    }
);

api_test!(
    async fn two_tabs_refreshing_one_token_at_once_both_succeed(server: &TestServer) {
        let signed_in = TestUser::unique("tabs").register(server).await;
        let (first, second) =
            futures::join!(refresh(server, &signed_in), refresh(server, &signed_in));
        assert_equivalent_successors(server, &first, &second).await;
    }
);

api_test!(
    async fn refresh_and_logout_refuse_tokens_that_are_not_refresh_tokens(server: &TestServer) {
        let signed_in = TestUser::unique("bo").register(server).await;
        let tampered = tamper_signature(&signed_in.refresh_token);
        for token in [
            "garbage",
            "a.b.c",
            signed_in.access_token.as_str(),
            tampered.as_str(),
        ] {
            for path in ["/auth/refresh", "/auth/logout"] {
                let reply = server
                    .post_json(path, &json!({"refresh_token": token}))
                    .await;
                assert_error(&reply, 401, "INVALID_TOKEN");
            }
        }
        // None of that harmed the real session.
        refresh(server, &signed_in).await;
    }
);

api_test!(
    async fn refresh_without_a_token_is_a_validation_error(server: &TestServer) {
        let reply = server.post_json("/auth/refresh", &json!({})).await;
        let body = assert_error(&reply, 400, "VALIDATION_ERROR");
        let fields: Vec<_> = body
            .errors
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["refresh_token"]);
    }
);

api_test!(
    async fn logout_with_a_token_rotated_outside_the_grace_window_revokes_the_session(db: &TestDb) {
        // No grace: a rotated token is always a theft signal, also when logging out with it.
        let server =
            TestServer::spawn_with(db, |s| s.refresh_reuse_grace = time::Duration::ZERO).await;
        let signed_in = TestUser::unique("rotated").register(&server).await;
        let next = refresh(&server, &signed_in).await;
        let reply = server
            .post_json("/auth/logout", &signed_in.refresh_body())
            .await;
        reply.expect_status(204);
        let me = server.get_bearer("/auth/me", &next.access_token).await;
        assert_error(&me, 401, "INVALID_TOKEN");
        let again = server
            .post_json("/auth/refresh", &next.refresh_body())
            .await;
        assert_error(&again, 401, "INVALID_TOKEN");
        server.stop().await;
    }
);
