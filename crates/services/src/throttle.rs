//! Throttling and lockout, counted in the database so every instance enforces one limit.
//!
//! Three layers:
//! - per client address and account: a few failures in a window, then 429 with a back-off
//!   that doubles with each further attempt;
//! - per account (from any address): growing delays after some consecutive failures, and a
//!   lock after many (NIST 800-63B's ceiling is 100) that only an administrator lifts; a
//!   locked account answers exactly like a wrong password;
//! - per client address and route: a budget of attempts per window.
//!
//! Attempts are counted *before* the password is checked, with one atomic upsert each, so a
//! parallel burst cannot get more guesses through than the limit. A success clears the
//! account's counters. Accounts are keyed by the identifier as typed (normalised), so unknown
//! and existing accounts are throttled alike.

use std::net::IpAddr;
use std::sync::Arc;

use auth_crypto::Clock;
use auth_errors::AppError;
use auth_persistence::{DbPool, throttles};
use auth_resilience::CircuitBreaker;
use time::{Duration, OffsetDateTime};

use crate::LoginIdentifier;
use crate::guard::guarded;

/// Limits of the three layers.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Throttling on or off (`RATE_LIMIT_ENABLED`).
    pub enabled: bool,
    /// Failed logins allowed per address and account in [`Self::ip_account_window`].
    pub ip_account_max_failures: i64,
    /// Window of the per-address-and-account layer.
    pub ip_account_window: Duration,
    /// First back-off once that layer trips; it doubles with each further attempt.
    pub ip_account_backoff: Duration,
    /// Longest back-off of that layer.
    pub ip_account_max_backoff: Duration,
    /// Consecutive failures of an account before delays start.
    pub account_delay_after: i64,
    /// Longest delay between attempts on one account.
    pub account_max_delay: Duration,
    /// Consecutive failures that lock an account until an administrator unlocks it.
    pub account_lock_after: i64,
    /// Logins per address in [`Self::ip_budget_window`].
    pub ip_login_budget: i64,
    /// Registrations per address in the window.
    pub ip_register_budget: i64,
    /// Refreshes per address in the window.
    pub ip_refresh_budget: i64,
    /// Window of the per-address budgets.
    pub ip_budget_window: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ip_account_max_failures: 5,
            ip_account_window: Duration::minutes(15),
            ip_account_backoff: Duration::minutes(1),
            ip_account_max_backoff: Duration::hours(24),
            account_delay_after: 10,
            account_max_delay: Duration::minutes(15),
            account_lock_after: 100,
            ip_login_budget: 300,
            ip_register_budget: 100,
            ip_refresh_budget: 1500,
            ip_budget_window: Duration::minutes(5),
        }
    }
}

/// The per-address budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `POST /auth/login`.
    Login,
    /// `POST /auth/register`.
    Register,
    /// `POST /auth/refresh`.
    Refresh,
}

impl Budget {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::Refresh => "refresh",
        }
    }
}

/// Whether a login attempt may check the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Go on; `account_failures` counts this attempt.
    Proceed { account_failures: i64 },
    /// The account is locked: answer as for a wrong password.
    Locked,
}

/// The throttling layers over the `throttles` table.
#[derive(Debug, Clone)]
pub struct Throttle {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    config: ThrottleConfig,
}

/// A time far enough in the past that a counter using it as its window floor never restarts.
const NEVER: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

