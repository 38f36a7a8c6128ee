//! The embedded default: librdkafka's in-process Kafka-protocol cluster
//! ([`MockCluster`]), listening on loopback, so `benglema run` works on a machine without
//! Kafka. Clients reach it over TCP exactly as they would a real broker.

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use crate::StreamError;

/// An in-process cluster; it stops when dropped.
pub struct EmbeddedCluster {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedCluster {
    /// Starts a one-broker cluster with `topics` (`(name, partitions)`) created.
    pub fn start(topics: &[(&str, i32)]) -> Result<Self, StreamError> {
        let cluster = MockCluster::new(1)
            .map_err(|e| StreamError::kafka("starting the embedded Kafka cluster", e))?;
        for (name, parts) in topics {
            cluster
                .create_topic(name, *parts, 1)
                .map_err(|e| StreamError::kafka(format!("creating embedded topic {name}"), e))?;
        }
        Ok(EmbeddedCluster { cluster })
    }

    /// `bootstrap.servers` of the cluster (loopback TCP).
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }
}
