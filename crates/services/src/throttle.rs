//! Throttling and lockout, counted in the database so every instance enforces one limit.
//!
//! Three layers:
//! - per client address and account: a few failures in a window, then 429 with a back-off
//!   that doubles with each further attempt;
//! - per account (from any address): growing delays after some consecutive failures, and a
//!   lock after many (NIST 800-63B's ceiling is 100) that lasts a configured time (or until an
//!   administrator lifts it); once it ends, each further failure locks again, so an attacker
//!   gets one guess per lock period; a locked account answers exactly like a wrong password;
//! - per client address and operation: a budget of attempts per window, and a larger one per
//!   network (IPv4 /24, IPv6 /48), so one holder of many addresses gets one budget, not
//!   thousands.
//!
//! Attempts are counted *before* the password is checked, with one atomic upsert each, so a
//! parallel burst cannot get more guesses through than the limit. The counts an attempt took
//! are a [`Reservation`]: given back unless the password was checked (a refused, cancelled
//! or timed-out attempt leaves nothing behind). A success clears the
//! account's counters. Accounts are keyed by the identifier as typed (normalised like the
//! account look-up), so unknown and existing accounts are throttled alike.
//!
//! No key holds raw user input: identifiers and client addresses appear only as their keyed
//! hash under [`ThrottleConfig::key_secret`] (see [`ThrottleKeySecret`]).

use std::net::IpAddr;
use std::sync::Arc;

use auth_crypto::Clock;
use auth_persistence::users::CounterKeys;
use auth_persistence::{DbPool, throttles};
use auth_resilience::CircuitBreaker;
use time::{Duration, OffsetDateTime};

use unicode_normalization::UnicodeNormalization as _;

use crate::error::{AccountError, DbError, Fault, LoginError, RefreshError, RegisterError};
use crate::guard::guarded;
use crate::outcomes::{ThrottleHits, ThrottleLayer};
use crate::{LoginIdentifier, ThrottleKeySecret, UserId};

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
    /// Consecutive failures that lock an account.
    pub account_lock_after: i64,
    /// How long a lock lasts; `None` keeps it until an administrator unlocks the account.
    /// After it ends the count stays at the limit, so each further failure locks again.
    pub account_lock_duration: Option<Duration>,
    /// Logins per address in [`Self::ip_budget_window`].
    pub ip_login_budget: i64,
    /// Registrations per address in the window.
    pub ip_register_budget: i64,
    /// Refreshes per address in the window.
    pub ip_refresh_budget: i64,
    /// Logins per network (IPv4 /24, IPv6 /48) in the window.
    pub network_login_budget: i64,
    /// Registrations per network in the window.
    pub network_register_budget: i64,
    /// Refreshes per network in the window.
    pub network_refresh_budget: i64,
    /// Window of the per-address and per-network budgets.
    pub ip_budget_window: Duration,
    /// A counter of consecutive failures (of any identifier, existing account or not) is
    /// forgotten after this long without an attempt (`RATE_LIMIT_ACCOUNT_RESET_SECONDS`),
    /// unless a lock on it still lasts. The retention purge applies it.
    pub account_reset: Duration,
    /// The secret identifiers and addresses are hashed under in throttle keys. Must be the
    /// same on every replica and across restarts.
    pub key_secret: ThrottleKeySecret,
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
            account_lock_duration: Some(Duration::hours(1)),
            ip_login_budget: 300,
            ip_register_budget: 100,
            ip_refresh_budget: 1500,
            network_login_budget: 3000,
            network_register_budget: 1000,
            network_refresh_budget: 15_000,
            ip_budget_window: Duration::minutes(5),
            account_reset: Duration::days(1),
            key_secret: ThrottleKeySecret::random(),
        }
    }
}

/// The per-address budgets, one per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// Sign-in attempts.
    Login,
    /// Registrations.
    Register,
    /// Token refreshes.
    Refresh,
}

/// Why the throttle refused, or could not count, an attempt.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Over a limit; the next attempt may pass after `retry_after`.
    RateLimited(std::time::Duration),
    /// The counters could not be read or written.
    Fault(Fault),
}

impl From<DbError> for Refusal {
    fn from(err: DbError) -> Self {
        Self::Fault(err.into())
    }
}

