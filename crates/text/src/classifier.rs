//! The learned complaint classifier: logistic-regression weights over hashed features of a
//! post, read from the plain-text `models/classifier.txt` that `benglema train` writes.
//!
//! Features (see [`Extractor::features`](crate::Extractor::features)) are the character 1- to
//! 3-grams of the normalised text (and, when the model says `tokens 1`, its jieba tokens),
//! every service alias replaced by one placeholder so that what is learned about 微信
//! carries over to 钉钉; each present feature is hashed (FNV-1a) into `2^bits` slots and
//! weighs `1/sqrt(n)` for `n` features. Inference
//! is a sparse dot product: no linear-algebra crate is needed here (training lives in
//! `benglema-train`, with linfa).

use crate::error::TextError;

/// File name of the classifier in a models directory.
pub const CLASSIFIER_FILE: &str = "classifier.txt";
/// Format tag on the first data line of the file.
const FORMAT: &str = "benglema-logreg 1";

/// A fitted logistic regression over hashed features.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    /// Features are hashed into `2^bits` slots.
    pub bits: u32,
    /// Intercept.
    pub bias: f32,
    /// Probability at or above which a post counts as a complaint.
    pub threshold: f32,
    /// Whether jieba tokens are features too (else character n-grams only).
    pub tokens: bool,
    /// Dense weights, `2^bits` long (slots never seen in training are 0).
    pub weights: Vec<f32>,
}

/// FNV-1a over the bytes of a feature's parts, each followed by a 0xff separator: stable
/// across runs, machines and versions.
pub fn hash_feature(parts: &[&str]) -> u64 {
    parts
        .iter()
        .fold(FNV_OFFSET, |h, p| fnv_end(fnv_extend(h, p.as_bytes())))
}

/// FNV-1a's offset basis.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Extends an FNV-1a state with bytes (so n-grams can be hashed incrementally).
#[inline]
pub(crate) fn fnv_extend(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ b as u64).wrapping_mul(FNV_PRIME))
}

/// Ends a part: the 0xff separator of [`hash_feature`].
#[inline]
pub(crate) fn fnv_end(h: u64) -> u64 {
    (h ^ 0xff).wrapping_mul(FNV_PRIME)
}

impl Classifier {
    /// A classifier with all weights zero.
    pub fn zeros(bits: u32) -> Classifier {
        Classifier {
            bits,
            bias: 0.0,
            threshold: 0.5,
            tokens: true,
            weights: vec![0.0; 1 << bits],
        }
    }

    /// The probability that a post with these feature slots (from
    /// [`Extractor::features`](crate::Extractor::features)) is a complaint.
    pub fn probability(&self, slots: &[u32]) -> f32 {
        if slots.is_empty() {
            return sigmoid(self.bias);
        }
        let v = 1.0 / (slots.len() as f32).sqrt();
        let z: f32 = slots
            .iter()
            .map(|&s| self.weights.get(s as usize).copied().unwrap_or(0.0))
            .sum::<f32>()
            * v
            + self.bias;
        sigmoid(z)
    }

    /// The probability given the sum of the weights of `count` distinct feature slots.
    pub fn probability_from_sum(&self, sum: f32, count: u32) -> f32 {
        if count == 0 {
            return sigmoid(self.bias);
        }
        sigmoid(sum / (count as f32).sqrt() + self.bias)
    }

