//! Runs an independent fault sweep broke, as share links, each with the answer Kafka gives.
//! Every link here gave a wrong answer before the fix its test names.
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::config::{CommitMode, ConsumerSpec, OffsetReset, ProducerSpec, TopicSpec};
use ksim::sim::event::{Event, EventKind};
use ksim::sim::ids::{GroupId, Name, TopicId};
use ksim::sim::invariants::{Invariant, Watcher};
use ksim::sim::lesson;
use ksim::sim::link::Run;
use ksim::sim::report::{group_report, topic_reports};
use ksim::sim::{Command, ConsumerStatus, Scenario, Sim, SimTime, TimedCommand};

/// Plays a link to its cursor with every event kept and the live invariants watched.
fn play(link: &str) -> (Sim, Vec<Event>, Watcher) {
    play_run(&Run::decode(link).expect("a valid link"))
}

fn play_run(run: &Run) -> (Sim, Vec<Event>, Watcher) {
    let mut sim = run.start().expect("a known scenario");
    sim.keep_events(true);
    let until = run.cursor_ms.expect("the link has a cursor");
    let mut watcher = Watcher::default();
    let mut events = Vec::new();
    while sim.next_time().is_some_and(|t| t.0 <= until) {
        sim.step();
        for e in sim.drain_events() {
            events.push(e);
            watcher.observe(events.last().unwrap(), events.len() as u64);
        }
        watcher.check_state(&sim, sim.now().0, events.len() as u64);
    }
    sim.run_until(SimTime(until));
    (sim, events, watcher)
}

/// Turning `enable.idempotence` off and on while a batch is being retried made the leader take
/// that batch for a duplicate: acknowledged, never written. A producer's `enable.idempotence`
/// is fixed when it is built; a change builds a new producer (a new producer id) once the old
/// one has flushed.
#[test]
fn toggling_idempotence_during_retries_writes_every_acknowledged_record() {
    const LINK: &str = "run=eyJ2IjoxLCJzIjoiYmFzaWMiLCJzZWVkIjoxLCJjIjpbeyJhdCI6MCwiY21kIjoiY3Jhc2hfYnJva2VyIiwiYnJva2VyIjoxfSx7ImF0IjowLCJjbWQiOiJwcm9kdWNlIiwicHJvZHVjZXIiOiJwcm9kdWNlciIsImNvdW50Ijo1MH0seyJhdCI6MTAsImNtZCI6InNldF9pZGVtcG90ZW5jZSIsInByb2R1Y2VyIjoicHJvZHVjZXIiLCJlbmFibGVkIjpmYWxzZX0seyJhdCI6NDAwLCJjbWQiOiJyZXN0YXJ0X2Jyb2tlciIsImJyb2tlciI6MX0seyJhdCI6NDAwLCJjbWQiOiJwcm9kdWNlIiwicHJvZHVjZXIiOiJwcm9kdWNlciIsImNvdW50Ijo1fSx7ImF0Ijo0MTAsImNtZCI6InNldF9pZGVtcG90ZW5jZSIsInByb2R1Y2VyIjoicHJvZHVjZXIiLCJlbmFibGVkIjp0cnVlfV19&t=10000";
    let (sim, events, watcher) = play(LINK);
    let p = &sim.producers()[0];
    let in_log: u64 = topic_reports(&sim).iter().map(|t| t.log_end_offsets.iter().sum::<u64>()).sum();
    assert_eq!((p.next_seq, p.acked, in_log), (55, 55, 55), "sent, acknowledged and written");
    assert!(sim.ack_findings().is_empty(), "{:?}", sim.ack_findings());
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
    // The first instance closed once its 50 retried records were acknowledged; the new one
    // (idempotent, as asked last) has a new producer id and sent the 5 that waited.
    let restart = events.iter().position(|e| matches!(e.kind, EventKind::ProducerRestarted { .. })).unwrap();
    let first_ack = events.iter().position(|e| matches!(e.kind, EventKind::Acked { records: 50, .. })).unwrap();
    assert!(first_ack < restart);
    assert!(matches!(
        &events[restart].kind,
        EventKind::ProducerRestarted { enable_idempotence: true, producer_id: Some(1), .. }
    ));
    assert!(events[restart..].iter().any(|e| matches!(e.kind, EventKind::Sent { first_seq: 50, last_seq: 54, .. })));
}

