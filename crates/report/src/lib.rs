//! # benglema-report
//!
//! Plots and a self-contained HTML report over a `benglema backtest` output directory.
//!
//! [`write`] reads `events.csv`, `metrics.json` and (when present) `series.csv` from the
//! directory, joins them with the incident labels, and writes there:
//!
//! - `plots/incident-<incident_id>-<service>.{png,svg}`: a few hours around each labelled
//!   incident: complaints per minute against the baseline, the labelled window shaded,
//!   onset / detection / resolution marked, the symptom shares as bars; missed incidents say
//!   so;
//! - `plots/event-<event_id>.{png,svg}`: the same around each detected event, false alarms
//!   flagged;
//! - `plots/overview-<service>.{png,svg}`: each service's whole history, downsampled;
//! - `report.html`: metrics, per-incident, comparison and events tables, then the plots, in
//!   one file that opens from disk with no network.
//!
//! Modules: [`font`] (which font, and no missing-glyph boxes), [`data`] (events and
//! metrics), [`series`] (one streaming pass over `series.csv`), [`plot`] (the charts),
//! [`html`] (the page), [`raster`] (PNG text layout). plotters is used with pure-Rust text rendering (ab_glyph), so
//! nothing here needs fontconfig or a system font.

pub mod data;
pub mod font;
pub mod html;
pub mod plot;
pub mod raster;
pub mod series;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use benglema_model::Incident;

use crate::data::{IncidentView, Time};
use crate::font::Glyphs;
use crate::html::{Figure, Figures};
use crate::plot::{Chart, Flag, Marker, MarkerKind, OverviewChart, Span, WindowChart};
use crate::series::{SeriesData, WindowRequest};
use benglema_model::OutageEvent;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The directory is not a backtest output directory.
    #[error("{}: not a backtest output directory (no {file}); run `benglema backtest --out {}` first", dir.display(), dir.display())]
    NotBacktestDir {
        /// The directory.
        dir: PathBuf,
        /// The missing file.
        file: &'static str,
    },
    /// A font that cannot be used.
    #[error("{}: cannot draw with this font: {reason}", path.display())]
    Font {
        /// The font file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `events.csv` could not be read under the event contract.
    #[error(transparent)]
    Events(#[from] benglema_io::IoError),
    /// A table or JSON file that does not have the expected shape.
    #[error("{}: {message}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The plotting library failed.
    #[error("drawing {}: {message}", path.display())]
    Draw {
        /// The plot file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// Options of [`write`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Time shown before the earliest mark of an incident or event, seconds.
    pub before: i64,
    /// Time shown after the latest mark, seconds.
    pub after: i64,
    /// Longest window of an incident or event chart, seconds (a days-long event is cut).
    pub max_window: i64,
    /// Threads drawing plots (0: one per core).
    pub threads: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            before: 3 * 3600,
            after: 3 * 3600,
            max_window: 36 * 3600,
            threads: 0,
        }
    }
}

/// What [`write`] did.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// `report.html`.
    pub report: PathBuf,
    /// Plot files written (PNG and SVG).
    pub plots: Vec<PathBuf>,
    /// How the plot font was chosen.
    pub font: String,
    /// Characters the font could not draw (drawn as `U+XXXX`), with how often.
    pub missing_glyphs: BTreeMap<char, usize>,
    /// What was skipped, and why.
    pub notes: Vec<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl ReportSummary {
    /// A one-line warning about characters drawn as code points, if any.
    pub fn glyph_warning(&self) -> Option<String> {
        if self.missing_glyphs.is_empty() {
            return None;
        }
        let n: usize = self.missing_glyphs.values().sum();
        let list: Vec<String> = self
            .missing_glyphs
            .keys()
            .take(12)
            .map(|c| format!("{c} (U+{:04X})", *c as u32))
            .collect();
        Some(format!(
            "{n} character(s) not in the plot font were drawn as their code point: {}{}; set {}=/path/to/a/fuller/font.ttf",
            list.join(", "),
            if self.missing_glyphs.len() > 12 { ", ..." } else { "" },
            font::FONT_ENV
        ))
    }
}

/// A file name part: path separators and other awkward characters become `_`.
pub fn file_part(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|#%&".contains(c) || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        format!("_{out}")
    } else {
        out
    }
}

