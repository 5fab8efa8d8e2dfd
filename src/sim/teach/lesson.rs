//! Lessons: the tutorial's experiments as data — a starting scenario, steps the user takes
//! (each done when the model sees it done), checks computed from what the model did, the "why"
//! grounded in Kafka's behaviour, and the same thing on a real cluster. A lesson's scripted path
//! is what a person following the steps does; `ksim run LESSON` plays it and prints the checks.

use crate::sim::command::{Command, ConsumerSetting, TimedCommand};
use crate::sim::config::{CommitMode, ConsumerSpec, Keys, OffsetReset, ProducerSpec, TopicSpec};
use crate::sim::event::{Event, EventKind};
use crate::sim::experiments::{self, at, produce};
use crate::sim::report::group_report;
use crate::sim::scenario::Scenario;
use crate::sim::text::{count, Fixed};
use crate::sim::vecmap::{VecMap, VecSet};
use crate::sim::{ConsumerStatus, Sim};

/// What completes a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The user did this (matched by command kind).
    Do(Act),
    /// Something the model reaches (the user watches).
    See(Sight),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    StopConsumer,
    StartConsumer,
    CrashConsumer,
    /// Crash a consumer that has processed records it has not committed yet.
    CrashMidBatch,
    /// At least this many produce commands.
    Produce(u32),
    /// At least this many produce commands of this producer.
    ProduceFrom(&'static str, u32),
    /// At least this many produce commands, until the records are in at least two partitions.
    ProduceSpread(u32),
    /// A produce command of this producer while records of that topic wait, not yet fetched.
    ProduceWhileWaiting(&'static str, &'static str),
    AddConsumer,
    MoveConsumer,
    SetKeys,
    /// Set a consumer's auto.offset.reset to earliest.
    SetEarliest,
    /// Every consumer runs on Kafka 4's consumer protocol (`group.protocol=consumer` in each
    /// one's Settings, then each restarted). Judged on the model's state.
    ConsumerProtocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sight {
    /// Every group has processed everything in the log and every consumer runs.
    AllProcessed,
    /// A group is Stable with this many members.
    Stable(usize),
    /// No crashed consumer is a member of its group any more (its session ran out).
    CrashNoticed,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub title: String,
    pub detail: String,
    pub goal: Goal,
}

/// A check's outcome, with the numbers behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub pass: bool,
    pub text: String,
}

/// When a step was done: the simulated instant and how many events the run had produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    pub at_ms: u64,
    pub event_index: u64,
}

/// What a check looks at: the run's events, the model at the end, the commands, and when each
/// step was done.
pub struct Observed<'a> {
    pub sim: &'a Sim,
    pub events: &'a [Event],
    pub commands: &'a [TimedCommand],
    pub done: &'a [Done],
}

pub type CheckFn = fn(&Observed) -> Verdict;

#[derive(Clone)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    pub intro: String,
    /// The cluster the lesson starts with (no script: the user acts).
    pub scenario: Scenario,
    pub steps: Vec<Step>,
    pub checks: Vec<CheckFn>,
    /// Why it happens, from Kafka's behaviour.
    pub why: String,
    /// The kafka-python code and CLI that do the same on a real cluster.
    pub real_cluster: String,
    /// What a person following the steps does, with times.
    pub path: Vec<TimedCommand>,
}

/// Where a lesson sits in the Experiment menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shelf {
    /// The tutorial's five lessons, in order.
    Lesson,
    /// Patterns and puzzles built on them.
    Pattern,
    /// A cluster to play with, no steps to follow.
    Free,
}

impl Lesson {
    pub fn shelf(&self) -> Shelf {
        match self.id.as_str() {
            "lesson-sandbox" => Shelf::Free,
            _ if self.title.starts_with("Lesson ") => Shelf::Lesson,
            _ => Shelf::Pattern,
        }
    }
}

/// The lesson a first visit opens on.
pub const FIRST: &str = "lesson-durability";

fn step(title: &str, detail: &str, goal: Goal) -> Step {
    Step { title: title.into(), detail: detail.into(), goal }
}

pub(crate) fn step_matches(act: Act, c: &Command) -> bool {
    if act == Act::SetEarliest {
        return matches!(
            c,
            Command::ConfigureConsumer { setting: ConsumerSetting::AutoOffsetReset(OffsetReset::Earliest), .. }
        );
    }
    if let (Act::ProduceFrom(name, _) | Act::ProduceWhileWaiting(name, _), Command::Produce { producer, .. }) = (act, c)
    {
        return producer == name;
    }
    matches!(
        (act, c),
        (Act::StopConsumer, Command::StopConsumer { .. })
            | (Act::StartConsumer, Command::StartConsumer { .. })
            | (Act::CrashConsumer | Act::CrashMidBatch, Command::CrashConsumer { .. })
            | (Act::Produce(_) | Act::ProduceSpread(_), Command::Produce { .. })
            | (Act::ProduceFrom(_, _), Command::Produce { .. })
            | (Act::AddConsumer, Command::AddConsumer { .. })
            | (Act::MoveConsumer, Command::MoveConsumer { .. })
            | (Act::SetKeys, Command::SetKeys { .. })
    )
}

/// Every group has processed everything in the log and every consumer runs: the one sight judged
/// on the model's state (the others are judged from events, in [`crate::sim::progress`]).
pub(crate) fn all_processed(sim: &Sim) -> bool {
    sim.consumers().iter().all(|c| c.status == ConsumerStatus::Running)
        && sim.group_names().iter().all(|g| {
            let r = group_report(sim, g);
            r.in_scope > 0 && r.processed >= r.in_scope
        })
}

/// Every consumer (not taken away) runs on Kafka 4's consumer protocol, in a group on it.
pub(crate) fn all_on_consumer_protocol(sim: &Sim) -> bool {
    let mut live = sim.consumers().iter().filter(|c| !c.removed).peekable();
    live.peek().is_some()
        && live.all(|c| {
            c.status == ConsumerStatus::Running && c.is_modern() && sim.groups().is_consumer(c.spec.group.as_str())
        })
}

// ----- what checks look at ---------------------------------------------------------------------

/// Whether `group` was on the consumer protocol (KIP-848) at `t`: its last assignment before
/// then was a coordinator's target (not a classic leader's).
fn modern_at(o: &Observed, group: &str, t: u64) -> bool {
    o.events
        .iter()
        .take_while(|e| e.t <= t)
        .filter_map(|e| match &e.kind {
            EventKind::TargetAssignment { group: g, .. } if g == group => Some(true),
            EventKind::AssignmentComputed { group: g, .. } if g == group => Some(false),
            _ => None,
        })
        .last()
        .unwrap_or(false)
}

