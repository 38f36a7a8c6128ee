//! Reading one stretch of text as one statement (news articles, sentence by sentence), where
//! the service is often named a sentence earlier: used by `labels` to draft incident labels.

use super::*;

/// What the extractor sees in one stretch of text, beyond its signal: used to read news
/// articles sentence by sentence, where the service is often named one sentence earlier.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    /// The signal, as [`Extractor::extract`] would give it.
    pub signal: Option<Signal>,
    /// The kind of the last cue that found no service (此功能已经逐步恢复中).
    pub orphan: Option<SignalKind>,
    /// Symptom categories named anywhere in the text.
    pub symptoms: Vec<String>,
    /// Services named (unambiguous aliases only), in order, without repeats.
    pub services: Vec<String>,
    /// Whether the text has a past or hypothetical marker (去年, 要是).
    pub past: bool,
}

impl Extractor {
    /// Reads a stretch of text as one statement (repost structure ignored).
    pub fn read_statement(&self, text: &str) -> Statement {
        let n = normalize(text);
        let joined: String = n
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let toks = self.tokenize(&joined);
        let r = self.analyze(&toks);
        let mut services: Vec<String> = Vec::new();
        let mut past = false;
        for t in &toks.toks {
            let e = t.e;
            past |= e.has(role::PAST | role::HYPOTHETICAL);
            if let Some((i, false)) = e.service {
                let name = &self.models.services[i as usize].name;
                if !services.contains(name) {
                    services.push(name.clone());
                }
            }
        }
        Statement {
            signal: self.decide(&r, 1.0),
            orphan: r.orphans.last().map(|o| o.0),
            symptoms: self.symptom_names(SignalKind::Complaint, &r.symptoms),
            services,
            past,
        }
    }
}