/// A move closed the consumer mid-batch and sent its closing commit, of records it never
/// processed, with the new group's id. A move finishes the batch in hand, commits it for the
/// old group, leaves, then starts in the new group.
#[test]
fn a_move_finishes_its_batch_and_commits_it_for_the_group_it_leaves() {
    const DOWN: &str = "run=eyJ2IjoxLCJzIjoiYmFzaWMiLCJzZWVkIjoxLCJjIjpbeyJhdCI6MCwiY21kIjoiYWRkX2NvbnN1bWVyIiwic3BlYyI6eyJuYW1lIjoib3RoZXIiLCJncm91cCI6ImcyIn19LHsiYXQiOjUwMDAsImNtZCI6InByb2R1Y2UiLCJwcm9kdWNlciI6InByb2R1Y2VyIiwiY291bnQiOjUwfSx7ImF0Ijo2MDAwLCJjbWQiOiJjcmFzaF9icm9rZXIiLCJicm9rZXIiOjF9LHsiYXQiOjY1MDAsImNtZCI6Im1vdmVfY29uc3VtZXIiLCJjb25zdW1lciI6ImNvbnN1bWVyIiwiZ3JvdXAiOiJnMiJ9LHsiYXQiOjcwMDAsImNtZCI6Im1vdmVfY29uc3VtZXIiLCJjb25zdW1lciI6ImNvbnN1bWVyIiwiZ3JvdXAiOiJteS1ncm91cCJ9LHsiYXQiOjgwMDAsImNtZCI6InJlc3RhcnRfYnJva2VyIiwiYnJva2VyIjoxfV19&t=60000";
    let (sim, _, watcher) = play(DOWN);
    let r = group_report(&sim, "my-group");
    assert_eq!((r.processed, r.in_scope, r.lost), (50, 50, 0), "{r:?}");
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());

    const UP: &str = "run=eyJ2IjoxLCJzIjoiYmFzaWMiLCJzZWVkIjoxLCJjIjpbeyJhdCI6NTAwMCwiY21kIjoicHJvZHVjZSIsInByb2R1Y2VyIjoicHJvZHVjZXIiLCJjb3VudCI6MTB9LHsiYXQiOjY1MDAsImNtZCI6Im1vdmVfY29uc3VtZXIiLCJjb25zdW1lciI6ImNvbnN1bWVyIiwiZ3JvdXAiOiJnMiJ9LHsiYXQiOjkwMDAsImNtZCI6Im1vdmVfY29uc3VtZXIiLCJjb25zdW1lciI6ImNvbnN1bWVyIiwiZ3JvdXAiOiJteS1ncm91cCJ9XX0&t=30000";
    let (sim, events, _) = play(UP);
    // Every commit is judged by the coordinator of the group it was sent for.
    let mut sent: Vec<(Name, GroupId)> = Vec::new();
    for e in &events {
        match &e.kind {
            EventKind::CommitSent { consumer, group, .. } => sent.push((consumer.clone(), group.clone())),
            EventKind::Committed { consumer, group, .. } | EventKind::CommitFailed { consumer, group, .. } => {
                assert!(sent.contains(&(consumer.clone(), group.clone())), "a commit for {group} nobody sent: {e:?}");
            }
            _ => {}
        }
    }
    assert!(!events.iter().any(|e| matches!(&e.kind, EventKind::CommitFailed { .. })), "no commit fails");
    let r = group_report(&sim, "my-group");
    assert_eq!((r.processed, r.lost, r.lag), (10, 0, 0), "{r:?}");
}

