//! The alerter against a local HTTP server that checks what each robot would check: the
//! body's shape, and for DingTalk and Feishu the signature, recomputed here from the
//! vendors' documented recipe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use benglema_alert::{AlertConfig, AlertCounters, Alerter, Target};
use benglema_model::{EventStatus, OutageEvent, Severity};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Default)]
struct Seen {
    requests: Vec<(String, HashMap<String, String>, Value)>,
    flaky_left: u32,
    limited_left: u32,
}

type Shared = Arc<Mutex<Seen>>;

async fn hook(
    State(seen): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    let (status, answer) = {
        let mut s = seen.lock().unwrap();
        s.requests.push((name.clone(), q, body));
        match name.as_str() {
            "flaky" if s.flaky_left > 0 => {
                s.flaky_left -= 1;
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, json!({}))
            }
            "limited" if s.limited_left > 0 => {
                s.limited_left -= 1;
                (
                    axum::http::StatusCode::OK,
                    json!({"errcode": 130101, "errmsg": "send too fast"}),
                )
            }
            "refuse" => (
                axum::http::StatusCode::OK,
                json!({"errcode": 310000, "errmsg": "sign not match"}),
            ),
            _ => (axum::http::StatusCode::OK, json!({"errcode": 0, "code": 0})),
        }
    };
    if name == "slow" {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    (status, Json(answer))
}

