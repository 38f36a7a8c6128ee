//! The detection engine: event-time buckets per service, watermarks, one baseline and one
//! change-point model per series; the event lifecycle they feed is [`crate::lifecycle`].
//!
//! Posts go in with [`Engine::observe`] in any order within the allowed lateness. The
//! watermark is the newest event time seen minus the allowed lateness; every bucket whose
//! end the watermark passes is closed, in order, empty ones included, and each series takes
//! one step. [`Engine::advance_to`] moves the watermark without a post (an idle input must
//! not stall it) and [`Engine::flush`] closes everything at end of input. A post whose
//! bucket is already closed is *late*: counted, not added. A post id seen within the
//! lateness horizon is a *duplicate*: counted, not added.
//!
//! Everything the engine knows is in [`EngineState`], which serialises with serde: a run
//! restored from a snapshot produces exactly what an uninterrupted run does. The engine
//! does no I/O and reads no clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use benglema_model::{EventStatus, OutageEvent, Signal, SignalKind};
use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Season};
use crate::discovery::Candidates;
use crate::lifecycle::{to_local, OpenEvent};
use crate::model::{AnyModel, ChangePointModel};
use crate::{DetectError, DetectorConfig};

/// Empty buckets stepped through at most when the input jumps ahead; a longer gap is a gap
/// in the data, and the series' runs restart after it.
const MAX_EMPTY_STEPS: i64 = 2 * 1440;
/// How far back (in buckets) an onset may lie before its alarm.
const MAX_ONSET_LAG: usize = 240;

/// One post as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Post id, for de-duplication.
    pub id: &'a str,
    /// Event time, seconds since the Unix epoch.
    pub at: i64,
    /// The extractor's signal, if any.
    pub signal: Option<&'a Signal>,
    /// Content terms of the post (for an event's top terms); only used for complaints.
    pub terms: &'a [&'a str],
}

/// What became of an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted.
    Accepted,
    /// Same id seen before: not counted again.
    Duplicate,
    /// Its bucket was already closed: counted as late.
    Late,
}

/// One closed bucket of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// Service.
    pub service: String,
    /// Bucket start.
    pub bucket_start: DateTime<FixedOffset>,
    /// Complaints in the bucket.
    pub complaints: u64,
    /// All posts in the bucket.
    pub posts: u64,
    /// Expected complaints (the baseline).
    pub expected: f64,
    /// Change evidence in [0, 1].
    pub score: f64,
    /// Whether the model alarmed in this bucket.
    pub alarm: bool,
    /// Whether an event of this service is open.
    pub in_event: bool,
}

/// What the engine emits.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An event opened, changed or resolved.
    Event(OutageEvent),
    /// A closed bucket of a series (only with [`EngineOptions::series`]).
    Series(SeriesPoint),
}

/// Engine options that are not detector parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineOptions {
    /// Emit a [`SeriesPoint`] per series per closed bucket.
    pub series: bool,
}

/// Counters of what came in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Posts counted.
    pub posts: u64,
    /// Complaint posts counted (once each, however many services a post names; an event's
    /// `complaints` are its service's share of them).
    pub complaints: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// Late posts ignored.
    pub late: u64,
    /// Buckets closed.
    pub buckets: u64,
    /// Events opened.
    pub events: u64,
    /// Discovered names given a series of their own.
    #[serde(default)]
    pub discovered_admitted: u64,
    /// Discovered series dropped after a quiet spell.
    #[serde(default)]
    pub discovered_expired: u64,
    /// Complaints about discovered names that were not (yet) admitted.
    #[serde(default)]
    pub discovered_unadmitted: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServiceBucket {
    /// The service was discovered from text, not named by the gazetteer.
    #[serde(default)]
    pub(crate) discovered: bool,
    pub(crate) complaints: u64,
    pub(crate) recoveries: u64,
    pub(crate) symptoms: BTreeMap<String, u64>,
    pub(crate) terms: BTreeMap<String, u64>,
    pub(crate) samples: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Bucket {
    posts: u64,
    complaint_posts: u64,
    services: BTreeMap<String, ServiceBucket>,
}

/// A closed bucket kept for onset accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recent {
    pub(crate) bucket: i64,
    pub(crate) expected: f64,
    pub(crate) content: ServiceBucket,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Series {
    baseline: Baseline,
    model: AnyModel,
    recent: VecDeque<Recent>,
    event: Option<OpenEvent>,
    cooldown: u32,
    /// A discovered service (dropped when quiet for `discovery.expiry_buckets`).
    #[serde(default)]
    discovered: bool,
    /// Last bucket with a complaint.
    #[serde(default)]
    last_complaint: i64,
}

/// Everything the engine knows; serialise it to checkpoint, pass it to
/// [`Engine::restore`] to resume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// First bucket not yet closed.
    next_bucket: Option<i64>,
    /// Newest event time seen.
    max_seen: Option<i64>,
    open: BTreeMap<i64, Bucket>,
    seen: FxHashMap<String, i64>,
    series: BTreeMap<String, Series>,
    stats: Stats,
    /// Discovered names counted so far (bounded top-k).
    #[serde(default)]
    candidates: Candidates,
    /// Discovered names with a series (or about to get one): at most `discovery.max_series`.
    #[serde(default)]
    admitted: BTreeSet<String>,
    /// Share and overdispersion learned by discovered series that have expired (a decayed
    /// mean), for the baseline of the next discovered name.
    #[serde(default)]
    pool: Option<(f64, f64)>,
}

