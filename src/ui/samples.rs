//! What the plots need of the model, sampled once per simulated second.

use crate::sim::snapshot;
use crate::sim::Sim;

/// What the plots need from one simulated second.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub second: u64,
    /// Lag per group, by name.
    pub lag: Vec<(String, u64)>,
    /// Records in all logs (log-end offsets summed) at that second.
    pub appended: u64,
}

/// Appends a sample when the model enters a simulated second not sampled yet (returning true);
/// keeps the last `keep`. After a seek back, seconds already sampled are not sampled again.
pub fn record(samples: &mut Vec<Sample>, sim: &Sim, keep: usize) -> bool {
    let second = sim.now().ms() / 1000;
    if samples.last().is_some_and(|s| s.second >= second) {
        return false;
    }
    let lag = sim.group_names().into_iter().map(|g| {
        let lag = snapshot::group_lag(sim, &g);
        (g, lag)
    });
    samples.push(Sample { second, lag: lag.collect(), appended: snapshot::appended(sim) });
    let excess = samples.len().saturating_sub(keep);
    samples.drain(..excess);
    true
}
