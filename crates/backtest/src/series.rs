//! `detect-series`: the change-point test on a `timestamp,value` CSV (PRODUCT.md contract),
//! read and written through polars. Output: `timestamp,value,expected,score,alarm`.

use std::io::Cursor;

use benglema_detect::{Season, SeriesConfig, SeriesDetector};
use chrono::{DateTime, NaiveDateTime, Timelike};
use polars::prelude::*;

use crate::error::BacktestError;

fn bad(name: &str, message: String) -> BacktestError {
    BacktestError::Table {
        path: name.to_owned(),
        message,
    }
}

/// Parses a row's timestamp: RFC 3339, or `YYYY-MM-DD HH:MM:SS` read as local time. Returns
/// seconds (on a local clock, so differences and hours of the day are right) .
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

/// Runs the series detector over CSV bytes; `bucket_seconds` overrides the inferred row
/// spacing (the median gap between rows).
pub fn detect_series(
    csv: &[u8],
    name: &str,
    bucket_seconds: Option<i64>,
) -> Result<DataFrame, BacktestError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(csv))
        .finish()
        .map_err(|e| bad(name, e.to_string()))?;
    let column = |c: &str| -> Result<&StringChunked, BacktestError> {
        df.column(c).and_then(|x| x.str()).map_err(|_| {
            bad(
                name,
                format!("no `{c}` column; the header must be timestamp,value"),
            )
        })
    };
    let (ts, vs) = (column("timestamp")?, column("value")?);
    let mut times = Vec::with_capacity(df.height());
    let mut values = Vec::with_capacity(df.height());
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
        if times.last().is_some_and(|&(p, _)| secs <= p) {
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
        times.push((secs, hour));
        values.push(value);
    }
    let bucket = match bucket_seconds {
        Some(b) if b > 0 => b,
        Some(b) => {
            return Err(bad(
                name,
                format!("--bucket {b} must be a positive number of seconds"),
            ))
        }
        None => {
            let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1].0 - w[0].0).collect();
            gaps.sort_unstable();
            gaps.get(gaps.len() / 2).copied().unwrap_or(3600)
        }
    };
    let mut d = SeriesDetector::new(SeriesConfig::for_bucket(bucket));
    let (mut expected, mut score, mut alarm) = (Vec::new(), Vec::new(), Vec::new());
    for (&(secs, hour), &v) in times.iter().zip(&values) {
        // Seconds are on the rows' own clock; 1970-01-01 was a Thursday.
        let season = Season {
            hour: if bucket <= 3600 { hour as usize } else { 0 },
            weekday: (secs.div_euclid(86_400) + 3).rem_euclid(7) as usize,
        };
        let s = d.step(v, season);
        expected.push((s.expected * 1000.0).round() / 1000.0);
        score.push((s.score * 10_000.0).round() / 10_000.0);
        alarm.push(s.alarm as i32);
    }
    DataFrame::new(
        values.len(),
        vec![
            Column::new("timestamp".into(), ts.clone().into_series()),
            Column::new("value".into(), values),
            Column::new("expected".into(), expected),
            Column::new("score".into(), score),
            Column::new("alarm".into(), alarm),
        ],
    )
    .map_err(|e| bad(name, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(rows: impl Iterator<Item = (String, f64)>) -> Vec<u8> {
        let mut s = String::from("timestamp,value\n");
        for (t, v) in rows {
            s.push_str(&format!("{t},{v}\n"));
        }
        s.into_bytes()
    }

    #[test]
    fn hourly_series_with_a_burst() {
        // Six weeks of hourly ticket counts with a daily rhythm, then a burst.
        let t0 = NaiveDateTime::parse_from_str("2024-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let rows = (0..42 * 24).map(|i| {
            let t = t0 + chrono::Duration::hours(i);
            let h = (i % 24) as f64;
            let base = 20.0 + 15.0 * ((h - 4.0) / 24.0 * std::f64::consts::TAU).sin();
            let v = if (900..906).contains(&i) {
                base * 6.0
            } else {
                base + ((i * 7919) % 5) as f64 - 2.0
            };
            (t.format("%Y-%m-%d %H:%M:%S").to_string(), v.round())
        });
        let df = detect_series(&csv(rows), "t.csv", None).unwrap();
        let alarm = df.column("alarm").unwrap().i32().unwrap();
        let fired: Vec<usize> = (0..df.height())
            .filter(|&i| alarm.get(i) == Some(1))
            .collect();
        assert_eq!(
            fired,
            vec![900],
            "alarms once, at the burst, using rows up to it only"
        );
        let names: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ["timestamp", "value", "expected", "score", "alarm"]);
        let score = df.column("score").unwrap().f64().unwrap();
        assert!((0..df.height()).all(|i| (0.0..=1.0).contains(&score.get(i).unwrap())));
    }

    #[test]
    fn streaming_semantics_prefix_outputs_do_not_change() {
        let rows: Vec<(String, f64)> = (0..500)
            .map(|i| {
                (
                    format!("2024-01-01T{:02}:{:02}:00+08:00", i / 60 % 24, i % 60),
                    if i > 300 { 50.0 } else { 5.0 },
                )
            })
            .take(1440)
            .collect();
        let full = detect_series(&csv(rows.clone().into_iter()), "f", Some(60)).unwrap();
        let half = detect_series(&csv(rows[..350].iter().cloned()), "h", Some(60)).unwrap();
        assert_eq!(full.slice(0, 350), half);
    }

    #[test]
    fn bad_files_are_explained() {
        let e = |b: &[u8]| detect_series(b, "s.csv", None).unwrap_err().to_string();
        assert!(e(b"time,count\n1,2\n").contains("no `timestamp` column"));
        assert!(e(b"timestamp,value\nyesterday,2\n").contains("row 1: timestamp \"yesterday\""));
        assert!(e(b"timestamp,value\n2024-01-01 00:00:00,x\n")
            .contains("row 1: value \"x\" is not a number"));
        assert!(
            e(b"timestamp,value\n2024-01-01 01:00:00,1\n2024-01-01 00:00:00,1\n")
                .contains("must increase")
        );
        assert!(
            detect_series(b"timestamp,value\n", "e.csv", None)
                .unwrap()
                .height()
                == 0
        );
    }
}
