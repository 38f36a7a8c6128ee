//! Connection flags shared by `run`, `produce` and `export`.

use std::path::PathBuf;

use benglema_stream::config::parse_property;
use benglema_stream::{FileSettings, Settings};

/// Cluster, topics and librdkafka properties.
#[derive(clap::Args, Clone)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, e.g. localhost:9092.
    #[arg(long, value_name = "HOST:PORT,...")]
    pub brokers: Option<String>,
    /// Posts topic [default: posts].
    #[arg(long)]
    pub topic: Option<String>,
    /// Consumer group [default: benglema].
    #[arg(long)]
    pub group: Option<String>,
    /// Topic events are published to [default: outage-events].
    #[arg(long, value_name = "TOPIC")]
    pub events_topic: Option<String>,
    /// A librdkafka property passed to every client (SASL, TLS, timeouts), repeatable:
    /// -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN ...
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    pub property: Vec<(String, String)>,
    /// TOML file with the same settings (brokers, topic, group, events_topic, dlq_topic,
    /// state, checkpoint_seconds, [properties]); flags override it.
    #[arg(long, value_name = "FILE")]
    pub kafka_config: Option<PathBuf>,
}

impl KafkaArgs {
    /// The resolved settings, or `None` when no brokers are given anywhere.
    pub fn settings(
        &self,
        state: Option<String>,
        checkpoint_seconds: Option<f64>,
    ) -> anyhow::Result<Option<Settings>> {
        let file = match &self.kafka_config {
            Some(p) => FileSettings::from_file(p)?,
            None => FileSettings::default(),
        };
        Ok(Settings::resolve(
            file,
            self.brokers.clone(),
            self.topic.clone(),
            self.group.clone(),
            self.events_topic.clone(),
            state,
            checkpoint_seconds,
            self.property.clone(),
        )?)
    }
}
