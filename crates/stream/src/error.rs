//! Errors of the streaming side.

use std::path::PathBuf;

use rdkafka::error::KafkaError;

/// What can go wrong running benglema against Kafka.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// A Kafka client call failed.
    #[error("{what}: {source}")]
    Kafka {
        /// What was being done.
        what: String,
        /// The client's error.
        source: KafkaError,
    },
    /// A bad setting (flag, config file or `-X` property).
    #[error("{0}")]
    Config(String),
    /// A file (or the output stream) could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong (an `std::io::Error` where there was one, so that a caller can
        /// tell a closed pipe from a full disk).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A checkpoint could not be encoded or decoded.
    #[error("detector state {key}: {message}")]
    State {
        /// Which checkpoint.
        key: String,
        /// What went wrong.
        message: String,
    },
    /// Events or dead letters were not acknowledged by the broker.
    #[error("the broker did not acknowledge {count} message(s), last error: {last}; offsets stay uncommitted and a restart resumes from the last checkpoint")]
    Delivery {
        /// How many failed.
        count: u64,
        /// The last failure.
        last: String,
    },
    /// Reading posts or writing events failed.
    #[error(transparent)]
    Backtest(#[from] benglema_backtest::BacktestError),
    /// Detector parameters out of range.
    #[error(transparent)]
    Detector(#[from] benglema_detect::DetectError),
}

impl StreamError {
    /// A Kafka error with context.
    pub fn kafka(what: impl Into<String>, source: KafkaError) -> Self {
        StreamError::Kafka {
            what: what.into(),
            source,
        }
    }

    /// An I/O error with its path.
    pub fn io(
        path: impl Into<PathBuf>,
        e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StreamError::Io {
            path: path.into(),
            source: e.into(),
        }
    }

    /// A polars error with its path, keeping the `std::io::Error` inside one (polars does
    /// not expose it as a source).
    pub fn polars(path: impl Into<PathBuf>, e: polars::prelude::PolarsError) -> Self {
        match e {
            polars::prelude::PolarsError::IO { error, .. } => {
                Self::io(path, std::io::Error::new(error.kind(), error.to_string()))
            }
            other => Self::io(path, other),
        }
    }
}
