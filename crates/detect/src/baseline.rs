//! The seasonal baseline of one complaint series: how many complaints a bucket should hold
//! when nothing is wrong.
//!
//! Expected complaints = share × exposure × hour factor, floored. The *exposure* is the
//! number of non-complaint posts in the bucket, so the baseline follows the diurnal and
//! weekly rhythm of the whole stream without having to learn it per service; the *share* is
//! a Gamma–Poisson estimate with exponential forgetting (a prior worth `prior_posts` posts
//! at `prior_share`, so warm-up and never-mentioned services behave); the *hour factor*
//! learns what is specific to the series (12306 is complained about at 08:00). Learning
//! skips buckets inside events and clips counts above expected + k·σ, so an outage does not
//! raise the bar for the next one.

use serde::{Deserialize, Serialize};

use crate::config::BaselineConfig;

/// Learned state of one series' baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Discounted complaints seen.
    complaints: f64,
    /// Discounted exposure seen.
    exposure: f64,
    /// Hour-of-day factors, mean about 1.
    hour: [f64; 24],
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            complaints: 0.0,
            exposure: 0.0,
            hour: [1.0; 24],
        }
    }
}

impl Baseline {
    /// The learned complaint share (complaints per exposure post).
    pub fn share(&self, c: &BaselineConfig) -> f64 {
        (self.complaints + c.prior_share * c.prior_posts) / (self.exposure + c.prior_posts)
    }

    /// Expected complaints in a bucket with this exposure at this hour of the day.
    pub fn expected(&self, c: &BaselineConfig, exposure: u64, hour: usize) -> f64 {
        (self.share(c) * exposure as f64 * self.hour[hour % 24]).max(c.min_expected)
    }

    /// Learns from a normal bucket.
    pub fn learn(&mut self, c: &BaselineConfig, count: u64, exposure: u64, hour: usize) {
        let expected = self.expected(c, exposure, hour);
        let cap = expected + c.winsor_sigmas * expected.sqrt().max(1.0);
        let x = (count as f64).min(cap);
        let keep = 0.5f64.powf(1.0 / c.half_life_buckets);
        self.complaints = self.complaints * keep + x;
        self.exposure = self.exposure * keep + exposure as f64;
        // Hour factor: a slow ratio of what came to what the level alone predicts.
        let level = (self.share(c) * exposure as f64).max(c.min_expected);
        let ratio = ((x + 0.5) / (level + 0.5)).clamp(0.25, 4.0);
        let h = &mut self.hour[hour % 24];
        *h = (*h * (1.0 - c.hour_factor_rate) + ratio * c.hour_factor_rate).clamp(0.25, 4.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DetectorConfig;

    #[test]
    fn warm_up_uses_the_prior_and_learns_the_level() {
        let c = DetectorConfig::default().baseline;
        let mut b = Baseline::default();
        assert!((b.share(&c) - c.prior_share).abs() < 1e-12);
        // A series at 1 complaint per 100 posts.
        for i in 0..5000 {
            b.learn(&c, if i % 2 == 0 { 1 } else { 0 }, 50, 12);
        }
        assert!((b.share(&c) - 0.01).abs() < 0.002, "{}", b.share(&c));
        assert!((b.expected(&c, 100, 12) - 1.0).abs() < 0.3);
    }

    #[test]
    fn an_outage_does_not_drag_the_level_up() {
        let c = DetectorConfig::default().baseline;
        let mut b = Baseline::default();
        for _ in 0..2000 {
            b.learn(&c, 0, 100, 3);
        }
        let before = b.expected(&c, 100, 3);
        for _ in 0..60 {
            b.learn(&c, 500, 100, 3);
        }
        assert!(b.expected(&c, 100, 3) < before * 5.0 + 1.0);
        assert!(b.expected(&c, 100, 3) >= c.min_expected);
    }
}
