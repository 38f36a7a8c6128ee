//! A task: the detector of one input partition, with the offset of the first post it has not
//! seen and whether it changed since its last checkpoint. Like a Kafka Streams task, it is
//! created when its partition is assigned (from the partition's checkpoint when there is
//! one) and dropped when the partition is revoked.

use benglema_detect::{DetectorConfig, EngineOptions, Output};
use benglema_pipeline::Detector;
use benglema_text::Extractor;

use crate::state::Checkpoint;
use crate::StreamError;

/// The detector of one partition.
pub(crate) struct Task<'x> {
    pub(crate) detector: Detector<'x>,
    /// First offset not yet fed to `detector`.
    pub(crate) next_offset: i64,
    /// Changed since the last checkpoint.
    pub(crate) dirty: bool,
    /// The loop tick (seconds) of the partition's last post.
    last_tick: u64,
}

impl<'x> Task<'x> {
    /// A task from the partition's checkpoint, or a fresh one at offset 0.
    pub(crate) fn open(
        extractor: &'x Extractor,
        config: DetectorConfig,
        checkpoint: Option<Checkpoint>,
        tick: u64,
    ) -> Result<Self, StreamError> {
        let options = EngineOptions::default();
        let (detector, next_offset) = match checkpoint {
            Some(cp) => (
                Detector::restore(extractor, config, options, cp.engine)?,
                cp.next_offset,
            ),
            None => (Detector::new(extractor, config, options)?, 0),
        };
        Ok(Task {
            detector,
            next_offset,
            dirty: false,
            last_tick: tick,
        })
    }

    /// Takes the message at `offset`: false when the task's state already covers it (a
    /// checkpoint whose commit was lost), true when it is to be fed now.
    pub(crate) fn take(&mut self, offset: i64, tick: u64) -> bool {
        if offset < self.next_offset {
            return false;
        }
        self.next_offset = offset + 1;
        self.dirty = true;
        self.last_tick = tick;
        true
    }

    /// Moves a partition that has had no post for `idle_ticks` seconds up to `newest`, the
    /// newest watermark among the others.
    pub(crate) fn advance_if_idle(
        &mut self,
        tick: u64,
        idle_ticks: u64,
        newest: i64,
        out: &mut Vec<Output>,
    ) {
        let behind = self
            .detector
            .engine()
            .watermark()
            .is_some_and(|w| w < newest);
        if tick >= self.last_tick + idle_ticks && behind {
            self.detector.advance_to(newest, out);
            self.dirty = true;
        }
    }

    /// The task's checkpoint.
    pub(crate) fn checkpoint(&self, topic: &str, partition: i32) -> Checkpoint {
        Checkpoint {
            topic: topic.to_owned(),
            partition,
            next_offset: self.next_offset,
            engine: self.detector.engine().snapshot(),
        }
    }
}
