//! Start-up: wait for the database, migrate, wire the services, bind, serve, drain.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{HttpServer, web};
use auth_crypto::{
    Clock, CryptoError, JwtAlgorithm, JwtConfig, KeyEncryptionKey, PasswordConfig, PasswordHasher,
    SystemClock, TokenCodec, random_token,
};
use auth_persistence::{DbConfig, DbPool, RepoError, pending_migrations, run_migrations};
use auth_resilience::{BreakerConfig, CircuitBreaker, RetryPolicy, retry};
use auth_services::{
    AdminService, AuthConfig, AuthDeps, AuthService, KeyConfig, KeyService, KeysError,
    RetentionConfig, RetentionService, ThrottleConfig, ThrottleKeySecret,
};
use secrecy::SecretString;

use crate::app::{HttpConfig, build_app};
use crate::error::chain;
use crate::middleware::http_metrics::{RequestMetrics, http_metrics};
use crate::prometheus::{self, Metrics, PoolReading};
use crate::routes::{ApiDocument, ApiInfo};
use crate::settings::{ConfigError, Settings};
use crate::state::AppState;

/// Why the service could not start. `Display` is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The database did not answer in time, or migrating it failed.
    #[error("database not ready ({url}): {cause}")]
    Database {
        /// The URL, password redacted.
        url: String,
        /// What went wrong, with its causes.
        cause: String,
    },
    /// `MIGRATE_ON_START=false` and the database lacks migrations this build needs.
    #[error(
        "database schema is behind: {} migration(s) pending ({}); run `auth-service migrate`, \
         or set MIGRATE_ON_START=true",
        .0.len(),
        .0.join(", ")
    )]
    PendingMigrations(Vec<String>),
    /// The crypto settings were refused.
    #[error("invalid crypto settings: {0}")]
    Crypto(#[from] CryptoError),
    /// A password-hashing thread could not be started.
    #[error("cannot start the password hashing threads: {0}")]
    Hashing(#[source] std::io::Error),
    /// The signing keys could not be set up or loaded.
    #[error("signing keys: {0}")]
    Keys(#[from] KeysError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// A built, bound server, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    upkeep: tokio::task::JoinHandle<()>,
    /// The periodic purge, when `RETENTION_INTERVAL_SECONDS` is not 0.
    purge: Option<tokio::task::JoinHandle<()>>,
    metrics: Option<prometheus::Listener>,
}

impl Application {
    /// Builds the service with production password hashing (Argon2id with the `ARGON2_*`
    /// parameters, or bcrypt cost 12 when `PASSWORD_HASH_SCHEME=bcrypt`).
    ///
    /// # Errors
    ///
    /// See [`StartupError`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let passwords = password_config(&settings);
        Self::build_with(settings, passwords).await
    }

    /// Builds the service with the given password parameters (tests pass
    /// [`PasswordConfig::for_tests`]). Only with the `test-support` feature.
    ///
    /// # Errors
    ///
    /// See [`StartupError`].
    #[cfg(feature = "test-support")]
    pub async fn build_with_passwords(
        settings: Settings,
        passwords: PasswordConfig,
    ) -> Result<Self, StartupError> {
        Self::build_with(settings, passwords).await
    }

    /// What [`build`](Self::build) and the tests' `build_with_passwords` share.
    async fn build_with(
        settings: Settings,
        passwords: PasswordConfig,
    ) -> Result<Self, StartupError> {
        let recorder = settings.metrics_address().map(|_| Metrics::new());
        let Wiring {
            state,
            http,
            db,
            pool,
            retention,
        } = wire_recorded(&settings, passwords, recorder.as_ref()).await?;
        open_connections(&pool).await;
        let upkeep = tokio::spawn(state.keys.clone().run_upkeep());
        let purge = (!settings.retention_interval.is_zero())
            .then(|| tokio::spawn(purge_every(retention, settings.retention_interval)));
        let addr = settings.bind_address();
        let listener =
            TcpListener::bind(addr).map_err(|source| StartupError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?
            .port();
        let requests = recorder
            .clone()
            .map(|m| web::Data::new(RequestMetrics::new(m)));
        let server = HttpServer::new(move || {
            let app = build_app(state.clone(), http.clone());
            let app = match &requests {
                Some(requests) => app.app_data(requests.clone()),
                None => app,
            };
            app.wrap(from_fn(http_metrics))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind { addr, source })?
        .client_request_timeout(settings.request_timeout)
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .run();
        tracing::info!(address = %addr.ip(), port, database = db.backend().as_str(), "listening");
        let metrics = recorder
            .zip(settings.metrics_address())
            .map(|(recorder, addr)| metrics_listener(addr, recorder, &pool))
            .transpose()?;
        Ok(Self {
            port,
            server,
            pool,
            upkeep,
            purge,
            metrics,
        })
    }

    /// The port actually bound (useful with `PORT=0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pool the services use, so tests can check its connections come back after a
    /// fault. Only with the `test-support` feature.
    #[cfg(feature = "test-support")]
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// The port of the metrics listener, `None` when metrics are off (useful with
    /// `METRICS_PORT=0`).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(prometheus::Listener::port)
    }

    /// A handle to stop the server (gracefully with `stop(true)`); the metrics listener
    /// stops with it.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM or a handle), draining in-flight requests, then
    /// closes the database pool.
    ///
    /// # Errors
    ///
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(prometheus::Listener::spawn);
        let result = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop().await;
        }
        self.upkeep.abort();
        if let Some(purge) = self.purge {
            purge.abort();
        }
        self.pool.close();
        tracing::info!("stopped");
        result
    }
}

