//! The built-in experiments: the tutorial's basic producer/consumer runs, the broker and
//! group experiments, and the stress cluster — and the helpers lessons build theirs with.

use crate::sim::command::{Command, ConsumerSetting, TimedCommand};
use crate::sim::config::{ClusterSpec, CommitMode, ConsumerSpec, Keys, OffsetReset, ProducerSpec, Strategy, TopicSpec};
use crate::sim::scenario::Scenario;

pub(crate) fn at(ms: u64, command: Command) -> TimedCommand {
    TimedCommand { at: ms, command }
}

pub(crate) fn produce(ms: u64, count: u64) -> TimedCommand {
    at(ms, Command::Produce { producer: "producer".into(), count })
}

fn consumer(name: &str) -> String {
    name.to_string()
}

/// One topic, the producer `producer` and the consumer `consumer` (group `my-group`, reading
/// from the earliest offset, 100 ms per record).
pub(crate) fn base(id: &str, title: &str, summary: &str, partitions: u32) -> Scenario {
    Scenario {
        id: id.into(),
        title: title.into(),
        summary: summary.into(),
        topics: vec![TopicSpec { name: "my-topic".into(), partitions, ..TopicSpec::default() }],
        producers: vec![ProducerSpec { name: "producer".into(), topic: "my-topic".into(), ..ProducerSpec::default() }],
        consumers: vec![ConsumerSpec {
            name: "consumer".into(),
            group: "my-group".into(),
            topics: vec!["my-topic".into()],
            auto_offset_reset: OffsetReset::Earliest,
            processing_ms: 100,
            ..ConsumerSpec::default()
        }],
        ..Scenario::default()
    }
}

/// 50 messages in batches of 20 at 100 ms a record; the consumer crashes 15 records into its
/// second batch and restarts. What the group loses or repeats depends on `commit`.
fn crash_mid_batch(id: &str, title: &str, summary: &str, commit: CommitMode) -> Scenario {
    let summary = format!("{summary} (session.timeout.ms is 10 s here, Kafka's pre-3.0 default.)");
    let mut s = base(id, title, &summary, 1);
    s.consumers[0].commit = commit;
    s.consumers[0].max_poll_records = 20;
    // Kafka's pre-3.0 default, so the dead member's session runs out sooner than 45 s.
    s.consumers[0].session_timeout_ms = 10_000;
    s.script = vec![
        produce(1_000, 50),
        at(6_550, Command::CrashConsumer { consumer: consumer("consumer") }),
        at(10_000, Command::StartConsumer { consumer: consumer("consumer") }),
    ];
    s.duration_ms = 40_000;
    s
}

