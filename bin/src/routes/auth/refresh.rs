//! `POST /auth/refresh`: trade a refresh token for a new pair.

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;
use secrecy::ExposeSecret as _;

use crate::dto::{RefreshRequest, TokenResponse};
use crate::error::ApiError;
use crate::extract::Context;
use crate::routes::no_store;
use crate::routes::responses::BodyErrors;
use crate::state::AppState;

/// Trade a refresh token for a new access token and a new refresh token.
///
/// The presented token stops working. Presenting an already-rotated token again revokes
/// the whole session, except within a short grace window (two tabs refreshing at once),
/// which returns the same successor.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "INVALID_TOKEN or TOKEN_EXPIRED", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn refresh(
    state: web::Data<AppState>,
    context: Context,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.refresh_token.expose_secret();
    let session = state.auth.refresh(&context.0, token).await?;
    tracing::Span::current().record("user_id", session.user.id.get());
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse::from(session)))
}
