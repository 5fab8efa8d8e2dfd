//! Replication invariants over random broker fault schedules: crashes, clean stops, restarts and slow
//! followers, with an idempotent acks=all producer and a consumer group reading along.
//!
//! 1 000 schedules of each kind per run; `KSIM_BROKER_CASES=5000` for a longer one.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use ksim::sim::config::{ClusterSpec, CommitMode, ConsumerSpec, Keys, OffsetReset, ProducerSpec, TopicSpec};
use ksim::sim::event::EventKind;
use ksim::sim::ids::Name;
use ksim::sim::ids::TopicId;
use ksim::sim::report::group_report;
use ksim::sim::{Command, Scenario, Sim, TimedCommand, Tp};
use proptest::prelude::*;

const BROKERS: u32 = 3;
const PARTITIONS: u32 = 3;
const ACTIVE_MS: u64 = 90_000;
/// Retries may go on for `delivery.timeout.ms` (120 s) after the producer stops.
const END_MS: u64 = ACTIVE_MS + 150_000;

#[derive(Clone, Debug)]
enum Fault {
    Crash(u32),
    /// A clean stop (controlled shutdown).
    Stop(u32),
    Restart(u32),
    Slow(u32, u64),
}

fn scenario(seed_rate: u32, unclean: bool, faults: &[(u64, Fault)]) -> Scenario {
    let mut script: Vec<TimedCommand> = faults
        .iter()
        .map(|(at, f)| TimedCommand {
            at: *at,
            command: match f {
                Fault::Crash(b) => Command::CrashBroker { broker: *b },
                Fault::Stop(b) => Command::StopBroker { broker: *b },
                Fault::Restart(b) => Command::RestartBroker { broker: *b },
                Fault::Slow(b, ms) => Command::DelayBroker { broker: *b, ms: *ms },
            },
        })
        .collect();
    // Everything comes back and settles before the end.
    for b in 1..=BROKERS {
        script.push(TimedCommand { at: ACTIVE_MS, command: Command::RestartBroker { broker: b } });
        script.push(TimedCommand { at: ACTIVE_MS, command: Command::DelayBroker { broker: b, ms: 0 } });
    }
    script.push(TimedCommand { at: ACTIVE_MS, command: Command::SetRate { producer: "p".into(), per_sec: 0 } });
    Scenario {
        cluster: ClusterSpec { brokers: BROKERS, unclean_leader_election: unclean, ..ClusterSpec::default() },
        topics: vec![TopicSpec {
            name: "t".into(),
            partitions: PARTITIONS,
            replication_factor: 3,
            min_insync_replicas: 2,
            ..TopicSpec::default()
        }],
        producers: vec![ProducerSpec {
            name: "p".into(),
            topic: "t".into(),
            rate_per_sec: seed_rate,
            keys: Keys::Random { cardinality: 50 },
            ..ProducerSpec::default()
        }],
        consumers: (1..=2)
            .map(|i| ConsumerSpec {
                name: format!("c{i}").into(),
                group: "g".into(),
                topics: vec!["t".into()],
                commit: CommitMode::AfterProcessing,
                auto_offset_reset: OffsetReset::Earliest,
                session_timeout_ms: 10_000,
                processing_ms: 5,
                ..ConsumerSpec::default()
            })
            .collect(),
        script,
        ..Scenario::default()
    }
}

/// Faults where at most `max_down` brokers are down at once.
fn faults(max_down: usize) -> impl Strategy<Value = Vec<(u64, Fault)>> {
    prop::collection::vec(
        (0u64..ACTIVE_MS, 0u8..5, 1u32..=BROKERS, prop_oneof![Just(0u64), Just(3_000), Just(45_000)]),
        0..10,
    )
    .prop_map(move |mut raw| {
        raw.sort_by_key(|r| r.0);
        let mut down: Vec<u32> = Vec::new();
        let mut out = Vec::new();
        for (at, kind, b, ms) in raw {
            match kind {
                0 | 1 | 3 if !down.contains(&b) && down.len() < max_down => {
                    down.push(b);
                    out.push((at, if kind == 3 { Fault::Stop(b) } else { Fault::Crash(b) }));
                }
                0..=2 if down.contains(&b) => {
                    down.retain(|&d| d != b);
                    out.push((at, Fault::Restart(b)));
                }
                _ => out.push((at, Fault::Slow(b, ms))),
            }
        }
        out
    })
}

