//! Reading a backtest output directory's `metrics.json` (events come through
//! [`benglema_io::read_events`], `series.csv` in one streaming pass through
//! [`crate::series`]), and joining it with the labels, which add what metrics.json does not
//! hold (end, acknowledgement, labelled symptoms).

use std::path::Path;

use benglema_model::{Incident, IncidentResult, Metrics};
use chrono::{DateTime, FixedOffset};

use crate::ReportError;

/// A time as written by backtest (RFC 3339 with the display zone's offset).
pub type Time = DateTime<FixedOffset>;

/// Reads `metrics.json` (every field has a default, so an older or newer backtest's
/// output reads).
pub fn read_metrics(path: &Path) -> Result<Metrics, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Table {
        path: path.to_owned(),
        message: format!("not backtest metrics JSON: {e}"),
    })
}

/// One labelled incident row as the report shows it: the label (when given) joined with what
/// backtest found for it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentView {
    /// Incident id.
    pub incident_id: String,
    /// Service.
    pub service: String,
    /// Labelled onset.
    pub start: Option<Time>,
    /// Labelled recovery.
    pub end: Option<Time>,
    /// Official acknowledgement.
    pub acknowledged_at: Option<Time>,
    /// Labelled symptom categories.
    pub symptoms: Vec<String>,
    /// The backtest's result for it (`None`: the label is not in metrics.json).
    pub result: Option<IncidentResult>,
}

impl IncidentView {
    /// The matched event id, if detected.
    pub fn event_id(&self) -> Option<&str> {
        self.result
            .as_ref()
            .filter(|r| r.detected)
            .and_then(|r| r.event_id.as_deref())
    }

    /// Whether the input covered it (unknown counts as covered).
    pub fn covered(&self) -> bool {
        self.result.as_ref().is_none_or(|r| r.covered)
    }
}

/// Joins labels and metrics rows on (incident id, service), labels first in their order,
/// then metrics rows that have no label.
pub fn incident_views(labels: &[Incident], metrics: &Metrics) -> Vec<IncidentView> {
    let mut out: Vec<IncidentView> = labels
        .iter()
        .map(|l| IncidentView {
            incident_id: l.incident_id.clone(),
            service: l.service.clone(),
            start: l.start,
            end: l.end,
            acknowledged_at: l.acknowledged_at,
            symptoms: l.symptoms.clone(),
            result: metrics
                .incidents
                .iter()
                .find(|m| m.incident_id == l.incident_id && m.service == l.service)
                .cloned(),
        })
        .collect();
    for m in &metrics.incidents {
        if !out
            .iter()
            .any(|v| v.incident_id == m.incident_id && v.service == m.service)
        {
            out.push(IncidentView {
                incident_id: m.incident_id.clone(),
                service: m.service.clone(),
                start: m.start,
                end: None,
                acknowledged_at: None,
                symptoms: Vec::new(),
                result: Some(m.clone()),
            });
        }
    }
    out
}
