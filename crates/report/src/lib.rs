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
//! Modules: `plan` (what every table and chart shows, decided from the data), `draw`
//! (rendering the planned charts, one thread per core), [`font`] (which font, and no
//! missing-glyph boxes), [`data`] (events and metrics), [`series`] (one streaming pass over
//! `series.csv`), [`plot`] (the charts),
//! [`html`] (the page), [`raster`] (PNG text layout). plotters is used with pure-Rust text rendering (ab_glyph), so
//! nothing here needs fontconfig or a system font.

pub mod data;
mod draw;
pub mod font;
pub mod html;
mod plan;
pub mod plot;
pub mod raster;
pub mod series;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use benglema_model::Incident;

use crate::font::Glyphs;

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

/// Reads the backtest output in `out_dir`, draws the plots into `out_dir/plots/` and writes
/// `out_dir/report.html`: `plan` decides every table and chart, `draw`
/// renders the charts, [`html`] lays out the page.
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
    let loaded = font::chosen()?;
    let glyphs = Glyphs::new(loaded);
    let plan = plan::plan(out_dir, labels, opts)?;
    let (figures, plots) = draw::draw(plan.jobs, &out_dir.join("plots"), &glyphs, opts.threads)?;
    let missing = glyphs.missing();
    let mut summary = ReportSummary {
        report: out_dir.join("report.html"),
        plots,
        font: loaded.origin.to_string(),
        missing_glyphs: missing,
        notes: plan.notes,
        seconds: 0.0,
    };
    let mut page_notes = summary.notes.clone();
    page_notes.extend(summary.glyph_warning());
    let page = html::render(&html::Page {
        dir: &out_dir.display().to_string(),
        metrics: &plan.metrics,
        incidents: &plan.incidents,
        events: &plan.events,
        false_alarms: &plan.false_alarms,
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
