//! Change detection on any count series (`benglema detect-series`): app error reports,
//! support tickets, mention counts, one value per row.
//!
//! It runs the post engine's own model: the same [`Baseline`] (a negative binomial
//! predictive with a robust level, learned overdispersion, hour-of-day and day-of-week
//! factors, and an uncertainty that is wide while little is known) with an exposure of 1 per
//! row, and the same bank of CUSUMs over several shift ratios ([`Cusum`]).
//!
//! What differs is the output, which is shaped for a person or a benchmark (NAB) reading a
//! score per row: a row's `score` is high where a change *starts*, not for as long as it
//! lasts. When the bank's statistic crosses the threshold the row alarms, its score is
//! graded by how the evidence compares with this series' own typical daily peak of evidence
//! (the mean of log daily maxima over the last two weeks, so a series that is always bursty
//! needs a larger burst to score high), the bank restarts, and for `refractory_rows` (a
//! day) the series only learns: one announcement per series per day at most. Other rows
//! score below one half, in proportion to the evidence. The baseline learns from every row,
//! robustly, so after a level shift it follows the new level and the series recovers.
//! Causal by construction: row t's output depends on rows ≤ t only.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Season};
use crate::model::{ChangePointModel, Cusum};
use crate::{BaselineConfig, CusumConfig};

/// Settings of a series detector.
///
/// [`SeriesConfig::for_bucket`] gives the defaults `detect-series` uses (chosen on NAB's
/// realTweets, see README): CUSUMs for 3, 5, 10, 20 and 50 times the expectation, 30 nats
/// to alarm, a three-day half-life, and a day of refractory rows after an alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesConfig {
    /// The baseline (exposure 1 per row).
    pub baseline: BaselineConfig,
    /// The change test.
    pub cusum: CusumConfig,
    /// Rows after an alarm during which no other alarm is raised.
    pub refractory_rows: u32,
    /// Rows per day, for the daily peak of evidence.
    pub rows_per_day: u32,
    /// Days of daily peaks of evidence the typical peak is the mean (of logs) of.
    pub peak_days: usize,
}

/// The output for one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesStep {
    /// Expected value.
    pub expected: f64,
    /// Evidence of the start of a change in [0, 1]: above 0.5 only on an alarm row.
    pub score: f64,
    /// Whether a change is announced at this row.
    pub alarm: bool,
}

/// A causal change detector for one count series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesDetector {
    config: SeriesConfig,
    baseline: Baseline,
    model: Cusum,
    rows: u64,
    refractory: u32,
    day_peak: f64,
    /// The last `peak_days` daily peaks of the bank's statistic, oldest first.
    peaks: VecDeque<f64>,
}

impl SeriesConfig {
    /// Defaults for rows `bucket_seconds` apart.
    pub fn for_bucket(bucket_seconds: i64) -> Self {
        let bucket = bucket_seconds.clamp(1, 7 * 86_400) as f64;
        let per_day = 86_400.0 / bucket;
        let per_hour = (3600.0 / bucket).max(1.0 / 24.0);
        let hour_rate = (0.24 / per_hour).min(0.2);
        SeriesConfig {
            baseline: BaselineConfig {
                prior_share: 1.0,
                prior_posts: 1e-3,
                half_life_buckets: (3.0 * per_day).max(24.0),
                min_expected: 0.05,
                hour_factor_rate: if bucket <= 3600.0 { hour_rate } else { 0.0 },
                weekday_factor_rate: if bucket <= 86_400.0 {
                    hour_rate / 12.0
                } else {
                    0.0
                },
                winsor_sigmas: 3.0,
                level_sigmas: 2.0,
                initial_dispersion: 0.1,
                level_uncertainty: true,
                dispersion_rate: 0.01,
                dispersion_sigmas: 3.0,
            },
            cusum: CusumConfig {
                shift_ratios: vec![3.0, 5.0, 10.0, 20.0, 50.0],
                threshold: 30.0,
                min_complaints: 0,
            },
            refractory_rows: per_day.round().max(1.0) as u32,
            rows_per_day: per_day.round().max(1.0) as u32,
            peak_days: 14,
        }
    }
}

