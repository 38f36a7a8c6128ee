//! The complaint extractor: normalised, segmented text in, an optional [`Signal`] out.
//!
//! For each segment of a post (own words first, then quoted repost links) the extractor cuts
//! the text with jieba-rs, looks every token up in the [`Lexicon`](crate::lexicon), and binds
//! each cue to a service according to the cue's strength (see `models/cues.toml`): strong
//! cues take the nearest service of their clause, bound and weak cues need the service as
//! their grammatical subject. Negators turn complaints into denials (没崩) and recoveries into
//! complaints (还没恢复); past and hypothetical markers (去年, 要是) silence a cue; a question
//! about recovery (好了吗) is a complaint. The last statement of a segment decides its kind.
//! A cue in the reposter's own words with no service of its own (我也是，发不出去) takes the
//! service of the quoted words.
//!
//! Posts that contain no service alias or no cue as a substring are rejected by an
//! Aho-Corasick prefilter before segmentation; this is exact, because tokens are substrings.

use benglema_model::{Signal, SignalKind};
use jieba_rs::Jieba;

use crate::classifier::{fnv_end, fnv_extend, hash_feature, Classifier, FNV_OFFSET};
use crate::lexicon::{role, Cue, Entry, Lexicon, Scan, Strength};
use crate::models::{Models, ServiceDef};
use crate::normalize::{normalize, Normalized};

/// What the extractor sees in one stretch of text, beyond its signal: used to read news
/// articles sentence by sentence, where the service is often named one sentence earlier.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
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

/// Extracts outage signals from post text. Build once, share by reference.
pub struct Extractor {
    jieba: Jieba,
    /// Service index by canonical name.
    by_name: rustc_hash::FxHashMap<String, usize>,
    lex: Lexicon,
    models: Models,
}

#[derive(Clone, Copy)]
struct Tok<'a> {
    s: &'a str,
    e: Entry,
    clause: u32,
}

struct Cand<'a> {
    kind: SignalKind,
    pos: usize,
    /// Service indices; the first is the earliest mentioned.
    services: Vec<u16>,
    cue: &'a str,
    confidence: f32,
    /// In a clause marked as recent past (刚才).
    recent: bool,
}

/// A segment's tokens with their lexicon entries.
#[derive(Default)]
struct Tokens<'a> {
    toks: Vec<Tok<'a>>,
    /// Clauses that are questions, ascending.
    questions: Vec<u32>,
}

/// A segment's tokens and what [`Extractor::analyze`] found in them.
type Parsed<'a> = (Tokens<'a>, SegResult<'a>);

#[derive(Default)]
struct SegResult<'a> {
    cands: Vec<Cand<'a>>,
    /// Cues with no service in their segment: (kind, cue, confidence).
    orphans: Vec<(SignalKind, &'a str, f32)>,
    /// Discovery cues that found no service: (token index, confidence).
    targets: Vec<(usize, f32)>,
    symptoms: Vec<(u8, bool)>,
}

/// How many tokens away from a cue its service may be.
const WINDOW: usize = 24;
/// jieba's HMM guesses words missing from the dictionary. Every word the extractor needs is
/// in the dictionary (the model terms are user words), so it is off: faster, and with it on
/// the labelled figures are unchanged while held-out precision drops from 0.909 to 0.899.
const HMM: bool = false;
/// Confidence factor for a signal read only from quoted words (a bare repost).
const QUOTED_WEIGHT: f32 = 0.85;
/// Confidence factor for the reposter's cue applied to the quoted service.
const LENT_SERVICE_WEIGHT: f32 = 0.9;
/// Confidence factor for a complaint the classifier alone found (rules silent).
pub const CLASSIFIER_WEIGHT: f32 = 0.8;
/// Confidence factor for a service name read from the text (not in the gazetteer).
const DISCOVERED_WEIGHT: f32 = 0.7;
/// At most this many tokens make a discovered name (小红/书).
const NAME_TOKENS: usize = 3;
/// Characters that the HMM may glue in front of an unknown name (有没有人小红书崩了).
const LEADING_NOISE: &str = "人我你他她它的了在是有都也就还说用给把被让跟和个这那";
/// A discovered name has this many characters (小红书, 12306 is listed anyway).
const NAME_CHARS: std::ops::RangeInclusive<usize> = 2..=12;
/// A clause read whole as a discovered name has at most this many characters (时代峰峻APP).
const WHOLE_NAME_CHARS: usize = 10;

/// Confidence clamped to [0.05, 0.99] and rounded to two decimals (0.85 + 0.05 is 0.9, not
/// 0.90000004).
fn round_confidence(x: f32) -> f32 {
    (x.clamp(0.05, 0.99) * 100.0).round() / 100.0
}

fn is_break(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(
            c,
            ',' | '.'
                | '!'
                | '?'
                | ';'
                | ':'
                | '。'
                | '…'
                | '~'
                | '～'
                | '\n'
                | '('
                | ')'
                | '【'
                | '】'
                | '「'
                | '」'
                | '“'
                | '”'
                | '"'
                | '《'
                | '》'
                | '|'
        )
    })
}

/// Whether two adjacent characters belong to one Latin word: letters beside letters or
/// digits beside digits (wb|g is one word; 12306|app is two).
pub(crate) fn glued(a: Option<char>, b: Option<char>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
                || (a.is_ascii_digit() && b.is_ascii_digit())
        }
        _ => false,
    }
}