/// The built-in scenarios, in the order `ksim lessons` lists them.
pub fn builtin() -> Vec<Scenario> {
    let mut out = Vec::new();

    let mut s = base(
        "basic",
        "Producer and consumer",
        "producer.py sends 10 numbered messages; consumer.py reads them and commits automatically.",
        1,
    );
    s.script = vec![produce(1_000, 10)];
    s.duration_ms = 15_000;
    out.push(s);

    let mut s = base(
        "durability",
        "Messages wait for a stopped consumer",
        "The consumer stops, the producer runs three times, the consumer restarts and gets all 30 messages.",
        1,
    );
    s.script = vec![
        produce(1_000, 5),
        at(5_000, Command::StopConsumer { consumer: consumer("consumer") }),
        produce(8_000, 10),
        produce(12_000, 10),
        produce(16_000, 10),
        at(20_000, Command::StartConsumer { consumer: consumer("consumer") }),
    ];
    s.duration_ms = 40_000;
    out.push(s);

    let mut s = base(
        "offsets",
        "A restarted consumer resumes at its committed offset",
        "The consumer reads 10 messages, stops cleanly (committing), restarts, and only new messages are processed.",
        1,
    );
    s.script = vec![
        produce(1_000, 10),
        at(10_000, Command::StopConsumer { consumer: consumer("consumer") }),
        at(15_000, Command::StartConsumer { consumer: consumer("consumer") }),
        produce(20_000, 5),
    ];
    s.duration_ms = 30_000;
    out.push(s);

    out.push(crash_mid_batch(
        "crash-before-commit",
        "Processed twice: a crash between processing and commit",
        "The consumer commits after each batch of 20; it crashes in the middle of a batch and the restarted one processes those records again.",
        CommitMode::AfterProcessing,
    ));
    out.push(crash_mid_batch(
        "commit-before-processing",
        "Lost: committing before processing",
        "The consumer commits as soon as poll() returns; it crashes mid-batch and the restarted one skips what was never processed.",
        CommitMode::BeforeProcessing,
    ));

    let mut s = base(
        "consumer-group",
        "Three consumers share a topic",
        "consumer_group.py three times: the group's assignor splits 3 partitions among them. Crash one: nothing happens until its session times out (10 s here, Kafka's pre-3.0 default), then the others take over.",
        3,
    );
    s.producers[0].rate_per_sec = 4;
    // Keys murmur2 spreads over all three partitions (alice, bob → 0; dave, frank → 1; carol, erin → 2).
    s.producers[0].keys = crate::sim::config::Keys::Cycle {
        keys: ["alice", "bob", "carol", "dave", "erin", "frank"].map(String::from).to_vec(),
    };
    s.consumers = (1..=3)
        .map(|i| ConsumerSpec {
            name: format!("consumer-{i}").into(),
            group: "my-group".into(),
            topics: vec!["my-topic".into()],
            auto_offset_reset: OffsetReset::Earliest,
            processing_ms: 50,
            session_timeout_ms: 10_000,
            ..ConsumerSpec::default()
        })
        .collect();
    s.duration_ms = 60_000;
    out.push(s);

    let mut s = base(
        "cooperative-upgrade",
        "Rolling upgrade to cooperative rebalancing",
        "Three consumers with Kafka's default partition.assignment.strategy (range, cooperative-sticky): the group votes for range and every rebalance is eager — each member gives up all its partitions. One by one, each is restarted with only cooperative-sticky: from the first restart the group uses cooperative-sticky, the only assignor all support, but members that still list range revoke everything; once none does, a fourth consumer joining moves only the partitions it takes.",
        6,
    );
    s.producers[0].rate_per_sec = 10;
    s.consumers = (1..=3)
        .map(|i| ConsumerSpec {
            name: format!("consumer-{i}").into(),
            group: "my-group".into(),
            topics: vec!["my-topic".into()],
            auto_offset_reset: OffsetReset::Earliest,
            processing_ms: 20,
            session_timeout_ms: 10_000,
            ..ConsumerSpec::default()
        })
        .collect();
    let upgrade = |t: u64, i: u32| {
        let consumer = format!("consumer-{i}");
        vec![
            at(
                t,
                Command::ConfigureConsumer {
                    consumer: consumer.clone(),
                    setting: ConsumerSetting::Assignors(vec![Strategy::CooperativeSticky]),
                },
            ),
            at(t, Command::StopConsumer { consumer: consumer.clone() }),
            at(t + 2_000, Command::StartConsumer { consumer }),
        ]
    };
    s.script = [upgrade(15_000, 1), upgrade(35_000, 2), upgrade(55_000, 3)].concat();
    s.script.push(at(
        80_000,
        Command::AddConsumer {
            spec: ConsumerSpec {
                name: "consumer-4".into(),
                assignors: vec![Strategy::CooperativeSticky],
                ..s.consumers[0].clone()
            },
        },
    ));
    s.duration_ms = 100_000;
    out.push(s);

    let mut s = base(
        "replication",
        "Three brokers keep copies: crash the leader",
        "Each partition has 3 replicas on 3 brokers (replication factor 3, min.insync.replicas 2, acks=all). Broker 1 crashes at 15 s: its partitions stall until the controller notices (broker.session.timeout.ms, 9 s), then another in-sync replica leads and nothing acknowledged is lost. It restarts at 45 s, catches up and rejoins the ISR.",
        3,
    );
    s.cluster.brokers = 3;
    s.topics[0].replication_factor = 3;
    s.topics[0].min_insync_replicas = 2;
    s.producers[0].rate_per_sec = 4;
    s.producers[0].keys = crate::sim::config::Keys::Cycle {
        keys: ["alice", "bob", "carol", "dave", "erin", "frank"].map(String::from).to_vec(),
    };
    s.consumers[0].processing_ms = 20;
    s.script = vec![at(15_000, Command::CrashBroker { broker: 1 }), at(45_000, Command::RestartBroker { broker: 1 })];
    s.duration_ms = 70_000;
    out.push(s);

    let mut s = base(
        "acks-one",
        "acks=1 loses what the leader acknowledged alone",
        "The producer uses acks=1: the leader answers as soon as it has appended. The followers replicate 2 s late (slow network), still inside replica.lag.time.max.ms, so they stay in the ISR. Broker 1 crashes at 15 s: the new leader lacks what broker 1 acknowledged in its last 2 s, and the invariant \"no acknowledged record lost\" turns red at the election.",
        3,
    );
    s.cluster.brokers = 3;
    s.topics[0].replication_factor = 3;
    s.producers[0].rate_per_sec = 10;
    s.producers[0].acks = crate::sim::config::Acks::One;
    s.script = vec![
        at(5_000, Command::DelayBroker { broker: 2, ms: 2_000 }),
        at(5_000, Command::DelayBroker { broker: 3, ms: 2_000 }),
        at(15_000, Command::CrashBroker { broker: 1 }),
    ];
    s.duration_ms = 40_000;
    out.push(s);

    let mut s = base(
        "retention",
        "Retention deletes what a stopped consumer never read",
        "Records are kept 60 s; the consumer is away for 3 minutes and resets to the earliest offset still in the log.",
        1,
    );
    s.topics[0].retention_ms = Some(60_000);
    s.topics[0].segment_ms = 10_000;
    s.cluster.retention_check_interval_ms = 5_000;
    s.producers[0].rate_per_sec = 2;
    s.script = vec![
        at(10_000, Command::StopConsumer { consumer: consumer("consumer") }),
        at(190_000, Command::StartConsumer { consumer: consumer("consumer") }),
    ];
    s.duration_ms = 240_000;
    out.push(s);

    out
}

