//! # benglema-synth
//!
//! A deterministic simulator of labelled streams of Chinese social-media posts, for testing
//! and tuning outage detection where real firehoses cannot be had.
//!
//! A [`SimSpec`] names a time window, a seed, a traffic level, the outages to inject (rows of
//! the label file, [`Incident`]) and harmless [`Burst`]s; [`simulate`] streams the posts of
//! that window minute by minute, in time order, each with its ground truth ([`Truth`]):
//!
//! - **volume**: Poisson arrivals per minute following a diurnal profile (low 02:00–06:00, a
//!   lunchtime bump, the peak 21:00–23:00) and a weekly one (weekends sleep in and stay up
//!   late); at the default 40 posts a minute at the peak, a weekday holds about 36,000 posts;
//! - **background** chatter (about 97 %), much of it naming services in normal use
//!   (微信转账, 刷抖音, 12306抢票 ...); **confounders** (about 2 %) that use 崩/挂/炸/卡 in
//!   another sense (心态崩了, 考试挂了, 挂号, 朋友圈炸了, 手机卡了, 京东卡 ...); and a few
//!   genuine **sporadic complaints** a day per large service, as every firehose has;
//! - **bursts** of harmless posts about one service: a feature launch, a shopping-festival
//!   night, a meme wave;
//! - **outages** shaped like the seed incidents: complaints ramp up over 5–15 minutes to a
//!   peak scaled by the service's size and by how many people are awake, hold a plateau that
//!   slowly loses steam, and after the labelled end decay while "恢复了 / 能发了" posts rise
//!   and fade. Complaints draw on the incident's symptom categories and are composed from
//!   many independent fragment pools (aliases and slang, cues, symptoms, openers, tails,
//!   hashtags, repost chains, Traditional characters, English), so no template dominates.
//!
//! Every random draw comes from `ChaCha8Rng::seed_from_u64`, keyed by the spec's seed, the
//! component (background, one incident, one burst ...) and the minute: the same spec gives
//! the same posts, and the background of a window is the same whatever is injected into it.
//!
//! ```
//! use benglema_synth::{simulate, SimSpec, Truth};
//! use chrono::DateTime;
//!
//! let start = DateTime::parse_from_rfc3339("2021-10-18T09:00:00+08:00").unwrap();
//! let end = DateTime::parse_from_rfc3339("2021-10-18T09:10:00+08:00").unwrap();
//! let spec = SimSpec::new(7, start, end);
//! let posts: Vec<_> = simulate(&spec).collect();
//! assert!(posts.len() > 100);
//! assert!(posts.iter().all(|p| p.post.created_at >= start && p.post.created_at < end));
//! assert!(posts.iter().any(|p| p.truth == Truth::Background));
//! ```

mod services;
mod sim;
mod spec;
mod traffic;
mod words;

use benglema_model::{Incident, Post};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use sim::{simulate, Simulation};
pub use traffic::activity;

