//! One test per modelled Kafka rule, through the model's public API.
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::config::{CommitMode, ConsumerSpec, Keys, OffsetReset, ProducerSpec, TopicSpec};
use ksim::sim::event::EventKind;
use ksim::sim::ids::TopicId;
use ksim::sim::murmur2::partition_for_key;
use ksim::sim::report::{group_report, records};
use ksim::sim::{experiments, teach, Command, Scenario, Sim, SimTime, Tp};

fn topic(name: &str, partitions: u32) -> TopicSpec {
    TopicSpec { name: name.into(), partitions, ..TopicSpec::default() }
}

fn producer(keys: Keys) -> ProducerSpec {
    ProducerSpec { name: "p".into(), topic: "t".into(), keys, ..ProducerSpec::default() }
}

fn consumer(name: &str) -> ConsumerSpec {
    ConsumerSpec {
        name: name.into(),
        group: "g".into(),
        topics: vec!["t".into()],
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerSpec::default()
    }
}

fn scenario_with(partitions: u32, producers: Vec<ProducerSpec>, consumers: Vec<ConsumerSpec>) -> Scenario {
    Scenario { topics: vec![topic("t", partitions)], producers, consumers, ..Scenario::default() }
}

fn sim(s: &Scenario) -> Sim {
    let mut sim = Sim::new(s, 1).expect("valid scenario");
    sim.keep_events(true);
    sim
}

fn produce(sim: &mut Sim, at: u64, count: u64) {
    sim.schedule(SimTime(at), Command::Produce { producer: "p".into(), count });
}

fn leo(sim: &Sim, p: u32) -> u64 {
    sim.partition(Tp { topic: TopicId(0), partition: p }).log().log_end_offset()
}

#[test]
fn keyed_records_go_where_murmur2_says() {
    let keys = vec!["alice".to_string(), "bob".into(), "carol".into(), "dave".into()];
    let mut sim = sim(&scenario_with(6, vec![producer(Keys::Cycle { keys: keys.clone() })], vec![]));
    produce(&mut sim, 0, 40);
    sim.run_until(SimTime(1_000));
    for p in 0..6 {
        for r in records(&sim, Tp { topic: TopicId(0), partition: p }, 0, u64::MAX) {
            let key = r.key.expect("keyed");
            assert_eq!(partition_for_key(key.as_bytes(), 6), p, "{key} in partition {p}");
            assert_eq!(key, keys[(r.seq % 4) as usize]);
        }
    }
    let total: u64 = (0..6).map(|p| leo(&sim, p)).sum();
    assert_eq!(total, 40);
}

#[test]
fn records_with_one_key_keep_their_order_in_one_partition() {
    let mut sim = sim(&scenario_with(3, vec![producer(Keys::Fixed { key: "order-42".into() })], vec![]));
    for i in 0..5 {
        produce(&mut sim, i * 100, 3);
    }
    sim.run_until(SimTime(2_000));
    let p = partition_for_key(b"order-42", 3);
    let recs = records(&sim, Tp { topic: TopicId(0), partition: p }, 0, u64::MAX);
    assert_eq!(recs.iter().map(|r| r.seq).collect::<Vec<_>>(), (0..15).collect::<Vec<_>>());
}

#[test]
fn null_keys_stick_to_one_partition_for_a_batch_size_then_move() {
    // 100-byte records, batch.size 1000: ten records per sticky partition.
    let mut spec = producer(Keys::None);
    spec.batch_size = 1_000;
    let mut sim = sim(&scenario_with(4, vec![spec], vec![]));
    produce(&mut sim, 0, 10);
    sim.run_until(SimTime(100));
    let filled: Vec<u64> = (0..4).map(|p| leo(&sim, p)).filter(|n| *n > 0).collect();
    assert_eq!(filled, vec![10], "the first ten stick to one partition");
    produce(&mut sim, 200, 30);
    sim.run_until(SimTime(400));
    let sizes: Vec<u64> = (0..4).map(|p| leo(&sim, p)).collect();
    assert_eq!(sizes.iter().sum::<u64>(), 40);
    assert!(sizes.iter().all(|n| n % 10 == 0), "records move in whole sticky batches: {sizes:?}");
}

#[test]
fn an_explicit_partition_wins_over_keys() {
    let mut spec = producer(Keys::Fixed { key: "foobar".into() });
    spec.partition = Some(2);
    let mut sim = sim(&scenario_with(3, vec![spec], vec![]));
    produce(&mut sim, 0, 7);
    sim.run_until(SimTime(100));
    assert_eq!((leo(&sim, 0), leo(&sim, 1), leo(&sim, 2)), (0, 0, 7));
}

