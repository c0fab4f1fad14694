//! Conversions between the API's `OffsetDateTime` and the portable `TIMESTAMP` columns.
//!
//! Columns hold UTC without an offset. Values are cut to whole microseconds on the way in,
//! since PostgreSQL keeps microseconds and SQLite would keep nanoseconds: both backends then
//! give back exactly what the other would.

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

pub(crate) fn to_db(at: OffsetDateTime) -> PrimitiveDateTime {
    let utc = at.to_offset(UtcOffset::UTC);
    let micros = utc.microsecond();
    let utc = utc.replace_microsecond(micros).unwrap_or(utc);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

pub(crate) fn from_db(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_utc()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn round_trips_at_microsecond_precision_in_utc() {
        let at = datetime!(2024-01-15 12:30:45.123456789 +02:00);
        let back = super::from_db(super::to_db(at));
        assert_eq!(back, datetime!(2024-01-15 10:30:45.123456 UTC));
    }
}
