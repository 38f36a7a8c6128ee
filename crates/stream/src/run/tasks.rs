//! The tasks one stage holds, and what both stages do with them alike: open a partition's
//! task from its checkpoint when the group assigns it, drop it when it is revoked (and
//! discard what was polled for it before), skip messages a restored checkpoint covers, and
//! checkpoint the changed ones (flush what they caused, save their state, commit).

use std::collections::{BTreeSet, HashMap};

use benglema_detect::DetectorConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::group::{GroupChange, GroupContext};
use super::task::Position;
use super::telemetry::{RunEvent, Telemetry};
use super::Raw;
use crate::kafka::{self, TrackedProducer};
use crate::state::{Checkpoint, StateStore};
use crate::StreamError;

/// A stage's task: one per partition of the topic the stage reads.
pub(crate) trait StageTask: Sized {
    /// The task from the partition's checkpoint, or a fresh one.
    fn open(
        config: &DetectorConfig,
        checkpoint: Option<Checkpoint>,
        tick: u64,
    ) -> Result<Self, StreamError>;
    /// Its offsets and dirtiness.
    fn position(&self) -> &Position;
    /// The same, to change.
    fn position_mut(&mut self) -> &mut Position;
    /// Its checkpoint.
    fn checkpoint(&self, topic: &str, partition: i32) -> Checkpoint;
}

/// The tasks of the partitions this member holds, with the group bookkeeping around them.
pub(crate) struct Tasks<T> {
    /// The topic the stage reads (checkpoints are keyed by it).
    topic: String,
    store: StateStore,
    pub(crate) map: HashMap<i32, T>,
    /// The epoch of each partition's latest revoke: a message polled at a lower epoch was
    /// read for the task that revoke dropped.
    revoked_at: HashMap<i32, u64>,
    /// Partitions read to their end (until their next message).
    pub(crate) eof: BTreeSet<i32>,
    /// The group has given this member its partitions (possibly none).
    joined: bool,
}

impl<T: StageTask> Tasks<T> {
    /// No tasks yet, for the stage reading `topic`, with checkpoints in `store`.
    pub(crate) fn new(topic: &str, store: StateStore) -> Self {
        Tasks {
            topic: topic.to_owned(),
            store,
            map: HashMap::new(),
            revoked_at: HashMap::new(),
            eof: BTreeSet::new(),
            joined: false,
        }
    }

    fn open(
        &mut self,
        partition: i32,
        config: &DetectorConfig,
        tick: u64,
        telemetry: &mut Telemetry<'_>,
    ) -> Result<(), StreamError> {
        if self.map.contains_key(&partition) {
            return Ok(());
        }
        let cp = self.store.load(&self.topic, partition)?;
        let resumed_at = cp.as_ref().map(|c| c.next_offset);
        let task = T::open(config, cp, tick)?;
        telemetry.record(RunEvent::Started {
            topic: &self.topic,
            partition,
            resumed_at,
        });
        self.map.insert(partition, task);
        Ok(())
    }

    /// Acts on what the group callbacks noted during the last poll: revoked partitions lose
    /// their task before anything polled earlier is fed (work since the last checkpoint is
    /// replayed by the next owner, this process or another); assigned ones get theirs at
    /// once, from their checkpoint, so a partition's state is held (and its idleness timed)
    /// from the moment it is owned, messages or not.
    pub(crate) fn sync(
        &mut self,
        changes: Vec<GroupChange>,
        config: &DetectorConfig,
        tick: u64,
        telemetry: &mut Telemetry<'_>,
    ) -> Result<(), StreamError> {
        for change in changes {
            match change {
                GroupChange::Assigned(ps) => {
                    // Even an empty assignment (more members than partitions) is an answer.
                    self.joined = true;
                    telemetry.record(RunEvent::Assigned(&ps));
                    for p in ps {
                        self.open(p, config, tick, telemetry)?;
                    }
                }
                GroupChange::Failed(e) => telemetry.record(RunEvent::RebalanceFailed(&e)),
                GroupChange::Revoked { partitions, epoch } => {
                    telemetry.record(RunEvent::Revoked(&partitions));
                    for p in partitions {
                        self.map.remove(&p);
                        self.eof.remove(&p);
                        self.revoked_at.insert(p, epoch);
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes a polled message for its partition's task: false when it was polled for a task
    /// a revoke has dropped since (its next owner reads it again) or when the task's
    /// checkpoint already covers it (a commit lost in a crash).
    pub(crate) fn take(
        &mut self,
        raw: &Raw,
        config: &DetectorConfig,
        tick: u64,
        telemetry: &mut Telemetry<'_>,
    ) -> Result<bool, StreamError> {
        let p = raw.partition;
        if self.revoked_at.get(&p).is_some_and(|&e| raw.epoch < e) {
            return Ok(false);
        }
        self.eof.remove(&p);
        self.open(p, config, tick, telemetry)?;
        let task = self.map.get_mut(&p).expect("opened above");
        Ok(task.position_mut().take(raw.offset, tick))
    }

    /// Whether this member has its assignment and has read every partition in it to the end.
    pub(crate) fn read_to_end(&self, assigned: &BTreeSet<i32>) -> bool {
        self.joined && assigned.is_subset(&self.eof)
    }

    /// Flushes `producer` (everything the messages read so far caused), saves the state of
    /// every task that changed, then commits their offsets.
    pub(crate) fn checkpoint(
        &mut self,
        consumer: &BaseConsumer<GroupContext>,
        producer: &TrackedProducer,
        telemetry: &mut Telemetry<'_>,
    ) -> Result<(), StreamError> {
        let dirty: Vec<i32> = self
            .map
            .iter()
            .filter(|(_, t)| t.position().dirty)
            .map(|(p, _)| *p)
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        kafka::flush(producer)?;
        let cps: Vec<Checkpoint> = dirty
            .iter()
            .map(|p| self.map[p].checkpoint(&self.topic, *p))
            .collect();
        self.store.save(&cps)?;
        commit(consumer, &self.topic, &cps, telemetry)?;
        for p in dirty {
            if let Some(t) = self.map.get_mut(&p) {
                t.position_mut().dirty = false;
            }
        }
        telemetry.record(RunEvent::Checkpointed);
        Ok(())
    }
}

/// Commits the checkpoints' offsets (a failure is only reported: the checkpoint is what a
/// restart resumes from, and the next owner skips the covered messages itself).
fn commit(
    consumer: &BaseConsumer<GroupContext>,
    topic: &str,
    cps: &[Checkpoint],
    telemetry: &mut Telemetry<'_>,
) -> Result<(), StreamError> {
    let mut tpl = TopicPartitionList::new();
    for cp in cps {
        tpl.add_partition_offset(topic, cp.partition, Offset::Offset(cp.next_offset))
            .map_err(|e| StreamError::kafka("building the commit", e))?;
    }
    if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
        telemetry.record(RunEvent::CommitFailed(&e));
    }
    Ok(())
}
