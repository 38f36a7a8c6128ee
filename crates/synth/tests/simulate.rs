//! The simulator's contract: deterministic, ordered, unique ids, diurnal volume, and outages
//! that the extractor (`benglema-text`) sees where they were injected and nowhere else.
//!
//! Run with `-- --nocapture` to see the figures.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use benglema_model::{Incident, SignalKind};
use benglema_synth::{simulate, Burst, BurstKind, SimSpec, Simulated, Truth, SPORADIC};
use chrono::{DateTime, Duration, FixedOffset, Timelike};

use common::{ex, seed_incidents};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("RFC 3339")
}

/// How long after an outage's end its tail is still "inside" the incident for these tests.
const TAIL: i64 = 150;

/// One simulated post as the extractor reads it.
struct Read {
    at: DateTime<FixedOffset>,
    text: String,
    truth: Truth,
    /// (kind, service, also) of the extractor's signal.
    signal: Option<(SignalKind, String, Vec<String>)>,
}

impl Read {
    fn complaint_of(&self, service: &str) -> bool {
        self.signal.as_ref().is_some_and(|(k, s, also)| {
            *k == SignalKind::Complaint && (s == service || also.iter().any(|a| a == service))
        })
    }

    fn any_complaint(&self) -> bool {
        self.signal
            .as_ref()
            .is_some_and(|(k, _, _)| *k == SignalKind::Complaint)
    }
}

/// The specs around the seed incidents (from 0.3 days before their day to its end).
fn specs() -> &'static [SimSpec] {
    static SPECS: OnceLock<Vec<SimSpec>> = OnceLock::new();
    SPECS.get_or_init(|| SimSpec::around(&seed_incidents(), 0.3, 0.0, 11))
}

/// Every post of [`specs`], read by the extractor once for all tests.
fn reads() -> &'static [Read] {
    static READS: OnceLock<Vec<Read>> = OnceLock::new();
    READS.get_or_init(|| {
        specs()
            .iter()
            .flat_map(simulate)
            .map(|s: Simulated| {
                let signal = ex()
                    .extract(&s.post.text)
                    .map(|g| (g.kind, g.service, g.also));
                Read {
                    at: s.post.created_at,
                    text: s.post.text,
                    truth: s.truth,
                    signal,
                }
            })
            .collect()
    })
}

fn short_spec(seed: u64) -> SimSpec {
    let mut spec = SimSpec::new(
        seed,
        at("2023-03-29T01:30:00+08:00"),
        at("2023-03-29T04:30:00+08:00"),
    );
    spec.incidents = seed_incidents();
    spec.bursts = vec![Burst {
        kind: BurstKind::Meme,
        service: "抖音".into(),
        start: at("2023-03-29T01:40:00+08:00"),
        minutes: 30,
        scale: None,
    }];
    spec
}

#[test]
fn same_spec_same_posts() {
    let spec = short_spec(5);
    let a: Vec<Simulated> = simulate(&spec).collect();
    let b: Vec<Simulated> = simulate(&spec).collect();
    assert!(a.len() > 1000, "{}", a.len());
    assert_eq!(a, b);
    // Another seed gives another stream.
    let c: Vec<Simulated> = simulate(&short_spec(6)).collect();
    assert_ne!(
        a.iter().map(|s| &s.post.text).collect::<Vec<_>>(),
        c.iter().map(|s| &s.post.text).collect::<Vec<_>>()
    );
}

#[test]
fn background_does_not_depend_on_what_is_injected() {
    let with = short_spec(5);
    let mut without = with.clone();
    without.incidents.clear();
    without.bursts.clear();
    let bg = |spec: &SimSpec| -> Vec<(DateTime<FixedOffset>, String)> {
        simulate(spec)
            .filter(|s| matches!(s.truth, Truth::Background | Truth::Confounder))
            .map(|s| (s.post.created_at, s.post.text))
            .collect()
    };
    assert_eq!(bg(&with), bg(&without));
}

