//! Consumer groups: the coordinator's state machine, rebalancing timelines, static membership,
//! fan-out and moves between groups.
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::config::{CommitMode, ConsumerSpec, OffsetReset, ProducerSpec, Strategy, TopicSpec};
use ksim::sim::describe::{describe_offsets, describe_state, group_view, GroupState};
use ksim::sim::event::{Event, EventKind};
use ksim::sim::ids::TopicId;
use ksim::sim::report::group_report;
use ksim::sim::{Command, ConsumerStatus, Phase, Scenario, Sim, SimTime};

fn member(name: &str, group: &str) -> ConsumerSpec {
    ConsumerSpec {
        name: name.into(),
        group: group.into(),
        topics: vec!["t".into()],
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerSpec::default()
    }
}

fn cluster(partitions: u32, consumers: Vec<ConsumerSpec>) -> Sim {
    cluster_with(partitions, consumers, false)
}

/// `refuse_mixed_groups`: a version-2 link's rules.
fn cluster_with(partitions: u32, consumers: Vec<ConsumerSpec>, refuse_mixed_groups: bool) -> Sim {
    let s = Scenario {
        topics: vec![TopicSpec { name: "t".into(), partitions, ..TopicSpec::default() }],
        producers: vec![ProducerSpec {
            name: "p".into(),
            topic: "t".into(),
            rate_per_sec: 20,
            ..ProducerSpec::default()
        }],
        consumers,
        refuse_mixed_groups,
        ..Scenario::default()
    };
    let mut sim = Sim::new(&s, 3).expect("valid");
    sim.keep_events(true);
    sim
}

fn states(events: &[Event], group: &str) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GroupState { group: g, state, .. } if g == group => Some((e.t, state.clone())),
            _ => None,
        })
        .collect()
}

fn owners(sim: &Sim, group: &str) -> Vec<(String, Vec<u32>)> {
    let mut v: Vec<(String, Vec<u32>)> = sim
        .consumers()
        .iter()
        .filter(|c| c.spec.group == group)
        .map(|c| (c.spec.name.to_string(), c.assignment().iter().map(|tp| tp.partition).collect()))
        .collect();
    v.sort();
    v
}

fn state(sim: &Sim, group: &str) -> GroupState {
    match group_view(sim, group).state {
        ksim::sim::describe::ViewState::Classic(s) => s,
        other => panic!("{group} is on the consumer protocol: {other:?}"),
    }
}

#[test]
fn a_new_group_waits_the_initial_rebalance_delay_then_becomes_stable() {
    let mut sim = cluster(3, vec![member("a", "g")]);
    sim.run_until(SimTime(10_000));
    let events = sim.drain_events();
    let s = states(&events, "g");
    let names: Vec<&str> = s.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["PreparingRebalance", "CompletingRebalance", "Stable"]);
    // Its first JoinGroup (at 2 ms) got MEMBER_ID_REQUIRED; it joined with its id at 6 ms, and
    // group.initial.rebalance.delay.ms (3 s) holds the first rebalance.
    assert_eq!(s[1].0, 3_006);
    assert_eq!(owners(&sim, "g"), [("a".into(), vec![0, 1, 2])]);
}

#[test]
fn a_member_joining_during_the_initial_delay_makes_it_wait_one_delay_more() {
    // Kafka's tryCompleteInitialRebalanceElseSchedule: when the delay ends and a new member joined
    // meanwhile, another whole delay (until the rebalance timeout is used up).
    for b_starts in [0, 2_000] {
        let mut b = member("b", "g");
        b.running = b_starts == 0;
        let mut sim = cluster(3, vec![member("a", "g"), b]);
        if b_starts > 0 {
            sim.schedule(SimTime(b_starts), Command::StartConsumer { consumer: "b".into() });
        }
        sim.run_until(SimTime(10_000));
        let s = states(&sim.drain_events(), "g");
        assert_eq!(s[1], (6_006, "CompletingRebalance".to_string()), "b started at {b_starts} ms");
        assert_eq!(owners(&sim, "g"), [("a".into(), vec![0, 1]), ("b".into(), vec![2])]);
    }
}

