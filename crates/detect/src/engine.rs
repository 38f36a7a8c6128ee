//! The detection engine: event-time buckets per service, watermarks, one baseline and one
//! change-point model per series; the event lifecycle they feed is [`crate::lifecycle`].
//!
//! The engine has two halves that can run apart. A [`Tally`] counts posts into buckets and
//! closes them as its watermark passes (de-duplication and lateness are its business, see
//! [`crate::tally`]); a [`Stepper`] takes closed buckets, in order, and steps every series
//! one bucket at a time: discovered names admitted or not, baselines learning, models
//! alarming, events opening, updating and resolving. [`Engine`] is the two in one process,
//! what `backtest` runs; a scaled-out `run` runs a tally per input partition and a stepper
//! per group of services, with [`BucketCounts`] merged in between.
//!
//! Posts go in with [`Engine::observe`] in any order within the allowed lateness.
//! [`Engine::advance_to`] moves the watermark without a post (an idle input must not stall
//! it) and [`Engine::flush`] closes everything at end of input.
//!
//! Listed services' series are independent of each other given the exposure (all posts
//! of a bucket), so a stepper may hold any subset of them; discovered names share one
//! admission sketch, one cap and one pooled baseline, so one stepper holds all of them.
//!
//! Everything the engine knows is in [`EngineState`], which serialises with serde: a run
//! restored from a snapshot produces exactly what an uninterrupted run does. The engine
//! does no I/O and reads no clock.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use benglema_model::{EventStatus, OutageEvent, Signal, SERIES_MAX_QUIET_BUCKETS};
use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Season};
use crate::counts::{BucketCounts, ServiceCounts};
use crate::discovery::Candidates;
use crate::lifecycle::{to_local, OpenEvent};
use crate::model::{AnyModel, ChangePointModel};
use crate::tally::{Tally, TallyState};
use crate::{DetectError, DetectorConfig};

/// Empty buckets stepped at most after the last bucket with posts; a longer gap is a gap in
/// the data: the series' runs restart and stepping resumes at the next bucket with posts.
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
    /// The post's text (kept, cut, for the first complaints of a bucket: its samples).
    pub text: &'a str,
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
    /// Emit [`SeriesPoint`]s: by default those of the buckets that carry information (see
    /// [`SeriesPoint::informative`]).
    pub series: bool,
    /// With `series`, a point per series per closed bucket, quiet ones too.
    pub every_bucket: bool,
}

/// A series point is written when the change score reaches this.
pub const SERIES_SCORE_ROW: f64 = 0.1;
/// ... or when the baseline moved by more than this share of the last one written (of
/// [`SERIES_BASELINE_FLOOR`] at least), so a reader holding the last baseline through the
/// minutes without a point is never further off than that.
pub const SERIES_BASELINE_CHANGE: f64 = 0.1;
/// See [`SERIES_BASELINE_CHANGE`].
pub const SERIES_BASELINE_FLOOR: f64 = 0.05;

impl SeriesPoint {
    /// Whether a bucket with these values carries information of its own: a complaint, an
    /// alarm, an open event (or one that closed in it), or a change score of at least
    /// [`SERIES_SCORE_ROW`]. The minutes between two points of a service written without
    /// `every_bucket` had none of these: no complaint, no alarm, no event, a score below
    /// that, and a baseline within [`SERIES_BASELINE_CHANGE`] of the earlier point's; and
    /// two points are never more than [`SERIES_MAX_QUIET_BUCKETS`] apart unless the engine
    /// jumped over a gap in the data.
    pub fn informative(complaints: u64, alarm: bool, event: bool, score: f64) -> bool {
        complaints > 0 || alarm || event || score >= SERIES_SCORE_ROW
    }

    /// Whether `baseline` moved far enough from `last` (the last written) to be written.
    pub fn baseline_moved(last: f64, baseline: f64) -> bool {
        (baseline - last).abs() > SERIES_BASELINE_CHANGE * last.max(SERIES_BASELINE_FLOOR)
    }
}

/// Counters of what came in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl Stats {
    /// The tally's counters (posts, complaints, duplicates, late) with the stepper's.
    pub fn with_steps(self, steps: Stats) -> Stats {
        Stats {
            buckets: steps.buckets,
            events: steps.events,
            discovered_admitted: steps.discovered_admitted,
            discovered_expired: steps.discovered_expired,
            discovered_unadmitted: steps.discovered_unadmitted,
            ..self
        }
    }
}

/// A closed bucket kept for onset accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recent {
    pub(crate) bucket: i64,
    pub(crate) expected: f64,
    pub(crate) content: ServiceCounts,
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

