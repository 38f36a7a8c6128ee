//! # benglema-io
//!
//! The one owner of benglema's data contracts on disk (PRODUCT.md), in both directions:
//!
//! - [`archive`]: post archives, JSONL (plain, gzip, zstd), CSV and Parquet, files or
//!   directories, read as a stream of [`Record`]s (polars streaming batches for the
//!   tables); a record that breaks the post contract becomes a [`Reject`] with its reason;
//! - [`events`]: the event contract as CSV, JSONL and Parquet, written and read back as
//!   [`OutageEvent`](benglema_model::OutageEvent)s;
//! - [`series`]: `series.csv` or `series.parquet`, streamed; [`rejects`]: `rejects.jsonl`;
//! - [`incidents`]: the label CSV, validated row by row;
//! - [`counts`]: `detect-series`' `timestamp,value` CSV in and its scored rows out;
//! - [`bundled`]: the compiled-in labels and the labelled history replayed when no input is
//!   given.
//!
//! Every failure is an [`IoError`] that keeps its source (`std::io::Error`, polars or
//! serde), so callers can tell a closed pipe (success for `benglema … | head`) from a full
//! disk. What the records *mean* (detection, scoring) lives elsewhere: `backtest`,
//! `stream`, `report` and the CLI all read and write through this crate.

pub mod archive;
pub mod bundled;
pub mod counts;
mod error;
pub mod events;
pub mod incidents;
pub mod rejects;
pub mod series;

pub use archive::{
    expand_inputs, read_chunks, read_file, Chunk, Format, Record, Reject, CHUNK_BYTES,
    CHUNK_RECORDS,
};
pub use bundled::{
    bundled_history, bundled_labels, bundled_posts, BUNDLED_DAYS_AFTER, BUNDLED_DAYS_BEFORE,
    BUNDLED_SEED,
};
pub use counts::{read_counts, scored_frame, write_scored, Counts, Scored, SCORED_CSV_COLUMNS};
pub use error::IoError;
pub use events::{
    events_frame, read_events, read_events_jsonl, write_events, write_events_file, CsvAppender,
    EventFormat,
};
pub use incidents::{parse_incidents, read_incidents, write_incidents};
pub use rejects::RejectWriter;
pub use series::{SeriesFormat, SeriesWriter, SERIES_CSV_COLUMNS};
