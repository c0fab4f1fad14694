//! Extractors and extractor settings: the request context, the bearer-token guard and the
//! JSON body rules.
//!
//! [`Authenticated`] can be reused by any Actix service that registers an
//! `web::Data<AuthService>`: it checks the access token and that its session is live. The
//! token itself is checked by the `auth-verifier` core (through the services' token codec),
//! the same code other services verify offline with; only the session check is extra, which
//! is what lets this service see a logout at once. A service that cannot reach the database
//! uses `auth_verifier::actix::Bearer` instead.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::error::JsonPayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use auth_errors::{ErrorCode, FieldError};
use auth_services::{AuthService, Principal, RequestContext};
use tracing::Instrument as _;

use crate::client_ip;
use crate::error::ApiError;
use crate::middleware::request_id;

/// The request's id, client address and user agent, handed to the services that throttle,
/// audit or open sessions.
#[derive(Debug, Clone)]
pub struct Context(pub RequestContext);

impl FromRequest for Context {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = Some(request_id::of(req)).filter(|id| !id.is_empty());
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        ready(Ok(Self(RequestContext {
            request_id,
            client_ip: client_ip::of(req),
            user_agent,
        })))
    }
}

/// The caller, proven by an `Authorization: Bearer <access token>` header: the one guard of
/// every endpoint that takes an access token.
///
/// Missing, malformed, expired or revoked tokens, tokens of an ended or idle session and of
/// an inactive or deleted user are refused with 401 and a `WWW-Authenticate: Bearer`
/// challenge. The user id is recorded on the request span.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// The token of an `Authorization: Bearer …` header (the scheme is case-insensitive).
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req).map(str::to_owned);
        let auth = req.app_data::<web::Data<AuthService>>().cloned();
        Box::pin(async move {
            let Some(auth) = auth else {
                return Err(ApiError::internal("AuthService is not registered"));
            };
            let token = token.ok_or(ApiError::new(ErrorCode::InvalidToken))?;
            // Its own task: Actix drops the other extractors of a handler as soon as one
            // fails (a body that is not JSON), and a database call dropped halfway through
            // must not take the connection with it. The task finishes on its own.
            let checking = async move { auth.authenticate(&token).await };
            let principal = tokio::spawn(checking.instrument(tracing::Span::current()))
                .await
                .map_err(ApiError::internal)??;
            tracing::Span::current().record("user_id", principal.user_id.get());
            Ok(Self(principal))
        })
    }
}

/// JSON body rules: at most `limit` bytes, `Content-Type: application/json`, and extractor
/// failures turned into the contract's errors (413, 415, 400 with the failing field).
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(&err).into())
}

fn json_error(err: &JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType),
        JsonPayloadError::Deserialize(inner) => ApiError::invalid(vec![field_error(inner)]),
        _ => ApiError::invalid(vec![FieldError::new("body", "could not be read")]),
    }
}

/// Names the failing field of a serde error where serde says which one.
fn field_error(err: &serde_json::Error) -> FieldError {
    use serde_json::error::Category;
    let text = err.to_string();
    if err.classify() == Category::Data {
        if let Some(name) = between(&text, "missing field `", "`") {
            return FieldError::new(name, "is required");
        }
        if let Some(name) = between(&text, "unknown field `", "`") {
            return FieldError::new(name, "is not allowed");
        }
        // serde refuses a repeated key rather than let one of the values silently win.
        if let Some(name) = between(&text, "duplicate field `", "`") {
            return FieldError::new(name, "is given more than once");
        }
        return FieldError::new("body", "has a field of the wrong type");
    }
    FieldError::new("body", "is not valid JSON")
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::{bearer_token, field_error};

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_nothing_else_is() {
        let req = TestRequest::default()
            .insert_header(("Authorization", "bearer abc.def"))
            .to_http_request();
        assert_eq!(bearer_token(&req), Some("abc.def"));
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc"] {
            let req = TestRequest::default()
                .insert_header(("Authorization", bad))
                .to_http_request();
            assert_eq!(bearer_token(&req), None, "{bad}");
        }
        assert_eq!(
            bearer_token(&TestRequest::default().to_http_request()),
            None
        );
    }

    #[test]
    fn serde_errors_name_the_failing_field() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only deserialised")]
        struct Body {
            email: String,
        }
        let missing = serde_json::from_str::<Body>("{}").unwrap_err();
        assert_eq!(field_error(&missing).field, "email");
        let unknown = serde_json::from_str::<Body>(r#"{"email":"a","x":1}"#).unwrap_err();
        assert_eq!(field_error(&unknown).field, "x");
        let twice = serde_json::from_str::<Body>(r#"{"email":"a","email":"b"}"#).unwrap_err();
        assert_eq!(field_error(&twice).field, "email");
        assert_eq!(field_error(&twice).message, "is given more than once");
        let syntax = serde_json::from_str::<Body>("{").unwrap_err();
        assert_eq!(field_error(&syntax).message, "is not valid JSON");
    }
}
