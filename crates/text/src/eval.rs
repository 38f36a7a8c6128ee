//! Evaluation of the extractor against hand-labelled posts (`data/posts/labelled.jsonl`)
//! and against hand-labelled real Weibo hot-search titles (`data/real/weibo-hot/`).
//!
//! A prediction is a correct complaint when the post is labelled a complaint and the
//! predicted service (or one of its `also` services) is the labelled one. Precision and
//! recall are computed over complaints, the class the detector counts; recoveries, denials
//! and symptoms are reported alongside.

use std::fmt;

use benglema_model::{Signal, SignalKind};
use serde::Deserialize;

use crate::Extractor;

/// The label of one post.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Label {
    /// Canonical service, or `None` for posts that are not about a service failing.
    pub service: Option<String>,
    /// Kind of statement, `None` with `service`.
    pub kind: Option<SignalKind>,
    /// Symptom categories.
    #[serde(default)]
    pub symptoms: Vec<String>,
}

/// One hand-labelled post.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledPost {
    /// Post id.
    pub id: String,
    /// Post text.
    pub text: String,
    /// Its label.
    pub label: Label,
}

impl LabelledPost {
    /// Parses a JSONL file of labelled posts; the error names the line.
    pub fn parse_jsonl(text: &str) -> Result<Vec<LabelledPost>, String> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
            .collect()
    }
}

/// A post the extractor got wrong.
#[derive(Debug, Clone)]
pub struct Miss {
    /// Post id.
    pub id: String,
    /// Post text.
    pub text: String,
    /// Expected label.
    pub label: Label,
    /// What the extractor said.
    pub got: Option<Signal>,
}

/// Precision/recall of complaint extraction and the other figures.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    /// Posts evaluated.
    pub posts: usize,
    /// Correct complaints.
    pub true_positives: usize,
    /// Predicted complaints that are not labelled complaints of that service.
    pub false_positives: usize,
    /// Labelled complaints not predicted (with the right service).
    pub false_negatives: usize,
    /// Posts whose predicted kind and service equal the label (null = no signal).
    pub exact: usize,
    /// Labelled recoveries / denials predicted as such.
    pub recovery_hits: (usize, usize),
    /// Labelled denials predicted as such.
    pub denial_hits: (usize, usize),
    /// Symptom categories on correct complaints: (matched, predicted, labelled).
    pub symptoms: (usize, usize, usize),
    /// Posts whose prediction differs from the label.
    pub misses: Vec<Miss>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

impl EvalReport {
    /// Complaint precision.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }
    /// Complaint recall.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
    /// Complaint F1.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "posts                 {}", self.posts)?;
        writeln!(
            f,
            "complaint precision   {:.3}  ({} of {})",
            self.precision(),
            self.true_positives,
            self.true_positives + self.false_positives
        )?;
        writeln!(
            f,
            "complaint recall      {:.3}  ({} of {})",
            self.recall(),
            self.true_positives,
            self.true_positives + self.false_negatives
        )?;
        writeln!(f, "complaint F1          {:.3}", self.f1())?;
        writeln!(
            f,
            "exact (kind+service)  {:.3}  ({} of {})",
            ratio(self.exact, self.posts),
            self.exact,
            self.posts
        )?;
        writeln!(
            f,
            "recoveries found      {} of {}",
            self.recovery_hits.0, self.recovery_hits.1
        )?;
        writeln!(
            f,
            "denials found         {} of {}",
            self.denial_hits.0, self.denial_hits.1
        )?;
        let (m, p, l) = self.symptoms;
        write!(
            f,
            "symptoms (on correct complaints): precision {:.3}, recall {:.3}",
            ratio(m, p),
            ratio(m, l)
        )
    }
}

fn same_service(sig: &Signal, want: &str) -> bool {
    sig.service == want || sig.also.iter().any(|s| s == want)
}