/// The session timeout and heartbeat interval `group` worked with at `t`, and the setting's
/// name: the consumers' own under the classic protocol, the broker's under the consumer protocol.
fn session_at(o: &Observed, group: &str, t: u64) -> (u64, u64, &'static str) {
    use crate::sim::kafka::consumer_group::{HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT_MS};
    if modern_at(o, group, t) {
        return (SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, "group.consumer.session.timeout.ms");
    }
    let c = o.sim.consumers().iter().find(|c| c.spec.group == group);
    c.map_or((45_000, 3_000, "session.timeout.ms"), |c| {
        (c.spec.session_timeout_ms, c.spec.heartbeat_interval_ms, "session.timeout.ms")
    })
}

fn first_command(o: &Observed, f: fn(&Command) -> bool) -> Option<u64> {
    o.commands.iter().find(|c| f(&c.command)).map(|c| c.at)
}

/// Offsets appended in `[from, to)` (ms) per partition, as (partition, from_offset, to_offset).
fn appended_between(o: &Observed, from: u64, to: u64) -> Vec<(u32, u64, u64)> {
    o.events
        .iter()
        .filter(|e| e.t >= from && e.t < to)
        .filter_map(|e| match &e.kind {
            EventKind::Appended { partition, base_offset, records, .. } => {
                Some((*partition, *base_offset, base_offset + u64::from(*records)))
            }
            _ => None,
        })
        .collect()
}

