//! A key set fetched from a JWKS URL and cached (the `remote` feature).

mod cache;
mod config;
mod http;

pub use cache::RemoteJwks;
pub use config::RemoteConfig;

#[cfg(test)]
mod tests;