/// Every experiment in the menu: the built-in ones, then the stress cluster (an hour of it; kept
/// out of [`builtin`], which tests sweep).
pub fn all() -> Vec<Scenario> {
    let mut out = builtin();
    out.push(stress(3, 12, 1_000, 60));
    out
}

/// The stress cluster the performance budgets are measured on: 6 brokers, `topics` topics of
/// `partitions` partitions with replication factor 3, 3 groups each with 6 consumers reading every
/// topic, `rate` records/s in all with random keys, one hour of retention, and a consumer crash
/// (restarted 20 s later) every 3 minutes for `minutes`.
pub fn stress(topics: u32, partitions: u32, rate: u32, minutes: u64) -> Scenario {
    let names: Vec<String> = (0..topics).map(|i| format!("topic-{i}")).collect();
    let topic_specs = names
        .iter()
        .map(|name| TopicSpec {
            name: name.clone().into(),
            partitions,
            replication_factor: 3,
            min_insync_replicas: 2,
            retention_ms: Some(3_600_000),
            segment_ms: 60_000,
            ..TopicSpec::default()
        })
        .collect();
    let producers = names
        .iter()
        .enumerate()
        .map(|(i, name)| ProducerSpec {
            name: format!("producer-{i}").into(),
            topic: name.clone().into(),
            keys: Keys::Random { cardinality: 1_000 },
            // The rate split over the producers, the remainder on the first ones.
            rate_per_sec: rate / topics + u32::from((i as u32) < rate % topics),
            ..ProducerSpec::default()
        })
        .collect();
    let commits = [CommitMode::Auto, CommitMode::AfterProcessing, CommitMode::BeforeProcessing];
    let consumers: Vec<ConsumerSpec> = (0..3)
        .flat_map(|g| {
            let names = &names;
            (0..6).map(move |c| ConsumerSpec {
                name: format!("g{g}-c{c}").into(),
                group: format!("group-{g}").into(),
                topics: names.clone(),
                commit: commits[g],
                auto_offset_reset: OffsetReset::Earliest,
                ..ConsumerSpec::default()
            })
        })
        .collect();
    let mut script = Vec::new();
    let mut t = 90_000;
    let mut i = 0;
    while t < minutes * 60_000 {
        let name = consumers[(i * 7) % consumers.len()].name.clone();
        script.push(at(t, Command::CrashConsumer { consumer: name.to_string() }));
        script.push(at(t + 20_000, Command::StartConsumer { consumer: name.to_string() }));
        t += 180_000;
        i += 1;
    }
    Scenario {
        id: "stress".into(),
        title: "Stress: a busy cluster".into(),
        summary: format!(
            "6 brokers; {topics} topics × {partitions} partitions, replication factor 3; 3 groups × 6 consumers; {rate} records/s with random keys; a consumer crashes every 3 minutes."
        ),
        cluster: ClusterSpec { brokers: 6, retention_check_interval_ms: 60_000, ..ClusterSpec::default() },
        topics: topic_specs,
        producers,
        consumers,
        script,
        duration_ms: minutes * 60_000,
        refuse_mixed_groups: false,
    }
}
