//! Backtest outputs through polars: `events.csv` (the PRODUCT.md event columns, latest state
//! per event), `series.csv` (streamed in batches), plus `rejects.jsonl`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use benglema_detect::SeriesPoint;
use benglema_model::{OutageEvent, EVENT_CSV_COLUMNS};
use polars::prelude::*;

use crate::error::{io, BacktestError};
use crate::source::Reject;

fn pl(path: &Path, e: PolarsError) -> BacktestError {
    io(path, e)
}

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

/// Writes events as CSV.
pub fn write_events_csv<'a>(
    path: &Path,
    events: impl Iterator<Item = &'a OutageEvent>,
) -> Result<(), BacktestError> {
    let mut df = events_frame(events).map_err(|e| pl(path, e))?;
    let file = File::create(path).map_err(|e| io(path, e))?;
    CsvWriter::new(BufWriter::new(file))
        .include_header(true)
        .finish(&mut df)
        .map_err(|e| pl(path, e))
}

/// Streams series points to `series.csv` in batches.
pub struct SeriesWriter {
    path: PathBuf,
    writer: polars::io::csv::write::BatchedWriter<BufWriter<File>>,
    buf: Vec<SeriesPoint>,
}

const SERIES_BATCH: usize = 1 << 16;

fn series_frame(points: &[SeriesPoint]) -> PolarsResult<DataFrame> {
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    DataFrame::new(
        points.len(),
        vec![
            Column::new(
                "service".into(),
                points
                    .iter()
                    .map(|p| p.service.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "minute".into(),
                points
                    .iter()
                    .map(|p| p.bucket_start.to_rfc3339())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "complaints".into(),
                points.iter().map(|p| p.complaints).collect::<Vec<u64>>(),
            ),
            Column::new(
                "posts".into(),
                points.iter().map(|p| p.posts).collect::<Vec<u64>>(),
            ),
            Column::new(
                "baseline".into(),
                points
                    .iter()
                    .map(|p| round(p.expected))
                    .collect::<Vec<f64>>(),
            ),
            Column::new(
                "score".into(),
                points.iter().map(|p| round(p.score)).collect::<Vec<f64>>(),
            ),
            Column::new(
                "alarm".into(),
                points.iter().map(|p| p.alarm as i32).collect::<Vec<i32>>(),
            ),
            Column::new(
                "in_event".into(),
                points
                    .iter()
                    .map(|p| p.in_event as i32)
                    .collect::<Vec<i32>>(),
            ),
        ],
    )
}

impl SeriesWriter {
    /// Creates `path` and writes the header.
    pub fn create(path: &Path) -> Result<Self, BacktestError> {
        let file = File::create(path).map_err(|e| io(path, e))?;
        let schema = series_frame(&[])
            .map_err(|e| pl(path, e))?
            .schema()
            .as_ref()
            .clone();
        let writer = CsvWriter::new(BufWriter::new(file))
            .include_header(true)
            .batched(&schema)
            .map_err(|e| pl(path, e))?;
        Ok(SeriesWriter {
            path: path.to_owned(),
            writer,
            buf: Vec::with_capacity(SERIES_BATCH),
        })
    }

    /// Buffers a point; writes a batch when the buffer is full.
    pub fn push(&mut self, p: SeriesPoint) -> Result<(), BacktestError> {
        self.buf.push(p);
        if self.buf.len() >= SERIES_BATCH {
            self.write()?;
        }
        Ok(())
    }

    fn write(&mut self) -> Result<(), BacktestError> {
        if !self.buf.is_empty() {
            let df = series_frame(&self.buf).map_err(|e| pl(&self.path, e))?;
            self.writer
                .write_batch(&df)
                .map_err(|e| pl(&self.path, e))?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered and the header if nothing was written.
    pub fn finish(mut self) -> Result<(), BacktestError> {
        self.write()?;
        self.writer.finish().map_err(|e| pl(&self.path, e))
    }
}

/// `rejects.jsonl`: one JSON line per rejected record.
pub struct RejectWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl RejectWriter {
    /// Creates the file.
    pub fn create(path: &Path) -> Result<Self, BacktestError> {
        let file = File::create(path).map_err(|e| io(path, e))?;
        Ok(RejectWriter {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    /// Appends one reject.
    pub fn push(&mut self, r: &Reject) -> Result<(), BacktestError> {
        serde_json::to_writer(&mut self.out, r).map_err(|e| io(&self.path, e))?;
        self.out.write_all(b"\n").map_err(|e| io(&self.path, e))
    }

    /// Flushes.
    pub fn finish(mut self) -> Result<(), BacktestError> {
        self.out.flush().map_err(|e| io(&self.path, e))
    }
}
