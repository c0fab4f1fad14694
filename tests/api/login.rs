//! `POST /auth/login`: missing identifier, and one indistinguishable answer for every failure.

use std::collections::BTreeMap;

use auth_tests::{PASSWORD, Reply, TestUser, Tokens, api_test, assert_error};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The parts of a failed login a client can see, minus what differs per request
/// (`request_id`, `timestamp`, and the `Date`, `X-Request-ID` and `Content-Length` headers).
#[track_caller]
fn visible(reply: &Reply) -> (u16, Value, BTreeMap<String, String>) {
    assert_error(reply, 401, "INVALID_CREDENTIALS");
    let mut body: Value = reply.json();
    let fields = body.as_object_mut().expect("an object");
    assert!(fields.remove("request_id").is_some() && fields.remove("timestamp").is_some());
    let headers = reply
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id" | "content-length"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("?").to_owned()))
        .collect();
    (reply.status, body, headers)
}

api_test!(
    async fn login_without_email_or_username_is_a_validation_error(server: &TestServer) {
        let reply = server
            .post_json("/auth/login", &json!({"password": PASSWORD}))
            .await;
        assert_error(&reply, 400, "VALIDATION_ERROR");
    }
);

api_test!(
    async fn login_works_by_username_in_any_case(server: &TestServer) {
        let ann = TestUser::unique("Ann");
        let registered = ann.register(server).await;
        for username in [ann.username.to_lowercase(), ann.username.to_uppercase()] {
            let body = json!({"username": username, "password": PASSWORD});
            let tokens = Tokens::from_reply(&server.post_json("/auth/login", &body).await, 200);
            assert_eq!(tokens.user.id, registered.user.id);
        }
        let body = json!({"email": ann.email.to_uppercase(), "password": PASSWORD});
        let tokens = Tokens::from_reply(&server.post_json("/auth/login", &body).await, 200);
        assert_eq!(tokens.user.id, registered.user.id);
    }
);

api_test!(
    async fn unknown_user_wrong_password_and_inactive_user_get_the_same_answer(
        server: &TestServer,
        db: &TestDb,
    ) {
        let ann = TestUser::unique("ann");
        ann.register(server).await;
        let gone = TestUser::unique("gone");
        let id = gone.register(server).await.user.id;
        let deactivated = auth_persistence::users::set_active(
            db.pool(),
            auth_persistence::users::UserKey::Id(id),
            false,
            OffsetDateTime::now_utc(),
            auth_persistence::audit::NewAuditEvent {
                occurred_at: OffsetDateTime::now_utc(),
                event: "deactivate",
                reason: None,
                request_id: None,
                user_id: None,
                session_id: None,
                client_ip: None,
            },
        );
        deactivated.await.expect("the user is deactivated");

        let attempts = [
            json!({"email": "nobody@example.com", "password": PASSWORD}),
            json!({"username": "nobody", "password": PASSWORD}),
            json!({"email": ann.email, "password": "wrong password, long enough"}),
            json!({"username": ann.username, "password": "wrong password, long enough"}),
            json!({"email": gone.email, "password": PASSWORD}),
            json!({"username": gone.username, "password": PASSWORD}),
        ];
        let mut answers = Vec::new();
        for attempt in &attempts {
            answers.push(visible(&server.post_json("/auth/login", attempt).await));
        }
        for (attempt, answer) in attempts.iter().zip(&answers).skip(1) {
            assert_eq!(answer, &answers[0], "{attempt} is distinguishable");
        }
    }
);
