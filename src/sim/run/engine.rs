//! The simulation: the whole model's state, an event queue in simulated time, and the dispatch
//! of each queued message to the actor it is for (see [`actors`] for how actors are run,
//! [`network`], [`brokers`], [`producers`] and [`commands`] for the rest). Everything here is
//! synchronous and deterministic: the same scenario, seed and commands give the same events, in
//! the same order, with the same digest.

mod actors;
mod brokers;
mod commands;
mod network;
mod producers;

use crate::sim::vecmap::VecMap;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::sim::cluster::ClusterTimer;
use crate::sim::command::Command;
use crate::sim::config::ClusterSpec;
use crate::sim::consumer::{self, Consumer, ConsumerStatus};
use crate::sim::coordinator::{self, Client, Timer, OFFSETS_PARTITIONS};
use crate::sim::event::{Event, EventKind, Trace};
use crate::sim::ids::{BrokerId, ConsumerId, GroupId, Name, ProducerId, TopicId};
use crate::sim::kafka::consumer_group::{self as cg};
use crate::sim::kafka::controller::Controller;
use crate::sim::kafka::groups::{Group, Groups};
use crate::sim::kafka::offsets::GroupOffsets;
use crate::sim::keys::Keyer;
use crate::sim::log::LogConfig;
use crate::sim::producer::{self, AckFinding, AckRecord, Producer, SentBatch};
use crate::sim::replication::{self, ReplicaMsg};
use crate::sim::scenario::Scenario;
use crate::sim::sort;
use crate::sim::time::SimTime;

pub use crate::sim::cluster::{Broker, Partition, Replica, Topic};
pub use crate::sim::deliveries::DeliveryTrack;
pub use crate::sim::ids::Tp;

use crate::sim::conn::{Conn, ToCoordinator};
use crate::sim::deliveries::PerGroup;

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

/// Empty buffers for what an actor does with one message (see [`actors`]): taken
/// for a message and given back once its effects are carried out, so a message costs no
/// allocation for them. A clone of an empty buffer allocates nothing.
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    pub(crate) coordinator: Vec<coordinator::Effect>,
    pub(crate) group: Vec<cg::Effect>,
    pub(crate) consumer: Vec<consumer::Effect>,
    pub(crate) partition: Vec<replication::Effect>,
    pub(crate) producer: Vec<crate::sim::producer::Effect>,
}

/// Something the event queue delivers at its time, typed by where it goes.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// A user's command. Boxed: a command carries whole specs, and every queued action would be
    /// as large.
    User(Box<Command>),
    /// A consumer process that runs from the start of the run (or from when it was added).
    Launch(ConsumerId),
    /// For a producer application: its send timer, a retry, its leaders' answers.
    ToProducer { producer: ProducerId, msg: producer::Msg },
    /// A produce request reaches the brokers it was sent to: each batch's partition leader when
    /// it was sent (`None`: it had none).
    ToLeaders { producer: ProducerId, batches: Vec<(SentBatch, Option<Conn>)> },
    /// A message between a partition's leader and its replica `replica`.
    ToReplica { tp: Tp, replica: usize, msg: ReplicaMsg },
    /// A request for the coordinator of `group` reaches the broker it was sent to (see
    /// [`network`]).
    ToCoordinator { group: GroupId, from: Client, request: ToCoordinator, to: Conn },
    /// A consumer's FindCoordinator reaches a broker.
    FindCoordinator { consumer: ConsumerId, inc: u32 },
    /// A group coordinator's timer.
    CoordinatorTimer { group: GroupId, timer: Timer },
    /// A consumer-protocol coordinator's timer.
    GroupCoordinatorTimer { group: GroupId, timer: cg::Timer },
    /// A message for a consumer process (incarnation `inc`): a coordinator's answer, its
    /// fetch's progress, its own timers.
    ToConsumer { consumer: ConsumerId, inc: u32, msg: consumer::Msg },
    /// The cluster's own timers.
    Cluster(ClusterTimer),
}

#[derive(Clone, Debug)]
struct Scheduled {
    at: SimTime,
    /// The insertion sequence number, with its top bit set for user commands: user commands run
    /// after the model's own actions due at the same instant (then in insertion order). A
    /// command applied live at `t` runs once playback has handled everything up to `t`; the same
    /// command replayed from a link is queued long before — this keeps the two identical.
    rank: u64,
    /// Where the action waits in [`Sim::actions`]: the heap moves small keys, not actions.
    slot: u32,
}

