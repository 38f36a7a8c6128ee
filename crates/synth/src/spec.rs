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
            });
        }
    }
    out.sort_by_key(|b| b.start);
    out
}