/// The detection engine. See the module documentation.
pub struct Engine {
    config: DetectorConfig,
    zone: Tz,
    options: EngineOptions,
    state: EngineState,
}

impl Engine {
    /// A fresh engine; fails when a parameter is out of range (see
    /// [`DetectorConfig::validate`]), e.g. a zero bucket width.
    pub fn new(config: DetectorConfig, options: EngineOptions) -> Result<Self, DetectError> {
        Self::restore(config, options, EngineState::default())
    }

    /// An engine resuming from a snapshot; fails like [`Engine::new`].
    pub fn restore(
        config: DetectorConfig,
        options: EngineOptions,
        state: EngineState,
    ) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(Engine {
            zone: config.zone(),
            config,
            options,
            state,
        })
    }

    /// A copy of the state, to checkpoint.
    pub fn snapshot(&self) -> EngineState {
        self.state.clone()
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.state.stats
    }

    /// The watermark: every bucket ending at or before it is closed (seconds).
    pub fn watermark(&self) -> Option<i64> {
        self.state
            .next_bucket
            .map(|b| b * self.config.time.bucket_seconds)
    }

    /// Takes one post.
    pub fn observe(&mut self, obs: Observation<'_>, out: &mut Vec<Output>) -> Admission {
        let bs = self.config.time.bucket_seconds;
        let st = &mut self.state;
        if st.seen.contains_key(obs.id) {
            st.stats.duplicates += 1;
            return Admission::Duplicate;
        }
        let b = obs.at.div_euclid(bs);
        if st.next_bucket.is_some_and(|nb| b < nb) {
            st.stats.late += 1;
            return Admission::Late;
        }
        st.seen.insert(obs.id.to_owned(), obs.at);
        st.stats.posts += 1;
        // A discovered name counts only once admitted (bounded memory, see discovery.rs).
        let signal = obs.signal.filter(|sig| {
            !sig.discovered
                || Self::admit(
                    &self.config,
                    st,
                    &sig.service,
                    sig.kind == SignalKind::Complaint,
                )
        });
        let bucket = st.open.entry(b).or_default();
        bucket.posts += 1;
        if let Some(sig) = signal {
            let kind = sig.kind;
            if kind == SignalKind::Complaint {
                bucket.complaint_posts += 1;
                st.stats.complaints += 1;
            }
            // A family name (百度 beside 百度地图) says which service, not that another fails.
            let services = std::iter::once(&sig.service)
                .chain(sig.also.iter().filter(|a| !sig.related.contains(a)));
            for service in services {
                let sb = bucket.services.entry(service.clone()).or_default();
                sb.discovered = sig.discovered;
                match kind {
                    SignalKind::Complaint => {
                        sb.complaints += 1;
                        for s in &sig.symptoms {
                            *sb.symptoms.entry(s.clone()).or_default() += 1;
                        }
                        for t in obs.terms {
                            *sb.terms.entry((*t).to_owned()).or_default() += 1;
                        }
                        if sb.samples.len() < self.config.lifecycle.sample_posts {
                            sb.samples.push(obs.id.to_owned());
                        }
                    }
                    SignalKind::Recovery => sb.recoveries += 1,
                    SignalKind::Denial => {}
                }
            }
        }
        if st.max_seen.is_none_or(|m| obs.at > m) {
            st.max_seen = Some(obs.at);
            let wm = obs.at - self.config.time.allowed_lateness_seconds;
            self.advance_to(wm, out);
        }
        Admission::Accepted
    }

    /// Whether a discovered name's signal is counted: the name already has a series, or its
    /// complaints (`complaint` says whether this is one) reach the admission count while
    /// there is room for another discovered series.
    fn admit(cfg: &DetectorConfig, st: &mut EngineState, name: &str, complaint: bool) -> bool {
        let d = &cfg.discovery;
        if !d.enabled {
            return false;
        }
        if st.admitted.contains(name) {
            return true;
        }
        if !complaint {
            return false;
        }
        let guaranteed = st.candidates.offer(name, d.candidates);
        if guaranteed >= d.admit_complaints && st.admitted.len() < d.max_series {
            st.admitted.insert(name.to_owned());
            st.stats.discovered_admitted += 1;
            return true;
        }
        st.stats.discovered_unadmitted += 1;
        false
    }

    /// Moves the watermark to `watermark` (seconds) and closes every bucket that ends at or
    /// before it. Use it when the input is idle; it never moves the watermark back.
    pub fn advance_to(&mut self, watermark: i64, out: &mut Vec<Output>) {
        let bs = self.config.time.bucket_seconds;
        // Buckets b with (b + 1) * bs <= watermark are closable.
        let last = watermark.div_euclid(bs) - 1;
        let Some(first) = self
            .state
            .next_bucket
            .or_else(|| self.state.open.keys().next().copied())
        else {
            return;
        };
        let mut b = first;
        while b <= last {
            // Skip a long stretch of nothing straight to the next open bucket.
            if b - first >= MAX_EMPTY_STEPS && !self.state.open.contains_key(&b) {
                let next = self.state.open.keys().next().copied().unwrap_or(last + 1);
                if next > b {
                    for s in self.state.series.values_mut() {
                        s.model.reset();
                        s.recent.clear();
                    }
                    b = next.min(last + 1);
                    continue;
                }
            }
            self.close(b, out);
            b += 1;
        }
        if b > first || self.state.next_bucket.is_none() {
            self.state.next_bucket = Some(b.max(first));
        }
    }

    /// End of input: closes every open bucket. Open events stay open.
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        if let Some(&last) = self.state.open.keys().next_back() {
            let bs = self.config.time.bucket_seconds;
            self.advance_to((last + 1) * bs, out);
        }
    }

    fn close(&mut self, b: i64, out: &mut Vec<Output>) {
        let bs = self.config.time.bucket_seconds;
        let bucket = self.state.open.remove(&b).unwrap_or_default();
        let exposure = bucket.posts - bucket.complaint_posts;
        let start = to_local(&self.zone, b * bs);
        let season = Season {
            hour: start.hour() as usize,
            weekday: start.weekday().num_days_from_monday() as usize,
        };
        self.add_series(b, &bucket);
        let exposure_f = exposure as f64;
        let cfg = &self.config;
        let mut services = bucket.services;
        for (name, s) in self.state.series.iter_mut() {
            let content = services.remove(name).unwrap_or_default();
            let x = content.complaints;
            if x > 0 {
                s.last_complaint = b;
            }
            let forecast = s.baseline.forecast(&cfg.baseline, exposure_f, season);
            let expected = forecast.mean;
            let step = s.model.step(x, forecast);
            s.recent.push_back(Recent {
                bucket: b,
                expected,
                content: content.clone(),
            });
            if s.recent.len() > MAX_ONSET_LAG {
                s.recent.pop_front();
            }
            let lc = &cfg.lifecycle;
            let mut emit: Option<EventStatus> = None;
            if let Some(ev) = s.event.as_mut() {
                emit = ev.absorb(b, x, expected, &content, lc);
            } else if s.cooldown > 0 {
                s.cooldown -= 1;
                if s.cooldown == 0 {
                    s.model.reset();
                }
            } else if step.alarm {
                s.event = Some(OpenEvent::open(
                    name, &self.zone, bs, b, &step, &s.recent, lc,
                ));
                self.state.stats.events += 1;
                emit = Some(EventStatus::Open);
            } else if step.learnable {
                // Learn only while the model says the evidence of a change is weak.
                s.baseline
                    .learn_from(&cfg.baseline, x, exposure_f, season, forecast);
            }
            if let Some(status) = emit {
                let ev = s.event.as_mut().expect("an event to publish");
                out.push(Output::Event(ev.publish(name, status, b, &self.zone, cfg)));
                if status == EventStatus::Resolved {
                    s.event = None;
                    s.model.reset();
                    s.cooldown = lc.cooldown_buckets;
                }
            }
            if self.options.series {
                out.push(Output::Series(SeriesPoint {
                    service: name.clone(),
                    bucket_start: start,
                    complaints: x,
                    posts: bucket.posts,
                    expected,
                    score: step.score,
                    alarm: step.alarm,
                    in_event: s.event.is_some(),
                }));
            }
        }
        self.expire_discovered(b);
        self.state.stats.buckets += 1;
        // Ids older than the lateness horizon can only come back late: forget them.
        let horizon = (b + 1) * bs - self.config.time.allowed_lateness_seconds - bs;
        self.state.seen.retain(|_, at| *at >= horizon);
    }
}

