//! `DELETE /auth/me`: delete the caller's account.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_services::AccountDeletionInput;

use crate::device_cookie;
use crate::dto::DeleteAccountRequest;
use crate::error::ApiError;
use crate::extract::{Authenticated, Context};
use crate::routes::responses::PasswordCheckErrors;
use crate::state::AppState;

/// Delete the account, proven with its password.
///
/// The account, its sessions and device tokens go; the email and username become free
/// again (the id is never reused). A wrong password counts as a failed sign-in.
#[utoipa::path(delete, path = "/auth/me", tag = "account", request_body = DeleteAccountRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Account deleted"),
        PasswordCheckErrors,
    ))]
pub async fn delete_account(
    state: web::Data<AppState>,
    context: Context,
    caller: Authenticated,
    req: HttpRequest,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.into_inner();
    body.device_token = body.device_token.or_else(|| device_cookie::read(&req));
    let input = AccountDeletionInput::from(body);
    state
        .auth
        .delete_account(&context.0, &caller.0, input)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
