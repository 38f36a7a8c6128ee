//! `benglema bench-kafka`: preload a topic with simulated posts, then measure a bare rdkafka
//! consumer, `run` with both stages, and the extract stage alone in one and two processes on
//! it, each from its first message to its last; and what the repartition topic and a detect
//! task's state cost.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use benglema_detect::DetectorConfig;
use benglema_model::OutageEvent;
use benglema_stream::bench::bare_read;
use benglema_stream::metrics::Metrics;
use benglema_stream::produce::{produce_posts, KeyBy, Pace, Sender};
use benglema_stream::{Role, RunOptions, StateTarget, StreamError};
use benglema_synth::SimSpec;
use chrono::DateTime;

use super::kafka_args::KafkaArgs;

/// Flags of `benglema bench-kafka`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Posts to preload.
    #[arg(long, default_value_t = 1_000_000)]
    posts: u64,
    /// Partitions of the benchmark topic.
    #[arg(long, default_value_t = 1)]
    partitions: i32,
}

/// Runs `benglema bench-kafka`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut settings = args.kafka.settings(None, None)?.context(
        "bench-kafka needs a broker: --brokers HOST:PORT (the embedded cluster keeps too little)",
    )?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let topic = format!("bench-posts-{stamp}");
    settings.topic = topic.clone();
    settings.group = format!("bench-{stamp}");
    settings.events_topic = format!("bench-events-{stamp}");
    settings.dlq_topic = format!("{topic}.dlq");
    settings.repartition_topic = format!("bench-repartition-{stamp}");
    let state_dir = std::env::temp_dir().join(format!("benglema-bench-{stamp}"));
    settings.state = StateTarget::Dir(state_dir.clone());
    let stop = AtomicBool::new(false);
    if !benglema_stream::kafka::wait_for_cluster(&settings, &stop)? {
        return Ok(());
    }
    benglema_stream::kafka::ensure_topics(
        &settings.client(),
        &[benglema_stream::kafka::TopicSpec::new(
            &topic,
            args.partitions,
        )],
    );

    // Preload: the simulator's stream from 2021-09-28 (the 2021-10-18 incident falls inside).
    let labels = super::bundled_labels()?;
    let from = DateTime::parse_from_rfc3339("2021-09-28T00:00:00+08:00").expect("valid time");
    let mut spec = SimSpec::new(
        benglema_io::BUNDLED_SEED,
        from,
        from + chrono::Duration::days(400),
    );
    spec.incidents = labels;
    let started = std::time::Instant::now();
    let mut sender = Sender::new(&settings, Pace::Max, KeyBy::Id, None, &stop)?;
    let posts = benglema_synth::simulate(&spec)
        .map(|s| s.post)
        .take(args.posts as usize);
    produce_posts(&mut sender, posts, &mut |_| {})?;
    let sent = sender.finish()?.sent;
    eprintln!(
        "preloaded {sent} posts into {topic} ({} partition(s)) in {:.1} s",
        args.partitions,
        started.elapsed().as_secs_f64()
    );

    let bare_first = bare_read(&settings, &topic, &format!("bench-bare-{stamp}-1"))?;
    let ex = benglema_text::Extractor::embedded();
    let metrics = Metrics::new();

    // Both stages in one process, as `run` runs by default.
    let both = Stage::run(&settings, &ex, &metrics, "both", Role::Both, 1, sent)?;
    // The extract stage alone, in one process and in two (a group of two consumers).
    let one = Stage::run(&settings, &ex, &metrics, "extract1", Role::Extract, 1, sent)?;
    let two = (args.partitions >= 2)
        .then(|| Stage::run(&settings, &ex, &metrics, "extract2", Role::Extract, 2, sent))
        .transpose()?;
    // What the repartition topic carries per post.
    let rp = bare_read(
        &settings,
        &both.repartition_topic,
        &format!("bench-bare-{stamp}-rp"),
    )?;
    // The bare read again, after the runs: the faster of the two is the ceiling reported.
    let bare_again = bare_read(&settings, &topic, &format!("bench-bare-{stamp}-2"))?;
    for (when, b) in [("before", bare_first), ("after", bare_again)] {
        eprintln!(
            "bare consumer {when} the runs: {} messages, {:.0} MB in {:.2} s ({:.0}/s)",
            b.messages,
            b.bytes as f64 / 1e6,
            b.seconds,
            b.per_second()
        );
    }
    let bare = if bare_first.per_second() >= bare_again.per_second() {
        bare_first
    } else {
        bare_again
    };
    let _ = std::fs::remove_dir_all(&state_dir);
    let ratio = |r: f64| r / bare.per_second().max(1e-9);
    super::outln!("| consumer | posts | seconds | posts/s | / bare |");
    super::outln!("|---|---|---|---|---|");
    super::outln!(
        "| bare rdkafka consumer (read only, faster of two reads) | {} | {:.2} | {:.0} | 1.00 |",
        bare.messages,
        bare.seconds,
        bare.per_second()
    );
    let row = |what: &str, s: &Stage| -> anyhow::Result<()> {
        let reread = if s.read > s.posts {
            format!(" ({} read: a rebalance moved partitions mid-run)", s.read)
        } else {
            String::new()
        };
        super::outln!(
            "| {what} | {}{reread} | {:.2} | {:.0} | {:.2} |",
            s.posts,
            s.seconds,
            s.rate(),
            ratio(s.rate())
        );
        Ok(())
    };
    row(
        "run, both stages in one process (parse, extract, count, repartition, detect, checkpoint)",
        &both,
    )?;
    row("extract stage alone, 1 process", &one)?;
    match &two {
        Some(t) => row("extract stage alone, 2 processes in one group", t)?,
        None => super::outln!(
            "| extract stage alone, 2 processes | (needs --partitions 2 or more) | | | |"
        ),
    }
    super::outln!(
        "\nrepartition topic: {} messages, {:.1} bytes per post; the detect stage was done {:.2} s \
         after the extract stage's last post (the end-to-end tail at full speed); {} events opened; \
         topic {topic}, {} partition(s)",
        rp.messages,
        rp.bytes as f64 / both.posts.max(1) as f64,
        both.tail,
        both.events,
        args.partitions
    );
    let (json, zst, series) = detect_task_size();
    super::outln!(
        "detect task with {series} series (36 listed, 32 discovered) after a day of minutes: state {:.0} kB as JSON, {:.0} kB as its zstd checkpoint",
        json as f64 / 1e3,
        zst as f64 / 1e3
    );
    Ok(())
}

