//! `benglema run`: the streaming detector on Kafka; with no `--brokers`, on an in-process
//! cluster fed with the bundled labelled history.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use benglema_alert::{AlertConfig, AlertCounters, AlertFile, AlertFlags, Alerter};
use benglema_detect::DetectorConfig;
use benglema_io::CsvAppender;
use benglema_io::{bundled_history, bundled_posts};
use benglema_model::{EventStatus, OutageEvent};
use benglema_status::{Assets, Board, BoardOptions};
use benglema_stream::embedded::EmbeddedCluster;
use benglema_stream::metrics::Metrics;
use benglema_stream::produce::{produce_files, produce_posts, KeyBy, Pace, Sender};
use benglema_stream::{Role, RunOptions, Settings, StateTarget, StreamError};

use super::kafka_args::KafkaArgs;

/// Default replay speed of the embedded demo: the first seed incident lies 36 h into the
/// bundled history, so at 4000x it shows up about 40 s after start (group join included).
pub const DEFAULT_SPEED: f64 = 4000.0;

/// Flags of `benglema run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Where detector checkpoints live: `topic` (the compacted topic <group>.state),
    /// `topic:NAME`, or a directory.
    #[arg(long, value_name = "topic|topic:NAME|DIR")]
    state: Option<String>,
    /// Seconds between checkpoints (events acknowledged, state saved, offsets committed).
    #[arg(long, value_name = "SECONDS")]
    checkpoint_seconds: Option<f64>,
    /// Print events as one readable line each instead of JSON.
    #[arg(long)]
    pretty: bool,
    /// Also append every event state to this CSV file (PRODUCT.md columns).
    #[arg(long, value_name = "PATH")]
    events_csv: Option<PathBuf>,
    /// Serve Prometheus metrics (/metrics) and /healthz here, e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Serve the live status page here (/, /service/NAME, /api/..., /metrics, /healthz),
    /// e.g. 127.0.0.1:8080 [default with the embedded demo: a free loopback port; off with
    /// --brokers]. In a two-stage deployment the detect processes serve it, each its own
    /// services. It has no login: on a non-loopback address, anyone who reaches it reads
    /// the sample posts (put it behind your proxy's authentication).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Embedded demo only: do not serve the status page.
    #[arg(long, conflicts_with = "http")]
    no_http: bool,
    /// Status page: link sample posts here, `{id}` replaced by the post id (e.g.
    /// https://m.weibo.cn/detail/{id}).
    #[arg(long, value_name = "URL")]
    post_url: Option<String>,
    /// Detector parameters (default: the bundled models/detector.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Load text models from this directory instead of the embedded copies of models/.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Change-point model, overriding the config's [model] kind.
    #[arg(long, value_enum)]
    model: Option<benglema_detect::Preset>,
    /// Stop once the assigned partitions are read to their end.
    #[arg(long)]
    exit_on_eof: bool,
    /// Embedded demo only: feed these post files instead of the bundled history.
    #[arg(long, short, value_name = "PATH")]
    input: Vec<PathBuf>,
    /// Embedded demo only: event-time speed-up of the bundled history's replay.
    #[arg(long, default_value_t = DEFAULT_SPEED, value_name = "FACTOR")]
    speed: f64,
    /// Which stages to run: both (default), or one of them, for deployments that scale
    /// the extract stage (posts in, per-minute counts out) and the detect stage (counts
    /// in, events out) separately.
    #[arg(long, value_enum, default_value = "both")]
    role: RoleArg,
    /// The internal topic between the stages [default: <group>.repartition].
    #[arg(long, value_name = "TOPIC")]
    repartition_topic: Option<String>,
    /// Partitions of the repartition topic when run creates it: how many detect tasks the
    /// services are spread over [default: as many as the posts topic has].
    #[arg(long, value_name = "N")]
    repartition_partitions: Option<i32>,
    /// Retention of the repartition topic when run creates it (hours): how long the detect
    /// stage may be down and still catch up.
    #[arg(long, default_value_t = 24.0, value_name = "HOURS")]
    repartition_retention_hours: f64,
    /// POST every alert (opened, resolved, updates at most every 10 minutes, or
    /// `update_minutes` of [alerts] in --kafka-config) as the event JSON to this URL.
    #[arg(long, value_name = "URL")]
    alert_webhook: Option<String>,
    /// DingTalk custom robot URL (markdown messages).
    #[arg(long, value_name = "URL")]
    alert_dingtalk: Option<String>,
    /// Feishu/Lark bot URL (interactive cards).
    #[arg(long, value_name = "URL")]
    alert_feishu: Option<String>,
    /// WeCom group robot URL (markdown messages).
    #[arg(long, value_name = "URL")]
    alert_wecom: Option<String>,
    /// Signing secret of the one signing robot given (the DingTalk robot's 加签 `SEC...`,
    /// or the Feishu bot's); with both, use the two flags below.
    #[arg(long, value_name = "SECRET")]
    alert_secret: Option<String>,
    /// Signing secret of the DingTalk robot.
    #[arg(long, value_name = "SECRET")]
    alert_dingtalk_secret: Option<String>,
    /// Signing secret of the Feishu/Lark bot.
    #[arg(long, value_name = "SECRET")]
    alert_feishu_secret: Option<String>,
    /// Public base URL of a status page serving /service/NAME, for links in alerts.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// A posts partition without posts for this long is idle: advanced to the newest
    /// watermark of the others in this process, and not waited for downstream until it
    /// has posts again (liveness over exact replay, as Flink's withIdleness).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    idle_seconds: u64,
}

