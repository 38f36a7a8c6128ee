//! The Kafka throughput benchmark behind `benglema bench-kafka`: a bare rdkafka consumer that
//! only reads a topic, against `run` on the same topic, both timed from first to last message.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::Quiet;
use crate::{Settings, StreamError};

/// What a read of a topic measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadRate {
    /// Messages read.
    pub messages: u64,
    /// Payload bytes read.
    pub bytes: u64,
    /// Seconds from the first message to the last.
    pub seconds: f64,
}

impl ReadRate {
    /// Messages per second.
    pub fn per_second(&self) -> f64 {
        self.messages as f64 / self.seconds.max(1e-9)
    }
}

/// Reads every partition of `topic` from the beginning to its current end with a plain
/// consumer (assigned, no group, no processing): the ceiling for any consumer of the topic.
pub fn bare_read(settings: &Settings, topic: &str) -> Result<ReadRate, StreamError> {
    let c: BaseConsumer<Quiet> = settings
        .client()
        .set("group.id", "benglema-bench-bare")
        .set("enable.auto.commit", "false")
        .create_with_context(Quiet)
        .map_err(|e| StreamError::kafka("creating the bare consumer", e))?;
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(15))
        .map_err(|e| StreamError::kafka("reading metadata", e))?;
    let mut ends = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for t in md.topics().iter().filter(|t| t.name() == topic) {
        for p in t.partitions() {
            let (lo, hi) = c
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .map_err(|e| StreamError::kafka("reading watermarks", e))?;
            if hi > lo {
                ends.insert(p.id(), hi);
                tpl.add_partition_offset(topic, p.id(), Offset::Offset(lo))
                    .map_err(|e| StreamError::kafka("assigning", e))?;
            }
        }
    }
    c.assign(&tpl)
        .map_err(|e| StreamError::kafka("assigning", e))?;
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut first = None;
    let mut last = Instant::now();
    while !ends.is_empty() {
        match c.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                last = Instant::now();
                first.get_or_insert(last);
                messages += 1;
                bytes += m.payload_len() as u64;
                if m.offset() + 1 >= ends.get(&m.partition()).copied().unwrap_or(i64::MAX) {
                    ends.remove(&m.partition());
                }
            }
            Some(Err(e)) => return Err(StreamError::kafka("reading", e)),
            None if first.is_some_and(|f: Instant| f.elapsed() > Duration::from_secs(600)) => {
                return Err(StreamError::Config(
                    "bare read did not finish in 10 minutes".into(),
                ))
            }
            None => {}
        }
    }
    Ok(ReadRate {
        messages,
        bytes,
        seconds: first.map_or(0.0, |f| (last - f).as_secs_f64()),
    })
}
