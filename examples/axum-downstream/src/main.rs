//! Runs the axum example: `AUTH_JWKS_URL` (default the auth service on port 8000) and `PORT`
//! (default 8082).

use auth_verifier::{RemoteJwks, Verifier};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("AUTH_JWKS_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8000/.well-known/jwks.json".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8082".to_owned());
    let jwks = RemoteJwks::new(&url).map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    auth_example_axum::serve(listener, Verifier::remote(jwks)).await
}
