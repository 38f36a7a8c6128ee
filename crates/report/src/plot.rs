//! Drawing the charts with plotters, once per backend: PNG through the bitmap backend, SVG
//! as text (labels stay searchable text there).
//!
//! Two kinds of chart:
//!
//! - [`WindowChart`]: a few hours around one labelled incident or one detected event:
//!   complaints per bucket against the detector's baseline (expected complaints per bucket),
//!   the labelled window shaded, vertical markers for labelled onset and end, official
//!   acknowledgement, estimated onset, detection and resolution, and a side panel with the
//!   symptom shares as bars and the legend (with the marker times);
//! - [`OverviewChart`]: a service's whole history, downsampled (see [`crate::series`]): mean
//!   complaints per bucket in each bin with a light band up to the bin's busiest bucket,
//!   the baseline, labelled incidents shaded, detected events as bars along the top. Stretches
//!   of more than [`SEGMENT_GAP`] without data (a history made of separate periods) are cut
//!   out, each period getting its own panel.
//!
//! Every string drawn goes through [`Glyphs::clean`], so no label can show a missing-glyph box.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::font::{Glyphs, FAMILY};
use crate::raster::GlyphBitmap;
use crate::series::{Bin, Point};
use crate::ReportError;

/// A gap in a service's history longer than this splits the overview into panels, seconds.
pub const SEGMENT_GAP: i64 = 12 * 3600;

/// Pixel size of a window chart.
pub const WINDOW_SIZE: (u32, u32) = (1200, 620);
/// Pixel size of an overview chart.
pub const OVERVIEW_SIZE: (u32, u32) = (1400, 460);

const COMPLAINTS: RGBColor = RGBColor(214, 39, 40);
const BASELINE: RGBColor = RGBColor(80, 80, 80);
const LABELLED: RGBColor = RGBColor(31, 119, 180);
const ACK: RGBColor = RGBColor(148, 103, 189);
const ONSET: RGBColor = RGBColor(255, 127, 14);
const DETECTED: RGBColor = RGBColor(0, 0, 0);
const RESOLVED: RGBColor = RGBColor(44, 160, 44);
const FALSE_ALARM: RGBColor = RGBColor(148, 103, 189);
const BAR: RGBColor = RGBColor(230, 120, 60);
const GRID: RGBColor = RGBColor(225, 225, 225);
const MUTED: RGBColor = RGBColor(100, 100, 100);

/// What a vertical marker stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// Labelled onset.
    LabelledOnset,
    /// Labelled recovery.
    LabelledEnd,
    /// Official acknowledgement.
    Acknowledged,
    /// The event's estimated onset (change point).
    EstimatedOnset,
    /// When the detector raised the event.
    Detected,
    /// The event's estimated recovery.
    Resolved,
}

impl MarkerKind {
    fn label(self) -> &'static str {
        match self {
            MarkerKind::LabelledOnset => "标注开始 labelled onset",
            MarkerKind::LabelledEnd => "标注结束 labelled end",
            MarkerKind::Acknowledged => "官方确认 acknowledged",
            MarkerKind::EstimatedOnset => "估计开始 estimated onset",
            MarkerKind::Detected => "发现 detected",
            MarkerKind::Resolved => "恢复 resolved",
        }
    }

    fn color(self) -> RGBColor {
        match self {
            MarkerKind::LabelledOnset | MarkerKind::LabelledEnd => LABELLED,
            MarkerKind::Acknowledged => ACK,
            MarkerKind::EstimatedOnset => ONSET,
            MarkerKind::Detected => DETECTED,
            MarkerKind::Resolved => RESOLVED,
        }
    }

    fn dashed(self) -> bool {
        !matches!(self, MarkerKind::LabelledOnset | MarkerKind::Detected)
    }

    fn width(self) -> u32 {
        if self == MarkerKind::Detected {
            3
        } else {
            2
        }
    }
}

/// A vertical marker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marker {
    /// Epoch seconds.
    pub t: i64,
    /// What it marks.
    pub kind: MarkerKind,
}

/// A banner over a chart that says what is special about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// A labelled incident no event matched.
    Missed,
    /// An event that matched no labelled incident.
    FalseAlarm,
}

