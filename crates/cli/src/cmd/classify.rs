//! `benglema classify`: post JSONL on stdin (or `--input`), each post with its signal out.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use benglema_model::{Post, Signal, SignalKind};
use serde::Serialize;

/// The hand-labelled posts, embedded for `--sample`.
const SAMPLE: &str = include_str!("../../../../data/posts/labelled.jsonl");

/// Flags of `benglema classify`.
#[derive(clap::Args)]
pub struct Args {
    /// Read posts from this JSONL file instead of stdin.
    #[arg(long, short, value_name = "FILE", conflicts_with = "sample")]
    input: Option<PathBuf>,
    /// Classify the bundled hand-labelled posts (data/posts/labelled.jsonl).
    #[arg(long)]
    sample: bool,
    /// Write only posts that carry a signal.
    #[arg(long)]
    signals_only: bool,
    /// Load models from this directory instead of the embedded copies of models/.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
}

#[derive(Serialize)]
struct Out<'a> {
    #[serde(flatten)]
    post: &'a Post,
    signal: Option<&'a Signal>,
}

#[derive(Serialize)]
struct Bad<'a> {
    error: &'a str,
    line: usize,
}

/// Counts for the summary on stderr.
#[derive(Default)]
struct Tally {
    posts: usize,
    errors: usize,
    complaints: usize,
    recoveries: usize,
    denials: usize,
}

/// Runs `benglema classify`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let ex = super::extractor(args.models.as_deref())?;
    let input: Box<dyn Read> = match (&args.input, args.sample) {
        (Some(p), _) => {
            Box::new(File::open(p).with_context(|| format!("cannot open {}", p.display()))?)
        }
        (None, true) => Box::new(SAMPLE.as_bytes()),
        (None, false) => Box::new(io::stdin().lock()),
    };
    let mut reader = BufReader::new(input);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut tally = Tally::default();
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .context("reading input")?;
        if n == 0 {
            break;
        }
        line += 1;
        let rec = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let rec = rec.strip_suffix(b"\r").unwrap_or(rec);
        if rec.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match Post::parse(rec) {
            Ok(post) => {
                tally.posts += 1;
                let signal = ex.extract(&post.text);
                match signal.as_ref().map(|s| s.kind) {
                    Some(SignalKind::Complaint) => tally.complaints += 1,
                    Some(SignalKind::Recovery) => tally.recoveries += 1,
                    Some(SignalKind::Denial) => tally.denials += 1,
                    None => {}
                }
                if signal.is_some() || !args.signals_only {
                    serde_json::to_writer(
                        &mut out,
                        &Out {
                            post: &post,
                            signal: signal.as_ref(),
                        },
                    )?;
                    out.write_all(b"\n")?;
                }
            }
            Err(e) => {
                tally.errors += 1;
                serde_json::to_writer(
                    &mut out,
                    &Bad {
                        error: &e.to_string(),
                        line,
                    },
                )?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    eprintln!(
        "benglema classify: {} posts: {} complaints, {} recoveries, {} denials; {} invalid lines",
        tally.posts, tally.complaints, tally.recoveries, tally.denials, tally.errors
    );
    Ok(())
}
