//! The loop's timers, on the wall clock: when the detectors catch up with a pipelined batch
//! (a turn), the one-second tick (idle partitions, gauges, exit at the end of input) and the
//! checkpoint. They are only looked at on a turn, so they always see a consistent state.

use std::time::{Duration, Instant};

/// Longest stretch of pipelined batches before the detectors catch up and timers run.
pub(crate) const TURN_EVERY: Duration = Duration::from_millis(100);

/// Wall-clock marks of the loop.
pub(crate) struct Timers {
    last_turn: Instant,
    last_second: Instant,
    last_checkpoint: Instant,
    checkpoint_every: Duration,
    /// Seconds the loop has run (ticks of its one-second timer).
    pub(crate) ticks: u64,
}

impl Timers {
    /// Timers starting now.
    pub(crate) fn new(checkpoint_every: Duration) -> Self {
        let now = Instant::now();
        Timers {
            last_turn: now,
            last_second: now,
            last_checkpoint: now,
            checkpoint_every,
            ticks: 0,
        }
    }

    /// A turn is overdue.
    pub(crate) fn turn_due(&self, now: Instant) -> bool {
        now - self.last_turn >= TURN_EVERY
    }

    /// Marks a turn.
    pub(crate) fn turned(&mut self, now: Instant) {
        self.last_turn = now;
    }

    /// True (and a tick counted) when a second has passed since the last tick.
    pub(crate) fn tick(&mut self, now: Instant) -> bool {
        if now - self.last_second < Duration::from_secs(1) {
            return false;
        }
        self.last_second = now;
        self.ticks += 1;
        true
    }

    /// A checkpoint is due.
    pub(crate) fn checkpoint_due(&self, now: Instant) -> bool {
        now - self.last_checkpoint >= self.checkpoint_every
    }

    /// Marks a checkpoint.
    pub(crate) fn checkpointed(&mut self) {
        self.last_checkpoint = Instant::now();
    }
}
