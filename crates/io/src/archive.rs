//! Reading archived posts: JSONL (plain, `.gz`, `.zst`), CSV and Parquet, files or
//! directories, as a stream of [`Record`]s in file order.
//!
//! JSONL is read in [`Chunk`]s of whole raw lines ([`read_chunks`]), so that one thread can
//! read and decompress while others validate; each line is validated under the post
//! contract ([`Chunk::each`]), so one bad line becomes one reject with its reason and line
//! number instead of failing the file. [`read_file`] is both steps on one thread.
//! CSV and Parquet are scanned lazily with polars and collected in streaming batches, with
//! only the contract's columns projected, so files larger than memory stream through; every
//! column is read as text (integers and epoch numbers included) and each row goes through
//! the same contract validation as a JSON post.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    let mut more = true;
    read_chunks(path, &mut |chunk| {
        more = chunk.each(f);
        more
    })
}

/// Bytes of JSONL in one [`Chunk::Lines`] (whole lines, so a chunk may be a line longer).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Records in one [`Chunk::Records`].
pub const CHUNK_RECORDS: usize = 2048;

/// Consecutive records of one input, for validating on another thread: JSONL as raw whole
/// lines, which [`Chunk::each`] validates exactly as [`read_file`] does (the same records,
/// rejects and line numbers), or records already read (table rows, the bundled history).
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// Whole lines of a JSONL file, newlines included (the file's last line may lack one).
    Lines {
        /// The file, as rejects name it.
        source: Arc<str>,
        /// The 1-based number of the first line.
        first_line: u64,
        /// The lines.
        data: Vec<u8>,
    },
    /// Records already validated or rejected.
    Records(Vec<Record>),
}

impl Chunk {
    /// Every record of the chunk, in order, into `f`, until `f` returns false; returns
    /// whether it never did.
    pub fn each(self, f: &mut dyn FnMut(Record) -> bool) -> bool {
        match self {
            Chunk::Records(records) => records.into_iter().all(f),
            Chunk::Lines {
                source,
                first_line,
                data,
            } => {
                let body = data.strip_suffix(b"\n").unwrap_or(&data);
                let mut from = 0;
                let ends = memchr::memchr_iter(b'\n', body).chain([body.len()]);
                for (n, end) in (first_line..).zip(ends) {
                    let rec = &body[from..end];
                    from = end + 1;
                    let rec = rec.strip_suffix(b"\r").unwrap_or(rec);
                    if rec.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let r = match Post::parse(rec) {
                        Ok(p) => Record::Post(p),
                        Err(e) => Record::Reject(Reject {
                            source: source.to_string(),
                            line: n,
                            reason: e.to_string(),
                            raw: clip(rec),
                        }),
                    };
                    if !f(r) {
                        return false;
                    }
                }
                true
            }
        }
    }
}

/// Reads one file in [`Chunk`]s, in order, into `f`: JSONL (plain or decompressed) as raw
/// lines of about [`CHUNK_BYTES`], left for [`Chunk::each`] to validate, so that a pool of
/// threads can validate them while this one reads on; tables as rows of
/// [`CHUNK_RECORDS`]. Stops early if `f` returns false.
pub fn read_chunks(path: &Path, f: &mut dyn FnMut(Chunk) -> bool) -> Result<(), IoError> {
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
            read_jsonl(path, reader, f)
        }
        Format::Csv | Format::Parquet => {
            let mut batch = Vec::with_capacity(CHUNK_RECORDS);
            let mut more = true;
            let read = read_table(path, format, &mut |r| {
                batch.push(r);
                if batch.len() == CHUNK_RECORDS {
                    more = f(Chunk::Records(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(CHUNK_RECORDS),
                    )));
                }
                more
            });
            // The rows read before a failure go on first.
            if more && !batch.is_empty() {
                f(Chunk::Records(batch));
            }
            read
        }
    }
}

