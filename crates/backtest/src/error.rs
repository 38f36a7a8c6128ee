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
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Reading an input or writing an output under its contract failed.
    #[error(transparent)]
    Contract(#[from] benglema_io::IoError),
    /// Detector parameters out of range.
    #[error(transparent)]
    Detector(#[from] benglema_detect::DetectError),
    /// The reading threads could not start or failed.
    #[error("{0}")]
    Threads(String),
}

pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> BacktestError {
    BacktestError::Io {
        path: path.display().to_string(),
        source,
    }
}
