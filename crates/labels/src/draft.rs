//! Drafting incident labels from a news article.
//!
//! The article is read sentence by sentence with the complaint extractor. A sentence with a
//! complaint signal marks its services as affected, adds the symptom categories it names and,
//! if it carries a time expression, an onset candidate. Articles often name the service once
//! and then describe symptoms ("早上有很多用户就卡在确认登录这里"): a sentence whose cue finds no
//! service is attributed to the first service the sentence names, else to the topic (the
//! service of a recent sentence, at most three sentences back). Sentences about other incidents (去年, 前阵子, an earlier year) are skipped.
//! Recoveries with a time give the end; an official statement made 刚刚 (just now) gives the
//! acknowledgement at the article's publication time. Everything estimated is said in
//! `notes`, because a draft is for a person to check, not a label.

use std::path::Path;

use benglema_model::{Incident, SignalKind};
use benglema_text::Extractor;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use crate::timex::{self, DayRef};
use crate::{Article, LabelsError};

/// How to draft.
#[derive(Debug, Clone)]
pub struct DraftOptions {
    /// The incident date, for articles that state none.
    pub date: Option<NaiveDate>,
    /// The zone local times in the article are in.
    pub zone: FixedOffset,
    /// Record why each sentence counted or not (see [`Drafted::trace`]).
    pub trace: bool,
}

/// Drafted rows, and the reasoning when asked for.
#[derive(Debug, Clone, Default)]
pub struct Drafted {
    /// One row per affected service.
    pub rows: Vec<Incident>,
    /// One line per sentence: what it was read as (only with [`DraftOptions::trace`]).
    pub trace: Vec<String>,
}

impl Default for DraftOptions {
    fn default() -> Self {
        DraftOptions {
            date: None,
            zone: FixedOffset::east_opt(8 * 3600).expect("valid offset"),
            trace: false,
        }
    }
}

/// Words of an official statement.
const OFFICIAL: [&str; 8] = [
    "官方", "官微", "团队", "回应", "致歉", "宣布", "声明", "通报",
];
/// How many sentences a named service stays the topic.
const TOPIC_SPAN: usize = 3;

#[derive(Default)]
struct Acc {
    service: String,
    symptoms: Vec<String>,
    onset: Option<(NaiveDateTime, bool, String)>,
    end: Option<(NaiveDateTime, bool, String)>,
    acknowledged: bool,
}

fn years_in(s: &str) -> impl Iterator<Item = i32> + '_ {
    s.match_indices('年').filter_map(move |(i, _)| {
        let head = &s[..i];
        let digits: String = head
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect();
        (digits.len() == 4).then(|| digits.chars().rev().collect::<String>().parse().ok())?
    })
}

