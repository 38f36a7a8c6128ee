//! Run events: everything `run` has to tell, as one enum ([`RunEvent`]), recorded in one
//! place ([`Telemetry::record`]) that feeds the Prometheus metrics, the [`RunSummary`] and the
//! log. A post is counted here once, when the loop takes it for a detector; "complaints" are
//! the posts the detector counted as complaints (one per post, however many services it names,
//! as in the engine's `Stats`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use benglema_model::{EventStatus, OutageEvent};
use rdkafka::error::KafkaError;

use crate::metrics::Metrics;

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    /// Posts read (valid or not; a message below a restored checkpoint is skipped, not read).
    pub posts: u64,
    /// Dead-lettered posts that break the post contract.
    pub rejected: u64,
    /// Posts later than the allowed lateness (their minute had closed): not counted,
    /// dead-lettered with the reason.
    pub late: u64,
    /// Complaint posts counted by the detectors.
    pub complaints: u64,
    /// Event states published.
    pub published: u64,
    /// Detect stage: posts of minutes that came after the minute was final (not added).
    pub stale: u64,
    /// Partitions this process held at some point.
    pub partitions: BTreeSet<i32>,
    /// Repartition partitions this process's detect stage held at some point.
    pub detect_partitions: BTreeSet<i32>,
    /// Partitions restored from a checkpoint, with the offset they resumed at.
    pub restored: BTreeMap<i32, i64>,
    /// Posts counted in the detectors' final state, summed over the partitions held at the
    /// end: each post once, whatever was replayed. On a topic this process read alone it is
    /// the number of valid, distinct, timely posts in it, as `backtest` counts them.
    pub state_posts: u64,
    /// When the first post arrived.
    pub first_post: Option<Instant>,
    /// When the last post arrived.
    pub last_post: Option<Instant>,
}

impl RunSummary {
    /// The extract stage's summary with what the detect stage did (events, stale posts).
    pub fn with_detect(self, d: RunSummary) -> RunSummary {
        RunSummary {
            published: d.published,
            stale: d.stale,
            detect_partitions: d.partitions,
            ..self
        }
    }
}

