//! The tasks one stage holds, and what both stages do with them alike: open a partition's
//! task from its checkpoint when the group assigns it, drop it when it is revoked (and
//! discard what was polled for it before), skip messages a restored checkpoint covers, and
//! checkpoint the changed ones (flush what they caused, save their state, commit).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

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

/// A stage's checkpoints: the store, and those the group's latest assignment loaded in its
/// callback (which started each partition at its checkpoint's offset) for the tasks to
/// open from.
pub(crate) struct Checkpoints {
    /// The topic the stage reads (checkpoints are keyed by it).
    topic: String,
    store: StateStore,
    loaded: HashMap<i32, Checkpoint>,
}

impl Checkpoints {
    /// Loads the checkpoint of each partition of the stage's topic in `tpl` and sets the
    /// partition's start offset to the checkpoint's. A partition without one starts at the
    /// committed offset (or the earliest); one whose checkpoint cannot be read too, and its
    /// task's opening reports the error.
    pub(crate) fn place(&mut self, tpl: &mut TopicPartitionList) {
        let ps: Vec<i32> = tpl
            .elements_for_topic(&self.topic)
            .iter()
            .map(|e| e.partition())
            .collect();
        for p in ps {
            if let Ok(Some(cp)) = self.store.load(&self.topic, p) {
                if tpl
                    .set_partition_offset(&self.topic, p, Offset::Offset(cp.next_offset))
                    .is_ok()
                {
                    self.loaded.insert(p, cp);
                }
            }
        }
    }

    /// Drops what an assignment loaded for partitions now revoked.
    pub(crate) fn forget(&mut self, partitions: &[i32]) {
        for p in partitions {
            self.loaded.remove(p);
        }
    }

    /// The checkpoint a task of `partition` opens from: the one its assignment started
    /// the partition at, or the store's latest.
    fn take(&mut self, partition: i32) -> Result<Option<Checkpoint>, StreamError> {
        match self.loaded.remove(&partition) {
            Some(cp) => Ok(Some(cp)),
            None => self.store.load(&self.topic, partition),
        }
    }
}

/// The tasks of the partitions this member holds, with the group bookkeeping around them.
pub(crate) struct Tasks<T> {
    /// The topic the stage reads (checkpoints are keyed by it).
    topic: String,
    checkpoints: Arc<Mutex<Checkpoints>>,
    pub(crate) map: HashMap<i32, T>,
    /// The epoch of each task's assignment: a message polled at a lower epoch was fetched
    /// for an earlier one (a task a revoke dropped since, or none).
    assigned_at: HashMap<i32, u64>,
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
            checkpoints: Arc::new(Mutex::new(Checkpoints {
                topic: topic.to_owned(),
                store,
                loaded: HashMap::new(),
            })),
            map: HashMap::new(),
            assigned_at: HashMap::new(),
            eof: BTreeSet::new(),
            joined: false,
        }
    }

    /// The checkpoints, for the group callbacks to start assigned partitions from.
    pub(crate) fn checkpoints(&self) -> Arc<Mutex<Checkpoints>> {
        self.checkpoints.clone()
    }

    fn store(&self) -> Result<std::sync::MutexGuard<'_, Checkpoints>, StreamError> {
        self.checkpoints.lock().map_err(|_| StreamError::State {
            key: self.topic.clone(),
            message: "the checkpoint store's lock was poisoned by a panic".to_owned(),
        })
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
        let cp = self.store()?.take(partition)?;
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
                GroupChange::Assigned { partitions, epoch } => {
                    // Even an empty assignment (more members than partitions) is an answer.
                    self.joined = true;
                    telemetry.record(RunEvent::Assigned(&partitions));
                    for p in partitions {
                        self.open(p, config, tick, telemetry)?;
                        self.assigned_at.insert(p, epoch);
                    }
                }
                GroupChange::Failed(e) => telemetry.record(RunEvent::RebalanceFailed(&e)),
                GroupChange::Revoked { partitions, .. } => {
                    telemetry.record(RunEvent::Revoked(&partitions));
                    for p in partitions {
                        self.map.remove(&p);
                        self.eof.remove(&p);
                        self.assigned_at.remove(&p);
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes a polled message for its partition's task: false when no task holds the
    /// partition now, or when it was polled before the task's assignment (fetched for a
    /// task a revoke has dropped since: the partition's next assignment starts at the
    /// checkpoint and reads it again), or when the task's checkpoint already covers it (a
    /// commit lost in a crash).
    pub(crate) fn take(&mut self, raw: &Raw, tick: u64) -> bool {
        let p = raw.partition;
        if self.assigned_at.get(&p).is_none_or(|&e| raw.epoch < e) {
            return false;
        }
        let Some(task) = self.map.get_mut(&p) else {
            return false;
        };
        self.eof.remove(&p);
        task.position_mut().take(raw.offset, tick)
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
        self.store()?.store.save(&cps)?;
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
