//! `benglema run`: the streaming detector in a consumer group.
//!
//! Each assigned partition of the posts topic gets its own detector (extractor + engine),
//! like a Kafka Streams task: its state is checkpointed under `topic/partition` and moves
//! with the partition on a rebalance or restart, so how partitions are spread over processes
//! never changes what is detected. On a single-partition topic `run` is `backtest`, post for
//! post. A partition that has gone quiet while others move on is advanced to the newest
//! watermark among them, so an idle partition does not hold its events open.
//!
//! Delivery is at-least-once with stable event ids. Every `checkpoint_every`:
//! 1. the producer is flushed, so every event and dead letter caused by the posts read so far
//!    is acknowledged by the broker (a failure stops the run before anything is committed);
//! 2. each partition's detector state, with the offset of the first post it does not cover,
//!    is saved to the state store and acknowledged;
//! 3. those offsets are committed.
//!
//! After a crash the partition restarts from its checkpoint and replays the posts after it;
//! the engine is deterministic, so the replay re-publishes the same events with the same ids.
//!
//! A revoked partition's task is dropped right after the poll that revoked it, before
//! anything polled earlier is fed, and messages polled before the revoke are discarded: if the
//! partition comes straight back, its new task resumes from the checkpoint and the consumer
//! from the committed offset (the client stores no offsets of its own), so the posts in
//! between are read again by the new task, not skipped as already seen by the old one.
//!
//! The loop is split by concern: [`task`] (one partition's detector), [`timers`] (turns,
//! ticks, checkpoints), [`group`] (the rebalance callbacks) and [`telemetry`] (every run
//! event, one enum, feeding Prometheus, the summary and the log).

mod group;
mod task;
pub mod telemetry;
mod timers;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benglema_detect::{Admission, DetectorConfig, Output};
use benglema_model::{OutageEvent, Post};
use benglema_pipeline::analyze;
use benglema_text::{Extractor, Reading};
use rayon::prelude::*;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::{self, TrackedProducer};
use crate::metrics::Metrics;
use crate::state::{Checkpoint, StateStore, TopicStore};
use crate::{Settings, StateTarget, StreamError};
use group::{GroupChange, GroupContext, Shared};
use task::Task;
pub use telemetry::{RunEvent, RunSummary, Telemetry};
use timers::Timers;

/// Header carrying the reason a post was dead-lettered.
pub const REASON_HEADER: &str = "benglema.reason";
/// Header carrying `topic/partition/offset` of a dead-lettered post.
pub const SOURCE_HEADER: &str = "benglema.source";

/// Options of [`run`].
pub struct RunOptions {
    /// Cluster, topics, group, state.
    pub settings: Settings,
    /// Detector parameters.
    pub detector: DetectorConfig,
    /// Once set, stop as soon as every assigned partition is read to its end (tests,
    /// catch-up jobs, the embedded demo after its feeder finished).
    pub exit_on_eof: Arc<AtomicBool>,
    /// A partition without posts for this long (whole seconds) is advanced to the others'
    /// watermark.
    pub idle_after: Duration,
    /// Create the events, dead-letter and state topics if missing (off for clusters that
    /// cannot, such as the embedded one, whose topics are made up front).
    pub create_topics: bool,
    /// Librdkafka statistics interval (consumer lag); zero disables.
    pub stats_every: Duration,
}

/// Receives every published event state (stdout, CSV, tests).
pub trait EventSink {
    /// One event state, after it was handed to the producer.
    fn event(&mut self, e: &OutageEvent) -> Result<(), StreamError>;
}

impl<F: FnMut(&OutageEvent) -> Result<(), StreamError>> EventSink for F {
    fn event(&mut self, e: &OutageEvent) -> Result<(), StreamError> {
        self(e)
    }
}

/// A message as read, owned so a batch can be analysed in parallel.
struct Raw {
    partition: i32,
    offset: i64,
    /// Revokes the group had seen when the message was polled.
    epoch: u64,
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
}

