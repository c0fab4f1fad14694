//! Prometheus metrics: one recorder per running application, rendered in the text format by
//! `GET /metrics` on a private listener of its own (`METRICS_HOST`:`METRICS_PORT`), never on
//! the public port.
//!
//! The libraries record through the `metrics` facade with handles registered once, when the
//! services are built; [`Metrics::scope`] makes this application's recorder the one in force
//! while they are built. No global recorder is installed, so several applications in one
//! process (the black-box tests) each count only their own requests. The HTTP counters are
//! recorded by [`crate::middleware::http_metrics`]; the database pool is read at scrape time.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::rt::task::JoinHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics::{Gauge, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::middleware::envelope::envelope;
use crate::middleware::request_id::request_id;

/// Upper bounds of the HTTP latency buckets, in seconds.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds of the password-hashing buckets (run time and queue wait), in seconds.
const HASHING_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
];
/// How often the recorder's histogram buffers are folded in when nobody scrapes. Every
/// observation waits in a buffer until then (about 9 bytes each): at 90,000 requests/s a
/// 5 s interval held 4 MiB, 0.5 s holds 0.4 MiB, and folding costs microseconds.
const UPKEEP_INTERVAL: Duration = Duration::from_millis(500);

/// The database pool as the scrape sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolReading {
    /// Connections open.
    pub size: usize,
    /// Connections checked out.
    pub in_use: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
    /// The most connections the pool opens.
    pub max_size: usize,
}

/// Reads the database pool; start-up supplies it (only it may see the data layer).
pub type PoolProbe = Arc<dyn Fn() -> PoolReading + Send + Sync>;

/// This application's recorder and the gauges filled at scrape time. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    pool: [Gauge; 4],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh recorder with every metric described, histogram buckets set, and
    /// `auth_build_info{version}` at 1.
    ///
    /// # Panics
    ///
    /// Never: the bucket lists are constant and non-empty.
    #[expect(
        clippy::expect_used,
        reason = "constant, non-empty bucket lists, which is all the builder checks"
    )]
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&HTTP_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Prefix("auth_password_hashing_".to_owned()),
                    &HASHING_BUCKETS,
                )
            })
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        let recorder = Arc::new(recorder);
        let pool = metrics::with_local_recorder(&*recorder, || {
            describe();
            metrics::gauge!("auth_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            [
                metrics::gauge!("auth_db_pool_size"),
                metrics::gauge!("auth_db_pool_in_use"),
                metrics::gauge!("auth_db_pool_waiting"),
                metrics::gauge!("auth_db_pool_max_size"),
            ]
        });
        Self {
            recorder,
            handle,
            pool,
        }
    }

    /// Runs `build` with this recorder in force on this thread, so the metric handles it
    /// registers (services, breaker, HTTP series) record here.
    pub fn scope<T>(&self, build: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&*self.recorder, build)
    }

    /// The text exposition of every metric, the pool gauges refreshed first.
    pub fn render(&self, pool: PoolReading) -> String {
        let [size, in_use, waiting, max_size] = &self.pool;
        for (gauge, value) in [
            (size, pool.size),
            (in_use, pool.in_use),
            (waiting, pool.waiting),
            (max_size, pool.max_size),
        ] {
            gauge.set(u32::try_from(value).map_or(f64::from(u32::MAX), f64::from));
        }
        self.handle.render()
    }

    /// Folds recorded histogram samples in; run every few seconds so memory stays bounded
    /// when nobody scrapes.
    pub async fn run_upkeep(self) {
        let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            ticks.tick().await;
            self.handle.run_upkeep();
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The `# HELP` text and unit of each metric.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "auth_http_requests_total",
        "HTTP requests answered, by route pattern, method and status."
    );
    describe_histogram!(
        "auth_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern and method."
    );
    describe_counter!("auth_logins_total", "Sign-ins, by outcome.");
    describe_counter!("auth_registrations_total", "Registrations, by outcome.");
    describe_counter!("auth_refreshes_total", "Token refreshes, by outcome.");
    describe_counter!(
        "auth_throttle_hits_total",
        "Attempts refused by a throttling layer, by layer."
    );
    describe_histogram!(
        "auth_password_hashing_duration_seconds",
        Unit::Seconds,
        "Time one password hash or verification took on its thread."
    );
    describe_histogram!(
        "auth_password_hashing_queue_wait_seconds",
        Unit::Seconds,
        "Time a request waited for a hashing thread."
    );
    describe_gauge!(
        "auth_password_hashing_queue_depth",
        "Requests waiting for a hashing thread."
    );
    describe_gauge!("auth_db_pool_size", "Database connections open.");
    describe_gauge!("auth_db_pool_in_use", "Database connections checked out.");
    describe_gauge!(
        "auth_db_pool_waiting",
        "Requests waiting for a database connection."
    );
    describe_gauge!(
        "auth_db_pool_max_size",
        "The most database connections the pool opens."
    );
    describe_gauge!(
        "auth_circuit_breaker_state",
        "Circuit breaker state: 0 closed, 1 half-open, 2 open."
    );
    describe_counter!(
        "auth_circuit_breaker_transitions_total",
        "Circuit breaker state changes, by breaker, from and to."
    );
    describe_gauge!(
        "auth_build_info",
        "Always 1; the version of the running build is its label."
    );
}

/// What the scrape handler needs.
struct Scrape {
    metrics: Metrics,
    pool: PoolProbe,
}

/// `GET /metrics`: the Prometheus text format.
async fn scrape(scrape: web::Data<Scrape>) -> HttpResponse {
    let body = scrape.metrics.render((scrape.pool)());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

/// The private metrics server on `listener`: `GET /metrics` and nothing else (other paths
/// answer 404 in the envelope). One worker; it does not listen for signals, as the main
/// server stops it.
///
/// # Errors
///
/// The I/O error when the listener cannot be used.
fn serve(listener: TcpListener, metrics: Metrics, pool: PoolProbe) -> std::io::Result<Server> {
    let data = web::Data::new(Scrape { metrics, pool });
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/metrics", web::get().to(scrape))
            .default_service(web::to(crate::routes::not_found))
            .wrap(from_fn(envelope))
            .wrap(from_fn(request_id))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

/// The metrics listener, bound and not yet serving.
pub struct Listener {
    port: u16,
    server: Server,
    metrics: Metrics,
}

impl Listener {
    /// Binds `addr` (port 0 picks a free one) and builds the server on it.
    ///
    /// # Errors
    ///
    /// The I/O error when `addr` cannot be bound.
    pub fn bind(addr: SocketAddr, metrics: Metrics, pool: PoolProbe) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, metrics.clone(), pool)?;
        Ok(Self {
            port,
            server,
            metrics,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts serving, and the recorder's upkeep, on the current runtime.
    pub fn spawn(self) -> Serving {
        Serving {
            handle: self.server.handle(),
            server: actix_web::rt::spawn(self.server),
            upkeep: actix_web::rt::spawn(self.metrics.run_upkeep()),
        }
    }
}

/// A running metrics listener.
pub struct Serving {
    handle: ServerHandle,
    server: JoinHandle<std::io::Result<()>>,
    upkeep: JoinHandle<()>,
}

impl Serving {
    /// Stops the listener (letting a scrape in flight finish) and its upkeep.
    pub async fn stop(self) {
        self.upkeep.abort();
        self.handle.stop(true).await;
        if let Ok(Err(err)) = self.server.await {
            tracing::warn!(error = %err, "the metrics listener ended with an error");
        }
    }
}