/// Runs the schedule step by step, checking the invariants every case must keep; returns the
/// finished simulation.
fn check(s: &Scenario, seed: u64) -> Result<Sim, TestCaseError> {
    let mut sim = Sim::new(s, seed).expect("valid");
    sim.keep_events(true);
    let mut hw: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut leaders: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    // Per (consumer, partition): where the next fetched range must start.
    let mut next: BTreeMap<(Name, Name, u32), u64> = BTreeMap::new();
    let mut unclean_happened = false;
    while sim.next_time().is_some_and(|t| t.0 <= END_MS) {
        sim.step();
        for e in sim.drain_events() {
            match e.kind {
                EventKind::LeaderElected { unclean: true, .. } => unclean_happened = true,
                EventKind::LeaderElected {
                    partition, leader: Some(ksim::sim::ids::BrokerId(b)), leader_epoch, ..
                } => {
                    let first = *leaders.entry((partition, leader_epoch)).or_insert(b);
                    prop_assert_eq!(first, b, "two leaders of t-{} in epoch {}", partition, leader_epoch);
                }
                EventKind::PositionSet { consumer, topic, partition, offset, .. } => {
                    next.insert((consumer, topic, partition), offset);
                }
                EventKind::Fetched { consumer, ranges, .. } => {
                    for r in ranges {
                        let key = (consumer.clone(), r.topic.clone(), r.partition);
                        if let Some(&want) = next.get(&key) {
                            prop_assert_eq!(
                                r.from,
                                want,
                                "{} read {}-{} out of order at {}",
                                consumer,
                                r.topic,
                                r.partition,
                                e.t
                            );
                        }
                        prop_assert!(r.to > r.from);
                        next.insert(key, r.to);
                    }
                }
                _ => {}
            }
        }
        for t in 0..sim.topics().len() as u32 {
            for p in 0..PARTITIONS {
                let Some(visible) = sim.partition(Tp { topic: TopicId(t), partition: p }).visible_high_watermark()
                else {
                    continue;
                };
                let seen = hw.entry((t, p)).or_default();
                // An unclean election may lose records, high watermark included; a clean one never.
                prop_assert!(
                    visible >= *seen || unclean_happened,
                    "the high watermark of t-{p} consumers see moved back from {} to {} at {}",
                    seen,
                    visible,
                    sim.now().0
                );
                *seen = visible;
            }
        }
    }
    Ok(sim)
}

/// Schedules per property: 1 000 in CI (`KSIM_BROKER_CASES` for a longer run).
fn broker_cases() -> u32 {
    std::env::var("KSIM_BROKER_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: broker_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// One broker down at a time (fewer than min.insync.replicas = 2): no acknowledged record
    /// is lost, every acknowledged record is in the log once, and the group reads everything.
    #[test]
    fn acks_all_survives_any_single_broker_failure(seed in any::<u64>(), rate in 5u32..40, faults in faults(1)) {
        let s = scenario(rate, false, &faults);
        let sim = check(&s, seed)?;
        let mut in_logs = 0;
        for p in 0..PARTITIONS {
            let part = sim.partition(Tp { topic: TopicId(0), partition: p });
            prop_assert_eq!(part.lost_acked, 0, "t-{} lost acknowledged records: {:?}", p, faults);
            in_logs += part.log().log_end_offset();
            // Idempotent retries never write a batch twice under one producer id. Only after a
            // batch that may have been written expires does the producer take a new id (Kafka
            // bumps its epoch), and a batch written before may be written again under it.
            let mut written: BTreeMap<(u64, u64), Vec<Option<u32>>> = BTreeMap::new();
            for b in part.log().batches() {
                written.entry((b.first_seq, b.last_seq)).or_default().push(b.producer_id);
            }
            for (seqs, ids) in &written {
                let mut distinct = ids.clone();
                distinct.dedup();
                prop_assert_eq!(&distinct, ids, "t-{} holds {:?} twice under one producer id", p, seqs);
            }
        }
        // A write given up after its delivery timeout may still be in the log (Kafka does not
        // take it back), so the log can hold more than was acknowledged, never less.
        prop_assert!(sim.producers()[0].acked <= in_logs, "acked {} > {} in the logs: {:?}", sim.producers()[0].acked, in_logs, faults);
        let r = group_report(&sim, "g");
        prop_assert_eq!(r.lost, 0);
        prop_assert_eq!(r.processed, in_logs, "the group read everything: {:?}", r);
    }

    /// Any number of brokers down, unclean election on or off: the invariants that hold
    /// whatever happens (checked step by step in `check`).
    #[test]
    fn leaders_and_watermarks_stay_consistent_under_any_faults(
        seed in any::<u64>(),
        rate in 5u32..40,
        unclean in any::<bool>(),
        faults in faults(3),
    ) {
        check(&scenario(rate, unclean, &faults), seed)?;
    }
}
