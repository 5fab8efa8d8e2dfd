//! Running the model: the engine ([`engine`]: the event queue in simulated time, the clock, and
//! the dispatch of each message to the actor it is for — its submodules drive each kind of actor
//! and carry out users' commands), what a run starts from ([`scenario`]), and what is read off a
//! running model ([`snapshot`], [`report`], [`describe`]) or checked on it ([`invariants`]);
//! [`deliveries`] counts what each group processed.

pub mod deliveries;
pub mod describe;
pub mod engine;
pub mod invariants;
pub mod report;
pub mod scenario;
pub mod snapshot;
