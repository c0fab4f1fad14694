//! Browser hardening headers on every response, errors included.
//!
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`
//! and a `Content-Security-Policy`: nothing may load for API responses; the documentation
//! pages may load their own scripts, styles, images and workers from this origin only. Every
//! failure also gets `Cache-Control: no-store`, so no cache keeps an answer about a token.
//!
//! A failure that leaves the inner stack as an error rather than a response (a panic, a
//! timeout) is wrapped in [`Hardened`], whose rendering adds the same headers.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};

use super::path::is_under;

/// The policy of API responses: JSON loads nothing and may not be framed.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of Swagger UI and ReDoc: both load only files served by this binary, and fetch
/// `/openapi.json` (and "Try it out" requests) from this origin. Checked in headless Chromium
/// with no violation reported, and with each relaxation removed in turn: Swagger UI and ReDoc
/// inject `<style>` elements (`'unsafe-inline'` styles; ReDoc renders unstyled without), ReDoc
/// shows `data:` images and runs its search index in a `blob:` worker. No inline script and no
/// `eval` is needed.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; \
     connect-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

/// Path prefixes of the documentation pages.
const DOCS_PREFIXES: [&str; 2] = ["/docs", "/redoc"];

/// Whether `path` is a documentation page or one of its assets (`/docs`, `/docs/…`,
/// `/redoc`, `/redoc/…`).
pub fn is_docs(path: &str) -> bool {
    DOCS_PREFIXES.iter().any(|prefix| is_under(path, prefix))
}

/// The policy for a response to `path` with `status`. Failures are JSON envelopes wherever
/// they happen, so they get the API policy.
pub fn csp_for(path: &str, status: StatusCode) -> &'static str {
    if is_docs(path) && !is_failure(status) {
        DOCS_CSP
    } else {
        API_CSP
    }
}

/// Sets the hardening headers of a response with `status` on `headers`, replacing any
/// earlier value.
pub fn apply(headers: &mut HeaderMap, status: StatusCode, csp: &'static str) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    if is_failure(status) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn is_failure(status: StatusCode) -> bool {
    status.is_client_error() || status.is_server_error()
}

/// The middleware function.
///
/// # Errors
///
/// Those of the inner service, wrapped in [`Hardened`].
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path().to_owned();
    match next.call(req).await {
        Ok(mut res) => {
            let status = res.status();
            apply(res.headers_mut(), status, csp_for(&path, status));
            Ok(res)
        }
        Err(err) => Err(Hardened(err).into()),
    }
}

/// An error from the inner stack whose response gets the hardening headers too.
#[derive(Debug)]
pub struct Hardened(pub Error);

impl std::fmt::Display for Hardened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl ResponseError for Hardened {
    fn status_code(&self) -> StatusCode {
        self.0.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.0.error_response();
        let status = response.status();
        apply(response.headers_mut(), status, API_CSP);
        response
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;

    use super::{API_CSP, DOCS_CSP, csp_for, is_docs};

    #[test]
    fn docs_paths_are_the_pages_and_their_assets_only() {
        for docs in [
            "/docs",
            "/docs/",
            "/docs/swagger-ui.css",
            "/redoc",
            "/redoc/LICENSE",
        ] {
            assert!(is_docs(docs), "{docs}");
        }
        for api in ["/", "/documents", "/redocx", "/openapi.json", "/auth/docs"] {
            assert!(!is_docs(api), "{api}");
        }
    }

    #[test]
    fn only_successful_docs_responses_get_the_docs_policy() {
        assert_eq!(csp_for("/docs/", StatusCode::OK), DOCS_CSP);
        assert_eq!(csp_for("/docs", StatusCode::PERMANENT_REDIRECT), DOCS_CSP);
        assert_eq!(csp_for("/docs/nope.js", StatusCode::NOT_FOUND), API_CSP);
        assert_eq!(csp_for("/health", StatusCode::OK), API_CSP);
    }
}