/// Runs the extractor over labelled posts.
pub fn evaluate(ex: &Extractor, posts: &[LabelledPost]) -> EvalReport {
    let mut r = EvalReport {
        posts: posts.len(),
        ..EvalReport::default()
    };
    for p in posts {
        let got = ex.extract(&p.text);
        let want_service = p.label.service.as_deref();
        let want_kind = p.label.kind;
        let is_complaint = want_kind == Some(SignalKind::Complaint);
        let got_complaint = got.as_ref().filter(|s| s.kind == SignalKind::Complaint);
        match (got_complaint, is_complaint) {
            (Some(s), true) if same_service(s, want_service.unwrap_or_default()) => {
                r.true_positives += 1;
                let m = s
                    .symptoms
                    .iter()
                    .filter(|x| p.label.symptoms.contains(x))
                    .count();
                r.symptoms.0 += m;
                r.symptoms.1 += s.symptoms.len();
                r.symptoms.2 += p.label.symptoms.len();
            }
            (Some(_), true) => {
                r.false_positives += 1;
                r.false_negatives += 1;
            }
            (Some(_), false) => r.false_positives += 1,
            (None, true) => r.false_negatives += 1,
            (None, false) => {}
        }
        for (kind, slot) in [
            (SignalKind::Recovery, &mut r.recovery_hits),
            (SignalKind::Denial, &mut r.denial_hits),
        ] {
            if want_kind == Some(kind) {
                slot.1 += 1;
                if got.as_ref().is_some_and(|s| {
                    s.kind == kind && same_service(s, want_service.unwrap_or_default())
                }) {
                    slot.0 += 1;
                }
            }
        }
        let exact = match (&got, want_kind) {
            (None, None) => true,
            (Some(s), Some(k)) => s.kind == k && same_service(s, want_service.unwrap_or_default()),
            _ => false,
        };
        if exact {
            r.exact += 1;
        } else {
            r.misses.push(Miss {
                id: p.id.clone(),
                text: p.text.clone(),
                label: p.label.clone(),
                got,
            });
        }
    }
    r
}

/// One hand-labelled real title (a row of `data/real/weibo-hot/labels-*.tsv`: `first_seen`,
/// `title`, `outage`, `service`, `kind`, `note`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TitleLabel {
    /// When the title was first seen on the hot-search list.
    pub first_seen: String,
    /// The title, as Weibo showed it.
    pub title: String,
    /// `1` when the title says a specific online service is failing.
    #[serde(deserialize_with = "zero_one")]
    pub outage: bool,
    /// The failing services as named (`;`-joined; `?` when the title names none).
    #[serde(default)]
    pub service: String,
    /// complaint, news or recovery (empty when not an outage).
    #[serde(default)]
    pub kind: String,
    /// The labeller's note.
    #[serde(default)]
    pub note: String,
}

fn zero_one<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match String::deserialize(d)?.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        x => Err(serde::de::Error::custom(format!(
            "outage must be 0 or 1, not {x:?}"
        ))),
    }
}

impl TitleLabel {
    /// Parses a tab-separated label file with a header row; the error names the line.
    pub fn parse_tsv(text: &str) -> Result<Vec<TitleLabel>, String> {
        csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .quoting(false)
            .from_reader(text.as_bytes())
            .deserialize()
            .enumerate()
            .map(|(i, r)| r.map_err(|e| format!("row {}: {e}", i + 1)))
            .collect()
    }
}

