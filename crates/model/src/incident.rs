//! One row of the ground-truth label file `data/labels/incidents.csv`.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Column order of the incident label file (PRODUCT.md).
pub const INCIDENT_CSV_COLUMNS: [&str; 8] = [
    "incident_id",
    "service",
    "start",
    "end",
    "acknowledged_at",
    "symptoms",
    "source",
    "notes",
];

/// A labelled outage of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Id shared by the rows of one incident (one row per affected service).
    pub incident_id: String,
    /// Canonical service name.
    pub service: String,
    /// Onset, as far as known.
    pub start: Option<DateTime<FixedOffset>>,
    /// Recovery, as far as known.
    pub end: Option<DateTime<FixedOffset>>,
    /// Official acknowledgement, when known.
    pub acknowledged_at: Option<DateTime<FixedOffset>>,
    /// Symptom categories (taxonomy names).
    pub symptoms: Vec<String>,
    /// The seed file or article the row comes from.
    pub source: String,
    /// What is uncertain.
    pub notes: String,
}
