//! The ksim model: a deterministic simulation of a Kafka cluster and its clients.
//!
//! Pure and synchronous: no wall clock, no I/O, no hash-map iteration order, and one seeded
//! ChaCha8 RNG. Commands go in ([`Sim::apply`], [`Sim::schedule`]), the event queue advances
//! simulated time ([`Sim::run_until`], [`Sim::step`]), typed [`Event`]s come out, and an XXH3-128
//! digest over their canonical lines identifies a run. A [`Sim`] is `Clone`: a clone is a
//! snapshot.
//!
//! Work is per batch, as in Kafka: logs hold batches, fetches and commits move offset ranges,
//! deliveries are counted as runs of offsets, and a record's key and value are derived from its
//! producer and sequence number instead of being stored.

pub mod json;
pub mod kafka;
pub mod replay;
pub mod run;
pub mod sort;
pub mod teach;
pub mod text;
pub mod time;
pub mod vecmap;

pub use kafka::{
    assign, cluster, command, config, conn, consumer, coordinator, event, ids, keys, log, murmur2, producer, ranges,
    replication,
};
pub use replay::{compare, lane, link, timeline, wire};
pub use run::{deliveries, describe, engine, invariants, report, scenario, snapshot};
pub use teach::{experiments, lesson, progress};

pub use command::{Command, TimedCommand};
pub use consumer::{ConsumerStatus, Phase};
pub use engine::{Sim, SimError, Tp};
pub use event::{Event, EventKind};
pub use scenario::Scenario;
pub use time::SimTime;
