//! The backtest end to end: the bundled labelled history must find every seed incident
//! with no false alarm; archives in every format, with bad and duplicate rows, replay to the
//! same events.

use std::io::Write;
use std::path::{Path, PathBuf};

use benglema_backtest::{run, BacktestOptions, Metrics, SeriesFormat};
use benglema_detect::DetectorConfig;
use benglema_text::Extractor;
use polars::prelude::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn labels() -> Vec<benglema_model::Incident> {
    benglema_io::read_incidents(&root().join("data/labels/incidents.csv")).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benglema-bt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The posts of a simulated day around the 2021 incident, as JSON lines.
fn simulated_day(seed: u64) -> Vec<String> {
    let from = chrono::DateTime::parse_from_rfc3339("2021-10-18T00:00:00+08:00").unwrap();
    let mut spec = benglema_synth::SimSpec::new(seed, from, from + chrono::Duration::days(1));
    spec.incidents = labels();
    benglema_synth::simulate(&spec)
        .map(|s| s.post.to_json())
        .collect()
}

fn backtest(inputs: Vec<PathBuf>, out: &Path) -> Metrics {
    backtest_warm(inputs, out, 0)
}

fn backtest_warm(inputs: Vec<PathBuf>, out: &Path, warm_up_minutes: i64) -> Metrics {
    backtest_with(inputs, out, warm_up_minutes, 1)
}

fn backtest_with(
    inputs: Vec<PathBuf>,
    out: &Path,
    warm_up_minutes: i64,
    threads: usize,
) -> Metrics {
    let ex = Extractor::embedded();
    let opts = BacktestOptions {
        inputs,
        labels: labels(),
        out_dir: out.to_owned(),
        config: DetectorConfig::default(),
        series: Some(SeriesFormat::Csv),
        series_every_bucket: false,
        compare: Vec::new(),
        name: "cusum".into(),
        warm_up_minutes,
        threads,
    };
    run(&opts, &ex, &mut |_| {}).unwrap()
}

#[test]
fn bundled_history_finds_every_seed_incident_without_false_alarms() {
    let out = tmp("bundled");
    let m = backtest(vec![], &out);
    println!("{}", serde_json::to_string_pretty(&m).unwrap());
    assert_eq!(m.incidents_covered, labels().len());
    assert_eq!(m.recall, Some(1.0), "{:#?}", m.incidents);
    assert_eq!(m.false_alarms, 0, "{:?}", m.false_alarm_events);
    assert!(
        m.median_delay_minutes.unwrap() <= 5.0,
        "{:?}",
        m.median_delay_minutes
    );
    assert_eq!(m.rejects, 0);
    for f in ["events.csv", "series.csv", "metrics.json", "rejects.jsonl"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let events = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(out.join("events.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let names: Vec<&str> = events
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(names, benglema_model::EVENT_CSV_COLUMNS);
    assert!(events.height() >= labels().len() - 1);
}

#[test]
fn every_format_replays_to_the_same_events_and_bad_rows_are_rejected() {
    let dir = tmp("formats");
    // A simulated day around the 2021 incident, as JSONL with junk and repeats mixed in.
    let jsons = simulated_day(5);
    let lines: Vec<&str> = jsons.iter().map(String::as_str).collect();
    let mut dirty = String::new();
    for (i, l) in lines.iter().enumerate() {
        dirty.push_str(l);
        dirty.push('\n');
        if i % 5000 == 0 {
            dirty.push_str("not json at all\n");
            dirty.push_str("{\"id\":\"x\",\"text\":\"no time\"}\n");
            dirty.push_str(l); // a re-delivery
            dirty.push('\n');
        }
    }
    let jsonl = dir.join("dirty.jsonl");
    std::fs::write(&jsonl, &dirty).unwrap();
    let gz = dir.join("dirty.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(dirty.as_bytes()).unwrap();
    enc.finish().unwrap();
    let zst = dir.join("dirty.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(dirty.as_bytes(), 3).unwrap()).unwrap();

    // The clean posts as CSV and Parquet, through polars.
    let posts: Vec<benglema_model::Post> = lines
        .iter()
        .map(|l| benglema_model::Post::parse_str(l).unwrap())
        .collect();
    let mut df = DataFrame::new(
        posts.len(),
        vec![
            Column::new(
                "id".into(),
                posts.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "created_at".into(),
                posts
                    .iter()
                    .map(|p| p.created_at.to_rfc3339())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "text".into(),
                posts.iter().map(|p| p.text.clone()).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap();
    let csv = dir.join("posts.csv");
    CsvWriter::new(std::fs::File::create(&csv).unwrap())
        .finish(&mut df)
        .unwrap();
    let parquet = dir.join("posts.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut df)
        .unwrap();

    let events_of = |m: &Metrics, out: &Path| -> String {
        assert!(m.events >= 1, "the 2021 incident is in this day");
        std::fs::read_to_string(out.join("events.csv")).unwrap()
    };
    let base_out = dir.join("out-jsonl");
    let base = backtest(vec![jsonl.clone()], &base_out);
    let n_bad = lines.len().div_ceil(5000);
    assert_eq!(base.rejects as usize, 2 * n_bad);
    assert_eq!(base.duplicates as usize, n_bad);
    let rejects = std::fs::read_to_string(base_out.join("rejects.jsonl")).unwrap();
    assert_eq!(rejects.lines().count(), 2 * n_bad);
    assert!(rejects.contains("missing field `created_at`") && rejects.contains("not valid JSON"));
    let want = events_of(&base, &base_out);
    for (name, input) in [("gz", gz), ("zst", zst), ("csv", csv), ("parquet", parquet)] {
        let out = dir.join(format!("out-{name}"));
        let m = backtest(vec![input], &out);
        assert_eq!(events_of(&m, &out), want, "{name}");
        assert_eq!(m.incidents_detected, base.incidents_detected, "{name}");
    }
}

#[test]
fn a_warm_up_primes_without_scoring() {
    // One simulated day around the 2021 incident (09:00): with a 12-hour warm-up the
    // incident falls inside it, so it is neither covered nor written; after it, the day's
    // second half is scored.
    let dir = tmp("warm");
    let from = chrono::DateTime::parse_from_rfc3339("2021-10-18T00:00:00+08:00").unwrap();
    let mut spec = benglema_synth::SimSpec::new(5, from, from + chrono::Duration::days(1));
    spec.incidents = labels();
    let mut text = String::new();
    for s in benglema_synth::simulate(&spec) {
        text.push_str(&s.post.to_json());
        text.push('\n');
    }
    let input = dir.join("day.jsonl");
    std::fs::write(&input, text).unwrap();
    let cold = backtest_warm(vec![input.clone()], &dir.join("cold"), 0);
    assert_eq!((cold.incidents_covered, cold.incidents_detected), (1, 1));
    let warm = backtest_warm(vec![input], &dir.join("warm"), 12 * 60);
    assert_eq!(warm.incidents_covered, 0, "{:#?}", warm.incidents);
    assert_eq!(warm.events, 0);
    assert!((warm.days - 0.5).abs() < 0.01, "{}", warm.days);
    let csv = std::fs::read_to_string(dir.join("warm").join("events.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    assert_eq!(warm.first_day_false_alarms, 0);
}

#[test]
fn any_number_of_threads_gives_the_same_outputs_byte_for_byte() {
    let dir = tmp("threads");
    // A simulated day around the 2021 incident, with junk, repeats and out-of-order posts
    // mixed in, in a compressed file (read on its own thread).
    let jsons = simulated_day(9);
    let mut dirty = String::new();
    for (i, l) in jsons.iter().enumerate() {
        dirty.push_str(l);
        dirty.push('\n');
        if i % 3001 == 0 {
            dirty.push_str("not json at all\n");
            dirty.push_str(&jsons[i / 2]); // late, and a re-delivery
            dirty.push('\n');
        }
    }
    let zst = dir.join("dirty.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(dirty.as_bytes(), 3).unwrap()).unwrap();
    let files = ["events.csv", "series.csv", "rejects.jsonl"];
    let read = |out: &Path| -> Vec<Vec<u8>> {
        files
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect()
    };
    let without_timing = |m: &Metrics| {
        let mut v = serde_json::to_value(m).unwrap();
        for k in ["seconds", "posts_per_second"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    let one = dir.join("t1");
    let m1 = backtest_with(vec![zst.clone()], &one, 0, 1);
    assert!(m1.rejects > 0 && m1.late + m1.duplicates > 0, "{m1:?}");
    assert!(m1.events > 0, "{m1:?}");
    let want = read(&one);
    for threads in [2, 3, 8] {
        let out = dir.join(format!("t{threads}"));
        let m = backtest_with(vec![zst.clone()], &out, 0, threads);
        for (f, (a, b)) in files.iter().zip(want.iter().zip(read(&out))) {
            assert!(*a == b, "{f} differs with {threads} threads");
        }
        assert_eq!(without_timing(&m), without_timing(&m1), "{threads} threads");
    }
    // The bundled history too (no files: generated on the reader thread).
    let b1 = dir.join("b1");
    let b2 = dir.join("b2");
    backtest_with(Vec::new(), &b1, 0, 1);
    backtest_with(Vec::new(), &b2, 0, 2);
    assert_eq!(read(&b1), read(&b2));
    let _ = std::fs::remove_dir_all(dir);
}
