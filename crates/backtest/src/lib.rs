//! # benglema-backtest
//!
//! Replays archived posts through the very detector `run` uses, in event time, and says
//! incident by incident whether and how fast each labelled outage would have been caught.
//!
//! - [`metrics`]: matching events to labels and the summary figures;
//! - [`run`]: the whole backtest, writing `events.csv`, `series.csv`, `metrics.json` and
//!   `rejects.jsonl` into an output directory.
//!
//! Inputs are read and outputs written through `benglema-io`, which owns the formats. With no
//! inputs, the bundled labelled history ([`benglema_io::bundled_posts`]) is replayed.

pub mod error;
pub mod metrics;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use benglema_detect::{DetectorConfig, EngineOptions, Output};
use benglema_io::{
    bundled_posts, expand_inputs, read_file, write_events_file, EventFormat, Record, RejectWriter,
    SeriesWriter,
};
use benglema_model::{EventFilter, Incident, Latest, OutageEvent, Post};
use benglema_pipeline::{analyze, Detector};
use benglema_text::{Extractor, Reading};
use chrono::{DateTime, FixedOffset};

pub use error::BacktestError;
pub use metrics::{IncidentResult, Metrics, ModelRow};

use crate::error::io;

/// What to replay and where to write.
#[derive(Debug, Clone)]
pub struct BacktestOptions {
    /// Files or directories; empty for the bundled history.
    pub inputs: Vec<PathBuf>,
    /// Ground truth.
    pub labels: Vec<Incident>,
    /// Output directory (created).
    pub out_dir: PathBuf,
    /// Detector parameters.
    pub config: DetectorConfig,
    /// Write `series.csv`.
    pub series: bool,
    /// With `series`, a row for every bucket of every series, not only those that carry
    /// information (see `SeriesPoint::informative`).
    pub series_every_bucket: bool,
    /// Name of `config`'s detector in a comparison, and further detectors to run side by
    /// side on the same posts (each post is read and analysed once for all of them).
    pub compare: Vec<(String, DetectorConfig)>,
    /// Name of the main detector in the comparison table.
    pub name: String,
    /// Minutes from the first post that only prime the detectors: events detected in them
    /// are not written or scored, and labels starting in them are not covered.
    pub warm_up_minutes: i64,
    /// Threads that read posts (extraction and jieba, on a pool, pipelined with reading and
    /// with the engine, which takes the posts in input order): 1 reads and detects on the
    /// calling thread; 0 means every core. The outputs are the same whatever the number.
    pub threads: usize,
}

/// Records per batch handed from the reader to the pool and from the pool to the engine.
const BATCH: usize = 4096;
/// Batches in flight between two stages.
const IN_FLIGHT: usize = 4;

/// A detector compared side by side with the main one.
struct Rival<'x> {
    name: String,
    detector: Detector<'x>,
    opened: BTreeMap<String, OutageEvent>,
}

struct Run<'x> {
    detector: Detector<'x>,
    out: Vec<Output>,
    opened: BTreeMap<String, OutageEvent>,
    latest: Latest,
    series: Option<SeriesWriter>,
    rejects: RejectWriter,
    n_rejects: u64,
    /// Minutes (since the epoch) that hold at least one post: the replayed time.
    minutes: HashSet<i64>,
    rivals: Vec<Rival<'x>>,
    extractor: &'x Extractor,
}