fn is_space(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// How far a binding reached.
#[derive(Clone, Copy, PartialEq)]
enum Reach {
    /// In the cue's clause.
    Clause,
    /// In the previous clause (topic continuation).
    PreviousClause,
}

impl Extractor {
    /// Builds an extractor over the given models: jieba's default dictionary plus every
    /// multi-character model term as a user word.
    pub fn new(models: Models) -> Extractor {
        let lex = Lexicon::build(&models);
        let mut jieba = Jieba::new();
        let mut words: Vec<&str> = lex.dictionary_words().collect();
        words.sort_unstable();
        for w in words {
            jieba.add_word(w, None, None);
        }
        for (w, freq, tag) in &models.user_words {
            jieba.add_word(w, *freq, tag.as_deref());
        }
        let by_name = models
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        Extractor {
            jieba,
            by_name,
            lex,
            models,
        }
    }

    /// An extractor over the models embedded from `models/`.
    pub fn embedded() -> Extractor {
        Self::new(Models::embedded())
    }

    /// The models this extractor was built from.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// The jieba segmenter, with the model terms in its dictionary.
    pub fn jieba(&self) -> &Jieba {
        &self.jieba
    }

    /// Segments already-normalised text the way the extractor does.
    pub fn cut<'a>(&self, normalized: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(normalized, HMM)
            .into_iter()
            .map(|t| t.word)
            .collect()
    }

    /// Normalises a post and shows its tokens, segments joined by ` | ` (for inspection and
    /// snapshot tests).
    pub fn tokens(&self, text: &str) -> String {
        normalize(text)
            .segments
            .iter()
            .map(|s| self.cut(&s.text).join("/"))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// The outage signal of a post's text, if any.
    pub fn extract(&self, text: &str) -> Option<Signal> {
        self.extract_normalized(&normalize(text))
    }

    /// The outage signal of an already-normalised post.
    pub fn extract_normalized(&self, n: &Normalized) -> Option<Signal> {
        self.signal(n).map(|s| self.with_family(s))
    }

    /// Puts a signal on the name people look for: a feature's signal goes to its app (花呗 →
    /// 支付宝, with 花呗 in `also`); a product keeps its own name and carries its parent in
    /// `also` (百度地图, also 百度). Family names in `also` are listed in `related`.
    fn with_family(&self, mut sig: Signal) -> Signal {
        let def = |name: &str| self.by_name.get(name).map(|&i| &self.models.services[i]);
        if let Some(app) = def(&sig.service).and_then(|d| d.feature_of.clone()) {
            let feature = std::mem::replace(&mut sig.service, app);
            sig.also.retain(|a| *a != sig.service);
            sig.also.insert(0, feature);
        }
        let (service, also) = (&sig.service, &sig.also);
        let family = |a: &str| {
            let (x, y) = (def(service), def(a));
            let up = |d: Option<&ServiceDef>, to: &str| {
                d.is_some_and(|d| {
                    d.parent.as_deref() == Some(to) || d.feature_of.as_deref() == Some(to)
                })
            };
            up(x, a) || up(y, service)
        };
        let mut related: Vec<String> = also.iter().filter(|a| family(a)).cloned().collect();
        if let Some(p) = def(service).and_then(|d| d.parent.clone()) {
            if !sig.also.contains(&p) {
                sig.also.push(p.clone());
                related.push(p);
            }
        }
        sig.related = related;
        sig
    }

    fn signal(&self, n: &Normalized) -> Option<Signal> {
        let scans: Vec<Scan> = n.segments.iter().map(|s| self.lex.scan(&s.text)).collect();
        // Each segment is cut and analysed at most once, whichever stage asks first.
        let mut cache: Vec<Option<Parsed>> = (0..n.segments.len()).map(|_| None).collect();
        if !scans.iter().any(|s| s.cue) {
            return self.classify(n, &scans, &mut cache);
        }
        if !scans.iter().any(|s| s.service) {
            return self.discover(n, &scans, &mut cache);
        }
        let own_cue = matches!(
            (n.segments.first(), scans.first()),
            (Some(s), Some(sc)) if !s.quoted && sc.cue
        );
        if own_cue {
            self.parsed(n, &mut cache, 0);
        }
        // Held outside the cache while the quoted segments fill it; put back afterwards.
        let own_entry = if own_cue { cache[0].take() } else { None };
        let empty = SegResult::default();
        let own = own_entry.as_ref().map_or(&empty, |(_, r)| r);
        if let Some(sig) = self.decide(own, 1.0) {
            return Some(sig);
        }
        let orphan = own.orphans.first().copied();
        for (k, (seg, sc)) in n.segments.iter().zip(&scans).enumerate() {
            if !seg.quoted || !sc.service || (orphan.is_none() && !sc.cue) {
                continue;
            }
            let (toks, r) = self.parsed(n, &mut cache, k);
            let quoted = self.decide(r, QUOTED_WEIGHT);
            let Some((kind, cue, conf)) = orphan else {
                match quoted {
                    Some(sig) => return Some(sig),
                    None => continue,
                }
            };
            // 我也是，图片发不出去 //@A: 微信崩了 — the reposter's cue, the quote's service.
            let service = match &quoted {
                Some(sig) => sig.service.clone(),
                None => match self.first_service(toks) {
                    Some(s) => s,
                    None => continue,
                },
            };
            let mut found = own.symptoms.clone();
            found.extend(r.symptoms.iter().copied());
            return Some(Signal {
                service,
                kind,
                symptoms: self.symptom_names(kind, &found),
                cue: cue.to_owned(),
                confidence: round_confidence(conf * LENT_SERVICE_WEIGHT),
                also: quoted.map(|q| q.also).unwrap_or_default(),
                related: Vec::new(),
                discovered: false,
            });
        }
        if own_entry.is_some() {
            cache[0] = own_entry;
        }
        self.discover(n, &scans, &mut cache)
            .or_else(|| self.classify(n, &scans, &mut cache))
    }

    /// Segment `k`'s tokens and analysis, from `cache` or computed into it.
    fn parsed<'a, 'c>(
        &self,
        n: &'a Normalized,
        cache: &'c mut [Option<Parsed<'a>>],
        k: usize,
    ) -> &'c Parsed<'a> {
        cache[k].get_or_insert_with(|| {
            let toks = self.tokenize(&n.segments[k].text);
            let r = self.analyze(&toks);
            (toks, r)
        })
    }

    /// The classifier's feature slots of a post (see [`Classifier`](crate::Classifier)):
    /// character 1- to 3-grams of the normalised text, with every unambiguous service alias
    /// masked, plus its jieba tokens when `tokens`; hashed into `2^bits` slots, sorted and
    /// without repeats.
    pub fn features(&self, text: &str, bits: u32, tokens: bool) -> Vec<u32> {
        self.features_normalized(&normalize(text), bits, tokens)
    }

    fn features_normalized(&self, n: &Normalized, bits: u32, tokens: bool) -> Vec<u32> {
        let mut slots: Vec<u32> = Vec::new();
        self.each_feature(n, bits, tokens, &mut String::new(), |s| slots.push(s));
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// Emits the feature slots of a post, repeats included (see [`Self::features`]).
    fn each_feature(
        &self,
        n: &Normalized,
        bits: u32,
        tokens: bool,
        masked: &mut String,
        mut emit: impl FnMut(u32),
    ) {
        const MASK: char = '\u{E000}';
        let slot = |h: u64| (h & ((1u64 << bits) - 1)) as u32;
        masked.clear();
        for (k, seg) in n.segments.iter().enumerate() {
            if k > 0 {
                masked.push('|');
            }
            let from = masked.len();
            self.lex.mask_services(&seg.text, MASK, masked);
            if tokens {
                for w in self.jieba.cut(&masked[from..], HMM) {
                    if !is_space(w.word) {
                        emit(slot(hash_feature(&["w", w.word])));
                    }
                }
            }
        }
        // hash_feature(&["c", gram]) of every 1-, 2- and 3-gram, computed incrementally.
        let base = fnv_end(fnv_extend(FNV_OFFSET, b"c"));
        let mut utf8 = [0u8; 4];
        for (i, _) in masked.char_indices() {
            let mut h = base;
            let mut blank = true;
            for c in masked[i..].chars().take(3) {
                h = fnv_extend(h, c.encode_utf8(&mut utf8).as_bytes());
                blank &= c.is_whitespace();
                if !blank {
                    emit(slot(fnv_end(h)));
                }
            }
        }
    }

    /// The classifier's probability for a normalised post: [`Classifier::probability`] of
    /// its features, summed as they are hashed (a reused bitset drops repeats), without
    /// collecting and sorting them.
    fn probability_normalized(&self, n: &Normalized, c: &Classifier) -> f32 {
        thread_local! {
            static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<u32>, String)> =
                const { std::cell::RefCell::new((Vec::new(), Vec::new(), String::new())) };
        }
        SCRATCH.with_borrow_mut(|(seen, touched, masked)| {
            let words = (1usize << c.bits).div_ceil(64);
            if seen.len() != words {
                seen.clear();
                seen.resize(words, 0);
            }
            let (mut sum, mut count) = (0.0f32, 0u32);
            self.each_feature(n, c.bits, c.tokens, masked, |s| {
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
        Some(self.probability_normalized(&normalize(text), c))
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
    fn classify<'a>(
        &self,
        n: &'a Normalized,
        scans: &[Scan],
        cache: &mut [Option<Parsed<'a>>],
    ) -> Option<Signal> {
        let c = self.models.classifier.as_ref()?;
        if !scans.iter().any(|s| s.service) {
            return None;
        }
        let p = self.probability_normalized(n, c);
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

    /// New-service discovery: when the rules found no signal, the subject of a discovery
    /// cue (崩了, 挂了, 宕机, 进不去...) becomes the service when it is a run of at most three
    /// name tokens (jieba part of speech nr/nz/nt/ns, or an unknown noun, or Latin letters)
    /// right in front of the cue, fillers, parts and symptom words skipped, and is not a stop
    /// word (`[discovery]` in `models/cues.toml`). The signal is marked `discovered`.
    fn discover<'a>(
        &self,
        n: &'a Normalized,
        scans: &[Scan],
        cache: &mut [Option<Parsed<'a>>],
    ) -> Option<Signal> {
        for (k, (seg, sc)) in n.segments.iter().zip(scans).enumerate() {
            if !sc.discovery {
                continue;
            }
            let (toks, r) = self.parsed(n, cache, k);
            for &(i, conf) in &r.targets {
                let at = toks.toks[i].s.as_ptr() as usize - seg.text.as_ptr() as usize;
                let Some((name, part)) = self.name_before(&seg.text[..at]) else {
                    continue;
                };
                // 上海地铁11号线故障 is a train; 哪吒汽车官网异常 is a site.
                if toks.toks[i].e.has(role::NEEDS_PART) && !part {
                    continue;
                }
                let weight = if seg.quoted { QUOTED_WEIGHT } else { 1.0 };
                return Some(Signal {
                    service: name,
                    kind: SignalKind::Complaint,
                    symptoms: self.symptom_names(SignalKind::Complaint, &r.symptoms),
                    cue: toks.toks[i].s.to_owned(),
                    confidence: round_confidence(conf * DISCOVERED_WEIGHT * weight),
                    also: Vec::new(),
                    related: Vec::new(),
                    discovered: true,
                });
            }
        }
        None
    }

    /// The unlisted service name at the end of `before` (the text in front of a discovery
    /// cue), if any (see [`Self::discover`]), and whether a service part (系统, 官网, app)
    /// stood between it and the cue. Unlisted names are often missing from jieba's
    /// dictionary, so this cut uses its HMM, which keeps them whole (小红书, not 小/红/书), and
    /// its part-of-speech tags.
    ///
    /// Two readings, the first that gives a name wins:
    /// - *the whole clause*: a short clause (at most four tokens, [`WHOLE_NAME_CHARS`]) of
    ///   name words only, no function word, pronoun, place or person among them, is the name
    ///   (蛋仔派对崩了, 快看漫画崩了, 豆瓣又崩了): title-like posts name the service and nothing else;
    /// - *the proper nouns in front*: up to three tokens that are proper nouns, Latin words
    ///   or words jieba does not know (今天小红书又崩了).
    fn name_before(&self, before: &str) -> Option<(String, bool)> {
        let tags = self.jieba.tag(before, true);
        let mut j = tags.len();
        let mut part = false;
        while j > 0 {
            let w = tags[j - 1].word;
            let e = self.lex.lookup(w);
            let skip = is_space(w)
                || e.has(role::FILLER | role::PART)
                || (e.symptom.is_some() && e.cue.is_none());
            if !skip {
                break;
            }
            part |= e.has(role::PART);
            j -= 1;
        }
        let end = j;
        let known = |t: &jieba_rs::Tag| self.jieba.has_word(t.word);
        // People and places jieba knows (雷军, 中国); the HMM also tags unknown service
        // names nr (小红书), so an unknown one may be a name.
        let person_or_place =
            |t: &jieba_rs::Tag| (t.tag.starts_with("nr") || t.tag == "ns") && known(t);
        // A word that may be inside a name; `NOT_A_NAME` words (世界, 地图) may, but a name
        // does not end with one (魔兽世界 is listed; 美股美债 is not a service).
        let inner = |w: &str| {
            let e = self.lex.lookup(w);
            e.service.is_none()
                && e.cue.is_none()
                && !e.has(
                    role::FILLER
                        | role::FUNCTION
                        | role::CONFOUNDER
                        | role::DEVICE
                        | role::PAST
                        | role::QUESTION
                        | role::NEGATOR,
                )
        };
        let plain = |w: &str| inner(w) && !self.lex.lookup(w).has(role::NOT_A_NAME);
        let noun_like = |t: &jieba_rs::Tag| t.tag.starts_with('n') || t.tag == "eng" || !known(t);
        // The whole clause.
        let start = tags[..end]
            .iter()
            .rposition(|t| is_break(t.word) || is_space(t.word))
            .map_or(0, |k| k + 1);
        let clause = &tags[start..end];
        let chars: usize = clause.iter().map(|t| t.word.chars().count()).sum();
        let single_other = clause.len() == 1
            && (person_or_place(&clause[0])
                || (known(&clause[0])
                    && !clause[0].tag.starts_with('n')
                    && clause[0].tag != "eng"));
        if (1..=4).contains(&clause.len())
            && (2..=WHOLE_NAME_CHARS).contains(&chars)
            && !single_other
            && clause
                .iter()
                .all(|t| inner(t.word) && t.word.chars().all(char::is_alphanumeric))
            && plain(clause[clause.len() - 1].word)
            // A name ends with a noun, or holds a word no dictionary knows (蛋仔派对): 来这里
            // 确认一下 is a sentence, not a name.
            && (noun_like(&clause[clause.len() - 1]) || clause.iter().any(|t| !known(t)))
            && !clause
                .iter()
                .all(|t| t.word.chars().all(|c| c.is_ascii_digit()))
        {
            let name: String = clause.iter().map(|t| t.word).collect();
            if !self.lex.lookup(&name).has(role::NOT_A_NAME) {
                return Some((name, part));
            }
        }
        // The proper nouns in front.
        let mut j = end;
        while j > 0 && end - j < NAME_TOKENS {
            let t = &tags[j - 1];
            // A common noun jieba's dictionary knows (数学, 作息) is a thing, not a service;
            // names are proper nouns (nr, nz, nt, ns), Latin words, or unknown words.
            let noun = (t.tag.starts_with('n') && (t.tag != "n" || !known(t))) || t.tag == "eng";
            if !noun || !plain(t.word) || !t.word.chars().all(char::is_alphanumeric) {
                break;
            }
            j -= 1;
        }
        if j == end || (end - j == 1 && person_or_place(&tags[j])) {
            return None;
        }
        let name: String = tags[j..end].iter().map(|t| t.word).collect();
        // The HMM sometimes glues a function word to an unknown name (有没有人小红书 ->
        // 人小红书): such a leading character is not part of a name.
        let name = name
            .trim_start_matches(|c| LEADING_NOISE.contains(c))
            .to_owned();
        let chars = name.chars().count();
        (NAME_CHARS.contains(&chars)
            && !name.chars().all(|c| c.is_ascii_digit())
            && !self.lex.lookup(&name).has(role::NOT_A_NAME | role::DEVICE))
        .then_some((name, part))
    }

    /// The content terms of a post, for describing an event: every token of two or more
    /// characters that is not a service alias, a generic outage word (崩了, 挂了: bound and
    /// weak cues say only that something failed, not what), a filler, a question word or
    /// punctuation, in order, without repeats. Complaint posts are few, so cutting them a second time here
    /// costs little.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let n = normalize(text);
        let mut out: Vec<String> = Vec::new();
        for seg in &n.segments {
            for t in self.tokenize(&seg.text).toks {
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

    /// Analyses a stretch of text as one statement (repost structure ignored).
    pub fn analyze_text(&self, text: &str) -> Analysis {
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
        Analysis {
            signal: self.decide(&r, 1.0),
            orphan: r.orphans.last().map(|o| o.0),
            symptoms: self.symptom_names(SignalKind::Complaint, &r.symptoms),
            services,
            past,
        }
    }

    fn first_service(&self, toks: &Tokens) -> Option<String> {
        toks.toks.iter().find_map(|t| match t.e.service {
            Some((i, false)) => Some(self.models.services[i as usize].name.clone()),
            _ => None,
        })
    }

    fn symptom_names(&self, kind: SignalKind, found: &[(u8, bool)]) -> Vec<String> {
        if kind == SignalKind::Denial {
            return Vec::new();
        }
        let explicit = found.iter().any(|&(_, fallback)| !fallback);
        let mut out: Vec<String> = Vec::new();
        for &(i, fallback) in found {
            if fallback && explicit {
                continue;
            }
            let name = &self.models.symptoms[i as usize].name;
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    /// Turns a segment's candidates into a signal: the last statement decides the kind.
    fn decide(&self, r: &SegResult, weight: f32) -> Option<Signal> {
        let recovered = r.cands.iter().any(|c| c.kind == SignalKind::Recovery);
        let live = |c: &&Cand| !(recovered && c.recent && c.kind == SignalKind::Complaint);
        let last = r.cands.iter().filter(live).max_by_key(|c| c.pos)?;
        let kind = last.kind;
        let same: Vec<&Cand> = r
            .cands
            .iter()
            .filter(live)
            .filter(|c| c.kind == kind)
            .collect();
        let mut services: Vec<(usize, u16)> = Vec::new();
        let mut conf: f32 = 0.0;
        for c in &same {
            conf = conf.max(c.confidence);
            for &s in &c.services {
                if !services.iter().any(|&(_, x)| x == s) {
                    services.push((c.pos, s));
                }
            }
        }
        if same.len() > 1 {
            conf += 0.05;
        }
        // The earliest-mentioned service of the first statement of the winning kind.
        let primary = same[0].services[0];
        let name = |i: u16| self.models.services[i as usize].name.clone();
        Some(Signal {
            service: name(primary),
            kind,
            symptoms: self.symptom_names(kind, &r.symptoms),
            cue: same[0].cue.to_owned(),
            confidence: round_confidence(conf * weight),
            also: services
                .iter()
                .filter(|&&(_, s)| s != primary)
                .map(|&(_, s)| name(s))
                .collect(),
            related: Vec::new(),
            discovered: false,
        })
    }

    /// Cuts normalised text and looks every token up, marking clauses and questions.
    fn tokenize<'a>(&self, text: &'a str) -> Tokens<'a> {
        let words = self.jieba.cut(text, HMM);
        let mut toks: Vec<Tok<'a>> = Vec::with_capacity(words.len());
        let mut clause = 0u32;
        let mut questions: Vec<u32> = Vec::new();
        for w in words {
            let s = w.word;
            let e = self.lex.lookup(s);
            toks.push(Tok { s, e, clause });
            if (e.has(role::QUESTION) || s.contains('?') || s.ends_with('吗'))
                && questions.last() != Some(&clause)
            {
                questions.push(clause);
            }
            if is_break(s) {
                clause += 1;
            }
        }
        // A Latin alias counts only as a whole Latin word: jieba cuts "wbg" into wb/g and
        // "jdg" into jd/g, but WBG and JDG are teams, not 微博 and 京东.
        for k in 0..toks.len() {
            if toks[k].e.service.is_none() || !toks[k].s.is_ascii() {
                continue;
            }
            // A neighbour that is itself a model term (wx|down了, qq|ok了) is a word of its own.
            let other = |t: &Tok| t.e == Entry::default();
            let before = k
                .checked_sub(1)
                .filter(|&p| other(&toks[p]))
                .and_then(|p| toks[p].s.chars().next_back());
            let after = toks
                .get(k + 1)
                .filter(|t| other(t))
                .and_then(|t| t.s.chars().next());
            if glued(before, toks[k].s.chars().next())
                || glued(toks[k].s.chars().next_back(), after)
            {
                toks[k].e.service = None;
            }
        }
        Tokens { toks, questions }
    }

    fn analyze<'a>(&self, tokens: &Tokens<'a>) -> SegResult<'a> {
        let toks = &tokens.toks;
        let question_clauses = &tokens.questions;
        let mut r = SegResult::default();
        let cues = &self.models.cues;
        let mut clause_start = 0usize;
        for i in 0..toks.len() {
            let t = toks[i];
            if t.clause != toks[clause_start].clause {
                clause_start = i;
            }
            if let Some(sy) = t.e.symptom {
                r.symptoms.push(sy);
            }
            let cue = match t.e.cue {
                Some(c) => c,
                None if self.is_potential_complement(toks, i) => Cue::Complaint(Strength::Strong),
                None if t.e.has(role::ABLE) && Self::able_again(toks, i) => {
                    Cue::Recovery { bound_only: false }
                }
                None => continue,
            };
            if t.e.has(role::TRANSITIVE) && Self::has_object(toks, i) {
                continue;
            }
            // Bindings look at most WINDOW tokens away, which also keeps a pathological
            // clause (a megabyte without punctuation) linear.
            let start = clause_start.max(i.saturating_sub(WINDOW));
            if toks[start..i]
                .iter()
                .any(|x| x.e.has(role::PAST | role::HYPOTHETICAL))
            {
                continue;
            }
            let negated = self.negated(&toks[start..i]);
            let question = question_clauses.contains(&t.clause);
            let (kind, strength, base) = match cue {
                Cue::Complaint(s) => {
                    let base = match s {
                        Strength::Strong => cues.complaint.strong_confidence,
                        Strength::Bound => cues.complaint.bound_confidence,
                        Strength::Weak => cues.complaint.weak_confidence,
                    };
                    if negated {
                        (SignalKind::Denial, s, cues.denial.confidence)
                    } else {
                        (SignalKind::Complaint, s, base)
                    }
                }
                Cue::Recovery { bound_only } => {
                    let s = if bound_only {
                        Strength::Weak
                    } else {
                        Strength::Bound
                    };
                    if negated {
                        (SignalKind::Complaint, s, cues.complaint.bound_confidence)
                    } else if question {
                        (SignalKind::Complaint, s, cues.complaint.weak_confidence)
                    } else {
                        (SignalKind::Recovery, s, cues.recovery.confidence)
                    }
                }
                // 微信正常吗？ asks whether it is down.
                Cue::Denial if question => (
                    SignalKind::Complaint,
                    Strength::Bound,
                    cues.complaint.weak_confidence,
                ),
                Cue::Denial => (SignalKind::Denial, Strength::Bound, cues.denial.confidence),
            };
            let found = match strength {
                Strength::Strong => self.nearest(toks, start, i),
                Strength::Bound => self.subject(toks, start, i, true),
                Strength::Weak => self.subject(toks, start, i, false),
            };
            if found.is_none()
                && kind == SignalKind::Complaint
                && strength != Strength::Weak
                && t.e.has(role::DISCOVERY)
            {
                r.targets.push((i, base));
            }
            match found {
                Some((j, reach)) => {
                    let mut conf = base;
                    if toks[j].e.service.is_some_and(|(_, weak)| weak) {
                        conf -= 0.15;
                    }
                    if reach == Reach::PreviousClause {
                        conf -= 0.1;
                    }
                    if question {
                        conf -= 0.05;
                    }
                    r.cands.push(Cand {
                        kind,
                        pos: i,
                        services: self.coordinated(toks, j),
                        cue: t.s,
                        confidence: conf,
                        recent: toks[start..i].iter().any(|x| x.e.has(role::RECENT)),
                    });
                }
                None => r.orphans.push((kind, t.s, base)),
            }
        }
        if !r.symptoms.is_empty() {
            for c in &mut r.cands {
                c.confidence += 0.05;
            }
        }
        r
    }

    /// A bare potential-complement ending (`不了` after `登录`) is a strong cue unless the
    /// joined word is a known exception (受不了).
    fn is_potential_complement(&self, toks: &[Tok], i: usize) -> bool {
        let t = toks[i];
        let (verb, joined) = if i >= 2 && t.e.has(role::COMPLEMENT) && toks[i - 1].s == "不" {
            // 打/不/进去
            let v = toks[i - 2];
            (v, format!("{}不{}", v.s, t.s))
        } else if i >= 1 && t.e.has(role::POTENTIAL_SUFFIX) {
            // 登录/不了
            let v = toks[i - 1];
            (v, format!("{}{}", v.s, t.s))
        } else {
            return false;
        };
        if is_space(verb.s)
            || is_break(verb.s)
            || verb.e.has(role::FILLER)
            || verb.e.service.is_some()
        {
            return false;
        }
        !self
            .lex
            .lookup(&joined)
            .has(role::POTENTIAL_EXCEPTION | role::CONFOUNDER)
    }

    /// Whether a content word follows token `i` in its clause (挂了labubu, 进不了教室).
    fn has_object(toks: &[Tok], i: usize) -> bool {
        toks.get(i + 1).is_some_and(|x| {
            x.clause == toks[i].clause
                && !is_break(x.s)
                && !is_space(x.s)
                && x.e.cue.is_none()
                && !x
                    .e
                    .has(role::FILLER | role::QUESTION | role::PAST | role::RECENT)
        })
    }

    /// 能/可以 followed in its clause by 了 within four tokens (能下单了, 可以上号了), outside a
    /// question: the service works again.
    fn able_again(toks: &[Tok], i: usize) -> bool {
        let clause = toks[i].clause;
        toks[i + 1..]
            .iter()
            .take(4)
            .take_while(|x| x.clause == clause && !is_break(x.s))
            .any(|x| x.s == "了" || (x.s.ends_with('了') && x.s.chars().count() > 1))
    }

    /// Whether one of the two words before a cue (fillers and spaces skipped) negates it.
    fn negated(&self, before: &[Tok]) -> bool {
        before
            .iter()
            .rev()
            .filter(|x| !is_space(x.s) && (x.e.has(role::NEGATOR) || !x.e.has(role::FILLER)))
            .take(2)
            .any(|x| x.e.has(role::NEGATOR))
    }

    /// The service a strong cue at `i` refers to: nearest before it in the clause (a weak
    /// alias only if directly before), else the first strong alias after it, else the
    /// previous clause's last service.
    fn nearest(&self, toks: &[Tok], start: usize, i: usize) -> Option<(usize, Reach)> {
        let mut direct = true;
        for j in (start..i).rev() {
            let x = toks[j];
            if let Some((_, weak)) = x.e.service {
                if !weak || direct {
                    return Some((j, Reach::Clause));
                }
            }
            if !(is_space(x.s) || x.e.has(role::FILLER)) {
                direct = false;
            }
        }
        let clause = toks[i].clause;
        for (j, x) in toks.iter().enumerate().skip(i + 1).take(WINDOW) {
            if x.clause != clause {
                break;
            }
            if x.e.service.is_some_and(|(_, weak)| !weak) {
                return Some((j, Reach::Clause));
            }
        }
        self.previous_clause_service(toks, start)
    }

    /// The subject of a bound or weak cue at `i`: walk back over fillers (and, when `wide`,
    /// over service parts and symptom terms) to a service; anything else stops the walk.
    fn subject(&self, toks: &[Tok], start: usize, i: usize, wide: bool) -> Option<(usize, Reach)> {
        for j in (start..i).rev() {
            let x = toks[j];
            if x.e.service.is_some() {
                return Some((j, Reach::Clause));
            }
            if x.e.has(role::CONFOUNDER | role::DEVICE) {
                return None;
            }
            let passable = is_space(x.s)
                || x.e.cue.is_some()
                || x.e
                    .has(role::FILLER | role::QUESTION | role::NEGATOR | role::RECENT)
                || (wide && (x.e.has(role::PART) || x.e.symptom.is_some()));
            if !passable {
                return None;
            }
        }
        self.previous_clause_service(toks, start)
    }

    /// The last non-weak service mentioned in the one or two clauses before `start`.
    fn previous_clause_service(&self, toks: &[Tok], start: usize) -> Option<(usize, Reach)> {
        let clause = toks.get(start)?.clause;
        let floor = clause.saturating_sub(2);
        (start.saturating_sub(WINDOW)..start)
            .rev()
            .take_while(|&j| toks[j].clause >= floor)
            .find(|&j| toks[j].e.service.is_some_and(|(_, weak)| !weak))
            .map(|j| (j, Reach::PreviousClause))
    }

    /// The service at `j` plus services coordinated before it (微信和QQ都崩了), earliest first.
    fn coordinated(&self, toks: &[Tok], j: usize) -> Vec<u16> {
        let mut out = vec![toks[j].e.service.expect("bound to a service").0];
        let mut k = j;
        while k >= 1 {
            let c = toks[k - 1];
            if let Some((s, false)) = c.e.service {
                if !out.contains(&s) {
                    out.insert(0, s);
                }
                k -= 1;
                continue;
            }
            if k < 2 {
                break;
            }
            let prev = toks[k - 2];
            let joins = c.e.has(role::CONJUNCTION) || is_space(c.s);
            match prev.e.service {
                Some((s, false)) if joins => {
                    if !out.contains(&s) {
                        out.insert(0, s);
                    }
                    k -= 2;
                }
                _ => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn ex() -> &'static Extractor {
        static EX: OnceLock<Extractor> = OnceLock::new();
        EX.get_or_init(Extractor::embedded)
    }

    fn sig(text: &str) -> Option<(SignalKind, String)> {
        ex().extract(text).map(|s| (s.kind, s.service))
    }

    fn is(text: &str, kind: SignalKind, service: &str) {
        assert_eq!(sig(text), Some((kind, service.to_owned())), "{text}");
    }

    #[test]
    fn latin_aliases_match_only_as_whole_words() {
        // wb, jd, wx, dy are aliases of 微博, 京东, 微信, 抖音; these are teams and people.
        for text in [
            "WBG崩了",
            "Scout JDG崩了",
            "LWX又崩了",
            "TT WBG",
            "TT WBG 崩了",
            "wbb退出",
            "DYG对战TES崩了",
            "LadyGaga崩了",
        ] {
            let got = ex().extract(text).map(|s| s.service);
            assert!(
                !matches!(got.as_deref(), Some("微博" | "京东" | "微信" | "抖音")),
                "{text}: {got:?}"
            );
        }
        is("wb崩了", SignalKind::Complaint, "微博");
        is("jd又崩了", SignalKind::Complaint, "京东");
        is("wx登不上", SignalKind::Complaint, "微信");
        is("12306app崩了", SignalKind::Complaint, "12306");
        // The classifier's features mask aliases the same way.
        let mut out = String::new();
        ex().lex.mask_services("wbg和wb", '#', &mut out);
        assert_eq!(out, "wbg和#");
    }

    #[test]
    fn features_go_to_their_app_and_products_carry_their_family() {
        let s = ex().extract("花呗崩了").expect("a signal");
        assert_eq!(s.service, "支付宝");
        assert_eq!(
            (s.also.clone(), s.related.clone()),
            (vec!["花呗".to_owned()], vec!["花呗".to_owned()])
        );
        let s = ex().extract("百度地图崩了").expect("a signal");
        assert_eq!(s.service, "百度地图");
        assert_eq!(
            (s.also.clone(), s.related.clone()),
            (vec!["百度".to_owned()], vec!["百度".to_owned()])
        );
        // Two services failing together are not a family.
        let s = ex().extract("微信和QQ都崩了").expect("a signal");
        assert_eq!(
            (s.service.as_str(), s.also.clone()),
            ("微信", vec!["QQ".to_owned()])
        );
        assert!(s.related.is_empty());
    }

    #[test]
    fn complaints_including_questions_aliases_and_traditional() {
        use SignalKind::Complaint;
        is("微信崩了", Complaint, "微信");
        is("微信是不是崩了？", Complaint, "微信");
        is("只有我vx发不出去图片吗", Complaint, "微信");
        is("威信又双叒叕挂了[允悲]", Complaint, "微信");
        is("ＱＱ登不上了", Complaint, "QQ");
        is("小破站502了", Complaint, "B站");
        is("微信當機了，無法傳送圖片", Complaint, "微信");
        is("wechat down了？", Complaint, "微信");
        is("#支付宝崩了# 付款码刷不出来", Complaint, "支付宝");
        is("微信怎么回事，一直转圈", Complaint, "微信");
    }

    #[test]
    fn recoveries_and_denials() {
        is("微信恢复了", SignalKind::Recovery, "微信");
        is("淘宝能下单了，刚才是真崩了", SignalKind::Recovery, "淘宝");
        is("微信没崩，是你网不好", SignalKind::Denial, "微信");
        is("我这边支付宝付款正常", SignalKind::Denial, "支付宝");
        // Still down is a complaint; asking whether it is back is a complaint too.
        is("微信还没恢复", SignalKind::Complaint, "微信");
        is("微信好了吗", SignalKind::Complaint, "微信");
    }

    #[test]
    fn other_senses_are_not_complaints() {
        for t in [
            "在微信上看到前任结婚了，心态崩了",
            "考试挂了",
            "刚在支付宝挂号",
            "我的朋友圈炸了，全是点赞",
            "用B站看网课，还是挂科了",
            "我手机卡了",
            "淘宝买的炸鸡锅到了",
            "看了一下支付宝年度账单，我崩溃了",
            "去年微信崩的那次我记得",
            "要是微信崩了怎么办",
            "又崩了？？",
            "闲鱼挂了个二手相机",
        ] {
            assert_eq!(sig(t), None, "{t}");
        }
    }

    #[test]
    fn reposts_weigh_own_words_apart() {
        // The reposter's cue, the quoted service.
        let s = ex()
            .extract("我也是，图片发不出去 //@小明:微信又崩了")
            .unwrap();
        assert_eq!(
            (s.kind, s.service.as_str()),
            (SignalKind::Complaint, "微信")
        );
        assert!(s.symptoms.contains(&"图片/文件".to_owned()));
        // The reposter's denial wins over the quoted complaint.
        is(
            "没崩，别慌 //@小鱼:微信是不是崩了",
            SignalKind::Denial,
            "微信",
        );
        // A bare repost keeps the quote's signal with less confidence than the author's own.
        let own = ex().extract("微信崩了").unwrap().confidence;
        let quoted = ex().extract("//@小鱼:微信崩了").unwrap().confidence;
        assert!(quoted < own, "{quoted} < {own}");
    }

    #[test]
    fn odd_text_never_panics() {
        let huge = "微信崩了".repeat(64 * 1024);
        for t in [
            "",
            " ",
            "//@",
            "//@:",
            "微信//@",
            "不",
            "不了",
            "能",
            "#",
            "[",
            "\u{0}\u{7}微信\u{1b}[31m崩了",
            "𠀀𠀁微信崩了😭😭",
            "？？？",
            "微信和",
            "和微信",
            huge.as_str(),
        ] {
            let _ = ex().extract(t);
            let _ = ex().analyze_text(t);
        }
        assert!(ex().extract(&huge).is_some());
    }

    #[test]
    fn terms_leave_out_services_fillers_and_punctuation() {
        assert_eq!(
            ex().terms("#微信崩了# 微信又崩了？？图片发不出去 //@小明:PC微信登录不上"),
            vec!["图片", "发不出去", "登录不上"]
        );
    }

    #[test]
    fn several_services_and_symptoms() {
        let s = ex().extract("微信和QQ都登不上，图片也发不出去").unwrap();
        assert_eq!(s.service, "微信");
        assert_eq!(s.also, vec!["QQ"]);
        assert_eq!(s.symptoms, vec!["登录", "图片/文件"]);
        assert!((0.05..=0.99).contains(&s.confidence));
    }
}

#[cfg(test)]
mod discovery_tests {
    use super::*;
    use std::sync::OnceLock;

    fn ex() -> &'static Extractor {
        static EX: OnceLock<Extractor> = OnceLock::new();
        EX.get_or_init(Extractor::embedded)
    }

    fn found(text: &str) -> Option<String> {
        ex().extract(text)
            .filter(|s| s.discovered && s.kind == SignalKind::Complaint)
            .map(|s| s.service)
    }

    #[test]
    fn unlisted_services_are_read_from_the_text() {
        for text in [
            "小蓝书又崩了",
            "小蓝书崩了？？",
            "我的小蓝书怎么又崩了",
            "小蓝书服务器崩了",
            "今天小蓝书是不是挂了",
            "小蓝书打不开，一直白屏",
            "求问小蓝书进不去是就我一个吗",
        ] {
            assert_eq!(found(text).as_deref(), Some("小蓝书"), "{text}");
        }
        assert_eq!(found("花生日记app打不开").as_deref(), Some("花生日记"));
        assert_eq!(found("有没有人小蓝书打不开的").as_deref(), Some("小蓝书"));
        assert_eq!(found("Keep闪退").as_deref(), Some("keep"));
    }

    #[test]
    fn other_senses_and_statements_are_not_discoveries() {
        for text in [
            "心态崩了",
            "游戏又崩了",
            "电脑又崩了",
            "我手机打不开了",
            "去年小蓝书崩过一次",
            "小蓝书没崩啊",
            "要是小蓝书崩了怎么办",
            "考试挂了",
            "服务器崩了",
            "12306崩了",
            "同款闪退",
        ] {
            assert_eq!(found(text), None, "{text}");
        }
    }

    #[test]
    fn listed_services_keep_their_gazetteer_signal() {
        let s = ex().extract("微信崩了").expect("a signal");
        assert_eq!(s.service, "微信");
        assert!(!s.discovered);
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
