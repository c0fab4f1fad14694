//! The OpenAPI document: every path and schema, listed in one place to review.

use auth_errors::{ErrorBody, ErrorCode, FieldError};
use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::link::Link;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    ChangePasswordRequest, DeleteAccountRequest, HealthResponse, LoginByEmail, LoginByUsername,
    LoginRequest, ReadyChecks, ReadyResponse, RefreshRequest, RegisterRequest, RootResponse,
    SessionResponse, SessionsResponse, TokenResponse, UserResponse,
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
        RegisterRequest, LoginRequest, LoginByEmail, LoginByUsername, RefreshRequest, TokenResponse, UserResponse,
        HealthResponse, ReadyResponse, ReadyChecks, RootResponse, ErrorBody, ErrorCode, FieldError,
        ChangePasswordRequest, DeleteAccountRequest, SessionResponse, SessionsResponse,
        JwkSet, Jwk,
    )),
    modifiers(&BearerAuth, &SessionLinks),
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

/// The operations whose success answers a `TokenResponse`: (path, status).
const TOKEN_ANSWERS: [(&str, &str); 3] = [
    ("/auth/register", "201"),
    ("/auth/login", "200"),
    ("/auth/refresh", "200"),
];

/// Adds OpenAPI links from every `TokenResponse` to the operations its tokens open: refresh
/// and logout (the refresh token in the body), and me (the access token as a bearer). Clients
/// and stateful fuzzers follow them from a sign-in to its session's end.
struct SessionLinks;

impl SessionLinks {
    /// The links of a `TokenResponse`, by name.
    fn links() -> [(&'static str, Link); 3] {
        let refresh_body = json!({"refresh_token": "$response.body#/refresh_token"});
        [
            (
                "Refresh",
                Link::builder()
                    .operation_id("refresh")
                    .request_body(Some(refresh_body.clone()))
                    .description("Trade this refresh token for new tokens.")
                    .build(),
            ),
            (
                "Logout",
                Link::builder()
                    .operation_id("logout")
                    .request_body(Some(refresh_body))
                    .description("End the session of this refresh token.")
                    .build(),
            ),
            (
                "Me",
                Link::builder()
                    .operation_id("me")
                    .parameter(
                        "header.Authorization",
                        "Bearer {$response.body#/access_token}",
                    )
                    .description("Read the signed-in user with this access token.")
                    .build(),
            ),
        ]
    }
}

impl Modify for SessionLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, status) in TOKEN_ANSWERS {
            let response = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|operation| operation.responses.responses.get_mut(status));
            if let Some(RefOr::T(response)) = response {
                for (name, link) in Self::links() {
                    response.links.insert(name.to_owned(), RefOr::T(link));
                }
            }
        }
    }
}
