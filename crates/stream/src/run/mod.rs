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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use benglema_detect::{Admission, DetectorConfig, EngineOptions, Output};
use benglema_model::{EventStatus, OutageEvent, Post};
use benglema_pipeline::{analyze, Analysis, Detector};
use benglema_text::Extractor;
use rayon::prelude::*;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::kafka::{self, TrackedProducer};
use crate::metrics::Metrics;
use crate::state::{Checkpoint, StateStore, TopicStore};
use crate::{Settings, StateTarget, StreamError};

/// Longest stretch of pipelined batches before the detectors catch up and timers run.
const TURN_EVERY: Duration = Duration::from_millis(100);

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

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    /// Posts read (valid or not).
    pub posts: u64,
    /// Dead-lettered posts.
    pub rejected: u64,
    /// Event states published.
    pub published: u64,
    /// Partitions this process held at some point.
    pub partitions: BTreeSet<i32>,
    /// Partitions restored from a checkpoint, with the offset they resumed at.
    pub restored: BTreeMap<i32, i64>,
    /// When the first post arrived.
    pub first_post: Option<Instant>,
    /// When the last post arrived.
    pub last_post: Option<Instant>,
}

#[derive(Default)]
struct Shared {
    rebalanced: AtomicBool,
    revoked: Mutex<Vec<i32>>,
    lag: AtomicI64,
}

struct GroupContext(Arc<Shared>);

impl ClientContext for GroupContext {
    fn stats(&self, s: Statistics) {
        let lag: i64 = s
            .topics
            .values()
            .flat_map(|t| t.partitions.values())
            .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
            .map(|p| p.consumer_lag)
            .sum();
        self.0.lag.store(lag, Ordering::Relaxed);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        kafka::report_client_error(&error, reason);
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    tpl.elements().iter().map(|e| e.partition()).collect()
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, r: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = r {
            let ps = partitions(tpl);
            if !ps.is_empty() {
                eprintln!("benglema: partitions revoked: {ps:?}");
            }
            if let Ok(mut v) = self.0.revoked.lock() {
                v.extend(ps);
            }
            self.0.rebalanced.store(true, Ordering::SeqCst);
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, r: &Rebalance<'_>) {
        match r {
            Rebalance::Assign(tpl) => {
                eprintln!("benglema: partitions assigned: {:?}", partitions(tpl))
            }
            Rebalance::Error(e) => eprintln!("benglema: rebalance failed: {e}"),
            Rebalance::Revoke(_) => {}
        }
    }
}

/// A message as read, owned so a batch can be analysed in parallel.
struct Raw {
    partition: i32,
    offset: i64,
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
}

/// A parsed and analysed post, or why the message is not a post.
type Prepared = Result<(Post, Analysis), String>;

/// The stateless half of a message: parse and extract (runs on the rayon pool).
fn prepare(extractor: &Extractor, raw: &Raw) -> Prepared {
    let post = match raw.payload.as_deref() {
        None => return Err("empty message (no payload)".to_owned()),
        Some(b) => Post::parse(b).map_err(|e| e.to_string())?,
    };
    let a = analyze(extractor, &post);
    Ok((post, a))
}

/// Most messages taken from the client per batch.
const BATCH: usize = 2048;

struct Task<'x> {
    detector: Detector<'x>,
    next_offset: i64,
    dirty: bool,
    /// The loop tick (seconds) of the partition's last post.
    last_tick: u64,
}

struct Runner<'x, 's> {
    opts: &'s RunOptions,
    extractor: &'x Extractor,
    shared: Arc<Shared>,
    producer: TrackedProducer,
    store: StateStore,
    tasks: HashMap<i32, Task<'x>>,
    eof: BTreeSet<i32>,
    out: Vec<Output>,
    sink: &'s mut dyn EventSink,
    metrics: &'s Metrics,
    summary: RunSummary,
    /// Seconds the loop has run (ticks of its one-second timer).
    tick: u64,
}

