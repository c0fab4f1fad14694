//! Reading [`Settings`] from the environment, one variable at a time, each error naming its
//! variable.

use std::ops::RangeInclusive;
use std::time::Duration;

use auth_crypto::JwtAlgorithm;
use auth_persistence::redact_url;
use auth_services::HashingLimits;
use secrecy::SecretString;

use super::parse::{self, int_in};
use super::{ConfigError, Settings};

/// The shortest accepted `JWT_SECRET_KEY` for any algorithm, in bytes (256 bits).
pub(super) const MIN_SECRET_BYTES: usize = 32;

/// The shortest key for `algorithm`, in bytes: its hash size, as RFC 7518 §3.2 asks (32 for
/// HS256, 48 for HS384, 64 for HS512).
pub(super) fn min_secret_bytes(algorithm: JwtAlgorithm) -> usize {
    algorithm
        .min_secret_bytes()
        .unwrap_or(MIN_SECRET_BYTES)
        .max(MIN_SECRET_BYTES)
}

impl Settings {
    /// Reads the settings from the process environment (`main` loads `.env` into it first).
    ///
    /// # Errors
    ///
    /// The first variable with a bad value, as a one-line [`ConfigError`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `get`, which returns a variable's value or `None` when it is
    /// unset. Tests pass a map here instead of touching the process environment.
    ///
    /// An empty (or blank) value counts as unset, so the default applies. Values are trimmed,
    /// except `JWT_SECRET_KEY`, which is used exactly as given.
    ///
    /// ```
    /// use auth_service::settings::Settings;
    ///
    /// let settings = Settings::from_lookup(|key| (key == "PORT").then(|| "9000".to_owned()))?;
    /// assert_eq!(settings.port, 9000);
    /// assert_eq!(settings.database.url(), "sqlite://auth.db");
    ///
    /// let err = Settings::from_lookup(|key| (key == "PORT").then(|| "abc".to_owned()))
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), r#"invalid PORT="abc": expected an integer from 0 to 65535"#);
    /// # Ok::<(), auth_service::settings::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first variable with a bad value, as a one-line [`ConfigError`].
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(get);
        let mut settings = Self::defaults();
        load_database(&env, &mut settings)?;
        load_tokens(&env, &mut settings)?;
        load_hashing(&env, &mut settings)?;
        load_server(&env, &mut settings)?;
        load_docs(&env, &mut settings);
        load_retention(&env, &mut settings)?;
        load_metrics(&env, &mut settings)?;
        check_timeout_below_grace(&settings)?;
        Ok(settings)
    }
}

/// A refresh whose answer was lost after the rotation committed can be retried only inside
/// the reuse grace, and the client may learn of the loss only when its request times out: the
/// timeout must end before the grace does. A grace of 0 switches retries off, so nothing is
/// compared then.
fn check_timeout_below_grace(s: &Settings) -> Result<(), ConfigError> {
    let grace = s.refresh_reuse_grace;
    if grace.is_zero() || s.request_timeout < grace {
        return Ok(());
    }
    Err(ConfigError::Conflict {
        var: "REQUEST_TIMEOUT_SECONDS",
        other: "REFRESH_REUSE_GRACE_SECONDS",
        why: format!(
            "{}s is not below {}s, so a refresh retried after a timeout could miss the grace",
            s.request_timeout.as_secs(),
            grace.whole_seconds()
        ),
    })
}

/// `DATABASE_*`.
fn load_database<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    if let Some(url) = env.text("DATABASE_URL") {
        // The one error line for a bad DATABASE_URL; the value is shown without passwords.
        s.database = parse::database_url(&url).map_err(|expected| {
            ConfigError::invalid("DATABASE_URL", &redact_url(&url), expected)
        })?;
    }
    env.set(
        "DATABASE_MAX_CONNECTIONS",
        &mut s.database_max_connections,
        |t| int_in(t, 1..=1000).map(Some),
    )?;
    env.set(
        "DATABASE_ACQUIRE_TIMEOUT_SECONDS",
        &mut s.database_acquire_timeout,
        seconds(1..=3600),
    )?;
    env.set(
        "DATABASE_STARTUP_TIMEOUT_SECONDS",
        &mut s.database_startup_timeout,
        seconds(0..=86_400),
    )?;
    env.set("MIGRATE_ON_START", &mut s.migrate_on_start, parse::boolean)?;
    env.set(
        "DATABASE_STATEMENT_TIMEOUT_MS",
        &mut s.database_statement_timeout,
        |t| int_in(t, 0..=3_600_000).map(|ms| (ms > 0).then(|| Duration::from_millis(ms))),
    )?;
    env.set("DB_BREAKER_FAILURES", &mut s.db_breaker_failures, |t| {
        int_in(t, 1..=1000)
    })?;
    env.set(
        "DB_BREAKER_RECOVERY_SECONDS",
        &mut s.db_breaker_recovery,
        seconds(1..=3600),
    )
}

