//! The single timestamp format of the wire: RFC 3339, UTC, milliseconds, `Z`.
//!
//! Use it as a serde `with` module so every body formats times the same way:
//!
//! ```
//! use serde::Serialize;
//! use time::macros::datetime;
//!
//! #[derive(Serialize)]
//! struct Seen {
//!     #[serde(with = "auth_errors::timestamp")]
//!     at: time::OffsetDateTime,
//! }
//!
//! let json = serde_json::to_string(&Seen { at: datetime!(2024-01-15 10:30:45.123456 UTC) }).unwrap();
//! assert_eq!(json, r#"{"at":"2024-01-15T10:30:45.123Z"}"#);
//! ```

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Formats `at` in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ`, truncating below the millisecond.
pub fn format(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    // Formatting a UTC date with a fixed, valid description only fails for years past 9999,
    // which `OffsetDateTime` cannot hold without the `large-dates` feature.
    utc.format(&fmt)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Parses any RFC 3339 timestamp and converts it to UTC.
///
/// # Errors
///
/// Returns the parser's error when `text` is not RFC 3339.
pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339).map(|t| t.to_offset(UtcOffset::UTC))
}

/// Serde serializer for `#[serde(with = "auth_errors::timestamp")]`.
///
/// # Errors
///
/// Only the serializer's own errors.
pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*at))
}

/// Serde deserializer for `#[serde(with = "auth_errors::timestamp")]`.
///
/// # Errors
///
/// When the value is not an RFC 3339 string.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// The same format for `Option<OffsetDateTime>` fields (`null` when absent).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Serde serializer for `#[serde(with = "auth_errors::timestamp::option")]`.
    ///
    /// # Errors
    ///
    /// Only the serializer's own errors.
    pub fn serialize<S: Serializer>(
        at: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_some(&super::format(*at)),
            None => serializer.serialize_none(),
        }
    }

    /// Serde deserializer for `#[serde(with = "auth_errors::timestamp::option")]`.
    ///
    /// # Errors
    ///
    /// When the value is neither `null` nor an RFC 3339 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| super::parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn formats_in_utc_with_three_subsecond_digits() {
        assert_eq!(
            super::format(datetime!(2024-01-15 10:30:45 UTC)),
            "2024-01-15T10:30:45.000Z"
        );
        assert_eq!(
            super::format(datetime!(2024-01-15 12:30:45.987654321 +02:00)),
            "2024-01-15T10:30:45.987Z"
        );
    }

    #[test]
    fn parses_back_what_it_formats() {
        let at = datetime!(2024-01-15 10:30:45.123 UTC);
        assert_eq!(super::parse(&super::format(at)).unwrap(), at);
        assert!(super::parse("yesterday").is_err());
    }
}
