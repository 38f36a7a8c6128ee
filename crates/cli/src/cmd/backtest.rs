//! `benglema backtest`: replay archived posts (or the bundled labelled history) through the
//! detector and score it against labelled incidents.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use benglema_backtest::{run, BacktestOptions, Metrics};
use benglema_detect::{DetectorConfig, ModelKind, Preset};
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
    /// Output directory for events.csv, series.csv (or series.parquet), metrics.json,
    /// rejects.jsonl, plots/ and report.html.
    #[arg(long, default_value = "out/backtest", value_name = "DIR")]
    out: PathBuf,
    /// Detector parameters (default: the bundled models/detector.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Load text models from this directory instead of the embedded copies of models/.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// series.csv (per service per minute: complaints, posts, baseline, score, alarm, in
    /// event), series.parquet (the same columns, zstd-compressed), or none (the report then
    /// has no plots).
    #[arg(long, value_enum, default_value = "csv", value_name = "FORMAT")]
    series: SeriesFormat,
    /// The same as --series none.
    #[arg(long, conflicts_with = "series")]
    no_series: bool,
    /// Which minutes the series holds: those that carry information (a complaint, an alarm,
    /// an open event, a change score of 0.1 or more, a baseline 10 % away from the last
    /// row's; the minutes between have none, the report fills them in) or all of them.
    #[arg(long, value_enum, default_value = "informative", value_name = "ROWS")]
    series_rows: SeriesRows,
    /// Do not draw plots/ and report.html (`benglema report` can draw them later).
    #[arg(long)]
    no_report: bool,
    /// Change-point model of every series, overriding the config's [model] kind.
    #[arg(long, value_enum)]
    model: Option<Preset>,
    /// Also run these models side by side on the same posts (read and analysed once) and
    /// print one row per model, e.g. --compare cusum,bocpd.
    #[arg(long, value_enum, value_delimiter = ',')]
    compare: Vec<Preset>,
    /// Run the parameter grid of both models (see README) side by side with the configured
    /// detector and print one row per setting, best first.
    #[arg(long, conflicts_with = "compare")]
    sweep: bool,
    /// Prime the detectors on the first DURATION of the input without scoring it (e.g. 6h,
    /// 1d, 90m): what they raise then is neither written nor counted, and labels starting
    /// in it are not covered.
    #[arg(long, value_name = "DURATION")]
    warm_up: Option<WarmUp>,
    /// Threads that validate and analyse the posts (parse, extract, segment), beside a
    /// reader thread and pipelined with the detector;
    /// the outputs are the same for any number [default: every core; 1: all on one thread].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    threads: Option<u16>,
}

/// What `--series` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeriesFormat {
    /// series.csv.
    Csv,
    /// series.parquet.
    Parquet,
    /// No series.
    None,
}

/// Which rows `--series-rows` keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeriesRows {
    /// The minutes that carry information.
    Informative,
    /// Every minute of every series.
    All,
}

/// A warm-up length in minutes, parsed from `90m`, `6h` or `2d`.
#[derive(Clone, Copy, Debug)]
pub struct WarmUp(pub i64);

impl std::str::FromStr for WarmUp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a duration such as 90m, 6h or 2d");
        let s = s.trim();
        let (num, unit) = s.split_at(s.len().saturating_sub(1));
        let n: f64 = num.parse().map_err(|_| bad())?;
        let per = match unit {
            "m" => 1.0,
            "h" => 60.0,
            "d" => 1440.0,
            _ => return Err(bad()),
        };
        if !(n.is_finite() && n >= 0.0 && n * per <= 3660.0 * 1440.0) {
            return Err(bad());
        }
        Ok(WarmUp((n * per).round() as i64))
    }
}

/// The `--sweep` grid around `base`: CUSUM threshold × bank of shift ratios (the old single
/// 5× CUSUM among them) × minimum complaints, and BOCPD alarm probability × minimum ratio.
pub fn sweep_grid(base: &DetectorConfig) -> Vec<(String, DetectorConfig)> {
    let mut grid = Vec::new();
    for threshold in [5.0, 7.5, 10.0, 15.0] {
        for bank in [
            vec![5.0],
            vec![3.0, 10.0, 50.0],
            vec![3.0, 5.0, 10.0, 20.0, 50.0],
        ] {
            for min_c in [5, 8] {
                let mut c = base.clone();
                c.model.kind = ModelKind::Cusum;
                c.cusum.threshold = threshold;
                let name = format!("{bank:?}").replace(".0", "").replace(' ', "");
                c.cusum.shift_ratios = bank.clone();
                c.cusum.min_complaints = min_c;
                grid.push((format!("cusum h={threshold} k={name} n={min_c}"), c));
            }
        }
    }
    for p in [0.9, 0.95, 0.99] {
        for ratio in [3.0, 4.0] {
            let mut c = base.clone();
            c.model.kind = ModelKind::Bocpd;
            c.bocpd.alarm_probability = p;
            c.bocpd.min_ratio = ratio;
            grid.push((format!("bocpd p={p} r={ratio}"), c));
        }
    }
    grid.retain(|(_, c)| c != base);
    grid
}

fn fmt_minutes(x: Option<f64>) -> String {
    x.map_or("-".into(), |m| format!("{m:+.1} min"))
}