/// A consumer stopped before its JoinGroup was answered left a member behind that became the
/// leader and never synced; the live member stopped heartbeating while it waited for its
/// SyncGroup answer, was removed, and waited for ever. Heartbeats go on through SyncGroup (as
/// Kafka's heartbeat thread does from the JoinGroup answer on), so the silent leader's session
/// runs out, the group rebalances, and the consumer reads the records.
#[test]
fn a_member_that_never_syncs_is_expired_and_the_group_recovers() {
    const LINK: &str = "run=eyJ2IjoxLCJzIjoiYmFzaWMiLCJzZWVkIjoxLCJjIjpbeyJhdCI6MCwiY21kIjoiYWRkX2NvbnN1bWVyIiwic3BlYyI6eyJuYW1lIjoiYzIiLCJncm91cCI6Im15LWdyb3VwIiwiYXV0b19vZmZzZXRfcmVzZXQiOiJlYXJsaWVzdCJ9fSx7ImF0Ijo1MDAwLCJjbWQiOiJjcmFzaF9jb25zdW1lciIsImNvbnN1bWVyIjoiYzIifSx7ImF0Ijo2MDAwLCJjbWQiOiJzdG9wX2NvbnN1bWVyIiwiY29uc3VtZXIiOiJjb25zdW1lciJ9LHsiYXQiOjcwMDAsImNtZCI6InN0YXJ0X2NvbnN1bWVyIiwiY29uc3VtZXIiOiJjb25zdW1lciJ9LHsiYXQiOjgwMDAsImNtZCI6InN0b3BfY29uc3VtZXIiLCJjb25zdW1lciI6ImNvbnN1bWVyIn0seyJhdCI6ODUwMCwiY21kIjoiY29uZmlndXJlX2NvbnN1bWVyIiwiY29uc3VtZXIiOiJjb25zdW1lciIsInNldHRpbmciOnsibmFtZSI6InNlc3Npb25fdGltZW91dF9tcyIsInZhbHVlIjoxMDAwMH19LHsiYXQiOjkwMDAsImNtZCI6InN0YXJ0X2NvbnN1bWVyIiwiY29uc3VtZXIiOiJjb25zdW1lciJ9LHsiYXQiOjEwMDAwMCwiY21kIjoicHJvZHVjZSIsInByb2R1Y2VyIjoicHJvZHVjZXIiLCJjb3VudCI6MTB9LHsiYXQiOjExMDAwMCwiY21kIjoic3RhcnRfY29uc3VtZXIiLCJjb25zdW1lciI6ImNvbnN1bWVyIn1dfQ&t=200000";
    let (sim, events, _) = play(LINK);
    let r = group_report(&sim, "my-group");
    assert_eq!((r.processed, r.in_scope, r.lag), (10, 10, 0), "{r:?}");
    let c = &sim.consumers()[0];
    assert_eq!(c.status, ConsumerStatus::Running);
    assert!(sim.groups().classic("my-group").unwrap().member(c.member_id()).is_some(), "a member of its group");
    // It kept heartbeating while it waited for SyncGroup, so only the silent member expired.
    let expired: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MemberRemoved { member_id, reason, .. } if reason.contains("session") => {
                Some(member_id.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(!expired.contains(&c.member_id()), "{expired:?}");
}

/// A consumer whose processing outlasts `max.poll.interval.ms` while the group rebalances is
/// removed, and its partition goes to another member of the next generation while it still
/// processes its batch: Kafka promises one owner per partition per generation, not more. The
/// consumer learns it is out (a zombie), its commit is rejected, and at its next poll() it
/// gives the partition up as lost and rejoins; what it processed is redelivered, not lost.
#[test]
fn a_slow_consumer_is_a_zombie_whose_commit_is_rejected() {
    let slow = |name: &str, processing_ms| ConsumerSpec {
        name: name.into(),
        group: "g".into(),
        topics: vec!["t".into()],
        commit: CommitMode::AfterProcessing,
        auto_offset_reset: OffsetReset::Earliest,
        max_poll_interval_ms: 10_000,
        session_timeout_ms: 10_000,
        max_poll_records: 20,
        processing_ms,
        ..ConsumerSpec::default()
    };
    let s = Scenario {
        topics: vec![TopicSpec { name: "t".into(), partitions: 2, ..TopicSpec::default() }],
        producers: vec![ProducerSpec {
            name: "p".into(),
            topic: "t".into(),
            partition: Some(0),
            ..ProducerSpec::default()
        }],
        consumers: vec![slow("c1", 600), slow("c2", 10)],
        script: vec![
            // After the group formed (both joined during the initial delay: 6 s).
            TimedCommand { at: 8_000, command: Command::Produce { producer: "p".into(), count: 40 } },
            // A third member joins while c1 is 1 s into a 20 × 600 ms batch.
            TimedCommand {
                at: 9_000,
                command: Command::AddConsumer { spec: ConsumerSpec { running: true, ..slow("c3", 10) } },
            },
            TimedCommand { at: 30_000, command: Command::SetProcessingTime { consumer: "c1".into(), ms: 10 } },
        ],
        ..Scenario::default()
    };
    let mut sim = Sim::new(&s, 2).unwrap();
    sim.keep_events(true);
    let mut watcher = Watcher::default();
    let mut events: Vec<Event> = Vec::new();
    let mut overlap = false;
    while sim.next_time().is_some_and(|t| t.0 <= 90_000) {
        sim.step();
        for e in sim.drain_events() {
            events.push(e);
            watcher.observe(events.last().unwrap(), events.len() as u64);
        }
        watcher.check_state(&sim, sim.now().0, events.len() as u64);
        let c1 = &sim.consumers()[0];
        overlap |= c1.process().is_some_and(|p| p.zombie)
            && sim.consumers()[1..].iter().any(|o| o.assignment().iter().any(|tp| c1.assignment().contains(tp)));
    }
    assert!(watcher.first(Invariant::OneOwner).is_none(), "{:?}", watcher.violations());
    let zombie = events.iter().position(|e| matches!(&e.kind, EventKind::Zombie { consumer, .. } if consumer == "c1"));
    let zombie = zombie.expect("c1 learns it is out of the group while it processes");
    assert!(overlap, "its partition had a new owner while c1 still held it");
    let after = &events[zombie..];
    let failed =
        after.iter().position(|e| matches!(&e.kind, EventKind::CommitFailed { consumer, .. } if consumer == "c1"));
    let committed =
        after.iter().position(|e| matches!(&e.kind, EventKind::Committed { consumer, .. } if consumer == "c1"));
    assert!(failed.is_some_and(|f| committed.is_none_or(|c| f < c)), "its first commit after is rejected");
    assert!(after
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Revoked { consumer, lost: true, .. } if consumer == "c1")));
    let r = group_report(&sim, "g");
    assert_eq!((r.lost, r.processed, r.lag), (0, 40, 0), "{r:?}");
    assert!(r.duplicates > 0, "what the zombie processed is processed again");
}

