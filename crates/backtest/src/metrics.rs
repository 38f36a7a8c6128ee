//! Matching detected events to labelled incidents, and the figures a backtest reports.
//!
//! **Matching rule.** An event matches a label when both name the same service and the
//! event's estimated onset falls inside the label's window: from 30 minutes before the
//! labelled start to 60 minutes after its labelled end (a label without an end is taken to
//! last `DEFAULT_DURATION_MINUTES`). When several labels of the service qualify, the one
//! whose start is nearest wins. A label is *detected* when at least one event matches it;
//! its *delay* is the earliest matching `detected_at` minus the labelled start, and its
//! *lead* over the official acknowledgement is `acknowledged_at` minus that `detected_at`.
//! An event that matches no label is a *false alarm*. Only labels with replayed posts
//! within an hour of their start count towards recall.

use std::collections::BTreeMap;

use benglema_model::{Incident, OutageEvent};
pub use benglema_model::{IncidentResult, Metrics, ModelRow};
use chrono::{DateTime, Duration, FixedOffset};

/// Window before a labelled start in which an onset still matches, minutes.
pub const BEFORE_MINUTES: i64 = 30;
/// Window after a labelled end in which an onset still matches, minutes.
pub const AFTER_MINUTES: i64 = 60;
/// Assumed duration of a label with no end, minutes.
pub const DEFAULT_DURATION_MINUTES: i64 = 120;

fn minutes(d: Duration) -> f64 {
    d.num_seconds() as f64 / 60.0
}

/// Matches the opening state of every event against the labels.
pub fn score(
    events: &BTreeMap<String, OutageEvent>,
    labels: &[Incident],
    covered: &dyn Fn(DateTime<FixedOffset>) -> bool,
) -> (Vec<IncidentResult>, Vec<String>) {
    let window = |l: &Incident| -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
        let s = l.start?;
        let e = l
            .end
            .unwrap_or(s + Duration::minutes(DEFAULT_DURATION_MINUTES));
        Some((
            s - Duration::minutes(BEFORE_MINUTES),
            e + Duration::minutes(AFTER_MINUTES),
        ))
    };
    // Each event goes to its nearest qualifying label.
    let mut matched: BTreeMap<usize, Vec<&OutageEvent>> = BTreeMap::new();
    let mut false_alarms = Vec::new();
    for e in events.values() {
        let best = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.service == e.service)
            .filter(|(_, l)| window(l).is_some_and(|(a, b)| a <= e.started_at && e.started_at <= b))
            .min_by_key(|(_, l)| {
                (l.start.expect("windowed") - e.started_at)
                    .num_seconds()
                    .abs()
            });
        match best {
            Some((i, _)) => matched.entry(i).or_default().push(e),
            None => false_alarms.push(e.event_id.clone()),
        }
    }
    let results = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let covered = l.start.is_some_and(covered);
            let first = matched
                .get(&i)
                .and_then(|v| v.iter().min_by_key(|e| e.detected_at));
            let delay = first.zip(l.start).map(|(e, s)| minutes(e.detected_at - s));
            IncidentResult {
                incident_id: l.incident_id.clone(),
                service: l.service.clone(),
                start: l.start,
                covered,
                detected: first.is_some(),
                event_id: first.map(|e| e.event_id.clone()),
                detected_at: first.map(|e| e.detected_at),
                estimated_onset: first.map(|e| e.started_at),
                delay_minutes: delay,
                lead_over_ack_minutes: first
                    .zip(l.acknowledged_at)
                    .map(|(e, a)| minutes(a - e.detected_at)),
            }
        })
        .collect();
    (results, false_alarms)
}

/// Fills the summary figures from per-incident results.
pub fn summarise(m: &mut Metrics, results: Vec<IncidentResult>, false_alarms: Vec<String>) {
    m.incidents_covered = results.iter().filter(|r| r.covered).count();
    m.incidents_detected = results.iter().filter(|r| r.covered && r.detected).count();
    m.recall =
        (m.incidents_covered > 0).then(|| m.incidents_detected as f64 / m.incidents_covered as f64);
    m.false_alarms = false_alarms.len();
    m.precision = (m.events > 0).then(|| (m.events - m.false_alarms) as f64 / m.events as f64);
    m.false_alarms_per_day = if m.days > 0.0 {
        m.false_alarms as f64 / m.days
    } else {
        0.0
    };
    let mut delays: Vec<f64> = results
        .iter()
        .filter(|r| r.covered)
        .filter_map(|r| r.delay_minutes)
        .collect();
    delays.sort_by(f64::total_cmp);
    m.median_delay_minutes = (!delays.is_empty()).then(|| {
        let n = delays.len();
        if n % 2 == 1 {
            delays[n / 2]
        } else {
            (delays[n / 2 - 1] + delays[n / 2]) / 2.0
        }
    });
    m.worst_delay_minutes = delays.last().copied();
    m.incidents = results;
    m.false_alarm_events = false_alarms;
}