/// `JWT_*`, token and session lifetimes, the session limit, `PASSWORD_HASH_SCHEME` and
/// `PASSWORD_MIN_LENGTH`.
fn load_tokens<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    // The algorithm first: it decides how long the key must be.
    env.set("JWT_ALGORITHM", &mut s.jwt_algorithm, parse::jwt_algorithm)?;
    s.jwt_secret_key = env.secret("JWT_SECRET_KEY", s.jwt_algorithm)?;
    load_signing_keys(env, s)?;
    env.set(
        "ACCESS_TOKEN_EXPIRE_MINUTES",
        &mut s.access_token_ttl,
        |t| int_in(t, 1..=525_600).map(|n: u32| time::Duration::minutes(n.into())),
    )?;
    env.set("REFRESH_TOKEN_EXPIRE_DAYS", &mut s.refresh_token_ttl, |t| {
        int_in(t, 1..=3650).map(|n: u32| time::Duration::days(n.into()))
    })?;
    env.set("DEVICE_TOKEN_DAYS", &mut s.device_token_ttl, |t| {
        int_in(t, 1..=3650).map(|n: u32| time::Duration::days(n.into()))
    })?;
    env.set("SESSION_IDLE_DAYS", &mut s.session_idle, |t| {
        int_in(t, 1..=3650).map(|n: u32| time::Duration::days(n.into()))
    })?;
    env.set("MAX_SESSIONS_PER_USER", &mut s.max_sessions_per_user, |t| {
        int_in(t, 1..=10_000)
    })?;
    env.set(
        "REFRESH_REUSE_GRACE_SECONDS",
        &mut s.refresh_reuse_grace,
        |t| int_in(t, 0..=3600).map(|n: u32| time::Duration::seconds(n.into())),
    )?;
    env.set("JWT_ISSUER", &mut s.jwt_issuer, |t| Ok(Some(t.to_owned())))?;
    env.set("JWT_AUDIENCE", &mut s.jwt_audience, |t| {
        Ok(Some(t.to_owned()))
    })?;
    env.set(
        "PASSWORD_HASH_SCHEME",
        &mut s.password_hash_scheme,
        parse::hash_scheme,
    )?;
    env.set("PASSWORD_MIN_LENGTH", &mut s.password_min_length, |t| {
        int_in(t, auth_services::PASSWORD_MIN_LENGTHS)
    })
}

/// OWASP's weakest accepted Argon2id memory, in KiB (7 MiB, with 5 iterations).
const MIN_ARGON2_MEMORY_KIB: u32 = 7_168;
/// OWASP's weakest accepted memory × iterations, in KiB passes (7 168 KiB × 5).
const MIN_ARGON2_WORK: u64 = 35_840;

