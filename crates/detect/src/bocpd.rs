//! Bayesian online change-point detection (Adams & MacKay 2007) for counts against the
//! baseline: a Poisson–Gamma model, `x_t ~ Poisson(θ · e_t)` with `e_t` the baseline's
//! expectation and `θ` the regime's rate multiplier, Gamma(`prior_shape`, `prior_shape`)
//! a priori (mean 1: "as expected"). The run-length distribution is kept on an `ndarray`
//! vector truncated at `max_run`, so each step costs O(`max_run`) and memory is bounded.
//!
//! The change score is the posterior probability that the current regime began within the
//! last `window` buckets *and* runs at least `min_ratio` times the baseline; the alarm fires
//! once when it reaches `alarm_probability`, with the most probable of those run lengths as
//! the onset, and re-arms when the score falls below a half.

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::baseline::Forecast;
use crate::model::{ChangePointModel, Step};

/// BOCPD parameters (documented in `models/detector.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BocpdConfig {
    /// Expected buckets between changes (the hazard is its inverse).
    pub expected_run: f64,
    /// Shape and rate of the Gamma prior on the rate multiplier.
    pub prior_shape: f64,
    /// Longest run length kept.
    pub max_run: usize,
    /// Recent-change window, buckets.
    pub window: usize,
    /// Multiplier a recent regime must reach to count as an outage.
    pub min_ratio: f64,
    /// Score at which to alarm.
    pub alarm_probability: f64,
    /// Minimum count in the new regime before alarming.
    pub min_complaints: u64,
}

impl Default for BocpdConfig {
    fn default() -> Self {
        BocpdConfig {
            expected_run: 1000.0,
            prior_shape: 1.0,
            max_run: 240,
            window: 15,
            min_ratio: 4.0,
            alarm_probability: 0.95,
            min_complaints: 8,
        }
    }
}

/// The BOCPD state of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bocpd {
    config: BocpdConfig,
    /// Live run lengths: the first `len` entries of the arrays below.
    len: usize,
    /// `probs[i]`: posterior probability that the current run holds `i` + 1 buckets.
    probs: Array1<f64>,
    /// Gamma posterior of each run's rate multiplier.
    alpha: Array1<f64>,
    beta: Array1<f64>,
    /// Count in each run.
    counts: Array1<f64>,
    alarmed: bool,
}

/// ln Γ(α + x) − ln Γ(α) for a whole number x, as a sum for small x.
fn ln_rising(alpha: f64, x: f64) -> f64 {
    if x < 32.0 {
        (0..x as u64).map(|k| (alpha + k as f64).ln()).sum()
    } else {
        libm::lgamma(alpha + x) - libm::lgamma(alpha)
    }
}

impl Bocpd {
    /// A fresh detector.
    pub fn new(config: BocpdConfig) -> Self {
        let m = config.max_run.max(2);
        let a = config.prior_shape;
        let mut probs = Array1::zeros(m);
        probs[0] = 1.0;
        Bocpd {
            len: 1,
            probs,
            alpha: Array1::from_elem(m, a),
            beta: Array1::from_elem(m, a),
            counts: Array1::zeros(m),
            config,
            alarmed: false,
        }
    }

    /// The run-length distribution (for inspection and tests).
    pub fn run_lengths(&self) -> ndarray::ArrayView1<'_, f64> {
        self.probs.slice(ndarray::s![..self.len])
    }
}

