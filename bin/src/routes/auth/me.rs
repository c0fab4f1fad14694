//! `GET /auth/me`: the signed-in user.

use actix_web::{HttpResponse, web};

use crate::dto::UserResponse;
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::routes::no_store;
use crate::routes::responses::BearerErrors;
use crate::state::AppState;

/// The user of the bearer access token.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = UserResponse),
        BearerErrors,
    ))]
pub async fn me(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let profile = state.auth.profile(&caller.0);
    Ok(no_store(HttpResponse::Ok()).json(UserResponse::from(profile)))
}
