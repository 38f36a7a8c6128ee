//! One module per subcommand, plus the helpers they share.

pub mod backtest;
pub mod bench;
pub mod bench_kafka;
pub mod classify;
pub mod detect_series;
pub mod export;
pub mod kafka_args;
pub mod labels;
pub mod produce;
pub mod report;
pub mod run;
pub mod simulate;
pub mod train;

use std::path::Path;

use anyhow::Context;
use benglema_text::{Extractor, Models};

/// `println!` that returns the write error instead of panicking, so that a closed stdout
/// (`benglema … | head`) ends the command through [`is_broken_pipe`], as success.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}
pub(crate) use outln;

/// Whether an error is a closed stdout, which a pipeline like `| head` causes on purpose.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
    })
}

/// The bundled labels (data/labels/incidents.csv, compiled in).
pub fn bundled_labels() -> anyhow::Result<Vec<benglema_model::Incident>> {
    Ok(benglema_io::bundled_labels()?)
}

/// The extractor over `--models DIR` when given, else over the embedded models.
pub fn extractor(models: Option<&Path>) -> anyhow::Result<Extractor> {
    Ok(match models {
        Some(dir) => Extractor::new(
            Models::from_dir(dir)
                .with_context(|| format!("loading models from {}", dir.display()))?,
        ),
        None => Extractor::embedded(),
    })
}
