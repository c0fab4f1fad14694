//! `GET /auth/me`: the signed-in user, and a Bearer challenge for everything else.

use auth_tests::{Reply, TestUser, User, api_test, assert_error};

/// Asserts 401 `INVALID_TOKEN` with a `WWW-Authenticate: Bearer…` challenge.
#[track_caller]
fn assert_challenged(reply: &Reply) {
    assert_error(reply, 401, "INVALID_TOKEN");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "challenge: {challenge:?}");
}

api_test!(
    async fn me_returns_the_user_of_the_access_token(server: &TestServer) {
        let ann = TestUser::unique("Ann");
        let tokens = ann.register(server).await;
        let reply = server.get_bearer("/auth/me", &tokens.access_token).await;
        reply.expect_status(200);
        auth_tests::assert_json(&reply);
        let me: User = reply.json();
        assert_eq!(me.id, tokens.user.id);
        assert_eq!(me.username, ann.username);
        assert_eq!(me.email, ann.email);
        me.assert_times();
        assert!(
            !reply.text().contains("password"),
            "no password or hash: {}",
            reply.text()
        );
    }
);

api_test!(
    async fn me_challenges_a_missing_header(server: &TestServer) {
        assert_challenged(&server.get("/auth/me").await);
    }
);

api_test!(
    async fn me_challenges_other_schemes_garbage_and_refresh_tokens(server: &TestServer) {
        let tokens = TestUser::unique("bo").register(server).await;
        let bearer = |token: &str| format!("Bearer {token}");
        let headers = [
            "Basic x".to_owned(),
            format!("Basic {}", tokens.access_token),
            "Bearer".to_owned(),
            bearer("garbage"),
            bearer("a.b.c"),
            bearer(&tokens.refresh_token),
        ];
        for header in headers {
            let request = server
                .client()
                .get(server.url("/auth/me"))
                .header("authorization", &header);
            let reply = server.send(request).await;
            assert_challenged(&reply);
        }
    }
);
