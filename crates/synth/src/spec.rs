//! Building specs: defaults, incident windows, and specs around labelled incidents.

use benglema_model::Incident;
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Timelike};
use rand::Rng;

use crate::traffic::{beijing, stream};
use crate::{Burst, BurstKind, SimSpec, DEFAULT_DURATION_MINUTES, DEFAULT_PEAK_POSTS_PER_MINUTE};

/// How long after an outage's end its recovery posts and last complaints go on.
pub(crate) const TAIL_MINUTES: i64 = 150;
/// Bursts placed by [`SimSpec::around`] keep this far before an incident's start ...
const BURST_CLEAR_BEFORE_HOURS: i64 = 6;
/// ... and this far after its end.
const BURST_CLEAR_AFTER_HOURS: i64 = 3;

const TAG_PLACE: u64 = 0x5045_4c41_4345;

impl SimSpec {
    /// A spec of the window `[start, end)` with default traffic and nothing injected.
    pub fn new(seed: u64, start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> SimSpec {
        SimSpec {
            seed,
            start,
            end,
            peak_posts_per_minute: DEFAULT_PEAK_POSTS_PER_MINUTE,
            incidents: Vec::new(),
            bursts: Vec::new(),
            default_duration_minutes: DEFAULT_DURATION_MINUTES,
            dispersion: 0.0,
            sporadic_per_day_per_size: crate::SPORADIC_PER_DAY_PER_SIZE,
            shapes: Vec::new(),
        }
    }

    /// When an injected incident is simulated to end: its `end`, or `start` plus
    /// [`default_duration_minutes`](SimSpec::default_duration_minutes) when the end is
    /// unknown (or not after the start). `None` for a row without `start`.
    pub fn incident_end(&self, incident: &Incident) -> Option<DateTime<FixedOffset>> {
        let start = incident.start?;
        let fallback = start + Duration::minutes(self.default_duration_minutes.max(1));
        Some(match incident.end {
            Some(end) if end > start => end,
            _ => fallback,
        })
    }

    /// One spec per distinct incident day (Beijing time) of `incidents`: the whole day plus
    /// `days_before` days before and `days_after` days after it (extended to cover the
    /// recovery tail of an outage that runs past midnight), windows merged when they
    /// overlap. Each spec holds every incident that starts in its window and three bursts (a
    /// 微信 feature launch, a shopping-festival night, a meme wave) placed at least six hours
    /// before and three hours after every outage when the window has room for them. Spec `i`
    /// (in time order) has seed `seed + i`. Incidents without `start` are ignored.
    pub fn around(
        incidents: &[Incident],
        days_before: f64,
        days_after: f64,
        seed: u64,
    ) -> Vec<SimSpec> {
        let tz = beijing();
        let defaults = SimSpec::new(
            0,
            tz.timestamp_opt(0, 0).unwrap(),
            tz.timestamp_opt(0, 0).unwrap(),
        );
        let secs = |days: f64| Duration::seconds((days.max(0.0) * 86_400.0).round() as i64);
        let mut windows: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = Vec::new();
        for inc in incidents {
            let Some(start) = inc.start else { continue };
            let day = start.with_timezone(&tz).date_naive();
            let midnight = tz
                .from_local_datetime(&day.and_time(NaiveTime::MIN))
                .single()
                .expect("+08:00 has no gaps");
            let from = midnight - secs(days_before);
            let mut to = midnight + Duration::days(1) + secs(days_after);
            let tail_end =
                defaults.incident_end(inc).expect("has a start") + Duration::minutes(TAIL_MINUTES);
            if tail_end > to {
                to = tail_end.with_timezone(&tz);
            }
            windows.push((from, to));
        }
        windows.sort();
        let mut merged: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = Vec::new();
        for w in windows {
            match merged.last_mut() {
                Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                _ => merged.push(w),
            }
        }
        merged
            .into_iter()
            .enumerate()
            .map(|(i, (from, to))| {
                let mut spec = SimSpec::new(seed.wrapping_add(i as u64), from, to);
                spec.incidents = incidents
                    .iter()
                    .filter(|inc| inc.start.is_some_and(|s| s >= from && s < to))
                    .cloned()
                    .collect();
                spec.bursts = place_bursts(&spec);
                spec
            })
            .collect()
    }
}

/// One burst that [`SimSpec::around`] places.
struct BurstDef {
    kind: BurstKind,
    /// Services to draw from.
    services: &'static [&'static str],
    /// Plausible start hours, inclusive.
    hours: (u32, u32),
    /// Length range in minutes, inclusive.
    minutes: (i64, i64),
}

