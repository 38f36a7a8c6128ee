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
use support::{scratch, venv_python, Venv};

fn nab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/real/nab")
}

fn python() -> Option<PathBuf> {
    venv_python(&Venv {
        python_var: "BENGLEMA_NAB_PYTHON",
        venv_var: Some("NAB_VENV"),
        default_venv: ".cache/benglema/nab-venv",
        check: "import pandas, simplejson, dateutil",
        what: "NAB's packages",
        require_var: "BENGLEMA_REQUIRE_NAB",
        setup: "data/real/nab/setup.sh",
    })
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
