//! The whole text stage (normalise → prefilter → jieba cut → cue binding) against plain
//! jieba-rs `cut` (default dictionary) on the same posts, for two hand-written corpora that
//! bracket real traffic:
//!
//! - `complaint_dense`: the 604 labelled posts of `data/posts/labelled.jsonl` and
//!   `heldout.jsonl`, about half of them complaints and most of the rest confounders — every
//!   post names a service and a cue, so nearly all are segmented and analysed (worst case);
//! - `ordinary_day`: the 629 posts of `data/posts/background.jsonl`, chatter on a day when
//!   nothing is down — most posts fail the prefilter and are never segmented.
//!
//! `read_with_terms` is what `run` and `backtest` do per post ([`Extractor::read`]: signal and
//! terms from one normalise-and-cut pass); `extract_then_terms` is the two-pass path it
//! replaced.
//!
//! Run: `cargo bench -p benglema-text --bench text_stage`

use benglema_text::{normalize, Extractor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jieba_rs::Jieba;
use std::hint::black_box;

fn texts(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line parses");
            v["text"].as_str().expect("text").to_owned()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut dense = texts(include_str!("../../../data/posts/labelled.jsonl"));
    dense.extend(texts(include_str!("../../../data/posts/heldout.jsonl")));
    let ordinary = texts(include_str!("../../../data/posts/background.jsonl"));
    let plain = Jieba::new();
    let ex = Extractor::embedded();
    for (name, posts) in [("complaint_dense", &dense), ("ordinary_day", &ordinary)] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(posts.len() as u64));
        for hmm in [false, true] {
            let id = if hmm { "jieba_cut_hmm" } else { "jieba_cut" };
            g.bench_function(id, |b| {
                b.iter(|| {
                    let mut n = 0usize;
                    for p in posts {
                        n += plain.cut(black_box(p), hmm).len();
                    }
                    n
                })
            });
        }
        g.bench_function("text_stage", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for p in posts {
                    n += ex.extract(black_box(p)).is_some() as usize;
                }
                n
            })
        });
        // What `run` and `backtest` do per post: the signal and, for a complaint, its terms.
        // Before `Extractor::read`, the terms were a second normalise-and-cut pass.
        g.bench_function("read_with_terms", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for p in posts {
                    n += ex.read(black_box(p)).terms.len();
                }
                n
            })
        });
        g.bench_function("extract_then_terms", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for p in posts {
                    let s = ex.extract(black_box(p));
                    if s.is_some_and(|s| s.kind == benglema_model::SignalKind::Complaint) {
                        n += ex.terms(black_box(p)).len();
                    }
                }
                n
            })
        });
        g.bench_function("normalize", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for p in posts {
                    n += normalize(black_box(p)).segments.len();
                }
                n
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