impl Engine {
    /// Gives every name complained about in `bucket` that has no series yet a fresh one.
    fn add_series(&mut self, b: i64, bucket: &Bucket) {
        let cfg = &self.config;
        for name in bucket.services.keys() {
            if !self.state.series.contains_key(name) {
                let discovered = bucket.services[name].discovered;
                // A discovered name starts from what discovered series have learned (their
                // mean share and overdispersion, with the weight of the prior), not from
                // the prior of a listed service.
                let baseline = match discovered.then(|| self.discovered_pool()).flatten() {
                    Some((share, dispersion)) => Baseline::pooled(&cfg.baseline, share, dispersion),
                    None => Baseline::default(),
                };
                self.state.series.insert(
                    name.clone(),
                    Series {
                        baseline,
                        model: AnyModel::of_kind(cfg, cfg.model.kind_for(name)),
                        recent: VecDeque::new(),
                        event: None,
                        cooldown: 0,
                        discovered,
                        last_complaint: b,
                    },
                );
            }
        }
    }

    /// The pooled share and overdispersion of discovered series: the mean over live ones
    /// that have learned, else what expired ones left.
    fn discovered_pool(&self) -> Option<(f64, f64)> {
        let c = &self.config.baseline;
        let live: Vec<(f64, f64)> = self
            .state
            .series
            .values()
            .filter(|s| s.discovered && s.baseline.learned(c))
            .map(|s| (s.baseline.share(c), s.baseline.dispersion(c)))
            .collect();
        if live.is_empty() {
            return self.state.pool;
        }
        let n = live.len() as f64;
        let (a, b) = live
            .iter()
            .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
        Some((a / n, b / n))
    }