/// `ARGON2_*` parameters of new hashes and `HASHING_*` limits of the hashing threads.
fn load_hashing<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    env.set("ARGON2_MEMORY_KIB", &mut s.argon2.m_cost_kib, |t| {
        int_in(t, MIN_ARGON2_MEMORY_KIB..=1_048_576)
    })?;
    env.set("ARGON2_ITERATIONS", &mut s.argon2.t_cost, |t| {
        int_in(t, 1..=20)
    })?;
    env.set("ARGON2_PARALLELISM", &mut s.argon2.p_cost, |t| {
        int_in(t, 1..=16)
    })?;
    let work = u64::from(s.argon2.m_cost_kib) * u64::from(s.argon2.t_cost);
    if work < MIN_ARGON2_WORK {
        return Err(ConfigError::invalid(
            "ARGON2_ITERATIONS",
            &s.argon2.t_cost.to_string(),
            format!(
                "ARGON2_MEMORY_KIB × ARGON2_ITERATIONS must be at least {MIN_ARGON2_WORK} \
                 (OWASP's minimum), got {} × {} = {work}",
                s.argon2.m_cost_kib, s.argon2.t_cost
            ),
        ));
    }
    env.set(
        "HASHING_MAX_MEMORY_KIB",
        &mut s.hashing_max_memory_kib,
        |t| int_in(t, 1..=1_048_576),
    )?;
    if s.hashing_max_memory_kib < s.argon2.m_cost_kib {
        return Err(ConfigError::Conflict {
            var: "ARGON2_MEMORY_KIB",
            other: "HASHING_MAX_MEMORY_KIB",
            why: format!(
                "{} KiB is over {} KiB, so new hashes would be refused",
                s.argon2.m_cost_kib, s.hashing_max_memory_kib
            ),
        });
    }
    // The thread count first: the default queue depth follows it.
    env.set("HASHING_THREADS", &mut s.hashing, |t| {
        int_in(t, 1..=256).map(HashingLimits::for_threads)
    })?;
    env.set("HASHING_QUEUE_DEPTH", &mut s.hashing.queue_depth, |t| {
        int_in(t, 0..=1_000_000)
    })?;
    env.set(
        "HASHING_QUEUE_TIMEOUT_MS",
        &mut s.hashing.queue_timeout,
        |t| int_in(t, 1..=60_000).map(Duration::from_millis),
    )
}

/// `JWT_PREVIOUS_SECRET_KEYS`, `JWT_KEY_ENCRYPTION_KEY`, `JWT_KEY_ROTATION_DAYS`,
/// `JWKS_MAX_AGE_SECONDS` and `JWT_KEY_RELOAD_SECONDS`.
fn load_signing_keys<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    const PREVIOUS: &str = "JWT_PREVIOUS_SECRET_KEYS";
    if let Some(raw) = env.raw(PREVIOUS).filter(|v| !v.trim().is_empty()) {
        let min = min_secret_bytes(s.jwt_algorithm);
        s.jwt_previous_secret_keys = raw
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .enumerate()
            .map(|(i, key)| {
                if key.len() < min {
                    let why = format!(
                        "key {} must be at least {min} bytes (got {})",
                        i + 1,
                        key.len()
                    );
                    return Err(ConfigError::invalid_secret(PREVIOUS, why));
                }
                Ok(SecretString::from(key.to_owned()))
            })
            .collect::<Result<_, _>>()?;
    }
    s.jwt_key_encryption_key =
        env.secret_of("JWT_KEY_ENCRYPTION_KEY", auth_crypto::MIN_KEK_BYTES)?;
    env.set("JWT_KEY_ROTATION_DAYS", &mut s.jwt_key_rotation, |t| {
        int_in(t, 1..=3650).map(|n: u32| time::Duration::days(n.into()))
    })?;
    env.set("JWKS_MAX_AGE_SECONDS", &mut s.jwks_max_age, |t| {
        int_in(t, 1..=86_400).map(|n: u32| time::Duration::seconds(n.into()))
    })?;
    env.set("JWT_KEY_RELOAD_SECONDS", &mut s.jwt_key_reload, |t| {
        int_in(t, 1..=3600).map(|n: u32| time::Duration::seconds(n.into()))
    })?;
    // A new key signs twice the max-age after it is published: every replica must have
    // loaded it by then.
    if s.jwt_key_reload > s.jwks_max_age * 2 {
        return Err(ConfigError::Conflict {
            var: "JWT_KEY_RELOAD_SECONDS",
            other: "JWKS_MAX_AGE_SECONDS",
            why: format!(
                "{}s is more than twice {}s, so a replica could meet a new key's tokens before \
                 loading it",
                s.jwt_key_reload.whole_seconds(),
                s.jwks_max_age.whole_seconds()
            ),
        });
    }
    Ok(())
}

