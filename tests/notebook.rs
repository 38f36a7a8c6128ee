//! The analysis notebook (`notebooks/backtest.ipynb`) runs headlessly, every cell, on the
//! output of a small backtest, through `notebooks/run_notebook.py` and the notebooks' venv.
//!
//! The venv's python is `$BENGLEMA_PYTHON` (`.ci/run` sets it from `notebooks/setup.sh`),
//! else the default venv `~/.cache/benglema/venv` (or `$BENGLEMA_VENV`). Without a usable one
//! these tests say `SKIPPED` and pass, unless `BENGLEMA_REQUIRE_NOTEBOOK` is set (as in
//! `.ci/run`), when they fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{benglema, output_within, scratch, small_history, venv_python, Venv};

/// Generous deadline for one notebook run (a hang guard, not a speed requirement).
const NOTEBOOK_DEADLINE_SECS: u64 = 900;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn notebooks() -> PathBuf {
    root().join("notebooks")
}

/// The notebooks' Python, checked to have what the notebook and the driver import.
fn python() -> Option<PathBuf> {
    venv_python(&Venv {
        python_var: "BENGLEMA_PYTHON",
        venv_var: Some("BENGLEMA_VENV"),
        default_venv: ".cache/benglema/venv",
        check: "import nbclient, nbformat, ipykernel, polars, matplotlib",
        what: "the notebook packages",
        require_var: "BENGLEMA_REQUIRE_NOTEBOOK",
        setup: "notebooks/setup.sh",
    })
}

/// Runs `notebooks/run_notebook.py NOTEBOOK ARGS...` with `BENGLEMA_OUT=out`.
fn run_notebook(python: &Path, notebook: &Path, out: &Path, args: &[&Path]) -> Output {
    let mut c = Command::new(python);
    c.arg(notebooks().join("run_notebook.py"))
        .arg(notebook)
        .args(args)
        .env("BENGLEMA_OUT", out)
        .env_remove("BENGLEMA_FONT");
    output_within(&mut c, NOTEBOOK_DEADLINE_SECS)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn committed_notebook_has_no_outputs() {
    let nb: Value =
        serde_json::from_str(&std::fs::read_to_string(notebooks().join("backtest.ipynb")).unwrap())
            .expect("the notebook is JSON");
    let cells = nb["cells"].as_array().unwrap();
    assert!(cells.iter().any(|c| c["cell_type"] == "markdown"));
    for c in cells.iter().filter(|c| c["cell_type"] == "code") {
        assert_eq!(c["outputs"], serde_json::json!([]), "outputs kept in {c}");
        assert_eq!(
            c["execution_count"],
            Value::Null,
            "execution count kept in {c}"
        );
    }
}

#[test]
fn notebook_runs_on_a_small_backtest() {
    let Some(python) = python() else { return };
    let dir = scratch("notebook");
    // Half a day around the 2022-07-22 WeChat outage: one covered, detected incident, the other
    // labels not in the data, and the model comparison.
    let posts = small_history(&dir);
    let out = dir.join("backtest");
    let o = benglema()
        .args(["backtest", "--compare", "cusum,bocpd", "--input"])
        .arg(&posts)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "backtest: {}", text(&o.stderr));

    let executed = dir.join("executed.ipynb");
    let figures = dir.join("figures");
    let o = run_notebook(
        &python,
        &notebooks().join("backtest.ipynb"),
        &out,
        &[
            Path::new("--output"),
            &executed,
            Path::new("--figures"),
            &figures,
        ],
    );
    assert!(
        o.status.success(),
        "the notebook failed on {}:\n{}\n{}",
        out.display(),
        text(&o.stdout),
        text(&o.stderr)
    );

    // It drew: the delay bars, the incident window, symptom shares, the daily overview and
    // the model comparison.
    let pngs = std::fs::read_dir(&figures)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("png".as_ref()))
        .count();
    assert_eq!(pngs, 5, "figures: {}", text(&o.stdout));
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&executed).unwrap()).unwrap();
    let said: String = nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["outputs"].as_array().cloned().unwrap_or_default())
        .filter_map(|o| match &o["text"] {
            Value::String(s) => Some(s.clone()),
            Value::Array(lines) => Some(lines.iter().filter_map(|l| l.as_str()).collect()),
            _ => None,
        })
        .collect();
    assert!(
        said.contains("1 events, 6 labelled incident rows"),
        "{said}"
    );
    // With the bundled CJK font the Chinese names are drawn as they are, not replaced by ids.
    if root().join("assets/fonts/benglema-sans.ttf").is_file() {
        assert!(said.contains("CJK font:"), "{said}");
        assert!(!said.contains("label '"), "{said}");
    }
}

#[test]
fn driver_fails_on_an_erroring_cell() {
    let Some(python) = python() else { return };
    let dir = scratch("notebook-error");
    let cell = |src: &str| {
        serde_json::json!({
            "cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
            "source": src,
        })
    };
    let nb = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            cell("import os\nprint('out is', os.environ['BENGLEMA_OUT'])"),
            cell("raise ValueError('deliberate failure in cell 2')"),
            cell("open('third-cell-ran', 'w').close()"),
        ],
    });
    let path = dir.join("broken.ipynb");
    std::fs::write(&path, serde_json::to_string(&nb).unwrap()).unwrap();

    let o = run_notebook(&python, &path, &dir, &[]);
    assert!(
        !o.status.success(),
        "an erroring cell must fail the run:\n{}",
        text(&o.stdout)
    );
    let err = text(&o.stderr);
    assert!(err.contains("ValueError"), "{err}");
    assert!(err.contains("deliberate failure in cell 2"), "{err}");
    assert!(
        !dir.join("third-cell-ran").exists(),
        "execution stops at the failing cell"
    );
}
