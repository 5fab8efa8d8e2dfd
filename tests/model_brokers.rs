//! Brokers: replication, the ISR and high watermark, acks, leader election and truncation,
//! broker crash and restart, coordinator failover, and `kafka-topics --describe`.
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::config::{Acks, ClusterSpec, ConsumerSpec, OffsetReset, ProducerSpec, TopicSpec};
use ksim::sim::event::{Event, EventKind};
use ksim::sim::ids::TopicId;
use ksim::sim::{Command, Scenario, Sim, SimTime, TimedCommand, Tp};

const TP: Tp = Tp { topic: TopicId(0), partition: 0 };

fn cluster(brokers: u32, rf: u32, min_isr: u32, acks: Acks, script: Vec<TimedCommand>) -> Scenario {
    Scenario {
        cluster: ClusterSpec { brokers, ..ClusterSpec::default() },
        topics: vec![TopicSpec {
            name: "t".into(),
            partitions: 1,
            replication_factor: rf,
            min_insync_replicas: min_isr,
            ..TopicSpec::default()
        }],
        producers: vec![ProducerSpec { name: "p".into(), topic: "t".into(), acks, ..ProducerSpec::default() }],
        script,
        ..Scenario::default()
    }
}

fn at(ms: u64, command: Command) -> TimedCommand {
    TimedCommand { at: ms, command }
}

fn run(s: &Scenario, until: u64) -> (Sim, Vec<Event>) {
    let mut sim = Sim::new(s, 1).expect("valid scenario");
    sim.keep_events(true);
    sim.run_until(SimTime(until));
    let events = sim.drain_events();
    (sim, events)
}

/// The instant the leader appended the first batch (produced at 1 s: linger 5 ms, latency 2 ms).
const APPENDED_AT: u64 = 1_007;

fn leader(sim: &Sim) -> u32 {
    sim.partition(TP).leader_broker().expect("the partition has a leader").0
}

/// Which broker leads at the start (replica placement is seeded): crash that one.
fn first_leader(brokers: u32, rf: u32) -> u32 {
    let (sim, _) = run(&cluster(brokers, rf, 1, Acks::All, vec![]), 0);
    leader(&sim)
}

#[test]
fn acks_1_loses_acknowledged_records_when_the_leader_dies_before_followers_copy_them() {
    let l = first_leader(3, 3);
    let s = cluster(
        3,
        3,
        1,
        Acks::One,
        vec![
            at(1_000, Command::Produce { producer: "p".into(), count: 5 }),
            at(APPENDED_AT, Command::CrashBroker { broker: l }),
        ],
    );
    let (sim, events) = run(&s, 30_000);
    assert_eq!(sim.producers()[0].acked, 5, "the leader acknowledged before it died");
    let elected = events.iter().find_map(|e| match &e.kind {
        EventKind::LeaderElected { leader: Some(b), lost_acked, unclean, .. } => Some((e.t, *b, *lost_acked, *unclean)),
        _ => None,
    });
    let (t, new_leader, lost, unclean) = elected.expect("a new leader");
    assert!(t >= APPENDED_AT + 9_000, "elected only once the controller noticed the crash (t={t})");
    assert_ne!(new_leader.0, l);
    assert!(!unclean, "the followers were in the ISR: a clean election");
    assert_eq!(lost, 5, "every acknowledged record is gone");
    assert_eq!(sim.partition(TP).lost_acked, 5);
    assert_eq!(sim.partition(TP).log().log_end_offset(), 0);
}

#[test]
fn acks_all_with_min_isr_2_loses_nothing_when_any_single_broker_dies() {
    for b in 1..=3 {
        let s = cluster(
            3,
            3,
            2,
            Acks::All,
            vec![
                at(1_000, Command::Produce { producer: "p".into(), count: 5 }),
                at(APPENDED_AT, Command::CrashBroker { broker: b }),
                at(2_000, Command::Produce { producer: "p".into(), count: 5 }),
            ],
        );
        let (sim, events) = run(&s, 60_000);
        let part = sim.partition(TP);
        assert_eq!(part.lost_acked, 0, "broker {b}");
        assert_eq!(sim.producers()[0].acked, 10, "broker {b}: every record acknowledged in the end");
        assert_eq!(part.log().log_end_offset(), 10, "broker {b}: idempotent retries wrote nothing twice");
        assert_eq!(part.high_watermark, 10);
        let failed = events.iter().any(|e| matches!(e.kind, EventKind::ProduceFailed { retry_in_ms: None, .. }));
        assert!(!failed, "broker {b}: nothing given up");
    }
}