impl ChangePointModel for Bocpd {
    fn step(&mut self, count: u64, forecast: Forecast) -> Step {
        let c = &self.config;
        let x = count as f64;
        let e = forecast.mean.max(1e-9);
        let hazard = 1.0 / c.expected_run.max(1.0);
        let lnfact = libm::lgamma(x + 1.0);
        // Joint of each run with x (negative-binomial predictive), in place.
        let mut evidence = 0.0;
        for i in 0..self.len {
            let (a, b) = (self.alpha[i], self.beta[i]);
            let lp = ln_rising(a, x) - lnfact + a * (b / (b + e)).ln() + x * (e / (b + e)).ln();
            self.probs[i] *= lp.exp();
            evidence += self.probs[i];
        }
        // Every run grows by one (the longest falls off at max_run), a new one starts.
        let new_len = (self.len + 1).min(self.probs.len());
        for i in (1..new_len).rev() {
            self.probs[i] = self.probs[i - 1] * (1.0 - hazard);
            self.alpha[i] = self.alpha[i - 1] + x;
            self.beta[i] = self.beta[i - 1] + e;
            self.counts[i] = self.counts[i - 1] + x;
        }
        self.len = new_len;
        self.probs[0] = evidence * hazard;
        self.alpha[0] = c.prior_shape + x;
        self.beta[0] = c.prior_shape + e;
        self.counts[0] = x;
        let mut live = self.probs.slice_mut(ndarray::s![..new_len]);
        let total = live.sum();
        if total > 0.0 && total.is_finite() {
            live /= total;
        } else {
            // Numerically impossible data: start over from this bucket.
            live.fill(0.0);
            live[0] = 1.0;
        }

        // Evidence of a recent upward regime.
        let w = c.window.min(self.len);
        let mut score = 0.0;
        let mut best = (0.0, 0usize);
        for i in 0..w {
            if self.alpha[i] / self.beta[i] >= c.min_ratio {
                score += self.probs[i];
                if self.probs[i] > best.0 {
                    best = (self.probs[i], i);
                }
            }
        }
        let since = self.counts[best.1] as u64;
        let fire = !self.alarmed && score >= c.alarm_probability && since >= c.min_complaints;
        if fire {
            self.alarmed = true;
        } else if score < 0.5 {
            self.alarmed = false;
        }
        Step {
            score: score.clamp(0.0, 1.0),
            statistic: score,
            alarm: fire,
            onset_lag: best.1 as u32,
            since_onset: since,
            // The engine's learning rule before the bank: evidence of a change below a third.
            learnable: score < 1.0 / 3.0,
        }
    }

    fn reset(&mut self) {
        *self = Bocpd::new(self.config.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Poisson};

    #[test]
    fn run_length_probabilities_sum_to_one() {
        let mut m = Bocpd::new(BocpdConfig::default());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for t in 0..2000 {
            let lambda = if (1000..1100).contains(&t) { 6.0 } else { 0.3 };
            let x = Poisson::new(lambda).unwrap().sample(&mut rng) as u64;
            m.step(x, Forecast::poisson(0.3));
            let s = m.run_lengths().sum();
            assert!((s - 1.0).abs() < 1e-9, "step {t}: sum {s}");
            assert!(m.run_lengths().iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }

    #[test]
    fn change_points_within_two_steps() {
        let mut close = 0;
        for seed in 0..50 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut m = Bocpd::new(BocpdConfig::default());
            let change = 400;
            let mut hit = None;
            for t in 0..600 {
                let lambda = if t < change { 0.3 } else { 4.0 };
                let x = Poisson::new(lambda).unwrap().sample(&mut rng) as u64;
                let s = m.step(x, Forecast::poisson(0.3));
                if s.alarm {
                    hit = Some((t, t - s.onset_lag as usize));
                    break;
                }
            }
            let (at, onset) = hit.expect("change found");
            assert!(at >= change, "seed {seed}: alarm at {at}");
            assert!(at - change <= 10, "seed {seed}: delay {}", at - change);
            close += (onset.abs_diff(change) <= 2) as usize;
        }
        assert!(close >= 45, "only {close}/50 onsets within 2 steps");
    }

    #[test]
    fn memory_is_bounded_over_a_million_steps() {
        // A short truncation keeps the test quick in debug builds; the bound is the point.
        let cfg = BocpdConfig {
            max_run: 32,
            ..BocpdConfig::default()
        };
        let max = cfg.max_run;
        let mut m = Bocpd::new(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let p = Poisson::new(0.2).unwrap();
        let mut alarms = 0;
        for _ in 0..1_000_000 {
            alarms += m
                .step(p.sample(&mut rng) as u64, Forecast::poisson(0.2))
                .alarm as u32;
            assert!(m.run_lengths().len() <= max);
        }
        assert_eq!(alarms, 0, "no alarm on a million buckets of noise");
    }
}
