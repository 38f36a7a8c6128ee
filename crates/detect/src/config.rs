//! Detector parameters, read from `models/detector.toml` (each key documented there).

use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::DetectError;

/// The default parameters, embedded from `models/detector.toml`.
pub const DETECTOR_TOML: &str = include_str!("../../../models/detector.toml");

/// Event-time settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeConfig {
    /// Bucket width in seconds.
    pub bucket_seconds: i64,
    /// Allowed lateness in seconds.
    pub allowed_lateness_seconds: i64,
    /// IANA zone for displayed times and hours of the day.
    pub display_zone: String,
}

/// Seasonal baseline settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// Prior complaint share.
    pub prior_share: f64,
    /// Prior weight, in posts.
    pub prior_posts: f64,
    /// Half-life of the level, in buckets.
    pub half_life_buckets: f64,
    /// Floor of expected complaints per bucket.
    pub min_expected: f64,
    /// Learning rate of the hour-of-day factor.
    pub hour_factor_rate: f64,
    /// Winsorisation before learning, in standard deviations.
    pub winsor_sigmas: f64,
    /// The level learns from counts clipped to this many standard deviations either side,
    /// in square-root space.
    pub level_sigmas: f64,
    /// Learning rate of the day-of-week factor.
    pub weekday_factor_rate: f64,
    /// Overdispersion φ of a series that has not learned its own (Var = μ + φμ²).
    pub initial_dispersion: f64,
    /// Whether the predictive carries the level's own uncertainty (1 / the counts behind
    /// it); off, the learned level is taken as known.
    pub level_uncertainty: bool,
    /// Learning rate of the overdispersion.
    pub dispersion_rate: f64,
    /// Counts above this many standard deviations are clipped before learning the
    /// overdispersion.
    pub dispersion_sigmas: f64,
}

/// CUSUM settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CusumConfig {
    /// Rate ratios under the alternatives, one CUSUM each.
    pub shift_ratios: Vec<f64>,
    /// Alarm threshold, nats.
    pub threshold: f64,
    /// Minimum complaints from onset to alarm.
    pub min_complaints: u64,
}

/// Which change-point model the series run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Page's CUSUM.
    Cusum,
    /// Bayesian online change-point detection.
    Bocpd,
}

/// Model choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model of every series not named in `services`.
    pub kind: ModelKind,
    /// Per-series choice: service name -> model (e.g. `"12306" = "bocpd"`).
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, ModelKind>,
}

impl ModelConfig {
    /// The model of the series of `service`.
    pub fn kind_for(&self, service: &str) -> ModelKind {
        self.services.get(service).copied().unwrap_or(self.kind)
    }
}

/// Event lifecycle settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Quiet when complaints ≤ expected × quiet_ratio + quiet_slack.
    pub quiet_ratio: f64,
    /// See `quiet_ratio`.
    pub quiet_slack: f64,
    /// Quiet buckets that resolve an event.
    pub resolve_buckets: u32,
    /// Buckets after a resolution before a new alarm.
    pub cooldown_buckets: u32,
    /// Peak growth that publishes an update.
    pub update_peak_factor: f64,
    /// Minimum buckets between updates.
    pub min_update_buckets: u32,
    /// Strong severity: peak complaints per minute.
    pub strong_peak_rate: f64,
    /// Strong severity: peak over baseline.
    pub strong_ratio: f64,
    /// Moderate severity: peak complaints per minute.
    pub moderate_peak_rate: f64,
    /// Moderate severity: peak over baseline.
    pub moderate_ratio: f64,
    /// Terms per event.
    pub top_terms: usize,
    /// Sample post ids per event.
    pub sample_posts: usize,
}

/// New-service discovery: series for complaint targets that no gazetteer lists (signals with
/// `discovered` set). The vocabulary of such names is unbounded, so the engine keeps a
/// bounded top-k of candidate names and a bounded number of discovered series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Track discovered names at all.
    pub enabled: bool,
    /// Candidate names counted (Space-Saving top-k).
    pub candidates: usize,
    /// Discovered series kept at once.
    pub max_series: usize,
    /// Complaints (decayed count) a name needs before it gets its own series.
    pub admit_complaints: u64,
    /// Candidate counts halve every this many buckets.
    pub decay_buckets: i64,
    /// A discovered series with no complaint for this many buckets, and no open event, is
    /// dropped.
    pub expiry_buckets: i64,
}

