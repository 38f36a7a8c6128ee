//! Online change-point models behind one trait. Each takes one bucket at a time (`step`)
//! with the count and the baseline's predictive distribution ([`Forecast`]), and says how
//! much evidence there is of an upward change, whether to alarm, and where the change began.
//!
//! [`Cusum`] is a bank of Page's CUSUMs, one per shift ratio ρ in `shift_ratios`: each sums
//! the log-likelihood ratio of "the mean is ρ × the forecast" against the forecast, both
//! negative binomial with the forecast's dispersion (Poisson when there is none), and
//! `S_ρ = max(0, S_ρ + llr)`. The statistic is the largest `S_ρ`; it alarms above
//! `threshold`. A large ρ is fast on a sharp step (a 50× jump crosses in one or two buckets),
//! a small one accumulates a slow ramp that a large ρ would never see, so one bank is early
//! on both. Because the llr carries the dispersion, a burst on a bursty series is weaker
//! evidence than the same burst on a quiet one. At the alarm the onset is estimated by
//! generalised likelihood ratio over the current run: for every candidate start k the
//! post-change ratio is estimated from the data (ρ̂ = Σx / Σμ from k on) and the k with the
//! largest log-likelihood ratio wins. That is the change point itself, not the alarm time,
//! and noise just before the change does not drag it early.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::baseline::Forecast;
use crate::config::CusumConfig;

/// What a model says after one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Evidence of an upward change mapped to [0, 1].
    pub score: f64,
    /// The model's own statistic (nats for CUSUM).
    pub statistic: f64,
    /// Whether the evidence crossed the alarm threshold in this bucket.
    pub alarm: bool,
    /// Buckets back from this one to the estimated onset (0 = this bucket).
    pub onset_lag: u32,
    /// Count since the estimated onset, this bucket included.
    pub since_onset: u64,
    /// Whether the bucket may be learned from: the evidence of a change is weak.
    pub learnable: bool,
}

/// An online change-point detector for one series.
pub trait ChangePointModel {
    /// Takes one bucket: its count and the baseline's predictive distribution.
    fn step(&mut self, count: u64, forecast: Forecast) -> Step;
    /// Forgets the current run (after an event resolves).
    fn reset(&mut self);
}

/// A bank of Page's CUSUMs over several shift ratios (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cusum {
    ratios: Vec<f64>,
    threshold: f64,
    min_complaints: u64,
    /// One statistic per ratio.
    s: Vec<f64>,
    /// Buckets since every statistic was last zero.
    run: u32,
    /// Count since every statistic was last zero.
    run_count: u64,
    /// (count, expected) of the run's buckets, newest last, at most `MAX_RUN`.
    buf: VecDeque<(f64, f64)>,
    alarmed: bool,
}

/// Longest run kept for onset estimation, in buckets.
const MAX_RUN: usize = 240;

/// The generalised-likelihood-ratio onset over a run: index into `buf` of the best start,
/// and the count from there on.
fn glr_onset(buf: &VecDeque<(f64, f64)>) -> (usize, u64) {
    let (mut sx, mut sl) = (0.0f64, 0.0f64);
    let mut best = (f64::NEG_INFINITY, buf.len().saturating_sub(1), 0u64);
    for (k, &(x, l)) in buf.iter().enumerate().rev() {
        sx += x;
        sl += l;
        let ratio = sx / sl.max(1e-12);
        let ll = if ratio > 1.0 {
            sx * ratio.ln() - (ratio - 1.0) * sl
        } else {
            0.0
        };
        // `>=` prefers the earliest start among equals; a start with no count is no onset.
        if ll >= best.0 && x > 0.0 {
            best = (ll, k, sx.round() as u64);
        }
    }
    (best.1, best.2)
}

impl Cusum {
    /// A CUSUM bank with the given parameters.
    pub fn new(c: &CusumConfig) -> Self {
        Cusum {
            ratios: c.shift_ratios.clone(),
            threshold: c.threshold,
            min_complaints: c.min_complaints,
            s: vec![0.0; c.shift_ratios.len()],
            run: 0,
            run_count: 0,
            buf: VecDeque::new(),
            alarmed: false,
        }
    }

