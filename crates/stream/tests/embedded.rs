//! The streaming detector against librdkafka's in-process cluster (real Kafka protocol over
//! loopback TCP): checkpoints in a state topic, resume after a restart, idle partitions.
//! Runs with plain `cargo test`, no broker installed.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use benglema_detect::DetectorConfig;
use benglema_model::{EventStatus, Incident, OutageEvent};
use benglema_stream::embedded::EmbeddedCluster;
use benglema_stream::metrics::Metrics;
use benglema_stream::produce::{produce_posts, KeyBy, Pace, Sender};
use benglema_stream::state::TaskState;
use benglema_stream::state::{StateStore, TopicStore};
use benglema_stream::{Role, RunOptions, Settings, StreamError};
use benglema_synth::SimSpec;
use benglema_text::Extractor;
use chrono::DateTime;

fn history() -> SimSpec {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
    let mut spec = SimSpec::new(
        7,
        t("2022-07-22T12:00:00+08:00"),
        t("2022-07-23T00:00:00+08:00"),
    );
    spec.peak_posts_per_minute = 10.0;
    spec.incidents = vec![Incident {
        incident_id: "2022-07-22-wechat".into(),
        service: "微信".into(),
        start: Some(t("2022-07-22T22:00:00+08:00")),
        end: None,
        acknowledged_at: None,
        symptoms: vec![],
        source: String::new(),
        notes: String::new(),
    }];
    spec
}

/// A cluster with the default topics; the posts topic has two partitions.
fn cluster() -> EmbeddedCluster {
    EmbeddedCluster::start(&[
        ("posts", 2),
        ("posts.dlq", 1),
        ("outage-events", 1),
        ("benglema.repartition", 2),
        ("benglema.state", 1),
    ])
    .unwrap()
}

fn run_once(s: &Settings, ex: &Extractor) -> (benglema_stream::RunSummary, Vec<OutageEvent>) {
    let opts = RunOptions {
        settings: s.clone(),
        detector: DetectorConfig::default(),
        exit_on_eof: Arc::new(AtomicBool::new(true)),
        idle_after: Duration::from_secs(1),
        create_topics: false,
        stats_every: Duration::from_millis(500),
        role: Role::Both,
        repartition_partitions: None,
        repartition_retention: Duration::from_secs(3600),
        board: None,
    };
    let mut events = Vec::new();
    let mut sink = |e: &OutageEvent| -> Result<(), StreamError> {
        events.push(e.clone());
        Ok(())
    };
    let stop = AtomicBool::new(false);
    let summary = benglema_stream::run(&opts, ex, &mut sink, &Metrics::new(), &stop).unwrap();
    (summary, events)
}

#[test]
fn checkpoints_in_a_state_topic_carry_a_restart() {
    let cluster = cluster();
    let mut s = Settings::new(cluster.bootstrap_servers());
    s.checkpoint_every = Duration::from_millis(200);
    // The in-process cluster waits for the first member's session to end before the
    // restarted one joins; keep that short.
    s.properties
        .insert("session.timeout.ms".into(), "6000".into());
    let ex = Extractor::embedded();
    let stop = AtomicBool::new(false);
    let mut sender = Sender::new(&s, Pace::Max, KeyBy::Service, Some(&ex), &stop).unwrap();
    let posts: Vec<_> = benglema_synth::simulate(&history())
        .map(|p| p.post)
        .collect();
    let n = posts.len() as u64;
    produce_posts(&mut sender, posts.into_iter(), &mut |_| {}).unwrap();
    assert_eq!(sender.finish().unwrap().sent, n);

    let (summary, events) = run_once(&s, &ex);
    assert_eq!(summary.posts, n);
    assert_eq!(summary.partitions.len(), 2);
    let opened: Vec<_> = events
        .iter()
        .filter(|e| e.status == EventStatus::Open)
        .collect();
    assert!(
        opened.iter().any(|e| e.service == "微信"),
        "the outage was not raised: {opened:?}"
    );

    // Both partitions' detectors are in the state topic, at the end of their partitions.
    let mut store = StateStore::Topic(Box::new(
        TopicStore::open(&s.client(), "benglema.state").unwrap(),
    ));
    let mut covered = 0;
    for p in 0..2 {
        let cp = store
            .load("posts", p)
            .unwrap()
            .expect("a checkpoint per partition");
        covered += cp.next_offset;
    }
    assert_eq!(covered as u64, n);

    // A restart resumes from the commits and checkpoints: nothing is read or raised twice.
    let (again, events) = run_once(&s, &ex);
    assert_eq!(again.posts, 0, "{again:?}");
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn an_idle_partition_is_advanced_to_the_others_watermark() {
    use benglema_detect::Tally;
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let cluster = cluster();
    let s = Settings::new(cluster.bootstrap_servers());
    let posts: Vec<_> = benglema_synth::simulate(&history())
        .map(|p| p.post)
        .collect();
    // Partition 1 gets the first 50 posts and then nothing; partition 0 gets the rest.
    let p: ThreadedProducer<DefaultProducerContext> = s.client().create().unwrap();
    for (i, post) in posts.iter().enumerate() {
        let json = post.to_json();
        let part = if i < 50 { 1 } else { 0 };
        let mut rec = BaseRecord::to("posts")
            .partition(part)
            .key(&post.id)
            .payload(&json);
        while let Err((_, r)) = p.send(rec) {
            rec = r;
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    p.flush(Duration::from_secs(30)).unwrap();

    let ex = Extractor::embedded();
    let opts = RunOptions {
        settings: s.clone(),
        detector: DetectorConfig::default(),
        exit_on_eof: Arc::new(AtomicBool::new(true)),
        idle_after: Duration::ZERO,
        create_topics: false,
        stats_every: Duration::ZERO,
        role: Role::Both,
        repartition_partitions: None,
        repartition_retention: Duration::from_secs(3600),
        board: None,
    };
    let stop = AtomicBool::new(false);
    let mut sink = |_: &OutageEvent| -> Result<(), StreamError> { Ok(()) };
    let summary = benglema_stream::run(&opts, &ex, &mut sink, &Metrics::new(), &stop).unwrap();
    assert_eq!(summary.posts, posts.len() as u64);

    let mut store = StateStore::Topic(Box::new(
        TopicStore::open(&s.client(), "benglema.state").unwrap(),
    ));
    let watermark = |p: i32, store: &mut StateStore| {
        let cp = store.load("posts", p).unwrap().unwrap();
        let TaskState::Extract { tally } = cp.state else {
            panic!("not an extract task's checkpoint")
        };
        Tally::restore(&DetectorConfig::default(), tally)
            .unwrap()
            .watermark()
            .unwrap()
    };
    let (busy, idle) = (watermark(0, &mut store), watermark(1, &mut store));
    let fiftieth = posts[49].created_at.timestamp();
    assert!(busy > fiftieth + 3600, "partition 0 should be hours ahead");
    // Advanced to the busy partition's watermark of the moment (the busy one then closed
    // its last minutes at the end of input).
    assert!(
        idle > fiftieth + 3600 && idle <= busy,
        "the idle partition was left behind at {fiftieth}: {idle} vs {busy}"
    );
}
