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
        /// The OS error (so that a caller can tell a closed pipe from a full disk).
        #[source]
        source: std::io::Error,
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
    /// Reading posts or reading or writing events under their contract failed.
    #[error(transparent)]
    Contract(#[from] benglema_io::IoError),
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
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StreamError::Io {
            path: path.into(),
            source,
        }
    }
}
