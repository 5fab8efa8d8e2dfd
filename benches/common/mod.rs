//! The clusters the benchmarks share.

use ksim::sim::config::{CommitMode, ConsumerSpec, Keys, OffsetReset, ProducerSpec, TopicSpec};
use ksim::sim::{Command, Scenario, TimedCommand};

/// 3 topics × 12 partitions, 1 000 records/s in all with random keys, one hour of retention,
/// a consumer per (topic, group) in 3 groups, and a crash and restart every few minutes.
pub fn busy_cluster(minutes: u64) -> Scenario {
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

/// `--minutes N` from the command line, else `default`.
pub fn minutes_arg(default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--minutes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
