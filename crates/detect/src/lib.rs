//! # benglema-detect
//!
//! The outage detection engine: pure, deterministic, no I/O, no clock.
//!
//! - [`Engine`] takes [`Observation`]s (a post's id, event time and extractor signal) and
//!   emits [`Output`]s: outage events as they open, update and resolve, and optionally a
//!   [`SeriesPoint`] per service per closed bucket; its [`EngineState`] snapshots and
//!   restores with serde. Its two halves also run apart: a [`Tally`] counts posts into
//!   closed buckets of [`BucketCounts`], a [`Barrier`] merges those of several tallies, a
//!   [`Stepper`] steps the series with them;
//! - [`Baseline`]: the seasonal predictive distribution (negative binomial) of a series'
//!   count per bucket, shared by the engine and `detect-series`;
//! - [`ChangePointModel`] with [`Cusum`] (a bank over several shift ratios) and [`Bocpd`]:
//!   online change-point tests that estimate the onset;
//! - [`SeriesDetector`]: the same change test on any count series (`detect-series`);
//! - [`Candidates`]: the bounded top-k of discovered service names;
//! - [`DetectorConfig`]: every parameter, from `models/detector.toml`.

mod barrier;
mod baseline;
mod bocpd;
mod config;
mod counts;
mod discovery;
mod engine;
mod error;
mod lifecycle;
mod model;
mod series;
mod tally;

pub use barrier::{Barrier, Closing, Received};
pub use baseline::{Baseline, Forecast, Season};
pub use bocpd::{Bocpd, BocpdConfig};
pub use config::{
    BaselineConfig, CusumConfig, DetectorConfig, DiscoveryConfig, LifecycleConfig, ModelConfig,
    ModelKind, Preset, TimeConfig, DETECTOR_TOML,
};
pub use counts::{group_of, BucketCounts, Sample, ServiceCounts};
pub use discovery::Candidates;
pub use engine::{
    Admission, Engine, EngineOptions, EngineState, Observation, Output, SeriesPoint, Stats,
    Stepper, StepperState,
};
pub use error::DetectError;
pub use model::{AnyModel, ChangePointModel, Cusum, Step};
pub use series::{infer_bucket, score_series, SeriesConfig, SeriesDetector, SeriesStep};
pub use tally::{Tally, TallyState};