#[test]
fn a_joiner_makes_a_stable_group_rebalance_and_members_learn_it_from_heartbeats() {
    let mut c = member("c", "g");
    c.running = false;
    let mut sim = cluster(4, vec![member("a", "g"), member("b", "g"), c]);
    sim.schedule(SimTime(20_000), Command::StartConsumer { consumer: "c".into() });
    sim.run_until(SimTime(40_000));
    let events = sim.drain_events();
    let rebalance = states(&events, "g").into_iter().filter(|(t, _)| *t > 20_000).collect::<Vec<_>>();
    // c's second JoinGroup (with the member id its first one got) starts the rebalance.
    assert_eq!(rebalance[0], (20_006, "PreparingRebalance".into()));
    let completed = rebalance.iter().find(|(_, s)| s == "CompletingRebalance").unwrap().0;
    assert!(completed <= 20_006 + 3_000 + 10, "within one heartbeat interval: {completed}");
    let rebalance_heartbeats = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Heartbeat { error: Some(err), .. } if err == "REBALANCE_IN_PROGRESS"))
        .count();
    assert!(rebalance_heartbeats >= 2, "a and b were told by heartbeat");
    assert_eq!(state(&sim, "g"), GroupState::Stable);
    let sizes: Vec<usize> = owners(&sim, "g").iter().map(|(_, p)| p.len()).collect();
    assert_eq!(sizes, [2, 1, 1]);
}

#[test]
fn a_crash_is_noticed_only_after_the_session_timeout() {
    let mut sim = cluster(3, vec![member("a", "g"), member("b", "g"), member("c", "g")]);
    let crash = 30_000;
    sim.schedule(SimTime(crash), Command::CrashConsumer { consumer: "b".into() });
    sim.run_until(SimTime(120_000));
    let events = sim.drain_events();
    let removed = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::MemberRemoved { consumer, reason, .. } if consumer == "b" => Some((e.t, reason.clone())),
            _ => None,
        })
        .unwrap();
    let (session, hb, latency) = (45_000, 3_000, 2);
    assert!(
        removed.0 >= crash + session - hb && removed.0 <= crash + session + latency,
        "removed at {} for a crash at {crash}",
        removed.0
    );
    assert_eq!(removed.1, "session timeout expired");
    // Until then the group stays Stable and b's partition is not consumed: lag builds up.
    assert!(states(&events, "g").iter().all(|(t, s)| *t < crash || *t >= removed.0 || s == "Stable"));
    // Afterwards the survivors own all three partitions.
    let all: Vec<u32> = {
        let mut v: Vec<u32> = owners(&sim, "g").into_iter().flat_map(|(_, p)| p).collect();
        v.sort();
        v
    };
    assert_eq!(all, [0, 1, 2]);
}

#[test]
fn survivors_resume_a_dead_members_partitions_from_its_last_commit() {
    let mut a = member("a", "g");
    a.commit = CommitMode::AfterProcessing;
    let mut b = member("b", "g");
    b.commit = CommitMode::AfterProcessing;
    let mut sim = cluster(2, vec![a, b]);
    sim.schedule(SimTime(30_000), Command::CrashConsumer { consumer: "b".into() });
    sim.run_until(SimTime(29_999));
    let b_partition = sim.consumers()[1].assignment().to_vec();
    assert_eq!(b_partition.len(), 1);
    let committed = sim.committed("g", b_partition[0]).unwrap();
    sim.run_until(SimTime(120_000));
    let events = sim.drain_events();
    let resumed = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::PositionSet { consumer, partition, offset, reason, .. }
                if consumer == "a" && *partition == b_partition[0].partition =>
            {
                Some((*offset, reason.clone()))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(resumed, (committed, "committed offset".to_string()));
    let r = group_report(&sim, "g");
    assert_eq!(r.lost, 0);
}

#[test]
fn a_clean_close_rebalances_at_once() {
    let mut sim = cluster(2, vec![member("a", "g"), member("b", "g")]);
    sim.schedule(SimTime(30_000), Command::StopConsumer { consumer: "b".into() });
    sim.run_until(SimTime(40_000));
    let events = sim.drain_events();
    let left = events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::MemberRemoved { reason, .. } if reason.contains("LeaveGroup")))
        .unwrap();
    assert_eq!(left.t, 30_002, "LeaveGroup arrives one latency after close");
    let prep = states(&events, "g").into_iter().find(|(t, s)| *t >= 30_000 && s == "PreparingRebalance").unwrap();
    assert_eq!(prep.0, 30_002);
    assert_eq!(owners(&sim, "g")[0], ("a".to_string(), vec![0, 1]));
}

#[test]
fn the_last_member_leaving_empties_the_group() {
    let mut sim = cluster(1, vec![member("a", "g")]);
    sim.schedule(SimTime(10_000), Command::StopConsumer { consumer: "a".into() });
    sim.run_until(SimTime(20_000));
    let s = states(&sim.drain_events(), "g");
    assert_eq!(s.last().unwrap().1, "Empty");
    assert_eq!(state(&sim, "g"), GroupState::Empty);
    let text = describe_offsets(&sim, &group_view(&sim, "g"));
    assert!(text.starts_with("\nConsumer group 'g' has no active members.\n"), "{text}");
}

