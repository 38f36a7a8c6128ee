//! `series.csv` in one streaming pass, memory bounded whatever its length.
//!
//! polars scans the file lazily with only the needed columns, typed at parse time, and hands
//! it over in streaming batches; each row then goes to two places:
//!
//! - the service's overview, an adaptive downsampling: bins start one bucket wide and, when a
//!   service has more than [`MAX_BINS`] of them, are merged into the next width of the ladder
//!   1, 5, 15, 30 min, 1, 2, 6, 12 h, 1 day (each divides the next, aligned to local time), so
//!   a 140-day history ends up in hourly bins and a few days in 5- or 15-minute bins; each bin
//!   keeps the mean and the maximum complaints per bucket and the mean baseline;
//! - the windows asked for (a few hours around each incident and event), kept at full
//!   resolution.
//!
//! Memory is then O(services × MAX_BINS + window points), not O(rows).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use benglema_io::SeriesFormat;
use benglema_model::SERIES_MAX_QUIET_BUCKETS;
use chrono::{DateTime, FixedOffset};
use polars::prelude::*;

use crate::ReportError;

/// Most overview bins kept per service.
pub const MAX_BINS: usize = 4000;

/// Bin widths of the overview, in seconds; each divides the next.
const LADDER: &[i64] = &[60, 300, 900, 1800, 3600, 7200, 6 * 3600, 12 * 3600, 86_400];

/// A slice of one service's series wanted at full resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRequest {
    /// Service.
    pub service: String,
    /// First bucket start wanted (epoch seconds).
    pub from: i64,
    /// Last bucket start wanted (epoch seconds, inclusive).
    pub to: i64,
}

/// One bucket of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Bucket start, epoch seconds.
    pub t: i64,
    /// Complaints in the bucket.
    pub complaints: f64,
    /// Expected complaints in the bucket (the detector's baseline).
    pub baseline: f64,
    /// Whether the model alarmed in this bucket.
    pub alarm: bool,
    /// Whether an event of the service was open.
    pub in_event: bool,
}

/// One overview bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// Bin start, epoch seconds.
    pub start: i64,
    /// Bin width, seconds.
    pub width: i64,
    /// Buckets seen in the bin.
    pub buckets: u32,
    /// Sum of complaints.
    pub complaints: f64,
    /// Largest complaints in one bucket.
    pub max: f64,
    /// Sum of baselines.
    pub baseline: f64,
}

impl Bin {
    /// Mean complaints per bucket.
    pub fn mean(&self) -> f64 {
        self.complaints / self.buckets.max(1) as f64
    }

    /// Mean baseline per bucket.
    pub fn mean_baseline(&self) -> f64 {
        self.baseline / self.buckets.max(1) as f64
    }
}

#[derive(Debug, Default)]
struct ServiceBins {
    level: usize,
    bins: Vec<Bin>,
}

impl ServiceBins {
    fn key(t_local: i64, width: i64) -> i64 {
        t_local.div_euclid(width) * width
    }

    fn add(&mut self, t: i64, offset: i64, complaints: f64, baseline: f64) {
        self.add_run(t, offset, 1, complaints, complaints, baseline);
    }

    /// Adds `n` quiet buckets (no complaint, baseline `baseline`) from `from`, `step` apart:
    /// a bin at a time, not a bucket at a time, so a year without a row costs a few bins.
    fn add_quiet(&mut self, from: i64, n: i64, step: i64, offset: i64, baseline: f64) {
        let (mut t, mut left) = (from, n);
        while left > 0 {
            let width = LADDER[self.level];
            let end = Self::key(t + offset, width) - offset + width;
            let k = ((end - t + step - 1) / step).clamp(1, left);
            self.add_run(t, offset, k as u32, 0.0, 0.0, baseline * k as f64);
            t += k * step;
            left -= k;
        }
    }

