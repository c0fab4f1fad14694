//! Account self-service over real HTTP: change the password, list and end sessions, sign out
//! everywhere, delete the account.

use auth_tests::{PASSWORD, Reply, Sessions, TestServer, TestUser, Tokens, api_test, assert_error};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Asserts 401 `INVALID_TOKEN` with a `WWW-Authenticate: Bearer…` challenge.
#[track_caller]
fn assert_challenged(reply: &Reply) {
    assert_error(reply, 401, "INVALID_TOKEN");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "challenge: {challenge:?}");
}

async fn sessions(server: &TestServer, tokens: &Tokens) -> Sessions {
    let reply = server
        .get_bearer("/auth/sessions", &tokens.access_token)
        .await;
    reply.expect_status(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let listed: Sessions = reply.json();
    for session in &listed.sessions {
        session.assert_format();
    }
    listed
}

async fn post_bearer(
    server: &TestServer,
    path: &str,
    tokens: &Tokens,
    body: Option<&Value>,
) -> Reply {
    let mut request = server
        .client()
        .post(server.url(path))
        .bearer_auth(&tokens.access_token);
    if let Some(body) = body {
        request = request.json(body);
    }
    server.send(request).await
}

async fn delete_bearer(
    server: &TestServer,
    path: &str,
    tokens: &Tokens,
    body: Option<&Value>,
) -> Reply {
    let mut request = server
        .client()
        .delete(server.url(path))
        .bearer_auth(&tokens.access_token);
    if let Some(body) = body {
        request = request.json(body);
    }
    server.send(request).await
}

/// Signs `user` in by email with `password` and a user agent.
async fn login_as(server: &TestServer, user: &TestUser, password: &str, agent: &str) -> Reply {
    let body = json!({"email": user.email, "password": password});
    let request = server
        .client()
        .post(server.url("/auth/login"))
        .header("user-agent", agent)
        .json(&body);
    server.send(request).await
}

api_test!(
    async fn a_user_changes_the_password_and_ends_sessions_one_by_one_then_all(
        server: &TestServer,
    ) {
        let ann = TestUser::unique("Ann");
        let first = ann.register(server).await;
        let second = Tokens::from_reply(&login_as(server, &ann, PASSWORD, "Phone/1.0").await, 200);
        let listed = sessions(server, &first).await.sessions;
        assert_eq!(listed.len(), 2);
        assert!(
            !listed[0].current && listed[1].current,
            "newest first: {listed:?}"
        );
        assert_eq!(listed[0].user_agent.as_deref(), Some("Phone/1.0"));
        assert!(listed[0].ip.is_some(), "the client's address is recorded");

        let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
        post_bearer(server, "/auth/password", &first, Some(&change))
            .await
            .expect_status(204);
        assert_challenged(&server.get_bearer("/auth/me", &second.access_token).await);
        assert_eq!(sessions(server, &first).await.sessions.len(), 1);
        assert_error(
            &login_as(server, &ann, PASSWORD, "Phone/1.0").await,
            401,
            "INVALID_CREDENTIALS",
        );
        let third = Tokens::from_reply(
            &login_as(server, &ann, NEW_PASSWORD, "Laptop/2.0").await,
            200,
        );

        let listed = sessions(server, &first).await.sessions;
        let laptop = listed
            .iter()
            .find(|s| !s.current)
            .expect("the laptop's session");
        delete_bearer(
            server,
            &format!("/auth/sessions/{}", laptop.id),
            &first,
            None,
        )
        .await
        .expect_status(204);
        assert_challenged(&server.get_bearer("/auth/me", &third.access_token).await);
        let again = delete_bearer(
            server,
            &format!("/auth/sessions/{}", laptop.id),
            &first,
            None,
        )
        .await;
        assert_error(&again, 404, "NOT_FOUND");

        let fourth = Tokens::from_reply(&login_as(server, &ann, NEW_PASSWORD, "Tablet").await, 200);
        post_bearer(server, "/auth/logout-all", &first, None)
            .await
            .expect_status(204);
        for tokens in [&first, &fourth] {
            assert_challenged(&server.get_bearer("/auth/me", &tokens.access_token).await);
            let refresh = server
                .post_json("/auth/refresh", &tokens.refresh_body())
                .await;
            assert_error(&refresh, 401, "INVALID_TOKEN");
        }
    }
);

api_test!(
    async fn another_users_sessions_are_neither_listed_nor_revocable(server: &TestServer) {
        let ann = TestUser::unique("Ann").register(server).await;
        let bob = TestUser::unique("Bob").register(server).await;
        let bobs = sessions(server, &bob).await.sessions;
        let anns = sessions(server, &ann).await.sessions;
        assert!(
            anns.iter()
                .all(|mine| bobs.iter().all(|theirs| theirs.id != mine.id))
        );
        let reply = delete_bearer(
            server,
            &format!("/auth/sessions/{}", bobs[0].id),
            &ann,
            None,
        )
        .await;
        assert_error(&reply, 404, "NOT_FOUND");
        server
            .get_bearer("/auth/me", &bob.access_token)
            .await
            .expect_status(200);
    }
);

api_test!(
    async fn a_deleted_account_frees_its_email_and_username_and_its_id_is_not_reused(
        server: &TestServer,
    ) {
        let ann = TestUser::unique("Ann");
        let tokens = ann.register(server).await;
        let wrong = delete_bearer(
            server,
            "/auth/me",
            &tokens,
            Some(&json!({"password": "not it at all"})),
        )
        .await;
        assert_error(&wrong, 401, "INVALID_CREDENTIALS");
        let deleted = delete_bearer(
            server,
            "/auth/me",
            &tokens,
            Some(&json!({"password": PASSWORD})),
        )
        .await;
        deleted.expect_status(204);
        assert!(deleted.body.is_empty());
        assert_challenged(&server.get_bearer("/auth/me", &tokens.access_token).await);
        let refresh = server
            .post_json("/auth/refresh", &tokens.refresh_body())
            .await;
        assert_error(&refresh, 401, "INVALID_TOKEN");
        let again = ann.register(server).await;
        assert!(
            again.user.id > tokens.user.id,
            "{} after {}",
            again.user.id,
            tokens.user.id
        );
    }
);

api_test!(
    async fn a_password_change_racing_a_refresh_of_another_session_leaves_it_revoked(
        server: &TestServer,
    ) {
        let ann = TestUser::unique("Ann");
        let mine = ann.register(server).await;
        let other = ann.login(server).await;
        let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
        let refresh_body = other.refresh_body();
        let (changed, refreshed) = futures::join!(
            post_bearer(server, "/auth/password", &mine, Some(&change)),
            server.post_json("/auth/refresh", &refresh_body),
        );
        changed.expect_status(204);
        // Whether the refresh went first or not, the change has committed now: the session
        // is revoked, whichever refresh token it last handed out.
        let latest = if refreshed.status == 200 {
            Tokens::from_reply(&refreshed, 200)
        } else {
            other
        };
        let refresh = server
            .post_json("/auth/refresh", &latest.refresh_body())
            .await;
        assert_error(&refresh, 401, "INVALID_TOKEN");
        assert_challenged(&server.get_bearer("/auth/me", &latest.access_token).await);
        let left = sessions(server, &mine).await.sessions;
        assert_eq!(left.len(), 1);
        assert!(left[0].current);
    }
);

api_test!(
    async fn the_session_limit_and_the_idle_limit_end_sessions(db: &TestDb) {
        let server = TestServer::spawn_with(db, |settings| {
            settings.max_sessions_per_user = 2;
            settings.session_idle = time::Duration::seconds(2);
        })
        .await;
        let ann = TestUser::unique("Ann");
        let oldest = ann.register(&server).await;
        let middle = ann.login(&server).await;
        let newest = ann.login(&server).await;
        assert_challenged(&server.get_bearer("/auth/me", &oldest.access_token).await);
        assert_eq!(sessions(&server, &newest).await.sessions.len(), 2);
        // Keep the newest session in use; leave the middle one idle.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1_200)).await;
        let newest = Tokens::from_reply(
            &server
                .post_json("/auth/refresh", &newest.refresh_body())
                .await,
            200,
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1_200)).await;
        let idle = server
            .post_json("/auth/refresh", &middle.refresh_body())
            .await;
        assert_error(&idle, 401, "TOKEN_EXPIRED");
        assert_challenged(&server.get_bearer("/auth/me", &middle.access_token).await);
        let listed = sessions(&server, &newest).await.sessions;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].current);
        server.stop().await;
    }
);

api_test!(
    async fn a_body_that_is_not_json_is_refused_while_the_token_is_checked(server: &TestServer) {
        let tokens = TestUser::unique("Ann").register(server).await;
        // The body fails at once while the token's session is still being read: the read
        // must finish on its own instead of failing the request (or the server's worker).
        for _ in 0..5 {
            let no_body = post_bearer(server, "/auth/password", &tokens, None).await;
            assert_error(&no_body, 415, "UNSUPPORTED_MEDIA_TYPE");
            let no_body = delete_bearer(server, "/auth/me", &tokens, None).await;
            assert_error(&no_body, 415, "UNSUPPORTED_MEDIA_TYPE");
        }
        server
            .get_bearer("/auth/me", &tokens.access_token)
            .await
            .expect_status(200);
    }
);
