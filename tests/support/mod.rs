//! Shared helpers of the end-to-end tests: the benglema binary, a real Kafka-compatible
//! broker (tansu) on loopback, small simulated post files, and the Python venvs some tests
//! run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The benglema binary.
pub fn benglema() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_benglema"));
    c.env_remove("RUST_LOG");
    c
}

/// A Python venv a test runs (the notebooks', NAB's scorer's).
pub struct Venv {
    /// Variable naming its python directly (what its `setup.sh` prints).
    pub python_var: &'static str,
    /// Variable naming the venv directory, if any.
    pub venv_var: Option<&'static str>,
    /// The venv directory under `$HOME` otherwise.
    pub default_venv: &'static str,
    /// A Python statement that succeeds when the venv has what the test needs.
    pub check: &'static str,
    /// What the venv is, for messages ("the notebook packages").
    pub what: &'static str,
    /// Variable that makes a missing venv a failure instead of a skip (set by `.ci/run`).
    pub require_var: &'static str,
    /// The script that creates it.
    pub setup: &'static str,
}

/// The venv's python, checked with `venv.check`. Without a usable one: `SKIPPED` and `None`,
/// or a panic when `venv.require_var` is set.
pub fn venv_python(venv: &Venv) -> Option<PathBuf> {
    let candidate = match std::env::var_os(venv.python_var) {
        Some(p) => PathBuf::from(p),
        None => {
            let dir = match venv.venv_var.and_then(std::env::var_os) {
                Some(v) => PathBuf::from(v),
                None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(venv.default_venv),
            };
            dir.join("bin/python")
        }
    };
    let check = Command::new(&candidate).args(["-c", venv.check]).output();
    let problem = match check {
        Ok(o) if o.status.success() => return Some(candidate),
        Ok(o) => format!(
            "{} lacks {}: {}",
            candidate.display(),
            venv.what,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("cannot run {}: {e}", candidate.display()),
    };
    if std::env::var_os(venv.require_var).is_some() {
        panic!(
            "{problem}; run {} and set {} to what it prints",
            venv.setup, venv.python_var
        );
    }
    eprintln!("SKIPPED: {problem} ({} creates the venv)", venv.setup);
    None
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benglema-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Where tansu is: `$BENGLEMA_TANSU`, the CI tools cache, or `PATH`.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BENGLEMA_TANSU") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let cached = home.join(".cache/benglema/tools/bin/tansu");
    if cached.exists() {
        return Some(cached);
    }
    let on_path = Command::new("tansu").arg("--version").output().ok()?;
    on_path.status.success().then(|| PathBuf::from("tansu"))
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tansu broker on loopback, killed on drop.
pub struct Broker {
    child: Child,
    /// `host:port`.
    pub addr: String,
    bin: PathBuf,
    /// Where its SQLite database lives (persistent storage), if anywhere.
    dir: Option<PathBuf>,
}

impl Broker {
    /// Starts a broker with in-memory storage, or returns `None` (and says so) when tansu is
    /// not installed and `BENGLEMA_REQUIRE_BROKER` is unset. `.ci/run` installs tansu and
    /// sets that variable, so in CI a missing broker fails the test.
    pub fn start() -> Option<Broker> {
        Self::start_in(None)
    }

    /// Like [`Broker::start`], with persistent storage: tansu's SQLite engine, in a
    /// database under `dir`, which survives [`Broker::restart`].
    pub fn start_persistent(dir: &Path) -> Option<Broker> {
        std::fs::create_dir_all(dir).unwrap();
        Self::start_in(Some(dir.to_path_buf()))
    }

    fn start_in(dir: Option<PathBuf>) -> Option<Broker> {
        let Some(bin) = tansu_binary() else {
            if std::env::var_os("BENGLEMA_REQUIRE_BROKER").is_some() {
                panic!("tansu not found: .ci/run installs it (cargo install tansu --locked --version 0.6.0 --features dynostore,libsql)");
            }
            eprintln!("SKIPPED: no tansu broker (run .ci/run once, or set BENGLEMA_TANSU)");
            return None;
        };
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = Self::spawn(&bin, &addr, dir.as_deref());
        Some(Broker {
            child,
            addr,
            bin,
            dir,
        })
    }

    fn spawn(bin: &Path, addr: &str, dir: Option<&Path>) -> Child {
        let url = format!("tcp://{addr}");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(
                std::env::temp_dir().join(format!("benglema-tansu-{}.log", addr.replace(':', "-"))),
            )
            .unwrap();
        let mut c = Command::new(bin);
        c.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ]);
        match dir {
            // tansu reads sqlite://NAME as a path relative to its working directory.
            Some(d) => c
                .args(["--storage-engine", "sqlite://tansu.db"])
                .current_dir(d),
            None => c.args(["--storage-engine", "memory://tansu/"]),
        };
        let child = c
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting tansu");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    /// Kills the broker (SIGKILL) and starts it again on the same address and storage.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(&self.bin, &self.addr, self.dir.as_deref());
    }

    /// Creates a topic with `partitions` partitions.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        let o = Command::new(&self.bin)
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://{}", self.addr)])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "tansu topic create {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a small simulated history around the 2022-07-22 WeChat outage (22:00 Beijing).
pub fn small_history(dir: &Path) -> PathBuf {
    let posts = dir.join("posts.jsonl");
    let o = benglema()
        .args([
            "simulate",
            "--from",
            "2022-07-22T06:00:00+08:00",
            "--days",
            "0.75",
        ])
        .args(["--rate", "20", "--out"])
        .arg(&posts)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    posts
}

/// `(event_id, service, started_at, detected_at)` of every event `backtest` finds in `posts`.
pub fn backtest_events(posts: &Path, out: &Path) -> Vec<(String, String, String, String)> {
    let o = benglema()
        .args(["backtest", "--no-series", "--input"])
        .arg(posts)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let mut rows: Vec<_> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_owned(),
                f[1].to_owned(),
                f[3].to_owned(),
                f[4].to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The same key of every *opened* event in `run`'s JSON-lines stdout.
pub fn opened(stdout: &str) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("run prints JSON lines"))
        .filter(|e| e["status"] == "open")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (
                s("event_id"),
                s("service"),
                s("started_at"),
                s("detected_at"),
            )
        })
        .collect();
    v.sort();
    v
}

