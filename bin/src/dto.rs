//! Request and response bodies of the HTTP API, with their OpenAPI schemas.
//!
//! Field limits in the schemas mirror the validation rules of `auth_services`, so a
//! schema-driven client or fuzzer knows exactly what is accepted.

use auth_services::{
    AccountDeletionInput, AuthSession, Invalid, LoginInput, PasswordChangeInput, RegisterInput,
    Session, User,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema as _, ToSchema};

/// `POST /auth/register` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "username": "ann", "password": "correct horse battery staple"}))]
pub struct RegisterRequest {
    /// A valid address, at most 254 characters; surrounding white space is trimmed. Unique
    /// without regard to case.
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub email: String,
    /// 3–32 characters of `A-Z a-z 0-9 _ . -`. Unique without regard to case.
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9_.\-]{3,32}$")]
    pub username: String,
    /// `PASSWORD_MIN_LENGTH` (8 to 64, default 8; `minLength` shows the floor) to 128
    /// characters, not a common password. Never trimmed.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub password: SecretString,
}

impl RegisterRequest {
    /// Validates every field, with passwords of at least `min_length` characters.
    ///
    /// # Errors
    ///
    /// [`Invalid`] listing each failing field.
    pub fn into_input(self, min_length: usize) -> Result<RegisterInput, Invalid> {
        RegisterInput::parse_with_min(&self.email, &self.username, self.password, min_length)
    }
}

/// `POST /auth/login` body: `email` or `username` (exactly one), and `password`.
///
/// Its OpenAPI schema is a `oneOf` of [`LoginByEmail`] and [`LoginByUsername`], since a body
/// with both identifiers (or neither) is refused.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    /// Sign in by email (case-insensitive).
    pub email: Option<String>,
    /// Sign in by username (case-insensitive).
    pub username: Option<String>,
    /// The account's password.
    pub password: SecretString,
    /// A device token from an earlier sign-in on this device.
    pub device_token: Option<SecretString>,
}

impl utoipa::PartialSchema for LoginRequest {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(LoginByEmail::name()))
            .item(Ref::from_schema_name(LoginByUsername::name()))
            .description(Some(
                "`email` or `username` (exactly one, never both), and `password`.",
            ))
            .examples([json!({
                "email": "ann@example.com",
                "password": "correct horse battery staple"
            })])
            .into()
    }
}

impl ToSchema for LoginRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((LoginByEmail::name().into(), LoginByEmail::schema()));
        schemas.push((LoginByUsername::name().into(), LoginByUsername::schema()));
    }
}

/// The schema of a `POST /auth/login` body that signs in by email (documentation only: the
/// body is read as [`LoginRequest`]).
#[derive(ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "password": "correct horse battery staple"}))]
pub struct LoginByEmail {
    /// Sign in by email (case-insensitive); surrounding white space is trimmed, and no
    /// control characters.
    #[schema(
        min_length = 1,
        max_length = 254,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub email: String,
    /// The account's password.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 128)]
    pub password: String,
    /// The device token this account received at an earlier sign-in on this device (or send
    /// the `device_token` cookie). Attempts carrying a valid one are throttled in that
    /// device's own bucket, so strangers' failures cannot lock the owner out; an invalid or
    /// foreign one is ignored.
    pub device_token: Option<String>,
}

/// The schema of a `POST /auth/login` body that signs in by username (documentation only:
/// the body is read as [`LoginRequest`]).
#[derive(ToSchema)]
#[schema(example = json!({"username": "ann", "password": "correct horse battery staple"}))]
pub struct LoginByUsername {
    /// Sign in by username (case-insensitive); no control characters.
    #[schema(
        min_length = 1,
        max_length = 254,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]+$"
    )]
    pub username: String,
    /// The account's password.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 128)]
    pub password: String,
    /// As in [`LoginByEmail`].
    pub device_token: Option<String>,
}

impl TryFrom<LoginRequest> for LoginInput {
    type Error = Invalid;

    fn try_from(body: LoginRequest) -> Result<Self, Invalid> {
        let input = LoginInput::parse(
            body.email.as_deref(),
            body.username.as_deref(),
            body.password,
        )?;
        Ok(input.with_device_token(body.device_token))
    }
}

/// `POST /auth/refresh` and `POST /auth/logout` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// A refresh token from register, login or an earlier refresh.
    #[schema(value_type = String, min_length = 1, max_length = 4096)]
    pub refresh_token: SecretString,
}

/// A signed-in user's tokens.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub access_token: String,
    /// Single-use token for `POST /auth/refresh`; each use returns a new one.
    pub refresh_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: String,
    /// Lifetime of the access token, in seconds.
    #[schema(example = 1800)]
    pub expires_in: i64,
    /// The signed-in user.
    pub user: UserResponse,
    /// Register and login only: an opaque token naming this device, also set as an
    /// `HttpOnly` cookie scoped to `/auth`. Send it back at the next login on this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl From<AuthSession> for TokenResponse {
    fn from(session: AuthSession) -> Self {
        Self {
            access_token: session.access_token.expose_secret().to_owned(),
            refresh_token: session.refresh_token.expose_secret().to_owned(),
            token_type: "bearer".to_owned(),
            expires_in: session.expires_in,
            user: session.user.into(),
            device_token: session
                .device_token
                .map(|token| token.expose_secret().to_owned()),
        }
    }
}