/// Background posts a minute at the daily peak, by default.
pub const DEFAULT_PEAK_POSTS_PER_MINUTE: f64 = 40.0;
/// Assumed outage length, in minutes, for incidents whose `end` is unknown.
pub const DEFAULT_DURATION_MINUTES: i64 = 90;
/// The `incident_id` of [`Truth::Complaint`]s that belong to no injected incident: the few
/// genuine complaints a day that any large service draws (one user's app failing).
pub const SPORADIC: &str = "sporadic";

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimSpec {
    /// Seed of every random draw; posts ids are `s{seed}-{n}`.
    pub seed: u64,
    /// First instant simulated (inclusive).
    pub start: DateTime<FixedOffset>,
    /// End of the window (exclusive).
    pub end: DateTime<FixedOffset>,
    /// Background posts a minute at the weekday evening peak (default 40).
    pub peak_posts_per_minute: f64,
    /// Outages to inject at their labelled times, one row per affected service; rows
    /// without `start` are ignored.
    pub incidents: Vec<Incident>,
    /// Harmless bursts to inject.
    pub bursts: Vec<Burst>,
    /// Outage length assumed for incidents whose `end` is `None` (default 90).
    pub default_duration_minutes: i64,
    /// Overdispersion φ of every component's per-minute rate: the rate is multiplied by a
    /// Gamma(1/φ, φ) draw each minute (mean 1, variance φ), so counts are Gamma–Poisson
    /// (negative binomial) instead of Poisson. 0 (the default) is Poisson.
    #[serde(default)]
    pub dispersion: f64,
    /// Genuine sporadic complaints a day per unit of service size (default 0.04: 微信, size
    /// 100, draws about four).
    #[serde(default = "default_sporadic")]
    pub sporadic_per_day_per_size: f64,
    /// Shapes of particular outages (by incident and service); the others get the default
    /// shape, drawn from the seed.
    #[serde(default)]
    pub shapes: Vec<OutageShape>,
}

fn default_sporadic() -> f64 {
    SPORADIC_PER_DAY_PER_SIZE
}

/// Sporadic complaints a day per unit of service size, by default.
pub const SPORADIC_PER_DAY_PER_SIZE: f64 = 0.04;

/// The shape of one injected outage, overriding the default one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutageShape {
    /// The incident's id.
    pub incident_id: String,
    /// The affected service.
    pub service: String,
    /// Minutes from onset to the plateau (a ramp that rises quadratically).
    pub ramp_minutes: f64,
    /// Complaint rate at the plateau as a multiple of the service's ordinary (sporadic)
    /// complaint rate, held flat until the end; `None`: scaled by the service's size, as
    /// the default shape is.
    pub ratio: Option<f64>,
}

/// A harmless burst of posts about one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    /// What the burst is about.
    pub kind: BurstKind,
    /// Canonical service name (as in `models/services.toml`).
    pub service: String,
    /// When it starts.
    pub start: DateTime<FixedOffset>,
    /// How long it lasts, in minutes.
    pub minutes: i64,
    /// Multiplier of the kind's usual peak (1 when `None`).
    #[serde(default)]
    pub scale: Option<f64>,
}

/// Kinds of harmless bursts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BurstKind {
    /// A new feature ships: many posts about the update (更新, 新功能).
    FeatureLaunch,
    /// A shopping-festival night: 抢购, 付款, 尾款, 双十一 talk.
    ShoppingFestival,
    /// A meme wave on the service.
    Meme,
}

/// The ground truth of one simulated post.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Truth {
    /// Everyday chatter, possibly naming a service in normal use.
    Background,
    /// 崩/挂/炸/卡 in a sense that is not an outage (心态崩了, 考试挂了, 朋友圈炸了 ...).
    Confounder,
    /// A post of a harmless [`Burst`].
    Burst,
    /// A complaint that the service is failing: part of the injected incident
    /// `incident_id`, or [`SPORADIC`].
    Complaint {
        /// The incident's id, or [`SPORADIC`].
        incident_id: String,
        /// Canonical service name.
        service: String,
    },
    /// A post saying the service works again, after an injected incident.
    Recovery {
        /// The incident's id.
        incident_id: String,
        /// Canonical service name.
        service: String,
    },
}

impl Truth {
    /// The service of a complaint or recovery.
    pub fn service(&self) -> Option<&str> {
        match self {
            Truth::Complaint { service, .. } | Truth::Recovery { service, .. } => Some(service),
            _ => None,
        }
    }

    /// Whether this is a complaint (of an incident or sporadic).
    pub fn is_complaint(&self) -> bool {
        matches!(self, Truth::Complaint { .. })
    }
}

/// One simulated post and what it really is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulated {
    /// The post, with a `+08:00` timestamp of second resolution and a `user_id`.
    pub post: Post,
    /// Its ground truth.
    pub truth: Truth,
}
