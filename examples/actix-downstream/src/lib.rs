//! A downstream actix-web service: `GET /orders` answers only to a valid access token of the
//! auth service, verified offline against its JWKS.
//!
//! ```
//! use auth_verifier::{Algorithm, Verifier};
//!
//! // The real service points the verifier at the JWKS URL (see `main.rs`).
//! let verifier = Verifier::hmac(Algorithm::HS256, &[7; 32])?;
//! let app = actix_web::App::new().configure(auth_example_actix::configure(verifier));
//! # Ok::<(), auth_verifier::KeyError>(())
//! ```

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{HttpResponse, HttpServer, web};
use auth_verifier::Verifier;
use auth_verifier::actix::Bearer;

/// The protected route: the caller's orders (none, this is an example).
async fn orders(Bearer(claims): Bearer) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "user": claims.sub, "orders": [] }))
}

/// Registers the verifier and the routes.
pub fn configure(verifier: Verifier) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(verifier))
            .route("/orders", web::get().to(orders));
    }
}

/// Serves the example on `listener` until stopped.
///
/// # Errors
///
/// When the listener cannot be used.
pub fn serve(listener: TcpListener, verifier: Verifier) -> std::io::Result<Server> {
    Ok(
        HttpServer::new(move || actix_web::App::new().configure(configure(verifier.clone())))
            .listen(listener)?
            .workers(1)
            .run(),
    )
}
