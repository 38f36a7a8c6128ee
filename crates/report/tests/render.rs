//! The report over a small synthetic backtest directory: one detected incident, one missed,
//! one false alarm, a service name outside the font, and a directory without series.csv.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use benglema_model::Incident;
use benglema_report::{write, ReportError, ReportOptions};
use chrono::DateTime;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "benglema-report-unit-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const T0: i64 = 1_634_486_400; // 2021-10-18T00:00:00+08:00

fn t(minute: i64) -> String {
    DateTime::from_timestamp(T0 + minute * 60, 0)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339()
}

fn incident(id: &str, service: &str, start: i64, end: Option<i64>) -> Incident {
    Incident {
        incident_id: id.into(),
        service: service.into(),
        start: Some(DateTime::parse_from_rfc3339(&t(start)).unwrap()),
        end: end.map(|e| DateTime::parse_from_rfc3339(&t(e)).unwrap()),
        acknowledged_at: None,
        symptoms: vec!["登录".into()],
        source: "test".into(),
        notes: String::new(),
    }
}

/// Writes a backtest-like directory: 微信 spikes 540-660 (detected), 支付宝 is labelled but
/// flat (missed), QQ spikes 1200-1230 with no label (false alarm), 𠀀云 is a quiet service.
fn fixture(dir: &Path, series: bool) -> Vec<Incident> {
    let services = ["微信", "支付宝", "QQ", "𠀀云"];
    if series {
        let mut s = String::from("service,minute,complaints,posts,baseline,score,alarm,in_event\n");
        for m in 0..(2 * 1440) {
            for svc in services {
                let spike = match svc {
                    "微信" if (540..660).contains(&m) => 80,
                    "QQ" if (1200..1230).contains(&m) => 30,
                    _ => (m % 7 == 0) as i64,
                };
                let _ = writeln!(s, "{svc},{},{spike},100,0.3,0.0,0,0", t(m));
            }
        }
        std::fs::write(dir.join("series.csv"), s).unwrap();
    }
    let header = "event_id,service,status,started_at,detected_at,peak_at,ended_at,peak_rate,baseline_rate,severity,score,complaints,symptoms,top_terms,sample_post_ids\n";
    let events = format!(
        "{header}e-wx,微信,resolved,{},{},{},{},80.0,0.3,strong,20.0,9000,登录:0.6;支付:0.3;消息:0.1,登不上;崩了,a;b\n\
         e-qq,QQ,resolved,{},{},{},{},30.0,0.3,moderate,9.0,900,消息:1.0,发不出去,c\n",
        t(541),
        t(544),
        t(600),
        t(662),
        t(1200),
        t(1203),
        t(1210),
        t(1231)
    );
    std::fs::write(dir.join("events.csv"), events).unwrap();
    let metrics = serde_json::json!({
        "posts": 1000, "rejects": 0, "late": 0, "duplicates": 0, "complaints": 50,
        "events": 2, "incidents_covered": 2, "incidents_detected": 1, "recall": 0.5,
        "precision": 0.5, "false_alarms": 1, "false_alarms_per_day": 0.5,
        "median_delay_minutes": 4.0, "worst_delay_minutes": 4.0, "days": 2.0,
        "seconds": 0.1, "posts_per_second": 10000.0,
        "incidents": [
            {"incident_id": "wx-1", "service": "微信", "start": t(540), "covered": true,
             "detected": true, "event_id": "e-wx", "detected_at": t(544),
             "estimated_onset": t(541), "delay_minutes": 4.0, "lead_over_ack_minutes": null},
            {"incident_id": "pay-<b>", "service": "支付宝", "start": t(1500), "covered": true,
             "detected": false, "event_id": null, "detected_at": null,
             "estimated_onset": null, "delay_minutes": null, "lead_over_ack_minutes": null}
        ],
        "false_alarm_events": ["e-qq"],
        "comparison": [{"name": "cusum", "recall": 0.5}, {"name": "bocpd", "recall": 1.0}]
    });
    std::fs::write(dir.join("metrics.json"), metrics.to_string()).unwrap();
    vec![
        incident("wx-1", "微信", 540, Some(660)),
        incident("pay-<b>", "支付宝", 1500, None),
    ]
}

fn magic(path: &Path, m: &[u8]) -> Vec<u8> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(b.len() > 1000, "{} is nearly empty", path.display());
    assert!(b.starts_with(m), "{}", path.display());
    b
}

