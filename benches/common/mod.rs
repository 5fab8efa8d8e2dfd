//! What the benchmarks share: the stress cluster, arguments, and the `BENCH key value` lines
//! `scripts/bench.mjs` collects into BENCHMARKS.md.

use ksim::sim::Scenario;

/// The stress cluster of the performance budgets, scripted for `minutes`.
#[allow(dead_code)] // not every bench binary plays the standard stress cluster
pub fn stress(minutes: u64) -> Scenario {
    ksim::sim::experiments::stress(3, 12, 1_000, minutes)
}

/// `--NAME N` from the command line, else `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `--minutes N` from the command line, else `default`.
#[allow(dead_code)] // not every bench binary takes minutes
pub fn minutes_arg(default: u64) -> u64 {
    arg("minutes", default)
}

/// A figure for BENCHMARKS.md, on a line of its own.
#[allow(dead_code)] // not every bench binary reports through it
pub fn bench_line(key: &str, value: f64) -> String {
    format!("BENCH {key} {value:.3}")
}
