//! `POST /auth/login`: sign in with email or username.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_errors::ErrorBody;
use auth_services::LoginInput;

use crate::device_cookie;
use crate::dto::{LoginRequest, TokenResponse};
use crate::error::ApiError;
use crate::extract::Context;
use crate::routes::responses::BodyErrors;
use crate::routes::signed_in;
use crate::state::AppState;

/// Sign in with email or username, and password.
///
/// Unknown user, wrong password and inactive account all give the same 401. A device token
/// from an earlier sign-in (body field or `device_token` cookie) keeps this device's
/// attempts in their own throttling bucket; the response carries one (field and cookie).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "INVALID_CREDENTIALS, whatever the reason", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn login(
    state: web::Data<AppState>,
    context: Context,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.into_inner();
    body.device_token = body.device_token.or_else(|| device_cookie::read(&req));
    let input: LoginInput = body.try_into()?;
    let session = state.auth.login(&context.0, input).await?;
    tracing::Span::current().record("user_id", session.user.id.get());
    Ok(signed_in(HttpResponse::Ok(), &state.auth, session))
}