    /// Decays the discovery sketch and drops discovered series that have been quiet for
    /// `discovery.expiry_buckets` with no open event and no cool-down, unless a still-open
    /// bucket holds posts about them.
    fn expire_discovered(&mut self, b: i64) {
        let d = &self.config.discovery;
        if !d.enabled {
            return;
        }
        let st = &mut self.state;
        st.candidates.decay(b, d.decay_buckets);
        if st.admitted.is_empty() {
            return;
        }
        let expired: Vec<String> = st
            .admitted
            .iter()
            .filter(|name| match st.series.get(name.as_str()) {
                Some(s) => {
                    s.event.is_none()
                        && s.cooldown == 0
                        && b - s.last_complaint >= d.expiry_buckets
                        && !st.open.values().any(|k| k.services.contains_key(*name))
                }
                None => false,
            })
            .cloned()
            .collect();
        for name in expired {
            if let Some(s) = st.series.get(&name) {
                // Remember what the expiring series learned, for the next discovered name.
                let (share, phi) = (
                    s.baseline.share(&self.config.baseline),
                    s.baseline.dispersion(&self.config.baseline),
                );
                st.pool = Some(match st.pool {
                    Some((a, b)) => (0.8 * a + 0.2 * share, 0.8 * b + 0.2 * phi),
                    None => (share, phi),
                });
            }
            st.series.remove(&name);
            st.admitted.remove(&name);
            st.stats.discovered_expired += 1;
        }
    }
}
