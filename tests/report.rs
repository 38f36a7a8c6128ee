//! End-to-end tests of the plots and HTML report: `benglema backtest` draws them by default,
//! `benglema report` draws them again from an output directory, and a bad directory is one
//! clear line and exit code 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn benglema() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_benglema"));
    c.current_dir(root());
    c
}

/// `benglema report --out dir`, which must succeed.
fn report_ok(dir: &Path) -> std::process::Output {
    let o = benglema()
        .args(["report", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benglema-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn nonempty_with_magic(path: &Path, magic: &[u8]) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 1000, "{} is nearly empty", path.display());
    assert!(
        bytes.starts_with(magic),
        "{} does not start with {magic:?}",
        path.display()
    );
}

#[test]
fn backtest_draws_plots_and_a_self_contained_report_and_report_redraws_them() {
    let out = scratch("e2e");
    let o = benglema()
        .args(["backtest", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("report.html"), "{stdout}");

    let plots = out.join("plots");
    // Every bundled label, every event and the overview of every labelled service.
    let labels = std::fs::read_to_string(root().join("data/labels/incidents.csv")).unwrap();
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let mut expected = Vec::new();
    for line in labels.lines().skip(1) {
        let mut f = line.split(',');
        let (id, service) = (f.next().unwrap(), f.next().unwrap());
        expected.push(format!("incident-{id}-{service}"));
        expected.push(format!("overview-{service}"));
    }
    let mut n_events = 0;
    for line in events.lines().skip(1) {
        let id = line.split(',').next().unwrap();
        expected.push(format!("event-{id}"));
        n_events += 1;
    }
    assert!(
        n_events >= 6,
        "the bundled history raises the six incidents"
    );
    for stem in &expected {
        nonempty_with_magic(&plots.join(format!("{stem}.png")), b"\x89PNG\r\n\x1a\n");
        nonempty_with_magic(&plots.join(format!("{stem}.svg")), b"<svg");
    }
    let svg =
        std::fs::read_to_string(plots.join("incident-2021-10-18-wechat-images-微信.svg")).unwrap();
    assert!(svg.contains("微信"), "the service name is text in the SVG");

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("2021-10-18-wechat-images"));
    assert!(html.contains("召回 recall"));
    assert!(html.matches("data:image/png;base64,").count() >= expected.len() / 2);
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "@import",
    ] {
        assert!(
            !html.contains(bad),
            "report.html refers to the network: {bad}"
        );
    }

    // `report` redraws from the directory alone (here without series.csv: no plots, a note).
    let before = std::fs::metadata(out.join("report.html")).unwrap().len();
    report_ok(&out);
    assert_eq!(
        std::fs::metadata(out.join("report.html")).unwrap().len(),
        before,
        "the same input draws the same report"
    );
    std::fs::remove_file(out.join("series.csv")).unwrap();
    let o = report_ok(&out);
    assert!(String::from_utf8_lossy(&o.stderr).contains("series.csv"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("no series.csv"));
    assert!(!html.contains("data:image/png"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn report_on_a_missing_directory_is_one_line_and_exit_2() {
    let o = benglema()
        .args(["report", "--out", "/nonexistent/benglema-out"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("/nonexistent/benglema-out") && stderr.contains("backtest"),
        "{stderr}"
    );
    assert!(o.stdout.is_empty());
}

/// `(complaints, baseline, alarm, in_event)` per service per bucket, as the report reads a
/// backtest's `series.csv` (quiet buckets filled in), over the whole history.
fn series_as_read(dir: &Path) -> std::collections::BTreeMap<(String, i64), (f64, f64, bool, bool)> {
    series_file_as_read(dir, "series.csv")
}

/// [`series_as_read`] of the series file `name` (`series.csv` or `series.parquet`).
fn series_file_as_read(
    dir: &Path,
    name: &str,
) -> std::collections::BTreeMap<(String, i64), (f64, f64, bool, bool)> {
    use benglema_report::series::{read_series, WindowRequest};
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let bucket = metrics["bucket_seconds"].as_i64().unwrap();
    assert_eq!(bucket, 60);
    let path = dir.join(name);
    let services: Vec<String> = read_series(&path, &[], bucket)
        .unwrap()
        .overview
        .into_keys()
        .collect();
    let requests: Vec<WindowRequest> = services
        .iter()
        .map(|s| WindowRequest {
            service: s.clone(),
            from: 0,
            to: i64::MAX / 4,
        })
        .collect();
    let data = read_series(&path, &requests, bucket).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for (s, points) in services.iter().zip(&data.windows) {
        for p in points {
            let old = out.insert(
                (s.clone(), p.t),
                (p.complaints, p.baseline, p.alarm, p.in_event),
            );
            assert!(old.is_none(), "{s} has two points at {}", p.t);
        }
    }
    out
}

#[test]
fn informative_series_rows_read_back_as_every_row_does() {
    let (all, some) = (scratch("rows-all"), scratch("rows-informative"));
    for (dir, rows) in [(&all, "all"), (&some, "informative")] {
        let o = benglema()
            .args(["backtest", "--no-report", "--series-rows", rows, "--out"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert_eq!(read(&all, "events.csv"), read(&some, "events.csv"));
    let (n_all, n_some) = (
        read(&all, "series.csv").lines().count(),
        read(&some, "series.csv").lines().count(),
    );
    assert!(n_some * 20 < n_all, "{n_some} rows against {n_all}");
    let dense = series_as_read(&all);
    let sparse = series_as_read(&some);
    assert_eq!(
        dense.len(),
        n_all - 1,
        "every row of the full file is a point"
    );
    let newest = sparse.keys().map(|(_, t)| *t).max().unwrap();
    let mut compared = 0;
    for (key, d) in &dense {
        let Some(s) = sparse.get(key) else {
            // Only after the sparse file's last row, and quiet there.
            assert!(
                key.1 > newest && d.0 == 0.0 && !d.2 && !d.3,
                "{key:?} {d:?} missing"
            );
            continue;
        };
        compared += 1;
        assert_eq!((s.0, s.2, s.3), (d.0, d.2, d.3), "{key:?}");
        // The held baseline is within 10 % of the written one (of 0.05 at least), plus the
        // file's rounding to four decimals.
        assert!(
            (s.1 - d.1).abs() <= 0.1 * s.1.max(0.05) + 2e-4,
            "{key:?}: baseline {} read, {} in the full file",
            s.1,
            d.1
        );
    }
    assert!(
        sparse.keys().all(|k| dense.contains_key(k)),
        "no made-up buckets"
    );
    assert!(
        compared * 10 > dense.len() * 9,
        "{compared} of {}",
        dense.len()
    );
    let _ = std::fs::remove_dir_all(all);
    let _ = std::fs::remove_dir_all(some);
}

#[test]
fn a_parquet_series_draws_what_the_csv_draws_and_a_run_leaves_no_stale_series() {
    use polars::prelude::*;
    let (csv, pq) = (scratch("series-csv"), scratch("series-parquet"));
    let backtest = |dir: &Path, series: &str| {
        let o = benglema()
            .args(["backtest", "--series", series, "--out"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let stdout = backtest(&pq, "parquet");
    assert!(stdout.contains("series.parquet"), "{stdout}");
    assert!(!pq.join("series.csv").exists());
    nonempty_with_magic(&pq.join("series.parquet"), b"PAR1");
    // Into a directory that holds an earlier run's series.parquet.
    std::fs::create_dir_all(&csv).unwrap();
    std::fs::copy(pq.join("series.parquet"), csv.join("series.parquet")).unwrap();
    backtest(&csv, "csv");
    assert!(
        !csv.join("series.parquet").exists(),
        "the stale series.parquet is gone"
    );
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert_eq!(read(&csv, "events.csv"), read(&pq, "events.csv"));
    // The same rows and values, every column...
    let from_pq = ParquetReader::new(std::fs::File::open(pq.join("series.parquet")).unwrap())
        .finish()
        .unwrap();
    let from_csv = CsvReadOptions::default()
        .with_schema(Some(from_pq.schema().clone()))
        .try_into_reader_with_file_path(Some(csv.join("series.csv")))
        .unwrap()
        .finish()
        .unwrap();
    assert!(from_pq.height() > 1000, "{} rows", from_pq.height());
    assert!(from_csv.equals(&from_pq), "{from_csv} against {from_pq}");
    // ...read by the report as the same points...
    let points = series_file_as_read(&csv, "series.csv");
    assert_eq!(points, series_file_as_read(&pq, "series.parquet"));
    // ...and drawn as the same plots, byte for byte.
    let mut plots: Vec<_> = std::fs::read_dir(csv.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    plots.sort();
    assert!(plots.len() > 10, "{plots:?}");
    for p in &plots {
        assert_eq!(
            read(&csv.join("plots"), p.to_str().unwrap()),
            read(&pq.join("plots"), p.to_str().unwrap()),
            "{p:?}"
        );
    }
    // Both files in one directory (not a backtest's doing): the newer is drawn, and said.
    std::fs::copy(csv.join("series.csv"), pq.join("series.csv")).unwrap();
    report_ok(&pq);
    let html = std::fs::read_to_string(pq.join("report.html")).unwrap();
    assert!(
        html.contains("drawn from the newer, series.csv"),
        "the report says which"
    );
    // A run without a series removes both, so the report draws no stale plots.
    let stdout = backtest(&pq, "none");
    assert!(!stdout.contains("series."), "{stdout}");
    assert!(!pq.join("series.parquet").exists() && !pq.join("series.csv").exists());
    let html = std::fs::read_to_string(pq.join("report.html")).unwrap();
    assert!(
        html.contains("no series.csv or series.parquet"),
        "the report says why"
    );
    let _ = std::fs::remove_dir_all(csv);
    let _ = std::fs::remove_dir_all(pq);
}
