//! The token lexicon: every model term compiled into one hash map from token to roles, plus
//! the substring prefilter that proves a post cannot carry a signal before it is segmented.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use rustc_hash::FxHashMap;

use crate::extract::glued;
use crate::models::Models;

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

/// What the prefilter found in a text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    pub service: bool,
    pub cue: bool,
    /// Whether a discovery cue occurs (only looked for when some cue does).
    pub discovery: bool,
}

/// Compiled lexicon.
pub(crate) struct Lexicon {
    pub map: FxHashMap<Box<str>, Entry>,
    pub potential_suffixes: Vec<String>,
    /// Matches cue-bearing substrings (complaint, recovery, denial, potential suffix).
    cue_filter: AhoCorasick,
    /// Matches service aliases, weak ones included.
    service_filter: AhoCorasick,
    /// Matches the discovery cues.
    discovery: Option<AhoCorasick>,
    /// Matches unambiguous service aliases, leftmost-longest (for classifier features).
    aliases: AhoCorasick,
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

        let mut cue_pats: Vec<&str> = Vec::new();
        for list in [
            &c.complaint.strong,
            &c.complaint.bound,
            &c.complaint.weak,
            &c.complaint.potential_suffixes,
            &c.recovery.terms,
            &c.denial.terms,
        ] {
            cue_pats.extend(list.iter().map(String::as_str));
        }
        let svc_pats: Vec<&str> = m
            .services
            .iter()
            .flat_map(|s| s.aliases.iter().chain(&s.weak_aliases))
            .map(String::as_str)
            .collect();
        // Two automata, each asked only whether it matches (it stops at the first match):
        // cheaper than one overlapping scan over both, which walks every cue substring.
        let dfa = |pats: &[&str]| {
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .build(pats)
                .expect("model terms form a valid automaton")
        };
        let cue_filter = dfa(&cue_pats);
        let service_filter = dfa(&svc_pats);
        let discovery = (!c.discovery.cues.is_empty()).then(|| {
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .build(&c.discovery.cues)
                .expect("discovery cues form a valid automaton")
        });
        let aliases = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(m.services.iter().flat_map(|s| &s.aliases))
            .expect("service aliases form a valid automaton");
        Lexicon {
            map,
            potential_suffixes: c.complaint.potential_suffixes.clone(),
            cue_filter,
            service_filter,
            discovery,
            aliases,
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

    /// Whether normalised text contains (a service alias, a cue) as substrings. Tokens are
    /// substrings, so a text without both cannot carry a signal: this is exact, not a guess.
    pub fn scan(&self, text: &str) -> Scan {
        let mut s = Scan {
            cue: self.cue_filter.is_match(text),
            ..Scan::default()
        };
        s.service = self.service_filter.is_match(text);
        if s.cue {
            s.discovery = self.discovery.as_ref().is_some_and(|d| d.is_match(text));
        }
        s
    }

    /// Appends `text` to `out` with every unambiguous service alias replaced by `mask`.
    pub fn mask_services(&self, text: &str, mask: char, out: &mut String) {
        let mut last = 0;
        for m in self.aliases.find_iter(text) {
            // A Latin alias inside a longer Latin word (wb in wbg) is not the alias.
            let alias = &text[m.start()..m.end()];
            if alias.is_ascii() {
                // The Latin runs around the alias, unless they are model terms (wx|down了).
                let before = text[..m.start()]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| !c.is_ascii_alphanumeric())
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let before = &text[before..m.start()];
                let rest = &text[m.end()..];
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
            out.push_str(&text[last..m.start()]);
            out.push(mask);
            last = m.end();
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
