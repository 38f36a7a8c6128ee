//! # benglema-pipeline
//!
//! The one path every post takes, whatever it came from (a Kafka topic in `run`, an archive
//! in `backtest`): the complaint extractor ([`analyze`]), then the detection engine.
//! [`Detector`] owns both, for `backtest`; `run` feeds what [`analyze`] reads to the
//! engine's two halves in its two stages. Because the engine is pure and its state
//! snapshots, replaying the same posts gives the same events wherever it runs.

use benglema_detect::{
    Admission, DetectError, DetectorConfig, Engine, EngineOptions, EngineState, Observation, Output,
};
use benglema_model::{Post, Signal};
use benglema_text::{Extractor, Reading};

/// What became of one post.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// Counted, duplicate or late.
    pub admission: Admission,
    /// The extractor's signal.
    pub signal: Option<Signal>,
    /// The engine counted the post as a complaint (a complaint about a discovered name
    /// counts here whether or not the name is admitted when its minute closes).
    pub complaint: bool,
}

/// Reads one post with the extractor: [`Extractor::read`], the signal and a complaint's terms
/// from one normalisation.
/// Pure, so posts can be read in parallel and fed to [`Detector::process_analyzed`] in order.
pub fn analyze(extractor: &Extractor, post: &Post) -> Reading {
    extractor.read(&post.text)
}

/// Extractor + engine.
pub struct Detector<'x> {
    extractor: &'x Extractor,
    engine: Engine,
}

impl<'x> Detector<'x> {
    /// A fresh detector; fails when a detector parameter is out of range.
    pub fn new(
        extractor: &'x Extractor,
        config: DetectorConfig,
        options: EngineOptions,
    ) -> Result<Self, DetectError> {
        Ok(Detector {
            extractor,
            engine: Engine::new(config, options)?,
        })
    }

    /// A detector resuming from an engine snapshot.
    pub fn restore(
        extractor: &'x Extractor,
        config: DetectorConfig,
        options: EngineOptions,
        state: EngineState,
    ) -> Result<Self, DetectError> {
        Ok(Detector {
            extractor,
            engine: Engine::restore(config, options, state)?,
        })
    }

    /// The engine (counters, watermark, snapshot).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Takes one post; events and series points go to `out`.
    pub fn process(&mut self, post: &Post, out: &mut Vec<Output>) -> Processed {
        let a = analyze(self.extractor, post);
        self.process_analyzed(post, a, out)
    }

    /// Takes one post already read by [`analyze`] (which can run on other threads); the
    /// result is exactly that of [`Detector::process`].
    pub fn process_analyzed(
        &mut self,
        post: &Post,
        analysis: Reading,
        out: &mut Vec<Output>,
    ) -> Processed {
        let Reading { signal, terms } = analysis;
        let term_refs: Vec<&str> = terms.iter().map(String::as_str).collect();
        let complaints = self.engine.stats().complaints;
        let admission = self.engine.observe(
            Observation {
                id: &post.id,
                at: post.created_at.timestamp(),
                signal: signal.as_ref(),
                terms: &term_refs,
                text: &post.text,
            },
            out,
        );
        let complaint = self.engine.stats().complaints > complaints;
        Processed {
            admission,
            signal,
            complaint,
        }
    }

    /// Moves the watermark without a post (idle input).
    pub fn advance_to(&mut self, watermark: i64, out: &mut Vec<Output>) {
        self.engine.advance_to(watermark, out);
    }

    /// End of input.
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        self.engine.flush(out);
    }
}
