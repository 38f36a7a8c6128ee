//! `benglema bench`: the baselines a backtest's throughput is compared with, on the same
//! input files: reading and validating posts alone, and reading plus plain jieba-rs `cut`
//! (default dictionary) of every post, with the HMM off and on; with `--backtest`, the
//! backtest itself on the same files in the same run, against the one-thread floor (read +
//! validate + cut, HMM off), in wall-clock time and per CPU-second, as medians over rounds
//! that alternate the floor and the backtests.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use benglema_backtest::{BacktestOptions, SeriesFormat};
use benglema_detect::DetectorConfig;
use benglema_io::{expand_inputs, read_file, Record};
use jieba_rs::Jieba;

/// Flags of `benglema bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Post files or directories, as for `backtest --input`.
    #[arg(long, short, value_name = "PATH", required = true)]
    input: Vec<PathBuf>,
    /// Also run `backtest` on the same files (the default: series.csv and report; then
    /// `--series parquet` with the report; then `--series none --no-report`), each beside
    /// the floor, outputs to a scratch directory.
    #[arg(long)]
    backtest: bool,
    /// Threads of those backtests [default: every core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    threads: Option<u16>,
    /// With `--backtest`: rounds of the floor and every backtest, alternated; each table
    /// cell is the median over the rounds, each ratio the median of the rounds' own ratios
    /// (a machine whose speed drifts moves the floor and the backtest of a round together).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    repeat: u16,
}

/// User + system CPU seconds this process has used so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return f64::NAN;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// One measured run: posts, wall seconds, CPU seconds.
struct Measured {
    posts: u64,
    wall: f64,
    cpu: f64,
}

impl Measured {
    fn of(f: impl FnOnce() -> anyhow::Result<u64>) -> anyhow::Result<Measured> {
        let (cpu, started) = (cpu_seconds(), Instant::now());
        let posts = f()?;
        Ok(Measured {
            posts,
            wall: started.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - cpu,
        })
    }

    fn rate(&self) -> f64 {
        self.posts as f64 / self.wall.max(1e-9)
    }

    fn per_cpu(&self) -> f64 {
        self.posts as f64 / self.cpu.max(1e-9)
    }
}

fn pass(files: &[PathBuf], f: &mut dyn FnMut(&str)) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let mut n = 0u64;
    for file in files {
        read_file(file, &mut |r| {
            if let Record::Post(p) = r {
                f(&p.text);
                n += 1;
            }
            true
        })?;
    }
    Ok((n, started.elapsed().as_secs_f64()))
}

/// Runs `benglema bench`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let files = expand_inputs(&args.input)?;
    if files.is_empty() {
        bail!("no post files in {:?}", args.input);
    }
    let jieba = Jieba::new();
    let mut tokens = 0usize;
    let (n, read) = pass(&files, &mut |_| {})?;
    super::outln!(
        "read + validate only:          {n} posts in {read:.1} s: {:.0} posts/s",
        n as f64 / read
    );
    for hmm in [false, true] {
        let (n, secs) = pass(&files, &mut |t| tokens += jieba.cut(t, hmm).len())?;
        super::outln!(
            "read + validate + jieba cut (HMM {}): {n} posts in {secs:.1} s: {:.0} posts/s",
            if hmm { "on " } else { "off" },
            n as f64 / secs
        );
    }
    eprintln!("({tokens} tokens cut)");
    if args.backtest {
        side_by_side(&args, &files, &jieba)?;
    }
    Ok(())
}

/// The median of some numbers (the mean of the middle two for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The floor and `backtest` on the same files, one after the other, `--repeat` rounds.
fn side_by_side(args: &Args, files: &[PathBuf], jieba: &Jieba) -> anyhow::Result<()> {
    let ex = super::extractor(None)?;
    let labels = super::bundled_labels()?;
    let scratch = std::env::temp_dir().join(format!("benglema-bench-{}", std::process::id()));
    let runs = [
        ("backtest (series + report)", Some(SeriesFormat::Csv), true),
        (
            "backtest --series parquet (+ report)",
            Some(SeriesFormat::Parquet),
            true,
        ),
        ("backtest --series none --no-report", None, false),
    ];
    // rounds[r][0] is round r's floor, rounds[r][1..] its backtests in the order of `runs`.
    let mut rounds: Vec<Vec<Measured>> = Vec::new();
    for _ in 0..args.repeat {
        let mut round = vec![Measured::of(|| {
            let mut tokens = 0usize;
            let (n, _) = pass(files, &mut |t| tokens += jieba.cut(t, false).len())?;
            std::hint::black_box(tokens);
            Ok(n)
        })?];
        for (_, series, report) in runs {
            let _ = std::fs::remove_dir_all(&scratch);
            let opts = BacktestOptions {
                inputs: files.to_vec(),
                labels: labels.clone(),
                out_dir: scratch.clone(),
                config: DetectorConfig::default(),
                series,
                series_every_bucket: false,
                compare: Vec::new(),
                name: "configured".into(),
                warm_up_minutes: 0,
                threads: args.threads.map_or(0, usize::from),
            };
            round.push(Measured::of(|| {
                let metrics = benglema_backtest::run(&opts, &ex, &mut |_| {})?;
                if report {
                    benglema_report::write(
                        &scratch,
                        &labels,
                        &benglema_report::ReportOptions::default(),
                    )
                    .context("drawing the report failed")?;
                }
                Ok(metrics.posts + metrics.duplicates + metrics.late + metrics.rejects)
            })?);
        }
        rounds.push(round);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    super::outln!();
    super::outln!(
        "| on {} posts, {} threads, median of {} alternated rounds | posts/s | wall s | CPU s | × floor | × floor per CPU-s |",
        rounds[0][0].posts,
        args.threads
            .map_or_else(|| "all".to_owned(), |n| n.to_string()),
        rounds.len()
    );
    super::outln!("|---|---|---|---|---|---|");
    let names = std::iter::once("floor: read + validate + jieba cut, one thread")
        .chain(runs.iter().map(|(name, _, _)| *name));
    for (k, name) in names.enumerate() {
        let of = |f: &dyn Fn(&[Measured]) -> f64| median(rounds.iter().map(|r| f(r)).collect());
        super::outln!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            of(&|r| r[k].rate()),
            of(&|r| r[k].wall),
            of(&|r| r[k].cpu),
            of(&|r| r[k].rate() / r[0].rate()),
            of(&|r| r[k].per_cpu() / r[0].per_cpu()),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![7.0]), 7.0);
        assert!(median(Vec::new()).is_nan());
    }
}
