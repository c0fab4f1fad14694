//! `TestServer`: the real application on a free port with its own database, and a client.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::rt::task::JoinHandle;
use auth_crypto::PasswordConfig;
use auth_persistence::DbPool;
use auth_persistence::test_support::TestDb;
use auth_service::settings::Settings;
use auth_service::startup::Application;
use serde_json::Value;

use crate::Reply;

/// How long one request may take before the test fails instead of hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a graceful stop may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A server under test and an HTTP client for it.
///
/// [`spawn`](Self::spawn) starts the production application (`Application::build_with_passwords`,
/// cheap password hashing) on `127.0.0.1:0` on the current Actix system; its workers run on
/// threads of their own. [`stop`](Self::stop) stops it gracefully and checks it ended without
/// error; dropping it without `stop` (a failed test) stops it forcefully.
pub struct TestServer {
    base_url: String,
    metrics_url: Option<String>,
    client: reqwest::Client,
    running: Option<Running>,
    pool: Option<DbPool>,
}

struct Running {
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Starts a server on `db` with the test settings.
    pub async fn spawn(db: &TestDb) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    /// Starts a server on `db` with the test settings changed by `configure`.
    ///
    /// The test settings are [`Settings::for_tests`] (a fixed public JWT key) on a free port,
    /// with throttling off so a limiter cannot make unrelated tests flaky.
    pub async fn spawn_with(db: &TestDb, configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::for_tests();
        settings.database = db.config().clone();
        settings.host = IpAddr::V4(Ipv4Addr::LOCALHOST);
        settings.port = 0;
        settings.rate_limit_enabled = false;
        configure(&mut settings);
        let app = Application::build_with_passwords(settings, PasswordConfig::for_tests())
            .await
            .expect("the server starts");
        let port = app.port();
        let pool = app.pool();
        let metrics_url = app
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let handle = app.handle();
        let task = actix_web::rt::spawn(app.run_until_stopped());
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            metrics_url,
            client: client(),
            running: Some(Running { handle, task }),
            pool: Some(pool),
        }
    }

    /// The deployment named by `APP_BASE_URL` (such as docker compose), if set.
    pub fn remote_from_env() -> Option<Self> {
        let base_url = std::env::var("APP_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty())?;
        Some(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            metrics_url: None,
            client: client(),
            running: None,
            pool: None,
        })
    }

    /// `http://host:port`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://host:port` of the private metrics listener; `None` when metrics are off (the
    /// test settings' default: turn them on with `METRICS_PORT` 0 in
    /// [`spawn_with`](Self::spawn_with)).
    pub fn metrics_url(&self) -> Option<&str> {
        self.metrics_url.as_deref()
    }

    /// `GET /metrics` on the metrics listener, which must be on.
    pub async fn scrape(&self) -> Reply {
        let base = self.metrics_url().expect("metrics are on for this server");
        self.send(self.client.get(format!("{base}/metrics"))).await
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The client (no proxy, no redirects followed, a timeout per request).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The database pool of a spawned server (its services' own, not the test's).
    ///
    /// # Panics
    ///
    /// For a remote deployment (`APP_BASE_URL`), whose pool is out of reach.
    pub fn pool(&self) -> &DbPool {
        self.pool
            .as_ref()
            .expect("a spawned server, not a remote deployment")
    }

    /// Sends `request` and reads the response.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("the server answers")).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    /// `GET path` with `Authorization: Bearer token`.
    pub async fn get_bearer(&self, path: &str, token: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// Stops a spawned server gracefully and asserts it ended cleanly; nothing for a remote
    /// deployment.
    pub async fn stop(mut self) {
        let Some(Running { handle, task }) = self.running.take() else {
            return;
        };
        // Close the client's idle keep-alive connections, so the drain has nothing to wait for.
        self.client = client();
        handle.stop(true).await;
        let ended = actix_web::rt::time::timeout(STOP_TIMEOUT, task)
            .await
            .expect("the server stops in time")
            .expect("the server task did not panic");
        ended.expect("the server ran without I/O errors");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(Running { handle, task }) = self.running.take() {
            // The command is sent on call; nobody needs to wait for it here.
            drop(handle.stop(false));
            task.abort();
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client")
}