/// Three bursts placed clear of the spec's incidents, at plausible hours when possible.
fn place_bursts(spec: &SimSpec) -> Vec<Burst> {
    let tz = beijing();
    let zones: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = spec
        .incidents
        .iter()
        .filter_map(|inc| {
            let start = inc.start?;
            let end = spec.incident_end(inc)?;
            Some((
                start - Duration::hours(BURST_CLEAR_BEFORE_HOURS),
                end + Duration::hours(BURST_CLEAR_AFTER_HOURS),
            ))
        })
        .collect();
    let mut rng = stream(spec.seed, TAG_PLACE, spec.start.timestamp() / 60);
    let span_minutes = (spec.end - spec.start).num_minutes();
    let plans = [
        BurstDef {
            kind: BurstKind::FeatureLaunch,
            services: &["微信"],
            hours: (10, 16),
            minutes: (90, 180),
        },
        BurstDef {
            kind: BurstKind::ShoppingFestival,
            services: &["淘宝", "京东", "淘宝"],
            hours: (19, 23),
            minutes: (120, 240),
        },
        BurstDef {
            kind: BurstKind::Meme,
            services: &["微博", "抖音", "B站", "微博"],
            hours: (9, 23),
            minutes: (60, 150),
        },
    ];
    let mut out: Vec<Burst> = Vec::new();
    for BurstDef {
        kind,
        services,
        hours: (h0, h1),
        minutes: (m0, m1),
    } in plans
    {
        let service = services[rng.random_range(0..services.len())].to_owned();
        let minutes = rng.random_range(m0..=m1);
        if span_minutes < minutes {
            continue;
        }
        let fits = |s: DateTime<FixedOffset>, out: &[Burst]| {
            let e = s + Duration::minutes(minutes);
            e <= spec.end
                && zones.iter().all(|&(a, b)| e <= a || s >= b)
                && out
                    .iter()
                    .all(|o| e <= o.start || s >= o.start + Duration::minutes(o.minutes))
        };
        let mut chosen = None;
        // Plausible hours first, then any hour.
        for attempt in 0..400 {
            let offset = rng.random_range(0..=span_minutes - minutes);
            let s = (spec.start + Duration::minutes(offset)).with_timezone(&tz);
            let s = s.with_second(0).unwrap_or(s);
            let hour_ok = (h0..=h1).contains(&s.hour());
            if (hour_ok || attempt >= 300) && fits(s, &out) {
                chosen = Some(s);
                break;
            }
        }
        if let Some(start) = chosen {
            out.push(Burst {
                kind,
                service,
                start,
                minutes,
                scale: None,
            });
        }
    }
    out.sort_by_key(|b| b.start);
    out
}

/// Settings of the harder history (`benglema simulate --hard`), calibrated to real counts:
/// the overdispersion and the burst sizes come from NAB's realTweets mention counts
/// (`data/real/nab/`, see README): the four files with counts to learn from have a learned
/// overdispersion φ of 0.14–0.29 (median 0.24); bursts above 3× the expectation come about
/// three a day per series, their peak ratio Pareto-tailed with exponent 1.1–2.5 (median
/// 1.8).
pub mod hard {
    /// Overdispersion φ of every component.
    pub const DISPERSION: f64 = 0.24;
    /// Sporadic complaints a day per unit of size: 微信 (size 100) gets about 0.1 a minute,
    /// the ordinary complaint rate of a large service in a real firehose.
    pub const SPORADIC_PER_DAY_PER_SIZE: f64 = 1.5;
    /// Harmless bursts naming a service, per day.
    pub const BURSTS_PER_DAY: f64 = 3.0;
    /// Pareto exponent of a burst's peak over its kind's usual peak.
    pub const BURST_PARETO_ALPHA: f64 = 1.8;
    /// Days between injected outages.
    pub const DAYS_BETWEEN_OUTAGES: f64 = 1.5;
}

/// The onset shapes the harder history cycles through.
#[derive(Debug, Clone, Copy)]
enum HardKind {
    /// A sharp step to 50× the ordinary complaint rate within a minute, 1–2 hours.
    Sharp,
    /// A slow ramp to 5–10× over 20–30 minutes, 90 minutes.
    Ramp,
    /// A long partial degradation at 7× for 6 hours.
    Degradation,
    /// The seed-like outage scaled by the service's size.
    Seeded,
    /// A seed-like outage of a service no gazetteer lists (found by discovery).
    Discovered,
}

