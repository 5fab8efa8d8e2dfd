//! Ids of the things a run is made of, as types: a consumer is not a broker is not a topic.

use serde::Serialize;

/// A consumer application of the run, by its place in [`crate::sim::Sim::consumers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ConsumerId(pub u32);

/// A producer application of the run, by its place in [`crate::sim::Sim::producers`] (not Kafka's
/// producer id, which an idempotent producer instance gets from the cluster).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ProducerId(pub u32);

/// A broker, numbered from 1 as Kafka's `node.id`s usually are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BrokerId(pub u32);

impl ConsumerId {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

impl ProducerId {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

impl BrokerId {
    /// Its place in [`crate::sim::Sim::brokers`].
    pub fn ix(self) -> usize {
        self.0 as usize - 1
    }
}

/// A topic-partition by index: `topic` indexes [`crate::sim::Sim::topics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tp {
    pub topic: u32,
    pub partition: u32,
}
