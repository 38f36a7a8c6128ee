//! The tasks of the two stages. Like Kafka Streams tasks, each belongs to one partition of
//! the topic its stage reads, is created when that partition is assigned (from the
//! partition's checkpoint when there is one) and dropped when it is revoked.
//!
//! - [`ExtractTask`]: one posts partition's [`Tally`] (dedup, watermark, open minutes);
//! - [`DetectTask`]: one repartition partition's [`Barrier`] (what every source closed)
//!   and [`Stepper`] (the series of the services routed to it).
//!
//! Both know the offset of the first message they have not taken and whether they changed
//! since their last checkpoint.

use benglema_detect::{
    Barrier, BucketCounts, DetectorConfig, EngineOptions, Output, Received, Stepper, StepperState,
    Tally, TallyState,
};

use crate::run::tasks::StageTask;
use crate::run::wire::Closed;
use crate::state::{Checkpoint, TaskState};
use crate::StreamError;

/// Offsets and dirtiness, common to both kinds of task.
pub(crate) struct Position {
    /// First offset not yet taken.
    pub(crate) next_offset: i64,
    /// Changed since the last checkpoint.
    pub(crate) dirty: bool,
    /// The loop tick (seconds) of the partition's last message.
    pub(crate) last_tick: u64,
}

impl Position {
    fn new(next_offset: i64, tick: u64) -> Self {
        Position {
            next_offset,
            dirty: false,
            last_tick: tick,
        }
    }

    /// Takes the message at `offset`: false when the task's state already covers it (a
    /// checkpoint whose commit was lost), true when it is to be fed now.
    pub(crate) fn take(&mut self, offset: i64, tick: u64) -> bool {
        if offset < self.next_offset {
            return false;
        }
        self.next_offset = offset + 1;
        self.dirty = true;
        self.last_tick = tick;
        true
    }
}

fn wrong_stage(topic: &str, partition: i32, want: &str) -> StreamError {
    StreamError::State {
        key: Checkpoint::key(topic, partition),
        message: format!(
            "this checkpoint is not {want} task's (a state store shared by another \
             deployment?); use another --state or delete it"
        ),
    }
}

/// The extract task of one posts partition.
pub(crate) struct ExtractTask {
    pub(crate) tally: Tally,
    pub(crate) pos: Position,
    /// The closed point last sent downstream.
    sent_through: Option<i64>,
    /// Downstream was told this partition is idle.
    pub(crate) idle_sent: bool,
    /// Closed minutes not sent yet (sent together, once per loop turn).
    pub(crate) unsent: Vec<(i64, BucketCounts)>,
    /// A post came since the last message sent.
    pub(crate) fed: bool,
}

impl StageTask for ExtractTask {
    /// A task from the partition's checkpoint, or a fresh one at offset 0.
    fn open(
        config: &DetectorConfig,
        checkpoint: Option<Checkpoint>,
        tick: u64,
    ) -> Result<Self, StreamError> {
        let (state, next_offset) = match checkpoint {
            Some(Checkpoint {
                state: TaskState::Extract { tally },
                next_offset,
                ..
            }) => (tally, next_offset),
            Some(cp) => return Err(wrong_stage(&cp.topic, cp.partition, "an extract")),
            None => (TallyState::default(), 0),
        };
        let tally = Tally::restore(config, state)?;
        Ok(ExtractTask {
            // What the checkpoint covers was sent and acknowledged before it was saved.
            sent_through: tally.through(),
            tally,
            pos: Position::new(next_offset, tick),
            idle_sent: false,
            unsent: Vec::new(),
            fed: false,
        })
    }

    fn position(&self) -> &Position {
        &self.pos
    }

    fn position_mut(&mut self) -> &mut Position {
        &mut self.pos
    }

    /// The task's checkpoint.
    fn checkpoint(&self, topic: &str, partition: i32) -> Checkpoint {
        Checkpoint {
            topic: topic.to_owned(),
            partition,
            next_offset: self.pos.next_offset,
            state: TaskState::Extract {
                tally: self.tally.snapshot(),
            },
        }
    }
}

impl StageTask for DetectTask {
    /// A task from the partition's checkpoint, or a fresh one at offset 0.
    fn open(
        config: &DetectorConfig,
        checkpoint: Option<Checkpoint>,
        tick: u64,
    ) -> Result<Self, StreamError> {
        let (barrier, stepper, next_offset) = match checkpoint {
            Some(Checkpoint {
                state: TaskState::Detect { barrier, stepper },
                next_offset,
                ..
            }) => (barrier, stepper, next_offset),
            Some(cp) => return Err(wrong_stage(&cp.topic, cp.partition, "a detect")),
            None => (Barrier::new(0), StepperState::default(), 0),
        };
        // Series points are turned on per message, when a status page wants them.
        let stepper = Stepper::restore(config.clone(), EngineOptions::default(), stepper)?;
        Ok(DetectTask {
            barrier,
            stepper,
            pos: Position::new(next_offset, tick),
            keep: config.lifecycle.sample_posts,
        })
    }

