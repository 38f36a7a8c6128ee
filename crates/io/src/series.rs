//! The series: one row per service per bucket (complaints, posts, baseline, score, alarm,
//! in-event), streamed in batches through polars' batched writers, as `series.csv` or as
//! `series.parquet` (the same columns, zstd-compressed), so a long backtest never holds the
//! whole series.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use benglema_detect::SeriesPoint;
use polars::prelude::*;

use crate::IoError;

/// The file a series is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesFormat {
    /// `series.csv`.
    Csv,
    /// `series.parquet`: the CSV's columns and values, zstd-compressed.
    Parquet,
}

impl SeriesFormat {
    /// Every format.
    pub const ALL: [SeriesFormat; 2] = [SeriesFormat::Csv, SeriesFormat::Parquet];

    /// The file's name in an output directory.
    pub fn file_name(self) -> &'static str {
        match self {
            SeriesFormat::Csv => "series.csv",
            SeriesFormat::Parquet => "series.parquet",
        }
    }

    /// The format of a series file, by its name's extension.
    pub fn of_path(path: &Path) -> Option<SeriesFormat> {
        match path.extension()?.to_str()? {
            "csv" => Some(SeriesFormat::Csv),
            "parquet" => Some(SeriesFormat::Parquet),
            _ => None,
        }
    }
}

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

/// Streams series points to `series.csv` or `series.parquet` in batches.
pub struct SeriesWriter {
    path: PathBuf,
    writer: Batched,
    buf: Vec<SeriesPoint>,
}

enum Batched {
    Csv(polars::io::csv::write::BatchedWriter<BufWriter<File>>),
    /// One row group per batch; `finish` flushes the buffer and reports a failed write.
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
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
    /// Creates `path` in `format` (for CSV, writes the header).
    pub fn create(path: &Path, format: SeriesFormat) -> Result<Self, IoError> {
        let file = File::create(path).map_err(|e| IoError::io(path.display(), e))?;
        let pl = |e| IoError::polars(path.display(), e);
        let schema = series_frame(&[]).map_err(pl)?.schema().as_ref().clone();
        let writer = match format {
            SeriesFormat::Csv => Batched::Csv(
                CsvWriter::new(BufWriter::new(file))
                    .include_header(true)
                    .batched(&schema)
                    .map_err(pl)?,
            ),
            SeriesFormat::Parquet => Batched::Parquet(Box::new(
                ParquetWriter::new(BufWriter::new(file))
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(pl)?,
            )),
        };
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
            match &mut self.writer {
                Batched::Csv(w) => w.write_batch(&df),
                Batched::Parquet(w) => w.write_batch(&df),
            }
            .map_err(|e| IoError::polars(self.path.display(), e))?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered (a CSV's header if nothing was written; a Parquet file's
    /// footer).
    pub fn finish(mut self) -> Result<(), IoError> {
        self.write()?;
        match &mut self.writer {
            Batched::Csv(w) => w.finish(),
            Batched::Parquet(w) => w.finish().map(drop),
        }
        .map_err(|e| IoError::polars(self.path.display(), e))
    }
}
