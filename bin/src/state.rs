//! What every handler can reach: the services and the few settings they need.

use auth_services::{AuthService, KeyService};

/// Shared application state, registered once as `web::Data<AppState>`.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Register, login, refresh, logout, me.
    pub auth: AuthService,
    /// The signing keys: the JWKS and their upkeep.
    pub keys: KeyService,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: std::sync::Arc<[ipnet::IpNet]>,
}