/// `From<Refusal>` for the operations that are throttled.
macro_rules! from_refusal {
    ($($error:ty),+) => {$(
        impl From<Refusal> for $error {
            fn from(refusal: Refusal) -> Self {
                match refusal {
                    Refusal::RateLimited(retry_after) => Self::RateLimited { retry_after },
                    Refusal::Fault(fault) => Self::Fault(fault),
                }
            }
        }
    )+};
}

from_refusal!(LoginError, RegisterError, RefreshError, AccountError);

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
    /// Go on; `account_failures` counts this attempt (at or over the lock limit, this attempt
    /// holds the lock: a failure keeps it).
    Proceed { account_failures: i64 },
    /// The account is locked: answer as for a wrong password.
    Locked,
}

/// The throttling layers over the `throttles` table.
#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    config: ThrottleConfig,
    hits: ThrottleHits,
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
            hits: ThrottleHits::register(),
        }
    }

    /// Spends one attempt of `budget` for address `ip` and one of its network's (nothing
    /// without an address): refused with the time until the window ends when either is spent.
    pub(crate) async fn spend(&self, budget: Budget, ip: Option<IpAddr>) -> Result<(), Refusal> {
        let Some(ip) = ip.filter(|_| self.config.enabled) else {
            return Ok(());
        };
        let c = &self.config;
        let (address_limit, network_limit) = match budget {
            Budget::Login => (c.ip_login_budget, c.network_login_budget),
            Budget::Register => (c.ip_register_budget, c.network_register_budget),
            Budget::Refresh => (c.ip_refresh_budget, c.network_refresh_budget),
        };
        let now = self.clock.now();
        let window = self.config.ip_budget_window;
        let secret = &self.config.key_secret;
        let keys = [
            (
                ThrottleLayer::Address,
                format!("ip:{}:{}", budget.as_str(), secret.digest(&address_key(ip))),
                address_limit,
            ),
            (
                ThrottleLayer::Network,
                format!(
                    "net:{}:{}",
                    budget.as_str(),
                    secret.digest(&network_key(ip))
                ),
                network_limit,
            ),
        ];
        for (layer, key, limit) in keys {
            let counter = self.hit(&key, now, now - window).await?;
            if counter.hits > limit {
                self.hits.hit(layer);
                let scope = if layer == ThrottleLayer::Address {
                    "address"
                } else {
                    "network"
                };
                tracing::warn!(budget = budget.as_str(), scope, "address budget spent");
                return Err(rate_limited(counter.window_started_at + window - now));
            }
        }
        Ok(())
    }

    /// Counts a login attempt on `account` before its password is checked. The counts taken
    /// come back as a [`Reservation`] that gives them back unless [`Reservation::keep`] is
    /// called once the password was checked.
    pub(crate) async fn admit_login(
        &self,
        ip: Option<IpAddr>,
        account: &Account<'_>,
    ) -> Result<(Admission, Reservation), Refusal> {
        let mut reservation = Reservation::new(self);
        if !self.config.enabled {
            return Ok((
                Admission::Proceed {
                    account_failures: 0,
                },
                reservation,
            ));
        }
        let now = self.clock.now();
        if let Some(ip) = ip {
            let key = ip_account_key(account, ip, &self.config.key_secret);
            let window = self.config.ip_account_window;
            let counter = self.hit(&key, now, now - window).await?;
            if let Some(until) = counter.blocked_until.filter(|until| *until > now) {
                self.hits.hit(ThrottleLayer::AddressAccount);
                return Err(rate_limited(until - now));
            }
            let over = counter.hits - self.config.ip_account_max_failures;
            if over > 0 {
                let backoff = doubling(self.config.ip_account_backoff, over - 1)
                    .min(self.config.ip_account_max_backoff);
                self.block(&key, Some(now + backoff)).await?;
                self.hits.hit(ThrottleLayer::AddressAccount);
                tracing::warn!("login attempts from one address on one account throttled");
                return Err(rate_limited(backoff));
            }
            reservation.take(key);
        }
        let key = account.key(&self.config.key_secret);
        let counter = self.hit(&key, now, NEVER).await?;
        let mut taken = Reservation::new(self);
        taken.take(key.clone());
        let lock_after = self.config.account_lock_after;
        if self.config.account_lock_duration.is_none() && counter.hits > lock_after {
            taken.give_back().await;
            self.hits.hit(ThrottleLayer::AccountLock);
            return Ok((Admission::Locked, reservation));
        }
        let over = counter.hits - 1 - self.config.account_delay_after;
        if over >= 0 {
            // After enough failures, one attempt per delay: the attempt that claims the next
            // slot goes on, every other one (also a parallel one) waits and is not counted.
            let delay = doubling(Duration::seconds(1), over).min(self.config.account_max_delay);
            let claimed = guarded(
                &self.breaker,
                &self.pool,
                throttles::claim_slot(&self.pool, &key, now, now + delay),
            )
            .await?;
            if let Err(until) = claimed {
                taken.give_back().await;
                reservation.give_back().await;
                self.hits.hit(ThrottleLayer::AccountDelay);
                return Err(rate_limited(until - now));
            }
        }
        if let Some(duration) = self.config.account_lock_duration
            && counter.hits >= lock_after
        {
            // At the limit, the attempt that claims the lock gets one guess; the lock then
            // holds for `duration` (a success lifts it). Every other attempt meanwhile is
            // locked out and not counted.
            let lock = account.lock_key(&self.config.key_secret);
            self.hit(&lock, now, NEVER).await?;
            let claimed = guarded(
                &self.breaker,
                &self.pool,
                throttles::claim_slot(&self.pool, &lock, now, now + duration),
            )
            .await?;
            if claimed.is_err() {
                taken.give_back().await;
                self.hits.hit(ThrottleLayer::AccountLock);
                return Ok((Admission::Locked, reservation));
            }
            taken.lock = Some(lock);
        }
        reservation.absorb(taken);
        Ok((
            Admission::Proceed {
                account_failures: counter.hits,
            },
            reservation,
        ))
    }

    /// Records a failed login. Returns whether this failure (re)applied the account's lock.
    pub(crate) fn login_failed(&self, account_failures: i64) -> bool {
        let locked = self.config.enabled && account_failures >= self.config.account_lock_after;
        if locked {
            tracing::warn!("account locked after too many failed logins");
        }
        locked
    }

    /// The counters a successful login starts over: the account's, and this address's on it.
    pub(crate) fn success_keys(&self, ip: Option<IpAddr>, account: &Account<'_>) -> Vec<String> {
        if !self.config.enabled {
            return Vec::new();
        }
        let secret = &self.config.key_secret;
        let mut keys = vec![account.key(secret), account.lock_key(secret)];
        keys.extend(ip.map(|ip| ip_account_key(account, ip, secret)));
        keys
    }

    /// Every counter of user `user_id`: its lock and delays, and the per-address counters on
    /// it (what an administrator's unlock clears).
    pub(crate) fn user_keys(user_id: UserId) -> CounterKeys {
        let identity = user_identity(user_id.get());
        CounterKeys {
            exact: vec![format!("acct:{identity}"), format!("lock:{identity}")],
            prefixes: vec![
                format!("acct:{identity}|device="),
                format!("lock:{identity}|device="),
                format!("ipacct:{identity}|"),
            ],
        }
    }

    async fn hit(
        &self,
        key: &str,
        now: OffsetDateTime,
        floor: OffsetDateTime,
    ) -> Result<throttles::Counter, DbError> {
        guarded(
            &self.breaker,
            &self.pool,
            throttles::hit(&self.pool, key, now, floor),
        )
        .await
    }

    async fn block(&self, key: &str, until: Option<OffsetDateTime>) -> Result<(), DbError> {
        guarded(
            &self.breaker,
            &self.pool,
            throttles::block(&self.pool, key, until),
        )
        .await
    }
}

