//! `benglema export`: events (an events JSONL file, or the events topic) as the PRODUCT.md
//! CSV, JSONL or Parquet, latest state per event id.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use benglema_model::{parse_time, EventStatus};
use benglema_stream::export::{read_jsonl, read_topic, write, ExportFormat, Filter, Latest};

use super::kafka_args::KafkaArgs;

/// Flags of `benglema export`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Event JSONL files (what `benglema run` prints); without any, the events topic on
    /// --brokers is read from the beginning to its current end.
    #[arg(long, short, value_name = "FILE")]
    input: Vec<PathBuf>,
    /// Keep events not ended before this time (RFC 3339, e.g. 2024-07-01T00:00:00+08:00).
    #[arg(long, value_parser = time_arg)]
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Keep events started before this time.
    #[arg(long, value_parser = time_arg)]
    until: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Keep only this service (repeatable).
    #[arg(long)]
    service: Vec<String>,
    /// Keep only events whose latest status is this (repeatable).
    #[arg(long, value_enum)]
    status: Vec<EventStatus>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormat,
    /// Output file (default: stdout).
    #[arg(long, short, value_name = "PATH")]
    out: Option<PathBuf>,
}

fn time_arg(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    parse_time(s).map_err(|e| format!("{e} (use RFC 3339, e.g. 2024-07-01T00:00:00+08:00)"))
}

/// Runs `benglema export`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut latest = Latest::default();
    if args.input.is_empty() {
        let settings = args.kafka.settings(None, None)?.context(
            "nothing to export: pass --input events.jsonl, or --brokers to read the events topic",
        )?;
        let skipped = read_topic(&settings, &mut latest)?;
        if skipped > 0 {
            eprintln!(
                "benglema: skipped {skipped} messages on {} that are not events",
                settings.events_topic
            );
        }
    } else {
        for p in &args.input {
            read_jsonl(p, &mut latest)?;
        }
    }
    let filter = Filter {
        since: args.since,
        until: args.until,
        services: args.service.iter().cloned().collect(),
        statuses: args.status.iter().copied().collect(),
    };
    let events = latest.select(&filter);
    let format = args.format;
    match &args.out {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            let mut w = std::io::BufWriter::new(f);
            write(&events, format, &mut w)?;
            w.flush()?;
        }
        None => {
            if matches!(format, ExportFormat::Parquet) && std::io::stdout().is_terminal() {
                anyhow::bail!("Parquet is binary: pass --out FILE.parquet or redirect stdout");
            }
            let mut o = std::io::stdout().lock();
            write(&events, format, &mut o)?;
            o.flush()?;
        }
    }
    eprintln!(
        "benglema: {} events ({} event states read)",
        events.len(),
        latest.states
    );
    Ok(())
}
