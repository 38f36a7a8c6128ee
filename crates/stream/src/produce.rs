//! `benglema produce`: load posts into a topic, as fast as possible or paced (posts per
//! second, or a speed factor over the posts' own event times), keyed by post id.
//!
//! Posts are validated on the way in (a file's malformed records are counted and skipped,
//! as `backtest` does) unless `raw` is set, which forwards JSONL lines byte for byte, bad
//! ones included: that is how a dead-letter path is exercised.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use benglema_io::{expand_inputs, read_file, Record};
use benglema_model::Post;
use benglema_text::Extractor;

use crate::kafka::{self, TrackedProducer};
use crate::{Settings, StreamError};

/// With `Pace::Speed`, a jump in event time longer than this (seconds) is skipped.
pub const MAX_WAIT_GAP: i64 = 3600;

/// How fast to send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the broker takes them.
    Max,
    /// This many posts per second.
    Rate(f64),
    /// Event time runs this many times faster than wall time.
    Speed(f64),
}

/// Message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyBy {
    /// The post id (spreads posts evenly).
    Id,
    /// The service a complaint names (co-partitions each service's complaints); other
    /// posts by id.
    Service,
    /// One constant key: every post in one partition (the worst case for spreading).
    Constant,
    /// No key: the client spreads posts as it likes (duplicates of an id may land in
    /// different partitions and are then counted twice).
    None,
}

/// What a produce run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProduceSummary {
    /// Messages sent and acknowledged.
    pub sent: u64,
    /// Input records skipped as malformed (not in raw mode).
    pub skipped: u64,
    /// Whether it stopped early.
    pub interrupted: bool,
}

/// A paced, keyed sender of posts.
pub struct Sender<'a> {
    producer: TrackedProducer,
    topic: String,
    pace: Pace,
    key: KeyBy,
    extractor: Option<&'a Extractor>,
    started: Instant,
    first_at: Option<i64>,
    prev_at: Option<i64>,
    stop: &'a AtomicBool,
    /// Counts.
    pub summary: ProduceSummary,
}

impl<'a> Sender<'a> {
    /// A sender to `settings.topic`.
    pub fn new(
        settings: &Settings,
        pace: Pace,
        key: KeyBy,
        extractor: Option<&'a Extractor>,
        stop: &'a AtomicBool,
    ) -> Result<Self, StreamError> {
        if let Pace::Rate(x) | Pace::Speed(x) = pace {
            if !(x.is_finite() && x > 0.0) {
                return Err(StreamError::Config(format!(
                    "--rate and --speed must be positive numbers, got {x}"
                )));
            }
        }
        if key == KeyBy::Service && extractor.is_none() {
            return Err(StreamError::Config(
                "keying by service needs the extractor".into(),
            ));
        }
        let mut cfg = settings.client();
        kafka::set_defaults(
            &mut cfg,
            &[
                ("linger.ms", "20"),
                ("batch.num.messages", "10000"),
                ("queue.buffering.max.messages", "500000"),
                ("compression.type", "lz4"),
            ],
        );
        Ok(Sender {
            producer: kafka::producer(&cfg, "posts")?,
            topic: settings.topic.clone(),
            pace,
            key,
            extractor,
            started: Instant::now(),
            first_at: None,
            prev_at: None,
            stop,
            summary: ProduceSummary::default(),
        })
    }

