//! Errors of the detect crate.

/// Why the detector could not be configured or restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// Bad detector parameters.
    #[error("detector config: {0}")]
    Config(String),
}
