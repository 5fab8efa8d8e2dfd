//! Running the model: the event queue and dispatch ([`engine`]), the actors at work ([`actors`]), the brokers and producers as
//! the engine runs them ([`brokers`], [`producers`]), what users do ([`commands`]), what a run
//! starts from ([`scenario`]), and what is read off a running model ([`snapshot`], [`report`],
//! [`describe`]) or checked on it ([`invariants`]); [`deliveries`] counts what each group processed.

pub mod actors;
pub mod brokers;
pub mod commands;
pub mod deliveries;
pub mod describe;
pub mod engine;
pub mod invariants;
pub mod network;
pub mod producers;
pub mod report;
pub mod scenario;
pub mod snapshot;
