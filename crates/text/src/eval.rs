//! Evaluation of the extractor against hand-labelled posts (`data/posts/labelled.jsonl`).
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
