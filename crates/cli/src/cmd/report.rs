//! `benglema report`: draws the plots and `report.html` again from an existing backtest output
//! directory (after editing labels, or with another font), without replaying any posts.

use std::path::PathBuf;

use benglema_report::{ReportOptions, ReportSummary};

/// Flags of `benglema report`.
#[derive(clap::Args)]
pub struct Args {
    /// A directory written by `benglema backtest --out DIR` (events.csv, metrics.json and,
    /// for the plots, series.csv or series.parquet).
    #[arg(long, default_value = "out/backtest", value_name = "DIR")]
    out: PathBuf,
    /// Incident labels (default: the bundled data/labels/incidents.csv).
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
}

/// Prints what a report run wrote, its notes and any glyph warning.
pub fn print_summary(s: &ReportSummary) -> std::io::Result<()> {
    for n in &s.notes {
        eprintln!("note: {n}");
    }
    if let Some(w) = s.glyph_warning() {
        eprintln!("warning: {w}");
    }
    super::outln!(
        "report: {} and {} plot files in {:.2} s",
        s.report.display(),
        s.plots.len(),
        s.seconds
    );
    Ok(())
}

/// Runs `benglema report`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let labels = match &args.labels {
        Some(p) => benglema_io::read_incidents(p)?,
        None => super::bundled_labels()?,
    };
    let s = benglema_report::write(&args.out, &labels, &ReportOptions::default())?;
    print_summary(&s)?;
    Ok(())
}
