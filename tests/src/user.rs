//! `TestUser` and the contract's success bodies, decoded strictly (unknown fields fail, so a
//! leaked password hash or a renamed field cannot slip through).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Reply, TestServer, assert_json, assert_timestamp};

/// The password of every [`TestUser`]: long, and not a common password.
pub const PASSWORD: &str = "correct horse battery staple";

/// Someone who may register and sign in; names are unique per test run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    /// A lower-case address.
    pub email: String,
    /// The spelling given at registration.
    pub username: String,
    /// [`PASSWORD`].
    pub password: String,
}

/// A `TokenResponse` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// The access token's lifetime in seconds.
    pub expires_in: i64,
    /// The signed-in user.
    pub user: User,
    /// The device token: register and login only.
    #[serde(default)]
    pub device_token: Option<String>,
}

/// A `User` body; times are kept as sent, to check their format.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Account id.
    pub id: i64,
    /// Email as registered.
    pub email: String,
    /// Username as registered.
    pub username: String,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// Creation time.
    pub created_at: String,
    /// Last sign-in, if any.
    pub last_login: Option<String>,
}

impl TestUser {
    /// A user whose names start with `prefix` and end with a random suffix (so runs against a
    /// shared deployment do not collide), e.g. `Ann_1a2b3c4d` / `ann_1a2b3c4d@example.com`.
    pub fn unique(prefix: &str) -> Self {
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let username = format!("{prefix}_{suffix}");
        Self {
            email: format!("{}@example.com", username.to_lowercase()),
            username,
            password: PASSWORD.to_owned(),
        }
    }

    /// The `POST /auth/register` body.
    pub fn register_body(&self) -> Value {
        json!({"email": self.email, "username": self.username, "password": self.password})
    }

    /// Registers through the API, asserting 201 and a valid `TokenResponse` for this user.
    pub async fn register(&self, server: &TestServer) -> Tokens {
        let reply = server
            .post_json("/auth/register", &self.register_body())
            .await;
        let tokens = Tokens::from_reply(&reply, 201);
        assert_eq!(tokens.user.email, self.email);
        assert_eq!(tokens.user.username, self.username);
        assert!(
            tokens.device_token.is_some(),
            "a sign-in hands out a device token"
        );
        tokens
    }

    /// Signs in by email through the API, asserting 200 and a valid `TokenResponse`.
    pub async fn login(&self, server: &TestServer) -> Tokens {
        let body = json!({"email": self.email, "password": self.password});
        let reply = server.post_json("/auth/login", &body).await;
        let tokens = Tokens::from_reply(&reply, 200);
        assert_eq!(tokens.user.email, self.email);
        assert!(
            tokens.device_token.is_some(),
            "a sign-in hands out a device token"
        );
        tokens
    }
}

impl Tokens {
    /// Asserts that `reply` is a `TokenResponse` with `status` and decodes it.
    ///
    /// Checks the JSON content type, `token_type: bearer`, non-empty tokens that differ, and
    /// the user's time formats.
    #[track_caller]
    pub fn from_reply(reply: &Reply, status: u16) -> Self {
        reply.expect_status(status);
        assert_json(reply);
        let tokens: Self = reply.json();
        assert_eq!(tokens.token_type, "bearer");
        assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
        assert_ne!(tokens.access_token, tokens.refresh_token);
        tokens.user.assert_times();
        tokens
    }

    /// The body of `POST /auth/refresh` and `POST /auth/logout` for this refresh token.
    pub fn refresh_body(&self) -> Value {
        json!({"refresh_token": self.refresh_token})
    }
}

impl User {
    /// Asserts the wire format of `created_at` and `last_login`.
    #[track_caller]
    pub fn assert_times(&self) {
        assert_timestamp(&self.created_at);
        if let Some(last_login) = &self.last_login {
            assert_timestamp(last_login);
        }
    }
}