#[test]
fn ordered_unique_and_well_formed() {
    let spec = short_spec(9);
    let posts: Vec<Simulated> = simulate(&spec).collect();
    let mut ids = HashSet::new();
    for w in posts.windows(2) {
        assert!(w[0].post.created_at <= w[1].post.created_at);
    }
    for s in &posts {
        let p = &s.post;
        assert!(ids.insert(p.id.clone()), "duplicate id {}", p.id);
        assert!(p.id.starts_with("s9-"), "{}", p.id);
        assert_eq!(p.created_at.offset().local_minus_utc(), 8 * 3600);
        assert_eq!(p.created_at.nanosecond(), 0);
        assert!(p.created_at >= spec.start && p.created_at < spec.end);
        assert!(p.user_id.as_deref().is_some_and(|u| u.starts_with('u')));
        assert!(!p.text.trim().is_empty());
        // Every post is a valid record of the post contract.
        let back = benglema_model::Post::parse_str(&p.to_json()).expect("valid post");
        assert_eq!(&back, p);
    }
    // A window that does not start on a minute boundary.
    let mut odd = spec.clone();
    odd.start = at("2023-03-29T01:30:30+08:00");
    odd.end = at("2023-03-29T01:31:10+08:00");
    assert!(simulate(&odd).all(|s| s.post.created_at >= odd.start && s.post.created_at < odd.end));
    // An empty window.
    let mut empty = spec;
    empty.end = empty.start;
    assert_eq!(simulate(&empty).count(), 0);
}

#[test]
fn volume_is_diurnal() {
    // A quiet Wednesday with nothing injected.
    let spec = SimSpec::new(
        3,
        at("2023-03-15T00:00:00+08:00"),
        at("2023-03-16T00:00:00+08:00"),
    );
    let mut per_hour = [0usize; 24];
    let mut n = 0usize;
    for s in simulate(&spec) {
        per_hour[s.post.created_at.hour() as usize] += 1;
        n += 1;
    }
    let night: usize = per_hour[2..6].iter().sum();
    let evening: usize = per_hour[20..24].iter().sum();
    println!("posts per hour: {per_hour:?}");
    println!("posts per day at default settings: {n}");
    assert!(
        (night as f64) < 0.3 * evening as f64,
        "night {night} vs evening {evening}"
    );
    assert!(per_hour[12] > per_hour[15], "lunchtime bump");
    assert!((25_000..50_000).contains(&n), "{n} posts a day");
    // Weekends differ: fewer posts on a Saturday morning than on a Wednesday morning.
    let sat = SimSpec::new(
        3,
        at("2023-03-18T07:00:00+08:00"),
        at("2023-03-18T10:00:00+08:00"),
    );
    let wed = SimSpec::new(
        3,
        at("2023-03-15T07:00:00+08:00"),
        at("2023-03-15T10:00:00+08:00"),
    );
    assert!(simulate(&sat).count() < simulate(&wed).count());
}

/// The minutes during which an incident row of `service` (or its tail) is running.
fn inside_incident(
    spec: &SimSpec,
    incidents: &[Incident],
    service: &str,
    t: DateTime<FixedOffset>,
) -> bool {
    incidents.iter().filter(|i| i.service == service).any(|i| {
        let (Some(start), Some(end)) = (i.start, spec.incident_end(i)) else {
            return false;
        };
        t >= start && t < end + Duration::minutes(TAIL)
    })
}

