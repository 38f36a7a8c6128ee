//! The board: what the status page shows, kept up to date by the detect stage as it steps.
//!
//! Per service it holds the last 24 hours (of event time) of closed minutes (complaints,
//! the baseline's expected complaints, the change score), the symptoms and terms of the
//! minutes with complaints, the newest sample posts, and the latest state of every event.
//! Its memory is bounded: minutes, contents and samples older than the window are dropped
//! as the final minute advances, and at most [`BoardOptions::events`] events are kept.
//!
//! Writers take a [`Writer`] ([`Board::write`]); when it is dropped after a change, the
//! board's [`Tick`] moves on, which is what live pages wait for ([`Board::subscribe`]).
//! Readers build the JSON views of [`crate::api`] under the same lock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use benglema_detect::{BucketCounts, DetectorConfig, SeriesPoint};
use benglema_model::{EventStatus, OutageEvent};
use chrono::{DateTime, FixedOffset, Offset, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use tokio::sync::watch;

/// How much the board keeps.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    /// Length of a bucket (seconds), as the detector's.
    pub bucket_seconds: i64,
    /// Zone the times are shown in (the detector's display zone).
    pub zone: Tz,
    /// Buckets of history kept per service (24 hours by default).
    pub window_buckets: i64,
    /// Newest sample posts kept per service.
    pub samples: usize,
    /// Events kept (the latest state of each), over all services.
    pub events: usize,
    /// Link of a post, `{id}` replaced by its id (e.g. `https://m.weibo.cn/detail/{id}`);
    /// without it, ids are shown unlinked.
    pub post_url: Option<String>,
}

impl BoardOptions {
    /// The defaults for a detector: its bucket and zone, 24 hours, 20 samples per service,
    /// 500 events.
    pub fn new(config: &DetectorConfig) -> Self {
        let bucket_seconds = config.time.bucket_seconds;
        BoardOptions {
            bucket_seconds,
            zone: config.zone(),
            window_buckets: (86_400 / bucket_seconds).max(1),
            samples: 20,
            events: 500,
            post_url: None,
        }
    }
}

/// The board's version and the event time it is final through; it moves on with every
/// change, and live pages refetch when it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tick {
    /// Counts changes.
    pub version: u64,
    /// Unix seconds up to which every minute is final (the oldest open minute).
    pub through: Option<i64>,
}

/// One closed minute of one service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Minute {
    pub(crate) b: i64,
    pub(crate) complaints: u64,
    pub(crate) expected: f64,
}

/// What the complaints of one minute were about.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub(crate) b: i64,
    pub(crate) symptoms: Vec<(String, u64)>,
    pub(crate) terms: Vec<(String, u64)>,
}

/// One sample post.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) at: i64,
    pub(crate) id: String,
    pub(crate) text: String,
}

/// Terms kept per minute (the most frequent).
const TERMS_PER_MINUTE: usize = 12;

/// One service on the board.
#[derive(Debug, Default)]
pub(crate) struct Service {
    pub(crate) discovered: bool,
    pub(crate) minutes: VecDeque<Minute>,
    pub(crate) content: VecDeque<Content>,
    /// Oldest first.
    pub(crate) samples: VecDeque<Post>,
    /// Ids of its kept events, oldest first.
    pub(crate) events: Vec<String>,
}

/// Everything under the lock.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) opts: BoardOptions,
    pub(crate) version: u64,
    /// Every bucket before this one is final.
    pub(crate) through: Option<i64>,
    /// The first bucket seen.
    pub(crate) first: Option<i64>,
    pub(crate) services: BTreeMap<String, Service>,
    /// The latest state of each kept event.
    pub(crate) events: BTreeMap<String, OutageEvent>,
    /// The minute (bucket) of each kept event's latest state.
    pub(crate) state_at: BTreeMap<String, i64>,
    /// Kept event ids, oldest first.
    pub(crate) order: VecDeque<String>,
}

/// The status page's state (see the module documentation).
#[derive(Debug)]
pub struct Board {
    inner: Mutex<Inner>,
    tick: watch::Sender<Tick>,
}

impl Board {
    /// An empty board.
    pub fn new(opts: BoardOptions) -> Self {
        Board {
            inner: Mutex::new(Inner {
                opts,
                version: 0,
                through: None,
                first: None,
                services: BTreeMap::new(),
                events: BTreeMap::new(),
                state_at: BTreeMap::new(),
                order: VecDeque::new(),
            }),
            tick: watch::Sender::new(Tick::default()),
        }
    }

    /// Takes the lock to add what the detector produced; the tick moves when it is dropped.
    pub fn write(&self) -> Writer<'_> {
        Writer {
            inner: self.lock(),
            tick: &self.tick,
            changed: false,
        }
    }

    /// Waits for ticks (live pages).
    pub fn subscribe(&self) -> watch::Receiver<Tick> {
        self.tick.subscribe()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is a push or
        // a replace); keep serving it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Adds to the board under its lock (see [`Board::write`]).
pub struct Writer<'a> {
    inner: MutexGuard<'a, Inner>,
    tick: &'a watch::Sender<Tick>,
    changed: bool,
}

