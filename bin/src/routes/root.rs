//! `GET /`: a greeting that says which API this is.

use actix_web::HttpResponse;

use crate::dto::RootResponse;

/// Names the API.
#[utoipa::path(get, path = "/", tag = "health",
    responses((status = 200, description = "The API's name", body = RootResponse)))]
pub async fn root() -> HttpResponse {
    HttpResponse::Ok().json(RootResponse {
        message: "Auth Service API".to_owned(),
    })
}