#[test]
fn outages_stand_out_where_injected() {
    let reads = reads();
    let incidents = seed_incidents();
    let spec = &specs()[0];
    for inc in &incidents {
        let start = inc.start.expect("seed incidents have a start");
        let count = |from: DateTime<FixedOffset>, to: DateTime<FixedOffset>| {
            reads
                .iter()
                .filter(|r| r.at >= from && r.at < to && r.complaint_of(&inc.service))
                .count()
        };
        let during = count(start + Duration::minutes(10), start + Duration::minutes(40));
        let before = count(start - Duration::hours(6), start);
        let rate_during = during as f64 / 30.0;
        // A quiet six hours counts as one complaint, so the ratio is finite.
        let rate_before = before.max(1) as f64 / 360.0;
        println!(
            "{} {}: {during} complaints in minutes 10-40 ({rate_during:.2}/min), \
             {before} in the 6 h before ({:.3}/min), ratio {:.0}",
            inc.incident_id,
            inc.service,
            before as f64 / 360.0,
            rate_during / rate_before
        );
        assert!(
            rate_during >= 5.0 * rate_before,
            "{} {}: {rate_during} vs {rate_before}",
            inc.incident_id,
            inc.service
        );
        if inc.service == "微信" {
            assert!(
                rate_during >= 8.0,
                "微信 outage too faint: {rate_during}/min"
            );
        }
    }
    // Outside incidents, no service draws more than a few complaints an hour.
    let mut per_hour: BTreeMap<(String, i64), usize> = BTreeMap::new();
    let mut outside_total: BTreeMap<String, usize> = BTreeMap::new();
    for r in reads {
        let Some((SignalKind::Complaint, service, _)) = &r.signal else {
            continue;
        };
        if inside_incident(spec, &incidents, service, r.at) {
            continue;
        }
        *per_hour
            .entry((service.clone(), r.at.timestamp() / 3600))
            .or_default() += 1;
        *outside_total.entry(service.clone()).or_default() += 1;
    }
    let hours: f64 = specs()
        .iter()
        .map(|s| (s.end - s.start).num_minutes() as f64 / 60.0)
        .sum();
    let worst = per_hour.iter().max_by_key(|(_, n)| **n);
    println!("complaints outside incidents over {hours:.0} h: {outside_total:?}");
    println!("worst hour outside incidents: {worst:?}");
    for ((service, hour), n) in &per_hour {
        assert!(
            *n <= 6,
            "{service} drew {n} complaints in hour {hour} outside incidents"
        );
    }
    for (service, n) in &outside_total {
        assert!(
            (*n as f64 / hours) < 1.0,
            "{service}: {n} complaints in {hours} h outside incidents"
        );
    }
}

#[test]
fn extractor_reads_the_truth() {
    let reads = reads();
    let (mut complaints, mut hits) = (0usize, 0usize);
    let (mut others, mut false_complaints) = (0usize, 0usize);
    let mut by_truth: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut recoveries, mut recovery_hits) = (0usize, 0usize);
    for r in reads {
        match &r.truth {
            Truth::Complaint { service, .. } => {
                complaints += 1;
                hits += usize::from(r.complaint_of(service));
            }
            Truth::Recovery { service, .. } => {
                recoveries += 1;
                recovery_hits += usize::from(
                    r.signal
                        .as_ref()
                        .is_some_and(|(k, s, _)| *k == SignalKind::Recovery && s == service),
                );
            }
            other => {
                let key = match other {
                    Truth::Background => "background",
                    Truth::Confounder => "confounder",
                    _ => "burst",
                };
                let fp = r.any_complaint();
                others += 1;
                false_complaints += usize::from(fp);
                let e = by_truth.entry(key).or_default();
                e.0 += 1;
                e.1 += usize::from(fp);
            }
        }
    }
    let recall = hits as f64 / complaints as f64;
    let false_rate = false_complaints as f64 / others as f64;
    println!("posts: {}", reads.len());
    println!("complaints read as complaints of their service: {hits}/{complaints} = {recall:.4}");
    println!(
        "background/confounder/burst read as complaints: {false_complaints}/{others} = {false_rate:.4}"
    );
    for (k, (n, fp)) in &by_truth {
        println!("  {k}: {fp}/{n}");
    }
    println!(
        "recoveries read as recoveries of their service: {recovery_hits}/{recoveries} = {:.4}",
        recovery_hits as f64 / recoveries.max(1) as f64
    );
    assert!(complaints > 10_000, "{complaints}");
    assert!(by_truth.get("confounder").is_some_and(|c| c.0 > 500));
    assert!(by_truth.get("burst").is_some_and(|c| c.0 > 1000));
    assert!(recall >= 0.85, "recall {recall}");
    assert!(false_rate <= 0.01, "false complaint rate {false_rate}");
}

