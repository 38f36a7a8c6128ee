//! # benglema-alert
//!
//! Chat alerts of outage events, for the team that is on call: a generic JSON webhook (the
//! event itself) and the group robots Chinese SRE and 舆情 teams use, DingTalk (markdown,
//! optional HMAC-SHA256 signing), Feishu/Lark (an interactive card, optional signature) and
//! WeCom (markdown).
//!
//! [`Alerter::offer`] is called with every event state `run` publishes and never blocks:
//! it decides what is worth a message (every open and every resolve; an update at most
//! every `update_every` per event) and puts it on a bounded queue; a full queue drops the
//! alert and counts it. A task on the runtime sends each queued alert to every target, with
//! retries and backoff, and logs failures at most once a minute. [`format`] renders the
//! requests and [`sign`] the signatures, both pure.

pub mod format;
pub mod sign;

use std::collections::HashMap;
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
    /// `--alert-secret` (for the DingTalk and Feishu robots given by flag).
    pub secret: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
}

impl AlertConfig {
    /// The configuration from flags over the file's `[alerts]`; checks every URL.
    pub fn resolve(flags: AlertFlags, file: AlertFile) -> Result<AlertConfig, AlertError> {
        if flags.secret.is_some() && flags.dingtalk.is_none() && flags.feishu.is_none() {
            return Err(AlertError::StraySecret);
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
                secret: flags.secret.clone(),
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
                secret: flags.secret.clone(),
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

/// Counters of what the alerter did (register them in the process's metrics).
#[derive(Debug, Clone, Default)]
pub struct AlertCounters {
    /// Messages delivered (per target).
    pub sent: Counter,
    /// Alerts dropped because the queue was full.
    pub dropped: Counter,
    /// Messages that failed after every retry (per target).
    pub failed: Counter,
}

/// Sends alerts in the background. See the crate documentation.
pub struct Alerter {
    tx: Option<mpsc::Sender<OutageEvent>>,
    task: Option<tokio::task::JoinHandle<()>>,
    last_update: HashMap<String, Instant>,
    update_every: Duration,
    counters: AlertCounters,
}

impl Alerter {
    /// Starts the sending task on `runtime`. With no targets nothing is started and every
    /// offer is ignored.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        config: AlertConfig,
        counters: AlertCounters,
    ) -> Alerter {
        let update_every = config.update_every;
        if config.targets.is_empty() {
            return Alerter {
                tx: None,
                task: None,
                last_update: HashMap::new(),
                update_every,
                counters,
            };
        }
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let task = runtime.spawn(deliver_all(config, rx, counters.clone()));
        Alerter {
            tx: Some(tx),
            task: Some(task),
            last_update: HashMap::new(),
            update_every,
            counters,
        }
    }

    /// Offers one event state; never blocks. Opens and resolves are always sent, updates
    /// at most every `update_every` per event.
    pub fn offer(&mut self, e: &OutageEvent) {
        let Some(tx) = &self.tx else { return };
        let now = Instant::now();
        let send = match e.status {
            EventStatus::Open => {
                self.last_update.insert(e.event_id.clone(), now);
                true
            }
            EventStatus::Resolved => {
                self.last_update.remove(&e.event_id);
                true
            }
            EventStatus::Updated => match self.last_update.get(&e.event_id) {
                Some(t) if now - *t < self.update_every => false,
                _ => {
                    self.last_update.insert(e.event_id.clone(), now);
                    true
                }
            },
        };
        if send && tx.try_send(e.clone()).is_err() {
            self.counters.dropped.inc();
        }
    }

    /// Stops taking alerts and waits up to `grace` for the queue to be sent.
    pub fn close(mut self, runtime: &tokio::runtime::Handle, grace: Duration) {
        self.tx = None;
        if let Some(task) = self.task.take() {
            let _ = runtime.block_on(async { tokio::time::timeout(grace, task).await });
        }
    }
}

/// Why a robot refused a message, from its answer (`errcode`/`code` non-zero), if it did.
fn refusal(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    for key in ["errcode", "code", "StatusCode"] {
        if let Some(c) = v.get(key).and_then(serde_json::Value::as_i64) {
            if c != 0 {
                let msg = ["errmsg", "msg", "StatusMessage"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(|m| m.as_str()))
                    .unwrap_or("");
                return Some(format!("{key} {c}: {msg}"));
            }
        }
    }
    None
}

async fn deliver_all(
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
        for target in &config.targets {
            let now_ms = chrono::Utc::now().timestamp_millis();
            let req = format::request(target, &e, config.public_url.as_deref(), now_ms);
            match send(&client, &req, &config).await {
                Ok(()) => {
                    counters.sent.inc();
                }
                Err(why) => {
                    counters.failed.inc();
                    unlogged += 1;
                    let now = Instant::now();
                    if last_log.is_none_or(|t| now - t >= Duration::from_secs(60)) {
                        eprintln!(
                            "benglema: alerts: {} {}: {why} ({unlogged} failed since the last \
                             such line; see benglema_alerts_failed_total)",
                            target.kind(),
                            target.url()
                        );
                        last_log = Some(now);
                        unlogged = 0;
                    }
                }
            }
        }
    }
}

async fn send(
    client: &reqwest::Client,
    req: &format::Request,
    config: &AlertConfig,
) -> Result<(), String> {
    let mut delay = config.backoff;
    let mut why = String::new();
    for attempt in 0..=config.retries {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        match client.post(&req.url).json(&req.body).send().await {
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                if !status.is_success() {
                    why = format!("HTTP {status}");
                    continue;
                }
                match refusal(&body) {
                    // A refusal (bad signature, bad keyword) does not get better by retrying.
                    Some(r) => return Err(format!("refused: {r}")),
                    None => return Ok(()),
                }
            }
            Err(e) => why = e.to_string(),
        }
    }
    Err(why)
}
