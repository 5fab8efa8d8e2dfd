//! The fault sweep: random runs built from every command the page and links can issue — sends,
//! rates, keys, producers and consumers added and removed, crashes, clean stops and starts during
//! joins, moves between groups, slow processing near `max.poll.interval.ms`, commit modes,
//! priorities, consumer settings, broker crashes, restarts and slow networks, `acks` and
//! idempotence changes — at any time, in bursts at the same instant, on any built-in experiment.
//! Then a drain: every broker back, every consumer started, producers stopped, and the model run
//! until it is quiet.
//!
//! Every case is a share link (a built-in experiment and timed commands), so a failure is
//! something anyone can open in the page. Checked while it runs, from independent sides:
//! - the model's live invariants (order per partition, one owner per partition per generation,
//!   no acknowledged record lost) and the producer-side acknowledgement check;
//! - each generation's assignment gives a partition to one member only;
//! - a consumer processes only partitions it holds (a zombie still holds them), or records it had
//!   in hand when its background thread gave their partition up (said by an event);
//! - every commit is judged by the group it was sent for, and none from a zombie is stored;
//! - the high watermark consumers see never moves back (with clean elections).
//!
//! And after the drain (liveness): every partition has a leader and a high watermark at its
//! log end; every producer can still write (a few records sent once everything has recovered are
//! all acknowledged) and has nothing left; every started consumer is a member of its group's
//! current generation, every group is Stable and its members own all their topics' partitions
//! and have read them to the end; groups that kept at-least-once (commit after processing or
//! auto-commit, `earliest`, no retention, no acknowledged loss) processed every record; every
//! acknowledgement a producer received is in the log where the leader said; and a second replay
//! of the link gives the same digest.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ksim::sim::command::ConsumerSetting;
use ksim::sim::config::{
    Acks, CommitMode, ConsumerSpec, GroupProtocol, Keys, OffsetReset, ProducerSpec, ServerAssignor,
    Strategy as Assignor,
};
use ksim::sim::consumer::Consumer;
use ksim::sim::event::{Event, EventKind};
use ksim::sim::ids::Name;
use ksim::sim::ids::{GroupId, TopicId};
use ksim::sim::invariants::{Invariant, Watcher};
use ksim::sim::lesson;
use ksim::sim::link::Run;
use ksim::sim::report::group_report;
use ksim::sim::{experiments, Command, ConsumerStatus, Scenario, Sim, TimedCommand, Tp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Commands are drawn in `[0, ACTIVE_MS)`; the drain starts then.
pub const ACTIVE_MS: u64 = 60_000;
/// Once what was sent before the drain has been acknowledged or has expired, every producer
/// sends a few records more: they must all be written.
pub const PROBE_MS: u64 = ACTIVE_MS + 150_000;
/// How long the drain may take to settle before liveness fails (delivery timeouts are 120 s,
/// sessions up to 45 s, rebalance timeouts up to 300 s).
pub const SETTLE_LIMIT_MS: u64 = 900_000;

/// A case: a run (experiment, seed, commands with the drain at the end).
#[derive(Clone, Debug)]
pub struct Case {
    pub id: u64,
    pub run: Run,
    /// The fault class it was built around (see [`MIXES`]).
    pub mix: &'static str,
}

/// Fault classes: besides random commands, a case may aim at a corner — a broker crash while
/// a consumer's join is in flight to its coordinator, or while produce requests are in flight to
/// a leader; idempotent batches expiring while followers lag (written but not acknowledged); a
/// poll timer running out while the coordinator is down; a static member replaced across a
/// protocol conversion.
pub const MIXES: [&str; 6] = [
    "random",
    "coordinator crash in flight",
    "leader crash in flight",
    "idempotent expiry",
    "poll timeout, coordinator down",
    "static member across a conversion",
];

impl Case {
    /// The link that replays it, up to `until` (ms).
    pub fn link(&self, until: u64) -> String {
        Run { cursor_ms: Some(until), ..self.run.clone() }.encode()
    }
}

/// What a case did, when it passed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub sim_ms: u64,
    pub events: u64,
    pub wall: Duration,
    pub rejected: u64,
    pub zombies: u64,
    pub restarts: u64,
    /// Groups converted from one protocol to the other (Kafka 4's online migration).
    pub conversions: u64,
    /// Groups whose every record was checked processed (at-least-once kept).
    pub complete_groups: u64,
}

/// A sweep failure: what broke, when, and the link that shows it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub case: u64,
    pub at_ms: u64,
    pub what: String,
    pub link: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "case {} at {} ms: {}\nreplay: ksim run '?{}' --format jsonl\nrerun: KSIM_SWEEP_CASE={} cargo test --test sweep one_case -- --nocapture",
            self.case, self.at_ms, self.what, self.link, self.case
        )
    }
}

// ----- generating a case ------------------------------------------------------------------------

/// What the generator knows of a client it may name.
#[derive(Clone)]
struct ConsumerInfo {
    name: String,
    max_poll_interval_ms: u64,
    max_poll_records: u32,
}

struct Gen {
    rng: ChaCha8Rng,
    topics: Vec<(String, u32)>,
    brokers: u32,
    producers: Vec<String>,
    consumers: Vec<ConsumerInfo>,
    groups: Vec<String>,
    next_producer: u32,
    next_consumer: u32,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn keys(&mut self) -> Keys {
        match self.rng.random_range(0..4) {
            0 => Keys::None,
            1 => Keys::Fixed { key: "order-42".into() },
            2 => Keys::Cycle { keys: ["alice", "bob", "carol", "dave", "erin", "frank"].map(String::from).to_vec() },
            _ => Keys::Random { cardinality: self.rng.random_range(1..200) },
        }
    }

    fn acks(&mut self) -> Acks {
        *pick(&mut self.rng, &[Acks::All, Acks::All, Acks::All, Acks::One, Acks::Zero])
    }

    fn producer(&mut self) -> String {
        // Now and then a name nobody has: the command is rejected.
        if self.chance(0.03) || self.producers.is_empty() {
            return "nobody".into();
        }
        pick(&mut self.rng, &self.producers).clone()
    }

    fn consumer(&mut self) -> ConsumerInfo {
        if self.chance(0.03) || self.consumers.is_empty() {
            return ConsumerInfo { name: "nobody".into(), max_poll_interval_ms: 300_000, max_poll_records: 500 };
        }
        pick(&mut self.rng, &self.consumers).clone()
    }

    fn group(&mut self) -> String {
        pick(&mut self.rng, &self.groups).clone()
    }

    fn assignor(&mut self) -> Assignor {
        *pick(&mut self.rng, &Assignor::ALL)
    }

    /// A `partition.assignment.strategy` list as the page offers them (Kafka's default, one
    /// assignor, the upgrade list) or any two.
    fn assignors(&mut self) -> Vec<Assignor> {
        match self.rng.random_range(0..4) {
            0 => Assignor::DEFAULT_LIST.to_vec(),
            1 => vec![self.assignor()],
            2 => vec![Assignor::CooperativeSticky, Assignor::Range],
            _ => {
                let a = self.assignor();
                let b = *pick(&mut self.rng, &Assignor::ALL.iter().copied().filter(|x| *x != a).collect::<Vec<_>>());
                vec![a, b]
            }
        }
    }