/// JSONL into chunks of whole lines: reads at least [`CHUNK_BYTES`] (more for a longer
/// line), cuts after the last newline and carries the rest into the next chunk.
fn read_jsonl(
    path: &Path,
    mut reader: impl Read,
    f: &mut dyn FnMut(Chunk) -> bool,
) -> Result<(), IoError> {
    let source: Arc<str> = path.display().to_string().into();
    let mut first_line = 1u64;
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut data = Vec::with_capacity(CHUNK_BYTES + carry.len() + 4096);
        data.append(&mut carry);
        // Bytes before this offset hold no newline.
        let mut searched = 0;
        let mut eof = false;
        loop {
            if data.len() >= CHUNK_BYTES {
                if let Some(i) = memchr::memrchr(b'\n', &data[searched..]) {
                    carry.extend_from_slice(&data[searched + i + 1..]);
                    data.truncate(searched + i + 1);
                    break;
                }
                searched = data.len();
            }
            let want = CHUNK_BYTES.max(data.len() / 2) as u64;
            let n = match (&mut reader).take(want).read_to_end(&mut data) {
                Ok(n) => n,
                Err(e) => {
                    // The whole lines read before the failure (a truncated .gz) go on first,
                    // as they would line by line.
                    if let Some(i) = memchr::memrchr(b'\n', &data) {
                        data.truncate(i + 1);
                        f(Chunk::Lines {
                            source: source.clone(),
                            first_line,
                            data,
                        });
                    }
                    return Err(io(path, e));
                }
            };
            if n == 0 {
                eof = true;
                break;
            }
        }
        if !data.is_empty() {
            let lines = memchr::memchr_iter(b'\n', &data).count() as u64
                + u64::from(!data.ends_with(b"\n"));
            let chunk = Chunk::Lines {
                source: source.clone(),
                first_line,
                data,
            };
            first_line += lines;
            if !f(chunk) {
                return Ok(());
            }
        }
        if eof {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSONL file several chunks long, with what a reader must get right at any chunk
    /// boundary: blank lines, CRLF endings, malformed lines, a line longer than a chunk, and
    /// no newline at the end.
    fn awkward_jsonl() -> String {
        let mut s = String::new();
        let mut i = 0;
        while s.len() < 4 * CHUNK_BYTES {
            i += 1;
            match i % 97 {
                _ if i == 500 => {
                    let long = "微信崩了".repeat(CHUNK_BYTES / 8);
                    s.push_str(&format!(
                        "{{\"id\":\"long\",\"created_at\":\"2021-10-18T10:00:00+08:00\",\"text\":\"{long}\"}}\n"
                    ));
                }
                0 => s.push_str("{\"id\": 1, \"text\": \"no time\"}\n"),
                13 => s.push('\n'),
                29 => s.push_str("   \r\n"),
                41 => s.push_str("not json at all\n"),
                53 => s.push_str("{\"id\":\"bad\",\"created_at\":\"2021-13-45\",\"text\":\"x\"}\n"),
                n => s.push_str(&format!(
                    "{{\"id\":\"p{i}\",\"created_at\":\"2021-10-18T10:{:02}:00+08:00\",\"text\":\"微信又崩了 {i}\"}}{}\n",
                    n % 60,
                    if n % 2 == 0 { "\r" } else { "" }
                )),
            }
        }
        s.push_str(
            "{\"id\":\"last\",\"created_at\":\"2021-10-18T11:00:00+08:00\",\"text\":\"最后一行\"}",
        );
        s
    }

    /// What reading the text line by line gives: each non-blank line validated, with its
    /// 1-based number.
    fn line_by_line(source: &str, text: &str) -> Vec<Record> {
        let body = text.strip_suffix('\n').unwrap_or(text);
        body.split('\n')
            .enumerate()
            .filter_map(|(k, l)| {
                let l = l.strip_suffix('\r').unwrap_or(l);
                if l.trim().is_empty() {
                    return None;
                }
                Some(match Post::parse(l.as_bytes()) {
                    Ok(p) => Record::Post(p),
                    Err(e) => Record::Reject(Reject {
                        source: source.to_owned(),
                        line: k as u64 + 1,
                        reason: e.to_string(),
                        raw: clip(l.as_bytes()),
                    }),
                })
            })
            .collect()
    }

    /// Gives its bytes in small reads, then fails.
    struct FailsAfter(Vec<u8>, usize);

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 >= self.0.len() {
                return Err(std::io::Error::other("truncated input"));
            }
            let n = buf.len().min(7).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn lines_read_before_a_failure_go_on_before_the_error() {
        let text = "{\"id\":\"a\",\"created_at\":\"2021-10-18T10:00:00+08:00\",\"text\":\"微信崩了\"}\n\
                    {\"id\":\"b\",\"created_at\":\"2021-10-18T10:01:00+08:00\",\"text\":\"QQ崩了\"}\n\
                    {\"id\":\"c\",\"crea";
        let mut ids = Vec::new();
        let res = read_jsonl(
            Path::new("cut.jsonl"),
            FailsAfter(text.as_bytes().to_vec(), 0),
            &mut |c| {
                c.each(&mut |r| {
                    if let Record::Post(p) = r {
                        ids.push(p.id);
                    }
                    true
                })
            },
        );
        assert!(res.is_err());
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn chunks_cut_between_lines_and_keep_every_line_number() {
        let text = awkward_jsonl();
        let dir = std::env::temp_dir().join(format!("benglema-chunks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("posts.jsonl");
        std::fs::write(&plain, &text).unwrap();
        let zst = dir.join("posts.jsonl.zst");
        std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        for path in [&plain, &zst] {
            let want = line_by_line(&path.display().to_string(), &text);
            assert!(
                want.iter()
                    .filter(|r| matches!(r, Record::Reject(_)))
                    .count()
                    > 10
            );
            let mut got = Vec::new();
            read_file(path, &mut |r| {
                got.push(r);
                true
            })
            .unwrap();
            assert_eq!(got.len(), want.len(), "{}", path.display());
            assert!(got == want, "{}: records differ", path.display());
            // Every chunk but the last ends a line; chunks rejoin into the file.
            let mut chunks = Vec::new();
            read_chunks(path, &mut |c| {
                chunks.push(c);
                true
            })
            .unwrap();
            assert!(chunks.len() >= 4, "{} chunks", chunks.len());
            let mut joined = Vec::new();
            for (k, c) in chunks.iter().enumerate() {
                let Chunk::Lines { data, .. } = c else {
                    panic!("JSONL gives lines")
                };
                assert!(k + 1 == chunks.len() || data.ends_with(b"\n"));
                joined.extend_from_slice(data);
            }
            assert_eq!(joined, text.as_bytes());
            // Stopping early stops.
            let mut n = 0;
            read_file(path, &mut |_| {
                n += 1;
                n < 5
            })
            .unwrap();
            assert_eq!(n, 5);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
