//! The consumer's group callbacks. librdkafka calls them from inside `poll`; they note what
//! happened (and count revokes and assignments, the group epoch) for the loop to act on
//! right after that poll, before anything polled earlier is fed to a detector. An
//! assignment also loads the assigned partitions' checkpoints and starts each partition at
//! the offset its checkpoint ends at: the checkpoint, not the committed offset or the
//! client's fetch position, decides where reading resumes.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, TopicPartitionList};

use super::tasks::Checkpoints;
use crate::kafka;

/// A change of the group, as noted by the callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupChange {
    /// Partitions given to this process, at this epoch: messages polled before it (a lower
    /// epoch) were fetched for an earlier assignment.
    Assigned { partitions: Vec<i32>, epoch: u64 },
    /// Partitions taken away, at this epoch: messages polled before it (a lower epoch) are
    /// the old owner's and must not reach the partition's next task.
    Revoked { partitions: Vec<i32>, epoch: u64 },
    /// A rebalance failed.
    Failed(String),
}

/// What the callbacks share with the loop.
pub(crate) struct Shared {
    /// Revokes and assignments seen so far.
    pub(crate) epoch: AtomicU64,
    pub(crate) changes: Mutex<Vec<GroupChange>>,
    /// Consumer lag from the last statistics.
    pub(crate) lag: AtomicI64,
    /// The stage's checkpoints, which an assignment starts its partitions from.
    checkpoints: Arc<Mutex<Checkpoints>>,
}

impl Shared {
    /// Callbacks that start assigned partitions from `checkpoints`.
    pub(crate) fn new(checkpoints: Arc<Mutex<Checkpoints>>) -> Self {
        Shared {
            epoch: AtomicU64::new(0),
            changes: Mutex::new(Vec::new()),
            lag: AtomicI64::new(0),
            checkpoints,
        }
    }

    fn next_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::SeqCst) + 1
    }

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
    /// librdkafka's rebalance, as rdkafka's default does it (assign, or unassign), with the
    /// assigned partitions' start offsets taken from their checkpoints first.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let shared = &self.0;
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Ok(mut c) = shared.checkpoints.lock() {
                    c.place(tpl);
                }
                let epoch = shared.next_epoch();
                let done = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                match done {
                    Ok(()) => shared.note(GroupChange::Assigned {
                        partitions: partitions(tpl),
                        epoch,
                    }),
                    Err(e) => shared.note(GroupChange::Failed(format!("assigning: {e}"))),
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let epoch = shared.next_epoch();
                let ps = partitions(tpl);
                if let Ok(mut c) = shared.checkpoints.lock() {
                    c.forget(&ps);
                }
                shared.note(GroupChange::Revoked {
                    partitions: ps,
                    epoch,
                });
                let done = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = done {
                    shared.note(GroupChange::Failed(format!("unassigning: {e}")));
                }
            }
            other => {
                let code: rdkafka::error::RDKafkaErrorCode = other.into();
                shared.note(GroupChange::Failed(code.to_string()));
                let _ = consumer.unassign();
            }
        }
    }
}
