//! The token lexicon: every model term compiled into one hash map from token to roles, plus
//! the substring scan that proves a post cannot carry a signal before it is segmented and
//! finds the service aliases the classifier's features mask.

use aho_corasick::automaton::Automaton;
use aho_corasick::automaton::StateID;
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, MatchKind, StartKind};
use rustc_hash::FxHashMap;

use crate::extract::glued;
use crate::models::{CueDefs, Models};

/// How a complaint cue finds its service (see `models/cues.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Strength {
    Weak,
    Bound,
    Strong,
}

/// The cue a token carries, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cue {
    Complaint(Strength),
    /// `bound_only`: the service must be the direct subject.
    Recovery {
        bound_only: bool,
    },
    Denial,
}

/// Role bits of a token.
pub(crate) mod role {
    pub const CONFOUNDER: u32 = 1;
    pub const DEVICE: u32 = 1 << 1;
    pub const FILLER: u32 = 1 << 2;
    pub const PART: u32 = 1 << 3;
    pub const PAST: u32 = 1 << 4;
    pub const HYPOTHETICAL: u32 = 1 << 5;
    pub const QUESTION: u32 = 1 << 6;
    pub const NEGATOR: u32 = 1 << 7;
    pub const CONJUNCTION: u32 = 1 << 8;
    pub const POTENTIAL_EXCEPTION: u32 = 1 << 9;
    pub const RECENT: u32 = 1 << 10;
    /// 能 / 可以: "X能Y了" says X works again.
    pub const ABLE: u32 = 1 << 11;
    /// A bare potential-complement ending (不了, 不上) after a verb.
    pub const POTENTIAL_SUFFIX: u32 = 1 << 12;
    /// A result complement after a bare 不 (打/不/进去).
    pub const COMPLEMENT: u32 = 1 << 13;
    /// A complaint cue whose subject may be an unlisted service (小红书又崩了).
    pub const DISCOVERY: u32 = 1 << 14;
    /// A noun that is never a discovered service (游戏, 电脑).
    pub const NOT_A_NAME: u32 = 1 << 15;
    /// A discovery cue that also has other senses (故障, 瘫痪): an unlisted subject needs a
    /// service part in between (X系统故障, X官网瘫痪).
    pub const NEEDS_PART: u32 = 1 << 16;
    /// A word that never belongs to a service name (pronouns, 被, 把, 说).
    pub const FUNCTION: u32 = 1 << 17;
    /// A cue that is another verb when an object follows it (挂了labubu).
    pub const TRANSITIVE: u32 = 1 << 18;
}

/// Everything the lexicon knows about one token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Service index and whether the alias is weak.
    pub service: Option<(u16, bool)>,
    /// Symptom index and whether the term is a fallback.
    pub symptom: Option<(u8, bool)>,
    pub cue: Option<Cue>,
    pub roles: u32,
}

impl Entry {
    #[inline]
    pub fn has(&self, r: u32) -> bool {
        self.roles & r != 0
    }
}

/// What the substring scan found in one text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    pub service: bool,
    pub cue: bool,
    /// Whether a discovery cue occurs (only set when the text has a cue).
    pub discovery: bool,
    /// Where the text's unambiguous aliases are in the span list the scan appended to
    /// (see [`Lexicon::scan`]): `spans[from..to]`; `None` when the scan stopped at the
    /// first point where the text held both a cue and a service.
    pub aliases: Option<(u32, u32)>,
}

/// The scans of a post's segments, in order, and the alias spans they found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scans {
    pub segs: Vec<Scan>,
    spans: Vec<(u32, u32)>,
}

impl Scans {
    /// The byte spans of segment `k`'s unambiguous aliases, leftmost-longest, if its scan
    /// read the whole segment.
    pub fn aliases(&self, k: usize) -> Option<&[(u32, u32)]> {
        let (from, to) = self.segs[k].aliases?;
        Some(&self.spans[from as usize..to as usize])
    }
}

/// What a pattern of the lexicon's automaton is (bits; one string may be several).
mod term {
    /// A cue-bearing substring: complaint, recovery or denial term, potential suffix.
    pub const CUE: u8 = 1;
    /// A service alias, weak ones included.
    pub const SERVICE: u8 = 1 << 1;
    /// An unambiguous service alias (masked in the classifier's features).
    pub const ALIAS: u8 = 1 << 2;
}

