//! The learned half of the extractor: the classifier's hashed features of a post (character
//! n-grams with service aliases masked, plus tokens) and the decision it makes when the rules
//! are silent.

use super::*;

/// Buffers [`Extractor::each_feature`] reuses between posts.
#[derive(Default)]
pub(super) struct Scratch {
    /// The post with service aliases masked.
    masked: String,
    /// Alias spans of a segment whose scan stopped early.
    spans: Vec<(u32, u32)>,
}

impl Scratch {
    const fn new() -> Scratch {
        Scratch {
            masked: String::new(),
            spans: Vec::new(),
        }
    }
}

/// The length of the UTF-8 character that starts with byte `lead`.
#[inline]
fn utf8_len(lead: u8) -> usize {
    match lead {
        0..0xc0 => 1,
        0xc0..0xe0 => 2,
        0xe0..0xf0 => 3,
        _ => 4,
    }
}

/// `char::is_whitespace` of the character whose UTF-8 bytes are `c`, without decoding the
/// characters that cannot be white space: ASCII is read directly, and only characters led
/// by C2, E1, E2 or E3 (U+0080..U+00BF, U+1000..U+3FFF) are decoded.
#[inline]
fn is_blank(c: &[u8]) -> bool {
    match c[0] {
        x if x < 0x80 => x == b' ' || (b'\t'..=b'\r').contains(&x),
        0xc2 | 0xe1..=0xe3 => std::str::from_utf8(c)
            .ok()
            .and_then(|s| s.chars().next())
            .is_some_and(char::is_whitespace),
        _ => false,
    }
}

impl Extractor {
    /// The classifier's feature slots of a post (see [`Classifier`]):
    /// character 1- to 3-grams of the normalised text, with every unambiguous service alias
    /// masked, plus its jieba tokens when `tokens`; hashed into `2^bits` slots, sorted and
    /// without repeats.
    pub fn features(&self, text: &str, bits: u32, tokens: bool) -> Vec<u32> {
        self.features_normalized(&normalize(text), bits, tokens)
    }

    pub(super) fn features_normalized(&self, n: &Normalized, bits: u32, tokens: bool) -> Vec<u32> {
        let mut slots: Vec<u32> = Vec::new();
        let scans = self.scans_of(n);
        self.each_feature(n, &scans, bits, tokens, &mut Scratch::default(), |s| {
            slots.push(s)
        });
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// The lexicon's scans of a post's segments.
    pub(super) fn scans_of(&self, n: &Normalized) -> Scans {
        self.lex.scans(n.segments.iter().map(|s| s.text.as_str()))
    }

    /// Emits the feature slots of a post, repeats included (see [`Self::features`]);
    /// `scans` are the post's (for the aliases to mask).
    pub(super) fn each_feature(
        &self,
        n: &Normalized,
        scans: &Scans,
        bits: u32,
        tokens: bool,
        scratch: &mut Scratch,
        mut emit: impl FnMut(u32),
    ) {
        const MASK: char = '\u{E000}';
        let Scratch { masked, spans } = scratch;
        let slot = |h: u64| (h & ((1u64 << bits) - 1)) as u32;
        masked.clear();
        for (k, seg) in n.segments.iter().enumerate() {
            if k > 0 {
                masked.push('|');
            }
            let from = masked.len();
            let aliases = match scans.aliases(k) {
                Some(found) => found,
                None => {
                    // The scan stopped at its first cue and service: find the aliases now.
                    spans.clear();
                    self.lex.alias_spans(&seg.text, spans);
                    &spans[..]
                }
            };
            self.lex.mask_spans(&seg.text, aliases, MASK, masked);
            if tokens {
                for w in self.jieba.cut(&masked[from..], HMM) {
                    if !is_space(w.word) {
                        emit(slot(hash_feature(&["w", w.word])));
                    }
                }
            }
        }
        // hash_feature(&["c", gram]) of every 1-, 2- and 3-gram, in one pass over the
        // characters: each character extends the grams that start at it and at the two
        // before it, and the grams starting two back are then complete. They are emitted in
        // the order of their start, shortest first (the probability sums in this order).
        let base = fnv_end(fnv_extend(FNV_OFFSET, b"c"));
        let bytes = masked.as_bytes();
        // Emits a gram unless all its characters are blank.
        let mut put = |h: u64, blank: bool| {
            if !blank {
                emit(slot(fnv_end(h)));
            }
        };
        // Grams from two characters back: the 1-gram, the 2-gram; their all-blank flags.
        let (mut a1, mut a2, mut a1_blank, mut a2_blank) = (0u64, 0u64, true, true);
        // The gram from one character back: the 1-gram and its blank flag.
        let (mut b1, mut b1_blank) = (0u64, true);
        let (mut n, mut i) = (0usize, 0usize);
        while i < bytes.len() {
            let here = &bytes[i..i + utf8_len(bytes[i])];
            i += here.len();
            let blank = is_blank(here);
            // The character extends three grams at once: one pass over its bytes.
            let (mut c1, mut b2, mut a3) = (base, b1, a2);
            for &x in here {
                c1 = fnv_extend(c1, &[x]);
                b2 = fnv_extend(b2, &[x]);
                a3 = fnv_extend(a3, &[x]);
            }
            if n >= 2 {
                put(a1, a1_blank);
                put(a2, a2_blank);
                put(a3, a2_blank && blank);
            }
            (a1, a1_blank) = (b1, b1_blank);
            (a2, a2_blank) = (b2, b1_blank && blank);
            (b1, b1_blank) = (c1, blank);
            n += 1;
        }
        // The last two starts have no 3-gram (the last none but its 1-gram).
        if n >= 2 {
            put(a1, a1_blank);
            put(a2, a2_blank);
        }
        if n >= 1 {
            put(b1, b1_blank);
        }
    }

    /// The classifier's probability for a normalised post: [`Classifier::probability`] of
    /// its features, summed as they are hashed (a reused bitset drops repeats), without
    /// collecting and sorting them.
    pub(super) fn probability_normalized(
        &self,
        n: &Normalized,
        scans: &Scans,
        c: &Classifier,
    ) -> f32 {
        thread_local! {
            static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<u32>, Scratch)> =
                const { std::cell::RefCell::new((Vec::new(), Vec::new(), Scratch::new())) };
        }
        SCRATCH.with_borrow_mut(|(seen, touched, scratch)| {
            let words = (1usize << c.bits).div_ceil(64);
            if seen.len() != words {
                seen.clear();
                seen.resize(words, 0);
            }
            let (mut sum, mut count) = (0.0f32, 0u32);
            self.each_feature(n, scans, c.bits, c.tokens, scratch, |s| {
                let (w, b) = ((s / 64) as usize, 1u64 << (s % 64));
                if seen[w] & b == 0 {
                    if seen[w] == 0 {
                        touched.push(w as u32);
                    }
                    seen[w] |= b;
                    sum += c.weights.get(s as usize).copied().unwrap_or(0.0);
                    count += 1;
                }
            });
            for w in touched.drain(..) {
                seen[w as usize] = 0;
            }
            c.probability_from_sum(sum, count)
        })
    }

