//! The detect stage: a consumer group (`<group>.detect`) over the repartition topic, one
//! [`DetectTask`] per assigned partition. Each task holds the series of the services routed
//! to its partition; a minute is stepped once every input partition has closed it (or is
//! idle), so each service's events are raised once, by one task, whatever the partitioning
//! of the posts topic and however many processes run either stage.
//!
//! Delivery is at-least-once with stable event ids, as in the extract stage: every
//! `checkpoint_every` the events producer is flushed, then each task's barrier and series
//! are saved with the offset of the first message they do not cover, then offsets are
//! committed. A replayed message overwrites what its source sent before, so nothing is
//! counted twice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use benglema_detect::{BucketCounts, DetectorConfig, Output};
use benglema_status::Board;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;

use super::group::{GroupContext, Shared};
use super::task::DetectTask;
use super::tasks::Tasks;
use super::timers::Timers;
use super::wire::Closed;
use super::{assigned, poll_batch, EventSink, MinuteStatus, Raw, RunOptions, Stop};
use crate::kafka::{self, TrackedProducer};
use crate::metrics::Metrics;
use crate::run::telemetry::{RunEvent, RunSummary, Telemetry};
use crate::state::StateStore;
use crate::StreamError;

struct Runner<'s> {
    opts: &'s RunOptions,
    metrics: &'s Metrics,
    config: &'s DetectorConfig,
    shared: Arc<Shared>,
    producer: TrackedProducer,
    tasks: Tasks<DetectTask>,
    out: Vec<(i64, Output)>,
    /// The counts of the minutes just stepped (only with a status board).
    counts: Vec<(i64, BucketCounts)>,
    /// The status page's state, when `run` serves one.
    board: Option<Arc<Board>>,
    /// The oldest final minute last reported to the sink.
    reported_through: Option<i64>,
    sink: &'s mut dyn EventSink,
    telemetry: Telemetry<'s>,
    timers: Timers,
    /// When stale posts or a gap were last reported (at most one line per minute).
    reported: Option<Instant>,
}

impl Runner<'_> {
    fn publish(&mut self) -> Result<(), StreamError> {
        let bs = self.config.time.bucket_seconds;
        for (b, o) in &self.out {
            let Output::Event(e) = o else { continue };
            let json = serde_json::to_vec(e).expect("events serialise");
            kafka::send(
                &self.producer,
                &self.opts.settings.events_topic,
                Some(e.service.as_bytes()),
                &json,
                None,
            )?;
            self.telemetry.record(RunEvent::Published(e));
            self.sink.event_at(e, b * bs)?;
        }
        // The board's lock only now, after the sends and sinks (which can block), so the
        // page's readers never wait on them.
        if let Some(board) = self.board.as_deref() {
            let mut w = board.write();
            for (b, o) in &self.out {
                match o {
                    Output::Event(e) => w.event(e, *b),
                    Output::Series(p) => w.point(p),
                }
            }
            for (b, c) in &self.counts {
                w.counts(*b, c);
            }
        }
        self.out.clear();
        self.counts.clear();
        Ok(())
    }

    fn message(&mut self, raw: Raw) -> Result<(), StreamError> {
        let partition = raw.partition;
        let tick = self.timers.ticks;
        if !self.tasks.take(&raw, tick) {
            return Ok(());
        }
        let msg = match Closed::decode(raw.payload.as_deref().unwrap_or(&[])) {
            Ok(m) => m,
            Err(e) => {
                // Not ours: say so and go on.
                eprintln!(
                    "benglema: detect: skipping {}/{partition}/{}: {e}",
                    self.opts.settings.repartition_topic, raw.offset
                );
                return Ok(());
            }
        };
        let src = msg.src;
        let task = self.tasks.map.get_mut(&partition).expect("task exists");
        let counts = self.board.is_some().then_some(&mut self.counts);
        let r = task.receive(msg, &mut self.out, counts);
        if r.stale > 0 {
            self.telemetry.record(RunEvent::Stale { posts: r.stale });
        }
        let now = Instant::now();
        let due = self
            .reported
            .is_none_or(|t| now - t >= std::time::Duration::from_secs(60));
        if (r.gap || r.stale > 0) && due {
            self.reported = Some(now);
            if r.gap {
                eprintln!(
                    "benglema: detect: {}/{partition}: a message of posts partition {src} is \
                     missing (a delivery that failed; that extract process stops at its next \
                     checkpoint): waiting for its replay, and refusing the ones after it",
                    self.opts.settings.repartition_topic
                );
            } else {
                eprintln!(
                    "benglema: detect: {} posts arrived for minutes already final (a replay of \
                     counts already applied, or a partition declared idle woke up with older \
                     posts); see benglema_detect_stale_posts_total",
                    r.stale
                );
            }
        }
        self.publish()?;
        self.report_minute();
        Ok(())
    }

    /// Tells the sink when the oldest final minute over the tasks moved.
    fn report_minute(&mut self) {
        let bs = self.config.time.bucket_seconds;
        let through = self
            .tasks
            .map
            .values()
            .filter_map(|t| t.barrier.released())
            .min();
        if through.is_none() || through == self.reported_through {
            return;
        }
        self.reported_through = through;
        if let (Some(board), Some(t)) = (&self.board, through) {
            board.write().advance(t * bs);
        }
        let status = MinuteStatus {
            through: through.unwrap_or_default() * bs,
            services: self.tasks.map.values().map(DetectTask::series).sum(),
            posts_per_second: self.metrics.posts_per_second.get(),
            lag: self.shared.lag.load(Ordering::Relaxed),
        };
        self.sink.minute(&status);
    }

    fn checkpoint(&mut self, consumer: &BaseConsumer<GroupContext>) -> Result<(), StreamError> {
        self.tasks
            .checkpoint(consumer, &self.producer, &mut self.telemetry)
    }

    /// The one-second timer; true when the input has ended and every task is drained.
    fn second(&mut self, consumer: &BaseConsumer<GroupContext>, input_done: &AtomicBool) -> bool {
        let assigned = assigned(consumer);
        let bs = self.config.time.bucket_seconds;
        let released = self
            .tasks
            .map
            .values()
            .filter_map(|t| t.barrier.released())
            .min()
            .map(|b| b * bs);
        self.telemetry.record(RunEvent::DetectSecond {
            lag: self.shared.lag.load(Ordering::Relaxed),
            assigned: assigned.len(),
            released,
        });
        input_done.load(Ordering::Relaxed)
            && self.tasks.read_to_end(&assigned)
            && self.tasks.map.values().all(DetectTask::drained)
    }
}

