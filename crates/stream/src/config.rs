//! Connection settings shared by `run`, `produce` and `export`: brokers, topics, consumer
//! group, state location and librdkafka pass-through properties, from flags and an optional
//! TOML file (flags win).
//!
//! ```toml
//! brokers = "kafka-1:9092,kafka-2:9092"
//! topic = "posts"
//! group = "benglema"
//! events_topic = "outage-events"
//! repartition_topic = "benglema.repartition"
//! state = "topic"            # or a directory path
//! checkpoint_seconds = 5
//! [properties]               # any librdkafka property, as with -X
//! "security.protocol" = "SASL_SSL"
//! "sasl.mechanisms" = "SCRAM-SHA-512"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::Deserialize;

use crate::StreamError;

/// Default posts topic.
pub const DEFAULT_TOPIC: &str = "posts";
/// Default consumer group.
pub const DEFAULT_GROUP: &str = "benglema";
/// Default events topic.
pub const DEFAULT_EVENTS_TOPIC: &str = "outage-events";

/// Where detector checkpoints live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateTarget {
    /// A compacted topic (`<group>.state` unless named).
    Topic(String),
    /// One file per partition in a directory.
    Dir(PathBuf),
}

/// Everything needed to talk to the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Posts topic.
    pub topic: String,
    /// Consumer group.
    pub group: String,
    /// Where events are published.
    pub events_topic: String,
    /// Where malformed posts go.
    pub dlq_topic: String,
    /// The internal topic between the extract and the detect stage (`<group>.repartition`
    /// unless named); the detect stage's consumer group is `<group>.detect`.
    pub repartition_topic: String,
    /// Checkpoint location.
    pub state: StateTarget,
    /// How often offsets are committed (after events are acknowledged and state is saved).
    pub checkpoint_every: Duration,
    /// librdkafka properties passed through to every client.
    pub properties: BTreeMap<String, String>,
}

/// The TOML file form; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// `bootstrap.servers`.
    pub brokers: Option<String>,
    /// Posts topic.
    pub topic: Option<String>,
    /// Consumer group.
    pub group: Option<String>,
    /// Events topic.
    pub events_topic: Option<String>,
    /// Dead-letter topic.
    pub dlq_topic: Option<String>,
    /// The internal topic between the two stages of `run`.
    pub repartition_topic: Option<String>,
    /// `"topic"`, `"topic:NAME"` or a directory.
    pub state: Option<String>,
    /// Seconds between checkpoints.
    pub checkpoint_seconds: Option<f64>,
    /// librdkafka properties.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Chat alerts of `run` (read by the binary: `webhook`, `dingtalk`, `dingtalk_secret`,
    /// `feishu`, `feishu_secret`, `wecom`, `public_url`, `update_minutes`).
    pub alerts: Option<toml::Table>,
}

impl FileSettings {
    /// Reads a settings file.
    pub fn from_file(path: &Path) -> Result<Self, StreamError> {
        let text = std::fs::read_to_string(path).map_err(|e| StreamError::io(path, e))?;
        toml::from_str(&text).map_err(|e| {
            StreamError::Config(format!(
                "{}: {} (keys: brokers, topic, group, events_topic, dlq_topic, repartition_topic, state, checkpoint_seconds, [properties], [alerts])",
                path.display(),
                e.to_string().trim()
            ))
        })
    }
}

/// Parses one `-X key=value`.
pub fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "expected key=value (a librdkafka property such as security.protocol=SASL_SSL), got {s:?}"
        )),
    }
}

/// Parses a `--state` value: `topic`, `topic:NAME` or a directory.
pub fn parse_state(s: &str, group: &str) -> StateTarget {
    if s == "topic" {
        StateTarget::Topic(format!("{group}.state"))
    } else if let Some(name) = s.strip_prefix("topic:") {
        StateTarget::Topic(name.to_owned())
    } else {
        StateTarget::Dir(PathBuf::from(s))
    }
}