/// A user, as clients see them. Never a password or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    /// Account id.
    #[schema(example = 42)]
    pub id: i64,
    /// Email as given at registration.
    #[schema(format = Email, example = "ann@example.com")]
    pub email: String,
    /// Username as given at registration.
    #[schema(example = "ann")]
    pub username: String,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// Creation time: RFC 3339, UTC, milliseconds.
    #[serde(with = "auth_errors::timestamp")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-15T10:30:45.123Z")]
    pub created_at: OffsetDateTime,
    /// Last sign-in, if any.
    #[serde(with = "auth_errors::timestamp::option")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2024-01-15T10:30:45.123Z")]
    pub last_login: Option<OffsetDateTime>,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id.get(),
            email: user.email,
            username: user.username,
            is_active: user.is_active,
            created_at: user.created_at,
            last_login: user.last_login,
        }
    }
}

/// `GET /health` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// Always `healthy`.
    #[schema(example = "healthy")]
    pub status: String,
    /// Server time.
    #[serde(with = "auth_errors::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
}

/// `GET /health/ready` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadyResponse {
    /// Always `ready` (otherwise the answer is a 503 error).
    #[schema(example = "ready")]
    pub status: String,
    /// One entry per dependency.
    pub checks: ReadyChecks,
}

/// The dependencies checked for readiness.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadyChecks {
    /// `ok` when the database answered.
    #[schema(example = "ok")]
    pub database: String,
}

/// `GET /` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RootResponse {
    /// Always `Auth Service API`.
    #[schema(example = "Auth Service API")]
    pub message: String,
}

/// `POST /auth/password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "correct horse battery staple", "new_password": "a new and longer passphrase"}))]
pub struct ChangePasswordRequest {
    /// The account's password now; a wrong one counts as a failed sign-in.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 128)]
    pub current_password: SecretString,
    /// `PASSWORD_MIN_LENGTH` (8 to 64, default 8; `minLength` shows the floor) to 128
    /// characters, not a common password, and not the current one.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: SecretString,
    /// The device token of this device (or send the `device_token` cookie): it stays valid
    /// while every other device token of the account is revoked.
    #[schema(value_type = Option<String>)]
    pub device_token: Option<SecretString>,
}

impl ChangePasswordRequest {
    /// Validates the new password, with at least `min_length` characters.
    ///
    /// # Errors
    ///
    /// [`Invalid`] naming `new_password`.
    pub fn into_input(self, min_length: usize) -> Result<PasswordChangeInput, Invalid> {
        let input = PasswordChangeInput::parse_with_min(
            self.current_password,
            self.new_password,
            min_length,
        )?;
        Ok(input.with_device_token(self.device_token))
    }
}

/// `DELETE /auth/me` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"password": "correct horse battery staple"}))]
pub struct DeleteAccountRequest {
    /// The account's password; a wrong one counts as a failed sign-in.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 128)]
    pub password: SecretString,
    /// The device token of this device (or send the `device_token` cookie), for the
    /// throttling bucket of the password check.
    #[schema(value_type = Option<String>)]
    pub device_token: Option<SecretString>,
}

impl From<DeleteAccountRequest> for AccountDeletionInput {
    fn from(body: DeleteAccountRequest) -> Self {
        Self::new(body.password).with_device_token(body.device_token)
    }
}

/// One of the caller's live sessions (a sign-in and its refreshes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    /// The session's id: `DELETE /auth/sessions/{id}` ends it.
    #[schema(format = "uuid", example = "0b6f2c1e-7d1a-4c3e-9f57-2a8e1c9d4b10")]
    pub id: String,
    /// When it opened (a registration or a login).
    #[serde(with = "auth_errors::timestamp")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-15T10:30:45.123Z")]
    pub created_at: OffsetDateTime,
    /// When its refresh token was last used (its opening, if never).
    #[serde(with = "auth_errors::timestamp")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-15T10:30:45.123Z")]
    pub last_used_at: OffsetDateTime,
    /// Its absolute end (it also ends after `SESSION_IDLE_DAYS` without a refresh).
    #[serde(with = "auth_errors::timestamp")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-22T10:30:45.123Z")]
    pub expires_at: OffsetDateTime,
    /// The client's address at its opening or last refresh, if known.
    #[schema(example = "203.0.113.7")]
    pub ip: Option<String>,
    /// The client's `User-Agent` then (at most 256 characters), if sent.
    #[schema(max_length = 256, example = "Mozilla/5.0 (X11; Linux x86_64)")]
    pub user_agent: Option<String>,
    /// Whether this is the session of the presented access token.
    pub current: bool,
}

impl From<Session> for SessionResponse {
    fn from(session: Session) -> Self {
        Self {
            id: session.id.as_str().to_owned(),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
            ip: session.ip,
            user_agent: session.user_agent,
            current: session.current,
        }
    }
}

/// `GET /auth/sessions` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionsResponse {
    /// The caller's live sessions, newest first.
    pub sessions: Vec<SessionResponse>,
}