impl Flag {
    fn text(self) -> &'static str {
        match self {
            Flag::Missed => "漏报 MISSED: 没有事件匹配这个标注 (no event matched this incident)",
            Flag::FalseAlarm => {
                "误报 FALSE ALARM: 这个事件没有匹配任何标注 (matches no labelled incident)"
            }
        }
    }

    fn color(self) -> RGBColor {
        match self {
            Flag::Missed => RGBColor(200, 0, 0),
            Flag::FalseAlarm => FALSE_ALARM,
        }
    }
}

/// A chart of a few hours around one incident or event.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowChart {
    /// Title line (service, incident or event id).
    pub title: String,
    /// Second line (delay, event, peak...).
    pub subtitle: String,
    /// First and last time shown, epoch seconds.
    pub from: i64,
    /// Last time shown.
    pub to: i64,
    /// Display offset of the times.
    pub offset: FixedOffset,
    /// Bucket width, seconds (the y axis is complaints per bucket).
    pub bucket_seconds: i64,
    /// The series in the window.
    pub points: Vec<Point>,
    /// The labelled window (start, end) shaded; end is `to` when the label has none.
    pub shade: Option<(i64, i64)>,
    /// Whether the label has no end (the shading then runs to the edge, and says so).
    pub shade_open_end: bool,
    /// Vertical markers.
    pub markers: Vec<Marker>,
    /// Symptom shares, largest first.
    pub symptoms: Vec<(String, f64)>,
    /// Heading of the symptom panel.
    pub symptoms_title: String,
    /// A banner.
    pub flag: Option<Flag>,
}

/// A span drawn on an overview.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Start, epoch seconds.
    pub start: i64,
    /// End, epoch seconds.
    pub end: i64,
    /// Detection time (events only).
    pub detected: Option<i64>,
    /// Whether this event matched no incident.
    pub false_alarm: bool,
}

/// A service's whole history.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewChart {
    /// Title line.
    pub title: String,
    /// Second line.
    pub subtitle: String,
    /// Display offset.
    pub offset: FixedOffset,
    /// Bucket width, seconds.
    pub bucket_seconds: i64,
    /// Downsampled series.
    pub bins: Vec<Bin>,
    /// Labelled incidents.
    pub incidents: Vec<Span>,
    /// Detected events.
    pub events: Vec<Span>,
}

/// What the y axis counts, e.g. `每分钟投诉 complaints / min`.
fn per_bucket(bucket_seconds: i64) -> String {
    if bucket_seconds == 60 {
        "每分钟投诉 complaints / min".to_owned()
    } else if bucket_seconds % 60 == 0 {
        format!(
            "每{}分钟投诉 complaints / {} min",
            bucket_seconds / 60,
            bucket_seconds / 60
        )
    } else {
        format!("每{bucket_seconds}秒投诉 complaints / {bucket_seconds} s")
    }
}

/// Formats epoch seconds in the display offset.
pub fn local(t: i64, offset: FixedOffset, fmt: &str) -> String {
    DateTime::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&offset).format(fmt).to_string())
        .unwrap_or_default()
}