#[test]
fn a_rate_producer_sends_that_many_records_per_second_in_linger_batches() {
    let mut spec = producer(Keys::None);
    spec.rate_per_sec = 200;
    let mut sim = sim(&scenario_with(1, vec![spec], vec![]));
    sim.run_until(SimTime(10_000));
    let sent = sim.producers()[0].next_seq;
    assert!((1_990..=2_000).contains(&sent), "sent {sent}");
    let batches = sim.drain_events().iter().filter(|e| matches!(e.kind, EventKind::Appended { .. })).count();
    assert!(batches < 2_000 / 2, "records travel in batches, not one by one ({batches} batches)");
}

#[test]
fn a_long_poll_returns_as_soon_as_data_arrives() {
    let mut sim = sim(&scenario_with(1, vec![producer(Keys::None)], vec![consumer("c")]));
    produce(&mut sim, 10_000, 1);
    sim.run_until(SimTime(20_000));
    let events = sim.drain_events();
    let appended = events.iter().find(|e| matches!(e.kind, EventKind::Appended { .. })).unwrap().t;
    let fetched = events.iter().find(|e| matches!(e.kind, EventKind::Fetched { .. })).unwrap().t;
    assert_eq!(fetched - appended, 2, "the parked fetch answers at once; the response takes one latency");
}

#[test]
fn latest_skips_what_was_there_and_earliest_reads_it() {
    for (reset, want) in [(OffsetReset::Latest, 5), (OffsetReset::Earliest, 15)] {
        let mut c = consumer("c");
        c.running = false;
        c.auto_offset_reset = reset;
        let mut sim = sim(&scenario_with(1, vec![producer(Keys::None)], vec![c]));
        produce(&mut sim, 0, 10);
        sim.schedule(SimTime(1_000), Command::StartConsumer { consumer: "c".into() });
        // The position is set when the partition is assigned: after the 3 s initial
        // rebalance delay of a new group, so these five come after it.
        produce(&mut sim, 6_000, 5);
        sim.run_until(SimTime(12_000));
        let r = group_report(&sim, "g");
        assert_eq!(r.processed, want, "{reset:?}");
        assert_eq!(r.lost, 0, "a reset at the start is not a loss");
    }
}

#[test]
fn auto_commit_happens_inside_poll_every_interval() {
    let mut sim = sim(&scenario_with(1, vec![producer(Keys::None)], vec![consumer("c")]));
    produce(&mut sim, 0, 10);
    sim.run_until(SimTime(30_000));
    let commits: Vec<u64> =
        sim.drain_events().iter().filter(|e| matches!(e.kind, EventKind::CommitSent { .. })).map(|e| e.t).collect();
    assert!(commits.len() >= 5, "{commits:?}");
    for w in commits.windows(2) {
        // At least the interval apart, and at most one idle long-poll (500 ms + 2 latencies) late.
        assert!((5_000..=5_504).contains(&(w[1] - w[0])), "{commits:?}");
    }
}

#[test]
fn commit_after_processing_redelivers_what_a_crash_left_uncommitted() {
    let s = teach::find("crash-before-commit").unwrap();
    let mut sim = Sim::new(&s, 1).unwrap();
    sim.run_until(SimTime(s.duration_ms));
    let r = group_report(&sim, "my-group");
    // Second batch [20,40) was fetched at ~3017 ms; at 100 ms per record, 15 were done at 4550 ms.
    assert_eq!((r.processed, r.duplicates, r.lost), (50, 15, 0));
}

#[test]
fn commit_before_processing_loses_what_a_crash_left_unprocessed() {
    let s = teach::find("commit-before-processing").unwrap();
    let mut sim = Sim::new(&s, 1).unwrap();
    sim.run_until(SimTime(s.duration_ms));
    let r = group_report(&sim, "my-group");
    assert_eq!((r.processed, r.duplicates, r.lost), (45, 0, 5));
}

