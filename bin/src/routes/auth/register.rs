//! `POST /auth/register`: create an account and sign in.

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;

use crate::dto::{RegisterRequest, TokenResponse};
use crate::error::ApiError;
use crate::extract::Context;
use crate::routes::responses::BodyErrors;
use crate::routes::signed_in;
use crate::state::AppState;

/// Create an account and sign in.
///
/// Email and username are unique without regard to case; the spelling given is kept for
/// display. Returns an access token and a refresh token.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in", body = TokenResponse),
        (status = 409, description = "USER_EXISTS: email or username taken", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn register(
    state: web::Data<AppState>,
    context: Context,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = body
        .into_inner()
        .into_input(state.auth.password_min_length())?;
    let session = state.auth.register(&context.0, input).await?;
    tracing::Span::current().record("user_id", session.user.id.get());
    Ok(signed_in(HttpResponse::Created(), &state.auth, session))
}
