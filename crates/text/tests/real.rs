//! The extractor on real text: hand-labelled Weibo hot-search titles in `data/real/weibo-hot/`.
//!
//! - `labels-dev.tsv` (1,032 titles labelled for the project, 132 outages): scored by the rule
//!   of `score.py`; fails below precision 0.90, recall 0.85, service recall 0.80.
//! - `labels-heldout.tsv` (our own labels, kept out of every rule-writing and training step):
//!   reported, the honest figure; fails only below a loose floor so a regression still shows.
//! - `titles-sample.tsv` (20,000 random titles): the share flagged is reported.
//!
//! Run with `-- --nocapture` to see the figures and every false signal and miss.

use std::sync::OnceLock;

use benglema_text::{score_titles, Extractor, TitleLabel, TitleReport};

fn ex() -> &'static Extractor {
    static EX: OnceLock<Extractor> = OnceLock::new();
    EX.get_or_init(Extractor::embedded)
}

fn score(name: &str, tsv: &str) -> TitleReport {
    let labels = TitleLabel::parse_tsv(tsv).unwrap_or_else(|e| panic!("{name}: {e}"));
    let r = score_titles(ex(), &labels);
    println!("== {name}\n{r}");
    r
}

#[test]
fn real_dev_titles_meet_the_floors() {
    let r = score(
        "labels-dev",
        include_str!("../../../data/real/weibo-hot/labels-dev.tsv"),
    );
    assert_eq!(r.titles, 1032);
    assert_eq!(r.outages, 132);
    assert!(
        r.precision() >= 0.90,
        "precision {:.3} < 0.90",
        r.precision()
    );
    assert!(r.recall() >= 0.85, "recall {:.3} < 0.85", r.recall());
    assert!(
        r.service_recall() >= 0.80,
        "service recall {:.3} < 0.80",
        r.service_recall()
    );
}

#[test]
fn real_heldout_titles_are_reported() {
    let r = score(
        "labels-heldout (never used to write rules or train)",
        include_str!("../../../data/real/weibo-hot/labels-heldout.tsv"),
    );
    assert!(r.outages >= 20, "only {} outages", r.outages);
    // A loose floor: the figure itself is what README reports.
    assert!(r.precision() >= 0.5, "precision {:.3} < 0.5", r.precision());
    assert!(r.recall() >= 0.5, "recall {:.3} < 0.5", r.recall());
}

#[test]
fn few_random_real_titles_read_as_outages() {
    let tsv = include_str!("../../../data/real/weibo-hot/titles-sample.tsv");
    let titles: Vec<&str> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| l.splitn(3, '\t').nth(2))
        .collect();
    assert_eq!(titles.len(), 20_000);
    let flagged: Vec<&str> = titles
        .iter()
        .copied()
        .filter(|t| ex().extract(t).is_some())
        .collect();
    for t in &flagged {
        println!("FLAGGED {t}");
    }
    let share = flagged.len() as f64 / titles.len() as f64;
    println!(
        "== titles-sample: {} of {} flagged ({:.2} %)",
        flagged.len(),
        titles.len(),
        share * 100.0
    );
    // Outages are about 0.5 % of hot-search titles; a flood of signals is a regression.
    assert!(
        share < 0.015,
        "{:.2} % of random titles flagged",
        share * 100.0
    );
}

#[test]
fn one_read_gives_what_extract_and_terms_give_on_real_titles_and_reposts_of_them() {
    let titles: Vec<&str> = include_str!("../../../data/real/weibo-hot/labels-dev.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    // Reposts put a title in the reposter's words and another in the quoted ones, so cues,
    // services and the cut segments they share fall in every arrangement.
    let reposts: Vec<String> = titles
        .iter()
        .zip(titles.iter().cycle().skip(7))
        .map(|(a, b)| format!("我也是 {a} //@某用户: {b}"))
        .collect();
    let mut complaints = 0;
    for text in titles
        .iter()
        .copied()
        .chain(reposts.iter().map(String::as_str))
    {
        let r = ex().read(text);
        let signal = ex().extract(text);
        let complaint = signal
            .as_ref()
            .is_some_and(|s| s.kind == benglema_model::SignalKind::Complaint);
        let terms = if complaint {
            complaints += 1;
            ex().terms(text)
        } else {
            Vec::new()
        };
        assert_eq!((r.signal, r.terms), (signal, terms), "{text}");
    }
    assert!(
        complaints > 100,
        "only {complaints} complaints exercised the terms"
    );
}
