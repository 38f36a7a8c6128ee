//! The extractor against the hand-labelled posts in `data/posts/labelled.jsonl`: precision
//! and recall of complaints must stay at or above 0.9.

use benglema_text::{evaluate, Extractor, LabelledPost};

const LABELLED: &str = include_str!("../../../data/posts/labelled.jsonl");

#[test]
fn precision_and_recall_on_hand_labelled_posts() {
    let posts = LabelledPost::parse_jsonl(LABELLED).expect("labelled posts parse");
    assert!(posts.len() >= 300, "only {} labelled posts", posts.len());
    let ex = Extractor::embedded();
    let r = evaluate(&ex, &posts);
    println!("{r}");
    for m in &r.misses {
        println!(
            "MISS {} {:?} want {:?}/{:?} got {}",
            m.id,
            m.text,
            m.label.kind,
            m.label.service,
            m.got.as_ref().map_or("-".to_string(), |s| format!(
                "{:?}/{} cue={} sy={:?} also={:?}",
                s.kind, s.service, s.cue, s.symptoms, s.also
            ))
        );
    }
    assert!(
        r.precision() >= 0.9,
        "complaint precision {:.3} < 0.9",
        r.precision()
    );
    assert!(
        r.recall() >= 0.9,
        "complaint recall {:.3} < 0.9",
        r.recall()
    );
}

const HELDOUT: &str = include_str!("../../../data/posts/heldout.jsonl");

/// The held-out set was written by a different hand and never used to tune the rules; its
/// figures are reported, and guarded by a looser floor so that a regression still fails.
#[test]
fn held_out_posts() {
    let posts = LabelledPost::parse_jsonl(HELDOUT).expect("held-out posts parse");
    assert!(posts.len() >= 150, "only {} held-out posts", posts.len());
    let r = evaluate(&Extractor::embedded(), &posts);
    println!("{r}");
    for m in &r.misses {
        println!(
            "MISS {} {:?} want {:?}/{:?} got {:?}",
            m.id,
            m.text,
            m.label.kind,
            m.label.service,
            m.got.as_ref().map(|s| (s.kind, &s.service, &s.cue))
        );
    }
    assert!(
        r.precision() >= 0.8,
        "held-out complaint precision {:.3} < 0.8",
        r.precision()
    );
    assert!(
        r.recall() >= 0.8,
        "held-out complaint recall {:.3} < 0.8",
        r.recall()
    );
}

const BACKGROUND: &str = include_str!("../../../data/posts/background.jsonl");

/// Ordinary chatter on a day when nothing is down (629 hand-written posts, many naming a
/// service, many using 崩溃/卡/挂/炸 in their everyday senses) must not read as complaints.
#[test]
fn background_chatter_is_not_complaints() {
    let ex = Extractor::embedded();
    let mut n = 0;
    let mut flagged = Vec::new();
    for line in BACKGROUND.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("background post parses");
        let text = v["text"].as_str().expect("text");
        n += 1;
        if let Some(s) = ex
            .extract(text)
            .filter(|s| s.kind == benglema_model::SignalKind::Complaint)
        {
            flagged.push(format!("{text} -> {}/{}", s.service, s.cue));
        }
    }
    println!(
        "background: {} of {n} posts read as complaints",
        flagged.len()
    );
    for f in &flagged {
        println!("  {f}");
    }
    assert!(n >= 600);
    assert!(
        flagged.len() * 200 <= n,
        "more than 0.5% false complaints: {flagged:#?}"
    );
}
