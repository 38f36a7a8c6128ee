//! The JSON behind the status page (`/api/services`, `/api/services/NAME`, `/api/events`),
//! built from the [`Board`] under its lock. README documents these shapes; the page's
//! script reads nothing else.
//!
//! Times are RFC 3339 strings in the detector's display zone, and `*_unix` fields are Unix
//! seconds; "now" is always the event time the detector is final through (`through`), not
//! the wall clock, so a replay shows its own day.

use std::collections::BTreeMap;

use benglema_model::{EventStatus, OutageEvent, Severity};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::board::{Board, Inner, Service};

/// Minutes per sparkline bar on `/`.
pub const SPARK_MINUTES: i64 = 15;

/// A service's status: `normal`, or the severity of its open event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No open event.
    Normal,
    /// An open weak event.
    Weak,
    /// An open moderate event.
    Moderate,
    /// An open strong event.
    Strong,
}

impl Status {
    fn of(e: Option<&OutageEvent>) -> Status {
        match e.map(|e| e.severity) {
            None => Status::Normal,
            Some(Severity::Weak) => Status::Weak,
            Some(Severity::Moderate) => Status::Moderate,
            Some(Severity::Strong) => Status::Strong,
        }
    }

    /// The label the page shows.
    pub fn label(self) -> &'static str {
        match self {
            Status::Normal => "正常",
            Status::Weak => "轻微异常",
            Status::Moderate => "故障",
            Status::Strong => "严重故障",
        }
    }
}

/// An open event, briefly (on `/`).
#[derive(Debug, Clone, Serialize)]
pub struct OpenEvent {
    /// Its id.
    pub event_id: String,
    /// Estimated onset.
    pub started_at: DateTime<FixedOffset>,
    /// When the detector raised it.
    pub detected_at: DateTime<FixedOffset>,
    /// Complaints per minute at peak.
    pub peak_rate: f64,
    /// Expected complaints per minute at onset.
    pub baseline_rate: f64,
    /// Complaints attributed to it.
    pub complaints: u64,
    /// The main symptoms, with shares in [0, 1].
    pub symptoms: Vec<(String, f64)>,
}

/// One service on `/` (`/api/services`).
#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    /// Its name.
    pub service: String,
    /// Discovered from text (not in the gazetteer).
    pub discovered: bool,
    /// `normal`, `weak`, `moderate` or `strong`.
    pub status: Status,
    /// The status as shown: 正常, 轻微异常, 故障, 严重故障.
    pub status_label: &'static str,
    /// Complaints in the last hour (of event time).
    pub complaints_hour: u64,
    /// Complaints the baseline expected in the last hour.
    pub expected_hour: f64,
    /// Complaints in the window (24 hours, or since start).
    pub complaints_day: u64,
    /// Complaints per [`SPARK_MINUTES`] minutes over the window, oldest first, the last bar
    /// ending at `through`.
    pub sparkline: Vec<u64>,
    /// Events of the service kept on the board.
    pub events: usize,
    /// Its open event.
    pub open_event: Option<OpenEvent>,
}

/// `/api/services`: every service with activity in the window, worst first.
#[derive(Debug, Clone, Serialize)]
pub struct ServicesView {
    /// Every minute before this is final (`null` before the first).
    pub through: Option<DateTime<FixedOffset>>,
    /// The same, Unix seconds.
    pub through_unix: Option<i64>,
    /// The display zone's offset from UTC at `through`, seconds.
    pub utc_offset_seconds: i32,
    /// Bucket length, seconds.
    pub bucket_seconds: i64,
    /// Window length, minutes (1440).
    pub window_minutes: i64,
    /// Minutes per sparkline bar.
    pub spark_minutes: i64,
    /// Worst first: open events by severity, then by complaints in the last hour against
    /// expected.
    pub services: Vec<ServiceSummary>,
}

/// A symptom or term with its count.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    /// The symptom (登录, 支付, ...) or term.
    pub name: String,
    /// Complaints naming it.
    pub count: u64,
    /// Its share of the complaints counted (symptoms) or of the terms' total (terms).
    pub share: f64,
}

/// A sample post.
#[derive(Debug, Clone, Serialize)]
pub struct SamplePost {
    /// Post id.
    pub id: String,
    /// Its time.
    pub at: DateTime<FixedOffset>,
    /// Its text (user input: the page shows it as text, never as markup).
    pub text: String,
    /// Its link, when `--post-url` was given.
    pub url: Option<String>,
}