/// Drafts one incident row per affected service from an article.
pub fn draft_incidents(
    article: &Article,
    ex: &Extractor,
    opts: &DraftOptions,
) -> Result<Drafted, LabelsError> {
    let mut trace = Vec::new();
    let published = article.published.map(|p| p.with_timezone(&opts.zone));
    let analyses: Vec<_> = article
        .sentences
        .iter()
        .map(|s| (ex.read_statement(s), timex::find(s)))
        .collect();
    let year_hint = opts.date.map(|d| d.year()).or(published.map(|p| p.year()));
    let is_past = |i: usize| {
        analyses[i].0.past
            || year_hint.is_some_and(|y| years_in(&article.sentences[i]).any(|x| x < y))
    };

    // The incident date: given, else the first explicit date of a complaint, else publication.
    let mut notes: Vec<String> = Vec::new();
    let date = if let Some(d) = opts.date {
        notes.push(format!("date {d} given by the user"));
        d
    } else {
        let explicit = analyses.iter().enumerate().find_map(|(i, (a, ms))| {
            let complaint = a
                .signal
                .as_ref()
                .is_some_and(|s| s.kind == SignalKind::Complaint)
                || a.orphan == Some(SignalKind::Complaint);
            if !complaint || is_past(i) {
                return None;
            }
            ms.iter().find_map(|m| match m.day {
                Some(DayRef::Date { year, month, day }) => {
                    NaiveDate::from_ymd_opt(year.or(year_hint)?, month, day)
                }
                _ => None,
            })
        });
        match (explicit, published) {
            (Some(d), _) => {
                notes.push(format!("date {d} from the text"));
                d
            }
            (None, Some(p)) => {
                notes.push(format!("date {} from the publication time", p.date_naive()));
                p.date_naive()
            }
            (None, None) => {
                return Err(LabelsError::NoDate {
                    path: article.source.clone(),
                })
            }
        }
    };

    let mut accs: Vec<Acc> = Vec::new();
    let mut topic: Option<(String, usize)> = None;
    for (i, (a, mentions)) in analyses.iter().enumerate() {
        if opts.trace {
            trace.push(format!(
                "{i:3} {}{:?} orphan={:?} symptoms={:?} topic={:?} | {}",
                if is_past(i) { "PAST " } else { "" },
                a.signal
                    .as_ref()
                    .map(|s| (s.kind, &s.service, &s.also, &s.cue)),
                a.orphan,
                a.symptoms,
                topic.as_ref().map(|t| &t.0),
                article.sentences[i]
            ));
        }
        if is_past(i) {
            continue;
        }
        // A cue without a service goes to the first service the sentence names, else to the
        // topic of the last few sentences.
        let orphan_target = a.services.first().cloned().or_else(|| {
            topic
                .as_ref()
                .filter(|(_, at)| i - at <= TOPIC_SPAN)
                .map(|t| t.0.clone())
        });
        let (kind, targets): (SignalKind, Vec<String>) = match (&a.signal, a.orphan, orphan_target)
        {
            (Some(sig), _, _) => {
                let mut t = vec![sig.service.clone()];
                t.extend(sig.also.iter().cloned());
                (sig.kind, t)
            }
            (None, Some(k), Some(t)) => (k, vec![t]),
            _ => {
                if let Some(first) = a.services.first() {
                    topic = Some((first.clone(), i));
                }
                continue;
            }
        };
        let sentence = &article.sentences[i];
        let time = mentions.iter().find_map(|m| {
            if m.just_now {
                return None;
            }
            let r = m.resolve(date)?;
            Some((r.date.and_time(r.time?), r.approximate, m.text.clone()))
        });
        let official_now =
            mentions.iter().any(|m| m.just_now) && OFFICIAL.iter().any(|w| sentence.contains(w));
        for t in targets {
            let idx = match accs.iter().position(|x| x.service == t) {
                Some(i) => i,
                None if kind == SignalKind::Complaint => {
                    accs.push(Acc {
                        service: t.clone(),
                        ..Acc::default()
                    });
                    accs.len() - 1
                }
                None => continue,
            };
            let acc = &mut accs[idx];
            match kind {
                SignalKind::Complaint => {
                    for s in &a.symptoms {
                        if !acc.symptoms.contains(s) {
                            acc.symptoms.push(s.clone());
                        }
                    }
                    if let Some(x) = &time {
                        if acc.onset.as_ref().is_none_or(|o| x.0 < o.0) {
                            acc.onset = Some(x.clone());
                        }
                    }
                    acc.acknowledged |= official_now;
                }
                SignalKind::Recovery => {
                    if let Some(x) = &time {
                        if acc.end.as_ref().is_none_or(|e| x.0 > e.0) {
                            acc.end = Some(x.clone());
                        }
                    }
                    acc.acknowledged |= official_now;
                }
                SignalKind::Denial => {}
            }
        }
        // The topic is the sentence's first service, or the one it was just about.
        topic = a
            .services
            .first()
            .cloned()
            .or_else(|| a.signal.as_ref().map(|s| s.service.clone()))
            .or_else(|| topic.take().map(|t| t.0))
            .map(|s| (s, i));
    }

    let earliest = accs
        .iter()
        .filter_map(|a| a.onset.as_ref())
        .min_by_key(|o| o.0)
        .cloned();
    let stem = Path::new(&article.source).file_stem().map_or_else(
        || "article".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let local = |t: NaiveDateTime| -> Option<DateTime<FixedOffset>> {
        opts.zone.from_local_datetime(&t).single()
    };
    let mut rows = Vec::new();
    for a in accs {
        let mut n = notes.clone();
        let start = match (&a.onset, &earliest) {
            (Some((t, approx, text)), _) => {
                n.push(format!(
                    "onset from {text:?}{}",
                    if *approx { " (approximate)" } else { "" }
                ));
                local(*t)
            }
            (None, Some((t, _, text))) => {
                n.push(format!(
                    "onset not stated for {}; the article's earliest onset {text:?} used",
                    a.service
                ));
                local(*t)
            }
            (None, None) => {
                n.push("onset not stated: start of the day used".into());
                local(date.and_hms_opt(0, 0, 0).expect("midnight"))
            }
        };
        let end = a.end.as_ref().and_then(|(t, approx, text)| {
            let t = local(*t)?;
            if start.is_some_and(|s| t < s) {
                return None;
            }
            n.push(format!(
                "end from {text:?}{}",
                if *approx { " (approximate)" } else { "" }
            ));
            Some(t)
        });
        if end.is_none() {
            n.push("end not stated".into());
        }
        let acknowledged_at = if a.acknowledged {
            n.push("acknowledged_at: official statement quoted as 刚刚 at publication".into());
            published
        } else {
            None
        };
        rows.push(Incident {
            incident_id: format!("{date}-{stem}"),
            service: a.service,
            start,
            end,
            acknowledged_at,
            symptoms: a.symptoms,
            source: article.source.clone(),
            notes: format!("draft: {}", n.join("; ")),
        });
    }
    Ok(Drafted { rows, trace })
}
