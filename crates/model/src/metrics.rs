//! What a backtest measured (`metrics.json`): the summary figures, one result per labelled
//! incident, and the side-by-side rows of a comparison. Written by `benglema-backtest`,
//! read by the report and the notebook; every field has a default, so the output of an
//! older or newer backtest still reads.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The most buckets between two rows of one service in a `series.csv` of informative rows:
/// the engine writes a service's row at least this often, so a longer stretch without one
/// is a gap in the data (the engine jumped over it), not quiet minutes.
pub const SERIES_MAX_QUIET_BUCKETS: i64 = 1440;

/// The outcome for one labelled incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IncidentResult {
    /// Label id.
    pub incident_id: String,
    /// Service.
    pub service: String,
    /// Labelled start.
    pub start: Option<DateTime<FixedOffset>>,
    /// Whether the replayed data covers the label's start.
    pub covered: bool,
    /// Whether an event matched.
    pub detected: bool,
    /// The first matching event.
    pub event_id: Option<String>,
    /// When it was raised.
    pub detected_at: Option<DateTime<FixedOffset>>,
    /// Its estimated onset.
    pub estimated_onset: Option<DateTime<FixedOffset>>,
    /// Detection delay from the labelled start, minutes.
    pub delay_minutes: Option<f64>,
    /// Official acknowledgement minus detection, minutes (positive: benglema was earlier).
    pub lead_over_ack_minutes: Option<f64>,
}

/// A backtest's figures (written as `metrics.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metrics {
    /// Posts counted by the engine.
    pub posts: u64,
    /// Records rejected (see `rejects.jsonl`).
    pub rejects: u64,
    /// Late posts.
    pub late: u64,
    /// Duplicate posts.
    pub duplicates: u64,
    /// Complaint posts (once each, however many services a post names).
    pub complaints: u64,
    /// Distinct events raised.
    pub events: usize,
    /// Labels whose start the data covers.
    pub incidents_covered: usize,
    /// Of those, detected.
    pub incidents_detected: usize,
    /// incidents_detected / incidents_covered.
    pub recall: Option<f64>,
    /// Matched events / events.
    pub precision: Option<f64>,
    /// Events matching no label.
    pub false_alarms: usize,
    /// False alarms per day of replayed data.
    pub false_alarms_per_day: f64,
    /// False alarms detected on the first scored day (after any warm-up): the cold start.
    pub first_day_false_alarms: usize,
    /// Median detection delay over detected incidents, minutes.
    pub median_delay_minutes: Option<f64>,
    /// Worst detection delay, minutes.
    pub worst_delay_minutes: Option<f64>,
    /// Days of replayed data (first to last post).
    pub days: f64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// posts / seconds.
    pub posts_per_second: f64,
    /// Width of the detector's time buckets, seconds: the step of `series.csv`'s minutes
    /// (0 in files written before it was recorded: read as 60).
    #[serde(default)]
    pub bucket_seconds: i64,
    /// Whether `series.csv` has a row for every bucket of every series (`--series-rows
    /// all`), not only those that carry information (absent in older files, which had every
    /// bucket).
    #[serde(default)]
    pub series_every_bucket: bool,
    /// New-service discovery: names that got a series of their own.
    pub discovered_admitted: u64,
    /// Discovered series dropped after a quiet spell.
    pub discovered_expired: u64,
    /// Complaints about discovered names that never got a series (too few, or no room).
    pub discovered_unadmitted: u64,
    /// Per incident.
    pub incidents: Vec<IncidentResult>,
    /// Ids of the false alarms.
    pub false_alarm_events: Vec<String>,
    /// With `backtest --compare`: one row per detector, the first being this run's own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comparison: Vec<ModelRow>,
}

/// One detector's figures in a side-by-side comparison on the same input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelRow {
    /// Name given on the command line (e.g. `cusum`).
    pub name: String,
    /// Distinct events raised.
    pub events: usize,
    /// Covered incidents detected.
    pub incidents_detected: usize,
    /// Labels whose start the data covers.
    pub incidents_covered: usize,
    /// See [`Metrics::recall`].
    pub recall: Option<f64>,
    /// See [`Metrics::precision`].
    pub precision: Option<f64>,
    /// Events matching no label.
    pub false_alarms: usize,
    /// False alarms per day of replayed data.
    pub false_alarms_per_day: f64,
    /// See [`Metrics::first_day_false_alarms`].
    pub first_day_false_alarms: usize,
    /// Median detection delay, minutes.
    pub median_delay_minutes: Option<f64>,
    /// Worst detection delay, minutes.
    pub worst_delay_minutes: Option<f64>,
}

impl ModelRow {
    /// The row of a scored run.
    pub fn of(name: &str, m: &Metrics) -> Self {
        ModelRow {
            name: name.to_owned(),
            events: m.events,
            incidents_detected: m.incidents_detected,
            incidents_covered: m.incidents_covered,
            recall: m.recall,
            precision: m.precision,
            false_alarms: m.false_alarms,
            false_alarms_per_day: m.false_alarms_per_day,
            first_day_false_alarms: m.first_day_false_alarms,
            median_delay_minutes: m.median_delay_minutes,
            worst_delay_minutes: m.worst_delay_minutes,
        }
    }
}
