//! The board and its JSON: what goes in comes out in the documented shapes, worst first,
//! within the window; and the routes over real TCP (pages, JSON, 404, headers, live ticks).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use benglema_detect::{BucketCounts, DetectorConfig, Sample, SeriesPoint, ServiceCounts};
use benglema_model::{EventStatus, OutageEvent, Severity};
use benglema_status::api::EventsQuery;
use benglema_status::{Assets, Board, BoardOptions, CSP};
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// 2026-01-02 00:00 UTC, a minute boundary.
const T0: i64 = 1_767_312_000;

fn at(unix: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp(unix, 0)
        .unwrap()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
}

fn board() -> Board {
    let mut o = BoardOptions::new(&DetectorConfig::default());
    o.post_url = Some("https://m.weibo.cn/detail/{id}".into());
    Board::new(o)
}

fn point(service: &str, minute: i64, complaints: u64, expected: f64) -> SeriesPoint {
    SeriesPoint {
        service: service.into(),
        bucket_start: at(T0 + minute * 60),
        complaints,
        posts: 1000,
        expected,
        score: 0.0,
        alarm: false,
        in_event: false,
    }
}

fn counts(service: &str, minute: i64, n: u64, text: &str) -> BucketCounts {
    let mut c = ServiceCounts {
        complaints: n,
        ..ServiceCounts::default()
    };
    c.symptoms.insert("登录".into(), n);
    c.symptoms.insert("支付".into(), n / 2);
    c.terms.insert("闪退".into(), n);
    c.offer_sample(
        Sample::new(T0 + minute * 60 + 5, &format!("p{minute}"), text),
        5,
    );
    BucketCounts {
        posts: 1000,
        complaint_posts: n,
        services: BTreeMap::from([(service.to_owned(), c)]),
    }
}

fn event(service: &str, status: EventStatus, severity: Severity, start: i64) -> OutageEvent {
    OutageEvent {
        event_id: format!("{service}-{start}"),
        service: service.into(),
        status,
        started_at: at(T0 + start * 60),
        detected_at: at(T0 + (start + 3) * 60),
        peak_at: at(T0 + (start + 5) * 60),
        ended_at: (status == EventStatus::Resolved).then(|| at(T0 + (start + 40) * 60)),
        peak_rate: 80.0,
        baseline_rate: 2.0,
        severity,
        score: 0.99,
        complaints: 900,
        symptoms: vec![("登录".into(), 0.7), ("支付".into(), 0.2)],
        top_terms: vec!["闪退".into()],
        sample_post_ids: vec!["p1".into()],
    }
}

#[test]
fn services_come_worst_first_with_their_last_hour_and_sparkline() {
    let b = board();
    {
        let mut w = b.write();
        for m in 0..120 {
            w.point(&point("微信", m, if m >= 100 { 50 } else { 1 }, 1.0));
            w.point(&point("淘宝", m, 2, 1.0));
            w.point(&point("抖音", m, 0, 0.5));
        }
        w.counts(
            T0 / 60 + 110,
            &counts("微信", 110, 50, "微信崩了 <script>alert(1)</script>"),
        );
        w.event(
            &event("微信", EventStatus::Open, Severity::Strong, 100),
            T0 / 60 + 103,
        );
        w.advance(T0 + 120 * 60);
    }
    let v = b.services();
    assert_eq!(v.through_unix, Some(T0 + 120 * 60));
    assert_eq!(v.utc_offset_seconds, 8 * 3600);
    let names: Vec<&str> = v.services.iter().map(|s| s.service.as_str()).collect();
    // 抖音 had no complaint in the window: not listed.
    assert_eq!(names, ["微信", "淘宝"]);
    let wx = &v.services[0];
    assert_eq!(serde_json::to_value(wx.status).unwrap(), "strong");
    assert_eq!(wx.status_label, "严重故障");
    assert_eq!(wx.complaints_hour, 20 * 50 + 40);
    assert!((wx.expected_hour - 60.0).abs() < 1e-9);
    assert_eq!(wx.complaints_day, 100 + 20 * 50);
    assert_eq!(wx.sparkline.len(), 96);
    // The last 15-minute bar ends at `through`: minutes 105..120.
    assert_eq!(*wx.sparkline.last().unwrap(), 15 * 50);
    assert_eq!(wx.open_event.as_ref().unwrap().event_id, "微信-100");
    assert_eq!(v.services[1].status_label, "正常");

    // Resolved: back to 正常.
    b.write().event(
        &event("微信", EventStatus::Resolved, Severity::Strong, 100),
        T0 / 60 + 140,
    );
    let resolved = |b: &Board| {
        let v = b.services();
        let wx = v.services.iter().find(|s| s.service == "微信").unwrap();
        assert_eq!(wx.events, 1);
        wx.status_label == "正常" && wx.open_event.is_none()
    };
    assert!(resolved(&b));
    // A task restarted from its checkpoint replays the open state from its earlier minute:
    // the page stays on the newer state.
    b.write().event(
        &event("微信", EventStatus::Open, Severity::Strong, 100),
        T0 / 60 + 103,
    );
    assert!(resolved(&b));
    assert_eq!(
        b.events(&EventsQuery::default()).events[0].status,
        EventStatus::Resolved
    );
}