fn print(m: &Metrics) -> std::io::Result<()> {
    super::outln!(
        "{:<26} {:<6} {:<17} {:<9} {:>11} {:>13}  event",
        "incident",
        "service",
        "labelled start",
        "detected",
        "delay",
        "lead over ack"
    );
    for r in &m.incidents {
        super::outln!(
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
    super::outln!(
        "\nrecall {} ({} of {} covered incidents), precision {}, false alarms {} ({:.2}/day over {:.1} days)",
        pct(m.recall),
        m.incidents_detected,
        m.incidents_covered,
        pct(m.precision),
        m.false_alarms,
        m.false_alarms_per_day,
        m.days
    );
    super::outln!(
        "delay from labelled onset: median {}, worst {}",
        fmt_minutes(m.median_delay_minutes),
        fmt_minutes(m.worst_delay_minutes)
    );
    super::outln!(
        "{} posts ({} complaints, {} rejected, {} late, {} duplicate) in {:.1} s: {:.0} posts/s",
        m.posts,
        m.complaints,
        m.rejects,
        m.late,
        m.duplicates,
        m.seconds,
        m.posts_per_second
    );
    if m.discovered_admitted + m.discovered_unadmitted > 0 {
        super::outln!(
            "new-service discovery: {} unlisted names got a series ({} expired); {} complaints about names that did not",
            m.discovered_admitted, m.discovered_expired, m.discovered_unadmitted
        );
    }
    Ok(())
}

/// Runs `benglema backtest`.
pub fn run_cmd(args: Args) -> anyhow::Result<()> {
    let ex = super::extractor(args.models.as_deref())?;
    let labels = match &args.labels {
        Some(p) => benglema_io::read_incidents(p)?,
        None => super::bundled_labels()?,
    };
    let mut config = match &args.config {
        Some(p) => DetectorConfig::from_file(p)?,
        None => DetectorConfig::default(),
    };
    if let Some(m) = args.model {
        config = m.apply(&config);
    }
    let mut compare = if args.sweep {
        sweep_grid(&config)
    } else {
        Vec::new()
    };
    for m in &args.compare {
        let c = m.apply(&config);
        if c != config
            && !compare
                .iter()
                .any(|(_, x): &(String, DetectorConfig)| *x == c)
        {
            compare.push((m.label().to_owned(), c));
        }
    }
    let opts = BacktestOptions {
        name: if args.sweep {
            "configured".to_owned()
        } else {
            args.model
                .unwrap_or_else(|| Preset::of_kind(config.model.kind))
                .label()
                .to_owned()
        },
        compare,
        inputs: args.input.clone(),
        labels: labels.clone(),
        out_dir: args.out.clone(),
        config,
        series: match args.series {
            _ if args.no_series => None,
            SeriesFormat::Csv => Some(benglema_backtest::SeriesFormat::Csv),
            SeriesFormat::Parquet => Some(benglema_backtest::SeriesFormat::Parquet),
            SeriesFormat::None => None,
        },
        series_every_bucket: args.series_rows == SeriesRows::All,
        warm_up_minutes: args.warm_up.map_or(0, |d| d.0),
        threads: args.threads.map_or(0, usize::from),
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
    print(&m)?;
    if !m.comparison.is_empty() {
        let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2}"));
        let mut rows: Vec<&benglema_model::ModelRow> = m.comparison.iter().collect();
        if args.sweep {
            // Best first: recall, then fewest false alarms, then the shortest median delay.
            rows.sort_by(|a, b| {
                let key = |r: &benglema_model::ModelRow| {
                    (
                        -(r.recall.unwrap_or(0.0) * 1e6) as i64,
                        r.false_alarms,
                        (r.median_delay_minutes.unwrap_or(f64::MAX) * 100.0) as i64,
                        (r.worst_delay_minutes.unwrap_or(f64::MAX) * 100.0) as i64,
                    )
                };
                key(a).cmp(&key(b))
            });
        }
        super::outln!(
            "\nside by side on the same posts:\n{:<24} {:>7} {:>9} {:>8} {:>15} {:>9} {:>14} {:>13}",
            "model",
            "recall",
            "precision",
            "events",
            "false alarms",
            "first day",
            "median delay",
            "worst delay"
        );
        for r in rows {
            super::outln!(
                "{:<24} {:>7} {:>9} {:>8} {:>15} {:>9} {:>14} {:>13}",
                r.name,
                format!("{}/{}", r.incidents_detected, r.incidents_covered),
                pct(r.precision),
                r.events,
                format!(
                    "{} ({:.1}/wk)",
                    r.false_alarms,
                    r.false_alarms_per_day * 7.0
                ),
                r.first_day_false_alarms,
                fmt_minutes(r.median_delay_minutes),
                fmt_minutes(r.worst_delay_minutes),
            );
        }
    }
    super::outln!(
        "outputs: {}/{{events.csv,{}metrics.json,rejects.jsonl}}",
        args.out.display(),
        opts.series
            .map_or(String::new(), |f| format!("{},", f.file_name()))
    );
    if !args.no_report {
        crate::release_freed_memory();
        let s = benglema_report::write(
            &args.out,
            &labels,
            &benglema_report::ReportOptions::default(),
        )
        .context("drawing the report failed")?;
        super::report::print_summary(&s)?;
    }
    Ok(())
}