fn ts(t: Option<Time>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

/// Removes plot files an earlier run left (our prefixes only).
fn clear_old_plots(dir: &Path) -> Result<(), ReportError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = ["incident-", "event-", "overview-"]
            .iter()
            .any(|p| name.starts_with(p))
            && (name.ends_with(".png") || name.ends_with(".svg"));
        if ours {
            std::fs::remove_file(e.path()).map_err(|source| ReportError::Io {
                path: e.path(),
                source,
            })?;
        }
    }
    Ok(())
}

/// The window of a chart: from the earliest mark minus `before` to the latest plus `after`.
fn window(marks: &[i64], opts: &ReportOptions) -> Option<(i64, i64)> {
    let lo = *marks.iter().min()?;
    let hi = *marks.iter().max()?;
    let from = lo - opts.before;
    let to = (hi + opts.after).min(from + opts.max_window);
    Some((from, to))
}

struct Job {
    stem: String,
    chart: Chart,
    section: Section,
    anchor: String,
    caption: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Incident,
    FalseAlarm,
    MatchedEvent,
    Overview,
    QuietOverview,
}

/// Most points of an overview (about one per two pixels).
const OVERVIEW_POINTS: usize = 700;

fn delay_text(d: Option<f64>) -> String {
    d.map_or(String::new(), |d| {
        format!("发现延迟 delay {d:+.0} 分钟 min")
    })
}

