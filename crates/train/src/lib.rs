//! # benglema-train
//!
//! Fits the learned complaint classifier of `benglema-text` ([`Classifier`]) and measures it.
//!
//! - [`load_labelled`] / [`load_unlabelled`] read hand-labelled posts (the format of
//!   `data/posts/labelled.jsonl`) and ordinary chatter (every post a non-complaint);
//!   [`simulated`] adds a seeded sample of the simulator's posts with their ground truth;
//! - [`train`] splits the examples (stratified, seeded) into a training part and a held-out
//!   part, fits an L2-regularised logistic regression with linfa-logistic on the hashed
//!   features of [`Extractor::features`], and scores the classifier alone on the held-out
//!   part (precision, recall, F1 at the chosen threshold and a threshold table);
//! - [`compare`] scores the rules alone against rules + classifier on labelled sets, with the
//!   extractor's own complaint metric ([`benglema_text::evaluate`]).
//!
//! Only this crate depends on linfa; inference is a sparse dot product in `benglema-text`.

use std::path::Path;

use benglema_model::SignalKind;
use benglema_synth::BurstKind;
use benglema_text::{evaluate, Classifier, EvalReport, Extractor, Label, LabelledPost, Models};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Why training failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A data file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A data file is malformed.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Bad options or too little data.
    #[error("{0}")]
    Invalid(String),
    /// The solver failed.
    #[error("logistic regression failed: {0}")]
    Fit(String),
}

/// One training example.
#[derive(Debug, Clone)]
pub struct Example {
    /// The post, with its label (no service and no kind for chatter).
    pub post: LabelledPost,
    /// Where it came from (file name or `simulated`).
    pub source: String,
}

impl Example {
    /// Whether the post is a complaint: the class the classifier learns.
    pub fn complaint(&self) -> bool {
        self.post.label.kind == Some(SignalKind::Complaint)
    }
}

fn read(path: &Path) -> Result<String, TrainError> {
    std::fs::read_to_string(path).map_err(|source| TrainError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn source_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

/// Hand-labelled posts (`{"id", "text", "label": {"service", "kind", "symptoms"}}` per line).
pub fn load_labelled(path: &Path) -> Result<Vec<Example>, TrainError> {
    let posts = LabelledPost::parse_jsonl(&read(path)?).map_err(|message| TrainError::Data {
        path: path.display().to_string(),
        message,
    })?;
    let source = source_name(path);
    Ok(posts
        .into_iter()
        .map(|post| Example {
            post,
            source: source.clone(),
        })
        .collect())
}

/// Unlabelled ordinary chatter (`{"id", "text"}` per line): every post a non-complaint.
pub fn load_unlabelled(path: &Path) -> Result<Vec<Example>, TrainError> {
    #[derive(serde::Deserialize)]
    struct Raw {
        id: String,
        text: String,
    }
    let source = source_name(path);
    read(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let r: Raw = serde_json::from_str(l).map_err(|e| TrainError::Data {
                path: path.display().to_string(),
                message: format!("line {}: {e}", i + 1),
            })?;
            Ok(Example {
                post: LabelledPost {
                    id: r.id,
                    text: r.text,
                    label: none_label(),
                },
                source: source.clone(),
            })
        })
        .collect()
}

fn none_label() -> Label {
    Label {
        service: None,
        kind: None,
        symptoms: Vec::new(),
    }
}

/// A seeded sample of simulated posts (a day and a half with one injected outage and the
/// simulator's three kinds of harmless burst): up to `n / 3` complaints and the rest other
/// posts, labelled with the simulator's ground truth.
pub fn simulated(n: usize, seed: u64) -> Result<Vec<Example>, TrainError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    // A 钉钉 outage one weekday morning, inside a day and a half of ordinary traffic (a
    // window, seed and service that the bundled history does not use).
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).expect("a valid constant time");
    let mut spec = benglema_synth::SimSpec::new(
        seed,
        t("2024-03-11T00:00:00+08:00"),
        t("2024-03-12T12:00:00+08:00"),
    );
    spec.incidents.push(benglema_model::Incident {
        incident_id: "train-dingtalk".into(),
        service: "钉钉".into(),
        start: Some(t("2024-03-11T09:10:00+08:00")),
        end: Some(t("2024-03-11T10:30:00+08:00")),
        acknowledged_at: None,
        symptoms: Vec::new(),
        source: "simulated".into(),
        notes: String::new(),
    });
    // The simulator's harmless bursts too: a feature launch, a shopping-festival night and a
    // meme wave (without them the classifier reads 付款 talk on a sale night as complaints).
    for (kind, service, start, minutes) in [
        (
            BurstKind::FeatureLaunch,
            "微信",
            "2024-03-11T14:00:00+08:00",
            120,
        ),
        (
            BurstKind::ShoppingFestival,
            "淘宝",
            "2024-03-11T20:00:00+08:00",
            180,
        ),
        (
            BurstKind::ShoppingFestival,
            "京东",
            "2024-03-11T21:00:00+08:00",
            120,
        ),
        (BurstKind::Meme, "抖音", "2024-03-12T08:00:00+08:00", 90),
    ] {
        spec.bursts.push(benglema_synth::Burst {
            kind,
            service: service.into(),
            start: t(start),
            minutes,
            scale: None,
        });
    }
    let specs = [spec];
    let mut complaints = Vec::new();
    let mut others = Vec::new();
    for spec in &specs {
        for s in benglema_synth::simulate(spec) {
            let (kind, service) = match &s.truth {
                benglema_synth::Truth::Complaint { service, .. } => {
                    (Some(SignalKind::Complaint), Some(service.clone()))
                }
                benglema_synth::Truth::Recovery { service, .. } => {
                    (Some(SignalKind::Recovery), Some(service.clone()))
                }
                _ => (None, None),
            };
            let ex = Example {
                post: LabelledPost {
                    id: s.post.id.clone(),
                    text: s.post.text.clone(),
                    label: Label {
                        service,
                        kind,
                        symptoms: Vec::new(),
                    },
                },
                source: "simulated".into(),
            };
            if kind == Some(SignalKind::Complaint) {
                complaints.push(ex);
            } else {
                others.push(ex);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    complaints.shuffle(&mut rng);
    others.shuffle(&mut rng);
    complaints.truncate(n / 3);
    others.truncate(n - complaints.len());
    complaints.extend(others);
    Ok(complaints)
}

/// Training settings.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOptions {
    /// Features hash into `2^bits` slots.
    pub bits: u32,
    /// Use jieba tokens as features besides character n-grams.
    pub tokens: bool,
    /// L2 regularisation strength.
    pub alpha: f64,
    /// Solver iterations at most.
    pub max_iterations: u64,
    /// Share of each class held out for evaluation.
    pub holdout: f64,
    /// Seed of the split.
    pub seed: u64,
    /// Probability at or above which a post is a complaint.
    pub threshold: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            bits: 14,
            tokens: false,
            alpha: 0.05,
            max_iterations: 300,
            holdout: 0.2,
            seed: 20_211_018,
            threshold: 0.5,
        }
    }
}