#[test]
fn a_clean_stop_commits_and_a_restart_resumes_there() {
    let s = teach::find("offsets").unwrap();
    let mut sim = Sim::new(&s, 1).unwrap();
    sim.keep_events(true);
    sim.run_until(SimTime(s.duration_ms));
    let events = sim.drain_events();
    let restart = events.iter().position(|e| e.t >= 15_000 && matches!(e.kind, EventKind::Started { .. })).unwrap();
    let resumed = events[restart..]
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::PositionSet { offset, reason, .. } => Some((*offset, reason.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(resumed, (10, "committed offset".to_string()));
    let r = group_report(&sim, "my-group");
    assert_eq!((r.processed, r.duplicates, r.lost, r.lag), (15, 0, 0, 0));
}

#[test]
fn a_crash_commits_nothing_more() {
    let mut c = consumer("c");
    c.commit = CommitMode::Auto;
    let mut sim = sim(&scenario_with(1, vec![producer(Keys::None)], vec![c]));
    produce(&mut sim, 0, 10);
    sim.schedule(SimTime(3_000), Command::CrashConsumer { consumer: "c".into() });
    sim.run_until(SimTime(20_000));
    assert_eq!(
        sim.committed("g", Tp { topic: TopicId(0), partition: 0 }),
        None,
        "auto-commit never ran before the crash"
    );
}

#[test]
fn durability_everything_sent_while_down_arrives_in_order() {
    let s = teach::find("durability").unwrap();
    let mut sim = Sim::new(&s, 1).unwrap();
    sim.keep_events(true);
    sim.run_until(SimTime(s.duration_ms));
    let mut next = 0;
    for e in sim.drain_events() {
        if let EventKind::Processed { ranges, .. } = e.kind {
            for r in ranges {
                assert_eq!(r.from, next, "in order, no gaps");
                next = r.to;
            }
        }
    }
    assert_eq!(next, 35);
}

#[test]
fn retention_moves_log_start_and_a_late_consumer_resets() {
    let s = teach::find("retention").unwrap();
    let mut sim = Sim::new(&s, 1).unwrap();
    sim.keep_events(true);
    sim.run_until(SimTime(s.duration_ms));
    let tp = Tp { topic: TopicId(0), partition: 0 };
    let start = sim.partition(tp).log().log_start_offset();
    assert!(start > 0);
    let events = sim.drain_events();
    assert!(events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::PositionSet { reason, .. } if reason.contains("out of range"))));
    let r = group_report(&sim, "my-group");
    assert!(r.lost > 0, "records deleted before the group read them are counted as lost");
    assert_eq!(r.duplicates, 0);
}

#[test]
fn unknown_names_and_absurd_values_are_rejected_not_panics() {
    let mut sim = sim(&scenario_with(1, vec![producer(Keys::None)], vec![consumer("c")]));
    for cmd in [
        Command::Produce { producer: "nobody".into(), count: 1 },
        Command::Produce { producer: "p".into(), count: 0 },
        Command::Produce { producer: "p".into(), count: u64::MAX },
        Command::SetRate { producer: "p".into(), per_sec: u32::MAX },
        Command::CrashConsumer { consumer: "ghost".into() },
        Command::StartConsumer { consumer: "c".into() },
        Command::SetKeys { producer: "p".into(), keys: Keys::Random { cardinality: 0 } },
        Command::SetProcessingTime { consumer: "c".into(), ms: u64::MAX },
    ] {
        sim.apply(cmd);
    }
    let rejected = sim.drain_events().iter().filter(|e| matches!(e.kind, EventKind::CommandRejected { .. })).count();
    assert_eq!(rejected, 8);
}

#[test]
fn invalid_scenarios_are_errors() {
    let mut s = scenario_with(0, vec![], vec![]);
    assert!(Sim::new(&s, 1).is_err());
    s.topics[0].partitions = 3;
    s.producers.push(ProducerSpec { topic: "missing".into(), ..ProducerSpec::default() });
    let err = Sim::new(&s, 1).err().unwrap().to_string();
    assert!(err.contains("no topic named 'missing'"), "{err}");
    let mut s = scenario_with(1, vec![], vec![consumer("c")]);
    s.consumers[0].name = "<script>".into();
    assert!(Sim::new(&s, 1).is_err());
}

#[test]
fn every_builtin_scenario_is_valid_and_runs() {
    for s in experiments::builtin() {
        let mut sim = Sim::new(&s, 1).unwrap_or_else(|e| panic!("{}: {e}", s.id));
        sim.run_until(SimTime(s.duration_ms));
        assert!(sim.event_count() > 0, "{}", s.id);
    }
}

