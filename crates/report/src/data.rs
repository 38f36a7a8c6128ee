//! Reading a backtest output directory: `events.csv` and `metrics.json` whole (they are
//! small), and `series.csv` in one streaming pass (see [`crate::series`]).
//!
//! The metrics are read as JSON with every field optional, so a report can be drawn from the
//! output of an older or newer backtest; the labels passed in add what metrics.json does not
//! hold (end, acknowledgement, labelled symptoms).

use std::collections::BTreeMap;
use std::path::Path;

use benglema_model::Incident;
use chrono::{DateTime, FixedOffset};
use polars::prelude::*;
use serde::Deserialize;

use crate::ReportError;

/// A time as written by backtest (RFC 3339 with the display zone's offset).
pub type Time = DateTime<FixedOffset>;

fn time(s: Option<&str>) -> Option<Time> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

/// One row of `events.csv` (the latest state of one event).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Stable event id.
    pub event_id: String,
    /// Service.
    pub service: String,
    /// `open`, `updated` or `resolved`.
    pub status: String,
    /// Estimated onset.
    pub started_at: Option<Time>,
    /// When the detector raised it.
    pub detected_at: Option<Time>,
    /// Minute of the highest complaint rate.
    pub peak_at: Option<Time>,
    /// Estimated recovery; `None` while open.
    pub ended_at: Option<Time>,
    /// Complaints per minute at peak.
    pub peak_rate: Option<f64>,
    /// Expected complaints per minute at onset.
    pub baseline_rate: Option<f64>,
    /// `weak`, `moderate` or `strong`.
    pub severity: String,
    /// Detector statistic at alarm.
    pub score: Option<f64>,
    /// Complaints attributed to the event.
    pub complaints: Option<u64>,
    /// Symptom shares, largest first.
    pub symptoms: Vec<(String, f64)>,
    /// Most characteristic terms.
    pub top_terms: Vec<String>,
}

/// Parses the `symptoms` column: `category:share` pairs joined by `;`.
pub fn parse_symptoms(s: &str) -> Vec<(String, f64)> {
    s.split(';')
        .filter_map(|pair| {
            let (name, share) = pair.rsplit_once(':')?;
            let share: f64 = share.trim().parse().ok()?;
            (!name.trim().is_empty() && share.is_finite())
                .then(|| (name.trim().to_owned(), share.clamp(0.0, 1.0)))
        })
        .collect()
}

/// Reads `events.csv` (PRODUCT.md columns; unknown extra columns are ignored).
pub fn read_events(path: &Path) -> Result<Vec<EventRow>, ReportError> {
    let table = |message: String| ReportError::Table {
        path: path.to_owned(),
        message,
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_owned()))
        .and_then(|r| r.finish())
        .map_err(|e| table(e.to_string()))?;
    let column = |name: &str| -> Result<Option<&StringChunked>, ReportError> {
        match df.column(name) {
            Ok(c) => c.str().map(Some).map_err(|e| table(e.to_string())),
            Err(_) => Ok(None),
        }
    };
    let get = |c: Option<&StringChunked>, i: usize| -> Option<String> {
        c.and_then(|c| c.get(i)).map(str::to_owned)
    };
    let id = column("event_id")?
        .ok_or_else(|| table("no `event_id` column; is this a backtest events.csv?".into()))?;
    let cols: BTreeMap<&str, Option<&StringChunked>> = [
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
    ]
    .into_iter()
    .map(|n| Ok((n, column(n)?)))
    .collect::<Result<_, ReportError>>()?;
    let s = |n: &str, i: usize| get(cols[n], i);
    let f = |n: &str, i: usize| s(n, i).and_then(|v| v.trim().parse::<f64>().ok());
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let Some(event_id) = id.get(i).map(str::to_owned) else {
            continue;
        };
        out.push(EventRow {
            event_id,
            service: s("service", i).unwrap_or_default(),
            status: s("status", i).unwrap_or_default(),
            started_at: time(s("started_at", i).as_deref()),
            detected_at: time(s("detected_at", i).as_deref()),
            peak_at: time(s("peak_at", i).as_deref()),
            ended_at: time(s("ended_at", i).as_deref()),
            peak_rate: f("peak_rate", i),
            baseline_rate: f("baseline_rate", i),
            severity: s("severity", i).unwrap_or_default(),
            score: f("score", i),
            complaints: s("complaints", i).and_then(|v| v.trim().parse().ok()),
            symptoms: parse_symptoms(&s("symptoms", i).unwrap_or_default()),
            top_terms: s("top_terms", i)
                .unwrap_or_default()
                .split(';')
                .filter(|t| !t.trim().is_empty())
                .map(|t| t.trim().to_owned())
                .collect(),
        });
    }
    Ok(out)
}