#[test]
fn without_idempotence_a_retry_after_a_lost_answer_writes_the_batch_twice() {
    // acks=all with one follower: the leader and follower both have the batch, the leader dies
    // before answering; the retry goes to the new leader.
    let l = first_leader(2, 2);
    let script = |idempotent: bool| {
        vec![
            at(0, Command::SetIdempotence { producer: "p".into(), enabled: idempotent }),
            at(1_000, Command::Produce { producer: "p".into(), count: 3 }),
            // Appended at 1007 and copied at 1009; the follower's next fetch would tell the
            // leader at 1011, which would then answer the producer.
            at(1_010, Command::CrashBroker { broker: l }),
        ]
    };
    let (twice, _) = run(&cluster(2, 2, 1, Acks::All, script(false)), 30_000);
    assert_eq!(twice.partition(TP).log().log_end_offset(), 6, "the retried batch is in the log twice");
    let (once, events) = run(&cluster(2, 2, 1, Acks::All, script(true)), 30_000);
    assert_eq!(once.partition(TP).log().log_end_offset(), 3);
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::DuplicateIgnored { .. })));
    assert_eq!(once.producers()[0].acked, 3);
}

#[test]
fn acks_all_is_refused_while_the_isr_is_below_min_insync_replicas() {
    let s = cluster(
        2,
        2,
        2,
        Acks::All,
        vec![
            at(100, Command::CrashBroker { broker: 1 }),
            at(20_000, Command::Produce { producer: "p".into(), count: 1 }),
        ],
    );
    let (sim, events) = run(&s, 23_000);
    let refused = events.iter().find_map(|e| match &e.kind {
        EventKind::ProduceFailed { error, retry_in_ms: Some(_), .. } => Some(error.clone()),
        _ => None,
    });
    assert!(refused.expect("refused").starts_with("NOT_ENOUGH_REPLICAS"));
    assert_eq!(sim.producers()[0].acked, 0);
    assert_eq!(sim.partition(TP).log().log_end_offset(), 0, "refused before appending");
}

#[test]
fn with_unclean_election_off_a_partition_whose_isr_is_gone_stays_offline_until_a_replica_returns() {
    let l = first_leader(2, 2);
    let f = 3 - l;
    let script = vec![
        at(1_000, Command::Produce { producer: "p".into(), count: 4 }),
        at(2_000, Command::CrashBroker { broker: f }), // the ISR shrinks to the leader alone
        at(20_000, Command::Produce { producer: "p".into(), count: 4 }), // only the leader has these
        at(21_000, Command::CrashBroker { broker: l }),
        at(40_000, Command::RestartBroker { broker: f }),
    ];
    let mut clean = cluster(2, 2, 1, Acks::One, script.clone());
    let (sim, events) = run(&clean, 50_000);
    assert_eq!(sim.partition(TP).leader, None, "offline: broker {f} is not in the ISR");
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::LeaderElected { leader: None, .. })));
    // The old leader returns: it leads again with everything.
    clean.script.push(at(50_000, Command::RestartBroker { broker: l }));
    let (sim, _) = run(&clean, 60_000);
    assert_eq!(leader(&sim), l);
    assert_eq!(sim.partition(TP).lost_acked, 0);
    assert_eq!(sim.partition(TP).log().log_end_offset(), 8);

    let mut unclean = cluster(2, 2, 1, Acks::One, script);
    unclean.cluster.unclean_leader_election = true;
    let (sim, events) = run(&unclean, 50_000);
    assert_eq!(leader(&sim), f, "the out-of-sync replica leads");
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::LeaderElected { unclean: true, lost_acked: 4, .. })));
    assert_eq!(sim.partition(TP).lost_acked, 4);
}

#[test]
fn a_returning_old_leader_truncates_what_was_never_replicated_then_catches_up() {
    let l = first_leader(3, 3);
    let s = cluster(
        3,
        3,
        1,
        Acks::One,
        vec![
            at(1_000, Command::Produce { producer: "p".into(), count: 5 }),
            at(APPENDED_AT, Command::CrashBroker { broker: l }),
            at(15_000, Command::Produce { producer: "p".into(), count: 3 }),
            at(20_000, Command::RestartBroker { broker: l }),
        ],
    );
    let (sim, events) = run(&s, 40_000);
    let truncated = events.iter().find_map(|e| match &e.kind {
        EventKind::Truncated { broker, from, to, .. } if broker.0 == l => Some((*from, *to)),
        _ => None,
    });
    assert_eq!(truncated, Some((5, 0)), "its 5 unreplicated records go");
    let part = sim.partition(TP);
    let logs: Vec<Vec<(u64, u64, u32)>> = part
        .replicas
        .iter()
        .map(|r| r.log.batches().map(|b| (b.base_offset, b.first_seq, b.leader_epoch)).collect())
        .collect();
    assert!(logs.windows(2).all(|w| w[0] == w[1]), "all replicas hold the same log: {logs:?}");
    assert_eq!(part.log().log_end_offset(), 3);
    assert_eq!(part.isr.len(), 3, "it rejoined the ISR");
}