impl Settings {
    /// Settings with defaults for `brokers`.
    pub fn new(brokers: impl Into<String>) -> Self {
        Settings {
            brokers: brokers.into(),
            topic: DEFAULT_TOPIC.into(),
            group: DEFAULT_GROUP.into(),
            events_topic: DEFAULT_EVENTS_TOPIC.into(),
            dlq_topic: format!("{DEFAULT_TOPIC}.dlq"),
            repartition_topic: format!("{DEFAULT_GROUP}.repartition"),
            state: StateTarget::Topic(format!("{DEFAULT_GROUP}.state")),
            checkpoint_every: Duration::from_secs(5),
            properties: BTreeMap::new(),
        }
    }

    /// Fills unset fields from a file, then defaults; `dlq_topic`, the repartition topic and
    /// the state topic follow `topic` and `group` unless set.
    #[allow(clippy::too_many_arguments)]
    pub fn resolve(
        file: FileSettings,
        brokers: Option<String>,
        topic: Option<String>,
        group: Option<String>,
        events_topic: Option<String>,
        state: Option<String>,
        checkpoint_seconds: Option<f64>,
        properties: Vec<(String, String)>,
    ) -> Result<Option<Self>, StreamError> {
        let Some(brokers) = brokers.or(file.brokers) else {
            return Ok(None);
        };
        let topic = topic.or(file.topic).unwrap_or_else(|| DEFAULT_TOPIC.into());
        let group = group.or(file.group).unwrap_or_else(|| DEFAULT_GROUP.into());
        let state = match state.or(file.state) {
            Some(s) => parse_state(&s, &group),
            None => StateTarget::Topic(format!("{group}.state")),
        };
        let secs = checkpoint_seconds
            .or(file.checkpoint_seconds)
            .unwrap_or(5.0);
        if !(secs > 0.0 && secs <= 3600.0) {
            return Err(StreamError::Config(format!(
                "checkpoint interval must be in (0, 3600] seconds, got {secs}"
            )));
        }
        let mut props = file.properties;
        props.extend(properties);
        Ok(Some(Settings {
            brokers,
            dlq_topic: file.dlq_topic.unwrap_or_else(|| format!("{topic}.dlq")),
            repartition_topic: file
                .repartition_topic
                .unwrap_or_else(|| format!("{group}.repartition")),
            topic,
            group,
            events_topic: events_topic
                .or(file.events_topic)
                .unwrap_or_else(|| DEFAULT_EVENTS_TOPIC.into()),
            state,
            checkpoint_every: Duration::from_secs_f64(secs),
            properties: props,
        }))
    }

    /// A client configuration with the brokers and pass-through properties.
    pub fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_names_follow_topic_and_group() {
        let file: FileSettings = toml::from_str(
            "brokers = \"a:1\"\ntopic = \"t\"\n[properties]\n\"client.id\" = \"x\"\n",
        )
        .unwrap();
        let s = Settings::resolve(
            file,
            None,
            None,
            Some("g".into()),
            None,
            None,
            None,
            vec![("client.id".into(), "y".into())],
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.brokers, "a:1");
        assert_eq!(s.topic, "t");
        assert_eq!(s.dlq_topic, "t.dlq");
        assert_eq!(s.repartition_topic, "g.repartition");
        assert_eq!(s.state, StateTarget::Topic("g.state".into()));
        assert_eq!(s.properties["client.id"], "y");
        let none = Settings::resolve(
            FileSettings::default(),
            None,
            None,
            None,
            None,
            None,
            None,
            vec![],
        )
        .unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn bad_properties_and_keys_are_explained() {
        assert!(parse_property("novalue").unwrap_err().contains("key=value"));
        assert_eq!(
            parse_property("a=b=c").unwrap(),
            ("a".to_owned(), "b=c".to_owned())
        );
        let e = toml::from_str::<FileSettings>("brokerz = \"x\"").unwrap_err();
        assert!(e.to_string().contains("brokerz"));
        assert_eq!(
            parse_state("/tmp/s", "g"),
            StateTarget::Dir("/tmp/s".into())
        );
        assert_eq!(parse_state("topic:x", "g"), StateTarget::Topic("x".into()));
    }
}
