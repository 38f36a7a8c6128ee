//! Content terms of a complaint (what an event's top terms are made of), from the tokens the
//! extractor already cut for the signal (no second normalisation, no second cut of a segment).

use super::*;

impl Extractor {
    /// The content terms of a post, for describing an event: every token of two or more
    /// characters that is not a service alias, a generic outage word (崩了, 挂了: bound and
    /// weak cues say only that something failed, not what), a filler, a question word or
    /// punctuation, in order, without repeats. [`Self::read`] gives them with the signal,
    /// without cutting the post again.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let n = normalize(text);
        self.terms_cached(&n, &mut Self::cache(&n))
    }

    /// [`Self::terms`] of a normalised post, reusing the segments `cache` already holds cut.
    pub(super) fn terms_cached<'a>(
        &self,
        n: &'a Normalized,
        cache: &mut [Option<Parsed<'a>>],
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (k, seg) in n.segments.iter().enumerate() {
            let fresh;
            let toks = match &cache[k] {
                Some((toks, _)) => toks,
                None => {
                    fresh = self.tokenize(&seg.text);
                    &fresh
                }
            };
            for t in &toks.toks {
                let generic = matches!(
                    t.e.cue,
                    Some(Cue::Complaint(Strength::Bound | Strength::Weak))
                );
                let skip = t.e.service.is_some()
                    || generic
                    || t.e.has(role::FILLER | role::QUESTION | role::CONJUNCTION)
                    || t.s.chars().count() < 2
                    || is_break(t.s)
                    || t.s
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_ascii_punctuation());
                if !skip && !out.iter().any(|x| x == t.s) {
                    out.push(t.s.to_owned());
                }
            }
        }
        out
    }
}
