//! Simulation speed: simulated seconds per wall-clock second for a busy cluster.
//! `cargo bench --bench sim_speed [-- --minutes N]`. Reports; never asserts.

use std::time::Instant;

use ksim::sim::config::{CommitMode, ConsumerSpec, Keys, OffsetReset, ProducerSpec, TopicSpec};
use ksim::sim::{Command, Scenario, Sim, SimTime, TimedCommand};

/// 3 topics × 12 partitions, 1 000 records/s in all with random keys, one hour of retention,
/// a consumer per (topic, group) in 3 groups, and a crash and restart every few minutes.
fn busy_cluster(minutes: u64) -> Scenario {
    let topics: Vec<TopicSpec> = (0..3)
        .map(|i| TopicSpec {
            name: format!("topic-{i}"),
            partitions: 12,
            retention_ms: Some(3_600_000),
            segment_ms: 60_000,
            ..TopicSpec::default()
        })
        .collect();
    let producers = (0..3)
        .map(|i| ProducerSpec {
            name: format!("producer-{i}"),
            topic: format!("topic-{i}"),
            keys: Keys::Random { cardinality: 1_000 },
            rate_per_sec: if i == 0 { 334 } else { 333 },
            ..ProducerSpec::default()
        })
        .collect();
    let mut consumers = Vec::new();
    for g in 0..3 {
        for t in 0..3 {
            consumers.push(ConsumerSpec {
                name: format!("g{g}-t{t}"),
                group: format!("group-{g}"),
                topics: vec![format!("topic-{t}")],
                commit: [CommitMode::Auto, CommitMode::AfterProcessing, CommitMode::BeforeProcessing][g],
                auto_offset_reset: OffsetReset::Earliest,
                ..ConsumerSpec::default()
            });
        }
    }
    let mut script = Vec::new();
    let mut at = 90_000;
    let mut i = 0;
    while at < minutes * 60_000 {
        let name = consumers[i % consumers.len()].name.clone();
        script.push(TimedCommand { at, command: Command::CrashConsumer { consumer: name.clone() } });
        script.push(TimedCommand { at: at + 20_000, command: Command::StartConsumer { consumer: name } });
        at += 180_000;
        i += 1;
    }
    Scenario {
        id: "busy".into(),
        topics,
        producers,
        consumers,
        script,
        cluster: ksim::sim::config::ClusterSpec { retention_check_interval_ms: 60_000, ..Default::default() },
        ..Scenario::default()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let minutes: u64 = args
        .iter()
        .position(|a| a == "--minutes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let scenario = busy_cluster(minutes);
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..3 {
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
    println!("busy cluster (3 topics x 12 partitions, 1000 records/s, 9 consumers in 3 groups)");
    println!(
        "simulated {simulated:.0} s in {best:.3} s wall (best of 3): {:.0} simulated s per wall s",
        simulated / best
    );
    println!("{events} events, {:.2} M events per wall s", events as f64 / best / 1e6);
    println!("events in the first simulated minute, by type: {}", listed.join(", "));
}