/// `UTC+08:00`.
fn zone(offset: FixedOffset) -> String {
    let s = offset.local_minus_utc();
    let sign = if s < 0 { '-' } else { '+' };
    let s = s.abs();
    format!("UTC{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// Tick positions aligned to local time, and the step, for at most `max` ticks.
pub fn time_ticks(from: i64, to: i64, offset: FixedOffset, max: usize) -> (Vec<i64>, i64) {
    const STEPS: &[i64] = &[
        60,
        300,
        600,
        900,
        1800,
        3600,
        7200,
        10_800,
        21_600,
        43_200,
        86_400,
        2 * 86_400,
        7 * 86_400,
        14 * 86_400,
        28 * 86_400,
        56 * 86_400,
        112 * 86_400,
        364 * 86_400,
    ];
    let span = (to - from).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s < max.max(2) as i64)
        .unwrap_or(*STEPS.last().expect("not empty"));
    let off = offset.local_minus_utc() as i64;
    let first = (from + off).div_euclid(step) * step - off;
    let first = if first < from { first + step } else { first };
    let ticks = (0..)
        .map(|k| first + k * step)
        .take_while(|t| *t <= to)
        .collect();
    (ticks, step)
}

/// A tick label: `HH:MM`, or the date at local midnight and for day steps.
fn tick_label(t: i64, step: i64, offset: FixedOffset) -> String {
    let off = offset.local_minus_utc() as i64;
    if step >= 86_400 || (t + off).rem_euclid(86_400) == 0 {
        local(t, offset, "%m-%d")
    } else {
        local(t, offset, "%H:%M")
    }
}

fn font<'a>(size: f64) -> TextStyle<'a> {
    TextStyle::from((FAMILY, size).into_font()).color(&BLACK)
}

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws one legend line (swatch + text) at pixel `(x, y)` of `area`.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    swatch: Swatch,
    text: &str,
    g: &Glyphs,
) -> DrawResult<(), DB> {
    match swatch {
        Swatch::Line(color, width, dashed) => {
            if dashed {
                for k in 0..3 {
                    area.draw(&PathElement::new(
                        vec![(x + k * 10, y), (x + k * 10 + 6, y)],
                        color.stroke_width(width),
                    ))?;
                }
            } else {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 26, y)],
                    color.stroke_width(width),
                ))?;
            }
        }
        Swatch::VLine(color, width, dashed) => {
            if dashed {
                for k in 0..3 {
                    area.draw(&PathElement::new(
                        vec![(x + 13, y - 9 + k * 7), (x + 13, y - 5 + k * 7)],
                        color.stroke_width(width),
                    ))?;
                }
            } else {
                area.draw(&PathElement::new(
                    vec![(x + 13, y - 9), (x + 13, y + 9)],
                    color.stroke_width(width),
                ))?;
            }
        }
        Swatch::Fill(color) => {
            area.draw(&Rectangle::new(
                [(x, y - 7), (x + 26, y + 7)],
                color.filled(),
            ))?;
        }
    }
    area.draw(&Text::new(
        g.clean(text),
        (x + 34, y - 8),
        font(15.0).color(&BLACK),
    ))?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Swatch {
    Line(RGBAColor, u32, bool),
    VLine(RGBAColor, u32, bool),
    Fill(RGBAColor),
}

fn dashed_vline<DB: DrawingBackend, CT: CoordTranslate<From = (i64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    x: i64,
    y: (f64, f64),
    style: ShapeStyle,
    dashed: bool,
) -> DrawResult<(), DB> {
    if dashed {
        chart.draw_series(DashedLineSeries::new(vec![(x, y.0), (x, y.1)], 7, 5, style))?;
    } else {
        chart.draw_series(LineSeries::new(vec![(x, y.0), (x, y.1)], style))?;
    }
    Ok(())
}

/// Draws the title and subtitle lines; returns the area below them.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    flag: Option<Flag>,
    g: &Glyphs,
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    let height = if flag.is_some() { 90 } else { 64 };
    let (top, rest) = root.split_vertically(height);
    top.draw(&Text::new(g.clean(title), (16, 10), font(24.0)))?;
    top.draw(&Text::new(
        g.clean(subtitle),
        (16, 40),
        font(16.0).color(&MUTED),
    ))?;
    if let Some(f) = flag {
        top.draw(&Text::new(
            g.clean(f.text()),
            (16, 64),
            font(17.0).color(&f.color()),
        ))?;
    }
    Ok(rest)
}