    /// The classifier's probability that a post is a complaint, if there is a classifier.
    pub fn complaint_probability(&self, text: &str) -> Option<f32> {
        let c = self.models.classifier.as_ref()?;
        let n = normalize(text);
        Some(self.probability_normalized(&n, &self.scans_of(&n), c))
    }

    /// Whether the classifier alone, rules aside, scores a post at or above its threshold
    /// (false without a classifier): for measuring the classifier on its own.
    pub fn classifier_fires(&self, text: &str) -> bool {
        let Some(c) = self.models.classifier.as_ref() else {
            return false;
        };
        self.complaint_probability(text)
            .is_some_and(|p| p >= c.threshold)
    }

    /// The learned half of the extractor: when the rules find no signal in a post that
    /// names a known service, the classifier decides. At or above its threshold the post is
    /// a complaint about the first service named (own words before quoted ones), unless a
    /// past or hypothetical marker (去年, 要是) is present; confidence is the probability
    /// scaled by [`CLASSIFIER_WEIGHT`].
    pub(super) fn classify<'a>(
        &self,
        n: &'a Normalized,
        all: &Scans,
        cache: &mut [Option<Parsed<'a>>],
    ) -> Option<Signal> {
        let c = self.models.classifier.as_ref()?;
        let scans = &all.segs;
        if !scans.iter().any(|s| s.service) {
            return None;
        }
        let p = self.probability_normalized(n, all, c);
        if p < c.threshold {
            return None;
        }
        for (k, sc) in scans.iter().enumerate() {
            if !sc.service {
                continue;
            }
            let (toks, r) = self.parsed(n, cache, k);
            if toks
                .toks
                .iter()
                .any(|t| t.e.has(role::PAST | role::HYPOTHETICAL))
            {
                return None;
            }
            // The first service named, but not the 微博 of a 转发微博 boilerplate.
            let named = toks
                .toks
                .iter()
                .enumerate()
                .find_map(|(i, t)| match t.e.service {
                    Some((s, false)) if i == 0 || toks.toks[i - 1].s != "转发" => Some(s),
                    _ => None,
                });
            let Some(service) = named.map(|s| self.models.services[s as usize].name.clone()) else {
                continue;
            };
            return Some(Signal {
                service,
                kind: SignalKind::Complaint,
                symptoms: self.symptom_names(SignalKind::Complaint, &r.symptoms),
                cue: "classifier".to_owned(),
                confidence: round_confidence(p * CLASSIFIER_WEIGHT),
                also: Vec::new(),
                related: Vec::new(),
                discovered: false,
            });
        }
        None
    }
}