/// Reads the backtest output in `out_dir`, draws the plots into `out_dir/plots/` and writes
/// `out_dir/report.html`.
pub fn write(
    out_dir: &Path,
    labels: &[Incident],
    opts: &ReportOptions,
) -> Result<ReportSummary, ReportError> {
    let started = Instant::now();
    for file in ["events.csv", "metrics.json"] {
        if !out_dir.join(file).is_file() {
            return Err(ReportError::NotBacktestDir {
                dir: out_dir.to_owned(),
                file,
            });
        }
    }
    let metrics = data::read_metrics(&out_dir.join("metrics.json"))?;
    let events = benglema_io::read_events(&out_dir.join("events.csv"))?;
    let incidents = data::incident_views(labels, &metrics);
    let matched: BTreeSet<&str> = incidents.iter().filter_map(|v| v.event_id()).collect();
    let false_alarms: Vec<String> = if metrics.false_alarm_events.is_empty() {
        events
            .iter()
            .filter(|e| !matched.contains(e.event_id.as_str()))
            .map(|e| e.event_id.clone())
            .collect()
    } else {
        metrics.false_alarm_events.clone()
    };
    let event_by_id: BTreeMap<&str, &OutageEvent> =
        events.iter().map(|e| (e.event_id.as_str(), e)).collect();
    let loaded = font::chosen()?;
    let glyphs = Glyphs::new(loaded);
    let mut notes = Vec::new();

    // Windows to cut out of the series.
    let incident_marks = |v: &IncidentView| -> Vec<i64> {
        let e = v.event_id().and_then(|id| event_by_id.get(id));
        [
            ts(v.start),
            ts(v.end),
            ts(v.acknowledged_at),
            e.and_then(|e| ts(Some(e.started_at))),
            e.and_then(|e| ts(Some(e.detected_at))),
            e.and_then(|e| ts(e.ended_at)),
        ]
        .into_iter()
        .flatten()
        .collect()
    };
    let event_marks = |e: &OutageEvent| -> Vec<i64> {
        let v = incidents
            .iter()
            .find(|v| v.event_id() == Some(e.event_id.as_str()));
        [
            ts(Some(e.started_at)),
            ts(Some(e.detected_at)),
            ts(e.ended_at),
            v.and_then(|v| ts(v.start)),
            v.and_then(|v| ts(v.end)),
        ]
        .into_iter()
        .flatten()
        .collect()
    };
    let mut requests = Vec::new();
    let mut incident_req = Vec::new();
    for v in &incidents {
        incident_req.push(window(&incident_marks(v), opts).map(|(from, to)| {
            requests.push(WindowRequest {
                service: v.service.clone(),
                from,
                to,
            });
            requests.len() - 1
        }));
    }
    let mut event_req = Vec::new();
    for e in &events {
        event_req.push(window(&event_marks(e), opts).map(|(from, to)| {
            requests.push(WindowRequest {
                service: e.service.clone(),
                from,
                to,
            });
            requests.len() - 1
        }));
    }

    let series_path = out_dir.join("series.csv");
    let series: Option<SeriesData> = if series_path.is_file() {
        Some(series::read_series(&series_path, &requests)?)
    } else {
        notes.push(
            "没有 series.csv (backtest --no-series): 没有画图 no series.csv in the directory, so no plots were drawn; run backtest without --no-series"
                .to_owned(),
        );
        None
    };

    let plots_dir = out_dir.join("plots");
    let mut jobs: Vec<Job> = Vec::new();
    if let Some(s) = &series {
        let offset = s
            .offset
            .or_else(|| events.iter().map(|e| *e.started_at.offset()).next())
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(8 * 3600).expect("valid"));
        let extent = |service: &str| -> Option<(i64, i64)> {
            let bins = s.overview.get(service)?;
            Some((bins.first()?.start, bins.last().map(|b| b.start + b.width)?))
        };
        let clamp = |service: &str, (from, to): (i64, i64)| -> (i64, i64) {
            match extent(service) {
                Some((a, b)) if from.max(a) < to.min(b) => (from.max(a), to.min(b)),
                _ => (from, to),
            }
        };
        for (i, v) in incidents.iter().enumerate() {
            if !v.covered() {
                notes.push(format!(
                    "{} {}: 输入没有这段时间的数据 the input has no posts around this incident, no chart",
                    v.incident_id, v.service
                ));
                continue;
            }
            let Some(r) = incident_req[i] else {
                notes.push(format!(
                    "{} {}: 标注没有时间 the label has no time, no chart",
                    v.incident_id, v.service
                ));
                continue;
            };
            let e = v.event_id().and_then(|id| event_by_id.get(id).copied());
            let (from, to) = clamp(&v.service, (requests[r].from, requests[r].to));
            let mut marks = vec![
                (v.start, MarkerKind::LabelledOnset),
                (v.end, MarkerKind::LabelledEnd),
                (v.acknowledged_at, MarkerKind::Acknowledged),
            ];
            if let Some(e) = e {
                marks.extend(event_markers(e));
            }
            let markers = markers(marks);
            let flag = if v.result.is_some() && e.is_none() {
                Some(Flag::Missed)
            } else {
                None
            };
            let delay = v.result.as_ref().and_then(|r| r.delay_minutes);
            let subtitle = match e {
                Some(e) => format!(
                    "{} · 事件 event {} · 峰值 peak {:.0}/min · 基线 baseline {:.2}/min · {}",
                    delay_text(delay),
                    e.event_id,
                    e.peak_rate,
                    e.baseline_rate,
                    e.severity.as_str()
                ),
                None => format!(
                    "标注开始 labelled onset {}",
                    v.start
                        .map_or("–".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                ),
            };
            let (symptoms, symptoms_title) = match e {
                Some(e) => (e.symptoms.clone(), "症状占比 symptom shares".to_owned()),
                None => (
                    v.symptoms.iter().map(|s| (s.clone(), 0.0)).collect(),
                    "标注症状 labelled symptoms".to_owned(),
                ),
            };
            let stem = format!(
                "incident-{}-{}",
                file_part(&v.incident_id),
                file_part(&v.service)
            );
            jobs.push(Job {
                caption: format!(
                    "{} · {} · {}",
                    v.service,
                    v.incident_id,
                    match (flag, delay) {
                        (Some(Flag::Missed), _) => "漏报 missed".to_owned(),
                        (_, d) => delay_text(d),
                    }
                ),
                anchor: format!("incident-{i}"),
                section: Section::Incident,
                chart: Chart::Window(WindowChart {
                    title: format!("{} · 标注事件 incident {}", v.service, v.incident_id),
                    subtitle,
                    from,
                    to,
                    offset,
                    bucket_seconds: s.bucket_seconds,
                    points: within(&s.windows[r], from, to),
                    shade: v.start.map(|a| (a.timestamp(), ts(v.end).unwrap_or(to))),
                    shade_open_end: v.end.is_none(),
                    markers,
                    symptoms,
                    symptoms_title,
                    flag,
                }),
                stem,
            });
        }
        for (i, e) in events.iter().enumerate() {
            let Some(r) = event_req[i] else {
                continue;
            };
            let v = incidents
                .iter()
                .find(|v| v.event_id() == Some(e.event_id.as_str()));
            let fa = false_alarms.contains(&e.event_id);
            let (from, to) = clamp(&e.service, (requests[r].from, requests[r].to));
            let mut marks = Vec::new();
            if let Some(v) = v {
                marks.push((v.start, MarkerKind::LabelledOnset));
                marks.push((v.end, MarkerKind::LabelledEnd));
            }
            marks.extend(event_markers(e));
            let markers = markers(marks);
            let subtitle = format!(
                "{} · {} · 峰值 peak {:.0}/min · 基线 baseline {:.2}/min · {} complaints{}",
                match v {
                    Some(v) => format!("标注 incident {}", v.incident_id),
                    None if fa => "误报 false alarm".to_owned(),
                    None => "未评分 not scored".to_owned(),
                },
                e.severity.as_str(),
                e.peak_rate,
                e.baseline_rate,
                e.complaints,
                if e.ended_at.is_none() {
                    " · 仍未结束 still open"
                } else {
                    ""
                }
            );
            jobs.push(Job {
                stem: format!("event-{}", file_part(&e.event_id)),
                caption: format!(
                    "{} · event {}{}",
                    e.service,
                    e.event_id,
                    if fa { " · 误报 false alarm" } else { "" }
                ),
                anchor: format!("event-{}", e.event_id),
                section: if fa {
                    Section::FalseAlarm
                } else {
                    Section::MatchedEvent
                },
                chart: Chart::Window(WindowChart {
                    title: format!("{} · 检测事件 event {}", e.service, e.event_id),
                    subtitle,
                    from,
                    to,
                    offset,
                    bucket_seconds: s.bucket_seconds,
                    points: within(&s.windows[r], from, to),
                    shade: v
                        .and_then(|v| v.start.map(|a| (a.timestamp(), ts(v.end).unwrap_or(to)))),
                    shade_open_end: v.is_some_and(|v| v.end.is_none()),
                    markers,
                    symptoms: e.symptoms.clone(),
                    symptoms_title: "症状占比 symptom shares".to_owned(),
                    flag: fa.then_some(Flag::FalseAlarm),
                }),
            });
        }
        // Overviews: services with an incident or event first.
        let busy: BTreeSet<&str> = incidents
            .iter()
            .map(|v| v.service.as_str())
            .chain(events.iter().map(|e| e.service.as_str()))
            .collect();
        // Busiest first: most incidents and events, then by name.
        let weight = |k: &str| {
            incidents.iter().filter(|v| v.service == k).count()
                + events.iter().filter(|e| e.service == k).count()
        };
        let mut services: Vec<&String> = s.overview.keys().collect();
        services.sort_by_key(|k| (std::cmp::Reverse(weight(k)), (*k).clone()));
        for service in services {
            let offset_secs = offset.local_minus_utc() as i64;
            let bins = &series::coarsen(&s.overview[service], OVERVIEW_POINTS, offset_secs);
            let width = bins.iter().map(|b| b.width).max().unwrap_or(60);
            let inc: Vec<Span> = incidents
                .iter()
                .filter(|v| &v.service == service && v.covered())
                .filter_map(|v| {
                    let start = ts(v.start)?;
                    let end = ts(v.end)
                        .or_else(|| {
                            v.event_id()
                                .and_then(|id| event_by_id.get(id))
                                .and_then(|e| ts(e.ended_at))
                        })
                        .unwrap_or(start + 3 * 3600);
                    Some(Span {
                        start,
                        end,
                        detected: None,
                        false_alarm: false,
                    })
                })
                .collect();
            let evs: Vec<Span> = events
                .iter()
                .filter(|e| &e.service == service)
                .filter_map(|e| {
                    let start = ts(Some(e.started_at))?;
                    Some(Span {
                        start,
                        end: ts(e.ended_at).unwrap_or(start + 3600),
                        detected: ts(Some(e.detected_at)),
                        false_alarm: false_alarms.contains(&e.event_id),
                    })
                })
                .collect();
            let n_fa = evs.iter().filter(|e| e.false_alarm).count();
            let periods = plot::segments(bins);
            let days = periods
                .iter()
                .map(|p| {
                    let last = &p[p.len() - 1];
                    (last.start + last.width - p[0].start) as f64 / 86_400.0
                })
                .sum::<f64>();
            let periods = if periods.len() > 1 {
                format!("{} 段 periods, ", periods.len())
            } else {
                String::new()
            };
            let bin_text = if width >= 3600 {
                format!("{} h", width / 3600)
            } else {
                format!("{} min", width / 60)
            };
            jobs.push(Job {
                stem: format!("overview-{}", file_part(service)),
                caption: format!(
                    "{service} · {} labelled, {} events, {n_fa} false alarms",
                    inc.len(),
                    evs.len()
                ),
                anchor: format!("overview-{service}"),
                section: if busy.contains(service.as_str()) {
                    Section::Overview
                } else {
                    Section::QuietOverview
                },
                chart: Chart::Overview(OverviewChart {
                    title: format!("{service} · 全部历史 whole history"),
                    subtitle: format!(
                        "{} 个标注事件 labelled · {} 个检测事件 detected · {} 个误报 false alarms · {periods}{:.1} 天 days of data · 每 {} 一个点 one point per {}",
                        inc.len(),
                        evs.len(),
                        n_fa,
                        days,
                        bin_text,
                        bin_text
                    ),
                    offset,
                    bucket_seconds: s.bucket_seconds,
                    bins: bins.clone(),
                    incidents: inc,
                    events: evs,
                }),
            });
        }
    }

    // Draw, one thread per core.
    std::fs::create_dir_all(&plots_dir).map_err(|source| ReportError::Io {
        path: plots_dir.clone(),
        source,
    })?;
    clear_old_plots(&plots_dir)?;
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    }
    .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    type Drawn = Option<Result<Vec<u8>, ReportError>>;
    let results: Mutex<Vec<Drawn>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let r = plot::render(&job.chart, &plots_dir.join(&job.stem), &glyphs);
                let failed = r.is_err();
                results.lock().expect("not poisoned")[i] = Some(r);
                if failed {
                    // Stop handing out work; the first error is reported.
                    next.store(jobs.len(), Ordering::Relaxed);
                }
            });
        }
    });
    let mut figures = Figures::default();
    let mut plots = Vec::new();
    for (job, r) in jobs
        .into_iter()
        .zip(results.into_inner().expect("not poisoned"))
    {
        let Some(r) = r else { continue };
        let png = r?;
        plots.push(plots_dir.join(format!("{}.png", job.stem)));
        plots.push(plots_dir.join(format!("{}.svg", job.stem)));
        let fig = Figure {
            anchor: job.anchor,
            caption: job.caption,
            stem: format!("plots/{}", job.stem),
            png,
        };
        match job.section {
            Section::Incident => figures.incidents.push(fig),
            Section::FalseAlarm => figures.false_alarms.push(fig),
            Section::MatchedEvent => figures.matched_events.push(fig),
            Section::Overview => figures.overviews.push(fig),
            Section::QuietOverview => figures.quiet_overviews.push(fig),
        }
    }
    let missing = glyphs.missing();
    let mut summary = ReportSummary {
        report: out_dir.join("report.html"),
        plots,
        font: loaded.origin.to_string(),
        missing_glyphs: missing,
        notes,
        seconds: 0.0,
    };
    let mut page_notes = summary.notes.clone();
    page_notes.extend(summary.glyph_warning());
    let page = html::render(&html::Page {
        dir: &out_dir.display().to_string(),
        metrics: &metrics,
        incidents: &incidents,
        events: &events,
        false_alarms: &false_alarms,
        figures: &figures,
        notes: &page_notes,
        font: &summary.font,
    });
    std::fs::write(&summary.report, page).map_err(|source| ReportError::Io {
        path: summary.report.clone(),
        source,
    })?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
/// The estimated onset, detection and resolution of an event, as chart markers.
fn event_markers(e: &OutageEvent) -> [(Option<Time>, MarkerKind); 3] {
    [
        (Some(e.started_at), MarkerKind::EstimatedOnset),
        (Some(e.detected_at), MarkerKind::Detected),
        (e.ended_at, MarkerKind::Resolved),
    ]
}

/// The markers whose time is known, in time order.
fn markers(marks: Vec<(Option<Time>, MarkerKind)>) -> Vec<Marker> {
    let mut out: Vec<Marker> = marks
        .into_iter()
        .filter_map(|(t, kind)| {
            t.map(|t| Marker {
                t: t.timestamp(),
                kind,
            })
        })
        .collect();
    out.sort_by_key(|m| m.t);
    out
}

/// The points of a window between `from` and `to` (inclusive).
fn within(points: &[series::Point], from: i64, to: i64) -> Vec<series::Point> {
    points
        .iter()
        .filter(|p| p.t >= from && p.t <= to)
        .copied()
        .collect()
}