#[test]
fn the_service_view_has_its_minutes_content_samples_and_events() {
    let b = board();
    {
        let mut w = b.write();
        for m in 10..20 {
            w.point(&point("微信", m, m as u64, 0.5));
        }
        w.counts(T0 / 60 + 12, &counts("微信", 12, 12, "第一条"));
        w.counts(
            T0 / 60 + 15,
            &counts("微信", 15, 15, "微信崩了 <script>alert(1)</script>"),
        );
        // A replay of minute 15 is not counted twice.
        w.counts(T0 / 60 + 15, &counts("微信", 15, 15, "again"));
        w.event(
            &event("微信", EventStatus::Resolved, Severity::Weak, 12),
            T0 / 60 + 52,
        );
        w.advance(T0 + 20 * 60);
    }
    let v = b.service("微信").unwrap();
    assert_eq!(v.t0_unix, Some(T0 + 10 * 60));
    assert_eq!(v.complaints, (10..20).collect::<Vec<u64>>());
    assert_eq!(v.expected, vec![Some(0.5); 10]);
    assert_eq!(v.content_over, "window");
    assert_eq!(v.symptoms[0].name, "登录");
    assert_eq!(v.symptoms[0].count, 27);
    assert!((v.symptoms[0].share - 27.0 / 145.0).abs() < 1e-9);
    assert_eq!(v.terms[0].name, "闪退");
    // Newest first, text kept as given (the page sets it as text), linked.
    assert_eq!(v.samples.len(), 2);
    assert_eq!(v.samples[0].text, "微信崩了 <script>alert(1)</script>");
    assert_eq!(
        v.samples[0].url.as_deref(),
        Some("https://m.weibo.cn/detail/p15")
    );
    assert_eq!(v.events.len(), 1);
    assert!(b.service("淘宝").is_none());

    // The JSON carries the summary's fields flat beside the series.
    let j: Value = serde_json::to_value(&v).unwrap();
    for k in [
        "service",
        "status",
        "status_label",
        "complaints_hour",
        "sparkline",
        "t0_unix",
        "complaints",
        "expected",
        "symptoms",
        "terms",
        "samples",
        "events",
        "through",
    ] {
        assert!(j.get(k).is_some(), "{k} missing from {j}");
    }
}

#[test]
fn history_older_than_the_window_goes_and_events_are_bounded() {
    let mut o = BoardOptions::new(&DetectorConfig::default());
    o.events = 3;
    let b = Board::new(o);
    {
        let mut w = b.write();
        w.point(&point("微信", 0, 5, 1.0));
        w.counts(T0 / 60, &counts("微信", 0, 5, "old"));
        for k in 0..5 {
            w.event(
                &event("微信", EventStatus::Resolved, Severity::Weak, k * 100),
                T0 / 60 + k * 100 + 40,
            );
        }
        w.point(&point("淘宝", 1500, 1, 1.0));
        w.advance(T0 + 1501 * 60);
    }
    // 微信's minute 0 is more than 24 hours before `through`; its events stay (3 newest).
    let v = b.service("微信").unwrap();
    assert!(v.complaints.iter().all(|c| *c == 0));
    assert!(v.samples.is_empty());
    assert_eq!(v.events.len(), 3);
    let all = b.events(&EventsQuery::default());
    assert_eq!(all.events.len(), 3);
    assert_eq!(all.events[0].event_id, "微信-400");
    let t = b.service("淘宝").unwrap();
    // The arrays span the window only.
    assert_eq!(t.complaints.len(), 1440);
    assert_eq!(t.t0_unix, Some(T0 + 61 * 60));
    // A day later, the resolved events have left the window too, and 微信 the board.
    b.write().advance(T0 + 3000 * 60);
    assert!(b.events(&EventsQuery::default()).events.is_empty());
    assert!(b.service("微信").is_none());
    let none = b.events(&EventsQuery {
        status: Some("open".into()),
        ..EventsQuery::default()
    });
    assert!(none.events.is_empty());
}