#[test]
fn complaint_wording_varies() {
    // The 2021 outage: one service, one symptom, so variety must come from the wording.
    let texts: Vec<&str> = reads()
        .iter()
        .filter(|r| {
            matches!(&r.truth, Truth::Complaint { incident_id, .. }
                if incident_id == "2021-10-18-wechat-images")
        })
        .map(|r| r.text.as_str())
        .take(2000)
        .collect();
    assert_eq!(texts.len(), 2000);
    let distinct: HashSet<&str> = texts.iter().copied().collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &texts {
        *counts.entry(t).or_default() += 1;
    }
    let top = counts.iter().max_by_key(|(_, n)| **n).expect("texts");
    println!(
        "distinct complaint texts: {} of 2000; most repeated: {:?} x{}",
        distinct.len(),
        top.0,
        top.1
    );
    assert!(distinct.len() >= 1500, "{}", distinct.len());
    assert!(*top.1 <= 20, "{top:?} dominates");
}

#[test]
fn outage_shape_ramps_then_recovers() {
    // The 2021 outage, 09:00-11:55: complaints ramp up, recoveries come after the end.
    let reads = reads();
    let id = "2021-10-18-wechat-images";
    let count = |from: &str, to: &str, recovery: bool| {
        let (from, to) = (at(from), at(to));
        reads
            .iter()
            .filter(|r| r.at >= from && r.at < to)
            .filter(|r| match &r.truth {
                Truth::Complaint { incident_id, .. } => !recovery && incident_id == id,
                Truth::Recovery { incident_id, .. } => recovery && incident_id == id,
                _ => false,
            })
            .count()
    };
    let first = count(
        "2021-10-18T09:00:00+08:00",
        "2021-10-18T09:03:00+08:00",
        false,
    );
    let plateau = count(
        "2021-10-18T09:30:00+08:00",
        "2021-10-18T09:33:00+08:00",
        false,
    );
    let tail = count(
        "2021-10-18T12:30:00+08:00",
        "2021-10-18T12:33:00+08:00",
        false,
    );
    let early_recoveries = count(
        "2021-10-18T09:00:00+08:00",
        "2021-10-18T11:55:00+08:00",
        true,
    );
    let recoveries = count(
        "2021-10-18T11:55:00+08:00",
        "2021-10-18T12:40:00+08:00",
        true,
    );
    println!("complaints in 3 min: onset {first}, plateau {plateau}, tail {tail}; recoveries {recoveries}");
    assert!(first * 3 < plateau, "{first} vs {plateau}");
    assert!((3 * 30..=3 * 150).contains(&plateau), "{plateau}");
    assert!(tail * 10 < plateau, "{tail} vs {plateau}");
    assert_eq!(early_recoveries, 0);
    assert!(recoveries > 100, "{recoveries}");
    // Sporadic complaints exist, but are rare.
    let sporadic = reads
        .iter()
        .filter(
            |r| matches!(&r.truth, Truth::Complaint { incident_id, .. } if incident_id == SPORADIC),
        )
        .count();
    assert!(sporadic > 10 && sporadic < 300, "{sporadic}");
}

