//! The simulation: an event queue in simulated time, the cluster's state, and the handlers that
//! move it forward. Everything here is synchronous and deterministic: the same scenario, seed and
//! commands give the same events, in the same order, with the same digest.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::command::Command;
use super::config::{limits, ClusterSpec, CommitMode, ConsumerSpec, OffsetReset, ProducerSpec, TopicSpec};
use super::event::{Event, EventKind, OffsetRange, PartitionOffset, Trace};
use super::keys::Keyer;
use super::log::{LogConfig, PartitionLog};
use super::ranges::RangeCounts;
use super::scenario::Scenario;
use super::time::SimTime;

/// A topic-partition by index: `topic` indexes [`Sim::topics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tp {
    pub topic: u32,
    pub partition: u32,
}

/// Why a run could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    InvalidScenario(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::InvalidScenario(why) => write!(f, "invalid scenario: {why}"),
        }
    }
}

impl std::error::Error for SimError {}

#[derive(Clone, Debug)]
pub struct Topic {
    pub spec: TopicSpec,
    pub partitions: Vec<Partition>,
    log_config: LogConfig,
}

#[derive(Clone, Debug, Default)]
pub struct Partition {
    pub log: PartitionLog,
    /// Offsets below this are visible to consumers. With one replica it equals the log end.
    pub high_watermark: u64,
    /// Fetches parked here until data arrives (consumer, incarnation, fetch id).
    waiters: Vec<(u32, u32, u64)>,
}

#[derive(Clone, Debug)]
pub struct Producer {
    pub spec: ProducerSpec,
    pub topic: u32,
    pub keyer: u32,
    /// Sequence number of the next record (the tutorial's message number).
    pub next_seq: u64,
    /// Records asked for by `produce` but not yet sent.
    pending: u64,
    rate_since: SimTime,
    rate_sent: u64,
    next_send: Option<SimTime>,
    sticky: Option<u32>,
    sticky_bytes: u64,
    pub acked: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerStatus {
    Running,
    Crashed,
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    FetchingOffsets,
    Fetching,
    CommittingBeforeProcessing,
    Processing,
    CommittingAfterProcessing,
}

#[derive(Clone, Debug)]
pub struct Consumer {
    pub spec: ConsumerSpec,
    pub topics: Vec<u32>,
    pub status: ConsumerStatus,
    pub phase: Phase,
    /// Incarnation: bumped on crash, stop and start, so actions of a dead process are dropped.
    inc: u32,
    pub assignment: Vec<Tp>,
    /// The offset of the next record `poll()` returns, per assigned partition.
    pub positions: BTreeMap<Tp, u64>,
    /// Records handed to the application and not yet processed, in processing order.
    pub in_flight: Vec<(Tp, u64, u64)>,
    pub processing_started: SimTime,
    last_auto_commit: SimTime,
    fetch_id: u64,
    parked: bool,
    stopping: bool,
    round_robin: usize,
    /// `client.id` as Kafka's consumer makes it: `consumer-{group}-{n}`.
    pub client_id: String,
    pub member_id: String,
}

/// What one group has done with one partition: deliveries counted per offset.
#[derive(Clone, Debug, Default)]
pub struct DeliveryTrack {
    pub counts: RangeCounts,
    /// Where the group started reading this partition (its first reset position).
    pub first_position: Option<u64>,
}

#[derive(Clone, Debug)]
enum Action {
    User(Command),
    ProducerSend {
        producer: u32,
    },
    ProduceArrive {
        producer: u32,
        batches: Vec<(u32, u64, u64, u32)>,
        records: u64,
    },
    ProduceAck {
        producer: u32,
        records: u64,
    },
    OffsetFetchArrive {
        consumer: u32,
        inc: u32,
    },
    OffsetFetchResponse {
        consumer: u32,
        inc: u32,
        offsets: Vec<(Tp, Option<u64>)>,
    },
    FetchArrive {
        consumer: u32,
        inc: u32,
        fetch_id: u64,
    },
    FetchTimeout {
        consumer: u32,
        inc: u32,
        fetch_id: u64,
    },
    FetchResponse {
        consumer: u32,
        inc: u32,
        fetch_id: u64,
        ranges: Vec<(Tp, u64, u64)>,
    },
    ProcessingDone {
        consumer: u32,
        inc: u32,
    },
    CommitArrive {
        consumer: u32,
        inc: u32,
        offsets: Vec<(Tp, u64)>,
        sync: bool,
    },
    CommitResponse {
        consumer: u32,
        inc: u32,
        sync: bool,
    },
    RetentionCheck,
    /// A consumer that is running from the start of the run (or from when it was added).
    LaunchConsumer {
        consumer: u32,
    },
}

#[derive(Clone, Debug)]
struct Scheduled {
    at: SimTime,
    seq: u64,
    action: Action,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed so the `BinaryHeap` pops the earliest (time, insertion order) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A whole simulated cluster and its clients.
#[derive(Clone)]
pub struct Sim {
    now: SimTime,
    seed: u64,
    /// The run's one source of randomness: ChaCha8 seeded from the run's seed.
    rng: ChaCha8Rng,
    queue: BinaryHeap<Scheduled>,
    next_seq: u64,
    pub cluster: ClusterSpec,
    pub topics: Vec<Topic>,
    pub producers: Vec<Producer>,
    pub consumers: Vec<Consumer>,
    keyers: Vec<Keyer>,
    /// Committed offsets per group, as `__consumer_offsets` holds them.
    committed: BTreeMap<(String, Tp), u64>,
    deliveries: BTreeMap<(String, Tp), DeliveryTrack>,
    client_counters: BTreeMap<String, u32>,
    trace: Trace,
}

impl Sim {
    /// Builds the cluster a scenario describes and queues its scripted commands.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Sim, SimError> {
        scenario.validate().map_err(SimError::InvalidScenario)?;
        let mut sim = Sim {
            now: SimTime::ZERO,
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            queue: BinaryHeap::new(),
            next_seq: 0,
            cluster: scenario.cluster.clone(),
            topics: Vec::new(),
            producers: Vec::new(),
            consumers: Vec::new(),
            keyers: Vec::new(),
            committed: BTreeMap::new(),
            deliveries: BTreeMap::new(),
            client_counters: BTreeMap::new(),
            trace: Trace::new(false),
        };
        for spec in &scenario.topics {
            sim.topics.push(Topic {
                log_config: LogConfig {
                    retention_ms: spec.retention_ms,
                    retention_bytes: spec.retention_bytes,
                    segment_bytes: spec.segment_bytes,
                    segment_ms: spec.segment_ms,
                },
                partitions: (0..spec.partitions).map(|_| Partition::default()).collect(),
                spec: spec.clone(),
            });
        }
        for spec in &scenario.producers {
            sim.add_producer(spec.clone()).map_err(SimError::InvalidScenario)?;
        }
        for spec in &scenario.consumers {
            sim.add_consumer(spec.clone()).map_err(SimError::InvalidScenario)?;
        }
        if sim.topics.iter().any(|t| t.log_config.retention_ms.is_some() || t.log_config.retention_bytes.is_some()) {
            let every = sim.cluster.retention_check_interval_ms.max(1);
            sim.push(SimTime(every), Action::RetentionCheck);
        }
        for tc in &scenario.script {
            sim.schedule(SimTime(tc.at), tc.command.clone());
        }
        Ok(sim)
    }