    fn commit_mode(&mut self) -> CommitMode {
        *pick(&mut self.rng, &[CommitMode::Auto, CommitMode::AfterProcessing, CommitMode::BeforeProcessing])
    }

    fn new_producer(&mut self) -> ProducerSpec {
        self.next_producer += 1;
        let name = format!("p{}", self.next_producer);
        let (topic, partitions) = pick(&mut self.rng, &self.topics).clone();
        let spec = ProducerSpec {
            name: name.clone().into(),
            topic: topic.into(),
            keys: self.keys(),
            partition: self.chance(0.1).then(|| self.rng.random_range(0..partitions)),
            rate_per_sec: *pick(&mut self.rng, &[0, 0, 2, 20, 100]),
            linger_ms: *pick(&mut self.rng, &[0, 5, 5, 50]),
            acks: self.acks(),
            enable_idempotence: self.chance(0.8),
            delivery_timeout_ms: *pick(&mut self.rng, &[120_000, 120_000, 30_000]),
            ..ProducerSpec::default()
        };
        self.producers.push(name);
        spec
    }

    fn new_consumer(&mut self) -> ConsumerSpec {
        self.next_consumer += 1;
        let name = format!("c{}", self.next_consumer);
        let mut topics: Vec<String> =
            self.topics.iter().filter(|_| self.rng.random_bool(0.6)).map(|t| t.0.clone()).collect();
        if topics.is_empty() {
            topics.push(pick(&mut self.rng, &self.topics).0.clone());
        }
        let session_timeout_ms = *pick(&mut self.rng, &[6_000, 10_000, 10_000, 45_000]);
        let spec = ConsumerSpec {
            name: name.clone().into(),
            group: self.group().into(),
            priority: topics.len() > 1 && self.chance(0.3),
            topics,
            running: self.chance(0.85),
            commit: self.commit_mode(),
            auto_offset_reset: if self.chance(0.8) { OffsetReset::Earliest } else { OffsetReset::Latest },
            max_poll_records: *pick(&mut self.rng, &[1, 5, 20, 500]),
            processing_ms: *pick(&mut self.rng, &[0, 5, 20, 100]),
            session_timeout_ms,
            heartbeat_interval_ms: 3_000.min(session_timeout_ms / 3),
            max_poll_interval_ms: *pick(&mut self.rng, &[10_000, 30_000, 300_000]),
            assignors: if self.chance(0.6) { Assignor::DEFAULT_LIST.to_vec() } else { self.assignors() },
            group_instance_id: self.chance(0.15).then(|| format!("instance-{}", self.rng.random_range(0..3))),
            ..ConsumerSpec::default()
        };
        self.consumers.push(ConsumerInfo {
            name,
            max_poll_interval_ms: spec.max_poll_interval_ms,
            max_poll_records: spec.max_poll_records,
        });
        spec
    }

    fn command(&mut self) -> Command {
        match self.rng.random_range(0..100) {
            0..=11 => Command::Produce { producer: self.producer(), count: self.rng.random_range(1..=60) },
            12..=15 => {
                let per_sec = if self.chance(0.03) { 1_000 } else { *pick(&mut self.rng, &[0, 1, 5, 20, 100]) };
                Command::SetRate { producer: self.producer(), per_sec }
            }
            16..=17 => Command::SetKeys { producer: self.producer(), keys: self.keys() },
            18..=19 => Command::AddProducer { spec: self.new_producer() },
            20 => Command::RemoveProducer { producer: self.producer() },
            21..=24 => Command::AddConsumer { spec: self.new_consumer() },
            25..=33 => Command::CrashConsumer { consumer: self.consumer().name },
            34..=39 => Command::StopConsumer { consumer: self.consumer().name },
            40..=49 => Command::StartConsumer { consumer: self.consumer().name },
            50..=54 => {
                let c = self.consumer();
                // Often slow enough for a batch to take about max.poll.interval.ms.
                let near = c.max_poll_interval_ms / u64::from(c.max_poll_records);
                let ms = match self.rng.random_range(0..4) {
                    0 => 0,
                    1 => *pick(&mut self.rng, &[5, 50, 400]),
                    _ => (near * self.rng.random_range(7..14) / 10).min(600_000),
                };
                Command::SetProcessingTime { consumer: c.name, ms }
            }
            55..=57 => Command::SetCommitMode { consumer: self.consumer().name, mode: self.commit_mode() },
            58 => Command::SetPriority { consumer: self.consumer().name, enabled: self.chance(0.5) },
            59..=62 => {
                let setting = match self.rng.random_range(0..6) {
                    // group.remote.assignor: the broker-side assignor the most members ask for.
                    5 => ConsumerSetting::RemoteAssignor(
                        [None, Some(ServerAssignor::Uniform), Some(ServerAssignor::Range)][self.rng.random_range(0..3)],
                    ),
                    // A consumer changes protocol at its next start: its group may end up mixing
                    // both, and converts online (Kafka 4's migration) each way.
                    4 => ConsumerSetting::GroupProtocol(if self.chance(0.5) {
                        GroupProtocol::Consumer
                    } else {
                        GroupProtocol::Classic
                    }),
                    0 => ConsumerSetting::AutoOffsetReset(if self.chance(0.5) {
                        OffsetReset::Earliest
                    } else {
                        OffsetReset::Latest
                    }),
                    1 => ConsumerSetting::Assignor(self.assignor()),
                    2 => ConsumerSetting::Assignors(self.assignors()),
                    // 3 s is below group.min.session.timeout.ms: refused by the broker.
                    _ => ConsumerSetting::SessionTimeoutMs(*pick(&mut self.rng, &[3_000, 6_000, 10_000, 45_000])),
                };
                Command::ConfigureConsumer { consumer: self.consumer().name, setting }
            }
            63..=70 => Command::MoveConsumer { consumer: self.consumer().name, group: self.group() },
            71..=72 => Command::RemoveConsumer { consumer: self.consumer().name },
            73..=77 => Command::CrashBroker { broker: self.rng.random_range(1..=self.brokers + 1) },
            78..=79 => Command::StopBroker { broker: self.rng.random_range(1..=self.brokers) },
            80..=86 => Command::RestartBroker { broker: self.rng.random_range(1..=self.brokers) },
            87..=89 => Command::DelayBroker {
                broker: self.rng.random_range(1..=self.brokers),
                ms: *pick(&mut self.rng, &[0, 0, 500, 3_000, 40_000]),
            },
            90..=94 => Command::SetAcks { producer: self.producer(), acks: self.acks() },
            _ => Command::SetIdempotence { producer: self.producer(), enabled: self.chance(0.5) },
        }
    }
}

