//! Builds the app under test and small request helpers.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{App, test, web};
use auth_crypto::PasswordConfig;
use auth_errors::{ErrorBody, ErrorCode};
use auth_persistence::test_support::TestDb;
use auth_service::app::build_app;
use auth_service::error::ApiError;
use auth_service::settings::Settings;
use auth_service::startup::{Wiring, wire};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

/// Settings for an app on `db`.
pub fn settings(db: &TestDb) -> Settings {
    let mut settings = Settings::for_tests();
    settings.database = db.config().clone();
    settings
}

/// The production wiring on `db` with cheap password hashing.
pub async fn wiring(settings: &Settings) -> Wiring {
    wire(settings, PasswordConfig::for_tests()).await.unwrap()
}

/// The app, plus routes that only tests have: one that panics, one that is rate limited and
/// one slower than any test's request timeout, to check how the envelope renders them.
pub async fn app_with(
    settings: Settings,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    let Wiring { state, http, .. } = wiring(&settings).await;
    test::init_service(with_test_routes(build_app(state, http))).await
}

/// The app with default test settings on `db`.
pub async fn app(
    db: &TestDb,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    app_with(settings(db)).await
}

fn with_test_routes<T>(app: App<T>) -> App<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.route("/test/panic", web::get().to(panicking))
        .route(
            "/test/limited",
            web::get().to(|| async {
                Err::<String, _>(ApiError::rate_limited(std::time::Duration::from_secs(30)))
            }),
        )
        .route("/test/slow", web::get().to(slow))
}

/// How long `/test/slow` takes: far longer than [`SHORT_TIMEOUT`].
pub const SLOW: std::time::Duration = std::time::Duration::from_secs(5);

/// A request timeout short enough for tests.
pub const SHORT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);

async fn slow() -> &'static str {
    tokio::time::sleep(SLOW).await;
    "finally"
}

async fn panicking() -> &'static str {
    panic!("boom: secret detail")
}

/// A JSON POST.
pub fn post(path: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri(path)
        .insert_header(ContentType::json())
        .set_payload(body.to_string())
}

/// A register body for `email` / `username` with the test password.
pub fn register_body(email: &str, username: &str) -> Value {
    json!({"email": email, "username": username, "password": PASSWORD})
}

/// Sends `req` and returns the status, headers and JSON body (Null when empty).
pub async fn send<S, B>(
    app: &S,
    req: test::TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    // An error that leaves the service (a panic caught by the envelope) is rendered by its
    // `error_response`, as the server's dispatcher would.
    let (status, headers, bytes) = match test::try_call_service(app, req.to_request()).await {
        Ok(res) => {
            let (status, headers) = (res.status(), res.headers().clone());
            (status, headers, test::read_body(res).await)
        }
        Err(err) => {
            let res = err.error_response();
            let (status, headers) = (res.status(), res.headers().clone());
            let body = actix_web::body::to_bytes(res.into_body())
                .await
                .unwrap_or_default();
            (status, headers, body)
        }
    };
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, headers, body)
}

/// Registers Ann and returns the token response.
pub async fn register<S, B>(app: &S) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, _, body) = send(
        app,
        post("/auth/register", &register_body("Ann@Example.com", "Ann")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Checks an error response: status, code, envelope shape, JSON content type and that the
/// body's request id is the one in the header.
pub fn assert_error(
    (status, headers, body): &(StatusCode, actix_web::http::header::HeaderMap, Value),
    expected_status: u16,
    expected_code: ErrorCode,
) -> ErrorBody {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/json",
        "{body}"
    );
    let envelope: ErrorBody = serde_json::from_value(body.clone()).expect("error envelope");
    assert_eq!(envelope.error_code, expected_code, "{body}");
    assert!(!envelope.request_id.is_empty());
    assert_eq!(
        headers.get("x-request-id").unwrap().to_str().unwrap(),
        envelope.request_id
    );
    let timestamp = body["timestamp"].as_str().unwrap();
    assert_eq!(
        timestamp.len(),
        "2024-01-15T10:30:45.123Z".len(),
        "{timestamp}"
    );
    assert!(timestamp.ends_with('Z'));
    envelope
}
