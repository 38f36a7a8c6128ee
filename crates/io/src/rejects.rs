//! `rejects.jsonl`: one JSON line per record that broke the post contract, with its file,
//! line and reason (the dead-letter output of file inputs).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{IoError, Reject};

/// `rejects.jsonl`: one JSON line per rejected record.
pub struct RejectWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl RejectWriter {
    /// Creates the file.
    pub fn create(path: &Path) -> Result<Self, IoError> {
        let file = File::create(path).map_err(|e| IoError::io(path.display(), e))?;
        Ok(RejectWriter {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    /// Appends one reject.
    pub fn push(&mut self, r: &Reject) -> Result<(), IoError> {
        serde_json::to_writer(&mut self.out, r)
            .map_err(|e| IoError::io(self.path.display(), e.into()))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| IoError::io(self.path.display(), e))
    }

    /// Flushes.
    pub fn finish(mut self) -> Result<(), IoError> {
        self.out
            .flush()
            .map_err(|e| IoError::io(self.path.display(), e))
    }
}
