//! Where the counts of several tallies meet: a [`Barrier`] takes the closed buckets of each
//! source (one tally per input partition), keeps them until every source has closed the
//! bucket, then releases the merged counts in order, for a [`crate::Stepper`].
//!
//! What a source sends is idempotent: a bucket sent again (a tally replaying after a
//! restart) overwrites what that source sent for it, and a source's closed point only moves
//! forward. Each message says where the previous one left off (`from`); a message that
//! starts after the source's closed point means one in between was lost (a delivery that
//! timed out): it is refused, and so is everything after it, until the source replays from
//! its checkpoint. A bucket that arrives after it was released is *stale*: not added, its
//! posts reported. A source may declare itself idle (its partition has no posts): it is then
//! left out of the minimum until it sends again, so a quiet partition cannot hold every
//! event open; this is where liveness and exact replay trade off (Flink's `withIdleness`).
//! A source that has reached the end of a finite input says it is done.
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
    /// The source said its input has ended.
    #[serde(default)]
    done: bool,
}

/// One message of a source: see [`Barrier::receive`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Closing {
    /// The source (an input partition).
    pub src: i32,
    /// Where the source's previous message left off (its closed point then); `None` for
    /// a source that does not know (it has sent nothing yet since it started afresh).
    pub from: Option<i64>,
    /// The first bucket it has not closed.
    pub through: Option<i64>,
    /// It has no posts: do not wait for it.
    pub idle: bool,
    /// Its input has ended: everything it will send is sent.
    pub done: bool,
    /// The closed buckets that had posts, oldest first.
    pub buckets: Vec<(i64, BucketCounts)>,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// Posts in buckets already released (not added).
    pub stale: u64,
    /// The message starts after where the source's last accepted one ended: one in
    /// between is missing, so this one was refused.
    pub gap: bool,
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

    /// Every source has said its input ended and no bucket waits.
    pub fn drained(&self) -> bool {
        self.sources > 0
            && self.pending.is_empty()
            && (0..self.sources as i32).all(|s| self.state.get(&s).is_some_and(|s| s.done))
    }

    /// The oldest closed point among the sources that are not idle (what holds the barrier).
    pub fn oldest(&self) -> Option<i64> {
        self.state
            .values()
            .filter(|s| !s.idle)
            .filter_map(|s| s.through)
            .min()
    }

    /// Takes a message of a source: every bucket before `through` closed, with `buckets`
    /// the ones that had posts. A source beyond [`Barrier::sources`] makes it wait for that
    /// many.
    pub fn receive(&mut self, m: Closing) -> Received {
        let mut r = Received::default();
        let s = self.state.entry(m.src).or_default();
        if m.from.is_some_and(|f| s.through.is_none_or(|t| f > t)) {
            r.gap = true;
            return r;
        }
        s.through = s.through.max(m.through);
        s.idle = m.idle;
        s.done = m.done;
        for (b, counts) in m.buckets {
            if self.released.is_some_and(|rel| b < rel) {
                r.stale += counts.posts;
                continue;
            }
            self.pending.entry(b).or_default().insert(m.src, counts);
        }
        self.grow(u32::try_from(m.src).map_or(0, |s| s.saturating_add(1)));
        r
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

    fn msg(
        src: i32,
        from: Option<i64>,
        through: i64,
        idle: bool,
        buckets: Vec<(i64, BucketCounts)>,
    ) -> Closing {
        Closing {
            src,
            from,
            through: Some(through),
            idle,
            done: false,
            buckets,
        }
    }

    fn posts(n: u64) -> BucketCounts {
        BucketCounts {
            posts: n,
            ..BucketCounts::default()
        }
    }

    fn stale(r: Received) -> u64 {
        assert!(!r.gap);
        r.stale
    }

    #[test]
    fn a_bucket_is_released_once_every_source_closed_it() {
        let mut b = Barrier::new(2);
        b.receive(msg(0, None, 5, false, vec![(3, posts(2)), (4, posts(1))]));
        assert_eq!(b.release(3), None, "source 1 has said nothing");
        b.receive(msg(1, None, 4, false, vec![(3, posts(5))]));
        let (point, got) = b.release(3).unwrap();
        assert_eq!(point, 4);
        assert_eq!(got, vec![(3, posts(7))]);
        // Source 0 replays bucket 4 after a restart from its checkpoint at 4: overwritten,
        // not added.
        b.receive(msg(0, Some(4), 5, false, vec![(4, posts(1))]));
        b.receive(msg(1, Some(4), 6, false, vec![]));
        assert_eq!(b.release(3).unwrap(), (5, vec![(4, posts(1))]));
        // A replayed bucket that was released already is stale.
        assert_eq!(
            stale(b.receive(msg(0, Some(3), 5, false, vec![(3, posts(2))]))),
            2
        );
        assert_eq!(b.release(3), None);
    }

    #[test]
    fn a_message_after_a_lost_one_is_refused_until_the_source_replays() {
        let mut b = Barrier::new(1);
        b.receive(msg(0, None, 5, false, vec![(4, posts(1))]));
        // The message covering 5..7 was lost; the next starts at 7.
        let r = b.receive(msg(0, Some(7), 8, false, vec![(7, posts(3))]));
        assert!(r.gap);
        assert_eq!(b.release(3).unwrap(), (5, vec![(4, posts(1))]));
        assert_eq!(b.release(3), None, "nothing past the gap is released");
        // The source restarts from its checkpoint at 5 and sends everything again.
        b.receive(msg(0, Some(5), 7, false, vec![(5, posts(2))]));
        b.receive(msg(0, Some(7), 8, false, vec![(7, posts(3))]));
        assert_eq!(
            b.release(3).unwrap(),
            (8, vec![(5, posts(2)), (7, posts(3))])
        );
    }

    #[test]
    fn an_idle_source_does_not_hold_the_others_and_only_done_drains() {
        let mut b = Barrier::new(3);
        b.receive(msg(0, None, 10, false, vec![(9, posts(1))]));
        b.receive(msg(1, None, 8, false, vec![]));
        assert_eq!(b.release(3), None, "source 2 is silent, not idle");
        b.receive(Closing {
            src: 2,
            idle: true,
            ..Closing::default()
        });
        assert_eq!(b.release(3).unwrap().0, 8);
        b.receive(msg(1, Some(8), 12, true, vec![]));
        assert_eq!(b.release(3).unwrap(), (10, vec![(9, posts(1))]));
        // Everyone idle: released up to the newest closed point; idle is not the end.
        b.receive(msg(0, Some(10), 11, true, vec![]));
        assert_eq!(b.release(3).unwrap().0, 12);
        assert!(!b.drained());
        // The idle source wakes up with a bucket already released: stale.
        assert_eq!(
            stale(b.receive(msg(2, None, 12, false, vec![(11, posts(4))]))),
            4
        );
        for src in 0..3 {
            b.receive(Closing {
                src,
                from: None,
                through: Some(12),
                idle: true,
                done: true,
                buckets: vec![],
            });
        }
        assert!(b.drained());
        // A source beyond the count it was told of is waited for from its first message.
        b.receive(msg(4, None, 3, false, vec![]));
        assert_eq!(b.sources(), 5);
        assert!(!b.drained());
    }
}
