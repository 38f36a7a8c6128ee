//! The latest state of each event: events are published once per status change (`open`,
//! `updated`, `resolved`), and a reader of the stream (`export`, `backtest`'s `events.csv`)
//! wants one row per event, its newest state. One implementation for every reader.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset};

use crate::{EventStatus, OutageEvent};

/// Which events to keep.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Keep events still going at or after this time (not ended before it).
    pub since: Option<DateTime<FixedOffset>>,
    /// Keep events that started before this time.
    pub until: Option<DateTime<FixedOffset>>,
    /// Keep only these services (empty: all).
    pub services: BTreeSet<String>,
    /// Keep only these latest statuses (empty: all).
    pub statuses: BTreeSet<EventStatus>,
}

impl EventFilter {
    /// Whether an event passes.
    pub fn keeps(&self, e: &OutageEvent) -> bool {
        if self
            .since
            .is_some_and(|t| e.ended_at.is_some_and(|end| end < t))
        {
            return false;
        }
        if self.until.is_some_and(|t| e.started_at >= t) {
            return false;
        }
        (self.services.is_empty() || self.services.contains(&e.service))
            && (self.statuses.is_empty() || self.statuses.contains(&e.status))
    }
}

/// Latest state per event id, in order of first appearance.
#[derive(Debug, Default)]
pub struct Latest {
    order: Vec<String>,
    by_id: HashMap<String, OutageEvent>,
    /// Event states read.
    pub states: u64,
}

impl Latest {
    /// Takes one event state.
    pub fn push(&mut self, e: OutageEvent) {
        self.states += 1;
        if !self.by_id.contains_key(&e.event_id) {
            self.order.push(e.event_id.clone());
        }
        self.by_id.insert(e.event_id.clone(), e);
    }

    /// Keeps only the events for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&OutageEvent) -> bool) {
        self.by_id.retain(|_, e| keep(e));
        let by_id = &self.by_id;
        self.order.retain(|id| by_id.contains_key(id));
    }

    /// Number of distinct events.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no event has been seen.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The events passing `filter`, ordered by start time then id.
    pub fn select(&self, filter: &EventFilter) -> Vec<&OutageEvent> {
        let mut v: Vec<&OutageEvent> = self
            .order
            .iter()
            .map(|id| &self.by_id[id])
            .filter(|e| filter.keeps(e))
            .collect();
        v.sort_by(|a, b| (a.started_at, &a.event_id).cmp(&(b.started_at, &b.event_id)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn state(id: &str, status: EventStatus, start: &str) -> OutageEvent {
        let t = DateTime::parse_from_rfc3339(start).unwrap();
        OutageEvent {
            event_id: id.into(),
            service: "微信".into(),
            status,
            started_at: t,
            detected_at: t,
            peak_at: t,
            ended_at: (status == EventStatus::Resolved).then_some(t),
            peak_rate: 1.0,
            baseline_rate: 0.1,
            severity: Severity::Weak,
            score: 10.0,
            complaints: 8,
            symptoms: vec![],
            top_terms: vec![],
            sample_post_ids: vec![],
        }
    }

    #[test]
    fn one_row_per_event_its_newest_state_in_start_order() {
        let mut l = Latest::default();
        l.push(state("b", EventStatus::Open, "2021-10-18T10:00:00+08:00"));
        l.push(state("a", EventStatus::Open, "2021-10-18T09:00:00+08:00"));
        l.push(state(
            "b",
            EventStatus::Updated,
            "2021-10-18T10:00:00+08:00",
        ));
        l.push(state(
            "b",
            EventStatus::Resolved,
            "2021-10-18T10:00:00+08:00",
        ));
        assert_eq!((l.states, l.len()), (4, 2));
        let all = l.select(&EventFilter::default());
        let got: Vec<(&str, EventStatus)> = all
            .iter()
            .map(|e| (e.event_id.as_str(), e.status))
            .collect();
        assert_eq!(
            got,
            [("a", EventStatus::Open), ("b", EventStatus::Resolved)]
        );
        let open = EventFilter {
            statuses: [EventStatus::Open].into_iter().collect(),
            ..EventFilter::default()
        };
        assert_eq!(l.select(&open).len(), 1);
        l.retain(|e| e.event_id != "a");
        assert_eq!(l.len(), 1);
        assert!(!l.is_empty());
    }
}
