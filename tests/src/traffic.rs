//! `Traffic`: steady mixed requests (register, login, me, refresh, me) from a few tasks, every
//! answer recorded with its timing, for tests that break the database under load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::rt::task::JoinHandle;
use serde_json::Value;

use crate::{Reply, TestServer, TestUser};

/// How long a task pauses after a failed request, so an open breaker's instant answers do not
/// turn the test into a busy loop that starves the machine.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_millis(20);

/// One answer, as the client saw it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// `register`, `login`, `me` or `refresh`.
    pub op: &'static str,
    /// When the request was sent.
    pub started: Instant,
    /// How long the answer took.
    pub took: Duration,
    /// The status; 0 when the request failed without an answer.
    pub status: u16,
    /// The envelope's `error_code`, for a failure.
    pub error_code: Option<String>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Sample {
    /// When the answer arrived.
    pub fn ended(&self) -> Instant {
        self.started + self.took
    }

    /// A 2xx answer.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The contract's answer to an outage: 503 `SERVICE_UNAVAILABLE` with a `Retry-After` of
    /// at least one second.
    pub fn is_unavailable(&self) -> bool {
        self.status == 503
            && self.error_code.as_deref() == Some("SERVICE_UNAVAILABLE")
            && self
                .retry_after
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|secs| secs >= 1)
    }
}

/// Tasks sending requests until [`stop`](Self::stop).
pub struct Traffic {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Traffic {
    /// Starts `tasks` tasks on the current Actix system, each signing up new users and using
    /// their tokens in a loop. A task that meets a failure starts over with a new user, so
    /// no request of it depends on a write whose outcome it did not see.
    pub fn start(server: &TestServer, tasks: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..tasks)
            .map(|_| {
                let worker = Worker {
                    base_url: server.base_url().to_owned(),
                    client: server.client().clone(),
                    stop: stop.clone(),
                    samples: samples.clone(),
                };
                actix_web::rt::spawn(worker.run())
            })
            .collect();
        Self {
            stop,
            samples,
            tasks,
        }
    }

    /// Every answer so far.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the tasks after their current request and returns every answer.
    pub async fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::SeqCst);
        let samples = self.samples.clone();
        for task in self.tasks {
            task.await.expect("a traffic task did not panic");
        }
        samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

struct Worker {
    base_url: String,
    client: reqwest::Client,
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
}

impl Worker {
    async fn run(self) {
        while !self.stop.load(Ordering::SeqCst) {
            if self.cycle().await.is_none() {
                actix_web::rt::time::sleep(PAUSE_AFTER_FAILURE).await;
            }
        }
    }

    /// Register, sign in, read the user, refresh, read the user again; `None` at the first
    /// failure.
    async fn cycle(&self) -> Option<()> {
        let user = TestUser::unique("load");
        let url = |path: &str| format!("{}{path}", self.base_url);
        let register = user.register_body();
        self.post(&url("/auth/register"), "register", &register)
            .await?;
        let login = serde_json::json!({"email": user.email, "password": user.password});
        let tokens = self.post(&url("/auth/login"), "login", &login).await?;
        self.me(&url("/auth/me"), &tokens).await?;
        let refresh = serde_json::json!({"refresh_token": tokens["refresh_token"]});
        let tokens = self
            .post(&url("/auth/refresh"), "refresh", &refresh)
            .await?;
        self.me(&url("/auth/me"), &tokens).await
    }

    async fn post(&self, url: &str, op: &'static str, body: &Value) -> Option<Value> {
        self.send(op, self.client.post(url).json(body)).await
    }

    async fn me(&self, url: &str, tokens: &Value) -> Option<()> {
        let token = tokens["access_token"].as_str().unwrap_or_default();
        self.send("me", self.client.get(url).bearer_auth(token))
            .await
            .map(|_| ())
    }

    /// Sends one request and records its answer; the body on a 2xx.
    async fn send(&self, op: &'static str, request: reqwest::RequestBuilder) -> Option<Value> {
        let started = Instant::now();
        let reply = match request.send().await {
            Ok(response) => Some(Reply::read(response).await),
            Err(_) => None,
        };
        let took = started.elapsed();
        let status = reply.as_ref().map_or(0, |r| r.status);
        let body: Option<Value> = reply
            .as_ref()
            .and_then(|r| serde_json::from_slice(&r.body).ok());
        let sample = Sample {
            op,
            started,
            took,
            status,
            error_code: body
                .as_ref()
                .and_then(|b| b["error_code"].as_str())
                .map(str::to_owned),
            retry_after: reply
                .as_ref()
                .and_then(|r| r.header("retry-after"))
                .map(str::to_owned),
        };
        let succeeded = sample.succeeded();
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sample);
        succeeded.then_some(body).flatten()
    }
}

/// The `percent`th percentile (nearest rank) of `durations`; zero for none.
pub fn percentile(durations: &[Duration], percent: usize) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}