    /// Adds `buckets` buckets from `t` on, all in one bin of the current width: their
    /// complaints sum to `complaints` (at most `max` in one), their baselines to `baseline`.
    fn add_run(
        &mut self,
        t: i64,
        offset: i64,
        buckets: u32,
        complaints: f64,
        max: f64,
        baseline: f64,
    ) {
        let width = LADDER[self.level];
        let start = Self::key(t + offset, width) - offset;
        match self.bins.last_mut() {
            Some(b) if b.start == start => {
                b.buckets += buckets;
                b.complaints += complaints;
                b.max = b.max.max(max);
                b.baseline += baseline;
            }
            _ => {
                let bin = Bin {
                    start,
                    width,
                    buckets,
                    complaints,
                    max,
                    baseline,
                };
                // Rows of one service come in time order; tolerate the odd exception.
                match self.bins.binary_search_by_key(&start, |b| b.start) {
                    Ok(i) => {
                        let b = &mut self.bins[i];
                        b.buckets += buckets;
                        b.complaints += complaints;
                        b.max = b.max.max(max);
                        b.baseline += baseline;
                    }
                    Err(i) => self.bins.insert(i, bin),
                }
                if self.bins.len() > MAX_BINS && self.level + 1 < LADDER.len() {
                    self.coarsen(offset);
                }
            }
        }
    }

    fn coarsen(&mut self, offset: i64) {
        while self.bins.len() > MAX_BINS && self.level + 1 < LADDER.len() {
            self.merge_to(self.level + 1, offset);
        }
    }

    fn merge_to(&mut self, level: usize, offset: i64) {
        self.level = level;
        let width = LADDER[level];
        let mut merged: Vec<Bin> = Vec::with_capacity(self.bins.len() / 2 + 1);
        for b in self.bins.drain(..) {
            let start = Self::key(b.start + offset, width) - offset;
            match merged.last_mut() {
                Some(m) if m.start == start => {
                    m.buckets += b.buckets;
                    m.complaints += b.complaints;
                    m.max = m.max.max(b.max);
                    m.baseline += b.baseline;
                }
                _ => merged.push(Bin { start, width, ..b }),
            }
        }
        self.bins = merged;
    }
}

/// `bins` merged into the narrowest width of the ladder that leaves at most `max` bins (a
/// chart needs no more points than it has pixels). `offset_secs` aligns widths to local time.
pub fn coarsen(bins: &[Bin], max: usize, offset_secs: i64) -> Vec<Bin> {
    let width = bins.iter().map(|b| b.width).max().unwrap_or(60);
    let level = LADDER.iter().position(|w| *w >= width).unwrap_or(0);
    let mut sb = ServiceBins {
        level,
        bins: bins.to_vec(),
    };
    while sb.bins.len() > max.max(1) && sb.level + 1 < LADDER.len() {
        sb.merge_to(sb.level + 1, offset_secs);
    }
    sb.bins
}

/// What one pass over `series.csv` keeps.
#[derive(Debug, Clone, Default)]
pub struct SeriesData {
    /// Bucket width found in the file (smallest gap between a service's rows), seconds.
    pub bucket_seconds: i64,
    /// The offset of the file's times (the display zone).
    pub offset: Option<FixedOffset>,
    /// Downsampled history per service, in time order.
    pub overview: BTreeMap<String, Vec<Bin>>,
    /// One point list per [`WindowRequest`], in the order asked.
    pub windows: Vec<Vec<Point>>,
    /// Rows read.
    pub rows: u64,
}

/// The quiet buckets `from..=to` (`step` apart) of one service: into its overview bins and
/// the windows of `reqs` they fall in.
#[allow(clippy::too_many_arguments)]
fn fill_quiet(
    bins: &mut ServiceBins,
    windows: &mut [Vec<Point>],
    reqs: &[usize],
    requests: &[WindowRequest],
    (from, to, step): (i64, i64, i64),
    offset: i64,
    baseline: f64,
) {
    if to < from {
        return;
    }
    bins.add_quiet(from, (to - from) / step + 1, step, offset, baseline);
    for &r in reqs {
        let q = &requests[r];
        let first = from + (q.from - from).max(0).div_euclid(step) * step;
        let first = if first < q.from { first + step } else { first };
        let mut t = first;
        while t <= to.min(q.to) {
            windows[r].push(Point {
                t,
                complaints: 0.0,
                baseline,
                alarm: false,
                in_event: false,
            });
            t += step;
        }
    }
}

