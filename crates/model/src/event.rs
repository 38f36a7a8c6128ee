//! The outage event contract: what the detector raises, on Kafka, stdout and CSV.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// CSV column order of an outage event (PRODUCT.md).
pub const EVENT_CSV_COLUMNS: [&str; 15] = [
    "event_id",
    "service",
    "status",
    "started_at",
    "detected_at",
    "peak_at",
    "ended_at",
    "peak_rate",
    "baseline_rate",
    "severity",
    "score",
    "complaints",
    "symptoms",
    "top_terms",
    "sample_post_ids",
];

/// Lifecycle state of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum EventStatus {
    /// Just raised.
    Open,
    /// New peak or changed symptom mix.
    Updated,
    /// Back near baseline.
    Resolved,
}

impl EventStatus {
    /// The lowercase name used in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Open => "open",
            EventStatus::Updated => "updated",
            EventStatus::Resolved => "resolved",
        }
    }
}

/// How bad an outage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Noticeable above baseline.
    Weak,
    /// Clearly an outage.
    Moderate,
    /// A large, widely felt outage.
    Strong,
}

impl Severity {
    /// The lowercase name used in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Weak => "weak",
            Severity::Moderate => "moderate",
            Severity::Strong => "strong",
        }
    }
}

/// One outage event (one state of it: each status change is published again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutageEvent {
    /// Stable id, the same in `run` and `backtest` for the same input.
    pub event_id: String,
    /// Canonical (or discovered) service name.
    pub service: String,
    /// Lifecycle state.
    pub status: EventStatus,
    /// Estimated onset (the change point).
    pub started_at: DateTime<FixedOffset>,
    /// Event time at which the detector raised it.
    pub detected_at: DateTime<FixedOffset>,
    /// Time of the highest complaint rate so far.
    pub peak_at: DateTime<FixedOffset>,
    /// Estimated recovery; `None` while open.
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// Complaints per minute at peak.
    pub peak_rate: f64,
    /// Expected complaints per minute at onset.
    pub baseline_rate: f64,
    /// Weak, moderate or strong.
    pub severity: Severity,
    /// Detector statistic at alarm.
    pub score: f64,
    /// Complaint posts attributed to the event.
    pub complaints: u64,
    /// Symptom categories with shares in [0, 1], largest first.
    pub symptoms: Vec<(String, f64)>,
    /// Most characteristic terms.
    pub top_terms: Vec<String>,
    /// Up to 5 post ids.
    pub sample_post_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_json_form() {
        for s in [
            EventStatus::Open,
            EventStatus::Updated,
            EventStatus::Resolved,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [Severity::Weak, Severity::Moderate, Severity::Strong] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
