//! The engine on seeded synthetic streams: seasonal background traffic with Poisson
//! complaint noise, optionally an outage. No wall clock anywhere: event time only.

use std::collections::BTreeSet;

use benglema_detect::{Admission, DetectorConfig, Engine, EngineOptions, Observation, Output};
use benglema_model::{EventStatus, OutageEvent, Signal, SignalKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

/// 2021-10-18T00:00:00+08:00.
const T0: i64 = 1_634_486_400;

struct Outage {
    service: &'static str,
    start_min: i64,
    minutes: i64,
    /// Complaints per minute at the plateau.
    rate: f64,
}

struct Post {
    id: String,
    at: i64,
    signal: Option<Signal>,
}

fn complaint(service: &str, symptom: &str) -> Signal {
    Signal {
        service: service.to_owned(),
        kind: SignalKind::Complaint,
        symptoms: vec![symptom.to_owned()],
        cue: "崩了".to_owned(),
        confidence: 0.9,
        also: vec![],
        related: Vec::new(),
        discovered: false,
    }
}

/// Diurnal volume: quiet at 04:00, busy at 21:00 (local = T0's zone).
fn volume(minute: i64) -> f64 {
    let h = (minute % 1440) as f64 / 60.0;
    let day = 0.55 - 0.45 * ((h - 4.0) / 24.0 * std::f64::consts::TAU).cos();
    60.0 * day
}

/// A seeded stream: posts in mostly ascending time, a little jitter within a minute.
fn stream(seed: u64, minutes: i64, outages: &[Outage]) -> Vec<Post> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let services = ["微信", "QQ", "支付宝", "淘宝", "12306"];
    for m in 0..minutes {
        let n = Poisson::new(volume(m)).unwrap().sample(&mut rng) as u64;
        for _ in 0..n {
            let at = T0 + m * 60 + rng.random_range(0..60);
            // Stray complaints: about 1 in 2,000 posts, spread over services.
            let signal = (rng.random::<f64>() < 0.0005)
                .then(|| complaint(services[rng.random_range(0..services.len())], "登录"));
            out.push(Post {
                id: format!("p{}", out.len()),
                at,
                signal,
            });
        }
        for o in outages {
            let k = m - o.start_min;
            if (0..o.minutes).contains(&k) {
                // Ramp over 5 minutes, then plateau.
                let rate = o.rate * ((k + 1) as f64 / 5.0).min(1.0);
                let c = Poisson::new(rate).unwrap().sample(&mut rng) as u64;
                for _ in 0..c {
                    let at = T0 + m * 60 + rng.random_range(0..60);
                    let symptom = if rng.random::<f64>() < 0.6 {
                        "图片/文件"
                    } else {
                        "登录"
                    };
                    out.push(Post {
                        id: format!("p{}", out.len()),
                        at,
                        signal: Some(complaint(o.service, symptom)),
                    });
                }
            }
        }
    }
    out.sort_by_key(|p| p.at);
    out
}

fn run(engine: &mut Engine, posts: &[Post], out: &mut Vec<Output>) {
    for p in posts {
        let terms = ["图片", "发不出去"];
        engine.observe(
            Observation {
                id: &p.id,
                at: p.at,
                signal: p.signal.as_ref(),
                terms: &terms,
                text: "",
            },
            out,
        );
    }
}

fn events(out: &[Output]) -> Vec<&OutageEvent> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            Output::Series(_) => None,
        })
        .collect()
}

#[test]
fn an_outage_is_found_with_its_onset_and_resolved() {
    outage_with(DetectorConfig::default());
}

#[test]
fn the_bocpd_model_finds_it_too() {
    let mut config = DetectorConfig::default();
    config.model.kind = benglema_detect::ModelKind::Bocpd;
    outage_with(config);
}

/// Two days of warm-up, then a 90-minute 微信 outage at 10:00 on day three: (posts, its
/// start minute).
fn wechat_outage() -> (Vec<Post>, i64) {
    let start = 2 * 1440 + 600;
    let posts = stream(
        1,
        3 * 1440,
        &[Outage {
            service: "微信",
            start_min: start,
            minutes: 90,
            rate: 30.0,
        }],
    );
    (posts, start)
}