#[test]
fn discovered_names_without_a_series_are_not_kept() {
    let b = board();
    let mut c = counts("小蓝书", 3, 4, "小蓝书崩了");
    c.services.get_mut("小蓝书").unwrap().discovered = true;
    b.write().counts(T0 / 60 + 3, &c);
    assert!(b.service("小蓝书").is_none());
    {
        let mut w = b.write();
        w.point(&point("小蓝书", 4, 9, 0.1));
        let mut c = counts("小蓝书", 4, 9, "小蓝书又崩了");
        c.services.get_mut("小蓝书").unwrap().discovered = true;
        w.counts(T0 / 60 + 4, &c);
        w.advance(T0 + 5 * 60);
    }
    let v = b.service("小蓝书").unwrap();
    assert!(v.summary.discovered);
    assert_eq!(v.samples[0].text, "小蓝书又崩了");
}

static FONT: &[u8] = b"not really a font";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_serve_pages_json_and_live_ticks() {
    let board = Arc::new(board());
    {
        let mut w = board.write();
        w.point(&point("微信", 0, 3, 1.0));
        w.advance(T0 + 60);
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let router = benglema_status::loopback_only(
        benglema_status::router(board.clone(), Assets { font: FONT }),
        addr.port(),
    );
    tokio::spawn(benglema_status::serve(listener, router));
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    for (path, kind, needle) in [
        ("/", "text/html", "data-page=\"index\""),
        (
            "/service/%E5%BE%AE%E4%BF%A1",
            "text/html",
            "data-page=\"service\"",
        ),
        ("/assets/app.js", "text/javascript", "textContent"),
        ("/assets/app.css", "text/css", "benglema-sans"),
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(h["content-security-policy"], CSP, "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    // Another name for this address (a DNS name rebound to 127.0.0.1) is refused.
    let r = client
        .get(format!("{base}/api/services"))
        .header("host", format!("evil.example:{}", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    let r = client
        .get(format!("http://localhost:{}/", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let font = client
        .get(format!("{base}/assets/benglema-sans.ttf"))
        .send()
        .await
        .unwrap();
    assert_eq!(font.bytes().await.unwrap().as_ref(), FONT);

    let v: Value = client
        .get(format!("{base}/api/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["services"][0]["service"], "微信");
    assert_eq!(v["services"][0]["status"], "normal");
    let r = client
        .get(format!("{base}/api/services/%E5%BE%AE%E4%BF%A1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["complaints"], serde_json::json!([3]));
    let r = client
        .get(format!("{base}/api/services/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("/api/services"));
    let r = client
        .get(format!("{base}/api/events?status=open&limit=5"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{base}/api/events?limit=lots"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Live: the stream says the current tick, then the next one after a change.
    let mut sse = client
        .get(format!("{base}/api/stream"))
        .send()
        .await
        .unwrap();
    assert!(sse.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut got = String::new();
    let first = tokio::time::timeout(Duration::from_secs(10), sse.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    got.push_str(&String::from_utf8_lossy(&first));
    assert!(got.contains("event: tick"), "{got}");
    assert!(got.contains("\"version\":1"), "{got}");
    board.write().advance(T0 + 120);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !got.contains("\"version\":2") {
        let c = tokio::time::timeout_at(deadline, sse.chunk())
            .await
            .expect("a second tick within 10 s")
            .unwrap()
            .unwrap();
        got.push_str(&String::from_utf8_lossy(&c));
    }
    assert!(got.contains(&format!("\"through\":{}", T0 + 120)), "{got}");
}
