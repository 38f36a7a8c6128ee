//! # benglema-alert
//!
//! Chat alerts of outage events, for the team that is on call: a generic JSON webhook (the
//! event itself) and the group robots Chinese SRE and 舆情 teams use, DingTalk (markdown,
//! optional HMAC-SHA256 signing), Feishu/Lark (an interactive card, optional signature) and
//! WeCom (markdown).
//!
//! [`Alerter::offer`] is called with every event state `run` publishes and never blocks:
//! it decides what is worth a message (every open and every resolve, once each even when a
//! replay publishes them again; an update at most every `update_every` per event) and puts
//! it on each target's bounded queue; a full queue drops the alert and counts it. One task
//! per target on the runtime sends its queue, so a dead endpoint delays nobody else; a
//! failed request is retried with backoff (a robot's rate limit, HTTP 429 and 5xx with a
//! longer one), a robot's refusal (bad signature, bad keyword) is not; failures are logged
//! at most once a minute, with the endpoint's host only (robot URLs carry their tokens).
//! [`format`] renders the requests and [`sign`] the signatures, both pure.

pub mod format;
pub mod sign;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use benglema_model::{EventStatus, OutageEvent};
use prometheus_client::metrics::counter::Counter;
use serde::Deserialize;
use tokio::sync::mpsc;

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// POST the event JSON.
    Webhook {
        /// Endpoint.
        url: String,
    },
    /// DingTalk custom robot (`https://oapi.dingtalk.com/robot/send?access_token=...`).
    DingTalk {
        /// Robot URL.
        url: String,
        /// The robot's signing secret (`SEC...`), when it has 加签 on.
        secret: Option<String>,
    },
    /// Feishu/Lark bot (`https://open.feishu.cn/open-apis/bot/v2/hook/...`).
    Feishu {
        /// Bot URL.
        url: String,
        /// The bot's signing secret, when signature verification is on.
        secret: Option<String>,
    },
    /// WeCom group robot (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...`).
    WeCom {
        /// Robot URL.
        url: String,
    },
}

impl Target {
    /// The kind, for messages (`dingtalk`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook { .. } => "webhook",
            Target::DingTalk { .. } => "dingtalk",
            Target::Feishu { .. } => "feishu",
            Target::WeCom { .. } => "wecom",
        }
    }

    fn url(&self) -> &str {
        match self {
            Target::Webhook { url }
            | Target::DingTalk { url, .. }
            | Target::Feishu { url, .. }
            | Target::WeCom { url } => url,
        }
    }

    /// Scheme and host of the URL, for logs (robot URLs carry their access tokens).
    pub fn host(&self) -> String {
        let url = self.url();
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        format!("{scheme}://{host}")
    }

    /// A robot (its answers carry `errcode`/`code`), not a generic webhook.
    fn robot(&self) -> bool {
        !matches!(self, Target::Webhook { .. })
    }
}

/// A bad alert setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AlertError {
    /// A URL that is not http(s).
    #[error("{what}: {url:?} is not an http:// or https:// URL")]
    Url {
        /// Which setting.
        what: String,
        /// What was given.
        url: String,
    },
    /// A secret given with no robot that takes one.
    #[error("--alert-secret needs --alert-dingtalk or --alert-feishu (the robots that sign)")]
    StraySecret,
    /// One secret for two robots.
    #[error("--alert-secret with both --alert-dingtalk and --alert-feishu: each robot has its own secret; give --alert-dingtalk-secret and --alert-feishu-secret")]
    SharedSecret,
}

/// The `[alerts]` table of the settings file (`--kafka-config`); flags win.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertFile {
    /// Generic JSON webhook.
    pub webhook: Option<String>,
    /// DingTalk robot URL.
    pub dingtalk: Option<String>,
    /// Its secret.
    pub dingtalk_secret: Option<String>,
    /// Feishu/Lark bot URL.
    pub feishu: Option<String>,
    /// Its secret.
    pub feishu_secret: Option<String>,
    /// WeCom robot URL.
    pub wecom: Option<String>,
    /// Public base URL of the status page, for links.
    pub public_url: Option<String>,
    /// Minutes between two update messages of one event.
    pub update_minutes: Option<f64>,
}

/// Everything the alerter needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertConfig {
    /// Where to send.
    pub targets: Vec<Target>,
    /// Public base URL of the status page, for links in messages.
    pub public_url: Option<String>,
    /// Least time between two update messages of one event.
    pub update_every: Duration,
    /// Alerts waiting to be sent, at most.
    pub queue: usize,
    /// Retries of a failed request (with backoff from `backoff`, doubling).
    pub retries: u32,
    /// First retry delay.
    pub backoff: Duration,
    /// Delay before retrying after a rate limit (a robot's limit code, HTTP 429).
    pub rate_backoff: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            targets: Vec::new(),
            public_url: None,
            update_every: Duration::from_secs(600),
            queue: 256,
            retries: 3,
            backoff: Duration::from_millis(500),
            rate_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

