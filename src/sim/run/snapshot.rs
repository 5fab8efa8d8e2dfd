//! A small, plain-data picture of the run at one instant: what the interface renders. Building it
//! is cheap (no per-record work), so the UI can take one per animation frame.

use serde::Serialize;

use crate::sim::config::{Acks, CommitMode, ConsumerSpec, GroupProtocol, Keys};
use crate::sim::consumer::{Consumer, ConsumerStatus, Phase};
use crate::sim::describe::group_view;
use crate::sim::describe::ViewState;
use crate::sim::engine::{Sim, Tp};
use crate::sim::ids::{GroupId, Name, TopicId};
use crate::sim::report::{group_report, GroupReport};
use crate::sim::time::format_duration;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub now_ms: u64,
    pub clock: String,
    pub events: u64,
    pub digest: String,
    pub brokers: Vec<BrokerSnap>,
    pub topics: Vec<TopicSnap>,
    pub producers: Vec<ProducerSnap>,
    pub consumers: Vec<ConsumerSnap>,
    pub groups: Vec<GroupSnap>,
}

/// A broker as the page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerStatus {
    Running,
    /// Crashed, not yet noticed by the controller.
    Down,
    /// Crashed, and the controller noticed (after `broker.session.timeout.ms`).
    Fenced,
    /// Stopped cleanly (a controlled shutdown).
    Stopped,
}

impl BrokerStatus {
    pub fn name(self) -> &'static str {
        match self {
            BrokerStatus::Running => "running",
            BrokerStatus::Down => "down",
            BrokerStatus::Fenced => "fenced",
            BrokerStatus::Stopped => "stopped",
        }
    }
}

/// What a consumer is doing, as its card says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// An eager rebalance: it gave everything up and waits for its new assignment.
    Rebalancing,
    Joining,
    WaitingForPartitions,
    Polling,
    Processing,
    Committing,
    Crashed,
    Stopped,
}

