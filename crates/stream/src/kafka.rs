//! Shared Kafka plumbing: a producer that counts failed deliveries, sending with back-pressure,
//! waiting for an unreachable cluster with backoff, and creating the topics benglema owns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::{Settings, StreamError};

/// Consumer settings for throughput: a deep prefetch queue (bounded by librdkafka's
/// `queued.max.messages.kbytes`, 64 MB by default), so fetch round trips overlap with
/// processing. The default of 100k messages drains faster than one fetch returns.
pub const CONSUMER_TUNING: [(&str, &str); 1] = [("queued.min.messages", "1000000")];

/// A consumer configuration: `base` with [`CONSUMER_TUNING`] and `extra`, then the user's
/// own properties from `settings`, which win.
pub fn consumer_config(settings: &Settings, extra: &[(&str, &str)]) -> ClientConfig {
    let mut c = settings.client();
    for (k, v) in CONSUMER_TUNING.iter().chain(extra) {
        c.set(*k, *v);
    }
    for (k, v) in &settings.properties {
        c.set(k, v);
    }
    c
}

/// Reads `topic` from `from(partition, low watermark)` to the high watermark each partition
/// has now, with an assigned (group-less) consumer, passing every message to `on`. `false`
/// when the broker does not know the topic.
pub fn read_to_end<C: rdkafka::consumer::ConsumerContext>(
    c: &BaseConsumer<C>,
    topic: &str,
    from: &dyn Fn(i32, i64) -> i64,
    on: &mut dyn FnMut(&BorrowedMessage<'_>),
) -> Result<bool, StreamError> {
    let err = |e| StreamError::kafka(format!("reading {topic}"), e);
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(15))
        .map_err(err)?;
    let mut ends = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for t in md.topics().iter().filter(|t| t.name() == topic) {
        if t.error().is_some() {
            return Ok(false);
        }
        for p in t.partitions() {
            let (lo, hi) = c
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .map_err(err)?;
            let start = from(p.id(), lo).max(lo);
            if hi > start {
                ends.insert(p.id(), hi);
                tpl.add_partition_offset(topic, p.id(), Offset::Offset(start))
                    .map_err(err)?;
            }
        }
    }
    if ends.is_empty() {
        return Ok(true);
    }
    c.assign(&tpl).map_err(err)?;
    let mut idle = Instant::now();
    while !ends.is_empty() {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                idle = Instant::now();
                if m.offset() + 1 >= ends.get(&m.partition()).copied().unwrap_or(i64::MAX) {
                    ends.remove(&m.partition());
                }
                on(&m);
            }
            Some(Err(e)) => return Err(err(e)),
            None if idle.elapsed() > Duration::from_secs(30) => {
                return Err(StreamError::Config(format!(
                    "no progress reading {topic} for 30 s; is the broker up?"
                )))
            }
            None => {}
        }
    }
    c.unassign().map_err(err)?;
    Ok(true)
}

/// Counts deliveries the broker refused or that timed out.
#[derive(Default)]
pub struct DeliveryTracker {
    /// Acknowledged messages.
    pub delivered: AtomicU64,
    failed: AtomicU64,
    last: Mutex<String>,
}

impl DeliveryTracker {
    /// Fails if any delivery failed since the last call; resets the failure count.
    pub fn check(&self) -> Result<(), StreamError> {
        let n = self.failed.swap(0, Ordering::SeqCst);
        if n == 0 {
            return Ok(());
        }
        Err(StreamError::Delivery {
            count: n,
            last: self.last.lock().map(|s| s.clone()).unwrap_or_default(),
        })
    }
}

/// Producer context that records delivery results in a [`DeliveryTracker`].
#[derive(Clone, Default)]
pub struct Tracked(pub Arc<DeliveryTracker>);

impl ClientContext for Tracked {
    fn error(&self, error: KafkaError, reason: &str) {
        report_client_error(&error, reason);
    }
}

impl ProducerContext for Tracked {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.0.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.0.failed.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut l) = self.0.last.lock() {
                    *l = e.to_string();
                }
            }
        }
    }
}

/// A producer whose failures are counted.
pub type TrackedProducer = ThreadedProducer<Tracked>;

/// Sets each of `defaults` that `config` (the user's `-X` properties among them) does not
/// set already.
pub fn set_defaults(config: &mut ClientConfig, defaults: &[(&str, &str)]) {
    for (k, v) in defaults {
        if config.get(k).is_none() {
            config.set(*k, *v);
        }
    }
}

/// Creates a producer with at-least-once settings (`acks=all` always; the other tuning
/// yields to what `base` sets).
pub fn producer(base: &ClientConfig, what: &str) -> Result<TrackedProducer, StreamError> {
    let mut c = base.clone();
    set_defaults(
        &mut c,
        &[("linger.ms", "5"), ("message.timeout.ms", "120000")],
    );
    c.set("acks", "all")
        .create_with_context(Tracked::default())
        .map_err(|e| StreamError::kafka(format!("creating the {what} producer"), e))
}

/// Sends one record, waiting while the local queue is full.
pub fn send(
    p: &TrackedProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    headers: Option<OwnedHeaders>,
) -> Result<(), StreamError> {
    send_to(p, topic, None, key, payload, headers)
}