/// Processed ranges per partition in order, after `since` (ms).
fn processed_after(o: &Observed, since: u64) -> Vec<(u32, u64, u64)> {
    o.events
        .iter()
        .filter(|e| e.t >= since)
        .flat_map(|e| match &e.kind {
            EventKind::Processed { ranges, .. } => ranges.iter().map(|r| (r.partition, r.from, r.to)).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Records counted at simulated times: (ms, records).
type Flow = Vec<(u64, u64)>;

/// Appended and processed record counts of one topic.
fn topic_flow(o: &Observed, topic: &str) -> (Flow, Flow) {
    let mut appended = Vec::new();
    let mut processed = Vec::new();
    for e in o.events {
        match &e.kind {
            EventKind::Appended { topic: t, records, .. } if t == topic => appended.push((e.t, u64::from(*records))),
            EventKind::Processed { ranges, .. } => {
                let n: u64 = ranges.iter().filter(|r| r.topic == topic).map(|r| r.to - r.from).sum();
                if n > 0 {
                    processed.push((e.t, n));
                }
            }
            _ => {}
        }
    }
    (appended, processed)
}

fn count_in(flow: &[(u64, u64)], keep: impl Fn(u64) -> bool) -> u64 {
    flow.iter().filter(|(t, _)| keep(*t)).map(|(_, n)| n).sum()
}

fn covered(ranges: &[(u32, u64, u64)], p: u32, from: u64, to: u64) -> bool {
    (from..to).all(|o| ranges.iter().any(|(q, a, b)| *q == p && *a <= o && o < *b))
}

fn in_order(ranges: &[(u32, u64, u64)]) -> bool {
    let mut last: VecMap<u32, u64> = Default::default();
    ranges.iter().all(|(p, a, b)| {
        let ok = last.get(p).is_none_or(|l| *a >= *l);
        last.insert(*p, *b);
        ok
    })
}

fn verdict(pass: bool, text: String) -> Verdict {
    Verdict { pass, text }
}

// ----- the lessons -----------------------------------------------------------------------------

/// The experiments' one-topic cluster, with a consumer that takes 50 ms per record.
fn base(id: &str, title: &str, partitions: u32) -> Scenario {
    let mut s = experiments::base(id, title, "", partitions);
    s.consumers[0].processing_ms = 50;
    s
}

const PRODUCER_PY: &str = "from kafka import KafkaProducer\nproducer = KafkaProducer(bootstrap_servers='localhost:9092')\nfor i in range(10):\n    producer.send('my-topic', f'Message #{i}'.encode())\nproducer.flush()";
const CONSUMER_PY: &str = "from kafka import KafkaConsumer\nconsumer = KafkaConsumer('my-topic', bootstrap_servers='localhost:9092',\n                         group_id='my-group', auto_offset_reset='earliest')\nfor message in consumer:\n    print(message.partition, message.offset, message.value.decode())";

fn durability() -> Lesson {
    let mut s = base("lesson-durability", "Lesson 1: message durability", 1);
    s.summary = "Messages wait in the log while no one reads them.".into();
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "Stop the consumer, send messages while it is away, then start it again.".into(),
        steps: vec![
            step("Stop the consumer", "Press Stop on the consumer's card: it commits and leaves its group.", Goal::Do(Act::StopConsumer)),
            step("Send three times", "Press Send 10 on the producer three times: the broker appends them to the log.", Goal::Do(Act::Produce(3))),
            step("Start the consumer", "Press Start: it asks the coordinator for its committed offset and reads from there.", Goal::Do(Act::StartConsumer)),
            step("Watch everything arrive", "All 30 messages are processed, in order.", Goal::See(Sight::AllProcessed)),
        ],
        checks: vec![|o| {
            let (Some(stop), Some(start)) = (
                first_command(o, |c| matches!(c, Command::StopConsumer { .. })),
                first_command(o, |c| matches!(c, Command::StartConsumer { .. })),
            ) else {
                return verdict(false, "the consumer was not stopped and started again".into());
            };
            let sent = appended_between(o, stop, start);
            let n: u64 = sent.iter().map(|(_, a, b)| b - a).sum();
            let after = processed_after(o, start);
            let all = n > 0 && sent.iter().all(|(p, a, b)| covered(&after, *p, *a, *b));
            let ordered = in_order(&after);
            verdict(
                all && ordered,
                format!(
                    "{} of the {n} messages sent while the consumer was down arrived after the restart{}",
                    if all { "all" } else { "not all" },
                    if ordered { ", in order" } else { ", out of order" }
                ),
            )
        }],
        why: "A Kafka topic is a log kept on the broker's disk, not a queue that needs a listener. Records stay until retention deletes them (7 days by default), whoever reads them. The group's committed offset says where it stopped; on restart the consumer fetches it (OffsetFetch) and continues from there.".into(),
        real_cluster: format!("# producer.py\n{PRODUCER_PY}\n\n# consumer.py\n{CONSUMER_PY}\n\n$ kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group"),
        path: vec![
            produce(1_000, 10),
            at(8_000, Command::StopConsumer { consumer: "consumer".into() }),
            produce(10_000, 10),
            produce(12_000, 10),
            produce(14_000, 10),
            at(20_000, Command::StartConsumer { consumer: "consumer".into() }),
        ],
        scenario: s,
    }
}

fn ordering() -> Lesson {
    let mut s = base("lesson-ordering", "Lesson 2: message ordering", 3);
    // A small batch.size makes the sticky partitioner move on after ten records.
    s.producers[0].batch_size = 1_000;
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "Three partitions. Send numbered messages without a key, then with one key.".into(),
        steps: vec![
            step("Send without keys, three times", "Press Send 10 three times. With null keys the sticky partitioner fills one partition's batch (batch.size is 1 000 bytes here: ten records), then picks another partition — send again if all went to one so far.", Goal::Do(Act::ProduceSpread(3))),
            step("Choose one key", "Pick \"one key: order-42\" on the producer: murmur2 of the key picks the partition.", Goal::Do(Act::SetKeys)),
            step("Send with the key", "Press Send 10 again.", Goal::Do(Act::Produce(1))),
            step("Watch", "Every message is processed.", Goal::See(Sight::AllProcessed)),
        ],
        checks: vec![
            |o| {
                let all = processed_after(o, 0);
                verdict(in_order(&all), format!("within each partition, offsets were processed in order ({})", count(all.len() as u64, "batch")))
            },
            |o| {
                // The unkeyed records: which partitions they went to, and how many were processed
                // after a record sent later (numbered by the producer's sequence).
                let keyed_from = first_command(o, |c| matches!(c, Command::SetKeys { .. })).unwrap_or(u64::MAX);
                let seqs = record_seqs(o, keyed_from);
                let mut latest = None;
                let mut overtaken = 0;
                for (p, from, to) in processed_after(o, 0) {
                    for off in from..to {
                        let Some(&seq) = seqs.get(&p).and_then(|s| s.get(&off)) else { continue };
                        if latest.is_some_and(|l| seq < l) {
                            overtaken += 1;
                        }
                        latest = latest.max(Some(seq));
                    }
                }
                let n: usize = seqs.values().map(|s| s.len()).sum();
                let text = match (seqs.len(), overtaken) {
                    (0, _) => "no message without a key was sent yet".to_string(),
                    (1, _) => format!("without a key, all {n} messages went to one partition so far: send again, the sticky partitioner picks the next partition at random"),
                    (k, 0) => format!("without a key, {n} messages went to {k} partitions; this time none was processed after a message sent later, but nothing orders them: order across partitions is not kept"),
                    (k, m) => format!("without a key, {n} messages went to {k} partitions; {m} of them were processed after a message sent later: order across partitions is not kept"),
                };
                verdict(seqs.len() >= 2, text)
            },
            |o| {
                // Records sent with the key: one partition, the one murmur2 picks.
                let keyed_from = first_command(o, |c| matches!(c, Command::SetKeys { .. })).unwrap_or(u64::MAX);
                let parts: VecSet<u32> =
                    appended_between(o, keyed_from, u64::MAX).iter().map(|(p, _, _)| *p).collect();
                let expected = crate::sim::murmur2::partition_for_key(b"order-42", 3);
                verdict(
                    parts.len() == 1 && parts.contains(&expected),
                    format!("every message with key order-42 went to partition {expected} (murmur2), so their order is kept"),
                )
            },
        ],
        why: "Kafka orders records within a partition only. Without a key, the producer's sticky partitioner fills a batch for one partition, then moves to another, so consecutive messages land in different partitions and a consumer reading several partitions sees them interleaved — fetches take whatever each partition has. With a key, Kafka's partitioner hashes it with murmur2: every record with that key lands in the same partition, in the order sent.".into(),
        real_cluster: format!("# producer with a key\nproducer.send('my-topic', key=b'order-42', value=b'Message #1')\n\n{CONSUMER_PY}"),
        path: vec![
            produce(1_000, 10),
            produce(1_200, 10),
            produce(1_400, 10),
            at(5_000, Command::SetKeys { producer: "producer".into(), keys: Keys::Fixed { key: "order-42".into() } }),
            produce(6_000, 10),
        ],
        scenario: s,
    }
}

/// The producer's sequence number of each record appended before `until` (ms), by partition
/// (only those with records), then offset: a partition's records come in offset order, so each
/// is added at the end of its partition's map, however many were sent.
fn record_seqs(o: &Observed, until: u64) -> VecMap<u32, VecMap<u64, u64>> {
    let mut seqs: VecMap<u32, VecMap<u64, u64>> = VecMap::new();
    for e in o.events.iter().filter(|e| e.t < until) {
        if let EventKind::Appended { partition, base_offset, records, first_seq, last_seq, .. } = &e.kind {
            if last_seq + 1 - first_seq == u64::from(*records) {
                for i in 0..u64::from(*records) {
                    seqs.entry(*partition).or_default().insert(base_offset + i, first_seq + i);
                }
            }
        }
    }
    seqs
}

fn group_of_three(id: &str, title: &str) -> Scenario {
    let mut s = base(id, title, 3);
    s.producers[0].rate_per_sec = 4;
    s.producers[0].keys =
        Keys::Cycle { keys: ["alice", "bob", "carol", "dave", "erin", "frank"].map(String::from).to_vec() };
    s.consumers = (1..=3)
        .map(|i| ConsumerSpec {
            name: format!("consumer-{i}").into(),
            session_timeout_ms: 10_000,
            ..s.consumers[0].clone()
        })
        .collect();
    s
}

fn load_balancing() -> Lesson {
    let s = group_of_three("lesson-load-balancing", "Lesson 3: load balancing with consumer groups");
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "Three consumers in one group share three partitions. Add a fourth.".into(),
        steps: vec![
            step("Watch the group form", "The coordinator waits group.initial.rebalance.delay.ms (3 s) for more members, and 3 s more because the others joined meanwhile; then the leader assigns the partitions with the range assignor.", Goal::See(Sight::Stable(3))),
            step("Add a fourth consumer", "Press + Add consumer in the group.", Goal::Do(Act::AddConsumer)),
            step("Watch it idle", "The group rebalances; with more consumers than partitions, one owns nothing.", Goal::See(Sight::Stable(4))),
        ],
        checks: vec![|o| {
            let owners: Vec<usize> = o.sim.consumers().iter().map(|c| c.assignment().len()).collect();
            let idle = owners.iter().filter(|n| **n == 0).count();
            let mut seen = VecSet::new();
            let exclusive = o.sim.consumers().iter().flat_map(|c| c.assignment()).all(|tp| seen.insert(*tp));
            verdict(
                exclusive && seen.len() == 3 && owners.len() == 4 && idle == 1,
                format!("3 partitions, each owned by exactly one of {}; {idle} idle", count(owners.len() as u64, "consumer")),
            )
        }],
        why: "Within a group each partition has exactly one owner, so a group scales out to as many consumers as partitions. The group leader computes the assignment (here range: partitions split in order), the coordinator hands it out with SyncGroup. An extra consumer waits as a standby.".into(),
        real_cluster: format!("# consumer_group.py, run three (then four) times\n{CONSUMER_PY}\n\n$ kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group"),
        path: vec![at(10_000, Command::AddConsumer {
            spec: ConsumerSpec { name: "consumer-4".into(), group: "my-group".into(), topics: vec!["my-topic".into()], auto_offset_reset: OffsetReset::Earliest, processing_ms: 50, session_timeout_ms: 10_000, ..ConsumerSpec::default() },
        })],
        scenario: s,
    }
}