impl<'x> Runner<'x, '_> {
    fn task(&mut self, partition: i32) -> Result<&mut Task<'x>, StreamError> {
        if !self.tasks.contains_key(&partition) {
            let topic = &self.opts.settings.topic;
            let cp = self.store.load(topic, partition)?;
            let options = EngineOptions::default();
            let config = self.opts.detector.clone();
            let task = match cp {
                Some(cp) => {
                    eprintln!(
                        "benglema: {topic}/{partition}: resuming from checkpoint at offset {}",
                        cp.next_offset
                    );
                    self.summary.restored.insert(partition, cp.next_offset);
                    Task {
                        detector: Detector::restore(self.extractor, config, options, cp.engine)?,
                        next_offset: cp.next_offset,
                        dirty: false,
                        last_tick: self.tick,
                    }
                }
                None => Task {
                    detector: Detector::new(self.extractor, config, options)?,
                    next_offset: 0,
                    dirty: false,
                    last_tick: self.tick,
                },
            };
            self.summary.partitions.insert(partition);
            self.tasks.insert(partition, task);
        }
        Ok(self.tasks.get_mut(&partition).expect("inserted above"))
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
            self.metrics.events_published.inc();
            if e.status == EventStatus::Open {
                self.metrics.events_raised.inc();
            }
            self.summary.published += 1;
            self.sink.event(&e)?;
        }
        Ok(())
    }

    fn dead_letter(
        &mut self,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        payload: &[u8],
        reason: &str,
    ) -> Result<(), StreamError> {
        let s = &self.opts.settings;
        let source = format!("{}/{partition}/{offset}", s.topic);
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: REASON_HEADER,
                value: Some(reason.as_bytes()),
            })
            .insert(Header {
                key: SOURCE_HEADER,
                value: Some(source.as_bytes()),
            });
        kafka::send(&self.producer, &s.dlq_topic, key, payload, Some(headers))?;
        self.metrics.rejected.inc();
        self.summary.rejected += 1;
        Ok(())
    }

    /// Feeds a prepared batch to the detectors, in order.
    fn feed(&mut self, batch: Vec<Raw>, prepared: Vec<Prepared>) -> Result<(), StreamError> {
        for (raw, p) in batch.iter().zip(prepared) {
            self.message(raw, p)?;
        }
        Ok(())
    }

    fn message(&mut self, raw: &Raw, prepared: Prepared) -> Result<(), StreamError> {
        let (partition, offset) = (raw.partition, raw.offset);
        let (key, payload) = (raw.key.as_deref(), raw.payload.as_deref());
        self.eof.remove(&partition);
        let tick = self.tick;
        let task = self.task(partition)?;
        if offset < task.next_offset {
            // Already inside the checkpoint (its commit was lost): skip.
            return Ok(());
        }
        task.next_offset = offset + 1;
        task.dirty = true;
        task.last_tick = tick;
        self.metrics.posts_in.inc();
        self.summary.posts += 1;
        match prepared {
            Err(reason) => {
                self.dead_letter(partition, offset, key, payload.unwrap_or(&[]), &reason)
            }
            Ok((post, analysis)) => {
                let task = self.tasks.get_mut(&partition).expect("task exists");
                let r = task
                    .detector
                    .process_analyzed(&post, analysis, &mut self.out);
                match r.admission {
                    Admission::Accepted => {
                        if r.signal
                            .is_some_and(|s| s.kind == benglema_model::SignalKind::Complaint)
                        {
                            self.metrics.complaints.inc();
                        }
                    }
                    Admission::Late => {
                        self.metrics.late.inc();
                    }
                    Admission::Duplicate => {
                        self.metrics.duplicates.inc();
                    }
                }
                self.publish()
            }
        }
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
        let tick = self.tick;
        for t in self.tasks.values_mut() {
            if tick >= t.last_tick + idle_ticks
                && t.detector.engine().watermark().is_some_and(|w| w < newest)
            {
                t.detector.advance_to(newest, &mut self.out);
                t.dirty = true;
            }
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
        let topic = self.opts.settings.topic.clone();
        let cps: Vec<Checkpoint> = dirty
            .iter()
            .map(|p| {
                let t = &self.tasks[p];
                Checkpoint {
                    topic: topic.clone(),
                    partition: *p,
                    next_offset: t.next_offset,
                    engine: t.detector.engine().snapshot(),
                }
            })
            .collect();
        self.store.save(&cps)?;
        let mut tpl = TopicPartitionList::new();
        for cp in &cps {
            tpl.add_partition_offset(&topic, cp.partition, Offset::Offset(cp.next_offset))
                .map_err(|e| StreamError::kafka("building the commit", e))?;
        }
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            // The checkpoint is what a restart resumes from; a lost commit only means the
            // next owner skips the covered posts itself.
            eprintln!("benglema: offset commit failed ({e}); the checkpoint covers it");
        }
        for p in dirty {
            if let Some(t) = self.tasks.get_mut(&p) {
                t.dirty = false;
            }
        }
        self.metrics.checkpoints.inc();
        Ok(())
    }

    fn drop_revoked(&mut self) {
        let revoked: Vec<i32> = match self.shared.revoked.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => return,
        };
        for p in revoked {
            // Work since the last checkpoint is replayed by the new owner, with the same ids.
            self.tasks.remove(&p);
            self.eof.remove(&p);
        }
    }
}

