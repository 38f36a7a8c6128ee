//! `benglema export`: events (a JSONL file of event states, or the events topic) reduced to
//! the latest state per event id, filtered, and written as the PRODUCT.md CSV, JSONL or
//! Parquet through polars.

use std::io::{BufRead, Write};
use std::path::Path;

use benglema_backtest::output::events_frame;
use benglema_model::OutageEvent;
use polars::prelude::*;
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::Message;

use crate::kafka::Quiet;
use crate::{Settings, StreamError};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// PRODUCT.md event CSV.
    Csv,
    /// One event JSON per line.
    Jsonl,
    /// Parquet with the CSV's columns.
    Parquet,
}

pub use benglema_model::{EventFilter as Filter, Latest};

/// Reads event states from a JSONL file; a bad line is an error naming its number.
pub fn read_jsonl(path: &Path, into: &mut Latest) -> Result<(), StreamError> {
    let f = std::fs::File::open(path).map_err(|e| StreamError::io(path, e))?;
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| StreamError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: OutageEvent = serde_json::from_str(&line).map_err(|e| {
            StreamError::io(
                path,
                format!(
                    "line {}: not an event ({e}); expected the JSON that `benglema run` prints",
                    i + 1
                ),
            )
        })?;
        into.push(e);
    }
    Ok(())
}

/// Reads every event state on the events topic, from the beginning to its current end.
/// Messages that are not events are counted and skipped.
pub fn read_topic(settings: &Settings, into: &mut Latest) -> Result<u64, StreamError> {
    let topic = &settings.events_topic;
    let c: BaseConsumer<Quiet> = settings
        .client()
        .set("group.id", format!("{}.export", settings.group))
        .set("enable.auto.commit", "false")
        .create_with_context(Quiet)
        .map_err(|e| StreamError::kafka("creating the export consumer", e))?;
    let mut skipped = 0;
    let known = crate::kafka::read_to_end(&c, topic, &|_, lo| lo, &mut |m| match m
        .payload()
        .map(serde_json::from_slice::<OutageEvent>)
    {
        Some(Ok(e)) => into.push(e),
        _ => skipped += 1,
    })?;
    if !known {
        return Err(StreamError::Config(format!(
            "events topic {topic} does not exist (is --events-topic right?)"
        )));
    }
    Ok(skipped)
}

/// Writes events in `format` to `out`.
pub fn write(
    events: &[&OutageEvent],
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<(), StreamError> {
    let pl = |e: PolarsError| StreamError::polars("<output>", e);
    match format {
        ExportFormat::Jsonl => {
            for e in events {
                let line = serde_json::to_string(e).expect("events serialise");
                writeln!(out, "{line}").map_err(|e| StreamError::io("<output>", e))?;
            }
        }
        ExportFormat::Csv => {
            let mut df = events_frame(events.iter().copied()).map_err(pl)?;
            CsvWriter::new(out)
                .include_header(true)
                .finish(&mut df)
                .map_err(pl)?;
        }
        ExportFormat::Parquet => {
            let mut df = events_frame(events.iter().copied()).map_err(pl)?;
            ParquetWriter::new(out).finish(&mut df).map_err(pl)?;
        }
    }
    Ok(())
}

/// Appends events to a CSV file as they happen (header written when the file is new).
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
    pub fn push(&mut self, e: &OutageEvent) -> Result<(), StreamError> {
        let fresh = std::fs::metadata(&self.path).map_or(true, |m| m.len() == 0);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|err| StreamError::io(&self.path, err))?;
        let mut df =
            events_frame(std::iter::once(e)).map_err(|err| StreamError::io(&self.path, err))?;
        CsvWriter::new(f)
            .include_header(fresh)
            .finish(&mut df)
            .map_err(|err| StreamError::io(&self.path, err))
    }
}
