//! `benglema labels`: draft incident labels from news articles; check a label file.

use std::io;
use std::path::PathBuf;

use anyhow::{bail, Context};
use benglema_io::{read_incidents, write_incidents};
use benglema_labels::{draft_incidents, Article, DraftOptions};
use chrono::{FixedOffset, NaiveDate};

/// Flags of `benglema labels`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Draft incident rows (label CSV on stdout) from news articles such as data/seeds/*.
    Extract(ExtractArgs),
    /// Validate a label file and print a one-line summary per incident.
    Check {
        /// The label file.
        #[arg(default_value = "data/labels/incidents.csv")]
        file: PathBuf,
    },
}

#[derive(clap::Args)]
struct ExtractArgs {
    /// Article files: optional YAML front matter, then HTML or plain text.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Incident date for articles that state none (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    date: Option<NaiveDate>,
    /// UTC offset of local times in the articles, in hours.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(i32).range(-12..=14))]
    utc_offset: i32,
    /// Load models from this directory instead of the embedded copies of models/.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Explain on stderr how each sentence was read.
    #[arg(long)]
    explain: bool,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("{s:?} is not a date like 2023-03-29 ({e})"))
}

/// Runs `benglema labels`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Sub::Extract(a) => {
            let ex = super::extractor(a.models.as_deref())?;
            let opts = DraftOptions {
                date: a.date,
                zone: FixedOffset::east_opt(a.utc_offset * 3600).expect("range-checked offset"),
                trace: a.explain,
            };
            let mut rows = Vec::new();
            for f in &a.files {
                let article = Article::read(f)?;
                let d = draft_incidents(&article, &ex, &opts)?;
                for t in &d.trace {
                    eprintln!("{}: {t}", f.display());
                }
                rows.extend(d.rows);
            }
            if rows.is_empty() {
                bail!("no outage found in {} article(s)", a.files.len());
            }
            write_incidents(&rows, io::stdout().lock())?;
            Ok(())
        }
        Sub::Check { file } => {
            let rows =
                read_incidents(&file).with_context(|| format!("checking {}", file.display()))?;
            for r in &rows {
                super::outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.incident_id,
                    r.service,
                    r.start.map_or("-".into(), |t| t.to_rfc3339()),
                    r.end.map_or("-".into(), |t| t.to_rfc3339()),
                    r.symptoms.join(";")
                );
            }
            eprintln!("{}: {} rows, valid", file.display(), rows.len());
            Ok(())
        }
    }
}
