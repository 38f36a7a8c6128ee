//! The repartition topic's messages: what an extract task tells each detect partition.
//!
//! When its watermark passes minutes, the extract task of input partition `src` sends every
//! partition of the repartition topic one [`Closed`] message: it has closed every minute
//! before `through`, and here are the counts of those that had posts, with the services
//! whose series live in that partition ([`benglema_detect::group_of`]) and the exposure of
//! all posts (which every series needs). The same message, replayed after a restart,
//! overwrites rather than adds ([`benglema_detect::Barrier`]). Messages of one source to one
//! partition keep their order (one producer, one in-flight request per connection).
//!
//! The value is JSON; the key is `src`, for a reader of the topic (the partition is chosen
//! explicitly).

use benglema_detect::BucketCounts;
use serde::{Deserialize, Serialize};

/// Minutes an extract task closed (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    /// The posts partition the task reads.
    pub src: i32,
    /// Partitions of the posts topic: every one of them must close a minute before it is
    /// final.
    pub sources: u32,
    /// The first minute (bucket index) not closed; `None` before the first post.
    pub through: Option<i64>,
    /// The partition has had no posts for the idleness timeout: do not wait for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idle: bool,
    /// Counts of the closed minutes with posts, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<(i64, BucketCounts)>,
}

impl Closed {
    /// The message as sent.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("counts serialise")
    }

    /// Reads a message; the error says what is wrong with it.
    pub fn decode(bytes: &[u8]) -> Result<Closed, String> {
        serde_json::from_slice(bytes).map_err(|e| {
            format!("not a repartition message ({e}); is another writer using this topic?")
        })
    }
}
