//! A downstream axum service: `GET /orders` answers only to a valid access token of the auth
//! service, verified offline against its JWKS.
//!
//! ```
//! use auth_verifier::{Algorithm, Verifier};
//!
//! // The real service points the verifier at the JWKS URL (see `main.rs`).
//! let verifier = Verifier::hmac(Algorithm::HS256, &[7; 32])?;
//! let app: axum::Router = auth_example_axum::router(verifier);
//! # Ok::<(), auth_verifier::KeyError>(())
//! ```

use auth_verifier::Verifier;
use auth_verifier::axum::Bearer;
use axum::routing::get;
use axum::{Json, Router};

/// The protected route: the caller's orders (none, this is an example).
async fn orders(Bearer(claims): Bearer) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user": claims.sub, "orders": [] }))
}

/// The example's routes, verifying tokens with `verifier`.
pub fn router(verifier: Verifier) -> Router {
    Router::new()
        .route("/orders", get(orders))
        .with_state(verifier)
}

/// Serves the example on `listener` until the task is dropped.
///
/// # Errors
///
/// When the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, verifier: Verifier) -> std::io::Result<()> {
    axum::serve(listener, router(verifier)).await
}
