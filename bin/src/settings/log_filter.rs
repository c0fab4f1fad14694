//! `LOG_LEVEL` read once into directives, so logging starts from a value that cannot be
//! refused later.

use std::fmt;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

/// The log levels accepted on their own, lowest first.
const LOG_LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

/// A validated `LOG_LEVEL`: a level such as `info`, or `EnvFilter` directives such as
/// `info,auth_service=debug`.
///
/// It keeps the text as given (a bare level in lower case) for display, and the parsed
/// directives, from which [`LogFilter::env_filter`] builds the filter without parsing again.
/// It compares equal to its text.
#[derive(Clone, PartialEq, Eq)]
pub struct LogFilter {
    text: String,
    directives: Vec<Directive>,
}

impl LogFilter {
    /// A level (`trace` … `error`, any case, kept in lower case) or a directive string with at
    /// least one `target=level` (kept as given). The error is the "expected …" half of the
    /// settings' error line.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let lower = text.to_ascii_lowercase();
        let text = if LOG_LEVELS.contains(&lower.as_str()) {
            lower
        } else if text.contains('=') && text.is_ascii() {
            // tracing-subscriber's directive parser slices by byte and panics inside a
            // multi-byte character (` ²=`); targets and levels are ASCII, so refuse the rest.
            text.to_owned()
        } else {
            return Err(expected());
        };
        let directives = text
            .split(',')
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| expected())?;
        Ok(Self { text, directives })
    }

    /// Everything at `level` or above, shown in lower case (`LogFilter::level(LevelFilter::WARN)`
    /// is `warn`).
    pub fn level(level: LevelFilter) -> Self {
        Self {
            text: level.to_string().to_ascii_lowercase(),
            directives: vec![level.into()],
        }
    }

    /// The text as configured, e.g. `info` or `info,auth_service=debug`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A fresh `EnvFilter` with these directives (an `EnvFilter` cannot be cloned, and a
    /// subscriber takes it by value).
    pub fn env_filter(&self) -> EnvFilter {
        self.directives
            .iter()
            .cloned()
            .fold(EnvFilter::default(), EnvFilter::add_directive)
    }
}

/// The "expected …" half of the error line for a bad `LOG_LEVEL`.
fn expected() -> String {
    "expected trace, debug, info, warn, error or a filter such as info,auth_service=debug"
        .to_owned()
}

impl fmt::Display for LogFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for LogFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl PartialEq<str> for LogFilter {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for LogFilter {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

#[cfg(test)]
mod tests {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::EnvFilter;

    use super::LogFilter;

    #[test]
    fn the_filter_matches_the_one_parsed_from_the_text() {
        for text in [
            "info",
            "TRACE",
            "info,auth_service=debug,actix_web=warn",
            "warn,auth_services[login]=debug",
        ] {
            let filter = LogFilter::parse(text).unwrap();
            let direct = EnvFilter::try_new(filter.as_str()).unwrap();
            assert_eq!(
                filter.env_filter().to_string(),
                direct.to_string(),
                "{text}"
            );
        }
    }

    #[test]
    fn non_ascii_directives_are_refused_not_a_panic() {
        for text in [" ²=", "é=info", "info,crate=débug"] {
            assert!(LogFilter::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_level_reads_as_its_lower_case_name() {
        let warn = LogFilter::level(LevelFilter::WARN);
        assert_eq!(warn, "warn");
        assert_eq!(warn, LogFilter::parse("WARN").unwrap());
    }

    #[test]
    fn a_word_that_is_not_a_level_is_refused() {
        for bad in ["verbose", "info,", "a=b=c", "=debug,x=nope"] {
            assert!(LogFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
