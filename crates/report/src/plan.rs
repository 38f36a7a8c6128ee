//! Planning a report: reads the backtest output (metrics, events, the windows of
//! `series.csv` the charts need, in one pass), matches incidents and events, and decides every
//! chart: its window, markers, shading, titles and where it goes on the page. Nothing is drawn
//! here; [`crate::draw`] renders the [`Job`]s this makes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use benglema_io::SeriesFormat;
use benglema_model::{Incident, Metrics, OutageEvent};

use crate::data::{self, IncidentView, Time};
use crate::plot::{self, Chart, Flag, Marker, MarkerKind, OverviewChart, Span, WindowChart};
use crate::series::{self, SeriesData, WindowRequest};
use crate::{file_part, ReportError, ReportOptions};

/// Everything a report shows, decided: the tables' data and the charts to draw.
pub(crate) struct Plan {
    pub(crate) metrics: Metrics,
    pub(crate) events: Vec<OutageEvent>,
    pub(crate) incidents: Vec<IncidentView>,
    pub(crate) false_alarms: Vec<String>,
    /// What the page says it could not show.
    pub(crate) notes: Vec<String>,
    pub(crate) jobs: Vec<Job>,
}

fn ts(t: Option<Time>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

/// The window of a chart: from the earliest mark minus `before` to the latest plus `after`.
fn window(marks: &[i64], opts: &ReportOptions) -> Option<(i64, i64)> {
    let lo = *marks.iter().min()?;
    let hi = *marks.iter().max()?;
    let from = lo - opts.before;
    let to = (hi + opts.after).min(from + opts.max_window);
    Some((from, to))
}

/// One chart to draw, and where it goes.
pub(crate) struct Job {
    pub(crate) stem: String,
    pub(crate) chart: Chart,
    pub(crate) section: Section,
    pub(crate) anchor: String,
    pub(crate) caption: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
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

/// Reads the backtest output in `out_dir` and plans the report.
pub(crate) fn plan(
    out_dir: &Path,
    labels: &[Incident],
    opts: &ReportOptions,
) -> Result<Plan, ReportError> {
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

    // A backtest leaves one of the two; should a directory hold both, the newer is drawn.
    let mut found: Vec<(std::time::SystemTime, std::path::PathBuf)> = SeriesFormat::ALL
        .iter()
        .map(|f| out_dir.join(f.file_name()))
        .filter(|p| p.is_file())
        .map(|p| {
            let modified = std::fs::metadata(&p).and_then(|m| m.modified());
            (modified.unwrap_or(std::time::UNIX_EPOCH), p)
        })
        .collect();
    found.sort();
    let series_path = found.pop().map(|(_, p)| p);
    if let (Some(drawn), Some(_)) = (&series_path, found.first()) {
        let name = drawn
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        notes.push(format!(
            "series.csv 和 series.parquet 都在, 用较新的 {name}: both series files are in the directory; the plots are drawn from the newer, {name}"
        ));
    }
    let series: Option<SeriesData> = match series_path {
        Some(path) => Some(series::read_series(
            &path,
            &requests,
            metrics.bucket_seconds,
        )?),
        None => {
            notes.push(
                "没有 series.csv (backtest --series none): 没有画图 no series.csv or series.parquet in the directory, so no plots were drawn; run backtest with --series csv or parquet"
                    .to_owned(),
            );
            None
        }
    };

    let mut jobs: Vec<Job> = Vec::new();
    if let Some(s) = &series {
        let offset = s
            .offset
            .or_else(|| events.iter().map(|e| *e.started_at.offset()).next())
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(8 * 3600).expect("valid"));
        let charts = Charts {
            s,
            offset,
            incidents: &incidents,
            events: &events,
            event_by_id: &event_by_id,
            false_alarms: &false_alarms,
            requests: &requests,
        };
        jobs.extend(charts.incident_jobs(&incident_req, &mut notes));
        jobs.extend(charts.event_jobs(&event_req));
        jobs.extend(charts.overview_jobs());
    }

    Ok(Plan {
        metrics,
        events,
        incidents,
        false_alarms,
        notes,
        jobs,
    })
}

/// What every chart is planned from.
struct Charts<'a> {
    s: &'a SeriesData,
    offset: chrono::FixedOffset,
    incidents: &'a [IncidentView],
    events: &'a [OutageEvent],
    event_by_id: &'a BTreeMap<&'a str, &'a OutageEvent>,
    false_alarms: &'a [String],
    requests: &'a [WindowRequest],
}

impl Charts<'_> {
    /// The span of a service's series.
    fn extent(&self, service: &str) -> Option<(i64, i64)> {
        let bins = self.s.overview.get(service)?;
        Some((bins.first()?.start, bins.last().map(|b| b.start + b.width)?))
    }

    /// A window cut to the span of its service's series (when they overlap).
    fn clamp(&self, service: &str, (from, to): (i64, i64)) -> (i64, i64) {
        match self.extent(service) {
            Some((a, b)) if from.max(a) < to.min(b) => (from.max(a), to.min(b)),
            _ => (from, to),
        }
    }

    /// One chart per labelled incident with data around it (`incident_req`: its window
    /// request); why there is none goes to `notes`.
    fn incident_jobs(&self, incident_req: &[Option<usize>], notes: &mut Vec<String>) -> Vec<Job> {
        let Charts {
            s,
            offset,
            incidents,
            event_by_id,
            requests,
            ..
        } = *self;
        let mut jobs = Vec::new();
        for (i, v) in incidents.iter().enumerate() {
            if !v.covered() {
                notes.push(format!(
                    "{} {}: 输入没有这段时间的数据 the input has no posts around this incident, \
                     no chart",
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
            let (from, to) = self.clamp(&v.service, (requests[r].from, requests[r].to));
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
        jobs
    }

    /// One chart per detected event, false alarms flagged.
    fn event_jobs(&self, event_req: &[Option<usize>]) -> Vec<Job> {
        let Charts {
            s,
            offset,
            incidents,
            events,
            false_alarms,
            requests,
            ..
        } = *self;
        let mut jobs = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let Some(r) = event_req[i] else {
                continue;
            };
            let v = incidents
                .iter()
                .find(|v| v.event_id() == Some(e.event_id.as_str()));
            let fa = false_alarms.contains(&e.event_id);
            let (from, to) = self.clamp(&e.service, (requests[r].from, requests[r].to));
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
        jobs
    }

    /// One whole-history chart per service, busiest first.
    fn overview_jobs(&self) -> Vec<Job> {
        let Charts {
            s,
            offset,
            incidents,
            events,
            event_by_id,
            false_alarms,
            ..
        } = *self;
        let mut jobs = Vec::new();
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
                    "{} 个标注事件 labelled · {} 个检测事件 detected · {} 个误报 false alarms · \
                     {periods}{:.1} 天 days of data · 每 {} 一个点 one point per {}",
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
        jobs
    }
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
