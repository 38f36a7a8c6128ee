//! The Kafka throughput benchmark behind `benglema bench-kafka`: a bare rdkafka consumer that
//! only reads a topic, against `run` on the same topic, both timed from first to last message.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;

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

/// Reads every partition of `topic` from the beginning to its end with a plain consumer that
/// does nothing with the messages: the same client settings and group subscription as `run`
/// (so the same fetch path), in its own fresh `group`. The ceiling for any consumer of the
/// topic.
pub fn bare_read(settings: &Settings, topic: &str, group: &str) -> Result<ReadRate, StreamError> {
    let c: BaseConsumer<Quiet> = crate::kafka::consumer_config(
        settings,
        &[
            ("group.id", group),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "true"),
            ("fetch.wait.max.ms", "100"),
        ],
    )
    .create_with_context(Quiet)
    .map_err(|e| StreamError::kafka("creating the bare consumer", e))?;
    c.subscribe(&[topic])
        .map_err(|e| StreamError::kafka("subscribing", e))?;
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut first = None;
    let mut last = Instant::now();
    let mut eof = BTreeSet::new();
    let started = Instant::now();
    loop {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                last = Instant::now();
                first.get_or_insert(last);
                messages += 1;
                bytes += m.payload_len() as u64;
                eof.remove(&m.partition());
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                eof.insert(p);
                let assigned: BTreeSet<i32> = c
                    .assignment()
                    .map(|t| t.elements().iter().map(|e| e.partition()).collect())
                    .unwrap_or_default();
                if !assigned.is_empty() && assigned.is_subset(&eof) && messages > 0 {
                    break;
                }
            }
            Some(Err(e)) => crate::kafka::report_client_error(&e, "bare consumer"),
            None => {}
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(StreamError::Config(
                "bare read did not finish in 10 minutes".into(),
            ));
        }
    }
    c.unsubscribe();
    Ok(ReadRate {
        messages,
        bytes,
        seconds: first.map_or(0.0, |f| (last - f).as_secs_f64()),
    })
}