    /// Waits until `due` (seconds after start); false if stopped meanwhile.
    fn wait(&mut self, due: f64) -> bool {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                self.summary.interrupted = true;
                return false;
            }
            // Sleeping for less than a couple of milliseconds overshoots by more than it
            // waits; send a little early instead.
            let ahead = due - self.started.elapsed().as_secs_f64();
            if ahead <= 0.002 {
                return true;
            }
            std::thread::sleep(Duration::from_secs_f64(ahead.min(0.1)));
        }
    }

    fn pace(&mut self, at: Option<i64>) -> bool {
        let due = match (self.pace, at) {
            (Pace::Max, _) => 0.0,
            (Pace::Rate(r), _) => self.summary.sent as f64 / r,
            (Pace::Speed(s), Some(t)) => {
                let first = self.first_at.get_or_insert(t);
                // A jump of more than an hour is a gap between archives, not time to wait.
                if let Some(prev) = self.prev_at {
                    if t - prev > MAX_WAIT_GAP {
                        *first += t - prev;
                    }
                }
                let due = (t - *first).max(0) as f64 / s;
                self.prev_at = Some(self.prev_at.map_or(t, |p| p.max(t)));
                due
            }
            (Pace::Speed(_), None) => 0.0,
        };
        if due > 0.0 || self.summary.sent % 4096 == 0 {
            return self.wait(due);
        }
        !self.stop.load(Ordering::Relaxed) || {
            self.summary.interrupted = true;
            false
        }
    }

    /// Sends one post; false when stopped.
    pub fn post(&mut self, p: &Post) -> Result<bool, StreamError> {
        if !self.pace(Some(p.created_at.timestamp())) {
            return Ok(false);
        }
        let service = match (self.key, self.extractor) {
            (KeyBy::Service, Some(x)) => x.extract(&p.text).map(|s| s.service),
            _ => None,
        };
        let key = match self.key {
            KeyBy::Constant => Some("posts"),
            KeyBy::None => None,
            _ => Some(service.as_deref().unwrap_or(&p.id)),
        };
        kafka::send(
            &self.producer,
            &self.topic,
            key.map(str::as_bytes),
            p.to_json().as_bytes(),
            None,
        )?;
        self.summary.sent += 1;
        Ok(true)
    }

    /// Sends bytes as they are (key: the id if the bytes are a valid post); false when stopped.
    pub fn raw(&mut self, bytes: &[u8]) -> Result<bool, StreamError> {
        let parsed = Post::parse(bytes).ok();
        if !self.pace(parsed.as_ref().map(|p| p.created_at.timestamp())) {
            return Ok(false);
        }
        kafka::send(
            &self.producer,
            &self.topic,
            parsed.as_ref().map(|p| p.id.as_bytes()),
            bytes,
            None,
        )?;
        self.summary.sent += 1;
        Ok(true)
    }

    /// Waits for every message to be acknowledged.
    pub fn finish(self) -> Result<ProduceSummary, StreamError> {
        kafka::flush(&self.producer)?;
        Ok(self.summary)
    }
}

/// Sends every post of `inputs` (any format `backtest` reads).
pub fn produce_files(
    sender: &mut Sender<'_>,
    inputs: &[PathBuf],
    raw: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<(), StreamError> {
    for file in expand_inputs(inputs)? {
        let mut failed = None;
        if raw {
            let f = std::fs::File::open(&file).map_err(|e| StreamError::io(&file, e))?;
            for line in std::io::BufReader::new(f).split(b'\n') {
                let line = line.map_err(|e| StreamError::io(&file, e))?;
                let line = line.strip_suffix(b"\r").unwrap_or(&line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if !sender.raw(line)? {
                    return Ok(());
                }
                progress(sender.summary.sent);
            }
            continue;
        }
        read_file(&file, &mut |rec| match rec {
            Record::Post(p) => match sender.post(&p) {
                Ok(true) => {
                    progress(sender.summary.sent);
                    true
                }
                Ok(false) => false,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            },
            Record::Reject(_) => {
                sender.summary.skipped += 1;
                true
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if sender.summary.interrupted {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends posts from an iterator (the bundled history).
pub fn produce_posts(
    sender: &mut Sender<'_>,
    posts: impl Iterator<Item = Post>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), StreamError> {
    for p in posts {
        if !sender.post(&p)? {
            break;
        }
        progress(sender.summary.sent);
    }
    Ok(())
}
