//! `benglema run`: the streaming detector, in two stages joined by a repartition topic.
//!
//! - [`extract`]: a consumer group over the posts topic, one task per partition: parse,
//!   dead-letter, de-duplicate, extract, count per event-time minute; when a task's watermark
//!   passes minutes, their counts go to every partition of the repartition topic (each
//!   service's to the partition its series lives in, the exposure to all).
//! - [`detect`]: a consumer group over the repartition topic, one task per partition: a
//!   minute is final once every posts partition has closed it (or is idle); then the series
//!   of the task's services step, and events go to the events topic.
//!
//! So each service's events are raised once, by one task, and they are those of `backtest`
//! on the same posts, whatever the partitioning of the posts topic and however many
//! processes run either stage ([`Role`]): `backtest` is one tally and one stepper; here
//! there is a tally per posts partition and a stepper per repartition partition, and counts
//! merge per minute whatever the order (see `benglema_detect::counts`).
//!
//! Both stages checkpoint their tasks' state with the offset of the first message it does
//! not cover, after flushing what they produced, then commit offsets: at-least-once, with
//! replays that overwrite (the repartition topic) or re-publish the same event ids (the
//! events topic). A revoked partition's task is dropped right after the poll that revoked it,
//! before anything polled earlier is fed, and messages polled before the revoke are
//! discarded: if the partition comes straight back, its new task resumes from the checkpoint
//! and the consumer from the committed offset (the client stores no offsets of its own).
//!
//! The loop is split by concern: [`task`] (the two kinds of task), [`tasks`] (what both
//! stages do with their tasks: open, revoke, skip, checkpoint), [`wire`] (the
//! repartition messages), [`timers`] (turns, ticks, checkpoints), [`group`] (the rebalance
//! callbacks) and [`telemetry`] (every run event, one enum, feeding Prometheus, the summary
//! and the log).

mod detect;
mod extract;
mod group;
mod task;
mod tasks;
pub mod telemetry;
mod timers;
pub mod wire;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use benglema_detect::DetectorConfig;
use benglema_model::OutageEvent;
use benglema_text::Extractor;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;

use crate::kafka::{self, TopicSpec};
use crate::metrics::Metrics;
use crate::state::{StateStore, TopicStore};
use crate::{Settings, StateTarget, StreamError};
use group::{GroupContext, Shared};
pub use telemetry::{RunEvent, RunSummary, Telemetry};

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
    /// one-off replays of a finished topic, the embedded demo after its feeder finished).
    /// The extract stage then closes every open minute and checkpoints that: the stream has
    /// ended for good, and a later run over more posts takes those of the closed minutes
    /// as late.
    pub exit_on_eof: Arc<AtomicBool>,
    /// A partition without posts for this long (whole seconds) is advanced to the others'
    /// watermark.
    pub idle_after: Duration,
    /// Create the events, dead-letter and state topics if missing (off for clusters that
    /// cannot, such as the embedded one, whose topics are made up front).
    pub create_topics: bool,
    /// Librdkafka statistics interval (consumer lag); zero disables.
    pub stats_every: Duration,
    /// Which stages this process runs.
    pub role: Role,
    /// Partitions of the repartition topic when `run` creates it (default: as many as the
    /// posts topic has). Each holds the series of a share of the services.
    pub repartition_partitions: Option<i32>,
    /// Retention of the repartition topic when `run` creates it: how long a stopped detect
    /// stage may stay down and still catch up.
    pub repartition_retention: Duration,
    /// The status page's board, kept up to date by the detect stage when given.
    pub board: Option<Arc<benglema_status::Board>>,
}

/// Which stages a `run` process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Both, in two threads (the default).
    #[default]
    Both,
    /// Only the extract stage.
    Extract,
    /// Only the detect stage.
    Detect,
}

/// Receives every published event state (stdout, CSV, alerts, tests).
pub trait EventSink {
    /// One event state, after it was handed to the producer.
    fn event(&mut self, e: &OutageEvent) -> Result<(), StreamError>;

    /// One event state with the event time (Unix seconds) of the minute that produced it:
    /// its detection for an open, the minute of the update or of the resolution otherwise.
    fn event_at(&mut self, e: &OutageEvent, _at: i64) -> Result<(), StreamError> {
        self.event(e)
    }

    /// The detect stage has stepped every series through another minute.
    fn minute(&mut self, _m: &MinuteStatus) {}
}

/// What the detect stage knows after stepping a minute (for a live view).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinuteStatus {
    /// Event time (Unix seconds) up to which every minute is final, oldest over the tasks.
    pub through: i64,
    /// Series held by this process's detect tasks (services with activity).
    pub services: usize,
    /// Posts per second read by this process's extract stage (0 when it runs none).
    pub posts_per_second: f64,
    /// Messages the detect stage is behind the end of its partitions.
    pub lag: i64,
}

impl<F: FnMut(&OutageEvent) -> Result<(), StreamError>> EventSink for F {
    fn event(&mut self, e: &OutageEvent) -> Result<(), StreamError> {
        self(e)
    }
}

/// A message as read, owned so a batch can be analysed in parallel.
pub(crate) struct Raw {
    partition: i32,
    offset: i64,
    /// Revokes the group had seen when the message was polled.
    epoch: u64,
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
}

/// Most messages taken from the client per batch.
pub(crate) const BATCH: usize = 2048;

/// Takes a batch: waits for one message, then takes what the client already has. Stops at
/// a client event (end of a partition, an error), which it returns.
pub(crate) fn poll_batch(
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

/// When a stage's loop stops: the caller's flag, or (with both stages in one process) the
/// other stage's having stopped.
#[derive(Clone, Copy)]
pub(crate) struct Stop<'a> {
    outer: &'a AtomicBool,
    inner: Option<&'a AtomicBool>,
}

