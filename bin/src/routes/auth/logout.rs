//! `POST /auth/logout`: revoke the session of a refresh token.

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;
use secrecy::ExposeSecret as _;

use crate::dto::RefreshRequest;
use crate::error::ApiError;
use crate::extract::Context;
use crate::routes::responses::BodyErrors;
use crate::state::AppState;

/// Sign out: revoke the session the refresh token belongs to, with all of its tokens.
///
/// Signing out of an already revoked session succeeds too.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, description = "INVALID_TOKEN or TOKEN_EXPIRED", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn logout(
    state: web::Data<AppState>,
    context: Context,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.refresh_token.expose_secret();
    state.auth.logout(&context.0, token).await?;
    Ok(HttpResponse::NoContent().finish())
}