impl SimSpec {
    /// The harder history: `days` from `start`, overdispersed (φ = [`hard::DISPERSION`]),
    /// with ordinary complaints at about 0.1 a minute for a large service, harmless bursts
    /// with Pareto-tailed sizes about three times a day, and an outage every 1.5 days from
    /// the second day on, cycling through a sharp 50× step, a slow 5–10× ramp, a 6-hour
    /// partial degradation at 7×, a seed-like outage and one of a service no gazetteer
    /// lists. The first day is clear, so it measures cold-start false alarms. Returns the
    /// spec with its incidents (the labels) and shapes.
    pub fn hard(seed: u64, start: DateTime<FixedOffset>, days: f64) -> SimSpec {
        let end = start + Duration::seconds((days.max(0.0) * 86_400.0) as i64);
        let mut spec = SimSpec::new(seed, start, end);
        spec.dispersion = hard::DISPERSION;
        spec.sporadic_per_day_per_size = hard::SPORADIC_PER_DAY_PER_SIZE;
        let mut rng = stream(seed, TAG_PLACE ^ 0x4841_5244, start.timestamp() / 60);
        let kinds = [
            HardKind::Sharp,
            HardKind::Ramp,
            HardKind::Degradation,
            HardKind::Seeded,
            HardKind::Discovered,
        ];
        let services = [
            "微信",
            "支付宝",
            "淘宝",
            "抖音",
            "QQ",
            "微博",
            "美团",
            "12306",
        ];
        let mut at = start + Duration::hours(24 + rng.random_range(8..14));
        let mut n = 0usize;
        while at + Duration::hours(8) < end {
            let kind = kinds[n % kinds.len()];
            let service = match kind {
                HardKind::Discovered => crate::services::unlisted()[0].name.as_str(),
                _ => services[rng.random_range(0..services.len())],
            };
            let (minutes, ramp, ratio) = match kind {
                HardKind::Sharp => (rng.random_range(60..=120), 1.0, Some(50.0)),
                HardKind::Ramp => (
                    90,
                    rng.random_range(20.0..30.0),
                    Some(rng.random_range(5.0..10.0)),
                ),
                HardKind::Degradation => (360, 10.0, Some(7.0)),
                HardKind::Seeded | HardKind::Discovered => (
                    rng.random_range(60..=120),
                    rng.random_range(5.0..15.0),
                    None,
                ),
            };
            let id = format!("hard-{n:02}-{}", format!("{kind:?}").to_lowercase());
            let onset = at.with_second(0).unwrap_or(at);
            spec.incidents.push(Incident {
                incident_id: id.clone(),
                service: service.to_owned(),
                start: Some(onset),
                end: Some(onset + Duration::minutes(minutes)),
                acknowledged_at: None,
                symptoms: Vec::new(),
                source: "simulate --hard".into(),
                notes: match ratio {
                    Some(r) => format!(
                        "{kind:?}: ramp {ramp:.0} min to {r:.1}× the ordinary complaint rate"
                    ),
                    None => format!("{kind:?}: ramp {ramp:.0} min, scaled by the service's size"),
                },
            });
            spec.shapes.push(crate::OutageShape {
                incident_id: id,
                service: service.to_owned(),
                ramp_minutes: ramp,
                ratio,
            });
            n += 1;
            let gap = hard::DAYS_BETWEEN_OUTAGES * 86_400.0 * rng.random_range(0.8..1.2);
            at += Duration::seconds(gap as i64);
        }
        // Harmless bursts anywhere but on an outage of the same service.
        let kinds = [
            BurstKind::Meme,
            BurstKind::FeatureLaunch,
            BurstKind::ShoppingFestival,
        ];
        let span = (end - start).num_minutes().max(1);
        let count = (days * hard::BURSTS_PER_DAY).round() as usize;
        for _ in 0..count {
            let kind = kinds[rng.random_range(0..kinds.len())];
            let service = services[rng.random_range(0..services.len())].to_owned();
            let minutes = rng.random_range(10..=90);
            let b0 = start + Duration::minutes(rng.random_range(0..span));
            let b1 = b0 + Duration::minutes(minutes);
            let clash = spec.incidents.iter().any(|inc| {
                inc.service == service
                    && inc.start.is_some_and(|s| s < b1 + Duration::hours(3))
                    && inc.end.is_some_and(|e| e + Duration::hours(3) > b0)
            });
            if clash || b1 > end {
                continue;
            }
            let u: f64 = rng.random_range(1e-6..1.0);
            spec.bursts.push(Burst {
                kind,
                service,
                start: b0.with_second(0).unwrap_or(b0),
                minutes,
                scale: Some(u.powf(-1.0 / hard::BURST_PARETO_ALPHA).min(20.0)),
            });
        }
        spec.bursts.sort_by_key(|b| b.start);
        spec
    }
}
