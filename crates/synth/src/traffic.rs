//! Traffic shape: the diurnal and weekly activity profile, Poisson counts and seeded streams.

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Activity at the start of each hour of a weekday (Beijing time), as a fraction of the
/// daily peak; linearly interpolated in between. Low 02:00–06:00, a lunchtime bump at
/// 12:00 and the evening peak 21:00–23:00.
const HOURLY: [f64; 24] = [
    0.62, 0.42, 0.26, 0.16, 0.12, 0.13, 0.20, 0.38, 0.58, 0.70, 0.74, 0.84, 0.96, 0.86, 0.74, 0.72,
    0.72, 0.76, 0.80, 0.86, 0.93, 1.00, 1.00, 0.84,
];

/// Beijing time, the offset every simulated post is written with.
pub(crate) fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// Activity at `t` relative to the weekday peak (1.0): the diurnal profile times a weekly
/// modulation (weekends sleep in, post more in the afternoon and stay up later; Friday and
/// Saturday nights run late).
pub fn activity(t: DateTime<FixedOffset>) -> f64 {
    let t = t.with_timezone(&beijing());
    let h = t.hour() as usize;
    let frac = f64::from(t.minute()) / 60.0 + f64::from(t.second()) / 3600.0;
    let base = HOURLY[h] + (HOURLY[(h + 1) % 24] - HOURLY[h]) * frac;
    // The weekday of the evening a late-night hour belongs to.
    let evening = if h < 3 {
        t.weekday().pred()
    } else {
        t.weekday()
    };
    let weekend = matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
    let mut f = 1.0;
    if weekend {
        f *= match h {
            7..=10 => 0.72,
            13..=18 => 1.15,
            _ => 1.0,
        };
    }
    if matches!(evening, Weekday::Fri | Weekday::Sat) && !(3..22).contains(&h) {
        f *= 1.18;
    }
    base * f
}

/// How many people notice and post about an outage at `t`, relative to the evening peak:
/// like [`activity`] but with a floor, because an outage wakes people up and insomniacs and
/// night-shift workers notice it (a 02:00 outage of 微信 still draws ten-odd complaints a
/// minute).
pub(crate) fn attention(t: DateTime<FixedOffset>) -> f64 {
    0.1 + 0.9 * activity(t).min(1.0)
}

/// A Poisson draw with mean `lambda`, exact for any mean: a sum of Knuth draws over chunks
/// of mean at most 20 (a sum of independent Poisson counts is Poisson).
pub(crate) fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> u32 {
    if !lambda.is_finite() || lambda <= 0.0 {
        return 0;
    }
    let mut left = lambda.min(1.0e6);
    let mut n = 0u32;
    while left > 0.0 {
        let l = left.min(20.0);
        left -= l;
        let limit = (-l).exp();
        let mut p: f64 = rng.random();
        while p > limit {
            n += 1;
            p *= rng.random::<f64>();
        }
    }
    n
}

/// SplitMix64 finaliser: spreads the bits of a combined key.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a string, to key a stream by an incident or burst identity.
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An independent random stream for one component (`tag`) in one minute (`key`, the minute's
/// Unix time in minutes, or another identity). Keying streams this way keeps a component's
/// posts the same whatever else the spec injects: the background of a day is identical with
/// or without an outage in it.
pub(crate) fn stream(seed: u64, tag: u64, key: i64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(seed ^ mix(tag)) ^ key as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn poisson_has_the_right_mean() {
        let mut rng = stream(1, 2, 3);
        for lambda in [0.3, 4.0, 37.5, 180.0] {
            let n = 4000;
            let sum: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, lambda))).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < 0.1 * lambda + 0.05,
                "{lambda}: {mean}"
            );
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert_eq!(poisson(&mut rng, f64::NAN), 0);
    }

    #[test]
    fn activity_is_low_at_night_and_peaks_in_the_evening() {
        let tz = beijing();
        // A Wednesday.
        let at = |h: u32| tz.with_ymd_and_hms(2023, 3, 29, h, 0, 0).unwrap();
        assert!(activity(at(4)) < 0.2);
        assert!(activity(at(21)) > 0.95);
        assert!(activity(at(12)) > activity(at(15)));
        assert!(attention(at(3)) > 0.2 && attention(at(3)) < 0.3);
    }
}
