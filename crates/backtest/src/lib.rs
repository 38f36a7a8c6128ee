//! # benglema-backtest
//!
//! Replays archived posts through the very detector `run` uses, in event time, and says
//! incident by incident whether and how fast each labelled outage would have been caught.
//!
//! - [`metrics`]: matching events to labels and the summary figures;
//! - [`run`]: the whole backtest, writing `events.csv`, `series.csv` (or `series.parquet`),
//!   `metrics.json` and `rejects.jsonl` into an output directory.
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
    bundled_posts, expand_inputs, read_chunks, write_events_file, Chunk, EventFormat, Record,
    RejectWriter, SeriesWriter, CHUNK_RECORDS,
};
use benglema_model::{EventFilter, Incident, Latest, OutageEvent, Post};
use benglema_pipeline::{analyze, Detector};
use benglema_text::{Extractor, Reading};
use chrono::{DateTime, FixedOffset};

pub use benglema_io::SeriesFormat;
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
    /// Write the series, as `series.csv` or `series.parquet` (`None`: no series). A
    /// series file of an earlier run in `out_dir` that this run does not write is removed,
    /// so the report never draws from it.
    pub series: Option<SeriesFormat>,
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
    /// Worker threads that validate and analyse the posts (the post contract, the
    /// extractor, jieba), beside a reader thread and pipelined with the engine, which takes
    /// the posts in input order: 1 reads, analyses and detects on the calling thread; 0
    /// means every core. The outputs are the same whatever the number.
    pub threads: usize,
}

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
    /// The minute last put into `minutes` (posts come mostly in time order).
    last_minute: Option<i64>,
    rivals: Vec<Rival<'x>>,
    extractor: &'x Extractor,
}