fn checked(what: &str, url: String) -> Result<String, AlertError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(AlertError::Url {
            what: what.to_owned(),
            url,
        })
    }
}

/// Alert flags as given (each overrides the file's).
#[derive(Debug, Clone, Default)]
pub struct AlertFlags {
    /// `--alert-webhook`.
    pub webhook: Option<String>,
    /// `--alert-dingtalk`.
    pub dingtalk: Option<String>,
    /// `--alert-feishu`.
    pub feishu: Option<String>,
    /// `--alert-wecom`.
    pub wecom: Option<String>,
    /// `--alert-secret` (for the one signing robot given by flag).
    pub secret: Option<String>,
    /// `--alert-dingtalk-secret`.
    pub dingtalk_secret: Option<String>,
    /// `--alert-feishu-secret`.
    pub feishu_secret: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
}

impl AlertConfig {
    /// The configuration from flags over the file's `[alerts]`; checks every URL.
    pub fn resolve(flags: AlertFlags, file: AlertFile) -> Result<AlertConfig, AlertError> {
        if flags.secret.is_some() {
            match (&flags.dingtalk, &flags.feishu) {
                (None, None) => return Err(AlertError::StraySecret),
                (Some(_), Some(_)) => return Err(AlertError::SharedSecret),
                _ => {}
            }
        }
        let mut targets = Vec::new();
        if let Some(url) = flags.webhook.or(file.webhook) {
            targets.push(Target::Webhook {
                url: checked("--alert-webhook", url)?,
            });
        }
        match (flags.dingtalk, file.dingtalk) {
            (Some(url), _) => targets.push(Target::DingTalk {
                url: checked("--alert-dingtalk", url)?,
                secret: flags.dingtalk_secret.or(flags.secret.clone()),
            }),
            (None, Some(url)) => targets.push(Target::DingTalk {
                url: checked("alerts.dingtalk", url)?,
                secret: file.dingtalk_secret,
            }),
            _ => {}
        }
        match (flags.feishu, file.feishu) {
            (Some(url), _) => targets.push(Target::Feishu {
                url: checked("--alert-feishu", url)?,
                secret: flags.feishu_secret.or(flags.secret.clone()),
            }),
            (None, Some(url)) => targets.push(Target::Feishu {
                url: checked("alerts.feishu", url)?,
                secret: file.feishu_secret,
            }),
            _ => {}
        }
        if let Some(url) = flags.wecom.or(file.wecom) {
            targets.push(Target::WeCom {
                url: checked("--alert-wecom", url)?,
            });
        }
        let public_url = match flags.public_url.or(file.public_url) {
            Some(u) => Some(checked("--public-url", u)?),
            None => None,
        };
        let mut c = AlertConfig {
            targets,
            public_url,
            ..AlertConfig::default()
        };
        if let Some(m) = file.update_minutes.filter(|m| m.is_finite() && *m >= 0.0) {
            c.update_every = Duration::from_secs_f64(m * 60.0);
        }
        Ok(c)
    }
}

/// Counters of what the alerter did (register them in the process's metrics); each counts
/// messages, one per alert per target.
#[derive(Debug, Clone, Default)]
pub struct AlertCounters {
    /// Messages delivered.
    pub sent: Counter,
    /// Messages dropped because their target's queue was full.
    pub dropped: Counter,
    /// Messages that failed after every retry, or that the robot refused.
    pub failed: Counter,
}

/// Opens and resolves already offered, remembered this many at most (a replay after a
/// restart publishes them again).
const REMEMBER: usize = 4096;

/// Sends alerts in the background. See the crate documentation.
pub struct Alerter {
    queues: Vec<mpsc::Sender<OutageEvent>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    last_update: HashMap<String, Instant>,
    offered: HashSet<(String, EventStatus)>,
    offered_order: VecDeque<(String, EventStatus)>,
    update_every: Duration,
    counters: AlertCounters,
}

