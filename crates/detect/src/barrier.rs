//! Where the counts of several tallies meet: a [`Barrier`] takes the closed buckets of each
//! source (one tally per input partition), keeps them until every source has closed the
//! bucket, then releases the merged counts in order, for a [`crate::Stepper`].
//!
//! What a source sends is idempotent: a bucket sent again (a tally replaying after a
//! restart) overwrites what that source sent for it, and a source's closed point only moves
//! forward. A bucket that arrives after it was released is *stale*: not added, its posts
//! reported. A source may declare itself idle (its partition has no posts): it is then left
//! out of the minimum until it sends again, so a quiet partition cannot hold every event
//! open; this is where liveness and exact replay trade off (Flink's `withIdleness`).
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::counts::BucketCounts;

/// What one source has said so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Source {
    /// First bucket the source has not closed.
    through: Option<i64>,
    /// The source said it is idle and has not sent a bucket since.
    idle: bool,
}

/// Everything a barrier knows; serialise it to checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Barrier {
    /// Number of sources (partitions of the input); sources are `0..sources`.
    sources: u32,
    state: BTreeMap<i32, Source>,
    /// Bucket -> source -> its counts, for buckets not yet released.
    pending: BTreeMap<i64, BTreeMap<i32, BucketCounts>>,
    /// First bucket not yet released.
    released: Option<i64>,
}

impl Barrier {
    /// A barrier waiting for `sources` sources.
    pub fn new(sources: u32) -> Self {
        Barrier {
            sources,
            ..Barrier::default()
        }
    }

    /// Number of sources waited for.
    pub fn sources(&self) -> u32 {
        self.sources
    }

    /// More sources (an input topic that gained partitions); never fewer.
    pub fn grow(&mut self, sources: u32) {
        self.sources = self.sources.max(sources);
    }

    /// First bucket not yet released.
    pub fn released(&self) -> Option<i64> {
        self.released
    }

    /// Buckets held, waiting for some source.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Every source has said it is idle and no bucket waits (the end of a finite input).
    pub fn drained(&self) -> bool {
        self.sources > 0
            && self.pending.is_empty()
            && (0..self.sources as i32).all(|s| self.state.get(&s).is_some_and(|s| s.idle))
    }

    /// The oldest closed point among the sources that are not idle (what holds the barrier).
    pub fn oldest(&self) -> Option<i64> {
        self.state
            .values()
            .filter(|s| !s.idle)
            .filter_map(|s| s.through)
            .min()
    }

    /// Takes what source `src` closed: every bucket before `through`, with `buckets` the ones
    /// that had posts; `idle` when the source says its partition has none. Returns the posts
    /// of stale buckets (already released).
    pub fn receive(
        &mut self,
        src: i32,
        through: Option<i64>,
        idle: bool,
        buckets: Vec<(i64, BucketCounts)>,
    ) -> u64 {
        let mut stale = 0;
        for (b, counts) in buckets {
            if self.released.is_some_and(|r| b < r) {
                stale += counts.posts;
                continue;
            }
            self.pending.entry(b).or_default().insert(src, counts);
        }
        let s = self.state.entry(src).or_default();
        s.through = s.through.max(through);
        s.idle = idle;
        stale
    }

    /// Releases every bucket all sources have closed: the new released point and the
    /// merged counts of the buckets before it that had posts, oldest first. `None` while
    /// some source that is not idle has not closed past the last release.
    pub fn release(&mut self, keep: usize) -> Option<(i64, Vec<(i64, BucketCounts)>)> {
        let mut low: Option<i64> = None;
        let mut high: Option<i64> = None;
        let mut busy = 0;
        for src in 0..self.sources as i32 {
            let s = self.state.get(&src);
            let idle = s.is_some_and(|s| s.idle);
            let through = s.and_then(|s| s.through);
            high = high.max(through);
            if idle {
                continue;
            }
            busy += 1;
            match through {
                None => return None,
                Some(t) => low = Some(low.map_or(t, |l: i64| l.min(t))),
            }
        }
        let point = if busy == 0 { high? } else { low? };
        if self.released.is_some_and(|r| point <= r) {
            return None;
        }
        let rest = self.pending.split_off(&point);
        let ready = std::mem::replace(&mut self.pending, rest);
        self.released = Some(point);
        let merged = ready
            .into_iter()
            .map(|(b, by_src)| {
                let mut m = BucketCounts::default();
                for (_, c) in by_src {
                    m.merge(c, keep);
                }
                (b, m)
            })
            .collect();
        Some((point, merged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts(n: u64) -> BucketCounts {
        BucketCounts {
            posts: n,
            ..BucketCounts::default()
        }
    }

    #[test]
    fn a_bucket_is_released_once_every_source_closed_it() {
        let mut b = Barrier::new(2);
        b.receive(0, Some(5), false, vec![(3, posts(2)), (4, posts(1))]);
        assert_eq!(b.release(3), None, "source 1 has said nothing");
        b.receive(1, Some(4), false, vec![(3, posts(5))]);
        let (point, got) = b.release(3).unwrap();
        assert_eq!(point, 4);
        assert_eq!(got, vec![(3, posts(7))]);
        // Source 0 replays bucket 4 after a restart: overwritten, not added.
        b.receive(0, Some(5), false, vec![(4, posts(1))]);
        b.receive(1, Some(6), false, vec![]);
        assert_eq!(b.release(3).unwrap(), (5, vec![(4, posts(1))]));
        // A replayed bucket that was released already is stale.
        assert_eq!(b.receive(0, Some(5), false, vec![(3, posts(2))]), 2);
        assert_eq!(b.release(3), None);
    }

    #[test]
    fn an_idle_source_does_not_hold_the_others() {
        let mut b = Barrier::new(3);
        b.receive(0, Some(10), false, vec![(9, posts(1))]);
        b.receive(1, Some(8), false, vec![]);
        assert_eq!(b.release(3), None, "source 2 is silent, not idle");
        b.receive(2, None, true, vec![]);
        assert_eq!(b.release(3).unwrap().0, 8);
        b.receive(1, Some(12), true, vec![]);
        assert_eq!(b.release(3).unwrap(), (10, vec![(9, posts(1))]));
        // Everyone idle: released up to the newest closed point.
        b.receive(0, Some(11), true, vec![]);
        assert_eq!(b.release(3).unwrap().0, 12);
        // The idle source wakes up with a bucket already released: stale.
        assert_eq!(b.receive(2, Some(12), false, vec![(11, posts(4))]), 4);
    }
}