/// How `classify` does on labelled titles, by the rule of `score.py`: a title is found when
/// it gets a signal of any kind, and found with the right service when the signal's
/// `service` or one of its `also` names the labelled one (lower-cased, spaces removed, one
/// containing the other; a label of `?` accepts any).
#[derive(Debug, Clone, Default)]
pub struct TitleReport {
    /// Titles scored.
    pub titles: usize,
    /// Titles labelled as outages.
    pub outages: usize,
    /// Outage titles with a signal.
    pub found: usize,
    /// Outage titles with a signal naming the labelled service.
    pub right_service: usize,
    /// Other titles with a signal: (title, service, cue).
    pub false_signals: Vec<(String, String, String)>,
    /// Outage titles without a signal: (title, labelled service).
    pub missed: Vec<(String, String)>,
    /// Outage titles with a signal for another service: (title, label, got).
    pub wrong_service: Vec<(String, String, String)>,
    /// Signals whose service was discovered (read from the text, not the gazetteer):
    /// (all, on outage titles).
    pub discovered: (usize, usize),
    /// Titles the classifier alone scores at or above its threshold: (all, outages).
    pub classifier: (usize, usize),
}

impl TitleReport {
    /// Signals that are outages.
    pub fn precision(&self) -> f64 {
        ratio(self.found, self.found + self.false_signals.len())
    }
    /// Outages that get a signal.
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.outages)
    }
    /// Outages that get a signal naming the right service.
    pub fn service_recall(&self) -> f64 {
        ratio(self.right_service, self.outages)
    }
}

impl fmt::Display for TitleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (t, s, c) in &self.false_signals {
            writeln!(f, "FALSE {t}  got={s} cue={c}")?;
        }
        for (t, l) in &self.missed {
            writeln!(f, "MISS  {t}  label={l}")?;
        }
        for (t, l, g) in &self.wrong_service {
            writeln!(f, "WRONG {t}  label={l} got={g}")?;
        }
        writeln!(
            f,
            "discovered services: {} signals, {} on outage titles (precision {:.3})",
            self.discovered.0,
            self.discovered.1,
            ratio(self.discovered.1, self.discovered.0)
        )?;
        writeln!(
            f,
            "classifier alone: {} titles at or above its threshold, {} of them outages (precision {:.3})",
            self.classifier.0,
            self.classifier.1,
            ratio(self.classifier.1, self.classifier.0)
        )?;
        let (p, r) = (self.precision(), self.recall());
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        write!(
            f,
            "titles: precision={p:.3} recall={r:.3} f1={f1:.3} service_recall={:.3} n={} outages={}",
            self.service_recall(),
            self.titles,
            self.outages
        )
    }
}

fn norm_name(s: &str) -> String {
    s.to_lowercase().replace(' ', "")
}

/// Scores the extractor on labelled titles (see [`TitleReport`]).
pub fn score_titles(ex: &Extractor, labels: &[TitleLabel]) -> TitleReport {
    let mut r = TitleReport {
        titles: labels.len(),
        ..TitleReport::default()
    };
    for l in labels {
        let sig = ex.extract(&l.title);
        if sig.as_ref().is_some_and(|s| s.discovered) {
            r.discovered.0 += 1;
            r.discovered.1 += usize::from(l.outage);
        }
        if ex.classifier_fires(&l.title) {
            r.classifier.0 += 1;
            r.classifier.1 += usize::from(l.outage);
        }
        match (&sig, l.outage) {
            (Some(s), true) => {
                r.found += 1;
                let want: Vec<String> = l
                    .service
                    .split(';')
                    .filter(|x| !x.is_empty())
                    .map(norm_name)
                    .collect();
                let got: Vec<String> = std::iter::once(&s.service)
                    .chain(&s.also)
                    .map(|x| norm_name(x))
                    .collect();
                let hit = want == ["?"]
                    || want.iter().any(|w| {
                        got.iter()
                            .any(|g| w == g || w.contains(g.as_str()) || g.contains(w.as_str()))
                    });
                if hit {
                    r.right_service += 1;
                } else {
                    r.wrong_service
                        .push((l.title.clone(), l.service.clone(), s.service.clone()));
                }
            }
            (None, true) => r.missed.push((l.title.clone(), l.service.clone())),
            (Some(s), false) => {
                r.false_signals
                    .push((l.title.clone(), s.service.clone(), s.cue.clone()))
            }
            (None, false) => {}
        }
        r.outages += usize::from(l.outage);
    }
    r
}
