//! `build_app`: the Actix application, shared by the server and the in-process tests.

use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use tracing_actix_web::TracingLogger;

use crate::extract::json_config;
use crate::middleware::access_log::access_log;
use crate::middleware::content_encoding::content_encoding;
use crate::middleware::envelope::envelope;
use crate::middleware::request_id::{RequestIdHeader, request_id};
use crate::middleware::root_span::AppRootSpan;
use crate::middleware::security_headers::security_headers;
use crate::middleware::timeout::{RequestTimeout, timeout};
use crate::routes::{self, ApiDocument};
use crate::state::AppState;

/// The HTTP-level settings of the app.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The API document served at `/openapi.json`.
    pub api: ApiDocument,
    /// Header carrying request ids.
    pub request_id_header: HeaderName,
    /// Origins allowed to call the API from a browser, with credentials.
    pub cors_origins: Vec<String>,
    /// Largest JSON body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest the app may work on one request before answering 503.
    pub request_timeout: Duration,
}

/// Builds the application: routes, extractor rules and the middleware stack.
///
/// Outermost first: request id → security headers → root span → access log → error envelope
/// (+ panic guard) → request timeout → CORS → content encoding → routes. The security headers sit outside the
/// envelope so they reach every response, enveloped failures included; the timeout sits inside
/// it so a timed-out request still leaves in the envelope. Encoded request bodies are refused
/// inside CORS, so a browser can read the 415.
pub fn build_app(
    state: AppState,
    config: HttpConfig,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&config);
    App::new()
        .app_data(web::Data::new(state.auth.clone()))
        .app_data(web::Data::new(state))
        .app_data(json_config(config.max_body_bytes))
        .configure(routes::configure(&config.api))
        .app_data(RequestIdHeader(config.request_id_header))
        .app_data(RequestTimeout(config.request_timeout))
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(content_encoding))
        .wrap(cors)
        .wrap(from_fn(timeout))
        .wrap(from_fn(envelope))
        .wrap(from_fn(access_log))
        .wrap(TracingLogger::<AppRootSpan>::new())
        .wrap(from_fn(security_headers))
        .wrap(from_fn(request_id))
}

fn cors(config: &HttpConfig) -> Cors {
    let request_id = config.request_id_header.clone();
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            request_id.clone(),
        ])
        .expose_headers([request_id, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .supports_credentials()
        .max_age(600);
    for origin in &config.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
