//! `benglema detect-series`: the change-point test on any `timestamp,value` CSV.

use std::io::{self, Read};
use std::path::PathBuf;

use anyhow::Context;
use benglema_backtest::series::detect_series;
use polars::prelude::{CsvWriter, SerWriter};

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
    let mut df = detect_series(&bytes, &name, args.bucket)?;
    match &args.out {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            CsvWriter::new(f).finish(&mut df)?;
        }
        None => CsvWriter::new(io::stdout().lock()).finish(&mut df)?,
    }
    Ok(())
}
