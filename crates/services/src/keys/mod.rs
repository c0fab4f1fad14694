//! Signing keys of the asymmetric algorithms: their lifecycle, reloading, and the operator's
//! commands.

mod lifecycle;
mod service;

pub use service::{KeyConfig, KeyInfo, KeyService, KeysError};