fn fault_tolerance() -> Lesson {
    let mut s = group_of_three("lesson-fault-tolerance", "Lesson 4: fault tolerance");
    // Time for the second crash, under the consumer protocol, to run out its 45 s session.
    s.duration_ms = 150_000;
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "Crash one of three consumers and watch how long the group takes to notice.".into(),
        steps: vec![
            step("Wait for the group", "Three members, one partition each.", Goal::See(Sight::Stable(3))),
            step("Crash a consumer", "Press Crash on consumer-2: no LeaveGroup, no commit.", Goal::Do(Act::CrashConsumer)),
            step("Watch its session run out", "Nothing happens until its session passes without a heartbeat — session.timeout.ms, 10 s here (under Kafka 4's consumer protocol, the broker's group.consumer.session.timeout.ms, 45 s); then the group rebalances.", Goal::See(Sight::CrashNoticed)),
            step("Watch the survivors take over", "They resume from the last committed offsets.", Goal::See(Sight::Stable(2))),
            step("Now stop one cleanly", "Press Stop on consumer-3: close() commits and sends LeaveGroup (under the consumer protocol, a heartbeat with member epoch -1).", Goal::Do(Act::StopConsumer)),
            step("Watch the group rebalance at once", "No waiting for a session to run out: the coordinator removes the member as soon as its leave arrives.", Goal::See(Sight::Stable(1))),
            step("Switch to Kafka 4's consumer protocol", "In each consumer's Settings set group.protocol to consumer; it is read when the consumer starts, so stop consumer-1, then start all three. (Start one while consumer-1 still runs and Kafka 4 converts the group online: consumer-1 stays in it on the classic protocol, JoinGroup and all, until it restarts too.)", Goal::Do(Act::ConsumerProtocol)),
            step("Wait for the group", "No JoinGroup, no SyncGroup: each member heartbeats, and the coordinator hands out partitions, one partition each again.", Goal::See(Sight::Stable(3))),
            step("Crash a consumer again", "Press Crash on one of them.", Goal::Do(Act::CrashConsumer)),
            step("Watch the others carry on", "They keep their partitions and keep reading — no stop-the-world. The crashed member's partition waits until the broker's session (group.consumer.session.timeout.ms, 45 s) runs out; then it goes to a survivor at its next heartbeat.", Goal::See(Sight::CrashNoticed)),
        ],
        checks: vec![
            |o| {
                let crash = first_command(o, |c| matches!(c, Command::CrashConsumer { .. })).unwrap_or(0);
                let removed = o.events.iter().find(|e| e.t >= crash && matches!(&e.kind, EventKind::MemberRemoved { reason, .. } if reason.contains("session")));
                let (session, heartbeat, setting) = session_at(o, "my-group", crash);
                match removed {
                    Some(e) => verdict(
                        e.t - crash >= session - heartbeat,
                        format!(
                            "the group noticed {} s after the crash ({setting} {} s, heartbeats every {} s)",
                            Fixed((e.t - crash) as f64 / 1000.0, 1),
                            session / 1000,
                            heartbeat / 1000
                        ),
                    ),
                    None => verdict(false, "the crash was not noticed yet".into()),
                }
            },
            |o| {
                let r = group_report(o.sim, "my-group");
                verdict(r.lost == 0, format!("nothing lost: the survivors resumed from the committed offsets ({} from the uncommitted tail)", count(r.duplicates, "duplicate")))
            },
            |o| {
                let Some(stop) = first_command(o, |c| matches!(c, Command::StopConsumer { .. })) else {
                    return verdict(false, "no consumer was stopped cleanly yet".into());
                };
                let left = o.events.iter().find(|e| e.t >= stop && matches!(&e.kind, EventKind::MemberRemoved { reason, .. } if reason.contains("LeaveGroup") || reason == "left the group"));
                let (session, _, _) = session_at(o, "my-group", stop);
                let how = if modern_at(o, "my-group", stop) { "its leave heartbeat (member epoch -1)" } else { "its LeaveGroup" };
                match left {
                    Some(e) => verdict(
                        e.t - stop < session,
                        format!(
                            "a clean stop was noticed {} s after it — once the batch in hand was done, by {how} — not after the {} s session timeout",
                            Fixed((e.t - stop) as f64 / 1000.0, 1),
                            session / 1000
                        ),
                    ),
                    None => verdict(false, "the clean stop was not noticed yet".into()),
                }
            },
            |o| {
                // The crash after the switch to the consumer protocol (step 7 done).
                let Some(switched) = o.done.get(6).map(|d| d.at_ms) else {
                    return verdict(false, "the group has not moved to the consumer protocol yet (step 7)".into());
                };
                let crash = Some(switched).and_then(|at| {
                    o.commands.iter().find(|c| c.at >= at && matches!(c.command, Command::CrashConsumer { .. })).map(|c| c.at)
                });
                let Some(crash) = crash.filter(|&t| modern_at(o, "my-group", t)) else {
                    return verdict(false, "no consumer crashed yet under the consumer protocol".into());
                };
                let removed = o.events.iter().find(|e| e.t >= crash && matches!(&e.kind, EventKind::MemberRemoved { reason, .. } if reason.contains("session")));
                let Some(removed) = removed else {
                    return verdict(false, "the crash under the consumer protocol was not noticed yet".into());
                };
                // Meanwhile the others gave nothing up: no stop-the-world.
                let gave_up: usize = o
                    .events
                    .iter()
                    .filter(|e| e.t >= crash && e.t <= removed.t)
                    .map(|e| match &e.kind {
                        EventKind::Revoked { partitions, lost: false, .. } => partitions.len(),
                        _ => 0,
                    })
                    .sum();
                let (session, heartbeat, _) = session_at(o, "my-group", crash);
                verdict(
                    gave_up == 0 && removed.t - crash >= session - heartbeat,
                    format!(
                        "under the consumer protocol the others gave up {} while the crash went unnoticed for {} s (group.consumer.session.timeout.ms {} s)",
                        count(gave_up as u64, "partition"),
                        Fixed((removed.t - crash) as f64 / 1000.0, 1),
                        session / 1000
                    ),
                )
            },
        ],
        why: "The coordinator learns a consumer is alive only from its heartbeats. A crash sends nothing, so the coordinator waits session.timeout.ms (45 s by default since Kafka 3.0; 10 s before) before removing the member and rebalancing. A clean close sends LeaveGroup and the rebalance starts at once. The Java consumer's default partition.assignment.strategy is \"range, cooperative-sticky\": the group votes for range, and because range is listed every member rebalances eagerly — each gives up all its partitions (stop-the-world). Cooperative rebalancing moves only the orphaned partitions while the others keep processing; Kafka's way there is a rolling upgrade: restart each consumer with only cooperative-sticky (in its Settings). From the first one on the group uses cooperative-sticky, the only assignor every member supports; once none lists range any more, rebalances are cooperative. Or compare both under \"What if?\". Kafka 4's consumer protocol (KIP-848) goes further: there is no group-wide rebalance at all — the coordinator computes the assignment and each member gives up or takes partitions at its own heartbeats, while a crashed member's partitions wait for the broker's 45 s session.".into(),
        real_cluster: format!("# three consumer_group.py processes; kill -9 one of them\n{CONSUMER_PY}\n\n$ kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group --state"),
        // Timed so that each step's moment comes under either protocol: the first crash is
        // noticed after 10 s on the classic protocol and after the broker's 45 s on the consumer
        // protocol (a run made with --group-protocol consumer), so the clean stop waits for it.
        path: vec![
            at(10_000, Command::CrashConsumer { consumer: "consumer-2".into() }),
            at(60_000, Command::StopConsumer { consumer: "consumer-3".into() }),
            at(62_000, to_consumer_protocol("consumer-1")),
            at(62_500, to_consumer_protocol("consumer-2")),
            at(63_000, to_consumer_protocol("consumer-3")),
            at(64_000, Command::StopConsumer { consumer: "consumer-1".into() }),
            at(65_000, Command::StartConsumer { consumer: "consumer-1".into() }),
            at(65_500, Command::StartConsumer { consumer: "consumer-2".into() }),
            at(66_000, Command::StartConsumer { consumer: "consumer-3".into() }),
            at(80_000, Command::CrashConsumer { consumer: "consumer-1".into() }),
        ],
        scenario: s,
    }
}

