//! `GET /.well-known/jwks.json`: the public keys that verify the service's tokens.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// A JWK set (RFC 7517): the published verification keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSet {
    /// The keys; none when tokens are signed with an HMAC secret.
    pub keys: Vec<Jwk>,
}

/// A public verification key (RFC 7517, 8037): Ed25519 (`OKP`) or P-256 (`EC`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    /// Key type: `OKP` (Ed25519) or `EC` (P-256).
    #[schema(example = "OKP")]
    pub kty: String,
    /// Curve: `Ed25519` or `P-256`.
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// Public key (base64url); the x coordinate for `EC`.
    pub x: String,
    /// The y coordinate (base64url), `EC` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Key id, named by the `kid` header of the tokens it verifies.
    #[schema(example = "20240115-3fa9c1d2e4")]
    pub kid: String,
    /// The only algorithm the key verifies: `EdDSA` or `ES256`.
    #[schema(example = "EdDSA")]
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub key_use: String,
}

/// The published public keys. Keys appear here before they sign and stay until every token
/// they signed has expired, so a verifier that refreshes within `max-age` never misses one.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "The JWK set, cacheable for `max-age` seconds \
        (`JWKS_MAX_AGE_SECONDS`); empty with an HMAC algorithm", body = JwkSet,
        headers(("Cache-Control" = String, description = "public, max-age=…")))))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let max_age = state.keys.jwks_max_age().whole_seconds();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .content_type("application/json")
        .body(state.keys.jwks())
}