    /// Parses the plain-text format written by [`Classifier::to_text`].
    pub fn parse(text: &str) -> Result<Classifier, TextError> {
        let bad = |line: usize, message: String| TextError::Model {
            file: CLASSIFIER_FILE.into(),
            message: format!("line {line}: {message}"),
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        match lines.next() {
            Some((_, l)) if l == format!("format {FORMAT}") => {}
            Some((i, l)) => {
                return Err(bad(
                    i,
                    format!(
                        "expected `format {FORMAT}`, found {l:?}; retrain with `benglema train`"
                    ),
                ))
            }
            None => {
                return Err(TextError::Model {
                    file: CLASSIFIER_FILE.into(),
                    message: "empty; retrain with `benglema train`".into(),
                })
            }
        }
        let mut bits: Option<u32> = None;
        let mut bias: Option<f32> = None;
        let mut threshold: Option<f32> = None;
        let mut tokens = false;
        let mut weights: Vec<f32> = Vec::new();
        for (i, line) in lines {
            let mut it = line.split_whitespace();
            let key = it.next().unwrap_or_default();
            let mut num = |what: &str| -> Result<f64, TextError> {
                let v = it
                    .next()
                    .ok_or_else(|| bad(i, format!("`{key}` needs {what}")))?;
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(i, format!("{v:?} is not a number")))
            };
            match key {
                "bits" => {
                    let b = num("a bit count")?;
                    if !(4.0..=24.0).contains(&b) || b.fract() != 0.0 {
                        return Err(bad(i, format!("bits {b} must be a whole number in 4..=24")));
                    }
                    bits = Some(b as u32);
                    weights = vec![0.0; 1 << b as u32];
                }
                "bias" => bias = Some(num("a number")? as f32),
                "tokens" => tokens = num("0 or 1")? != 0.0,
                "threshold" => {
                    let t = num("a probability")?;
                    if !(0.0..=1.0).contains(&t) {
                        return Err(bad(i, format!("threshold {t} must be within [0, 1]")));
                    }
                    threshold = Some(t as f32);
                }
                "w" => {
                    let slot = num("a slot")?;
                    let w = num("a weight")? as f32;
                    let Some(x) = weights.get_mut(slot as usize).filter(|_| slot >= 0.0) else {
                        return Err(bad(
                            i,
                            format!("slot {slot} is outside 0..2^bits (is `bits` set first?)"),
                        ));
                    };
                    *x = w;
                }
                other => return Err(bad(i, format!("unknown key {other:?}"))),
            }
        }
        let missing = |k: &str| TextError::Model {
            file: CLASSIFIER_FILE.into(),
            message: format!("missing `{k}`; retrain with `benglema train`"),
        };
        Ok(Classifier {
            bits: bits.ok_or_else(|| missing("bits"))?,
            bias: bias.ok_or_else(|| missing("bias"))?,
            threshold: threshold.ok_or_else(|| missing("threshold"))?,
            tokens,
            weights,
        })
    }

    /// The plain-text model: `#` comment lines (`header`, one per line), the format tag,
    /// `bits`, `bias`, `threshold`, then one `w SLOT WEIGHT` line per non-zero weight.
    pub fn to_text(&self, header: &str) -> String {
        let mut s = String::new();
        for line in header.lines() {
            s.push_str("# ");
            s.push_str(line);
            s.push('\n');
        }
        s.push_str(&format!(
            "format {FORMAT}\nbits {}\ntokens {}\nbias {}\nthreshold {}\n",
            self.bits,
            u8::from(self.tokens),
            self.bias,
            self.threshold
        ));
        for (slot, w) in self.weights.iter().enumerate() {
            if *w != 0.0 {
                s.push_str(&format!("w {slot} {w}\n"));
            }
        }
        s
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let mut c = Classifier::zeros(6);
        c.bias = -1.25;
        c.threshold = 0.6;
        c.weights[3] = 0.5;
        c.weights[63] = -2.0;
        let text = c.to_text("trained on nothing\nsecond line");
        assert!(text.starts_with("# trained on nothing\n# second line\n"));
        assert_eq!(Classifier::parse(&text).unwrap(), c);
        let p = c.probability(&[3]);
        assert!((p - sigmoid(0.5 - 1.25)).abs() < 1e-6);
    }

    #[test]
    fn malformed_files_are_explained() {
        for (text, want) in [
            ("", "empty"),
            ("format other 9\n", "expected `format benglema-logreg 1`"),
            ("format benglema-logreg 1\nbits 4\nw 99 1\n", "outside"),
            ("format benglema-logreg 1\nbits 4\nbias x\n", "not a number"),
            (
                "format benglema-logreg 1\nbits 4\nbias 0\n",
                "missing `threshold`",
            ),
            ("format benglema-logreg 1\nbits 40\n", "4..=24"),
            ("format benglema-logreg 1\nfoo 1\n", "unknown key"),
        ] {
            let e = Classifier::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn hashing_is_stable() {
        // Pinned: a change here silently invalidates every trained model.
        assert_eq!(hash_feature(&["c", "崩了"]), hash_feature(&["c", "崩了"]));
        assert_ne!(hash_feature(&["c", "ab"]), hash_feature(&["ca", "b"]));
        assert_eq!(hash_feature(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash_feature(&["c", "崩了"]), 0x2f65_0ca7_3566_9cd0);
    }
}
