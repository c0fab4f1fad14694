//! Every non-2xx response leaves in the contract's JSON envelope, whatever produced it: a
//! handler's [`ApiError`], an extractor, the router (404/405), CORS, the request timeout, or a
//! panic.
//!
//! Handler errors keep their classification and headers; bare framework responses are
//! classified by status. The framework's own text never reaches the client. A panic in a
//! handler is caught here and becomes a 500 instead of a dropped connection.

use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use auth_errors::{ErrorBody, ErrorCode};
use futures::FutureExt as _;

use super::request_id::{self, RequestIdHeader};
use crate::error::ApiError;

/// The code for a response that carries no [`ApiError`].
pub fn code_for_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::InvalidToken,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::ServiceUnavailable,
        400..=499 => ErrorCode::ValidationError,
        _ => ErrorCode::InternalError,
    }
}

/// The middleware function.
///
/// It holds no clone of the request while the inner service runs (routing needs it unshared),
/// so a failure that arrives without a response (an inner error or a panic) leaves as an
/// [`Enveloped`] error that renders the envelope, request id header included, by itself.
///
/// # Errors
///
/// Inner errors and panics, already enveloped.
pub async fn envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = request_id::of(req.request());
    let header = req
        .app_data::<RequestIdHeader>()
        .cloned()
        .unwrap_or_default()
        .0;
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(res)) if is_failure(res.status()) => Ok(enveloped(res.map_into_boxed_body())),
        Ok(Ok(res)) => Ok(res.map_into_boxed_body()),
        Ok(Err(err)) => {
            let status = err.as_response_error().status_code();
            let api_error = err.as_error::<ApiError>();
            let body = body_for(status, api_error, &request_id);
            if api_error.is_none() && status.is_server_error() {
                tracing::error!(cause = ?err, "request failed");
            }
            Err(Enveloped {
                status,
                body,
                request_id_header: header,
                kept_headers: kept_headers(&err.error_response()),
            }
            .into())
        }
        Err(_) => {
            tracing::error!("handler panicked");
            let api_error = ApiError::internal("handler panicked");
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            let body = body_for(status, Some(&api_error), &request_id);
            Err(Enveloped {
                status,
                body,
                request_id_header: header,
                kept_headers: Vec::new(),
            }
            .into())
        }
    }
}

/// The headers of an inner error's own response that its envelope keeps: `Retry-After` (429,
/// 503) and `WWW-Authenticate` (401).
fn kept_headers(response: &HttpResponse) -> Vec<(HeaderName, HeaderValue)> {
    [header::RETRY_AFTER, header::WWW_AUTHENTICATE]
        .into_iter()
        .filter_map(|name| {
            let value = response.headers().get(&name)?.clone();
            Some((name, value))
        })
        .collect()
}

fn is_failure(status: StatusCode) -> bool {
    status.is_client_error() || status.is_server_error()
}

fn enveloped(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let request_id = request_id::of(res.request());
    let status = res.status();
    let (req, response) = res.into_parts();
    let api_error = response.error().and_then(|e| e.as_error::<ApiError>());
    let body = body_for(status, api_error, &request_id);
    if api_error.is_none() && status.is_server_error() {
        let cause = response
            .error()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        tracing::error!(cause, "request failed");
    }
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = response.set_body(BoxBody::new(json));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    ServiceResponse::new(req, response)
}

/// The envelope for a failed response, logged once here.
fn body_for(status: StatusCode, api_error: Option<&ApiError>, request_id: &str) -> ErrorBody {
    let now = time::OffsetDateTime::now_utc();
    match api_error {
        Some(api_error) => {
            log_failure(status, api_error);
            api_error.body(request_id, now)
        }
        None => ErrorBody::from_code(code_for_status(status), request_id, now),
    }
}

/// A failure that reached this middleware without a response, rendered as the envelope with
/// the inner error's `Retry-After` and `WWW-Authenticate`.
#[derive(Debug)]
pub struct Enveloped {
    status: StatusCode,
    body: ErrorBody,
    request_id_header: HeaderName,
    kept_headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for Enveloped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.body.detail)
    }
}

impl ResponseError for Enveloped {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Ok(id) = HeaderValue::from_str(&self.body.request_id) {
            response.insert_header((self.request_id_header.clone(), id));
        }
        for kept in &self.kept_headers {
            response.insert_header(kept.clone());
        }
        response.json(&self.body)
    }
}

fn log_failure(status: StatusCode, api_error: &ApiError) {
    let code = api_error.code();
    if status.is_server_error() {
        tracing::error!(error_code = %code, cause = ?api_error, "request failed");
    } else {
        tracing::info!(error_code = %code, detail = %api_error, "request refused");
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use auth_errors::ErrorCode;

    use super::code_for_status;

    #[test]
    fn bare_statuses_map_to_the_contract_codes() {
        let table = [
            (400, ErrorCode::ValidationError),
            (401, ErrorCode::InvalidToken),
            (404, ErrorCode::NotFound),
            (405, ErrorCode::MethodNotAllowed),
            (408, ErrorCode::ValidationError),
            (413, ErrorCode::PayloadTooLarge),
            (415, ErrorCode::UnsupportedMediaType),
            (429, ErrorCode::RateLimited),
            (500, ErrorCode::InternalError),
            (502, ErrorCode::InternalError),
            (503, ErrorCode::ServiceUnavailable),
        ];
        for (status, code) in table {
            assert_eq!(
                code_for_status(StatusCode::from_u16(status).unwrap()),
                code,
                "{status}"
            );
        }
    }
}