/// Draws a window chart on any backend.
pub fn draw_window<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &WindowChart,
    g: &Glyphs,
) -> DrawResult<(), DB> {
    root.fill(&WHITE)?;
    let rest = header(root, &c.title, &c.subtitle, c.flag, g)?;
    let (w, _) = rest.dim_in_pixel();
    let (main, side) = rest.split_horizontally(w * 72 / 100);

    let ymax = c
        .points
        .iter()
        .map(|p| p.complaints.max(p.baseline))
        .fold(1.0f64, f64::max)
        * 1.12;
    let (ticks, step) = time_ticks(c.from, c.to, c.offset, 12);
    let x_range = (c.from..c.to).with_key_points(ticks);
    let x_desc = format!(
        "时间 time ({}, {})",
        zone(c.offset),
        local(c.from, c.offset, "%Y-%m-%d")
            + &if local(c.from, c.offset, "%F") != local(c.to, c.offset, "%F") {
                format!(" – {}", local(c.to, c.offset, "%m-%d"))
            } else {
                String::new()
            }
    );
    let mut chart = ChartBuilder::on(&main)
        .margin_left(8)
        .margin_right(8)
        .margin_top(8)
        .margin_bottom(4)
        .x_label_area_size(52)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, 0f64..ymax)?;
    let offset = c.offset;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID.stroke_width(1))
        .x_label_formatter(&|x: &i64| g.clean(&tick_label(*x, step, offset)))
        .y_label_formatter(&|y| g.clean(&format_count(*y)))
        .x_desc(g.clean(&x_desc))
        .y_desc(g.clean(&per_bucket(c.bucket_seconds)))
        .label_style(font(14.0))
        .axis_desc_style(font(15.0))
        .y_labels(8)
        .draw()?;

    if let Some((s, e)) = c.shade {
        let (s, e) = (s.max(c.from), e.min(c.to));
        if s < e {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(s, 0.0), (e, ymax)],
                LABELLED.mix(0.13).filled(),
            )))?;
        }
    }
    if c.points.is_empty() {
        chart.draw_series(std::iter::once(Text::new(
            g.clean("这段时间没有数据 no series data in this window"),
            (c.from + (c.to - c.from) / 3, ymax / 2.0),
            font(18.0).color(&MUTED),
        )))?;
    }
    // Complaints as an area; a gap in the data breaks the line rather than bridging it.
    for run in runs(&c.points, c.bucket_seconds) {
        chart.draw_series(
            AreaSeries::new(
                run.iter().map(|p| (p.t, p.complaints)),
                0.0,
                COMPLAINTS.mix(0.18),
            )
            .border_style(COMPLAINTS.stroke_width(2)),
        )?;
        chart.draw_series(DashedLineSeries::new(
            run.iter().map(|p| (p.t, p.baseline)),
            8,
            5,
            BASELINE.stroke_width(2),
        ))?;
    }
    for m in &c.markers {
        if m.t >= c.from && m.t <= c.to {
            dashed_vline(
                &mut chart,
                m.t,
                (0.0, ymax),
                m.kind.color().stroke_width(m.kind.width()),
                m.kind.dashed(),
            )?;
        }
    }

    // Side panel: symptom bars, then the legend.
    let (sw, sh) = side.dim_in_pixel();
    let side = side.margin(14, 10, 10, 16);
    side.draw(&Text::new(g.clean(&c.symptoms_title), (0, 0), font(17.0)))?;
    let bar_left = 118i32;
    let bar_max = (sw as i32 - bar_left - 70).max(40);
    let mut y = 32i32;
    if c.symptoms.is_empty() {
        side.draw(&Text::new(
            g.clean("(无 none)"),
            (0, y),
            font(15.0).color(&MUTED),
        ))?;
        y += 26;
    }
    // Bars scaled to the largest share; labelled symptoms without shares are a plain list.
    let top = c.symptoms.iter().map(|s| s.1).fold(0.0f64, f64::max);
    for (name, share) in c.symptoms.iter().take(10) {
        side.draw(&Text::new(g.clean(name), (0, y), font(15.0)))?;
        if top <= 0.0 {
            y += 24;
            continue;
        }
        let len = ((bar_max as f64) * (share / top).clamp(0.0, 1.0)).round() as i32;
        side.draw(&Rectangle::new(
            [(bar_left, y + 1), (bar_left + len.max(1), y + 17)],
            BAR.filled(),
        ))?;
        side.draw(&Text::new(
            format!("{:.0}%", share * 100.0),
            (bar_left + len + 6, y),
            font(14.0).color(&MUTED),
        ))?;
        y += 24;
    }
    y += 18;
    side.draw(&Text::new(g.clean("图例 legend"), (0, y), font(17.0)))?;
    y += 34;
    let mut entry = |swatch: Swatch, text: &str| -> DrawResult<(), DB> {
        if y < sh as i32 - 30 {
            legend_entry(&side, (0, y), swatch, text, g)?;
        }
        y += 25;
        Ok(())
    };
    entry(
        Swatch::Line(COMPLAINTS.to_rgba(), 2, false),
        "投诉 complaints",
    )?;
    entry(
        Swatch::Line(BASELINE.to_rgba(), 2, true),
        "基线 baseline (expected)",
    )?;
    if c.shade.is_some() {
        entry(
            Swatch::Fill(LABELLED.mix(0.25)),
            if c.shade_open_end {
                "标注时段 labelled (end unknown)"
            } else {
                "标注时段 labelled window"
            },
        )?;
    }
    for m in &c.markers {
        entry(
            Swatch::VLine(m.kind.color().to_rgba(), m.kind.width(), m.kind.dashed()),
            &format!("{} {}", m.kind.label(), marker_time(m.t, c.from, c.offset)),
        )?;
    }
    Ok(())
}

