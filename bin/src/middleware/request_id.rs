//! Gives every request an id: a sane incoming `X-Request-ID` is kept, anything else is
//! replaced by a fresh UUIDv4. The id is stored in the request's extensions (for the root
//! span and the error envelope) and echoed on the response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _};

/// The id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Which header carries request ids (`REQUEST_ID_HEADER`), registered as app data.
#[derive(Debug, Clone)]
pub struct RequestIdHeader(pub HeaderName);

impl Default for RequestIdHeader {
    fn default() -> Self {
        Self(HeaderName::from_static("x-request-id"))
    }
}

/// Keeps `incoming` if it is 1–128 characters of `A-Z a-z 0-9 - _ .`; otherwise a new UUIDv4.
pub fn sanitize(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

/// The id of `req`, as set by [`request_id`]; empty if the middleware is not installed.
pub fn of(req: &actix_web::HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default()
}

/// The middleware function.
///
/// # Errors
///
/// Only those of the inner service.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let header = req
        .app_data::<RequestIdHeader>()
        .cloned()
        .unwrap_or_default()
        .0;
    let incoming = req.headers().get(&header).and_then(|v| v.to_str().ok());
    let id = sanitize(incoming);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(header, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn sane_ids_are_kept() {
        for id in [
            "abc",
            "550e8400-e29b-41d4-a716-446655440000",
            "a.b_c-D9",
            &"x".repeat(128),
        ] {
            assert_eq!(sanitize(Some(id)), id);
        }
    }

    #[test]
    fn anything_else_is_replaced_by_a_uuid() {
        for bad in [
            "",
            "has space",
            "semi;colon",
            "ünïcode",
            &"x".repeat(129),
            "a\nb",
        ] {
            let id = sanitize(Some(bad));
            assert_ne!(id, bad);
            assert!(
                uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4),
                "{id}"
            );
        }
        assert!(uuid::Uuid::parse_str(&sanitize(None)).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn a_sane_id_is_echoed_unchanged(id in "[A-Za-z0-9._-]{1,128}") {
            proptest::prop_assert_eq!(sanitize(Some(&id)), id);
        }

        #[test]
        fn any_text_gives_an_id_that_is_itself_kept_and_fits_a_header(
            text in proptest::prelude::any::<String>(),
        ) {
            let id = sanitize(Some(&text));
            proptest::prop_assert!(id == text || uuid::Uuid::parse_str(&id).is_ok());
            proptest::prop_assert_eq!(sanitize(Some(&id)), id.clone());
            proptest::prop_assert!(super::HeaderValue::from_str(&id).is_ok());
        }
    }
}
