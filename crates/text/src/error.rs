//! Errors of the text crate.

/// Why the text models could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// A model file is malformed or inconsistent.
    #[error("{file}: {message}")]
    Model {
        /// The model file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A model file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
