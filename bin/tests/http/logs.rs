//! What the logs of a whole session say, and what they never say.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::test::TestRequest;
use auth_persistence::test_support::TestDb;
use auth_persistence::users;
use auth_service::settings::{LogFilter, LogFormat};
use auth_service::telemetry;
use serde_json::{Value, json};
use tracing::level_filters::LevelFilter;

use crate::support::{PASSWORD, app, post, register_body, send};

/// An in-memory log sink.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One process-wide JSON subscriber at TRACE, installed on first use. A global subscriber,
/// not a per-thread one: tracing caches per-callsite interest across threads, so a
/// thread-local subscriber misses events whose callsite another test reached first.
fn sink() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Sink::default();
        let writer = sink.clone();
        let filter = LogFilter::level(LevelFilter::TRACE);
        let subscriber = telemetry::subscriber(&filter, LogFormat::Json, move || writer.clone());
        tracing::subscriber::set_global_default(subscriber).unwrap();
        sink
    })
}

/// The log lines of the requests whose id starts with `prefix`.
fn lines_of(prefix: &str) -> Vec<Value> {
    let logs = String::from_utf8(sink().0.lock().unwrap().clone()).unwrap();
    logs.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect(line))
        .filter(|line| {
            line["request_id"]
                .as_str()
                .is_some_and(|id| id.starts_with(prefix))
        })
        .collect()
}

fn tagged(req: TestRequest, prefix: &str, n: usize) -> TestRequest {
    req.insert_header(("X-Request-ID", format!("{prefix}-{n}")))
}

#[tokio::test(flavor = "current_thread")]
async fn a_session_logs_ids_and_outcomes_but_no_secrets() {
    let sink = sink();
    let tag = "logs-session";
    let db = TestDb::sqlite().await;
    let app = app(&db).await;
    let register = post("/auth/register", &register_body("ann@example.com", "ann"));
    let (_, _, registered) = send(&app, tagged(register, tag, 1)).await;
    let login = post(
        "/auth/login",
        &json!({"email": "ann@example.com", "password": PASSWORD}),
    );
    let (_, _, logged_in) = send(&app, tagged(login, tag, 2)).await;
    let refresh = post(
        "/auth/refresh",
        &json!({"refresh_token": logged_in["refresh_token"]}),
    );
    let (_, _, refreshed) = send(&app, tagged(refresh, tag, 3)).await;
    let bearer = format!("Bearer {}", refreshed["access_token"].as_str().unwrap());
    let me = TestRequest::get()
        .uri("/auth/me?token=secret-in-query")
        .insert_header(("Authorization", bearer.as_str()));
    send(&app, tagged(me, tag, 4)).await;
    let wrong = post(
        "/auth/login",
        &json!({"email": "ann@example.com", "password": "a wrong password"}),
    );
    send(&app, tagged(wrong, tag, 5)).await;

    let stored_hash = users::find_by_email(db.pool(), "ann@example.com")
        .await
        .unwrap()
        .unwrap()
        .hashed_password;
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let secrets = [
        PASSWORD.to_owned(),
        "a wrong password".to_owned(),
        stored_hash,
        "secret-in-query".to_owned(),
        bearer.clone(),
    ];
    let tokens = [&registered, &logged_in, &refreshed]
        .into_iter()
        .flat_map(|body| {
            [
                body["access_token"].as_str().unwrap().to_owned(),
                body["refresh_token"].as_str().unwrap().to_owned(),
            ]
        });
    for secret in secrets.into_iter().chain(tokens) {
        // Not even a fragment: a token's signature alone matters.
        let fragment = &secret[secret.len().saturating_sub(16)..];
        assert!(!logs.contains(fragment), "log leaks {fragment}:\n{logs}");
    }

    let lines = lines_of(tag);
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "request completed")
        .collect();
    assert_eq!(access.len(), 5, "one access line per request: {lines:#?}");
    let login = access
        .iter()
        .find(|l| l["path"] == "/auth/login" && l["status_code"] == 200)
        .expect("login line");
    for field in [
        "timestamp",
        "level",
        "request_id",
        "method",
        "path",
        "status_code",
        "duration_ms",
        "user_id",
    ] {
        assert!(!login[field].is_null(), "{field} missing in {login}");
    }
    assert_eq!(login["method"], "POST");
    assert_eq!(login["level"], "INFO");
    let me = access.iter().find(|l| l["path"] == "/auth/me").unwrap();
    assert_eq!(me["query"], "token=***");
    assert!(me["user_id"].is_i64(), "{me}");
    let failure = lines
        .iter()
        .find(|l| l["message"] == "login failed")
        .expect("failure is logged");
    assert_eq!(
        failure["reason"], "wrong_password",
        "the internal reason reaches the log only"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn health_and_docs_requests_log_at_debug_only() {
    sink();
    let db = TestDb::sqlite().await;
    let app = app(&db).await;
    let tag = "logs-quiet";
    for (n, uri) in [
        "/health",
        "/health/ready",
        "/openapi.json",
        "/redoc",
        "/docs/",
        "/",
    ]
    .into_iter()
    .enumerate()
    {
        send(&app, tagged(TestRequest::get().uri(uri), tag, n)).await;
    }
    let lines = lines_of(tag);
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "request completed")
        .collect();
    assert_eq!(access.len(), 6, "{lines:#?}");
    for line in access {
        let expected = if line["path"] == "/" { "INFO" } else { "DEBUG" };
        assert_eq!(line["level"], expected, "{line}");
    }
}