/// Precision, recall and F1 of one binary decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    /// Posts scored.
    pub posts: usize,
    /// Complaints among them.
    pub complaints: usize,
    /// True positives.
    pub true_positives: usize,
    /// False positives.
    pub false_positives: usize,
    /// False negatives.
    pub false_negatives: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

impl Scores {
    fn from_counts(posts: usize, tp: usize, fp: usize, fn_: usize) -> Scores {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Scores {
            posts,
            complaints: tp + fn_,
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision,
            recall,
            f1,
        }
    }

    /// The extractor's complaint scores (service must match too).
    pub fn of(r: &EvalReport) -> Scores {
        Scores::from_counts(
            r.posts,
            r.true_positives,
            r.false_positives,
            r.false_negatives,
        )
    }
}

/// What training measured.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// The settings.
    pub options: TrainOptions,
    /// Examples per source: (source, examples, complaints).
    pub sources: Vec<(String, usize, usize)>,
    /// Examples fitted on.
    pub trained_on: usize,
    /// Examples held out.
    pub held_out: usize,
    /// Non-zero weights.
    pub features_used: usize,
    /// The classifier alone on the held-out part, at the threshold.
    pub holdout: Scores,
    /// The classifier alone on the held-out part at other thresholds.
    pub thresholds: Vec<(f32, Scores)>,
    /// Rules + classifier on the held-out part at each candidate threshold (what
    /// [`choose_threshold`] chose from), when the threshold was chosen.
    pub combined_by_threshold: Vec<(f32, Scores)>,
    /// Rules alone against rules + classifier, per evaluation set.
    pub comparison: Vec<Comparison>,
}

/// Candidate thresholds.
pub const THRESHOLDS: [f32; 7] = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// The threshold at which rules + classifier score the best complaint F1 on `held` (the
/// held-out part of the training data, never the evaluation sets), ties to the higher
/// threshold; with the scores at each candidate.
pub fn choose_threshold(
    models: &Models,
    classifier: &Classifier,
    held: &[LabelledPost],
) -> (f32, Vec<(f32, Scores)>) {
    let rows: Vec<(f32, Scores)> = THRESHOLDS
        .iter()
        .map(|&t| {
            let mut c = classifier.clone();
            c.threshold = t;
            (t, compare(models, &c, "held-out split", held).combined)
        })
        .collect();
    let best = rows
        .iter()
        .fold(None::<(f32, f64)>, |best, &(t, s)| match best {
            Some((_, f)) if f > s.f1 => best,
            _ => Some((t, s.f1)),
        })
        .map_or(0.5, |(t, _)| t);
    (best, rows)
}

/// Rules alone against rules + classifier on one labelled set.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The set.
    pub set: String,
    /// The rules alone.
    pub rules: Scores,
    /// Rules + classifier.
    pub combined: Scores,
}

