//! The typed settings of the binary, their defaults, and a `Debug` that is safe to log.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use actix_web::http::header::HeaderName;
use auth_crypto::{Argon2Params, HashScheme, JwtAlgorithm};
use auth_persistence::DbConfig;
use auth_services::{HashingLimits, ThrottleConfig};
use ipnet::IpNet;
use secrecy::SecretString;
use tracing::level_filters::LevelFilter;

use super::LogFilter;

/// The key [`Settings::for_tests`] signs with: fixed, public, and only for tests.
#[cfg(any(test, feature = "test-support"))]
const TEST_JWT_SECRET: &str = "test-only-jwt-secret-key-not-for-production-0123456789";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors (`LOG_FORMAT=json`, the default).
    Json,
    /// Human-readable, colourless lines for local use (`LOG_FORMAT=pretty`).
    Pretty,
}

impl LogFormat {
    /// The configuration name: `json` or `pretty`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Pretty => "pretty",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the binary reads from its environment, validated and typed.
///
/// Built once in `main` with [`Settings::from_env`] (or in tests with
/// [`Settings::from_lookup`] / `Settings::for_tests`) and passed down; there is no global.
/// Each field names the variable it comes from; `.env.example` lists them with their defaults.
/// Values are stored as the types their users take, so they are parsed here only.
/// `Debug` hides the JWT key and any password in the database URL, so it is safe to log.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://PATH` or `postgres://…`; default `sqlite://auth.db`.
    /// Its URL may hold a password: log it only through `Debug`. Its pool limits are the data
    /// layer's defaults; start-up applies the two settings below to them.
    pub database: DbConfig,
    /// `DATABASE_MAX_CONNECTIONS`: pool size; `None` (the default) keeps the data layer's
    /// choice for the backend.
    pub database_max_connections: Option<usize>,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECONDS`: how long a request waits for a connection; default 5 s.
    pub database_acquire_timeout: Duration,
    /// `DATABASE_STARTUP_TIMEOUT_SECONDS`: how long start-up waits for the database to answer;
    /// default 30 s, 0 tries once.
    pub database_startup_timeout: Duration,
    /// `MIGRATE_ON_START`: apply pending migrations when the server or an admin command
    /// starts; default true. When false, `auth-service migrate` applies them, and a start
    /// with migrations pending is refused.
    pub migrate_on_start: bool,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL's `statement_timeout` on every connection,
    /// so a hung query ends as a 503 instead of running into the request timeout; default
    /// 3000 ms, `None` (0) for none. SQLite ignores it.
    pub database_statement_timeout: Option<Duration>,
    /// `DB_BREAKER_FAILURES`: consecutive database failures that open the circuit breaker;
    /// default 5.
    pub db_breaker_failures: u32,
    /// `DB_BREAKER_RECOVERY_SECONDS`: how long the open breaker refuses database calls before
    /// one trial call may probe the database; default 10 s.
    pub db_breaker_recovery: Duration,
    /// `JWT_SECRET_KEY`: at least 32 bytes, or `None` to use a generated key (see
    /// [`Settings::resolve_jwt_secret`]).
    pub jwt_secret_key: Option<SecretString>,
    /// `JWT_ALGORITHM`: default HS256; `EdDSA` or `ES256` sign with stored, rotated key pairs.
    pub jwt_algorithm: JwtAlgorithm,
    /// `JWT_PREVIOUS_SECRET_KEYS`: earlier HMAC keys, comma-separated, still accepted when
    /// verifying (tokens name their key); default none.
    pub jwt_previous_secret_keys: Vec<SecretString>,
    /// `JWT_KEY_ENCRYPTION_KEY`: at least 32 bytes, sealing the EdDSA and ES256 private keys at
    /// rest; `None` to use a generated key (see [`Settings::resolve_key_encryption_key`]).
    pub jwt_key_encryption_key: Option<SecretString>,
    /// `JWT_KEY_ROTATION_DAYS`: how long an EdDSA or ES256 key signs before the next one
    /// takes over; default 30 days.
    pub jwt_key_rotation: time::Duration,
    /// `JWKS_MAX_AGE_SECONDS`: `Cache-Control: max-age` of `/.well-known/jwks.json`; a new key
    /// is published twice this long before it signs; default 300 s.
    pub jwks_max_age: time::Duration,
    /// `JWT_KEY_RELOAD_SECONDS`: how often each replica reloads the signing keys; default
    /// 60 s, at most twice `JWKS_MAX_AGE_SECONDS`.
    pub jwt_key_reload: time::Duration,
    /// `ACCESS_TOKEN_EXPIRE_MINUTES`: access-token lifetime; default 30 minutes.
    pub access_token_ttl: time::Duration,
    /// `REFRESH_TOKEN_EXPIRE_DAYS`: refresh-token lifetime; default 7 days.
    pub refresh_token_ttl: time::Duration,
    /// `REFRESH_REUSE_GRACE_SECONDS`: how long a just-rotated refresh token may be presented
    /// again without revoking its session (two tabs refreshing at once); default 10 s.
    pub refresh_reuse_grace: time::Duration,
    /// `DEVICE_TOKEN_DAYS`: how long a device token issued at sign-in is recognised; default
    /// 90 days.
    pub device_token_ttl: time::Duration,
    /// `SESSION_IDLE_DAYS`: a session whose refresh token was not used for this long is over;
    /// default 30 days.
    pub session_idle: time::Duration,
    /// `MAX_SESSIONS_PER_USER`: the most live sessions a user may have; a sign-in beyond it
    /// revokes the oldest; default 50.
    pub max_sessions_per_user: usize,
    /// `JWT_ISSUER`: issued and required as `iss` when set; default unset.
    pub jwt_issuer: Option<String>,
    /// `JWT_AUDIENCE`: issued and required as `aud` when set; default unset.
    pub jwt_audience: Option<String>,
    /// `PASSWORD_HASH_SCHEME`: scheme of new hashes; default argon2id.
    pub password_hash_scheme: HashScheme,
    /// `PASSWORD_MIN_LENGTH`: shortest password registration accepts, 8 to 64; default 8.
    pub password_min_length: usize,
    /// `ARGON2_MEMORY_KIB`, `ARGON2_ITERATIONS`, `ARGON2_PARALLELISM`: Argon2id parameters of
    /// new hashes; default OWASP's 19 456 KiB, 2, 1. At least OWASP's weakest equivalent:
    /// 7 168 KiB and memory × iterations of 35 840 or more.
    pub argon2: Argon2Params,
    /// `HASHING_MAX_MEMORY_KIB`: largest Argon2 memory a stored hash may ask for; stored
    /// hashes over it are unusable (refused like a wrong password, logged). Default 65 536.
    pub hashing_max_memory_kib: u32,
    /// `HASHING_THREADS`, `HASHING_QUEUE_DEPTH`, `HASHING_QUEUE_TIMEOUT_MS`: the hashing
    /// threads (default: one per core) and the queue in front of them (default 64 per thread,
    /// waiting at most 2000 ms).
    pub hashing: HashingLimits,
    /// `RATE_LIMIT_ENABLED`: throttle sign-in attempts; default true.
    pub rate_limit_enabled: bool,
    /// `RATE_LIMIT_*`: the throttling limits. Its `enabled` flag is ignored: `rate_limit_enabled`
    /// decides.
    pub throttle: ThrottleConfig,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed; default none.
    pub trusted_proxies: Vec<IpNet>,
    /// `HOST`: address to listen on; default 127.0.0.1.
    pub host: IpAddr,
    /// `PORT`: port to listen on; default 8000, 0 picks a free port.
    pub port: u16,
    /// `CORS_ORIGINS`: browser origins allowed to call the API with credentials, lower case;
    /// default `http://localhost:3000` and `http://localhost:8080`.
    pub cors_origins: Vec<String>,
    /// `LOG_LEVEL`: a level (lower case) or an `EnvFilter` directive string; default `info`.
    pub log_level: LogFilter,
    /// `LOG_FORMAT`: default JSON.
    pub log_format: LogFormat,
    /// `REQUEST_ID_HEADER`: header carrying the request id; default `X-Request-ID`.
    pub request_id_header: HeaderName,
    /// `API_TITLE`: OpenAPI title; default `Auth Service`.
    pub api_title: String,
    /// `API_DESCRIPTION`: OpenAPI description; default `Authentication service`.
    pub api_description: String,
    /// `API_VERSION`: OpenAPI version; default `1.0.0`.
    pub api_version: String,
    /// `MAX_BODY_BYTES`: largest accepted request body; default 16384 (16 KiB).
    pub max_body_bytes: usize,
    /// `REQUEST_TIMEOUT_SECONDS`: longest a request may take; default 5 s, below the refresh
    /// reuse grace so a refresh that timed out can be retried inside it.
    pub request_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_SECONDS`: how long in-flight requests may drain on shutdown;
    /// default 30 s.
    pub shutdown_timeout: Duration,
    /// `RETENTION_INTERVAL_SECONDS`: how often expired rows are purged; default 1 h, 0 = never
    /// (then `auth-service admin purge` does it).
    pub retention_interval: Duration,
    /// `AUDIT_RETENTION_DAYS`: audit events older than this are purged; default 365, 0 keeps
    /// them forever.
    pub audit_retention_days: u32,
    /// `THROTTLE_KEY_SECRET`: the secret throttle keys are hashed under; `None` to derive one
    /// from the JWT secret or key-encryption key (see [`Settings::resolve_throttle_key`]).
    pub throttle_key_secret: Option<SecretString>,
    /// `METRICS_HOST`: address of the private metrics listener; default 127.0.0.1.
    pub metrics_host: IpAddr,
    /// `METRICS_PORT`: port of the private metrics listener (`GET /metrics`); default 9100,
    /// 0 picks a free port, empty turns metrics off (`None`).
    pub metrics_port: Option<u16>,
}

impl Settings {
    /// The documented defaults: what [`Settings::from_lookup`] returns when nothing is set.
    #[expect(
        clippy::expect_used,
        reason = "a constant URL that the data layer accepts"
    )]
    pub(super) fn defaults() -> Self {
        Self {
            database: DbConfig::new("sqlite://auth.db").expect("a supported URL"),
            database_max_connections: None,
            database_acquire_timeout: Duration::from_secs(5),
            database_startup_timeout: Duration::from_secs(30),
            migrate_on_start: true,
            database_statement_timeout: Some(Duration::from_secs(3)),
            db_breaker_failures: 5,
            db_breaker_recovery: Duration::from_secs(10),
            jwt_secret_key: None,
            jwt_algorithm: JwtAlgorithm::HS256,
            jwt_previous_secret_keys: Vec::new(),
            jwt_key_encryption_key: None,
            jwt_key_rotation: time::Duration::days(30),
            jwks_max_age: time::Duration::seconds(300),
            jwt_key_reload: time::Duration::seconds(60),
            access_token_ttl: time::Duration::minutes(30),
            refresh_token_ttl: time::Duration::days(7),
            refresh_reuse_grace: time::Duration::seconds(10),
            device_token_ttl: time::Duration::days(90),
            session_idle: time::Duration::days(30),
            max_sessions_per_user: 50,
            jwt_issuer: None,
            jwt_audience: None,
            password_hash_scheme: HashScheme::Argon2id,
            password_min_length: 8,
            argon2: Argon2Params::default(),
            hashing_max_memory_kib: 65_536,
            hashing: HashingLimits::default(),
            rate_limit_enabled: true,
            throttle: ThrottleConfig::default(),
            trusted_proxies: Vec::new(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
            cors_origins: vec![
                "http://localhost:3000".to_owned(),
                "http://localhost:8080".to_owned(),
            ],
            log_level: LogFilter::level(LevelFilter::INFO),
            log_format: LogFormat::Json,
            request_id_header: HeaderName::from_static("x-request-id"),
            api_title: "Auth Service".to_owned(),
            api_description: "Authentication service".to_owned(),
            api_version: "1.0.0".to_owned(),
            max_body_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(30),
            retention_interval: Duration::from_secs(3600),
            audit_retention_days: 365,
            throttle_key_secret: None,
            metrics_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            metrics_port: Some(9100),
        }
    }

    /// Settings for tests only: the defaults, except port 0 (a free port), a fixed public
    /// JWT key (so no key file is written), pretty logs, rate limiting on and metrics off.
    ///
    /// `database` keeps the default `sqlite://auth.db`: callers set it to their own
    /// temporary database before use. Never use this in production; the key is public, which
    /// is why it exists only in test builds and with the `test-support` feature.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests() -> Self {
        Self {
            port: 0,
            jwt_secret_key: Some(SecretString::from(TEST_JWT_SECRET)),
            log_format: LogFormat::Pretty,
            rate_limit_enabled: true,
            metrics_port: None,
            ..Self::defaults()
        }
    }

    /// The address to listen on: `HOST` and `PORT` together.
    pub fn bind_address(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The address of the metrics listener (`METRICS_HOST` and `METRICS_PORT`), or `None`
    /// when metrics are off.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_port
            .map(|port| SocketAddr::new(self.metrics_host, port))
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database.redacted_url())
            .field("database_max_connections", &self.database_max_connections)
            .field("database_acquire_timeout", &self.database_acquire_timeout)
            .field("database_startup_timeout", &self.database_startup_timeout)
            .field("migrate_on_start", &self.migrate_on_start)
            .field(
                "database_statement_timeout",
                &self.database_statement_timeout,
            )
            .field("db_breaker_failures", &self.db_breaker_failures)
            .field("db_breaker_recovery", &self.db_breaker_recovery)
            .field("jwt_secret_key", &self.jwt_secret_key)
            .field("jwt_previous_secret_keys", &self.jwt_previous_secret_keys)
            .field("jwt_key_encryption_key", &self.jwt_key_encryption_key)
            .field("jwt_key_rotation", &self.jwt_key_rotation)
            .field("jwks_max_age", &self.jwks_max_age)
            .field("jwt_key_reload", &self.jwt_key_reload)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("refresh_reuse_grace", &self.refresh_reuse_grace)
            .field("device_token_ttl", &self.device_token_ttl)
            .field("session_idle", &self.session_idle)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("password_hash_scheme", &self.password_hash_scheme)
            .field("password_min_length", &self.password_min_length)
            .field("argon2", &self.argon2)
            .field("hashing_max_memory_kib", &self.hashing_max_memory_kib)
            .field("hashing", &self.hashing)
            .field("rate_limit_enabled", &self.rate_limit_enabled)
            .field("throttle", &self.throttle)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("cors_origins", &self.cors_origins)
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("request_id_header", &self.request_id_header)
            .field("api_title", &self.api_title)
            .field("api_description", &self.api_description)
            .field("api_version", &self.api_version)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("retention_interval", &self.retention_interval)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("throttle_key_secret", &self.throttle_key_secret)
            .field("metrics_host", &self.metrics_host)
            .field("metrics_port", &self.metrics_port)
            .finish()
    }
}