/// A server on a free loopback port, on `rt`.
fn server(rt: &tokio::runtime::Runtime, seen: Shared) -> String {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/{name}", post(hook)).with_state(seen);
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn event(status: EventStatus) -> OutageEvent {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    OutageEvent {
        event_id: "20211018-0900-bf52da56".into(),
        service: "微信".into(),
        status,
        started_at: t("2021-10-18T09:00:00+08:00"),
        detected_at: t("2021-10-18T09:02:00+08:00"),
        peak_at: t("2021-10-18T09:30:00+08:00"),
        ended_at: (status == EventStatus::Resolved).then(|| t("2021-10-18T12:34:00+08:00")),
        peak_rate: 115.0,
        baseline_rate: 0.1,
        severity: Severity::Strong,
        score: 40.0,
        complaints: 14234,
        symptoms: vec![("图片/文件".into(), 0.54), ("消息".into(), 0.12)],
        top_terms: vec!["图片".into(), "发不出去".into()],
        sample_post_ids: vec!["p1".into(), "p2".into()],
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn quick(targets: Vec<Target>) -> AlertConfig {
    AlertConfig {
        targets,
        public_url: Some("https://status.example.com/".into()),
        backoff: Duration::from_millis(20),
        rate_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        ..AlertConfig::default()
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

#[test]
fn every_robot_gets_its_format_and_signature_and_updates_are_rate_limited() {
    let rt = runtime();
    let seen: Shared = Arc::default();
    let base = server(&rt, seen.clone());
    let secret = "SECtest-secret";
    let counters = AlertCounters::default();
    let mut alerter = Alerter::start(
        rt.handle(),
        quick(vec![
            Target::Webhook {
                url: format!("{base}/hook"),
            },
            Target::DingTalk {
                url: format!("{base}/ding?access_token=abc"),
                secret: Some(secret.into()),
            },
            Target::Feishu {
                url: format!("{base}/feishu"),
                secret: Some(secret.into()),
            },
            Target::WeCom {
                url: format!("{base}/wecom"),
            },
        ]),
        counters.clone(),
    );
    alerter.offer(&event(EventStatus::Open));
    // An update right after the open is held back (one per 10 minutes per event).
    alerter.offer(&event(EventStatus::Updated));
    alerter.offer(&event(EventStatus::Resolved));
    // A replay after a restart publishes the same states again: not sent twice.
    alerter.offer(&event(EventStatus::Open));
    alerter.offer(&event(EventStatus::Resolved));
    alerter.close(rt.handle(), Duration::from_secs(10));
    assert_eq!(counters.sent.get(), 8);
    assert_eq!(counters.failed.get(), 0);
    let s = seen.lock().unwrap();
    let of = |name: &str| -> Vec<&(String, HashMap<String, String>, Value)> {
        s.requests.iter().filter(|r| r.0 == name).collect()
    };
    // The webhook gets the event itself.
    let hooks = of("hook");
    assert_eq!(hooks.len(), 2);
    assert_eq!(
        hooks[0].2,
        serde_json::to_value(event(EventStatus::Open)).unwrap()
    );
    assert_eq!(hooks[1].2["status"], "resolved");
    // DingTalk: markdown, signed on the URL: base64(HMAC-SHA256(secret, "ts\nsecret")).
    let ding = of("ding");
    assert_eq!(ding.len(), 2);
    for (_, q, body) in &ding {
        assert_eq!(q["access_token"], "abc");
        let ts = &q["timestamp"];
        let want = base64::engine::general_purpose::STANDARD.encode(hmac(
            secret.as_bytes(),
            format!("{ts}\n{secret}").as_bytes(),
        ));
        assert_eq!(q["sign"], want, "the query is decoded by the server");
        assert_eq!(body["msgtype"], "markdown");
    }
    let text = ding[0].2["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("微信 疑似故障"), "{text}");
    assert!(text.contains("2021-10-18 09:00"), "{text}");
    assert!(text.contains("图片/文件 54%"), "{text}");
    assert!(text.contains("115 条/分钟（基线 0.1）"), "{text}");
    assert!(
        text.contains("https://status.example.com/service/%E5%BE%AE%E4%BF%A1"),
        "{text}"
    );
    let done = ding[1].2["markdown"]["text"].as_str().unwrap();
    assert!(
        done.contains("微信 已恢复") && done.contains("持续 3 小时 34 分"),
        "{done}"
    );
    // Feishu: an interactive card, signed in the body: base64(HMAC-SHA256("ts\nsecret", "")).
    let feishu = of("feishu");
    assert_eq!(feishu.len(), 2);
    let body = &feishu[0].2;
    let ts = body["timestamp"].as_str().unwrap();
    let want = base64::engine::general_purpose::STANDARD
        .encode(hmac(format!("{ts}\n{secret}").as_bytes(), b""));
    assert_eq!(body["sign"], want);
    assert_eq!(body["msg_type"], "interactive");
    assert_eq!(body["card"]["header"]["template"], "red");
    assert_eq!(feishu[1].2["card"]["header"]["template"], "green");
    // WeCom: markdown content.
    let wecom = of("wecom");
    assert_eq!(wecom.len(), 2);
    assert_eq!(wecom[0].2["msgtype"], "markdown");
    assert!(wecom[0].2["markdown"]["content"]
        .as_str()
        .unwrap()
        .contains("样例帖子：p1，p2"));
}

#[test]
fn failures_are_retried_refusals_are_not_and_a_full_queue_drops() {
    let rt = runtime();
    let seen: Shared = Arc::default();
    seen.lock().unwrap().flaky_left = 2;
    seen.lock().unwrap().limited_left = 1;
    let base = server(&rt, seen.clone());
    let counters = AlertCounters::default();
    let mut alerter = Alerter::start(
        rt.handle(),
        quick(vec![
            Target::Webhook {
                url: format!("{base}/flaky"),
            },
            Target::DingTalk {
                url: format!("{base}/refuse"),
                secret: None,
            },
            Target::WeCom {
                url: format!("{base}/limited"),
            },
        ]),
        counters.clone(),
    );
    alerter.offer(&event(EventStatus::Open));
    alerter.close(rt.handle(), Duration::from_secs(10));
    // Two 500s, then delivered; a rate limit, then delivered; the refusal counted as
    // failed after one try.
    assert_eq!(counters.sent.get(), 2);
    assert_eq!(counters.failed.get(), 1);
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.requests.iter().filter(|r| r.0 == "flaky").count(), 3);
        assert_eq!(s.requests.iter().filter(|r| r.0 == "limited").count(), 2);
        assert_eq!(s.requests.iter().filter(|r| r.0 == "refuse").count(), 1);
    }
    // Logs name the endpoint's host, never its token.
    let t = Target::DingTalk {
        url: "https://oapi.dingtalk.com/robot/send?access_token=SECRET".into(),
        secret: None,
    };
    assert_eq!(t.host(), "https://oapi.dingtalk.com");

    // A slow robot and a queue of one: offers never wait, the surplus is dropped.
    let counters = AlertCounters::default();
    let mut alerter = Alerter::start(
        rt.handle(),
        AlertConfig {
            queue: 1,
            ..quick(vec![Target::WeCom {
                url: format!("{base}/slow"),
            }])
        },
        counters.clone(),
    );
    let started = std::time::Instant::now();
    for k in 0..10 {
        let mut e = event(EventStatus::Open);
        e.event_id = format!("e{k}");
        alerter.offer(&e);
    }
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "offer blocked"
    );
    alerter.close(rt.handle(), Duration::from_secs(10));
    assert!(counters.dropped.get() >= 5, "{}", counters.dropped.get());
    assert_eq!(counters.sent.get() + counters.dropped.get(), 10);
}