/// `09:02`, or `10-19 09:02` when not on the window's first day.
fn marker_time(t: i64, from: i64, offset: FixedOffset) -> String {
    if local(t, offset, "%F") == local(from, offset, "%F") {
        local(t, offset, "%H:%M")
    } else {
        local(t, offset, "%m-%d %H:%M")
    }
}

fn format_count(y: f64) -> String {
    if y.abs() >= 10.0 || y.fract().abs() < 1e-9 {
        format!("{y:.0}")
    } else {
        format!("{y:.1}")
    }
}

/// Splits points into runs without gaps longer than two buckets.
fn runs(points: &[Point], bucket: i64) -> Vec<&[Point]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].t - points[i - 1].t > 2 * bucket.max(1) {
            if i > start {
                out.push(&points[start..i]);
            }
            start = i;
        }
    }
    out
}

/// Splits bins into periods separated by more than [`SEGMENT_GAP`] without data.
pub fn segments(bins: &[Bin]) -> Vec<&[Bin]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=bins.len() {
        if i == bins.len() || bins[i].start - (bins[i - 1].start + bins[i - 1].width) > SEGMENT_GAP
        {
            if i > start {
                out.push(&bins[start..i]);
            }
            start = i;
        }
    }
    // Too many periods would make unreadable slivers: one axis then.
    if out.len() > 6 {
        return vec![bins];
    }
    out
}

/// Draws an overview chart on any backend.
pub fn draw_overview<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &OverviewChart,
    g: &Glyphs,
) -> DrawResult<(), DB> {
    root.fill(&WHITE)?;
    let rest = header(root, &c.title, &c.subtitle, None, g)?;
    let (legend, rest) = rest.split_vertically(30);
    let mut x = 16;
    for (swatch, text) in [
        (
            Swatch::Line(COMPLAINTS.to_rgba(), 2, false),
            "投诉均值 mean complaints",
        ),
        (Swatch::Fill(COMPLAINTS.mix(0.2)), "区间最高 busiest bucket"),
        (Swatch::Line(BASELINE.to_rgba(), 2, true), "基线 baseline"),
        (
            Swatch::Fill(LABELLED.mix(0.25)),
            "标注事件 labelled incident",
        ),
        (Swatch::Fill(ONSET.mix(0.9)), "检测事件 detected event"),
        (Swatch::Fill(FALSE_ALARM.mix(0.9)), "误报 false alarm"),
    ] {
        legend_entry(&legend, (x, 12), swatch, text, g)?;
        x += 48 + estimate_width(text, 15.0);
    }
    let segs = segments(&c.bins);
    if segs.is_empty() {
        rest.draw(&Text::new(
            g.clean("没有数据 no data"),
            (40, 60),
            font(18.0).color(&MUTED),
        ))?;
        return Ok(());
    }
    let ymax = c
        .bins
        .iter()
        .map(|b| b.max.max(b.mean_baseline()))
        .fold(1.0f64, f64::max)
        * 1.15;
    let (w, _) = rest.dim_in_pixel();
    let total: f64 = segs.iter().map(|s| span_of(s) as f64).sum();
    let usable = w as f64 - 80.0;
    let min_w = usable * 0.12;
    let mut widths: Vec<f64> = segs
        .iter()
        .map(|s| (span_of(s) as f64 / total * usable).max(min_w))
        .collect();
    let scale = usable / widths.iter().sum::<f64>();
    widths.iter_mut().for_each(|x| *x *= scale);
    let mut area = rest;
    for (i, seg) in segs.iter().enumerate() {
        let first = i == 0;
        let wpx = widths[i].round() as u32 + if first { 80 } else { 0 };
        let (panel, remaining) = if i + 1 == segs.len() {
            let (pw, ph) = area.dim_in_pixel();
            let _ = (pw, ph);
            (area.clone(), area.clone())
        } else {
            area.split_horizontally(wpx)
        };
        area = remaining;
        let from = seg[0].start;
        let to = seg[seg.len() - 1].start + seg[seg.len() - 1].width;
        let max_ticks = ((widths[i] / 95.0) as usize).clamp(2, 14);
        let (ticks, step) = time_ticks(from, to, c.offset, max_ticks);
        let offset = c.offset;
        let year = local(from, offset, "%Y");
        let mut chart = ChartBuilder::on(&panel)
            .margin_left(if first { 4 } else { 2 })
            .margin_right(if i + 1 == segs.len() { 16 } else { 6 })
            .margin_top(6)
            .x_label_area_size(50)
            .y_label_area_size(if first { 76 } else { 0 })
            .build_cartesian_2d((from..to).with_key_points(ticks), 0f64..ymax)?;
        let x_fmt = |x: &i64| g.clean(&tick_label(*x, step, offset));
        let y_fmt = |y: &f64| g.clean(&format_count(*y));
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(1))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(g.clean(&format!("{year} ({})", zone(offset))))
            .label_style(font(14.0))
            .axis_desc_style(font(15.0))
            .y_labels(6);
        if first {
            mesh.y_desc(g.clean(&per_bucket(c.bucket_seconds)));
        }
        mesh.draw()?;
        for s in &c.incidents {
            let (a, b) = (s.start.max(from), s.end.min(to));
            if a < b {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, ymax)],
                    LABELLED.mix(0.16).filled(),
                )))?;
            }
        }
        chart.draw_series(AreaSeries::new(
            seg.iter().map(|b| (b.start + b.width / 2, b.max)),
            0.0,
            COMPLAINTS.mix(0.16),
        ))?;
        chart.draw_series(LineSeries::new(
            seg.iter().map(|b| (b.start + b.width / 2, b.mean())),
            COMPLAINTS.stroke_width(2),
        ))?;
        chart.draw_series(DashedLineSeries::new(
            seg.iter()
                .map(|b| (b.start + b.width / 2, b.mean_baseline())),
            8,
            5,
            BASELINE.stroke_width(2),
        ))?;
        for e in &c.events {
            let (a, b) = (e.start.max(from), e.end.min(to));
            if a <= b && e.end >= from && e.start <= to {
                let color = if e.false_alarm { FALSE_ALARM } else { ONSET };
                // A bar along the top, at least a few pixels wide so short events show.
                let min_span = ((to - from) as f64 / widths[i] * 4.0) as i64;
                let b = b.max(a + min_span);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, ymax * 0.94), (b, ymax)],
                    color.mix(0.9).filled(),
                )))?;
                if let Some(d) = e.detected.filter(|d| *d >= from && *d <= to) {
                    chart.draw_series(std::iter::once(TriangleMarker::new(
                        (d, ymax * 0.90),
                        6,
                        color.filled(),
                    )))?;
                }
            }
        }
    }
    Ok(())
}