/// Whose attempts are counted: an existing account by its id (so its email and its username
/// share one counter), an unknown one by the identifier as typed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Account<'a> {
    /// An existing account, from a device it does not recognise: the shared, untrusted bucket.
    User(i64),
    /// An existing account, from one of its devices (a live device token): that device's own
    /// bucket, which strangers cannot fill.
    Device {
        /// The account.
        user: i64,
        /// The device's id.
        device: &'a str,
    },
    /// No account has this identifier.
    Unknown(&'a LoginIdentifier),
}

impl Account<'_> {
    /// Whose attempts these are; the per-address layer counts by this, whatever the device.
    /// An identifier is normalised as the account look-up does it (an email trimmed, NFC,
    /// lower-cased; a username lower-cased), then replaced by its keyed hash.
    fn identity(&self, secret: &ThrottleKeySecret) -> String {
        match self {
            Self::User(id) | Self::Device { user: id, .. } => user_identity(*id),
            Self::Unknown(LoginIdentifier::Email(email)) => {
                let normalized: String = email.trim().nfc().collect::<String>().to_lowercase();
                format!("email={}", secret.digest(&normalized))
            }
            Self::Unknown(LoginIdentifier::Username(name)) => {
                format!("username={}", secret.digest(&name.to_lowercase()))
            }
        }
    }

    /// The bucket of the per-account layer.
    fn key(&self, secret: &ThrottleKeySecret) -> String {
        let identity = self.identity(secret);
        match self {
            Self::Device { device, .. } => format!("acct:{identity}|device={device}"),
            _ => format!("acct:{identity}"),
        }
    }

    /// The key whose block is the timed lock of this bucket (a device's lock is its own).
    fn lock_key(&self, secret: &ThrottleKeySecret) -> String {
        self.key(secret).replacen("acct:", "lock:", 1)
    }
}

