//! `benglema backtest`: replay archived posts (or the bundled labelled history) through the
//! detector and score it against labelled incidents.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use benglema_backtest::{run, BacktestOptions, Metrics};
use benglema_detect::{DetectorConfig, ModelKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Flags of `benglema backtest`.
#[derive(clap::Args)]
pub struct Args {
    /// Post files or directories: .jsonl (also .gz, .zst), .csv, .parquet. Without any, the
    /// bundled labelled history (a few simulated days around each seed incident) is replayed.
    #[arg(long, short, value_name = "PATH")]
    input: Vec<PathBuf>,
    /// Incident labels (default: the bundled data/labels/incidents.csv).
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Output directory for events.csv, series.csv, metrics.json and rejects.jsonl.
    #[arg(long, default_value = "out/backtest", value_name = "DIR")]
    out: PathBuf,
    /// Detector parameters (default: the bundled models/detector.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Load text models from this directory instead of the embedded copies of models/.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Do not write series.csv.
    #[arg(long)]
    no_series: bool,
    /// Change-point model of every series, overriding the config's [model] kind.
    #[arg(long, value_enum)]
    model: Option<Model>,
    /// Also run these models side by side on the same posts (read and analysed once) and
    /// print one row per model, e.g. --compare cusum,bocpd.
    #[arg(long, value_enum, value_delimiter = ',')]
    compare: Vec<Model>,
}

impl Model {
    fn kind(self) -> ModelKind {
        match self {
            Model::Cusum => ModelKind::Cusum,
            Model::Bocpd => ModelKind::Bocpd,
        }
    }

    fn name(kind: ModelKind) -> &'static str {
        match kind {
            ModelKind::Cusum => "cusum",
            ModelKind::Bocpd => "bocpd",
        }
    }
}

/// Models selectable on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Model {
    /// Page's CUSUM.
    Cusum,
    /// Bayesian online change-point detection.
    Bocpd,
}

/// The bundled labels.
pub const INCIDENTS_CSV: &str = include_str!("../../../../data/labels/incidents.csv");

fn fmt_minutes(x: Option<f64>) -> String {
    x.map_or("-".into(), |m| format!("{m:+.1} min"))
}

fn print(m: &Metrics) {
    println!(
        "{:<26} {:<6} {:<17} {:<9} {:>11} {:>13}  event",
        "incident", "service", "labelled start", "detected", "delay", "lead over ack"
    );
    for r in &m.incidents {
        println!(
            "{:<26} {:<6} {:<17} {:<9} {:>11} {:>13}  {}",
            r.incident_id,
            r.service,
            r.start
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            if !r.covered {
                "not in data"
            } else if r.detected {
                "yes"
            } else {
                "NO"
            },
            fmt_minutes(r.delay_minutes),
            fmt_minutes(r.lead_over_ack_minutes),
            r.event_id.as_deref().unwrap_or("-"),
        );
    }
    let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2}"));
    println!(
        "\nrecall {} ({} of {} covered incidents), precision {}, false alarms {} ({:.2}/day over {:.1} days)",
        pct(m.recall),
        m.incidents_detected,
        m.incidents_covered,
        pct(m.precision),
        m.false_alarms,
        m.false_alarms_per_day,
        m.days
    );
    println!(
        "delay from labelled onset: median {}, worst {}",
        fmt_minutes(m.median_delay_minutes),
        fmt_minutes(m.worst_delay_minutes)
    );
    println!(
        "{} posts ({} complaints, {} rejected, {} late, {} duplicate) in {:.1} s: {:.0} posts/s",
        m.posts, m.complaints, m.rejects, m.late, m.duplicates, m.seconds, m.posts_per_second
    );
}

/// Runs `benglema backtest`.
pub fn run_cmd(args: Args) -> anyhow::Result<()> {
    let ex = super::extractor(args.models.as_deref())?;
    let labels = match &args.labels {
        Some(p) => benglema_labels::read_incidents(p)?,
        None => {
            benglema_labels::parse_incidents(INCIDENTS_CSV.as_bytes(), "bundled incidents.csv")?
        }
    };
    let mut config = match &args.config {
        Some(p) => DetectorConfig::from_file(p)?,
        None => DetectorConfig::default(),
    };
    if let Some(m) = args.model {
        config.model.kind = m.kind();
    }
    let mut compare = Vec::new();
    for m in &args.compare {
        let kind = m.kind();
        if kind != config.model.kind
            && !compare
                .iter()
                .any(|(_, c): &(String, DetectorConfig)| c.model.kind == kind)
        {
            let mut c = config.clone();
            c.model.kind = kind;
            compare.push((Model::name(kind).to_owned(), c));
        }
    }
    let opts = BacktestOptions {
        name: Model::name(config.model.kind).to_owned(),
        compare,
        inputs: args.input.clone(),
        labels,
        out_dir: args.out.clone(),
        config,
        series: !args.no_series,
    };
    let bar = ProgressBar::new_spinner();
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} {human_pos} records  {per_sec}  {elapsed}")
            .expect("valid template"),
    );
    let m = run(&opts, &ex, &mut |n| bar.set_position(n)).context("backtest failed")?;
    bar.finish_and_clear();
    print(&m);
    if !m.comparison.is_empty() {
        let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2}"));
        println!(
            "\nside by side on the same posts:\n{:<8} {:>7} {:>9} {:>8} {:>13} {:>14} {:>13}",
            "model", "recall", "precision", "events", "false alarms", "median delay", "worst delay"
        );
        for r in &m.comparison {
            println!(
                "{:<8} {:>7} {:>9} {:>8} {:>13} {:>14} {:>13}",
                r.name,
                format!("{}/{}", r.incidents_detected, r.incidents_covered),
                pct(r.precision),
                r.events,
                format!("{} ({:.2}/d)", r.false_alarms, r.false_alarms_per_day),
                fmt_minutes(r.median_delay_minutes),
                fmt_minutes(r.worst_delay_minutes),
            );
        }
    }
    println!(
        "outputs: {}/{{events.csv,series.csv,metrics.json,rejects.jsonl}}",
        args.out.display()
    );
    Ok(())
}