fn span_of(seg: &[Bin]) -> i64 {
    let last = &seg[seg.len() - 1];
    (last.start + last.width - seg[0].start).max(1)
}

/// Rough pixel width of a label (CJK characters are about one em, others about half).
fn estimate_width(text: &str, size: f64) -> i32 {
    let em = size;
    text.chars()
        .map(|c| if (c as u32) < 0x2E80 { em * 0.55 } else { em })
        .sum::<f64>() as i32
}

/// A chart of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Around one incident or event.
    Window(WindowChart),
    /// A service's whole history.
    Overview(OverviewChart),
}

impl Chart {
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Chart::Window(_) => WINDOW_SIZE,
            Chart::Overview(_) => OVERVIEW_SIZE,
        }
    }

    /// Draws on any backend.
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        g: &Glyphs,
    ) -> DrawResult<(), DB> {
        match self {
            Chart::Window(c) => draw_window(root, c, g),
            Chart::Overview(c) => draw_overview(root, c, g),
        }
    }
}

fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Renders `chart` to `<stem>.png` and `<stem>.svg`; returns the PNG's bytes.
pub fn render(chart: &Chart, stem: &Path, g: &Glyphs) -> Result<Vec<u8>, ReportError> {
    let size = chart.size();
    let png = with_ext(stem, "png");
    let svg = with_ext(stem, "svg");
    let draw_err = |path: &Path, e: String| ReportError::Draw {
        path: path.to_owned(),
        message: e,
    };
    {
        let root =
            GlyphBitmap::new(BitMapBackend::new(&png, size), &g.font().font).into_drawing_area();
        chart
            .draw(&root, g)
            .map_err(|e| draw_err(&png, e.to_string()))?;
        root.present().map_err(|e| draw_err(&png, e.to_string()))?;
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        chart
            .draw(&root, g)
            .map_err(|e| draw_err(&svg, e.to_string()))?;
        root.present().map_err(|e| draw_err(&svg, e.to_string()))?;
    }
    std::fs::write(&svg, text).map_err(|e| ReportError::Io {
        path: svg.clone(),
        source: e,
    })?;
    std::fs::read(&png).map_err(|e| ReportError::Io {
        path: png.clone(),
        source: e,
    })
}
