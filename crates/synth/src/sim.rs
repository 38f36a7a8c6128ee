//! The streaming simulator: minute by minute, every component draws its Poisson count and
//! composes its posts; the minute's posts are sorted by second and handed out in order.

use std::collections::VecDeque;

use benglema_model::Post;
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Timelike};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

use crate::services::{self, services};
use crate::spec::TAIL_MINUTES;
use crate::traffic::{activity, attention, beijing, hash_str, poisson, stream};
use crate::words::{self, Stage, Target};
use crate::{BurstKind, SimSpec, Simulated, Truth, SPORADIC};

const TAG_BACKGROUND: u64 = 1;
const TAG_SPORADIC: u64 = 2;
const TAG_INCIDENT: u64 = 3;
const TAG_BURST: u64 = 4;
const TAG_PLAN: u64 = 5;

/// Share of background traffic that is a confounder.
const CONFOUNDER_SHARE: f64 = 0.02;
/// Mean of [`activity`] over a week, to turn a daily count into a rate that follows it.
const MEAN_ACTIVITY: f64 = 0.66;

const CLIENTS: &[&str] = &[
    "iPhone客户端",
    "Android",
    "微博 weibo.com",
    "HUAWEI Mate 60 Pro",
    "小米14",
    "OPPO Reno11",
    "vivo X100",
    "iPad客户端",
    "荣耀Magic6",
    "iPhone 15 Pro Max",
    "微博轻享版",
    "Redmi K70",
];

/// An injected outage of one service, with its drawn shape.
struct OutagePlan {
    incident_id: String,
    target: Target,
    symptoms: Vec<String>,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    /// Minutes from onset to the plateau.
    ramp: f64,
    /// Multiplier of the service's size.
    severity: f64,
    /// Decay time of complaints after the end, in minutes.
    tau_complaint: f64,
    /// Decay time of recovery posts after the end, in minutes.
    tau_recovery: f64,
    /// Recovery posts at the end relative to the complaint peak.
    recovery_share: f64,
    /// Plateau as a multiple of the service's sporadic complaint rate, held flat (see
    /// [`crate::OutageShape`]); `None`: the size-scaled default shape.
    ratio: Option<f64>,
    /// The service's sporadic complaints a minute at mean activity.
    sporadic: f64,
    key: u64,
}

impl OutagePlan {
    /// Complaint intensity (0..1) `m` minutes after onset, during the outage.
    fn shape_down(&self, m: f64) -> f64 {
        if m < 0.0 {
            0.0
        } else if m < self.ramp {
            let x = m / self.ramp;
            0.05 + 0.95 * x * x
        } else if self.ratio.is_some() {
            1.0
        } else {
            let x = m - self.ramp;
            if x < 45.0 {
                1.0
            } else {
                0.45 + 0.55 * (-(x - 45.0) / 150.0).exp()
            }
        }
    }

    /// (complaints, recoveries) a minute at `t`.
    fn rates(&self, t: DateTime<FixedOffset>) -> (f64, f64) {
        if t < self.start || t >= self.end + Duration::minutes(TAIL_MINUTES) {
            return (0.0, 0.0);
        }
        let scale = match self.ratio {
            Some(r) => r * self.sporadic * activity(t) / MEAN_ACTIVITY,
            None => self.target.size * self.severity * attention(t),
        };
        let minutes = |d: Duration| d.num_seconds() as f64 / 60.0;
        if t < self.end {
            (scale * self.shape_down(minutes(t - self.start)), 0.0)
        } else {
            let at_end = self.shape_down(minutes(self.end - self.start));
            let after = minutes(t - self.end);
            let complaints = scale * at_end * (-after / self.tau_complaint).exp();
            let rise = (after / 3.0).min(1.0);
            let recoveries =
                scale * self.recovery_share * rise * (-after / self.tau_recovery).exp();
            (complaints, recoveries)
        }
    }
}

/// An injected burst with its rate.
struct BurstPlan {
    kind: BurstKind,
    target: Target,
    start: DateTime<FixedOffset>,
    minutes: i64,
    /// Posts a minute at the plateau, per unit of attention.
    peak: f64,
    key: u64,
}

impl BurstPlan {
    fn rate(&self, t: DateTime<FixedOffset>) -> f64 {
        let m = (t - self.start).num_seconds() as f64 / 60.0;
        let len = self.minutes as f64;
        if m < 0.0 || m >= len {
            return 0.0;
        }
        let rise = (m / 5.0).min(1.0);
        let fall = if m > 0.7 * len {
            (-(m - 0.7 * len) / (0.1 * len).max(1.0)).exp()
        } else {
            1.0
        };
        self.peak * attention(t) * rise * fall
    }
}