impl SeriesDetector {
    /// A fresh detector.
    pub fn new(config: SeriesConfig) -> Self {
        SeriesDetector {
            model: Cusum::new(&config.cusum),
            config,
            baseline: Baseline::default(),
            rows: 0,
            refractory: 0,
            day_peak: 0.0,
            peaks: VecDeque::new(),
        }
    }

    /// Takes one row: its value and where in the week it lies (hour 0 and any day when the
    /// rows carry no such rhythm).
    pub fn step(&mut self, value: f64, season: Season) -> SeriesStep {
        let value = if value.is_finite() {
            value.clamp(0.0, 1e15)
        } else {
            0.0
        };
        let c = &self.config;
        let forecast = self.baseline.forecast(&c.baseline, 1.0, season);
        let stat = self.model.step_value(value, forecast).statistic;
        self.day_peak = self.day_peak.max(stat);
        if self.rows % c.rows_per_day as u64 == c.rows_per_day as u64 - 1 {
            self.peaks.push_back(self.day_peak);
            if self.peaks.len() > c.peak_days.max(1) {
                self.peaks.pop_front();
            }
            self.day_peak = 0.0;
        }
        self.rows += 1;
        let h = c.cusum.threshold;
        let (score, alarm) = if self.refractory > 0 {
            self.refractory -= 1;
            self.model.reset();
            (0.0, false)
        } else if stat > h {
            let typical = if self.peaks.is_empty() {
                h.ln_1p()
            } else {
                self.peaks.iter().map(|p| p.ln_1p()).sum::<f64>() / self.peaks.len() as f64
            };
            self.refractory = c.refractory_rows;
            self.model.reset();
            (0.5 + 0.5 * (stat.ln_1p() - typical).tanh(), true)
        } else {
            ((0.5 * stat / h).min(0.49), false)
        };
        self.baseline
            .learn_from(&c.baseline, value.round() as u64, 1.0, season, forecast);
        SeriesStep {
            expected: forecast.mean,
            score,
            alarm,
        }
    }
}

/// Scores a whole count series, row by row, as `detect-series` does: `clock` is each row's
/// time on its own local clock (seconds, hour of the day); `bucket_seconds` the spacing of
/// rows (see [`infer_bucket`]). The season is the hour of the day (for rows an hour apart or
/// closer) and the day of the week.
pub fn score_series(clock: &[(i64, u32)], values: &[f64], bucket_seconds: i64) -> Vec<SeriesStep> {
    let mut d = SeriesDetector::new(SeriesConfig::for_bucket(bucket_seconds));
    clock
        .iter()
        .zip(values)
        .map(|(&(secs, hour), &v)| {
            // Seconds are on the rows' own clock; 1970-01-01 was a Thursday.
            let season = Season {
                hour: if bucket_seconds <= 3600 {
                    hour as usize
                } else {
                    0
                },
                weekday: (secs.div_euclid(86_400) + 3).rem_euclid(7) as usize,
            };
            d.step(v, season)
        })
        .collect()
}