impl Gen {
    /// Adds the commands of fault class `mix` (see [`MIXES`]) at a random moment.
    fn aim(&mut self, mix: usize, commands: &mut Vec<TimedCommand>) {
        let t = self.rng.random_range(0..ACTIVE_MS - 25_000);
        let broker = self.rng.random_range(1..=self.brokers);
        let mut at = |dt: u64, command: Command| commands.push(TimedCommand { at: t + dt, command });
        match MIXES[mix] {
            "coordinator crash in flight" => {
                let spec = self.new_consumer();
                at(0, Command::AddConsumer { spec });
                let c = self.consumer().name;
                at(0, Command::StartConsumer { consumer: c });
                at(self.rng.random_range(0..6), Command::CrashBroker { broker });
                at(self.rng.random_range(3_000..20_000), Command::RestartBroker { broker });
            }
            "leader crash in flight" => {
                let producer = self.producer();
                at(0, Command::Produce { producer, count: self.rng.random_range(20..200) });
                at(self.rng.random_range(0..6), Command::CrashBroker { broker });
                at(self.rng.random_range(3_000..20_000), Command::RestartBroker { broker });
            }
            "idempotent expiry" => {
                let mut spec = self.new_producer();
                (spec.acks, spec.enable_idempotence, spec.delivery_timeout_ms) = (Acks::All, true, 30_000);
                spec.rate_per_sec = *pick(&mut self.rng, &[5, 20, 100]);
                at(0, Command::AddProducer { spec });
                for b in 1..=self.brokers {
                    if b != broker {
                        at(self.rng.random_range(0..2_000), Command::DelayBroker { broker: b, ms: 40_000 });
                    }
                }
                if self.chance(0.5) {
                    at(self.rng.random_range(5_000..20_000), Command::CrashBroker { broker });
                    at(self.rng.random_range(20_000..25_000), Command::RestartBroker { broker });
                }
            }
            "poll timeout, coordinator down" => {
                let c = self.consumer();
                let near = c.max_poll_interval_ms / u64::from(c.max_poll_records);
                let ms = (near * self.rng.random_range(11..14) / 10).min(600_000);
                at(0, Command::SetProcessingTime { consumer: c.name.clone(), ms });
                let producer = self.producer();
                at(0, Command::Produce { producer, count: 60 });
                at(self.rng.random_range(0..5_000), Command::CrashBroker { broker });
                at(self.rng.random_range(12_000..25_000), Command::RestartBroker { broker });
            }
            "static member across a conversion" => {
                let mut spec = self.new_consumer();
                spec.group_instance_id = Some(STATIC_ACROSS.into());
                spec.group_protocol = GroupProtocol::Classic;
                let name = spec.name.to_string();
                at(0, Command::AddConsumer { spec });
                at(100, Command::CrashConsumer { consumer: name.clone() });
                let setting = ConsumerSetting::GroupProtocol(GroupProtocol::Consumer);
                at(200, Command::ConfigureConsumer { consumer: name.clone(), setting });
                at(self.rng.random_range(1_000..8_000), Command::StartConsumer { consumer: name });
                let producer = self.producer();
                at(8_000, Command::Produce { producer, count: 10 });
            }
            _ => {}
        }
    }
}

/// The `group.instance.id` of the static member the conversion class switches protocol.
const STATIC_ACROSS: &str = "instance-9";

/// The experiments a case may start from: every built-in one and every lesson's cluster.
fn bases() -> Vec<Scenario> {
    let mut out = experiments::builtin();
    out.extend(lesson::all().into_iter().map(|l| l.scenario));
    out
}

/// Case `id` of the sweep.
pub fn case(id: u64) -> Case {
    let bases = bases();
    let mut rng = ChaCha8Rng::seed_from_u64(id ^ 0x6b73_696d_5f73_7770);
    let base = bases[rng.random_range(0..bases.len())].clone();
    let mut g = Gen {
        topics: base.topics.iter().map(|t| (t.name.to_string(), t.partitions)).collect(),
        brokers: base.cluster.brokers,
        producers: base.producers.iter().map(|p| p.name.to_string()).collect(),
        consumers: base
            .consumers
            .iter()
            .map(|c| ConsumerInfo {
                name: c.name.to_string(),
                max_poll_interval_ms: c.max_poll_interval_ms,
                max_poll_records: c.max_poll_records,
            })
            .collect(),
        groups: {
            let mut groups: Vec<String> = base.consumers.iter().map(|c| c.group.to_string()).collect();
            groups.extend(["g2".to_string(), "g3".to_string()]);
            groups.sort();
            groups.dedup();
            groups
        },
        next_producer: 0,
        next_consumer: 0,
        rng,
    };
    let mut commands = Vec::new();
    let n = g.rng.random_range(0..=40);
    let mut at = 0u64;
    for _ in 0..n {
        // Bursts: the same instant, or a few ms later (during a JoinGroup round trip).
        at = match g.rng.random_range(0..10) {
            0 => at,
            1 | 2 => (at + g.rng.random_range(1..8)).min(ACTIVE_MS - 1),
            _ => g.rng.random_range(0..ACTIVE_MS),
        };
        commands.push(TimedCommand { at, command: g.command() });
    }
    // Half the cases are random only; the rest aim at one fault class each.
    let mix = g.rng.random_range(0..MIXES.len() * 2).saturating_sub(MIXES.len());
    g.aim(mix, &mut commands);
    commands.sort_by_key(|c| c.at);
    // The drain: everything back, nothing new, everyone started.
    let drain = |command| TimedCommand { at: ACTIVE_MS, command };
    for b in 1..=g.brokers {
        commands.push(drain(Command::RestartBroker { broker: b }));
        commands.push(drain(Command::DelayBroker { broker: b, ms: 0 }));
    }
    for p in &g.producers {
        commands.push(drain(Command::SetRate { producer: p.clone(), per_sec: 0 }));
    }
    for c in &g.consumers {
        commands.push(drain(Command::SetProcessingTime { consumer: c.name.clone(), ms: 1 }));
        commands.push(drain(Command::StartConsumer { consumer: c.name.clone() }));
    }
    for p in &g.producers {
        commands.push(TimedCommand { at: PROBE_MS, command: Command::Produce { producer: p.clone(), count: 5 } });
    }
    let seed = g.rng.random();
    // A quarter of the cases run every consumer on Kafka 4's consumer protocol (drawn last, so
    // the classic cases stay what they were).
    let protocol = if g.rng.random_range(0..4) == 0 { GroupProtocol::Consumer } else { GroupProtocol::Classic };
    // Half of those add every other consumer on the classic protocol: groups that mix both and
    // convert online.
    let mixed = protocol == GroupProtocol::Consumer && g.rng.random_range(0..2) == 0;
    let mut added = 0;
    for c in &mut commands {
        if let Command::AddConsumer { spec } = &mut c.command {
            if spec.group_instance_id.as_deref() == Some(STATIC_ACROSS) {
                continue; // starts classic and is switched to the consumer protocol
            }
            spec.group_protocol = if mixed && added % 2 == 1 { GroupProtocol::Classic } else { protocol };
            added += 1;
        }
    }
    Case {
        id,
        mix: MIXES[mix],
        run: Run {
            scenario: base.id,
            seed,
            commands,
            cursor_ms: None,
            group_protocol: protocol,
            refuse_mixed_groups: false,
        },
    }
}

// ----- checking a case --------------------------------------------------------------------------

