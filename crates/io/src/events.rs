//! The event contract on disk, in both directions: the PRODUCT.md event CSV, one event JSON
//! per line, and Parquet with the CSV's columns, all through polars except JSONL (serde).
//!
//! Writers take event states as they are; which state of an event to write is the caller's
//! choice ([`benglema_model::Latest`] keeps the newest per id). Readers return
//! [`OutageEvent`]s; the CSV and Parquet columns round rates and scores to three decimals
//! and symptom shares to two, so a read-back event equals the written one to that precision.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use benglema_model::{EventStatus, OutageEvent, Severity, EVENT_CSV_COLUMNS};
use chrono::{DateTime, FixedOffset};
use polars::prelude::*;

use crate::IoError;

/// The three ways events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum EventFormat {
    /// PRODUCT.md event CSV.
    Csv,
    /// One event JSON per line (what `run` prints).
    Jsonl,
    /// Parquet with the CSV's columns.
    Parquet,
}

impl EventFormat {
    /// The format of a file, from its extension (`.csv`, `.jsonl`/`.json`/`.ndjson`,
    /// `.parquet`).
    pub fn of(path: &Path) -> Option<EventFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".csv") {
            Some(EventFormat::Csv)
        } else if name.ends_with(".parquet") {
            Some(EventFormat::Parquet)
        } else if name.ends_with(".jsonl") || name.ends_with(".json") || name.ends_with(".ndjson") {
            Some(EventFormat::Jsonl)
        } else {
            None
        }
    }
}

const OUTPUT: &str = "<output>";

/// The events as a table with the PRODUCT.md columns, in order.
pub fn events_frame<'a>(events: impl Iterator<Item = &'a OutageEvent>) -> PolarsResult<DataFrame> {
    let evs: Vec<&OutageEvent> = events.collect();
    let s =
        |f: &dyn Fn(&OutageEvent) -> String| -> Vec<String> { evs.iter().map(|e| f(e)).collect() };
    let ended: Vec<Option<String>> = evs
        .iter()
        .map(|e| e.ended_at.map(|t| t.to_rfc3339()))
        .collect();
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let columns = vec![
        Column::new("event_id".into(), s(&|e| e.event_id.clone())),
        Column::new("service".into(), s(&|e| e.service.clone())),
        Column::new("status".into(), s(&|e| e.status.as_str().to_owned())),
        Column::new("started_at".into(), s(&|e| e.started_at.to_rfc3339())),
        Column::new("detected_at".into(), s(&|e| e.detected_at.to_rfc3339())),
        Column::new("peak_at".into(), s(&|e| e.peak_at.to_rfc3339())),
        Column::new("ended_at".into(), ended),
        Column::new(
            "peak_rate".into(),
            evs.iter().map(|e| round(e.peak_rate)).collect::<Vec<f64>>(),
        ),
        Column::new(
            "baseline_rate".into(),
            evs.iter()
                .map(|e| round(e.baseline_rate))
                .collect::<Vec<f64>>(),
        ),
        Column::new("severity".into(), s(&|e| e.severity.as_str().to_owned())),
        Column::new(
            "score".into(),
            evs.iter().map(|e| round(e.score)).collect::<Vec<f64>>(),
        ),
        Column::new(
            "complaints".into(),
            evs.iter().map(|e| e.complaints).collect::<Vec<u64>>(),
        ),
        Column::new(
            "symptoms".into(),
            s(&|e| {
                e.symptoms
                    .iter()
                    .map(|(k, v)| format!("{k}:{v:.2}"))
                    .collect::<Vec<_>>()
                    .join(";")
            }),
        ),
        Column::new("top_terms".into(), s(&|e| e.top_terms.join(";"))),
        Column::new(
            "sample_post_ids".into(),
            s(&|e| e.sample_post_ids.join(";")),
        ),
    ];
    debug_assert_eq!(columns.len(), EVENT_CSV_COLUMNS.len());
    DataFrame::new(evs.len(), columns)
}

/// Writes events in `format` to `out` (errors name `<output>`).
pub fn write_events(
    events: &[&OutageEvent],
    format: EventFormat,
    out: &mut dyn Write,
) -> Result<(), IoError> {
    write_to(events, format, out, &OUTPUT)
}

/// Writes events in `format` into a new file at `path`.
pub fn write_events_file(
    path: &Path,
    events: &[&OutageEvent],
    format: EventFormat,
) -> Result<(), IoError> {
    let name = path.display();
    let file = File::create(path).map_err(|e| IoError::io(&name, e))?;
    let mut out = BufWriter::new(file);
    write_to(events, format, &mut out, &name)?;
    out.flush().map_err(|e| IoError::io(&name, e))
}

