//! Counts every request of the public app in `auth_http_requests_total{route, method, status}`
//! and times it in `auth_http_request_duration_seconds{route, method}`.
//!
//! Label values come from fixed sets, never from the client: `route` is the matched route
//! pattern (`/auth/me`, not a raw path) or `unmatched`, `method` one of the standard methods
//! or `other`. The handles of each series are registered once, on its first request, and kept
//! here, so a request costs a map look-up and two atomic updates.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use metrics::{Counter, Histogram};

use crate::prometheus::Metrics;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// One series: the labels of a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    route: Option<String>,
    method: &'static str,
    status: u16,
}

/// The handles of one series.
#[derive(Clone)]
struct Series {
    requests: Counter,
    duration: Histogram,
}

/// The request metrics of one application, registered as app data.
#[derive(Clone)]
pub struct RequestMetrics {
    metrics: Metrics,
    series: Arc<RwLock<HashMap<SeriesKey, Series>>>,
}

impl std::fmt::Debug for RequestMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestMetrics").finish_non_exhaustive()
    }
}

impl RequestMetrics {
    /// Request metrics recorded in `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            metrics,
            series: Arc::default(),
        }
    }

    /// The handles of `key`, registered on first use.
    fn series(&self, key: SeriesKey) -> Series {
        let known = self.series.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known.get(&key) {
            return series.clone();
        }
        drop(known);
        let route = key.route.clone().unwrap_or_else(|| UNMATCHED.to_owned());
        let (method, status) = (key.method, key.status.to_string());
        let series = self.metrics.scope(|| Series {
            requests: metrics::counter!(
                "auth_http_requests_total",
                "route" => route.clone(),
                "method" => method,
                "status" => status,
            ),
            duration: metrics::histogram!(
                "auth_http_request_duration_seconds",
                "route" => route,
                "method" => method,
            ),
        });
        let mut known = self.series.write().unwrap_or_else(PoisonError::into_inner);
        known.entry(key).or_insert(series).clone()
    }
}

/// The method label: a standard method's name, or `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The middleware function; does nothing when the app has no [`RequestMetrics`] (metrics
/// off).
///
/// # Errors
///
/// Only those of the inner service.
pub async fn http_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(recorded) = req.app_data::<web::Data<RequestMetrics>>().cloned() else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = method_label(req.method());
    let outcome = next.call(req).await;
    // The pattern is read after routing; a failure without a response has none.
    let (route, status) = match &outcome {
        Ok(res) => (res.request().match_pattern(), res.status()),
        Err(err) => (None, error_status(err)),
    };
    let series = recorded.series(SeriesKey {
        route,
        method,
        status: status.as_u16(),
    });
    series.requests.increment(1);
    series.duration.record(started.elapsed());
    outcome
}

fn error_status(err: &Error) -> StatusCode {
    err.as_response_error().status_code()
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::method_label;

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let custom = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&custom), "other");
    }
}