/// Fits the classifier on a stratified part of `examples` and scores it on the rest.
/// Returns the classifier, the held-out examples (for [`compare`]) and the report.
pub fn train(
    ex: &Extractor,
    examples: &[Example],
    opts: &TrainOptions,
) -> Result<(Classifier, Vec<Example>, TrainReport), TrainError> {
    if !(4..=20).contains(&opts.bits) {
        return Err(TrainError::Invalid(format!(
            "--bits {} must be within 4..=20",
            opts.bits
        )));
    }
    if !(0.0..0.9).contains(&opts.holdout) || !(0.0..=1.0).contains(&opts.threshold) {
        return Err(TrainError::Invalid(
            "--holdout must be within [0, 0.9) and --threshold within [0, 1]".into(),
        ));
    }
    let mut pos: Vec<&Example> = examples.iter().filter(|e| e.complaint()).collect();
    let mut neg: Vec<&Example> = examples.iter().filter(|e| !e.complaint()).collect();
    if pos.len() < 10 || neg.len() < 10 {
        return Err(TrainError::Invalid(format!(
            "need at least 10 complaints and 10 other posts, got {} and {}",
            pos.len(),
            neg.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    pos.shuffle(&mut rng);
    neg.shuffle(&mut rng);
    let mut fit_set: Vec<&Example> = Vec::new();
    let mut held: Vec<&Example> = Vec::new();
    for class in [&pos, &neg] {
        let k = (class.len() as f64 * opts.holdout).round() as usize;
        held.extend(&class[..k]);
        fit_set.extend(&class[k..]);
    }

    let dims = 1usize << opts.bits;
    let features = |e: &Example| ex.features(&e.post.text, opts.bits, opts.tokens);
    let mut x = Array2::<f64>::zeros((fit_set.len(), dims));
    let mut y = Array1::<usize>::zeros(fit_set.len());
    for (i, e) in fit_set.iter().enumerate() {
        let slots = features(e);
        let v = 1.0 / (slots.len().max(1) as f64).sqrt();
        for s in slots {
            x[[i, s as usize]] = v;
        }
        y[i] = usize::from(e.complaint());
    }
    let fitted = LogisticRegression::default()
        .alpha(opts.alpha)
        .max_iterations(opts.max_iterations)
        .fit(&Dataset::new(x, y))
        .map_err(|e| TrainError::Fit(e.to_string()))?;
    // linfa's probabilities are those of its "positive" class; make it "complaint".
    let sign: f64 = if fitted.labels().pos.class == 1 {
        1.0
    } else {
        -1.0
    };
    let mut c = Classifier::zeros(opts.bits);
    c.tokens = opts.tokens;
    c.threshold = opts.threshold;
    c.bias = (sign * fitted.intercept()) as f32;
    for (w, p) in c.weights.iter_mut().zip(fitted.params().iter()) {
        // Slots no training post used keep exactly zero; tiny weights are rounded away.
        let v = (sign * p) as f32;
        *w = if v.abs() < 1e-5 { 0.0 } else { v };
    }

    let probs: Vec<(f32, bool)> = held
        .iter()
        .map(|e| (c.probability(&features(e)), e.complaint()))
        .collect();
    let at = |t: f32| {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for &(p, truth) in &probs {
            match (p >= t, truth) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
        Scores::from_counts(probs.len(), tp, fp, fn_)
    };
    let mut sources: Vec<(String, usize, usize)> = Vec::new();
    for e in examples {
        match sources.iter_mut().find(|s| s.0 == e.source) {
            Some(s) => {
                s.1 += 1;
                s.2 += usize::from(e.complaint());
            }
            None => sources.push((e.source.clone(), 1, usize::from(e.complaint()))),
        }
    }
    let report = TrainReport {
        options: opts.clone(),
        sources,
        trained_on: fit_set.len(),
        held_out: held.len(),
        features_used: c.weights.iter().filter(|w| **w != 0.0).count(),
        holdout: at(opts.threshold),
        thresholds: THRESHOLDS.into_iter().map(|t| (t, at(t))).collect(),
        combined_by_threshold: Vec::new(),
        comparison: Vec::new(),
    };
    Ok((c, held.into_iter().cloned().collect(), report))
}

/// Scores the rules alone (`models` without a classifier) against rules + `classifier` on a
/// labelled set.
pub fn compare(
    models: &Models,
    classifier: &Classifier,
    set: &str,
    posts: &[LabelledPost],
) -> Comparison {
    let mut rules_only = models.clone();
    rules_only.classifier = None;
    let mut combined = models.clone();
    combined.classifier = Some(classifier.clone());
    Comparison {
        set: set.to_owned(),
        rules: Scores::of(&evaluate(&Extractor::new(rules_only), posts)),
        combined: Scores::of(&evaluate(&Extractor::new(combined), posts)),
    }
}
