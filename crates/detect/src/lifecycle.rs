//! The event lifecycle of one series: opening an event at an alarm (its onset from the
//! model's lag, the buckets since then absorbed), following it bucket by bucket (peak,
//! symptoms, terms, samples, the quiet window that resolves it), deciding when a new state
//! is worth publishing, and rendering it as an [`OutageEvent`].
//!
//! The engine owns *when* a series steps and whether its baseline learns; this module owns
//! what an open event is and how it changes.

use std::collections::{BTreeMap, VecDeque};

use benglema_model::{EventStatus, OutageEvent, Severity};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::LifecycleConfig;
use crate::counts::{Sample, ServiceCounts};
use crate::engine::Recent;
use crate::model::Step;
use crate::DetectorConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OpenEvent {
    id: String,
    onset: i64,
    detected: i64,
    score: f64,
    baseline: f64,
    peak_bucket: i64,
    peak: u64,
    complaints: u64,
    symptoms: BTreeMap<String, u64>,
    terms: BTreeMap<String, u64>,
    samples: Vec<String>,
    published_peak: u64,
    published_symptom: Option<String>,
    last_update: i64,
    /// The bucket after the last busy one: where the event ends if it resolves.
    first_quiet: i64,
    /// (complaints, expected) of the last `resolve_buckets` buckets.
    #[serde(default)]
    window: VecDeque<(u64, f64)>,
}

impl OpenEvent {
    /// Opens an event when `step` alarms in bucket `b`: the onset is `step.onset_lag`
    /// buckets back (at most as far as `recent` reaches, `recent` ending with `b`), and every
    /// bucket from the onset on is absorbed into the event.
    pub(crate) fn open(
        name: &str,
        zone: &Tz,
        bs: i64,
        b: i64,
        step: &Step,
        recent: &VecDeque<Recent>,
        lc: &LifecycleConfig,
    ) -> OpenEvent {
        let lag = (step.onset_lag as usize).min(recent.len() - 1);
        let from = recent.len() - 1 - lag;
        let onset = recent[from].bucket;
        let mut ev = OpenEvent {
            id: format!(
                "{}-{:08x}",
                local_id(zone, onset * bs),
                fnv1a(format!("{name}@{}", onset * bs).as_bytes()) as u32
            ),
            onset,
            detected: b,
            score: step.statistic,
            baseline: recent[from].expected,
            peak_bucket: onset,
            peak: 0,
            complaints: 0,
            symptoms: BTreeMap::new(),
            terms: BTreeMap::new(),
            samples: Vec::new(),
            published_peak: 0,
            published_symptom: None,
            last_update: b,
            first_quiet: b + 1,
            window: VecDeque::new(),
        };
        for r in recent.iter().skip(from) {
            let c = &r.content;
            ev.complaints += c.complaints;
            if c.complaints > ev.peak {
                ev.peak = c.complaints;
                ev.peak_bucket = r.bucket;
            }
            add_counts(&mut ev.symptoms, &c.symptoms);
            add_counts(&mut ev.terms, &c.terms);
            ev.add_samples(&c.samples, lc);
        }
        ev
    }

    fn add_samples(&mut self, samples: &[Sample], lc: &LifecycleConfig) {
        for s in samples {
            if self.samples.len() < lc.sample_posts {
                self.samples.push(s.id.clone());
            }
        }
    }