/// Everything a [`Stepper`] knows; serialise it to checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepperState {
    /// First bucket not yet stepped.
    next_bucket: Option<i64>,
    /// Last bucket that had posts.
    last_content: Option<i64>,
    /// Inside a gap longer than `MAX_EMPTY_STEPS`: empty buckets are skipped.
    in_gap: bool,
    series: BTreeMap<String, Series>,
    /// Buckets, events and discovery counters (the others are the tally's).
    stats: Stats,
    /// Discovered names counted so far (bounded top-k).
    candidates: Candidates,
    /// Discovered names with a series (or about to get one): at most `discovery.max_series`.
    admitted: BTreeSet<String>,
    /// Share and overdispersion learned by discovered series that have expired (a decayed
    /// mean), for the baseline of the next discovered name.
    pool: Option<(f64, f64)>,
}

/// The stepping half of the engine: closed buckets in, events (and series points) out. See
/// the module documentation.
pub struct Stepper {
    config: DetectorConfig,
    zone: Tz,
    options: EngineOptions,
    state: StepperState,
    /// The bucket and baseline of each service's last series point written (output
    /// bookkeeping, not detector state: after a restore every service writes its next point).
    rows: HashMap<String, (i64, f64)>,
    /// Every series writes its point in the next bucket closed.
    rows_due: bool,
}

impl Stepper {
    /// A stepper resuming from `state` (`StepperState::default()` for a fresh one); fails
    /// when a parameter is out of range (see [`DetectorConfig::validate`]).
    pub fn restore(
        config: DetectorConfig,
        options: EngineOptions,
        state: StepperState,
    ) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(Stepper {
            zone: config.zone(),
            config,
            options,
            state,
            rows: HashMap::new(),
            rows_due: false,
        })
    }

    /// A copy of the state, to checkpoint.
    pub fn snapshot(&self) -> StepperState {
        self.state.clone()
    }

    /// Buckets stepped, events opened, discovery counters.
    pub fn stats(&self) -> Stats {
        self.state.stats
    }

    /// The first bucket not yet stepped (`None` before the first bucket with posts).
    pub fn next_bucket(&self) -> Option<i64> {
        self.state.next_bucket
    }

    /// Number of series held (listed and discovered services with activity).
    pub fn series_count(&self) -> usize {
        self.state.series.len()
    }

    /// Turns the series output ([`EngineOptions::series`]) on or off from the next bucket,
    /// a point for every bucket when on (a live chart draws them all).
    pub fn set_series(&mut self, on: bool) {
        self.options.series = on;
        self.options.every_bucket = on;
    }

    /// Steps every series through every bucket before `through`: the buckets with posts
    /// are `buckets` (ascending; those before [`Stepper::next_bucket`] were stepped already
    /// and are skipped), every other bucket is empty. Returns the posts of skipped buckets.
    pub fn advance(
        &mut self,
        through: i64,
        buckets: impl IntoIterator<Item = (i64, BucketCounts)>,
        out: &mut Vec<Output>,
    ) -> u64 {
        let mut stale = 0;
        let mut buckets = buckets.into_iter().peekable();
        loop {
            let next = self.state.next_bucket;
            let content = match buckets.peek() {
                Some((b, _)) if next.is_some_and(|n| *b < n) => {
                    stale += buckets.next().map_or(0, |(_, c)| c.posts);
                    continue;
                }
                Some((b, _)) if *b < through => Some(*b),
                _ => None,
            };
            let Some(b) = next.or(content) else { break };
            if b >= through {
                break;
            }
            if content == Some(b) {
                let (_, bucket) = buckets.next().expect("peeked");
                self.state.in_gap = false;
                self.state.last_content = Some(b);
                self.close(b, bucket, out);
                self.state.next_bucket = Some(b + 1);
                continue;
            }
            let gap = self
                .state
                .last_content
                .is_some_and(|l| b - l > MAX_EMPTY_STEPS);
            if gap {
                // A gap in the data: restart the runs once and jump to the next bucket with
                // posts (or as far as the watermark goes).
                if !self.state.in_gap {
                    self.state.in_gap = true;
                    for s in self.state.series.values_mut() {
                        s.model.reset();
                        s.recent.clear();
                    }
                }
                self.state.next_bucket = Some(content.unwrap_or(through));
                continue;
            }
            // The last empty bucket stepped before a gap would be jumped: every series
            // writes its point (a reader takes the minutes up to it as quiet ones).
            let last = self
                .state
                .last_content
                .is_some_and(|l| b - l == MAX_EMPTY_STEPS);
            self.rows_due |= last;
            self.close(b, BucketCounts::default(), out);
            self.state.next_bucket = Some(b + 1);
        }
        stale
    }

    /// Admits the discovered names complained about in `bucket` that reach the admission
    /// count while there is room; drops the others' counts.
    fn admit(&mut self, bucket: &mut BucketCounts) {
        let d = &self.config.discovery;
        let st = &mut self.state;
        bucket.services.retain(|name, c| {
            if !c.discovered || st.admitted.contains(name) {
                return true;
            }
            if !d.enabled || c.complaints == 0 {
                return false;
            }
            let guaranteed = st.candidates.offer_n(name, c.complaints, d.candidates);
            if guaranteed >= d.admit_complaints && st.admitted.len() < d.max_series {
                st.admitted.insert(name.clone());
                st.stats.discovered_admitted += 1;
                return true;
            }
            st.stats.discovered_unadmitted += c.complaints;
            false
        });
    }

    fn close(&mut self, b: i64, mut bucket: BucketCounts, out: &mut Vec<Output>) {
        let bs = self.config.time.bucket_seconds;
        self.admit(&mut bucket);
        let exposure = bucket.exposure();
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
            if s.recent.len() >= MAX_ONSET_LAG {
                s.recent.pop_front();
            }
            s.recent.push_back(Recent {
                bucket: b,
                expected,
                content,
            });
            // The bucket's counts live in `recent`; the event reads them there.
            let content = &s.recent.back().expect("just pushed").content;
            let lc = &cfg.lifecycle;
            let mut emit: Option<EventStatus> = None;
            if let Some(ev) = s.event.as_mut() {
                emit = ev.absorb(b, x, expected, content, lc);
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
                let keep = self.options.every_bucket
                    || self.rows_due
                    || SeriesPoint::informative(
                        x,
                        step.alarm,
                        s.event.is_some() || emit.is_some(),
                        step.score,
                    )
                    || self.rows.get(name).is_none_or(|&(lb, l)| {
                        b - lb >= SERIES_MAX_QUIET_BUCKETS
                            || SeriesPoint::baseline_moved(l, expected)
                    });
                if !keep {
                    continue;
                }
                match self.rows.get_mut(name) {
                    Some(l) => *l = (b, expected),
                    None => {
                        self.rows.insert(name.clone(), (b, expected));
                    }
                }
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
        self.rows_due = false;
        self.expire_discovered(b);
        if self.rows.len() > self.state.series.len() + 64 {
            let series = &self.state.series;
            self.rows.retain(|k, _| series.contains_key(k));
        }
        self.state.stats.buckets += 1;
    }
}

