//! A scenario: a cluster, its clients and a script of timed commands — what a [`Sim`] is built
//! from. The built-in ones are in [`crate::sim::teach`].
//!
//! [`Sim`]: crate::sim::Sim

use serde::Serialize;

use crate::sim::command::TimedCommand;
use crate::sim::config::{limits, ClusterSpec, ConsumerSpec, ProducerSpec, TopicSpec};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub cluster: ClusterSpec,
    pub topics: Vec<TopicSpec>,
    pub producers: Vec<ProducerSpec>,
    pub consumers: Vec<ConsumerSpec>,
    /// Commands at simulated times (ms), in the order given for equal times.
    pub script: Vec<TimedCommand>,
    /// How long `ksim run` plays it when no `--until` is given (ms).
    pub duration_ms: u64,
    /// The rules of a version-2 link: a group refuses a member of the other protocol while it
    /// has members, as ksim did before it modelled Kafka 4's online migration.
    #[serde(skip)]
    pub refuse_mixed_groups: bool,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            id: "sandbox".into(),
            title: "Sandbox".into(),
            summary: String::new(),
            cluster: ClusterSpec::default(),
            topics: vec![TopicSpec::default()],
            producers: vec![],
            consumers: vec![],
            script: vec![],
            duration_ms: 60_000,
            refuse_mixed_groups: false,
        }
    }
}

impl Scenario {
    pub fn validate(&self) -> Result<(), String> {
        if self.topics.is_empty() || self.topics.len() > limits::MAX_TOPICS {
            return Err(format!("a scenario needs 1 to {} topics", limits::MAX_TOPICS));
        }
        for (i, t) in self.topics.iter().enumerate() {
            t.validate()?;
            if self.topics[..i].iter().any(|o| o.name == t.name) {
                return Err(format!("topic '{}' is defined twice", t.name));
            }
        }
        self.cluster.validate()?;
        if let Some(t) = self.topics.iter().find(|t| t.replication_factor > self.cluster.brokers) {
            // Kafka refuses to create it: InvalidReplicationFactorException.
            return Err(format!(
                "topic '{}': replication factor {} is larger than the {} available brokers",
                t.name, t.replication_factor, self.cluster.brokers
            ));
        }
        if self.duration_ms > limits::MAX_MS {
            return Err("a scenario lasts at most 30 days".into());
        }
        if self.script.len() > 100_000 {
            return Err("a script has at most 100000 commands".into());
        }
        if self.script.iter().any(|c| c.at > limits::MAX_MS) {
            return Err("a scripted command is later than the 30-day limit".into());
        }
        Ok(())
    }
}

/// A reproducible run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Built-in scenario id; its own script is replaced by `commands`.
    pub scenario: String,
    pub seed: u64,
    /// What was done, and when (simulated ms).
    pub commands: Vec<TimedCommand>,
    /// The instant the link points at, if any.
    pub cursor_ms: Option<u64>,
    /// `group.protocol` of the scenario's consumers (classic unless the run says otherwise).
    pub group_protocol: crate::sim::config::GroupProtocol,
    /// Made under a version-2 link's rules (see [`Scenario::refuse_mixed_groups`]).
    pub refuse_mixed_groups: bool,
}
