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
//!
//! A post is normalised once ([`Extractor::read`]), and each segment is cut with the
//! extractor's dictionary at most once, whichever stage asks first: the rules ([`binding`]),
//! discovery's targets, the classifier's past-tense check and a complaint's content terms
//! ([`terms`]) share those cuts. Two readings need text of their own: discovery re-cuts the
//! words in front of a target with jieba's HMM ([`discovery`]), and the classifier's
//! features cut the post with service names masked ([`features`]). [`statement`] reads
//! article sentences for `labels`.

mod binding;
mod discovery;
mod features;
mod statement;
mod terms;

pub use statement::Statement;

use benglema_model::{Signal, SignalKind};
use jieba_rs::Jieba;

use crate::classifier::{fnv_end, fnv_extend, hash_feature, Classifier, FNV_OFFSET};
use crate::lexicon::{role, Cue, Entry, Lexicon, Scan, Scans, Strength};
use crate::models::{Models, ServiceDef};
use crate::normalize::{normalize, Normalized};

/// What the extractor reads in one post: its signal, and for a complaint its content terms
/// (see [`Extractor::read`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reading {
    /// The signal, as [`Extractor::extract`] gives it.
    pub signal: Option<Signal>,
    /// For a complaint, its content terms, as [`Extractor::terms`] gives them; empty otherwise.
    pub terms: Vec<String>,
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

    fn signal(&self, n: &Normalized) -> Option<Signal> {
        let mut cache = Self::cache(n);
        self.signal_cached(n, &mut cache)
    }

    /// One empty cache slot per segment.
    fn cache<'a>(n: &Normalized) -> Vec<Option<Parsed<'a>>> {
        (0..n.segments.len()).map(|_| None).collect()
    }

    /// The signal (before [`Self::with_family`]); each segment is cut and analysed at most
    /// once, into `cache`, whichever stage asks first.
    fn signal_cached<'a>(
        &self,
        n: &'a Normalized,
        cache: &mut [Option<Parsed<'a>>],
    ) -> Option<Signal> {
        let all = self.lex.scans(n.segments.iter().map(|s| s.text.as_str()));
        let scans = &all.segs;
        if !scans.iter().any(|s| s.cue) {
            return self.classify(n, &all, cache);
        }
        if !scans.iter().any(|s| s.service) {
            return self.discover(n, scans, cache);
        }
        let own_cue = matches!(
            (n.segments.first(), scans.first()),
            (Some(s), Some(sc)) if !s.quoted && sc.cue
        );
        if own_cue {
            self.parsed(n, cache, 0);
        }
        // Held outside the cache while the quoted segments fill it; put back afterwards.
        let own_entry = if own_cue { cache[0].take() } else { None };
        let bound = self.bound(n, scans, cache, own_entry.as_ref().map(|(_, r)| r));
        if own_entry.is_some() {
            cache[0] = own_entry;
        }
        bound
            .or_else(|| self.discover(n, scans, cache))
            .or_else(|| self.classify(n, &all, cache))
    }

    /// The rules' signal: the post's own words, else a quoted segment, else the reposter's
    /// cue with the quoted words' service. `own` is the analysis of the own words when they
    /// hold a cue.
    fn bound<'a>(
        &self,
        n: &'a Normalized,
        scans: &[Scan],
        cache: &mut [Option<Parsed<'a>>],
        own: Option<&SegResult>,
    ) -> Option<Signal> {
        let empty = SegResult::default();
        let own = own.unwrap_or(&empty);
        if let Some(sig) = self.decide(own, 1.0) {
            return Some(sig);
        }
        let orphan = own.orphans.first().copied();
        for (k, (seg, sc)) in n.segments.iter().zip(scans).enumerate() {
            if !seg.quoted || !sc.service || (orphan.is_none() && !sc.cue) {
                continue;
            }
            let (toks, r) = self.parsed(n, cache, k);
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
        None
    }

    /// A post's signal and, for a complaint, its content terms, from one normalisation, the
    /// terms reusing the segments the signal already cut: equal to [`Self::extract`] and
    /// [`Self::terms`] together, for little more than the price of the first.
    pub fn read(&self, text: &str) -> Reading {
        let n = normalize(text);
        let mut cache = Self::cache(&n);
        let signal = self
            .signal_cached(&n, &mut cache)
            .map(|s| self.with_family(s));
        let terms = match &signal {
            Some(s) if s.kind == SignalKind::Complaint => self.terms_cached(&n, &mut cache),
            _ => Vec::new(),
        };
        Reading { signal, terms }
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
            let _ = ex().read_statement(t);
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
