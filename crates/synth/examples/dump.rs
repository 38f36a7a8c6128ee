//! Prints a simulated stream as JSON lines, each post with its ground truth.
//!
//! `cargo run -p benglema-synth --example dump -- START END [SEED]` (RFC 3339 times), e.g.
//! `-- 2021-10-18T08:30:00+08:00 2021-10-18T10:00:00+08:00 1`, injects the seed incidents
//! of `data/labels/incidents.csv` that fall in the window.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;

use benglema_synth::{simulate, SimSpec};
use chrono::DateTime;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: dump START END [SEED]");
        std::process::exit(2);
    }
    let start = DateTime::parse_from_rfc3339(&args[1]).expect("START is RFC 3339");
    let end = DateTime::parse_from_rfc3339(&args[2]).expect("END is RFC 3339");
    let seed = args
        .get(3)
        .map_or(1, |s| s.parse().expect("SEED is a number"));
    let mut spec = SimSpec::new(seed, start, end);
    spec.incidents = common::seed_incidents();
    let out = std::io::stdout();
    let mut out = out.lock();
    for s in simulate(&spec) {
        let line = serde_json::json!({"post": s.post, "truth": s.truth});
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
}
