//! New-service discovery: when no listed service explains a complaint cue, the name right in
//! front of it (小红书崩了) is read from the text, with jieba's HMM and part-of-speech tags.

use super::*;

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

impl Extractor {
    /// New-service discovery: when the rules found no signal, the subject of a discovery
    /// cue (崩了, 挂了, 宕机, 进不去...) becomes the service when it is a run of at most three
    /// name tokens (jieba part of speech nr/nz/nt/ns, or an unknown noun, or Latin letters)
    /// right in front of the cue, fillers, parts and symptom words skipped, and is not a stop
    /// word (`[discovery]` in `models/cues.toml`). The signal is marked `discovered`.
    pub(super) fn discover<'a>(
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
    pub(super) fn name_before(&self, before: &str) -> Option<(String, bool)> {
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
}

#[cfg(test)]
mod tests {
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
