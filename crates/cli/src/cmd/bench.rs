//! `benglema bench`: the baselines a backtest's throughput is compared with, on the same
//! input files: reading and validating posts alone, and reading plus plain jieba-rs `cut`
//! (default dictionary) of every post, with the HMM off and on.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use benglema_io::{expand_inputs, read_file, Record};
use jieba_rs::Jieba;

/// Flags of `benglema bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Post files or directories, as for `backtest --input`.
    #[arg(long, short, value_name = "PATH", required = true)]
    input: Vec<PathBuf>,
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
    Ok(())
}
