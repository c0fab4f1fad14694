//! Mounts every route in one place, so this file reads like the API table.
#![expect(
    clippy::missing_errors_doc,
    reason = "handlers document their errors as OpenAPI responses, which the docs render"
)]

pub mod auth;
pub mod docs;
pub mod health;
pub mod jwks;
pub mod responses;
pub mod root;

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use utoipa::OpenApi as _;
use utoipa_swagger_ui::SwaggerUi;

use crate::openapi::ApiDoc;

/// Marks a response that carries tokens or personal data as not cacheable.
/// The answer to a sign-in (register, login): the tokens, uncacheable, and the device token
/// also as a cookie.
pub(crate) fn signed_in(
    response: HttpResponseBuilder,
    auth: &auth_services::AuthService,
    session: auth_services::AuthSession,
) -> HttpResponse {
    let mut response = no_store(response);
    if let Some(token) = &session.device_token {
        crate::device_cookie::set(&mut response, token, auth.device_token_ttl());
    }
    response.json(crate::dto::TokenResponse::from(session))
}

pub(crate) fn no_store(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    response
}

/// The API document with the configured title, description and version.
#[derive(Debug, Clone)]
pub struct ApiInfo {
    /// `API_TITLE`.
    pub title: String,
    /// `API_DESCRIPTION`.
    pub description: String,
    /// `API_VERSION`.
    pub version: String,
}

/// The API document as JSON, made once at start and shared by every worker: the document's
/// tree (about 0.7 MiB) is not kept, only its serialised form, which is what every request for
/// it is answered with anyway.
#[derive(Clone)]
pub struct ApiDocument(web::Bytes);

impl std::fmt::Debug for ApiDocument {
    /// The size, not the document: it is tens of kilobytes of JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiDocument")
            .field("json_bytes", &self.0.len())
            .finish()
    }
}

impl ApiDocument {
    /// The document with the configured title, description and version.
    ///
    /// # Panics
    ///
    /// Never in practice: a document whose maps have string keys only always serialises.
    pub fn new(info: &ApiInfo) -> Self {
        let mut document = ApiDoc::openapi();
        document.info.title.clone_from(&info.title);
        document.info.description = Some(info.description.clone());
        document.info.version.clone_from(&info.version);
        #[expect(
            clippy::expect_used,
            reason = "an OpenAPI document has string keys only, so it always serialises"
        )]
        let json = serde_json::to_vec(&document).expect("the OpenAPI document serialises");
        Self(json.into())
    }
}

/// Registers every route.
pub fn configure(document: &ApiDocument) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let document = web::Data::new(document.clone());
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(web::resource("/").route(web::get().to(root::root)))
            .service(web::resource("/health").route(web::get().to(health::health)))
            .service(web::resource("/health/ready").route(web::get().to(health::ready)))
            .service(web::resource("/.well-known/jwks.json").route(web::get().to(jwks::jwks)))
            .service(
                web::scope("/auth")
                    .service(
                        web::resource("/register").route(web::post().to(auth::register::register)),
                    )
                    .service(web::resource("/login").route(web::post().to(auth::login::login)))
                    .service(
                        web::resource("/refresh").route(web::post().to(auth::refresh::refresh)),
                    )
                    .service(web::resource("/logout").route(web::post().to(auth::logout::logout)))
                    .service(
                        web::resource("/me")
                            .route(web::get().to(auth::me::me))
                            .route(web::delete().to(auth::delete_account::delete_account)),
                    )
                    .service(
                        web::resource("/password")
                            .route(web::post().to(auth::password::change_password)),
                    )
                    .service(web::resource("/sessions").route(web::get().to(auth::sessions::list)))
                    .service(
                        web::resource("/sessions/{id}")
                            .route(web::delete().to(auth::revoke_session::revoke)),
                    )
                    .service(
                        web::resource("/logout-all")
                            .route(web::post().to(auth::logout_all::logout_all)),
                    ),
            )
            .service(web::resource("/docs").route(web::get().to(docs::docs_redirect)))
            .service(
                web::resource("/openapi.json")
                    .app_data(document)
                    .route(web::get().to(docs::openapi_json))
                    .default_service(web::to(docs::get_only)),
            )
            .service(
                // No validator: Swagger UI would send the document's URL to validator.swagger.io.
                SwaggerUi::new("/docs/{_:.*}").config(
                    utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"),
                ),
            )
            // Swagger UI's routes match GET only; other methods land here rather than on 404.
            .service(web::resource("/docs/{_:.*}").default_service(web::to(docs::get_only)))
            .service(web::resource("/redoc").route(web::get().to(docs::redoc)))
            .service(
                web::resource("/redoc/redoc.standalone.js").route(web::get().to(docs::redoc_js)),
            )
            .service(web::resource("/redoc/LICENSE").route(web::get().to(docs::redoc_license)));
    }
}

/// The default service: no route matched.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().finish()
}