/// The stream of a [`SimSpec`], one minute generated at a time (memory bounded by the posts
/// of one minute). Made by [`simulate`].
pub struct Simulation {
    seed: u64,
    peak: f64,
    dispersion: f64,
    sporadic_per_day_per_size: f64,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    /// The next minute to generate, in Unix minutes.
    minute: i64,
    last_minute: i64,
    outages: Vec<OutagePlan>,
    bursts: Vec<BurstPlan>,
    buffer: VecDeque<Simulated>,
    next_id: u64,
}

/// The posts of `spec` in nondecreasing `created_at` order, generated minute by minute.
/// The same spec always gives the same posts; ids are `s{seed}-{n}`, `created_at` is in
/// `+08:00` with second resolution, `user_id` and `source` are always set.
pub fn simulate(spec: &SimSpec) -> Simulation {
    Simulation::new(spec)
}

impl Simulation {
    fn new(spec: &SimSpec) -> Simulation {
        let tz = beijing();
        let outages = spec
            .incidents
            .iter()
            .filter_map(|inc| {
                let start = inc.start?.with_timezone(&tz);
                let end = spec.incident_end(inc)?.with_timezone(&tz);
                let key = hash_str(&format!("{}\u{1f}{}", inc.incident_id, inc.service));
                let mut rng = stream(spec.seed, TAG_PLAN ^ key, 0);
                let shape = spec
                    .shapes
                    .iter()
                    .find(|s| s.incident_id == inc.incident_id && s.service == inc.service);
                let target = Target::of(&inc.service);
                let sporadic = target.size * spec.sporadic_per_day_per_size / 1440.0;
                let ramp = rng.random_range(5.0..15.0);
                Some(OutagePlan {
                    incident_id: inc.incident_id.clone(),
                    target,
                    symptoms: inc.symptoms.clone(),
                    start,
                    end,
                    ramp: shape.map_or(ramp, |s| s.ramp_minutes.max(0.5)),
                    severity: rng.random_range(0.8..1.2),
                    tau_complaint: rng.random_range(5.0..12.0),
                    tau_recovery: rng.random_range(15.0..30.0),
                    recovery_share: rng.random_range(0.3..0.5),
                    ratio: shape.and_then(|s| s.ratio),
                    sporadic,
                    key,
                })
            })
            .collect();
        let bursts = spec
            .bursts
            .iter()
            .map(|b| {
                let key = hash_str(&format!(
                    "{:?}\u{1f}{}\u{1f}{}",
                    b.kind,
                    b.service,
                    b.start.timestamp()
                ));
                let target = Target::of(&b.service);
                let per_size = match b.kind {
                    BurstKind::FeatureLaunch => 0.45,
                    BurstKind::ShoppingFestival => 0.9,
                    BurstKind::Meme => 0.4,
                };
                BurstPlan {
                    kind: b.kind,
                    peak: (target.size * per_size).max(8.0) * b.scale.unwrap_or(1.0).max(0.0),
                    target,
                    start: b.start.with_timezone(&tz),
                    minutes: b.minutes.max(0),
                    key,
                }
            })
            .collect();
        let first = spec.start.timestamp().div_euclid(60);
        let last = (spec.end.timestamp() + 59).div_euclid(60);
        Simulation {
            seed: spec.seed,
            peak: spec.peak_posts_per_minute.max(0.0),
            dispersion: spec.dispersion.max(0.0),
            sporadic_per_day_per_size: spec.sporadic_per_day_per_size.max(0.0),
            start: spec.start,
            end: spec.end,
            minute: first,
            last_minute: last,
            outages,
            bursts,
            buffer: VecDeque::new(),
            next_id: 0,
        }
    }

    /// The Gamma(1/φ, φ) multiplier of one component's rate in minute `m` (1 when Poisson).
    fn mix(&self, tag: u64, m: i64) -> f64 {
        if self.dispersion <= 0.0 {
            return 1.0;
        }
        let mut rng = stream(self.seed, tag ^ 0x4741_4d4d_4100, m);
        Gamma::new(1.0 / self.dispersion, self.dispersion).map_or(1.0, |g| g.sample(&mut rng))
    }