#[cfg(test)]
mod combination_tests {
    use super::*;

    #[test]
    fn an_unlisted_target_beside_a_listed_service_is_discovered() {
        let ex = Extractor::embedded();
        let s = ex
            .extract("我靠！小蓝书也挂了 第一反应是去微博看看")
            .expect("a signal");
        assert_eq!((s.service.as_str(), s.discovered), ("小蓝书", true));
    }

    #[test]
    fn the_classifier_speaks_only_when_the_rules_are_silent() {
        let ex = Extractor::embedded();
        assert!(ex.models().classifier.is_some(), "models/classifier.txt");
        // Rules know this wording: their cue stands.
        let s = ex.extract("微信崩了").expect("a signal");
        assert_ne!(s.cue, "classifier");
        // Rules do not know 开小差 (an error message); the classifier does.
        let s = ex
            .extract("12306登录一直提示'当前访问用户过多，请稍后重试'")
            .expect("a classifier signal");
        assert_eq!(
            (s.service.as_str(), s.cue.as_str()),
            ("12306", "classifier")
        );
        assert!(s.confidence <= CLASSIFIER_WEIGHT);
        // Without the classifier the same post carries nothing.
        let mut m = Models::embedded();
        m.classifier = None;
        assert!(Extractor::new(m)
            .extract("12306登录一直提示'当前访问用户过多，请稍后重试'")
            .is_none());
        // Chatter naming a service stays chatter; past outages stay past.
        assert!(ex.extract("12306：春运首日售出车票1800万张").is_none());
        assert!(ex.extract("去年12306登录一直提示请稍后重试").is_none());
    }
}

#[cfg(test)]
mod feature_tests {
    use super::*;

    #[test]
    fn the_byte_reading_of_characters_agrees_with_char() {
        let mut buf = [0u8; 4];
        for c in (0u32..=0x10ffff).filter_map(char::from_u32) {
            let b = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(utf8_len(b[0]), c.len_utf8(), "U+{:04X}", c as u32);
            assert_eq!(is_blank(b), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn incremental_ngram_hashes_equal_whole_gram_hashes() {
        let ex = Extractor::embedded();
        let bits = 20;
        let got = ex.features("微信 又抽风了!", bits, false);
        let masked = "\u{E000} 又抽风了!";
        let chars: Vec<char> = masked.chars().collect();
        let mut want: Vec<u32> = Vec::new();
        for len in 1..=3 {
            for w in chars.windows(len) {
                if w.iter().all(|c| c.is_whitespace()) {
                    continue;
                }
                let g: String = w.iter().collect();
                want.push((hash_feature(&["c", &g]) & ((1 << bits) - 1)) as u32);
            }
        }
        want.sort_unstable();
        want.dedup();
        assert_eq!(got, want);
        // Emitted in the order of a gram's start, shortest first, repeats included: the
        // probability sums its weights in this order.
        for text in [
            "微信 又抽风了!",
            "a",
            "  ",
            "ab",
            "qq  崩了 ",
            "支付宝付不了款 //@某人: 微信也崩了",
            "12306登录一直提示请稍后重试",
        ] {
            let n = normalize(text);
            let mut got = Vec::new();
            let scans = ex.scans_of(&n);
            ex.each_feature(&n, &scans, bits, false, &mut Scratch::default(), |s| {
                got.push(s)
            });
            let mut masked = String::new();
            for (k, seg) in n.segments.iter().enumerate() {
                if k > 0 {
                    masked.push('|');
                }
                ex.lex.mask_services(&seg.text, '\u{E000}', &mut masked);
            }
            let chars: Vec<char> = masked.chars().collect();
            let mut want = Vec::new();
            for k in 0..chars.len() {
                for len in 1..=3.min(chars.len() - k) {
                    let w = &chars[k..k + len];
                    if !w.iter().all(|c| c.is_whitespace()) {
                        let g: String = w.iter().collect();
                        want.push((hash_feature(&["c", &g]) & ((1 << bits) - 1)) as u32);
                    }
                }
            }
            assert_eq!(got, want, "{text:?}");
        }
        // The streaming probability equals the one of the collected features.
        let c = ex.models().classifier.clone().expect("embedded classifier");
        for text in [
            "微信 又抽风了!",
            "12306登录一直提示请稍后重试",
            "",
            "啊啊啊啊啊",
        ] {
            let a = ex.complaint_probability(text).unwrap();
            let b = c.probability(&ex.features(text, c.bits, c.tokens));
            assert!((a - b).abs() < 1e-6, "{text}: {a} vs {b}");
        }
    }
}
