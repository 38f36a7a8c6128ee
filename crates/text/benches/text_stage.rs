//! The whole text stage (normalise → prefilter → jieba cut → cue binding) against plain
//! jieba-rs `cut` on the same realistic corpus: the 600+ hand-written posts of
//! `data/posts/` (about half of them complaints, so the prefilter skips less than it would
//! on a real firehose: a worst case for the text stage).
//!
//! Run: `cargo bench -p benglema-text --bench text_stage`

use benglema_text::{normalize, Extractor, LabelledPost};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jieba_rs::Jieba;
use std::hint::black_box;

fn corpus() -> Vec<String> {
    let mut v = Vec::new();
    for f in [
        include_str!("../../../data/posts/labelled.jsonl"),
        include_str!("../../../data/posts/heldout.jsonl"),
    ] {
        v.extend(
            LabelledPost::parse_jsonl(f)
                .expect("corpus parses")
                .into_iter()
                .map(|p| p.text),
        );
    }
    v
}

fn bench(c: &mut Criterion) {
    let posts = corpus();
    let mut g = c.benchmark_group("text_stage");
    g.throughput(Throughput::Elements(posts.len() as u64));
    let plain = Jieba::new();
    g.bench_function("jieba_cut_plain", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &posts {
                n += plain.cut(black_box(p), false).len();
            }
            n
        })
    });
    g.bench_function("jieba_cut_plain_hmm", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &posts {
                n += plain.cut(black_box(p), true).len();
            }
            n
        })
    });
    let ex = Extractor::embedded();
    g.bench_function("text_stage_extract", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &posts {
                n += ex.extract(black_box(p)).is_some() as usize;
            }
            n
        })
    });
    let normalized: Vec<String> = posts
        .iter()
        .map(|p| normalize(p).own().to_owned())
        .collect();
    g.bench_function("extractor_jieba_cut_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &normalized {
                n += ex.jieba().cut(black_box(p), false).len();
            }
            n
        })
    });
    g.bench_function("normalize_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &posts {
                n += normalize(black_box(p)).segments.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