    // ----- the public surface -------------------------------------------------------------

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Keep events in memory for [`Sim::drain_events`] (the digest is kept either way).
    pub fn keep_events(&mut self, keep: bool) {
        self.trace.set_keep(keep);
    }

    /// Queues a command at simulated time `at` (now, if `at` is in the past).
    pub fn schedule(&mut self, at: SimTime, command: Command) {
        let at = at.max(self.now);
        self.push(at, Action::User(command));
    }

    /// Applies a command now, after anything already queued for this instant.
    pub fn apply(&mut self, command: Command) {
        self.schedule(self.now, command);
        while self.queue.peek().is_some_and(|s| s.at == self.now) {
            self.step();
        }
    }

    /// Time of the next queued action, if any.
    pub fn next_time(&self) -> Option<SimTime> {
        self.queue.peek().map(|s| s.at)
    }

    /// Handles the next queued action. Returns false when the queue is empty.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.queue.pop() else { return false };
        debug_assert!(next.at >= self.now, "time never goes back");
        self.now = next.at;
        self.handle(next.action);
        true
    }

    /// Runs every action up to and including time `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) {
        while self.queue.peek().is_some_and(|s| s.at <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Hex SHA-256 over the canonical lines of every event so far.
    pub fn digest(&self) -> String {
        self.trace.digest()
    }

    pub fn event_count(&self) -> u64 {
        self.trace.count()
    }

    pub fn drain_events(&mut self) -> Vec<Event> {
        self.trace.drain()
    }

    pub fn topic_index(&self, name: &str) -> Option<u32> {
        self.topics.iter().position(|t| t.spec.name == name).map(|i| i as u32)
    }

    pub fn producer_index(&self, name: &str) -> Option<u32> {
        self.producers.iter().position(|p| p.spec.name == name).map(|i| i as u32)
    }

    pub fn consumer_index(&self, name: &str) -> Option<u32> {
        self.consumers.iter().position(|c| c.spec.name == name).map(|i| i as u32)
    }

    pub fn partition(&self, tp: Tp) -> &Partition {
        &self.topics[tp.topic as usize].partitions[tp.partition as usize]
    }

    pub fn keyer(&self, index: u32) -> &Keyer {
        &self.keyers[index as usize]
    }

    /// The group's committed offset for a partition, if it has one.
    pub fn committed(&self, group: &str, tp: Tp) -> Option<u64> {
        self.committed.get(&(group.to_string(), tp)).copied()
    }

    /// Every committed offset, by (group, partition), in order.
    pub fn committed_offsets(&self) -> impl Iterator<Item = (&str, Tp, u64)> {
        self.committed.iter().map(|((g, tp), o)| (g.as_str(), *tp, *o))
    }

    /// What each group did with each partition.
    pub fn deliveries(&self) -> impl Iterator<Item = (&str, Tp, &DeliveryTrack)> {
        self.deliveries.iter().map(|((g, tp), d)| (g.as_str(), *tp, d))
    }

    pub fn delivery(&self, group: &str, tp: Tp) -> Option<&DeliveryTrack> {
        self.deliveries.get(&(group.to_string(), tp))
    }

    /// Names of all groups, sorted.
    pub fn group_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.consumers.iter().map(|c| c.spec.group.clone()).collect();
        names.extend(self.committed.keys().map(|(g, _)| g.clone()));
        names.sort();
        names.dedup();
        names
    }