impl Scheduled {
    const USER: u64 = 1 << 63;

    fn key(&self) -> (SimTime, u64) {
        (self.at, self.rank)
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed so the `BinaryHeap` pops the earliest (time, model before user, insertion) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
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
    /// The queued actions by slot, and the free slots.
    actions: Vec<Option<Action>>,
    free_slots: Vec<u32>,
    next_seq: u64,
    cluster: ClusterSpec,
    topics: Vec<Topic>,
    /// The brokers' registrations and where the group coordinators live.
    controller: Controller,
    /// Buffers the actors record their effects in, reused from message to message.
    scratch: Scratch,
    producers: Vec<Producer>,
    consumers: Vec<Consumer>,
    keyers: Vec<Keyer>,
    /// The next producer id the cluster hands out (`InitProducerId`).
    next_producer_id: u32,
    /// Every acknowledgement producers received, when kept (see [`Sim::keep_ack_ledger`]).
    ack_ledger: Option<Vec<AckRecord>>,
    /// Acknowledgements whose records the log did not hold where the leader said.
    ack_findings: Vec<AckFinding>,
    /// Every group the coordinators keep, on the protocol it is on (committed offsets
    /// included): the registry ([`crate::sim::kafka::groups`]).
    groups: Groups,
    /// A version-2 link's rules: no group mixing both protocols (see
    /// [`Scenario::refuse_mixed_groups`]).
    refuse_mixed_groups: bool,
    /// Partition counts by topic name (what a consumer-protocol coordinator assigns).
    topic_partitions: VecMap<String, u32>,
    /// Topic names by index, for messages that name topics.
    topic_names: Vec<Name>,
    deliveries: PerGroup<DeliveryTrack>,
    client_counters: VecMap<String, u32>,
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
            actions: Vec::new(),
            free_slots: Vec::new(),
            next_seq: 0,
            cluster: scenario.cluster.clone(),
            topics: Vec::new(),
            controller: Controller::new(scenario.cluster.brokers, Vec::new(), controller_config(&scenario.cluster)),
            scratch: Scratch::default(),
            producers: Vec::new(),
            consumers: Vec::new(),
            keyers: Vec::new(),
            next_producer_id: 0,
            ack_ledger: None,
            ack_findings: Vec::new(),
            groups: Groups::default(),
            refuse_mixed_groups: scenario.refuse_mixed_groups,
            topic_partitions: scenario.topics.iter().map(|t| (t.name.to_string(), t.partitions)).collect(),
            topic_names: scenario.topics.iter().map(|t| t.name.clone()).collect(),
            deliveries: PerGroup::default(),
            client_counters: VecMap::new(),
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
                partitions: Vec::new(),
                spec: spec.clone(),
            });
            let assignment = sim.assign_replicas(spec.partitions, spec.replication_factor);
            let topic = sim.topics.last_mut().expect("just pushed");
            topic.partitions = assignment.iter().map(|brokers| Partition::new(brokers)).collect();
        }
        let offsets_replicas = sim.assign_replicas(OFFSETS_PARTITIONS, 3.min(sim.cluster.brokers));
        sim.controller = Controller::new(sim.cluster.brokers, offsets_replicas, controller_config(&sim.cluster));
        for spec in &scenario.producers {
            sim.add_producer(spec.clone()).map_err(SimError::InvalidScenario)?;
        }
        for spec in &scenario.consumers {
            sim.add_consumer(spec.clone()).map_err(SimError::InvalidScenario)?;
        }
        if sim.topics.iter().any(|t| t.log_config.retention_ms.is_some() || t.log_config.retention_bytes.is_some()) {
            let every = sim.cluster.retention_check_interval_ms.max(1);
            sim.push(SimTime(every), Action::Cluster(ClusterTimer::RetentionCheck));
        }
        if sim.topics.iter().any(|t| t.spec.replication_factor > 1) {
            let every = (sim.cluster.replica_lag_time_max_ms / 2).max(1);
            sim.push(SimTime(every), Action::Cluster(ClusterTimer::IsrCheck));
            sim.start_followers();
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

    /// Keep every acknowledgement producers receive (for checking a run's logs against what its
    /// producers were told: [`Sim::ack_ledger`]).
    pub fn keep_ack_ledger(&mut self, keep: bool) {
        self.ack_ledger = keep.then(Vec::new);
    }

    /// The acknowledgements producers received, if kept.
    pub fn ack_ledger(&self) -> Option<&[AckRecord]> {
        self.ack_ledger.as_deref()
    }

    /// Acknowledgements whose records the leader's log did not hold where the leader said.
    pub fn ack_findings(&self) -> &[AckFinding] {
        &self.ack_findings
    }

    /// Queues a command at simulated time `at` (now, if `at` is in the past).
    pub fn schedule(&mut self, at: SimTime, command: Command) {
        let at = at.max(self.now);
        self.push(at, Action::User(Box::new(command)));
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
        let action = self.actions[next.slot as usize].take().expect("a queued slot holds its action");
        self.free_slots.push(next.slot);
        self.handle(action);
        true
    }

    /// Runs every action up to and including time `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) {
        while self.queue.peek().is_some_and(|s| s.at <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Hex XXH3-128 over the canonical lines of every event so far.
    pub fn digest(&self) -> String {
        self.trace.digest()
    }

    pub fn event_count(&self) -> u64 {
        self.trace.count()
    }

    pub fn drain_events(&mut self) -> Vec<Event> {
        self.trace.drain()
    }

    pub fn topic_index(&self, name: &str) -> Option<TopicId> {
        self.topics.iter().position(|t| t.spec.name == name).map(|i| TopicId(i as u32))
    }

    pub fn producer_index(&self, name: &str) -> Option<ProducerId> {
        self.producers.iter().position(|p| p.spec.name == name).map(|i| ProducerId(i as u32))
    }

    pub fn consumer_index(&self, name: &str) -> Option<ConsumerId> {
        self.consumers.iter().position(|c| c.spec.name == name).map(|i| ConsumerId(i as u32))
    }

    /// The cluster's settings.
    pub fn cluster(&self) -> &ClusterSpec {
        &self.cluster
    }

    /// Every topic, by index.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// Every producer application, by [`ProducerId`] (removed ones included).
    pub fn producers(&self) -> &[Producer] {
        &self.producers
    }

    /// Every consumer application, by [`ConsumerId`] (removed ones included).
    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }

    /// Whether the run follows a version-2 link's rules (no group mixes protocols).
    pub fn refuses_mixed_groups(&self) -> bool {
        self.refuse_mixed_groups
    }

    /// Every group the coordinators keep.
    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    pub fn broker(&self, id: BrokerId) -> &Broker {
        self.controller.broker(id)
    }

    /// Every broker (id `b` at index `b - 1`).
    pub fn brokers(&self) -> &[Broker] {
        self.controller.brokers()
    }

    pub fn partition(&self, tp: Tp) -> &Partition {
        &self.topics[tp.topic.ix()].partitions[tp.partition as usize]
    }

    pub fn keyer(&self, index: u32) -> &Keyer {
        &self.keyers[index as usize]
    }

    /// The group's committed offset for a partition, if it has one.
    pub fn committed(&self, group: &str, tp: Tp) -> Option<u64> {
        self.group_offsets(group)?.get(tp)
    }

    /// The group's offsets, whichever protocol it is on.
    pub fn group_offsets(&self, group: &str) -> Option<&GroupOffsets> {
        self.groups.get(group).map(Group::offsets)
    }

    /// Every committed offset, by (group, partition), in order.
    pub fn committed_offsets(&self) -> impl Iterator<Item = (&str, Tp, u64)> {
        self.groups.iter().flat_map(|(g, group)| group.offsets().iter().map(move |(tp, o)| (g, tp, o)))
    }

    /// What each group did with each partition.
    pub fn deliveries(&self) -> impl Iterator<Item = (&str, Tp, &DeliveryTrack)> {
        self.deliveries.iter()
    }

    /// Whether the coordinator of `c`'s group has `c`'s member id among its active members (a
    /// consumer it removed, one not joined yet, or a static member that left for a while under
    /// the consumer protocol, is not known).
    pub fn knows_member(&self, c: &Consumer) -> bool {
        let group = c.spec.group.as_str();
        // Under the consumer protocol a static member that left for a while (epoch -2) keeps its
        // place for a process to come, but this one is out.
        self.groups.get(group).is_some_and(|g| g.knows(c.member_id()))
    }

    pub fn delivery(&self, group: &str, tp: Tp) -> Option<&DeliveryTrack> {
        self.deliveries.get(group, tp)
    }

    /// Names of all groups, sorted.
    pub fn group_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.consumers.iter().map(|c| c.spec.group.to_string()).collect();
        names.extend(self.groups.names().cloned());
        sort::natural(&mut names);
        names.dedup();
        names
    }

    pub fn tp_name(&self, tp: Tp) -> (Name, u32) {
        (self.topics[tp.topic.ix()].spec.name.clone(), tp.partition)
    }

    // ----- plumbing -----------------------------------------------------------------------

    pub(crate) fn push(&mut self, at: SimTime, action: Action) {
        debug_assert!(at >= self.now, "scheduled in the past: {at:?} < {:?}: {action:?}", self.now);
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        let user = matches!(action, Action::User(_));
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.actions[slot as usize] = Some(action);
                slot
            }
            None => {
                self.actions.push(Some(action));
                (self.actions.len() - 1) as u32
            }
        };
        debug_assert!(seq < Scheduled::USER, "2^63 actions");
        let rank = if user { seq | Scheduled::USER } else { seq };
        self.queue.push(Scheduled { at, rank, slot });
    }

    pub(crate) fn after(&mut self, ms: u64, action: Action) {
        self.push(self.now.plus(ms), action);
    }

    pub(crate) fn latency(&self) -> u64 {
        self.cluster.latency_ms
    }

    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.trace.record(Event { t: self.now.ms(), kind });
    }

    fn handle(&mut self, action: Action) {
        // A coordinator's own timers do not run while it is down (a coordinator that takes the
        // group over starts its clocks again).
        if let Action::CoordinatorTimer { group, .. } | Action::GroupCoordinatorTimer { group, .. } = &action {
            if !self.coordinator_available(group) {
                return;
            }
        }
        match action {
            Action::User(cmd) => self.handle_command(*cmd),
            Action::Launch(consumer) => {
                if self.consumers[consumer.ix()].status != ConsumerStatus::Running {
                    self.consumer_do(consumer, |con, ctx, out| con.start(ctx, out));
                }
            }
            Action::ToProducer { producer, msg } => self.producer_msg(producer, msg),
            Action::ToLeaders { producer, batches } => self.produce_arrive(producer, batches),
            Action::ToReplica { tp, replica, msg } => {
                self.partition_do(tp, |part, ctx, out| part.on_replica_msg(ctx, replica, msg, out))
            }
            Action::ToCoordinator { group, from, request, to } => self.arrive_at_coordinator(&group, from, request, to),
            Action::FindCoordinator { consumer, inc } => self.find_coordinator(consumer, inc),
            Action::CoordinatorTimer { group, timer } => self.coordinator_timer(&group, timer),
            Action::GroupCoordinatorTimer { group, timer } => self.group_coordinator_timer(&group, timer),
            Action::ToConsumer { consumer, inc, msg } => {
                if self.consumers[consumer.ix()].is_live(inc) {
                    self.consumer_do(consumer, |con, ctx, out| con.on_message(ctx, msg, out));
                }
            }
            Action::Cluster(ClusterTimer::BrokerFenced { broker, inc }) => self.broker_fenced(broker, inc),
            Action::Cluster(ClusterTimer::IsrCheck) => self.isr_check(),
            Action::Cluster(ClusterTimer::RetentionCheck) => self.retention_check(),
            Action::Cluster(ClusterTimer::LeaderBalance) => self.leader_balance(),
        }
    }
}

/// The controller's settings, from the cluster's.
fn controller_config(cluster: &ClusterSpec) -> crate::sim::kafka::controller::Config {
    crate::sim::kafka::controller::Config {
        session_timeout_ms: cluster.broker_session_timeout_ms,
        auto_leader_rebalance: cluster.auto_leader_rebalance,
        balance_interval_ms: cluster.leader_imbalance_check_interval_ms,
    }
}
