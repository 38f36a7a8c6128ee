//! The incident label file (PRODUCT.md label CSV), read and validated, and written, through
//! polars.

use std::io::{Cursor, Write};
use std::path::Path;

use benglema_model::{Incident, INCIDENT_CSV_COLUMNS};
use chrono::{DateTime, FixedOffset};
use polars::prelude::*;

use crate::IoError;

fn csv_err(path: &str, e: impl std::fmt::Display) -> IoError {
    IoError::Table {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Reads and validates an incident label file.
pub fn read_incidents(path: &Path) -> Result<Vec<Incident>, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::io(path.display(), e))?;
    parse_incidents(&bytes, &path.display().to_string())
}

/// Parses and validates incident label CSV held in memory; `name` is used in errors.
pub fn parse_incidents(bytes: &[u8], name: &str) -> Result<Vec<Incident>, IoError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        // Every column is text: times and lists are validated here, not guessed by polars.
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| csv_err(name, e))?;
    let mut cols = Vec::with_capacity(INCIDENT_CSV_COLUMNS.len());
    for c in INCIDENT_CSV_COLUMNS {
        let col = df.column(c).map_err(|_| {
            csv_err(
                name,
                format!(
                    "missing column `{c}`; the header must be {}",
                    INCIDENT_CSV_COLUMNS.join(",")
                ),
            )
        })?;
        cols.push(col.str().map_err(|e| csv_err(name, e))?.clone());
    }
    let cell = |ci: usize, row: usize| -> String {
        cols[ci]
            .get(row)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out = Vec::with_capacity(df.height());
    for row in 0..df.height() {
        let bad = |column: &'static str, message: String| IoError::Row {
            path: name.to_owned(),
            row: row + 1,
            column,
            message,
        };
        let time = |ci: usize| -> Result<Option<DateTime<FixedOffset>>, IoError> {
            let s = cell(ci, row);
            if s.is_empty() {
                return Ok(None);
            }
            DateTime::parse_from_rfc3339(&s).map(Some).map_err(|e| {
                bad(
                    INCIDENT_CSV_COLUMNS[ci],
                    format!("{s:?} is not RFC 3339 with offset ({e}); write e.g. 2021-10-18T09:00:00+08:00"),
                )
            })
        };
        let incident_id = cell(0, row);
        if incident_id.is_empty() {
            return Err(bad("incident_id", "is empty".into()));
        }
        let service = cell(1, row);
        if service.is_empty() {
            return Err(bad("service", "is empty".into()));
        }
        let (start, end, acknowledged_at) = (time(2)?, time(3)?, time(4)?);
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                return Err(bad("end", format!("{e} is before start {s}")));
            }
        }
        let symptoms = cell(5, row)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        out.push(Incident {
            incident_id,
            service,
            start,
            end,
            acknowledged_at,
            symptoms,
            source: cell(6, row),
            notes: cell(7, row),
        });
    }
    Ok(out)
}

fn fmt_time(t: &Option<DateTime<FixedOffset>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

/// Writes incidents as label CSV (PRODUCT.md columns, in order).
pub fn write_incidents<W: Write>(rows: &[Incident], out: W) -> Result<(), IoError> {
    let s = |f: &dyn Fn(&Incident) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(f).collect()
    };
    let columns: Vec<Column> = vec![
        Column::new("incident_id".into(), s(&|r| Some(r.incident_id.clone()))),
        Column::new("service".into(), s(&|r| Some(r.service.clone()))),
        Column::new("start".into(), s(&|r| fmt_time(&r.start))),
        Column::new("end".into(), s(&|r| fmt_time(&r.end))),
        Column::new(
            "acknowledged_at".into(),
            s(&|r| fmt_time(&r.acknowledged_at)),
        ),
        Column::new("symptoms".into(), s(&|r| Some(r.symptoms.join(";")))),
        Column::new("source".into(), s(&|r| Some(r.source.clone()))),
        Column::new("notes".into(), s(&|r| Some(r.notes.clone()))),
    ];
    let mut df = DataFrame::new(rows.len(), columns).map_err(|e| csv_err("<output>", e))?;
    let mut out = out;
    CsvWriter::new(&mut out)
        .include_header(true)
        .finish(&mut df)
        .map_err(|e| IoError::polars("<output>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "incident_id,service,start,end,acknowledged_at,symptoms,source,notes\n";

    #[test]
    fn round_trip() {
        let csv = format!(
            "{HEADER}a,微信,2021-10-18T09:00:00+08:00,,2021-10-18T11:25:33+08:00,图片/文件;登录,x.txt,\"uncertain, really\"\n"
        );
        let rows = parse_incidents(csv.as_bytes(), "t").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].symptoms, vec!["图片/文件", "登录"]);
        assert_eq!(rows[0].end, None);
        assert_eq!(rows[0].notes, "uncertain, really");
        let mut buf = Vec::new();
        write_incidents(&rows, &mut buf).unwrap();
        assert_eq!(parse_incidents(&buf, "t2").unwrap(), rows);
    }

    #[test]
    fn bad_rows_are_explained() {
        let e = parse_incidents(
            format!("{HEADER}a,微信,yesterday,,,,,\n").as_bytes(),
            "f.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("f.csv: row 1, column `start`: \"yesterday\" is not RFC 3339"),
            "{e}"
        );
        let e = parse_incidents(
            format!("{HEADER}a,微信,2021-10-18T09:00:00+08:00,2021-10-18T08:00:00+08:00,,,,\n")
                .as_bytes(),
            "f.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column `end`") && e.contains("before start"),
            "{e}"
        );
        let e = parse_incidents(b"incident_id,service\na,b\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing column `start`"), "{e}");
        let e = parse_incidents(format!("{HEADER},微信,,,,,,\n").as_bytes(), "f.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("column `incident_id`: is empty"), "{e}");
        assert!(read_incidents(Path::new("/nonexistent.csv")).is_err());
    }

    #[test]
    fn junk_never_panics() {
        for junk in [
            &b""[..],
            b"\n\n",
            b"\xff\xfe\x00garbage",
            b"incident_id,service,start,end,acknowledged_at,symptoms,source,notes",
            b"incident_id,service,start,end,acknowledged_at,symptoms,source,notes\n\"unterminated",
            b"a,b,c\n1,2\n3,4,5,6,7\n",
        ] {
            let _ = parse_incidents(junk, "junk");
        }
    }

    #[test]
    fn curated_labels_are_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/labels/incidents.csv");
        let rows = read_incidents(&path).unwrap();
        assert!(rows.len() >= 3);
        for r in &rows {
            assert!(
                r.start.is_some(),
                "{} {} has no start",
                r.incident_id,
                r.service
            );
            assert!(
                !r.notes.is_empty(),
                "{} {} has no notes",
                r.incident_id,
                r.service
            );
            assert!(r.source.starts_with("data/seeds/"));
        }
    }
}