/// How an existing account is named in its keys: by its id, which is no user input.
fn user_identity(id: i64) -> String {
    format!("user={id}")
}

/// Counts a login attempt took, given back when it is dropped before [`Self::keep`]: an
/// attempt refused, cancelled (its request future dropped) or timed out before its password
/// was checked leaves no count behind.
#[derive(Debug)]
#[must_use = "dropping a reservation gives its counts back"]
pub(crate) struct Reservation {
    throttle: Throttle,
    /// Counters hit once each for this attempt.
    keys: Vec<String>,
    /// The lock this attempt claimed, lifted if the attempt does not complete.
    lock: Option<String>,
}

impl Reservation {
    fn new(throttle: &Throttle) -> Self {
        Self {
            throttle: throttle.clone(),
            keys: Vec::new(),
            lock: None,
        }
    }

    fn take(&mut self, key: String) {
        self.keys.push(key);
    }

    fn absorb(&mut self, mut other: Self) {
        self.keys.append(&mut other.keys);
        if let Some(lock) = other.lock.take() {
            self.lock = Some(lock);
        }
    }

    /// The attempt was checked: its counts stay.
    pub(crate) fn keep(mut self) {
        self.keys.clear();
        self.lock = None;
    }

    /// Gives the counts back now.
    async fn give_back(mut self) {
        let keys = std::mem::take(&mut self.keys);
        let lock = self.lock.take();
        give_back(&self.throttle, keys, lock).await;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.keys.is_empty() && self.lock.is_none() {
            return;
        }
        let (keys, lock) = (std::mem::take(&mut self.keys), self.lock.take());
        let throttle = self.throttle.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            drop(runtime.spawn(async move {
                give_back(&throttle, keys, lock).await;
            }));
        } else {
            tracing::warn!("no runtime: counts of a cancelled attempt stay");
        }
    }
}

/// Takes back one hit of each key and lifts `lock`; failures are logged (the count then
/// stays, which errs on the safe side).
async fn give_back(throttle: &Throttle, keys: Vec<String>, lock: Option<String>) {
    for key in keys {
        if let Err(err) = guarded(
            &throttle.breaker,
            &throttle.pool,
            throttles::unhit(&throttle.pool, &key),
        )
        .await
        {
            tracing::warn!(error = ?err, "could not give back a login attempt's count");
        }
    }
    if let Some(lock) = lock
        && let Err(err) = throttle.block(&lock, None).await
    {
        tracing::warn!(error = ?err, "could not lift the lock of a cancelled attempt");
    }
}

fn ip_account_key(account: &Account<'_>, ip: IpAddr, secret: &ThrottleKeySecret) -> String {
    format!(
        "ipacct:{}|{}",
        account.identity(secret),
        secret.digest(&address_key(ip))
    )
}

/// The part of an address that identifies one client: an IPv4 address, or the /64 network of
/// an IPv6 address (one subscriber usually holds a whole /64, so single addresses would let
/// one client count as billions).
pub(crate) fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The network an address belongs to, for the per-network budgets: its IPv4 /24, or its IPv6
/// /48 (a site's usual allocation: 65,536 /64s, which would otherwise be as many budgets).
pub(crate) fn network_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// `base` doubled `times` times, without overflow.
fn doubling(base: Duration, times: i64) -> Duration {
    let factor = 2_i32.saturating_pow(u32::try_from(times.clamp(0, 30)).unwrap_or(30));
    base.saturating_mul(factor)
}

