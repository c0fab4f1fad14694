//! The OpenAPI document: every path and schema, listed in one place to review.

use auth_errors::{ErrorBody, ErrorCode, FieldError};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    ChangePasswordRequest, DeleteAccountRequest, HealthResponse, LoginRequest, ReadyChecks,
    ReadyResponse, RefreshRequest, RegisterRequest, RootResponse, SessionResponse,
    SessionsResponse, TokenResponse, UserResponse,
};
use crate::routes;
use crate::routes::jwks::{Jwk, JwkSet};

/// The API's OpenAPI 3 document (title, description and version are set from config).
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::auth::register::register,
        routes::auth::login::login,
        routes::auth::refresh::refresh,
        routes::auth::logout::logout,
        routes::auth::me::me,
        routes::auth::password::change_password,
        routes::auth::sessions::list,
        routes::auth::revoke_session::revoke,
        routes::auth::logout_all::logout_all,
        routes::auth::delete_account::delete_account,
        routes::health::health,
        routes::health::ready,
        routes::root::root,
        routes::jwks::jwks,
    ),
    components(schemas(
        RegisterRequest, LoginRequest, RefreshRequest, TokenResponse, UserResponse,
        HealthResponse, ReadyResponse, ReadyChecks, RootResponse, ErrorBody, ErrorCode, FieldError,
        ChangePasswordRequest, DeleteAccountRequest, SessionResponse, SessionsResponse,
        JwkSet, Jwk,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Register, sign in, refresh, sign out, current user"),
        (name = "account", description = "Self-service of a signed-in user: password, sessions, deletion"),
        (name = "health", description = "Liveness and readiness"),
        (name = "keys", description = "Public keys that verify the tokens"),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer_auth` scheme, so Swagger UI's "Authorize" takes an access token.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer_auth", SecurityScheme::Http(scheme));
    }
}
