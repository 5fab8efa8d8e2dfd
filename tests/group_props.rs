//! Consumer-group invariants over random fault schedules: crashes, restarts, clean leaves,
//! joins, slow consumers and moves between groups, under every assignor and commit mode.
//!
//! 10 000 schedules by default (`PROPTEST_CASES` changes it). A failure prints the case as JSON
//! and the command that replays it: `KSIM_REPLAY='…' cargo test --test group_props replay`.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use ksim::sim::config::{
    ClusterSpec, CommitMode, ConsumerSpec, OffsetReset, ProducerSpec, Strategy as Assignor, TopicSpec,
};
use ksim::sim::event::EventKind;
use ksim::sim::ids::{GroupId, Name};
use ksim::sim::report::group_report;
use ksim::sim::{Command, ConsumerStatus, Scenario, Sim, SimTime, TimedCommand};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

const GROUPS: [&str; 2] = ["g1", "g2"];
const ACTIVE_MS: u64 = 60_000;
const END_MS: u64 = ACTIVE_MS + 150_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Act {
    Crash(usize),
    Start(usize),
    Stop(usize),
    Move(usize, usize),
    Slow(usize, u64),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Case {
    seed: u64,
    partitions: u32,
    rate: u32,
    strategy: Assignor,
    commit: CommitMode,
    initial_delay_ms: u64,
    /// Group index of each consumer at the start.
    consumers: Vec<usize>,
    acts: Vec<(u64, Act)>,
}

fn case() -> impl Strategy<Value = Case> {
    let strategy = prop_oneof![
        Just(Assignor::Range),
        Just(Assignor::Roundrobin),
        Just(Assignor::Sticky),
        Just(Assignor::CooperativeSticky)
    ];
    let commit =
        prop_oneof![Just(CommitMode::Auto), Just(CommitMode::AfterProcessing), Just(CommitMode::BeforeProcessing)];
    (any::<u64>(), 1u32..=6, 2u32..40, strategy, commit, 0u64..=3_000, prop::collection::vec(0usize..2, 1..=4))
        .prop_flat_map(|(seed, partitions, rate, strategy, commit, initial_delay_ms, consumers)| {
            let n = consumers.len();
            let act = prop_oneof![
                3 => (0..n).prop_map(Act::Crash),
                3 => (0..n).prop_map(Act::Start),
                2 => (0..n).prop_map(Act::Stop),
                2 => (0..n, 0usize..2).prop_map(|(c, g)| Act::Move(c, g)),
                2 => (0..n, 0u64..400).prop_map(|(c, ms)| Act::Slow(c, ms)),
            ];
            prop::collection::vec((0..ACTIVE_MS, act), 0..12).prop_map(move |acts| Case {
                seed,
                partitions,
                rate,
                strategy,
                commit,
                initial_delay_ms,
                consumers: consumers.clone(),
                acts,
            })
        })
}

fn name(i: usize) -> String {
    format!("c{i}")
}

fn scenario(c: &Case) -> Scenario {
    let consumers = c
        .consumers
        .iter()
        .enumerate()
        .map(|(i, g)| ConsumerSpec {
            name: name(i).into(),
            group: GROUPS[*g].into(),
            topics: vec!["t".into()],
            commit: c.commit,
            assignors: vec![c.strategy],
            auto_offset_reset: OffsetReset::Earliest,
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: 3_000,
            max_poll_interval_ms: 20_000,
            max_poll_records: 20,
            processing_ms: 5,
            ..ConsumerSpec::default()
        })
        .collect();
    let mut script: Vec<TimedCommand> = c
        .acts
        .iter()
        .map(|(at, a)| TimedCommand {
            at: *at,
            command: match a {
                Act::Crash(i) => Command::CrashConsumer { consumer: name(*i) },
                Act::Start(i) => Command::StartConsumer { consumer: name(*i) },
                Act::Stop(i) => Command::StopConsumer { consumer: name(*i) },
                Act::Move(i, g) => Command::MoveConsumer { consumer: name(*i), group: GROUPS[*g].into() },
                Act::Slow(i, ms) => Command::SetProcessingTime { consumer: name(*i), ms: *ms },
            },
        })
        .collect();
    script.sort_by_key(|t| t.at);
    // Then calm: normal speed, everyone running, and time to settle.
    for i in 0..c.consumers.len() {
        script.push(TimedCommand { at: ACTIVE_MS, command: Command::SetProcessingTime { consumer: name(i), ms: 1 } });
        script.push(TimedCommand { at: ACTIVE_MS + 1, command: Command::StartConsumer { consumer: name(i) } });
    }
    script.push(TimedCommand { at: ACTIVE_MS + 2, command: Command::SetRate { producer: "p".into(), per_sec: 0 } });
    Scenario {
        cluster: ClusterSpec { group_initial_rebalance_delay_ms: c.initial_delay_ms, ..ClusterSpec::default() },
        topics: vec![TopicSpec { name: "t".into(), partitions: c.partitions, ..TopicSpec::default() }],
        producers: vec![ProducerSpec {
            name: "p".into(),
            topic: "t".into(),
            rate_per_sec: c.rate,
            ..ProducerSpec::default()
        }],
        consumers,
        script,
        ..Scenario::default()
    }
}

/// One run of processing: offsets [from, to) of a partition by a consumer, and whether that
/// consumer was disrupted (crashed, kicked out, fenced, failed to commit) afterwards — or had a
/// failed commit outstanding when it processed them.
struct Processing {
    from: u64,
    to: u64,
    consumer: Name,
    disrupted: bool,
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let mut sim = Sim::new(&scenario(c), c.seed).expect("generated scenarios are valid");
    sim.keep_events(true);
    sim.run_until(SimTime(END_MS));
    let events = sim.drain_events();

    let mut owner: BTreeMap<(GroupId, String), Name> = BTreeMap::new();
    // Consumers whose last commit failed: what they process next is not safely committed.
    let mut commit_failed: std::collections::BTreeSet<Name> = Default::default();
    let mut history: BTreeMap<(GroupId, String), Vec<Processing>> = BTreeMap::new();
    let disrupt = |history: &mut BTreeMap<(GroupId, String), Vec<Processing>>, who: &str| {
        for runs in history.values_mut() {
            for r in runs.iter_mut().filter(|r| r.consumer == who) {
                r.disrupted = true;
            }
        }
    };
    for e in &events {
        match &e.kind {
            EventKind::Assigned(a) => {
                let ksim::sim::event::Assigned { consumer, group, added, .. } = &**a;
                for tp in added {
                    let key = (group.clone(), tp.clone());
                    if let Some(other) = owner.get(&key) {
                        prop_assert_eq!(
                            other,
                            consumer,
                            "at {} ms {} got {} of {} while {} still owned it",
                            e.t,
                            consumer,
                            tp,
                            group,
                            other
                        );
                    }
                    owner.insert(key, consumer.clone());
                }
            }
            EventKind::Revoked { consumer, group, partitions, lost } => {
                for tp in partitions {
                    let key = (group.clone(), tp.clone());
                    if owner.get(&key) == Some(consumer) {
                        owner.remove(&key);
                    }
                }
                // A cooperative member with auto-commit gives partitions up without committing
                // what it processed since its last JoinGroup (Kafka commits in onJoinPrepare, not
                // on revocation): their next owner may process that again.
                let uncommitted = c.strategy == Assignor::CooperativeSticky && c.commit == CommitMode::Auto;
                if *lost || uncommitted {
                    disrupt(&mut history, consumer);
                }
            }
            EventKind::Crashed { consumer, .. }
            | EventKind::Stopped { consumer }
            | EventKind::JoinFailed { consumer, .. } => {
                owner.retain(|_, o| o != consumer);
                if matches!(e.kind, EventKind::Crashed { .. }) {
                    disrupt(&mut history, consumer);
                }
            }
            EventKind::CommitFailed { consumer, .. } => {
                disrupt(&mut history, consumer);
                commit_failed.insert(consumer.clone());
            }
            EventKind::Committed { consumer, .. } => {
                commit_failed.remove(consumer);
            }
            EventKind::PollTimeout { consumer, .. } | EventKind::MemberRemoved { consumer, .. } => {
                disrupt(&mut history, consumer)
            }
            EventKind::Processed { consumer, group, ranges } => {
                for r in ranges {
                    let key = (group.clone(), format!("{}-{}", r.topic, r.partition));
                    prop_assert_eq!(
                        owner.get(&key),
                        Some(consumer),
                        "{} processes {} of {} it does not own",
                        consumer,
                        key.1,
                        group
                    );
                    let runs = history.entry(key.clone()).or_default();
                    for o in r.from..r.to {
                        if let Some(prev) = runs.iter().rev().find(|p| p.from <= o && o < p.to) {
                            prop_assert!(
                                prev.disrupted,
                                "offset {} of {} processed again in {} at {} ms, though {} was not disrupted after processing it",
                                o,
                                key.1,
                                group,
                                e.t,
                                prev.consumer
                            );
                        }
                    }
                    let disrupted = commit_failed.contains(consumer);
                    runs.push(Processing { from: r.from, to: r.to, consumer: consumer.clone(), disrupted });
                }
            }
            _ => {}
        }
    }

    // Settled: in each group with running members, every partition has exactly one owner.
    for g in GROUPS {
        let running: Vec<_> =
            sim.consumers().iter().filter(|x| x.spec.group == g && x.status == ConsumerStatus::Running).collect();
        if running.is_empty() {
            continue;
        }
        let mut owned: Vec<u32> = running.iter().flat_map(|x| x.assignment().iter().map(|tp| tp.partition)).collect();
        owned.sort();
        prop_assert_eq!(owned, (0..c.partitions).collect::<Vec<_>>(), "group {} after settling", g);
        let r = group_report(&sim, g);
        if c.commit != CommitMode::BeforeProcessing {
            prop_assert_eq!(r.lost, 0, "group {}: with commit after processing nothing is skipped", g);
        }
        for x in &running {
            for (tp, pos) in x.process().iter().flat_map(|p| &p.positions) {
                prop_assert_eq!(*pos, sim.partition(*tp).high_watermark, "{} in {} read everything", x.spec.name, g);
            }
        }
        // Committed lag closes only with auto-commit: a manual commit that failed during a
        // rebalance is not retried until there is another batch, as in a real application.
        if c.commit == CommitMode::Auto {
            prop_assert_eq!(r.lag, 0, "group {} committed everything", g);
        }
    }
    Ok(())
}

fn checked(c: &Case) -> Result<(), TestCaseError> {
    check(c).map_err(|e| {
        let json = serde_json::to_string(c).expect("cases serialise");
        TestCaseError::fail(format!(
            "{e}\nto rerun: KSIM_REPLAY='{json}' cargo test --test group_props replay -- --nocapture"
        ))
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        // Each case is a whole run: shrink a little, then print the replay line.
        max_shrink_iters: 100,
        ..ProptestConfig::default()
    })]

    #[test]
    fn group_invariants_hold_under_random_faults(c in case()) {
        checked(&c)?;
    }
}

