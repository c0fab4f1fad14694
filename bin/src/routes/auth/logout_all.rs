//! `POST /auth/logout-all`: sign out of every session.

use actix_web::{HttpResponse, web};

use crate::error::ApiError;
use crate::extract::{Authenticated, Context};
use crate::routes::responses::BearerErrors;
use crate::state::AppState;

/// Sign out everywhere: every session of the account, the current one included, is revoked.
#[utoipa::path(post, path = "/auth/logout-all", tag = "account",
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Every session revoked"),
        BearerErrors,
    ))]
pub async fn logout_all(
    state: web::Data<AppState>,
    context: Context,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let revoked = state.auth.logout_all(&context.0, &caller.0).await?;
    tracing::info!(sessions_revoked = revoked, "logout everywhere");
    Ok(HttpResponse::NoContent().finish())
}