/// `/api/services/NAME`.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceView {
    /// What `/` shows of it.
    #[serde(flatten)]
    pub summary: ServiceSummary,
    /// As in [`ServicesView`].
    pub through: Option<DateTime<FixedOffset>>,
    /// As in [`ServicesView`].
    pub through_unix: Option<i64>,
    /// As in [`ServicesView`].
    pub utc_offset_seconds: i32,
    /// Bucket length, seconds: `complaints[i]` is the bucket starting at
    /// `t0_unix + i * bucket_seconds`.
    pub bucket_seconds: i64,
    /// Start of the first bucket of the arrays (Unix seconds).
    pub t0_unix: Option<i64>,
    /// Complaints per bucket, from `t0_unix` up to `through`.
    pub complaints: Vec<u64>,
    /// Complaints the baseline expected per bucket (`null` where the service had no series
    /// yet or the detector skipped an empty stretch).
    pub expected: Vec<Option<f64>>,
    /// What the complaints are about ("top problems"): over the open event, or else the
    /// window.
    pub symptoms: Vec<Share>,
    /// `event` or `window`: what `symptoms` and `terms` cover.
    pub content_over: &'static str,
    /// The most frequent terms of the complaints.
    pub terms: Vec<Share>,
    /// The newest sample posts, newest first.
    pub samples: Vec<SamplePost>,
    /// Its events (latest state of each), newest first.
    pub events: Vec<OutageEvent>,
}

/// `/api/events`.
#[derive(Debug, Clone, Serialize)]
pub struct EventsView {
    /// Event states, newest detection first.
    pub events: Vec<OutageEvent>,
}

/// The query of `/api/events`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventsQuery {
    /// Only this service's.
    pub service: Option<String>,
    /// `open` (not resolved) or `resolved`.
    pub status: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
}

impl Board {
    /// `/api/services`.
    pub fn services(&self) -> ServicesView {
        let inner = self.lock();
        let mut services: Vec<ServiceSummary> = inner
            .services
            .iter()
            .map(|(name, s)| summary(&inner, name, s))
            .filter(|s| s.complaints_day > 0 || s.open_event.is_some() || s.events > 0)
            .collect();
        services.sort_by(|a, b| {
            let ratio = |s: &ServiceSummary| s.complaints_hour as f64 / (s.expected_hour + 1.0);
            b.status
                .cmp(&a.status)
                .then_with(|| ratio(b).total_cmp(&ratio(a)))
                .then_with(|| b.complaints_day.cmp(&a.complaints_day))
                .then_with(|| a.service.cmp(&b.service))
        });
        let (through, through_unix, utc_offset_seconds) = header(&inner);
        ServicesView {
            through,
            through_unix,
            utc_offset_seconds,
            bucket_seconds: inner.opts.bucket_seconds,
            window_minutes: inner.opts.window_buckets * inner.opts.bucket_seconds / 60,
            spark_minutes: SPARK_MINUTES,
            services,
        }
    }