#[test]
fn consumer_settings_take_effect_at_the_next_start() {
    use ksim::sim::command::ConsumerSetting;
    let mut c = consumer("c");
    c.auto_offset_reset = OffsetReset::Earliest;
    let mut sim = sim(&scenario_with(1, vec![producer(Keys::None)], vec![c]));
    sim.run_until(SimTime(5_000));
    sim.apply(Command::ConfigureConsumer {
        consumer: "c".into(),
        setting: ConsumerSetting::AutoOffsetReset(OffsetReset::Latest),
    });
    assert_eq!(sim.consumers()[0].spec.auto_offset_reset, OffsetReset::Earliest, "a running consumer keeps its config");
    sim.apply(Command::ConfigureConsumer { consumer: "c".into(), setting: ConsumerSetting::SessionTimeoutMs(1) });
    let rejected = sim.drain_events().iter().filter(|e| matches!(e.kind, EventKind::CommandRejected { .. })).count();
    assert_eq!(rejected, 1, "a session timeout below the heartbeat interval is refused");
    sim.apply(Command::StopConsumer { consumer: "c".into() });
    sim.apply(Command::StartConsumer { consumer: "c".into() });
    assert_eq!(sim.consumers()[0].spec.auto_offset_reset, OffsetReset::Latest);
    assert!(sim.consumers()[0].pending_spec.is_none());
}

#[test]
fn removed_consumers_leave_cleanly_and_removed_producers_send_no_more() {
    use ksim::sim::snapshot::Snapshot;
    let s = ksim::sim::teach::find("consumer-group").expect("built in");
    let mut sim = Sim::new(&s, 1).expect("valid");
    sim.keep_events(true);
    sim.run_until(SimTime(10_000));
    sim.apply(Command::RemoveConsumer { consumer: "consumer-2".into() });
    sim.apply(Command::RemoveProducer { producer: "producer".into() });
    let sent = sim.producers()[0].next_seq;
    sim.run_until(SimTime(20_000));
    let events = sim.drain_events();
    assert!(events
        .iter()
        .any(|e| matches!(&e.kind, ksim::sim::EventKind::LeaveGroup { consumer, .. } if consumer == "consumer-2")));
    assert_eq!(sim.producers()[0].next_seq, sent, "nothing sent after removal");
    let snap = Snapshot::of(&sim);
    assert!(snap.consumers.iter().all(|c| c.name != "consumer-2"));
    assert!(snap.producers.is_empty());
    // The survivors own everything, and the removed one cannot come back.
    let owned: usize = sim.consumers().iter().filter(|c| !c.removed).map(|c| c.assignment().len()).sum();
    assert_eq!(owned, 3);
    sim.apply(Command::StartConsumer { consumer: "consumer-2".into() });
    let rejected =
        sim.drain_events().into_iter().any(|e| matches!(e.kind, ksim::sim::EventKind::CommandRejected { .. }));
    assert!(rejected);
}

#[test]
fn the_stress_cluster_is_valid_and_busy() {
    let s = teach::find("stress").expect("in the menu");
    let mut sim = Sim::new(&s, 1).unwrap();
    sim.run_until(SimTime(5_000));
    let snap = ksim::sim::snapshot::Snapshot::of(&sim);
    assert_eq!(snap.brokers.len(), 6);
    assert_eq!(snap.topics.iter().map(|t| t.partitions.len()).sum::<usize>(), 36);
    assert!(snap.topics.iter().flat_map(|t| &t.partitions).all(|p| p.replicas.len() == 3));
    assert_eq!(snap.consumers.len(), 18);
    let sent: u64 = snap.producers.iter().map(|p| p.sent).sum();
    assert!((4_000..=5_100).contains(&sent), "about 1 000 records/s: {sent} in 5 s");
}

#[test]
fn a_crashed_consumers_card_claims_no_partition_it_just_gained() {
    use ksim::sim::snapshot::Snapshot;
    let s = ksim::sim::teach::find("consumer-group").expect("built in");
    let mut sim = Sim::new(&s, 1).expect("valid");
    sim.run_until(SimTime(8_000));
    let card = |sim: &Sim| Snapshot::of(sim).consumers.into_iter().find(|c| c.name == "consumer-2").unwrap();
    let before = card(&sim);
    assert!(!before.assignment.is_empty() && before.newly_assigned == before.assignment, "{before:?}");
    sim.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    let after = card(&sim);
    assert!(after.assignment.is_empty(), "{after:?}");
    assert!(after.newly_assigned.is_empty(), "owns nothing, gained nothing: {after:?}");
}

#[test]
fn records_waiting_where_a_group_has_committed_nothing_count_as_its_lag() {
    use ksim::sim::snapshot::Snapshot;
    // The basic experiment sends ten at 1 s.
    let s = ksim::sim::teach::find("basic").expect("built in");
    let mut sim = Sim::new(&s, 1).expect("valid");
    sim.run_until(SimTime(1_500));
    let group = |sim: &Sim| Snapshot::of(sim).groups.into_iter().find(|g| g.name == "my-group").unwrap();
    // Still forming (the initial rebalance delay): nothing read, nothing committed, ten wait.
    let g = group(&sim);
    assert_eq!((g.processed, g.lag, g.lag_uncommitted()), (0, 10, true), "{g:?}");
    assert_eq!(g.lag_text(), "lag - (10 records waiting, no offset committed yet)");
    assert_eq!(ksim::sim::report::group_report(&sim, "my-group").lag, 0, "Kafka's lag has no committed offset yet");
    sim.run_until(SimTime(20_000));
    let g = group(&sim);
    assert_eq!((g.processed, g.lag, g.lag_uncommitted()), (10, 0, false), "{g:?}");
    assert_eq!(g.lag_text(), "lag 0");
}