fn to_consumer_protocol(consumer: &str) -> Command {
    Command::ConfigureConsumer {
        consumer: consumer.into(),
        setting: crate::sim::command::ConsumerSetting::GroupProtocol(crate::sim::config::GroupProtocol::Consumer),
    }
}

fn offsets() -> Lesson {
    let s = base("lesson-offsets", "Lesson 5: offset management", 1);
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "A consumer resumes at its group's committed offset; a new group starts where auto.offset.reset says.".into(),
        steps: vec![
            step("Send", "Press Send 10.", Goal::Do(Act::Produce(1))),
            step("Watch it read them", "The consumer processes the ten and commits its position.", Goal::See(Sight::AllProcessed)),
            step("Stop the consumer", "A clean stop commits its position.", Goal::Do(Act::StopConsumer)),
            step("Send more", "Press Send 10 while it is stopped.", Goal::Do(Act::Produce(1))),
            step("Start it again", "It resumes at the committed offset: only the new ten are processed.", Goal::Do(Act::StartConsumer)),
            step("Watch", "Everything is processed exactly once.", Goal::See(Sight::AllProcessed)),
            step("Add a consumer", "Press + Add consumer: a new consumer with Kafka's defaults (auto.offset.reset=latest).", Goal::Do(Act::AddConsumer)),
            step(
                "Give it a group of its own",
                "Move it to a new group. That group has no committed offset, so it starts where auto.offset.reset says: latest, the end of the log — it skips the 20 messages already there.",
                Goal::Do(Act::MoveConsumer),
            ),
            step("Add one more", "Press + Add consumer again.", Goal::Do(Act::AddConsumer)),
            step("Make it start at earliest", "In its Settings set auto.offset.reset to earliest (read when it starts; moving it restarts it).", Goal::Do(Act::SetEarliest)),
            step(
                "Give it a new group too",
                "Move it to another new group: with no committed offset and auto.offset.reset=earliest it reads the log from its start — all 20 messages.",
                Goal::Do(Act::MoveConsumer),
            ),
        ],
        checks: vec![|o| {
            let Some(stop) = first_command(o, |c| matches!(c, Command::StopConsumer { .. })) else {
                return verdict(false, "the consumer was not stopped yet".into());
            };
            let Some(start) =
                o.commands.iter().find(|c| c.at >= stop && matches!(c.command, Command::StartConsumer { .. })).map(|c| c.at)
            else {
                return verdict(false, "the consumer was not restarted yet".into());
            };
            let processed = |from: u64, to: u64| -> u64 {
                o.events
                    .iter()
                    .filter(|e| e.t >= from && e.t < to)
                    .map(|e| match &e.kind {
                        EventKind::Processed { group, ranges, .. } if group == "my-group" => {
                            ranges.iter().map(|r| r.to - r.from).sum()
                        }
                        _ => 0,
                    })
                    .sum()
            };
            let before = processed(0, stop);
            if before == 0 {
                return verdict(
                    false,
                    "the consumer had processed nothing when it stopped, so it had no position to keep: start it, let it read the first ten, then stop it".into(),
                );
            }
            let sent_since: u64 = appended_between(o, stop, u64::MAX).iter().map(|(_, from, to)| to - from).sum();
            let after = processed(start, u64::MAX);
            // Where the restarted consumer began: the committed offset it fetched.
            let resumed = o.events.iter().find_map(|e| match &e.kind {
                EventKind::PositionSet { group, offset, reason, .. } if e.t >= start && group == "my-group" => {
                    Some((*offset, reason.clone()))
                }
                _ => None,
            });
            let from_commit = resumed.as_ref().is_some_and(|(_, why)| why.contains("committed"));
            let r = group_report(o.sim, "my-group");
            verdict(
                from_commit && r.duplicates == 0 && sent_since > 0 && after == sent_since,
                format!(
                    "it processed {before} before it stopped; restarted, it resumed at committed offset {} and processed {after} of the {sent_since} sent since, {} twice",
                    resumed.map_or("?".to_string(), |(o, _)| o.to_string()),
                    r.duplicates
                ),
            )
        }, |o| {
            // The new group's first position, set by auto.offset.reset.
            let start = o.events.iter().find_map(|e| match &e.kind {
                EventKind::PositionSet { group, offset, reason, .. } if group != "my-group" && reason.contains("auto.offset.reset=latest") => {
                    Some((group.clone(), *offset))
                }
                _ => None,
            });
            match start {
                Some((group, offset)) => verdict(
                    offset > 0,
                    format!("the new group {group} started at offset {offset} (auto.offset.reset=latest): it skipped the {} already in the log", count(offset, "message")),
                ),
                None => verdict(false, "no new group has started reading yet".into()),
            }
        }, |o| {
            let start = o.events.iter().find_map(|e| match &e.kind {
                EventKind::PositionSet { group, offset, reason, .. } if group != "my-group" && reason.contains("auto.offset.reset=earliest") => {
                    Some((group.clone(), *offset))
                }
                _ => None,
            });
            let Some((group, offset)) = start else {
                return verdict(false, "no new group has started at earliest yet".into());
            };
            let r = group_report(o.sim, &group);
            verdict(
                offset == 0 && r.processed > 0 && r.processed >= r.in_scope,
                format!("the new group {group} started at offset {offset} (auto.offset.reset=earliest) and processed all {} in the log", count(r.processed, "message")),
            )
        }],
        why: "Kafka keeps each group's position as a committed offset in __consumer_offsets — the offset of the next record to read. A restarted consumer asks for it and continues there. A group with no committed offset starts at auto.offset.reset: latest (Kafka's default) reads only new records, earliest reads the log from its start.".into(),
        real_cluster: format!("{CONSUMER_PY}\n\n$ kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group"),
        path: vec![
            produce(1_000, 10),
            at(8_000, Command::StopConsumer { consumer: "consumer".into() }),
            produce(10_000, 10),
            at(14_000, Command::StartConsumer { consumer: "consumer".into() }),
            at(20_000, Command::AddConsumer {
                spec: ConsumerSpec { name: "consumer-2".into(), group: "my-group".into(), topics: vec!["my-topic".into()], ..ConsumerSpec::default() },
            }),
            at(25_000, Command::MoveConsumer { consumer: "consumer-2".into(), group: "group-2".into() }),
            at(30_000, Command::AddConsumer {
                spec: ConsumerSpec { name: "consumer-3".into(), group: "my-group".into(), topics: vec!["my-topic".into()], ..ConsumerSpec::default() },
            }),
            at(31_000, Command::ConfigureConsumer { consumer: "consumer-3".into(), setting: ConsumerSetting::AutoOffsetReset(OffsetReset::Earliest) }),
            at(32_000, Command::MoveConsumer { consumer: "consumer-3".into(), group: "group-3".into() }),
        ],
        scenario: s,
    }
}

