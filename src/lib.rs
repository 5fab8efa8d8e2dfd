//! ksim: a deterministic, Kafka-true simulator of topics, partitions, producers, consumers,
//! offsets and consumer groups.
//!
//! - [`sim`]: the model. Pure, synchronous and deterministic; compiles and tests natively.
//! - `ui`: the Leptos app that renders the model in the browser (wasm32 only).
//! - `cli`: the native `ksim` command line (not on wasm32).

pub mod sim;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

#[cfg(target_arch = "wasm32")]
pub mod ui;