/// Compiled lexicon.
pub(crate) struct Lexicon {
    pub map: FxHashMap<Box<str>, Entry>,
    pub potential_suffixes: Vec<String>,
    /// Every cue and alias, each string once, matched overlapping: one pass over a text
    /// reports every term that occurs in it.
    terms: DFA,
    /// Matches the discovery cues (asked only of texts with a cue).
    discovery: Option<AhoCorasick>,
    /// What each pattern of `terms` is ([`term`] bits), by pattern id.
    kinds: Vec<u8>,
}

const CONJUNCTIONS: [&str; 7] = ["和", "跟", "与", "、", "还有", "以及", "及"];
const ABLE: [&str; 6] = ["能", "可以", "能够", "又能", "又可以", "终于能"];
/// Result complements that follow a bare 不 in a potential form (打/不/进去).
pub(crate) const COMPLEMENTS: [&str; 10] = [
    "了", "上", "开", "进去", "出去", "出来", "到", "通", "动", "进",
];

impl Lexicon {
    pub fn build(m: &Models) -> Lexicon {
        let mut map: FxHashMap<Box<str>, Entry> = FxHashMap::default();
        let mut put = |t: &str, f: &dyn Fn(&mut Entry)| f(map.entry(t.into()).or_default());
        for (i, s) in m.services.iter().enumerate() {
            for a in &s.aliases {
                put(a, &|e| e.service = Some((i as u16, false)));
            }
            for a in &s.weak_aliases {
                put(a, &|e| {
                    if e.service.is_none() {
                        e.service = Some((i as u16, true))
                    }
                });
            }
        }
        for (i, s) in m.symptoms.iter().enumerate() {
            for t in &s.terms {
                put(t, &|e| e.symptom = Some((i as u8, false)));
            }
            for t in &s.fallback_terms {
                put(t, &|e| {
                    if e.symptom.is_none() {
                        e.symptom = Some((i as u8, true))
                    }
                });
            }
        }
        let c = &m.cues;
        let lists: [(&Vec<String>, Cue); 5] = [
            (&c.complaint.weak, Cue::Complaint(Strength::Weak)),
            (&c.complaint.bound, Cue::Complaint(Strength::Bound)),
            (&c.complaint.strong, Cue::Complaint(Strength::Strong)),
            (&c.recovery.terms, Cue::Recovery { bound_only: false }),
            (&c.denial.terms, Cue::Denial),
        ];
        for (list, cue) in lists {
            for t in list {
                put(t, &|e| e.cue = Some(cue));
            }
        }
        for t in &c.recovery.bound_only {
            put(t, &|e| e.cue = Some(Cue::Recovery { bound_only: true }));
        }
        let roles: [(&Vec<String>, u32); 10] = [
            (&c.context.recent, role::RECENT),
            (&c.context.confounders, role::CONFOUNDER),
            (&c.context.devices, role::DEVICE),
            (&c.context.fillers, role::FILLER),
            (&c.context.parts, role::PART),
            (&c.context.past, role::PAST),
            (&c.context.hypothetical, role::HYPOTHETICAL),
            (&c.context.questions, role::QUESTION),
            (&c.denial.negators, role::NEGATOR),
            (&c.complaint.potential_exceptions, role::POTENTIAL_EXCEPTION),
        ];
        for (list, r) in roles {
            for t in list {
                put(t, &|e| e.roles |= r);
            }
        }
        for t in CONJUNCTIONS {
            put(t, &|e| e.roles |= role::CONJUNCTION);
        }
        for t in ABLE {
            put(t, &|e| e.roles |= role::ABLE);
        }
        for t in COMPLEMENTS {
            put(t, &|e| e.roles |= role::COMPLEMENT);
        }
        for t in &c.complaint.potential_suffixes {
            put(t, &|e| e.roles |= role::POTENTIAL_SUFFIX);
        }
        for t in &c.discovery.cues {
            put(t, &|e| e.roles |= role::DISCOVERY);
        }
        for t in &c.discovery.stop {
            put(t, &|e| e.roles |= role::NOT_A_NAME);
        }
        for t in &c.context.transitive {
            put(t, &|e| e.roles |= role::TRANSITIVE);
        }
        for t in &c.discovery.needs_part {
            put(t, &|e| e.roles |= role::NEEDS_PART);
        }
        for t in &c.discovery.function {
            put(t, &|e| e.roles |= role::FUNCTION);
        }
        // A confounder is never a cue, whatever other list also names it.
        for e in map.values_mut() {
            if e.has(role::CONFOUNDER) || e.has(role::POTENTIAL_EXCEPTION) {
                e.cue = None;
            }
        }

        // One automaton for every kind of term. Standard (overlapping) match semantics
        // give each state every pattern that ends there, so one pass over a text finds all
        // of them; the aliases' leftmost-longest spans are chosen from those afterwards.
        let mut listed: Vec<(&str, u8)> = cue_terms(c).map(|t| (t.as_str(), term::CUE)).collect();
        for s in &m.services {
            listed.extend(
                s.aliases
                    .iter()
                    .map(|a| (a.as_str(), term::SERVICE | term::ALIAS)),
            );
            listed.extend(s.weak_aliases.iter().map(|a| (a.as_str(), term::SERVICE)));
        }
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let (mut pats, mut kinds): (Vec<&str>, Vec<u8>) = (Vec::new(), Vec::new());
        // An empty term would match everywhere; the models' validation already refuses one,
        // and the automaton must never hold one (its start state would be a match).
        for (t, kind) in listed.into_iter().filter(|(t, _)| !t.is_empty()) {
            let k = *index.entry(t).or_insert_with(|| {
                pats.push(t);
                kinds.push(0);
                pats.len() - 1
            });
            kinds[k] |= kind;
        }
        let terms = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            // The scan steps the automaton itself and never asks for a prefilter.
            .prefilter(false)
            .build(&pats)
            .expect("model terms form a valid automaton");
        let discovery = (!c.discovery.cues.is_empty()).then(|| {
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .build(&c.discovery.cues)
                .expect("discovery cues form a valid automaton")
        });
        Lexicon {
            map,
            potential_suffixes: c.complaint.potential_suffixes.clone(),
            terms,
            discovery,
            kinds,
        }
    }