fn assigned(consumer: &BaseConsumer<GroupContext>) -> BTreeSet<i32> {
    consumer
        .assignment()
        .map(|tpl| partitions(&tpl).into_iter().collect())
        .unwrap_or_default()
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
        eof: BTreeSet::new(),
        out: Vec::new(),
        sink,
        metrics,
        summary: RunSummary::default(),
        tick: 0,
    };
    let mut last_cp = Instant::now();
    let mut last_tick = Instant::now();
    let mut rate_mark = (Instant::now(), 0u64);
    let mut last_turn = Instant::now();
    let mut pending: Option<(Vec<Raw>, Vec<Prepared>)> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // A batch: wait for one message, then take what the client already has.
        let mut batch: Vec<Raw> = Vec::new();
        let mut event = None;
        let mut timeout = Duration::from_millis(100);
        while batch.len() < BATCH {
            match consumer.poll(timeout) {
                Some(Ok(m)) => batch.push(Raw {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: m.payload().map(<[u8]>::to_vec),
                }),
                Some(Err(e)) => {
                    event = Some(e);
                    break;
                }
                None => break,
            }
            timeout = Duration::ZERO;
        }
        // Pipelined: the new batch is parsed and analysed on the rayon pool while this
        // thread feeds the previous one to the detectors, in order.
        let first = !batch.is_empty() && r.summary.first_post.is_none();
        if first {
            r.summary.first_post = Some(Instant::now());
        }
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
        let turn = event.is_some() || idle || now - last_turn >= TURN_EVERY;
        if turn {
            if let Some((b, p)) = pending.take() {
                r.feed(b, p)?;
            }
        }
        match event {
            Some(KafkaError::PartitionEOF(p)) => {
                r.eof.insert(p);
                r.metrics.mark_connected();
            }
            Some(e) => kafka::report_client_error(&e, "consumer"),
            None => {}
        }
        if !turn {
            continue;
        }
        let now = Instant::now();
        last_turn = now;
        if fed {
            r.summary.last_post = Some(now);
        }
        if r.shared.rebalanced.swap(false, Ordering::SeqCst) {
            r.drop_revoked();
        }
        if now - last_tick >= Duration::from_secs(1) {
            last_tick = now;
            r.tick += 1;
            r.metrics.beat();
            r.metrics
                .consumer_lag
                .set(r.shared.lag.load(Ordering::Relaxed));
            let n = r.summary.posts;
            let secs = (now - rate_mark.0).as_secs_f64();
            r.metrics
                .posts_per_second
                .set((n - rate_mark.1) as f64 / secs.max(1e-9));
            rate_mark = (now, n);
            let assigned = assigned(&consumer);
            r.metrics.partitions.set(assigned.len() as i64);
            if !assigned.is_empty() {
                r.metrics.mark_connected();
            }
            r.advance_idle()?;
            if opts.exit_on_eof.load(Ordering::Relaxed)
                && !assigned.is_empty()
                && assigned.is_subset(&r.eof)
            {
                break;
            }
        }
        if now - last_cp >= s.checkpoint_every {
            r.checkpoint(&consumer)?;
            last_cp = Instant::now();
        }
    }
    if let Some((b, p)) = pending.take() {
        r.feed(b, p)?;
    }
    r.checkpoint(&consumer)?;
    consumer.unsubscribe();
    Ok(r.summary)
}
