//! Prometheus metrics and `/healthz` of `benglema run`, served over HTTP with axum.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::StreamError;

/// The detector's counters and gauges.
pub struct Metrics {
    registry: Registry,
    /// Posts read from the topic (valid or not).
    pub posts_in: Counter,
    /// Malformed posts sent to the dead-letter topic.
    pub rejected: Counter,
    /// Posts whose bucket was already closed.
    pub late: Counter,
    /// Posts seen before (same id).
    pub duplicates: Counter,
    /// Complaint posts.
    pub complaints: Counter,
    /// Events opened.
    pub events_raised: Counter,
    /// Event updates published (open, updated, resolved).
    pub events_published: Counter,
    /// Checkpoints written.
    pub checkpoints: Counter,
    /// Messages behind the end of the assigned partitions.
    pub consumer_lag: Gauge,
    /// Posts per second over the last few seconds.
    pub posts_per_second: Gauge<f64, AtomicU64>,
    /// Partitions assigned to this process.
    pub partitions: Gauge,
    /// Event time (Unix seconds) up to which every bucket is closed, the oldest over the
    /// partitions held (0 before the first post): the start of the oldest open bucket. Behind
    /// the wall clock by about the allowed lateness when live, far behind on a replay or when
    /// the input stalls. A single quiet partition is advanced to the others' watermark after
    /// the idleness timeout, so it does not hold this back.
    pub watermark: Gauge,
    /// Detect stage: messages behind the end of its repartition partitions.
    pub detect_lag: Gauge,
    /// Detect stage: repartition partitions assigned.
    pub detect_partitions: Gauge,
    /// Detect stage: event time (Unix seconds) up to which every minute is final (every
    /// input partition closed it), the oldest over the tasks held: the oldest open minute.
    pub released: Gauge,
    /// Detect stage: posts in minutes that arrived after the minute was final (a partition
    /// that had been declared idle woke up with older posts; a replay after a restart also
    /// lands here, with counts already applied).
    pub stale_posts: Counter,
    /// Chat alerts delivered (per target).
    pub alerts_sent: Counter,
    /// Chat alerts dropped because the alert queue was full.
    pub alerts_dropped: Counter,
    /// Chat alerts that failed after every retry (per target).
    pub alerts_failed: Counter,
    /// Unix time of the last main-loop turn (for `/healthz`).
    pub heartbeat: Gauge,
    /// Unix time of the last successful broker contact.
    connected: AtomicI64,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric under the `benglema_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("benglema");
        let m = Metrics {
            posts_in: Counter::default(),
            rejected: Counter::default(),
            late: Counter::default(),
            duplicates: Counter::default(),
            complaints: Counter::default(),
            events_raised: Counter::default(),
            events_published: Counter::default(),
            checkpoints: Counter::default(),
            consumer_lag: Gauge::default(),
            posts_per_second: Gauge::default(),
            partitions: Gauge::default(),
            watermark: Gauge::default(),
            detect_lag: Gauge::default(),
            detect_partitions: Gauge::default(),
            released: Gauge::default(),
            stale_posts: Counter::default(),
            alerts_sent: Counter::default(),
            alerts_dropped: Counter::default(),
            alerts_failed: Counter::default(),
            heartbeat: Gauge::default(),
            connected: AtomicI64::new(0),
            registry: Registry::default(),
        };
        registry.register(
            "posts_in",
            "Posts read from the posts topic",
            m.posts_in.clone(),
        );
        registry.register(
            "posts_rejected",
            "Malformed posts sent to the dead-letter topic",
            m.rejected.clone(),
        );
        registry.register(
            "posts_late",
            "Posts that arrived after their bucket closed (not counted, dead-lettered)",
            m.late.clone(),
        );
        registry.register(
            "posts_duplicate",
            "Posts seen before (same id)",
            m.duplicates.clone(),
        );
        registry.register("complaints", "Complaint posts", m.complaints.clone());
        registry.register(
            "events_raised",
            "Outage events opened",
            m.events_raised.clone(),
        );
        registry.register(
            "event_updates_published",
            "Event states published (open, updated, resolved)",
            m.events_published.clone(),
        );
        registry.register("checkpoints", "Checkpoints written", m.checkpoints.clone());
        registry.register(
            "consumer_lag_messages",
            "Messages between the consumer position and the end of the assigned partitions",
            m.consumer_lag.clone(),
        );
        registry.register(
            "posts_per_second",
            "Processing rate over the last seconds",
            m.posts_per_second.clone(),
        );
        registry.register(
            "assigned_partitions",
            "Partitions assigned",
            m.partitions.clone(),
        );
        registry.register(
            "watermark_seconds",
            "Event time (Unix seconds) up to which every bucket is closed, oldest over the partitions held",
            m.watermark.clone(),
        );
        registry.register(
            "detect_consumer_lag_messages",
            "Detect stage: messages behind the end of its repartition partitions",
            m.detect_lag.clone(),
        );
        registry.register(
            "detect_assigned_partitions",
            "Detect stage: repartition partitions assigned",
            m.detect_partitions.clone(),
        );
        registry.register(
            "detect_final_seconds",
            "Detect stage: event time (Unix seconds) up to which every minute is final, oldest over the tasks held",
            m.released.clone(),
        );
        registry.register(
            "detect_stale_posts",
            "Detect stage: posts of minutes that arrived after the minute was final, not added (replays of counts already applied, or a partition declared idle that woke up with older posts)",
            m.stale_posts.clone(),
        );
        registry.register(
            "alerts_sent",
            "Chat alerts delivered (per target)",
            m.alerts_sent.clone(),
        );
        registry.register(
            "alerts_dropped",
            "Chat alerts dropped because the alert queue was full (sending never slows detection)",
            m.alerts_dropped.clone(),
        );
        registry.register(
            "alerts_failed",
            "Chat alerts that failed after every retry (per target)",
            m.alerts_failed.clone(),
        );
        registry.register(
            "heartbeat_seconds",
            "Unix time of the last main-loop turn",
            m.heartbeat.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        encode(&mut s, &self.registry).expect("writing to a String cannot fail");
        s
    }

    /// Records a turn of the main loop.
    pub fn beat(&self) {
        self.heartbeat.set(now());
    }

    /// Records successful contact with the cluster.
    pub fn mark_connected(&self) {
        self.connected.store(now(), Ordering::Relaxed);
    }

    /// Healthy: the loop turned and the broker answered within the last 30 seconds.
    pub fn healthy(&self) -> Result<(), String> {
        let t = now();
        if t - self.heartbeat.get() > 30 {
            return Err("main loop stalled for more than 30 s".into());
        }
        if t - self.connected.load(Ordering::Relaxed) > 30 {
            return Err("no answer from the Kafka cluster for more than 30 s".into());
        }
        Ok(())
    }
}

/// The routes `/metrics` and `/healthz` (the status page merges them into its own).
pub fn router(metrics: Arc<Metrics>) -> axum::Router {
    use axum::http::StatusCode;
    use axum::routing::get;
    let m1 = metrics.clone();
    axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = m1.clone();
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                        m.render(),
                    )
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let m = metrics.clone();
                async move {
                    match m.healthy() {
                        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
                        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
                    }
                }
            }),
        )
}

/// Serves `/metrics` and `/healthz` on `addr` until the runtime stops.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<(), StreamError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        StreamError::Config(format!(
            "--metrics-addr {addr}: {e} (pick a free port, or omit the flag)"
        ))
    })?;
    axum::serve(listener, router(metrics))
        .await
        .map_err(|e| StreamError::Config(format!("metrics server on {addr}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric() {
        let m = Metrics::new();
        m.posts_in.inc_by(3);
        m.consumer_lag.set(7);
        let s = m.render();
        for name in [
            "benglema_posts_in_total 3",
            "benglema_posts_rejected_total",
            "benglema_posts_late_total",
            "benglema_consumer_lag_messages 7",
            "benglema_events_raised_total",
            "benglema_posts_per_second",
            "benglema_watermark_seconds",
        ] {
            assert!(s.contains(name), "{name} missing from\n{s}");
        }
        assert!(m.healthy().is_err());
        m.beat();
        m.mark_connected();
        assert!(m.healthy().is_ok());
    }
}