/// While a partition could not take writes, every retry re-sent every unacknowledged batch: at
/// 1 000 records/s, two minutes took 3.55 million events. Only failed batches are retried, at
/// most five in flight per partition, after a growing backoff; the rest wait in the
/// accumulator, in batches of up to `batch.size`.
#[test]
fn retries_while_writes_are_refused_cost_what_a_real_producer_does() {
    const LINK: &str = "run=eyJ2IjoxLCJzIjoicmVwbGljYXRpb24iLCJzZWVkIjoxLCJjIjpbeyJhdCI6MTAwMCwiY21kIjoic2V0X3JhdGUiLCJwcm9kdWNlciI6InByb2R1Y2VyIiwicGVyX3NlYyI6MTAwMH0seyJhdCI6MjAwMCwiY21kIjoiY3Jhc2hfYnJva2VyIiwiYnJva2VyIjoyfSx7ImF0IjoyMDAwLCJjbWQiOiJjcmFzaF9icm9rZXIiLCJicm9rZXIiOjN9XX0&t=120000";
    let (sim, events, watcher) = play(LINK);
    assert!(events.len() < 60_000, "{} events", events.len());
    let failed = events.iter().filter(|e| matches!(e.kind, EventKind::ProduceFailed { .. })).count();
    // Three partitions, each retrying at most five batches a second once the backoff is at its
    // one-second maximum.
    assert!(failed < 3 * 5 * 125, "{failed} failed sends");
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
    let p = &sim.producers()[0];
    assert_eq!(p.acked + p.unacknowledged(), p.next_seq, "every record is acknowledged or still in the producer");
}

