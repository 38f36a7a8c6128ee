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
    let o = benglema()
        .args(["report", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::metadata(out.join("report.html")).unwrap().len(),
        before,
        "the same input draws the same report"
    );
    std::fs::remove_file(out.join("series.csv")).unwrap();
    let o = benglema()
        .args(["report", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