#[test]
fn a_slow_follower_leaves_the_isr_after_replica_lag_time_max_and_rejoins_when_caught_up() {
    let (sim0, _) = run(&cluster(2, 2, 1, Acks::All, vec![]), 0);
    let f = 3 - leader(&sim0);
    let mut s = cluster(
        2,
        2,
        1,
        Acks::All,
        vec![
            at(1_000, Command::DelayBroker { broker: f, ms: 40_000 }),
            at(100_000, Command::DelayBroker { broker: f, ms: 0 }),
        ],
    );
    s.producers[0].rate_per_sec = 10;
    let (sim, events) = run(&s, 200_000);
    let changes: Vec<(u64, usize)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::IsrChanged { isr, .. } => Some((e.t, isr.len())),
            _ => None,
        })
        .collect();
    assert_eq!(changes.first().map(|c| c.1), Some(1), "{changes:?}");
    assert!(changes[0].0 > 30_000 && changes[0].0 <= 1_000 + 30_000 + 15_000 + 100, "{changes:?}");
    assert_eq!(changes.last().map(|c| c.1), Some(2), "back in the ISR: {changes:?}");
    assert_eq!(sim.partition(TP).isr.len(), 2);
}

#[test]
fn the_group_finds_its_new_coordinator_and_carries_on_without_a_rebalance() {
    let mut s = cluster(3, 3, 1, Acks::All, vec![]);
    s.producers[0].rate_per_sec = 5;
    s.consumers = vec![ConsumerSpec {
        name: "c".into(),
        group: "g".into(),
        topics: vec!["t".into()],
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerSpec::default()
    }];
    let (sim0, _) = run(&s, 10_000);
    let coordinator = sim0.coordinator_of("g").expect("a coordinator");
    let generation = sim0.groups().classic("g").unwrap().generation;
    s.script = vec![at(10_000, Command::CrashBroker { broker: coordinator.0 })];
    let (sim, events) = run(&s, 60_000);
    let moved = events.iter().find_map(|e| match &e.kind {
        EventKind::CoordinatorMoved { group, broker: Some(b) } if group == "g" => Some((e.t, *b)),
        _ => None,
    });
    let (t, to) = moved.expect("the coordinator moved");
    assert_ne!(to, coordinator);
    assert!(t >= 19_000, "after the controller fenced the broker");
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::FindCoordinator { consumer, .. } if consumer == "c")));
    assert_eq!(sim.groups().classic("g").unwrap().generation, generation, "no rebalance");
    assert!(!events.iter().any(|e| matches!(&e.kind, EventKind::MemberRemoved { .. })));
    let r = ksim::sim::report::group_report(&sim, "g");
    assert_eq!(r.processed, r.in_scope, "still consuming: {r:?}");
    assert!(
        events.iter().any(|e| e.t > t && matches!(&e.kind, EventKind::Committed { group, .. } if group == "g")),
        "commits reach the new coordinator"
    );
}

#[test]
fn topics_describe_like_kafka_topics() {
    let (sim, _) = run(&cluster(3, 3, 2, Acks::All, vec![at(100, Command::CrashBroker { broker: 2 })]), 20_000);
    let text = ksim::sim::describe::describe_topics(&sim);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Topic: t\tTopicId: "), "{text}");
    assert!(lines[0].ends_with("\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: min.insync.replicas=2"), "{text}");
    let p = sim.partition(TP);
    let isr: Vec<String> = p.isr.iter().map(ToString::to_string).collect();
    let replicas: Vec<String> = p.replica_brokers().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines[1],
        format!(
            "\tTopic: t\tPartition: 0\tLeader: {}\tReplicas: {}\tIsr: {}\tElr: \tLastKnownElr: ",
            leader(&sim),
            replicas.join(","),
            isr.join(",")
        )
    );
    assert!(!isr.contains(&"2".to_string()), "the fenced broker left the ISR");
}

#[test]
fn one_broker_and_one_replica_add_no_event_and_no_randomness() {
    // The built-in experiments (one broker) replay to the digests links recorded before
    // brokers existed: checked by tests/link_props.rs against tests/fixtures/links.tsv.
    let s = cluster(1, 1, 1, Acks::All, vec![at(1_000, Command::Produce { producer: "p".into(), count: 5 })]);
    let (_, events) = run(&s, 10_000);
    assert!(events.iter().all(|e| !matches!(
        e.kind,
        EventKind::HighWatermark { .. } | EventKind::Replicated { .. } | EventKind::IsrChanged { .. }
    )));
}

