//! Cue binding: a segment is cut into tokens with their lexicon entries and clauses
//! ([`Extractor::tokenize`]); each cue is bound to a service by its strength (nearest service
//! of its clause, or its grammatical subject), negation, tense and questions are applied
//! ([`Extractor::analyze`]), and the last statement decides the signal ([`Extractor::decide`]).
//! A signal on a feature or product is then put on the name people look for ([`Extractor::with_family`]).

use super::*;

impl Extractor {
    /// Puts a signal on the name people look for: a feature's signal goes to its app (花呗 →
    /// 支付宝, with 花呗 in `also`); a product keeps its own name and carries its parent in
    /// `also` (百度地图, also 百度). Family names in `also` are listed in `related`.
    pub(super) fn with_family(&self, mut sig: Signal) -> Signal {
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

    pub(super) fn first_service(&self, toks: &Tokens) -> Option<String> {
        toks.toks.iter().find_map(|t| match t.e.service {
            Some((i, false)) => Some(self.models.services[i as usize].name.clone()),
            _ => None,
        })
    }

    pub(super) fn symptom_names(&self, kind: SignalKind, found: &[(u8, bool)]) -> Vec<String> {
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
    pub(super) fn decide(&self, r: &SegResult, weight: f32) -> Option<Signal> {
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
    pub(super) fn tokenize<'a>(&self, text: &'a str) -> Tokens<'a> {
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

    pub(super) fn analyze<'a>(&self, tokens: &Tokens<'a>) -> SegResult<'a> {
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
    pub(super) fn is_potential_complement(&self, toks: &[Tok], i: usize) -> bool {
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
    pub(super) fn has_object(toks: &[Tok], i: usize) -> bool {
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
    pub(super) fn able_again(toks: &[Tok], i: usize) -> bool {
        let clause = toks[i].clause;
        toks[i + 1..]
            .iter()
            .take(4)
            .take_while(|x| x.clause == clause && !is_break(x.s))
            .any(|x| x.s == "了" || (x.s.ends_with('了') && x.s.chars().count() > 1))
    }

    /// Whether one of the two words before a cue (fillers and spaces skipped) negates it.
    pub(super) fn negated(&self, before: &[Tok]) -> bool {
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
    pub(super) fn nearest(&self, toks: &[Tok], start: usize, i: usize) -> Option<(usize, Reach)> {
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
    pub(super) fn subject(
        &self,
        toks: &[Tok],
        start: usize,
        i: usize,
        wide: bool,
    ) -> Option<(usize, Reach)> {
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
    pub(super) fn previous_clause_service(
        &self,
        toks: &[Tok],
        start: usize,
    ) -> Option<(usize, Reach)> {
        let clause = toks.get(start)?.clause;
        let floor = clause.saturating_sub(2);
        (start.saturating_sub(WINDOW)..start)
            .rev()
            .take_while(|&j| toks[j].clause >= floor)
            .find(|&j| toks[j].e.service.is_some_and(|(_, weak)| !weak))
            .map(|j| (j, Reach::PreviousClause))
    }

    /// The service at `j` plus services coordinated before it (微信和QQ都崩了), earliest first.
    pub(super) fn coordinated(&self, toks: &[Tok], j: usize) -> Vec<u16> {
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