fn write_to(
    events: &[&OutageEvent],
    format: EventFormat,
    out: &mut dyn Write,
    name: &dyn std::fmt::Display,
) -> Result<(), IoError> {
    let pl = |e| IoError::polars(name, e);
    match format {
        EventFormat::Jsonl => {
            for e in events {
                serde_json::to_writer(&mut *out, e).map_err(|e| IoError::io(name, e.into()))?;
                out.write_all(b"\n").map_err(|e| IoError::io(name, e))?;
            }
        }
        EventFormat::Csv => {
            let mut df = events_frame(events.iter().copied()).map_err(pl)?;
            CsvWriter::new(out)
                .include_header(true)
                .finish(&mut df)
                .map_err(pl)?;
        }
        EventFormat::Parquet => {
            // Encoded in memory first: polars reports a failed write inside a Parquet
            // encoder as a compute error without its I/O kind, so a closed pipe would look
            // like a failure. Events are small.
            let mut df = events_frame(events.iter().copied()).map_err(pl)?;
            let mut buf = Vec::new();
            ParquetWriter::new(&mut buf).finish(&mut df).map_err(pl)?;
            out.write_all(&buf).map_err(|e| IoError::io(name, e))?;
        }
    }
    Ok(())
}

/// Appends event states to a CSV file as they happen (the header is written when the file
/// is new or empty), for `run --events-csv`.
#[derive(Debug)]
pub struct CsvAppender {
    path: std::path::PathBuf,
}

impl CsvAppender {
    /// Appends to `path`.
    pub fn new(path: &Path) -> Self {
        CsvAppender {
            path: path.to_owned(),
        }
    }

    /// Appends one event state.
    pub fn push(&mut self, e: &OutageEvent) -> Result<(), IoError> {
        let name = self.path.display();
        let fresh = std::fs::metadata(&self.path).map_or(true, |m| m.len() == 0);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|err| IoError::io(&name, err))?;
        let mut df = events_frame(std::iter::once(e)).map_err(|err| IoError::polars(&name, err))?;
        CsvWriter::new(f)
            .include_header(fresh)
            .finish(&mut df)
            .map_err(|err| IoError::polars(&name, err))
    }
}

/// Reads every event state of a JSONL file into `f`, in file order; a line that is not an
/// event is an error naming its number (blank lines are skipped).
pub fn read_events_jsonl(path: &Path, f: &mut dyn FnMut(OutageEvent)) -> Result<(), IoError> {
    let name = path.display();
    let file = File::open(path).map_err(|e| IoError::io(&name, e))?;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| IoError::io(&name, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let e = serde_json::from_str(&line).map_err(|source| IoError::Event {
            path: name.to_string(),
            line: i + 1,
            source,
        })?;
        f(e);
    }
    Ok(())
}

/// Reads an event file of any [`EventFormat`] (by extension), every row in file order.
pub fn read_events(path: &Path) -> Result<Vec<OutageEvent>, IoError> {
    let name = path.display().to_string();
    let format = EventFormat::of(path).ok_or_else(|| IoError::Table {
        path: name.clone(),
        message: "unknown event file format; use .csv, .jsonl or .parquet".into(),
    })?;
    let pl = |e| IoError::polars(&name, e);
    let df = match format {
        EventFormat::Jsonl => {
            let mut out = Vec::new();
            read_events_jsonl(path, &mut |e| out.push(e))?;
            return Ok(out);
        }
        EventFormat::Csv => CsvReadOptions::default()
            .with_has_header(true)
            // Every column as text: times and lists are validated here, not guessed.
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_owned()))
            .and_then(|r| r.finish())
            .map_err(pl)?,
        EventFormat::Parquet => {
            let f = File::open(path).map_err(|e| IoError::io(&name, e))?;
            ParquetReader::new(f).finish().map_err(pl)?
        }
    };
    frame_events(&df, &name)
}

/// The events of a table with the PRODUCT.md columns (any column types; extra columns are
/// ignored). Empty optional cells (`ended_at`, lists) are allowed; a missing required value
/// is an error naming its row and column.
pub fn frame_events(df: &DataFrame, name: &str) -> Result<Vec<OutageEvent>, IoError> {
    let mut cols: Vec<StringChunked> = Vec::with_capacity(EVENT_CSV_COLUMNS.len());
    for c in EVENT_CSV_COLUMNS {
        let col = df.column(c).map_err(|_| IoError::Table {
            path: name.to_owned(),
            message: format!(
                "no `{c}` column; an event table has the columns {}",
                EVENT_CSV_COLUMNS.join(",")
            ),
        })?;
        let col = col
            .cast(&DataType::String)
            .map_err(|e| IoError::polars(name, e))?;
        cols.push(col.str().map_err(|e| IoError::polars(name, e))?.clone());
    }
    let mut out = Vec::with_capacity(df.height());
    for row in 0..df.height() {
        let cell = |c: usize| cols[c].get(row).map(str::trim).unwrap_or_default();
        let bad = |c: usize, message: String| IoError::Row {
            path: name.to_owned(),
            row: row + 1,
            column: EVENT_CSV_COLUMNS[c],
            message,
        };
        let text = |c: usize| -> Result<String, IoError> {
            let v = cell(c);
            if v.is_empty() {
                return Err(bad(c, "is empty".into()));
            }
            Ok(v.to_owned())
        };
        let time = |c: usize| -> Result<DateTime<FixedOffset>, IoError> {
            let v = text(c)?;
            DateTime::parse_from_rfc3339(&v)
                .map_err(|e| bad(c, format!("{v:?} is not RFC 3339 with offset ({e})")))
        };
        let number = |c: usize| -> Result<f64, IoError> {
            let v = text(c)?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(c, format!("{v:?} is not a number")))
        };
        let list = |c: usize| -> Vec<String> {
            cell(c)
                .split(';')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let status = text(2)?;
        let status: EventStatus = serde_json::from_value(status.clone().into())
            .map_err(|_| bad(2, format!("{status:?} is not open, updated or resolved")))?;
        let severity = text(9)?;
        let severity: Severity = serde_json::from_value(severity.clone().into())
            .map_err(|_| bad(9, format!("{severity:?} is not weak, moderate or strong")))?;
        let complaints = text(11)?;
        let complaints = complaints
            .parse::<u64>()
            .map_err(|_| bad(11, format!("{complaints:?} is not a count")))?;
        let ended_at = if cell(6).is_empty() {
            None
        } else {
            Some(time(6)?)
        };
        out.push(OutageEvent {
            event_id: text(0)?,
            service: text(1)?,
            status,
            started_at: time(3)?,
            detected_at: time(4)?,
            peak_at: time(5)?,
            ended_at,
            peak_rate: number(7)?,
            baseline_rate: number(8)?,
            severity,
            score: number(10)?,
            complaints,
            symptoms: parse_symptoms(cell(12)),
            top_terms: list(13),
            sample_post_ids: list(14),
        });
    }
    Ok(out)
}

