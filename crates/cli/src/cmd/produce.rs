//! `benglema produce`: load post files (or the bundled history) into a topic.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use benglema_io::bundled_posts;
use benglema_stream::produce::{produce_files, produce_posts, KeyBy, Pace, Sender};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::kafka_args::KafkaArgs;

/// Flags of `benglema produce`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Post files or directories (.jsonl, .gz, .zst, .csv, .parquet). Without any, the
    /// bundled labelled history that `backtest` replays.
    #[arg(long, short, value_name = "PATH")]
    input: Vec<PathBuf>,
    /// Send at most this many posts per second.
    #[arg(long, conflicts_with = "speed")]
    rate: Option<f64>,
    /// Replay in event time, this many times faster than real time (gaps over an hour skipped).
    #[arg(long)]
    speed: Option<f64>,
    /// Message key: the post id, the service a complaint names, one constant, or none
    /// (run gives the same events whichever; dedup of an id needs its copies in one
    /// partition, which every key but none gives).
    #[arg(long, value_enum, default_value = "id")]
    key: Key,
    /// Send JSONL lines byte for byte, malformed ones included (exercises dead letters).
    #[arg(long)]
    raw: bool,
    /// Text models for --key service.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Key {
    Id,
    Service,
    Constant,
    None,
}

/// Runs `benglema produce`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let settings = args.kafka.settings(None, None)?.context(
        "produce needs a cluster: pass --brokers HOST:PORT (or brokers in --kafka-config)",
    )?;
    if args.raw && args.input.is_empty() {
        anyhow::bail!("--raw needs --input files (the bundled history is generated, not raw)");
    }
    let pace = match (args.rate, args.speed) {
        (Some(r), _) => Pace::Rate(r),
        (_, Some(s)) => Pace::Speed(s),
        _ => Pace::Max,
    };
    let ex = match args.key {
        Key::Service => Some(super::extractor(args.models.as_deref())?),
        _ => None,
    };
    let key = match args.key {
        Key::Id => KeyBy::Id,
        Key::Service => KeyBy::Service,
        Key::Constant => KeyBy::Constant,
        Key::None => KeyBy::None,
    };
    let stop = AtomicBool::new(false);
    if !benglema_stream::kafka::wait_for_cluster(&settings, &stop)? {
        return Ok(());
    }
    let mut sender = Sender::new(&settings, pace, key, ex.as_ref(), &stop)?;
    let bar = ProgressBar::new_spinner();
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} {human_pos} posts sent  {per_sec}  {elapsed}")
            .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let mut progress = |n: u64| {
        if n % 1024 == 0 {
            bar.set_position(n)
        }
    };
    if args.input.is_empty() {
        let posts = bundled_posts(&super::bundled_labels()?);
        produce_posts(&mut sender, posts, &mut progress)?;
    } else {
        produce_files(&mut sender, &args.input, args.raw, &mut progress)?;
    }
    let s = sender.finish()?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "sent {} posts to {} in {secs:.1} s ({:.0}/s){}",
        s.sent,
        settings.topic,
        s.sent as f64 / secs.max(1e-9),
        if s.skipped > 0 {
            format!("; skipped {} malformed input records", s.skipped)
        } else {
            String::new()
        }
    );
    Ok(())
}
