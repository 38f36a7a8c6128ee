//! The baseline of one count series, shared by the post engine and `detect-series`: what a
//! bucket should hold when nothing is wrong, as a *predictive distribution*, not a number.
//!
//! The expectation is level × exposure × hour-of-day factor × day-of-week factor. The level
//! is a Gamma–Poisson estimate of the count per unit of exposure with exponential
//! forgetting (the post engine's exposure is the bucket's non-complaint posts, so the level
//! is a complaint *share* and follows the stream's own rhythm; `detect-series` has an
//! exposure of 1 per row). The predictive is negative binomial (a Gamma–Poisson mixture):
//! `Var = μ + μ²·(φ + 1/n)`, where φ is the series' learned overdispersion (method of
//! moments on its own residuals: mention counts are far from Poisson) and `1/n` is the
//! uncertainty of a level that has seen only `n` (discounted) counts. A fresh series knows
//! little, so its predictive is wide and a few stray complaints are no evidence; the width
//! shrinks as counts come in. That is the cold start, handled by what the model knows
//! rather than by a "skip the first day" switch.
//!
//! Learning is robust: the level learns from counts clipped at ± `level_sigmas` in
//! square-root space, where counts are about symmetric (a burst does not drag the level up,
//! and the clipping does not bias it low on skewed counts), with the upper bound at least
//! the Cornish–Fisher quantile so that the ordinary 1s of a sparse series stay unclipped;
//! the seasonal factors and the dispersion learn from counts clipped above at
//! `winsor_sigmas` and `dispersion_sigmas`.

use serde::{Deserialize, Serialize};

use crate::config::BaselineConfig;

/// The predictive distribution of one bucket's count: negative binomial with mean `mean`
/// and variance `mean + mean²·inv_size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// Expected count.
    pub mean: f64,
    /// Inverse of the negative binomial size `r` (0 = Poisson).
    pub inv_size: f64,
}

impl Forecast {
    /// A Poisson forecast (no overdispersion, level known).
    pub fn poisson(mean: f64) -> Self {
        Forecast {
            mean,
            inv_size: 0.0,
        }
    }

    /// Predictive standard deviation.
    pub fn sd(&self) -> f64 {
        (self.mean + self.mean * self.mean * self.inv_size).sqrt()
    }

    /// Log-likelihood ratio of `x` under "the mean is `rho` times the forecast" against
    /// the forecast itself, both negative binomial of the same size.
    pub fn llr(&self, x: f64, rho: f64) -> f64 {
        let m0 = self.mean.max(1e-12);
        let m1 = rho * m0;
        if self.inv_size < 1e-9 {
            return x * rho.ln() - (m1 - m0);
        }
        let r = 1.0 / self.inv_size;
        let shrink = (r + m0) / (r + m1);
        // Most buckets of most series are empty: one logarithm then, not two.
        if x == 0.0 {
            return r * shrink.ln();
        }
        r * shrink.ln() + x * (rho * shrink).ln()
    }
}

/// Learned state of one series' baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Discounted counts seen (robustly clipped).
    complaints: f64,
    /// Discounted exposure seen.
    exposure: f64,
    /// Hour-of-day factors, mean about 1.
    hour: [f64; 24],
    /// Day-of-week factors (Monday first), mean about 1.
    #[serde(default = "ones7")]
    weekday: [f64; 7],
    /// Learned overdispersion φ (inverse negative binomial size).
    #[serde(default)]
    dispersion: Option<f64>,
}

fn ones7() -> [f64; 7] {
    [1.0; 7]
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            complaints: 0.0,
            exposure: 0.0,
            hour: [1.0; 24],
            weekday: [1.0; 7],
            dispersion: None,
        }
    }
}

/// Where in the week a bucket lies, for the seasonal factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Season {
    /// Hour of the day, 0..24.
    pub hour: usize,
    /// Day of the week, 0 = Monday.
    pub weekday: usize,
}

