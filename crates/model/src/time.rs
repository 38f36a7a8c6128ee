//! Timestamps accepted by the post contract: RFC 3339, epoch seconds or milliseconds, and
//! the Weibo API form `Mon Oct 18 10:02:13 +0800 2021`, bounded to a sane range.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

/// Earliest accepted instant (2000-01-01T00:00:00Z), as epoch seconds.
pub const MIN_TIME: i64 = 946_684_800;
/// Latest accepted instant (2100-01-01T00:00:00Z, exclusive), as epoch seconds.
pub const MAX_TIME: i64 = 4_102_444_800;

/// Epoch numbers at or above this magnitude are read as milliseconds (1e11 s is year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Text in none of the accepted forms.
    #[error("unrecognised time format (use RFC 3339 like 2021-10-18T10:02:13+08:00, epoch seconds or milliseconds, or Weibo's 'Mon Oct 18 10:02:13 +0800 2021')")]
    Format,
    /// A well-formed time outside 2000-01-01 .. 2100-01-01.
    #[error("time {0} is outside the accepted range 2000-01-01 .. 2100-01-01")]
    OutOfRange(String),
    /// A number that is not finite.
    #[error("epoch number is not finite")]
    NotFinite,
}

fn check_range(t: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, TimeError> {
    let s = t.timestamp();
    if (MIN_TIME..MAX_TIME).contains(&s) {
        Ok(t)
    } else {
        Err(TimeError::OutOfRange(t.to_rfc3339()))
    }
}

/// Reads an epoch number: seconds, or milliseconds when its magnitude is ≥ 1e11.
pub(crate) fn from_epoch(x: f64) -> Result<DateTime<FixedOffset>, TimeError> {
    if !x.is_finite() {
        return Err(TimeError::NotFinite);
    }
    let millis = if x.abs() >= MILLIS_THRESHOLD {
        x
    } else {
        x * 1000.0
    };
    // Range-check before converting so that absurd numbers cannot overflow.
    let secs = millis / 1000.0;
    if !(MIN_TIME as f64..MAX_TIME as f64).contains(&secs) {
        return Err(TimeError::OutOfRange(format!("epoch {x}")));
    }
    let t = Utc
        .timestamp_millis_opt(millis.round() as i64)
        .single()
        .ok_or_else(|| TimeError::OutOfRange(format!("epoch {x}")))?;
    check_range(t.fixed_offset())
}

/// Parses a timestamp given as text: RFC 3339 (`T` or space separator), a string of epoch
/// digits, or the Weibo API form. The result keeps the offset it was written with.
pub fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, TimeError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(TimeError::Format);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return check_range(t);
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y") {
        return check_range(t);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.bytes().any(|b| b != b'.') {
        if let Ok(x) = s.parse::<f64>() {
            return from_epoch(x);
        }
    }
    Err(TimeError::Format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_accepted_forms_agree() {
        let want = parse_time("2021-10-18T10:02:13+08:00").unwrap();
        for s in [
            "2021-10-18 10:02:13+08:00",
            "2021-10-18T02:02:13Z",
            "Mon Oct 18 10:02:13 +0800 2021",
            "1634522533",
            "1634522533000",
            " 1634522533 ",
        ] {
            assert_eq!(parse_time(s).unwrap(), want, "{s}");
        }
        assert_eq!(from_epoch(1634522533.0).unwrap(), want);
        assert_eq!(from_epoch(1634522533000.0).unwrap(), want);
    }

    #[test]
    fn offset_is_kept() {
        let t = parse_time("Mon Oct 18 10:02:13 +0800 2021").unwrap();
        assert_eq!(t.offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn absurd_and_malformed_times_are_errors() {
        for s in [
            "",
            "yesterday",
            "2021-13-45T00:00:00+08:00",
            "2021-10-18",
            "Mon Oct 18 10:02:13 2021",
            "...",
        ] {
            assert_eq!(parse_time(s), Err(TimeError::Format), "{s}");
        }
        for s in [
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0",
            "99999999999999999999",
        ] {
            assert!(
                matches!(parse_time(s), Err(TimeError::OutOfRange(_))),
                "{s}: {:?}",
                parse_time(s)
            );
        }
        assert_eq!(from_epoch(f64::NAN), Err(TimeError::NotFinite));
        assert!(matches!(from_epoch(-1e300), Err(TimeError::OutOfRange(_))));
        assert!(matches!(from_epoch(1e300), Err(TimeError::OutOfRange(_))));
    }
}