/// A parsed and analysed post, or why the message is not a post.
type Prepared = Result<(Post, Reading), String>;

/// The stateless half of a message: parse and extract (runs on the rayon pool).
fn prepare(extractor: &Extractor, raw: &Raw) -> Prepared {
    let post = match raw.payload.as_deref() {
        None => return Err("empty message (no payload)".to_owned()),
        Some(b) => Post::parse(b).map_err(|e| e.to_string())?,
    };
    let a = analyze(extractor, &post);
    Ok((post, a))
}

/// Why a post was too late to count: its bucket had closed, or lies before the first one
/// this partition's detector opened.
fn late_reason(post: &Post, watermark: Option<i64>, cfg: &DetectorConfig) -> String {
    let closed = watermark
        .and_then(|w| chrono::DateTime::from_timestamp(w, 0))
        .map(|w| w.with_timezone(post.created_at.offset()).to_rfc3339())
        .unwrap_or_else(|| "?".to_owned());
    format!(
        "late: created_at {} falls in a time bucket this partition's detector had closed or \
         never opened (its event time had reached {closed}; allowed lateness {} s); not counted",
        post.created_at.to_rfc3339(),
        cfg.time.allowed_lateness_seconds
    )
}

/// Most messages taken from the client per batch.
const BATCH: usize = 2048;

struct Runner<'x, 's> {
    opts: &'s RunOptions,
    extractor: &'x Extractor,
    shared: Arc<Shared>,
    producer: TrackedProducer,
    store: StateStore,
    tasks: HashMap<i32, Task<'x>>,
    /// The epoch of each partition's latest revoke: a message polled at a lower epoch was
    /// read for the task that revoke dropped.
    revoked_at: HashMap<i32, u64>,
    eof: BTreeSet<i32>,
    out: Vec<Output>,
    sink: &'s mut dyn EventSink,
    telemetry: Telemetry<'s>,
    timers: Timers,
}

