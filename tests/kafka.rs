//! End-to-end tests of `run`, `produce` and `export` against real Kafka-protocol brokers:
//! tansu on loopback (installed by .ci/run) and librdkafka's in-process cluster.

mod support;

use std::collections::BTreeSet;
use std::io::BufReader;
use std::process::Stdio;
use std::time::Duration;

use support::*;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_on_a_one_partition_topic_raises_what_backtest_raises() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-equal");
    let posts = small_history(&dir);
    let expected = backtest_events(&posts, &dir.join("bt"));
    assert!(
        expected.iter().any(|e| e.1 == "微信"),
        "the small history must contain the WeChat outage: {expected:?}"
    );
    broker.create_topic("posts", 1);
    let o = output_within(
        benglema()
            .args(["produce", "--brokers", &broker.addr, "--input"])
            .arg(&posts),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = output_within(
        benglema()
            .args(["run", "--brokers", &broker.addr, "--exit-on-eof", "--state"])
            .arg(dir.join("state")),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(opened(&text(&o.stdout)), expected, "{}", text(&o.stderr));

    // The events topic holds the same events; export reduces it to one row per event.
    let o = output_within(
        benglema().args(["export", "--brokers", &broker.addr, "--format", "jsonl"]),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ids: Vec<String> = text(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let want: Vec<String> = expected.iter().map(|e| e.0.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, want);

    // A long-running consumer stops cleanly on SIGTERM: it checkpoints and says so.
    let c = benglema()
        .args(["run", "--brokers", &broker.addr, "--state"])
        .arg(dir.join("state"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let _ = std::process::Command::new("kill")
        .arg(c.id().to_string())
        .status();
    let o = c.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("stopping (checkpointing first"), "{err}");
    assert!(
        err.contains("0 posts read"),
        "everything was committed before: {err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn kill_9_in_an_outage_then_restart_loses_and_duplicates_nothing() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-kill");
    let posts = small_history(&dir);
    let expected = backtest_events(&posts, &dir.join("bt"));
    broker.create_topic("posts", 1);
    // Posts arrive live, paced, while the detector runs.
    let mut producer = benglema()
        .args([
            "produce",
            "--brokers",
            &broker.addr,
            "--rate",
            "4000",
            "--input",
        ])
        .arg(&posts)
        .spawn()
        .unwrap();
    let state = dir.join("state");
    let run = |exit: bool| {
        let mut c = benglema();
        c.args([
            "run",
            "--brokers",
            &broker.addr,
            "--checkpoint-seconds",
            "0.2",
        ])
        // The killed member holds the partition until its session times out.
        .args([
            "-X",
            "session.timeout.ms=6000",
            "-X",
            "heartbeat.interval.ms=500",
        ])
        .arg("--state")
        .arg(&state);
        if exit {
            c.arg("--exit-on-eof");
        }
        c
    };
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut first = run(false)
        .args(["--metrics-addr", &metrics_addr])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(first.stdout.take().unwrap());
    let before = read_until(&mut out, |l| l.contains("\"status\":\"open\""));
    assert!(
        before.iter().any(|l| l.contains("\"status\":\"open\"")),
        "no event before the posts ran out"
    );
    let metrics = http_get(&metrics_addr, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    for m in [
        "benglema_posts_in_total",
        "benglema_events_raised_total 1",
        "benglema_consumer_lag_messages",
        "benglema_posts_per_second",
        "benglema_watermark_seconds 1658",
    ] {
        assert!(metrics.contains(m), "{m} missing:\n{metrics}");
    }
    let health = http_get(&metrics_addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // Let a checkpoint or two pass inside the outage, then kill without warning.
    std::thread::sleep(Duration::from_millis(500));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let before: Vec<String> = before
        .into_iter()
        .chain(std::io::BufRead::lines(out).map_while(Result::ok))
        .collect();
    let o = producer.wait().unwrap();
    assert!(o.success());
    // The dead member keeps the partition until its session (6 s here) expires; tansu does
    // not rebalance a group when that happens, so join only after it has.
    std::thread::sleep(Duration::from_secs(8));
    let second = output_within(&mut run(true), 180);
    let err = text(&second.stderr);
    assert!(second.status.success(), "{err}");
    assert!(err.contains("resuming from checkpoint at offset"), "{err}");

    // Every incident found once, with the ids and times of an uninterrupted backtest.
    let all = before.join("\n") + "\n" + &text(&second.stdout);
    let mut opened_ids: Vec<_> = opened(&all);
    opened_ids.dedup();
    assert_eq!(opened_ids, expected, "{err}");
    // A replayed event is the same event: the same id never opens with different content.
    let ids: BTreeSet<_> = opened_ids.iter().map(|e| e.0.clone()).collect();
    assert_eq!(ids.len(), opened_ids.len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn malformed_posts_land_in_the_dead_letter_topic_with_reasons() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-dlq");
    let good = small_history(&dir);
    let mut lines: Vec<String> = std::fs::read_to_string(&good)
        .unwrap()
        .lines()
        .take(2000)
        .map(str::to_owned)
        .collect();
    let bad = [
        "{not json",
        r#"{"id":"x1","text":"微信崩了"}"#,
        r#"{"id":"x2","created_at":"yesterday","text":"微信崩了"}"#,
        r#"{"id":"x3","created_at":"2022-07-22T10:00:00+08:00","text":""}"#,
        "[1,2,3]",
    ];
    for (i, b) in bad.iter().enumerate() {
        lines.insert(100 + i * 300, (*b).to_owned());
    }
    // A valid post an hour older than the stream, after 1,900 newer ones: its minute closed
    // long ago, so it is not counted but dead-lettered as late.
    let late = r#"{"id":"late1","created_at":"2022-07-22T05:00:00+08:00","text":"微信崩了"}"#;
    lines.insert(1900, late.to_owned());
    let mixed = dir.join("mixed.jsonl");
    std::fs::write(&mixed, lines.join("\n") + "\n").unwrap();
    broker.create_topic("posts", 1);
    let o = output_within(
        benglema()
            .args(["produce", "--raw", "--brokers", &broker.addr, "--input"])
            .arg(&mixed),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = output_within(
        benglema().args([
            "run",
            "--brokers",
            &broker.addr,
            "--exit-on-eof",
            "--metrics-addr",
            "127.0.0.1:0",
        ]),
        180,
    );
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "{} posts read, {} dead-lettered ({} malformed, 1 late)",
            lines.len(),
            bad.len() + 1,
            bad.len()
        )),
        "{err}"
    );
    // Read the DLQ back: every bad record and the late post, byte for byte, with a reason.
    let letters = read_dlq(&broker.addr, "posts.dlq", bad.len() + 1);
    let payloads: BTreeSet<String> = letters.iter().map(|l| l.0.clone()).collect();
    let want: BTreeSet<String> = bad.iter().chain([&late]).map(|s| s.to_string()).collect();
    assert_eq!(payloads, want);
    let late_reason = &letters.iter().find(|l| l.0 == late).unwrap().1;
    assert!(
        late_reason.starts_with(
            "late: created_at 2022-07-22T05:00:00+08:00 falls in a time bucket this partition's \
             detector had closed or never opened (its event time had reached 2022-07-22T0"
        ) && late_reason.ends_with("allowed lateness 120 s); not counted"),
        "{late_reason}"
    );
    for (payload, reason, source) in &letters {
        assert!(!reason.is_empty(), "no reason for {payload}");
        assert!(source.starts_with("posts/0/"), "{source}");
    }
    assert!(
        letters.iter().any(|l| l.1.contains("created_at")),
        "{letters:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s
}

fn read_dlq(addr: &str, topic: &str, n: usize) -> Vec<(String, String, String)> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while got.len() < n && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(200)) {
            let mut reason = String::new();
            let mut source = String::new();
            if let Some(h) = m.headers() {
                for x in h.iter() {
                    let v = text(x.value.unwrap_or_default());
                    match x.key {
                        "benglema.reason" => reason = v,
                        "benglema.source" => source = v,
                        _ => {}
                    }
                }
            }
            got.push((text(m.payload().unwrap_or_default()), reason, source));
        }
    }
    got
}

#[test]
fn two_processes_in_one_group_split_the_partitions_and_agree_with_one() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-group");
    let posts = small_history(&dir);
    broker.create_topic("posts", 4);
    let o = output_within(
        benglema()
            .args([
                "produce",
                "--key",
                "service",
                "--brokers",
                &broker.addr,
                "--input",
            ])
            .arg(&posts),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let run = |group: &str, events: &str| {
        let mut c = benglema();
        c.args([
            "run",
            "--brokers",
            &broker.addr,
            "--exit-on-eof",
            "--group",
            group,
        ])
        .args(["--events-topic", events, "--state"])
        .arg(dir.join(group));
        c
    };
    let one = output_within(&mut run("solo", "events-solo"), 180);
    assert!(one.status.success(), "{}", text(&one.stderr));
    let solo = opened(&text(&one.stdout));
    assert!(solo.iter().any(|e| e.1 == "微信"), "{solo:?}");

    let mut ra = run("pair", "events-pair");
    let mut rb = run("pair", "events-pair");
    let a = std::thread::spawn(move || output_within(&mut ra, 180));
    let b = output_within(&mut rb, 180);
    let a = a.join().unwrap();
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        text(&a.stderr),
        text(&b.stderr)
    );
    for p in [&a, &b] {
        assert!(
            got_partitions(&text(&p.stderr)),
            "a member got no partitions:\n{}",
            text(&p.stderr)
        );
    }
    let mut pair = opened(&(text(&a.stdout) + &text(&b.stdout)));
    pair.dedup();
    assert_eq!(pair, solo);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unreachable_broker_is_reported_and_retried_until_stopped() {
    let c = benglema()
        .args(["run", "--brokers", "127.0.0.1:1"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(8));
    // SIGTERM: a clean stop.
    let _ = std::process::Command::new("kill")
        .arg(c.id().to_string())
        .status();
    let o = c.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert!(err.contains("cannot reach Kafka at 127.0.0.1:1"), "{err}");
    assert!(
        err.contains("retrying in 1 s") && err.contains("retrying in 2 s"),
        "{err}"
    );
    assert!(o.status.success(), "{err}");
}

#[test]
fn the_embedded_cluster_runs_the_detector_over_tcp_and_matches_backtest() {
    let dir = scratch("kafka-embedded");
    let posts = small_history(&dir);
    let expected = backtest_events(&posts, &dir.join("bt"));
    let csv = dir.join("events.csv");
    let robot = Recorder::start();
    let o = output_within(
        benglema()
            .args(["run", "--speed", "1000000", "--input"])
            .arg(&posts)
            .arg("--events-csv")
            .arg(&csv)
            .args(["--alert-wecom", &format!("{}/wecom?key=k", robot.base)])
            .args(["--alert-webhook", &format!("{}/hook", robot.base)])
            .args(["--public-url", "https://status.example.com"]),
        180,
    );
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("in-process Kafka cluster at"), "{err}");
    assert_eq!(opened(&text(&o.stdout)), expected, "{err}");
    // Every opened event reached both chats (with its resolve when it resolved).
    let got = robot.requests();
    let hooks: Vec<serde_json::Value> = got
        .iter()
        .filter(|r| r.0 == "/hook")
        .map(|r| serde_json::from_str(&r.1).unwrap())
        .collect();
    let opened_ids: BTreeSet<String> = hooks
        .iter()
        .filter(|e| e["status"] == "open")
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = expected.iter().map(|e| e.0.clone()).collect();
    assert_eq!(opened_ids, want, "{err}");
    let wecom: Vec<&(String, String)> = got.iter().filter(|r| r.0 == "/wecom?key=k").collect();
    assert_eq!(wecom.len(), hooks.len(), "{got:?}");
    assert!(
        wecom.iter().any(|r| r.1.contains("微信 疑似故障")
            && r.1.contains("https://status.example.com/service/")),
        "{wecom:?}"
    );
    let header = std::fs::read_to_string(&csv).unwrap();
    assert!(
        header.starts_with("event_id,service,status,started_at"),
        "{header}"
    );

    // export: latest state per id, filters, three formats.
    let jsonl = dir.join("events.jsonl");
    std::fs::write(&jsonl, &o.stdout).unwrap();
    let states = text(&o.stdout).lines().count();
    assert!(states > expected.len(), "expected open + later states");
    let export = |extra: &[&str]| {
        let o = output_within(
            benglema()
                .args(["export", "--input"])
                .arg(&jsonl)
                .args(extra),
            60,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let all = export(&[]);
    let rows: Vec<&str> = all.lines().collect();
    assert_eq!(rows[0].split(',').count(), 15, "{}", rows[0]);
    assert_eq!(rows.len() - 1, expected.len(), "one row per event:\n{all}");
    assert!(
        rows[1..].iter().all(|r| !r.contains(",open,")),
        "latest state wins:\n{all}"
    );
    assert_eq!(
        export(&["--service", "QQ"]).lines().count(),
        1,
        "header only"
    );
    assert_eq!(
        export(&["--until", "2022-07-22T21:00:00+08:00"])
            .lines()
            .count(),
        1
    );
    let wechat = export(&[
        "--service",
        "微信",
        "--since",
        "2022-07-22T22:30:00+08:00",
        "--format",
        "jsonl",
    ]);
    assert_eq!(wechat.lines().count(), 1, "{wechat}");
    let pq = dir.join("events.parquet");
    let o = output_within(
        benglema()
            .args(["export", "--format", "parquet", "--input"])
            .arg(&jsonl)
            .arg("--out")
            .arg(&pq),
        60,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bytes = std::fs::read(&pq).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    let o = output_within(
        benglema()
            .args(["export", "--since", "yesterday", "--input"])
            .arg(&jsonl),
        60,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("RFC 3339"), "{}", text(&o.stderr));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_kafka_flags_and_files_get_one_clear_line() {
    let dir = scratch("kafka-flags");
    let check = |args: &[&str], want: &str| {
        let o = output_within(benglema().args(args), 60);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    check(
        &[
            "run",
            "--brokers",
            "127.0.0.1:1",
            "-X",
            "no.such.property=1",
        ],
        "no.such.property",
    );
    check(&["run", "-X", "novalue"], "key=value");
    let cfg = dir.join("kafka.toml");
    std::fs::write(&cfg, "brokerz = \"x:1\"\n").unwrap();
    check(&["run", "--kafka-config", cfg.to_str().unwrap()], "brokerz");
    check(&["produce"], "pass --brokers");
    check(&["export"], "nothing to export");
    check(
        &["run", "--speed", "0"],
        "--speed must be a positive number",
    );
    check(
        &["run", "--brokers", "127.0.0.1:1", "--input", "x.jsonl"],
        "embedded cluster only",
    );
    check(
        &["run", "--role", "detect"],
        "--role extract|detect needs --brokers",
    );
    check(
        &["run", "--role", "sideways"],
        "possible values: both, extract, detect",
    );
    check(
        &["run", "--repartition-topic", "x"],
        "--repartition-topic needs --brokers",
    );
    check(
        &["run", "--repartition-partitions", "0"],
        "--repartition-partitions must be between 1 and 10000",
    );
    check(
        &["run", "--idle-seconds", "0"],
        "--idle-seconds must be at least 1",
    );
    check(
        &[
            "run",
            "--brokers",
            "127.0.0.1:1",
            "--role",
            "extract",
            "--http",
            "127.0.0.1:0",
        ],
        "served by the detect stage",
    );
    check(
        &["run", "--post-url", "https://m.weibo.cn/detail/"],
        "with {id} where the post id goes",
    );
    check(
        &["run", "--http", "127.0.0.1:1", "--no-http"],
        "cannot be used with",
    );
    check(
        &["produce", "--brokers", "127.0.0.1:1", "--key", "user"],
        "possible values: id, service, constant, none",
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Joins `group` with a consumer of another topic until it is given a partition, then
/// leaves: every join and leave makes the group rebalance, so each member subscribed to the
/// posts topic has its partitions revoked and at once assigned back.
fn join_and_leave(addr: &str, group: &str, topic: &str) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", group)
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline && c.assignment().map_or(0, |a| a.count()) == 0 {
        let _ = c.poll(Duration::from_millis(100));
    }
    c.unsubscribe();
    let _ = c.poll(Duration::from_millis(100));
}

#[test]
fn a_revoke_followed_at_once_by_a_reassign_of_the_same_partition_loses_no_post() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-revoke");
    let posts = small_history(&dir);
    let bt = dir.join("bt");
    let expected = backtest_events(&posts, &bt);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bt.join("metrics.json")).unwrap()).unwrap();
    let counted = metrics["posts"].as_u64().unwrap();
    broker.create_topic("posts", 1);
    broker.create_topic("elsewhere", 1);
    // Posts arrive live while the group rebalances under the detector again and again; the
    // checkpoint (every 5 s) is behind the detector at each revoke. One post per record
    // batch: tansu 0.6's memory engine answers a fetch from inside a batch with the batches
    // after it (it lists them by base offset), so resuming at a checkpoint that fell inside
    // one skipped the rest of it (seen under load; Kafka itself returns the whole batch).
    let mut producer = benglema()
        .args(["produce", "--brokers", &broker.addr, "--rate", "2500"])
        .args(["-X", "batch.num.messages=1"])
        .arg("--input")
        .arg(&posts)
        .spawn()
        .unwrap();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut run = benglema()
        .args(["run", "--brokers", &broker.addr, "--state"])
        .arg(dir.join("state"))
        .args(["--metrics-addr", &metrics_addr])
        .args([
            "-X",
            "session.timeout.ms=6000",
            "-X",
            "heartbeat.interval.ms=500",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = run.stdout.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let stderr = BufReader::new(run.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let err_reader = std::thread::spawn(move || {
        for l in std::io::BufRead::lines(stderr).map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let mut err = String::new();
    let mut assigned = 0;
    let mut wait_for_assignments = |n: usize, err: &mut String| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while assigned < n && std::time::Instant::now() < deadline {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
                assigned += usize::from(l.contains("extract: partitions assigned: [0]"));
                err.push_str(&l);
                err.push('\n');
            }
        }
        assert!(
            assigned >= n,
            "the partition was not assigned {n} times:\n{err}"
        );
    };
    wait_for_assignments(1, &mut err);
    std::thread::sleep(Duration::from_secs(2));
    // Each join and each leave is a revoke of [0] and its re-assignment.
    for k in 0..4 {
        join_and_leave(&broker.addr, "benglema", "elsewhere");
        wait_for_assignments(3 + 2 * k, &mut err);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(producer.wait().unwrap().success());
    // Caught up: the posts-in counter stands still for five seconds after the last
    // assignment and the end of the input.
    let posts_in = || {
        http_get(&metrics_addr, "/metrics")
            .lines()
            .find_map(|l| l.strip_prefix("benglema_posts_in_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let mut last = (posts_in(), std::time::Instant::now());
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while last.1.elapsed() < Duration::from_secs(5) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        let now = posts_in();
        if now != last.0 {
            last = (now, std::time::Instant::now());
        }
    }
    let _ = std::process::Command::new("kill")
        .arg(run.id().to_string())
        .status();
    let status = run.wait().unwrap();
    err_reader.join().unwrap();
    err.extend(rx.try_iter().map(|l| l + "\n"));
    let stdout = out.join().unwrap();
    assert!(status.success(), "{err}");
    // Every post is in the detector's state exactly once: none skipped at a re-assign, none
    // counted twice by a replay.
    let held = state_posts(&err);
    assert_eq!(held, counted, "{err}");
    let mut got = opened(&stdout);
    got.dedup();
    assert_eq!(got, expected, "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Events of `run` over a topic of `partitions` partitions keyed by `key`, with `extract`
/// and `detect` processes per stage (one `--role both` process when both are 1).
fn staged_run(
    broker: &Broker,
    dir: &std::path::Path,
    posts: &std::path::Path,
    name: &str,
    partitions: i32,
    key: &str,
    processes: (usize, usize),
) -> Vec<(String, String, String, String)> {
    let topic = format!("posts-{name}");
    broker.create_topic(&topic, partitions);
    let o = output_within(
        benglema()
            .args(["produce", "--key", key, "--brokers", &broker.addr])
            .args(["--topic", &topic, "--input"])
            .arg(posts),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let cmd = |role: &str| {
        let mut c = benglema();
        c.args(["run", "--brokers", &broker.addr, "--exit-on-eof"])
            .args(["--topic", &topic, "--group", name, "--role", role])
            .args(["--events-topic", &format!("events-{name}")])
            .args(["--idle-seconds", "3", "--state"])
            .arg(dir.join(name));
        c
    };
    let roles: Vec<&str> = if processes == (1, 1) {
        vec!["both"]
    } else {
        std::iter::repeat_n("extract", processes.0)
            .chain(std::iter::repeat_n("detect", processes.1))
            .collect()
    };
    let children: Vec<_> = roles
        .iter()
        .map(|r| {
            let mut c = cmd(r);
            std::thread::spawn(move || output_within(&mut c, 240))
        })
        .collect();
    let mut stdout = String::new();
    for (role, c) in roles.iter().zip(children) {
        let o = c.join().unwrap();
        assert!(o.status.success(), "{role}: {}", text(&o.stderr));
        stdout += &text(&o.stdout);
    }
    let mut got = opened(&stdout);
    got.dedup();
    got
}

#[test]
fn any_partitioning_and_any_number_of_processes_give_backtests_events() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-staged");
    let posts = small_history(&dir);
    let expected = backtest_events(&posts, &dir.join("bt"));
    assert!(expected.iter().any(|e| e.1 == "微信"), "{expected:?}");
    for (name, partitions, key, processes) in [
        ("p4-id", 4, "id", (1, 1)),
        ("p12-constant", 12, "constant", (1, 1)),
        ("p4-none-2x3", 4, "none", (2, 3)),
        ("p12-id-3x2", 12, "id", (3, 2)),
    ] {
        let got = staged_run(&broker, &dir, &posts, name, partitions, key, processes);
        assert_eq!(
            got, expected,
            "{partitions} partitions keyed by {key}, {processes:?} processes"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn kill_9_of_either_stage_and_a_broker_restart_lose_and_duplicate_nothing() {
    let dir = scratch("kafka-stages-kill");
    let Some(mut broker) = Broker::start_persistent(&dir.join("broker")) else {
        return;
    };
    let posts = small_history(&dir);
    let bt = dir.join("bt");
    let expected = backtest_events(&posts, &bt);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bt.join("metrics.json")).unwrap()).unwrap();
    let counted = metrics["posts"].as_u64().unwrap();
    broker.create_topic("posts", 4);
    let mut producer = benglema()
        .args(["produce", "--brokers", &broker.addr, "--rate", "4000"])
        .arg("--input")
        .arg(&posts)
        .spawn()
        .unwrap();
    let addr = broker.addr.clone();
    let stage = |role: &str, exit: bool| {
        let mut c = benglema();
        c.args(["run", "--brokers", &addr, "--role", role])
            .args(["--checkpoint-seconds", "0.2", "--idle-seconds", "3"])
            .args([
                "-X",
                "session.timeout.ms=6000",
                "-X",
                "heartbeat.interval.ms=500",
            ])
            .arg("--state")
            .arg(dir.join("state"));
        if exit {
            c.arg("--exit-on-eof");
        }
        c
    };
    let mut extract = stage("extract", false)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut detect = stage("detect", false)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(detect.stdout.take().unwrap());
    let before = read_until(&mut out, |l| l.contains("\"status\":\"open\""));
    assert!(
        before.iter().any(|l| l.contains("\"status\":\"open\"")),
        "no event before the posts ran out"
    );
    // Inside the outage: kill the detect process, then the extract process, without warning.
    std::thread::sleep(Duration::from_millis(500));
    detect.kill().unwrap();
    detect.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    extract.kill().unwrap();
    extract.wait().unwrap();
    let before: Vec<String> = before
        .into_iter()
        .chain(std::io::BufRead::lines(out).map_while(Result::ok))
        .collect();
    assert!(producer.wait().unwrap().success());
    // And the broker too: everything it holds must come back from its SQLite database.
    broker.restart();
    // The dead members' sessions (6 s) must expire before replacements join (see README).
    std::thread::sleep(Duration::from_secs(8));
    let mut e2 = stage("extract", true);
    let e2 = std::thread::spawn(move || output_within(&mut e2, 240));
    let d2 = output_within(&mut stage("detect", true), 240);
    let e2 = e2.join().unwrap();
    let (e_err, d_err) = (text(&e2.stderr), text(&d2.stderr));
    assert!(e2.status.success(), "{e_err}");
    assert!(d2.status.success(), "{d_err}");
    assert!(
        e_err.contains("resuming from checkpoint at offset"),
        "{e_err}"
    );
    assert!(
        d_err.contains("resuming from checkpoint at offset"),
        "{d_err}"
    );
    // Every post in the extract stage's state once: none lost, none counted twice.
    let held = state_posts(&e_err);
    assert_eq!(held, counted, "{e_err}");
    // The union of the events published equals an uninterrupted backtest.
    let all = before.join("\n") + "\n" + &text(&d2.stdout);
    let mut got = opened(&all);
    got.dedup();
    assert_eq!(got, expected, "{d_err}");
    drop(broker);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bench_kafka_measures_the_bare_consumer_both_stages_and_the_extract_stage() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let o = output_within(
        benglema().args([
            "bench-kafka",
            "--brokers",
            &broker.addr,
            "--posts",
            "20000",
            "--partitions",
            "2",
        ]),
        300,
    );
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}\n{out}", text(&o.stderr));
    for row in [
        "| bare rdkafka consumer",
        "| run, both stages in one process",
        "| extract stage alone, 1 process | 20000 |",
        "| extract stage alone, 2 processes in one group | 20000",
    ] {
        assert!(out.contains(row), "{row} missing:\n{out}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("| run, both") && l.contains("| 20000 |")),
        "{out}"
    );
    let per_post: f64 = out
        .split("messages, ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no bytes per post:\n{out}"));
    assert!(per_post > 0.0, "{out}");
    assert!(out.contains("detect task with 68 series"), "{out}");
}

#[test]
fn pretty_lines_carry_the_time_of_each_state_and_quiet_minutes_say_so() {
    let dir = scratch("kafka-pretty");
    let posts = small_history(&dir);
    let o = output_within(
        benglema()
            .args(["run", "--pretty", "--speed", "1000000", "--input"])
            .arg(&posts),
        180,
    );
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Per event id: the time of each state, in order; an open is followed by later states.
    let mut times: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for l in out.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if matches!(
            f.first(),
            Some(&"OPEN") | Some(&"UPDATED") | Some(&"RESOLVED")
        ) {
            let id = l
                .rsplit('[')
                .next()
                .unwrap()
                .trim_end_matches(']')
                .to_owned();
            times
                .entry(id)
                .or_default()
                .push((f[0].to_owned(), format!("{} {}", f[1], f[2])));
        }
    }
    let wechat = times
        .values()
        .find(|v| v.len() >= 2)
        .unwrap_or_else(|| panic!("no event with a later state:\n{out}"));
    let (first, last) = (&wechat[0], wechat.last().unwrap());
    assert_eq!(first.0, "OPEN");
    assert!(
        last.1 > first.1,
        "a later state shows its own time, after the detection: {wechat:?}"
    );
    assert!(
        wechat.windows(2).all(|w| w[0].1 <= w[1].1),
        "states in time order: {wechat:?}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with('·') && l.contains("quiet:") && l.contains("services watched")),
        "no quiet-minute summary:\n{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_detect_stage_serves_the_status_page_in_a_two_stage_deployment() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = scratch("kafka-status");
    let posts = small_history(&dir);
    broker.create_topic("posts", 2);
    let o = output_within(
        benglema()
            .args(["produce", "--brokers", &broker.addr, "--input"])
            .arg(&posts),
        180,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let port = free_port();
    let stage = |role: &str| {
        let mut c = benglema();
        c.args(["run", "--brokers", &broker.addr, "--role", role])
            .args(["--idle-seconds", "3", "--state"])
            .arg(dir.join("state"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    /// Killed on drop, also when an assertion fails.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let extract = Killed(stage("extract").spawn().unwrap());
    let detect = Killed(
        stage("detect")
            .args(["--http", &format!("127.0.0.1:{port}")])
            .args(["--post-url", "https://m.weibo.cn/detail/{id}"])
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| -> Option<serde_json::Value> {
        http.get(format!("{base}{path}")).send().ok()?.json().ok()
    };
    // 微信's outage (22:00; the history ends before it resolves), on the detect process's
    // page.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let wechat = loop {
        let v = get("/api/services/%E5%BE%AE%E4%BF%A1");
        if let Some(v) = v.filter(|v| v["open_event"].is_object()) {
            break v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no open 微信 event on the status page"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_ne!(wechat["status"], "normal", "{wechat}");
    assert_eq!(wechat["content_over"], "event", "{wechat}");
    assert!(
        !wechat["symptoms"].as_array().unwrap().is_empty(),
        "{wechat}"
    );
    assert!(wechat["complaints_day"].as_u64().unwrap() > 100, "{wechat}");
    let sample = &wechat["samples"][0];
    assert!(
        sample["url"]
            .as_str()
            .unwrap()
            .starts_with("https://m.weibo.cn/detail/"),
        "{sample}"
    );
    assert!(!sample["text"].as_str().unwrap().is_empty(), "{sample}");
    let events = get("/api/events?service=%E5%BE%AE%E4%BF%A1").unwrap();
    assert!(!events["events"].as_array().unwrap().is_empty(), "{events}");
    let services = get("/api/services").unwrap();
    assert!(services["through_unix"].as_i64().unwrap() > 0, "{services}");
    // /metrics and /healthz beside the page.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("benglema_detect_final_seconds"),
        "{metrics}"
    );
    let health = http.get(format!("{base}/healthz")).send().unwrap();
    assert_eq!(health.status(), 200);
    let page = http.get(format!("{base}/")).send().unwrap().text().unwrap();
    assert!(page.contains("崩了吗"), "{page}");
    drop((detect, extract));
    let _ = std::fs::remove_dir_all(dir);
}
