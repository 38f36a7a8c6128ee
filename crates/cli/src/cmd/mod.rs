//! One module per subcommand, plus the helpers they share.

pub mod classify;
pub mod labels;

use std::path::Path;

use anyhow::Context;
use benglema_text::{Extractor, Models};

/// Whether an error is a closed stdout, which a pipeline like `| head` causes on purpose.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
