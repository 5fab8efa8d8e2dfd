//! Simulation speed: simulated seconds per wall-clock second for the stress cluster.
//! `cargo bench --bench sim_speed [-- --minutes N]`. Reports; never asserts.

use std::time::Instant;

mod common;

use common::stress;
use ksim::sim::{Sim, SimTime};

fn main() {
    let minutes = common::minutes_arg(10);
    let scenario = stress(minutes);
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..2 {
        let mut sim = Sim::new(&scenario, 1).expect("valid");
        let start = Instant::now();
        sim.run_until(SimTime(minutes * 60_000));
        best = best.min(start.elapsed().as_secs_f64());
        events = sim.event_count();
    }
    // Where the events come from, over the first simulated minute.
    let mut sim = Sim::new(&scenario, 1).expect("valid");
    sim.keep_events(true);
    sim.run_until(SimTime(60_000));
    let mut by_type: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for e in sim.drain_events() {
        let line = e.to_line();
        let kind = line.split("\"type\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("?").to_string();
        *by_type.entry(kind).or_default() += 1;
    }
    let mut counts: Vec<(String, u64)> = by_type.into_iter().collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let listed: Vec<String> = counts.iter().take(8).map(|(k, n)| format!("{k} {n}")).collect();
    let simulated = (minutes * 60) as f64;
    println!("stress cluster ({})", scenario.summary);
    println!(
        "simulated {simulated:.0} s in {best:.3} s wall (best of 2): {:.0} simulated s per wall s",
        simulated / best
    );
    println!("{}", common::bench_line("native_speed", simulated / best));
    println!("{}", common::bench_line("native_events_per_sim_s", events as f64 / simulated));
    println!("{events} events, {:.2} M events per wall s", events as f64 / best / 1e6);
    println!("events in the first simulated minute, by type: {}", listed.join(", "));
}
