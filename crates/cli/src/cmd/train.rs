//! `benglema train`: fit the complaint classifier on labelled posts, write it as plain text
//! into `models/` with its evaluation next to it, and compare rules alone with rules +
//! classifier on labelled sets.

use std::path::{Path, PathBuf};

use anyhow::Context;
use benglema_text::{Extractor, LabelledPost, Models};
use benglema_train::{
    choose_threshold, compare, load_labelled, load_unlabelled, simulated, train, TrainOptions,
};

/// Flags of `benglema train`.
#[derive(clap::Args)]
pub struct Args {
    /// Hand-labelled training posts (JSONL with a `label`); default: data/posts/labelled.jsonl,
    /// data/posts/train.jsonl and the real titles of data/real/weibo-hot/train-labelled.jsonl.
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Ordinary chatter, every post a non-complaint (JSONL); default:
    /// data/posts/background.jsonl and data/real/weibo-hot/train-chatter.jsonl (real titles
    /// that name a service without any failure).
    #[arg(long, value_name = "FILE")]
    chatter: Vec<PathBuf>,
    /// Simulated posts (with the simulator's ground truth) added to the training data.
    #[arg(long, default_value_t = 1500, value_name = "N")]
    simulated: usize,
    /// Labelled sets never trained on, to compare rules alone with rules + classifier;
    /// default: data/posts/heldout.jsonl, data/posts/novel.jsonl and our held-out real titles
    /// (data/real/weibo-hot/heldout-labelled.jsonl).
    #[arg(long, value_name = "FILE")]
    compare: Vec<PathBuf>,
    /// Where to write the model; its evaluation goes next to it as `<name>.eval.json`.
    #[arg(long, default_value = "models/classifier.txt", value_name = "FILE")]
    out: PathBuf,
    /// Features hash into 2^bits slots.
    #[arg(long, default_value_t = TrainOptions::default().bits)]
    bits: u32,
    /// Also use jieba tokens as features (default: character n-grams only, which score the
    /// same on the held-out split and need no segmentation; see README).
    #[arg(long)]
    tokens: bool,
    /// L2 regularisation strength.
    #[arg(long, default_value_t = TrainOptions::default().alpha)]
    alpha: f64,
    /// Probability at or above which a post is a complaint; by default the one of 0.3, 0.4,
    /// ..., 0.9 at which rules + classifier score the best F1 on the held-out split.
    #[arg(long)]
    threshold: Option<f32>,
    /// Share of each class held out for the evaluation.
    #[arg(long, default_value_t = TrainOptions::default().holdout)]
    holdout: f64,
    /// Seed of the split and the simulated sample.
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    seed: u64,
    /// Load the rule models from this directory instead of the embedded copies of models/.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
}

fn or_default(given: &[PathBuf], default: &[&str]) -> Vec<PathBuf> {
    if given.is_empty() {
        default.iter().map(PathBuf::from).collect()
    } else {
        given.to_vec()
    }
}

fn labelled(path: &Path) -> anyhow::Result<Vec<LabelledPost>> {
    Ok(load_labelled(path)?.into_iter().map(|e| e.post).collect())
}