impl<'x> Runner<'x, '_> {
    fn task(&mut self, partition: i32) -> Result<&mut Task<'x>, StreamError> {
        if !self.tasks.contains_key(&partition) {
            let topic = &self.opts.settings.topic;
            let cp = self.store.load(topic, partition)?;
            let resumed_at = cp.as_ref().map(|c| c.next_offset);
            let task = Task::open(
                self.extractor,
                self.opts.detector.clone(),
                cp,
                self.timers.ticks,
            )?;
            self.telemetry.record(RunEvent::Started {
                topic,
                partition,
                resumed_at,
            });
            self.tasks.insert(partition, task);
        }
        Ok(self.tasks.get_mut(&partition).expect("inserted above"))
    }

    /// Acts on what the group callbacks noted during the last poll: revoked partitions lose
    /// their task before anything polled earlier is fed; assigned ones get theirs at once,
    /// from their checkpoint, so a partition's state is held (and its idleness timed) from
    /// the moment it is owned, posts or not.
    fn sync_group(&mut self) -> Result<(), StreamError> {
        for change in self.shared.take_changes() {
            match change {
                GroupChange::Assigned(ps) => {
                    self.telemetry.record(RunEvent::Assigned(&ps));
                    for p in ps {
                        self.task(p)?;
                    }
                }
                GroupChange::Failed(e) => self.telemetry.record(RunEvent::RebalanceFailed(&e)),
                GroupChange::Revoked { partitions, epoch } => {
                    self.telemetry.record(RunEvent::Revoked(&partitions));
                    for p in partitions {
                        // Work since the last checkpoint is replayed by the next owner (this
                        // process or another), with the same event ids.
                        self.tasks.remove(&p);
                        self.eof.remove(&p);
                        self.revoked_at.insert(p, epoch);
                    }
                }
            }
        }
        Ok(())
    }

    fn publish(&mut self) -> Result<(), StreamError> {
        for o in self.out.drain(..) {
            let Output::Event(e) = o else { continue };
            let json = serde_json::to_vec(&e).expect("events serialise");
            kafka::send(
                &self.producer,
                &self.opts.settings.events_topic,
                Some(e.service.as_bytes()),
                &json,
                None,
            )?;
            self.telemetry.record(RunEvent::Published(&e));
            self.sink.event(&e)?;
        }
        Ok(())
    }

    fn dead_letter(&mut self, raw: &Raw, reason: &str) -> Result<(), StreamError> {
        let s = &self.opts.settings;
        let source = format!("{}/{}/{}", s.topic, raw.partition, raw.offset);
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: REASON_HEADER,
                value: Some(reason.as_bytes()),
            })
            .insert(Header {
                key: SOURCE_HEADER,
                value: Some(source.as_bytes()),
            });
        let payload = raw.payload.as_deref().unwrap_or(&[]);
        let key = raw.key.as_deref();
        kafka::send(&self.producer, &s.dlq_topic, key, payload, Some(headers))
    }

    /// Feeds a prepared batch to the detectors, in order.
    fn feed(&mut self, batch: Vec<Raw>, prepared: Vec<Prepared>) -> Result<(), StreamError> {
        for (raw, p) in batch.iter().zip(prepared) {
            self.message(raw, p)?;
        }
        Ok(())
    }

    fn message(&mut self, raw: &Raw, prepared: Prepared) -> Result<(), StreamError> {
        let partition = raw.partition;
        if self
            .revoked_at
            .get(&partition)
            .is_some_and(|&e| raw.epoch < e)
        {
            // Polled for a task a revoke has dropped since; its next owner reads it again.
            return Ok(());
        }
        self.eof.remove(&partition);
        let tick = self.timers.ticks;
        if !self.task(partition)?.take(raw.offset, tick) {
            // Already inside the checkpoint (its commit was lost): skip.
            return Ok(());
        }
        self.telemetry.record(RunEvent::Read);
        let (post, analysis) = match prepared {
            Err(reason) => {
                self.dead_letter(raw, &reason)?;
                self.telemetry.record(RunEvent::Rejected);
                return Ok(());
            }
            Ok(p) => p,
        };
        let task = self.tasks.get_mut(&partition).expect("task exists");
        let r = task
            .detector
            .process_analyzed(&post, analysis, &mut self.out);
        match r.admission {
            Admission::Accepted => self.telemetry.record(RunEvent::Counted {
                complaint: r.complaint,
            }),
            Admission::Late => {
                let reason = late_reason(
                    &post,
                    task.detector.engine().watermark(),
                    &self.opts.detector,
                );
                self.dead_letter(raw, &reason)?;
                self.telemetry.record(RunEvent::Late);
            }
            Admission::Duplicate => self.telemetry.record(RunEvent::Duplicate),
        }
        self.publish()
    }

    /// Advances quiet partitions to the newest watermark of the others.
    fn advance_idle(&mut self) -> Result<(), StreamError> {
        let newest = self
            .tasks
            .values()
            .filter_map(|t| t.detector.engine().watermark())
            .max();
        let Some(newest) = newest else { return Ok(()) };
        let idle_ticks = self.opts.idle_after.as_secs();
        let tick = self.timers.ticks;
        for t in self.tasks.values_mut() {
            t.advance_if_idle(tick, idle_ticks, newest, &mut self.out);
        }
        self.publish()
    }

    /// Flush events, save state, commit offsets.
    fn checkpoint(&mut self, consumer: &BaseConsumer<GroupContext>) -> Result<(), StreamError> {
        let dirty: Vec<i32> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.dirty)
            .map(|(p, _)| *p)
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        kafka::flush(&self.producer)?;
        let topic = &self.opts.settings.topic;
        let cps: Vec<Checkpoint> = dirty
            .iter()
            .map(|p| self.tasks[p].checkpoint(topic, *p))
            .collect();
        self.store.save(&cps)?;
        let mut tpl = TopicPartitionList::new();
        for cp in &cps {
            tpl.add_partition_offset(topic, cp.partition, Offset::Offset(cp.next_offset))
                .map_err(|e| StreamError::kafka("building the commit", e))?;
        }
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            // The checkpoint is what a restart resumes from; a lost commit only means the
            // next owner skips the covered posts itself.
            self.telemetry.record(RunEvent::CommitFailed(&e));
        }
        for p in dirty {
            if let Some(t) = self.tasks.get_mut(&p) {
                t.dirty = false;
            }
        }
        self.telemetry.record(RunEvent::Checkpointed);
        Ok(())
    }

    /// The one-second timer: gauges, idle partitions; true when the run should end.
    fn second(&mut self, consumer: &BaseConsumer<GroupContext>) -> Result<bool, StreamError> {
        let assigned = assigned(consumer);
        let watermark = self
            .tasks
            .values()
            .filter_map(|t| t.detector.engine().watermark())
            .min();
        self.telemetry.record(RunEvent::Second {
            lag: self.shared.lag.load(Ordering::Relaxed),
            assigned: assigned.len(),
            watermark,
        });
        self.advance_idle()?;
        Ok(self.opts.exit_on_eof.load(Ordering::Relaxed)
            && !assigned.is_empty()
            && assigned.is_subset(&self.eof))
    }

    /// Posts counted in the state of the partitions held now.
    fn state_posts(&self) -> u64 {
        self.tasks
            .values()
            .map(|t| t.detector.engine().stats().posts)
            .sum()
    }
}

