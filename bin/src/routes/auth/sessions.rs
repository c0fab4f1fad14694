//! `GET /auth/sessions`: the caller's live sessions.

use actix_web::{HttpResponse, web};

use crate::dto::{SessionResponse, SessionsResponse};
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::routes::no_store;
use crate::routes::responses::BearerErrors;
use crate::state::AppState;

/// The caller's live sessions, newest first.
///
/// Each sign-in (register or login) opens a session; refreshes keep it. Revoked, ended and
/// idle sessions are not listed. `current` marks the session of the presented token.
#[utoipa::path(get, path = "/auth/sessions", tag = "account",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The live sessions, newest first", body = SessionsResponse),
        BearerErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.auth.sessions(&caller.0).await?;
    let sessions = sessions.into_iter().map(SessionResponse::from).collect();
    Ok(no_store(HttpResponse::Ok()).json(SessionsResponse { sessions }))
}