/// Runs `benglema train`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut models = match &args.models {
        Some(dir) => Models::from_dir(dir)
            .with_context(|| format!("cannot load models from {}", dir.display()))?,
        None => Models::embedded(),
    };
    models.classifier = None;
    let ex = Extractor::new(models.clone());
    let mut examples = Vec::new();
    for p in or_default(
        &args.data,
        &[
            "data/posts/labelled.jsonl",
            "data/posts/train.jsonl",
            "data/real/weibo-hot/train-labelled.jsonl",
        ],
    ) {
        examples.extend(load_labelled(&p)?);
    }
    for p in or_default(
        &args.chatter,
        &[
            "data/posts/background.jsonl",
            "data/real/weibo-hot/train-chatter.jsonl",
        ],
    ) {
        examples.extend(load_unlabelled(&p)?);
    }
    examples.extend(simulated(args.simulated, args.seed)?);
    let opts = TrainOptions {
        bits: args.bits,
        tokens: args.tokens,
        alpha: args.alpha,
        holdout: args.holdout,
        seed: args.seed,
        threshold: args.threshold.unwrap_or(0.5),
        ..TrainOptions::default()
    };
    let (mut classifier, held, mut report) = train(&ex, &examples, &opts)?;
    let held_posts: Vec<LabelledPost> = held.into_iter().map(|e| e.post).collect();
    if args.threshold.is_none() {
        let (t, rows) = choose_threshold(&models, &classifier, &held_posts);
        classifier.threshold = t;
        report.options.threshold = t;
        report.combined_by_threshold = rows;
        if let Some(&(_, s)) = report.thresholds.iter().find(|(x, _)| *x == t) {
            report.holdout = s;
        }
    }
    let opts = report.options.clone();
    report
        .comparison
        .push(compare(&models, &classifier, "held-out split", &held_posts));
    for p in or_default(
        &args.compare,
        &[
            "data/posts/heldout.jsonl",
            "data/posts/novel.jsonl",
            "data/real/weibo-hot/heldout-labelled.jsonl",
        ],
    ) {
        let posts = labelled(&p)?;
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        report
            .comparison
            .push(compare(&models, &classifier, &name, &posts));
    }

    let h = &report.holdout;
    let mut header = format!(
        "benglema complaint classifier: logistic regression (linfa-logistic, L2 alpha {}) over\n\
         hashed character 1-3-grams{} of the normalised post, service aliases masked.\n\
         Written by `benglema train`; do not edit by hand. Evaluation: {}.\n\
         Trained on {} posts, {} held out. Sources (posts, complaints):",
        opts.alpha,
        if opts.tokens { " and jieba tokens" } else { "" },
        eval_path(&args.out).display(),
        report.trained_on,
        report.held_out,
    );
    for (s, n, c) in &report.sources {
        header.push_str(&format!("\n  {s}: {n}, {c}"));
    }
    header.push_str(&format!(
        "\nThreshold {}{}. Held-out split, classifier alone: precision {:.3}, recall {:.3}, F1 {:.3}.",
        opts.threshold,
        if args.threshold.is_none() {
            " (best F1 of rules + classifier on the held-out split)"
        } else {
            " (given)"
        },
        h.precision,
        h.recall,
        h.f1
    ));
    write(&args.out, &classifier.to_text(&header))?;
    write(
        &eval_path(&args.out),
        &(serde_json::to_string_pretty(&report)? + "\n"),
    )?;

    super::outln!(
        "trained on {} posts ({} held out), {} of {} feature slots used",
        report.trained_on,
        report.held_out,
        report.features_used,
        1usize << opts.bits
    );
    super::outln!(
        "held-out split, classifier alone (threshold {}): precision {:.3}  recall {:.3}  F1 {:.3}",
        opts.threshold,
        h.precision,
        h.recall,
        h.f1
    );
    super::outln!(
        "\n{:<18} {:>6} {:>10}  {:>22}  {:>22}",
        "set",
        "posts",
        "complaints",
        "rules P / R / F1",
        "rules+classifier P / R / F1"
    );
    for c in &report.comparison {
        super::outln!(
            "{:<18} {:>6} {:>10}  {:>6.3} {:>6.3} {:>6.3}    {:>6.3} {:>6.3} {:>6.3}",
            c.set,
            c.rules.posts,
            c.rules.complaints,
            c.rules.precision,
            c.rules.recall,
            c.rules.f1,
            c.combined.precision,
            c.combined.recall,
            c.combined.f1
        );
    }
    super::outln!(
        "\nwrote {} and {}",
        args.out.display(),
        eval_path(&args.out).display()
    );
    Ok(())
}

/// `models/classifier.txt` -> `models/classifier.eval.json`.
fn eval_path(model: &Path) -> PathBuf {
    let stem = model
        .file_stem()
        .map_or_else(|| "classifier".into(), |s| s.to_string_lossy().into_owned());
    model.with_file_name(format!("{stem}.eval.json"))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