/// The message-priority lesson's check subtracted without a guard when it failed: "ahead of
/// 18446744073709551611 of the 0 low-priority messages". It says what went wrong instead.
#[test]
fn the_priority_check_says_why_it_fails() {
    const LINK: &str = "run=eyJ2IjoxLCJzIjoibGVzc29uLXByaW9yaXR5Iiwic2VlZCI6MSwiYyI6W3siYXQiOjAsImNtZCI6InNldF9wcmlvcml0eSIsImNvbnN1bWVyIjoiY29uc3VtZXIiLCJlbmFibGVkIjpmYWxzZX0seyJhdCI6NDAwMCwiY21kIjoicHJvZHVjZSIsInByb2R1Y2VyIjoiaGlnaCIsImNvdW50IjoxMH0seyJhdCI6NDEwMCwiY21kIjoicHJvZHVjZSIsInByb2R1Y2VyIjoibG93IiwiY291bnQiOjEwfV19&t=20000";
    let run = Run::decode(LINK).unwrap();
    let (_, verdicts) = lesson::find("lesson-priority").unwrap().evaluate(&run, 20_000).unwrap();
    assert_eq!(verdicts.len(), 1);
    assert!(!verdicts[0].pass);
    // The urgent messages came before the backlog: nothing was overtaken.
    assert!(
        verdicts[0].text.contains("no high-priority message was read while low-priority ones waited"),
        "{}",
        verdicts[0].text
    );
    for number in verdicts[0].text.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()) {
        assert!(number.len() < 6, "{}", verdicts[0].text);
    }
}

/// Followers 40 s behind shrink the ISR below `min.insync.replicas`: batches the leader appended
/// fail (NOT_ENOUGH_REPLICAS_AFTER_APPEND) and expire after `delivery.timeout.ms`. The producer
/// used to close the gap in its sequence as if they had never been written, and the leader,
/// which had them, refused everything after (OUT_OF_ORDER_SEQUENCE_NUMBER) for ever. It takes a
/// new producer id instead (Kafka bumps the epoch), and writes again once the ISR is back.
#[test]
fn a_producer_whose_written_batch_expired_writes_again() {
    const LINK: &str = "run=eyJ2IjoxLCJzIjoicmVwbGljYXRpb24iLCJzZWVkIjoxLCJjIjpbeyJhdCI6NTAwMCwiY21kIjoiZGVsYXlfYnJva2VyIiwiYnJva2VyIjoyLCJtcyI6NDAwMDB9LHsiYXQiOjUwMDAsImNtZCI6ImRlbGF5X2Jyb2tlciIsImJyb2tlciI6MywibXMiOjQwMDAwfSx7ImF0IjoyMDAwMDAsImNtZCI6ImRlbGF5X2Jyb2tlciIsImJyb2tlciI6MiwibXMiOjB9LHsiYXQiOjIwMDAwMCwiY21kIjoiZGVsYXlfYnJva2VyIiwiYnJva2VyIjozLCJtcyI6MH0seyJhdCI6NDAwMDAwLCJjbWQiOiJzZXRfcmF0ZSIsInByb2R1Y2VyIjoicHJvZHVjZXIiLCJwZXJfc2VjIjowfSx7ImF0Ijo0MDAwMDAsImNtZCI6InByb2R1Y2UiLCJwcm9kdWNlciI6InByb2R1Y2VyIiwiY291bnQiOjMwfV19&t=460000";
    let (sim, events, watcher) = play(LINK);
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::ProducerIdReset { .. })));
    let last = events.iter().rev().find(|e| matches!(e.kind, EventKind::Acked { .. })).expect("acknowledgements");
    assert!(last.t > 400_000, "the 30 records sent at 400 s are acknowledged (last ack at {} ms)", last.t);
    let p = &sim.producers()[0];
    assert_eq!(p.unacknowledged(), 0);
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
}

