//! Refuses request bodies sent with a `Content-Encoding` other than `identity`.
//!
//! The server inflates no request body: an inflating extractor checks the size limit only
//! after each chunk is inflated, so a small compressed body could grow far past it in memory.
//! Refusing here answers 415 before any handler or extractor reads the body.

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use auth_errors::ErrorCode;

use crate::error::ApiError;

/// The middleware function: 415 `UNSUPPORTED_MEDIA_TYPE` for an encoded body, the inner
/// service otherwise.
///
/// # Errors
///
/// Those of the inner service.
pub async fn content_encoding(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if is_identity(req.headers()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let refused = ApiError::new(ErrorCode::UnsupportedMediaType);
    Ok(req.error_response(refused).map_into_right_body())
}

/// Whether the body is sent as is: no `Content-Encoding`, or only `identity` codings.
pub fn is_identity(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).all(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(',')
                .map(str::trim)
                .all(|coding| coding.is_empty() || coding.eq_ignore_ascii_case("identity"))
        })
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{CONTENT_ENCODING, HeaderMap, HeaderValue};

    use super::is_identity;

    fn with(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(CONTENT_ENCODING, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn only_absent_or_identity_encodings_pass() {
        assert!(is_identity(&with(&[])));
        assert!(is_identity(&with(&["identity"])));
        assert!(is_identity(&with(&["Identity", " identity "])));
        assert!(!is_identity(&with(&["gzip"])));
        assert!(!is_identity(&with(&["identity, br"])));
        assert!(!is_identity(&with(&["identity", "deflate"])));
        assert!(!is_identity(&with(&["x-unknown"])));
    }
}
