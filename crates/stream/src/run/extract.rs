//! The extract stage: a consumer group over the posts topic, one [`ExtractTask`] per
//! assigned partition. Each message is parsed against the post contract (malformed ones are
//! dead-lettered with the reason), read by the extractor on the rayon pool, then fed in
//! order to its partition's tally: de-duplicated, counted into its event-time minute, or
//! dead-lettered as late. When a task's watermark passes minutes it sends their counts to
//! every repartition partition ([`Closed`]); a task whose partition has had no posts for
//! the idleness timeout is first advanced to the newest watermark of the tasks in this
//! process, then tells downstream it is idle.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use benglema_detect::{Admission, BucketCounts, DetectorConfig, Observation};
use benglema_model::Post;
use benglema_pipeline::analyze;
use benglema_text::{Extractor, Reading};
use rayon::prelude::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};

use super::group::{GroupContext, Shared};
use super::task::ExtractTask;
use super::tasks::Tasks;
use super::timers::Timers;
use super::wire::Closed;
use super::{assigned, poll_batch, Raw, RunOptions, Stop, BATCH, REASON_HEADER, SOURCE_HEADER};
use crate::kafka::{self, TrackedProducer};
use crate::metrics::Metrics;
use crate::run::telemetry::{RunEvent, RunSummary, Telemetry};
use crate::state::StateStore;
use crate::StreamError;

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
/// this partition's tally opened.
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

struct Runner<'s> {
    opts: &'s RunOptions,
    shared: Arc<Shared>,
    producer: TrackedProducer,
    tasks: Tasks<ExtractTask>,
    /// Partitions of the posts topic (every one is a source downstream).
    sources: u32,
    /// Partitions of the repartition topic.
    groups: u32,
    telemetry: Telemetry<'s>,
    timers: Timers,
}