/// Parses the `symptoms` column: `category:share` pairs joined by `;` (malformed pairs are
/// skipped, shares clamped to 0..=1).
pub fn parse_symptoms(s: &str) -> Vec<(String, f64)> {
    s.split(';')
        .filter_map(|pair| {
            let (name, share) = pair.rsplit_once(':')?;
            let share: f64 = share.trim().parse().ok()?;
            (!name.trim().is_empty() && share.is_finite())
                .then(|| (name.trim().to_owned(), share.clamp(0.0, 1.0)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, ended: bool) -> OutageEvent {
        let t = |m: u32| {
            DateTime::parse_from_rfc3339(&format!("2021-10-18T09:{m:02}:00+08:00")).unwrap()
        };
        OutageEvent {
            event_id: id.into(),
            service: "微信".into(),
            status: if ended {
                EventStatus::Resolved
            } else {
                EventStatus::Open
            },
            started_at: t(1),
            detected_at: t(4),
            peak_at: t(9),
            ended_at: ended.then(|| t(40)),
            peak_rate: 123.456,
            baseline_rate: 0.125,
            severity: Severity::Strong,
            score: 41.5,
            complaints: 900,
            symptoms: vec![("图片/文件".into(), 0.52), ("消息发送".into(), 0.25)],
            top_terms: vec!["图片".into(), "发不出去".into()],
            sample_post_ids: vec!["p1".into(), "p2".into()],
        }
    }

    #[test]
    fn every_format_round_trips() {
        let dir = std::env::temp_dir().join(format!("benglema-io-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let evs = [event("e1", false), event("e2", true)];
        let refs: Vec<&OutageEvent> = evs.iter().collect();
        for (name, format) in [
            ("events.csv", EventFormat::Csv),
            ("events.jsonl", EventFormat::Jsonl),
            ("events.parquet", EventFormat::Parquet),
        ] {
            let path = dir.join(name);
            assert_eq!(EventFormat::of(&path), Some(format));
            write_events_file(&path, &refs, format).unwrap();
            assert_eq!(read_events(&path).unwrap(), evs, "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_cell_names_its_row_and_column() {
        let dir = std::env::temp_dir().join(format!("benglema-io-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.csv");
        write_events_file(&path, &[&event("e1", false)], EventFormat::Csv).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(",strong,", ",huge,");
        std::fs::write(&path, text).unwrap();
        let e = read_events(&path).unwrap_err().to_string();
        assert!(e.contains("row 1, column `severity`"), "{e}");
        std::fs::write(&path, "event_id,service\ne1,微信\n").unwrap();
        let e = read_events(&path).unwrap_err().to_string();
        assert!(e.contains("no `status` column"), "{e}");
        std::fs::write(dir.join("events.jsonl"), "{\"event_id\": 1}\n").unwrap();
        let e = read_events(&dir.join("events.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1: not an event"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_closed_pipe_is_told_apart() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let e = event("e1", false);
        for format in [EventFormat::Csv, EventFormat::Jsonl, EventFormat::Parquet] {
            let err = write_events(&[&e], format, &mut Closed).unwrap_err();
            assert!(err.is_broken_pipe(), "{format:?}: {err:?}");
        }
    }

    #[test]
    fn symptoms_parse_and_skip_garbage() {
        assert_eq!(
            parse_symptoms("图片/文件:0.52;网络/服务器:0.15;;bad;x:nan;y:1.5"),
            vec![
                ("图片/文件".to_owned(), 0.52),
                ("网络/服务器".to_owned(), 0.15),
                ("y".to_owned(), 1.0)
            ]
        );
        assert!(parse_symptoms("").is_empty());
    }
}
