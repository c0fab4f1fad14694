//! Hands the request id and the client address to the audit trail of `auth_services` for the
//! duration of the request.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _};
use auth_services::{RequestContext, with_request_context};

use super::request_id::RequestId;
use crate::client_ip;

/// The middleware function.
///
/// # Errors
///
/// Only those of the inner service.
pub async fn audit_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
    let client_ip = client_ip::of(req.request());
    with_request_context(
        RequestContext {
            request_id,
            client_ip,
        },
        next.call(req),
    )
    .await
}