fn fan_out() -> Lesson {
    let mut s = base("lesson-fan-out", "Pattern: fan-out to several groups", 1);
    s.consumers.push(ConsumerSpec { name: "consumer-b".into(), ..s.consumers[0].clone() });
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "Two consumers in one group share the work; in two groups, each gets everything.".into(),
        steps: vec![
            step("Move a consumer to a new group", "Drag consumer-b onto \"new group\" (or use its Move to group… menu).", Goal::Do(Act::MoveConsumer)),
            step("Send", "Press Send 10.", Goal::Do(Act::Produce(1))),
            step("Watch both groups", "Each group processes all ten.", Goal::See(Sight::AllProcessed)),
        ],
        checks: vec![|o| {
            let moved = first_command(o, |c| matches!(c, Command::MoveConsumer { .. })).unwrap_or(0);
            let groups = o.sim.group_names();
            let sent: u64 = appended_between(o, moved, u64::MAX).iter().map(|(_, a, b)| b - a).sum();
            let every = groups.len() >= 2 && groups.iter().all(|g| group_report(o.sim, g).processed >= sent);
            verdict(every && sent > 0, format!("{} each processed all {} sent after the move", count(groups.len() as u64, "group"), count(sent, "message")))
        }],
        why: "Offsets are kept per group. Each group reads the whole topic independently, so several services can consume the same events (fan-out), while consumers within one group split the partitions between them.".into(),
        real_cluster: format!("# the same consumer.py with group_id='billing' and group_id='shipping'\n{CONSUMER_PY}"),
        path: vec![
            at(5_000, Command::MoveConsumer { consumer: "consumer-b".into(), group: "group-2".into() }),
            produce(10_000, 10),
        ],
        scenario: s,
    }
}

