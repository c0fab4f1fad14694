//! The actix-web extractor (the `actix` feature).
//!
//! Register a [`Verifier`] as `web::Data<Verifier>`; a handler taking [`Bearer`] runs only for
//! requests with a valid access token. Others get 401 with the auth service's error envelope
//! and `WWW-Authenticate: Bearer`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};

use crate::envelope::{CHALLENGE, Unauthorized, bearer};
use crate::{AccessClaims, Verifier, VerifyError};

/// The claims of the request's verified access token.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use auth_verifier::{Algorithm, Verifier, actix::Bearer};
///
/// async fn orders(Bearer(claims): Bearer) -> HttpResponse {
///     HttpResponse::Ok().body(format!("orders of user {}", claims.sub))
/// }
///
/// let verifier = Verifier::hmac(Algorithm::HS256, &[7; 32])?;
/// let app = App::new()
///     .app_data(web::Data::new(verifier))
///     .route("/orders", web::get().to(orders));
/// # Ok::<(), auth_verifier::KeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bearer(pub AccessClaims);

impl FromRequest for Bearer {
    type Error = Unauthorized;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Unauthorized>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>().cloned();
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        let token = bearer(header(header::AUTHORIZATION)).map(str::to_owned);
        let request_id = header(header::HeaderName::from_static("x-request-id")).map(str::to_owned);
        Box::pin(async move {
            let refuse = |reason| Unauthorized::new(reason, request_id.as_deref());
            let verifier = verifier.ok_or_else(|| refuse(VerifyError::KeysUnavailable))?;
            let token = token.map_err(refuse)?;
            verifier.verify(&token).await.map(Self).map_err(refuse)
        })
    }
}

impl ResponseError for Unauthorized {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, CHALLENGE))
            .insert_header(("x-request-id", self.body.request_id.as_str()))
            .content_type("application/json")
            .body(self.json())
    }
}
