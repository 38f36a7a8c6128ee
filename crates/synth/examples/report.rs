//! Simulates the days of the seed incidents and reports how the extractor reads the posts.
//!
//! `cargo run -p benglema-synth --example report [days_before days_after seed]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use benglema_model::SignalKind;
use benglema_synth::{simulate, SimSpec, Truth};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let before: f64 = args.get(1).map_or(0.0, |s| s.parse().unwrap());
    let after: f64 = args.get(2).map_or(0.0, |s| s.parse().unwrap());
    let seed: u64 = args.get(3).map_or(1, |s| s.parse().unwrap());
    let verbose = std::env::var("V").is_ok();
    let ex = common::ex();
    let specs = SimSpec::around(&common::seed_incidents(), before, after, seed);
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut rec = (0usize, 0usize);
    for spec in &specs {
        println!(
            "spec {} .. {} seed {} bursts {:?}",
            spec.start, spec.end, spec.seed, spec.bursts
        );
        let mut n = 0;
        for s in simulate(spec) {
            n += 1;
            let sig = ex.extract(&s.post.text);
            let complaint_of = |svc: &str| {
                sig.as_ref().is_some_and(|g| {
                    g.kind == SignalKind::Complaint
                        && (g.service == svc || g.also.iter().any(|a| a == svc))
                })
            };
            let any_complaint = sig
                .as_ref()
                .is_some_and(|g| g.kind == SignalKind::Complaint);
            let (key, ok) = match &s.truth {
                Truth::Complaint { service, .. } => ("complaint", complaint_of(service)),
                Truth::Recovery { service, .. } => {
                    let ok = sig
                        .as_ref()
                        .is_some_and(|g| g.kind == SignalKind::Recovery && &g.service == service);
                    rec.0 += 1;
                    if ok {
                        rec.1 += 1
                    } else if verbose {
                        println!(
                            "REC-MISS {:?} {}",
                            sig.as_ref().map(|g| (g.kind, g.service.clone())),
                            s.post.text
                        )
                    }
                    ("recovery", ok)
                }
                Truth::Background => ("background", !any_complaint),
                Truth::Confounder => ("confounder", !any_complaint),
                Truth::Burst => ("burst", !any_complaint),
            };
            let e = counts.entry(key).or_default();
            e.0 += 1;
            if ok {
                e.1 += 1;
            } else if verbose && key != "recovery" {
                println!(
                    "MISS {key} {:?} {:?} {}",
                    s.truth.service(),
                    sig.as_ref().map(|g| (g.kind, g.service.clone())),
                    s.post.text
                );
            }
        }
        let days = (spec.end - spec.start).num_seconds() as f64 / 86400.0;
        println!("  posts {n}, per day {:.0}", n as f64 / days);
    }
    for (k, (n, ok)) in &counts {
        println!(
            "{k:12} {n:7} ok {ok:7} = {:.4}",
            *ok as f64 / (*n).max(1) as f64
        );
    }
    println!("recovery read as recovery {}/{}", rec.1, rec.0);
}