    /// Takes one bucket with a real-valued count (`detect-series` values need not be
    /// integers).
    pub fn step_value(&mut self, x: f64, forecast: Forecast) -> Step {
        for (s, &rho) in self.s.iter_mut().zip(&self.ratios) {
            // An empty bucket is no evidence of an increase (its llr is ≤ 0 for ρ > 1):
            // a statistic at zero stays there, and the logarithms are not needed. Most
            // buckets of most series are empty and at zero, so this is most of the steps.
            if x == 0.0 && *s == 0.0 && rho > 1.0 {
                continue;
            }
            *s = (*s + forecast.llr(x, rho)).max(0.0);
        }
        let stat = self.statistic();
        if stat <= 0.0 {
            self.reset();
        } else {
            self.run += 1;
            self.run_count += x.round() as u64;
            self.buf.push_back((x, forecast.mean));
            if self.buf.len() > MAX_RUN {
                self.buf.pop_front();
            }
        }
        let (mut onset_lag, mut since_onset) = (self.run.saturating_sub(1), self.run_count);
        let mut fire = false;
        if !self.alarmed && stat > self.threshold {
            let (k, n) = glr_onset(&self.buf);
            onset_lag = (self.buf.len() - 1 - k) as u32;
            since_onset = n;
            fire = n >= self.min_complaints;
            self.alarmed = fire;
        }
        Step {
            score: stat / (stat + self.threshold),
            statistic: stat,
            alarm: fire,
            onset_lag,
            since_onset,
            learnable: stat < self.threshold / 2.0,
        }
    }

    /// The current statistic: the largest of the bank's.
    fn statistic(&self) -> f64 {
        self.s.iter().copied().fold(0.0, f64::max)
    }
}

impl ChangePointModel for Cusum {
    fn step(&mut self, count: u64, forecast: Forecast) -> Step {
        self.step_value(count as f64, forecast)
    }

    fn reset(&mut self) {
        self.s.iter_mut().for_each(|s| *s = 0.0);
        self.run = 0;
        self.run_count = 0;
        self.buf.clear();
        self.alarmed = false;
    }
}

/// The models a series can run, as one serialisable value (add variants for new models).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum AnyModel {
    /// A bank of Page's CUSUMs.
    Cusum(Cusum),
    /// Bayesian online change-point detection.
    Bocpd(crate::Bocpd),
}

impl AnyModel {
    /// The model the configuration asks for.
    pub fn from_config(c: &crate::DetectorConfig) -> Self {
        Self::of_kind(c, c.model.kind)
    }

    /// A fresh model of the given kind with `c`'s parameters.
    pub fn of_kind(c: &crate::DetectorConfig, kind: crate::ModelKind) -> Self {
        match kind {
            crate::ModelKind::Cusum => AnyModel::Cusum(Cusum::new(&c.cusum)),
            crate::ModelKind::Bocpd => AnyModel::Bocpd(crate::Bocpd::new(c.bocpd.clone())),
        }
    }
}

