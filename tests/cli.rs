//! End-to-end tests of the `benglema` binary: post contract → extractor → JSONL, article →
//! labels CSV, and how bad input and bad flags are reported.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use benglema_io::parse_incidents;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn benglema() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_benglema"));
    c.current_dir(root());
    c
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = benglema()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("benglema starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn classify_marks_signals_and_reports_bad_lines_in_place() {
    let mut input = Vec::new();
    input.extend_from_slice(
        "{\"id\":\"1\",\"created_at\":\"2021-10-18T10:02:13+08:00\",\"text\":\"微信崩了吗？图片发不出去\"}\n".as_bytes(),
    );
    input.extend_from_slice(
        "{\"id\":2,\"timestamp\":1634522533,\"content\":\"考试挂了，心态崩了\"}\n".as_bytes(),
    );
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"not json\n");
    input.extend_from_slice(b"{\"id\":\"4\",\"text\":\"x\"}\n");
    input.extend_from_slice(b"{\"id\":\"5\",\"time\":1634522533,\"text\":\"\xff\xfe\"}\n");
    input.extend_from_slice(
        "{\"id\":\"6\",\"created_at\":\"Mon Oct 18 10:02:13 +0800 2021\",\"text\":\"wx恢复了\"}"
            .as_bytes(),
    );
    let o = run_with_stdin(&["classify"], &input);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "one output line per non-blank input line");
    let sig = &lines[0]["signal"];
    assert_eq!(sig["service"], "微信");
    assert_eq!(sig["kind"], "complaint");
    assert_eq!(sig["symptoms"], serde_json::json!(["图片/文件"]));
    assert!(sig["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(lines[0]["text"], "微信崩了吗？图片发不出去");
    assert_eq!(lines[1]["signal"], Value::Null);
    assert_eq!(lines[1]["id"], "2");
    assert_eq!(lines[2]["line"], 4);
    assert!(lines[2]["error"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    assert_eq!(lines[3]["line"], 5);
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .contains("missing field `created_at`"));
    assert_eq!(lines[4]["line"], 6);
    assert!(lines[4]["error"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(lines[5]["signal"]["kind"], "recovery");
    assert_eq!(lines[5]["created_at"], "2021-10-18T10:02:13+08:00");
    let e = stderr(&o);
    assert!(
        e.contains("3 posts: 1 complaints, 1 recoveries, 0 denials; 3 invalid lines"),
        "{e}"
    );
}

#[test]
fn classify_sample_runs_on_the_bundled_posts() {
    let o = benglema()
        .args(["classify", "--sample", "--signals-only"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("392 posts"), "{}", stderr(&o));
    let n = String::from_utf8(o.stdout).unwrap().lines().count();
    assert!((200..392).contains(&n), "{n} signal lines");
}

#[test]
fn export_into_a_closed_pipe_is_not_an_error() {
    use benglema_model::{EventStatus, OutageEvent, Severity};
    // 12,000 event states, far more than a pipe buffer holds, read by `| head -1`.
    let t = chrono::DateTime::parse_from_rfc3339("2021-10-18T09:00:00+08:00").unwrap();
    let mut text = String::new();
    for i in 0..12_000 {
        let e = OutageEvent {
            event_id: format!("20211018-0900-{i:08x}"),
            service: "微信".into(),
            status: EventStatus::Open,
            started_at: t,
            detected_at: t,
            peak_at: t,
            ended_at: None,
            peak_rate: 12.0,
            baseline_rate: 0.1,
            severity: Severity::Moderate,
            score: 14.5,
            complaints: 40,
            symptoms: vec![("登录".into(), 1.0)],
            top_terms: vec!["登录".into()],
            sample_post_ids: vec!["p1".into()],
        };
        text.push_str(&serde_json::to_string(&e).unwrap());
        text.push('\n');
    }
    let input = std::env::temp_dir().join(format!("benglema-pipe-{}.jsonl", std::process::id()));
    std::fs::write(&input, text).unwrap();
    for format in ["csv", "jsonl"] {
        let mut child = benglema()
            .args(["export", "--format", format, "--input"])
            .arg(&input)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{format}: {}", stderr(&o));
    }
    let _ = std::fs::remove_file(&input);
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut child = benglema()
        .args(["classify", "--sample"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    // The reader is dropped here: benglema's next writes hit a closed pipe.
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn bad_files_and_flags_get_one_clear_line() {
    let o = benglema()
        .args(["classify", "--input", "/nonexistent/posts.jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("benglema: cannot open /nonexistent/posts.jsonl"),
        "{e}"
    );

    // Exit code 2 and the error's text, for each bad flag or file.
    let fails = |args: &[&str], says: &str| {
        let o = benglema().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    };
    fails(
        &["classify", "--models", "/nonexistent"],
        "/nonexistent/services.toml",
    );
    fails(
        &[
            "labels",
            "extract",
            "--date",
            "2023-02-30",
            "data/seeds/002_a060ce8b8e6dd489.txt",
        ],
        "is not a date like 2023-03-29",
    );
    fails(&["classify", "--frobnicate"], "--frobnicate");
    fails(
        &["backtest", "--warm-up", "5x"],
        "is not a duration such as 90m, 6h or 2d",
    );
    // The harder history writes its own labels, so it needs somewhere to put them.
    fails(
        &[
            "simulate",
            "--hard",
            "--out",
            "/tmp/x.jsonl",
            "--from",
            "2024-03-04T00:00:00+08:00",
            "--days",
            "1",
        ],
        "--labels-out",
    );
}

#[test]
fn labels_extract_drafts_the_seed_incidents() {
    let o = benglema()
        .args([
            "labels",
            "extract",
            "data/seeds/000_cc3c66284a0755e1.txt",
            "data/seeds/001_c86397a2bbd07763.txt",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = parse_incidents(&o.stdout, "stdout").unwrap();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.service.clone(), r.start.unwrap().date_naive().to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("微信".to_string(), "2021-10-18".to_string()),
            ("微信".to_string(), "2022-07-22".to_string())
        ]
    );
    assert_eq!(rows[0].symptoms, vec!["图片/文件"]);
    assert_eq!(
        rows[0].end.unwrap().to_rfc3339(),
        "2021-10-18T11:55:00+08:00"
    );

    // The undated article needs --date, and says so.
    let o = benglema()
        .args(["labels", "extract", "data/seeds/002_a060ce8b8e6dd489.txt"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the article states no date; pass --date YYYY-MM-DD"),
        "{}",
        stderr(&o)
    );

    let o = benglema().args(["labels", "check"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 rows, valid"), "{}", stderr(&o));
}

#[test]
fn simulate_backtest_and_bench_on_a_small_window() {
    let dir = std::env::temp_dir().join(format!("benglema-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let posts = dir.join("posts.jsonl.gz");
    let o = benglema()
        .args([
            "simulate",
            "--from",
            "2021-10-18T08:30:00+08:00",
            "--days",
            "0.1",
            "--out",
        ])
        .arg(&posts)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("posts written"), "{}", stderr(&o));

    let out = dir.join("bt");
    let o = benglema()
        .args(["backtest", "--input"])
        .arg(&posts)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("2021-10-18-wechat-images") && table.contains("yes"),
        "{table}"
    );
    assert!(
        table.contains("recall 1.00 (1 of 1 covered incidents)"),
        "{table}"
    );
    for f in ["events.csv", "series.csv", "metrics.json", "rejects.jsonl"] {
        assert!(out.join(f).exists(), "{f}");
    }

    // Models side by side on the same posts: one row each, and the main detector's figures
    // are those of a run without rivals.
    let alone: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let both = dir.join("both");
    let o = benglema()
        .args([
            "backtest",
            "--no-series",
            "--compare",
            "cusum,bocpd",
            "--input",
        ])
        .arg(&posts)
        .arg("--out")
        .arg(&both)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("side by side"), "{table}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(both.join("metrics.json")).unwrap()).unwrap();
    let rows = m["comparison"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["name"], "cusum");
    assert_eq!(rows[1]["name"], "bocpd");
    for k in ["events", "recall", "false_alarms", "median_delay_minutes"] {
        assert_eq!(rows[0][k], alone[k], "{k}");
    }
    assert!(alone.get("comparison").is_none());

    // The sweep: the configured detector plus the grid, one row each.
    let o = benglema()
        .args(["backtest", "--no-series", "--sweep", "--input"])
        .arg(&posts)
        .arg("--out")
        .arg(dir.join("sweep"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("sweep").join("metrics.json")).unwrap(),
    )
    .unwrap();
    let rows = m["comparison"].as_array().unwrap();
    assert_eq!(rows[0]["name"], "configured");
    assert_eq!(rows.len(), 30, "the default is one of the 30 grid points");
    assert!(rows.iter().any(|r| r["name"] == "cusum h=15 k=[5] n=8"));
    assert!(rows.iter().any(|r| r["name"] == "bocpd p=0.99 r=3"));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("cusum h=5 k=[3,10,50] n=5"), "{table}");

    let o = benglema()
        .args(["bench", "--input"])
        .arg(&posts)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert_eq!(s.matches("posts/s").count(), 3, "{s}");
    // Side by side: the floor and both backtests, each a table row against the floor.
    let o = benglema()
        .args([
            "bench",
            "--backtest",
            "--threads",
            "2",
            "--repeat",
            "2",
            "--input",
        ])
        .arg(&posts)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 5, "{s}");
    assert!(
        rows[0].contains("2 threads, median of 2 alternated rounds"),
        "{s}"
    );
    assert!(
        rows[1].starts_with("| floor") && rows[1].contains("| 1.00 | 1.00 |"),
        "{s}"
    );
    assert!(rows[2].starts_with("| backtest (series + report)"), "{s}");
    assert!(
        rows[3].starts_with("| backtest --series parquet (+ report)"),
        "{s}"
    );
    assert!(
        rows[4].starts_with("| backtest --series none --no-report"),
        "{s}"
    );
    let n = |row: &str| {
        row.split('|')
            .nth(2)
            .unwrap()
            .trim()
            .parse::<f64>()
            .unwrap()
    };
    assert!(rows[1..].iter().all(|r| n(r) > 0.0), "{s}");

    // Bad inputs: one line, exit 2.
    let o = benglema()
        .args(["backtest", "--input", "/nonexistent/posts.jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/nonexistent/posts.jsonl"),
        "{}",
        stderr(&o)
    );
    let o = benglema()
        .args(["backtest", "--input", "README.md"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown input format; use .jsonl"),
        "{}",
        stderr(&o)
    );
    let o = benglema()
        .args(["simulate", "--out"])
        .arg(dir.join("x.jsonl"))
        .args(["--from", "2021-10-18T00:00:00+08:00", "--days", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--days 0 must be within"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn detect_series_reads_stdin_and_reports_bad_rows() {
    let mut csv = String::from("timestamp,value\n");
    for i in 0..600 {
        let v = if (500..510).contains(&i) {
            60
        } else {
            4 + i % 3
        };
        csv.push_str(&format!(
            "2024-03-01T{:02}:{:02}:00+08:00,{v}\n",
            i / 60,
            i % 60
        ));
    }
    let o = run_with_stdin(&["detect-series", "--bucket", "60"], csv.as_bytes());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("timestamp,value,expected,score,alarm"));
    let alarms: Vec<&str> = lines.filter(|l| l.ends_with(",1")).collect();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert!(
        alarms[0].starts_with("2024-03-01T08:20:00+08:00"),
        "{alarms:?}"
    );

    let o = run_with_stdin(
        &["detect-series"],
        b"timestamp,value\n2024-01-01 00:00:00,many\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("row 1: value \"many\" is not a number"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_outage_of_an_unlisted_service_is_discovered() {
    // 小蓝书 is in no gazetteer (models/services.toml); the simulator injects its outage.
    let dir = std::env::temp_dir().join(format!("benglema-discovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let services = std::fs::read_to_string(root().join("models/services.toml")).unwrap();
    assert!(!services.contains("小蓝书"), "小蓝书 must stay unlisted");
    let labels = root().join("data/labels/discovery.csv");
    let posts = dir.join("posts.jsonl");
    let o = benglema()
        .args(["simulate", "--labels"])
        .arg(&labels)
        .args(["--from", "2024-06-11T12:00:00+08:00", "--days", "1.5"])
        .arg("--out")
        .arg(&posts)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    let backtest = |extra: &[&str], out: &str| {
        let o = benglema()
            .args(["backtest", "--input"])
            .arg(&posts)
            .arg("--labels")
            .arg(&labels)
            .arg("--out")
            .arg(dir.join(out))
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let table = backtest(&[], "on");
    assert!(
        table.contains("recall 1.00 (1 of 1 covered incidents), precision 1.00"),
        "{table}"
    );
    assert!(table.contains("new-service discovery: "), "{table}");
    let events = std::fs::read_to_string(dir.join("on/events.csv")).unwrap();
    assert!(
        events
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(1) == Some("小蓝书")),
        "{events}"
    );

    // With discovery off the same history raises nothing: discovery is what finds it.
    let off = dir.join("detector-off.toml");
    let config = std::fs::read_to_string(root().join("models/detector.toml"))
        .unwrap()
        .replace("enabled = true", "enabled = false");
    std::fs::write(&off, config).unwrap();
    let table = backtest(&["--config", off.to_str().unwrap()], "off");
    assert!(
        table.contains("recall 0.00 (0 of 1 covered incidents)"),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn train_writes_a_plain_text_model_with_its_evaluation() {
    let dir = std::env::temp_dir().join(format!("benglema-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let model = dir.join("m/classifier.txt");
    // A small, quick fit: 2^10 slots, no simulated posts, one comparison set.
    let o = benglema()
        .args([
            "train",
            "--bits",
            "10",
            "--simulated",
            "0",
            "--threshold",
            "0.5",
            "--compare",
            "data/posts/novel.jsonl",
            "--out",
        ])
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("held-out split") && out.contains("novel.jsonl"),
        "{out}"
    );
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(
        text.contains("format benglema-logreg 1\nbits 10\n"),
        "{text}"
    );
    assert!(text.lines().filter(|l| l.starts_with("w ")).count() > 100);
    let eval: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("m/classifier.eval.json")).unwrap())
            .unwrap();
    let f1 = eval["holdout"]["f1"].as_f64().unwrap();
    assert!(f1 > 0.5, "held-out F1 {f1}");
    assert_eq!(eval["comparison"][1]["set"], "novel.jsonl");

    // The model loads as part of a models directory: copy the rule models beside it.
    for f in [
        "services.toml",
        "symptoms.toml",
        "cues.toml",
        "userdict.txt",
    ] {
        std::fs::copy(root().join("models").join(f), dir.join("m").join(f)).unwrap();
    }
    let o = run_with_stdin(
        &["classify", "--models", dir.join("m").to_str().unwrap()],
        "{\"id\":\"a\",\"created_at\":\"2024-01-01T00:00:00+08:00\",\"text\":\"微信崩了\"}\n"
            .as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // A broken model file is one clear line.
    std::fs::write(&model, "format benglema-logreg 1\nbits 10\nw 5000 1\n").unwrap();
    let o = run_with_stdin(
        &["classify", "--models", dir.join("m").to_str().unwrap()],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("classifier.txt"), "{}", stderr(&o));

    let o = benglema()
        .args(["train", "--bits", "40", "--out"])
        .arg(dir.join("x.txt"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--bits 40"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_command_that_writes_to_stdout_takes_a_closed_pipe_as_success() {
    let dir = std::env::temp_dir().join(format!("benglema-closed-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nab = "data/real/nab/tree/data/realTweets/Twitter_volume_AAPL.csv";
    let events = dir.join("events.jsonl");
    let e = r#"{"event_id":"e1","service":"微信","status":"open","started_at":"2021-10-18T09:00:00+08:00","detected_at":"2021-10-18T09:04:00+08:00","peak_at":"2021-10-18T09:05:00+08:00","ended_at":null,"peak_rate":12.0,"baseline_rate":0.1,"severity":"moderate","score":14.5,"complaints":40,"symptoms":[],"top_terms":[],"sample_post_ids":[]}"#;
    std::fs::write(&events, format!("{e}\n")).unwrap();
    let out = dir.join("bt");
    let commands: Vec<Vec<&str>> = vec![
        vec!["classify", "--sample"],
        vec!["labels", "extract", "data/seeds/000_cc3c66284a0755e1.txt"],
        vec!["labels", "check"],
        vec!["detect-series", "--input", nab],
        vec![
            "export",
            "--format",
            "csv",
            "--input",
            events.to_str().unwrap(),
        ],
        vec![
            "export",
            "--format",
            "jsonl",
            "--input",
            events.to_str().unwrap(),
        ],
        vec![
            "export",
            "--format",
            "parquet",
            "--input",
            events.to_str().unwrap(),
        ],
        vec![
            "backtest",
            "--no-series",
            "--no-report",
            "--out",
            out.to_str().unwrap(),
        ],
    ];
    for args in commands {
        let mut child = benglema()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command has written anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(o.status.success(), "{args:?}: {:?} {err}", o.status);
        assert!(
            !err.to_lowercase().contains("broken pipe"),
            "{args:?}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