/// One timed run of the stages over the benchmark topic.
struct Stage {
    /// Posts in the topic (what the members cover together).
    posts: u64,
    /// Messages read, replays after a rebalance included.
    read: u64,
    seconds: f64,
    /// Seconds from the extract stage's last post to the end of the run.
    tail: f64,
    events: u64,
    repartition_topic: String,
}

impl Stage {
    /// Distinct posts per second, first message to last.
    fn rate(&self) -> f64 {
        self.posts as f64 / self.seconds.max(1e-9)
    }

    /// Runs `role` in `processes` threads (each its own consumer in one group) to the end of
    /// the topic, with its own group, repartition and events topics.
    fn run(
        base: &benglema_stream::Settings,
        ex: &benglema_text::Extractor,
        metrics: &Metrics,
        name: &str,
        role: Role,
        processes: usize,
        sent: u64,
    ) -> anyhow::Result<Stage> {
        let mut settings = base.clone();
        settings.group = format!("{}-{name}", base.group);
        settings.repartition_topic = format!("{}-{name}", base.repartition_topic);
        settings.events_topic = format!("{}-{name}", base.events_topic);
        // Each run its own checkpoints: they are keyed by topic and partition.
        if let StateTarget::Dir(d) = &base.state {
            settings.state = StateTarget::Dir(d.join(name));
        }
        let opts = RunOptions {
            settings,
            detector: DetectorConfig::default(),
            exit_on_eof: Arc::new(AtomicBool::new(true)),
            idle_after: Duration::from_secs(10),
            create_topics: true,
            stats_every: Duration::from_secs(1),
            role,
            repartition_partitions: None,
            repartition_retention: Duration::from_secs(3600),
            board: None,
        };
        let stop = AtomicBool::new(false);
        let results: Vec<_> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..processes)
                .map(|_| {
                    sc.spawn(|| {
                        let mut events = 0u64;
                        let mut sink = |e: &OutageEvent| -> Result<(), StreamError> {
                            if e.status == benglema_model::EventStatus::Open {
                                events += 1;
                            }
                            Ok(())
                        };
                        let r = benglema_stream::run(&opts, ex, &mut sink, metrics, &stop);
                        (r, events, Instant::now())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        let (mut read, mut events) = (0, 0);
        let (mut first, mut last, mut end): (Option<Instant>, Option<Instant>, Option<Instant>) =
            (None, None, None);
        for r in results {
            let (summary, ev, done) = r.map_err(|_| anyhow::anyhow!("a benchmark run panicked"))?;
            let summary = summary?;
            read += summary.posts;
            events += ev;
            first = match (first, summary.first_post) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            last = last.max(summary.last_post);
            end = end.max(Some(done));
        }
        let seconds = match (first, last) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let tail = match (last, end) {
            (Some(l), Some(e)) => (e - l).as_secs_f64(),
            _ => 0.0,
        };
        Ok(Stage {
            posts: sent,
            read,
            seconds,
            tail,
            events,
            repartition_topic: opts.settings.repartition_topic.clone(),
        })
    }
}

/// The state of one detect task holding 36 listed and 32 discovered services after a day
/// of minutes with complaints about each: (JSON bytes, zstd checkpoint bytes, series).
fn detect_task_size() -> (usize, usize, usize) {
    use benglema_detect::{
        BucketCounts, EngineOptions, Sample, ServiceCounts, Stepper, StepperState,
    };
    let mut config = DetectorConfig::default();
    config.discovery.max_series = 32;
    let mut stepper = Stepper::restore(config, EngineOptions::default(), StepperState::default())
        .expect("default parameters are valid");
    let names: Vec<(String, bool)> = (0..36)
        .map(|i| (format!("listed{i}"), false))
        .chain((0..32).map(|i| (format!("found{i}"), true)))
        .collect();
    let b0: i64 = 1_634_486_400 / 60;
    let mut out = Vec::new();
    for m in 0..1440i64 {
        let mut bucket = BucketCounts {
            posts: 2000,
            complaint_posts: names.len() as u64,
            services: Default::default(),
        };
        for (k, (name, discovered)) in names.iter().enumerate() {
            let mut c = ServiceCounts {
                discovered: *discovered,
                complaints: 5,
                ..ServiceCounts::default()
            };
            c.symptoms.insert("登录".into(), 5);
            c.terms.insert(format!("词{}", (m + k as i64) % 50), 5);
            c.offer_sample(
                Sample::new(
                    (b0 + m) * 60,
                    &format!("{m}-{k}"),
                    "微信又崩了，消息发不出去，朋友圈也刷不出来",
                ),
                5,
            );
            bucket.services.insert(name.clone(), c);
        }
        stepper.advance(b0 + m + 1, [(b0 + m, bucket)], &mut out);
    }
    let json = serde_json::to_vec(&stepper.snapshot()).expect("state serialises");
    let zst = zstd::encode_all(&json[..], 3).map_or(0, |z| z.len());
    (json.len(), zst, stepper.series_count())
}