#[test]
fn a_slow_consumer_is_kicked_out_after_max_poll_interval_and_its_commit_fails() {
    let mut slow = member("slow", "g");
    slow.commit = CommitMode::AfterProcessing;
    slow.max_poll_interval_ms = 10_000;
    slow.max_poll_records = 50;
    let mut other = member("other", "g");
    other.commit = CommitMode::AfterProcessing;
    other.max_poll_interval_ms = 10_000;
    let mut sim = cluster(2, vec![slow, other]);
    // 50 records at 400 ms each: 20 s away from poll().
    sim.schedule(SimTime(8_000), Command::SetProcessingTime { consumer: "slow".into(), ms: 400 });
    sim.run_until(SimTime(90_000));
    let events = sim.drain_events();
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::PollTimeout { consumer, .. } if consumer == "slow")));
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::LeaveGroup { consumer, reason, .. } if consumer == "slow" && reason.contains("max.poll"))));
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::CommitFailed { consumer, .. } if consumer == "slow")));
    assert!(group_report(&sim, "g").duplicates > 0, "its uncommitted records were processed again");
}

#[test]
fn a_member_that_does_not_rejoin_in_time_is_dropped_at_the_rebalance_timeout() {
    // The rebalance timeout is the members' max.poll.interval.ms (30 s), shorter than the
    // 45 s session: a member that died just before a rebalance is dropped when it runs out.
    let mk = |n: &str| ConsumerSpec { max_poll_interval_ms: 30_000, ..member(n, "g") };
    let mut sim = cluster(2, vec![mk("a"), mk("b")]);
    sim.schedule(SimTime(20_000), Command::CrashConsumer { consumer: "a".into() });
    sim.run_until(SimTime(20_500));
    sim.apply(Command::AddConsumer { spec: mk("new") });
    sim.run_until(SimTime(120_000));
    let events = sim.drain_events();
    let prep = states(&events, "g").into_iter().find(|(t, s)| *t > 20_000 && s == "PreparingRebalance").unwrap();
    let dropped = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::MemberRemoved { consumer, reason, .. } if consumer == "a" => Some((e.t, reason.clone())),
            _ => None,
        })
        .expect("the dead member is dropped");
    assert_eq!(dropped, (prep.0 + 30_000, "did not rejoin within the rebalance timeout".to_string()));
    let formed = states(&events, "g").into_iter().find(|(t, s)| *t > 20_000 && s == "CompletingRebalance").unwrap();
    assert_eq!(formed.0, dropped.0, "the others go on without it at once");
}

#[test]
fn eager_rebalancing_stops_the_world_and_cooperative_does_not() {
    for (strategy, expect_full_revoke) in [(Strategy::Range, true), (Strategy::CooperativeSticky, false)] {
        let mk = |n: &str| ConsumerSpec { assignors: vec![strategy], ..member(n, "g") };
        let mut c = mk("c");
        c.running = false;
        let mut sim = cluster(6, vec![mk("a"), mk("b"), c]);
        sim.schedule(SimTime(20_000), Command::StartConsumer { consumer: "c".into() });
        sim.run_until(SimTime(60_000));
        let events = sim.drain_events();
        let revoked: Vec<(String, usize)> = events
            .iter()
            .filter(|e| e.t > 20_000)
            .filter_map(|e| match &e.kind {
                EventKind::Revoked { consumer, partitions, .. } => Some((consumer.to_string(), partitions.len())),
                _ => None,
            })
            .collect();
        let total: usize = revoked.iter().map(|(_, n)| n).sum();
        if expect_full_revoke {
            assert_eq!(total, 6, "eager: a and b give up all 6 partitions: {revoked:?}");
        } else {
            assert_eq!(total, 2, "cooperative: only the 2 that move are revoked: {revoked:?}");
            let generations = states(&events, "g").iter().filter(|(t, s)| *t > 20_000 && s == "Stable").count();
            assert_eq!(generations, 2, "two rounds: revoke, then hand over");
        }
        let sizes: Vec<usize> = owners(&sim, "g").iter().map(|(_, p)| p.len()).collect();
        assert_eq!(sizes, [2, 2, 2], "{strategy:?}");
    }
}