/// Opens every connection of the pool here, on the runtime that outlives the HTTP workers.
///
/// A connection keeps working on the runtime it was opened on (the SQLite wrapper runs its
/// blocking calls there, a PostgreSQL connection's driver task lives there). Opened lazily
/// by an HTTP worker, it would die with that worker: on SIGTERM an idle worker stops at once,
/// and the requests other workers are still draining would fail with 503 mid-way. A
/// connection the pool replaces later (after an error) is opened by a worker again.
async fn open_connections(pool: &DbPool) {
    // Pings at once, each holding its connection until answered: the pool opens them all.
    let max = pool.status().max_size;
    let pings = futures::future::join_all((0..max).map(|_| pool.ping())).await;
    let failed = pings.iter().filter(|ping| ping.is_err()).count();
    if failed > 0 {
        tracing::warn!(failed, "could not open every database connection at start");
    }
}

/// Everything `build_app` needs, built from settings: the server and the in-process tests
/// share this wiring.
#[derive(Debug)]
pub struct Wiring {
    /// The services.
    pub state: AppState,
    /// HTTP-level settings.
    pub http: HttpConfig,
    /// The database settings in use.
    pub db: DbConfig,
    /// The pool the services use, closed when the server stops.
    pub pool: DbPool,
    /// Deletes expired rows; the server runs it every `RETENTION_INTERVAL_SECONDS`.
    pub retention: RetentionService,
}

/// Waits for the database, migrates it and builds the services.
///
/// # Errors
///
/// See [`StartupError`].
pub async fn wire(settings: &Settings, passwords: PasswordConfig) -> Result<Wiring, StartupError> {
    wire_recorded(settings, passwords, None).await
}

