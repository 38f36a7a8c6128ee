//! Errors of the backtest crate.

/// Why a backtest could not run (bad rows are not errors: they go to `rejects.jsonl`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacktestError {
    /// An input or output file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong (an `std::io::Error` where there was one, so that a caller can
        /// tell a closed pipe from a full disk).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An input whose format is not known.
    #[error("{path}: unknown input format; use .jsonl (optionally .gz or .zst), .csv or .parquet")]
    Format {
        /// The file.
        path: String,
    },
    /// A table input lacks a required column.
    #[error("{path}: {message}")]
    Table {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Label or config problems.
    #[error(transparent)]
    Labels(#[from] benglema_labels::LabelsError),
    /// Detector parameters out of range.
    #[error(transparent)]
    Detector(#[from] benglema_detect::DetectError),
}

pub(crate) fn io(
    path: &std::path::Path,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> BacktestError {
    BacktestError::Io {
        path: path.display().to_string(),
        source: e.into(),
    }
}
