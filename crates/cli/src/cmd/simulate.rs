//! `benglema simulate`: write a labelled synthetic history of posts as JSONL.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use benglema_synth::{simulate, SimSpec};
use chrono::{DateTime, Duration, FixedOffset};

/// Flags of `benglema simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// Output file: .jsonl, .jsonl.gz or .jsonl.zst.
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
    /// Incident labels to inject (default: the bundled data/labels/incidents.csv).
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Simulate one continuous window from this time (RFC 3339) instead of the bundled
    /// windows around each incident; incidents inside it are injected.
    #[arg(long, value_name = "TIME", requires = "days")]
    from: Option<DateTime<FixedOffset>>,
    /// Length of the window started by --from, in days.
    #[arg(long, value_name = "N")]
    days: Option<f64>,
    /// Background posts per minute at the daily peak.
    #[arg(long, default_value_t = benglema_synth::DEFAULT_PEAK_POSTS_PER_MINUTE)]
    rate: f64,
    /// Seed (the same seed gives the same posts).
    #[arg(long, default_value_t = benglema_io::BUNDLED_SEED)]
    seed: u64,
    /// The harder history instead of the labelled incidents: overdispersed counts and
    /// Pareto-sized harmless bursts calibrated to NAB's real mention counts, ordinary
    /// complaints at about 0.1 a minute for a large service, and its own outages (sharp
    /// steps, slow ramps, 6-hour partial degradations, seed-like and undiscovered-service
    /// outages) from the second day on. Needs --from, --days and --labels-out.
    #[arg(long, requires_all = ["from", "labels_out"])]
    hard: bool,
    /// With --hard: where to write the injected outages as a label file (PRODUCT.md
    /// contract), for `backtest --labels`.
    #[arg(long, value_name = "FILE", requires = "hard")]
    labels_out: Option<PathBuf>,
}

/// Runs `benglema simulate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let labels = match &args.labels {
        Some(p) => benglema_io::read_incidents(p)?,
        None => super::bundled_labels()?,
    };
    if !(args.rate.is_finite() && args.rate > 0.0 && args.rate <= 100_000.0) {
        bail!(
            "--rate {} must be a positive number of posts per minute (at most 100000)",
            args.rate
        );
    }
    let specs: Vec<SimSpec> = match (args.from, args.days) {
        (Some(from), Some(days)) if args.hard => {
            if !(days > 0.0 && days <= 3660.0) {
                bail!("--days {days} must be within (0, 3660]");
            }
            let spec = SimSpec::hard(args.seed, from, days);
            let path = args.labels_out.as_ref().expect("clap requires it");
            let f =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            benglema_io::write_incidents(&spec.incidents, BufWriter::new(f))?;
            eprintln!(
                "benglema simulate: {} outages written to {}",
                spec.incidents.len(),
                path.display()
            );
            vec![spec]
        }
        (Some(from), Some(days)) => {
            if !(days > 0.0 && days <= 3660.0) {
                bail!("--days {days} must be within (0, 3660]");
            }
            let mut s = SimSpec::new(
                args.seed,
                from,
                from + Duration::seconds((days * 86_400.0) as i64),
            );
            s.incidents = labels;
            vec![s]
        }
        _ => benglema_synth::SimSpec::around(
            &labels,
            benglema_io::BUNDLED_DAYS_BEFORE,
            benglema_io::BUNDLED_DAYS_AFTER,
            args.seed,
        ),
    };
    let file =
        File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let name = args.out.to_string_lossy().to_ascii_lowercase();
    let mut out: Box<dyn Write> = if name.ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(
            BufWriter::new(file),
            flate2::Compression::fast(),
        ))
    } else if name.ends_with(".zst") {
        Box::new(zstd::stream::write::Encoder::new(BufWriter::new(file), 3)?.auto_finish())
    } else {
        Box::new(BufWriter::new(file))
    };
    let mut n = 0u64;
    for mut spec in specs {
        spec.peak_posts_per_minute = args.rate;
        for s in simulate(&spec) {
            out.write_all(s.post.to_json().as_bytes())?;
            out.write_all(b"\n")?;
            n += 1;
        }
    }
    out.flush()?;
    drop(out);
    eprintln!(
        "benglema simulate: {n} posts written to {}",
        args.out.display()
    );
    Ok(())
}
