//! `benglema export`: events (a JSONL file of event states, or the events topic) reduced to
//! the latest state per event id, filtered, and written as the PRODUCT.md CSV, JSONL or
//! Parquet through benglema-io.

use std::path::Path;

use benglema_model::OutageEvent;
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::Message;

use crate::kafka::Quiet;
use crate::{Settings, StreamError};

pub use benglema_io::{write_events as write, CsvAppender, EventFormat as ExportFormat};
pub use benglema_model::{EventFilter as Filter, Latest};

/// Reads event states from a JSONL file; a bad line is an error naming its number.
pub fn read_jsonl(path: &Path, into: &mut Latest) -> Result<(), StreamError> {
    Ok(benglema_io::read_events_jsonl(path, &mut |e| into.push(e))?)
}

/// Reads every event state on the events topic, from the beginning to its current end.
/// Messages that are not events are counted and skipped.
pub fn read_topic(settings: &Settings, into: &mut Latest) -> Result<u64, StreamError> {
    let topic = &settings.events_topic;
    let c: BaseConsumer<Quiet> = settings
        .client()
        .set("group.id", format!("{}.export", settings.group))
        .set("enable.auto.commit", "false")
        .create_with_context(Quiet)
        .map_err(|e| StreamError::kafka("creating the export consumer", e))?;
    let mut skipped = 0;
    let known = crate::kafka::read_to_end(&c, topic, &|_, lo| lo, &mut |m| match m
        .payload()
        .map(serde_json::from_slice::<OutageEvent>)
    {
        Some(Ok(e)) => into.push(e),
        _ => skipped += 1,
    })?;
    if !known {
        return Err(StreamError::Config(format!(
            "events topic {topic} does not exist (is --events-topic right?)"
        )));
    }
    Ok(skipped)
}
