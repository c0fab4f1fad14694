//! `POST /auth/login`: sign in with email or username.

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;
use auth_services::LoginInput;

use crate::dto::{LoginRequest, TokenResponse};
use crate::error::ApiError;
use crate::extract::Context;
use crate::routes::no_store;
use crate::routes::responses::BodyErrors;
use crate::state::AppState;

/// Sign in with email or username, and password.
///
/// Unknown user, wrong password and inactive account all give the same 401.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "INVALID_CREDENTIALS, whatever the reason", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn login(
    state: web::Data<AppState>,
    context: Context,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let input: LoginInput = body.into_inner().try_into()?;
    let session = state.auth.login(&context.0, input).await?;
    tracing::Span::current().record("user_id", session.user.id.get());
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse::from(session)))
}
