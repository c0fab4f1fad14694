//! Start-up: wait for the database, migrate, wire the services, bind, serve, drain.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{HttpServer, web};
use auth_crypto::{
    Clock, CryptoError, JwtConfig, KeyEncryptionKey, PasswordConfig, PasswordHasher, SystemClock,
    TokenCodec,
};
use auth_persistence::{DbConfig, DbPool, RepoError, run_migrations};
use auth_resilience::{BreakerConfig, CircuitBreaker, RetryPolicy, retry};
use auth_services::{
    AdminService, AuthConfig, AuthDeps, AuthService, KeyConfig, KeyService, KeysError,
    ThrottleConfig,
};
use secrecy::SecretString;

use crate::app::{HttpConfig, build_app};
use crate::error::chain;
use crate::middleware::http_metrics::{RequestMetrics, http_metrics};
use crate::prometheus::{self, Metrics, PoolReading};
use crate::routes::ApiInfo;
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
        let passwords = PasswordConfig {
            scheme: settings.password_hash_scheme,
            argon2: settings.argon2,
            max_stored_m_cost_kib: settings.hashing_max_memory_kib,
            ..PasswordConfig::default()
        };
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
        } = wire_recorded(&settings, passwords, recorder.as_ref()).await?;
        let upkeep = tokio::spawn(state.keys.clone().run_upkeep());
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
            metrics,
        })
    }

    /// The port actually bound (useful with `PORT=0`).
    pub fn port(&self) -> u16 {
        self.port
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
        self.pool.close();
        tracing::info!("stopped");
        result
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
    let breaker = recorded(metrics, database_breaker);
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
    let deps = AuthDeps {
        pool: pool.clone(),
        hasher: PasswordHasher::new(passwords)?,
        tokens: keys.codec(),
        breaker,
        clock,
        config: AuthConfig {
            refresh_reuse_grace: settings.refresh_reuse_grace,
            device_token_ttl: settings.device_token_ttl,
            password_min_length: settings.password_min_length,
            hashing,
            session_idle: settings.session_idle,
            max_sessions_per_user: settings.max_sessions_per_user,
            throttle: ThrottleConfig {
                enabled: settings.rate_limit_enabled,
                ..settings.throttle.clone()
            },
        },
    };
    let auth = recorded(metrics, || AuthService::new(deps)).map_err(StartupError::Hashing)?;
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
    })
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
    let keys = key_service(settings, &pool, &database_breaker(), &clock)?;
    Ok((keys, pool))
}

/// The breaker every database call of the services goes through.
fn database_breaker() -> Arc<CircuitBreaker> {
    Arc::new(CircuitBreaker::new("database", BreakerConfig::default()))
}

/// Waits for the database, migrates it and builds the administration service, with the
/// same breaker as the server: all that the admin commands need. The pool is returned to be
/// closed when the command is done.
///
/// # Errors
///
/// As [`database`].
pub async fn admin_service(settings: &Settings) -> Result<(AdminService, DbPool), StartupError> {
    let (_, pool) = database(settings).await?;
    let admin = AdminService::new(pool.clone(), database_breaker(), Arc::new(SystemClock));
    Ok((admin, pool))
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
    db.acquire_timeout = settings.database_acquire_timeout;
    if let Some(max) = settings.database_max_connections {
        db.max_connections = max;
    }
    db
}

/// Migrates, retrying while the database does not answer, for `DATABASE_STARTUP_TIMEOUT_SECONDS`.
async fn wait_and_migrate(db: &DbConfig, settings: &Settings) -> Result<(), StartupError> {
    let policy = RetryPolicy {
        max_elapsed: settings.database_startup_timeout,
        ..RetryPolicy::default()
    };
    retry(&policy, || async {
        match run_migrations(db).await {
            Err(err @ RepoError::Unavailable(_)) => Err(err),
            other => Ok(other),
        }
    })
    .await
    .and_then(|outcome| outcome)
    .map(|_| ())
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
        api: ApiInfo {
            title: settings.api_title.clone(),
            description: settings.api_description.clone(),
            version: settings.api_version.clone(),
        },
        request_id_header: settings.request_id_header.clone(),
        cors_origins: settings.cors_origins.clone(),
        max_body_bytes: settings.max_body_bytes,
        request_timeout: settings.request_timeout,
    }
}
