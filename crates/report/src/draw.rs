//! Drawing a planned report: every chart rendered to PNG and SVG under `plots/`, one thread
//! per core, into the page's figure sections.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::font::Glyphs;
use crate::html::{Figure, Figures};
use crate::plan::{Job, Section};
use crate::{plot, ReportError};

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

/// Draws `jobs` into `plots_dir` (cleared of old plots first) on `threads` threads (0: one
/// per core); returns the page's figures and the files written.
pub(crate) fn draw(
    jobs: Vec<Job>,
    plots_dir: &Path,
    glyphs: &Glyphs,
    threads: usize,
) -> Result<(Figures, Vec<PathBuf>), ReportError> {
    std::fs::create_dir_all(plots_dir).map_err(|source| ReportError::Io {
        path: plots_dir.to_owned(),
        source,
    })?;
    clear_old_plots(plots_dir)?;
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
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
                let r = plot::render(&job.chart, &plots_dir.join(&job.stem), glyphs);
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
    Ok((figures, plots))
}