    /// The entry of a token; tokens ending in a potential-complement suffix (登录不了) are
    /// strong complaint cues unless the lexicon says otherwise.
    #[inline]
    pub fn lookup(&self, tok: &str) -> Entry {
        let mut e = self.map.get(tok).copied().unwrap_or_default();
        if e.cue.is_none()
            && !e.has(role::CONFOUNDER | role::POTENTIAL_EXCEPTION)
            && tok.len() > 6
            && self
                .potential_suffixes
                .iter()
                .any(|s| tok.ends_with(s.as_str()))
        {
            e.cue = Some(Cue::Complaint(Strength::Strong));
        }
        e
    }

    /// Whether normalised text contains a service alias, a cue and (when it has a cue) a
    /// discovery cue as substrings: tokens are substrings, so a text without both a service
    /// and a cue cannot carry a rule's signal (exact, not a guess). One pass over its bytes,
    /// which stops where the text has shown both a cue and a service (nothing after that
    /// changes what the scan says); a scan that reads to the end also appends to `spans`
    /// the byte spans of the text's unambiguous aliases as a leftmost-longest search finds
    /// them (the earliest start, the longest there, the next search after its end), which
    /// [`Scans::aliases`] then reads.
    pub fn scan(&self, text: &str, spans: &mut Vec<(u32, u32)>) -> Scan {
        self.scan_to(text, spans, true)
    }

    /// [`Self::scan`], reading the whole text unless `stop`.
    fn scan_to(&self, text: &str, spans: &mut Vec<(u32, u32)>, stop: bool) -> Scan {
        let d = &self.terms;
        let from = spans.len();
        let mut sid = d
            .start_state(Anchored::No)
            .expect("the automaton is built for unanchored searches");
        let mut seen = 0u8;
        let bytes = text.as_bytes();
        let mut whole = true;
        // The loop only steps the automaton; what a match state holds is read out of line,
        // which keeps the loop's state in registers.
        for (i, &b) in bytes.iter().enumerate() {
            sid = d.next_state(Anchored::No, sid, b);
            if d.is_match(sid) && self.matched(sid, i + 1, &mut seen, spans) && stop {
                whole = i + 1 == bytes.len();
                break;
            }
        }
        let aliases = if whole {
            leftmost_longest(spans, from);
            Some((from as u32, spans.len() as u32))
        } else {
            spans.truncate(from);
            None
        };
        let cue = seen & term::CUE != 0;
        Scan {
            cue,
            service: seen & term::SERVICE != 0,
            discovery: cue && self.discovery.as_ref().is_some_and(|d| d.is_match(text)),
            aliases,
        }
    }