/// Replays one case printed by a failure (does nothing without `KSIM_REPLAY`), printing the
/// group protocol's events so the failure can be read.
#[test]
fn replay() {
    let Ok(json) = std::env::var("KSIM_REPLAY") else { return };
    let c: Case = serde_json::from_str(&json).expect("KSIM_REPLAY holds a case printed by a failure");
    let mut sim = Sim::new(&scenario(&c), c.seed).unwrap();
    sim.keep_events(true);
    sim.run_until(SimTime(END_MS));
    for e in sim.drain_events() {
        if matches!(
            e.kind,
            EventKind::GroupState { .. }
                | EventKind::Assigned(_)
                | EventKind::Revoked { .. }
                | EventKind::JoinGroup { .. }
                | EventKind::AssignmentComputed { .. }
                | EventKind::MemberRemoved { .. }
                | EventKind::Command { .. }
        ) {
            println!("{}", e.to_line());
        }
    }
    if let Err(e) = check(&c) {
        panic!("{e}");
    }
}

/// The generated schedules do exercise what the invariants are about.
#[test]
fn schedules_exercise_rebalances_duplicates_and_moves() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut with_dups, mut with_moves, mut with_rebalances) = (0, 0, 0);
    for _ in 0..300 {
        let c = case().new_tree(&mut runner).unwrap().current();
        let mut sim = Sim::new(&scenario(&c), c.seed).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(END_MS));
        let events = sim.drain_events();
        with_rebalances +=
            usize::from(events.iter().filter(|e| matches!(e.kind, EventKind::GroupState { .. })).count() > 6);
        with_moves += usize::from(events.iter().any(
            |e| matches!(&e.kind, EventKind::Command { command } if matches!(**command, Command::MoveConsumer { .. })),
        ));
        with_dups += usize::from(GROUPS.iter().any(|g| group_report(&sim, g).duplicates > 0));
    }
    assert!(with_rebalances > 150, "{with_rebalances}/300 with several rebalances");
    assert!(with_moves > 50, "{with_moves}/300 with moves");
    assert!(with_dups > 20, "{with_dups}/300 with duplicates");
}