/// Listening, HTTP limits, CORS, proxies and logging.
fn load_server<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    env.set(
        "RATE_LIMIT_ENABLED",
        &mut s.rate_limit_enabled,
        parse::boolean,
    )?;
    load_throttle(env, s)?;
    env.set(
        "TRUSTED_PROXIES",
        &mut s.trusted_proxies,
        parse::trusted_proxies,
    )?;
    env.set("HOST", &mut s.host, parse::host)?;
    env.set("PORT", &mut s.port, |t| int_in(t, 0..=u16::MAX))?;
    // An empty CORS_ORIGINS means "no origin", not "the default origins".
    if let Some(raw) = env.raw("CORS_ORIGINS") {
        s.cors_origins = parse::cors_origins(raw.trim())
            .map_err(|expected| ConfigError::invalid("CORS_ORIGINS", raw.trim(), expected))?;
    }
    env.set("LOG_LEVEL", &mut s.log_level, parse::log_level)?;
    env.set("LOG_FORMAT", &mut s.log_format, parse::log_format)?;
    env.set(
        "REQUEST_ID_HEADER",
        &mut s.request_id_header,
        parse::header_name,
    )?;
    env.set("MAX_BODY_BYTES", &mut s.max_body_bytes, |t| {
        int_in(t, 1..=1 << 30)
    })?;
    env.set(
        "REQUEST_TIMEOUT_SECONDS",
        &mut s.request_timeout,
        seconds(1..=3600),
    )?;
    env.set(
        "SHUTDOWN_TIMEOUT_SECONDS",
        &mut s.shutdown_timeout,
        seconds(0..=3600),
    )
}

/// `RATE_LIMIT_*` limits of the three throttling layers.
fn load_throttle<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    let t = &mut s.throttle;
    let count = |text: &str| int_in(text, 1..=1_000_000_i64);
    let window = |text: &str| int_in(text, 1..=86_400_i64).map(time::Duration::seconds);
    env.set(
        "RATE_LIMIT_LOGIN_FAILURES_PER_IP_ACCOUNT",
        &mut t.ip_account_max_failures,
        count,
    )?;
    env.set(
        "RATE_LIMIT_LOGIN_FAILURE_WINDOW_SECONDS",
        &mut t.ip_account_window,
        window,
    )?;
    env.set(
        "RATE_LIMIT_ACCOUNT_DELAY_AFTER",
        &mut t.account_delay_after,
        count,
    )?;
    env.set(
        "RATE_LIMIT_ACCOUNT_LOCK_AFTER",
        &mut t.account_lock_after,
        count,
    )?;
    env.set(
        "RATE_LIMIT_ACCOUNT_LOCK_SECONDS",
        &mut t.account_lock_duration,
        |text| {
            int_in(text, 0..=31_536_000_i64).map(|n| (n > 0).then_some(time::Duration::seconds(n)))
        },
    )?;
    env.set("RATE_LIMIT_IP_LOGINS", &mut t.ip_login_budget, count)?;
    env.set(
        "RATE_LIMIT_IP_REGISTRATIONS",
        &mut t.ip_register_budget,
        count,
    )?;
    env.set("RATE_LIMIT_IP_REFRESHES", &mut t.ip_refresh_budget, count)?;
    env.set(
        "RATE_LIMIT_NETWORK_LOGINS",
        &mut t.network_login_budget,
        count,
    )?;
    env.set(
        "RATE_LIMIT_NETWORK_REGISTRATIONS",
        &mut t.network_register_budget,
        count,
    )?;
    env.set(
        "RATE_LIMIT_NETWORK_REFRESHES",
        &mut t.network_refresh_budget,
        count,
    )?;
    env.set(
        "RATE_LIMIT_IP_WINDOW_SECONDS",
        &mut t.ip_budget_window,
        window,
    )?;
    env.set(
        "RATE_LIMIT_BACKOFF_SECONDS",
        &mut t.ip_account_backoff,
        window,
    )?;
    env.set(
        "RATE_LIMIT_MAX_BACKOFF_SECONDS",
        &mut t.ip_account_max_backoff,
        window,
    )?;
    env.set(
        "RATE_LIMIT_ACCOUNT_MAX_DELAY_SECONDS",
        &mut t.account_max_delay,
        window,
    )?;
    env.set(
        "RATE_LIMIT_ACCOUNT_RESET_SECONDS",
        &mut t.account_reset,
        |text| int_in(text, 60..=31_536_000_i64).map(time::Duration::seconds),
    )
}

