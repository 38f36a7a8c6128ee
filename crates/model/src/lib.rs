//! # benglema-model
//!
//! The data contracts of benglema, shared by every other crate, with no I/O:
//!
//! - [`Post`]: one social-media post, parsed from a JSON record by [`Post::parse`] under the
//!   rules of the post contract (field aliases, four time formats, typed [`PostError`]s that
//!   name the offending field);
//! - [`Signal`] / [`SignalKind`]: what the complaint extractor says about a post;
//! - [`OutageEvent`], [`EventStatus`], [`Severity`]: the detector's output contract, and
//!   [`Latest`] with [`EventFilter`]: the newest state of each event, as readers want it;
//! - [`Incident`]: one row of the ground-truth label file;
//! - [`Metrics`] with [`IncidentResult`] and [`ModelRow`]: what a backtest measured.

mod event;
mod incident;
mod latest;
mod metrics;
mod post;
mod signal;
mod time;

pub use event::{EventStatus, OutageEvent, Severity, EVENT_CSV_COLUMNS};
pub use incident::{Incident, INCIDENT_CSV_COLUMNS};
pub use latest::{EventFilter, Latest};
pub use metrics::{IncidentResult, Metrics, ModelRow, SERIES_MAX_QUIET_BUCKETS};
pub use post::{Post, PostError, MAX_POST_BYTES};
pub use signal::{Signal, SignalKind};
pub use time::{parse_time, TimeError, MAX_TIME, MIN_TIME};