/// Runs the detect stage until `stop` is set, or `input_done` is set and every assigned
/// task has heard every source say its input ended.
pub(super) fn detect(
    opts: &RunOptions,
    store: StateStore,
    sink: &mut dyn EventSink,
    metrics: &Metrics,
    stop: Stop<'_>,
    input_done: &AtomicBool,
) -> Result<RunSummary, StreamError> {
    let s = &opts.settings;
    let tasks = Tasks::new(&s.repartition_topic, store);
    let shared = Arc::new(Shared::new(tasks.checkpoints()));
    let group = format!("{}.detect", s.group);
    let consumer = super::group_consumer(opts, &group, &s.repartition_topic, shared.clone())?;
    let producer = kafka::producer(&s.client(), "events")?;
    let mut r = Runner {
        opts,
        metrics,
        config: &opts.detector,
        shared,
        producer,
        tasks,
        out: Vec::new(),
        counts: Vec::new(),
        board: opts.board.clone(),
        reported_through: None,
        sink,
        telemetry: Telemetry::new(metrics, "detect"),
        timers: Timers::new(s.checkpoint_every),
        reported: None,
    };
    loop {
        if stop.requested() {
            break;
        }
        let (batch, event) = poll_batch(&consumer, &r.shared);
        let changes = r.shared.take_changes();
        r.tasks
            .sync(changes, &opts.detector, r.timers.ticks, &mut r.telemetry)?;
        for raw in batch {
            r.message(raw)?;
        }
        match event {
            Some(KafkaError::PartitionEOF(p)) => {
                r.tasks.eof.insert(p);
            }
            Some(e) => kafka::report_client_error(&e, "detect consumer"),
            None => {}
        }
        let now = Instant::now();
        if r.timers.tick(now) && r.second(&consumer, input_done) {
            break;
        }
        if r.timers.checkpoint_due(now) {
            r.checkpoint(&consumer)?;
            r.timers.checkpointed();
        }
    }
    r.checkpoint(&consumer)?;
    consumer.unsubscribe();
    Ok(r.telemetry.finish(0))
}
