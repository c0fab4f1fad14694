//! `ApiError`: the one place where what went wrong becomes an HTTP answer.
//!
//! Each service error enum maps here, variant by variant, to a code of the contract (and so a
//! status), a safe detail and, for 429 and 503, a wait. 401s for tokens carry
//! `WWW-Authenticate: Bearer`, 429 and 503 carry `Retry-After` in whole seconds. The envelope
//! middleware fills in the request id; the cause chain goes to the log, never to the client.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_errors::{ErrorBody, ErrorCode, FieldError};
use auth_services::{
    AccountError, AdminError, BoxError, Fault, Invalid, LoginError, RefreshError, RegisterError,
    TokenError,
};

/// A failure on its way to a client.
pub struct ApiError {
    code: ErrorCode,
    fields: Vec<FieldError>,
    retry_after: Option<Duration>,
    /// A safe detail more precise than the code's default, if any.
    detail: Option<Cow<'static, str>>,
    cause: Option<BoxError>,
}

impl ApiError {
    /// A failure with `code` and its default detail.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            fields: Vec::new(),
            retry_after: None,
            detail: None,
            cause: None,
        }
    }

    /// The same failure told with `detail`, which must be safe for any client to read (never
    /// a cause's text).
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// A 400 naming the failing fields.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            fields,
            ..Self::new(ErrorCode::ValidationError)
        }
    }

    /// A 500 whose cause only the log sees.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(ErrorCode::InternalError)
        }
    }

    /// A 429 asking to wait `retry_after`.
    pub fn rate_limited(retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(ErrorCode::RateLimited)
        }
    }

    /// The contract's code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The safe, client-facing message.
    pub fn detail(&self) -> Cow<'static, str> {
        if let Some(detail) = &self.detail {
            detail.clone()
        } else if self.fields.is_empty() {
            Cow::Borrowed(self.code.default_detail())
        } else {
            Cow::Owned(auth_errors::join_fields(&self.fields))
        }
    }

    /// The envelope, as seen by request `request_id` at `at`.
    pub fn body(&self, request_id: &str, at: time::OffsetDateTime) -> ErrorBody {
        let mut body = if self.code == ErrorCode::ValidationError {
            ErrorBody::validation(self.fields.clone(), request_id, at)
        } else {
            ErrorBody::from_code(self.code, request_id, at)
        };
        if let Some(detail) = &self.detail {
            body.detail = detail.clone().into_owned();
        }
        body
    }
}

