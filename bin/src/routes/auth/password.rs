//! `POST /auth/password`: change the caller's password.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::device_cookie;
use crate::dto::ChangePasswordRequest;
use crate::error::ApiError;
use crate::extract::{Authenticated, Context};
use crate::routes::responses::PasswordCheckErrors;
use crate::state::AppState;

/// Change the password, proven with the current one.
///
/// The new password follows the registration rules and differs from the current one. A
/// wrong current password counts as a failed sign-in (same throttling and lockout). On
/// success every *other* session of the account is revoked (their access tokens stop
/// working at once), and every device token except this device's.
#[utoipa::path(post, path = "/auth/password", tag = "account", request_body = ChangePasswordRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Password changed; the other sessions are revoked"),
        PasswordCheckErrors,
    ))]
pub async fn change_password(
    state: web::Data<AppState>,
    context: Context,
    caller: Authenticated,
    req: HttpRequest,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.into_inner();
    body.device_token = body.device_token.or_else(|| device_cookie::read(&req));
    let input = body.into_input(state.auth.password_min_length())?;
    state
        .auth
        .change_password(&context.0, &caller.0, input)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
