//! `POST /auth/register`: validation, case-insensitive uniqueness, and racing registrations.

use auth_tests::{PASSWORD, Reply, TestServer, TestUser, Tokens, api_test, assert_error};
use serde_json::{Value, json};

/// Asserts a 400 `VALIDATION_ERROR` naming exactly `field`.
#[track_caller]
fn assert_invalid_field(reply: &Reply, field: &str) {
    let body = assert_error(reply, 400, "VALIDATION_ERROR");
    let errors = body.errors.unwrap_or_default();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, [field], "{errors:?}");
    assert!(errors.iter().all(|e| !e.message.is_empty()));
}

api_test!(
    async fn register_refuses_each_invalid_field_and_names_it(server: &TestServer) {
        let ann = TestUser::unique("ann");
        let with = |field: &str, value: &str| {
            let mut body = ann.register_body();
            body[field] = Value::from(value);
            body
        };
        let long_password = "p".repeat(129);
        let cases = [
            (with("email", "not-an-email"), "email"),
            (with("email", "ann@"), "email"),
            (with("username", "an"), "username"),
            (with("username", "ann smith"), "username"),
            (with("username", &"a".repeat(33)), "username"),
            (with("password", "short"), "password"),
            (with("password", &long_password), "password"),
            (with("password", "password123"), "password"),
            (with("password", "PassWord123"), "password"),
        ];
        for (body, field) in cases {
            let reply = server.post_json("/auth/register", &body).await;
            assert_invalid_field(&reply, field);
            assert!(
                !reply.text().contains("password123"),
                "never echo a password"
            );
        }
        // Nothing was created along the way.
        ann.register(server).await;
    }
);

api_test!(
    async fn register_names_a_missing_field(server: &TestServer) {
        let body = json!({"email": "x@example.com", "username": "xyz"});
        let reply = server.post_json("/auth/register", &body).await;
        assert_invalid_field(&reply, "password");
    }
);

api_test!(
    async fn register_trims_the_email_but_never_the_password(server: &TestServer) {
        let ann = TestUser::unique("ann");
        let padded = format!("  {}\t", ann.email);
        let body =
            json!({"email": padded, "username": ann.username, "password": format!(" {PASSWORD} ")});
        let tokens = Tokens::from_reply(&server.post_json("/auth/register", &body).await, 201);
        assert_eq!(tokens.user.email, ann.email);
        let unpadded = json!({"email": ann.email, "password": PASSWORD});
        assert_error(
            &server.post_json("/auth/login", &unpadded).await,
            401,
            "INVALID_CREDENTIALS",
        );
        let padded = json!({"email": ann.email, "password": format!(" {PASSWORD} ")});
        Tokens::from_reply(&server.post_json("/auth/login", &padded).await, 200);
    }
);

api_test!(
    async fn register_refuses_a_taken_email_or_username_whatever_the_case(server: &TestServer) {
        let ann = TestUser::unique("ann");
        ann.register(server).await;
        let other = TestUser::unique("other");
        let same_email = TestUser {
            email: ann
                .email
                .to_uppercase()
                .replace("EXAMPLE.COM", "example.com"),
            ..other.clone()
        };
        let same_username = TestUser {
            username: ann.username.to_uppercase(),
            ..other.clone()
        };
        for taken in [same_email, same_username] {
            let reply = server
                .post_json("/auth/register", &taken.register_body())
                .await;
            assert_error(&reply, 409, "USER_EXISTS");
        }
        // Neither attempt left anything behind: `other` is still free.
        other.register(server).await;
    }
);

api_test!(
    async fn two_registrations_racing_for_one_email_make_one_account(server: &TestServer) {
        let first = TestUser::unique("race");
        let second = TestUser {
            username: format!("{}_2", first.username),
            ..first.clone()
        };
        let (first, second) = (first.register_body(), second.register_body());
        let (a, b) = futures::join!(
            server.post_json("/auth/register", &first),
            server.post_json("/auth/register", &second),
        );
        let (won, lost) = if a.status == 201 { (a, b) } else { (b, a) };
        Tokens::from_reply(&won, 201);
        assert_error(&lost, 409, "USER_EXISTS");
    }
);

api_test!(
    async fn register_applies_the_configured_minimum_password_length(db: &TestDb) {
        let server = TestServer::spawn_with(db, |s| s.password_min_length = 12).await;
        let ann = TestUser::unique("minimum");
        let mut body = ann.register_body();
        body["password"] = Value::from("xq7vk2pm9w");
        let reply = server.post_json("/auth/register", &body).await;
        assert_invalid_field(&reply, "password");
        let message = &assert_error(&reply, 400, "VALIDATION_ERROR")
            .errors
            .unwrap()[0]
            .message;
        assert!(message.contains("12"), "{message}");
        body["password"] = Value::from("xq7vk2pm9wz4");
        server
            .post_json("/auth/register", &body)
            .await
            .expect_status(201);
        server.stop().await;
    }
);
