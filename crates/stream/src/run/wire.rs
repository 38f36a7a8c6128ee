//! The repartition topic's messages: what an extract task tells each detect partition.
//!
//! When its watermark passes minutes, the extract task of input partition `src` sends every
//! partition of the repartition topic one [`Closed`] message: it has closed every minute
//! before `through`, and here are the counts of those that had posts, with the services
//! whose series live in that partition ([`benglema_detect::group_of`]) and the exposure of
//! all posts (which every series needs). The same message, replayed after a restart,
//! overwrites rather than adds ([`benglema_detect::Barrier`]). Messages of one source to one
//! partition keep their order within a producer session (one in-flight request per
//! connection); each says where the previous one left off (`from`), so a lost one (a
//! delivery that timed out, which also stops the extract stage at its next checkpoint) is
//! noticed and the messages after it are refused until the source replays from its
//! checkpoint.
//!
//! The value is JSON; the key is `src`, for a reader of the topic (the partition is chosen
//! explicitly).

use benglema_detect::BucketCounts;
use serde::{Deserialize, Serialize};

/// Most partitions a posts topic may have (a sanity bound on what the wire says).
pub const MAX_SOURCES: u32 = 100_000;

/// Minutes an extract task closed (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    /// The posts partition the task reads.
    pub src: i32,
    /// Partitions of the posts topic: every one of them must close a minute before it is
    /// final.
    pub sources: u32,
    /// Where this source's previous message left off (its `through` then), or its
    /// checkpoint's when it is the first since a restore; `None` for a fresh source.
    #[serde(default)]
    pub from: Option<i64>,
    /// The first minute (bucket index) not closed; `None` before the first post.
    pub through: Option<i64>,
    /// The partition has had no posts for the idleness timeout: do not wait for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idle: bool,
    /// The input has ended (`--exit-on-eof`): every minute is closed and sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
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
        let m: Closed = serde_json::from_slice(bytes).map_err(|e| {
            format!("not a repartition message ({e}); is another writer using this topic?")
        })?;
        if m.src < 0 || m.src >= MAX_SOURCES as i32 || m.sources > MAX_SOURCES {
            return Err(format!(
                "source partition {} of {} is out of range (at most {MAX_SOURCES} partitions)",
                m.src, m.sources
            ));
        }
        Ok(m)
    }

    /// The message as the barrier takes it.
    pub fn closing(self) -> benglema_detect::Closing {
        benglema_detect::Closing {
            src: self.src,
            from: self.from,
            through: self.through,
            idle: self.idle,
            done: self.done,
            buckets: self.buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_bad_ones_are_explained() {
        let m = Closed {
            src: 3,
            sources: 4,
            from: Some(10),
            through: Some(12),
            idle: false,
            done: true,
            buckets: vec![(11, BucketCounts::default())],
        };
        assert_eq!(Closed::decode(&m.encode()).unwrap(), m);
        assert!(Closed::decode(b"{}")
            .unwrap_err()
            .contains("not a repartition message"));
        let far = Closed { src: -1, ..m };
        assert!(Closed::decode(&far.encode())
            .unwrap_err()
            .contains("out of range"));
    }
}