/// [`wire`], with the services' and the breaker's metrics recorded in `metrics`.
async fn wire_recorded(
    settings: &Settings,
    passwords: PasswordConfig,
    metrics: Option<&Metrics>,
) -> Result<Wiring, StartupError> {
    let (db, pool) = database(settings).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let breaker = recorded(metrics, || database_breaker(settings));
    let keys = key_service(settings, &pool, &breaker, &clock)?;
    // The first key (EdDSA, ES256) is made and every published key loaded before serving.
    keys.upkeep().await?;
    let hashing = settings.hashing;
    tracing::info!(
        threads = hashing.threads,
        memory_kib = passwords.argon2.m_cost_kib,
        queue_depth = hashing.queue_depth,
        queue_timeout_ms = u64::try_from(hashing.queue_timeout.as_millis()).unwrap_or(u64::MAX),
        "password hashing: {} threads × {} MiB",
        hashing.threads,
        passwords.argon2.m_cost_kib.div_ceil(1024),
    );
    let throttle_key = settings.resolve_throttle_key()?;
    let auth = recorded(metrics, || {
        auth_service(
            settings,
            passwords,
            &pool,
            (breaker, clock),
            keys.codec(),
            throttle_key,
        )
    })?;
    let retention = retention_service(settings, &pool);
    let trusted_proxies = settings.trusted_proxies.clone().into();
    Ok(Wiring {
        state: AppState {
            auth,
            keys,
            trusted_proxies,
        },
        http: http_config(settings),
        db,
        pool,
        retention,
    })
}

/// The services' rules, from the settings, on `pool`, keying throttle counters with
/// `key_secret`.
fn auth_service(
    settings: &Settings,
    passwords: PasswordConfig,
    pool: &DbPool,
    (breaker, clock): (Arc<CircuitBreaker>, Arc<dyn Clock>),
    tokens: TokenCodec,
    key_secret: ThrottleKeySecret,
) -> Result<AuthService, StartupError> {
    AuthService::new(AuthDeps {
        pool: pool.clone(),
        hasher: PasswordHasher::new(passwords)?,
        tokens,
        breaker,
        clock,
        config: AuthConfig {
            refresh_reuse_grace: settings.refresh_reuse_grace,
            device_token_ttl: settings.device_token_ttl,
            password_min_length: settings.password_min_length,
            hashing: settings.hashing,
            session_idle: settings.session_idle,
            max_sessions_per_user: settings.max_sessions_per_user,
            throttle: ThrottleConfig {
                enabled: settings.rate_limit_enabled,
                key_secret,
                ..settings.throttle.clone()
            },
        },
    })
    .map_err(StartupError::Hashing)
}

/// Production password hashing from the settings: Argon2id with the `ARGON2_*` parameters,
/// or bcrypt cost 12 when `PASSWORD_HASH_SCHEME=bcrypt`.
fn password_config(settings: &Settings) -> PasswordConfig {
    PasswordConfig {
        scheme: settings.password_hash_scheme,
        argon2: settings.argon2,
        max_stored_m_cost_kib: settings.hashing_max_memory_kib,
        ..PasswordConfig::default()
    }
}

/// The purge over `pool` with the settings' lifetimes: sessions go once their longest-lived
/// token has expired, counters after `RATE_LIMIT_ACCOUNT_RESET_SECONDS` (never before a window
/// of theirs could still count), audit events after `AUDIT_RETENTION_DAYS` (0: never).
pub fn retention_service(settings: &Settings, pool: &DbPool) -> RetentionService {
    let t = &settings.throttle;
    let config = RetentionConfig {
        token_lifetime: settings.access_token_ttl.max(settings.refresh_token_ttl),
        counter_reset: t
            .account_reset
            .max(t.ip_account_window)
            .max(t.ip_budget_window),
        audit_retention: (settings.audit_retention_days > 0)
            .then(|| time::Duration::days(settings.audit_retention_days.into())),
        ..RetentionConfig::default()
    };
    RetentionService::new(
        pool.clone(),
        database_breaker(settings),
        Arc::new(SystemClock),
        config,
    )
}

/// Purges every `every`, the first time one interval after start. A round another replica
/// is running is skipped; a failed round is logged and the next one tries again.
async fn purge_every(retention: RetentionService, every: std::time::Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match retention.purge().await {
            Ok(Some(purged)) if purged.total() > 0 => tracing::info!(
                sessions = purged.sessions,
                device_tokens = purged.device_tokens,
                throttles = purged.throttles,
                audit_events = purged.audit_events,
                "purged expired rows"
            ),
            Ok(Some(_)) => {}
            Ok(None) => tracing::debug!("purge skipped: another replica is purging"),
            Err(err) => tracing::warn!(error = %chain(&err), "purge failed"),
        }
    }
}