impl Run<'_> {
    fn post(&mut self, p: &Post) -> Result<(), BacktestError> {
        let a = analyze(self.extractor, p);
        self.analyzed(p, a)
    }

    fn reject(&mut self, j: &benglema_io::Reject) -> Result<(), BacktestError> {
        self.n_rejects += 1;
        self.rejects.push(j).map_err(Into::into)
    }

    /// Takes a post already read by [`analyze`].
    fn analyzed(&mut self, p: &Post, a: Reading) -> Result<(), BacktestError> {
        self.minutes.insert(p.created_at.timestamp().div_euclid(60));
        for r in &mut self.rivals {
            r.detector.process_analyzed(p, a.clone(), &mut self.out);
            for o in self.out.drain(..) {
                if let Output::Event(e) = o {
                    r.opened.entry(e.event_id.clone()).or_insert(e);
                }
            }
        }
        self.detector.process_analyzed(p, a, &mut self.out);
        self.drain()
    }

    fn drain(&mut self) -> Result<(), BacktestError> {
        for o in self.out.drain(..) {
            match o {
                Output::Event(e) => {
                    self.opened
                        .entry(e.event_id.clone())
                        .or_insert_with(|| e.clone());
                    self.latest.push(e);
                }
                Output::Series(p) => {
                    if let Some(w) = self.series.as_mut() {
                        w.push(p)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Every record of the inputs (or the bundled history), in order, to `each` until it
/// returns false.
fn each_record(
    opts: &BacktestOptions,
    each: &mut dyn FnMut(Record) -> bool,
) -> Result<(), BacktestError> {
    if opts.inputs.is_empty() {
        for post in bundled_posts(&opts.labels) {
            if !each(Record::Post(post)) {
                return Ok(());
            }
        }
        return Ok(());
    }
    for file in expand_inputs(&opts.inputs)? {
        let mut more = true;
        read_file(&file, &mut |rec| {
            more = each(rec);
            more
        })?;
        if !more {
            break;
        }
    }
    Ok(())
}

/// A record after the pool: a post with its reading, or a reject.
enum Analysed {
    Post(Post, Reading),
    Reject(benglema_io::Reject),
}

/// One thread reads, analyses and detects.
fn read_serially(
    opts: &BacktestOptions,
    r: &mut Run<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, BacktestError> {
    let mut records = 0u64;
    let mut failed = None;
    each_record(opts, &mut |rec| {
        records += 1;
        if records % 65_536 == 0 {
            progress(records);
        }
        let res = match rec {
            Record::Post(p) => r.post(&p),
            Record::Reject(j) => r.reject(&j),
        };
        match res {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(records),
    }
}

/// A reader thread (files, decompression, JSON), a pool of `threads` analysing batches
/// (the extractor: normalisation, jieba, rules), and this thread stepping the engine on
/// each batch in input order while the pool reads the next ones: the same calls on the
/// same posts in the same order as [`read_serially`], so the same outputs.
fn read_in_parallel(
    opts: &BacktestOptions,
    r: &mut Run<'_>,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, BacktestError> {
    use std::sync::mpsc::sync_channel;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("benglema-read-{i}"))
        .build()
        .map_err(|e| BacktestError::Threads(format!("starting {threads} reading threads: {e}")))?;
    let extractor = r.extractor;
    let (raw_tx, raw_rx) = sync_channel::<Vec<Record>>(IN_FLIGHT);
    let (read_tx, read_rx) = sync_channel::<Vec<Analysed>>(IN_FLIGHT);
    std::thread::scope(|sc| {
        let reader = sc.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let res = each_record(opts, &mut |rec| {
                batch.push(rec);
                if batch.len() < BATCH {
                    return true;
                }
                // A closed channel: the engine stopped on an error of its own.
                raw_tx
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_ok()
            });
            if !batch.is_empty() {
                let _ = raw_tx.send(batch);
            }
            res
        });
        let analyser = sc.spawn(move || {
            use rayon::prelude::*;
            for batch in raw_rx {
                let read: Vec<Analysed> = pool.install(|| {
                    batch
                        .into_par_iter()
                        .map(|rec| match rec {
                            Record::Post(p) => {
                                let a = analyze(extractor, &p);
                                Analysed::Post(p, a)
                            }
                            Record::Reject(j) => Analysed::Reject(j),
                        })
                        .collect()
                });
                if read_tx.send(read).is_err() {
                    return;
                }
            }
        });
        let mut records = 0u64;
        let mut failed = None;
        'batches: for batch in read_rx {
            for rec in batch {
                records += 1;
                if records % 65_536 == 0 {
                    progress(records);
                }
                let res = match rec {
                    Analysed::Post(p, a) => r.analyzed(&p, a),
                    Analysed::Reject(j) => r.reject(&j),
                };
                if let Err(e) = res {
                    failed = Some(e);
                    break 'batches;
                }
            }
        }
        // Dropping the receiver (above, at the end of the loop) stops the other two.
        let analysed = analyser.join();
        let read = reader.join();
        if let Some(e) = failed {
            return Err(e);
        }
        match (read, analysed) {
            (Ok(res), Ok(())) => res.map(|()| records),
            _ => Err(BacktestError::Threads("a reading thread panicked".into())),
        }
    })
}

/// Runs a backtest; `progress` is called with the number of records read so far.
pub fn run(
    opts: &BacktestOptions,
    extractor: &Extractor,
    progress: &mut dyn FnMut(u64),
) -> Result<Metrics, BacktestError> {
    let started = Instant::now();
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| io(&opts.out_dir, e))?;
    let dir = &opts.out_dir;
    let mut r = Run {
        detector: Detector::new(
            extractor,
            opts.config.clone(),
            EngineOptions {
                series: opts.series,
                every_bucket: opts.series_every_bucket,
            },
        )?,
        out: Vec::new(),
        opened: BTreeMap::new(),
        latest: Latest::default(),
        series: if opts.series {
            Some(SeriesWriter::create(&dir.join("series.csv"))?)
        } else {
            None
        },
        rejects: RejectWriter::create(&dir.join("rejects.jsonl"))?,
        n_rejects: 0,
        minutes: HashSet::new(),
        rivals: opts
            .compare
            .iter()
            .map(|(name, config)| {
                Ok(Rival {
                    name: name.clone(),
                    detector: Detector::new(extractor, config.clone(), EngineOptions::default())?,
                    opened: BTreeMap::new(),
                })
            })
            .collect::<Result<_, BacktestError>>()?,
        extractor,
    };
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let records = if threads <= 1 {
        read_serially(opts, &mut r, progress)?
    } else {
        read_in_parallel(opts, &mut r, threads, progress)?
    };
    progress(records);
    r.detector.flush(&mut r.out);
    r.drain()?;
    for rival in &mut r.rivals {
        let mut out = Vec::new();
        rival.detector.flush(&mut out);
        for o in out {
            if let Output::Event(e) = o {
                rival.opened.entry(e.event_id.clone()).or_insert(e);
            }
        }
    }
    if let Some(w) = r.series.take() {
        w.finish()?;
    }
    // The warm-up primes the detectors; what it raised is not output.
    let scored_from = r.minutes.iter().min().copied().unwrap_or(0) + opts.warm_up_minutes.max(0);
    let primed = |e: &OutageEvent| e.detected_at.timestamp().div_euclid(60) < scored_from;
    if opts.warm_up_minutes > 0 {
        r.minutes.retain(|&m| m >= scored_from);
        r.opened.retain(|_, e| !primed(e));
        r.latest.retain(|e| !primed(e));
        for rival in &mut r.rivals {
            rival.opened.retain(|_, e| !primed(e));
        }
    }
    // False alarms raised on the first day that is scored: what a cold start costs.
    let first_day = |opened: &BTreeMap<String, OutageEvent>, ids: &[String]| {
        ids.iter()
            .filter_map(|id| opened.get(id))
            .filter(|e| e.detected_at.timestamp().div_euclid(60) < scored_from + 1440)
            .count()
    };
    let stats = r.detector.engine().stats();
    write_events_file(
        &dir.join("events.csv"),
        &r.latest.select(&EventFilter::default()),
        EventFormat::Csv,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let mut m = Metrics {
        posts: stats.posts,
        rejects: r.n_rejects,
        late: stats.late,
        duplicates: stats.duplicates,
        complaints: stats.complaints,
        discovered_admitted: stats.discovered_admitted,
        discovered_expired: stats.discovered_expired,
        discovered_unadmitted: stats.discovered_unadmitted,
        events: r.opened.len(),
        days: r.minutes.len() as f64 / 1440.0,
        seconds,
        posts_per_second: records as f64 / seconds.max(1e-9),
        bucket_seconds: opts.config.time.bucket_seconds,
        series_every_bucket: opts.series && opts.series_every_bucket,
        ..Metrics::default()
    };
    // A label is covered when posts were replayed within an hour of its start.
    let covered = |t: DateTime<FixedOffset>| {
        let m = t.timestamp().div_euclid(60);
        (m - 60..=m + 60).any(|x| r.minutes.contains(&x))
    };
    let (results, false_alarms) = metrics::score(&r.opened, &opts.labels, &covered);
    m.first_day_false_alarms = first_day(&r.opened, &false_alarms);
    metrics::summarise(&mut m, results, false_alarms);
    if !r.rivals.is_empty() {
        let mut rows = vec![ModelRow::of(&opts.name, &m)];
        for rival in &r.rivals {
            let mut rm = Metrics {
                events: rival.opened.len(),
                days: m.days,
                ..Metrics::default()
            };
            let (results, false_alarms) = metrics::score(&rival.opened, &opts.labels, &covered);
            rm.first_day_false_alarms = first_day(&rival.opened, &false_alarms);
            metrics::summarise(&mut rm, results, false_alarms);
            rows.push(ModelRow::of(&rival.name, &rm));
        }
        m.comparison = rows;
    }
    r.rejects.finish()?;
    let path = dir.join("metrics.json");
    let json = serde_json::to_string_pretty(&m).expect("metrics serialise");
    std::fs::write(&path, json + "\n").map_err(|e| io(&path, e))?;
    Ok(m)
}
