//! Change detection on any count series (`benglema detect-series`): app error reports,
//! support tickets, mention counts, one value per row.
//!
//! Causal by construction: the output for row t depends on rows ≤ t only. The expectation is
//! an exponentially weighted level (half-life in rows) times an hour-of-day factor when rows
//! are at most an hour apart; counts are divided by a dispersion factor (the learned
//! variance-to-mean ratio, at least 1) so that a series in the thousands is not judged by
//! Poisson noise it does not have; the same Poisson CUSUM as the post engine then alarms once
//! per change, and stays quiet until the series falls back. The first `warmup_rows` rows only
//! learn. Rows inside a change are not learned from.

use serde::{Deserialize, Serialize};

use crate::model::{ChangePointModel, Cusum};
use crate::CusumConfig;

/// Settings of a series detector.
///
/// [`SeriesConfig::for_bucket`] gives the defaults `detect-series` uses: a rise to 3× the
/// level is what the test looks for (so a doubling of a large, smooth series is caught, while
/// a small Poisson series needs a clear burst), 10 nats to alarm, a one-week half-life, and
/// a warm-up of a twenty-fourth of a day's rows (24 to 240 rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesConfig {
    /// Half-life of the learned level, in rows.
    pub half_life_rows: f64,
    /// Rows that only learn before alarms are possible.
    pub warmup_rows: usize,
    /// Whether rows carry an hour of the day worth learning (rows ≤ 1 h apart).
    pub hourly: bool,
    /// The change test.
    pub cusum: CusumConfig,
}

/// The output for one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesStep {
    /// Expected value.
    pub expected: f64,
    /// Evidence of an upward change in [0, 1].
    pub score: f64,
    /// Whether a change is announced at this row (once per change).
    pub alarm: bool,
}

/// A causal change detector for one count series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesDetector {
    config: SeriesConfig,
    mean: f64,
    var: f64,
    weight: f64,
    hour: Vec<f64>,
    rows: usize,
    model: Cusum,
}

impl SeriesConfig {
    /// Defaults for rows `bucket_seconds` apart.
    pub fn for_bucket(bucket_seconds: i64) -> Self {
        let per_day = 86_400.0 / bucket_seconds.max(1) as f64;
        SeriesConfig {
            half_life_rows: (7.0 * per_day).max(24.0),
            warmup_rows: ((per_day / 24.0) as usize).clamp(24, 240),
            hourly: bucket_seconds <= 3600,
            cusum: CusumConfig {
                shift_ratio: 3.0,
                threshold: 10.0,
                min_complaints: 1,
            },
        }
    }
}

impl SeriesDetector {
    /// A fresh detector.
    pub fn new(config: SeriesConfig) -> Self {
        SeriesDetector {
            model: Cusum::new(&config.cusum),
            config,
            mean: 0.0,
            var: 0.0,
            weight: 0.0,
            hour: vec![1.0; 24],
            rows: 0,
        }
    }

    /// Takes one row: its value and, for hourly series, its hour of the day.
    pub fn step(&mut self, value: f64, hour: Option<usize>) -> SeriesStep {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        let h = hour.filter(|_| self.config.hourly).map(|h| h % 24);
        let factor = h.map_or(1.0, |h| self.hour[h]);
        let expected = (self.mean * factor).max(0.1);
        self.rows += 1;
        if self.rows <= self.config.warmup_rows {
            self.learn(value, h, expected);
            return SeriesStep {
                expected,
                score: 0.0,
                alarm: false,
            };
        }
        let dispersion = if self.mean > 0.0 {
            (self.var / self.mean).max(1.0)
        } else {
            1.0
        };
        let step = self
            .model
            .step((value / dispersion).round() as u64, expected / dispersion);
        if step.statistic < self.config.cusum.threshold / 2.0 {
            self.learn(value, h, expected);
        }
        SeriesStep {
            expected,
            score: step.score,
            alarm: step.alarm,
        }
    }

    fn learn(&mut self, value: f64, hour: Option<usize>, expected: f64) {
        // Clip what is learned at expected + 4σ once the level is known.
        let x = if self.rows > self.config.warmup_rows {
            value.min(expected + 4.0 * self.var.max(expected).sqrt())
        } else {
            value
        };
        let keep = 0.5f64.powf(1.0 / self.config.half_life_rows);
        self.weight = self.weight * keep + 1.0;
        let a = 1.0 / self.weight;
        let d = x - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
        if let Some(h) = hour {
            let ratio = ((x + 0.5) / (self.mean + 0.5)).clamp(0.25, 4.0);
            self.hour[h] = (self.hour[h] * 0.98 + ratio * 0.02).clamp(0.25, 4.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal, Poisson};

    fn config() -> SeriesConfig {
        SeriesConfig {
            half_life_rows: 500.0,
            warmup_rows: 60,
            hourly: false,
            ..SeriesConfig::for_bucket(3600)
        }
    }

    #[test]
    fn one_alarm_per_change_close_to_it() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut d = SeriesDetector::new(config());
        let mut alarms = Vec::new();
        for t in 0..1000 {
            let lambda = if (600..700).contains(&t) { 40.0 } else { 8.0 };
            let x = Poisson::new(lambda).unwrap().sample(&mut rng);
            if d.step(x, None).alarm {
                alarms.push(t);
            }
        }
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert!((600..=603).contains(&alarms[0]), "{alarms:?}");
    }

    #[test]
    fn large_noisy_series_without_change_stay_quiet() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut d = SeriesDetector::new(config());
        // Around 5,000 a row with a standard deviation of 300: far from Poisson.
        let n = Normal::new(5000.0, 300.0).unwrap();
        let alarms = (0..20_000)
            .filter(|_| d.step(n.sample(&mut rng), None).alarm)
            .count();
        assert_eq!(alarms, 0);
        // And a doubling is still caught.
        assert!((0..10).any(|_| d.step(10_000.0, None).alarm));
    }

    #[test]
    fn warm_up_and_junk_values_do_not_alarm_or_panic() {
        let mut d = SeriesDetector::new(config());
        for v in [f64::NAN, f64::INFINITY, -5.0, 1e300, 0.0] {
            assert!(!d.step(v, Some(25)).alarm);
        }
    }
}