impl Baseline {
    /// A fresh baseline that starts from pooled experience (e.g. the mean share and
    /// overdispersion of discovered series), with the weight of the prior.
    pub fn pooled(c: &BaselineConfig, share: f64, dispersion: f64) -> Self {
        Baseline {
            complaints: share * c.prior_posts,
            exposure: c.prior_posts,
            dispersion: Some(dispersion),
            ..Baseline::default()
        }
    }

    /// The learned level (count per unit of exposure).
    pub fn share(&self, c: &BaselineConfig) -> f64 {
        (self.complaints + c.prior_share * c.prior_posts) / (self.exposure + c.prior_posts)
    }

    /// Whether the data outweighs the prior.
    pub fn learned(&self, c: &BaselineConfig) -> bool {
        self.exposure >= c.prior_posts
    }

    /// The learned overdispersion φ.
    pub fn dispersion(&self, c: &BaselineConfig) -> f64 {
        self.dispersion.unwrap_or(c.initial_dispersion)
    }

    /// Discounted counts behind the level (the prior's included): the level's certainty.
    fn evidence(&self, c: &BaselineConfig) -> f64 {
        (self.complaints + c.prior_share * c.prior_posts).max(1e-9)
    }

    fn season(&self, s: Season) -> f64 {
        self.hour[s.hour % 24] * self.weekday[s.weekday % 7]
    }

    /// The predictive distribution of a bucket with this exposure in this season.
    pub fn forecast(&self, c: &BaselineConfig, exposure: f64, s: Season) -> Forecast {
        let mean = (self.share(c) * exposure * self.season(s)).max(c.min_expected);
        Forecast {
            mean,
            inv_size: self.dispersion(c)
                + if c.level_uncertainty {
                    1.0 / self.evidence(c)
                } else {
                    0.0
                },
        }
    }

    /// Learns from a bucket believed normal.
    pub fn learn(&mut self, c: &BaselineConfig, count: u64, exposure: f64, s: Season) {
        let f = self.forecast(c, exposure, s);
        self.learn_from(c, count, exposure, s, f);
    }