    /// The byte spans of the unambiguous aliases of `text`, leftmost-longest, appended to
    /// `spans` (see [`Self::scan`]).
    pub fn alias_spans(&self, text: &str, spans: &mut Vec<(u32, u32)>) {
        self.scan_to(text, spans, false);
    }

    /// Adds what the match state `sid`, reached at byte `end`, holds: its patterns' kinds to
    /// `seen`, the spans of its aliases to `spans`; says whether `seen` now holds both a cue
    /// and a service.
    #[inline(never)]
    fn matched(
        &self,
        sid: StateID,
        end: usize,
        seen: &mut u8,
        spans: &mut Vec<(u32, u32)>,
    ) -> bool {
        let d = &self.terms;
        for k in 0..d.match_len(sid) {
            let p = d.match_pattern(sid, k);
            let kind = self.kinds[p.as_usize()];
            *seen |= kind;
            if kind & term::ALIAS != 0 {
                spans.push(((end - d.pattern_len(p)) as u32, end as u32));
            }
        }
        *seen & (term::CUE | term::SERVICE) == term::CUE | term::SERVICE
    }

    /// [`Self::scan`] of every segment of a post.
    pub fn scans<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Scans {
        let mut spans = Vec::new();
        let segs = segments
            .into_iter()
            .map(|t| self.scan(t, &mut spans))
            .collect();
        Scans { segs, spans }
    }

    /// Appends `text` to `out` with every unambiguous service alias replaced by `mask`.
    #[cfg(test)]
    pub fn mask_services(&self, text: &str, mask: char, out: &mut String) {
        let mut spans = Vec::new();
        self.alias_spans(text, &mut spans);
        self.mask_spans(text, &spans, mask, out);
    }

    /// Appends `text` to `out` with the unambiguous aliases at `spans` (as
    /// [`Self::alias_spans`] finds them in `text`) replaced by `mask`, except a Latin alias
    /// inside a longer Latin word.
    pub fn mask_spans(&self, text: &str, spans: &[(u32, u32)], mask: char, out: &mut String) {
        let mut last = 0;
        for &(start, end) in spans {
            let (start, end) = (start as usize, end as usize);
            // A Latin alias inside a longer Latin word (wb in wbg) is not the alias.
            let alias = &text[start..end];
            if alias.is_ascii() {
                // The Latin runs around the alias, unless they are model terms (wx|down了).
                let before = text[..start]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| !c.is_ascii_alphanumeric())
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let before = &text[before..start];
                let rest = &text[end..];
                let after = &rest[..rest
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(rest.len())];
                let term = self.map.contains_key(before);
                let term_after = self.map.contains_key(after)
                    || (rest[after.len()..].starts_with('了')
                        && self.map.contains_key(format!("{after}了").as_str()));
                if (!term && glued(before.chars().next_back(), alias.chars().next()))
                    || (!term_after && glued(alias.chars().next_back(), after.chars().next()))
                {
                    continue;
                }
            }
            out.push_str(&text[last..start]);
            out.push(mask);
            last = end;
        }
        out.push_str(&text[last..]);
    }

    /// Multi-character terms to add to the jieba dictionary so they stay whole tokens.
    pub fn dictionary_words(&self) -> impl Iterator<Item = &str> {
        self.map
            .keys()
            .map(|k| &**k)
            .filter(|k| k.chars().count() >= 2)
    }
}

/// Every cue-bearing term (complaint, recovery and denial terms, potential suffixes): what
/// the scan's `cue` flag looks for.
fn cue_terms(c: &CueDefs) -> impl Iterator<Item = &String> {
    [
        &c.complaint.strong,
        &c.complaint.bound,
        &c.complaint.weak,
        &c.complaint.potential_suffixes,
        &c.recovery.terms,
        &c.denial.terms,
    ]
    .into_iter()
    .flatten()
}

/// Keeps, of the alias matches in `spans[from..]` (in any order), those a leftmost-longest
/// search reports: by start, the longest first, each kept span starting at or after the end
/// of the one kept before it.
fn leftmost_longest(spans: &mut Vec<(u32, u32)>, from: usize) {
    let found = &mut spans[from..];
    if found.len() < 2 {
        return;
    }
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let (mut kept, mut cursor) = (from, 0);
    for r in from..spans.len() {
        let sp = spans[r];
        if sp.0 >= cursor {
            spans[kept] = sp;
            kept += 1;
            cursor = sp.1;
        }
    }
    spans.truncate(kept);
}