impl Alerter {
    /// Starts one sending task per target on `runtime`. With no targets nothing is started
    /// and every offer is ignored.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        config: AlertConfig,
        counters: AlertCounters,
    ) -> Alerter {
        let mut queues = Vec::new();
        let mut tasks = Vec::new();
        for target in &config.targets {
            let (tx, rx) = mpsc::channel(config.queue.max(1));
            queues.push(tx);
            tasks.push(runtime.spawn(deliver_all(
                target.clone(),
                config.clone(),
                rx,
                counters.clone(),
            )));
        }
        Alerter {
            queues,
            tasks,
            last_update: HashMap::new(),
            offered: HashSet::new(),
            offered_order: VecDeque::new(),
            update_every: config.update_every,
            counters,
        }
    }

    /// Offers one event state; never blocks. Opens and resolves are sent once each,
    /// updates at most every `update_every` per event.
    pub fn offer(&mut self, e: &OutageEvent) {
        if self.queues.is_empty() {
            return;
        }
        let now = Instant::now();
        let send = match e.status {
            EventStatus::Open | EventStatus::Resolved => {
                let key = (e.event_id.clone(), e.status);
                if self.offered.contains(&key) {
                    false
                } else {
                    self.offered.insert(key.clone());
                    self.offered_order.push_back(key);
                    if self.offered_order.len() > REMEMBER {
                        if let Some(old) = self.offered_order.pop_front() {
                            self.offered.remove(&old);
                        }
                    }
                    if e.status == EventStatus::Open {
                        self.last_update.insert(e.event_id.clone(), now);
                    } else {
                        self.last_update.remove(&e.event_id);
                    }
                    true
                }
            }
            EventStatus::Updated => match self.last_update.get(&e.event_id) {
                Some(t) if now - *t < self.update_every => false,
                _ => {
                    self.last_update.insert(e.event_id.clone(), now);
                    true
                }
            },
        };
        // Events that never resolve (a run stopped mid-outage) are forgotten after a day.
        if self.last_update.len() > REMEMBER {
            let day = Duration::from_secs(86_400);
            self.last_update.retain(|_, t| now - *t < day);
        }
        if !send {
            return;
        }
        for q in &self.queues {
            if q.try_send(e.clone()).is_err() {
                self.counters.dropped.inc();
            }
        }
    }

    /// Stops taking alerts and waits up to `grace` for the queues to be sent. Call it
    /// outside the runtime (it blocks on it).
    pub fn close(mut self, runtime: &tokio::runtime::Handle, grace: Duration) {
        self.queues.clear();
        let tasks = std::mem::take(&mut self.tasks);
        let _ = runtime.block_on(async {
            tokio::time::timeout(grace, async {
                for t in tasks {
                    let _ = t.await;
                }
            })
            .await
        });
    }
}

/// A robot's answer code when it is not 0, with its message.
fn refusal(body: &str) -> Option<(i64, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    for key in ["errcode", "code", "StatusCode"] {
        if let Some(c) = v.get(key).and_then(serde_json::Value::as_i64) {
            if c != 0 {
                let msg = ["errmsg", "msg", "StatusMessage"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(|m| m.as_str()))
                    .unwrap_or("");
                return Some((c, format!("{key} {c}: {msg}")));
            }
        }
    }
    None
}

/// Robot codes that mean "too many messages, try later": DingTalk 130101, WeCom 45009,
/// Feishu 9499 and 11232.
const RATE_LIMITED: [i64; 4] = [130101, 45009, 9499, 11232];

async fn deliver_all(
    target: Target,
    config: AlertConfig,
    mut rx: mpsc::Receiver<OutageEvent>,
    counters: AlertCounters,
) {
    let client = match reqwest::Client::builder().timeout(config.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("benglema: alerts: cannot create an HTTP client ({e}); alerts are off");
            return;
        }
    };
    let mut last_log: Option<Instant> = None;
    let mut unlogged = 0u64;
    while let Some(e) = rx.recv().await {
        let req = || {
            let now_ms = chrono::Utc::now().timestamp_millis();
            format::request(&target, &e, config.public_url.as_deref(), now_ms)
        };
        match send(&client, &target, req, &config).await {
            Ok(()) => {
                counters.sent.inc();
            }
            Err(why) => {
                counters.failed.inc();
                unlogged += 1;
                let now = Instant::now();
                if last_log.is_none_or(|t| now - t >= Duration::from_secs(60)) {
                    eprintln!(
                        "benglema: alerts: {} at {}: {why} ({unlogged} failed since the last \
                         such line; see benglema_alerts_failed_total)",
                        target.kind(),
                        target.host()
                    );
                    last_log = Some(now);
                    unlogged = 0;
                }
            }
        }
    }
}

/// Sends one alert, signing each attempt afresh (signatures carry a timestamp).
async fn send(
    client: &reqwest::Client,
    target: &Target,
    req: impl Fn() -> format::Request,
    config: &AlertConfig,
) -> Result<(), String> {
    let mut delay = config.backoff;
    let mut wait = Duration::ZERO;
    let mut why = String::new();
    for attempt in 0..=config.retries {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
        }
        let r = req();
        let (status, body) = match client.post(&r.url).json(&r.body).send().await {
            Ok(resp) => (resp.status(), resp.text().await.unwrap_or_default()),
            Err(e) => {
                why = e.without_url().to_string();
                wait = delay;
                delay *= 2;
                continue;
            }
        };
        let code = if target.robot() { refusal(&body) } else { None };
        let limited =
            status.as_u16() == 429 || code.as_ref().is_some_and(|(c, _)| RATE_LIMITED.contains(c));
        if status.is_success() && code.is_none() {
            return Ok(());
        }
        why = match &code {
            Some((_, m)) => format!("HTTP {status}, {m}"),
            None => format!("HTTP {status}"),
        };
        if limited {
            wait = config.rate_backoff;
        } else if status.is_server_error() {
            wait = delay;
            delay *= 2;
        } else {
            // A refusal (bad signature, unknown robot, bad keyword) does not get better.
            return Err(format!("refused: {why}"));
        }
    }
    Err(why)
}