/// Per-run bookkeeping of the independent checks.
#[derive(Default)]
struct Checks {
    /// Holders of each (group, partition): a zombie and the new owner may both hold one.
    holders: BTreeMap<(GroupId, String), BTreeSet<Name>>,
    /// Commits sent and not yet answered, by consumer: (group, offsets).
    commits_sent: BTreeMap<Name, Vec<String>>,
    zombies: BTreeSet<Name>,
    /// Partitions a consumer-protocol member gave up while its application had records of them
    /// in hand: (consumer, group, partition), until that batch is credited.
    in_hand: BTreeSet<(Name, GroupId, String)>,
    /// Highest high watermark consumers could see, per partition.
    visible_hw: BTreeMap<Tp, u64>,
    unclean: bool,
    lossy_acks: bool,
    retention: bool,
    /// Groups that gave up at-least-once: a member that committed before processing, or reset to
    /// latest.
    at_most_once: BTreeSet<GroupId>,
    /// Consumers whose JoinGroup failed after the drain began (they stop).
    join_failed: BTreeSet<Name>,
    rejected: u64,
    zombie_count: u64,
    conversions: u64,
    restarts: u64,
    /// The topics each group's last computed assignment covers.
    covered: BTreeMap<GroupId, BTreeSet<String>>,
    /// Groups where a static member came back since their last rebalance began: Kafka keeps its
    /// old assignment even when it now subscribes to more.
    static_returned: BTreeSet<GroupId>,
}

/// The topic of a partition label like `my-topic-2`.
fn topic_of(tp: &str) -> Option<&str> {
    tp.rsplit_once('-').map(|(t, _)| t)
}

fn offsets_key(group: &str, offsets: &[ksim::sim::event::PartitionOffset]) -> String {
    let mut s = group.to_string();
    for o in offsets {
        s.push_str(&format!(" {}-{}@{}", o.topic, o.partition, o.offset));
    }
    s
}

impl Checks {
    fn event(&mut self, e: &Event) -> Result<(), String> {
        match &e.kind {
            EventKind::AssignmentComputed { group, generation, assignment, .. } => {
                let topics = assignment.iter().flat_map(|(_, tps)| tps.iter().filter_map(|tp| topic_of(tp)));
                self.covered.insert(group.clone(), topics.map(str::to_string).collect());
                let mut seen = BTreeSet::new();
                for (_, tps) in assignment {
                    for tp in tps {
                        if !seen.insert(tp) {
                            return Err(format!("{group} generation {generation} gives {tp} to two members"));
                        }
                    }
                }
            }
            EventKind::Assigned(a) => {
                let ksim::sim::event::Assigned { consumer, group, added, .. } = &**a;
                for tp in added {
                    self.holders.entry((group.clone(), tp.clone())).or_default().insert(consumer.clone());
                }
            }
            EventKind::Revoked { consumer, group, partitions, lost } => {
                for tp in partitions {
                    if let Some(h) = self.holders.get_mut(&(group.clone(), tp.clone())) {
                        h.remove(consumer);
                    }
                }
                if *lost {
                    self.zombies.remove(consumer);
                }
            }
            EventKind::Crashed { consumer, .. } | EventKind::Stopped { consumer } => {
                for h in self.holders.values_mut() {
                    h.remove(consumer);
                }
                self.zombies.remove(consumer);
                self.in_hand.retain(|(c, _, _)| c != consumer);
            }
            EventKind::RevokedWhileProcessing { consumer, group, partitions, .. } => {
                for tp in partitions {
                    self.in_hand.insert((consumer.clone(), group.clone(), tp.clone()));
                }
            }
            EventKind::JoinFailed { consumer, .. } => {
                for h in self.holders.values_mut() {
                    h.remove(consumer);
                }
                self.zombies.remove(consumer);
                if e.t >= ACTIVE_MS {
                    self.join_failed.insert(consumer.clone());
                }
            }
            EventKind::Started { consumer } => {
                self.join_failed.remove(consumer);
            }
            EventKind::Processed { consumer, group, ranges } => {
                for r in ranges {
                    let tp = format!("{}-{}", r.topic, r.partition);
                    let held = self.holders.get(&(group.clone(), tp.clone())).is_some_and(|h| h.contains(consumer));
                    let in_hand = self.in_hand.contains(&(consumer.clone(), group.clone(), tp.clone()));
                    if !held && !in_hand {
                        return Err(format!("{consumer} processed {tp} of {group}, which it does not hold"));
                    }
                }
                // That batch is done: what it had in hand is credited.
                self.in_hand.retain(|(c, _, _)| c != consumer);
            }
            EventKind::Zombie { consumer, .. } => {
                self.zombies.insert(consumer.clone());
                self.zombie_count += 1;
            }
            EventKind::CommitSent { consumer, group, offsets } => {
                if self.zombies.contains(consumer) {
                    return Err(format!("{consumer} sent a commit although it knows it is out of the group"));
                }
                self.commits_sent.entry(consumer.clone()).or_default().push(offsets_key(group, offsets));
            }
            EventKind::Committed { consumer, group, offsets } => {
                let key = offsets_key(group, offsets);
                let sent = self.commits_sent.get_mut(consumer);
                match sent.and_then(|s| s.iter().position(|k| *k == key).map(|i| s.remove(i))) {
                    Some(_) => {}
                    None => return Err(format!("{consumer}'s commit stored as {key}, which it never sent")),
                }
            }
            // Failed at the coordinator: an answer to a request it sent for this group (one that
            // fails before it is sent was never on the list).
            EventKind::CommitFailed { consumer, group, reason } if !reason.starts_with("CommitFailedException") => {
                let sent = self.commits_sent.get_mut(consumer);
                match sent.and_then(|s| {
                    s.iter().position(|k| k.split(' ').next() == Some(group.as_str())).map(|i| s.remove(i))
                }) {
                    Some(_) => {}
                    None => {
                        return Err(format!("{consumer}'s commit was judged for {group}, which it did not send it to"))
                    }
                }
            }
            EventKind::ProduceFailed { producer, error, retry_in_ms: None, .. } if e.t >= PROBE_MS => {
                return Err(format!("{producer} gave up records sent after everything recovered: {error}"));
            }
            EventKind::SendFailed { producer, error, .. } if e.t >= PROBE_MS => {
                return Err(format!("{producer} could not send after everything recovered: {error}"));
            }
            EventKind::StaticMemberReplaced { group, .. } => {
                self.static_returned.insert(group.clone());
            }
            EventKind::GroupState { group, state, .. } if state == "PreparingRebalance" => {
                self.static_returned.remove(group);
            }
            EventKind::LeaderElected { unclean: true, .. } => self.unclean = true,
            EventKind::LeaderElected { lost_acked, .. } if *lost_acked > 0 => self.lossy_acks = true,
            EventKind::RetentionDeleted { .. } => self.retention = true,
            EventKind::CommandRejected { .. } => self.rejected += 1,
            EventKind::ProducerRestarted { .. } => self.restarts += 1,
            EventKind::GroupConverted { .. } => self.conversions += 1,
            _ => {}
        }
        Ok(())
    }

