//! What every handler can reach: the services and the few settings they need.

use auth_persistence::DbPool;
use auth_services::AuthService;

/// Shared application state, registered once as `web::Data<AppState>`.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Register, login, refresh, logout, me.
    pub auth: AuthService,
    /// The database pool, for readiness.
    pub pool: DbPool,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: std::sync::Arc<[ipnet::IpNet]>,
}
