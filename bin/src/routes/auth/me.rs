//! `GET /auth/me`: the signed-in user.

use actix_web::HttpResponse;

use crate::dto::UserResponse;
use crate::extract::Authenticated;
use crate::routes::no_store;
use crate::routes::responses::BearerErrors;

/// The user of the bearer access token.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = UserResponse),
        BearerErrors,
    ))]
pub async fn me(Authenticated(caller): Authenticated) -> HttpResponse {
    // The extractor read the user with the session: no further query.
    no_store(HttpResponse::Ok()).json(UserResponse::from(caller.user))
}