/// The soak's one liveness case (case 65300): two consumers shared a `group.instance.id` with
/// different subscriptions; the wider one replaced the static member in a Stable group, got its
/// old assignment and no rebalance, so high-priority-0 had no owner. Kafka 4 does exactly this
/// (no rebalance unless the group's protocol changes; a replaced leader is told to skip the
/// assignment), so the model keeps it, and the group card says why nobody reads the topic until
/// the next rebalance.
#[test]
fn a_static_member_back_with_a_wider_subscription_waits_for_the_next_rebalance() {
    let consumer = |name: &str, topics: &[&str], instance: Option<&str>| ConsumerSpec {
        name: name.into(),
        group: "g".into(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        group_instance_id: instance.map(str::to_string),
        ..ConsumerSpec::default()
    };
    let at = |at, command| TimedCommand { at, command };
    for static_leads in [false, true] {
        // The first to join leads the group.
        let (dynamic, old) =
            (consumer("dynamic", &["low-priority"], None), consumer("old", &["low-priority"], Some("instance-0")));
        let (first, second) = if static_leads { (old, dynamic) } else { (dynamic, old) };
        let leader = if static_leads { "old" } else { "dynamic" };
        let commands = vec![
            at(0, Command::AddConsumer { spec: first }),
            at(100, Command::AddConsumer { spec: second }),
            // A static member that stops stays in the group until its session runs out.
            at(15_000, Command::StopConsumer { consumer: "old".into() }),
            at(
                16_000,
                Command::AddConsumer { spec: consumer("new", &["high-priority", "low-priority"], Some("instance-0")) },
            ),
            at(40_000, Command::AddConsumer { spec: consumer("third", &["low-priority"], None) }),
        ];
        let run = Run {
            scenario: "lesson-priority".into(),
            seed: 1,
            commands,
            cursor_ms: Some(30_000),
            group_protocol: Default::default(),
            refuse_mixed_groups: false,
        };
        let (sim, events, watcher) = play_run(&run);
        assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
        let g = sim.groups().classic("g").unwrap();
        assert_eq!((g.state.name(), g.generation), ("Stable", 1), "no rebalance (leader {leader})");
        let joined = events.iter().find_map(|e| match &e.kind {
            EventKind::Joined { consumer, leader, .. } if consumer == "new" => Some(*leader),
            _ => None,
        });
        assert_eq!(joined, Some(static_leads), "a replaced leader is still the leader");
        let computed = events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::AssignmentComputed { group, .. } if group == "g"))
            .count();
        assert_eq!(computed, 1, "nobody computes an assignment for the return");
        let new = sim.consumers().iter().find(|c| c.spec.name == "new").unwrap();
        assert!(!new.assignment().is_empty() && new.assignment().iter().all(|tp| sim.tp_name(*tp).0 == "low-priority"));
        assert_eq!(g.unserved_topics(), ["high-priority"]);
        let snap = ksim::sim::snapshot::Snapshot::of(&sim);
        let card = snap.groups.iter().find(|x| x.name == "g").unwrap();
        assert_eq!(card.unserved, ["high-priority"]);

        // The next rebalance (a member joins) assigns it.
        let (sim, _, _) = play_run(&Run { cursor_ms: Some(60_000), ..run });
        let g = sim.groups().classic("g").unwrap();
        assert_eq!(g.state.name(), "Stable");
        assert!(g.unserved_topics().is_empty());
        let owned: Vec<_> = g.members.iter().flat_map(|m| m.assignment.iter()).map(|tp| sim.tp_name(*tp).0).collect();
        assert!(owned.iter().any(|t| t == "high-priority"), "{owned:?}");
    }
}

