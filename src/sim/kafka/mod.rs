//! The Kafka model: what a cluster and its clients are and the rules they follow. The actors —
//! a partition's replication, a group coordinator, a consumer — are state machines that take one
//! message at a time and record what they do as data; nothing here knows the event queue.
//!
//! - [`cluster`]: brokers, topics, partitions, replicas, and the read-only view clients get;
//!   [`log`]: a replica's log of batches; [`replication`]: one partition's leader, followers,
//!   ISR and high watermark.
//! - [`producer`]: the producer client (accumulator, in-flight batches, producer ids);
//!   [`keys`] and [`murmur2`]: its partitioner.
//! - [`coordinator`]: a consumer group's coordinator (the classic protocol); [`consumer`]: the
//!   consumer client (poll loop and membership); [`assign`]: the four assignors.
//! - [`consumer_group`]: a consumer-protocol group's coordinator (KIP-848: heartbeats, epochs,
//!   target assignments); [`reconcile`]: how one of its members moves to its target
//!   assignment, revoking before it is given what others still own; [`broker_assign`] and
//!   [`uniform`]: the assignors the coordinator runs for such a group.
//! - [`transaction`]: a transactional id's transaction coordinator (transaction version 2);
//!   [`offsets`]: a group's committed offsets, transactional ones pending until their marker.
//! - [`config`], [`command`], [`event`], [`ids`], [`ranges`]: settings, what users do, what the
//!   model reports, typed ids, offset-range sets.

pub mod assign;
pub mod broker_assign;
pub mod cluster;
pub mod command;
pub mod config;
pub mod conn;
pub mod consumer;
pub mod consumer_group;
pub mod controller;
pub mod coordinator;
pub mod event;
pub mod groups;
pub mod ids;
pub mod keys;
pub mod log;
pub mod murmur2;
pub mod offsets;
pub mod out;
pub mod producer;
pub mod ranges;
pub mod reconcile;
pub mod replication;
pub mod transaction;
pub mod uniform;