    /// Looks at the state after a step.
    fn state(&mut self, sim: &Sim) -> Result<(), String> {
        for p in sim.producers() {
            if p.spec.acks == Acks::One {
                self.lossy_acks = true;
            }
        }
        // Stronger than the model's invariant, and true of the model: among a group's current
        // members (whatever their generation) a partition has at most one owner — cooperative
        // rebalancing revokes before it reassigns, eager members give everything up first.
        let mut owners: BTreeMap<(&str, Tp), &str> = BTreeMap::new();
        for c in sim.consumers().iter().filter(|c| c.status == ConsumerStatus::Running) {
            if c.spec.commit == CommitMode::BeforeProcessing || c.spec.auto_offset_reset == OffsetReset::Latest {
                self.at_most_once.insert(c.spec.group.clone());
            }
            if !sim.knows_member(c) {
                continue;
            }
            // Kafka 4.0's consumer-protocol client finishes a reconciliation it began (with its
            // auto-commit) even when a newer target came meanwhile: it may take a partition that
            // the coordinator — told by a heartbeat that it did not own it yet — has moved on
            // without. It holds it at an older epoch than its member's, the coordinator does not
            // count it as its, and its next reconciliation gives it up.
            let member = sim.groups().consumer(c.spec.group.as_str()).and_then(|g| g.member(c.member_id()));
            let taken_late = |tp: &Tp| {
                let (t, p) = sim.tp_name(*tp);
                member.is_some_and(|m| {
                    c.process().is_some_and(|p| p.assignment_generation < m.assignment.member_epoch) && !m.owns(&t, p)
                })
            };
            for tp in c.assignment().iter().filter(|tp| !taken_late(tp)) {
                if let Some(other) = owners.insert((c.spec.group.as_str(), *tp), c.spec.name.as_str()) {
                    let (t, p) = sim.tp_name(*tp);
                    return Err(format!("members {other} and {} of {} both hold {t}-{p}", c.spec.name, c.spec.group));
                }
            }
        }
        for t in 0..sim.topics().len() as u32 {
            for p in 0..sim.topics()[t as usize].spec.partitions {
                let tp = Tp { topic: TopicId(t), partition: p };
                let Some(hw) = sim.partition(tp).visible_high_watermark() else { continue };
                let seen = self.visible_hw.entry(tp).or_insert(hw);
                if hw < *seen && !self.unclean {
                    let (t, p) = sim.tp_name(tp);
                    return Err(format!("the high watermark of {t}-{p} consumers see went back from {seen} to {hw}"));
                }
                *seen = (*seen).max(hw);
            }
        }
        Ok(())
    }
}

/// Whether the model has settled after the drain; if not, why.
fn unsettled(sim: &Sim, checks: &Checks) -> Option<String> {
    if let Some(b) = sim.brokers().iter().find(|b| !b.alive) {
        return Some(format!("broker {} is down", b.id));
    }
    for (t, topic) in sim.topics().iter().enumerate() {
        for p in 0..topic.spec.partitions {
            let tp = Tp { topic: TopicId(t as u32), partition: p };
            let part = sim.partition(tp);
            if part.leader.is_none() {
                return Some(format!("{}-{p} is offline", topic.spec.name));
            }
            if part.high_watermark != part.log().log_end_offset() {
                return Some(format!(
                    "{}-{p}: high watermark {} below the log end",
                    topic.spec.name, part.high_watermark
                ));
            }
        }
    }
    for p in sim.producers() {
        if p.unacknowledged() > 0 || p.waiting() > 0 || p.restarting.is_some() {
            return Some(format!(
                "{} still has {} unacknowledged, {} waiting",
                p.spec.name,
                p.unacknowledged(),
                p.waiting()
            ));
        }
    }
    let mut groups: BTreeMap<&str, Vec<&Consumer>> = BTreeMap::new();
    if let Some(c) = sim.consumers().iter().find(|c| c.removed && c.status == ConsumerStatus::Running) {
        return Some(format!("{} is still closing", c.spec.name));
    }
    for c in sim.consumers().iter().filter(|c| !c.removed) {
        if c.status != ConsumerStatus::Running {
            if checks.join_failed.contains(&c.spec.name) {
                continue;
            }
            return Some(format!("{} is {:?}", c.spec.name, c.status));
        }
        groups.entry(c.spec.group.as_str()).or_default().push(c);
    }
    for (group, members) in groups {
        if let Some(g) = sim.groups().consumer(group) {
            if let Some(why) = unsettled_consumer_group(sim, group, g, &members) {
                return Some(why);
            }
            continue;
        }
        let Some(g) = sim.groups().classic(group) else { return Some(format!("{group} has no coordinator state")) };
        if g.state.name() != "Stable" {
            return Some(format!("{group} is {}", g.state.name()));
        }
        // Kafka's promise: the generation's assignment covers every partition of the topics it
        // was computed for. A static member that came back subscribed to more keeps its old
        // assignment, so those topics wait for the next rebalance (and the group says so).
        // Likewise a group turned classic by a static member's replacement is not rebalanced
        // (Kafka's convertToClassicGroup, unless the subscription changed): a partition no member
        // holds there — one a member was still waiting to be given — waits for the next one.
        let waits = |name: &str, p: u32| {
            let held = |t: TopicId| g.members.iter().any(|m| m.assignment.contains(&Tp { topic: t, partition: p }));
            checks.static_returned.contains(group)
                && ((!checks.covered.get(group).is_some_and(|c| c.contains(name))
                    && g.unserved_topics().iter().any(|u| u == name))
                    || sim.topic_index(name).is_some_and(|t| !held(t)))
        };
        let given = |c: &Consumer| g.member(c.member_id()).map(|m| (g.generation, m.assignment.clone()));
        if let Some(why) = unsettled_members(sim, group, &members, given, waits) {
            return Some(why);
        }
    }
    None
}

/// A consumer-protocol group after the drain: Stable at its group epoch, and its members
/// settled as [`unsettled_members`] says.
fn unsettled_consumer_group(
    sim: &Sim,
    group: &str,
    g: &ksim::sim::kafka::consumer_group::ConsumerGroup,
    members: &[&Consumer],
) -> Option<String> {
    // A target computed again at the same epoch (a static member replaced) is taken only at the
    // next epoch by members already reconciled to it, as in Kafka: what it moves waits, and so
    // may the members waiting for it.
    let waiting = g.waiting_for_next_epoch();
    if g.state().name() != "Stable" && waiting.is_empty() {
        return Some(format!("{group} is {}", g.state().name()));
    }
    let given = |c: &Consumer| {
        let m = g.member(c.member_id())?;
        let tps = ksim::sim::kafka::consumer_group::tps_of(&m.assignment.assigned, |t| sim.topic_index(t));
        Some((m.assignment.member_epoch, tps))
    };
    unsettled_members(sim, group, members, given, |t, p| waiting.iter().any(|(wt, wp)| wt == t && *wp == p))
}