// ----- the connections issue: four ways an independent fault sweep broke Kafka's promises -----

/// The records of each idempotent producer's batches in a log must not overlap: checked from
/// the log itself (producer and record numbers), whatever producer id each batch carries.
fn idempotent_overlap(sim: &Sim) -> Option<String> {
    for (t, topic) in sim.topics().iter().enumerate() {
        for p in 0..topic.spec.partitions {
            let tp = ksim::sim::Tp { topic: TopicId(t as u32), partition: p };
            let mut seen: Vec<(u32, u64, u64)> = Vec::new();
            for b in sim.partition(tp).log().batches().filter(|b| b.producer_id.is_some()) {
                if let Some(o) =
                    seen.iter().find(|(pr, f, l)| *pr == b.producer && *f <= b.last_seq && b.first_seq <= *l)
                {
                    return Some(format!(
                        "{}-{p} holds records {}..={} and {}..={} of producer {}",
                        topic.spec.name, o.1, o.2, b.first_seq, b.last_seq, b.producer
                    ));
                }
                seen.push((b.producer, b.first_seq, b.last_seq));
            }
        }
    }
    None
}

/// A batch written (NOT_ENOUGH_REPLICAS_AFTER_APPEND) and waiting out its backoff was renumbered
/// under a new producer id when another batch's expiry reset the id, and written again. Kafka
/// bumps the epoch only once no batch of the partition is in flight (one awaiting its retry is),
/// and resolves an expired sequence without a bump when a later batch is acknowledged.
#[test]
fn an_idempotent_producer_never_writes_a_batch_twice() {
    const LINK: &str = include_str!("fixtures/issue35/idempotent-twice.txt");
    let (sim, _, watcher) = play(LINK.trim());
    assert_eq!(idempotent_overlap(&sim), None);
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
    let in_log: u64 = topic_reports(&sim).iter().map(|t| t.log_end_offsets.iter().sum::<u64>()).sum();
    let sent: u64 = sim.producers().iter().map(|p| p.next_seq).sum();
    assert!(in_log <= sent, "{in_log} records in the logs, {sent} sent");
}

/// A consumer-protocol member took the place of a classic static member whose rebalance never
/// finished (the group had upgraded meanwhile) and inherited an empty target: my-topic-0 was
/// never read again. Kafka computes a new target when a static member is replaced.
#[test]
fn a_static_member_replaced_across_an_upgrade_gets_partitions() {
    const LINK: &str = include_str!("fixtures/issue35/static-replaced.txt");
    let (sim, _, _) = play(LINK.trim());
    let c2 = &sim.consumers()[sim.consumer_index("c2").unwrap().ix()];
    assert_eq!(c2.assignment().len(), 1, "c2 owns my-topic-0");
    assert_eq!(group_report(&sim, "g2").processed, 10);
}

/// A heartbeat sent before the member left on a poll-timer expiry, while its coordinator was
/// down, was held, delivered to the next coordinator, and its answer taken after the member had
/// rejoined: two owners of my-topic-0. A request to a broker that dies fails on disconnect, and
/// an answer to a request made before the member left is ignored.
#[test]
fn no_answer_outlives_the_connection_it_came_on() {
    const LINK: &str = include_str!("fixtures/issue35/two-owners.txt");
    let run = Run::decode(LINK.trim()).expect("a valid link");
    let mut sim = run.start().expect("a known scenario");
    while sim.next_time().is_some_and(|t| t.0 <= 120_000) {
        sim.step();
        // Among a group's current members a partition has one owner at a time.
        let mut owners = std::collections::BTreeMap::new();
        for c in sim.consumers().iter().filter(|c| c.status == ConsumerStatus::Running && sim.knows_member(c)) {
            for tp in c.assignment() {
                if let Some(other) = owners.insert((c.spec.group.clone(), *tp), c.spec.name.clone()) {
                    panic!("at {} ms {other} and {} both own {:?}", sim.now().0, c.spec.name, sim.tp_name(*tp));
                }
            }
        }
    }
}