#[cfg(test)]
mod tests {
    use aho_corasick::{AhoCorasick, MatchKind};

    use super::*;
    use crate::normalize::normalize;

    /// The one-pass scan says what separate searches for cues, services and discovery cues
    /// say, and finds the aliases a leftmost-longest search finds.
    #[test]
    fn one_pass_scan_equals_separate_searches() {
        let m = Models::embedded();
        let lex = Lexicon::build(&m);
        let c = &m.cues;
        let cues: Vec<&String> = cue_terms(c).collect();
        let aliases: Vec<&String> = m.services.iter().flat_map(|s| &s.aliases).collect();
        let services: Vec<&String> = m
            .services
            .iter()
            .flat_map(|s| s.aliases.iter().chain(&s.weak_aliases))
            .collect();
        let cue = AhoCorasick::new(&cues).unwrap();
        let service = AhoCorasick::new(&services).unwrap();
        let discovery = AhoCorasick::new(&c.discovery.cues).unwrap();
        let longest = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&aliases)
            .unwrap();

        // Real titles, and aliases run into each other so that they overlap.
        let mut texts: Vec<String> = include_str!("../../../data/real/weibo-hot/titles-sample.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| l.split('\t').nth(2))
            .map(|t| normalize(t).segments.into_iter().map(|s| s.text).collect())
            .collect();
        let n = services.len();
        for (i, a) in services.iter().enumerate() {
            let b = services[(i * 7 + 3) % n];
            let tail: String = b.chars().skip(1).collect();
            texts.push(format!("{a}{tail}崩了"));
            texts.push(format!("{a}{b}{}", cues[i % cues.len()]));
        }
        texts.extend(["", "wbg和wb", "微信微博", "qq音乐qq"].map(String::from));

        let (mut spans, mut found, mut both, mut stopped) = (Vec::new(), 0, 0, 0);
        for t in &texts {
            spans.clear();
            let s = lex.scan(t, &mut spans);
            let want_cue = cue.is_match(t);
            assert_eq!(s.cue, want_cue, "{t}");
            assert_eq!(s.service, service.is_match(t), "{t}");
            assert_eq!(s.discovery, want_cue && discovery.is_match(t), "{t}");
            let want: Vec<(u32, u32)> = longest
                .find_iter(t)
                .map(|m| (m.start() as u32, m.end() as u32))
                .collect();
            match s.aliases {
                Some(range) => {
                    assert_eq!(spans, want, "{t}");
                    assert_eq!(range, (0, want.len() as u32));
                }
                None => {
                    // Stopped early: only where both a cue and a service were seen.
                    assert!(s.cue && s.service && spans.is_empty(), "{t}");
                    stopped += 1;
                }
            }
            spans.clear();
            lex.alias_spans(t, &mut spans);
            assert_eq!(spans, want, "{t}");
            found += want.len();
            both += usize::from(s.cue && s.service);
        }
        // The texts exercise what is compared.
        assert!(
            found > 2 * n && both > n && stopped > n,
            "{found} aliases, {both} with a cue, {stopped} scans stopped early"
        );
    }

    /// In a post of several segments each segment's aliases are its own, wherever they sit
    /// in the post's span list, and a segment whose scan stopped early has none recorded.
    #[test]
    fn every_segment_indexes_its_own_aliases() {
        let lex = Lexicon::build(&Models::embedded());
        let segs = ["微博", "qq音乐qq和微信", "说句话", "微信崩了啊啊"];
        let scans = lex.scans(segs);
        for (k, t) in segs.iter().enumerate() {
            let mut alone = Vec::new();
            lex.alias_spans(t, &mut alone);
            match scans.aliases(k) {
                Some(found) => assert_eq!(found, &alone[..], "{t}"),
                None => assert!(scans.segs[k].cue && scans.segs[k].service, "{t}"),
            }
        }
        assert_eq!(scans.aliases(0).map(<[_]>::len), Some(1));
        assert!(
            scans.aliases(1).is_some_and(|a| a.len() >= 3),
            "{:?}",
            scans.aliases(1)
        );
        assert_eq!(scans.aliases(2), Some(&[][..]));
        assert_eq!(scans.aliases(3), None);
    }
}