/// Whether every member has settled: a member at the coordinator's generation (or its member
/// epoch), not joining or processing, holding what the coordinator gives it and having read it to
/// the end — and every partition of their topics owned, but for topics that `waits` for the
/// next rebalance. If not, why.
fn unsettled_members(
    sim: &Sim,
    group: &str,
    members: &[&Consumer],
    given: impl Fn(&Consumer) -> Option<(i32, Vec<Tp>)>,
    waits: impl Fn(&str, u32) -> bool,
) -> Option<String> {
    let mut owned = BTreeSet::new();
    let mut topics = BTreeSet::new();
    for c in members {
        let Some((generation, mut assignment)) = given(c) else {
            return Some(format!("{} is not a member of {group}", c.spec.name));
        };
        let Some(process) = c.process() else {
            return Some(format!("{} is not running", c.spec.name));
        };
        if process.generation != generation || process.joining || process.zombie || c.moving_to.is_some() {
            return Some(format!("{} is still joining {group}", c.spec.name));
        }
        if process.outside_poll() || !process.in_flight.is_empty() {
            return Some(format!("{} is still processing", c.spec.name));
        }
        let mut mine = process.assignment.clone();
        mine.sort();
        assignment.sort();
        if mine != assignment {
            return Some(format!("{} has not taken its assignment in {group}", c.spec.name));
        }
        topics.extend(c.topics.iter().copied());
        for tp in &process.assignment {
            owned.insert(*tp);
            let hw = sim.partition(*tp).high_watermark;
            if process.positions.get(tp) != Some(&hw) {
                let (t, p) = sim.tp_name(*tp);
                return Some(format!("{} has not read {t}-{p} to its end {hw}", c.spec.name));
            }
        }
    }
    for t in topics {
        let name = &sim.topics()[t.ix()].spec.name;
        for p in 0..sim.topics()[t.ix()].spec.partitions {
            if !owned.contains(&Tp { topic: t, partition: p }) && !waits(name, p) {
                return Some(format!("nobody in {group} owns {name}-{p}"));
            }
        }
    }
    None
}

/// Plays case `c`, checking everything the module documentation lists.
pub fn check(c: &Case) -> Result<Outcome, Failure> {
    let start = Instant::now();
    let fail = |at_ms: u64, what: String| Failure { case: c.id, at_ms, what, link: c.link(at_ms) };
    let mut sim = c.run.start().map_err(|e| fail(0, format!("the case does not start: {e}")))?;
    sim.keep_events(true);
    sim.keep_ack_ledger(true);
    let mut watcher = Watcher::default();
    let mut checks = Checks::default();
    let mut count = 0u64;
    let lesson = lesson::find(&c.run.scenario);
    let mut kept: Vec<Event> = Vec::new();
    let mut next_settle_check = PROBE_MS + 1_000;
    let end = loop {
        let Some(t) = sim.next_time() else { break sim.now().0 };
        if t.0 >= next_settle_check {
            let now = sim.now().0;
            if unsettled(&sim, &checks).is_none() {
                break now;
            }
            next_settle_check += 1_000;
            if t.0 > ACTIVE_MS + SETTLE_LIMIT_MS {
                let why = unsettled(&sim, &checks).unwrap_or_default();
                return Err(fail(now, format!("not settled {} s after the drain: {why}", SETTLE_LIMIT_MS / 1000)));
            }
        }
        sim.step();
        let now = sim.now().0;
        for e in sim.drain_events() {
            count += 1;
            watcher.observe(&e, count);
            checks.event(&e).map_err(|w| fail(now, w))?;
            if lesson.is_some() {
                kept.push(e);
            }
        }
        watcher.check_state(&sim, now, count);
        checks.state(&sim).map_err(|w| fail(now, w))?;
        for inv in [Invariant::OrderKept, Invariant::OneOwner] {
            if let Some(v) = watcher.first(inv) {
                return Err(fail(v.at_ms, format!("{}: {}", inv.name(), v.text)));
            }
        }
        if let Some(v) = watcher.first(Invariant::NoAckedLoss) {
            if !(checks.lossy_acks || checks.unclean) || v.text.contains("does not hold") {
                return Err(fail(v.at_ms, format!("{}: {}", Invariant::NoAckedLoss.name(), v.text)));
            }
        }
    };
    if let Some(f) = sim.ack_findings().first() {
        return Err(fail(f.at_ms, f.text.clone()));
    }
    audit_acks(&sim, &checks).map_err(|w| fail(end, w))?;
    no_idempotent_duplicates(&sim).map_err(|w| fail(end, w))?;
    let complete_groups = at_least_once(&sim, &checks).map_err(|w| fail(end, w))?;
    if let Some(l) = &lesson {
        lesson_checks(l, &sim, &kept, &c.run.commands).map_err(|w| fail(end, w))?;
    }
    if c.id.is_multiple_of(8) {
        let again = Run { cursor_ms: Some(end), ..c.run.clone() }.replay(None).map_err(|e| fail(end, e.to_string()))?;
        if again.digest() != sim.digest() {
            return Err(fail(end, "a second replay gave another digest".into()));
        }
    }
    Ok(Outcome {
        sim_ms: end,
        events: sim.event_count(),
        wall: start.elapsed(),
        rejected: checks.rejected,
        zombies: checks.zombie_count,
        restarts: checks.restarts,
        conversions: checks.conversions,
        complete_groups,
    })
}

/// Every acknowledgement is in the log where the leader said (or below the log start, deleted
/// by retention); what is missing was counted lost by an election, and only where losing it
/// is possible (acks below all, or an unclean election).
fn audit_acks(sim: &Sim, checks: &Checks) -> Result<(), String> {
    let mut missing: BTreeMap<Tp, u64> = BTreeMap::new();
    for a in sim.ack_ledger().unwrap_or_default() {
        let log = sim.partition(a.tp).log();
        if a.base_offset < log.log_start_offset() {
            continue;
        }
        let held = log
            .batch_at(a.base_offset)
            .is_some_and(|b| b.producer == a.producer.0 && b.first_seq == a.first_seq && b.last_seq == a.last_seq);
        if !held {
            *missing.entry(a.tp).or_default() += u64::from(a.count);
            if a.acks == Acks::All && !checks.unclean {
                let (t, p) = sim.tp_name(a.tp);
                return Err(format!(
                    "{} was told records {}..={} (acks=all) are at {t}-{p} offset {}; the log does not hold them",
                    sim.producers()[a.producer.ix()].spec.name,
                    a.first_seq,
                    a.last_seq,
                    a.base_offset
                ));
            }
        }
    }
    for (tp, n) in missing {
        let counted = sim.partition(tp).lost_acked;
        if n > counted {
            let (t, p) = sim.tp_name(tp);
            return Err(format!(
                "{n} acknowledged records of {t}-{p} are missing, but elections counted {counted} lost"
            ));
        }
    }
    Ok(())
}

/// An idempotent producer never writes a record twice: in each partition's log, its batches'
/// record numbers do not overlap, whatever producer id each carries (read from the log, not from
/// the producer's bookkeeping). An id taken anew never writes again what an earlier id wrote.
fn no_idempotent_duplicates(sim: &Sim) -> Result<(), String> {
    for (t, topic) in sim.topics().iter().enumerate() {
        for p in 0..topic.spec.partitions {
            let tp = Tp { topic: TopicId(t as u32), partition: p };
            // Per producer: the record ranges seen, by first record number.
            let mut seen: BTreeMap<u32, BTreeMap<u64, u64>> = BTreeMap::new();
            for b in sim.partition(tp).log().batches().filter(|b| b.producer_id.is_some()) {
                let ranges = seen.entry(b.producer).or_default();
                let before = ranges.range(..=b.last_seq).next_back();
                if let Some((&first, &last)) = before.filter(|(_, &last)| last >= b.first_seq) {
                    return Err(format!(
                        "{}-{p} holds records {first}..={last} and {}..={} of {}: an idempotent producer wrote records twice",
                        topic.spec.name, b.first_seq, b.last_seq, sim.producers()[b.producer as usize].spec.name
                    ));
                }
                ranges.insert(b.first_seq, b.last_seq);
            }
        }
    }
    Ok(())
}