    /// Absorbs bucket `b` (`x` complaints against `expected`) into the open event; returns
    /// the state to publish: `Resolved` when the last `resolve_buckets` buckets together
    /// are quiet, `Updated` when the peak grew or the leading symptom changed (at most every
    /// `min_update_buckets`), else nothing.
    pub(crate) fn absorb(
        &mut self,
        b: i64,
        x: u64,
        expected: f64,
        content: &ServiceCounts,
        lc: &LifecycleConfig,
    ) -> Option<EventStatus> {
        self.complaints += x;
        add_counts(&mut self.symptoms, &content.symptoms);
        add_counts(&mut self.terms, &content.terms);
        self.add_samples(&content.samples, lc);
        if x > self.peak {
            self.peak = x;
            self.peak_bucket = b;
        }
        // Quiet is judged over the last `resolve_buckets` buckets together, not bucket by
        // bucket: a long partial degradation at a few complaints a minute has many empty
        // minutes but is not over. The event ends after its last busy bucket.
        if x as f64 > expected * lc.quiet_ratio + lc.quiet_slack {
            self.first_quiet = b + 1;
        }
        self.window.push_back((x, expected));
        if self.window.len() > lc.resolve_buckets as usize {
            self.window.pop_front();
        }
        let (sx, se) = self
            .window
            .iter()
            .fold((0.0, 0.0), |(a, e), &(x, m)| (a + x as f64, e + m));
        let quiet = self.window.len() >= lc.resolve_buckets as usize
            && sx <= se * lc.quiet_ratio + lc.quiet_slack;
        if quiet {
            return Some(EventStatus::Resolved);
        }
        if b - self.last_update >= lc.min_update_buckets as i64 {
            let grew = self.peak as f64 >= self.published_peak as f64 * lc.update_peak_factor;
            let lead = top(&self.symptoms).cloned();
            if grew || (lead.is_some() && lead != self.published_symptom) {
                return Some(EventStatus::Updated);
            }
        }
        None
    }

    /// Records that state `status` is published in bucket `b` and renders it.
    pub(crate) fn publish(
        &mut self,
        service: &str,
        status: EventStatus,
        b: i64,
        zone: &Tz,
        cfg: &DetectorConfig,
    ) -> OutageEvent {
        let bs = cfg.time.bucket_seconds;
        self.published_peak = self.peak;
        self.published_symptom = top(&self.symptoms).cloned();
        self.last_update = b;
        let ended = (status == EventStatus::Resolved).then_some(self.first_quiet * bs);
        render(
            self,
            service,
            status,
            ended,
            bs,
            bs as f64 / 60.0,
            zone,
            cfg,
        )
    }
}

/// FNV-1a, for event ids that are stable across runs, machines and versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn top(map: &BTreeMap<String, u64>) -> Option<&String> {
    // Largest count, ties broken by name, so the choice is deterministic.
    map.iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k)
}

pub(crate) fn to_local(zone: &Tz, secs: i64) -> DateTime<FixedOffset> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_default()
        .with_timezone(zone)
        .fixed_offset()
}

/// The readable part of an event id: the onset in local time, `20211018-0912`.
fn local_id(zone: &Tz, secs: i64) -> String {
    to_local(zone, secs).format("%Y%m%d-%H%M").to_string()
}

#[allow(clippy::too_many_arguments)]
fn render(
    ev: &OpenEvent,
    service: &str,
    status: EventStatus,
    ended: Option<i64>,
    bs: i64,
    minutes: f64,
    zone: &Tz,
    cfg: &DetectorConfig,
) -> OutageEvent {
    let lc = &cfg.lifecycle;
    let peak_rate = ev.peak as f64 / minutes;
    let baseline_rate = ev.baseline / minutes;
    let ratio = peak_rate / baseline_rate.max(1e-9);
    let severity = if peak_rate >= lc.strong_peak_rate && ratio >= lc.strong_ratio {
        Severity::Strong
    } else if peak_rate >= lc.moderate_peak_rate && ratio >= lc.moderate_ratio {
        Severity::Moderate
    } else {
        Severity::Weak
    };
    let total: u64 = ev.symptoms.values().sum();
    let mut symptoms: Vec<(String, f64)> = ev
        .symptoms
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (*v as f64 / total.max(1) as f64 * 100.0).round() / 100.0,
            )
        })
        .collect();
    symptoms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut terms: Vec<(&String, &u64)> = ev.terms.iter().collect();
    terms.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    OutageEvent {
        event_id: ev.id.clone(),
        service: service.to_owned(),
        status,
        started_at: to_local(zone, ev.onset * bs),
        detected_at: to_local(zone, (ev.detected + 1) * bs),
        peak_at: to_local(zone, ev.peak_bucket * bs),
        ended_at: ended.map(|e| to_local(zone, e)),
        peak_rate,
        baseline_rate,
        severity,
        score: ev.score,
        complaints: ev.complaints,
        symptoms,
        top_terms: terms
            .into_iter()
            .take(lc.top_terms)
            .map(|(t, _)| t.clone())
            .collect(),
        sample_post_ids: ev.samples.clone(),
    }
}
