//! Timestamps as the JSON protocols write them (seconds since the epoch,
//! possibly fractional) and as apprun shows them (RFC 3339).

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// `1764147600.5` → `2025-11-26T09:00:00.5Z`; empty when out of range.
pub fn rfc3339(epoch_seconds: f64) -> String {
    DateTime::from_secs_f64(epoch_seconds)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_are_shown_in_rfc3339() {
        assert_eq!(rfc3339(1_764_147_600.0), "2025-11-26T09:00:00Z");
        assert_eq!(rfc3339(1_764_147_600.5), "2025-11-26T09:00:00.5Z");
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00Z");
    }
}