/// Sends one record to `partition` (or where its key hashes to), waiting while the local
/// queue is full.
pub fn send_to(
    p: &TrackedProducer,
    topic: &str,
    partition: Option<i32>,
    key: Option<&[u8]>,
    payload: &[u8],
    headers: Option<OwnedHeaders>,
) -> Result<(), StreamError> {
    let mut rec = BaseRecord::to(topic).payload(payload);
    if let Some(n) = partition {
        rec = rec.partition(n);
    }
    if let Some(k) = key {
        rec = rec.key(k);
    }
    if let Some(h) = headers {
        rec = rec.headers(h);
    }
    loop {
        match p.send(rec) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                rec = r;
                std::thread::sleep(Duration::from_millis(2));
            }
            Err((e, _)) => return Err(StreamError::kafka(format!("producing to {topic}"), e)),
        }
    }
}

/// Waits for all queued messages to be acknowledged and checks none failed.
pub fn flush(p: &TrackedProducer) -> Result<(), StreamError> {
    p.flush(Duration::from_secs(120))
        .map_err(|e| StreamError::kafka("waiting for the broker to acknowledge", e))?;
    p.context().0.check()
}

static LAST_REPORT: Mutex<Option<Instant>> = Mutex::new(None);

/// Prints a client-level error (broker down, authentication) at most every 10 seconds.
pub fn report_client_error(error: &KafkaError, reason: &str) {
    if matches!(error, KafkaError::PartitionEOF(_))
        || error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF)
    {
        return;
    }
    if let Ok(mut last) = LAST_REPORT.lock() {
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
            return;
        }
        *last = Some(Instant::now());
    }
    eprintln!("benglema: kafka: {reason} ({error}); the client keeps retrying");
}

/// Client context that reports errors without flooding stderr.
#[derive(Clone, Default)]
pub struct Quiet;

impl ClientContext for Quiet {
    fn error(&self, error: KafkaError, reason: &str) {
        report_client_error(&error, reason);
    }
}

impl rdkafka::consumer::ConsumerContext for Quiet {}

/// Waits until the cluster answers a metadata request, retrying with exponential backoff
/// (1 s doubling to 30 s) and saying so on stderr. Returns `false` if `stop` was set.
pub fn wait_for_cluster(s: &Settings, stop: &AtomicBool) -> Result<bool, StreamError> {
    let probe: BaseConsumer<Quiet> = s
        .client()
        .create_with_context(Quiet)
        .map_err(|e| StreamError::kafka("creating a Kafka client (check -X properties)", e))?;
    let mut backoff = Duration::from_secs(1);
    loop {
        match probe.fetch_metadata(None, Duration::from_secs(5)) {
            Ok(_) => return Ok(true),
            Err(e) => {
                eprintln!(
                    "benglema: cannot reach Kafka at {} ({e}); retrying in {} s. Check --brokers and any -X security settings.",
                    s.brokers,
                    backoff.as_secs()
                );
            }
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// A topic `run` creates when missing.
#[derive(Debug, Clone)]
pub struct TopicSpec<'a> {
    /// Name.
    pub name: &'a str,
    /// Partitions.
    pub partitions: i32,
    /// Compacted (state) rather than deleted by age.
    pub compact: bool,
    /// `retention.ms`, when not the broker's default.
    pub retention_ms: Option<String>,
}

impl<'a> TopicSpec<'a> {
    /// A topic with the broker's retention.
    pub fn new(name: &'a str, partitions: i32) -> Self {
        TopicSpec {
            name,
            partitions,
            compact: false,
            retention_ms: None,
        }
    }
}

/// Partitions of `topic` as the cluster reports them (`None` when it does not know it).
pub fn partition_count<C: rdkafka::consumer::ConsumerContext>(
    consumer: &impl Consumer<C>,
    topic: &str,
) -> Option<i32> {
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .ok()?;
    let t = md.topics().iter().find(|t| t.name() == topic)?;
    if t.error().is_some() || t.partitions().is_empty() {
        return None;
    }
    Some(t.partitions().len() as i32)
}

/// Creates topics that do not exist yet (`(name, partitions, compacted)`); a broker that
/// refuses is reported, not fatal, since many clusters create topics on first use.
pub fn ensure_topics(base: &ClientConfig, topics: &[TopicSpec<'_>]) {
    let admin: AdminClient<DefaultClientContext> = match base.create() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("benglema: cannot create an admin client ({e}); not creating topics");
            return;
        }
    };
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|spec| {
            let mut t = NewTopic::new(spec.name, spec.partitions, TopicReplication::Fixed(1));
            if spec.compact {
                t = t.set("cleanup.policy", "compact");
            }
            if let Some(ms) = &spec.retention_ms {
                t = t.set("retention.ms", ms);
            }
            t
        })
        .collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => return,
    };
    let opts = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let call = async {
        tokio::time::timeout(
            Duration::from_secs(15),
            admin.create_topics(new.iter(), &opts),
        )
        .await
    };
    match rt.block_on(call) {
        Err(_) => eprintln!("benglema: the broker did not answer CreateTopics in 15 s; relying on existing topics or auto-creation"),
        Ok(Ok(results)) => {
            for r in results {
                if let Err((name, code)) = r {
                    if code != RDKafkaErrorCode::TopicAlreadyExists {
                        eprintln!("benglema: could not create topic {name}: {code}");
                    }
                }
            }
        }
        Ok(Err(e)) => {
            eprintln!("benglema: could not create topics ({e}); relying on auto-creation")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_yield_to_what_the_user_set() {
        let mut c = ClientConfig::new();
        c.set("linger.ms", "0");
        set_defaults(
            &mut c,
            &[("linger.ms", "20"), ("batch.num.messages", "10000")],
        );
        assert_eq!(c.get("linger.ms"), Some("0"));
        assert_eq!(c.get("batch.num.messages"), Some("10000"));
    }
}
