//! `DELETE /auth/sessions/{id}`: end one of the caller's sessions.

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;

use crate::error::ApiError;
use crate::extract::{Authenticated, Context};
use crate::routes::responses::BearerErrors;
use crate::state::AppState;

/// End one of the caller's live sessions; the current one may be ended too.
///
/// Its refresh token and access tokens stop working at once. An id that is not one of the
/// caller's live sessions (unknown, already ended, or another user's) is 404.
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "The session's id, from `GET /auth/sessions`", format = "uuid")),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Session revoked"),
        (status = 404, description = "NOT_FOUND: not one of the caller's live sessions", body = ErrorBody),
        BearerErrors,
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    context: Context,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .auth
        .revoke_session(&context.0, &caller.0, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