/// One incident row of `metrics.json`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct IncidentMetrics {
    /// Incident id.
    pub incident_id: String,
    /// Service.
    pub service: String,
    /// Labelled onset.
    pub start: Option<Time>,
    /// Whether the input covered the incident.
    pub covered: bool,
    /// Whether an event matched it.
    pub detected: bool,
    /// The matched event.
    pub event_id: Option<String>,
    /// When the matched event was raised.
    pub detected_at: Option<Time>,
    /// The matched event's estimated onset.
    pub estimated_onset: Option<Time>,
    /// Detection delay from the labelled onset, minutes.
    pub delay_minutes: Option<f64>,
    /// Lead over the official acknowledgement, minutes.
    pub lead_over_ack_minutes: Option<f64>,
}

/// `metrics.json`, every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricsFile {
    /// Posts read.
    pub posts: Option<u64>,
    /// Records rejected.
    pub rejects: Option<u64>,
    /// Posts later than the allowed lateness.
    pub late: Option<u64>,
    /// Duplicate posts.
    pub duplicates: Option<u64>,
    /// Complaint posts.
    pub complaints: Option<u64>,
    /// Events raised.
    pub events: Option<u64>,
    /// Incidents the input covered.
    pub incidents_covered: Option<u64>,
    /// Incidents detected.
    pub incidents_detected: Option<u64>,
    /// Recall over covered incidents.
    pub recall: Option<f64>,
    /// Share of events matching an incident.
    pub precision: Option<f64>,
    /// Events matching no incident.
    pub false_alarms: Option<u64>,
    /// False alarms per day of input.
    pub false_alarms_per_day: Option<f64>,
    /// Median detection delay, minutes.
    pub median_delay_minutes: Option<f64>,
    /// Worst detection delay, minutes.
    pub worst_delay_minutes: Option<f64>,
    /// Days of input.
    pub days: Option<f64>,
    /// Wall-clock seconds of the backtest.
    pub seconds: Option<f64>,
    /// Posts per second.
    pub posts_per_second: Option<f64>,
    /// Per-incident results.
    pub incidents: Vec<IncidentMetrics>,
    /// Ids of events that matched no incident.
    pub false_alarm_events: Vec<String>,
    /// Side-by-side rows of `--compare` / `--sweep` (kept as JSON objects).
    pub comparison: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Reads `metrics.json`.
pub fn read_metrics(path: &Path) -> Result<MetricsFile, ReportError> {
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
    pub result: Option<IncidentMetrics>,
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
pub fn incident_views(labels: &[Incident], metrics: &MetricsFile) -> Vec<IncidentView> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symptoms_parse_and_skip_garbage() {
        assert_eq!(
            parse_symptoms("图片/文件:0.52;网络/服务器:0.15;;bad;x:nan;y:1.5"),
            vec![
                ("图片/文件".to_owned(), 0.52),
                ("网络/服务器".to_owned(), 0.15),
                ("y".to_owned(), 1.0)
            ]
        );
        assert!(parse_symptoms("").is_empty());
    }
}