#[test]
fn around_makes_one_spec_per_incident_day() {
    let incidents = seed_incidents();
    let specs = SimSpec::around(&incidents, 0.0, 0.0, 100);
    assert_eq!(specs.len(), 3);
    for (i, spec) in specs.iter().enumerate() {
        assert_eq!(spec.seed, 100 + i as u64);
        assert!(!spec.incidents.is_empty());
        assert!(spec.bursts.len() >= 2, "{:?}", spec.bursts);
        for inc in &spec.incidents {
            let start = inc.start.unwrap();
            assert!(start >= spec.start && start < spec.end);
            let end = spec.incident_end(inc).unwrap();
            for b in &spec.bursts {
                let b_end = b.start + Duration::minutes(b.minutes);
                assert!(b.start >= spec.start && b_end <= spec.end, "{b:?}");
                assert!(
                    b_end <= start - Duration::hours(6) || b.start >= end + Duration::hours(3),
                    "{b:?} too close to {}",
                    inc.incident_id
                );
            }
        }
    }
    // The 2023 spec holds all four rows of the Tencent Cloud incident.
    assert_eq!(specs[2].incidents.len(), 4);
    // The 2022 outage starts at 22:00 and has no end: the window covers its tail.
    assert!(specs[1].end >= at("2022-07-23T01:00:00+08:00"));
    // Wide windows merge: 2021-10-18 and 2022-07-22 are far apart, but a year either side
    // joins them all.
    let wide = SimSpec::around(&incidents, 400.0, 400.0, 1);
    assert_eq!(wide.len(), 1);
    assert_eq!(wide[0].incidents.len(), incidents.len());
    // Determinism of the placement.
    assert_eq!(specs, SimSpec::around(&incidents, 0.0, 0.0, 100));
}

#[test]
fn bursts_talk_about_their_service_without_complaining() {
    let reads = reads();
    let bursts: Vec<&Read> = reads.iter().filter(|r| r.truth == Truth::Burst).collect();
    assert!(!bursts.is_empty());
    let complaints = bursts.iter().filter(|r| r.any_complaint()).count();
    println!(
        "burst posts: {}, read as complaints: {complaints}",
        bursts.len()
    );
    for spec in specs() {
        for b in &spec.bursts {
            let b_end = b.start + Duration::minutes(b.minutes);
            let n = bursts
                .iter()
                .filter(|r| r.at >= b.start && r.at < b_end)
                .count();
            assert!(n as i64 > b.minutes, "{b:?}: {n} posts");
        }
    }
}

/// Per-5-minute counts of 微信's sporadic complaints over a simulated day: (mean, variance).
fn sporadic_wechat(spec: &SimSpec) -> (f64, f64) {
    let mut counts = vec![0f64; 288];
    let t0 = spec.start.timestamp();
    for s in simulate(spec) {
        if let Truth::Complaint {
            incident_id,
            service,
        } = &s.truth
        {
            if incident_id == benglema_synth::SPORADIC && service == "微信" {
                counts[((s.post.created_at.timestamp() - t0) / 300) as usize] += 1.0;
            }
        }
    }
    let n = counts.len() as f64;
    let mean = counts.iter().sum::<f64>() / n;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[test]
fn the_hard_history_is_overdispersed_and_labels_its_own_outages() {
    let from = at("2024-03-04T00:00:00+08:00");
    let spec = SimSpec::hard(3, from, 21.0);
    // An outage every 1.5 days from the second day on, every shape among them.
    assert!(
        (11..=16).contains(&spec.incidents.len()),
        "{}",
        spec.incidents.len()
    );
    assert!(spec
        .incidents
        .iter()
        .all(|i| i.start.unwrap() >= from + chrono::Duration::days(1)));
    for kind in ["sharp", "ramp", "degradation", "seeded", "discovered"] {
        assert!(
            spec.incidents.iter().any(|i| i.incident_id.ends_with(kind)),
            "{kind}"
        );
    }
    assert_eq!(spec.shapes.len(), spec.incidents.len());
    assert!(spec.bursts.len() >= 40, "{} bursts", spec.bursts.len());
    assert!(spec
        .bursts
        .iter()
        .all(|b| b.scale.is_some_and(|s| s >= 1.0)));

    // One clear day: 微信's ordinary complaints about 0.1 a minute, and overdispersed (a
    // Gamma-mixed rate has variance above its mean; Poisson counts have them equal, but the
    // daily rhythm adds a little to both).
    let mut day = SimSpec::hard(3, from, 1.0);
    let (mean, var) = sporadic_wechat(&day);
    assert!((0.25..1.0).contains(&mean), "{mean} per 5 minutes");
    day.dispersion = 0.0;
    let (pmean, pvar) = sporadic_wechat(&day);
    assert!(
        var / mean > pvar / pmean + 0.15,
        "{var}/{mean} vs Poisson {pvar}/{pmean}"
    );
}