    /// [`Baseline::learn`] with the bucket's forecast already made (by [`Baseline::forecast`]
    /// on this state, as a detector has just tested the bucket against it).
    pub fn learn_from(
        &mut self,
        c: &BaselineConfig,
        count: u64,
        exposure: f64,
        s: Season,
        f: Forecast,
    ) {
        let x = count as f64;
        let (mu, sd) = (f.mean, f.sd());
        // Nothing is clipped while the prior outweighs the data: a level that knows nothing
        // cannot tell a burst from the series' ordinary scale.
        let trusted = self.learned(c);
        // The level's bounds: ± `level_sigmas` in square-root space (sd of √X ≈ sd / 2√μ),
        // which follows the skew of counts; the upper one at least the Cornish–Fisher
        // quantile (skew term (z² − 1)/6 · κ₃/σ², κ₃/σ² = 1 + 2φμ for a negative binomial),
        // where the square-root approximation fails: a sparse series' (μ = 0.1) ordinary 1s
        // must not be clipped, or the level is biased low.
        let z = c.level_sigmas;
        let (root, half) = (mu.sqrt(), z * 0.5 * sd / mu.sqrt().max(0.5));
        let skew = 1.0 + 2.0 * f.inv_size * mu;
        let cornish_fisher = mu + z * sd + (z * z - 1.0) / 6.0 * skew;
        let x_level = if trusted {
            x.clamp(
                (root - half).max(0.0).powi(2),
                (root + half).powi(2).max(cornish_fisher),
            )
        } else {
            x
        };
        // Seasonal factors: clipped above only.
        let x_high = if trusted {
            x.min(mu + c.winsor_sigmas * sd)
        } else {
            x
        };
        let keep = 0.5f64.powf(1.0 / c.half_life_buckets);
        let level = self.share(c).max(1e-12);
        self.complaints = self.complaints * keep + x_level;
        self.exposure = self.exposure * keep + exposure;
        // Dispersion: E[(x − μ)² − x] / μ² estimates φ; only where counts carry it.
        if mu > 0.5 {
            let xd = x.min(mu + c.dispersion_sigmas * sd);
            let z = ((xd - mu).powi(2) - xd) / (mu * mu);
            let d = self.dispersion(c);
            self.dispersion =
                Some((d * (1.0 - c.dispersion_rate) + c.dispersion_rate * z).clamp(1e-4, 10.0));
        }
        let (h, w) = (s.hour % 24, s.weekday % 7);
        let base = level * exposure;
        let ratio = |other: f64| (x_high + 0.5) / (base * other + 0.5);
        let r = c.hour_factor_rate;
        self.hour[h] = (self.hour[h] * (1.0 - r) + r * ratio(self.weekday[w])).clamp(0.25, 4.0);
        let r = c.weekday_factor_rate;
        self.weekday[w] = (self.weekday[w] * (1.0 - r) + r * ratio(self.hour[h])).clamp(0.25, 4.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DetectorConfig;

    const NOON: Season = Season {
        hour: 12,
        weekday: 2,
    };

    #[test]
    fn warm_up_uses_the_prior_and_learns_the_level() {
        let c = DetectorConfig::default().baseline;
        let mut b = Baseline::default();
        assert!((b.share(&c) - c.prior_share).abs() < 1e-12);
        // A series at 1 complaint per 100 posts.
        for i in 0..5000 {
            b.learn(&c, if i % 2 == 0 { 1 } else { 0 }, 50.0, NOON);
        }
        assert!((b.share(&c) - 0.01).abs() < 0.003, "{}", b.share(&c));
        assert!((b.forecast(&c, 100.0, NOON).mean - 1.0).abs() < 0.3);
    }

    #[test]
    fn a_fresh_baseline_is_uncertain_and_grows_certain() {
        let c = DetectorConfig::default().baseline;
        let mut b = Baseline::default();
        let fresh = b.forecast(&c, 100.0, NOON).inv_size;
        for _ in 0..3000 {
            b.learn(&c, 1, 100.0, NOON);
        }
        let learned = b.forecast(&c, 100.0, NOON).inv_size;
        assert!(fresh > 0.5, "{fresh}");
        assert!(learned < fresh / 5.0, "{learned} vs {fresh}");
    }

    #[test]
    fn an_outage_does_not_drag_the_level_up() {
        let c = DetectorConfig::default().baseline;
        let mut b = Baseline::default();
        for _ in 0..2000 {
            b.learn(&c, 0, 100.0, NOON);
        }
        let before = b.forecast(&c, 100.0, NOON).mean;
        for _ in 0..60 {
            b.learn(&c, 500, 100.0, NOON);
        }
        assert!(b.forecast(&c, 100.0, NOON).mean < before * 5.0 + 1.0);
        assert!(b.forecast(&c, 100.0, NOON).mean >= c.min_expected);
    }

    #[test]
    fn overdispersion_is_learned() {
        let c = DetectorConfig::default().baseline;
        let mut b = Baseline::default();
        // Alternating 2 and 38 around a mean of 20: variance 324, far above Poisson's 20.
        for i in 0..20_000 {
            b.learn(&c, if i % 2 == 0 { 2 } else { 38 }, 1.0, NOON);
        }
        let phi = b.dispersion(&c);
        // (324 − 20) / 400 = 0.76, less what the clipping trims.
        assert!((0.3..1.0).contains(&phi), "{phi}");
    }

    #[test]
    fn llr_is_poisson_without_dispersion_and_flatter_with_it() {
        let p = Forecast::poisson(2.0);
        assert!((p.llr(10.0, 5.0) - (10.0 * 5f64.ln() - 8.0)).abs() < 1e-9);
        let nb = Forecast {
            mean: 2.0,
            inv_size: 0.5,
        };
        assert!(nb.llr(10.0, 5.0) < p.llr(10.0, 5.0));
        assert!(nb.llr(0.0, 5.0) < 0.0);
    }
}