/// `--role`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// Extract and detect, in two threads.
    Both,
    /// Posts in, per-minute counts out to the repartition topic.
    Extract,
    /// Counts in from the repartition topic, events out.
    Detect,
}

/// One readable line per event state; the time first is that of the state: the detection
/// for an open, the minute of the update or the resolution (`at`, Unix seconds) otherwise.
fn pretty(e: &OutageEvent, at: Option<i64>) -> String {
    let t = |x: chrono::DateTime<chrono::FixedOffset>| x.format("%Y-%m-%d %H:%M").to_string();
    let when = match (
        e.status,
        at.and_then(|a| chrono::DateTime::from_timestamp(a, 0)),
    ) {
        (EventStatus::Open, _) | (_, None) => e.detected_at,
        (_, Some(a)) => a.with_timezone(e.detected_at.offset()),
    };
    let symptoms: Vec<String> = e
        .symptoms
        .iter()
        .take(3)
        .map(|(s, x)| format!("{s} {:.0}%", x * 100.0))
        .collect();
    let status = match e.status {
        EventStatus::Open => "OPEN    ",
        EventStatus::Updated => "UPDATED ",
        EventStatus::Resolved => "RESOLVED",
    };
    format!(
        "{status} {} {:<8} {:<8} since {}{}  peak {:.0}/min (baseline {:.1})  {} complaints  {}  [{}]",
        t(when),
        e.service,
        e.severity.as_str(),
        t(e.started_at),
        e.ended_at.map(|x| format!(" until {}", t(x))).unwrap_or_default(),
        e.peak_rate,
        e.baseline_rate,
        e.complaints,
        symptoms.join(", "),
        e.event_id,
    )
}

/// Where `run` puts event states: stdout (JSON lines, or `--pretty` lines with a quiet-minute
/// summary), `--events-csv`, the chat alerts.
struct PrintSink<'a> {
    pretty: bool,
    stdout: std::io::Stdout,
    csv: Option<CsvAppender>,
    alerter: &'a mut Alerter,
    /// The first final minute with no event state printed since (for the summary line).
    quiet_since: Option<i64>,
    /// When the last summary line was printed (at most one per 10 s: a replay runs minutes
    /// in milliseconds).
    last_summary: Option<std::time::Instant>,
    /// Local time in the detector's display zone.
    zone: Box<dyn Fn(chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::FixedOffset>>,
}

impl PrintSink<'_> {
    fn line(&mut self, line: &str) -> Result<(), StreamError> {
        let mut o = self.stdout.lock();
        writeln!(o, "{line}")
            .and_then(|_| o.flush())
            .map_err(|err| StreamError::io("<stdout>", err))
    }
}