#[test]
fn a_static_member_back_within_its_session_keeps_its_partitions_without_a_rebalance() {
    let mk = |n: &str, id: &str| ConsumerSpec { group_instance_id: Some(id.into()), ..member(n, "g") };
    let mut sim = cluster(4, vec![mk("a", "instance-a"), mk("b", "instance-b")]);
    sim.run_until(SimTime(20_000));
    let before = owners(&sim, "g");
    sim.apply(Command::StopConsumer { consumer: "b".into() });
    sim.run_until(SimTime(30_000));
    sim.apply(Command::StartConsumer { consumer: "b".into() });
    sim.run_until(SimTime(60_000));
    let events = sim.drain_events();
    assert!(
        !events.iter().any(|e| matches!(&e.kind, EventKind::LeaveGroup { .. })),
        "static members do not send LeaveGroup"
    );
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::StaticMemberReplaced { .. })));
    assert!(states(&events, "g").iter().all(|(t, _)| *t < 20_000), "no rebalance after 20 s");
    assert_eq!(owners(&sim, "g"), before);
}

#[test]
fn a_static_member_gone_longer_than_its_session_is_removed() {
    let mk = |n: &str, id: &str| ConsumerSpec { group_instance_id: Some(id.into()), ..member(n, "g") };
    let mut sim = cluster(4, vec![mk("a", "instance-a"), mk("b", "instance-b")]);
    sim.schedule(SimTime(20_000), Command::StopConsumer { consumer: "b".into() });
    sim.run_until(SimTime(80_000));
    let events = sim.drain_events();
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::MemberRemoved { consumer, reason, .. } if consumer == "b" && reason.contains("session"))));
    assert_eq!(owners(&sim, "g")[0].1.len(), 4);
}

#[test]
fn two_groups_each_get_every_message() {
    let mut sim = cluster(3, vec![member("a1", "alpha"), member("a2", "alpha"), member("b1", "beta")]);
    sim.run_until(SimTime(60_000));
    let alpha = group_report(&sim, "alpha");
    let beta = group_report(&sim, "beta");
    let produced = sim.producers()[0].next_seq;
    assert!(produced > 1_000);
    // Everything up to a few in flight at the end.
    for r in [&alpha, &beta] {
        assert!(r.processed + 20 >= produced && r.duplicates == 0 && r.lost == 0, "{r:?} of {produced}");
    }
}

#[test]
fn more_consumers_than_partitions_leaves_the_extra_ones_idle() {
    let mut sim = cluster(2, vec![member("a", "g"), member("b", "g"), member("c", "g")]);
    sim.run_until(SimTime(20_000));
    let o = owners(&sim, "g");
    assert_eq!(o.iter().filter(|(_, p)| p.is_empty()).count(), 1, "{o:?}");
    assert_eq!(o.iter().map(|(_, p)| p.len()).sum::<usize>(), 2);
}

#[test]
fn moving_a_consumer_is_a_clean_leave_and_a_join() {
    let mut sim = cluster(2, vec![member("a", "g"), member("b", "g"), member("x", "other")]);
    sim.run_until(SimTime(20_000));
    sim.apply(Command::MoveConsumer { consumer: "b".into(), group: "other".into() });
    sim.run_until(SimTime(60_000));
    let events = sim.drain_events();
    assert!(events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::LeaveGroup { consumer, group, .. } if consumer == "b" && group == "g")));
    assert_eq!(owners(&sim, "g"), [("a".to_string(), vec![0, 1])]);
    assert_eq!(owners(&sim, "other").iter().map(|(_, p)| p.len()).sum::<usize>(), 2);
    assert_eq!(sim.consumers()[1].client_id, "consumer-other-2");
}

#[test]
fn members_with_no_assignor_in_common_cannot_join() {
    // `a` supports Kafka's default list (range, cooperative-sticky); `odd` only roundrobin.
    let odd = ConsumerSpec { assignors: vec![Strategy::Roundrobin], running: false, ..member("odd", "g") };
    let mut sim = cluster(2, vec![member("a", "g"), odd]);
    sim.schedule(SimTime(10_000), Command::StartConsumer { consumer: "odd".into() });
    sim.run_until(SimTime(20_000));
    let events = sim.drain_events();
    assert!(events.iter().any(
        |e| matches!(&e.kind, EventKind::JoinFailed { error, .. } if error.contains("INCONSISTENT_GROUP_PROTOCOL"))
    ));
    assert_eq!(owners(&sim, "g")[0], ("a".to_string(), vec![0, 1]));
}