/// Groups that kept at-least-once processed every record of their topics. Returns how many
/// groups were checked.
fn at_least_once(sim: &Sim, checks: &Checks) -> Result<u64, String> {
    // Consumers read only below the high watermark, which clean elections never move back: what
    // acks=1 loses was never read. Retention and unclean elections take records from under them.
    if checks.unclean || checks.retention {
        return Ok(0);
    }
    let mut topics: BTreeMap<&str, BTreeSet<TopicId>> = BTreeMap::new();
    for c in sim.consumers().iter().filter(|c| c.status == ConsumerStatus::Running && !c.removed) {
        topics.entry(c.spec.group.as_str()).or_default().extend(c.topics.iter().copied());
    }
    let mut checked = 0;
    for (group, ts) in topics {
        if checks.at_most_once.contains(group) {
            continue;
        }
        checked += 1;
        // What waits for the group's next epoch (see `unsettled_consumer_group`) is not read yet.
        let waiting = sim.groups().consumer(group).map(|g| g.waiting_for_next_epoch()).unwrap_or_default();
        for t in ts {
            for p in 0..sim.topics()[t.ix()].spec.partitions {
                let tp = Tp { topic: t, partition: p };
                let name = &sim.topics()[t.ix()].spec.name;
                if waiting.iter().any(|(wt, wp)| wt == name && *wp == p) {
                    continue;
                }
                let hw = sim.partition(tp).high_watermark;
                let done = sim.delivery(group, tp).map_or(0, |d| d.counts.distinct_in(0, hw));
                if done != hw {
                    let (t, p) = sim.tp_name(tp);
                    let r = group_report(sim, group);
                    return Err(format!(
                        "{group} processed {done} of the {hw} records of {t}-{p} (at-least-once: lost {}, lag {})",
                        r.lost, r.lag
                    ));
                }
            }
        }
    }
    Ok(checked)
}

/// A lesson's checks, run on whatever happened: they never panic and say nothing absurd.
fn lesson_checks(l: &lesson::Lesson, sim: &Sim, events: &[Event], commands: &[TimedCommand]) -> Result<(), String> {
    // When each step was done, as the page follows it (the model's state looked at once, at the end).
    let mut tracker = ksim::sim::progress::Tracker::new(l);
    tracker.observe_batch(events, sim);
    let observed = lesson::Observed { sim, events, commands, done: tracker.done() };
    for check in &l.checks {
        let v = check(&observed);
        let huge = v.text.split(|ch: char| !ch.is_ascii_digit()).any(|n| n.len() > 12);
        if huge || v.text.is_empty() {
            return Err(format!("{}: a check says {:?}", l.id, v.text));
        }
    }
    Ok(())
}

// ----- the long run -----------------------------------------------------------------------------

/// What a long run of the sweep found.
#[derive(Default)]
pub struct SoakReport {
    pub first: u64,
    pub cases: u64,
    pub passed: u64,
    pub panics: Vec<(u64, String)>,
    /// Failures grouped by what broke (digits stripped): count, first case.
    pub failures: BTreeMap<String, (u64, Failure)>,
    /// Cases over 1 s of wall time per 10 s simulated: (case, wall ms, simulated ms).
    pub slow: Vec<(u64, u128, u64)>,
    pub sim_ms: u64,
    pub events: u64,
    pub zombies: u64,
    pub restarts: u64,
    pub conversions: u64,
    pub complete_groups: u64,
    /// Per fault class (see [`MIXES`]): cases run and cases failed.
    pub classes: BTreeMap<&'static str, (u64, u64)>,
    pub wall: Duration,
}

impl SoakReport {
    pub fn clean(&self) -> bool {
        self.panics.is_empty() && self.failures.is_empty() && self.slow.is_empty()
    }
}

impl std::fmt::Display for SoakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let violations: u64 = self.failures.values().map(|(n, _)| n).sum();
        writeln!(
            f,
            "cases {}..{}: {} passed, {violations} failed, {} panicked, {} slow",
            self.first,
            self.first + self.cases,
            self.passed,
            self.panics.len(),
            self.slow.len()
        )?;
        writeln!(
            f,
            "simulated {:.1} h, {} events, {} zombies, {} producer restarts, {} groups converted between protocols, {} groups checked to have processed every record, in {:.0} s wall",
            self.sim_ms as f64 / 3.6e6,
            self.events,
            self.zombies,
            self.restarts,
            self.conversions,
            self.complete_groups,
            self.wall.as_secs_f64()
        )?;
        for (class, (n, failed)) in &self.classes {
            writeln!(f, "class {class}: {n} cases, {failed} failed")?;
        }
        for (what, (n, first)) in &self.failures {
            writeln!(f, "FAILED {n}x: {what}\n  {first}")?;
        }
        for (case, why) in &self.panics {
            writeln!(f, "PANIC case {case}: {why}")?;
        }
        for (case, wall, sim) in &self.slow {
            writeln!(f, "SLOW case {case}: {wall} ms wall for {sim} ms simulated")?;
        }
        Ok(())
    }
}

/// Calls `work(i)` for every `i` in `first..first + n`, spread over every core.
pub fn on_every_core(first: u64, n: u64, work: impl Fn(u64) + Sync) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let next = AtomicU64::new(first);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= first + n {
                    return;
                }
                work(i);
            });
        }
    });
}

/// Runs `f`, turning a panic into its message (the panic hook silenced meanwhile by the caller).
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Runs cases `first..first + n` on every core, catching panics.
pub fn soak(first: u64, n: u64) -> SoakReport {
    use std::sync::Mutex;
    let start = Instant::now();
    let report = Mutex::new(SoakReport { first, cases: n, ..SoakReport::default() });
    std::panic::set_hook(Box::new(|_| {}));
    on_every_core(first, n, |id| {
        let c = case(id);
        let result = catching(|| check(&c));
        let mut r = report.lock().unwrap();
        let class = r.classes.entry(c.mix).or_default();
        class.0 += 1;
        class.1 += u64::from(!matches!(result, Ok(Ok(_))));
        match result {
            Ok(Ok(o)) => {
                r.passed += 1;
                r.sim_ms += o.sim_ms;
                r.events += o.events;
                r.zombies += o.zombies;
                r.restarts += o.restarts;
                r.conversions += o.conversions;
                r.complete_groups += o.complete_groups;
                if o.wall.as_millis() * 10_000 > u128::from(o.sim_ms.max(1)) * 1_000 {
                    r.slow.push((id, o.wall.as_millis(), o.sim_ms));
                }
            }
            Ok(Err(f)) => {
                let key: String = f.what.chars().filter(|c| !c.is_ascii_digit()).collect();
                r.failures.entry(key).or_insert((0, f)).0 += 1;
            }
            Err(why) => r.panics.push((id, why)),
        }
    });
    let _ = std::panic::take_hook();
    let mut r = report.into_inner().unwrap();
    r.panics.sort();
    r.slow.sort();
    r.wall = start.elapsed();
    r
}