impl benglema_stream::EventSink for PrintSink<'_> {
    fn event(&mut self, e: &OutageEvent) -> Result<(), StreamError> {
        self.event_with(e, None)
    }

    fn event_at(&mut self, e: &OutageEvent, at: i64) -> Result<(), StreamError> {
        self.event_with(e, Some(at))
    }

    fn minute(&mut self, m: &benglema_stream::MinuteStatus) {
        if !self.pretty {
            return;
        }
        let since = *self.quiet_since.get_or_insert(m.through);
        let now = std::time::Instant::now();
        let due = self
            .last_summary
            .is_none_or(|t| now - t >= Duration::from_secs(10));
        if m.through - since < 60 || !due {
            return;
        }
        self.last_summary = Some(now);
        self.quiet_since = Some(m.through);
        let at = chrono::DateTime::from_timestamp(m.through, 0)
            .map(|t| (self.zone)(t).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let _ = self.line(&format!(
            "·        {at} quiet: {} services watched, {:.0} posts/s, detect lag {} messages",
            m.services, m.posts_per_second, m.lag
        ));
    }
}

impl PrintSink<'_> {
    fn event_with(&mut self, e: &OutageEvent, at: Option<i64>) -> Result<(), StreamError> {
        let line = if self.pretty {
            pretty(e, at)
        } else {
            serde_json::to_string(e).expect("events serialise")
        };
        self.line(&line)?;
        if let Some(c) = self.csv.as_mut() {
            c.push(e)?;
        }
        self.alerter.offer(e);
        // Something happened: the next summary waits for a quiet minute after this one.
        self.quiet_since = None;
        Ok(())
    }
}

/// Binds `addr` (an error up front when taken) and serves the status page, with
/// `/metrics` and `/healthz`, on the runtime; says where.
fn serve_status_page(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    detector: &DetectorConfig,
    post_url: Option<String>,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Arc<Board>> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!("--http {addr}: cannot listen (pick a free port, or --no-http)")
    })?;
    let local = listener.local_addr().context("--http: the bound address")?;
    let mut options = BoardOptions::new(detector);
    options.post_url = post_url;
    let board = Arc::new(Board::new(options));
    let router = benglema_status::router(
        board.clone(),
        Assets {
            font: benglema_report::font::EMBEDDED_FONT,
        },
    )
    .merge(benglema_stream::metrics::router(metrics.clone()));
    let router = if local.ip().is_loopback() {
        benglema_status::loopback_only(router, local.port())
    } else {
        router
    };
    rt.spawn(async move {
        // Inside the runtime: the listener registers with its reactor.
        if let Err(e) = benglema_status::serve(listener, router).await {
            eprintln!("benglema: status page on {local}: {e}");
        }
    });
    eprintln!(
        "benglema: status page on http://{local}/ (JSON under /api/services and /api/events, \
         live at /api/stream; /metrics, /healthz)"
    );
    Ok(board)
}