/// Runs `build` with the recorder of `metrics` in force, if any, so the metric handles it
/// registers record there.
fn recorded<T>(metrics: Option<&Metrics>, build: impl FnOnce() -> T) -> T {
    match metrics {
        Some(metrics) => metrics.scope(build),
        None => build(),
    }
}

/// Binds the metrics listener, whose scrapes read the sizes of `pool`.
fn metrics_listener(
    addr: std::net::SocketAddr,
    metrics: Metrics,
    pool: &DbPool,
) -> Result<prometheus::Listener, StartupError> {
    let pool = pool.clone();
    let probe = Arc::new(move || {
        let status = pool.status();
        PoolReading {
            size: status.size,
            in_use: status.size.saturating_sub(status.available),
            waiting: status.waiting,
            max_size: status.max_size,
        }
    });
    let listener = prometheus::Listener::bind(addr, metrics, probe)
        .map_err(|source| StartupError::Bind { addr, source })?;
    tracing::info!(address = %addr.ip(), port = listener.port(), "metrics listening");
    Ok(listener)
}

/// The token codec and the service keeping its signing keys, from the `JWT_*` settings.
fn key_service(
    settings: &Settings,
    pool: &DbPool,
    breaker: &Arc<CircuitBreaker>,
    clock: &Arc<dyn Clock>,
) -> Result<KeyService, StartupError> {
    let secret = if settings.jwt_algorithm.is_asymmetric() {
        SecretString::default()
    } else {
        settings.resolve_jwt_secret()?
    };
    let kek = settings
        .resolve_key_encryption_key()?
        .map(|kek| KeyEncryptionKey::new(&kek))
        .transpose()?;
    let jwt = JwtConfig {
        secret,
        previous_secrets: settings.jwt_previous_secret_keys.clone(),
        algorithm: settings.jwt_algorithm,
        access_ttl: settings.access_token_ttl,
        refresh_ttl: settings.refresh_token_ttl,
        issuer: settings.jwt_issuer.clone(),
        audience: settings.jwt_audience.clone(),
    };
    let config = KeyConfig {
        rotation_interval: settings.jwt_key_rotation,
        jwks_max_age: settings.jwks_max_age,
        reload_interval: settings.jwt_key_reload,
    };
    Ok(KeyService::new(
        pool.clone(),
        breaker.clone(),
        clock.clone(),
        TokenCodec::new(jwt, clock.clone())?,
        kek,
        config,
    ))
}

/// Waits for the database, migrates it and builds the key service, for the `keys`
/// commands. The pool is returned to be closed when the command is done.
///
/// # Errors
///
/// As [`database`], and bad key settings.
pub async fn keys_service(settings: &Settings) -> Result<(KeyService, DbPool), StartupError> {
    let (_, pool) = database(settings).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = key_service(settings, &pool, &database_breaker(settings), &clock)?;
    Ok((keys, pool))
}

/// The breaker every database call of the services goes through (`DB_BREAKER_*`).
fn database_breaker(settings: &Settings) -> Arc<CircuitBreaker> {
    let config = BreakerConfig {
        failure_threshold: settings.db_breaker_failures,
        recovery_timeout: settings.db_breaker_recovery,
    };
    Arc::new(CircuitBreaker::new("database", config))
}

