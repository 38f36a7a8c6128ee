//! `benglema detect-series`: the change-point test on any `timestamp,value` CSV. The file is
//! read and written by `benglema-io` (the count-series contract); the detector is
//! `benglema-detect`'s [`score_series`].

use std::io::{self, Read};
use std::path::PathBuf;

use anyhow::Context;
use benglema_detect::{infer_bucket, score_series};
use benglema_io::{read_counts, write_scored, Scored};

/// Flags of `benglema detect-series`.
#[derive(clap::Args)]
pub struct Args {
    /// Input CSV with a `timestamp,value` header (`-` or nothing for stdin).
    #[arg(long, short, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Output CSV (stdout when absent).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Seconds between rows (default: the median gap in the file).
    #[arg(long, value_name = "SECONDS")]
    bucket: Option<i64>,
}

/// Runs `benglema detect-series`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(b) = args.bucket.filter(|&b| b <= 0) {
        anyhow::bail!("--bucket {b}: must be a positive number of seconds between rows");
    }
    let (bytes, name) = match &args.input {
        Some(p) if p.as_os_str() != "-" => (
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
            p.display().to_string(),
        ),
        _ => {
            let mut b = Vec::new();
            io::stdin().read_to_end(&mut b).context("reading stdin")?;
            (b, "stdin".to_owned())
        }
    };
    let counts = read_counts(&bytes, &name)?;
    let bucket = args.bucket.unwrap_or_else(|| infer_bucket(&counts.clock));
    let scored: Vec<Scored> = score_series(&counts.clock, &counts.values, bucket)
        .into_iter()
        .map(|s| Scored {
            expected: s.expected,
            score: s.score,
            alarm: s.alarm,
        })
        .collect();
    match &args.out {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            write_scored(
                io::BufWriter::new(f),
                &counts,
                &scored,
                &p.display().to_string(),
            )?;
        }
        None => write_scored(io::stdout().lock(), &counts, &scored, "<stdout>")?,
    }
    Ok(())
}