/// Runs `benglema run`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        anyhow::bail!("--speed must be a positive number, got {}", args.speed);
    }
    if args
        .repartition_partitions
        .is_some_and(|n| !(1..=10_000).contains(&n))
    {
        anyhow::bail!("--repartition-partitions must be between 1 and 10000");
    }
    let h = args.repartition_retention_hours;
    if !(h.is_finite() && h > 0.0 && h <= 24.0 * 365.0) {
        anyhow::bail!("--repartition-retention-hours must be in (0, 8760], got {h}");
    }
    if args.idle_seconds == 0 {
        anyhow::bail!("--idle-seconds must be at least 1");
    }
    let ex = super::extractor(args.models.as_deref())?;
    let mut detector = match &args.config {
        Some(p) => DetectorConfig::from_file(p)?,
        None => DetectorConfig::default(),
    };
    if let Some(m) = args.model {
        detector.model.kind = m.kind();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let exit_on_eof = Arc::new(AtomicBool::new(args.exit_on_eof));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    {
        let stop = stop.clone();
        rt.spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
                }
                if stop.swap(true, Ordering::SeqCst) {
                    eprintln!("benglema: second signal, exiting without a final checkpoint");
                    std::process::exit(130);
                }
                eprintln!("benglema: stopping (checkpointing first; signal again to abort)");
            }
        });
    }
    let metrics = Arc::new(Metrics::new());
    if let Some(addr) = args.metrics_addr {
        // Bind now so a taken port is an error up front.
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("--metrics-addr {addr}: cannot listen (pick a free port)"))?;
        drop(listener);
        let m = metrics.clone();
        rt.spawn(async move {
            if let Err(e) = benglema_stream::metrics::serve(addr, m).await {
                eprintln!("benglema: {e}");
            }
        });
        eprintln!("benglema: metrics on http://{addr}/metrics, health on http://{addr}/healthz");
    }

    let alert_file = match &args.kafka.kafka_config {
        Some(p) => match benglema_stream::FileSettings::from_file(p)?.alerts {
            Some(t) => t.try_into::<AlertFile>().map_err(|e| {
                anyhow::anyhow!(
                    "{} [alerts]: {} (keys: webhook, dingtalk, dingtalk_secret, feishu, \
                     feishu_secret, wecom, public_url, update_minutes)",
                    p.display(),
                    e.to_string().trim()
                )
            })?,
            None => AlertFile::default(),
        },
        None => AlertFile::default(),
    };
    let alert_config = AlertConfig::resolve(
        AlertFlags {
            webhook: args.alert_webhook.clone(),
            dingtalk: args.alert_dingtalk.clone(),
            feishu: args.alert_feishu.clone(),
            wecom: args.alert_wecom.clone(),
            secret: args.alert_secret.clone(),
            dingtalk_secret: args.alert_dingtalk_secret.clone(),
            feishu_secret: args.alert_feishu_secret.clone(),
            public_url: args.public_url.clone(),
        },
        alert_file,
    )?;
    for t in &alert_config.targets {
        eprintln!("benglema: alerts to {}", t.kind());
    }
    let mut alerter = Alerter::start(
        rt.handle(),
        alert_config,
        AlertCounters {
            sent: metrics.alerts_sent.clone(),
            dropped: metrics.alerts_dropped.clone(),
            failed: metrics.alerts_failed.clone(),
        },
    );
    let settings = args
        .kafka
        .settings(args.state.clone(), args.checkpoint_seconds)?;
    if args.http.is_some() && matches!(args.role, RoleArg::Extract) {
        anyhow::bail!(
            "--http: the status page is served by the detect stage; give it to the --role detect \
             (or both) processes, and --metrics-addr to this one"
        );
    }
    if let Some(u) = &args.post_url {
        if !u.contains("{id}") || !(u.starts_with("https://") || u.starts_with("http://")) {
            anyhow::bail!(
                "--post-url {u:?}: give an http(s) URL with {{id}} where the post id goes, e.g. \
                 https://m.weibo.cn/detail/{{id}}"
            );
        }
    }
    let http = match (args.http, settings.is_none() && !args.no_http) {
        (Some(a), _) => Some(a),
        (None, true) => Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        (None, false) => None,
    };
    let board = match http {
        Some(addr) => Some(serve_status_page(
            &rt,
            addr,
            &detector,
            args.post_url.clone(),
            &metrics,
        )?),
        None => None,
    };
    let mut embedded = None;
    let mut feeder = None;
    if settings.is_none() && !matches!(args.role, RoleArg::Both) {
        anyhow::bail!(
            "--role extract|detect needs --brokers: the embedded demo runs both stages in one process"
        );
    }
    if settings.is_none() && args.repartition_topic.is_some() {
        anyhow::bail!(
            "--repartition-topic needs --brokers: the embedded demo makes its own topics"
        );
    }
    if settings.is_some() && !args.input.is_empty() {
        anyhow::bail!(
            "--input feeds the embedded cluster only; to load files into your cluster, use `benglema produce --brokers ... --input ...`"
        );
    }
    let settings = match settings {
        Some(s) => s,
        None => {
            let cluster = EmbeddedCluster::start(&[
                ("posts", 1),
                ("posts.dlq", 1),
                ("outage-events", 1),
                ("benglema.repartition", 1),
                ("benglema.state", 1),
            ])?;
            let mut s = Settings::new(cluster.bootstrap_servers());
            s.checkpoint_every = Duration::from_secs_f64(args.checkpoint_seconds.unwrap_or(5.0));
            if let Some(st) = &args.state {
                s.state = benglema_stream::config::parse_state(st, &s.group);
            }
            let labels = super::bundled_labels()?;
            let windows = bundled_history(&labels).len();
            if args.input.is_empty() {
                eprintln!(
                    "benglema: no --brokers given: started an in-process Kafka cluster at {} and \
                     replaying the bundled labelled history ({} windows around the seed incidents) \
                     at {}x event time; the first incident appears after about {:.0} s. Ctrl-C stops.",
                    s.brokers,
                    windows,
                    args.speed,
                    // Group join (~3 s), then event time up to the onset plus the detector's
                    // delay and allowed lateness (~5 minutes).
                    3.0 + (benglema_io::BUNDLED_DAYS_BEFORE * 86_400.0 + 300.0) / args.speed
                );
            } else {
                eprintln!(
                    "benglema: no --brokers given: started an in-process Kafka cluster at {} and \
                     feeding it {} input path(s) at {}x event time. Ctrl-C stops.",
                    s.brokers,
                    args.input.len(),
                    args.speed
                );
            }
            let inputs = args.input.clone();
            let feed_settings = s.clone();
            let feed_stop = stop.clone();
            let done = exit_on_eof.clone();
            let speed = args.speed;
            feeder = Some(std::thread::spawn(move || -> Result<u64, StreamError> {
                let mut sender = Sender::new(
                    &feed_settings,
                    Pace::Speed(speed),
                    KeyBy::Id,
                    None,
                    &feed_stop,
                )?;
                if inputs.is_empty() {
                    produce_posts(&mut sender, bundled_posts(&labels), &mut |_| {})?;
                } else {
                    produce_files(&mut sender, &inputs, false, &mut |_| {})?;
                }
                let sent = sender.finish()?.sent;
                done.store(true, Ordering::SeqCst);
                Ok(sent)
            }));
            embedded = Some(cluster);
            s
        }
    };
    let mut settings = settings;
    if let Some(t) = &args.repartition_topic {
        settings.repartition_topic = t.clone();
    }
    if let StateTarget::Dir(d) = &settings.state {
        std::fs::create_dir_all(d)
            .with_context(|| format!("--state {}: cannot create the directory", d.display()))?;
    }
    let mut sink = PrintSink {
        pretty: args.pretty,
        stdout: std::io::stdout(),
        csv: args.events_csv.as_deref().map(CsvAppender::new),
        alerter: &mut alerter,
        quiet_since: None,
        last_summary: None,
        zone: {
            let tz = detector.zone();
            Box::new(move |t| t.with_timezone(&tz).fixed_offset())
        },
    };
    let opts = RunOptions {
        create_topics: embedded.is_none(),
        settings,
        detector,
        exit_on_eof,
        idle_after: Duration::from_secs(args.idle_seconds),
        stats_every: Duration::from_secs(1),
        role: match args.role {
            RoleArg::Both => Role::Both,
            RoleArg::Extract => Role::Extract,
            RoleArg::Detect => Role::Detect,
        },
        repartition_partitions: args.repartition_partitions,
        repartition_retention: Duration::from_secs_f64(h * 3600.0),
        board,
    };
    let o = &opts.settings;
    match opts.role {
        Role::Both | Role::Extract => eprintln!(
            "benglema: extract: consuming {} as group {} from {}; counts to {}, dead letters to {}",
            o.topic, o.group, o.brokers, o.repartition_topic, o.dlq_topic
        ),
        Role::Detect => {}
    }
    match opts.role {
        Role::Both | Role::Detect => eprintln!(
            "benglema: detect: consuming {} as group {}.detect from {}; events to {}",
            o.repartition_topic, o.group, o.brokers, o.events_topic
        ),
        Role::Extract => {}
    }
    let result = benglema_stream::run(&opts, &ex, &mut sink, &metrics, &stop);
    stop.store(true, Ordering::SeqCst);
    if let Some(f) = feeder {
        match f.join() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("benglema: feeder: {e}"),
            Err(_) => eprintln!("benglema: feeder thread panicked"),
        }
    }
    drop(embedded);
    // The last alerts (a resolve at the end of a replay) get a few seconds to go out, also
    // when the run failed.
    alerter.close(rt.handle(), Duration::from_secs(5));
    let summary = result?;
    eprintln!(
        "benglema: {} posts read, {} dead-lettered ({} malformed, {} late), {} complaints, {} \
         event states published, partitions {:?} (detect: {:?}), the detectors' state covers {} \
         posts{}",
        summary.posts,
        summary.rejected + summary.late,
        summary.rejected,
        summary.late,
        summary.complaints,
        summary.published,
        summary.partitions,
        summary.detect_partitions,
        summary.state_posts,
        if summary.restored.is_empty() {
            String::new()
        } else {
            format!(", resumed from checkpoints at {:?}", summary.restored)
        }
    );
    if summary.stale > 0 {
        eprintln!(
            "benglema: detect: {} posts came in minutes already final (after a partition was \
             declared idle, or replayed counts already applied): not added",
            summary.stale
        );
    }
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}