    /// `/api/services/NAME`; `None` when the board has nothing of it.
    pub fn service(&self, name: &str) -> Option<ServiceView> {
        let inner = self.lock();
        let s = inner.services.get(name)?;
        let summary = summary(&inner, name, s);
        let bs = inner.opts.bucket_seconds;
        let (through, through_unix, utc_offset_seconds) = header(&inner);
        let (t0, complaints, expected) = match inner.through {
            Some(tb) => {
                let start = (tb - inner.opts.window_buckets).max(inner.first.unwrap_or(tb));
                let n = (tb - start).max(0) as usize;
                let mut c = vec![0; n];
                let mut e = vec![None; n];
                for m in s.minutes.iter().filter(|m| m.b >= start && m.b < tb) {
                    let i = (m.b - start) as usize;
                    c[i] = m.complaints;
                    e[i] = Some(m.expected);
                }
                (Some(start * bs), c, e)
            }
            None => (None, Vec::new(), Vec::new()),
        };
        let open = inner.open_event(s);
        let from = open.map(|e| e.started_at.timestamp().div_euclid(bs));
        let mut symptoms: BTreeMap<&str, u64> = BTreeMap::new();
        let mut terms: BTreeMap<&str, u64> = BTreeMap::new();
        for c in s.content.iter().filter(|c| from.is_none_or(|f| c.b >= f)) {
            for (k, n) in &c.symptoms {
                *symptoms.entry(k).or_default() += n;
            }
            for (k, n) in &c.terms {
                *terms.entry(k).or_default() += n;
            }
        }
        let complained: u64 = s
            .minutes
            .iter()
            .filter(|m| from.is_none_or(|f| m.b >= f))
            .map(|m| m.complaints)
            .sum();
        let symptoms = ranked(symptoms, complained.max(1), 8);
        let total_terms = terms.values().sum::<u64>().max(1);
        let terms = ranked(terms, total_terms, 15);
        let samples = s
            .samples
            .iter()
            .rev()
            .map(|p| SamplePost {
                id: p.id.clone(),
                at: inner.local(p.at),
                text: p.text.clone(),
                url: inner
                    .opts
                    .post_url
                    .as_ref()
                    .map(|u| u.replace("{id}", &percent(&p.id))),
            })
            .collect();
        let mut events: Vec<OutageEvent> = s
            .events
            .iter()
            .filter_map(|id| inner.events.get(id).cloned())
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.detected_at));
        Some(ServiceView {
            summary,
            through,
            through_unix,
            utc_offset_seconds,
            bucket_seconds: bs,
            t0_unix: t0,
            complaints,
            expected,
            symptoms,
            content_over: if open.is_some() { "event" } else { "window" },
            terms,
            samples,
            events,
        })
    }

    /// `/api/events`.
    pub fn events(&self, q: &EventsQuery) -> EventsView {
        let inner = self.lock();
        let limit = q.limit.unwrap_or(100).min(1000);
        let mut events: Vec<OutageEvent> = inner
            .events
            .values()
            .filter(|e| q.service.as_ref().is_none_or(|s| *s == e.service))
            .filter(|e| match q.status.as_deref() {
                Some("open") => e.status != EventStatus::Resolved,
                Some("resolved") => e.status == EventStatus::Resolved,
                _ => true,
            })
            .cloned()
            .collect();
        events.sort_by(|a, b| {
            b.detected_at
                .cmp(&a.detected_at)
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        events.truncate(limit);
        EventsView { events }
    }
}

fn header(inner: &Inner) -> (Option<DateTime<FixedOffset>>, Option<i64>, i32) {
    let unix = inner.through.map(|t| t * inner.opts.bucket_seconds);
    (
        unix.map(|u| inner.local(u)),
        unix,
        inner.offset_seconds(unix.unwrap_or(0)),
    )
}

fn summary(inner: &Inner, name: &str, s: &Service) -> ServiceSummary {
    let bs = inner.opts.bucket_seconds;
    let tb = inner.through.unwrap_or(0);
    let hour_from = tb - (3600 / bs).max(1);
    let window_from = tb - inner.opts.window_buckets;
    let (mut complaints_hour, mut expected_hour, mut complaints_day) = (0, 0.0, 0);
    let spark_buckets = (SPARK_MINUTES * 60 / bs).max(1);
    let bars = (inner.opts.window_buckets / spark_buckets).max(1) as usize;
    let mut sparkline = vec![0; bars];
    for m in s.minutes.iter().filter(|m| m.b >= window_from && m.b < tb) {
        complaints_day += m.complaints;
        if m.b >= hour_from {
            complaints_hour += m.complaints;
            expected_hour += m.expected;
        }
        // The last bar ends at `tb`.
        let back = ((tb - 1 - m.b) / spark_buckets) as usize;
        if back < bars {
            sparkline[bars - 1 - back] += m.complaints;
        }
    }
    let open = inner.open_event(s);
    let status = Status::of(open);
    ServiceSummary {
        service: name.to_owned(),
        discovered: s.discovered,
        status,
        status_label: status.label(),
        complaints_hour,
        expected_hour,
        complaints_day,
        sparkline,
        events: s.events.len(),
        open_event: open.map(|e| OpenEvent {
            event_id: e.event_id.clone(),
            started_at: e.started_at,
            detected_at: e.detected_at,
            peak_rate: e.peak_rate,
            baseline_rate: e.baseline_rate,
            complaints: e.complaints,
            symptoms: e.symptoms.iter().take(3).cloned().collect(),
        }),
    }
}

fn ranked(counts: BTreeMap<&str, u64>, total: u64, keep: usize) -> Vec<Share> {
    let mut v: Vec<Share> = counts
        .into_iter()
        .map(|(k, n)| Share {
            name: k.to_owned(),
            count: n,
            share: n as f64 / total as f64,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    v.truncate(keep);
    v
}

/// What a post id keeps unencoded in a link: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes what is not unreserved in a URL (a post id in a link).
fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}
