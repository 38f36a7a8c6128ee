//! The one error type of the contracts crate.

use polars::prelude::PolarsError;

/// Why a contract file could not be read or written. Bad *records* are not errors: a post
/// that breaks the contract becomes a [`crate::Reject`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// A file (or stdout) could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file (`<output>` for stdout).
        path: String,
        /// The OS error, kept so that a caller can tell a closed pipe from a full disk.
        #[source]
        source: std::io::Error,
    },
    /// polars could not read or write a table.
    #[error("{path}: {source}")]
    Polars {
        /// The file.
        path: String,
        /// polars' error.
        #[source]
        source: PolarsError,
    },
    /// An input whose format is not known.
    #[error("{path}: unknown input format; use .jsonl (optionally .gz or .zst), .csv or .parquet")]
    Format {
        /// The file.
        path: String,
    },
    /// A table lacks a required column or is not a table.
    #[error("{path}: {message}")]
    Table {
        /// The file.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// One row of a table has a bad value.
    #[error("{path}: row {row}, column `{column}`: {message}")]
    Row {
        /// The file.
        path: String,
        /// 1-based data row (the header is row 0).
        row: usize,
        /// The column.
        column: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A line of an event JSONL file is not an event.
    #[error("{path}: line {line}: not an event ({source}); expected the JSON that `benglema run` prints")]
    Event {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// Why it did not parse.
        #[source]
        source: serde_json::Error,
    },
}

impl IoError {
    /// An OS error on `path`.
    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        IoError::Io {
            path: path.to_string(),
            source,
        }
    }

    /// A polars error on `path`; an I/O error inside it becomes [`IoError::Io`] with its
    /// kind kept (polars wraps it in an `Arc` and does not expose it as a source).
    pub fn polars(path: impl std::fmt::Display, e: PolarsError) -> Self {
        match e {
            PolarsError::IO { error, .. } => {
                Self::io(path, std::io::Error::new(error.kind(), error.to_string()))
            }
            source => IoError::Polars {
                path: path.to_string(),
                source,
            },
        }
    }

    /// Whether this is a closed reader on the other end of a pipe (`benglema … | head`),
    /// which commands treat as success.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, IoError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
