//! Shared helpers of the integration tests: the seed incidents of `data/labels/incidents.csv`
//! (read with a small CSV reader: the crate does not depend on `benglema-labels`) and a
//! shared extractor.

#![allow(dead_code)]

use std::sync::OnceLock;

use benglema_model::Incident;
use benglema_text::Extractor;
use chrono::DateTime;

/// The label file, embedded.
pub const INCIDENTS_CSV: &str = include_str!("../../../../data/labels/incidents.csv");

/// Splits CSV text into records of fields (RFC 4180: quoted fields, doubled quotes,
/// newlines inside quotes).
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// The seed incidents of the label file.
pub fn seed_incidents() -> Vec<Incident> {
    let records = csv_records(INCIDENTS_CSV);
    let header = &records[0];
    assert_eq!(header[0], "incident_id");
    let time =
        |s: &str| (!s.is_empty()).then(|| DateTime::parse_from_rfc3339(s).expect("RFC 3339 time"));
    records[1..]
        .iter()
        .filter(|r| r.len() >= 8)
        .map(|r| Incident {
            incident_id: r[0].clone(),
            service: r[1].clone(),
            start: time(&r[2]),
            end: time(&r[3]),
            acknowledged_at: time(&r[4]),
            symptoms: r[5]
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            source: r[6].clone(),
            notes: r[7].clone(),
        })
        .collect()
}

/// One extractor for all tests of a binary.
pub fn ex() -> &'static Extractor {
    static EX: OnceLock<Extractor> = OnceLock::new();
    EX.get_or_init(Extractor::embedded)
}