/// Reads `series.csv` or `series.parquet` (by the extension), keeping the overviews and the
/// windows asked for.
///
/// With `bucket_seconds` (the backtest's, from `metrics.json`; 0 when unknown), the buckets
/// a service has no row for, between two of its rows and after its last one up to the
/// file's last minute, are read as quiet: no complaint, no alarm, no event, the baseline of
/// the row before; unless the stretch is longer than [`SERIES_MAX_QUIET_BUCKETS`], a gap in
/// the data. Those are the rows `backtest --series-rows informative` leaves out; a
/// file with every row has no such buckets.
pub fn read_series(
    path: &Path,
    requests: &[WindowRequest],
    bucket_seconds: i64,
) -> Result<SeriesData, ReportError> {
    let table = |message: String| ReportError::Table {
        path: path.to_owned(),
        message,
    };
    let name = path.display().to_string();
    let mut lf = if SeriesFormat::of_path(path) == Some(SeriesFormat::Parquet) {
        LazyFrame::scan_parquet(PlRefPath::new(name.as_str()), ScanArgsParquet::default())
    } else {
        let mut schema = Schema::default();
        schema.insert("complaints".into(), DataType::Float64);
        schema.insert("baseline".into(), DataType::Float64);
        schema.insert("alarm".into(), DataType::Int32);
        schema.insert("in_event".into(), DataType::Int32);
        LazyCsvReader::new(PlRefPath::new(name.as_str()))
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_dtype_overwrite(Some(Arc::new(schema)))
            .finish()
    }
    .map_err(|e| table(e.to_string()))?;
    let have = lf.collect_schema().map_err(|e| table(e.to_string()))?;
    const COLS: [&str; 6] = [
        "service",
        "minute",
        "complaints",
        "baseline",
        "alarm",
        "in_event",
    ];
    if let Some(c) = COLS.iter().find(|c| !have.contains(c)) {
        return Err(table(format!(
            "no `{c}` column; a series needs service,minute,complaints,baseline,alarm,in_event"
        )));
    }
    // The CSV is read with these types; a Parquet file has them, or is cast to them.
    let types = [
        DataType::String,
        DataType::String,
        DataType::Float64,
        DataType::Float64,
        DataType::Int32,
        DataType::Int32,
    ];
    let batches = lf
        .select(
            COLS.iter()
                .zip(types)
                .map(|(c, t)| col(*c).strict_cast(t))
                .collect::<Vec<_>>(),
        )
        .collect_batches(Engine::Streaming, true, None, false)
        .map_err(|e| table(e.to_string()))?;

    let mut by_service: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        by_service.entry(r.service.as_str()).or_default().push(i);
    }
    let mut out = SeriesData {
        windows: vec![Vec::new(); requests.len()],
        ..SeriesData::default()
    };
    let mut bins: HashMap<String, ServiceBins> = HashMap::new();
    // Each service's last row: its time and baseline.
    let mut last_row: HashMap<String, (i64, f64)> = HashMap::new();
    let mut min_gap = i64::MAX;
    let step = bucket_seconds;
    let mut newest = i64::MIN;
    let no_reqs: Vec<usize> = Vec::new();
    let (mut last_minute, mut last_t) = (String::new(), 0i64);
    let mut offset_secs = 0i64;
    for batch in batches {
        let df = batch.map_err(|e| table(e.to_string()))?;
        let err = |e: PolarsError| table(e.to_string());
        let service = df.column("service").and_then(|c| c.str()).map_err(err)?;
        let minute = df.column("minute").and_then(|c| c.str()).map_err(err)?;
        let complaints = df.column("complaints").and_then(|c| c.f64()).map_err(err)?;
        let baseline = df.column("baseline").and_then(|c| c.f64()).map_err(err)?;
        let alarm = df.column("alarm").and_then(|c| c.i32()).map_err(err)?;
        let in_event = df.column("in_event").and_then(|c| c.i32()).map_err(err)?;
        for i in 0..df.height() {
            out.rows += 1;
            let (Some(s), Some(m)) = (service.get(i), minute.get(i)) else {
                continue;
            };
            if m != last_minute {
                let Ok(t) = DateTime::parse_from_rfc3339(m.trim()) else {
                    return Err(table(format!(
                        "row {}: minute {m:?} is not an RFC 3339 time",
                        out.rows
                    )));
                };
                if out.offset.is_none() {
                    out.offset = Some(*t.offset());
                    offset_secs = t.offset().local_minus_utc() as i64;
                }
                last_minute.clear();
                last_minute.push_str(m);
                last_t = t.timestamp();
            }
            let t = last_t;
            let c = complaints.get(i).unwrap_or(0.0);
            let b = baseline.get(i).unwrap_or(0.0);
            newest = newest.max(t);
            let gap = match last_row.get_mut(s) {
                Some(prev) => {
                    if t > prev.0 {
                        min_gap = min_gap.min(t - prev.0);
                    }
                    // Up to a day of buckets without a row: quiet ones (a longer gap is a
                    // gap in the data).
                    let gap = (step > 0
                        && t > prev.0 + step
                        && t - prev.0 <= SERIES_MAX_QUIET_BUCKETS * step)
                        .then_some(*prev);
                    *prev = (t, b);
                    gap
                }
                None => {
                    last_row.insert(s.to_owned(), (t, b));
                    None
                }
            };
            let sb = match bins.get_mut(s) {
                Some(sb) => sb,
                None => bins.entry(s.to_owned()).or_default(),
            };
            if let Some((pt, pb)) = gap {
                let reqs = by_service.get(s).unwrap_or(&no_reqs);
                let span = (pt + step, t - step, step);
                fill_quiet(sb, &mut out.windows, reqs, requests, span, offset_secs, pb);
            }
            sb.add(t, offset_secs, c, b);
            if let Some(reqs) = by_service.get(s) {
                for &r in reqs {
                    let q = &requests[r];
                    if t >= q.from && t <= q.to {
                        out.windows[r].push(Point {
                            t,
                            complaints: c,
                            baseline: b,
                            alarm: alarm.get(i).unwrap_or(0) != 0,
                            in_event: in_event.get(i).unwrap_or(0) != 0,
                        });
                    }
                }
            }
        }
    }
    if step > 0 {
        for (service, (t, b)) in &last_row {
            let reqs = by_service.get(service.as_str()).unwrap_or(&no_reqs);
            // Quiet up to the end, unless its rows stopped more than a day before it.
            let quiet_tail = newest - t <= SERIES_MAX_QUIET_BUCKETS * step;
            if let (true, Some(sb)) = (quiet_tail, bins.get_mut(service)) {
                let span = (t + step, newest, step);
                fill_quiet(sb, &mut out.windows, reqs, requests, span, offset_secs, *b);
            }
        }
    }
    for w in &mut out.windows {
        w.sort_by_key(|p| p.t);
    }
    out.bucket_seconds = if step > 0 {
        step
    } else if min_gap == i64::MAX {
        60
    } else {
        min_gap
    };
    out.overview = bins.into_iter().map(|(k, v)| (k, v.bins)).collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_coarsening_keeps_totals_and_obeys_the_limit() {
        let mut sb = ServiceBins::default();
        for k in 0..2880 {
            sb.add(1_600_000_000 + k * 60, 0, (k % 3) as f64, 1.0);
        }
        assert_eq!(sb.bins.len(), 2880);
        let c = coarsen(&sb.bins, 700, 0);
        assert!(c.len() <= 700 && c.len() > 100, "{}", c.len());
        assert_eq!(c[1].width, 300);
        let sum = |b: &[Bin]| b.iter().map(|b| b.complaints).sum::<f64>();
        assert_eq!(sum(&c), sum(&sb.bins));
        assert_eq!(coarsen(&c, 10_000, 0), c, "already small enough");
    }

    #[test]
    fn bins_coarsen_along_the_ladder_and_keep_sums() {
        let mut sb = ServiceBins::default();
        let offset = 8 * 3600;
        let minutes = 30 * 24 * 60; // 30 days of one-minute buckets
        for k in 0..minutes {
            let c = if k == 12_345 { 100.0 } else { 1.0 };
            sb.add(1_600_000_000 + k * 60, offset, c, 0.5);
        }
        assert!(sb.bins.len() <= MAX_BINS);
        let width = sb.bins[1].width;
        assert_eq!(width, 900, "30 days fit in 15-minute bins");
        let total: f64 = sb.bins.iter().map(|b| b.complaints).sum();
        assert_eq!(total, (minutes - 1) as f64 + 100.0);
        assert_eq!(sb.bins.iter().map(|b| b.max).fold(0.0, f64::max), 100.0);
        assert!(sb
            .bins
            .iter()
            .all(|b| (b.mean_baseline() - 0.5).abs() < 1e-9));
        // Interior bins start on local quarter hours.
        assert!(sb.bins[1..]
            .iter()
            .all(|b| (b.start + offset).rem_euclid(900) == 0));
    }
}
