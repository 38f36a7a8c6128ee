//! The bundled data: the curated label file and the labelled history `run` and `backtest`
//! replay when given no input, a few simulated days around each labelled incident,
//! generated deterministically by `benglema-synth` on every run (nothing large is
//! committed to the repository).

use benglema_model::{Incident, Post};
use benglema_synth::{simulate, SimSpec};

use crate::IoError;

/// Days simulated before and after each seed incident in the bundled history.
pub const BUNDLED_DAYS_BEFORE: f64 = 1.5;
/// See [`BUNDLED_DAYS_BEFORE`].
pub const BUNDLED_DAYS_AFTER: f64 = 1.0;
/// Seed of the bundled history.
pub const BUNDLED_SEED: u64 = 20_211_018;

/// `data/labels/incidents.csv` as compiled into the binary.
pub const BUNDLED_LABELS_CSV: &str = include_str!("../../../data/labels/incidents.csv");

/// The bundled labels, parsed (the file is checked by this crate's tests, so this only
/// fails if the binary was built from a broken checkout).
pub fn bundled_labels() -> Result<Vec<Incident>, IoError> {
    crate::parse_incidents(BUNDLED_LABELS_CSV.as_bytes(), "bundled incidents.csv")
}

/// The bundled history: one simulated window around each labelled incident day.
pub fn bundled_history(labels: &[Incident]) -> Vec<SimSpec> {
    SimSpec::around(
        labels,
        BUNDLED_DAYS_BEFORE,
        BUNDLED_DAYS_AFTER,
        BUNDLED_SEED,
    )
}

/// The posts of the bundled history, in time order within each window.
pub fn bundled_posts(labels: &[Incident]) -> impl Iterator<Item = Post> {
    bundled_history(labels)
        .into_iter()
        .flat_map(|spec| simulate(&spec).map(|s| s.post))
}