#[test]
fn plots_and_a_self_contained_report() {
    let dir = scratch("full");
    let labels = fixture(&dir, true);
    // A stale plot of an earlier run is removed.
    std::fs::create_dir_all(dir.join("plots")).unwrap();
    std::fs::write(dir.join("plots/event-stale.png"), b"x").unwrap();
    let s = write(&dir, &labels, &ReportOptions::default()).unwrap();
    let plots = dir.join("plots");
    assert!(!plots.join("event-stale.png").exists());
    for stem in [
        "incident-wx-1-微信",
        "incident-pay-_b_-支付宝",
        "event-e-wx",
        "event-e-qq",
        "overview-微信",
        "overview-支付宝",
        "overview-QQ",
        "overview-𠀀云",
    ] {
        magic(&plots.join(format!("{stem}.png")), b"\x89PNG\r\n\x1a\n");
        magic(&plots.join(format!("{stem}.svg")), b"<svg");
    }
    assert_eq!(s.plots.len(), 16);
    let svg = std::fs::read_to_string(plots.join("incident-wx-1-微信.svg")).unwrap();
    assert!(
        svg.contains("微信 · 标注事件 incident wx-1"),
        "title as text"
    );
    assert!(
        svg.contains("发现 detected 09:04"),
        "the detection is in the legend"
    );
    let missed = std::fs::read_to_string(plots.join("incident-pay-_b_-支付宝.svg")).unwrap();
    assert!(missed.contains("MISSED"));
    assert!(missed.contains("&lt;b&gt;"), "SVG text is escaped");
    let fa = std::fs::read_to_string(plots.join("event-e-qq.svg")).unwrap();
    assert!(fa.contains("FALSE ALARM"));
    // The service name outside the font is drawn as its code point, and counted.
    let quiet = std::fs::read_to_string(plots.join("overview-𠀀云.svg")).unwrap();
    assert!(quiet.contains("U+20000云"), "fallback text, not a box");
    if s.font.contains("embedded") {
        assert!(s.missing_glyphs.contains_key(&'𠀀'));
        assert!(s.glyph_warning().unwrap().contains("U+20000"));
    }

    let html = std::fs::read_to_string(&s.report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<td>pay-&lt;b&gt;</td>"), "escaped id");
    assert!(!html.contains("pay-<b>"));
    assert!(html.contains("MISSED"));
    assert!(html.contains("误报 false alarm"));
    assert!(html.contains("bocpd"), "comparison table");
    assert_eq!(html.matches("data:image/png;base64,").count(), 8);
    for bad in ["http://", "https://", "url(", "@import", "<script", "<link"] {
        assert!(
            !html.contains(bad),
            "report.html is not self-contained: {bad}"
        );
    }
    if std::env::var_os("BENGLEMA_KEEP_TEST_OUTPUT").is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn without_series_the_report_says_so_and_has_no_plots() {
    let dir = scratch("noseries");
    let labels = fixture(&dir, false);
    let s = write(&dir, &labels, &ReportOptions::default()).unwrap();
    assert!(s.plots.is_empty());
    assert!(s.notes.iter().any(|n| n.contains("series.csv")));
    let html = std::fs::read_to_string(&s.report).unwrap();
    assert!(html.contains("no series.csv"));
    assert!(html.contains("wx-1"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_without_backtest_output_is_a_clear_error() {
    let dir = scratch("empty");
    let e = write(&dir, &[], &ReportOptions::default()).unwrap_err();
    assert!(matches!(
        e,
        ReportError::NotBacktestDir {
            file: "events.csv",
            ..
        }
    ));
    let msg = e.to_string();
    assert!(msg.contains("not a backtest output directory") && !msg.contains('\n'));
    std::fs::write(dir.join("events.csv"), "event_id\n").unwrap();
    std::fs::write(dir.join("metrics.json"), "{not json").unwrap();
    let e = write(&dir, &[], &ReportOptions::default()).unwrap_err();
    assert!(e.to_string().contains("metrics.json"), "{e}");
    // events.csv is read under the event contract: a missing column is named.
    std::fs::write(dir.join("metrics.json"), "{}").unwrap();
    let e = write(&dir, &[], &ReportOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("events.csv: no `service` column"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
