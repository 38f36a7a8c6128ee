//! The consumer's group callbacks. librdkafka calls them from inside `poll`; they only note
//! what happened (and count revokes, the group epoch) for the loop to act on right after
//! that poll, before anything polled earlier is fed to a detector.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use crate::kafka;

/// A change of the group, as noted by the callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupChange {
    /// Partitions given to this process.
    Assigned(Vec<i32>),
    /// Partitions taken away, at this epoch: messages polled before it (a lower epoch) are
    /// the old owner's and must not reach the partition's next task.
    Revoked { partitions: Vec<i32>, epoch: u64 },
    /// A rebalance failed.
    Failed(String),
}

/// What the callbacks share with the loop.
#[derive(Default)]
pub(crate) struct Shared {
    /// Revokes seen so far.
    pub(crate) epoch: AtomicU64,
    pub(crate) changes: Mutex<Vec<GroupChange>>,
    /// Consumer lag from the last statistics.
    pub(crate) lag: AtomicI64,
}

impl Shared {
    fn note(&self, c: GroupChange) {
        if let Ok(mut v) = self.changes.lock() {
            v.push(c);
        }
    }

    /// The changes noted since the last call.
    pub(crate) fn take_changes(&self) -> Vec<GroupChange> {
        self.changes
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// The consumer's context.
pub(crate) struct GroupContext(pub(crate) Arc<Shared>);

/// The partitions of a list.
pub(crate) fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    tpl.elements().iter().map(|e| e.partition()).collect()
}

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

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, r: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = r {
            let epoch = self.0.epoch.fetch_add(1, Ordering::SeqCst) + 1;
            self.0.note(GroupChange::Revoked {
                partitions: partitions(tpl),
                epoch,
            });
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, r: &Rebalance<'_>) {
        match r {
            Rebalance::Assign(tpl) => self.0.note(GroupChange::Assigned(partitions(tpl))),
            Rebalance::Error(e) => self.0.note(GroupChange::Failed(e.to_string())),
            Rebalance::Revoke(_) => {}
        }
    }
}
