//! Logging: a `tracing` subscriber writing one flat JSON object per line (or a readable
//! format for local use), filtered by `LOG_LEVEL`.
//!
//! What must never be logged: passwords, password hashes, tokens, the `Authorization` header
//! and request bodies. Handlers and services log ids (user, session, request), never values.

mod json;

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::{SubscriberInitExt as _, TryInitError};

pub use json::FlatJson;

use crate::settings::{LogFilter, LogFormat};

/// A subscriber writing to `writer`, filtered by `filter` (the parsed `LOG_LEVEL`). Tests use
/// it with an in-memory writer.
pub fn subscriber<W>(
    filter: &LogFilter,
    format: LogFormat,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter.env_filter());
    match format {
        LogFormat::Json => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(FlatJson)
                    .with_writer(writer),
            ),
        ),
        LogFormat::Pretty => {
            Box::new(registry.with(tracing_subscriber::fmt::layer().with_writer(writer)))
        }
    }
}

/// Installs the global subscriber, writing to standard output.
///
/// # Errors
///
/// When a global subscriber is already set.
pub fn init(filter: &LogFilter, format: LogFormat) -> Result<(), TryInitError> {
    subscriber(filter, format, std::io::stdout).try_init()
}

/// Installs the global subscriber, writing to standard error: for the admin commands, whose
/// standard output is their result.
///
/// # Errors
///
/// As [`init`].
pub fn init_stderr(filter: &LogFilter, format: LogFormat) -> Result<(), TryInitError> {
    subscriber(filter, format, std::io::stderr).try_init()
}

/// For tests: logs to the test harness's captured output when `TEST_LOG` is set, nowhere
/// otherwise. Safe to call many times.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let filter = LogFilter::level(LevelFilter::DEBUG);
        let _ = subscriber(&filter, LogFormat::Pretty, std::io::stderr).try_init();
    }
}