/// A refusal asking to wait `wait` (the transport rounds it as its header needs).
fn rate_limited(wait: Duration) -> Refusal {
    Refusal::RateLimited(wait.try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use secrecy::SecretString;

    use super::{
        Account, LoginIdentifier, Throttle, ThrottleKeySecret, UserId, address_key, doubling,
        ip_account_key, network_key,
    };

    fn secret() -> ThrottleKeySecret {
        ThrottleKeySecret::new(SecretString::from("test throttle secret"))
    }

    #[test]
    fn unknown_accounts_are_keyed_by_a_keyed_hash_and_known_ones_by_id() {
        let s = secret();
        let email = LoginIdentifier::Email(" Ann@Example.com".into());
        let name = LoginIdentifier::Username("ANN".into());
        let email_key = Account::Unknown(&email).key(&s);
        assert_eq!(
            email_key,
            format!("acct:email={}", s.digest("ann@example.com"))
        );
        assert!(!email_key.to_lowercase().contains("ann"), "{email_key}");
        assert!(!email_key.contains("example"), "{email_key}");
        assert_eq!(
            Account::Unknown(&name).key(&s),
            format!("acct:username={}", s.digest("ann"))
        );
        assert_eq!(Account::User(42).key(&s), "acct:user=42");
        let phone = Account::Device {
            user: 42,
            device: "d-1",
        };
        assert_eq!(
            phone.key(&s),
            "acct:user=42|device=d-1",
            "a device has its own bucket"
        );
        let ip = "203.0.113.9".parse().unwrap();
        let key = ip_account_key(&phone, ip, &s);
        assert_eq!(key, format!("ipacct:user=42|{}", s.digest("203.0.113.9")));
        assert!(!key.contains("203.0"), "no address in the key");
        let unlock = Throttle::user_keys(UserId::new(42));
        assert!(
            unlock.prefixes.iter().any(|p| key.starts_with(p.as_str())),
            "an unlock still finds the per-address counters"
        );
        assert!(unlock.exact.contains(&Account::User(42).key(&s)));
        assert!(unlock.exact.contains(&Account::User(42).lock_key(&s)));
    }

    #[test]
    fn identifiers_are_normalised_like_the_account_look_up_before_hashing() {
        let s = secret();
        let key = |raw: &str| Account::Unknown(&LoginIdentifier::Email(raw.into())).key(&s);
        assert_eq!(key("ann@example.com"), key("  ANN@Example.COM "));
        // "é" composed (U+00E9) and decomposed (e + U+0301) are one address.
        assert_eq!(key("jos\u{e9}@example.com"), key("jose\u{301}@example.com"));
        assert_eq!(key("JOS\u{c9}@example.com"), key("jos\u{e9}@example.com"));
        assert_ne!(key("ann@example.com"), key("bob@example.com"));
        let other = ThrottleKeySecret::new(SecretString::from("another secret"));
        assert_ne!(
            key("ann@example.com"),
            Account::Unknown(&LoginIdentifier::Email("ann@example.com".into())).key(&other),
            "another secret, another key"
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_ne!(a, address_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(address_key("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3");
    }

    #[test]
    fn networks_are_the_ipv4_24_and_the_ipv6_48() {
        let a = network_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = network_key("2001:db8:1:ffff::9".parse().unwrap());
        assert_eq!(a, b, "two /64s of one /48");
        assert_eq!(a, "2001:db8:1::/48");
        assert_ne!(a, network_key("2001:db8:2::1".parse().unwrap()));
        assert_eq!(
            network_key("203.0.113.9".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_key("::ffff:203.0.113.200".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_ne!(
            network_key("203.0.113.9".parse().unwrap()),
            network_key("203.0.114.9".parse().unwrap())
        );
    }

    #[test]
    fn back_off_doubles_and_never_overflows() {
        assert_eq!(doubling(Duration::minutes(1), 0), Duration::minutes(1));
        assert_eq!(doubling(Duration::minutes(1), 3), Duration::minutes(8));
        assert!(doubling(Duration::minutes(1), 1_000) > Duration::days(365));
    }
}