#[test]
fn describe_shows_members_and_state_like_kafka() {
    let mut sim = cluster(3, vec![member("a", "g"), member("b", "g")]);
    sim.run_until(SimTime(20_000));
    let text = describe_offsets(&sim, &group_view(&sim, "g"));
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("g ")).collect();
    assert_eq!(rows.len(), 3);
    // The member with more partitions comes first, as Kafka sorts them.
    assert!(
        rows[0].contains("consumer-g-1-") && rows[1].contains("consumer-g-1-") && rows[2].contains("consumer-g-2-"),
        "{text}"
    );
    sim.apply(Command::StopConsumer { consumer: "b".into() });
    sim.run_until(SimTime(20_003));
    let text = describe_offsets(&sim, &group_view(&sim, "g"));
    assert!(text.starts_with("\nWarning: Consumer group 'g' is rebalancing.\n"), "{text}");
    // --state names no assignment strategy while the group is not Stable (DescribeGroups answers
    // the protocol only for a Stable group).
    let state = describe_state(&group_view(&sim, "g"));
    let row = state.lines().find(|l| l.starts_with("g ")).expect("a row");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["g", "localhost:9092", "(1)", "PreparingRebalance", "1"],
        "{state}"
    );
    sim.run_until(SimTime(40_000));
    let state = describe_state(&group_view(&sim, "g"));
    assert!(state.contains(" range                Stable          1\n"), "{state}");
}

#[test]
fn a_second_consumer_with_the_same_group_instance_id_fences_the_first() {
    let mk = |n: &str| ConsumerSpec { group_instance_id: Some("instance-a".into()), ..member(n, "g") };
    let second = ConsumerSpec { running: false, ..mk("a2") };
    let mut sim = cluster(2, vec![mk("a1"), second]);
    sim.run_until(SimTime(20_000));
    sim.apply(Command::StartConsumer { consumer: "a2".into() });
    sim.run_until(SimTime(40_000));
    let events = sim.drain_events();
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::StaticMemberReplaced { .. })));
    // The first learns at its next heartbeat that its instance id is taken, and stops.
    let fenced = events.iter().find(|e| {
        matches!(&e.kind, EventKind::JoinFailed { consumer, error, .. } if consumer == "a1" && error.starts_with("FENCED_INSTANCE_ID"))
    });
    let fenced = fenced.expect("a1 is fenced");
    assert!(fenced.t < 20_000 + 3_100, "at its next heartbeat, at {} ms", fenced.t);
    assert_eq!(sim.consumers()[0].status, ConsumerStatus::Stopped);
    assert!(
        sim.consumers()[0].failure.as_ref().is_some_and(|e| e.starts_with("FENCED_INSTANCE_ID")),
        "its card says why"
    );
    assert_eq!(owners(&sim, "g"), [("a1".to_string(), vec![]), ("a2".to_string(), vec![0, 1])]);
}

#[test]
fn start_while_a_stop_finishes_its_batch_starts_it_again_and_stop_takes_that_back() {
    let slow = ConsumerSpec { processing_ms: 200, max_poll_records: 20, ..member("a", "g") };
    let mut sim = cluster(1, vec![slow]);
    sim.run_until(SimTime(10_000));
    assert_eq!(sim.consumers()[0].process().map(|p| p.phase), Some(Phase::Processing));
    sim.apply(Command::StopConsumer { consumer: "a".into() });
    sim.apply(Command::StartConsumer { consumer: "a".into() });
    sim.apply(Command::StartConsumer { consumer: "a".into() });
    sim.run_until(SimTime(30_000));
    let events = sim.drain_events();
    let rejected = events.iter().filter(|e| matches!(e.kind, EventKind::CommandRejected { .. })).count();
    assert_eq!(rejected, 1, "a second start is 'already running'");
    let stops = events.iter().position(|e| matches!(e.kind, EventKind::Stopped { .. })).expect("it stops");
    assert!(events[stops..].iter().any(|e| matches!(e.kind, EventKind::Started { .. })), "then starts again");
    assert_eq!(sim.consumers()[0].status, ConsumerStatus::Running);
    // Stop, start, stop while it finishes a batch: it stays stopped.
    sim.run_until(SimTime(40_000));
    assert_eq!(
        sim.consumers()[0].process().map(|p| p.phase),
        Some(Phase::Processing),
        "20 records/s at 200 ms each keep it busy"
    );
    sim.apply(Command::StopConsumer { consumer: "a".into() });
    sim.apply(Command::StartConsumer { consumer: "a".into() });
    sim.apply(Command::StopConsumer { consumer: "a".into() });
    sim.run_until(SimTime(60_000));
    assert_eq!(sim.consumers()[0].status, ConsumerStatus::Stopped);
}

