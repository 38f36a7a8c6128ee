//! # benglema-stream
//!
//! benglema on Kafka. [`run`] is the streaming detector (two consumer-group stages joined by
//! a repartition topic: extract counts posts per minute, detect steps each service's series
//! once every partition has closed the minute; dead letters, checkpoints, at-least-once
//! events with stable ids); [`produce`]
//! loads post files into a topic; [`export`] turns the events topic or an events file into
//! the PRODUCT.md CSV; [`embedded`] is the in-process cluster behind `benglema run` with no
//! `--brokers`; [`metrics`] serves Prometheus metrics and `/healthz`.
//!
//! Everything detection-related is `benglema-pipeline`'s (reading a post) and
//! `benglema-detect`'s (the tally, barrier and stepper the stages hold); this crate only
//! moves posts, counts and events between Kafka and them.

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
pub use run::{run, EventSink, MinuteStatus, Role, RunEvent, RunOptions, RunSummary, Telemetry};