    fn position(&self) -> &Position {
        &self.pos
    }

    fn position_mut(&mut self) -> &mut Position {
        &mut self.pos
    }

    /// The task's checkpoint.
    fn checkpoint(&self, topic: &str, partition: i32) -> Checkpoint {
        Checkpoint {
            topic: topic.to_owned(),
            partition,
            next_offset: self.pos.next_offset,
            state: TaskState::Detect {
                barrier: self.barrier.clone(),
                stepper: self.stepper.snapshot(),
            },
        }
    }
}

impl ExtractTask {
    /// What to send downstream: the unsent closed minutes (nothing when neither the closed
    /// point moved nor a bucket closed, unless the idle or done flag changes).
    pub(crate) fn closed(
        &mut self,
        src: i32,
        sources: u32,
        idle: bool,
        done: bool,
    ) -> Option<Closed> {
        let closed = std::mem::take(&mut self.unsent);
        self.fed = false;
        let through = self.tally.through();
        if closed.is_empty() && through == self.sent_through && idle == self.idle_sent && !done {
            return None;
        }
        let from = self.sent_through;
        self.sent_through = through;
        self.idle_sent = idle;
        Some(Closed {
            src,
            sources,
            from,
            through,
            idle,
            done,
            buckets: closed,
        })
    }
}

/// The detect task of one repartition partition.
pub(crate) struct DetectTask {
    pub(crate) barrier: Barrier,
    pub(crate) stepper: Stepper,
    pub(crate) pos: Position,
    keep: usize,
}

impl DetectTask {
    /// Takes one message: the barrier keeps it, and the series step through whatever every
    /// source has now closed, one minute at a time, so that each output is stamped with the
    /// minute (bucket index) that produced it. With `counts` (a status page), the series
    /// points are output too, and the counts of each minute stepped are copied there (its
    /// symptoms, terms and posts).
    pub(crate) fn receive(
        &mut self,
        m: Closed,
        out: &mut Vec<(i64, Output)>,
        mut counts: Option<&mut Vec<(i64, BucketCounts)>>,
    ) -> Received {
        self.stepper.set_series(counts.is_some());
        self.barrier.grow(m.sources);
        let mut r = self.barrier.receive(m.closing());
        let Some((through, ready)) = self.barrier.release(self.keep) else {
            return r;
        };
        let mut ready = ready.into_iter().peekable();
        let mut step = Vec::new();
        loop {
            let next = self
                .stepper
                .next_bucket()
                .or_else(|| ready.peek().map(|(b, _)| *b));
            let Some(b) = next.filter(|b| *b < through) else {
                break;
            };
            let content = ready.next_if(|(c, _)| *c <= b);
            // Not what the stepper refuses as stale (a bucket before its next one).
            let fresh =
                |c: &(i64, BucketCounts)| self.stepper.next_bucket().is_none_or(|n| c.0 >= n);
            if let (Some(into), Some(c)) = (counts.as_deref_mut(), content.as_ref()) {
                if fresh(c) {
                    into.push(c.clone());
                }
            }
            r.stale += self.stepper.advance(b + 1, content, &mut step);
            out.extend(step.drain(..).map(|o| (b, o)));
            if self.stepper.next_bucket().is_none_or(|n| n <= b) {
                // Nothing to step (no bucket with posts yet).
                break;
            }
        }
        r
    }

    /// Series held (services with activity).
    pub(crate) fn series(&self) -> usize {
        self.stepper.series_count()
    }

    /// Every source has said its input ended and nothing waits.
    pub(crate) fn drained(&self) -> bool {
        self.barrier.drained()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_of_the_other_stage_is_refused_with_the_way_out() {
        let config = DetectorConfig::default();
        let detect = Checkpoint {
            topic: "posts".into(),
            partition: 0,
            next_offset: 7,
            state: TaskState::Detect {
                barrier: Barrier::new(1),
                stepper: StepperState::default(),
            },
        };
        let e = ExtractTask::open(&config, Some(detect), 0).err().unwrap();
        assert!(e.to_string().contains("not an extract task's"), "{e}");
        let extract = Checkpoint {
            topic: "posts".into(),
            partition: 0,
            next_offset: 7,
            state: TaskState::Extract {
                tally: TallyState::default(),
            },
        };
        let e = DetectTask::open(&config, Some(extract.clone()), 0)
            .err()
            .unwrap();
        assert!(e.to_string().contains("use another --state"), "{e}");
        let t = ExtractTask::open(&config, Some(extract), 0).unwrap();
        assert_eq!(t.pos.next_offset, 7);
    }
}
