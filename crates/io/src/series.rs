//! `series.csv`: one row per service per bucket (complaints, posts, baseline, score,
//! alarm, in-event), streamed through polars' batched CSV writer so a long backtest never
//! holds the whole series.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use benglema_detect::SeriesPoint;
use polars::prelude::*;

use crate::IoError;

/// The columns of `series.csv`, in order.
pub const SERIES_CSV_COLUMNS: [&str; 8] = [
    "service",
    "minute",
    "complaints",
    "posts",
    "baseline",
    "score",
    "alarm",
    "in_event",
];

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
    pub fn create(path: &Path) -> Result<Self, IoError> {
        let file = File::create(path).map_err(|e| IoError::io(path.display(), e))?;
        let schema = series_frame(&[])
            .map_err(|e| IoError::polars(path.display(), e))?
            .schema()
            .as_ref()
            .clone();
        let writer = CsvWriter::new(BufWriter::new(file))
            .include_header(true)
            .batched(&schema)
            .map_err(|e| IoError::polars(path.display(), e))?;
        Ok(SeriesWriter {
            path: path.to_owned(),
            writer,
            buf: Vec::with_capacity(SERIES_BATCH),
        })
    }

    /// Buffers a point; writes a batch when the buffer is full.
    pub fn push(&mut self, p: SeriesPoint) -> Result<(), IoError> {
        self.buf.push(p);
        if self.buf.len() >= SERIES_BATCH {
            self.write()?;
        }
        Ok(())
    }

    fn write(&mut self) -> Result<(), IoError> {
        if !self.buf.is_empty() {
            let df =
                series_frame(&self.buf).map_err(|e| IoError::polars(self.path.display(), e))?;
            self.writer
                .write_batch(&df)
                .map_err(|e| IoError::polars(self.path.display(), e))?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered and the header if nothing was written.
    pub fn finish(mut self) -> Result<(), IoError> {
        self.write()?;
        self.writer
            .finish()
            .map_err(|e| IoError::polars(self.path.display(), e))
    }
}