/// `RETENTION_INTERVAL_SECONDS`, `AUDIT_RETENTION_DAYS` and `THROTTLE_KEY_SECRET`.
fn load_retention<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    env.set(
        "RETENTION_INTERVAL_SECONDS",
        &mut s.retention_interval,
        seconds(0..=604_800),
    )?;
    env.set("AUDIT_RETENTION_DAYS", &mut s.audit_retention_days, |t| {
        int_in(t, 0..=36_500)
    })?;
    s.throttle_key_secret = env.secret_of("THROTTLE_KEY_SECRET", MIN_SECRET_BYTES)?;
    Ok(())
}

/// `METRICS_HOST` and `METRICS_PORT`; an empty (but set) `METRICS_PORT` turns metrics off.
/// The metrics port may not be the service's own.
fn load_metrics<F: Lookup>(env: &Env<F>, s: &mut Settings) -> Result<(), ConfigError> {
    env.set("METRICS_HOST", &mut s.metrics_host, parse::host)?;
    if let Some(raw) = env.raw("METRICS_PORT") {
        let text = raw.trim();
        s.metrics_port = if text.is_empty() {
            None
        } else {
            let port = int_in(text, 0..=u16::MAX)
                .map_err(|expected| ConfigError::invalid("METRICS_PORT", text, expected))?;
            Some(port)
        };
    }
    if s.metrics_port
        .is_some_and(|port| port != 0 && port == s.port)
    {
        return Err(ConfigError::Conflict {
            var: "METRICS_PORT",
            other: "PORT",
            why: format!(
                "both are {}: metrics must never be served on the public port",
                s.port
            ),
        });
    }
    Ok(())
}

/// A parser for whole seconds in `range`.
fn seconds(range: RangeInclusive<u64>) -> impl FnOnce(&str) -> Result<Duration, String> {
    move |text| int_in(text, range).map(Duration::from_secs)
}

/// `API_*`, free text shown in the OpenAPI document.
fn load_docs<F: Lookup>(env: &Env<F>, s: &mut Settings) {
    for (var, field) in [
        ("API_TITLE", &mut s.api_title),
        ("API_DESCRIPTION", &mut s.api_description),
        ("API_VERSION", &mut s.api_version),
    ] {
        if let Some(text) = env.text(var) {
            *field = text;
        }
    }
}

/// A variable lookup: the value, or `None` when unset.
trait Lookup: Fn(&str) -> Option<String> {}
impl<F: Fn(&str) -> Option<String>> Lookup for F {}

/// The environment seen through a lookup function.
struct Env<F>(F);

impl<F: Lookup> Env<F> {
    /// The value exactly as set, or `None` when unset.
    fn raw(&self, var: &str) -> Option<String> {
        (self.0)(var)
    }

    /// The trimmed value, or `None` when unset or blank.
    fn text(&self, var: &str) -> Option<String> {
        self.raw(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Parses `var` into `field` when it is set; leaves the default otherwise.
    fn set<T>(
        &self,
        var: &'static str,
        field: &mut T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<(), ConfigError> {
        if let Some(text) = self.text(var) {
            *field = parse(&text).map_err(|expected| ConfigError::invalid(var, &text, expected))?;
        }
        Ok(())
    }

    /// A secret of at least `min` bytes, kept exactly as given; `None` when unset or blank.
    /// Errors never show the value.
    fn secret_of(
        &self,
        var: &'static str,
        min: usize,
    ) -> Result<Option<SecretString>, ConfigError> {
        let Some(value) = self.raw(var).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        if value.len() < min {
            let why = format!("must be at least {min} bytes (got {})", value.len());
            return Err(ConfigError::invalid_secret(var, why));
        }
        Ok(Some(SecretString::from(value)))
    }

    /// A secret long enough for `algorithm` ([`min_secret_bytes`]), kept exactly as given;
    /// `None` when unset or blank. Errors never show the value.
    fn secret(
        &self,
        var: &'static str,
        algorithm: JwtAlgorithm,
    ) -> Result<Option<SecretString>, ConfigError> {
        let Some(value) = self.raw(var).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let min = min_secret_bytes(algorithm);
        if value.len() < min {
            let for_algorithm = if algorithm == JwtAlgorithm::HS256 {
                String::new()
            } else {
                format!(" for JWT_ALGORITHM={}", algorithm.as_str())
            };
            return Err(ConfigError::invalid_secret(
                var,
                format!(
                    "must be at least {min} bytes{for_algorithm} (got {})",
                    value.len()
                ),
            ));
        }
        Ok(Some(SecretString::from(value)))
    }
}
