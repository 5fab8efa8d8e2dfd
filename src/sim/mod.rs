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

pub mod assign;
pub mod brokers;
pub mod cluster;
pub mod command;
pub mod commands;
pub mod compare;
pub mod config;
pub mod consumer;
pub mod coordinator;
pub mod describe;
pub mod engine;
pub mod event;
pub mod ids;
pub mod invariants;
pub mod keys;
pub mod lesson;
pub mod link;
pub mod log;
pub mod murmur2;
pub mod producer;
pub mod ranges;
pub mod replication;
pub mod report;
pub mod scenario;
pub mod snapshot;
pub mod sort;
pub mod text;
pub mod time;
pub mod timeline;
pub mod wire;

pub use command::{Command, TimedCommand};
pub use consumer::{ConsumerStatus, Phase};
pub use engine::{Sim, SimError, Tp};
pub use event::{Event, EventKind};
pub use scenario::Scenario;
pub use time::SimTime;
