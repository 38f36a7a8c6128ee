//! `detect-series` on real counts: NAB's realTweets files (`data/real/nab/`), scored by NAB's
//! own scorer, unmodified. Fails when the standard-profile score drops below 75, so the
//! figure in README cannot slip.
//!
//! The scorer's Python is `$BENGLEMA_NAB_PYTHON` (`.ci/run` sets it from
//! `data/real/nab/setup.sh`), else `~/.cache/benglema/nab-venv`. Without a usable one the test
//! says `SKIPPED` and passes, unless `BENGLEMA_REQUIRE_NAB` is set (as in `.ci/run`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::scratch;

fn nab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/real/nab")
}

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("BENGLEMA_NAB_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/benglema/nab-venv/bin/python")
        });
    let check = Command::new(&candidate)
        .args(["-c", "import pandas, simplejson, dateutil"])
        .output();
    let problem = match check {
        Ok(o) if o.status.success() => return Some(candidate),
        Ok(o) => format!(
            "{} lacks NAB's packages: {}",
            candidate.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("cannot run {}: {e}", candidate.display()),
    };
    if std::env::var_os("BENGLEMA_REQUIRE_NAB").is_some() {
        panic!(
            "{problem}; run data/real/nab/setup.sh and set BENGLEMA_NAB_PYTHON to what it prints"
        );
    }
    eprintln!("SKIPPED: {problem} (data/real/nab/setup.sh creates the venv)");
    None
}

#[test]
fn nab_real_tweets_standard_score_is_at_least_75() {
    let Some(py) = python() else { return };
    let json = scratch("nab").join("nab.json");
    let out = Command::new(nab_dir().join("score.sh"))
        .arg(env!("CARGO_BIN_EXE_benglema"))
        .args(["--per-file", "--json"])
        .arg(&json)
        .env("BENGLEMA_NAB_PYTHON", &py)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "score.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let profile = |p: &str| v["profiles"][p]["normalised"].as_f64().unwrap();
    let standard = profile("standard");
    // Every profile is scored, and the files and windows are the five we hold.
    assert_eq!(v["files"], 5);
    for p in ["reward_low_FP_rate", "reward_low_FN_rate"] {
        assert!(profile(p).is_finite());
    }
    assert!(
        standard >= 75.0,
        "NAB realTweets standard score {standard:.2} < 75 (README states the current figure)"
    );
}
