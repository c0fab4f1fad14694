//! Runs the actix-web example: `AUTH_JWKS_URL` (default the auth service on port 8000) and
//! `PORT` (default 8081).

use std::net::TcpListener;

use auth_verifier::{RemoteJwks, Verifier};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("AUTH_JWKS_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8000/.well-known/jwks.json".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8081".to_owned());
    let jwks = RemoteJwks::new(&url).map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;
    auth_example_actix::serve(listener, Verifier::remote(jwks))?.await
}
