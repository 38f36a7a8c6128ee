//! Task checkpoints: one per partition a task reads (an extract task per posts partition, a
//! detect task per repartition partition), holding the task's state and the offset of the
//! first message it does not cover. Kept in a compacted topic (key `topic/partition`) or
//! as files in a directory; the value is zstd-compressed JSON either way.
//!
//! The checkpoint, not the committed offset, is the source of truth: a restored partition
//! skips posts below the checkpoint's offset, so a commit lost in a crash costs nothing.

use std::collections::HashMap;
use std::path::PathBuf;

use benglema_detect::{Barrier, StepperState, TallyState};
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

use crate::kafka::{self, TrackedProducer};
use crate::StreamError;

/// What a task holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged: an internally tagged enum buffers its content, and integer map keys
// (sources, buckets) do not survive that buffering in JSON.
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// An extract task: the open minutes of its posts partition.
    Extract {
        /// Dedup, watermark, open buckets.
        tally: TallyState,
    },
    /// A detect task: what its sources sent and its services' series.
    Detect {
        /// Buckets waiting for every source.
        barrier: Barrier,
        /// The series.
        stepper: StepperState,
    },
}

/// The state of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The topic the task reads.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// First offset not covered by `state`.
    pub next_offset: i64,
    /// The task's state.
    pub state: TaskState,
}

impl Checkpoint {
    /// The key: `topic/partition`.
    pub fn key(topic: &str, partition: i32) -> String {
        format!("{topic}/{partition}")
    }

    /// zstd-compressed JSON.
    pub fn encode(&self) -> Result<Vec<u8>, StreamError> {
        let key = Checkpoint::key(&self.topic, self.partition);
        let json = serde_json::to_vec(self).map_err(|e| StreamError::State {
            key: key.clone(),
            message: e.to_string(),
        })?;
        zstd::encode_all(&json[..], 3).map_err(|e| StreamError::State {
            key,
            message: e.to_string(),
        })
    }

    /// Inverse of [`Checkpoint::encode`].
    pub fn decode(key: &str, bytes: &[u8]) -> Result<Checkpoint, StreamError> {
        let err = |m: String| StreamError::State {
            key: key.to_owned(),
            message: format!("{m} (delete it to start this partition afresh)"),
        };
        let json = zstd::decode_all(bytes).map_err(|e| err(e.to_string()))?;
        serde_json::from_slice(&json).map_err(|e| err(e.to_string()))
    }
}

/// Where checkpoints are kept.
pub enum StateStore {
    /// Files `<dir>/<topic>-<partition>.state.zst`, replaced atomically.
    Dir(PathBuf),
    /// A compacted topic.
    Topic(Box<TopicStore>),
}

impl StateStore {
    /// The latest checkpoint of a partition, if any.
    pub fn load(&mut self, topic: &str, partition: i32) -> Result<Option<Checkpoint>, StreamError> {
        let key = Checkpoint::key(topic, partition);
        match self {
            StateStore::Dir(dir) => {
                let path = dir.join(format!("{topic}-{partition}.state.zst"));
                match std::fs::read(&path) {
                    Ok(b) => Checkpoint::decode(&key, &b).map(Some),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(StreamError::io(path, e)),
                }
            }
            StateStore::Topic(t) => {
                t.catch_up()?;
                match t.latest.get(&key) {
                    Some(b) => Checkpoint::decode(&key, b).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Saves checkpoints; returns once they are durable (fsynced, or acknowledged by the broker).
    pub fn save(&mut self, cps: &[Checkpoint]) -> Result<u64, StreamError> {
        let mut bytes = 0u64;
        match self {
            StateStore::Dir(dir) => {
                std::fs::create_dir_all(&*dir).map_err(|e| StreamError::io(&*dir, e))?;
                for cp in cps {
                    let data = cp.encode()?;
                    bytes += data.len() as u64;
                    let path = dir.join(format!("{}-{}.state.zst", cp.topic, cp.partition));
                    let tmp = path.with_extension("tmp");
                    let write = || -> std::io::Result<()> {
                        use std::io::Write;
                        let mut f = std::fs::File::create(&tmp)?;
                        f.write_all(&data)?;
                        f.sync_all()?;
                        std::fs::rename(&tmp, &path)
                    };
                    write().map_err(|e| StreamError::io(&path, e))?;
                }
            }
            StateStore::Topic(t) => {
                for cp in cps {
                    let data = cp.encode()?;
                    bytes += data.len() as u64;
                    let key = Checkpoint::key(&cp.topic, cp.partition);
                    t.put(&key, data)?;
                }
                kafka::flush(&t.producer)?;
            }
        }
        Ok(bytes)
    }
}

/// Checkpoints in a compacted topic: written by a producer, read back by an unassigned
/// consumer that follows the topic from the beginning.
pub struct TopicStore {
    topic: String,
    producer: TrackedProducer,
    reader: BaseConsumer,
    positions: HashMap<i32, i64>,
    latest: HashMap<String, Vec<u8>>,
}

/// Largest checkpoint message the state producer will send.
const MAX_STATE_BYTES: &str = "16777216";

impl TopicStore {
    /// Opens (and reads) the state topic.
    pub fn open(base: &ClientConfig, topic: &str) -> Result<Self, StreamError> {
        let mut pc = base.clone();
        pc.set("message.max.bytes", MAX_STATE_BYTES);
        let reader: BaseConsumer = base
            .clone()
            .set("group.id", format!("{topic}.reader"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.max.bytes", "67108864")
            .set("receive.message.max.bytes", "100000000")
            .create()
            .map_err(|e| StreamError::kafka("creating the state reader", e))?;
        let mut s = TopicStore {
            topic: topic.to_owned(),
            producer: kafka::producer(&pc, "state")?,
            reader,
            positions: HashMap::new(),
            latest: HashMap::new(),
        };
        s.catch_up()?;
        Ok(s)
    }

    fn put(&mut self, key: &str, data: Vec<u8>) -> Result<(), StreamError> {
        kafka::send(
            &self.producer,
            &self.topic,
            Some(key.as_bytes()),
            &data,
            None,
        )?;
        self.latest.insert(key.to_owned(), data);
        Ok(())
    }

    /// Reads the state topic from where it was left to its current end.
    fn catch_up(&mut self) -> Result<(), StreamError> {
        let (positions, latest) = (&mut self.positions, &mut self.latest);
        let start = positions.clone();
        kafka::read_to_end(
            &self.reader,
            &self.topic,
            &|p, lo| start.get(&p).copied().unwrap_or(lo),
            &mut |m| {
                positions.insert(m.partition(), m.offset() + 1);
                if let Some(k) = m.key() {
                    let k = String::from_utf8_lossy(k).into_owned();
                    match m.payload() {
                        Some(v) => latest.insert(k, v.to_vec()),
                        None => latest.remove(&k),
                    };
                }
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_through_a_directory() {
        let dir = std::env::temp_dir().join(format!("benglema-state-{}", std::process::id()));
        let mut s = StateStore::Dir(dir.clone());
        assert_eq!(s.load("posts", 0).unwrap(), None);
        let cp = Checkpoint {
            topic: "posts".into(),
            partition: 0,
            next_offset: 42,
            state: TaskState::Extract {
                tally: TallyState::default(),
            },
        };
        s.save(std::slice::from_ref(&cp)).unwrap();
        assert_eq!(s.load("posts", 0).unwrap(), Some(cp));
        std::fs::write(dir.join("posts-1.state.zst"), b"garbage").unwrap();
        let e = s.load("posts", 1).unwrap_err().to_string();
        assert!(e.contains("posts/1") && e.contains("delete it"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
