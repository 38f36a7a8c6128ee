//! Errors of the labels crate.

/// Why labels could not be read, written or drafted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The CSV is malformed or lacks a column.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// One row has a bad value.
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
    /// An article gives no date and none was supplied.
    #[error("{path}: the article states no date; pass --date YYYY-MM-DD")]
    NoDate {
        /// The article.
        path: String,
    },
}