/// The detection engine, both halves in one: see the module documentation.
pub struct Engine {
    tally: Tally,
    stepper: Stepper,
    closed: Vec<(i64, BucketCounts)>,
}

/// Everything the engine knows; serialise it to checkpoint, pass it to
/// [`Engine::restore`] to resume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// The counting half.
    pub tally: TallyState,
    /// The stepping half.
    pub stepper: StepperState,
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
        Ok(Engine {
            tally: Tally::restore(&config, state.tally)?,
            stepper: Stepper::restore(config, options, state.stepper)?,
            closed: Vec::new(),
        })
    }

    /// A copy of the state, to checkpoint.
    pub fn snapshot(&self) -> EngineState {
        EngineState {
            tally: self.tally.snapshot(),
            stepper: self.stepper.snapshot(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.tally.stats().with_steps(self.stepper.stats())
    }

    /// The watermark: every bucket ending at or before it is closed (seconds).
    pub fn watermark(&self) -> Option<i64> {
        self.tally.watermark()
    }

    /// Takes one post.
    pub fn observe(&mut self, obs: Observation<'_>, out: &mut Vec<Output>) -> Admission {
        let a = self.tally.observe(obs, &mut self.closed);
        self.step(out);
        a
    }

    /// Moves the watermark to `watermark` (seconds) and closes every bucket that ends at or
    /// before it. Use it when the input is idle; it never moves the watermark back.
    pub fn advance_to(&mut self, watermark: i64, out: &mut Vec<Output>) {
        self.tally.advance_to(watermark, &mut self.closed);
        self.step(out);
    }

    /// End of input: closes every open bucket. Open events stay open.
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        self.tally.flush(&mut self.closed);
        self.step(out);
    }

    fn step(&mut self, out: &mut Vec<Output>) {
        if let Some(through) = self.tally.through() {
            if self.stepper.next_bucket() != Some(through) || !self.closed.is_empty() {
                self.stepper.advance(through, self.closed.drain(..), out);
            }
        }
    }
}

impl Stepper {
    /// Gives every name complained about in `bucket` that has no series yet a fresh one.
    fn add_series(&mut self, b: i64, bucket: &BucketCounts) {
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
    /// `discovery.expiry_buckets` with no open event and no cool-down.
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
                    s.event.is_none() && s.cooldown == 0 && b - s.last_complaint >= d.expiry_buckets
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