impl Activity {
    pub fn text(self) -> &'static str {
        match self {
            Activity::Rebalancing => "rebalancing: waiting for its assignment",
            Activity::Joining => "joining the group",
            Activity::WaitingForPartitions => "waiting for partitions",
            Activity::Polling => "polling",
            Activity::Processing => "processing",
            Activity::Committing => "committing",
            Activity::Crashed => "crashed: no heartbeats, no commits",
            Activity::Stopped => "stopped",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokerSnap {
    pub id: u32,
    pub status: BrokerStatus,
    /// Partitions it leads.
    pub leads: usize,
    /// Groups whose coordinator it is.
    pub coordinates: Vec<String>,
    /// Extra replication delay, ms.
    pub delay_ms: u64,
}

/// One replica of a partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaSnap {
    pub broker: u32,
    pub log_end_offset: u64,
    pub in_isr: bool,
    pub leader: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicSnap {
    pub name: Name,
    pub partitions: Vec<PartitionSnap>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionSnap {
    pub index: u32,
    pub log_start_offset: u64,
    pub log_end_offset: u64,
    pub high_watermark: u64,
    /// Committed offset per group that has one, by group name.
    pub committed: Vec<(String, u64)>,
    /// Replicas in assignment order (one for an unreplicated topic).
    pub replicas: Vec<ReplicaSnap>,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    /// Where each running consumer that owns it reads next: (consumer, offset).
    pub positions: Vec<(Name, u64)>,
    /// Acknowledged records lost to leader changes.
    pub lost_acked: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProducerSnap {
    pub name: Name,
    pub topic: Name,
    pub sent: u64,
    pub acked: u64,
    pub rate_per_sec: u32,
    pub keys: Keys,
    pub acks: Acks,
    pub idempotent: bool,
    /// What the producer is doing that a learner should know: closing to start again with new
    /// settings, blocked on a full buffer, retrying.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsumerSnap {
    pub name: Name,
    pub group: GroupId,
    pub status: ConsumerStatus,
    pub activity: Activity,
    /// `topic-partition` names it owns.
    pub assignment: Vec<String>,
    /// Position (next offset to read) per owned partition.
    pub positions: Vec<(String, u64)>,
    pub in_flight: u64,
    /// Of those, the ones not processed yet (the batch in hand is processed record by record).
    pub batch_left: u64,
    /// Records it has processed that its group has not committed yet: what a crash now would
    /// have the partitions' next owner process again.
    pub uncommitted: u64,
    /// Its generation in the group (-1 when not a member).
    pub generation: i32,
    /// Time left before the coordinator gives up on its member without a heartbeat; shown for
    /// a crashed consumer too, counting down until the group notices.
    pub session_left_ms: Option<u64>,
    /// Its settings (with any change waiting for the next start already applied).
    pub settings: ConsumerSpec,
    /// A changed setting waits for the next start.
    pub settings_pending: bool,
    /// Partitions it gained and gave up in the last 5 simulated seconds.
    pub newly_assigned: Vec<String>,
    pub revoked: Vec<String>,
    /// What it is doing that a learner should know: finishing its batch before it stops, moves or
    /// starts again; holding partitions it lost (a zombie), and whether it knows yet.
    pub note: Option<String>,
}

impl GroupSnap {
    /// Part of its lag is in partitions with no committed offset yet.
    pub fn lag_uncommitted(&self) -> bool {
        self.waiting_uncommitted > 0
    }

    /// Its lag as a learner should read it: Kafka's (committed offsets to the high watermark),
    /// and where nothing is committed yet, "-" as Kafka's tools print, with what waits there.
    pub fn lag_text(&self) -> String {
        let kafka = self.lag - self.waiting_uncommitted;
        let waiting = crate::sim::text::count(self.waiting_uncommitted, "record");
        match (kafka, self.waiting_uncommitted) {
            (k, 0) => format!("lag {k}"),
            (0, _) => format!("lag - ({waiting} waiting, no offset committed yet)"),
            (k, _) => format!("lag {k}, and {waiting} waiting where no offset is committed yet"),
        }
    }
}

impl ConsumerSnap {
    /// What it is doing, with how much of a batch is left while it processes one.
    pub fn activity_line(&self) -> String {
        match self.activity {
            Activity::Processing if self.batch_left > 0 => {
                format!("processing: {} left in this batch", crate::sim::text::count(self.batch_left, "record"))
            }
            other => other.text().to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupSnap {
    pub name: String,
    pub state: ViewState,
    /// The protocol its members speak.
    pub protocol: GroupProtocol,
    /// The generation (classic protocol) or group epoch (consumer protocol).
    pub generation: i32,
    /// In a consumer-protocol group, the consumers that still speak the classic protocol
    /// (Kafka 4's online migration keeps them in it).
    pub classic_members: Vec<Name>,
    /// Under the consumer protocol: the members not yet at the target, and what each must still
    /// give up or wait for.
    pub reconciling: Vec<String>,
    pub strategy: Option<String>,
    pub members: usize,
    pub processed: u64,
    pub duplicates: u64,
    pub lost: u64,
    /// Records waiting for the group: Kafka's lag (high watermark − committed offset) over the
    /// partitions with a committed offset, plus what is unread in the partitions its consumers
    /// subscribe to that have none yet (Kafka's tools print "-" there; a 0 would read healthy).
    pub lag: u64,
    /// The part of `lag` in partitions with no committed offset yet.
    pub waiting_uncommitted: u64,
    /// Topics a member subscribes to that nobody in the group is assigned (see
    /// [`GroupCoordinator::unserved_topics`](crate::sim::kafka::coordinator::GroupCoordinator::unserved_topics)).
    pub unserved: Vec<String>,
    /// Partitions of a consumer-protocol group that wait for its next epoch to change hands
    /// (see [`ConsumerGroup::waiting_for_next_epoch`](crate::sim::kafka::consumer_group::ConsumerGroup::waiting_for_next_epoch)).
    pub waiting_epoch: Vec<String>,
    /// Who reads which partition, as the picture draws it: an edge per partition and consumer.
    pub edges: Vec<EdgeSnap>,
}

/// A partition tied to a consumer of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EdgeSnap {
    pub topic: Name,
    pub partition: u32,
    pub consumer: Name,
    pub tie: Tie,
}

/// How a partition is tied to a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tie {
    /// It reads the partition: the coordinator gave it to this consumer.
    Reads,
    /// The coordinator still counts the partition as this consumer's member's, but that
    /// process is gone (crashed, closed, or started again under a new member id) and the
    /// coordinator does not know yet: nobody reads the partition until the session runs out.
    Unnoticed,
    /// It still holds the partition though the coordinator has taken it away (a zombie): what it
    /// commits is rejected.
    Lost,
}

/// The edges of `group`: each running consumer's partitions, and the partitions the
/// coordinator still gives to members whose process is gone. In the group's order of
/// consumers, then partitions.
fn edges(sim: &Sim, group: &str) -> Vec<EdgeSnap> {
    let coordinator = sim.groups().classic(group);
    let edge = |tp: Tp, c: &Consumer, tie| {
        let (topic, partition) = sim.tp_name(tp);
        EdgeSnap { topic, partition, consumer: c.spec.name.clone(), tie }
    };
    let mut out = Vec::new();
    for c in sim.consumers().iter().filter(|c| !c.removed && c.spec.group == group) {
        if let Some(p) = c.process() {
            let tie = if p.zombie || !sim.knows_member(c) { Tie::Lost } else { Tie::Reads };
            out.extend(p.assignment.iter().map(|tp| edge(*tp, c, tie)));
        }
    }
    for m in coordinator.map_or(&[][..], |g| &g.members[..]) {
        let c = &sim.consumers()[m.consumer.ix()];
        let alive = runs_as(c, &m.member_id);
        if !alive && !c.removed {
            out.extend(m.assignment.iter().map(|tp| edge(*tp, c, Tie::Unnoticed)));
        }
    }
    // A consumer-protocol member's partitions (given, or still to be given up) stay its own
    // until its session runs out.
    for m in sim.groups().consumer(group).map_or(&[][..], |g| &g.members[..]) {
        let c = &sim.consumers()[m.consumer.ix()];
        let alive = runs_as(c, &m.member_id);
        if !alive && !c.removed {
            let a = &m.assignment;
            for p in [&a.assigned, &a.pending_revocation] {
                let tps = crate::sim::kafka::consumer_group::tps_of(p, |t| sim.topic_index(t));
                out.extend(tps.into_iter().map(|tp| edge(tp, c, Tie::Unnoticed)));
            }
        }
    }
    out
}

/// Whether consumer `c`'s running process is the member `member_id` (not gone: crashed, closed,
/// or started again under a new member id).
fn runs_as(c: &Consumer, member_id: &str) -> bool {
    c.status == ConsumerStatus::Running && c.member_id() == member_id
}

/// Under the consumer protocol, what each member still has to do to reach the target: give
/// partitions up (its epoch waits until it has), or wait for partitions another member has not
/// let go of yet.
fn reconciling(sim: &Sim, group: &str) -> Vec<String> {
    use crate::sim::kafka::consumer_group::partition_names;
    use crate::sim::kafka::reconcile::MemberState;
    let Some(g) = sim.groups().consumer(group) else { return Vec::new() };
    let mut out = Vec::new();
    for m in &g.members {
        let a = &m.assignment;
        let c = &sim.consumers()[m.consumer.ix()];
        let alive = runs_as(c, &m.member_id);
        // A classic member moves by joining again: its heartbeat tells it when.
        let (name, rejoin) = match m.classic {
            Some(_) => (format!("{} (classic protocol)", c.spec.name), " by joining again"),
            None => (c.spec.name.to_string(), ""),
        };
        if !alive && !a.is_reconciled_to(g.target_epoch) {
            // Its process is gone; the coordinator does not know until its session runs out.
            out.push(format!(
                "{name} is gone: the coordinator keeps its place and partitions until its session runs out"
            ));
            continue;
        }
        let line = match a.state {
            MemberState::UnrevokedPartitions => format!(
                "{name} gives up {}{rejoin} (epoch {} until it has; target {})",
                partition_names(&a.pending_revocation).join(", "),
                a.member_epoch,
                g.target_epoch
            ),
            MemberState::UnreleasedPartitions => {
                let given = partition_names(&a.assigned);
                let waiting: Vec<String> = g
                    .target
                    .get(m.member_id.as_str())
                    .map(|t| partition_names(t).into_iter().filter(|p| !given.contains(p)).collect())
                    .unwrap_or_default();
                format!(
                    "{name} waits for {} (epoch {}){}",
                    waiting.join(", "),
                    a.member_epoch,
                    match m.classic {
                        Some(_) => "; it joins again once they are free",
                        None => "",
                    }
                )
            }
            MemberState::Stable if a.member_epoch >= 0 && a.member_epoch < g.target_epoch => {
                format!("{name} is at epoch {}; the target is {}{rejoin}", a.member_epoch, g.target_epoch)
            }
            MemberState::Stable if a.member_epoch < 0 => format!("{name} left for a while (static member)"),
            MemberState::Stable => continue,
        };
        out.push(line);
    }
    out
}

/// A group's lag as [`GroupSnap::lag`] counts it, without building a whole snapshot (the plots
/// sample it every simulated second).
pub fn group_lag(sim: &Sim, group: &str) -> u64 {
    group_report(sim, group).lag + waiting_uncommitted(sim, group)
}

/// Records in all logs: their log-end offsets summed.
pub fn appended(sim: &Sim) -> u64 {
    sim.topics().iter().flat_map(|t| &t.partitions).map(|p| p.log().log_end_offset()).sum()
}

/// Records not yet processed by `group` in the partitions its consumers subscribe to that have
/// no committed offset: from where it started reading (or the log start) to the high watermark.
fn waiting_uncommitted(sim: &Sim, group: &str) -> u64 {
    let mut topics: Vec<TopicId> = sim
        .consumers()
        .iter()
        .filter(|c| !c.removed && c.spec.group == group)
        .flat_map(|c| c.topics.iter().copied())
        .collect();
    topics.sort_unstable();
    topics.dedup();
    let mut waiting = 0;
    for topic in topics {
        for partition in 0..sim.topics()[topic.ix()].spec.partitions {
            let tp = Tp { topic, partition };
            if sim.committed(group, tp).is_some() {
                continue;
            }
            let p = sim.partition(tp);
            waiting += match sim.delivery(group, tp) {
                Some(_) => {
                    let r = crate::sim::report::group_partition_counts(sim, group, tp);
                    r.in_scope.saturating_sub(r.processed)
                }
                None => p.high_watermark.saturating_sub(p.log().log_start_offset()),
            };
        }
    }
    waiting
}

/// Records `c` processed that its group has not committed: what it fetched past the committed
/// offsets of the partitions it owns, less what of the batch in hand is not done yet.
fn uncommitted(sim: &Sim, c: &Consumer) -> u64 {
    // Committing what it processed: the commit is on its way.
    let Some(p) = c.process().filter(|p| p.phase != Phase::CommittingAfterProcessing) else { return 0 };
    let group = &c.spec.group;
    let fetched: u64 = p
        .assignment
        .iter()
        .filter_map(|tp| {
            let position = *p.positions.get(tp)?;
            let base = sim.committed(group, *tp).or_else(|| sim.delivery(group, *tp).and_then(|d| d.first_position));
            Some(position.saturating_sub(base.unwrap_or(position)))
        })
        .sum();
    let not_done = c.in_flight_records().saturating_sub(c.processed_in_hand(sim.now()));
    fetched.saturating_sub(not_done)
}

fn tp_label(sim: &Sim, tp: Tp) -> String {
    let (t, p) = sim.tp_name(tp);
    format!("{t}-{p}")
}

fn producer_note(p: &crate::sim::producer::Producer) -> Option<String> {
    let unacked = p.unacknowledged();
    let waiting = p.waiting();
    if let Some((acks, idempotence)) = p.restarting {
        let settings = match acks {
            Acks::All => format!("acks=all and enable.idempotence={idempotence}"),
            other => format!("acks={} (no idempotence without acks=all)", other.name()),
        };
        let mut note = format!("closing, to start again with {settings}: {unacked} record(s) still to be acknowledged");
        if waiting > 0 {
            note.push_str(&format!(", {waiting} waiting to be sent"));
        }
        return Some(note);
    }
    if p.blocked_since.is_some() && waiting > 0 {
        return Some(format!("send() blocked: buffer.memory is full, {waiting} record(s) waiting"));
    }
    p.retrying().then(|| format!("retrying: {unacked} record(s) not acknowledged yet"))
}

fn consumer_note(sim: &Sim, c: &Consumer) -> Option<String> {
    let Some(p) = c.process() else {
        return c.failure.as_ref().map(|e| format!("stopped by an error: {e}"));
    };
    let held = || p.assignment.iter().map(|tp| tp_label(sim, *tp)).collect::<Vec<_>>().join(", ");
    if p.zombie && !p.assignment.is_empty() {
        return Some(format!("still processing {}, which it lost: its commit will be rejected", held()));
    }
    let given_up: Vec<Tp> = p.in_flight.iter().map(|r| r.0).filter(|tp| !p.assignment.contains(tp)).collect();
    if p.phase == Phase::Processing && !given_up.is_empty() {
        let mut labels: Vec<String> = given_up.iter().map(|tp| tp_label(sim, *tp)).collect();
        labels.dedup();
        let then = if c.spec.commit == CommitMode::BeforeProcessing {
            "they were committed before processing, so the next owner starts after them"
        } else {
            "they will not be committed, and the next owner reads them again"
        };
        return Some(format!(
            "still processing a batch with records of {}, which it gave up: {then}",
            labels.join(", ")
        ));
    }
    if !p.member_id.is_empty() && !sim.knows_member(c) && !p.assignment.is_empty() {
        return Some(format!(
            "the coordinator has removed it, and it does not know yet: {} may have new owners",
            held()
        ));
    }
    if p.stopping {
        return Some(match (&c.moving_to, c.restart) {
            (Some(g), true) if *g != c.spec.group => format!("moving to {g} once the batch in hand is done"),
            (_, true) => "starting again once the batch in hand is done".to_string(),
            (_, false) => "stopping once the batch in hand is done".to_string(),
        });
    }
    None
}

/// How long a change of assignment stays highlighted.
const CHANGE_SHOWN_MS: u64 = 5_000;

fn recent_change(sim: &Sim, c: &Consumer) -> Option<(Vec<String>, Vec<String>)> {
    let (t, added, revoked) = c.last_change.as_ref()?;
    // Only what still holds: a consumer that crashed since owns nothing it "gained".
    (sim.now().since(*t) <= CHANGE_SHOWN_MS).then(|| {
        let label = |tp: &Tp| tp_label(sim, *tp);
        (
            added.iter().filter(|tp| c.assignment().contains(tp)).map(label).collect(),
            revoked.iter().filter(|tp| !c.assignment().contains(tp)).map(label).collect(),
        )
    })
}

impl Snapshot {
    /// The `group.protocol` a consumer added to `group` starts with: its group's protocol, or
    /// else the one every consumer of the run is configured with (a run made on the consumer
    /// protocol stays on it), else classic — so adding a consumer never mixes protocols unasked.
    pub fn protocol_for_new_consumer(&self, group: &str) -> GroupProtocol {
        if let Some(g) = self.groups.iter().find(|g| g.name == group && g.state.name() != "Empty") {
            return g.protocol;
        }
        let mut all = self.consumers.iter().map(|c| c.settings.group_protocol);
        match all.next() {
            Some(first) if all.all(|p| p == first) => first,
            _ => GroupProtocol::Classic,
        }
    }

    pub fn of(sim: &Sim) -> Snapshot {
        let groups = sim.group_names();
        let topics = sim
            .topics()
            .iter()
            .enumerate()
            .map(|(ti, t)| TopicSnap {
                name: t.spec.name.clone(),
                partitions: t
                    .partitions
                    .iter()
                    .enumerate()
                    .map(|(pi, p)| {
                        let tp = Tp { topic: TopicId(ti as u32), partition: pi as u32 };
                        PartitionSnap {
                            index: pi as u32,
                            log_start_offset: p.log().log_start_offset(),
                            log_end_offset: p.log().log_end_offset(),
                            high_watermark: p.high_watermark,
                            committed: groups
                                .iter()
                                .filter_map(|g| sim.committed(g, tp).map(|o| (g.clone(), o)))
                                .collect(),
                            replicas: p
                                .replicas
                                .iter()
                                .map(|r| ReplicaSnap {
                                    broker: r.broker.0,
                                    log_end_offset: r.log.log_end_offset(),
                                    in_isr: p.isr.contains(&r.broker),
                                    leader: p.leader_broker() == Some(r.broker),
                                })
                                .collect(),
                            leader: p.leader_broker().map(|b| b.0),
                            leader_epoch: p.leader_epoch,
                            positions: sim
                                .consumers()
                                .iter()
                                .filter_map(|c| Some((c.spec.name.clone(), *c.process()?.positions.get(&tp)?)))
                                .collect(),
                            lost_acked: p.lost_acked,
                        }
                    })
                    .collect(),
            })
            .collect();
        let brokers = sim
            .brokers()
            .iter()
            .map(|b| BrokerSnap {
                id: b.id.0,
                status: if b.alive {
                    BrokerStatus::Running
                } else if b.stopped {
                    BrokerStatus::Stopped
                } else if b.fenced {
                    BrokerStatus::Fenced
                } else {
                    BrokerStatus::Down
                },
                leads: sim
                    .topics()
                    .iter()
                    .flat_map(|t| &t.partitions)
                    .filter(|p| p.leader_broker() == Some(b.id))
                    .count(),
                coordinates: groups.iter().filter(|g| sim.coordinator_of(g) == Some(b.id)).cloned().collect(),
                delay_ms: b.delay_ms,
            })
            .collect();
        let producers = sim
            .producers()
            .iter()
            .filter(|p| !p.removed)
            .map(|p| ProducerSnap {
                name: p.spec.name.clone(),
                topic: sim.topics()[p.topic.ix()].spec.name.clone(),
                sent: p.next_seq,
                acked: p.acked,
                rate_per_sec: p.spec.rate_per_sec,
                keys: p.spec.keys.clone(),
                // What the application asked for (a new instance may still be on its way: the
                // note says so).
                acks: p.restarting.map_or(p.spec.acks, |r| r.0),
                idempotent: p.restarting.map_or(p.spec.enable_idempotence, |r| r.1),
                note: producer_note(p),
            })
            .collect();
        let consumers = sim
            .consumers()
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.removed)
            .map(|(ci, c)| ConsumerSnap {
                name: c.spec.name.clone(),
                group: c.spec.group.clone(),
                status: c.status,
                activity: match (c.status, c.process().map(|p| p.phase)) {
                    (ConsumerStatus::Crashed, _) => Activity::Crashed,
                    (ConsumerStatus::Stopped, _) | (ConsumerStatus::Running, None) => Activity::Stopped,
                    (ConsumerStatus::Running, Some(Phase::Joining)) => Activity::Rebalancing,
                    (ConsumerStatus::Running, Some(Phase::Idle))
                        if c.member_id().is_empty() || (c.is_modern() && c.generation() <= 0) =>
                    {
                        Activity::Joining
                    }
                    (ConsumerStatus::Running, Some(Phase::Idle)) => Activity::WaitingForPartitions,
                    (ConsumerStatus::Running, Some(Phase::Fetching)) => Activity::Polling,
                    (ConsumerStatus::Running, Some(Phase::Processing)) => Activity::Processing,
                    (
                        ConsumerStatus::Running,
                        Some(Phase::CommittingBeforeProcessing | Phase::CommittingAfterProcessing),
                    ) => Activity::Committing,
                },
                assignment: c.assignment().iter().map(|tp| tp_label(sim, *tp)).collect(),
                positions: c
                    .process()
                    .map(|p| p.positions.iter().map(|(tp, o)| (tp_label(sim, *tp), *o)).collect())
                    .unwrap_or_default(),
                in_flight: c.in_flight_records(),
                batch_left: c.in_flight_records().saturating_sub(c.processed_in_hand(sim.now())),
                uncommitted: uncommitted(sim, c),
                generation: c.generation(),
                settings: c.pending_spec.clone().map_or_else(
                    || c.spec.clone(),
                    |p| ConsumerSpec { commit: c.spec.commit, processing_ms: c.spec.processing_ms, ..p },
                ),
                settings_pending: c.pending_spec.is_some(),
                newly_assigned: recent_change(sim, c).map(|(a, _)| a).unwrap_or_default(),
                revoked: recent_change(sim, c).map(|(_, r)| r).unwrap_or_default(),
                session_left_ms: match sim.groups().consumer(c.spec.group.as_str()) {
                    Some(g) => g
                        .members
                        .iter()
                        .find(|m| m.consumer.0 == ci as u32)
                        .map(|m| m.session_deadline().since(sim.now())),
                    None => sim.groups().classic(c.spec.group.as_str()).and_then(|g| {
                        g.members
                            .iter()
                            .find(|m| m.consumer.0 == ci as u32)
                            .map(|m| m.session_deadline().since(sim.now()))
                    }),
                },
                note: consumer_note(sim, c),
            })
            .collect();
        let groups = groups
            .iter()
            .map(|g| {
                let view = group_view(sim, g);
                let r: GroupReport = group_report(sim, g);
                let waiting = waiting_uncommitted(sim, g);
                GroupSnap {
                    name: g.clone(),
                    state: view.state,
                    protocol: if sim.groups().is_consumer(g.as_str()) {
                        GroupProtocol::Consumer
                    } else {
                        GroupProtocol::Classic
                    },
                    reconciling: reconciling(sim, g),
                    classic_members: sim.groups().consumer(g.as_str()).map_or_else(Vec::new, |x| {
                        x.members.iter().filter(|m| m.classic.is_some()).map(|m| m.name.clone()).collect()
                    }),
                    generation: match sim.groups().consumer(g) {
                        Some(x) => x.group_epoch,
                        None => sim.groups().classic(g).map_or(0, |x| x.generation),
                    },
                    strategy: view.strategy.clone(),
                    members: view.members.len(),
                    processed: r.processed,
                    duplicates: r.duplicates,
                    lost: r.lost,
                    lag: r.lag + waiting,
                    waiting_uncommitted: waiting,
                    unserved: sim.groups().classic(g).map(|x| x.unserved_topics()).unwrap_or_default(),
                    waiting_epoch: sim.groups().consumer(g).map_or_else(Vec::new, |x| {
                        let mut w = x.waiting_for_next_epoch();
                        crate::sim::sort::natural(&mut w);
                        w.dedup();
                        w.into_iter().map(|(t, p)| format!("{t}-{p}")).collect()
                    }),
                    edges: edges(sim, g),
                }
            })
            .collect();
        Snapshot {
            now_ms: sim.now().ms(),
            clock: format_duration(sim.now().ms()),
            events: sim.event_count(),
            digest: sim.digest(),
            brokers,
            topics,
            producers,
            consumers,
            groups,
        }
    }
}