/// The group's protocol as its leader's AssignmentComputed events name it, per generation.
fn protocols(events: &[Event]) -> Vec<(i32, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AssignmentComputed { generation, strategy, .. } => Some((*generation, strategy.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_group_votes_for_a_protocol_every_member_supports() {
    // Two members prefer range, one cooperative-sticky; all support both: range has more votes.
    let coop_first = ConsumerSpec { assignors: vec![Strategy::CooperativeSticky, Strategy::Range], ..member("c", "g") };
    let mut sim = cluster(3, vec![member("a", "g"), member("b", "g"), coop_first]);
    sim.run_until(SimTime(10_000));
    assert_eq!(protocols(&sim.drain_events()), [(1, "range".to_string())]);
    assert_eq!(group_view(&sim, "g").strategy.as_deref(), Some("range"));
}

#[test]
fn a_rolling_upgrade_moves_a_group_from_eager_to_cooperative_rebalancing() {
    // Kafka's default list supports both; restarting the consumers one by one with only
    // cooperative-sticky moves the group to it at the first restart (the only protocol every
    // member supports), and to cooperative rebalancing once the last eager member is gone.
    let mut sim = cluster(6, vec![member("a", "g"), member("b", "g"), member("c", "g")]);
    sim.run_until(SimTime(10_000));
    let mut t = 10_000;
    let upgrade = ksim::sim::command::ConsumerSetting::Assignors(vec![Strategy::CooperativeSticky]);
    for name in ["a", "b", "c"] {
        for command in [
            Command::ConfigureConsumer { consumer: name.into(), setting: upgrade.clone() },
            Command::StopConsumer { consumer: name.into() },
            Command::StartConsumer { consumer: name.into() },
        ] {
            sim.schedule(SimTime(t), command);
            t += 100;
        }
        t += 20_000;
    }
    sim.run_until(SimTime(t));
    let events = sim.drain_events();
    let used: Vec<String> = protocols(&events).into_iter().map(|(_, p)| p).collect();
    // While a restarts, b and c (both preferring range) form a generation with range; from a's
    // return on, cooperative-sticky is the only protocol everyone supports.
    assert_eq!(used.first().map(String::as_str), Some("range"), "{used:?}");
    assert!(used.len() > 1 && used[1..].iter().all(|p| p == "cooperative-sticky"), "{used:?}");
    // Now every member is cooperative: a new member takes partitions without anyone giving up
    // everything.
    sim.apply(Command::AddConsumer {
        spec: ConsumerSpec { assignors: vec![Strategy::CooperativeSticky], ..member("d", "g") },
    });
    sim.run_until(SimTime(t + 30_000));
    let events = sim.drain_events();
    let revoked: Vec<(String, usize)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Revoked { consumer, partitions, .. } => Some((consumer.to_string(), partitions.len())),
            _ => None,
        })
        .collect();
    assert!(revoked.iter().all(|(_, n)| *n < 2), "only moved partitions are revoked: {revoked:?}");
    assert_eq!(owners(&sim, "g").len(), 4);
    assert!(owners(&sim, "g").iter().all(|(_, p)| !p.is_empty()));
}

// ----- Kafka 4's consumer protocol (KIP-848) ---------------------------------------------------

fn modern(name: &str, group: &str) -> ConsumerSpec {
    ConsumerSpec { group_protocol: ksim::sim::config::GroupProtocol::Consumer, ..member(name, group) }
}

#[test]
fn a_consumer_protocol_group_never_stops_the_world_when_a_member_joins() {
    let mut sim = cluster(6, vec![modern("a", "g"), modern("b", "g")]);
    sim.run_until(SimTime(20_000));
    assert_eq!(owners(&sim, "g"), [("a".to_string(), vec![0, 1, 2]), ("b".to_string(), vec![3, 4, 5])]);
    sim.apply(Command::AddConsumer { spec: modern("c", "g") });
    sim.run_until(SimTime(40_000));
    let events = sim.drain_events();
    // Only the partitions that move are given up; nobody gives up everything.
    let revoked: Vec<(String, usize)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Revoked { consumer, partitions, lost: false, .. } if e.t > 20_000 => {
                Some((consumer.to_string(), partitions.len()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(revoked.iter().map(|(_, n)| n).sum::<usize>(), 2, "{revoked:?}");
    let o = owners(&sim, "g");
    assert_eq!(o.iter().map(|(_, ps)| ps.len()).collect::<Vec<_>>(), [2, 2, 2], "{o:?}");
    let view = group_view(&sim, "g");
    assert_eq!(view.state.name(), "Stable");
    assert_eq!(view.strategy.as_deref(), Some("uniform"));
}

#[test]
fn a_version_2_link_keeps_its_rule_a_group_does_not_mix_the_two_protocols_and_the_consumer_says_why() {
    for (first, second, theirs) in [
        (member("a", "g"), modern("b", "g"), "the classic protocol"),
        (modern("a", "g"), member("b", "g"), "the consumer protocol"),
    ] {
        let mut sim = cluster_with(3, vec![first], true);
        sim.run_until(SimTime(10_000));
        sim.apply(Command::AddConsumer { spec: second });
        sim.run_until(SimTime(12_000));
        let failed = sim.drain_events().into_iter().find_map(|e| match e.kind {
            EventKind::JoinFailed { consumer, error, .. } if &*consumer == "b" => Some(error),
            _ => None,
        });
        let error = failed.expect("the second consumer fails");
        assert!(error.contains(theirs) && error.contains("keeps its rules"), "{error}");
        assert_eq!(owners(&sim, "g"), [("a".to_string(), vec![0, 1, 2]), ("b".to_string(), vec![])]);
    }
}

/// Kafka 4's online migration, both ways: a member of the other protocol joining a group with
/// members converts it (classic members stay, speaking their protocol); the last
/// consumer-protocol member leaving turns it classic again, and it rebalances.
#[test]
fn a_group_mixing_both_protocols_converts_online_and_back() {
    for (first, second) in [(member("a", "g"), modern("b", "g")), (modern("a", "g"), member("b", "g"))] {
        let a_modern = first.group_protocol == ksim::sim::config::GroupProtocol::Consumer;
        let mut sim = cluster(4, vec![first]);
        sim.run_until(SimTime(10_000));
        assert_eq!(owners(&sim, "g"), [("a".to_string(), vec![0, 1, 2, 3])]);
        sim.apply(Command::AddConsumer { spec: second });
        sim.run_until(SimTime(40_000));
        assert!(sim.groups().is_consumer("g"));
        let o = owners(&sim, "g");
        assert_eq!(o.iter().map(|(_, ps)| ps.len()).collect::<Vec<_>>(), [2, 2], "shared: {o:?}");
        let events = sim.drain_events();
        assert!(events.iter().all(|e| !matches!(&e.kind, EventKind::JoinFailed { .. })), "nobody is refused");
        let converted: Vec<&str> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::GroupConverted { protocol, .. } => Some(protocol.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(converted, if a_modern { vec![] } else { vec!["consumer"] });
        // The member on the consumer protocol stops: the group is classic again, and the
        // classic member gets everything in its next generation.
        let (gone, stays) = if a_modern { ("a", "b") } else { ("b", "a") };
        sim.apply(Command::StopConsumer { consumer: gone.into() });
        sim.run_until(SimTime(70_000));
        assert!(sim.groups().classic("g").is_some());
        assert_eq!(state(&sim, "g"), GroupState::Stable);
        let o = owners(&sim, "g");
        assert!(o.contains(&(stays.to_string(), vec![0, 1, 2, 3])), "{o:?}");
        assert!(sim
            .drain_events()
            .iter()
            .any(|e| matches!(&e.kind, EventKind::GroupConverted { protocol, .. } if protocol == "classic")));
    }
}

#[test]
fn an_empty_group_changes_protocol_and_keeps_its_committed_offsets() {
    let mut sim = cluster(1, vec![ConsumerSpec { commit: CommitMode::AfterProcessing, ..member("a", "g") }]);
    sim.run_until(SimTime(10_000));
    sim.apply(Command::StopConsumer { consumer: "a".into() });
    sim.run_until(SimTime(12_000));
    let committed = sim.committed("g", ksim::sim::Tp { topic: TopicId(0), partition: 0 }).expect("committed");
    sim.apply(Command::AddConsumer { spec: modern("b", "g") });
    sim.run_until(SimTime(14_000));
    assert!(sim.groups().is_consumer("g"));
    assert!(sim.committed("g", ksim::sim::Tp { topic: TopicId(0), partition: 0 }).unwrap() >= committed);
    let positioned = sim.drain_events().into_iter().find_map(|e| match e.kind {
        EventKind::PositionSet { consumer, offset, reason, .. } if &*consumer == "b" => Some((offset, reason)),
        _ => None,
    });
    assert_eq!(positioned, Some((committed, "committed offset".to_string())));
}

#[test]
fn a_static_member_whose_poll_timer_runs_out_leaves_for_a_while_and_commits_nothing_it_lost() {
    // `a` is static and slow: its batch outlasts max.poll.interval.ms while `b` joins and a
    // partition should move to it.
    let a = ConsumerSpec {
        group_instance_id: Some("i-a".into()),
        max_poll_interval_ms: 10_000,
        processing_ms: 1_000,
        max_poll_records: 50,
        commit: CommitMode::AfterProcessing,
        ..modern("a", "g")
    };
    let mut sim = cluster(3, vec![a]);
    sim.run_until(SimTime(8_000));
    sim.apply(Command::AddConsumer { spec: modern("b", "g") });
    let mut events = Vec::new();
    let mut t = 8_000;
    let left = loop {
        t += 100;
        assert!(t < 60_000, "a never left");
        sim.run_until(SimTime(t));
        events.extend(sim.drain_events());
        let left = events
            .iter()
            .find(|e| matches!(&e.kind, EventKind::MemberAssignment { consumer, epoch: -2, .. } if &**consumer == "a"));
        if let Some(e) = left {
            break e.t;
        }
    };
    // Its place is kept for a process to come, but this one is out, and its background thread
    // let its partitions go at once (no zombie under this protocol): the coordinator may give
    // them to b while the application still processes what it holds.
    let a = sim.consumer_index("a").unwrap();
    assert!(sim.groups().consumer("g").unwrap().member(sim.consumers()[a.ix()].member_id()).is_some());
    let con = &sim.consumers()[a.ix()];
    assert!(!con.process().is_some_and(|p| p.zombie) && con.assignment().is_empty() && !sim.knows_member(con));
    // (Its background thread had given b's partition up mid-batch, before the timer ran out.)
    assert!(events.iter().any(|e| e.t <= left
        && matches!(&e.kind, EventKind::RevokedWhileProcessing { consumer, lost: false, .. } if &**consumer == "a")));
    // When its batch is done, it has nothing left to commit.
    sim.run_until(SimTime(left + 60_000));
    events.extend(sim.drain_events());
    let after: Vec<&Event> = events.iter().filter(|e| e.t > left).collect();
    let first_start = after
        .iter()
        .find(|e| matches!(&e.kind, EventKind::JoinGroup { consumer, .. } if &**consumer == "a"))
        .map_or(u64::MAX, |e| e.t);
    assert!(!after.iter().any(|e| e.t < first_start
        && matches!(&e.kind, EventKind::CommitSent { consumer, .. } | EventKind::Committed { consumer, .. } if &**consumer == "a")));
    assert!(!owners(&sim, "g").iter().find(|(c, _)| c == "b").unwrap().1.is_empty());
}

/// A consumer added in the page takes its group's protocol, or the run's: a run made on the
/// consumer protocol does not turn mixed when a consumer is added to it.
#[test]
fn a_consumer_added_later_takes_the_runs_protocol() {
    use ksim::sim::config::GroupProtocol;
    use ksim::sim::link::Run;
    use ksim::sim::snapshot::Snapshot;
    let scenario = ksim::sim::teach::find("consumer-group").unwrap();
    for protocol in [GroupProtocol::Classic, GroupProtocol::Consumer] {
        let run = Run::of_scenario(&scenario, 1).with_group_protocol(protocol);
        let mut sim = run.start().unwrap();
        sim.run_until(SimTime(20_000));
        let snap = Snapshot::of(&sim);
        assert_eq!(snap.protocol_for_new_consumer("my-group"), protocol);
        assert_eq!(snap.protocol_for_new_consumer("a-new-group"), protocol);
    }
}

/// `group.remote.assignor`: consumer-protocol members that ask for the broker's `range` assignor
/// get it (the group uses the assignor most members ask for); without it, `uniform`.
#[test]
fn group_remote_assignor_chooses_the_brokers_assignor() {
    use ksim::sim::config::{GroupProtocol, ServerAssignor};
    use ksim::sim::link::Run;
    let scenario = ksim::sim::teach::find("consumer-group").unwrap();
    for (asked, used) in [(None, "uniform"), (Some(ServerAssignor::Range), "range")] {
        let mut run = Run::of_scenario(&scenario, 1).with_group_protocol(GroupProtocol::Consumer);
        for c in ["consumer-1", "consumer-2", "consumer-3"] {
            let setting = ksim::sim::command::ConsumerSetting::RemoteAssignor(asked);
            run.commands.push(ksim::sim::TimedCommand {
                at: 20_000,
                command: Command::ConfigureConsumer { consumer: c.into(), setting },
            });
            run.commands
                .push(ksim::sim::TimedCommand { at: 21_000, command: Command::StopConsumer { consumer: c.into() } });
            run.commands
                .push(ksim::sim::TimedCommand { at: 22_000, command: Command::StartConsumer { consumer: c.into() } });
        }
        let mut sim = run.start().unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(40_000));
        let last = sim
            .drain_events()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::TargetAssignment { assignor, .. } => Some(assignor),
                _ => None,
            })
            .last();
        assert_eq!(last.as_deref(), Some(used));
        // The link carries the setting, and replays it.
        let again = Run::decode(&run.encode()).unwrap();
        assert_eq!(again, run);
    }
}
