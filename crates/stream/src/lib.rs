//! # benglema-stream
//!
//! benglema on Kafka. [`run`] is the streaming detector (consumer group, one detector per
//! partition, dead letters, checkpoints, at-least-once events with stable ids); [`produce`]
//! loads post files into a topic; [`export`] turns the events topic or an events file into
//! the PRODUCT.md CSV; [`embedded`] is the in-process cluster behind `benglema run` with no
//! `--brokers`; [`metrics`] serves Prometheus metrics and `/healthz`.
//!
//! Everything detection-related is `benglema-pipeline`'s; this crate only moves posts and
//! events between Kafka and it.

pub mod bench;
pub mod config;
pub mod embedded;
mod error;
pub mod export;
pub mod kafka;
pub mod metrics;
pub mod produce;
pub mod run;
pub mod state;

pub use config::{FileSettings, Settings, StateTarget};
pub use error::StreamError;
pub use run::{run, EventSink, Role, RunEvent, RunOptions, RunSummary, Telemetry};