/// Reads lines from a child's stdout until `pred` matches one; returns all lines read.
pub fn read_until(
    r: &mut BufReader<std::process::ChildStdout>,
    pred: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap() == 0 {
            return lines;
        }
        let hit = pred(&l);
        lines.push(l);
        if hit {
            return lines;
        }
    }
}

/// Runs a command to completion, killing it (and failing the test with what it printed) if
/// it takes longer than `secs`.
pub fn output_within(c: &mut Command, secs: u64) -> std::process::Output {
    use std::io::Read;
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = t2.join().unwrap();
            panic!(
                "{c:?} did not finish within {secs} s; stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// The posts `run`'s final summary says its state covers ("the detectors' state covers N
/// posts").
pub fn state_posts(stderr: &str) -> u64 {
    stderr
        .split("the detectors' state covers ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no state count in the summary:\n{stderr}"))
}

/// Whether a run's stderr shows a non-empty partition assignment.
pub fn got_partitions(stderr: &str) -> bool {
    stderr
        .match_indices("extract: partitions assigned: [")
        .any(|(i, m)| stderr[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// A minimal HTTP/1.1 server on loopback that answers every POST with `{"errcode":0}` and
/// records `(path, body)`; for the chat-alert tests (robots are HTTP endpoints).
pub struct Recorder {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Recorder {
    /// Starts it on a free port, serving on background threads for the life of the test.
    pub fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> = Default::default();
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve_one(conn, &s));
            }
        });
        Recorder { base, seen }
    }

    /// What was posted so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(conn: TcpStream, seen: &std::sync::Mutex<Vec<(String, String)>>) {
    use std::io::{Read, Write};
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.lock()
            .unwrap()
            .push((path, String::from_utf8_lossy(&body).into_owned()));
        let answer = "{\"errcode\":0}";
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
    }
}