impl From<Fault> for ApiError {
    fn from(fault: Fault) -> Self {
        let retry_after = fault.retry_after();
        let code = if retry_after.is_some() {
            ErrorCode::ServiceUnavailable
        } else {
            ErrorCode::InternalError
        };
        Self {
            retry_after,
            cause: Some(fault.into()),
            ..Self::new(code)
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::invalid(invalid.0)
    }
}

impl From<RegisterError> for ApiError {
    fn from(err: RegisterError) -> Self {
        match err {
            RegisterError::Invalid(invalid) => invalid.into(),
            RegisterError::UserExists => Self::new(ErrorCode::UserExists),
            RegisterError::RateLimited { retry_after } => Self::rate_limited(retry_after),
            RegisterError::Fault(fault) => fault.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::InvalidCredentials => Self::new(ErrorCode::InvalidCredentials),
            LoginError::RateLimited { retry_after } => Self::rate_limited(retry_after),
            LoginError::Fault(fault) => fault.into(),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(err: RefreshError) -> Self {
        match err {
            RefreshError::InvalidToken => Self::new(ErrorCode::InvalidToken),
            RefreshError::TokenExpired => Self::new(ErrorCode::TokenExpired),
            RefreshError::RateLimited { retry_after } => Self::rate_limited(retry_after),
            RefreshError::Fault(fault) => fault.into(),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::InvalidToken => Self::new(ErrorCode::InvalidToken),
            TokenError::TokenExpired => Self::new(ErrorCode::TokenExpired),
            TokenError::Fault(fault) => fault.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Invalid(invalid) => invalid.into(),
            AccountError::InvalidCredentials => Self::new(ErrorCode::InvalidCredentials),
            AccountError::RateLimited { retry_after } => Self::rate_limited(retry_after),
            AccountError::SessionNotFound => Self::new(ErrorCode::NotFound),
            AccountError::InvalidToken => Self::new(ErrorCode::InvalidToken),
            AccountError::Fault(fault) => fault.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::UnknownUser => Self::new(ErrorCode::NotFound),
            AdminError::Invalid(invalid) => invalid.into(),
            AdminError::Fault(fault) => fault.into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

/// The code and the whole cause chain, for logs.
impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail())?;
        if let Some(cause) = &self.cause {
            write!(f, ": {}", chain(cause.as_ref()))?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        add_error_headers(self, &mut response);
        response.json(self.body("", time::OffsetDateTime::now_utc()))
    }
}

/// Adds the headers an error's status calls for: `WWW-Authenticate` on token failures,
/// `Retry-After` on 429 and 503.
pub(crate) fn add_error_headers(err: &ApiError, response: &mut actix_web::HttpResponseBuilder) {
    if matches!(err.code, ErrorCode::InvalidToken | ErrorCode::TokenExpired) {
        let description = err.detail();
        let value = format!(r#"Bearer error="invalid_token", error_description="{description}""#);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
    }
    if let Some(wait) = err.retry_after {
        response.insert_header((header::RETRY_AFTER, retry_after_secs(wait)));
    }
}

/// A wait as `Retry-After` carries it: whole seconds, rounded up, at least one.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// An error and its causes on one line, `: `-separated, for logs and operators.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string().replace('\n', " ");
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string().replace('\n', " "));
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::ResponseError as _;
    use actix_web::http::header;
    use auth_errors::ErrorCode;
    use auth_services::{
        AccountError, Fault, Invalid, LoginError, RefreshError, RegisterError, TokenError,
    };

    use super::{ApiError, retry_after_secs};

    #[test]
    fn every_service_outcome_maps_to_its_code() {
        let secs = Duration::from_secs(7);
        let outage = || Fault::Unavailable(std::io::Error::other("refused").into());
        let table: Vec<(ApiError, ErrorCode)> = vec![
            (RegisterError::UserExists.into(), ErrorCode::UserExists),
            (
                RegisterError::RateLimited { retry_after: secs }.into(),
                ErrorCode::RateLimited,
            ),
            (
                LoginError::InvalidCredentials.into(),
                ErrorCode::InvalidCredentials,
            ),
            (
                LoginError::Fault(outage()).into(),
                ErrorCode::ServiceUnavailable,
            ),
            (RefreshError::InvalidToken.into(), ErrorCode::InvalidToken),
            (RefreshError::TokenExpired.into(), ErrorCode::TokenExpired),
            (TokenError::InvalidToken.into(), ErrorCode::InvalidToken),
            (
                TokenError::Fault(Fault::CircuitOpen { retry_after: secs }).into(),
                ErrorCode::ServiceUnavailable,
            ),
            (
                TokenError::Fault(Fault::internal("boom")).into(),
                ErrorCode::InternalError,
            ),
            (
                AccountError::Invalid(Invalid::field("new_password", "x")).into(),
                ErrorCode::ValidationError,
            ),
            (
                AccountError::InvalidCredentials.into(),
                ErrorCode::InvalidCredentials,
            ),
            (
                AccountError::RateLimited { retry_after: secs }.into(),
                ErrorCode::RateLimited,
            ),
            (AccountError::SessionNotFound.into(), ErrorCode::NotFound),
            (AccountError::InvalidToken.into(), ErrorCode::InvalidToken),
            (
                AccountError::Fault(outage()).into(),
                ErrorCode::ServiceUnavailable,
            ),
        ];
        for (err, code) in table {
            assert_eq!(err.code(), code, "{err:?}");
            let expects_wait = matches!(code.status(), 429 | 503);
            assert_eq!(err.retry_after.is_some(), expects_wait, "{err:?}");
        }
    }

    #[test]
    fn token_failures_ask_for_a_bearer_token() {
        for err in [TokenError::InvalidToken, TokenError::TokenExpired] {
            let response = ApiError::from(err).error_response();
            assert_eq!(response.status(), 401);
            let challenge = response.headers().get(header::WWW_AUTHENTICATE).unwrap();
            assert!(challenge.to_str().unwrap().starts_with("Bearer"));
        }
        let response = ApiError::from(LoginError::InvalidCredentials).error_response();
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn retry_after_is_rounded_up_to_whole_seconds() {
        let open = Fault::CircuitOpen {
            retry_after: Duration::from_millis(1500),
        };
        let response = ApiError::from(open).error_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let response = ApiError::rate_limited(Duration::ZERO).error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
        assert_eq!(retry_after_secs(Duration::from_millis(999_999)), 1000);
    }

    #[test]
    fn a_shed_sign_in_is_503_with_retry_after_one_second() {
        for err in [
            ApiError::from(LoginError::Fault(Fault::Overloaded)),
            ApiError::from(RegisterError::Fault(Fault::Overloaded)),
        ] {
            assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
            let response = err.error_response();
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
        }
    }

    #[test]
    fn debug_shows_the_cause_chain_and_display_only_the_safe_detail() {
        let err = ApiError::from(Fault::internal(std::io::Error::other("disk on fire")));
        assert_eq!(err.to_string(), "Internal server error");
        assert!(format!("{err:?}").contains("disk on fire"));
    }
}
