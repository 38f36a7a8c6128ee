//! The count-series contract of `detect-series`: a `timestamp,value` CSV in (PRODUCT.md), the
//! same rows with `expected,score,alarm` out, both through polars. Timestamps are RFC 3339 or
//! `YYYY-MM-DD HH:MM:SS` (read as local time) and must increase; values are finite numbers.

use std::io::{Cursor, Write};

use chrono::{DateTime, NaiveDateTime, Timelike};
use polars::prelude::*;

use crate::IoError;

/// The columns `detect-series` writes.
pub const SCORED_CSV_COLUMNS: [&str; 5] = ["timestamp", "value", "expected", "score", "alarm"];

/// A count series as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    /// Each row's timestamp as written (echoed in the output).
    pub timestamps: Vec<String>,
    /// Each row's time on its own local clock: seconds (so differences and hours are right)
    /// and the hour of the day.
    pub clock: Vec<(i64, u32)>,
    /// Each row's value.
    pub values: Vec<f64>,
}

/// One scored row (the detector's output for it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Expected value.
    pub expected: f64,
    /// Change score in [0, 1].
    pub score: f64,
    /// The row alarmed.
    pub alarm: bool,
}

fn bad(name: &str, message: String) -> IoError {
    IoError::Table {
        path: name.to_owned(),
        message,
    }
}

/// Parses a row's timestamp: RFC 3339, or `YYYY-MM-DD HH:MM:SS` read as local time.
fn parse_ts(s: &str) -> Option<(i64, u32)> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        let local = t.naive_local();
        return Some((local.and_utc().timestamp(), local.hour()));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| (t.and_utc().timestamp(), t.hour()))
}

/// Reads a `timestamp,value` CSV; `name` names it in errors, which say the row and what to fix.
pub fn read_counts(csv: &[u8], name: &str) -> Result<Counts, IoError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(csv))
        .finish()
        .map_err(|e| bad(name, e.to_string()))?;
    let column = |c: &str| -> Result<&StringChunked, IoError> {
        df.column(c).and_then(|x| x.str()).map_err(|_| {
            bad(
                name,
                format!("no `{c}` column; the header must be timestamp,value"),
            )
        })
    };
    let (ts, vs) = (column("timestamp")?, column("value")?);
    let mut out = Counts::default();
    for row in 0..df.height() {
        let t = ts.get(row).unwrap_or_default();
        let (secs, hour) = parse_ts(t).ok_or_else(|| {
            bad(
                name,
                format!(
                    "row {}: timestamp {t:?} is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS",
                    row + 1
                ),
            )
        })?;
        if out.clock.last().is_some_and(|&(p, _)| secs <= p) {
            return Err(bad(
                name,
                format!(
                    "row {}: timestamps must increase (sort the file by time)",
                    row + 1
                ),
            ));
        }
        let v = vs.get(row).unwrap_or_default();
        let value: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| {
                bad(
                    name,
                    format!("row {}: value {v:?} is not a number", row + 1),
                )
            })?;
        out.timestamps.push(t.to_owned());
        out.clock.push((secs, hour));
        out.values.push(value);
    }
    Ok(out)
}

/// The scored series as a frame with [`SCORED_CSV_COLUMNS`]: expected rounded to 3 decimals,
/// score to 4, alarm as 0/1.
pub fn scored_frame(counts: &Counts, scored: &[Scored], name: &str) -> Result<DataFrame, IoError> {
    let n = counts.values.len().min(scored.len());
    let timestamps: Vec<&str> = counts.timestamps[..n].iter().map(String::as_str).collect();
    let expected: Vec<f64> = scored[..n]
        .iter()
        .map(|s| (s.expected * 1000.0).round() / 1000.0)
        .collect();
    let score: Vec<f64> = scored[..n]
        .iter()
        .map(|s| (s.score * 10_000.0).round() / 10_000.0)
        .collect();
    let alarm: Vec<i32> = scored[..n].iter().map(|s| s.alarm as i32).collect();
    let [c_ts, c_value, c_expected, c_score, c_alarm] = SCORED_CSV_COLUMNS;
    DataFrame::new(
        n,
        vec![
            Column::new(c_ts.into(), timestamps),
            Column::new(c_value.into(), counts.values[..n].to_vec()),
            Column::new(c_expected.into(), expected),
            Column::new(c_score.into(), score),
            Column::new(c_alarm.into(), alarm),
        ],
    )
    .map_err(|e| IoError::polars(name, e))
}

/// Writes the scored series as CSV to `out` (encoded in memory first, so a closed pipe is
/// an [`IoError::Io`] of kind `BrokenPipe`).
pub fn write_scored(
    out: impl Write,
    counts: &Counts,
    scored: &[Scored],
    name: &str,
) -> Result<(), IoError> {
    let mut df = scored_frame(counts, scored, name)?;
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| IoError::polars(name, e))?;
    let mut out = out;
    out.write_all(&buf)
        .and_then(|_| out.flush())
        .map_err(|e| IoError::io(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_explained() {
        let e = |b: &[u8]| read_counts(b, "s.csv").unwrap_err().to_string();
        assert!(e(b"time,count\n1,2\n").contains("no `timestamp` column"));
        assert!(e(b"timestamp,value\nyesterday,2\n").contains("row 1: timestamp \"yesterday\""));
        assert!(e(b"timestamp,value\n2024-01-01 00:00:00,x\n")
            .contains("row 1: value \"x\" is not a number"));
        assert!(
            e(b"timestamp,value\n2024-01-01 01:00:00,1\n2024-01-01 00:00:00,1\n")
                .contains("must increase")
        );
        assert_eq!(
            read_counts(b"timestamp,value\n", "e.csv").unwrap(),
            Counts::default()
        );
    }

    #[test]
    fn timestamps_keep_their_local_clock_and_come_back_as_written() {
        let c = read_counts(
            b"timestamp,value\n2024-01-01T23:30:00+08:00,3\n2024-01-02 00:30:00,4.5\n",
            "c.csv",
        )
        .unwrap();
        assert_eq!(c.clock[0].1, 23);
        assert_eq!(c.clock[1].0 - c.clock[0].0, 3600);
        let scored = [
            Scored {
                expected: 1.23456,
                score: 0.123456,
                alarm: false,
            },
            Scored {
                expected: 2.0,
                score: 0.9,
                alarm: true,
            },
        ];
        let mut out = Vec::new();
        write_scored(&mut out, &c, &scored, "out").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "timestamp,value,expected,score,alarm\n2024-01-01T23:30:00+08:00,3.0,1.235,0.1235,0\n2024-01-02 00:30:00,4.5,2.0,0.9,1\n"
        );
    }
}
