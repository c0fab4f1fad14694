//! `RetentionService`: deletes what the service no longer needs, on a schedule or on demand.
//!
//! What goes, and why it is safe:
//! - **sessions** that ended long enough ago: a session's `expires_at` is set at sign-in and
//!   never moves; every refresh token of it expires then, and every access token at most an
//!   access lifetime later. Once `expires_at` is further back than the longest token lifetime
//!   (plus a margin for clock leeway), no token of the session can be presented any more, so
//!   neither reuse detection nor the refresh grace window has anything left to check, whether
//!   the session was revoked, went idle or was used to its end. A session revoked or left idle
//!   stays until then.
//! - **device tokens** past their expiry: they are no longer recognised anyway.
//! - **throttle counters** without an attempt for [`ThrottleConfig::account_reset`]
//!   (longer than any window), unless a block on them still lasts. One rule for every key,
//!   so whether a counter expires says nothing about whether its account exists.
//! - **audit events** older than the retention period, when one is set. Nothing else ever
//!   deletes or changes them.
//!
//! [`ThrottleConfig::account_reset`]: crate::ThrottleConfig::account_reset

use std::sync::Arc;

use auth_crypto::Clock;
use auth_persistence::DbPool;
use auth_persistence::retention::{self, Cutoffs};
use auth_resilience::CircuitBreaker;
use time::Duration;

use crate::Fault;
use crate::guard::guarded_stepwise;

pub use auth_persistence::retention::Purged;

/// Rows deleted per statement by default.
const DEFAULT_BATCH: usize = 1000;

/// Margin past a token's expiry before its session row goes: covers the token verifier's
/// leeway and clock differences between replicas.
const EXPIRY_MARGIN: Duration = Duration::minutes(5);

/// What the purge keeps, and how it deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionConfig {
    /// The longest a token lives (the larger of the access and refresh lifetimes).
    pub token_lifetime: Duration,
    /// Throttle counters without an attempt for this long go
    /// (`RATE_LIMIT_ACCOUNT_RESET_SECONDS`).
    pub counter_reset: Duration,
    /// Audit events older than this go; `None` keeps them forever (`AUDIT_RETENTION_DAYS=0`).
    pub audit_retention: Option<Duration>,
    /// Rows deleted per statement.
    pub batch_size: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            token_lifetime: Duration::days(7),
            counter_reset: Duration::days(1),
            audit_retention: Some(Duration::days(365)),
            batch_size: DEFAULT_BATCH,
        }
    }
}

/// Deletes expired rows. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RetentionService {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    config: RetentionConfig,
}

impl RetentionService {
    /// A service over `pool`, its calls guarded by `breaker`.
    pub fn new(
        pool: DbPool,
        breaker: Arc<CircuitBreaker>,
        clock: Arc<dyn Clock>,
        config: RetentionConfig,
    ) -> Self {
        Self {
            pool,
            breaker,
            clock,
            config,
        }
    }

    /// Deletes everything past its time, in batches. Returns `None` when another replica is
    /// purging right now (PostgreSQL): this round is skipped.
    ///
    /// # Errors
    ///
    /// [`Fault`] when the database fails; batches already deleted stay deleted.
    pub async fn purge(&self) -> Result<Option<Purged>, Fault> {
        let now = self.clock.now();
        let c = &self.config;
        let cutoffs = Cutoffs {
            sessions_ended_before: now - c.token_lifetime - EXPIRY_MARGIN,
            devices_expired_before: now,
            throttles_hit_before: now - c.counter_reset,
            now,
            audit_before: c.audit_retention.map(|keep| now - keep),
        };
        let purged = guarded_stepwise(
            &self.breaker,
            retention::purge(&self.pool, &cutoffs, c.batch_size),
        )
        .await?;
        Ok(purged)
    }
}