impl ChangePointModel for AnyModel {
    fn step(&mut self, count: u64, forecast: Forecast) -> Step {
        match self {
            AnyModel::Cusum(m) => m.step(count, forecast),
            AnyModel::Bocpd(m) => m.step(count, forecast),
        }
    }
    fn reset(&mut self) {
        match self {
            AnyModel::Cusum(m) => m.reset(),
            AnyModel::Bocpd(m) => m.reset(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DetectorConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Poisson};

    fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
        Poisson::new(lambda).unwrap().sample(rng) as u64
    }

    #[test]
    fn skipping_empty_buckets_at_zero_gives_the_full_update() {
        // The shortcut in `step_value` relies on an empty bucket's llr being ≤ 0 for ρ > 1.
        let c = DetectorConfig::default().cusum;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut m = Cusum::new(&c);
        let mut reference = vec![0.0f64; c.shift_ratios.len()];
        for i in 0..200_000u32 {
            // Sparse counts against forecasts from the floor up, Poisson and overdispersed.
            let mean = [1e-12, 1e-6, 0.01, 0.3, 2.0, 40.0][(i % 6) as usize];
            let inv_size = [0.0, 1e-10, 0.05, 1.0, 30.0][(i % 5) as usize];
            let f = Forecast { mean, inv_size };
            let x = if i % 7 == 0 {
                poisson(&mut rng, mean * 3.0)
            } else {
                0
            };
            for (s, &rho) in reference.iter_mut().zip(&c.shift_ratios) {
                if x == 0 {
                    assert!(f.llr(0.0, rho) <= 0.0, "{f:?} ρ {rho}");
                }
                *s = (*s + f.llr(x as f64, rho)).max(0.0);
            }
            m.step(x, f);
            for (a, b) in m.s.iter().zip(&reference) {
                assert_eq!(a.to_bits(), b.to_bits(), "bucket {i}: {a} against {b}");
            }
        }
    }

    #[test]
    fn onset_exact_on_a_clean_step() {
        let c = DetectorConfig::default().cusum;
        let mut m = Cusum::new(&c);
        let change = 100;
        for t in 0..200u32 {
            let x = if t < change { 0 } else { 4 };
            let s = m.step(x, Forecast::poisson(0.2));
            if s.alarm {
                assert_eq!(t - s.onset_lag, change);
                assert!(t - change <= 3, "delay {}", t - change);
                return;
            }
        }
        panic!("no alarm");
    }

    #[test]
    fn onset_within_two_buckets_on_noisy_steps() {
        let c = DetectorConfig::default().cusum;
        // A quiet series (0.2 complaints a minute, typical of a large service on a normal
        // day) steps to 15 times that, with Poisson noise on both sides.
        let (mut close, mut delays) = (0, Vec::new());
        let seeds = 100;
        for seed in 0..seeds {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut m = Cusum::new(&c);
            let change = 300;
            let mut alarm = None;
            for t in 0..400 {
                let lambda = if t < change { 0.2 } else { 3.0 };
                let s = m.step(poisson(&mut rng, lambda), Forecast::poisson(0.2));
                if s.alarm {
                    alarm = Some((t, t - s.onset_lag as usize));
                    break;
                }
            }
            let (at, onset) = alarm.expect("the step is detected");
            assert!(at >= change, "seed {seed}: alarm at {at} before the change");
            delays.push(at - change);
            // Noise right before a change can make an earlier start just as likely.
            assert!(onset.abs_diff(change) <= 20, "seed {seed}: onset {onset}");
            close += (onset.abs_diff(change) <= 2) as usize;
        }
        delays.sort_unstable();
        println!(
            "onset within 2 buckets: {close}/{seeds}; median delay {}",
            delays[delays.len() / 2]
        );
        assert!(
            close * 10 >= seeds as usize * 9,
            "only {close}/{seeds} onsets within 2 buckets"
        );
        assert!(delays[delays.len() / 2] <= 3);
    }

    #[test]
    fn alarms_once_per_run_and_resets() {
        let c = DetectorConfig::default().cusum;
        let mut m = Cusum::new(&c);
        let alarms = (0..50)
            .filter(|_| m.step(10, Forecast::poisson(0.5)).alarm)
            .count();
        assert_eq!(alarms, 1);
        m.reset();
        assert_eq!(m.step(0, Forecast::poisson(0.5)).statistic, 0.0);
        assert!((0..50).any(|_| m.step(10, Forecast::poisson(0.5)).alarm));
    }

    #[test]
    fn stray_complaints_on_a_quiet_series_do_not_alarm() {
        let c = DetectorConfig::default().cusum;
        let mut m = Cusum::new(&c);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // A month of one-minute buckets with 0.05 expected and Poisson noise at that rate.
        let alarms = (0..43_200)
            .filter(|_| {
                m.step(poisson(&mut rng, 0.05), Forecast::poisson(0.05))
                    .alarm
            })
            .count();
        assert_eq!(alarms, 0);
    }
}
