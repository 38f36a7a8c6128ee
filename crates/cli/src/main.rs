//! `benglema` — detect service outages from Chinese social-media posts.
//!
//! The binary is CLI definition and glue: each subcommand lives in `cmd/<name>.rs`, parses
//! its flags, builds the library pieces and runs them. Errors become one line on stderr and
//! exit code 2; a closed stdout (`benglema classify | head`) is success.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// mimalloc instead of the system allocator: `backtest` and `run` allocate posts on their
/// worker threads and free many of them on another thread, which glibc's malloc serialises
/// on its arena locks (a quarter of a two-thread backtest's CPU went to malloc and free).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands the memory freed so far back to the system now, not after mimalloc's purge delay
/// (a second): between two phases that allocate on different threads (a backtest's
/// workers, then the report's), so that the second does not add its peak to the first's.
pub(crate) fn release_freed_memory() {
    // SAFETY: mi_collect only walks mimalloc's own heaps.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// benglema (崩了吗, "is it down?"): finds outages in Chinese social-media posts.
#[derive(Parser)]
#[command(name = "benglema", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The streaming detector on Kafka (with no --brokers: an in-process cluster fed with the
    /// bundled labelled history).
    Run(Box<cmd::run::Args>),
    /// Load post files (or the bundled history) into a Kafka topic.
    Produce(cmd::produce::Args),
    /// Write events (events topic or JSONL) as CSV, JSONL or Parquet, latest state per id.
    Export(cmd::export::Args),
    /// Show what the complaint extractor sees in each post (JSONL in, JSONL out).
    Classify(cmd::classify::Args),
    /// Ground-truth labels: draft incident rows from news articles, check a label file.
    Labels(cmd::labels::Args),
    /// Replay archived posts (or the bundled labelled history) and score the detector.
    Backtest(cmd::backtest::Args),
    /// Draw the plots and report.html again from an existing backtest output directory.
    Report(cmd::report::Args),
    /// Write a labelled synthetic history of posts (JSONL).
    Simulate(cmd::simulate::Args),
    /// Fit the complaint classifier on labelled posts and write it into models/.
    Train(cmd::train::Args),
    /// Throughput baselines on post files: reading alone, and reading plus plain jieba cut.
    Bench(cmd::bench::Args),
    /// Kafka throughput: preload a topic, then time a bare consumer and `run` on it.
    BenchKafka(cmd::bench_kafka::Args),
    /// Run the change-point test on any count series (CSV timestamp,value).
    DetectSeries(cmd::detect_series::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(*a),
        Command::Produce(a) => cmd::produce::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Classify(a) => cmd::classify::run(a),
        Command::Labels(a) => cmd::labels::run(a),
        Command::Backtest(a) => cmd::backtest::run_cmd(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::BenchKafka(a) => cmd::bench_kafka::run(a),
        Command::DetectSeries(a) => cmd::detect_series::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cmd::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benglema: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, as `{:#}` writes them, but without a cause the line
/// already ends with (an error that shows its source and also returns it as its source).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.is_empty() {
            line = text;
        } else if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        /// Shows its source in its own message, as the library errors do.
        #[derive(Debug)]
        struct Shows(std::io::Error);
        impl std::fmt::Display for Shows {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "/x.jsonl: {}", self.0)
            }
        }
        impl std::error::Error for Shows {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(Shows(io)).context("backtest failed");
        assert_eq!(one_line(&e), "backtest failed: /x.jsonl: No such file");
        let e = anyhow::anyhow!("disk full").context("writing events.csv");
        assert_eq!(one_line(&e), "writing events.csv: disk full");
    }
}