/// All detector parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Event time.
    pub time: TimeConfig,
    /// Baseline.
    pub baseline: BaselineConfig,
    /// Model choice.
    pub model: ModelConfig,
    /// CUSUM parameters.
    pub cusum: CusumConfig,
    /// BOCPD parameters.
    pub bocpd: crate::BocpdConfig,
    /// Event lifecycle.
    pub lifecycle: LifecycleConfig,
    /// New-service discovery.
    pub discovery: DiscoveryConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::from_toml(DETECTOR_TOML).expect("embedded detector.toml is validated by tests")
    }
}

impl DetectorConfig {
    /// Parses and validates a detector TOML text.
    pub fn from_toml(text: &str) -> Result<Self, DetectError> {
        let c: DetectorConfig =
            toml::from_str(text).map_err(|e| DetectError::Config(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Reads a detector TOML file.
    pub fn from_file(path: &Path) -> Result<Self, DetectError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DetectError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| DetectError::Config(format!("{}: {e}", path.display())))
    }

    /// The display zone.
    pub fn zone(&self) -> Tz {
        self.time.display_zone.parse().expect("validated zone")
    }

    /// Checks every parameter; [`Engine::new`](crate::Engine::new) calls it, so a config
    /// edited in code after parsing is checked too.
    pub fn validate(&self) -> Result<(), DetectError> {
        let bad = |m: String| Err(DetectError::Config(m));
        if !(1..=86_400).contains(&self.time.bucket_seconds) {
            return bad(format!(
                "time.bucket_seconds = {} must be within 1..=86400",
                self.time.bucket_seconds
            ));
        }
        if self.time.allowed_lateness_seconds < 0 {
            return bad("time.allowed_lateness_seconds must not be negative".into());
        }
        if self.time.display_zone.parse::<Tz>().is_err() {
            return bad(format!(
                "time.display_zone = {:?} is not an IANA zone such as \"Asia/Shanghai\"",
                self.time.display_zone
            ));
        }
        let b = &self.baseline;
        for (k, v) in [
            ("baseline.prior_share", b.prior_share),
            ("baseline.prior_posts", b.prior_posts),
            ("baseline.half_life_buckets", b.half_life_buckets),
            ("baseline.min_expected", b.min_expected),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{k} = {v} must be a positive number"));
            }
        }
        for (k, v) in [
            ("baseline.hour_factor_rate", b.hour_factor_rate),
            ("baseline.weekday_factor_rate", b.weekday_factor_rate),
            ("baseline.dispersion_rate", b.dispersion_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{k} = {v} must be within [0, 1]"));
            }
        }
        for (k, v) in [
            ("baseline.initial_dispersion", b.initial_dispersion),
            ("baseline.winsor_sigmas", b.winsor_sigmas),
            ("baseline.level_sigmas", b.level_sigmas),
            ("baseline.dispersion_sigmas", b.dispersion_sigmas),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{k} = {v} must be a number ≥ 0"));
            }
        }
        let k = &self.cusum;
        if k.shift_ratios.is_empty()
            || k.shift_ratios.iter().any(|r| !(r.is_finite() && *r > 1.0))
            || !(k.threshold.is_finite() && k.threshold > 0.0)
        {
            return bad(
                "cusum.shift_ratios must be a non-empty list of numbers above 1 (e.g. [3.0, 10.0, 50.0]) and cusum.threshold must be positive".into(),
            );
        }
        let p = &self.bocpd;
        if !(p.expected_run >= 1.0
            && p.prior_shape > 0.0
            && p.max_run >= 2
            && p.window >= 1
            && p.min_ratio > 1.0
            && (0.5..1.0).contains(&p.alarm_probability))
        {
            return bad("bocpd: expected_run ≥ 1, prior_shape > 0, max_run ≥ 2, window ≥ 1, min_ratio > 1 and alarm_probability in [0.5, 1) are required".into());
        }
        let l = &self.lifecycle;
        if l.resolve_buckets == 0 || l.update_peak_factor < 1.0 || l.quiet_ratio < 1.0 {
            return bad(
                "lifecycle.resolve_buckets must be ≥ 1, update_peak_factor ≥ 1, quiet_ratio ≥ 1"
                    .into(),
            );
        }
        let d = &self.discovery;
        if d.enabled
            && (d.candidates == 0
                || d.max_series == 0
                || d.admit_complaints == 0
                || d.decay_buckets < 1
                || d.expiry_buckets < 1)
        {
            return bad(
                "discovery: candidates, max_series, admit_complaints, decay_buckets and expiry_buckets must be ≥ 1"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Preset {
    /// The engine's model kind.
    pub fn kind(self) -> ModelKind {
        match self {
            Preset::Cusum | Preset::Poisson => ModelKind::Cusum,
            Preset::Bocpd => ModelKind::Bocpd,
        }
    }

    /// `base` with this model: its kind, and for `poisson` the detector as it was before
    /// the negative-binomial baseline and the CUSUM bank (one Poisson CUSUM at 5×, no
    /// overdispersion, a level taken as known, a prior worth 20,000 posts).
    pub fn apply(self, base: &DetectorConfig) -> DetectorConfig {
        let mut c = base.clone();
        c.model.kind = self.kind();
        if self == Preset::Poisson {
            c.cusum.shift_ratios = vec![5.0];
            c.baseline.initial_dispersion = 0.0;
            c.baseline.dispersion_rate = 0.0;
            c.baseline.level_uncertainty = false;
            c.baseline.prior_posts = 20_000.0;
        }
        c
    }

    /// The name of this model in comparison tables.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Cusum => "cusum",
            Preset::Bocpd => "bocpd",
            Preset::Poisson => "poisson (before #12)",
        }
    }

    /// The model a config's kind names (a config file's `[model] kind`).
    pub fn of_kind(kind: ModelKind) -> Preset {
        match kind {
            ModelKind::Cusum => Preset::Cusum,
            ModelKind::Bocpd => Preset::Bocpd,
        }
    }
}

/// The detectors selectable by name (`backtest --model`, `--compare`): a model kind, or
/// a preset of the whole detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Preset {
    /// A bank of CUSUMs against the negative-binomial baseline (the default).
    Cusum,
    /// Bayesian online change-point detection.
    Bocpd,
    /// The detector before the negative-binomial baseline: one Poisson CUSUM at 5×.
    Poisson,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_is_valid() {
        let c = DetectorConfig::from_toml(DETECTOR_TOML).unwrap();
        assert_eq!(c.time.bucket_seconds, 60);
        assert_eq!(c.zone(), chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn model_choice() {
        let c = DetectorConfig::from_toml(
            &DETECTOR_TOML.replace("kind = \"cusum\"", "kind = \"bocpd\""),
        )
        .unwrap();
        assert_eq!(c.model.kind, ModelKind::Bocpd);
        let e = DetectorConfig::from_toml(
            &DETECTOR_TOML.replace("kind = \"cusum\"", "kind = \"magic\""),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown variant `magic`"), "{e}");
        let c = DetectorConfig::from_toml(&DETECTOR_TOML.replace(
            "[model.services]",
            "[model.services]\n\"12306\" = \"bocpd\"",
        ))
        .unwrap();
        assert_eq!(c.model.kind_for("12306"), ModelKind::Bocpd);
        assert_eq!(c.model.kind_for("微信"), ModelKind::Cusum);
    }

    #[test]
    fn bad_configs_are_explained() {
        let e = DetectorConfig::from_toml(&DETECTOR_TOML.replace("Asia/Shanghai", "Mars/Base"))
            .unwrap_err();
        assert!(e.to_string().contains("not an IANA zone"), "{e}");
        let e = DetectorConfig::from_toml(
            &DETECTOR_TOML.replace("bucket_seconds = 60", "bucket_seconds = 0"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("bucket_seconds = 0"), "{e}");
        let e =
            DetectorConfig::from_toml(&format!("{DETECTOR_TOML}\n[extra]\nx = 1\n")).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = DetectorConfig::from_toml(
            &DETECTOR_TOML.replace("shift_ratios = [", "shift_ratios = [0.5, "),
        )
        .unwrap_err();
        assert!(e.to_string().contains("shift_ratios"), "{e}");
    }
}
