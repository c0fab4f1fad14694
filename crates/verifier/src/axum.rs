//! The axum extractor (the `axum` feature).
//!
//! Put a [`Verifier`] in the router's state (or anything it can be taken from with
//! `FromRef`); a handler taking [`Bearer`] runs only for requests with a valid access token.
//! Others get 401 with the auth service's error envelope and `WWW-Authenticate: Bearer`.

use axum_core::extract::{FromRef, FromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::envelope::{CHALLENGE, Unauthorized, bearer};
use crate::{AccessClaims, Verifier};

/// The claims of the request's verified access token.
///
/// ```
/// use axum::{Router, routing::get};
/// use auth_verifier::{Algorithm, Verifier, axum::Bearer};
///
/// async fn orders(Bearer(claims): Bearer) -> String {
///     format!("orders of user {}", claims.sub)
/// }
///
/// let verifier = Verifier::hmac(Algorithm::HS256, &[7; 32])?;
/// let app: Router = Router::new().route("/orders", get(orders)).with_state(verifier);
/// # Ok::<(), auth_verifier::KeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bearer(pub AccessClaims);

impl<S> FromRequestParts<S> for Bearer
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Unauthorized> {
        let verifier = Verifier::from_ref(state);
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let request_id = header(header::HeaderName::from_static("x-request-id"));
        let refuse = |reason| Unauthorized::new(reason, request_id);
        let token = bearer(header(header::AUTHORIZATION)).map_err(refuse)?;
        verifier.verify(token).await.map(Self).map_err(refuse)
    }
}

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::UNAUTHORIZED, self.json()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(id) = HeaderValue::from_str(&self.body.request_id) {
            headers.insert("x-request-id", id);
        }
        response
    }
}