fn priority() -> Lesson {
    let mut s = base("lesson-priority", "Pattern: message priority", 1);
    s.summary = "High-priority messages overtake a backlog of low-priority ones.".into();
    s.topics = ["high-priority", "low-priority"]
        .map(|name| TopicSpec { name: name.into(), partitions: 1, ..TopicSpec::default() })
        .to_vec();
    s.producers = [("high", "high-priority"), ("low", "low-priority")]
        .map(|(name, topic)| ProducerSpec { name: name.into(), topic: topic.into(), ..ProducerSpec::default() })
        .to_vec();
    let c = &mut s.consumers[0];
    c.topics = vec!["high-priority".into(), "low-priority".into()];
    c.priority = true;
    c.max_poll_records = 5;
    // Slow enough that a backlog is still there when the learner has read the next step.
    c.processing_ms = 500;
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "One consumer reads two topics, high-priority first. Give it a backlog of low-priority work, then send urgent messages.".into(),
        steps: vec![
            step("Send a low-priority backlog", "Press Send 10 on the low producer three times: 30 messages, 15 s of work at 500 ms each.", Goal::Do(Act::ProduceFrom("low", 3))),
            step("Send high-priority messages", "While it works through the backlog, press Send 10 on the high producer.", Goal::Do(Act::ProduceWhileWaiting("high", "low-priority"))),
            step("Watch them overtake", "After the batch in hand (max.poll.records 5), the consumer reads only the high-priority topic until it is drained, then resumes the low one.", Goal::See(Sight::AllProcessed)),
        ],
        checks: vec![|o| {
            // The step's moment: the consumer first read high-priority messages while
            // low-priority ones waited, not yet fetched.
            let from = o.done.get(1).map_or(0, |d| d.at_ms);
            let fetched = |topic: &str, until: u64| -> u64 {
                o.events
                    .iter()
                    .filter(|e| e.t <= until)
                    .map(|e| match &e.kind {
                        EventKind::Fetched { ranges, .. } => {
                            ranges.iter().filter(|r| r.topic == topic).map(|r| r.to - r.from).sum()
                        }
                        _ => 0,
                    })
                    .sum()
            };
            let first = o.events.iter().find_map(|e| match &e.kind {
                EventKind::Fetched { ranges, .. } if e.t >= from => {
                    ranges.iter().find(|r| r.topic == "high-priority").map(|r| (e.t, r.from))
                }
                _ => None,
            });
            let Some((read_at, first_offset)) = first.filter(|_| o.done.len() >= 2) else {
                return verdict(false, "no high-priority message was read while low-priority ones waited yet".into());
            };
            let (high_in, high_done) = topic_flow(o, "high-priority");
            let (low_in, low_done) = topic_flow(o, "low-priority");
            let low_fetched = fetched("low-priority", read_at);
            let waiting = count_in(&low_in, |t| t <= read_at).saturating_sub(low_fetched);
            let in_hand = low_fetched.saturating_sub(count_in(&low_done, |t| t <= read_at));
            // Every high-priority message from that one on, and when the last was done.
            let total = count_in(&high_in, |_| true).saturating_sub(first_offset);
            let mut seen = 0;
            let Some(&(done, _)) = high_done.iter().filter(|(t, _)| *t >= read_at).find(|(_, n)| {
                seen += n;
                seen >= total
            }) else {
                return verdict(false, format!("the {total} high-priority messages are not all processed yet"));
            };
            let overtaken = count_in(&low_done, |t| t > read_at && t <= done);
            let took = (done - read_at) as f64 / 1000.0;
            if waiting == 0 {
                return verdict(
                    false,
                    "no low-priority message was waiting when the high-priority ones were read: send the low-priority backlog first".into(),
                );
            }
            if overtaken > in_hand {
                return verdict(
                    false,
                    format!("the {total} high-priority messages were all done {took} s after they were first read, behind {overtaken} low-priority messages: more than the {in_hand} already fetched went first", took = Fixed(took, 1)),
                );
            }
            // Only records already returned by poll() may go first; often there are none.
            let first = match overtaken {
                0 => "no low-priority message went first".to_string(),
                1 => "only the 1 low-priority message already fetched went first".to_string(),
                n => format!("only the {n} low-priority messages already fetched went first"),
            };
            verdict(
                true,
                format!(
                    "the {total} high-priority messages were read while {waiting} low-priority ones waited, and all done {took} s later: {first}", took = Fixed(took, 1)),
            )
        }],
        why: "Kafka has no priorities inside a topic: a partition is read in offset order. The pattern is one topic per priority. The application subscribes to both and, while the high-priority topic has records, calls consumer.pause() on the low-priority partitions (resume() once it is drained), so the next poll returns only urgent records. Records already returned by poll() are finished first, so max.poll.records bounds how long urgent work waits. Switch \"read topics\" to together in the consumer's Settings to see them wait behind the backlog instead.".into(),
        real_cluster: "from kafka import KafkaConsumer\nconsumer = KafkaConsumer('high-priority', 'low-priority', group_id='my-group',\n                         bootstrap_servers='localhost:9092', max_poll_records=5)\nwhile True:\n    batch = consumer.poll(timeout_ms=500)\n    high = [tp for tp in consumer.assignment() if tp.topic == 'high-priority']\n    low = [tp for tp in consumer.assignment() if tp.topic == 'low-priority']\n    if any(tp.topic == 'high-priority' for tp in batch):\n        consumer.pause(*low)      # drain urgent work first\n    else:\n        consumer.resume(*low)\n    for records in batch.values():\n        for message in records:\n            process(message)\n\n$ kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group".into(),
        path: vec![
            at(4_000, Command::Produce { producer: "low".into(), count: 10 }),
            at(4_200, Command::Produce { producer: "low".into(), count: 10 }),
            at(4_400, Command::Produce { producer: "low".into(), count: 10 }),
            at(5_500, Command::Produce { producer: "high".into(), count: 10 }),
        ],
        scenario: s,
    }
}

fn processed_twice() -> Lesson {
    let mut s = base("lesson-processed-twice", "Why was my message processed twice?", 1);
    s.consumers[0].commit = CommitMode::AfterProcessing;
    s.consumers[0].max_poll_records = 20;
    s.consumers[0].processing_ms = 100;
    s.consumers[0].session_timeout_ms = 10_000;
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "The consumer commits after processing each batch of 20. Crash it in the middle of a batch.".into(),
        steps: vec![
            step("Send 50", "Press Send 10 five times.", Goal::Do(Act::Produce(5))),
            step("Crash mid-batch", "Press Crash while it has processed records its group has not committed yet (its card says \"N not yet committed\").", Goal::Do(Act::CrashMidBatch)),
            step("Start it again", "Press Start.", Goal::Do(Act::StartConsumer)),
            step("Watch", "It re-reads from the last commit: what it processed after that is processed again.", Goal::See(Sight::AllProcessed)),
        ],
        checks: vec![|o| {
            let r = group_report(o.sim, "my-group");
            verdict(r.duplicates > 0 && r.lost == 0, format!("{} processed twice, none lost: at-least-once", count(r.duplicates, "record")))
        }],
        why: "A consumer that commits after processing and crashes before its commit restarts from the previous commit, so it processes again what it had finished since: at-least-once delivery. Committing before processing flips it: a crash loses the records of the batch instead (at-most-once). Compare both with \"What if?\" below.".into(),
        real_cluster: "consumer = KafkaConsumer('my-topic', group_id='my-group', enable_auto_commit=False)\nfor message in consumer:\n    process(message)\n    consumer.commit()   # a crash before this line means a redelivery".into(),
        // Sent once the consumer owns the partition under either protocol (the classic one waits
        // group.initial.rebalance.delay.ms, 3 s, for its first assignment): the crash lands in
        // the middle of the second batch either way.
        path: vec![
            produce(4_000, 10),
            produce(4_200, 10),
            produce(4_400, 10),
            produce(4_600, 10),
            produce(4_800, 10),
            at(6_550, Command::CrashConsumer { consumer: "consumer".into() }),
            at(10_000, Command::StartConsumer { consumer: "consumer".into() }),
        ],
        scenario: s,
    }
}