impl Runner<'_> {
    /// Sends what partition `src`'s tally closed since the last message to every
    /// repartition partition.
    fn send_closed(&mut self, src: i32, idle: bool, done: bool) -> Result<(), StreamError> {
        let Some(task) = self.tasks.map.get_mut(&src) else {
            return Ok(());
        };
        let groups = self.groups;
        let Some(mut msg) = task.closed(src, self.sources, idle, done) else {
            return Ok(());
        };
        let mut per_group: Vec<Vec<(i64, BucketCounts)>> = vec![Vec::new(); groups as usize];
        for (b, c) in std::mem::take(&mut msg.buckets) {
            for (g, part) in c.split(groups).into_iter().enumerate() {
                per_group[g].push((b, part));
            }
        }
        let key = src.to_string();
        for (g, buckets) in per_group.into_iter().enumerate() {
            let m = Closed {
                buckets,
                ..msg.clone()
            };
            kafka::send_to(
                &self.producer,
                &self.opts.settings.repartition_topic,
                Some(g as i32),
                Some(key.as_bytes()),
                &m.encode(),
                None,
            )?;
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

    /// Feeds a prepared batch to the tallies, in order.
    /// The messages and posts are then freed on the rayon pool, which allocated most of them:
    /// this thread, which every message waits for, only counts.
    fn feed(&mut self, batch: Vec<Raw>, mut prepared: Vec<Prepared>) -> Result<(), StreamError> {
        let fed = batch
            .iter()
            .zip(&mut prepared)
            .try_for_each(|(raw, p)| self.message(raw, p));
        rayon::spawn(move || drop((batch, prepared)));
        fed
    }

    fn message(&mut self, raw: &Raw, prepared: &mut Prepared) -> Result<(), StreamError> {
        let partition = raw.partition;
        let tick = self.timers.ticks;
        if !self.tasks.take(raw, tick) {
            return Ok(());
        }
        self.telemetry.record(RunEvent::Read);
        let (post, reading) = match prepared {
            Err(reason) => {
                self.dead_letter(raw, reason)?;
                self.telemetry.record(RunEvent::Rejected);
                return Ok(());
            }
            Ok(p) => p,
        };
        let task = self.tasks.map.get_mut(&partition).expect("task exists");
        let Reading { signal, terms } = std::mem::take(reading);
        let term_refs: Vec<&str> = terms.iter().map(String::as_str).collect();
        let complaints = task.tally.stats().complaints;
        task.fed = true;
        let admission = task.tally.observe(
            Observation {
                id: &post.id,
                at: post.created_at.timestamp(),
                signal: signal.as_ref(),
                terms: &term_refs,
                text: &post.text,
            },
            &mut task.unsent,
        );
        let complaint = task.tally.stats().complaints > complaints;
        match admission {
            Admission::Accepted => self.telemetry.record(RunEvent::Counted { complaint }),
            Admission::Late => {
                let reason = late_reason(post, task.tally.watermark(), &self.opts.detector);
                self.dead_letter(raw, &reason)?;
                self.telemetry.record(RunEvent::Late);
            }
            Admission::Duplicate => self.telemetry.record(RunEvent::Duplicate),
        }
        Ok(())
    }

    /// Sends what every task closed since its last message, at the end of a loop turn (so a
    /// catch-up closing many minutes a second sends a few messages, not one per minute); a
    /// partition said to be idle that has had a post since is said to be awake.
    fn send_all(&mut self) -> Result<(), StreamError> {
        let ps: Vec<(i32, bool)> = self
            .tasks
            .map
            .iter()
            .map(|(p, t)| (*p, t.idle_sent && !t.fed))
            .collect();
        for (p, idle) in ps {
            self.send_closed(p, idle, false)?;
        }
        Ok(())
    }

    /// Partitions at their end without posts for the idleness timeout: advanced to the
    /// newest watermark of the others here (a later post of theirs is then late, and
    /// dead-lettered), and said to be idle downstream (so partitions in other processes do
    /// not wait for them).
    fn advance_idle(&mut self) -> Result<(), StreamError> {
        let newest = self
            .tasks
            .map
            .values()
            .filter_map(|t| t.tally.watermark())
            .max();
        let idle_ticks = self.opts.idle_after.as_secs();
        let tick = self.timers.ticks;
        let idle: Vec<i32> = self
            .tasks
            .map
            .iter()
            .filter(|(p, t)| {
                // Caught up (at the end of its partition) and quiet: a partition that is
                // merely behind has posts to read and is never idle.
                self.tasks.eof.contains(p) && tick >= t.pos.last_tick + idle_ticks && !t.idle_sent
            })
            .map(|(p, _)| *p)
            .collect();
        for p in idle {
            let task = self.tasks.map.get_mut(&p).expect("listed above");
            if let Some(n) = newest {
                task.tally.advance_to(n, &mut task.unsent);
            }
            task.pos.dirty = true;
            self.send_closed(p, true, false)?;
        }
        Ok(())
    }

    /// End of input (`--exit-on-eof`): every tally closes what it holds and says so. The
    /// flushed state is checkpointed: the stream has ended for good, and a later run over
    /// more posts takes those of the flushed minutes as late.
    fn finish_input(&mut self) -> Result<(), StreamError> {
        let ps: Vec<i32> = self.tasks.map.keys().copied().collect();
        for p in ps {
            let task = self.tasks.map.get_mut(&p).expect("listed above");
            task.tally.flush(&mut task.unsent);
            task.pos.dirty = true;
            self.send_closed(p, true, true)?;
        }
        Ok(())
    }

    /// Send what is unsent and flush it, save state, commit offsets.
    fn checkpoint(&mut self, consumer: &BaseConsumer<GroupContext>) -> Result<(), StreamError> {
        self.send_all()?;
        self.tasks
            .checkpoint(consumer, &self.producer, &mut self.telemetry)
    }

    /// The one-second timer: gauges, idle partitions; true when the input is read to its
    /// end and the run should end.
    fn second(&mut self, consumer: &BaseConsumer<GroupContext>) -> Result<bool, StreamError> {
        let assigned = assigned(consumer);
        let watermark = self
            .tasks
            .map
            .values()
            .filter_map(|t| t.tally.watermark())
            .min();
        self.telemetry.record(RunEvent::Second {
            lag: self.shared.lag.load(Ordering::Relaxed),
            assigned: assigned.len(),
            watermark,
        });
        self.advance_idle()?;
        Ok(self.opts.exit_on_eof.load(Ordering::Relaxed) && self.tasks.read_to_end(&assigned))
    }

    /// Posts counted in the state of the partitions held now.
    fn state_posts(&self) -> u64 {
        self.tasks.map.values().map(|t| t.tally.stats().posts).sum()
    }
}

/// Runs the extract stage until `stop` is set (or, with `exit_on_eof`, the assigned
/// partitions are read to their end; then every open minute is closed and sent).
pub(super) fn extract(
    opts: &RunOptions,
    extractor: &Extractor,
    store: StateStore,
    metrics: &Metrics,
    stop: Stop<'_>,
) -> Result<RunSummary, StreamError> {
    let s = &opts.settings;
    let tasks = Tasks::new(&s.topic, store);
    let shared = Arc::new(Shared::new(tasks.checkpoints()));
    let consumer = super::group_consumer(opts, &s.group, &s.topic, shared.clone())?;
    let Some(sources) = super::wait_for_partitions(&consumer, &s.topic, stop) else {
        return Ok(RunSummary::default());
    };
    let Some(groups) = super::wait_for_partitions(&consumer, &s.repartition_topic, stop) else {
        return Ok(RunSummary::default());
    };
    let mut rc = s.client();
    // One request in flight per connection: a source's messages to a partition keep their
    // order, which the detect stage's barrier relies on.
    rc.set("max.in.flight.requests.per.connection", "1");
    let producer = kafka::producer(&rc, "repartition")?;
    let mut r = Runner {
        opts,
        shared,
        producer,
        tasks,
        sources,
        groups,
        telemetry: Telemetry::new(metrics, "extract"),
        timers: Timers::new(s.checkpoint_every),
    };
    let mut pending: Option<(Vec<Raw>, Vec<Prepared>)> = None;
    let mut at_end = false;
    loop {
        if stop.requested() {
            break;
        }
        let (batch, event) = poll_batch(&consumer, &r.shared);
        let changes = r.shared.take_changes();
        r.tasks
            .sync(changes, &opts.detector, r.timers.ticks, &mut r.telemetry)?;
        r.telemetry.record(RunEvent::Polled {
            messages: batch.len(),
        });
        // Pipelined: the new batch is parsed and analysed on the rayon pool while this
        // thread feeds the previous one to the tallies, in order.
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
        // tallies catch up with everything read so far; only then are the timers looked at
        // (checkpoint, idle partitions, exit), so those always see a consistent state.
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
                r.tasks.eof.insert(p);
                r.telemetry.record(RunEvent::Connected);
            }
            Some(e) => kafka::report_client_error(&e, "consumer"),
            None => {}
        }
        if !turn {
            continue;
        }
        r.send_all()?;
        let now = Instant::now();
        r.timers.turned(now);
        r.telemetry.record(RunEvent::Turned { fed });
        if r.timers.tick(now) && r.second(&consumer)? {
            at_end = true;
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
    r.send_all()?;
    if at_end {
        r.finish_input()?;
    }
    r.checkpoint(&consumer)?;
    kafka::flush(&r.producer)?;
    consumer.unsubscribe();
    let held = r.state_posts();
    Ok(r.telemetry.finish(held))
}