impl Writer<'_> {
    /// One closed bucket of one series (the detector's series output).
    pub fn point(&mut self, p: &SeriesPoint) {
        let inner = &mut *self.inner;
        let b = p
            .bucket_start
            .timestamp()
            .div_euclid(inner.opts.bucket_seconds);
        let svc = inner.services.entry(p.service.clone()).or_default();
        let m = Minute {
            b,
            complaints: p.complaints,
            expected: p.expected,
        };
        match svc.minutes.back_mut() {
            Some(last) if last.b == b => *last = m,
            Some(last) if last.b > b => return,
            _ => svc.minutes.push_back(m),
        }
        inner.first = Some(inner.first.map_or(b, |f| f.min(b)));
        self.changed = true;
    }

    /// The counts of one final bucket: symptoms, terms and sample posts per service. Names
    /// discovered from text are only kept once they have a series (most never do).
    pub fn counts(&mut self, b: i64, counts: &BucketCounts) {
        let inner = &mut *self.inner;
        let keep = inner.opts.samples;
        for (name, c) in &counts.services {
            if c.complaints == 0 {
                continue;
            }
            let svc = match inner.services.get_mut(name) {
                Some(s) => s,
                None if c.discovered => continue,
                None => inner.services.entry(name.clone()).or_default(),
            };
            svc.discovered |= c.discovered;
            if svc.content.back().is_some_and(|l| l.b >= b) {
                // A replay of a bucket already shown.
                continue;
            }
            let mut terms: Vec<(String, u64)> =
                c.terms.iter().map(|(t, n)| (t.clone(), *n)).collect();
            terms.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            terms.truncate(TERMS_PER_MINUTE);
            svc.content.push_back(Content {
                b,
                symptoms: c.symptoms.iter().map(|(s, n)| (s.clone(), *n)).collect(),
                terms,
            });
            for s in c.samples.iter().filter(|s| !s.text.is_empty()) {
                svc.samples.push_back(Post {
                    at: s.at,
                    id: s.id.clone(),
                    text: s.text.clone(),
                });
            }
            while svc.samples.len() > keep {
                svc.samples.pop_front();
            }
            self.changed = true;
        }
    }

    /// One event state, from the minute (bucket index) `b` that produced it. A state
    /// replaces the one kept unless it comes from an earlier minute (a task that restarted
    /// from its checkpoint replays its events' states, oldest first).
    pub fn event(&mut self, e: &OutageEvent, b: i64) {
        let inner = &mut *self.inner;
        if inner
            .state_at
            .get(&e.event_id)
            .is_some_and(|kept| *kept > b)
        {
            return;
        }
        inner.state_at.insert(e.event_id.clone(), b);
        let svc = inner.services.entry(e.service.clone()).or_default();
        if inner.events.insert(e.event_id.clone(), e.clone()).is_none() {
            inner.order.push_back(e.event_id.clone());
            svc.events.push(e.event_id.clone());
            while inner.order.len() > inner.opts.events {
                let Some(old) = inner.order.pop_front() else {
                    break;
                };
                inner.forget(&old);
            }
        }
        self.changed = true;
    }

    /// Every minute before `through` (Unix seconds) is final: history older than the
    /// window goes.
    pub fn advance(&mut self, through: i64) {
        let inner = &mut *self.inner;
        let bs = inner.opts.bucket_seconds;
        let tb = through.div_euclid(bs);
        if inner.through.is_some_and(|t| t >= tb) {
            return;
        }
        inner.through = Some(tb);
        let start = tb - inner.opts.window_buckets;
        // Resolved events that ended before the window go; open ones stay.
        let gone: Vec<String> = inner
            .events
            .values()
            .filter(|e| e.status == EventStatus::Resolved)
            .filter(|e| e.ended_at.unwrap_or(e.detected_at).timestamp() < start * bs)
            .map(|e| e.event_id.clone())
            .collect();
        for id in &gone {
            inner.forget(id);
        }
        let events = &inner.events;
        inner.order.retain(|id| events.contains_key(id));
        inner.services.retain(|_, s| {
            while s.minutes.front().is_some_and(|m| m.b < start) {
                s.minutes.pop_front();
            }
            while s.content.front().is_some_and(|c| c.b < start) {
                s.content.pop_front();
            }
            while s.samples.front().is_some_and(|p| p.at < start * bs) {
                s.samples.pop_front();
            }
            !(s.minutes.is_empty() && s.content.is_empty() && s.events.is_empty())
        });
        self.changed = true;
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if !self.changed {
            return;
        }
        let inner = &mut *self.inner;
        inner.version += 1;
        let bs = inner.opts.bucket_seconds;
        self.tick.send_replace(Tick {
            version: inner.version,
            through: inner.through.map(|t| t * bs),
        });
    }
}

impl Inner {
    /// Drops a kept event (not from `order`: the callers do).
    fn forget(&mut self, id: &str) {
        self.state_at.remove(id);
        if let Some(gone) = self.events.remove(id) {
            if let Some(s) = self.services.get_mut(&gone.service) {
                s.events.retain(|x| x != id);
            }
        }
    }

    /// Unix seconds as a time in the display zone.
    pub(crate) fn local(&self, unix: i64) -> DateTime<FixedOffset> {
        let utc = DateTime::from_timestamp(unix, 0).unwrap_or_default();
        self.opts
            .zone
            .from_utc_datetime(&utc.naive_utc())
            .fixed_offset()
    }

    /// The display zone's offset from UTC at `unix` (seconds).
    pub(crate) fn offset_seconds(&self, unix: i64) -> i32 {
        let utc = DateTime::from_timestamp(unix, 0).unwrap_or_default();
        self.opts
            .zone
            .offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc()
    }

    /// The open event of a service: its newest event not resolved (normally its only one).
    pub(crate) fn open_event(&self, svc: &Service) -> Option<&OutageEvent> {
        svc.events
            .iter()
            .rev()
            .filter_map(|id| self.events.get(id))
            .find(|e| e.status != EventStatus::Resolved)
    }
}