impl Run<'_> {
    fn reject(&mut self, j: &benglema_io::Reject) -> Result<(), BacktestError> {
        self.n_rejects += 1;
        self.rejects.push(j).map_err(Into::into)
    }

    /// Takes a post already read by [`analyze`].
    fn analyzed(&mut self, p: &Post, a: Reading) -> Result<(), BacktestError> {
        let minute = p.created_at.timestamp().div_euclid(60);
        if self.last_minute != Some(minute) {
            self.last_minute = Some(minute);
            self.minutes.insert(minute);
        }
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

/// Every chunk of records of `files` (the inputs expanded; the bundled history when there
/// are no inputs), in order, to `each` until it returns false.
fn each_chunk(
    opts: &BacktestOptions,
    files: &[PathBuf],
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<(), BacktestError> {
    if opts.inputs.is_empty() {
        let mut posts = bundled_posts(&opts.labels).peekable();
        while posts.peek().is_some() {
            let batch = posts
                .by_ref()
                .take(CHUNK_RECORDS)
                .map(Record::Post)
                .collect();
            if !each(Chunk::Records(batch)) {
                break;
            }
        }
        return Ok(());
    }
    for file in files {
        let mut more = true;
        read_chunks(file, &mut |chunk| {
            more = each(chunk);
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

impl Analysed {
    /// Reads one record: a post through the extractor, a reject as it is.
    fn of(extractor: &Extractor, rec: Record) -> Analysed {
        match rec {
            Record::Post(p) => {
                let a = analyze(extractor, &p);
                Analysed::Post(p, a)
            }
            Record::Reject(j) => Analysed::Reject(j),
        }
    }

    /// Validates and reads every record of a chunk into `out` (emptied first).
    fn chunk(extractor: &Extractor, chunk: Chunk, mut out: Vec<Analysed>) -> Vec<Analysed> {
        out.clear();
        chunk.each(&mut |rec| {
            out.push(Analysed::of(extractor, rec));
            true
        });
        out
    }
}

/// Feeds analysed records to the run in order, counting them.
struct Feed<'p> {
    records: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl Feed<'_> {
    fn take(&mut self, r: &mut Run<'_>, rec: &mut Analysed) -> Result<(), BacktestError> {
        self.records += 1;
        if self.records % 65_536 == 0 {
            (self.progress)(self.records);
        }
        match rec {
            Analysed::Post(p, a) => r.analyzed(p, std::mem::take(a)),
            Analysed::Reject(j) => r.reject(j),
        }
    }
}

/// One thread reads, analyses and detects.
fn read_serially(
    opts: &BacktestOptions,
    files: &[PathBuf],
    r: &mut Run<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, BacktestError> {
    let mut feed = Feed {
        records: 0,
        progress,
    };
    let mut failed = None;
    each_chunk(opts, files, &mut |chunk| {
        chunk.each(&mut |rec| {
            let mut rec = Analysed::of(r.extractor, rec);
            match feed.take(r, &mut rec) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(feed.records),
    }
}

/// Used batches that may wait for their worker to free them.
const USED_PER_WORKER: usize = 2;

/// A reader thread (files and decompression: raw lines in chunks), `threads` workers that
/// validate and read whole chunks (the post contract, then the extractor: normalisation,
/// jieba, rules), and this thread stepping the engine on the chunks in input order while
/// the workers read ahead: the same calls on the same posts in the same order as
/// [`read_serially`], so the same outputs. At most `2 × threads + 2` chunks are in flight
/// (a token is taken per chunk read and given back when the engine has taken it), and at
/// most two used batches wait for each worker to free them (more are freed on this
/// thread), so memory stays flat however long the input.
fn read_in_parallel(
    opts: &BacktestOptions,
    files: &[PathBuf],
    r: &mut Run<'_>,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, BacktestError> {
    use std::sync::mpsc::{channel, sync_channel};
    use std::sync::Mutex;
    let extractor = r.extractor;
    let in_flight = 2 * threads + 2;
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(()).expect("the receiver is here");
    }
    let (raw_tx, raw_rx) = sync_channel::<(u64, Chunk)>(in_flight);
    let raw_rx = Mutex::new(raw_rx);
    // `None`: the worker panicked on that chunk (the engine stops instead of waiting for it).
    // The third field is the worker, which gets the batch back to free once the engine has
    // used it: the posts go back to the thread that allocated them, and freeing them is
    // off the engine's thread, which is the one the pipeline waits for.
    let (read_tx, read_rx) = channel::<(u64, Option<Vec<Analysed>>, usize)>();
    let (used_tx, used_rx): (Vec<_>, Vec<_>) = (0..threads)
        .map(|_| sync_channel::<Vec<Analysed>>(USED_PER_WORKER))
        .unzip();
    std::thread::scope(|sc| {
        let reader = std::thread::Builder::new()
            .name("benglema-read".into())
            .spawn_scoped(sc, move || {
                let mut seq = 0u64;
                each_chunk(opts, files, &mut |chunk| {
                    // No token: the engine stopped on an error of its own.
                    if token_rx.recv().is_err() {
                        return false;
                    }
                    seq += 1;
                    raw_tx.send((seq - 1, chunk)).is_ok()
                })
            })
            .map_err(|e| BacktestError::Threads(format!("starting the reading thread: {e}")))?;
        let mut workers = Vec::with_capacity(threads);
        for (i, used_rx) in used_rx.into_iter().enumerate() {
            let (raw_rx, read_tx) = (&raw_rx, read_tx.clone());
            let worker = std::thread::Builder::new()
                .name(format!("benglema-analyse-{i}"))
                .spawn_scoped(sc, move || {
                    // A used batch, emptied, is the next one's buffer.
                    let mut spare = Vec::new();
                    loop {
                        while let Ok(mut used) = used_rx.try_recv() {
                            used.clear();
                            if used.capacity() > spare.capacity() {
                                spare = used;
                            }
                        }
                        let next = raw_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok((seq, chunk))) = next else { return };
                        let out = std::mem::take(&mut spare);
                        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            Analysed::chunk(extractor, chunk, out)
                        }));
                        let panicked = read.is_err();
                        if read_tx.send((seq, read.ok(), i)).is_err() || panicked {
                            return;
                        }
                    }
                })
                .map_err(|e| BacktestError::Threads(format!("starting {threads} workers: {e}")))?;
            workers.push(worker);
        }
        drop(read_tx);
        let mut feed = Feed {
            records: 0,
            progress,
        };
        let mut failed = None;
        let mut waiting: BTreeMap<u64, (Vec<Analysed>, usize)> = BTreeMap::new();
        let mut next = 0u64;
        'chunks: for (seq, batch, worker) in read_rx.iter() {
            let Some(batch) = batch else {
                failed = Some(BacktestError::Threads(
                    "a worker thread panicked while reading posts".into(),
                ));
                break;
            };
            waiting.insert(seq, (batch, worker));
            while let Some((mut batch, worker)) = waiting.remove(&next) {
                next += 1;
                for rec in &mut batch {
                    if let Err(e) = feed.take(r, rec) {
                        failed = Some(e);
                        break 'chunks;
                    }
                }
                // A worker that has stopped, or has two waiting already: it is freed here.
                let _ = used_tx[worker].try_send(batch);
                let _ = token_tx.send(());
            }
        }
        // Dropping the token sender and the receiver stops the reader and the workers.
        drop(token_tx);
        drop(read_rx);
        drop(used_tx);
        let read = reader.join();
        let worked = workers.into_iter().all(|w| w.join().is_ok());
        if let Some(e) = failed {
            return Err(e);
        }
        match (read, worked) {
            (Ok(res), true) => res.map(|()| feed.records),
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
    let detector = Detector::new(
        extractor,
        opts.config.clone(),
        EngineOptions {
            series: opts.series.is_some(),
            every_bucket: opts.series_every_bucket,
        },
    )?;
    // Only once the inputs and the detector are known good: a run that fails on a flag
    // leaves an earlier run's outputs whole.
    let files = expand_inputs(&opts.inputs)?;
    for other in SeriesFormat::ALL
        .into_iter()
        .filter(|&f| Some(f) != opts.series)
    {
        let stale = dir.join(other.file_name());
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&stale, e)),
            _ => {}
        }
    }
    let mut r = Run {
        detector,
        out: Vec::new(),
        opened: BTreeMap::new(),
        latest: Latest::default(),
        series: opts
            .series
            .map(|f| SeriesWriter::create(&dir.join(f.file_name()), f))
            .transpose()?,
        rejects: RejectWriter::create(&dir.join("rejects.jsonl"))?,
        n_rejects: 0,
        minutes: HashSet::new(),
        last_minute: None,
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
        read_serially(opts, &files, &mut r, progress)?
    } else {
        read_in_parallel(opts, &files, &mut r, threads, progress)?
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
        series_every_bucket: opts.series.is_some() && opts.series_every_bucket,
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