#[test]
fn auto_offset_reset_latest_starts_at_the_high_watermark_not_the_log_end() {
    // acks=1 records the slow follower has not copied yet are past the high watermark: a new
    // group reading from "latest" gets them once they are replicated (ListOffsets answers the
    // high watermark under read_uncommitted), none skipped.
    let (sim0, _) = run(&cluster(2, 2, 1, Acks::One, vec![]), 0);
    let f = 3 - leader(&sim0);
    let consumer = ConsumerSpec {
        name: "c".into(),
        group: "g".into(),
        topics: vec!["t".into()],
        auto_offset_reset: OffsetReset::Latest,
        ..ConsumerSpec::default()
    };
    let s = cluster(
        2,
        2,
        1,
        Acks::One,
        vec![
            at(500, Command::DelayBroker { broker: f, ms: 3_000 }),
            at(1_000, Command::Produce { producer: "p".into(), count: 5 }),
            at(1_100, Command::AddConsumer { spec: consumer }),
        ],
    );
    let (sim, events) = run(&s, 30_000);
    let set: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PositionSet { offset, reason, .. } if reason.contains("latest") => Some(*offset),
            _ => None,
        })
        .collect();
    assert_eq!(set, [0], "the high watermark was 0 while the log end was 5");
    assert_eq!(ksim::sim::report::group_report(&sim, "g").processed, 5);
}

fn elections(events: &[Event]) -> Vec<(u64, Option<u32>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::LeaderElected { leader, .. } => Some((e.t, leader.map(|b| b.0))),
            _ => None,
        })
        .collect()
}

#[test]
fn leadership_returns_to_the_preferred_replica_at_the_controllers_next_imbalance_check() {
    let l = first_leader(3, 3);
    let mut s = cluster(
        3,
        3,
        2,
        Acks::All,
        vec![at(1_000, Command::CrashBroker { broker: l }), at(60_000, Command::RestartBroker { broker: l })],
    );
    s.producers[0].rate_per_sec = 5;
    let (sim, events) = run(&s, 400_000);
    let elected = elections(&events);
    assert_eq!(elected.len(), 2, "{elected:?}");
    let (fenced_at, interim) = elected[0];
    assert!(fenced_at >= 10_000 && interim != Some(l), "{elected:?}");
    // The controller checks every leader.imbalance.check.interval.seconds (300 s) once some
    // partition is not led by its preferred replica; by then the restarted broker is in sync.
    assert_eq!(elected[1], (fenced_at + 300_000, Some(l)));
    assert_eq!(leader(&sim), l);
    assert_eq!(sim.partition(TP).lost_acked, 0);
    assert_eq!(gave_up(&events), 0);

    let mut s = s.clone();
    s.cluster.auto_leader_rebalance = false;
    let (sim, events) = run(&s, 400_000);
    assert_eq!(elections(&events).len(), 1, "auto.leader.rebalance.enable=false leaves it");
    assert_ne!(leader(&sim), l);
}

fn gave_up(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e.kind, EventKind::ProduceFailed { retry_in_ms: None, .. })).count()
}

#[test]
fn a_clean_stop_moves_leadership_at_once_and_loses_no_acknowledged_record() {
    let l = first_leader(3, 3);
    let s = cluster(
        3,
        3,
        2,
        Acks::All,
        vec![
            at(4_990, Command::Produce { producer: "p".into(), count: 200 }),
            at(4_998, Command::StopBroker { broker: l }),
        ],
    );
    let (sim, events) = run(&s, 30_000);
    assert!(events
        .iter()
        .any(|e| e.t == 4_998 && matches!(e.kind, EventKind::BrokerStopped { broker } if broker.0 == l)));
    let elected = elections(&events);
    assert_eq!(elected.len(), 1);
    assert_eq!(elected[0].0, 4_998, "no wait for broker.session.timeout.ms");
    assert_ne!(elected[0].1, Some(l));
    let retried = events.iter().any(|e| {
        matches!(&e.kind, EventKind::ProduceFailed { error, retry_in_ms: Some(_), .. } if error.starts_with("NOT_LEADER_OR_FOLLOWER"))
    });
    assert!(retried, "the write waiting at the old leader is refused there and retried");
    assert_eq!(gave_up(&events), 0);
    assert_eq!(sim.producers()[0].acked, 200);
    assert_eq!(sim.partition(TP).log().log_end_offset(), 200, "every record, once");
    assert_eq!(sim.partition(TP).lost_acked, 0);
    assert!(!sim.partition(TP).isr.iter().any(|b| b.0 == l));
    assert!(events.iter().any(
        |e| matches!(&e.kind, EventKind::IsrChanged { reason, .. } if *reason == format!("broker {l} shutting down"))
    ));

    // A stopped broker starts again like a crashed one, and takes its leadership back later.
    let mut s = s.clone();
    s.script.push(at(40_000, Command::RestartBroker { broker: l }));
    let (sim, events) = run(&s, 400_000);
    assert_eq!(elections(&events).last(), Some(&(304_998, Some(l))));
    assert_eq!(leader(&sim), l);
}
