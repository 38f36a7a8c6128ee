//! New-service discovery bookkeeping: which discovered names (complaint targets that no
//! gazetteer lists) get a series of their own.
//!
//! The names come from free text, so their vocabulary is unbounded. [`Candidates`] counts
//! them in a Space-Saving top-k sketch (Metwally et al. 2005) of fixed capacity whose counts
//! halve at a fixed period, so memory stays bounded and old names fade. A name is admitted
//! once its guaranteed count (count minus the sketch's error) reaches the configured
//! minimum, and only while fewer than `max_series` discovered names are admitted; the engine
//! drops a discovered series after a quiet day (see `models/detector.toml`, `[discovery]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One sketch slot: the (over)estimated count and how much of it may be inherited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Slot {
    count: u64,
    error: u64,
}

/// Space-Saving top-k counts of discovered names, with periodic halving.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidates {
    slots: BTreeMap<String, Slot>,
    /// Bucket of the last halving.
    last_decay: Option<i64>,
}

impl Candidates {
    /// Counts one complaint naming `name` and returns its guaranteed count (a lower bound
    /// of the true decayed count). At most `capacity` names are held: a new name replaces the
    /// one with the smallest count and inherits that count as its error.
    pub fn offer(&mut self, name: &str, capacity: usize) -> u64 {
        self.offer_n(name, 1, capacity)
    }

    /// Counts `n` complaints naming `name` at once (a bucket's worth), like `n` calls of
    /// [`Candidates::offer`] in a row.
    pub fn offer_n(&mut self, name: &str, n: u64, capacity: usize) -> u64 {
        if let Some(s) = self.slots.get_mut(name) {
            s.count += n;
            return s.count - s.error;
        }
        let mut slot = Slot { count: n, error: 0 };
        if self.slots.len() >= capacity.max(1) {
            let (victim, min) = self
                .slots
                .iter()
                .min_by(|a, b| a.1.count.cmp(&b.1.count).then(a.0.cmp(b.0)))
                .map(|(k, s)| (k.clone(), s.count))
                .expect("a full sketch has slots");
            self.slots.remove(&victim);
            slot = Slot {
                count: min + n,
                error: min,
            };
        }
        self.slots.insert(name.to_owned(), slot);
        slot.count - slot.error
    }

    /// Halves every count once per `every` buckets (called as buckets close); names whose
    /// count reaches zero are forgotten.
    pub fn decay(&mut self, bucket: i64, every: i64) {
        let last = *self.last_decay.get_or_insert(bucket);
        if bucket - last < every.max(1) {
            return;
        }
        self.last_decay = Some(bucket);
        self.slots.retain(|_, s| {
            s.count /= 2;
            s.error /= 2;
            s.count > 0
        });
    }

    /// Names held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no name is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The guaranteed count of `name`, if it is held.
    pub fn guaranteed(&self, name: &str) -> Option<u64> {
        self.slots.get(name).map(|s| s.count - s.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_capacity() {
        let mut c = Candidates::default();
        assert_eq!(c.offer("小红书", 3), 1);
        assert_eq!(c.offer("小红书", 3), 2);
        c.offer("a", 3);
        c.offer("b", 3);
        // Full: "c" replaces the smallest ("a", 1) and inherits its count as error.
        assert_eq!(c.offer("c", 3), 1);
        assert_eq!(c.len(), 3);
        assert_eq!(c.guaranteed("a"), None);
        assert_eq!(c.guaranteed("小红书"), Some(2));
    }

    #[test]
    fn heavy_hitter_survives_a_flood_of_distinct_names() {
        // 10,000 distinct one-off names interleaved with one name complained about 1,000
        // times: the sketch never holds more than its capacity and keeps the heavy hitter
        // with a guaranteed count close to its true one.
        let mut c = Candidates::default();
        let mut g = 0;
        for i in 0..10_000 {
            c.offer(&format!("noise{i}"), 64);
            if i % 10 == 0 {
                g = c.offer("小红书", 64);
            }
            assert!(c.len() <= 64);
        }
        assert!(g >= 900, "guaranteed count {g}");
        // A one-off name is never guaranteed more than one complaint.
        assert!(c.guaranteed("noise9999").unwrap_or(0) <= 1);
    }

    #[test]
    fn decay_halves_and_forgets() {
        let mut c = Candidates::default();
        for _ in 0..4 {
            c.offer("x", 8);
        }
        c.offer("y", 8);
        c.decay(0, 10);
        c.decay(5, 10);
        assert_eq!(c.guaranteed("x"), Some(4));
        c.decay(10, 10);
        assert_eq!(c.guaranteed("x"), Some(2));
        assert_eq!(c.guaranteed("y"), None);
        assert!(!c.is_empty());
    }
}
