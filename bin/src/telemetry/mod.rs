//! Logging: a `tracing` subscriber writing one flat JSON object per line (or a readable
//! format for local use), filtered by `LOG_LEVEL`.
//!
//! What must never be logged: passwords, password hashes, tokens, the `Authorization` header
//! and request bodies. Handlers and services log ids (user, session, request), never values.

mod json;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub use json::FlatJson;

use crate::settings::LogFormat;

/// A subscriber writing to `writer` at `level` (an `EnvFilter` directive such as `info` or
/// `auth_services=debug,info`). Tests use it with an in-memory writer.
///
/// # Errors
///
/// When `level` is not a valid directive.
pub fn subscriber<W>(
    level: &str,
    format: LogFormat,
    writer: W,
) -> Result<Box<dyn Subscriber + Send + Sync>, tracing_subscriber::filter::ParseError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(level)?;
    let registry = tracing_subscriber::registry().with(filter);
    Ok(match format {
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
    })
}

/// Installs the global subscriber, writing to standard output.
///
/// # Errors
///
/// When `level` is invalid or a global subscriber is already set.
pub fn init(level: &str, format: LogFormat) -> Result<(), Box<dyn std::error::Error>> {
    subscriber(level, format, std::io::stdout)?.try_init()?;
    Ok(())
}

/// Installs the global subscriber, writing to standard error: for the admin commands, whose
/// standard output is their result.
///
/// # Errors
///
/// As [`init`].
pub fn init_stderr(level: &str, format: LogFormat) -> Result<(), Box<dyn std::error::Error>> {
    subscriber(level, format, std::io::stderr)?.try_init()?;
    Ok(())
}

/// For tests: logs to the test harness's captured output when `TEST_LOG` is set, nowhere
/// otherwise. Safe to call many times.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some()
        && let Ok(subscriber) = subscriber("debug", LogFormat::Pretty, std::io::stderr)
    {
        let _ = subscriber.try_init();
    }
}