    pub fn tp_name(&self, tp: Tp) -> (String, u32) {
        (self.topics[tp.topic as usize].spec.name.clone(), tp.partition)
    }

    // ----- plumbing -----------------------------------------------------------------------

    fn push(&mut self, at: SimTime, action: Action) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Scheduled { at, seq, action });
    }

    fn after(&mut self, ms: u64, action: Action) {
        self.push(self.now.plus(ms), action);
    }

    fn latency(&self) -> u64 {
        self.cluster.latency_ms
    }

    fn emit(&mut self, kind: EventKind) {
        self.trace.record(Event { t: self.now.ms(), kind });
    }

    fn handle(&mut self, action: Action) {
        match action {
            Action::User(cmd) => self.handle_command(cmd),
            Action::ProducerSend { producer } => self.producer_send(producer),
            Action::ProduceArrive { producer, batches, records } => self.produce_arrive(producer, batches, records),
            Action::ProduceAck { producer, records } => {
                let p = &mut self.producers[producer as usize];
                p.acked += records;
                let (producer, topic) = (p.spec.name.clone(), self.topics[p.topic as usize].spec.name.clone());
                self.emit(EventKind::Acked { producer, topic, records });
            }
            Action::OffsetFetchArrive { consumer, inc } => self.offset_fetch_arrive(consumer, inc),
            Action::OffsetFetchResponse { consumer, inc, offsets } => {
                self.offset_fetch_response(consumer, inc, offsets)
            }
            Action::FetchArrive { consumer, inc, fetch_id } => self.fetch_arrive(consumer, inc, fetch_id),
            Action::FetchTimeout { consumer, inc, fetch_id } => {
                if self.fetch_is_live(consumer, inc, fetch_id) && self.consumers[consumer as usize].parked {
                    self.consumers[consumer as usize].parked = false;
                    self.after(self.latency(), Action::FetchResponse { consumer, inc, fetch_id, ranges: Vec::new() });
                }
            }
            Action::FetchResponse { consumer, inc, fetch_id, ranges } => {
                self.fetch_response(consumer, inc, fetch_id, ranges)
            }
            Action::ProcessingDone { consumer, inc } => {
                if self.is_live(consumer, inc) {
                    self.processing_done(consumer);
                }
            }
            Action::CommitArrive { consumer, inc, offsets, sync } => self.commit_arrive(consumer, inc, offsets, sync),
            Action::CommitResponse { consumer, inc, sync } => {
                if self.is_live(consumer, inc) && sync {
                    self.commit_done(consumer);
                }
            }
            Action::RetentionCheck => self.retention_check(),
            Action::LaunchConsumer { consumer } => {
                if self.consumers[consumer as usize].status != ConsumerStatus::Running {
                    self.start_consumer(consumer);
                }
            }
        }
    }

    fn reject(&mut self, command: Command, reason: impl Into<String>) {
        self.emit(EventKind::CommandRejected { command, reason: reason.into() });
    }

    fn handle_command(&mut self, cmd: Command) {
        let original = cmd.clone();
        let producer_of = |sim: &Sim, name: &str| sim.producer_index(name).ok_or(format!("no producer named '{name}'"));
        let consumer_of = |sim: &Sim, name: &str| sim.consumer_index(name).ok_or(format!("no consumer named '{name}'"));
        let result: Result<(), String> = match cmd {
            Command::Produce { producer, count } => producer_of(self, &producer).and_then(|p| {
                if count == 0 || count > limits::MAX_PRODUCE_COUNT {
                    return Err(format!("count must be 1 to {}", limits::MAX_PRODUCE_COUNT));
                }
                self.emit(EventKind::Command { command: original.clone() });
                self.producers[p as usize].pending += count;
                let linger = self.producers[p as usize].spec.linger_ms;
                self.ensure_send_by(p, self.now.plus(linger));
                Ok(())
            }),
            Command::SetRate { producer, per_sec } => producer_of(self, &producer).and_then(|p| {
                if per_sec > limits::MAX_RATE_PER_SEC {
                    return Err(format!("rate must be at most {} records/s", limits::MAX_RATE_PER_SEC));
                }
                self.emit(EventKind::Command { command: original.clone() });
                let now = self.now;
                let pr = &mut self.producers[p as usize];
                // Records already due under the old rate become explicit pending ones.
                pr.pending += pr.rate_due(now);
                pr.spec.rate_per_sec = per_sec;
                pr.rate_since = now;
                pr.rate_sent = 0;
                if per_sec > 0 {
                    let first = pr.next_rate_record_time().expect("rate is positive");
                    let linger = pr.spec.linger_ms;
                    self.ensure_send_by(p, first.plus(linger));
                }
                Ok(())
            }),
            Command::SetKeys { producer, keys } => producer_of(self, &producer).and_then(|p| {
                keys.validate()?;
                self.emit(EventKind::Command { command: original.clone() });
                let topic = self.producers[p as usize].topic;
                let partitions = self.topics[topic as usize].spec.partitions;
                let salt = self.rng.random::<u64>();
                self.keyers.push(Keyer::new(keys.clone(), partitions, salt));
                let pr = &mut self.producers[p as usize];
                pr.keyer = (self.keyers.len() - 1) as u32;
                pr.spec.keys = keys;
                Ok(())
            }),
            Command::AddProducer { spec } => {
                self.add_producer(spec).map(|_| self.emit(EventKind::Command { command: original.clone() }))
            }
            Command::AddConsumer { spec } => {
                self.add_consumer(spec).map(|_| self.emit(EventKind::Command { command: original.clone() }))
            }
            Command::CrashConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                if self.consumers[c as usize].status != ConsumerStatus::Running {
                    return Err(format!("{consumer} is not running"));
                }
                self.emit(EventKind::Command { command: original.clone() });
                self.crash_consumer(c);
                Ok(())
            }),
            Command::StopConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                if self.consumers[c as usize].status != ConsumerStatus::Running {
                    return Err(format!("{consumer} is not running"));
                }
                self.emit(EventKind::Command { command: original.clone() });
                self.request_stop(c);
                Ok(())
            }),
            Command::StartConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                if self.consumers[c as usize].status == ConsumerStatus::Running {
                    return Err(format!("{consumer} is already running"));
                }
                self.emit(EventKind::Command { command: original.clone() });
                self.start_consumer(c);
                Ok(())
            }),
            Command::SetProcessingTime { consumer, ms } => consumer_of(self, &consumer).and_then(|c| {
                if ms > 600_000 {
                    return Err("processing time must be at most 10 minutes per record".into());
                }
                self.emit(EventKind::Command { command: original.clone() });
                self.consumers[c as usize].spec.processing_ms = ms;
                Ok(())
            }),
            Command::SetCommitMode { consumer, mode } => consumer_of(self, &consumer).map(|c| {
                self.emit(EventKind::Command { command: original.clone() });
                self.consumers[c as usize].spec.commit = mode;
            }),
        };
        if let Err(reason) = result {
            self.reject(original, reason);
        }
    }

    // ----- producers and the broker's log ----------------------------------------------------

    fn add_producer(&mut self, spec: ProducerSpec) -> Result<u32, String> {
        spec.validate()?;
        if self.producers.len() >= limits::MAX_CLIENTS {
            return Err("too many producers".into());
        }
        if self.producer_index(&spec.name).is_some() {
            return Err(format!("a producer named '{}' already exists", spec.name));
        }
        let topic = self.topic_index(&spec.topic).ok_or(format!("no topic named '{}'", spec.topic))?;
        let partitions = self.topics[topic as usize].spec.partitions;
        if spec.partition.is_some_and(|p| p >= partitions) {
            return Err(format!("topic '{}' has no partition {}", spec.topic, spec.partition.unwrap_or(0)));
        }
        let salt = self.rng.random::<u64>();
        self.keyers.push(Keyer::new(spec.keys.clone(), partitions, salt));
        let rate = spec.rate_per_sec;
        let index = self.producers.len() as u32;
        self.producers.push(Producer {
            topic,
            keyer: (self.keyers.len() - 1) as u32,
            next_seq: 0,
            pending: 0,
            rate_since: self.now,
            rate_sent: 0,
            next_send: None,
            sticky: None,
            sticky_bytes: 0,
            acked: 0,
            spec,
        });
        if rate > 0 {
            let pr = &self.producers[index as usize];
            let first = pr.next_rate_record_time().expect("rate is positive").plus(pr.spec.linger_ms);
            self.ensure_send_by(index, first);
        }
        Ok(index)
    }

    /// Makes sure the producer sends no later than `at` (like a batch whose linger runs out).
    fn ensure_send_by(&mut self, p: u32, at: SimTime) {
        let pr = &mut self.producers[p as usize];
        if pr.next_send.is_some_and(|t| t <= at) {
            return;
        }
        pr.next_send = Some(at);
        self.push(at, Action::ProducerSend { producer: p });
    }

    fn producer_send(&mut self, p: u32) {
        let now = self.now;
        let pr = &mut self.producers[p as usize];
        if pr.next_send != Some(now) {
            return; // superseded by an earlier send
        }
        pr.next_send = None;
        let from_rate = pr.rate_due(now);
        pr.rate_sent += from_rate;
        let n = pr.pending + from_rate;
        pr.pending = 0;
        let next_rate = pr.next_rate_record_time();
        let linger = pr.spec.linger_ms;
        if n > 0 {
            self.send_records(p, n);
        }
        if let Some(t) = next_rate {
            self.ensure_send_by(p, t.max(now.plus(1)).plus(linger));
        }
    }

    /// Partitions `n` new records like Kafka's producer and sends one produce request.
    fn send_records(&mut self, p: u32, n: u64) {
        let topic = self.producers[p as usize].topic;
        let partitions = self.topics[topic as usize].spec.partitions;
        let first_seq = self.producers[p as usize].next_seq;
        let last_seq = first_seq + n - 1;
        // Per partition: (first seq, last seq, count).
        let mut per_partition: BTreeMap<u32, (u64, u64, u64)> = BTreeMap::new();
        let mut add = |part: u32, seq: u64| {
            let e = per_partition.entry(part).or_insert((seq, seq, 0));
            e.1 = seq;
            e.2 += 1;
        };
        let pr = &self.producers[p as usize];
        if let Some(explicit) = pr.spec.partition {
            per_partition.insert(explicit, (first_seq, last_seq, n));
        } else if !matches!(pr.spec.keys, super::config::Keys::None) {
            let keyer = &self.keyers[pr.keyer as usize];
            for seq in first_seq..=last_seq {
                add(keyer.partition_of(seq).expect("keyed records have a partition"), seq);
            }
        } else {
            // Built-in uniform sticky partitioner: stay on one partition until about batch.size
            // bytes went to it, then move to another one.
            let record_bytes = pr.spec.record_bytes;
            let batch_size = pr.spec.batch_size;
            let mut seq = first_seq;
            while seq <= last_seq {
                let sticky = match self.producers[p as usize].sticky {
                    Some(s) => s,
                    None => {
                        let s = self.rng.random_range(0..partitions);
                        let pr = &mut self.producers[p as usize];
                        pr.sticky = Some(s);
                        pr.sticky_bytes = 0;
                        s
                    }
                };
                let pr = &mut self.producers[p as usize];
                let room = batch_size.saturating_sub(pr.sticky_bytes).div_ceil(record_bytes).max(1);
                let take = room.min(last_seq - seq + 1);
                let e = per_partition.entry(sticky).or_insert((seq, seq, 0));
                e.1 = seq + take - 1;
                e.2 += take;
                pr.sticky_bytes += take * record_bytes;
                if pr.sticky_bytes >= batch_size {
                    pr.sticky = None;
                }
                seq += take;
            }
        }
        let pr = &mut self.producers[p as usize];
        pr.next_seq = last_seq + 1;
        let batches: Vec<(u32, u64, u64, u32)> =
            per_partition.into_iter().map(|(part, (f, l, c))| (part, f, l, c as u32)).collect();
        let (producer, topic_name) = (pr.spec.name.clone(), self.topics[topic as usize].spec.name.clone());
        self.emit(EventKind::Sent { producer, topic: topic_name, first_seq, last_seq, records: n });
        let acks_zero = self.producers[p as usize].spec.acks == super::config::Acks::Zero;
        if acks_zero {
            self.producers[p as usize].acked += n;
        }
        self.after(self.latency(), Action::ProduceArrive { producer: p, batches, records: n });
    }

    fn produce_arrive(&mut self, p: u32, batches: Vec<(u32, u64, u64, u32)>, records: u64) {
        let now = self.now;
        let (topic, keyer, record_bytes) = {
            let pr = &self.producers[p as usize];
            (pr.topic, pr.keyer, pr.spec.record_bytes)
        };
        let producer_name = self.producers[p as usize].spec.name.clone();
        let topic_name = self.topics[topic as usize].spec.name.clone();
        for (part, first_seq, last_seq, count) in batches {
            let t = &mut self.topics[topic as usize];
            let cfg = t.log_config;
            let partition = &mut t.partitions[part as usize];
            let base_offset =
                partition.log.append(&cfg, now, p, keyer, first_seq, last_seq, count, u64::from(count) * record_bytes);
            partition.high_watermark = partition.log.log_end_offset();
            let waiters = std::mem::take(&mut partition.waiters);
            self.emit(EventKind::Appended {
                producer: producer_name.clone(),
                topic: topic_name.clone(),
                partition: part,
                base_offset,
                records: count,
                first_seq,
                last_seq,
            });
            for (c, inc, fetch_id) in waiters {
                if self.fetch_is_live(c, inc, fetch_id) && self.consumers[c as usize].parked {
                    self.consumers[c as usize].parked = false;
                    self.answer_fetch(c, inc, fetch_id);
                }
            }
        }
        if self.producers[p as usize].spec.acks != super::config::Acks::Zero {
            self.after(self.latency(), Action::ProduceAck { producer: p, records });
        }
    }

    fn retention_check(&mut self) {
        let now = self.now;
        for ti in 0..self.topics.len() {
            for pi in 0..self.topics[ti].partitions.len() {
                let cfg = self.topics[ti].log_config;
                let deleted = self.topics[ti].partitions[pi].log.apply_retention(&cfg, now);
                if deleted > 0 {
                    let log_start_offset = self.topics[ti].partitions[pi].log.log_start_offset();
                    let topic = self.topics[ti].spec.name.clone();
                    self.emit(EventKind::RetentionDeleted {
                        topic,
                        partition: pi as u32,
                        records: deleted,
                        log_start_offset,
                    });
                }
            }
        }
        let every = self.cluster.retention_check_interval_ms.max(1);
        self.after(every, Action::RetentionCheck);
    }

    // ----- consumers ----------------------------------------------------------------------

    fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<u32, String> {
        spec.validate()?;
        if self.consumers.len() >= limits::MAX_CLIENTS {
            return Err("too many consumers".into());
        }
        if self.consumer_index(&spec.name).is_some() {
            return Err(format!("a consumer named '{}' already exists", spec.name));
        }
        let mut topics = Vec::new();
        for name in &spec.topics {
            let t = self.topic_index(name).ok_or(format!("no topic named '{name}'"))?;
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
        topics.sort_by(|a, b| self.topics[*a as usize].spec.name.cmp(&self.topics[*b as usize].spec.name));
        let n = self.client_counters.entry(spec.group.clone()).or_insert(0);
        *n += 1;
        let client_id = format!("consumer-{}-{}", spec.group, n);
        let running = spec.running;
        let index = self.consumers.len() as u32;
        self.consumers.push(Consumer {
            topics,
            status: ConsumerStatus::Stopped,
            phase: Phase::Idle,
            inc: 0,
            assignment: Vec::new(),
            positions: BTreeMap::new(),
            in_flight: Vec::new(),
            processing_started: SimTime::ZERO,
            last_auto_commit: SimTime::ZERO,
            fetch_id: 0,
            parked: false,
            stopping: false,
            round_robin: 0,
            member_id: String::new(),
            client_id,
            spec,
        });
        if running {
            self.push(self.now, Action::LaunchConsumer { consumer: index });
        }
        Ok(index)
    }

    fn is_live(&self, c: u32, inc: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.status == ConsumerStatus::Running && con.inc == inc
    }

    fn fetch_is_live(&self, c: u32, inc: u32, fetch_id: u64) -> bool {
        self.is_live(c, inc) && self.consumers[c as usize].fetch_id == fetch_id
    }

    /// A member id like Kafka's: `{client.id}-{uuid}`, the uuid drawn from the run's RNG.
    fn new_member_id(&mut self, client_id: &str) -> String {
        // A version-4 UUID, as Java's UUID.randomUUID().
        let a: u128 = self.rng.random();
        let a = (a & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        let h = format!("{a:032x}");
        format!("{client_id}-{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }

    fn start_consumer(&mut self, c: u32) {
        let member_id = {
            let client_id = self.consumers[c as usize].client_id.clone();
            self.new_member_id(&client_id)
        };
        let con = &mut self.consumers[c as usize];
        con.inc += 1;
        con.status = ConsumerStatus::Running;
        con.stopping = false;
        con.parked = false;
        con.positions.clear();
        con.in_flight.clear();
        con.member_id = member_id;
        con.last_auto_commit = self.now;
        // Standalone assignment: every partition of every subscribed topic.
        let mut assignment = Vec::new();
        for &t in &con.topics {
            for p in 0..self.topics[t as usize].spec.partitions {
                assignment.push(Tp { topic: t, partition: p });
            }
        }
        con.assignment = assignment;
        con.phase = Phase::FetchingOffsets;
        let name = con.spec.name.clone();
        let inc = con.inc;
        self.emit(EventKind::Started { consumer: name });
        self.after(self.latency(), Action::OffsetFetchArrive { consumer: c, inc });
    }

    fn offset_fetch_arrive(&mut self, c: u32, inc: u32) {
        if !self.is_live(c, inc) {
            return;
        }
        let con = &self.consumers[c as usize];
        let offsets: Vec<(Tp, Option<u64>)> =
            con.assignment.iter().map(|tp| (*tp, self.committed(&con.spec.group, *tp))).collect();
        self.after(self.latency(), Action::OffsetFetchResponse { consumer: c, inc, offsets });
    }

    fn offset_fetch_response(&mut self, c: u32, inc: u32, offsets: Vec<(Tp, Option<u64>)>) {
        if !self.is_live(c, inc) {
            return;
        }
        for (tp, committed) in offsets {
            match committed {
                Some(offset) => self.set_position(c, tp, offset, "committed offset"),
                None => self.reset_position(c, tp, "no committed offset"),
            }
        }
        self.poll(c);
    }

    fn set_position(&mut self, c: u32, tp: Tp, offset: u64, reason: &str) {
        let con = &mut self.consumers[c as usize];
        con.positions.insert(tp, offset);
        let (group, consumer) = (con.spec.group.clone(), con.spec.name.clone());
        let (topic, partition) = self.tp_name(tp);
        self.deliveries.entry((group.clone(), tp)).or_default().first_position.get_or_insert(offset);
        self.emit(EventKind::PositionSet { consumer, group, topic, partition, offset, reason: reason.to_string() });
    }

    /// `auto.offset.reset`: earliest is the log-start offset, latest the log-end offset.
    fn reset_position(&mut self, c: u32, tp: Tp, why: &str) {
        let policy = self.consumers[c as usize].spec.auto_offset_reset;
        let log = &self.partition(tp).log;
        let (offset, name) = match policy {
            OffsetReset::Earliest => (log.log_start_offset(), "earliest"),
            OffsetReset::Latest => (log.log_end_offset(), "latest"),
        };
        self.set_position(c, tp, offset, &format!("{why}: auto.offset.reset={name}"));
    }

    /// The consumer's `poll()`: an auto-commit if one is due, then a fetch.
    fn poll(&mut self, c: u32) {
        let now = self.now;
        let con = &self.consumers[c as usize];
        if con.stopping {
            self.close(c);
            return;
        }
        if con.spec.commit == CommitMode::Auto && now.since(con.last_auto_commit) >= con.spec.auto_commit_interval_ms {
            self.consumers[c as usize].last_auto_commit = now;
            self.send_commit(c, false);
        }
        let con = &mut self.consumers[c as usize];
        con.phase = Phase::Fetching;
        con.fetch_id += 1;
        let (inc, fetch_id) = (con.inc, con.fetch_id);
        self.after(self.latency(), Action::FetchArrive { consumer: c, inc, fetch_id });
    }

    fn fetch_arrive(&mut self, c: u32, inc: u32, fetch_id: u64) {
        if !self.fetch_is_live(c, inc, fetch_id) {
            return;
        }
        // Positions outside the log are out of range: the consumer resets them.
        let assignment = self.consumers[c as usize].assignment.clone();
        for tp in &assignment {
            let Some(&pos) = self.consumers[c as usize].positions.get(tp) else { continue };
            let log = &self.partition(*tp).log;
            if pos < log.log_start_offset() || pos > log.log_end_offset() {
                self.reset_position(c, *tp, &format!("offset {pos} out of range"));
            }
        }
        if !self.answer_fetch(c, inc, fetch_id) {
            // Long poll: park until data arrives or fetch.max.wait.ms passes.
            self.consumers[c as usize].parked = true;
            for tp in assignment {
                self.topics[tp.topic as usize].partitions[tp.partition as usize].waiters.push((c, inc, fetch_id));
            }
            let wait = self.consumers[c as usize].spec.fetch_max_wait_ms;
            self.after(wait, Action::FetchTimeout { consumer: c, inc, fetch_id });
        }
    }

    /// Collects up to `max.poll.records` visible records; sends the response if there are any.
    fn answer_fetch(&mut self, c: u32, inc: u32, fetch_id: u64) -> bool {
        let con = &self.consumers[c as usize];
        let n = con.assignment.len();
        let mut remaining = u64::from(con.spec.max_poll_records);
        let mut ranges = Vec::new();
        for i in 0..n {
            if remaining == 0 {
                break;
            }
            let tp = con.assignment[(con.round_robin + i) % n];
            let Some(&pos) = con.positions.get(&tp) else { continue };
            let hw = self.partition(tp).high_watermark;
            if hw > pos {
                let take = (hw - pos).min(remaining);
                ranges.push((tp, pos, pos + take));
                remaining -= take;
            }
        }
        if ranges.is_empty() {
            return false;
        }
        let con = &mut self.consumers[c as usize];
        con.round_robin = (con.round_robin + 1) % n.max(1);
        self.after(self.latency(), Action::FetchResponse { consumer: c, inc, fetch_id, ranges });
        true
    }

    fn offset_ranges(&self, ranges: &[(Tp, u64, u64)]) -> Vec<OffsetRange> {
        ranges
            .iter()
            .map(|(tp, from, to)| {
                let (topic, partition) = self.tp_name(*tp);
                OffsetRange { topic, partition, from: *from, to: *to }
            })
            .collect()
    }

    fn fetch_response(&mut self, c: u32, inc: u32, fetch_id: u64, ranges: Vec<(Tp, u64, u64)>) {
        if !self.fetch_is_live(c, inc, fetch_id) {
            return;
        }
        if ranges.is_empty() {
            self.poll(c);
            return;
        }
        let con = &mut self.consumers[c as usize];
        for (tp, _, to) in &ranges {
            con.positions.insert(*tp, *to);
        }
        con.in_flight = ranges;
        let (consumer, group) = (con.spec.name.clone(), con.spec.group.clone());
        let offset_ranges = self.offset_ranges(&self.consumers[c as usize].in_flight);
        self.emit(EventKind::Fetched { consumer, group, ranges: offset_ranges });
        if self.consumers[c as usize].spec.commit == CommitMode::BeforeProcessing {
            self.consumers[c as usize].phase = Phase::CommittingBeforeProcessing;
            self.send_commit(c, true);
        } else {
            self.start_processing(c);
        }
    }

    fn start_processing(&mut self, c: u32) {
        let now = self.now;
        let con = &mut self.consumers[c as usize];
        con.phase = Phase::Processing;
        con.processing_started = now;
        let records: u64 = con.in_flight.iter().map(|(_, f, t)| t - f).sum();
        let per_record_ms = con.spec.processing_ms;
        if per_record_ms == 0 {
            self.processing_done(c);
            return;
        }
        let (consumer, group, inc) = (con.spec.name.clone(), con.spec.group.clone(), con.inc);
        self.emit(EventKind::Processing { consumer, group, records, per_record_ms });
        self.after(records * per_record_ms, Action::ProcessingDone { consumer: c, inc });
    }

    /// Credits the first `k` in-flight records as processed by the consumer's group.
    fn credit_processed(&mut self, c: u32, k: u64) {
        let mut left = k;
        let mut done = Vec::new();
        for &(tp, from, to) in &self.consumers[c as usize].in_flight {
            if left == 0 {
                break;
            }
            let take = (to - from).min(left);
            done.push((tp, from, from + take));
            left -= take;
        }
        if done.is_empty() {
            return;
        }
        let group = self.consumers[c as usize].spec.group.clone();
        for &(tp, from, to) in &done {
            self.deliveries.entry((group.clone(), tp)).or_default().counts.add(from, to);
        }
        let consumer = self.consumers[c as usize].spec.name.clone();
        let ranges = self.offset_ranges(&done);
        self.emit(EventKind::Processed { consumer, group, ranges });
    }

    fn processing_done(&mut self, c: u32) {
        let total: u64 = self.consumers[c as usize].in_flight.iter().map(|(_, f, t)| t - f).sum();
        self.credit_processed(c, total);
        self.consumers[c as usize].in_flight.clear();
        match self.consumers[c as usize].spec.commit {
            CommitMode::AfterProcessing => {
                self.consumers[c as usize].phase = Phase::CommittingAfterProcessing;
                self.send_commit(c, true);
            }
            CommitMode::Auto | CommitMode::BeforeProcessing => self.poll(c),
        }
    }

    /// Sends an OffsetCommit of the consumer's current positions. `sync` waits for the answer.
    fn send_commit(&mut self, c: u32, sync: bool) {
        let con = &self.consumers[c as usize];
        let offsets: Vec<(Tp, u64)> = con.positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        let (consumer, group, inc) = (con.spec.name.clone(), con.spec.group.clone(), con.inc);
        let shown = self.partition_offsets(&offsets);
        self.emit(EventKind::CommitSent { consumer, group, offsets: shown });
        self.after(self.latency(), Action::CommitArrive { consumer: c, inc, offsets, sync });
    }

    fn partition_offsets(&self, offsets: &[(Tp, u64)]) -> Vec<PartitionOffset> {
        offsets
            .iter()
            .map(|(tp, offset)| {
                let (topic, partition) = self.tp_name(*tp);
                PartitionOffset { topic, partition, offset: *offset }
            })
            .collect()
    }

    /// The coordinator stores the offsets. A request already on the wire lands even if the
    /// consumer died after sending it.
    fn commit_arrive(&mut self, c: u32, inc: u32, offsets: Vec<(Tp, u64)>, sync: bool) {
        let (consumer, group) = {
            let con = &self.consumers[c as usize];
            (con.spec.name.clone(), con.spec.group.clone())
        };
        for (tp, offset) in &offsets {
            self.committed.insert((group.clone(), *tp), *offset);
        }
        let shown = self.partition_offsets(&offsets);
        self.emit(EventKind::Committed { consumer, group, offsets: shown });
        self.after(self.latency(), Action::CommitResponse { consumer: c, inc, sync });
    }

    fn commit_done(&mut self, c: u32) {
        match self.consumers[c as usize].phase {
            Phase::CommittingBeforeProcessing => self.start_processing(c),
            Phase::CommittingAfterProcessing => self.poll(c),
            _ => {}
        }
    }

    fn crash_consumer(&mut self, c: u32) {
        let now = self.now;
        let con = &self.consumers[c as usize];
        let mut lost_in_flight = 0;
        if con.phase == Phase::Processing && !con.in_flight.is_empty() {
            let total: u64 = con.in_flight.iter().map(|(_, f, t)| t - f).sum();
            let per = con.spec.processing_ms;
            let done = now.since(con.processing_started).checked_div(per).map_or(0, |d| d.min(total));
            self.credit_processed(c, done);
            lost_in_flight = total - done;
        } else if con.phase == Phase::CommittingBeforeProcessing {
            lost_in_flight = con.in_flight.iter().map(|(_, f, t)| t - f).sum();
        }
        let con = &mut self.consumers[c as usize];
        con.status = ConsumerStatus::Crashed;
        con.inc += 1;
        con.phase = Phase::Idle;
        con.in_flight.clear();
        con.parked = false;
        let consumer = con.spec.name.clone();
        self.emit(EventKind::Crashed { consumer, lost_in_flight });
    }

    fn request_stop(&mut self, c: u32) {
        let con = &mut self.consumers[c as usize];
        con.stopping = true;
        // A consumer blocked in poll() is woken up and closes now; one busy processing or
        // committing finishes that first, as an application's poll loop would.
        if matches!(con.phase, Phase::Fetching | Phase::FetchingOffsets | Phase::Idle) {
            self.close(c);
        }
    }

    fn close(&mut self, c: u32) {
        if self.consumers[c as usize].spec.commit == CommitMode::Auto
            && !self.consumers[c as usize].positions.is_empty()
        {
            self.send_commit(c, false);
        }
        let con = &mut self.consumers[c as usize];
        con.status = ConsumerStatus::Stopped;
        con.inc += 1;
        con.phase = Phase::Idle;
        con.parked = false;
        con.stopping = false;
        let consumer = con.spec.name.clone();
        self.emit(EventKind::Stopped { consumer });
    }
}

impl Producer {
    /// Records created by the rate up to `now` and not yet sent.
    fn rate_due(&self, now: SimTime) -> u64 {
        let r = u64::from(self.spec.rate_per_sec);
        if r == 0 {
            return 0;
        }
        let created = (u128::from(now.since(self.rate_since)) * u128::from(r) / 1000) as u64;
        created.saturating_sub(self.rate_sent)
    }

    /// When the rate creates its next unsent record.
    fn next_rate_record_time(&self) -> Option<SimTime> {
        let r = u64::from(self.spec.rate_per_sec);
        if r == 0 {
            return None;
        }
        let n = u128::from(self.rate_sent + 1);
        let ms = (n * 1000).div_ceil(u128::from(r)) as u64;
        Some(self.rate_since.plus(ms))
    }
}