    /// Generates the posts of the next minute into the buffer.
    fn generate_minute(&mut self) {
        let m = self.minute;
        self.minute += 1;
        let tz = beijing();
        let minute_start = tz
            .timestamp_opt(m * 60, 0)
            .single()
            .expect("minute in chrono's range");
        let mid = minute_start + Duration::seconds(30);
        let hour = minute_start.hour();
        // (second, text, truth, reposts)
        let mut drafts: Vec<(u32, String, Truth, u64, u64)> = Vec::new();

        let mut rng = stream(self.seed, TAG_BACKGROUND, m);
        let n = poisson(
            &mut rng,
            self.peak * activity(mid) * self.mix(TAG_BACKGROUND, m),
        );
        for _ in 0..n {
            let (text, truth) = if rng.random::<f64>() < CONFOUNDER_SHARE {
                (words::confounder(&mut rng), Truth::Confounder)
            } else {
                (words::background(&mut rng), Truth::Background)
            };
            push(&mut drafts, &mut rng, text, truth, 0.05);
        }

        let mut rng = stream(self.seed, TAG_SPORADIC, m);
        let per_size = self.sporadic_per_day_per_size / 1440.0 * activity(mid) / MEAN_ACTIVITY;
        // Poisson: one draw for all services, each complaint's service by size. Overdispersed:
        // each service's count has its own Gamma-mixed rate.
        if self.dispersion > 0.0 {
            for (i, svc) in services().iter().enumerate() {
                let g = self.mix(TAG_SPORADIC ^ ((i as u64 + 1) << 20), m);
                for _ in 0..poisson(&mut rng, svc.size * per_size * g) {
                    sporadic_post(&mut drafts, &mut rng, svc, hour);
                }
            }
        } else {
            let total: f64 = services().iter().map(|s| s.size).sum();
            for _ in 0..poisson(&mut rng, total * per_size) {
                let svc = services::by_size(rng.random());
                sporadic_post(&mut drafts, &mut rng, svc, hour);
            }
        }

        for o in &self.outages {
            let (c, r) = o.rates(mid);
            if c <= 0.0 && r <= 0.0 {
                continue;
            }
            let g = self.mix(TAG_INCIDENT ^ o.key, m);
            let (c, r) = (c * g, r * g);
            let mut rng = stream(self.seed, TAG_INCIDENT ^ o.key, m);
            let stage = if mid >= o.end || (mid - o.start).num_minutes() > 60 {
                Stage::Lingering
            } else {
                Stage::Down
            };
            for _ in 0..poisson(&mut rng, c) {
                let text = words::complaint(&mut rng, &o.target, &o.symptoms, stage, hour);
                let truth = Truth::Complaint {
                    incident_id: o.incident_id.clone(),
                    service: o.target.name.clone(),
                };
                push(&mut drafts, &mut rng, text, truth, 0.3);
            }
            for _ in 0..poisson(&mut rng, r) {
                let text = words::recovery(&mut rng, &o.target, &o.symptoms);
                let truth = Truth::Recovery {
                    incident_id: o.incident_id.clone(),
                    service: o.target.name.clone(),
                };
                push(&mut drafts, &mut rng, text, truth, 0.2);
            }
        }

        for b in &self.bursts {
            let rate = b.rate(mid);
            if rate <= 0.0 {
                continue;
            }
            let rate = rate * self.mix(TAG_BURST ^ b.key, m);
            let mut rng = stream(self.seed, TAG_BURST ^ b.key, m);
            for _ in 0..poisson(&mut rng, rate) {
                let text = words::burst(&mut rng, b.kind, &b.target);
                push(&mut drafts, &mut rng, text, Truth::Burst, 0.2);
            }
        }

        drafts.sort_by_key(|d| d.0);
        for (sec, text, truth, user, reposts) in drafts {
            let created_at = minute_start + Duration::seconds(i64::from(sec));
            if created_at < self.start || created_at >= self.end {
                continue;
            }
            let id = format!("s{}-{}", self.seed, self.next_id);
            self.next_id += 1;
            let source = CLIENTS[(user % CLIENTS.len() as u64) as usize];
            self.buffer.push_back(Simulated {
                post: Post {
                    id,
                    created_at,
                    text,
                    user_id: Some(format!("u{user}")),
                    reposts_count: Some(reposts),
                    source: Some(source.to_owned()),
                },
                truth,
            });
        }
    }
}

/// Adds one genuine sporadic complaint about `svc`.
fn sporadic_post(
    drafts: &mut Vec<(u32, String, Truth, u64, u64)>,
    rng: &mut ChaCha8Rng,
    svc: &services::Service,
    hour: u32,
) {
    let target = Target::from_service(svc);
    let text = words::complaint(rng, &target, &[], Stage::Sporadic, hour);
    let truth = Truth::Complaint {
        incident_id: SPORADIC.to_owned(),
        service: target.name.clone(),
    };
    push(drafts, rng, text, truth, 0.2);
}

/// Adds a draft with a random second, author and repost count (`spread`: chance of any
/// reposts at all).
fn push(
    drafts: &mut Vec<(u32, String, Truth, u64, u64)>,
    rng: &mut ChaCha8Rng,
    text: String,
    truth: Truth,
    spread: f64,
) {
    let sec = rng.random_range(0..60u32);
    let user = rng.random_range(100_000..100_000_000u64);
    let reposts = if rng.random::<f64>() < spread {
        // Heavy-tailed: most reposted posts get a handful, a few get hundreds.
        let u: f64 = rng.random_range(0.0..1.0);
        (1.0 / (1.0 - u).max(1e-3)).floor() as u64
    } else {
        0
    };
    drafts.push((sec, text, truth, user, reposts));
}

impl Iterator for Simulation {
    type Item = Simulated;

    fn next(&mut self) -> Option<Simulated> {
        while self.buffer.is_empty() && self.minute < self.last_minute {
            self.generate_minute();
        }
        self.buffer.pop_front()
    }
}
