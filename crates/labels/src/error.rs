//! Errors of the labels crate.

/// Why an article could not be read or drafted.
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
    /// An article gives no date and none was supplied.
    #[error("{path}: the article states no date; pass --date YYYY-MM-DD")]
    NoDate {
        /// The article.
        path: String,
    },
}