fn outage_with(config: DetectorConfig) {
    let (posts, start) = wechat_outage();
    let mut engine = Engine::new(config, EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    let evs = events(&out);
    let opened: Vec<_> = evs
        .iter()
        .filter(|e| e.status == EventStatus::Open)
        .collect();
    assert_eq!(opened.len(), 1, "{evs:#?}");
    let e = opened[0];
    assert_eq!(e.service, "微信");
    let onset = (e.started_at.timestamp() - T0) / 60;
    assert!(
        onset.abs_diff(start) <= 2,
        "onset minute {onset}, truth {start}"
    );
    let delay = (e.detected_at.timestamp() - T0) / 60 - start;
    assert!((1..=5).contains(&delay), "detection delay {delay} min");
    assert_eq!(e.started_at.offset().local_minus_utc(), 8 * 3600);
    assert!(
        e.symptoms[0].0 == "图片/文件" && e.symptoms[0].1 > 0.5,
        "{:?}",
        e.symptoms
    );
    assert_eq!(e.top_terms, vec!["发不出去", "图片"]);
    assert_eq!(e.sample_post_ids.len(), 5);
    let resolved: Vec<_> = evs
        .iter()
        .filter(|e| e.status == EventStatus::Resolved)
        .collect();
    assert_eq!(resolved.len(), 1);
    let r = resolved[0];
    assert_eq!(r.event_id, e.event_id);
    let end = (r.ended_at.unwrap().timestamp() - T0) / 60;
    assert!(
        end.abs_diff(start + 90) <= 3,
        "end minute {end}, truth {}",
        start + 90
    );
    assert!(r.peak_rate >= 30.0 && r.complaints > 2000, "{r:?}");
    assert!(r.severity >= benglema_model::Severity::Moderate);
    assert!(evs.iter().all(|x| x.service == "微信"));
}

#[test]
fn no_alarm_on_a_month_of_seasonal_noise() {
    let posts = stream(2, 30 * 1440, &[]);
    let mut engine = Engine::new(DetectorConfig::default(), EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    assert!(events(&out).is_empty(), "{:#?}", events(&out));
    assert!(
        engine.stats().complaints > 500,
        "the noise has complaints to ignore"
    );
    assert_eq!(engine.stats().buckets, 30 * 1440);
}

#[test]
fn restoring_a_snapshot_reproduces_an_uninterrupted_run() {
    let posts = stream(
        3,
        2 * 1440,
        &[Outage {
            service: "QQ",
            start_min: 1500,
            minutes: 60,
            rate: 12.0,
        }],
    );
    let options = EngineOptions {
        series: true,
        every_bucket: true,
    };
    let mut whole = Engine::new(DetectorConfig::default(), options).unwrap();
    let mut a = Vec::new();
    run(&mut whole, &posts, &mut a);
    whole.flush(&mut a);

    for cut in [1, posts.len() / 3, posts.len() * 3 / 4 + 17] {
        let mut first = Engine::new(DetectorConfig::default(), options).unwrap();
        let mut b = Vec::new();
        run(&mut first, &posts[..cut], &mut b);
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        drop(first);
        let mut second = Engine::restore(
            DetectorConfig::default(),
            options,
            serde_json::from_str(&json).unwrap(),
        )
        .unwrap();
        run(&mut second, &posts[cut..], &mut b);
        second.flush(&mut b);
        assert_eq!(a.len(), b.len(), "cut at {cut}: output count");
        if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
            panic!("cut at {cut}: output {i} differs:\n{:?}\n{:?}", a[i], b[i]);
        }
    }
    assert_eq!(
        events(&a)
            .iter()
            .filter(|e| e.status == EventStatus::Open)
            .count(),
        1
    );
}

#[test]
fn late_duplicate_and_idle_posts_are_accounted() {
    let mut engine = Engine::new(
        DetectorConfig::default(),
        EngineOptions {
            series: true,
            every_bucket: true,
        },
    )
    .unwrap();
    let mut out = Vec::new();
    let sig = complaint("微信", "登录");
    let obs = |id: &'static str, at: i64| Observation {
        id,
        at,
        signal: Some(&sig),
        terms: &[],
        text: "",
    };
    assert_eq!(
        engine.observe(obs("a", T0 + 10), &mut out),
        Admission::Accepted
    );
    assert_eq!(
        engine.observe(obs("a", T0 + 10), &mut out),
        Admission::Duplicate
    );
    // Out of order within the allowed lateness (120 s): accepted.
    assert_eq!(
        engine.observe(obs("b", T0 + 300), &mut out),
        Admission::Accepted
    );
    assert_eq!(
        engine.observe(obs("c", T0 + 200), &mut out),
        Admission::Accepted
    );
    // Behind the watermark (300 - 120 = 180 s, so minute 0-2 are closed): late.
    assert_eq!(engine.observe(obs("d", T0 + 30), &mut out), Admission::Late);
    assert_eq!(engine.stats().late, 1);
    assert_eq!(engine.stats().duplicates, 1);
    assert_eq!(engine.watermark(), Some(T0 + 180));
    // An idle input: the runtime moves the watermark on without posts.
    engine.advance_to(T0 + 3600, &mut out);
    assert_eq!(engine.watermark(), Some(T0 + 3600));
    assert_eq!(engine.stats().buckets, 60);
    // It never moves back.
    engine.advance_to(T0, &mut out);
    assert_eq!(engine.watermark(), Some(T0 + 3600));
    let points: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Series(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(points.len(), 60);
    assert_eq!(points.iter().map(|p| p.complaints).sum::<u64>(), 3);
}

#[test]
fn a_gap_of_days_does_not_step_every_empty_minute() {
    let mut engine = Engine::new(DetectorConfig::default(), EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    let obs = |id: &'static str, at: i64| Observation {
        id,
        at,
        signal: None,
        terms: &[],
        text: "",
    };
    engine.observe(obs("a", T0), &mut out);
    // A year later.
    engine.observe(obs("b", T0 + 365 * 86_400), &mut out);
    engine.flush(&mut out);
    assert!(
        engine.stats().buckets < 3 * 1440,
        "{}",
        engine.stats().buckets
    );
}

fn discovered(service: &str) -> Signal {
    Signal {
        related: Vec::new(),
        discovered: true,
        ..complaint(service, "闪退/打不开")
    }
}

#[test]
fn discovered_services_are_found_and_memory_stays_bounded() {
    // Two days of background; all along, a flood of one-off complaint targets (every
    // complaint names a new word, 3 a minute: 8,640 distinct names); an outage of the
    // unlisted 小红书 on day two; then a quiet day so that its series expires.
    let mut posts = stream(7, 3 * 1440, &[]);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut n = 0;
    for m in 0..2 * 1440 {
        for k in 0..3 {
            posts.push(Post {
                id: format!("flood{m}-{k}"),
                at: T0 + m * 60 + rng.random_range(0..60),
                signal: Some(discovered(&format!("词{n}"))),
            });
            n += 1;
        }
    }
    let start = 1440 + 1200;
    for m in start..start + 60 {
        let c = Poisson::new(20.0).unwrap().sample(&mut rng) as u64;
        for k in 0..c {
            posts.push(Post {
                id: format!("xhs{m}-{k}"),
                at: T0 + m * 60 + rng.random_range(0..60),
                signal: Some(discovered("小红书")),
            });
        }
    }
    posts.sort_by_key(|p| p.at);
    let config = DetectorConfig::default();
    let d = config.discovery.clone();
    let mut engine = Engine::new(config.clone(), EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    let mut most = 0;
    for (i, p) in posts.iter().enumerate() {
        run(&mut engine, std::slice::from_ref(p), &mut out);
        if i % 5000 == 0 {
            let state = serde_json::to_value(engine.snapshot()).unwrap();
            let series = state["stepper"]["series"].as_object().unwrap().len();
            let candidates = state["stepper"]["candidates"]["slots"]
                .as_object()
                .unwrap()
                .len();
            assert!(candidates <= d.candidates, "{candidates} candidates");
            most = most.max(series);
        }
    }
    engine.flush(&mut out);
    // The gazetteer's five services plus at most max_series discovered ones, ever.
    assert!(most <= 5 + d.max_series, "{most} series");
    let evs = events(&out);
    let xhs: Vec<_> = evs
        .iter()
        .filter(|e| e.status == EventStatus::Open)
        .collect();
    assert_eq!(xhs.len(), 1, "{evs:#?}");
    assert_eq!(xhs[0].service, "小红书");
    let onset = xhs[0].started_at.timestamp();
    assert!((onset - (T0 + start * 60)).abs() <= 5 * 60, "onset {onset}");
    let stats = engine.stats();
    assert!(stats.discovered_admitted >= 1);
    assert!(stats.discovered_unadmitted >= 8000, "{stats:?}");
    // A quiet day later the discovered series are gone; the state is small again.
    let state = serde_json::to_value(engine.snapshot()).unwrap();
    assert!(
        !state["stepper"]["series"]
            .as_object()
            .unwrap()
            .contains_key("小红书"),
        "小红书 did not expire"
    );
    assert!(stats.discovered_expired >= 1);
    // What the expired series learned is pooled for the next discovered name.
    let pool = &state["stepper"]["pool"];
    assert!(
        pool.as_array()
            .is_some_and(|p| p[0].as_f64().unwrap() > 0.0),
        "no pooled baseline: {pool}"
    );
}

#[test]
fn discovery_can_be_switched_off() {
    let mut config = DetectorConfig::default();
    config.discovery.enabled = false;
    let mut engine = Engine::new(config, EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    let posts: Vec<Post> = (0..600)
        .map(|i| Post {
            id: format!("x{i}"),
            at: T0 + 3600 + i,
            signal: Some(discovered("小红书")),
        })
        .collect();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    assert!(events(&out).is_empty());
    assert_eq!(engine.stats().complaints, 0);
}

#[test]
fn the_model_can_be_chosen_per_series() {
    let mut config = DetectorConfig::default();
    config
        .model
        .services
        .insert("微信".into(), benglema_detect::ModelKind::Bocpd);
    let posts = stream(
        11,
        1440,
        &[Outage {
            service: "微信",
            start_min: 900,
            minutes: 30,
            rate: 20.0,
        }],
    );
    let mut engine = Engine::new(config, EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    let state = serde_json::to_value(engine.snapshot()).unwrap();
    let kind = |s: &str| state["stepper"]["series"][s]["model"]["model"].clone();
    assert_eq!(kind("微信"), "bocpd");
    assert_eq!(kind("QQ"), "cusum");
    assert!(events(&out).iter().any(|e| e.service == "微信"));
}

#[test]
fn family_names_raise_no_event_of_their_own() {
    // 微信 fails; every complaint also names QQ (failing with it) and a family name that
    // only says which service (related): events for 微信 and QQ, none for the family name.
    let (mut posts, _) = wechat_outage();
    for p in &mut posts {
        if let Some(s) = p.signal.as_mut().filter(|s| s.service == "微信") {
            s.also = vec!["QQ".to_owned(), "零钱通".to_owned()];
            s.related = vec!["零钱通".to_owned()];
        }
    }
    let mut engine = Engine::new(DetectorConfig::default(), EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    let services: std::collections::BTreeSet<&str> =
        events(&out).iter().map(|e| e.service.as_str()).collect();
    assert!(
        services.contains("微信") && services.contains("QQ"),
        "{services:?}"
    );
    assert!(!services.contains("零钱通"), "{services:?}");
}

/// A stream of one service's complaints with an ordinary rate of `base` a minute, Gamma-mixed
/// each minute (overdispersion `phi`, as on real counts), against 40 posts a minute, with
/// `rate(minute)` the multiplier of the ordinary rate (1 when normal).
fn overdispersed(
    seed: u64,
    minutes: i64,
    base: f64,
    phi: f64,
    rate: &dyn Fn(i64) -> f64,
) -> Vec<Post> {
    use rand_distr::Gamma;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gamma = Gamma::new(1.0 / phi, phi).unwrap();
    let mut out = Vec::new();
    for m in 0..minutes {
        let posts = Poisson::new(40.0).unwrap().sample(&mut rng) as u64;
        let lambda = base * rate(m) * gamma.sample(&mut rng);
        let complaints = if lambda > 0.0 {
            Poisson::new(lambda).unwrap().sample(&mut rng) as u64
        } else {
            0
        };
        for k in 0..posts + complaints {
            out.push(Post {
                id: format!("o{m}-{k}"),
                at: T0 + m * 60 + rng.random_range(0..60),
                signal: (k >= posts).then(|| complaint("微信", "登录")),
            });
        }
    }
    out.sort_by_key(|p| p.at);
    out
}

fn opened(out: &[Output]) -> Vec<&OutageEvent> {
    events(out)
        .into_iter()
        .filter(|e| e.status == EventStatus::Open)
        .collect()
}

#[test]
fn a_cold_start_raises_no_more_false_alarms_than_a_later_day() {
    // Ten days of a service whose ordinary complaint rate is 0.1 a minute, overdispersed:
    // the engine starts knowing nothing about it, so its first day is judged against a
    // wide predictive. The day-one alarms of the issue (1, 1 and 2 complaints in three of
    // 17 minutes) are ordinary here.
    let mut per_day = [0usize; 10];
    for seed in 0..5 {
        let posts = overdispersed(100 + seed, 10 * 1440, 0.1, 0.24, &|_| 1.0);
        let mut engine = Engine::new(DetectorConfig::default(), EngineOptions::default()).unwrap();
        let mut out = Vec::new();
        run(&mut engine, &posts, &mut out);
        engine.flush(&mut out);
        for e in opened(&out) {
            per_day[((e.detected_at.timestamp() - T0) / 86_400) as usize] += 1;
        }
    }
    assert_eq!(
        per_day[0], 0,
        "false alarms by day over 5 streams: {per_day:?}"
    );
    assert!(per_day.iter().sum::<usize>() <= 2, "{per_day:?}");
}

#[test]
fn every_onset_shape_is_caught_early() {
    // Two days to learn an ordinary 0.3 complaints a minute, then a sharp 50× step, a
    // 20-minute ramp to 8× and a 6-hour degradation at 7×, a day apart.
    let (sharp, ramp, long) = (2 * 1440 + 600, 3 * 1440 + 600, 4 * 1440 + 300);
    let shape = move |m: i64| {
        if (sharp..sharp + 60).contains(&m) {
            50.0
        } else if (ramp..ramp + 90).contains(&m) {
            1.0 + 7.0 * ((m - ramp) as f64 / 20.0).min(1.0)
        } else if (long..long + 360).contains(&m) {
            7.0
        } else {
            1.0
        }
    };
    let posts = overdispersed(9, 5 * 1440 + 600, 0.3, 0.24, &shape);
    let mut engine = Engine::new(DetectorConfig::default(), EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    let evs = opened(&out);
    let delay = |start: i64| {
        evs.iter()
            .map(|e| (e.detected_at.timestamp() - T0) / 60 - start)
            .filter(|d| (0..120).contains(d))
            .min()
    };
    assert!(
        delay(sharp).is_some_and(|d| d <= 2),
        "sharp: {:?}",
        delay(sharp)
    );
    assert!(
        delay(ramp).is_some_and(|d| d <= 15),
        "ramp: {:?}",
        delay(ramp)
    );
    assert!(
        delay(long).is_some_and(|d| d <= 15),
        "degradation: {:?}",
        delay(long)
    );
    // The 6-hour degradation, with its many empty minutes, is one event.
    let during = |a: i64, b: i64| {
        evs.iter()
            .filter(|e| (a..b).contains(&((e.started_at.timestamp() - T0) / 60)))
            .count()
    };
    assert_eq!(during(long - 10, long + 360), 1, "{evs:#?}");
    // Overdispersed noise at 0.3 a minute may raise one alarm of its own in five days.
    assert!(evs.len() <= 4, "{evs:#?}");
}

#[test]
fn parameters_edited_after_parsing_are_checked() {
    let bad = |edit: &dyn Fn(&mut DetectorConfig)| {
        let mut c = DetectorConfig::default();
        edit(&mut c);
        match Engine::new(c, EngineOptions::default()) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    };
    assert!(bad(&|c| c.time.bucket_seconds = 0).contains("bucket_seconds"));
    assert!(bad(&|c| c.time.display_zone = "Mars/Base".into()).contains("IANA zone"));
    assert!(bad(&|c| c.cusum.shift_ratios.clear()).contains("shift_ratios"));
    assert!(bad(&|c| c.baseline.dispersion_rate = 2.0).contains("dispersion_rate"));
}

/// Tallies of `sources` partitions (posts split by `part`), the barrier and steppers of
/// `groups` groups of services: what a scaled-out `run` does, in one thread.
fn scaled_out(
    posts: &[Post],
    config: &DetectorConfig,
    sources: u32,
    groups: u32,
    part: impl Fn(usize, &Post) -> u32,
) -> Vec<String> {
    use benglema_detect::{Barrier, Closing, StepperState, Tally, TallyState};
    let keep = config.lifecycle.sample_posts;
    let mut tallies: Vec<Tally> = (0..sources)
        .map(|_| Tally::restore(config, TallyState::default()).unwrap())
        .collect();
    let mut barriers: Vec<Barrier> = (0..groups).map(|_| Barrier::new(sources)).collect();
    let mut steppers: Vec<_> = (0..groups)
        .map(|_| {
            benglema_detect::Stepper::restore(
                config.clone(),
                EngineOptions::default(),
                StepperState::default(),
            )
            .unwrap()
        })
        .collect();
    let mut out = Vec::new();
    let mut send = |src: usize,
                    tally: &Tally,
                    closed: Vec<(i64, benglema_detect::BucketCounts)>,
                    out: &mut Vec<Output>| {
        let mut per_group: Vec<Vec<_>> = vec![Vec::new(); groups as usize];
        for (b, c) in closed {
            for (g, part) in c.split(groups).into_iter().enumerate() {
                per_group[g].push((b, part));
            }
        }
        for (g, buckets) in per_group.into_iter().enumerate() {
            barriers[g].receive(Closing {
                src: src as i32,
                from: None,
                through: tally.through(),
                idle: false,
                done: false,
                buckets,
            });
            if let Some((through, ready)) = barriers[g].release(keep) {
                steppers[g].advance(through, ready, out);
            }
        }
    };
    let terms = ["图片", "发不出去"];
    for (i, p) in posts.iter().enumerate() {
        let src = part(i, p) as usize;
        let mut closed = Vec::new();
        tallies[src].observe(
            Observation {
                id: &p.id,
                at: p.at,
                signal: p.signal.as_ref(),
                terms: &terms,
                text: "",
            },
            &mut closed,
        );
        send(src, &tallies[src], closed, &mut out);
    }
    for (src, tally) in tallies.iter_mut().enumerate() {
        let mut closed = Vec::new();
        tally.flush(&mut closed);
        send(src, tally, closed, &mut out);
    }
    for (g, b) in barriers.iter_mut().enumerate() {
        for src in 0..sources as i32 {
            b.receive(Closing {
                src,
                idle: true,
                done: true,
                ..Closing::default()
            });
        }
        if let Some((through, ready)) = b.release(keep) {
            steppers[g].advance(through, ready, &mut out);
        }
    }
    let mut evs: Vec<String> = events(&out)
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    evs.sort();
    evs
}

#[test]
fn tallies_per_partition_and_steppers_per_service_group_equal_one_engine() {
    // Two outages, one of them of a discovered name, a duplicated post, and posts out of
    // order by up to 90 s (within the allowed lateness).
    let (mut posts, start) = wechat_outage();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for m in 0..40 {
        for k in 0..Poisson::new(15.0).unwrap().sample(&mut rng) as u64 {
            posts.push(Post {
                id: format!("xhs{m}-{k}"),
                at: T0 + (start + 300 + m) * 60 + rng.random_range(0..60),
                signal: Some(discovered("小红书")),
            });
        }
    }
    // Arrival order: event time plus up to 90 s of delay, under the 120 s allowed lateness.
    let mut keyed: Vec<(i64, Post)> = posts
        .into_iter()
        .map(|p| (p.at + rng.random_range(0..90), p))
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    let mut posts: Vec<Post> = keyed.into_iter().map(|(_, p)| p).collect();
    let dup = Post {
        id: posts[1000].id.clone(),
        at: posts[1000].at,
        signal: posts[1000].signal.clone(),
    };
    posts.insert(1010, dup);
    let config = DetectorConfig::default();
    let mut engine = Engine::new(config.clone(), EngineOptions::default()).unwrap();
    let mut out = Vec::new();
    run(&mut engine, &posts, &mut out);
    engine.flush(&mut out);
    let mut one: Vec<String> = events(&out)
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    one.sort();
    let services: BTreeSet<String> = events(&out).iter().map(|e| e.service.clone()).collect();
    assert!(
        services.contains("微信") && services.contains("小红书"),
        "{services:?}"
    );
    let by_id = |n: u32| {
        move |_: usize, p: &Post| {
            p.id.bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
                % n
        }
    };
    for (sources, groups) in [(1, 1), (4, 1), (4, 3), (12, 2), (3, 5)] {
        let got = scaled_out(&posts, &config, sources, groups, by_id(sources));
        assert_eq!(got, one, "{sources} partitions by id, {groups} groups");
    }
    // All posts in one partition of many (a constant key): the others are idle.
    let got = scaled_out(&posts, &config, 4, 2, |_, _| 2);
    assert_eq!(got, one, "constant key");
}