fn sandbox() -> Lesson {
    let s = base("lesson-sandbox", "Sandbox", 3);
    Lesson {
        id: s.id.clone(),
        title: s.title.clone(),
        intro: "A topic with three partitions, a producer and a consumer: play freely.".into(),
        steps: Vec::new(),
        checks: Vec::new(),
        why: String::new(),
        real_cluster: format!("{PRODUCER_PY}\n\n{CONSUMER_PY}"),
        path: Vec::new(),
        scenario: s,
    }
}

/// Every lesson, in teaching order.
pub fn all() -> Vec<Lesson> {
    vec![
        durability(),
        ordering(),
        load_balancing(),
        fault_tolerance(),
        offsets(),
        fan_out(),
        priority(),
        processed_twice(),
        sandbox(),
    ]
}

pub fn find(id: &str) -> Option<Lesson> {
    all().into_iter().find(|l| l.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Run;

    #[test]
    fn the_menu_shelves_hold_the_five_lessons_in_order_then_patterns_then_free_play() {
        let shelves: Vec<Shelf> = all().iter().map(Lesson::shelf).collect();
        assert_eq!(shelves.iter().filter(|s| **s == Shelf::Lesson).count(), 5);
        assert!(shelves.is_sorted_by_key(|s| *s as u8), "{shelves:?}");
        assert_eq!(all()[0].id, FIRST);
    }

    #[test]
    fn every_lessons_scripted_path_passes_its_checks_and_completes_its_steps() {
        for l in all() {
            let run = l.scripted_run(1);
            let (_, verdicts) = l.evaluate(&run, l.scenario.duration_ms).unwrap();
            for v in &verdicts {
                assert!(v.pass, "{}: {}", l.id, v.text);
            }
            let done = l.progress(&run, l.scenario.duration_ms).unwrap().progress();
            assert!(done.iter().all(|d| *d), "{}: steps {done:?}", l.id);
        }
    }

    #[test]
    fn a_crash_is_noticed_only_when_the_session_runs_out() {
        let l = fault_tolerance();
        let run = l.scripted_run(1);
        let crash = run.commands[0].at;
        let mut expected = vec![false; l.steps.len()];
        expected[..2].fill(true);
        assert_eq!(l.progress(&run, crash + 1_000).unwrap().progress(), expected);
        assert!(l.progress(&run, crash + 12_000).unwrap().progress()[2]);
        // The second crash, under the consumer protocol (at 50 s), waits for the broker's 45 s
        // session: not noticed 30 s on, noticed by 45 s on.
        let second = run.commands.last().unwrap().at;
        assert!(!l.progress(&run, second + 30_000).unwrap().progress()[9]);
        assert!(l.progress(&run, second + 45_000).unwrap().progress()[9]);
    }

    #[test]
    fn steps_wait_for_the_user() {
        let l = durability();
        let run = Run { commands: Vec::new(), ..l.scripted_run(1) };
        let (_, verdicts) = l.evaluate(&run, 30_000).unwrap();
        assert_eq!(l.progress(&run, 30_000).unwrap().progress(), [false; 4]);
        assert!(!verdicts[0].pass, "{}", verdicts[0].text);
        // Stopping alone completes only the first step.
        let stop = vec![at(2_000, Command::StopConsumer { consumer: "consumer".into() })];
        let run = Run { commands: stop, ..l.scripted_run(1) };
        assert_eq!(l.progress(&run, 30_000).unwrap().progress(), [true, false, false, false]);
    }

    #[test]
    fn a_see_step_stays_done_when_the_state_it_saw_changes() {
        // Lesson 3: the group forms with three; then a consumer moves away. "Watch the group
        // form" stays done (it happened), and the next step is still to do.
        let l = load_balancing();
        let moved = vec![at(15_000, Command::MoveConsumer { consumer: "consumer-3".into(), group: "other".into() })];
        let run = Run { commands: moved, ..l.scripted_run(1) };
        let p = l.progress(&run, 40_000).unwrap();
        assert_eq!(p.progress(), [true, false, false]);
        assert!(p.done()[0].at_ms < 15_000);
    }

    #[test]
    fn a_see_step_is_not_done_by_doing_a_later_step_first() {
        // Lesson 3: adding the fourth consumer before the group formed with three means the
        // group never showed three members: the first step stays to do.
        let l = load_balancing();
        let mut early = l.path.clone();
        early[0].at = 500;
        let run = Run { commands: early, ..l.scripted_run(1) };
        let p = l.progress(&run, 40_000).unwrap();
        assert_eq!(p.progress(), [false, false, false]);
        assert!(p.hint().is_some_and(|h| h.contains("settled with 4 members, not the 3")), "{:?}", p.hint());
    }

    #[test]
    fn a_crash_right_after_a_commit_is_not_the_lessons_moment_and_the_lesson_says_so() {
        let l = processed_twice();
        let mut run = l.scripted_run(1);
        // Crash while nothing is processed and uncommitted: before anything was read.
        run.commands.retain(|c| !matches!(c.command, Command::CrashConsumer { .. } | Command::StartConsumer { .. }));
        run.commands.insert(0, at(500, Command::CrashConsumer { consumer: "consumer".into() }));
        let p = l.progress(&run, 6_000).unwrap();
        assert_eq!(p.progress(), [true, false, false, false], "the sends came after the crash");
        let mut run = l.scripted_run(1);
        // Five sends early, then a crash during the group's initial delay: nothing processed yet.
        run.commands = (0..5).map(|i| produce(1_000 + 200 * i, 10)).collect();
        let sent = run.commands.len();
        run.commands.push(at(2_000, Command::CrashConsumer { consumer: "consumer".into() }));
        let p = l.progress(&run, 3_000).unwrap();
        assert_eq!(sent, 5);
        assert_eq!(p.progress(), [true, false, false, false]);
        assert!(p.hint().is_some_and(|h| h.contains("nothing to read again")), "{:?}", p.hint());
        // The scripted path crashes mid-batch: done, and no hint.
        let run = l.scripted_run(1);
        let p = l.progress(&run, 7_000).unwrap();
        assert_eq!(p.progress(), [true, true, false, false]);
        assert_eq!(p.hint(), None);
    }
}