// ----- mutated links ------------------------------------------------------------------------------

/// What a long run of mutated links found.
#[derive(Default)]
pub struct LinkReport {
    pub links: u64,
    /// Damaged links refused with an error, and the distinct first words of their messages.
    pub refused: u64,
    pub replayed: u64,
    pub panics: Vec<(u64, String)>,
    /// Refusals that were not one line, or empty.
    pub bad_messages: Vec<(u64, String)>,
    /// Replays over 1 s of wall time per 10 s simulated: (link number, wall ms, simulated ms).
    pub slow: Vec<(u64, u128, u64)>,
    pub sim_ms: u64,
    pub wall: Duration,
}

impl LinkReport {
    pub fn clean(&self) -> bool {
        self.panics.is_empty() && self.bad_messages.is_empty() && self.slow.is_empty()
    }
}

impl std::fmt::Display for LinkReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "links {}: {} refused with a one-line error, {} replayed ({:.1} simulated h), {} panicked, {} bad messages, {} slow, in {:.0} s wall",
            self.links,
            self.refused,
            self.replayed,
            self.sim_ms as f64 / 3.6e6,
            self.panics.len(),
            self.bad_messages.len(),
            self.slow.len(),
            self.wall.as_secs_f64()
        )?;
        for (i, why) in self.panics.iter().take(20) {
            writeln!(f, "PANIC link {i}: {why}")?;
        }
        for (i, why) in self.bad_messages.iter().take(20) {
            writeln!(f, "BAD MESSAGE link {i}: {why:?}")?;
        }
        for (i, wall, sim) in self.slow.iter().take(20) {
            writeln!(f, "SLOW link {i}: {wall} ms wall for {sim} ms simulated")?;
        }
        Ok(())
    }
}

/// Longest a mutated link is replayed, in simulated ms.
const LINK_REPLAY_MS: u64 = 120_000;

/// Link `i`: a sweep case's link (cursor anywhere), damaged. Half the time its JSON is changed
/// (a value made extreme or of another type, a member dropped or added, a command doubled,
/// dropped or moved), so that most still decode and run; the other half 1 to 5 bytes of the
/// link itself are flipped, dropped or inserted.
pub fn mutated_link(i: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(i ^ 0x6c69_6e6b_735f_6d75);
    let c = case(rng.random_range(0..1_000_000));
    let cursor = rng.random_range(0..ACTIVE_MS + 60_000);
    if rng.random_bool(0.5) {
        return mutated_json(&mut rng, &c, cursor);
    }
    let mut bytes = c.link(cursor).into_bytes();
    for _ in 0..rng.random_range(1..=5) {
        let len = bytes.len();
        let at = rng.random_range(0..len.max(1));
        match rng.random_range(0..3) {
            0 if len > 0 => bytes[at] = rng.random(),
            1 if len > 0 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at.min(len), rng.random()),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn mutated_json(rng: &mut ChaCha8Rng, c: &Case, cursor: u64) -> String {
    use base64::Engine;
    use serde_json::Value;
    let link = c.link(cursor);
    let payload = link.trim_start_matches("run=").split('&').next().unwrap_or_default();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(mut v) =
        engine.decode(payload).map_err(|_| ()).and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|_| ()))
    else {
        return link;
    };
    for _ in 0..rng.random_range(1..=3) {
        // A random node: walk down from the root.
        let mut node = &mut v;
        loop {
            let children = match node {
                Value::Object(m) => m.len(),
                Value::Array(a) => a.len(),
                _ => 0,
            };
            if children == 0 || rng.random_bool(0.25) {
                break;
            }
            let k = rng.random_range(0..children);
            node = match node {
                Value::Object(m) => m.values_mut().nth(k).expect("in range"),
                Value::Array(a) => &mut a[k],
                _ => unreachable!("has children"),
            };
        }
        let numbers = [0.0, 1.0, 4_294_967_296.0, 9_007_199_254_740_993.0, 1.8e19, -1.0, 1.5, 2_592_000_001.0];
        let strings = ["", "x\ny\u{1b}[31m", "nobody", "consumer", "producer", "my-group", "g2", "all", "earliest"];
        *node = match (node.take(), rng.random_range(0..6)) {
            (Value::Number(_), 0..=3) => serde_json::json!(numbers[rng.random_range(0..numbers.len())]),
            (Value::String(_), 0..=3) => Value::String(strings[rng.random_range(0..strings.len())].to_string()),
            (Value::String(_), 4) => Value::String("z".repeat(rng.random_range(1..5_000))),
            (Value::Bool(b), _) => Value::Bool(!b),
            (Value::Object(mut m), 0..=2) if !m.is_empty() => {
                let k = m.keys().nth(rng.random_range(0..m.len())).cloned().unwrap_or_default();
                m.remove(&k);
                Value::Object(m)
            }
            (Value::Object(mut m), 3) => {
                m.insert("extra".into(), Value::Null);
                Value::Object(m)
            }
            (Value::Array(mut a), 0..=2) if !a.is_empty() => {
                let k = rng.random_range(0..a.len());
                let item = a[k].clone();
                match rng.random_range(0..3) {
                    0 => {
                        a.remove(k);
                    }
                    1 => a.insert(k, item),
                    _ => a.reverse(),
                }
                Value::Array(a)
            }
            (_, 5) => Value::Null,
            (other, _) => other,
        };
    }
    let mut out = format!("run={}", engine.encode(v.to_string()));
    if rng.random_bool(0.8) {
        out.push_str(&format!("&t={cursor}"));
    }
    out
}

/// Decodes and replays links `first..first + n` on every core, catching panics.
pub fn soak_links(first: u64, n: u64) -> LinkReport {
    use std::sync::Mutex;
    let start = Instant::now();
    let report = Mutex::new(LinkReport { links: n, ..LinkReport::default() });
    std::panic::set_hook(Box::new(|_| {}));
    on_every_core(first, n, |i| {
        let link = mutated_link(i);
        let began = Instant::now();
        let result = catching(|| match Run::decode(&link) {
            Err(e) => Err(e.to_string()),
            Ok(run) => {
                let until = run.cursor_ms.unwrap_or(LINK_REPLAY_MS).min(LINK_REPLAY_MS);
                run.replay(Some(until)).map(|_| until).map_err(|e| e.to_string())
            }
        });
        let wall = began.elapsed();
        let mut r = report.lock().unwrap();
        match result {
            Ok(Ok(sim_ms)) => {
                r.replayed += 1;
                r.sim_ms += sim_ms;
                if wall.as_millis() * 10_000 > u128::from(sim_ms.max(1_000)) * 1_000 {
                    r.slow.push((i, wall.as_millis(), sim_ms));
                }
            }
            Ok(Err(message)) => {
                r.refused += 1;
                if message.is_empty() || message.contains('\n') || message.chars().any(char::is_control) {
                    r.bad_messages.push((i, message));
                }
            }
            Err(why) => r.panics.push((i, why)),
        }
    });
    let _ = std::panic::take_hook();
    let mut r = report.into_inner().unwrap();
    r.panics.sort();
    r.slow.sort();
    r.bad_messages.sort();
    r.wall = start.elapsed();
    r
}