/// One thing that happened in a run.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// A poll brought `messages` messages.
    Polled {
        /// Messages in the batch.
        messages: usize,
    },
    /// The detectors caught up with what was read; `fed` when that included posts.
    Turned {
        /// Posts were fed since the last turn.
        fed: bool,
    },
    /// A message was taken for a partition's detector.
    Read,
    /// A message that is not a post went to the dead-letter topic.
    Rejected,
    /// The detector counted a post; `complaint` when as a complaint.
    Counted {
        /// Counted as a complaint.
        complaint: bool,
    },
    /// A post whose bucket had closed: not counted, dead-lettered.
    Late,
    /// A post seen before.
    Duplicate,
    /// An event state went to the events topic.
    Published(&'a OutageEvent),
    /// A partition's detector was created (`resumed_at`: from a checkpoint at that offset).
    Started {
        /// Posts topic.
        topic: &'a str,
        /// Partition.
        partition: i32,
        /// Offset of the checkpoint it resumed from, if any.
        resumed_at: Option<i64>,
    },
    /// Partitions were given to this process.
    Assigned(&'a [i32]),
    /// Partitions were taken from this process.
    Revoked(&'a [i32]),
    /// A rebalance failed.
    RebalanceFailed(&'a str),
    /// Detector states and offsets were saved.
    Checkpointed,
    /// The offset commit after a checkpoint failed (the checkpoint still covers it).
    CommitFailed(&'a KafkaError),
    /// The broker answered.
    Connected,
    /// Detect stage: posts of minutes that came after the minute was final.
    Stale {
        /// Posts in them.
        posts: u64,
    },
    /// The detect stage's one-second timer.
    DetectSecond {
        /// Consumer lag of the detect stage.
        lag: i64,
        /// Repartition partitions assigned now.
        assigned: usize,
        /// Event time up to which every minute is final, oldest over the tasks held.
        released: Option<i64>,
    },
    /// The loop's one-second timer.
    Second {
        /// Consumer lag reported by the client's statistics.
        lag: i64,
        /// Partitions assigned now.
        assigned: usize,
        /// The oldest watermark over the tasks held (Unix seconds), if any has one.
        watermark: Option<i64>,
    },
}

/// Where run events go.
pub struct Telemetry<'m> {
    metrics: &'m Metrics,
    /// The stage whose events these are (`extract`, `detect`), for the log.
    stage: &'static str,
    summary: RunSummary,
    /// `(when, posts)` at the last one-second timer, for the rate.
    rate_mark: (Instant, u64),
}

impl<'m> Telemetry<'m> {
    /// Records into `metrics` and a fresh summary; log lines name `stage`.
    pub fn new(metrics: &'m Metrics, stage: &'static str) -> Self {
        Telemetry {
            metrics,
            stage,
            summary: RunSummary::default(),
            rate_mark: (Instant::now(), 0),
        }
    }

    /// The summary, with the detectors' final post count.
    pub fn finish(mut self, state_posts: u64) -> RunSummary {
        self.summary.state_posts = state_posts;
        self.summary
    }

    /// Records one event: counters, gauges, summary, log line.
    pub fn record(&mut self, e: RunEvent<'_>) {
        let (m, s) = (self.metrics, &mut self.summary);
        match e {
            RunEvent::Polled { messages } => {
                if messages > 0 && s.first_post.is_none() {
                    s.first_post = Some(Instant::now());
                }
            }
            RunEvent::Turned { fed } => {
                if fed {
                    s.last_post = Some(Instant::now());
                }
            }
            RunEvent::Read => {
                m.posts_in.inc();
                s.posts += 1;
            }
            RunEvent::Rejected => {
                m.rejected.inc();
                s.rejected += 1;
            }
            RunEvent::Counted { complaint } => {
                if complaint {
                    m.complaints.inc();
                    s.complaints += 1;
                }
            }
            RunEvent::Late => {
                m.late.inc();
                s.late += 1;
            }
            RunEvent::Duplicate => {
                m.duplicates.inc();
            }
            RunEvent::Published(e) => {
                m.events_published.inc();
                if e.status == EventStatus::Open {
                    m.events_raised.inc();
                }
                s.published += 1;
            }
            RunEvent::Started {
                topic,
                partition,
                resumed_at,
            } => {
                s.partitions.insert(partition);
                if let Some(at) = resumed_at {
                    eprintln!(
                        "benglema: {topic}/{partition}: resuming from checkpoint at offset {at}"
                    );
                    s.restored.insert(partition, at);
                }
            }
            RunEvent::Assigned(ps) => {
                eprintln!("benglema: {}: partitions assigned: {ps:?}", self.stage)
            }
            RunEvent::Revoked(ps) => {
                if !ps.is_empty() {
                    eprintln!("benglema: {}: partitions revoked: {ps:?}", self.stage);
                }
            }
            RunEvent::RebalanceFailed(e) => {
                eprintln!("benglema: {}: rebalance failed: {e}", self.stage)
            }
            RunEvent::Checkpointed => {
                m.checkpoints.inc();
            }
            RunEvent::CommitFailed(e) => {
                eprintln!(
                    "benglema: {}: offset commit failed ({e}); the checkpoint covers it",
                    self.stage
                )
            }
            RunEvent::Connected => m.mark_connected(),
            RunEvent::Stale { posts } => {
                m.stale_posts.inc_by(posts);
                s.stale += posts;
            }
            RunEvent::DetectSecond {
                lag,
                assigned,
                released,
            } => {
                if let Some(r) = released {
                    m.released.set(r);
                }
                m.beat();
                m.detect_lag.set(lag);
                m.detect_partitions.set(assigned as i64);
            }
            RunEvent::Second {
                lag,
                assigned,
                watermark,
            } => {
                if let Some(w) = watermark {
                    m.watermark.set(w);
                }
                let now = Instant::now();
                m.beat();
                m.consumer_lag.set(lag);
                let secs = (now - self.rate_mark.0).as_secs_f64();
                m.posts_per_second
                    .set((s.posts - self.rate_mark.1) as f64 / secs.max(1e-9));
                self.rate_mark = (now, s.posts);
                m.partitions.set(assigned as i64);
                if assigned > 0 {
                    m.mark_connected();
                }
            }
        }
    }
}