/// The spacing of rows: the median gap between consecutive times (an hour for fewer than
/// two rows).
pub fn infer_bucket(clock: &[(i64, u32)]) -> i64 {
    let mut gaps: Vec<i64> = clock.windows(2).map(|w| w[1].0 - w[0].0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(3600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal, Poisson};

    const FLAT: Season = Season {
        hour: 0,
        weekday: 0,
    };

    fn hourly() -> SeriesDetector {
        SeriesDetector::new(SeriesConfig::for_bucket(3600))
    }

    #[test]
    fn one_alarm_close_to_the_change_and_no_plateau() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut d = hourly();
        let (mut alarms, mut high) = (Vec::new(), 0);
        for t in 0..1000 {
            let lambda = if (600..700).contains(&t) { 40.0 } else { 8.0 };
            let x = Poisson::new(lambda).unwrap().sample(&mut rng);
            let s = d.step(x, FLAT);
            if s.alarm {
                alarms.push(t);
            }
            high += (s.score > 0.5) as usize;
        }
        // The change alarms within a few rows; 100 rows at 5× may alarm again after the
        // refractory day, but the score is not a plateau.
        assert!((600..=603).contains(&alarms[0]), "{alarms:?}");
        assert!(alarms.len() <= 1 + 100 / 24, "{alarms:?}");
        assert_eq!(high, alarms.len());
    }

    #[test]
    fn large_noisy_series_without_change_stay_quiet() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut d = hourly();
        // Around 5,000 a row with a standard deviation of 300: far from Poisson.
        let n = Normal::new(5000.0, 300.0).unwrap();
        let alarms: Vec<usize> = (0..20_000)
            .filter(|_| d.step(n.sample(&mut rng), FLAT).alarm)
            .collect();
        assert_eq!(alarms, Vec::<usize>::new());
        // And a tripling is still caught.
        assert!((0..10).any(|_| d.step(15_000.0, FLAT).alarm));
    }

    #[test]
    fn a_level_shift_is_learned_and_alarms_stop() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut d = hourly();
        let mut alarms = Vec::new();
        for t in 0..3000 {
            let lambda = if t < 1000 { 10.0 } else { 60.0 };
            let x = Poisson::new(lambda).unwrap().sample(&mut rng);
            if d.step(x, FLAT).alarm {
                alarms.push(t);
            }
        }
        assert!(alarms.first().is_some_and(|&t| (1000..1003).contains(&t)));
        assert!(alarms.iter().all(|&t| t < 1500), "{alarms:?}");
    }

    #[test]
    fn a_fresh_series_does_not_alarm_on_its_first_values() {
        // A quiet series whose first rows are an ordinary handful: the predictive is wide.
        let mut d = hourly();
        let first = [0.0, 3.0, 0.0, 1.0, 5.0, 0.0, 2.0, 7.0, 1.0, 0.0];
        assert!(first.iter().all(|&v| !d.step(v, FLAT).alarm));
    }

    #[test]
    fn junk_values_do_not_alarm_or_panic() {
        let mut d = hourly();
        for v in [f64::NAN, f64::INFINITY, -5.0, 1e300, 0.0] {
            let s = d.step(
                v,
                Season {
                    hour: 25,
                    weekday: 9,
                },
            );
            assert!(s.score.is_finite() && (0.0..=1.0).contains(&s.score));
        }
    }
}

#[cfg(test)]
mod score_tests {
    use super::*;

    /// `(clock, value)` rows from hour 0 of a Monday (1970-01-05), `step` seconds apart.
    fn rows(values: &[f64], step: i64) -> Vec<(i64, u32)> {
        let monday = 4 * 86_400;
        (0..values.len() as i64)
            .map(|i| {
                let t = monday + i * step;
                (t, (t.rem_euclid(86_400) / 3600) as u32)
            })
            .collect()
    }

    #[test]
    fn an_hourly_series_alarms_once_at_its_burst() {
        // Six weeks of hourly ticket counts with a daily rhythm, then a burst.
        let values: Vec<f64> = (0..42 * 24)
            .map(|i: usize| {
                let h = (i % 24) as f64;
                let base = 20.0 + 15.0 * ((h - 4.0) / 24.0 * std::f64::consts::TAU).sin();
                let v = if (900..906).contains(&i) {
                    base * 6.0
                } else {
                    base + ((i * 7919) % 5) as f64 - 2.0
                };
                v.round()
            })
            .collect();
        let clock = rows(&values, 3600);
        assert_eq!(infer_bucket(&clock), 3600);
        let steps = score_series(&clock, &values, 3600);
        let fired: Vec<usize> = (0..steps.len()).filter(|&i| steps[i].alarm).collect();
        assert_eq!(
            fired,
            vec![900],
            "alarms once, at the burst, using rows up to it only"
        );
        assert!(steps.iter().all(|s| (0.0..=1.0).contains(&s.score)));
    }

    #[test]
    fn a_prefix_scores_as_it_does_inside_the_whole_series() {
        let values: Vec<f64> = (0..500).map(|i| if i > 300 { 50.0 } else { 5.0 }).collect();
        let clock = rows(&values, 60);
        let full = score_series(&clock, &values, 60);
        let half = score_series(&clock[..350], &values[..350], 60);
        assert_eq!(&full[..350], &half[..]);
        assert_eq!(infer_bucket(&clock[..1]), 3600);
    }
}