/// A classic member's JoinGroup was pending when its coordinator's broker crashed; its poll
/// timer ran out, the next coordinator removed it without answering, and it stayed outside its
/// group for good. The JoinGroup fails on disconnect and the consumer joins again; a removed
/// member's pending JoinGroup is answered UNKNOWN_MEMBER_ID.
#[test]
fn a_consumer_whose_join_was_cut_off_joins_again() {
    const LINK: &str = include_str!("fixtures/issue35/never-rejoins.txt");
    let (sim, _, watcher) = play(LINK.trim());
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
    for c in sim.consumers().iter().filter(|c| c.status == ConsumerStatus::Running) {
        assert!(sim.knows_member(c), "{} is not a member of {}", c.spec.name, c.spec.group);
        assert!(c.generation() >= 0, "{} has no generation", c.spec.name);
    }
}

/// Without auto-commit, Kafka 4.0's consumer-protocol client reconciles from its background
/// thread (KAFKA-18641): a partition another member is waiting for is given up and acknowledged
/// within a heartbeat, even while the application is deep in a slow batch — not when that batch
/// is done (about 18 s later here). The application still finishes the records of it in hand; they
/// are not its to commit any more, so the new owner reads them again: processed twice, said so.
#[test]
fn without_auto_commit_a_slow_batch_does_not_hold_up_a_revocation() {
    let consumer = |name: &str| ConsumerSpec {
        name: name.into(),
        group: "g".into(),
        commit: CommitMode::AfterProcessing,
        auto_offset_reset: OffsetReset::Earliest,
        processing_ms: 300,
        max_poll_records: 500,
        group_protocol: ksim::sim::config::GroupProtocol::Consumer,
        ..ConsumerSpec::default()
    };
    let at = |at, command| TimedCommand { at, command };
    let commands = vec![
        at(0, Command::Produce { producer: "producer".into(), count: 90 }),
        at(1_000, Command::AddConsumer { spec: consumer("slow") }),
        at(10_000, Command::AddConsumer { spec: consumer("new") }),
    ];
    let run = Run {
        scenario: "consumer-group".into(),
        seed: 1,
        commands,
        cursor_ms: Some(60_000),
        group_protocol: ksim::sim::config::GroupProtocol::Consumer,
        refuse_mixed_groups: false,
    };
    let (sim, events, watcher) = play_run(&run);
    assert!(watcher.violations().is_empty(), "{:?}", watcher.violations());
    let given_up = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RevokedWhileProcessing { consumer, partitions, records, lost: false, .. }
                if consumer == "slow" =>
            {
                Some((e.t, partitions.clone(), *records))
            }
            _ => None,
        })
        .expect("the slow consumer gives a partition up mid-batch");
    assert!(given_up.0 < 10_000 + 6_000, "within a heartbeat of the join, not after the batch: {given_up:?}");
    assert!(given_up.2 > 0);
    // The batch (90 records at 300 ms) ran until about 28 s; the slow consumer committed only
    // what it still owns.
    let records_of = |name: &str, p: &str| -> u64 {
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Processed { consumer, ranges, .. } if consumer == name => Some(ranges),
                _ => None,
            })
            .flatten()
            .filter(|r| format!("{}-{}", r.topic, r.partition) == p)
            .map(|r| r.to - r.from)
            .sum()
    };
    let p = &given_up.1[0];
    assert!(records_of("slow", p) > 0 && records_of("new", p) > 0, "{p} read by both");
    let taken = events.iter().find_map(|e| match &e.kind {
        EventKind::Assigned(a) if a.consumer == "new" && !a.added.is_empty() => Some(e.t),
        _ => None,
    });
    assert!(taken.is_some_and(|t| t < 10_000 + 11_000), "the new member takes it at once: {taken:?}");
    let new = sim.consumers().iter().find(|c| c.spec.name == "new").unwrap();
    assert!(given_up.1.iter().all(|p| new.assignment().iter().any(|tp| {
        let (t, n) = sim.tp_name(*tp);
        format!("{t}-{n}") == *p
    })));
}