/// The picture's edges follow the protocol: a crashed consumer keeps its edges, marked as
/// unnoticed, while its session runs; once the coordinator gives up on it they go, and the
/// partitions' new owner reads them once its assignment arrives.
#[test]
fn a_crashed_consumers_edges_stay_until_its_session_runs_out_then_move() {
    use ksim::sim::snapshot::{Snapshot, Tie};
    let s = ksim::sim::teach::find("consumer-group").expect("built in");
    let mut sim = Sim::new(&s, 1).expect("valid");
    sim.run_until(SimTime(8_000));
    let edges = |sim: &Sim| {
        let g = Snapshot::of(sim).groups.into_iter().find(|g| g.name == "my-group").unwrap();
        g.edges
            .into_iter()
            .map(|e| (format!("{}-{}", e.topic, e.partition), e.consumer.to_string(), e.tie))
            .collect::<Vec<_>>()
    };
    let before = edges(&sim);
    let owned: Vec<String> = before.iter().filter(|(_, c, _)| c == "consumer-2").map(|(tp, _, _)| tp.clone()).collect();
    assert!(!owned.is_empty() && before.iter().all(|(_, _, t)| *t == Tie::Reads), "{before:?}");
    let session = s.consumers.iter().find(|c| c.name == "consumer-2").unwrap().session_timeout_ms;
    sim.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    let crashed = edges(&sim);
    for tp in &owned {
        assert!(crashed.contains(&(tp.clone(), "consumer-2".into(), Tie::Unnoticed)), "{crashed:?}");
    }
    // Just before the session runs out (it runs from the last heartbeat, up to one interval
    // before the crash): still there.
    let heartbeat = s.consumers.iter().find(|c| c.name == "consumer-2").unwrap().heartbeat_interval_ms;
    sim.run_until(SimTime(8_000 + session - heartbeat - 500));
    assert!(edges(&sim).iter().any(|(_, c, t)| c == "consumer-2" && *t == Tie::Unnoticed));
    // Well after: gone, and every partition it had is read by someone else.
    sim.run_until(SimTime(8_000 + session + 10_000));
    let after = edges(&sim);
    assert!(after.iter().all(|(_, c, t)| c != "consumer-2" && *t == Tie::Reads), "{after:?}");
    for tp in &owned {
        assert!(after.iter().any(|(p, _, _)| p == tp), "{tp} has a new owner: {after:?}");
    }
}

/// A clean stop sends LeaveGroup: the edges go as soon as it arrives, no session wait.
#[test]
fn a_stopped_consumers_edges_go_at_once() {
    use ksim::sim::snapshot::Snapshot;
    let s = ksim::sim::teach::find("consumer-group").expect("built in");
    let mut sim = Sim::new(&s, 1).expect("valid");
    sim.run_until(SimTime(8_000));
    sim.apply(Command::StopConsumer { consumer: "consumer-2".into() });
    sim.run_until(SimTime(9_000));
    let g = Snapshot::of(&sim).groups.into_iter().find(|g| g.name == "my-group").unwrap();
    assert!(g.edges.iter().all(|e| e.consumer != "consumer-2"), "{:?}", g.edges);
}

/// Mid-batch, the card says how much of the batch is left, not the batch's size.
#[test]
fn a_consumer_mid_batch_says_how_much_is_left() {
    use ksim::sim::snapshot::Snapshot;
    let c = ConsumerSpec { processing_ms: 100, ..consumer("c") };
    let s = scenario_with(1, vec![producer(Keys::None)], vec![c]);
    let mut sim = sim(&s);
    produce(&mut sim, 7_000, 10);
    let card = |sim: &Sim| Snapshot::of(sim).consumers.into_iter().find(|c| c.name == "c").unwrap();
    // Polled at about 7 s; 100 ms a record: half way through at about 7.5 s.
    sim.run_until(SimTime(7_550));
    let c = card(&sim);
    assert!(c.in_flight == 10 && c.batch_left > 0 && c.batch_left < 10, "{c:?}");
    assert_eq!(c.activity_line(), format!("processing: {} records left in this batch", c.batch_left));
}