impl<'a> Stop<'a> {
    fn one(outer: &'a AtomicBool) -> Self {
        Stop { outer, inner: None }
    }

    fn either(outer: &'a AtomicBool, inner: &'a AtomicBool) -> Self {
        Stop {
            outer,
            inner: Some(inner),
        }
    }

    /// A stop was asked for.
    pub(crate) fn requested(&self) -> bool {
        self.outer.load(Ordering::Relaxed) || self.inner.is_some_and(|i| i.load(Ordering::Relaxed))
    }
}

/// The partition count of `topic`, waiting (and saying so once) while it does not exist;
/// `None` when stopped first.
pub(crate) fn wait_for_partitions(
    consumer: &BaseConsumer<GroupContext>,
    topic: &str,
    stop: Stop<'_>,
) -> Option<u32> {
    let mut said = false;
    loop {
        if let Some(n) = kafka::partition_count(consumer, topic) {
            return Some(n.max(1) as u32);
        }
        if !said {
            eprintln!(
                "benglema: topic {topic} does not exist yet; waiting for it (create it, or \
                 produce to it; run creates its own topics unless the cluster cannot)"
            );
            said = true;
        }
        for _ in 0..20 {
            if stop.requested() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The partitions assigned to a consumer now.
pub(crate) fn assigned(consumer: &BaseConsumer<GroupContext>) -> BTreeSet<i32> {
    consumer
        .assignment()
        .map(|tpl| group::partitions(&tpl).into_iter().collect())
        .unwrap_or_default()
}

/// A consumer in `group` subscribed to `topic`, committing only what checkpoints cover.
pub(crate) fn group_consumer(
    opts: &RunOptions,
    group: &str,
    topic: &str,
    shared: Arc<Shared>,
) -> Result<BaseConsumer<GroupContext>, StreamError> {
    let stats = opts.stats_every.as_millis().to_string();
    let mut props = vec![
        ("group.id", group),
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
    let cc = kafka::consumer_config(&opts.settings, &props);
    let consumer: BaseConsumer<GroupContext> = cc
        .create_with_context(GroupContext(shared))
        .map_err(|e| StreamError::kafka("creating the consumer (check -X properties)", e))?;
    consumer
        .subscribe(&[topic])
        .map_err(|e| StreamError::kafka(format!("subscribing to {topic}"), e))?;
    Ok(consumer)
}

fn open_store(s: &Settings) -> Result<StateStore, StreamError> {
    Ok(match &s.state {
        StateTarget::Dir(d) => StateStore::Dir(d.clone()),
        StateTarget::Topic(t) => StateStore::Topic(Box::new(TopicStore::open(&s.client(), t)?)),
    })
}

/// Creates the topics `run` writes when they are missing: events, dead letters, the
/// repartition topic and the state topic.
fn create_topics(opts: &RunOptions) {
    let s = &opts.settings;
    let posts = s
        .client()
        .create::<BaseConsumer>()
        .ok()
        .and_then(|c| kafka::partition_count(&c, &s.topic));
    let repartition = opts.repartition_partitions.or(posts).unwrap_or(1).max(1);
    let retention = opts.repartition_retention.as_millis().to_string();
    let mut topics = vec![
        TopicSpec::new(&s.events_topic, 1),
        TopicSpec::new(&s.dlq_topic, 1),
        TopicSpec {
            retention_ms: Some(retention),
            ..TopicSpec::new(&s.repartition_topic, repartition)
        },
    ];
    if let StateTarget::Topic(t) = &s.state {
        topics.push(TopicSpec {
            compact: true,
            ..TopicSpec::new(t, 1)
        });
    }
    kafka::ensure_topics(&s.client(), &topics);
}

/// Runs the streaming detector (the stages of `opts.role`) until `stop` is set or, with
/// `exit_on_eof`, the input is read to its end and every event it causes is out. Events go
/// to the events topic and to `sink`.
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
    if opts.create_topics {
        create_topics(opts);
    }
    match opts.role {
        Role::Extract => {
            extract::extract(opts, extractor, open_store(s)?, metrics, Stop::one(stop))
        }
        Role::Detect => detect::detect(
            opts,
            open_store(s)?,
            sink,
            metrics,
            Stop::one(stop),
            &opts.exit_on_eof,
        ),
        Role::Both => {
            let (extract_store, detect_store) = (open_store(s)?, open_store(s)?);
            let input_done = AtomicBool::new(false);
            let halt = AtomicBool::new(false);
            std::thread::scope(|sc| {
                let ex = sc.spawn(|| {
                    // However the extract stage ends (an error, a panic, a stop), the detect
                    // stage stops too, unless the input ended and it is to drain it.
                    let guard = Halt(&halt);
                    let r = extract::extract(
                        opts,
                        extractor,
                        extract_store,
                        metrics,
                        Stop::either(stop, &halt),
                    );
                    if r.is_ok() && opts.exit_on_eof.load(Ordering::SeqCst) {
                        input_done.store(true, Ordering::SeqCst);
                        std::mem::forget(guard);
                    }
                    r
                });
                let det = detect::detect(
                    opts,
                    detect_store,
                    sink,
                    metrics,
                    Stop::either(stop, &halt),
                    &input_done,
                );
                halt.store(true, Ordering::SeqCst);
                let ex = ex
                    .join()
                    .map_err(|_| StreamError::Config("the extract stage panicked".into()))?;
                let (e, d) = (ex?, det?);
                Ok(e.with_detect(d))
            })
        }
    }
}

/// Sets its flag when dropped.
struct Halt<'a>(&'a AtomicBool);

impl Drop for Halt<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
