//! Reading archived posts: JSONL (plain, `.gz`, `.zst`), CSV and Parquet, files or
//! directories, as a stream of [`Record`]s in file order.
//!
//! JSONL is read line by line and each line validated under the post contract, so one bad
//! line becomes one reject with its reason and line number instead of failing the file.
//! CSV and Parquet are scanned lazily with polars and collected in streaming batches, with
//! only the contract's columns projected, so files larger than memory stream through; every
//! column is read as text (integers and epoch numbers included) and each row goes through
//! the same contract validation as a JSON post.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use benglema_model::Post;
use polars::prelude::*;
use serde_json::{Map, Value};

use crate::IoError;

fn io(path: &Path, e: std::io::Error) -> IoError {
    IoError::io(path.display(), e)
}

/// One input record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A valid post.
    Post(Post),
    /// A record that broke the post contract.
    Reject(Reject),
}

/// A rejected record and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reject {
    /// Input file.
    pub source: String,
    /// 1-based line (JSONL) or row (CSV, Parquet).
    pub line: u64,
    /// What is wrong.
    pub reason: String,
    /// The record as read (lossy UTF-8, at most 1 KiB).
    pub raw: String,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON lines, plain.
    Jsonl,
    /// JSON lines, gzip.
    JsonlGz,
    /// JSON lines, zstd.
    JsonlZst,
    /// CSV with a header.
    Csv,
    /// Parquet.
    Parquet,
}

impl Format {
    /// The format of a path, from its extension.
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let f = if name.ends_with(".jsonl.gz") || name.ends_with(".json.gz") {
            Format::JsonlGz
        } else if name.ends_with(".jsonl.zst") || name.ends_with(".json.zst") {
            Format::JsonlZst
        } else if name.ends_with(".jsonl") || name.ends_with(".json") || name.ends_with(".ndjson") {
            Format::Jsonl
        } else if name.ends_with(".csv") {
            Format::Csv
        } else if name.ends_with(".parquet") {
            Format::Parquet
        } else {
            return None;
        };
        Some(f)
    }
}

/// Expands files and directories (recursively, files of known formats, sorted by path).
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| io(p, e))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
                    let path = entry.map_err(|e| io(&d, e))?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if Format::of(&path).is_some() {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else if Format::of(p).is_some() {
            out.push(p.clone());
        } else {
            return Err(IoError::Format {
                path: p.display().to_string(),
            });
        }
    }
    Ok(out)
}

fn clip(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(&raw[..raw.len().min(1024)]);
    s.into_owned()
}

/// Reads every record of one file, in order, into `f`. Stops early if `f` returns false.
pub fn read_file(path: &Path, f: &mut dyn FnMut(Record) -> bool) -> Result<(), IoError> {
    let format = Format::of(path).ok_or_else(|| IoError::Format {
        path: path.display().to_string(),
    })?;
    match format {
        Format::Jsonl | Format::JsonlGz | Format::JsonlZst => {
            let file = File::open(path).map_err(|e| io(path, e))?;
            let reader: Box<dyn Read> = match format {
                Format::JsonlGz => Box::new(flate2::read::MultiGzDecoder::new(file)),
                Format::JsonlZst => {
                    Box::new(zstd::stream::read::Decoder::new(file).map_err(|e| io(path, e))?)
                }
                _ => Box::new(file),
            };
            read_jsonl(path, BufReader::with_capacity(1 << 20, reader), f)
        }
        Format::Csv | Format::Parquet => read_table(path, format, f),
    }
}

fn read_jsonl(
    path: &Path,
    mut reader: impl BufRead,
    f: &mut dyn FnMut(Record) -> bool,
) -> Result<(), IoError> {
    let source = path.display().to_string();
    let mut buf = Vec::with_capacity(1024);
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let rec = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let rec = rec.strip_suffix(b"\r").unwrap_or(rec);
        if rec.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let r = match Post::parse(rec) {
            Ok(p) => Record::Post(p),
            Err(e) => Record::Reject(Reject {
                source: source.clone(),
                line,
                reason: e.to_string(),
                raw: clip(rec),
            }),
        };
        if !f(r) {
            return Ok(());
        }
    }
}

/// Columns of the post contract that a table may carry.
const COLUMNS: [&str; 9] = [
    "id",
    "created_at",
    "timestamp",
    "time",
    "text",
    "content",
    "user_id",
    "reposts_count",
    "source",
];

fn read_table(
    path: &Path,
    format: Format,
    f: &mut dyn FnMut(Record) -> bool,
) -> Result<(), IoError> {
    let source = path.display().to_string();
    let table_err = |e: PolarsError| IoError::polars(&source, e);
    let pl_path = PlRefPath::new(source.as_str());
    let lf = match format {
        Format::Csv => LazyCsvReader::new(pl_path)
            .with_has_header(true)
            // Every column as text: ids and times are validated by the post contract.
            .with_infer_schema_length(Some(0))
            .finish(),
        _ => LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()),
    }
    .map_err(table_err)?;
    let mut lf = lf;
    let schema = lf.collect_schema().map_err(table_err)?;
    let present: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| schema.contains(c))
        .collect();
    if !present.contains(&"id") {
        return Err(IoError::Table {
            path: source.clone(),
            message: format!(
                "no `id` column; a post table needs id, created_at (or timestamp/time) and text (or content); it has {}",
                schema.iter_names().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let exprs: Vec<Expr> = present
        .iter()
        .map(|&c| match schema.get(c) {
            // Datetimes become epoch milliseconds (tz-aware ones in UTC; naive ones are
            // read as UTC), which the post contract accepts.
            Some(DataType::Datetime(_, _)) => col(c)
                .dt()
                .timestamp(TimeUnit::Milliseconds)
                .cast(DataType::String),
            _ => col(c).cast(DataType::String),
        })
        .collect();
    let batches = lf
        .select(exprs)
        .collect_batches(Engine::Streaming, true, None, false)
        .map_err(table_err)?;
    let mut row = 0u64;
    for batch in batches {
        let df = batch.map_err(table_err)?;
        let cols: Vec<(&str, &StringChunked)> = present
            .iter()
            .map(|&c| Ok((c, df.column(c)?.str()?)))
            .collect::<PolarsResult<_>>()
            .map_err(table_err)?;
        for i in 0..df.height() {
            row += 1;
            let mut obj = Map::new();
            for (name, ca) in &cols {
                if let Some(v) = ca.get(i) {
                    // Times and counts that are all digits stay numbers, as in JSON.
                    let value = match *name {
                        "reposts_count" => v.parse::<u64>().map(Value::from).unwrap_or(Value::Null),
                        _ => Value::String(v.to_owned()),
                    };
                    obj.insert((*name).to_owned(), value);
                }
            }
            let r = match Post::from_value(Value::Object(obj.clone())) {
                Ok(p) => Record::Post(p),
                Err(e) => Record::Reject(Reject {
                    source: source.clone(),
                    line: row,
                    reason: e.to_string(),
                    raw: clip(Value::Object(obj).to_string().as_bytes()),
                }),
            };
            if !f(r) {
                return Ok(());
            }
        }
    }
    Ok(())
}