impl Throttle {
    pub(crate) fn new(
        pool: DbPool,
        breaker: Arc<CircuitBreaker>,
        clock: Arc<dyn Clock>,
        config: ThrottleConfig,
    ) -> Self {
        Self {
            pool,
            breaker,
            clock,
            config,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    /// Spends one attempt of `budget` for address `ip`.
    ///
    /// # Errors
    ///
    /// `RATE_LIMITED` with the time until the window ends when the budget is spent;
    /// `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database failure.
    pub async fn spend(&self, budget: Budget, ip: IpAddr) -> Result<(), AppError> {
        if !self.config.enabled {
            return Ok(());
        }
        let limit = match budget {
            Budget::Login => self.config.ip_login_budget,
            Budget::Register => self.config.ip_register_budget,
            Budget::Refresh => self.config.ip_refresh_budget,
        };
        let now = self.clock.now();
        let window = self.config.ip_budget_window;
        let key = format!("ip:{}:{ip}", budget.as_str());
        let counter = self.hit(&key, now, now - window).await?;
        if counter.hits > limit {
            tracing::warn!(budget = budget.as_str(), "address budget spent");
            return Err(rate_limited(counter.window_started_at + window - now));
        }
        Ok(())
    }

    /// Counts a login attempt before its password is checked.
    pub(crate) async fn admit_login(
        &self,
        ip: Option<IpAddr>,
        identifier: &LoginIdentifier,
    ) -> Result<Admission, AppError> {
        if !self.config.enabled {
            return Ok(Admission::Proceed {
                account_failures: 0,
            });
        }
        let now = self.clock.now();
        if let Some(ip) = ip {
            let key = ip_account_key(identifier, ip);
            let window = self.config.ip_account_window;
            let counter = self.hit(&key, now, now - window).await?;
            if let Some(until) = counter.blocked_until.filter(|until| *until > now) {
                return Err(rate_limited(until - now));
            }
            let over = counter.hits - self.config.ip_account_max_failures;
            if over > 0 {
                let backoff = doubling(self.config.ip_account_backoff, over - 1)
                    .min(self.config.ip_account_max_backoff);
                self.block(&key, Some(now + backoff)).await?;
                tracing::warn!("login attempts from one address on one account throttled");
                return Err(rate_limited(backoff));
            }
        }
        let counter = self.hit(&account_key(identifier), now, NEVER).await?;
        if counter.hits > self.config.account_lock_after {
            return Ok(Admission::Locked);
        }
        if let Some(until) = counter.blocked_until.filter(|until| *until > now) {
            return Err(rate_limited(until - now));
        }
        Ok(Admission::Proceed {
            account_failures: counter.hits,
        })
    }

    /// Records a failed login: delays the account's next attempt once failures accumulate.
    /// Returns whether this failure locked the account.
    pub(crate) async fn login_failed(
        &self,
        identifier: &LoginIdentifier,
        account_failures: i64,
    ) -> Result<bool, AppError> {
        if !self.config.enabled {
            return Ok(false);
        }
        let over = account_failures - self.config.account_delay_after;
        if over >= 0 {
            let delay = doubling(Duration::seconds(1), over).min(self.config.account_max_delay);
            self.block(&account_key(identifier), Some(self.clock.now() + delay))
                .await?;
        }
        let locked = account_failures == self.config.account_lock_after;
        if locked {
            tracing::warn!("account locked after too many failed logins");
        }
        Ok(locked)
    }

    /// Records a successful login: the account's counters start over.
    pub(crate) async fn login_succeeded(
        &self,
        ip: Option<IpAddr>,
        identifier: &LoginIdentifier,
    ) -> Result<(), AppError> {
        if !self.config.enabled {
            return Ok(());
        }
        guarded(
            &self.breaker,
            throttles::clear(&self.pool, &account_key(identifier)),
        )
        .await?;
        if let Some(ip) = ip {
            guarded(
                &self.breaker,
                throttles::clear(&self.pool, &ip_account_key(identifier, ip)),
            )
            .await?;
        }
        Ok(())
    }

    /// Lifts every lock, delay and per-address counter of the account known by these
    /// identifiers (its email and username). Returns how many counters were cleared.
    ///
    /// # Errors
    ///
    /// `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database failure.
    pub async fn unlock(&self, identifiers: &[LoginIdentifier]) -> Result<usize, AppError> {
        let mut cleared = 0;
        for identifier in identifiers {
            let account = account_key(identifier);
            if guarded(&self.breaker, throttles::clear(&self.pool, &account)).await? {
                cleared += 1;
            }
            let prefix = format!("ipacct:{}|", identity(identifier));
            cleared += guarded(&self.breaker, throttles::clear_prefix(&self.pool, &prefix)).await?;
        }
        Ok(cleared)
    }

    async fn hit(
        &self,
        key: &str,
        now: OffsetDateTime,
        floor: OffsetDateTime,
    ) -> Result<throttles::Counter, AppError> {
        guarded(&self.breaker, throttles::hit(&self.pool, key, now, floor)).await
    }

    async fn block(&self, key: &str, until: Option<OffsetDateTime>) -> Result<(), AppError> {
        guarded(&self.breaker, throttles::block(&self.pool, key, until)).await
    }
}

/// The identifier as counted: kind and lower-cased value.
fn identity(identifier: &LoginIdentifier) -> String {
    match identifier {
        LoginIdentifier::Email(email) => format!("email={}", email.trim().to_lowercase()),
        LoginIdentifier::Username(name) => format!("username={}", name.to_lowercase()),
    }
}

fn account_key(identifier: &LoginIdentifier) -> String {
    format!("acct:{}", identity(identifier))
}

fn ip_account_key(identifier: &LoginIdentifier, ip: IpAddr) -> String {
    format!("ipacct:{}|{ip}", identity(identifier))
}

/// `base` doubled `times` times, without overflow.
fn doubling(base: Duration, times: i64) -> Duration {
    let factor = 2_i32.saturating_pow(u32::try_from(times.clamp(0, 30)).unwrap_or(30));
    base.saturating_mul(factor)
}

fn rate_limited(wait: Duration) -> AppError {
    let wait = std::time::Duration::try_from(wait).unwrap_or(std::time::Duration::from_secs(1));
    AppError::RateLimited {
        retry_after: wait.max(std::time::Duration::from_secs(1)),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::{LoginIdentifier, account_key, doubling, ip_account_key};

    #[test]
    fn keys_ignore_case_and_separate_kinds() {
        let email = LoginIdentifier::Email(" Ann@Example.com".into());
        let name = LoginIdentifier::Username("ANN".into());
        assert_eq!(account_key(&email), "acct:email=ann@example.com");
        assert_eq!(account_key(&name), "acct:username=ann");
        assert_eq!(
            ip_account_key(&name, "203.0.113.9".parse().unwrap()),
            "ipacct:username=ann|203.0.113.9"
        );
    }

    #[test]
    fn back_off_doubles_and_never_overflows() {
        assert_eq!(doubling(Duration::minutes(1), 0), Duration::minutes(1));
        assert_eq!(doubling(Duration::minutes(1), 3), Duration::minutes(8));
        assert!(doubling(Duration::minutes(1), 1_000) > Duration::days(365));
    }
}
