//! `benglema bench-kafka`: preload a topic with simulated posts, then measure a bare rdkafka
//! consumer and `run` on it, each from its first message to its last.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use benglema_detect::DetectorConfig;
use benglema_model::OutageEvent;
use benglema_stream::bench::bare_read;
use benglema_stream::metrics::Metrics;
use benglema_stream::produce::{produce_posts, KeyBy, Pace, Sender};
use benglema_stream::{RunOptions, StateTarget, StreamError};
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
    let opts = RunOptions {
        settings: settings.clone(),
        detector: DetectorConfig::default(),
        exit_on_eof: Arc::new(AtomicBool::new(true)),
        idle_after: Duration::from_secs(10),
        create_topics: true,
        stats_every: Duration::from_secs(1),
        role: benglema_stream::Role::Both,
        repartition_partitions: None,
        repartition_retention: Duration::from_secs(3600),
    };
    let mut events = 0u64;
    let mut sink = |e: &OutageEvent| -> Result<(), StreamError> {
        if e.status == benglema_model::EventStatus::Open {
            events += 1;
        }
        Ok(())
    };
    let metrics = Metrics::new();
    let summary = benglema_stream::run(&opts, &ex, &mut sink, &metrics, &stop)?;
    let secs = match (summary.first_post, summary.last_post) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => 0.0,
    };
    let run_rate = summary.posts as f64 / secs.max(1e-9);
    // The bare read again, after `run`: the faster of the two is the ceiling reported.
    let bare_again = bare_read(&settings, &topic, &format!("bench-bare-{stamp}-2"))?;
    for (when, b) in [("before", bare_first), ("after", bare_again)] {
        eprintln!(
            "bare consumer {when} run: {} messages, {:.0} MB in {:.2} s ({:.0}/s)",
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
    super::outln!("| consumer | posts | seconds | posts/s |");
    super::outln!("|---|---|---|---|");
    super::outln!(
        "| bare rdkafka consumer (read only, faster of two reads) | {} | {:.2} | {:.0} |",
        bare.messages,
        bare.seconds,
        bare.per_second()
    );
    super::outln!(
        "| benglema run (parse, extract, detect, checkpoint) | {} | {:.2} | {:.0} |",
        summary.posts,
        secs,
        run_rate
    );
    super::outln!(
        "\nrun / bare = {:.2}; {} events opened; topic {topic}",
        run_rate / bare.per_second().max(1e-9),
        events
    );
    Ok(())
}