fn assigned(consumer: &BaseConsumer<GroupContext>) -> BTreeSet<i32> {
    consumer
        .assignment()
        .map(|tpl| group::partitions(&tpl).into_iter().collect())
        .unwrap_or_default()
}

/// Takes a batch: waits for one message, then takes what the client already has. Stops at
/// a client event (end of a partition, an error), which it returns.
fn poll_batch(
    consumer: &BaseConsumer<GroupContext>,
    shared: &Shared,
) -> (Vec<Raw>, Option<KafkaError>) {
    let mut batch: Vec<Raw> = Vec::new();
    let mut timeout = Duration::from_millis(100);
    while batch.len() < BATCH {
        match consumer.poll(timeout) {
            Some(Ok(m)) => batch.push(Raw {
                partition: m.partition(),
                offset: m.offset(),
                // Read after the poll: a revoke served inside this poll came before the
                // message it returned.
                epoch: shared.epoch.load(Ordering::SeqCst),
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().map(<[u8]>::to_vec),
            }),
            Some(Err(e)) => return (batch, Some(e)),
            None => break,
        }
        timeout = Duration::ZERO;
    }
    (batch, None)
}

/// Runs the streaming detector until `stop` is set (or, with `exit_on_eof`, the assigned
/// partitions are read to their end). Events go to the events topic and to `sink`.
pub fn run(
    opts: &RunOptions,
    extractor: &Extractor,
    sink: &mut dyn EventSink,
    metrics: &Metrics,
    stop: &AtomicBool,
) -> Result<RunSummary, StreamError> {
    let s = &opts.settings;
    metrics.beat();
    if !kafka::wait_for_cluster(s, stop)? {
        return Ok(RunSummary::default());
    }
    metrics.mark_connected();
    let mut topics = vec![
        (s.events_topic.as_str(), 1, false),
        (s.dlq_topic.as_str(), 1, false),
    ];
    if let StateTarget::Topic(t) = &s.state {
        topics.push((t.as_str(), 1, true));
    }
    if opts.create_topics {
        kafka::ensure_topics(&s.client(), &topics);
    }
    let store = match &s.state {
        StateTarget::Dir(d) => StateStore::Dir(d.clone()),
        StateTarget::Topic(t) => StateStore::Topic(Box::new(TopicStore::open(&s.client(), t)?)),
    };
    let shared = Arc::new(Shared::default());
    let stats = opts.stats_every.as_millis().to_string();
    let mut props = vec![
        ("group.id", s.group.as_str()),
        ("enable.auto.commit", "false"),
        // Offsets are the checkpoints' alone: with the client storing the offset of every
        // message it hands out, a partition revoked and at once assigned back resumed at
        // that stored position instead of the committed one, past posts the dropped task
        // had read but not checkpointed (seen on tansu; the revoke test catches it).
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "earliest"),
        ("enable.partition.eof", "true"),
        ("fetch.wait.max.ms", "100"),
    ];
    if !opts.stats_every.is_zero() {
        props.push(("statistics.interval.ms", stats.as_str()));
    }
    let cc = kafka::consumer_config(s, &props);
    let consumer: BaseConsumer<GroupContext> = cc
        .create_with_context(GroupContext(shared.clone()))
        .map_err(|e| StreamError::kafka("creating the consumer (check -X properties)", e))?;
    consumer
        .subscribe(&[&s.topic])
        .map_err(|e| StreamError::kafka(format!("subscribing to {}", s.topic), e))?;
    let producer = kafka::producer(&s.client(), "events")?;
    let mut r = Runner {
        opts,
        extractor,
        shared,
        producer,
        store,
        tasks: HashMap::new(),
        revoked_at: HashMap::new(),
        eof: BTreeSet::new(),
        out: Vec::new(),
        sink,
        telemetry: Telemetry::new(metrics),
        timers: Timers::new(s.checkpoint_every),
    };
    let mut pending: Option<(Vec<Raw>, Vec<Prepared>)> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (batch, event) = poll_batch(&consumer, &r.shared);
        r.sync_group()?;
        r.telemetry.record(RunEvent::Polled {
            messages: batch.len(),
        });
        // Pipelined: the new batch is parsed and analysed on the rayon pool while this
        // thread feeds the previous one to the detectors, in order.
        let mut prepared: Vec<Prepared> = Vec::new();
        let previous = pending.take();
        let previous_len = previous.as_ref().map_or(0, |(b, _)| b.len());
        rayon::in_place_scope(|sc| -> Result<(), StreamError> {
            if !batch.is_empty() {
                let (batch, prepared) = (&batch, &mut prepared);
                sc.spawn(move |_| {
                    *prepared = batch
                        .par_iter()
                        .map(|raw| prepare(extractor, raw))
                        .collect();
                });
            }
            if let Some((b, p)) = previous {
                r.feed(b, p)?;
            }
            Ok(())
        })?;
        let fed = previous_len > 0 || !batch.is_empty();
        if !batch.is_empty() {
            pending = Some((batch, prepared));
        }
        // Every so often, and before an end-of-partition or when the input runs dry, the
        // detectors catch up with everything read so far; only then are the timers looked
        // at (checkpoint, idle partitions, exit), so those always see a consistent state.
        let now = Instant::now();
        let idle = pending.as_ref().is_none_or(|(b, _)| b.len() < BATCH);
        let turn = event.is_some() || idle || r.timers.turn_due(now);
        if turn {
            if let Some((b, p)) = pending.take() {
                r.feed(b, p)?;
            }
        }
        match event {
            Some(KafkaError::PartitionEOF(p)) => {
                r.eof.insert(p);
                r.telemetry.record(RunEvent::Connected);
            }
            Some(e) => kafka::report_client_error(&e, "consumer"),
            None => {}
        }
        if !turn {
            continue;
        }
        let now = Instant::now();
        r.timers.turned(now);
        r.telemetry.record(RunEvent::Turned { fed });
        if r.timers.tick(now) && r.second(&consumer)? {
            break;
        }
        if r.timers.checkpoint_due(now) {
            r.checkpoint(&consumer)?;
            r.timers.checkpointed();
        }
    }
    if let Some((b, p)) = pending.take() {
        r.feed(b, p)?;
    }
    r.checkpoint(&consumer)?;
    consumer.unsubscribe();
    let held = r.state_posts();
    Ok(r.telemetry.finish(held))
}