/// Waits for the database, migrates it and builds the administration service with the
/// server's rules, breaker and password hashing: all that the admin commands need. The pool
/// is returned to be closed when the command is done.
///
/// The admin commands issue no token, so the signing keys are neither read nor made: the
/// service's codec holds a throwaway key that never signs anything.
///
/// # Errors
///
/// As [`database`], and [`StartupError::Crypto`] / [`StartupError::Hashing`] when the
/// password settings are refused.
pub async fn admin_service(settings: &Settings) -> Result<(AdminService, DbPool), StartupError> {
    let (_, pool) = database(settings).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let throwaway = JwtConfig {
        secret: SecretString::from(random_token()),
        previous_secrets: Vec::new(),
        algorithm: JwtAlgorithm::HS256,
        access_ttl: settings.access_token_ttl,
        refresh_ttl: settings.refresh_token_ttl,
        issuer: None,
        audience: None,
    };
    let tokens = TokenCodec::new(throwaway, clock.clone())?;
    // Nor do they count failed sign-ins: the counters they clear are keyed by user id, which
    // needs no secret, so the throttle key is a throwaway too.
    let auth = auth_service(
        settings,
        password_config(settings),
        &pool,
        (database_breaker(settings), clock),
        tokens,
        ThrottleKeySecret::random(),
    )?;
    Ok((auth.admin(), pool))
}

/// Waits for the database, migrates it and opens a pool: all that the admin commands need.
///
/// # Errors
///
/// [`StartupError::Database`] when the database does not answer in time or migrating it
/// fails.
pub async fn database(settings: &Settings) -> Result<(DbConfig, DbPool), StartupError> {
    let db = db_config(settings);
    wait_and_migrate(&db, settings).await?;
    let pool = DbPool::new(&db).map_err(|e| database_error(&db, &e))?;
    Ok((db, pool))
}

fn db_config(settings: &Settings) -> DbConfig {
    let mut db = settings.database.clone();
    if let Some(timeout) = settings.database_statement_timeout {
        db = db.with_statement_timeout(timeout);
    }
    db.acquire_timeout = settings.database_acquire_timeout;
    if let Some(max) = settings.database_max_connections {
        db.max_connections = max;
    }
    db
}

/// Migrates (or, with `MIGRATE_ON_START=false`, checks that nothing is pending), retrying
/// while the database does not answer, for `DATABASE_STARTUP_TIMEOUT_SECONDS`.
async fn wait_and_migrate(db: &DbConfig, settings: &Settings) -> Result<(), StartupError> {
    if settings.migrate_on_start {
        wait_for(db, settings, || run_migrations(db))
            .await
            .map(|_| ())
    } else {
        let pending = wait_for(db, settings, || pending_migrations(db)).await?;
        if pending.is_empty() {
            Ok(())
        } else {
            Err(StartupError::PendingMigrations(pending))
        }
    }
}

/// Applies every pending migration, waiting for the database like start-up does, and returns
/// the versions applied (`auth-service migrate`).
///
/// # Errors
///
/// [`StartupError::Database`] when the database does not answer in time or a migration fails.
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    let db = db_config(settings);
    wait_for(&db, settings, || run_migrations(&db)).await
}

/// Runs `step`, retrying while the database does not answer.
async fn wait_for<T, F, Fut>(db: &DbConfig, settings: &Settings, step: F) -> Result<T, StartupError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, RepoError>>,
{
    let policy = RetryPolicy {
        max_elapsed: settings.database_startup_timeout,
        ..RetryPolicy::default()
    };
    retry(&policy, || async {
        match step().await {
            Err(err @ RepoError::Unavailable(_)) => Err(err),
            other => Ok(other),
        }
    })
    .await
    .and_then(|outcome| outcome)
    .map_err(|err| database_error(db, &err))
}

fn database_error(db: &DbConfig, err: &RepoError) -> StartupError {
    StartupError::Database {
        url: db.redacted_url(),
        cause: chain(err),
    }
}

fn http_config(settings: &Settings) -> HttpConfig {
    HttpConfig {
        api: ApiDocument::new(&ApiInfo {
            title: settings.api_title.clone(),
            description: settings.api_description.clone(),
            version: settings.api_version.clone(),
        }),
        request_id_header: settings.request_id_header.clone(),
        cors_origins: settings.cors_origins.clone(),
        max_body_bytes: settings.max_body_bytes,
        request_timeout: settings.request_timeout,
    }
}
