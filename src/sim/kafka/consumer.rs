//! The consumer client as a state machine: one consumer process — its poll loop (fetch,
//! process, commit) and its group membership (JoinGroup, SyncGroup, heartbeats from a background
//! thread, the poll timer, eager or cooperative rebalancing) — and what a crash, a clean close
//! or a `max.poll.interval.ms` overrun does. It takes one message at a time (an answer from its
//! group coordinator, a fetch's progress, one of its timers, a user's command) and records what
//! it does (requests, timers, events, records it processed) in an [`Out`] the engine applies in
//! the order recorded. What it reads of the cluster (partitions' logs and high watermarks, topic
//! names) comes through a read-only [`View`].
//!
//! Serving a fetch is done here too, against the view: the broker answers from the positions the
//! request carries, which are the consumer's own while the fetch is current.

use crate::sim::vecmap::{VecMap, VecSet};

use rand_chacha::ChaCha8Rng;

use crate::sim::assign::{self, AssignInput};
use crate::sim::cluster::View;
use crate::sim::config::{CommitMode, ConsumerSpec, GroupProtocol, OffsetReset, Strategy};
use crate::sim::coordinator::{
    Client, CommitPurpose, GroupError, JoinRequest, JoinResponse, MemberRef, Reply, Request,
};
use crate::sim::event::{EventKind, OffsetRange, PartitionOffset};
use crate::sim::ids::{BrokerId, ConsumerId, GroupId, MemberId, Name, TopicId, Tp};
use crate::sim::sort;
use crate::sim::text::quoted;
use crate::sim::time::SimTime;

mod lookup;
mod modern;
pub use crate::sim::conn::{Failure, Sent};
pub use modern::Modern;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsumerStatus {
    Running,
    Crashed,
    Stopped,
}

impl ConsumerStatus {
    pub fn name(self) -> &'static str {
        match self {
            ConsumerStatus::Running => "running",
            ConsumerStatus::Crashed => "crashed",
            ConsumerStatus::Stopped => "stopped",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting inside poll() for partitions or their offsets.
    Idle,
    /// Eager rebalance: everything revoked, waiting for the new assignment.
    Joining,
    Fetching,
    CommittingBeforeProcessing,
    Processing,
    CommittingAfterProcessing,
}

#[derive(Clone, Debug)]
pub struct Consumer {
    pub spec: ConsumerSpec,
    pub topics: Vec<TopicId>,
    pub status: ConsumerStatus,
    /// Incarnation: bumped on crash, stop and start, so actions of a dead process are dropped.
    pub(crate) inc: u32,
    /// What the running process keeps in memory. A new process starts with a fresh one; a
    /// crash, a close or a fatal error drops it (the value is replaced whole), so nothing of a
    /// dead process lingers. Readers get it only while it runs ([`Consumer::process`]).
    process: Process,
    /// Fetches are numbered across incarnations (a fetch answer names its fetch).
    pub(crate) fetch_id: u64,
    /// Where the next fetch answer starts in the partition list. Kept across incarnations: the
    /// runs recorded before the process was its own value replay with it.
    pub(crate) round_robin: usize,
    /// Why it stopped, if a fatal group error stopped it (until it starts again).
    pub failure: Option<String>,
    /// `client.id` as Kafka's consumer makes it: `consumer-{group}-{n}`.
    pub client_id: String,
    /// Configuration changed while running: it takes effect at the next start.
    pub pending_spec: Option<ConsumerSpec>,
    /// Moving to this group: it finishes the batch in hand, commits it for its group, leaves,
    /// and takes this `group.id`...
    pub moving_to: Option<GroupId>,
    /// ...and it starts again once it has closed (a move, or a start while it stops).
    pub restart: bool,
    /// When its assignment last changed, with what it gained and what it gave up (for display).
    pub last_change: Option<(SimTime, Vec<Tp>, Vec<Tp>)>,
    /// Taken away by the user: closed, hidden, not started again.
    pub removed: bool,
}

/// One consumer process's memory: its poll loop, its membership, its coordinator connection.
#[derive(Clone, Debug)]
pub struct Process {
    pub phase: Phase,
    /// The partitions it owns now...
    pub assignment: Vec<Tp>,
    /// ...and the generation that gave them to it: the coordinator hands each partition to at
    /// most one member per generation.
    pub assignment_generation: i32,
    /// It learned it is out of the group while its application was away from poll(): it still
    /// holds (and may be processing) partitions that may have new owners, and its commit will
    /// be rejected. At its next poll() it gives them up as lost and rejoins.
    pub zombie: bool,
    /// A fatal group error it learned while away from poll(): it fails at its next poll().
    pub(crate) fatal: Option<String>,
    /// The offset of the next record `poll()` returns, per owned partition with a known offset.
    pub positions: VecMap<Tp, u64>,
    /// Records handed to the application and not yet processed, in processing order.
    pub in_flight: Vec<(Tp, u64, u64)>,
    pub processing_started: SimTime,
    /// What each record of the batch in hand takes (`processing_ms` when the batch began: a
    /// change applies from the next batch).
    pub(crate) batch_ms_per_record: u64,
    pub(crate) last_auto_commit: SimTime,
    /// When the application last called poll() (for `max.poll.interval.ms`).
    pub last_poll: SimTime,
    pub parked: bool,
    pub stopping: bool,
    /// Its member id in the group ("" when not a member).
    pub member_id: MemberId,
    /// The generation (classic) or member epoch (consumer protocol) it belongs to (-1 when none).
    pub generation: i32,
    /// A JoinGroup or SyncGroup (classic), or a joining heartbeat (consumer protocol), is in
    /// flight.
    pub joining: bool,
    /// It must join again (classic) or send a full heartbeat (consumer protocol).
    pub(crate) rejoin_needed: bool,
    /// An assignment it was given and has not taken yet.
    pub(crate) pending_assignment: Option<Vec<Tp>>,
    /// What only one protocol's member keeps.
    pub membership: Membership,
    pub(crate) awaiting_offsets: VecSet<Tp>,
    /// A request to its coordinator failed: it sends nothing to it until it finds it again
    /// (see [`lookup`]).
    pub(crate) coordinator_unknown: bool,
    /// Looking for the coordinator: the backoff before the next FindCoordinator.
    pub(crate) lookup_backoff: Option<u64>,
    /// A commit to send once the coordinator is found, with the offsets it was asked for (a
    /// synchronous one that failed, or any asked for while it was unknown).
    pub(crate) pending_commit: Option<(CommitPurpose, Vec<(Tp, u64)>)>,
    /// The offsets of the last synchronous commit sent (sent again if it fails on the way).
    pub(crate) sync_commit: Vec<(Tp, u64)>,
}

/// What a member keeps under its group protocol.
#[derive(Clone, Debug)]
pub enum Membership {
    /// The classic protocol (`group.protocol=classic`): JoinGroup, SyncGroup, heartbeats.
    Classic(Classic),
    /// The consumer protocol (`group.protocol=consumer`, KIP-848): one heartbeat carries it all.
    Consumer(Modern),
}

/// A classic member's own state.
#[derive(Clone, Debug)]
pub struct Classic {
    /// The generation whose SyncGroup answer it awaits (Kafka's `COMPLETING_REBALANCE`: its
    /// heartbeats go on meanwhile).
    pub(crate) syncing: Option<i32>,
    /// Where `onJoinPrepare` stands before the next JoinGroup.
    pub(crate) join_prep: JoinPrep,
    pub(crate) heartbeating: bool,
    /// What it owned last, and in which generation (the sticky assignors' user data).
    pub(crate) last_assignment: Vec<Tp>,
    pub(crate) last_generation: i32,
}

impl Classic {
    fn new() -> Classic {
        Classic {
            syncing: None,
            join_prep: JoinPrep::Idle,
            heartbeating: false,
            last_assignment: Vec::new(),
            last_generation: -1,
        }
    }
}

impl Process {
    /// A new process's memory, for a member of `protocol`.
    fn new(protocol: GroupProtocol, now: SimTime) -> Process {
        Process {
            phase: Phase::Idle,
            assignment: Vec::new(),
            assignment_generation: -1,
            zombie: false,
            fatal: None,
            positions: VecMap::default(),
            in_flight: Vec::new(),
            processing_started: now,
            batch_ms_per_record: 0,
            last_auto_commit: now,
            last_poll: now,
            parked: false,
            stopping: false,
            member_id: MemberId::default(),
            generation: -1,
            joining: false,
            rejoin_needed: false,
            pending_assignment: None,
            membership: match protocol {
                GroupProtocol::Classic => Membership::Classic(Classic::new()),
                GroupProtocol::Consumer => Membership::Consumer(Modern::default()),
            },
            awaiting_offsets: VecSet::new(),
            coordinator_unknown: false,
            lookup_backoff: None,
            pending_commit: None,
            sync_commit: Vec::new(),
        }
    }

    /// The classic member's own state (none under the consumer protocol).
    pub fn classic(&self) -> Option<&Classic> {
        match &self.membership {
            Membership::Classic(c) => Some(c),
            Membership::Consumer(_) => None,
        }
    }

    fn classic_mut(&mut self) -> Option<&mut Classic> {
        match &mut self.membership {
            Membership::Classic(c) => Some(c),
            Membership::Consumer(_) => None,
        }
    }

    /// The generation whose SyncGroup answer a classic member awaits.
    fn syncing(&self) -> Option<i32> {
        self.classic().and_then(|c| c.syncing)
    }

    fn join_prep(&self) -> JoinPrep {
        self.classic().map_or(JoinPrep::Idle, |c| c.join_prep)
    }

    fn set_join_prep(&mut self, prep: JoinPrep) {
        if let Some(c) = self.classic_mut() {
            c.join_prep = prep;
        }
    }

    /// The consumer-protocol member's own state, for the consumer protocol's code paths. A
    /// process keeps its protocol for life and only a consumer-protocol process takes those
    /// paths; should a classic one ever get there, it starts consumer-protocol state rather than
    /// stop the run (debug builds, the tests and the sweep, stop on it).
    fn modern_mut(&mut self) -> &mut Modern {
        if !matches!(self.membership, Membership::Consumer(_)) {
            debug_assert!(false, "a classic process on a consumer-protocol path");
            self.membership = Membership::Consumer(Modern::default());
        }
        match &mut self.membership {
            Membership::Consumer(m) => m,
            Membership::Classic(_) => unreachable!("made a consumer-protocol membership just above"),
        }
    }

    /// The consumer-protocol member's own state (none under the classic protocol).
    pub fn modern(&self) -> Option<&Modern> {
        match &self.membership {
            Membership::Consumer(m) => Some(m),
            Membership::Classic(_) => None,
        }
    }

    /// The application is away from poll(): processing, or committing around processing.
    pub fn outside_poll(&self) -> bool {
        matches!(self.phase, Phase::Processing | Phase::CommittingAfterProcessing | Phase::CommittingBeforeProcessing)
    }

    pub fn in_flight_records(&self) -> u64 {
        self.in_flight.iter().map(|(_, f, t)| t - f).sum()
    }
}

/// `onJoinPrepare`: before each JoinGroup, a consumer with auto-commit commits what it consumed
/// and waits for the answer (an eager one fetches nothing meanwhile); then it revokes and joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinPrep {
    /// Nothing under way.
    Idle,
    /// Its auto-commit is out: the JoinGroup waits for the answer.
    Committing,
    /// The answer came: it joins at its next poll.
    Ready,
}

/// Messages a consumer process receives: its coordinator's answers, its fetch's progress, its
/// timers.
#[derive(Clone, Debug)]
pub enum Msg {
    /// An answer from its group's coordinator.
    Reply(Reply),
    /// An answer from its group's coordinator under the consumer protocol.
    GroupReply(crate::sim::kafka::consumer_group::Reply),
    /// Its fetch reaches the partitions' leaders.
    FetchArrive { fetch_id: u64 },
    /// `fetch.max.wait.ms` passed for a parked fetch.
    FetchTimeout { fetch_id: u64 },
    /// The fetch was parked at a leader whose process died: it failed on disconnect.
    FetchFailed { fetch_id: u64, broker: BrokerId },
    /// The fetch's answer: runs of records to hand to the application.
    FetchResponse { fetch_id: u64, ranges: Vec<Run> },
    /// The application finished processing what poll() returned.
    ProcessingDone,
    /// The heartbeat thread's turn.
    HeartbeatTick,
    /// The heartbeat thread wakes when the poll timer (`max.poll.interval.ms`) runs out.
    PollTimerCheck,
    /// A request to its coordinator failed (see [`lookup`]).
    Failed { request: Sent, broker: Option<BrokerId>, why: Failure },
    /// The answer to FindCoordinator: the coordinator's broker, or none available yet.
    Coordinator { broker: Option<BrokerId> },
    /// Time to ask for the coordinator again.
    LookUpCoordinator,
    /// Time to send a commit again (one a consumer-protocol reconciliation began with).
    RetryCommit,
    /// Time to ask again for committed offsets (a consumer-protocol OffsetFetch at a stale epoch).
    RetryOffsetFetch,
}

/// A run of records a fetch answer holds: offsets `from..to` of `tp`, after which the position
/// is `next` — past `to`, and past markers (and, under `read_committed`, aborted batches) that
/// follow it; a run with no records (`from == to`) only moves the position past such offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub tp: Tp,
    pub from: u64,
    pub to: u64,
    pub next: u64,
}

/// One thing the consumer did, for the engine to carry out.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Send `request` to the coordinator of `group` (over the network).
    ToCoordinator {
        group: GroupId,
        from: Client,
        /// Boxed: the largest message, and every effect and queued action would be as large.
        request: Box<Request>,
    },
    /// Send `request` to the consumer-protocol coordinator of `group`.
    ToGroupCoordinator {
        group: GroupId,
        from: Client,
        request: Box<crate::sim::kafka::consumer_group::Request>,
    },
    /// Deliver `msg` to this process (incarnation `inc`) `delay` ms from now.
    After {
        delay: u64,
        inc: u32,
        msg: Msg,
    },
    /// Deliver `msg` to this process (incarnation `inc`) at `at`.
    At {
        at: SimTime,
        inc: u32,
        msg: Msg,
    },
    /// Ask a broker which broker coordinates its group (FindCoordinator).
    FindCoordinator {
        inc: u32,
    },
    /// Park fetch `fetch_id` at a partition until it has news for it.
    Park {
        tp: Tp,
        inc: u32,
        fetch_id: u64,
    },
    Event(EventKind),
    /// The application processed offsets `[from, to)` of `tp` for `group`.
    Processed {
        group: GroupId,
        tp: Tp,
        from: u64,
        to: u64,
    },
    /// The group started reading `tp` at `offset` (if it had not started before).
    Positioned {
        group: GroupId,
        tp: Tp,
        offset: u64,
    },
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

impl From<EventKind> for Effect {
    fn from(e: EventKind) -> Self {
        Effect::Event(e)
    }
}

/// What a handler may read or use besides the consumer's own state.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub id: ConsumerId,
    /// One-way network latency, ms.
    pub latency: u64,
    pub view: View<'a>,
    /// `client.id` numbers handed out per group (`consumer-{group}-{n}`).
    pub client_ids: &'a mut VecMap<String, u32>,
    /// The run's random numbers (a consumer-protocol member makes its own member id).
    pub rng: &'a mut ChaCha8Rng,
}

impl Ctx<'_> {
    /// `client.id` as Kafka's consumer makes it: `consumer-{group}-{n}`.
    pub fn next_client_id(&mut self, group: &str) -> String {
        next_client_id(self.client_ids, group)
    }
}

/// `client.id` as Kafka's consumer makes it: `consumer-{group}-{n}`.
pub fn next_client_id(counters: &mut VecMap<String, u32>, group: &str) -> String {
    let n = counters.entry(group.to_string()).or_insert(0);
    *n += 1;
    format!("consumer-{group}-{n}")
}

/// Why a consumer cannot join a group whose members speak the other protocol, under the rules
/// of a version-2 link.
fn mixed_text(group: &str, theirs: &str) -> String {
    format!(
        "the members of group {} use {theirs}: this run replays a link made before ksim modelled a group mixing both protocols, and keeps its rules (Kafka 4 converts such a group online, group.consumer.migration.policy=bidirectional, as runs made now do); give every consumer of the group the same group.protocol",
        quoted(group)
    )
}

/// What a fenced static member's error says.
fn fenced_text(con: &Consumer) -> String {
    format!(
        "FENCED_INSTANCE_ID: another consumer joined with its group.instance.id {}",
        quoted(con.spec.group_instance_id.as_deref().unwrap_or_default())
    )
}

impl Consumer {
    pub(crate) fn new(spec: ConsumerSpec, topics: Vec<TopicId>, client_id: String) -> Consumer {
        let process = Process::new(spec.group_protocol, SimTime::ZERO);
        Consumer {
            spec,
            topics,
            status: ConsumerStatus::Stopped,
            inc: 0,
            process,
            fetch_id: 0,
            round_robin: 0,
            failure: None,
            client_id,
            pending_spec: None,
            moving_to: None,
            restart: false,
            last_change: None,
            removed: false,
        }
    }

    /// The running process's memory; `None` unless it runs.
    pub fn process(&self) -> Option<&Process> {
        (self.status == ConsumerStatus::Running).then_some(&self.process)
    }

    /// What it owns now (nothing unless it runs).
    pub fn assignment(&self) -> &[Tp] {
        self.process().map_or(&[], |p| &p.assignment)
    }

    /// Its member id ("" unless it runs as a member).
    pub fn member_id(&self) -> &str {
        self.process().map_or("", |p| &p.member_id)
    }

    /// Its generation or member epoch (-1 unless it runs as a member).
    pub fn generation(&self) -> i32 {
        self.process().map_or(-1, |p| p.generation)
    }

    /// A process starts, or ends (a crash, a close or a fatal error): what the last one kept in
    /// memory goes, and the next begins with nothing.
    fn fresh_process(&mut self, now: SimTime) {
        self.process = Process::new(self.spec.group_protocol, now);
    }

    /// The application is away from poll(): processing, or committing around processing.
    pub fn outside_poll(&self) -> bool {
        self.process.outside_poll()
    }

    pub fn in_flight_records(&self) -> u64 {
        self.process.in_flight_records()
    }

    /// Whether a message for incarnation `inc` is for this running process.
    pub fn is_live(&self, inc: u32) -> bool {
        self.status == ConsumerStatus::Running && self.inc == inc
    }

    // ----- sending ----------------------------------------------------------------------------

    /// Who this process is, to a coordinator.
    fn client(&self, ctx: &Ctx) -> Client {
        Client { consumer: ctx.id, inc: self.inc, name: self.spec.name.clone() }
    }

    fn member_ref(&self) -> MemberRef {
        MemberRef {
            member_id: self.process.member_id.clone(),
            instance_id: self.spec.group_instance_id.clone(),
            generation: self.process.generation,
        }
    }

    fn send(&self, ctx: &Ctx, request: Request, out: &mut Out) {
        let from = self.client(ctx);
        out.effects.push(Effect::ToCoordinator { group: self.spec.group.clone(), from, request: Box::new(request) });
    }

    fn after(&self, delay: u64, msg: Msg, out: &mut Out) {
        out.effects.push(Effect::After { delay, inc: self.inc, msg });
    }

    fn names(&self) -> (Name, GroupId) {
        (self.spec.name.clone(), self.spec.group.clone())
    }

    // ----- messages ---------------------------------------------------------------------------

    /// A message for this process (the engine delivers only those for its live incarnation).
    pub fn on_message(&mut self, ctx: &mut Ctx, msg: Msg, out: &mut Out) {
        match msg {
            Msg::Reply(Reply::Join(response)) => self.on_join_response(ctx, response, out),
            Msg::Reply(Reply::Sync { generation, result }) => self.on_sync_response(ctx, generation, result, out),
            Msg::Reply(Reply::Heartbeat { generation, result }) => {
                self.on_heartbeat_response(ctx, generation, result, out)
            }
            Msg::Reply(Reply::OffsetCommit { purpose }) => self.on_commit_answer(ctx, purpose, false, out),
            Msg::Reply(Reply::OffsetFetch { offsets }) => self.on_offsets(ctx, offsets, out),
            Msg::GroupReply(reply) => {
                use crate::sim::kafka::consumer_group::Reply as R;
                match reply {
                    R::Heartbeat(result) => self.on_cg_heartbeat(ctx, result, out),
                    R::OffsetCommit { purpose, result } => {
                        let stale = result == Err(crate::sim::kafka::consumer_group::GroupError::StaleMemberEpoch);
                        self.on_commit_answer(ctx, purpose, stale, out)
                    }
                    R::OffsetFetch { result: Ok(offsets) } => self.on_offsets(ctx, offsets, out),
                    R::OffsetFetch { result: Err((partitions, error)) } => {
                        self.cg_offset_fetch_failed(ctx, partitions, error, out)
                    }
                }
            }
            Msg::FetchArrive { fetch_id } => self.on_fetch_arrive(ctx, fetch_id, out),
            Msg::FetchTimeout { fetch_id } => self.on_fetch_timeout(fetch_id, ctx, out),
            Msg::FetchFailed { fetch_id, broker } => self.on_fetch_failed(ctx, fetch_id, broker, out),
            Msg::FetchResponse { fetch_id, ranges } => self.on_fetch_response(ctx, fetch_id, ranges, out),
            Msg::ProcessingDone => self.processing_done(ctx, out),
            Msg::HeartbeatTick => match self.process.membership {
                Membership::Consumer(_) => self.cg_tick(ctx, out),
                Membership::Classic(_) => self.on_heartbeat_tick(ctx, out),
            },
            Msg::PollTimerCheck => {
                if self.poll_timer_expired(ctx.now) {
                    self.poll_timeout(ctx, out);
                }
            }
            Msg::Failed { request, broker, why } => self.on_request_failed(request, broker, why, out),
            Msg::RetryCommit => self.cg_retry_commit(ctx, out),
            Msg::RetryOffsetFetch => self.cg_retry_offset_fetch(ctx, out),
            Msg::Coordinator { broker } => self.on_find_coordinator(ctx, broker, out),
            Msg::LookUpCoordinator => self.look_up_coordinator(out),
        }
    }

    // ----- life cycle -------------------------------------------------------------------------

    pub fn start(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if let Some(spec) = self.pending_spec.take() {
            // Keep what can change at run time; take the new constructor-time settings.
            self.spec = ConsumerSpec {
                group: self.spec.group.clone(),
                commit: self.spec.commit,
                processing_ms: self.spec.processing_ms,
                priority: self.spec.priority,
                ..spec
            };
        }
        self.inc += 1;
        self.status = ConsumerStatus::Running;
        self.failure = None;
        self.fresh_process(ctx.now);
        out.event(EventKind::Started { consumer: self.spec.name.clone() });
        if self.is_modern() {
            self.cg_join(ctx, out);
        } else {
            self.send_join(ctx, out);
        }
    }

    pub fn crash(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let mut lost_in_flight = 0;
        if self.process.phase == Phase::Processing && !self.process.in_flight.is_empty() {
            let done = self.processed_in_hand(ctx.now);
            self.credit_processed(ctx, done, out);
            lost_in_flight = self.in_flight_records() - done;
        } else if self.process.phase == Phase::CommittingBeforeProcessing {
            lost_in_flight = self.in_flight_records();
        }
        self.status = ConsumerStatus::Crashed;
        self.inc += 1;
        self.fresh_process(ctx.now);
        out.event(EventKind::Crashed { consumer: self.spec.name.clone(), lost_in_flight });
        // A move or restart it was finishing does not happen now; a new group.id is used when it
        // starts.
        self.restart = false;
        if let Some(group) = self.moving_to.take() {
            self.set_group(ctx, &group);
        }
    }

    pub fn request_stop(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.process.stopping = true;
        // A consumer blocked in poll() is woken up and closes now; one busy processing or
        // committing finishes that first, as an application's poll loop would.
        if matches!(self.process.phase, Phase::Fetching | Phase::Idle | Phase::Joining) {
            self.close(ctx, out);
        }
    }

    /// The user's Stop: it closes once the batch in hand is done, and stays stopped (even if it
    /// was closing to start again).
    pub fn stop(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.restart = false;
        self.request_stop(ctx, out);
    }

    /// The user's Start: it starts now, or — still closing, finishing its batch — once closed.
    pub fn start_again(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.status == ConsumerStatus::Running {
            self.restart = true;
        } else {
            self.start(ctx, out);
        }
    }

    /// Taken away by the user: it closes (finishing its batch), goes nowhere after, and is
    /// hidden.
    pub fn remove(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.moving_to = None;
        self.restart = false;
        if self.status == ConsumerStatus::Running {
            self.request_stop(ctx, out);
        }
        self.removed = true;
    }

    /// How long the application takes per record, from its next batch.
    pub fn set_processing_ms(&mut self, ms: u64) {
        self.spec.processing_ms = ms;
    }

    /// Whether the application reads its first topic before the others (pausing them).
    pub fn set_priority(&mut self, enabled: bool) {
        self.spec.priority = enabled;
    }

    /// When the application commits.
    pub fn set_commit_mode(&mut self, mode: CommitMode) {
        self.spec.commit = mode;
    }

    /// Settings for its next start.
    pub fn configure(&mut self, spec: ConsumerSpec) {
        self.pending_spec = Some(spec);
    }

    /// `consumer.close()`: commit if auto-commit is on, leave the group (dynamic members only).
    /// A consumer that is moving takes its new `group.id`; one moving or asked to start again
    /// starts.
    pub fn close(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.spec.commit == CommitMode::Auto && !self.process.positions.is_empty() {
            self.send_commit(ctx, CommitPurpose::Async, out);
        }
        self.leave_group(ctx, "consumer closed", out);
        self.status = ConsumerStatus::Stopped;
        self.inc += 1;
        self.fresh_process(ctx.now);
        out.event(EventKind::Stopped { consumer: self.spec.name.clone() });
        if let Some(group) = self.moving_to.take() {
            self.set_group(ctx, &group);
        }
        if std::mem::take(&mut self.restart) {
            self.start(ctx, out);
        }
    }

    /// Sends LeaveGroup for a dynamic member; a static member's session simply runs out.
    fn leave_group(&mut self, ctx: &Ctx, reason: &str, out: &mut Out) {
        if self.is_modern() {
            return self.cg_leave(ctx, reason, out);
        }
        if self.process.member_id.is_empty()
            || self.spec.group_instance_id.is_some()
            || self.process.coordinator_unknown
        {
            return; // (with no coordinator known, close() cannot send it: the session runs out)
        }
        let (consumer, group) = self.names();
        let member_id = self.process.member_id.clone();
        out.event(EventKind::LeaveGroup { consumer, group, member_id: member_id.clone(), reason: reason.into() });
        self.send(ctx, Request::Leave { member_id }, out);
    }

    /// Moves a consumer to another group, as restarting its process with another `group.id`
    /// does: a running consumer finishes the batch in hand (commit included) and closes —
    /// committing for its old group, to that group's coordinator, and leaving it — then starts
    /// in the new group. A consumer that is not running just takes the new `group.id`.
    pub fn move_to(&mut self, ctx: &mut Ctx, group: &str, out: &mut Out) {
        if self.status != ConsumerStatus::Running {
            self.set_group(ctx, group);
            return;
        }
        self.moving_to = Some(group.into());
        self.restart = true;
        if !self.process.stopping {
            self.request_stop(ctx, out);
        }
    }

    fn set_group(&mut self, ctx: &mut Ctx, group: &str) {
        if self.spec.group == group {
            return;
        }
        self.client_id = ctx.next_client_id(group);
        self.spec.group = group.into();
    }

    // ----- group membership -------------------------------------------------------------------

    fn send_join(&mut self, ctx: &Ctx, out: &mut Out) {
        let cooperative = self.spec.cooperative();
        if self.process.coordinator_unknown {
            // It joins once the coordinator is found (an eager member waits in poll()).
            self.rejoin_later();
            if !cooperative {
                self.process.phase = Phase::Joining;
            }
            return;
        }
        self.process.joining = true;
        self.process.rejoin_needed = false;
        // A cooperative member reports what it owns now (an eager one gave everything up); the
        // sticky assignor's user data carries what it owned last.
        let owned = if cooperative { self.process.assignment.clone() } else { Vec::new() };
        let req = JoinRequest {
            group: self.spec.group.clone(),
            member_id: self.process.member_id.clone(),
            client_id: self.client_id.clone(),
            instance_id: self.spec.group_instance_id.clone(),
            topics: self.topics.iter().map(|t| ctx.view.topics[t.ix()].spec.name.to_string()).collect(),
            strategies: self.spec.assignors.clone(),
            owned,
            owned_generation: self.process.generation,
            memorized: self.process.classic().map(|c| c.last_assignment.clone()).unwrap_or_default(),
            memorized_generation: self.process.classic().map_or(-1, |c| c.last_generation),
            session_timeout_ms: self.spec.session_timeout_ms,
            rebalance_timeout_ms: self.spec.max_poll_interval_ms,
        };
        if !cooperative {
            self.process.phase = Phase::Joining;
        }
        let (consumer, group) = self.names();
        out.event(EventKind::JoinGroup { consumer, group, member_id: req.member_id.clone() });
        self.send(ctx, Request::Join(Box::new(req)), out);
    }

    fn on_join_response(&mut self, ctx: &mut Ctx, response: JoinResponse, out: &mut Out) {
        if !self.process.joining || self.process.syncing().is_some() {
            return; // not the answer to a JoinGroup it is waiting for (that one failed)
        }
        let (consumer, group) = self.names();
        match response {
            JoinResponse::UnknownMemberId => {
                self.process.member_id = MemberId::default();
                self.send_join(ctx, out);
            }
            // The group changed protocol while the JoinGroup waited: join again.
            JoinResponse::RebalanceInProgress => self.send_join(ctx, out),
            JoinResponse::MemberIdRequired { member_id } => {
                // Join again at once, with the id the coordinator gave.
                self.process.member_id = member_id;
                self.send_join(ctx, out);
            }
            JoinResponse::InvalidSessionTimeout => {
                let error = format!(
                    "INVALID_SESSION_TIMEOUT: session.timeout.ms {} is outside what the broker allows (group.min.session.timeout.ms to group.max.session.timeout.ms)",
                    self.spec.session_timeout_ms
                );
                self.fail(ctx, error, out);
            }
            JoinResponse::InconsistentGroupProtocol => {
                self.fail(ctx, "INCONSISTENT_GROUP_PROTOCOL: its assignor differs from the group's".into(), out);
            }
            JoinResponse::FencedInstanceId => {
                let text = fenced_text(self);
                self.fail(ctx, text, out);
            }
            JoinResponse::MixedProtocols => {
                let text = mixed_text(&group, "the consumer protocol (group.protocol=consumer)");
                self.fail(ctx, text, out);
            }
            JoinResponse::Ok { generation, member_id, leader, strategy, members, skip_assignment } => {
                self.process.member_id = member_id.clone();
                self.process.generation = generation;
                let Some(classic) = self.process.classic_mut() else { return };
                let start_heartbeats = !classic.heartbeating;
                classic.heartbeating = true;
                classic.syncing = Some(generation);
                out.event(EventKind::Joined {
                    consumer: consumer.clone(),
                    group: group.clone(),
                    member_id,
                    generation,
                    leader,
                });
                if start_heartbeats {
                    self.after(self.spec.heartbeat_interval_ms, Msg::HeartbeatTick, out);
                }
                // A returning static leader told to skip the assignment syncs without one and
                // gets its old assignment back.
                if self.process.coordinator_unknown {
                    // Its coordinator failed meanwhile: it joins again once found.
                    self.rejoin_later();
                    return;
                }
                let assignments = (leader && !skip_assignment)
                    .then(|| self.compute_assignment(ctx, generation, strategy, members, out));
                out.event(EventKind::SyncGroup { consumer, group, generation });
                let member = self.member_ref();
                self.send(ctx, Request::Sync { member, assignments }, out);
            }
        }
    }

    /// The leader runs the group's assignor over every member's subscription.
    fn compute_assignment(
        &self,
        ctx: &Ctx,
        generation: i32,
        strategy: Strategy,
        members: Vec<(MemberId, assign::Subscription)>,
        out: &mut Out,
    ) -> Vec<(MemberId, Vec<Tp>)> {
        let topics = ctx
            .view
            .topics
            .iter()
            .filter(|t| members.iter().any(|(_, s)| s.topics.iter().any(|n| t.spec.name == *n)))
            .map(|t| (t.spec.name.to_string(), t.spec.partitions))
            .collect();
        // The assignors take member ids as the strings Kafka's assignor API passes.
        let members = members.into_iter().map(|(id, s)| (id.to_string(), s)).collect();
        let result = assign::assign(strategy, &AssignInput { topics, members });
        let by_member: Vec<(MemberId, Vec<Tp>)> = result
            .iter()
            .map(|(id, tps)| {
                let mut v: Vec<Tp> = tps
                    .iter()
                    .filter_map(|(t, p)| ctx.view.topic_index(t).map(|topic| Tp { topic, partition: *p }))
                    .collect();
                sort::natural(&mut v);
                (MemberId::from(id.as_str()), v)
            })
            .collect();
        let shown = by_member.iter().map(|(id, tps)| (id.to_string(), ctx.view.labels(tps))).collect();
        out.event(EventKind::AssignmentComputed {
            consumer: self.spec.name.clone(),
            group: self.spec.group.clone(),
            generation,
            strategy: strategy.protocol_name().to_string(),
            assignment: shown,
        });
        by_member
    }

    fn on_sync_response(&mut self, ctx: &mut Ctx, generation: i32, result: Result<Vec<Tp>, GroupError>, out: &mut Out) {
        if self.process.syncing() != Some(generation) {
            return; // it gave this SyncGroup up (its heartbeat learned it was out of the group)
        }
        self.process.joining = false;
        if let Some(c) = self.process.classic_mut() {
            c.syncing = None;
        }
        match result {
            Err(GroupError::FencedInstanceId) => {
                let text = fenced_text(self);
                self.fail_at_next_poll(ctx, text, out);
            }
            Err(GroupError::UnknownMemberId) => {
                self.process.member_id = MemberId::default();
                self.send_join(ctx, out);
            }
            Err(_) => self.send_join(ctx, out),
            Ok(assignment) if assignment.iter().any(|tp| !self.topics.contains(&tp.topic)) => {
                // ConsumerCoordinator.onJoinComplete: an assignment that does not match the
                // subscription (it changed since the group last saw it, say a static member came
                // back subscribed to other topics) is not taken; the member joins again.
                self.process.rejoin_needed = true;
                self.wake(ctx, out);
            }
            Ok(assignment) => {
                self.process.pending_assignment = Some(assignment);
                // An eager member waits inside poll() for this; a cooperative one takes it at its
                // next poll, or now if it is blocked in one.
                if matches!(self.process.phase, Phase::Joining | Phase::Idle | Phase::Fetching) {
                    self.wake(ctx, out);
                }
            }
        }
    }

    /// Applies a new assignment: revoke what went, fetch committed offsets for what came.
    fn apply_assignment(&mut self, ctx: &mut Ctx, new: Vec<Tp>, out: &mut Out) {
        let old = self.process.assignment.clone();
        let revoked: Vec<Tp> = old.iter().filter(|tp| !new.contains(tp)).copied().collect();
        let added: Vec<Tp> = new.iter().filter(|tp| !old.contains(tp)).copied().collect();
        if !revoked.is_empty() {
            self.revoke(ctx, &revoked, false, out);
        }
        if !added.is_empty() || !revoked.is_empty() {
            self.last_change = Some((ctx.now, added.clone(), revoked.clone()));
        }
        self.process.assignment = new.clone();
        self.process.assignment_generation = self.process.generation;
        let generation = self.process.generation;
        if let Some(c) = self.process.classic_mut() {
            c.last_assignment = new.clone();
            c.last_generation = generation;
        }
        let cooperative = self.spec.cooperative();
        let (consumer, group) = self.names();
        let (assigned, added_l, revoked_l) =
            (ctx.view.labels(&new), ctx.view.labels(&added), ctx.view.labels(&revoked));
        out.event(EventKind::Assigned(Box::new(crate::sim::event::Assigned {
            consumer,
            group,
            generation: self.process.generation,
            assigned,
            added: added_l,
            revoked: revoked_l,
        })));
        if cooperative && !revoked.is_empty() && !self.is_modern() {
            // KIP-429: having given partitions up, rejoin so they can go to their new owners.
            self.process.rejoin_needed = true;
        }
        if !added.is_empty() {
            self.send_offset_fetch(ctx, added, out);
        }
    }

    /// Gives partitions up (`onPartitionsRevoked`, or `onPartitionsLost` when `lost`).
    /// Nothing is committed here: auto-commit commits before each JoinGroup (see [`JoinPrep`]), so
    /// what a cooperative member processed after that and gives up now is processed again by the
    /// partition's next owner (unless the application commits in its own revocation callback).
    fn revoke(&mut self, ctx: &mut Ctx, tps: &[Tp], lost: bool, out: &mut Out) {
        let in_hand = self.in_hand_of(tps);
        if in_hand > 0 {
            let (consumer, group) = self.names();
            out.event(EventKind::RevokedWhileProcessing {
                consumer,
                group,
                partitions: ctx.view.labels(tps),
                records: in_hand,
                lost,
            });
        }
        self.process.assignment.retain(|tp| !tps.contains(tp));
        self.last_change = Some((ctx.now, Vec::new(), tps.to_vec()));
        for tp in tps {
            self.process.positions.remove(tp);
            self.process.awaiting_offsets.remove(tp);
        }
        let (consumer, group) = self.names();
        out.event(EventKind::Revoked { consumer, group, partitions: ctx.view.labels(tps), lost });
    }

    fn on_heartbeat_tick(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let now = ctx.now;
        let hb = self.spec.heartbeat_interval_ms;
        if self.poll_timer_expired(now) {
            self.poll_timeout(ctx, out);
        } else if !self.process.member_id.is_empty()
            && (!self.process.joining || self.process.syncing().is_some())
            && !self.process.coordinator_unknown
        {
            // The heartbeat thread runs from the JoinGroup answer on, through SyncGroup.
            let member = self.member_ref();
            self.send(ctx, Request::Heartbeat { member }, out);
        }
        // Between heartbeats the thread also wakes when the poll timer runs out.
        let deadline = self.process.last_poll.plus(self.spec.max_poll_interval_ms);
        if self.outside_poll() && !self.process.member_id.is_empty() && deadline > now && deadline < now.plus(hb) {
            out.effects.push(Effect::At { at: deadline, inc: self.inc, msg: Msg::PollTimerCheck });
        }
        self.after(hb, Msg::HeartbeatTick, out);
    }

    /// `max.poll.interval.ms` has passed since the application last called poll(), and it is
    /// still away (processing, or committing after processing), as a member.
    fn poll_timer_expired(&self, now: SimTime) -> bool {
        let member = if self.is_modern() { self.process.generation >= 0 } else { !self.process.member_id.is_empty() };
        self.outside_poll() && member && now >= self.process.last_poll.plus(self.spec.max_poll_interval_ms)
    }

    /// The heartbeat thread finds the poll timer expired: the consumer leaves the group.
    fn poll_timeout(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let (consumer, group) = self.names();
        out.event(EventKind::PollTimeout { consumer, group, max_poll_interval_ms: self.spec.max_poll_interval_ms });
        if self.is_modern() {
            return self.cg_poll_timeout(ctx, out);
        }
        self.leave_group(ctx, "max.poll.interval.ms exceeded", out);
        self.lose_membership(ctx, out);
    }

    /// The member is out of the group (removed, fenced or timed out): its partitions are lost.
    /// Its application learns at its next poll(); if it is away from poll() now, holding
    /// partitions, it is a zombie until then.
    fn lose_membership(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.process.member_id = MemberId::default();
        self.process.generation = -1;
        self.process.rejoin_needed = true;
        self.process.pending_assignment = None;
        self.lose_partitions(ctx, out);
    }

    /// Out of its group, what it owns is lost: given up now (`onPartitionsLost`) if the
    /// application is in poll(), else a classic consumer is a zombie until its next poll. The
    /// consumer-protocol client gives them up at once from its background thread (with no
    /// listener to run, `transitionToFenced` and `transitionToStale` clear the assignment there).
    fn lose_partitions(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let owned = self.process.assignment.clone();
        if owned.is_empty() {
            return;
        }
        if self.outside_poll() && !self.is_modern() {
            self.process.zombie = true;
            let (consumer, group) = self.names();
            out.event(EventKind::Zombie { consumer, group, partitions: ctx.view.labels(&owned) });
        } else {
            self.revoke(ctx, &owned, true, out);
        }
    }

    fn on_heartbeat_response(&mut self, ctx: &mut Ctx, generation: i32, result: Result<(), GroupError>, out: &mut Out) {
        // Answers to heartbeats of an earlier generation, or while a JoinGroup is out, are old news.
        if self.process.generation != generation || (self.process.joining && self.process.syncing().is_none()) {
            return;
        }
        match result {
            Ok(()) => {}
            // Waiting for SyncGroup, the rebalance is already under way: its answer will say.
            Err(GroupError::RebalanceInProgress) if self.process.syncing().is_some() => {}
            Err(GroupError::RebalanceInProgress) => {
                self.process.rejoin_needed = true;
                self.wake(ctx, out);
            }
            Err(
                error @ (GroupError::UnknownMemberId | GroupError::IllegalGeneration | GroupError::FencedInstanceId),
            ) => {
                if self.process.classic_mut().and_then(|c| c.syncing.take()).is_some() {
                    self.process.joining = false; // its SyncGroup is given up
                }
                if error == GroupError::FencedInstanceId {
                    let text = fenced_text(self);
                    self.fail_at_next_poll(ctx, text, out);
                    return;
                }
                self.lose_membership(ctx, out);
                self.wake(ctx, out);
            }
        }
    }

    /// A fatal group error (Kafka throws it from poll()): the consumer stops, without a commit or
    /// LeaveGroup.
    fn fail(&mut self, ctx: &mut Ctx, error: String, out: &mut Out) {
        let (consumer, group) = self.names();
        out.event(EventKind::JoinFailed { consumer, group, error: error.clone() });
        self.failure = Some(error);
        self.status = ConsumerStatus::Stopped;
        self.inc += 1;
        self.fresh_process(ctx.now);
        self.restart = false;
        if let Some(group) = self.moving_to.take() {
            self.set_group(ctx, &group);
        }
    }

    /// A fatal group error learned by the heartbeat thread: it is out of the group at once (a
    /// zombie if it is processing) and fails when the application next calls poll().
    fn fail_at_next_poll(&mut self, ctx: &mut Ctx, error: String, out: &mut Out) {
        self.lose_membership(ctx, out);
        if self.outside_poll() {
            self.process.fatal = Some(error);
        } else {
            self.fail(ctx, error, out);
        }
    }

    /// Interrupts a consumer blocked in poll() so it handles group news now.
    fn wake(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if matches!(self.process.phase, Phase::Fetching | Phase::Idle | Phase::Joining) {
            self.process.parked = false;
            self.fetch_id += 1; // the outstanding fetch is abandoned
            self.poll(ctx, out);
        }
    }

    // ----- offsets --------------------------------------------------------------------------

    fn send_offset_fetch(&mut self, ctx: &Ctx, tps: Vec<Tp>, out: &mut Out) {
        self.process.awaiting_offsets.extend(tps.iter().copied());
        if self.process.coordinator_unknown {
            return; // asked for once the coordinator is found
        }
        let (consumer, group) = self.names();
        out.event(EventKind::OffsetFetch { consumer, group, partitions: ctx.view.labels(&tps) });
        if self.is_modern() {
            return self.cg_offset_fetch(ctx, tps, out);
        }
        self.send(ctx, Request::OffsetFetch { partitions: tps }, out);
    }

    fn on_offsets(&mut self, ctx: &mut Ctx, offsets: Vec<(Tp, Option<u64>)>, out: &mut Out) {
        for (tp, committed) in offsets {
            if !self.process.awaiting_offsets.remove(&tp) || !self.process.assignment.contains(&tp) {
                continue; // revoked meanwhile
            }
            match committed {
                Some(offset) => self.set_position(ctx, tp, offset, "committed offset", out),
                None => self.reset_position(ctx, tp, "no committed offset", out),
            }
        }
        if matches!(self.process.phase, Phase::Idle | Phase::Fetching) {
            self.wake(ctx, out);
        }
    }

    fn set_position(&mut self, ctx: &Ctx, tp: Tp, offset: u64, reason: &str, out: &mut Out) {
        self.process.positions.insert(tp, offset);
        let (consumer, group) = self.names();
        let (topic, partition) = ctx.view.tp_name(tp);
        out.effects.push(Effect::Positioned { group: group.clone(), tp, offset });
        out.event(EventKind::PositionSet { consumer, group, topic, partition, offset, reason: reason.to_string() });
    }

    /// `auto.offset.reset`: earliest is the log-start offset; latest is what ListOffsets answers
    /// for the latest offset under `read_uncommitted`: the high watermark, not the log end (records
    /// past it are not yet on every in-sync replica, and no consumer may read them yet).
    fn reset_position(&mut self, ctx: &Ctx, tp: Tp, why: &str, out: &mut Out) {
        let part = ctx.view.partition(tp);
        let (offset, name) = match self.spec.auto_offset_reset {
            OffsetReset::Earliest => (part.log().log_start_offset(), "earliest"),
            OffsetReset::Latest => (part.high_watermark, "latest"),
        };
        self.set_position(ctx, tp, offset, &format!("{why}: auto.offset.reset={name}"), out);
    }

    // ----- the poll loop ----------------------------------------------------------------------

    /// The application calls `poll()`: group work first, then an auto-commit if due, then a fetch.
    pub fn poll(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let now = ctx.now;
        self.process.last_poll = now;
        if self.process.stopping {
            self.close(ctx, out);
            return;
        }
        if let Some(error) = self.process.fatal.take() {
            self.fail(ctx, error, out);
            return;
        }
        let eager = !self.spec.cooperative() && !self.is_modern();
        if std::mem::take(&mut self.process.zombie) {
            // onPartitionsLost: what it held may belong to others by now.
            let owned = self.process.assignment.clone();
            self.revoke(ctx, &owned, true, out);
        }
        if self.is_modern() {
            self.cg_poll(ctx, out);
        } else if let Some(new) = self.process.pending_assignment.take() {
            // Finish the last rebalance first, so a JoinGroup reports what the member really owns.
            self.apply_assignment(ctx, new, out);
        }
        if !self.is_modern()
            && (self.process.member_id.is_empty() || self.process.rejoin_needed)
            && !self.process.joining
        {
            self.prepare_join(ctx, out);
        }
        if eager && (self.process.joining || self.process.join_prep() == JoinPrep::Committing) {
            self.process.phase = Phase::Joining; // stop the world until the new assignment
            return;
        }
        if self.spec.commit == CommitMode::Auto
            && !self.process.positions.is_empty()
            && now.since(self.process.last_auto_commit) >= self.spec.auto_commit_interval_ms
        {
            self.process.last_auto_commit = now;
            self.send_commit(ctx, CommitPurpose::Async, out);
        }
        if self.process.positions.is_empty() {
            self.process.phase = Phase::Idle; // nothing to fetch until partitions (and offsets) arrive
            return;
        }
        self.process.phase = Phase::Fetching;
        self.fetch_id += 1;
        self.after(ctx.latency, Msg::FetchArrive { fetch_id: self.fetch_id }, out);
    }

    /// `onJoinPrepare`, once per JoinGroup: with auto-commit, commit everything consumed and wait
    /// for the answer; then revoke (all of it, if eager) and send the JoinGroup.
    fn prepare_join(&mut self, ctx: &mut Ctx, out: &mut Out) {
        match self.process.join_prep() {
            JoinPrep::Committing => {}
            JoinPrep::Idle
                if self.spec.commit == CommitMode::Auto
                    && !self.process.positions.is_empty()
                    && !self.process.member_id.is_empty() =>
            {
                self.process.set_join_prep(JoinPrep::Committing);
                self.process.last_auto_commit = ctx.now;
                self.send_commit(ctx, CommitPurpose::BeforeJoin, out);
            }
            JoinPrep::Idle | JoinPrep::Ready => {
                self.process.set_join_prep(JoinPrep::Idle);
                if !self.spec.cooperative() && !self.process.assignment.is_empty() {
                    let all = self.process.assignment.clone();
                    self.revoke(ctx, &all, false, out);
                }
                self.send_join(ctx, out);
            }
        }
    }

    /// The answer to `onJoinPrepare`'s commit: the JoinGroup goes out now if the application is
    /// in poll(), else at its next poll.
    fn join_prepared(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.process.join_prep() != JoinPrep::Committing {
            return;
        }
        self.process.set_join_prep(JoinPrep::Ready);
        self.wake(ctx, out);
    }

    fn on_fetch_arrive(&mut self, ctx: &mut Ctx, fetch_id: u64, out: &mut Out) {
        if self.fetch_id != fetch_id {
            return;
        }
        // Positions outside the log are out of range: the consumer resets them.
        let fetchable: Vec<(Tp, u64)> = self.process.positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        for (tp, pos) in &fetchable {
            if !ctx.view.readable(*tp) {
                continue; // no leader to ask: nothing to check, nothing to read
            }
            let log = ctx.view.partition(*tp).log();
            if *pos < log.log_start_offset() || *pos > log.log_end_offset() {
                self.reset_position(ctx, *tp, &format!("offset {pos} out of range"), out);
            }
        }
        if !self.answer_fetch(ctx, fetch_id, out) {
            // Long poll: park until data arrives or fetch.max.wait.ms passes.
            self.process.parked = true;
            for (tp, _) in fetchable {
                out.effects.push(Effect::Park { tp, inc: self.inc, fetch_id });
            }
            self.after(self.spec.fetch_max_wait_ms, Msg::FetchTimeout { fetch_id }, out);
        }
    }

    /// A partition where fetch `fetch_id` is parked has news: the fetch is answered if it has
    /// records for it now, else it stays parked there. The engine calls this for the process's
    /// live incarnation.
    pub fn on_partition_news(&mut self, ctx: &mut Ctx, tp: Tp, fetch_id: u64, out: &mut Out) {
        if self.fetch_id != fetch_id || !self.process.parked {
            return;
        }
        if self.answer_fetch(ctx, fetch_id, out) {
            self.process.parked = false;
        } else {
            // Nothing it may read yet (say, a new leader still establishing its high watermark):
            // it keeps waiting, here and for its fetch.max.wait.ms.
            out.effects.push(Effect::Park { tp, inc: self.inc, fetch_id });
        }
    }

    /// Collects up to `max.poll.records` visible records; sends the response if there are any.
    fn answer_fetch(&mut self, ctx: &Ctx, fetch_id: u64, out: &mut Out) -> bool {
        let view = &ctx.view;
        let mut tps: Vec<(Tp, u64)> = self.process.positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        if self.spec.priority {
            // Only the first topic (in subscription order) with records to read is fetched: the
            // application has paused the partitions of the topics after it.
            let rank = |tp: &Tp| self.topics.iter().position(|t| *t == tp.topic).unwrap_or(usize::MAX);
            let has_records = |(tp, pos): &(Tp, u64)| view.readable(*tp) && view.partition(*tp).high_watermark > *pos;
            if let Some(top) = tps.iter().filter(|x| has_records(x)).map(|(tp, _)| rank(tp)).min() {
                tps.retain(|(tp, _)| rank(tp) == top);
            }
        }
        let n = tps.len();
        let mut remaining = u64::from(self.spec.max_poll_records);
        let mut ranges = Vec::new();
        for i in 0..n {
            if remaining == 0 {
                break;
            }
            let (tp, pos) = tps[(self.round_robin + i) % n];
            if !view.readable(tp) {
                continue;
            }
            let part = view.partition(tp);
            let bound = part.high_watermark;
            if bound > pos {
                let first = ranges.len();
                let next = part.log().read(pos, bound, remaining, false, |from, to| {
                    ranges.push(Run { tp, from, to, next: to });
                });
                for r in &ranges[first..] {
                    remaining -= r.to - r.from;
                }
                match ranges[first..].last_mut() {
                    Some(last) => last.next = next,
                    // Nothing to hand over, only offsets to move past.
                    None if next > pos => ranges.push(Run { tp, from: pos, to: pos, next }),
                    None => {}
                }
            }
        }
        if ranges.is_empty() {
            return false;
        }
        self.round_robin = (self.round_robin + 1) % n.max(1);
        self.after(ctx.latency, Msg::FetchResponse { fetch_id, ranges }, out);
        true
    }

    /// Its parked fetch failed on disconnect (a leader's process died): it fetches again at once,
    /// from the leaders it knows then (Kafka's fetcher fails that node's fetch, asks for new
    /// metadata, and the next round goes out on the consumer's next network poll).
    fn on_fetch_failed(&mut self, ctx: &mut Ctx, fetch_id: u64, broker: BrokerId, out: &mut Out) {
        if self.fetch_id != fetch_id || !self.process.parked {
            return;
        }
        let (consumer, group) = self.names();
        out.event(EventKind::RequestFailed {
            consumer,
            group,
            broker: Some(broker),
            request: "Fetch".to_string(),
            error: Failure::Disconnected.text().to_string(),
        });
        self.wake(ctx, out);
    }

    fn on_fetch_timeout(&mut self, fetch_id: u64, ctx: &Ctx, out: &mut Out) {
        if self.fetch_id == fetch_id && self.process.parked {
            self.process.parked = false;
            self.after(ctx.latency, Msg::FetchResponse { fetch_id, ranges: Vec::new() }, out);
        }
    }

    fn offset_ranges(ctx: &Ctx, ranges: &[(Tp, u64, u64)]) -> Vec<OffsetRange> {
        ranges
            .iter()
            .map(|(tp, from, to)| {
                let (topic, partition) = ctx.view.tp_name(*tp);
                OffsetRange { topic, partition, from: *from, to: *to }
            })
            .collect()
    }

    fn on_fetch_response(&mut self, ctx: &mut Ctx, fetch_id: u64, runs: Vec<Run>, out: &mut Out) {
        if self.fetch_id != fetch_id {
            return;
        }
        // Drop what belongs to partitions revoked or repositioned while the fetch was out: a
        // partition's runs (together in the answer) stand if the first starts at the position
        // it still has.
        let mut partition: Option<(Tp, bool)> = None;
        let mut ranges = Vec::new();
        for r in runs {
            let current = match partition {
                Some((tp, current)) if tp == r.tp => current,
                _ => {
                    let current = self.process.positions.get(&r.tp) == Some(&r.from);
                    partition = Some((r.tp, current));
                    current
                }
            };
            if !current {
                continue;
            }
            self.process.positions.insert(r.tp, r.next);
            if r.to > r.from {
                ranges.push((r.tp, r.from, r.to));
            }
        }
        if ranges.is_empty() {
            self.poll(ctx, out);
            return;
        }
        self.process.in_flight = ranges;
        let (consumer, group) = self.names();
        out.event(EventKind::Fetched { consumer, group, ranges: Self::offset_ranges(ctx, &self.process.in_flight) });
        if self.spec.commit == CommitMode::BeforeProcessing {
            self.process.phase = Phase::CommittingBeforeProcessing;
            self.send_commit(ctx, CommitPurpose::Sync, out);
        } else {
            self.start_processing(ctx, out);
        }
    }

    fn start_processing(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.process.phase = Phase::Processing;
        self.process.processing_started = ctx.now;
        self.process.batch_ms_per_record = self.spec.processing_ms;
        let records = self.in_flight_records();
        let per_record_ms = self.spec.processing_ms;
        if per_record_ms == 0 {
            self.processing_done(ctx, out);
            return;
        }
        let (consumer, group) = self.names();
        out.event(EventKind::Processing { consumer, group, records, per_record_ms });
        self.after(records * per_record_ms, Msg::ProcessingDone, out);
    }

    /// Records of the batch in hand the application has finished by `now` (they are credited
    /// when the batch is done, or at a crash).
    pub fn processed_in_hand(&self, now: SimTime) -> u64 {
        if self.process.phase != Phase::Processing || self.process.in_flight.is_empty() {
            return 0;
        }
        let total = self.in_flight_records();
        now.since(self.process.processing_started)
            .checked_div(self.process.batch_ms_per_record)
            .map_or(0, |d| d.min(total))
    }

    /// Records of `tps` in the batch the application has in hand (processed or not: none is
    /// committed yet, unless it commits before processing).
    fn in_hand_of(&self, tps: &[Tp]) -> u64 {
        if !matches!(self.process.phase, Phase::Processing | Phase::CommittingBeforeProcessing) {
            return 0;
        }
        self.process.in_flight.iter().filter(|(tp, _, _)| tps.contains(tp)).map(|(_, from, to)| to - from).sum()
    }

    /// Credits the first `k` in-flight records as processed by the consumer's group.
    fn credit_processed(&mut self, ctx: &Ctx, k: u64, out: &mut Out) {
        let mut left = k;
        let mut done = Vec::new();
        for &(tp, from, to) in &self.process.in_flight {
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
        let (consumer, group) = self.names();
        for &(tp, from, to) in &done {
            out.effects.push(Effect::Processed { group: group.clone(), tp, from, to });
        }
        out.event(EventKind::Processed { consumer, group, ranges: Self::offset_ranges(ctx, &done) });
    }

    fn processing_done(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let total = self.in_flight_records();
        self.credit_processed(ctx, total, out);
        self.process.in_flight.clear();
        match self.spec.commit {
            CommitMode::AfterProcessing => {
                self.process.phase = Phase::CommittingAfterProcessing;
                self.send_commit(ctx, CommitPurpose::Sync, out);
            }
            CommitMode::Auto | CommitMode::BeforeProcessing => self.poll(ctx, out),
        }
    }

    /// Commits the positions of what poll() returned so far.
    fn send_commit(&mut self, ctx: &mut Ctx, purpose: CommitPurpose, out: &mut Out) {
        let offsets: Vec<(Tp, u64)> = self.process.positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        self.send_offsets(ctx, purpose, offsets, out);
    }

    /// Sends an OffsetCommit of `offsets` (taken when the application asked), with its member id
    /// and generation. A subscribed consumer outside an active generation does not send it: the
    /// commit fails at once (Kafka's `CommitFailedException`). With no coordinator known it is
    /// sent once one is found.
    fn send_offsets(&mut self, ctx: &mut Ctx, purpose: CommitPurpose, offsets: Vec<(Tp, u64)>, out: &mut Out) {
        if offsets.is_empty() {
            // Nothing to commit (every partition it read was given up): no request, done.
            return self.on_commit_answer(ctx, purpose, false, out);
        }
        let member = if self.is_modern() { self.process.generation > 0 } else { !self.process.member_id.is_empty() };
        if !member {
            let (consumer, group) = self.names();
            let reason = "CommitFailedException: the consumer is not part of an active group (it lost its membership); its offsets are not committed".to_string();
            out.event(EventKind::CommitFailed { consumer, group, reason });
            return self.on_commit_answer(ctx, purpose, false, out);
        }
        if self.process.coordinator_unknown {
            // Sent once the coordinator is found, with these offsets (a synchronous commit
            // outranks an asynchronous one).
            if self.process.pending_commit.as_ref().is_none_or(|(p, _)| *p == CommitPurpose::Async) {
                self.process.pending_commit = Some((purpose, offsets));
            }
            return;
        }
        if purpose != CommitPurpose::Async {
            self.process.sync_commit = offsets.clone();
        }
        let (consumer, group) = self.names();
        let shown = offsets
            .iter()
            .map(|(tp, offset)| {
                let (topic, partition) = ctx.view.tp_name(*tp);
                PartitionOffset { topic, partition, offset: *offset }
            })
            .collect();
        out.event(EventKind::CommitSent { consumer, group, offsets: shown });
        if self.is_modern() {
            return self.cg_commit(ctx, offsets, purpose, out);
        }
        let member = self.member_ref();
        self.send(ctx, Request::OffsetCommit { member, offsets, purpose }, out);
    }

    /// The coordinator answered a commit (stored or not: the coordinator said which; `stale`:
    /// STALE_MEMBER_EPOCH), or it could not be sent: what waited for it goes on.
    fn on_commit_answer(&mut self, ctx: &mut Ctx, purpose: CommitPurpose, stale: bool, out: &mut Out) {
        match purpose {
            CommitPurpose::Async => {}
            CommitPurpose::Sync => self.commit_done(ctx, out),
            CommitPurpose::BeforeJoin if self.is_modern() => self.cg_reconcile_commit_answered(ctx, stale, out),
            CommitPurpose::BeforeJoin => self.join_prepared(ctx, out),
        }
    }

    fn commit_done(&mut self, ctx: &mut Ctx, out: &mut Out) {
        match self.process.phase {
            Phase::CommittingBeforeProcessing => self.start_processing(ctx, out),
            Phase::CommittingAfterProcessing => self.poll(ctx, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each transition of the consumer's side of the classic group protocol and of its poll loop,
    //! one message at a time, as Kafka's ConsumerCoordinatorTest and AbstractCoordinatorTest
    //! exercise them: what it sends, schedules and reports, in order.

    use super::*;
    use crate::sim::cluster::{Broker, Partition, Topic};
    use crate::sim::config::TopicSpec;
    use crate::sim::log::LogConfig;

    const HB: u64 = 3_000;
    const LATENCY: u64 = 1;

    /// A fetch answer's run of records `from..to` of `tp`, nothing skipped after it.
    fn run(tp: Tp, from: u64, to: u64) -> Run {
        Run { tp, from, to, next: to }
    }

    fn tp(p: u32) -> Tp {
        Tp { topic: TopicId(0), partition: p }
    }

    /// A consumer of `my-topic` (3 partitions) in group `my-group`, a cluster to read and a clock.
    struct Harness {
        topics: Vec<Topic>,
        brokers: Vec<Broker>,
        con: Consumer,
        ids: VecMap<String, u32>,
        rng: ChaCha8Rng,
        now: SimTime,
    }

    impl Harness {
        fn new(edit: impl FnOnce(&mut ConsumerSpec)) -> Harness {
            let spec = TopicSpec { name: "my-topic".into(), partitions: 3, ..TopicSpec::default() };
            let log_config = LogConfig {
                retention_ms: None,
                retention_bytes: None,
                segment_bytes: spec.segment_bytes,
                segment_ms: spec.segment_ms,
            };
            let topics =
                vec![Topic { log_config, partitions: (0..3).map(|_| Partition::new(&[BrokerId(1)])).collect(), spec }];
            let brokers =
                vec![Broker { id: BrokerId(1), alive: true, inc: 0, fenced: false, stopped: false, delay_ms: 0 }];
            let mut spec = ConsumerSpec {
                name: "c".into(),
                commit: CommitMode::AfterProcessing,
                processing_ms: 1_000,
                max_poll_interval_ms: 10_000,
                ..ConsumerSpec::default()
            };
            edit(&mut spec);
            let mut ids = VecMap::new();
            let client_id = next_client_id(&mut ids, &spec.group);
            let rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
            Harness {
                topics,
                brokers,
                con: Consumer::new(spec, vec![TopicId(0)], client_id),
                ids,
                rng,
                now: SimTime(0),
            }
        }

        fn run(&mut self, f: impl FnOnce(&mut Consumer, &mut Ctx, &mut Out)) -> Vec<String> {
            let mut out = Out::default();
            let mut ctx = Ctx {
                now: self.now,
                id: ConsumerId(0),
                latency: LATENCY,
                view: View { topics: &self.topics, brokers: &self.brokers },
                client_ids: &mut self.ids,
                rng: &mut self.rng,
            };
            f(&mut self.con, &mut ctx, &mut out);
            out.effects.iter().map(show).collect()
        }

        fn msg(&mut self, msg: Msg) -> Vec<String> {
            self.run(|c, ctx, out| c.on_message(ctx, msg, out))
        }

        fn reply(&mut self, reply: Reply) -> Vec<String> {
            self.msg(Msg::Reply(reply))
        }

        fn start(&mut self) -> Vec<String> {
            self.run(|c, ctx, out| c.start(ctx, out))
        }

        fn join_ok(&mut self, generation: i32, leader: bool) -> Vec<String> {
            self.join_answer(generation, leader, false)
        }

        fn join_answer(&mut self, generation: i32, leader: bool, skip_assignment: bool) -> Vec<String> {
            let member_id = "c-1".to_string();
            let sub = assign::Subscription {
                topics: vec!["my-topic".into()],
                instance_id: None,
                owned: Vec::new(),
                generation: None,
            };
            let members = if leader { vec![(MemberId::from(member_id.as_str()), sub)] } else { Vec::new() };
            let strategy = self.con.spec.assignors[0];
            self.reply(Reply::Join(JoinResponse::Ok {
                generation,
                member_id: member_id.into(),
                leader,
                strategy,
                members,
                skip_assignment,
            }))
        }

        /// Started, in generation 1 as a follower, owning `partitions` at these committed offsets.
        fn member_of(&mut self, partitions: &[(u32, u64)]) {
            self.start();
            self.join_ok(1, false);
            let assignment = partitions.iter().map(|(p, _)| tp(*p)).collect();
            self.reply(Reply::Sync { generation: 1, result: Ok(assignment) });
            let offsets = partitions.iter().map(|(p, o)| (tp(*p), Some(*o))).collect();
            self.reply(Reply::OffsetFetch { offsets });
            assert_eq!(self.con.process.phase, Phase::Fetching);
        }

        /// A member processing records [from, to) of partition 0 (it owns partition 0 at `from`).
        fn processing(&mut self, from: u64, to: u64) -> Vec<String> {
            self.member_of(&[(0, from)]);
            let fetch_id = self.con.fetch_id;
            let shown = self.msg(Msg::FetchResponse { fetch_id, ranges: vec![run(tp(0), from, to)] });
            assert_eq!(self.con.process.phase, Phase::Processing);
            shown
        }
    }

    /// One effect as a short line: `group <- Request`, `+delay Msg`, `@time Msg`, `park tp`,
    /// `EventName`, `processed tp from..to`, `positioned tp offset`.
    fn show(effect: &Effect) -> String {
        match effect {
            Effect::ToCoordinator { group, request, .. } => {
                let r = match &**request {
                    Request::Join(j) => format!("Join member={:?} owned={:?}", j.member_id, j.owned),
                    Request::Sync { member, assignments } => {
                        format!("Sync gen={} leader={}", member.generation, assignments.is_some())
                    }
                    Request::Heartbeat { member } => format!("Heartbeat gen={}", member.generation),
                    Request::Leave { member_id } => format!("Leave member={member_id:?}"),
                    Request::OffsetCommit { offsets, purpose, .. } => format!("Commit {offsets:?} {purpose:?}"),
                    Request::OffsetFetch { partitions } => format!("OffsetFetch {partitions:?}"),
                };
                format!("{group} <- {r}")
            }
            Effect::ToGroupCoordinator { group, request, .. } => {
                use crate::sim::kafka::consumer_group::Request as R;
                let r = match &**request {
                    R::Heartbeat(h) => format!(
                        "Heartbeat epoch={} full={} owned={:?}",
                        h.member_epoch,
                        h.topics.is_some(),
                        h.owned.as_ref().map(crate::sim::kafka::consumer_group::partition_names)
                    ),
                    R::OffsetCommit { member_epoch, offsets, purpose, .. } => {
                        format!("Commit epoch={member_epoch} {offsets:?} {purpose:?}")
                    }
                    R::OffsetFetch { member_epoch, partitions, .. } => {
                        format!("OffsetFetch epoch={member_epoch} {partitions:?}")
                    }
                };
                format!("{group} <= {r}")
            }
            Effect::After { delay, msg, .. } => format!("+{delay} {}", name(msg)),
            Effect::At { at, msg, .. } => format!("@{} {}", at.0, name(msg)),
            Effect::Park { tp, .. } => format!("park {tp:?}"),
            Effect::Event(kind) => {
                let debug = format!("{kind:?}");
                debug.split([' ', '{', '(']).next().unwrap_or_default().to_string()
            }
            Effect::Processed { tp, from, to, .. } => format!("processed {tp:?} {from}..{to}"),
            Effect::Positioned { tp, offset, .. } => format!("positioned {tp:?} {offset}"),
            Effect::FindCoordinator { .. } => "FindCoordinator".to_string(),
        }
    }

    fn name(msg: &Msg) -> &'static str {
        match msg {
            Msg::Reply(_) => "Reply",
            Msg::GroupReply(_) => "GroupReply",
            Msg::FetchArrive { .. } => "FetchArrive",
            Msg::FetchTimeout { .. } => "FetchTimeout",
            Msg::FetchFailed { .. } => "FetchFailed",
            Msg::FetchResponse { .. } => "FetchResponse",
            Msg::ProcessingDone => "ProcessingDone",
            Msg::HeartbeatTick => "HeartbeatTick",
            Msg::PollTimerCheck => "PollTimerCheck",
            Msg::Failed { .. } => "Failed",
            Msg::Coordinator { .. } => "Coordinator",
            Msg::LookUpCoordinator => "LookUpCoordinator",
            Msg::RetryCommit => "RetryCommit",
            Msg::RetryOffsetFetch => "RetryOffsetFetch",
        }
    }

    #[test]
    fn start_sends_join_group_without_a_member_id_and_an_eager_member_waits() {
        let mut h = Harness::new(|_| {});
        let shown = h.start();
        assert_eq!(shown, ["Started", "JoinGroup", "my-group <- Join member=\"\" owned=[]"]);
        assert_eq!(h.con.status, ConsumerStatus::Running);
        assert_eq!(h.con.process.phase, Phase::Joining);
        assert!(h.con.process.joining);
        assert_eq!(h.con.client_id, "consumer-my-group-1");
    }

    #[test]
    fn member_id_required_makes_it_join_again_at_once_with_the_id_it_was_given() {
        let mut h = Harness::new(|_| {});
        h.start();
        let shown = h.reply(Reply::Join(JoinResponse::MemberIdRequired { member_id: "c-9".into() }));
        assert_eq!(shown, ["JoinGroup", "my-group <- Join member=\"c-9\" owned=[]"]);
        assert_eq!((h.con.process.member_id.as_str(), h.con.process.generation), ("c-9", -1));
    }

    #[test]
    fn an_invalid_session_timeout_answer_stops_the_consumer() {
        let mut h = Harness::new(|s| s.session_timeout_ms = 3_000);
        h.start();
        assert_eq!(h.reply(Reply::Join(JoinResponse::InvalidSessionTimeout)), ["JoinFailed"]);
        assert_eq!(h.con.status, ConsumerStatus::Stopped);
        assert!(h.con.failure.as_deref().unwrap().starts_with("INVALID_SESSION_TIMEOUT: session.timeout.ms 3000"));
    }

    #[test]
    fn unknown_member_id_answer_joins_again_without_one() {
        let mut h = Harness::new(|_| {});
        h.start();
        h.con.process.member_id = "stale".into();
        let shown = h.reply(Reply::Join(JoinResponse::UnknownMemberId));
        assert_eq!(shown, ["JoinGroup", "my-group <- Join member=\"\" owned=[]"]);
        assert!(h.con.process.member_id.is_empty());
    }

    #[test]
    fn join_answer_starts_the_heartbeat_thread_and_a_follower_syncs_without_assignments() {
        let mut h = Harness::new(|_| {});
        h.start();
        let shown = h.join_ok(1, false);
        assert_eq!(shown, ["Joined", "+3000 HeartbeatTick", "SyncGroup", "my-group <- Sync gen=1 leader=false"]);
        assert_eq!(
            (h.con.process.member_id.as_str(), h.con.process.generation, h.con.process.classic().unwrap().syncing),
            ("c-1", 1, Some(1))
        );
        // A second JoinGroup answer (a rebalance) does not start a second heartbeat thread.
        h.con.process.joining = true;
        let shown = h.join_ok(2, false);
        assert!(!shown.iter().any(|s| s.contains("HeartbeatTick")), "{shown:?}");
    }

    #[test]
    fn the_leader_runs_the_assignor_and_sends_every_members_assignment() {
        let mut h = Harness::new(|_| {});
        h.start();
        let shown = h.join_ok(1, true);
        assert_eq!(
            shown,
            ["Joined", "+3000 HeartbeatTick", "AssignmentComputed", "SyncGroup", "my-group <- Sync gen=1 leader=true"]
        );
    }

    #[test]
    fn a_returning_static_leader_told_to_skip_the_assignment_syncs_without_one() {
        let mut h = Harness::new(|_| {});
        h.start();
        let shown = h.join_answer(1, true, true);
        assert_eq!(shown, ["Joined", "+3000 HeartbeatTick", "SyncGroup", "my-group <- Sync gen=1 leader=false"]);
    }

    #[test]
    fn heartbeats_go_on_while_awaiting_sync_and_a_rebalance_answer_then_is_ignored() {
        let mut h = Harness::new(|_| {});
        h.start();
        h.join_ok(1, false);
        h.now = SimTime(HB);
        assert_eq!(h.msg(Msg::HeartbeatTick), ["my-group <- Heartbeat gen=1", "+3000 HeartbeatTick"]);
        let shown = h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::RebalanceInProgress) });
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(h.con.process.classic().unwrap().syncing, Some(1));
    }

    #[test]
    fn sync_answer_assigns_then_committed_offsets_or_the_reset_policy_position_it() {
        let mut h = Harness::new(|_| {});
        h.start();
        h.join_ok(1, false);
        let shown = h.reply(Reply::Sync { generation: 1, result: Ok(vec![tp(0), tp(1)]) });
        assert_eq!(
            shown,
            ["Assigned", "OffsetFetch", format!("my-group <- OffsetFetch {:?}", [tp(0), tp(1)]).as_str()]
        );
        assert_eq!(h.con.process.assignment, [tp(0), tp(1)]);
        assert_eq!(h.con.process.assignment_generation, 1);
        assert!(!h.con.process.joining && h.con.process.classic().unwrap().syncing.is_none());
        // Partition 0 has a committed offset; partition 1 has none: auto.offset.reset=latest.
        let shown = h.reply(Reply::OffsetFetch { offsets: vec![(tp(0), Some(7)), (tp(1), None)] });
        assert_eq!(
            shown,
            [
                format!("positioned {:?} 7", tp(0)),
                "PositionSet".into(),
                format!("positioned {:?} 0", tp(1)),
                "PositionSet".into(),
                "+1 FetchArrive".into(),
            ]
        );
        assert_eq!(h.con.process.phase, Phase::Fetching);
    }

    #[test]
    fn an_assignment_of_a_topic_it_does_not_subscribe_to_is_not_taken_and_it_joins_again() {
        let mut h = Harness::new(|_| {});
        h.start();
        h.join_ok(1, false);
        let other = Tp { topic: TopicId(1), partition: 0 };
        let shown = h.reply(Reply::Sync { generation: 1, result: Ok(vec![other]) });
        assert_eq!(shown, ["JoinGroup", "my-group <- Join member=\"c-1\" owned=[]"]);
        assert!(h.con.process.assignment.is_empty());
    }

    #[test]
    fn a_sync_answer_for_a_generation_it_gave_up_is_ignored() {
        let mut h = Harness::new(|_| {});
        h.start();
        h.join_ok(1, false);
        let shown = h.reply(Reply::Sync { generation: 2, result: Ok(vec![tp(0)]) });
        assert!(shown.is_empty(), "{shown:?}");
        assert!(h.con.process.assignment.is_empty());
    }

    #[test]
    fn an_eager_member_commits_then_revokes_everything_and_rejoins_on_a_rebalance() {
        let mut h = Harness::new(|s| s.commit = CommitMode::Auto);
        h.member_of(&[(0, 4), (2, 9)]);
        // onJoinPrepare: the auto-commit goes first, and nothing is fetched until its answer.
        let shown = h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::RebalanceInProgress) });
        assert_eq!(
            shown,
            ["CommitSent".to_string(), format!("my-group <- Commit {:?} BeforeJoin", [(tp(0), 4), (tp(2), 9)])]
        );
        assert_eq!(h.con.process.phase, Phase::Joining);
        assert_eq!(h.con.process.assignment, [tp(0), tp(2)], "still its own until the commit is answered");
        let shown = h.reply(Reply::OffsetCommit { purpose: CommitPurpose::BeforeJoin });
        assert_eq!(
            shown,
            [
                "Revoked".to_string(),
                "JoinGroup".into(),
                // An eager member owns nothing when it joins (what it had goes in the sticky
                // assignor's user data).
                "my-group <- Join member=\"c-1\" owned=[]".into(),
            ]
        );
        assert_eq!(h.con.process.classic().unwrap().last_assignment, [tp(0), tp(2)]);
        assert!(h.con.process.assignment.is_empty() && h.con.process.positions.is_empty());
        assert_eq!(h.con.process.phase, Phase::Joining);
    }

    #[test]
    fn without_auto_commit_an_eager_member_revokes_and_rejoins_at_once() {
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 4)]);
        let shown = h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::RebalanceInProgress) });
        assert_eq!(shown[..2], ["Revoked", "JoinGroup"]);
    }

    #[test]
    fn a_cooperative_member_commits_before_it_rejoins_not_when_it_gives_partitions_up() {
        let mut h = Harness::new(|s| {
            s.commit = CommitMode::Auto;
            s.assignors = vec![Strategy::CooperativeSticky];
        });
        h.processing(3, 5);
        // A rebalance starts while it processes: the commit goes out now, the JoinGroup at its next
        // poll after the answer.
        let shown = h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::RebalanceInProgress) });
        assert!(shown.is_empty(), "{shown:?}");
        h.now = SimTime(2_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert_eq!(
            shown[2..],
            [
                "CommitSent".to_string(),
                format!("my-group <- Commit {:?} BeforeJoin", [(tp(0), 5)]),
                "+1 FetchArrive".into()
            ]
        );
        assert_eq!(h.con.process.phase, Phase::Fetching, "a cooperative member goes on reading");
        let shown = h.reply(Reply::OffsetCommit { purpose: CommitPurpose::BeforeJoin });
        assert_eq!(
            shown[..2],
            ["JoinGroup".to_string(), format!("my-group <- Join member=\"c-1\" owned={:?}", [tp(0)])]
        );
        // The new assignment takes partition 0 away: no commit then (what it read since is read
        // again by the next owner).
        h.join_ok(2, false);
        let shown = h.reply(Reply::Sync { generation: 2, result: Ok(vec![]) });
        assert!(!shown.iter().any(|s| s.contains("Commit")), "{shown:?}");
        assert_eq!(shown[0], "Revoked");
    }

    #[test]
    fn a_cooperative_member_keeps_its_partitions_while_it_rejoins_and_rejoins_after_giving_some_up() {
        let mut h = Harness::new(|s| s.assignors = vec![Strategy::CooperativeSticky]);
        h.member_of(&[(0, 0), (1, 0)]);
        let shown = h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::RebalanceInProgress) });
        // It reports what it owns and goes on fetching meanwhile.
        assert_eq!(
            shown,
            [
                "JoinGroup".to_string(),
                format!("my-group <- Join member=\"c-1\" owned={:?}", [tp(0), tp(1)]),
                "+1 FetchArrive".into()
            ]
        );
        assert_eq!(h.con.process.assignment, [tp(0), tp(1)]);
        assert_ne!(h.con.process.phase, Phase::Joining);
        h.join_ok(2, false);
        // The new assignment takes partition 1 away: it gives it up and joins again at once, so
        // the partition can go to its new owner (KIP-429).
        let shown = h.reply(Reply::Sync { generation: 2, result: Ok(vec![tp(0)]) });
        assert_eq!(shown[..3], ["Revoked", "Assigned", "JoinGroup"]);
        assert_eq!(shown[3], format!("my-group <- Join member=\"c-1\" owned={:?}", [tp(0)]));
    }

    #[test]
    fn processing_starts_on_a_fetch_answer_and_stale_answers_are_dropped() {
        let mut h = Harness::new(|_| {});
        let shown = h.processing(3, 5);
        assert_eq!(shown, ["Fetched", "Processing", "+2000 ProcessingDone"]);
        assert_eq!(h.con.process.positions[&tp(0)], 5);
        // An answer to an abandoned fetch changes nothing.
        let old = h.con.fetch_id - 1;
        assert!(h.msg(Msg::FetchResponse { fetch_id: old, ranges: vec![run(tp(0), 5, 9)] }).is_empty());
        // Done: credited to the group, committed, and back to poll().
        h.now = SimTime(2_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert_eq!(
            shown,
            [
                format!("processed {:?} 3..5", tp(0)),
                "Processed".into(),
                "CommitSent".into(),
                format!("my-group <- Commit {:?} Sync", [(tp(0), 5)]),
            ]
        );
        assert_eq!(h.con.process.phase, Phase::CommittingAfterProcessing);
        assert_eq!(h.reply(Reply::OffsetCommit { purpose: CommitPurpose::Sync }), ["+1 FetchArrive"]);
    }

    #[test]
    fn an_answer_for_a_partition_repositioned_meanwhile_is_dropped_and_it_polls_again() {
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 3)]);
        let fetch_id = h.con.fetch_id;
        assert_eq!(h.msg(Msg::FetchResponse { fetch_id, ranges: vec![run(tp(0), 1, 5)] }), ["+1 FetchArrive"]);
        assert_eq!(h.con.fetch_id, fetch_id + 1);
    }

    #[test]
    fn the_position_moves_past_markers_after_the_records_handed_over_and_past_a_run_of_markers_alone() {
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 3)]);
        let fetch_id = h.con.fetch_id;
        // Records 3-4, then a marker at 5: the position is 6.
        let answer = vec![Run { tp: tp(0), from: 3, to: 5, next: 6 }];
        assert_eq!(h.msg(Msg::FetchResponse { fetch_id, ranges: answer }).first().map(String::as_str), Some("Fetched"));
        assert_eq!(h.con.process.in_flight, [(tp(0), 3, 5)], "the marker is not handed over");
        assert_eq!(h.con.process.positions.get(&tp(0)), Some(&6));
        // Only markers to move past: nothing to process, it fetches again from after them.
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 3)]);
        let fetch_id = h.con.fetch_id;
        let answer = vec![Run { tp: tp(0), from: 3, to: 3, next: 5 }];
        assert_eq!(h.msg(Msg::FetchResponse { fetch_id, ranges: answer }), ["+1 FetchArrive"]);
        assert_eq!(h.con.process.positions.get(&tp(0)), Some(&5));
    }

    #[test]
    fn an_empty_partition_parks_the_fetch_until_fetch_max_wait() {
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 0)]);
        let fetch_id = h.con.fetch_id;
        h.now = SimTime(1);
        assert_eq!(h.msg(Msg::FetchArrive { fetch_id }), [format!("park {:?}", tp(0)), "+500 FetchTimeout".into()]);
        assert!(h.con.process.parked);
        // News from the partition, but nothing readable: it stays parked there.
        let shown = h.run(|c, ctx, out| c.on_partition_news(ctx, tp(0), fetch_id, out));
        assert_eq!(shown, [format!("park {:?}", tp(0))]);
        h.now = SimTime(501);
        assert_eq!(h.msg(Msg::FetchTimeout { fetch_id }), ["+1 FetchResponse"]);
        assert_eq!(h.msg(Msg::FetchResponse { fetch_id, ranges: Vec::new() }), ["+1 FetchArrive"]);
    }

    #[test]
    fn a_parked_fetch_failed_on_disconnect_is_sent_again_at_once() {
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 0)]);
        let fetch_id = h.con.fetch_id;
        h.msg(Msg::FetchArrive { fetch_id });
        assert!(h.con.process.parked, "nothing to read: parked at the leader");
        let shown = h.msg(Msg::FetchFailed { fetch_id, broker: BrokerId(1) });
        assert_eq!(shown, ["RequestFailed", "+1 FetchArrive"]);
        assert!(!h.con.process.parked && h.con.fetch_id > fetch_id, "a new fetch");
        // A failure of a fetch it no longer waits for is old news.
        assert!(h.msg(Msg::FetchFailed { fetch_id, broker: BrokerId(1) }).is_empty());
    }

    #[test]
    fn removed_while_processing_it_is_a_zombie_its_commit_fails_and_it_rejoins_at_its_next_poll() {
        let mut h = Harness::new(|_| {});
        h.processing(0, 5);
        let shown = h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::UnknownMemberId) });
        assert_eq!(shown, ["Zombie"]);
        assert!(h.con.process.zombie && h.con.process.member_id.is_empty());
        assert_eq!(h.con.process.assignment, [tp(0)], "a zombie still holds what it is processing");
        h.now = SimTime(5_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert_eq!(
            shown,
            [
                format!("processed {:?} 0..5", tp(0)),
                "Processed".into(),
                "CommitFailed".into(),
                "Revoked".into(),
                "JoinGroup".into(),
                "my-group <- Join member=\"\" owned=[]".into(),
            ]
        );
        assert_eq!(
            h.con.process.classic().unwrap().last_generation,
            1,
            "what it owned is reported with the generation it had it in"
        );
        assert!(!h.con.process.zombie && h.con.process.assignment.is_empty());
    }

    #[test]
    fn the_poll_timer_runs_out_while_processing_the_member_leaves_and_keeps_its_batch() {
        let mut h = Harness::new(|s| s.processing_ms = 3_000);
        h.processing(0, 5); // 15 s of work, max.poll.interval.ms 10 s
        h.now = SimTime(9_000);
        // The heartbeat thread wakes up exactly when the poll timer runs out.
        assert_eq!(
            h.msg(Msg::HeartbeatTick),
            ["my-group <- Heartbeat gen=1", "@10000 PollTimerCheck", "+3000 HeartbeatTick"]
        );
        h.now = SimTime(10_000);
        let shown = h.msg(Msg::PollTimerCheck);
        assert_eq!(shown, ["PollTimeout", "LeaveGroup", "my-group <- Leave member=\"c-1\"", "Zombie"]);
        assert!(h.con.process.member_id.is_empty());
    }

    #[test]
    fn a_static_member_does_not_leave_when_its_poll_timer_runs_out_or_it_closes() {
        let mut h = Harness::new(|s| {
            s.processing_ms = 3_000;
            s.group_instance_id = Some("i".into());
        });
        h.processing(0, 5);
        h.now = SimTime(10_000);
        assert_eq!(h.msg(Msg::PollTimerCheck), ["PollTimeout", "Zombie"]);
        let mut h = Harness::new(|s| s.group_instance_id = Some("i".into()));
        h.member_of(&[(0, 0)]);
        assert_eq!(h.run(|c, ctx, out| c.request_stop(ctx, out)), ["Stopped"]);
    }

    #[test]
    fn close_commits_with_auto_commit_and_leaves_the_group() {
        let mut h = Harness::new(|s| s.commit = CommitMode::Auto);
        h.member_of(&[(1, 6)]);
        let inc = h.con.inc;
        let shown = h.run(|c, ctx, out| c.request_stop(ctx, out));
        assert_eq!(
            shown,
            [
                "CommitSent".to_string(),
                format!("my-group <- Commit {:?} Async", [(tp(1), 6)]),
                "LeaveGroup".into(),
                "my-group <- Leave member=\"c-1\"".into(),
                "Stopped".into(),
            ]
        );
        assert_eq!(h.con.status, ConsumerStatus::Stopped);
        assert!(!h.con.is_live(inc), "messages for the closed process are dropped");
    }

    #[test]
    fn a_stop_while_processing_waits_for_the_batch_and_its_commit() {
        let mut h = Harness::new(|_| {});
        h.processing(0, 2);
        assert!(h.run(|c, ctx, out| c.request_stop(ctx, out)).is_empty());
        assert_eq!(h.con.status, ConsumerStatus::Running);
        h.now = SimTime(2_000);
        h.msg(Msg::ProcessingDone);
        let shown = h.reply(Reply::OffsetCommit { purpose: CommitPurpose::Sync });
        assert_eq!(shown, ["LeaveGroup", "my-group <- Leave member=\"c-1\"", "Stopped"]);
    }

    #[test]
    fn a_move_closes_in_the_old_group_then_joins_the_new_one_with_a_new_client_id() {
        let mut h = Harness::new(|s| s.commit = CommitMode::Auto);
        h.member_of(&[(0, 2)]);
        let shown = h.run(|c, ctx, out| c.move_to(ctx, "other", out));
        assert_eq!(
            shown,
            [
                "CommitSent".to_string(),
                format!("my-group <- Commit {:?} Async", [(tp(0), 2)]),
                "LeaveGroup".into(),
                "my-group <- Leave member=\"c-1\"".into(),
                "Stopped".into(),
                "Started".into(),
                "JoinGroup".into(),
                "other <- Join member=\"\" owned=[]".into(),
            ]
        );
        assert_eq!((h.con.spec.group.as_str(), h.con.client_id.as_str()), ("other", "consumer-other-1"));
    }

    #[test]
    fn a_fenced_static_member_stops_at_once_in_a_join_and_at_its_next_poll_when_processing() {
        let mut h = Harness::new(|s| s.group_instance_id = Some("i".into()));
        h.start();
        assert_eq!(h.reply(Reply::Join(JoinResponse::FencedInstanceId)), ["JoinFailed"]);
        assert_eq!(h.con.status, ConsumerStatus::Stopped);
        assert!(h.con.failure.as_deref().unwrap().starts_with("FENCED_INSTANCE_ID"));

        let mut h = Harness::new(|s| s.group_instance_id = Some("i".into()));
        h.processing(0, 1);
        assert_eq!(h.reply(Reply::Heartbeat { generation: 1, result: Err(GroupError::FencedInstanceId) }), ["Zombie"]);
        assert_eq!(h.con.status, ConsumerStatus::Running);
        h.now = SimTime(1_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert_eq!(shown[shown.len() - 2..], ["CommitFailed", "JoinFailed"]);
        assert_eq!(h.con.status, ConsumerStatus::Stopped);
    }

    #[test]
    fn an_inconsistent_protocol_answer_stops_the_consumer() {
        let mut h = Harness::new(|_| {});
        h.start();
        assert_eq!(h.reply(Reply::Join(JoinResponse::InconsistentGroupProtocol)), ["JoinFailed"]);
        assert!(h.con.failure.as_deref().unwrap().starts_with("INCONSISTENT_GROUP_PROTOCOL"));
    }

    #[test]
    fn a_crash_credits_what_was_processed_and_loses_the_rest() {
        let mut h = Harness::new(|_| {});
        h.processing(0, 5);
        h.now = SimTime(2_500); // two records done, the third half-way
        let shown = h.run(|c, ctx, out| c.crash(ctx, out));
        assert_eq!(shown, [format!("processed {:?} 0..2", tp(0)), "Processed".into(), "Crashed".into()]);
        assert_eq!(h.con.status, ConsumerStatus::Crashed);
        assert!(h.con.process.member_id.is_empty() && h.con.process.assignment.is_empty());
    }

    #[test]
    fn a_crash_drops_the_process_and_the_next_one_starts_with_nothing_under_its_new_protocol() {
        let mut h = Harness::new(|_| {});
        h.processing(0, 5);
        assert!(h.con.process().is_some_and(|p| !p.positions.is_empty() && p.classic().is_some()));
        h.run(|c, ctx, out| c.crash(ctx, out));
        assert!(h.con.process().is_none() && h.con.assignment().is_empty() && h.con.generation() == -1);
        // A new process, with settings given meanwhile: nothing of the last one, the new protocol.
        let mut spec = h.con.spec.clone();
        spec.group_protocol = GroupProtocol::Consumer;
        h.con.configure(spec);
        h.start();
        let p = h.con.process().expect("it runs");
        assert!(p.modern().is_some() && p.classic().is_none());
        assert!(p.positions.is_empty() && p.in_flight.is_empty() && !p.zombie && p.pending_commit.is_none());
        assert_eq!((p.generation, p.joining), (0, true), "it joins afresh at epoch 0");
    }

    #[test]
    fn heartbeat_answers_of_an_old_generation_are_ignored() {
        let mut h = Harness::new(|_| {});
        h.member_of(&[(0, 0)]);
        let shown = h.reply(Reply::Heartbeat { generation: 0, result: Err(GroupError::IllegalGeneration) });
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(h.con.process.member_id, "c-1");
    }

    // ----- the consumer protocol (KIP-848) ---------------------------------------------------

    use crate::sim::kafka::consumer_group::{self as cg, HeartbeatResponse};
    use crate::sim::kafka::reconcile::Partitions;

    fn parts(ps: &[u32]) -> Partitions {
        let mut p = Partitions::new();
        if !ps.is_empty() {
            p.insert("my-topic".into(), ps.iter().copied().collect());
        }
        p
    }

    fn modern(edit: impl FnOnce(&mut ConsumerSpec)) -> Harness {
        Harness::new(|s| {
            s.group_protocol = GroupProtocol::Consumer;
            edit(s)
        })
    }

    impl Harness {
        fn beat_answer(&mut self, epoch: i32, assignment: Option<&[u32]>) -> Vec<String> {
            let r = HeartbeatResponse {
                member_id: self.con.process.member_id.clone(),
                member_epoch: epoch,
                heartbeat_interval_ms: 5_000,
                assignment: assignment.map(parts),
            };
            self.msg(Msg::GroupReply(cg::Reply::Heartbeat(Ok(r))))
        }

        fn beat_error(&mut self, e: cg::GroupError) -> Vec<String> {
            self.msg(Msg::GroupReply(cg::Reply::Heartbeat(Err(e))))
        }

        /// Joined at epoch 1 owning `partitions` of my-topic, positioned at these offsets.
        fn modern_member(&mut self, partitions: &[(u32, u64)]) {
            self.start();
            let ps: Vec<u32> = partitions.iter().map(|(p, _)| *p).collect();
            self.beat_answer(1, Some(&ps));
            let offsets = partitions.iter().map(|(p, o)| (tp(*p), Some(*o))).collect();
            self.msg(Msg::GroupReply(cg::Reply::OffsetFetch { result: Ok(offsets) }));
            // The acknowledgement's answer.
            self.beat_answer(1, None);
        }
    }

    #[test]
    fn under_the_consumer_protocol_it_joins_with_its_own_member_id_at_epoch_0() {
        let mut h = modern(|_| {});
        let shown = h.start();
        assert_eq!(shown, ["Started", "JoinGroup", "my-group <= Heartbeat epoch=0 full=true owned=Some([])"]);
        assert_eq!(h.con.process.member_id.len(), 22, "a UUID in base64: {}", h.con.process.member_id);
        assert!(!h.con.process.member_id.starts_with('-'));
        // It does not stop the world while it joins: nothing to fetch yet, it waits in poll().
        assert_eq!(h.con.process.phase, Phase::Idle);
    }

    #[test]
    fn the_heartbeat_interval_runs_from_when_the_heartbeat_was_sent() {
        let mut h = modern(|_| {});
        h.now = SimTime(100);
        h.start();
        // The answer comes 4 ms later; the next heartbeat is due 5 s after the send, not after
        // the answer (the heartbeat request manager restarts its timer when it sends).
        h.now = SimTime(104);
        let shown = h.beat_answer(1, None);
        assert!(shown.contains(&"@5100 HeartbeatTick".to_string()), "{shown:?}");
    }

    #[test]
    fn without_auto_commit_the_background_thread_takes_an_assignment_at_once_and_acknowledges_it() {
        let mut h = modern(|_| {});
        h.start();
        let shown = h.beat_answer(1, Some(&[0, 1]));
        assert_eq!(
            shown,
            [
                "@5000 HeartbeatTick".to_string(),
                "Assigned".into(),
                "OffsetFetch".into(),
                format!("my-group <= OffsetFetch epoch=1 {:?}", [tp(0), tp(1)]),
                "my-group <= Heartbeat epoch=1 full=false owned=Some([\"my-topic-0\", \"my-topic-1\"])".into(),
            ]
        );
        // The answer to the acknowledgement sets the next regular heartbeat.
        assert_eq!(h.beat_answer(1, None), ["@5000 HeartbeatTick"]);
        // A regular heartbeat does not repeat what it owns.
        h.now = SimTime(5_000);
        assert_eq!(h.msg(Msg::HeartbeatTick), ["my-group <= Heartbeat epoch=1 full=false owned=None"]);
    }

    #[test]
    fn without_auto_commit_a_revocation_completes_while_the_application_processes_records_of_it() {
        let mut h = modern(|_| {});
        h.modern_member(&[(0, 3), (1, 4)]);
        let fetch_id = h.con.fetch_id;
        h.msg(Msg::FetchResponse { fetch_id, ranges: vec![run(tp(0), 3, 4), run(tp(1), 4, 6)] });
        assert_eq!(h.con.process.phase, Phase::Processing);
        // Partition 1 goes to someone else: given up and acknowledged now (KAFKA-18641), with
        // its two records still in the application's hands.
        h.now = SimTime(500);
        let shown = h.beat_answer(2, Some(&[0]));
        assert_eq!(shown[1..3], ["RevokedWhileProcessing".to_string(), "Revoked".into()]);
        assert!(shown.contains(&"my-group <= Heartbeat epoch=2 full=false owned=Some([\"my-topic-0\"])".to_string()));
        assert_eq!(h.con.in_hand_of(&[tp(1)]), 2);
        // The application finishes them; their offsets are no longer its to commit.
        h.now = SimTime(3_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert!(shown.contains(&format!("processed {:?} 4..6", tp(1))), "{shown:?}");
        assert!(shown.contains(&format!("my-group <= Commit epoch=2 {:?} Sync", [(tp(0), 4)])), "{shown:?}");
    }

    #[test]
    fn with_auto_commit_it_commits_before_it_gives_partitions_up_and_keeps_fetching_meanwhile() {
        let mut h = modern(|s| s.commit = CommitMode::Auto);
        h.modern_member(&[(0, 3), (1, 4)]);
        assert_eq!(h.con.process.phase, Phase::Fetching);
        // Partition 1 goes to someone else.
        let shown = h.beat_answer(2, Some(&[0]));
        assert!(shown.iter().any(|s| s.contains("Commit epoch=2") && s.contains("BeforeJoin")), "{shown:?}");
        assert_eq!(h.con.process.assignment, [tp(0), tp(1)], "nothing given up before the commit's answer");
        assert_eq!(h.con.process.phase, Phase::Fetching, "no stop-the-world");
        let shown =
            h.msg(Msg::GroupReply(cg::Reply::OffsetCommit { purpose: CommitPurpose::BeforeJoin, result: Ok(()) }));
        assert_eq!(h.con.process.assignment, [tp(0)]);
        assert!(shown.contains(&"Revoked".to_string()), "{shown:?}");
        assert!(shown.iter().any(|s| s.contains("Heartbeat epoch=2") && s.contains("owned=Some([\"my-topic-0\"])")));
    }

    #[test]
    fn fenced_it_loses_its_partitions_and_joins_again_with_the_same_member_id() {
        let mut h = modern(|_| {});
        h.modern_member(&[(0, 0)]);
        let id = h.con.process.member_id.clone();
        let shown = h.beat_error(cg::GroupError::FencedMemberEpoch);
        assert_eq!(shown[0], "Revoked");
        assert!(shown.contains(&"my-group <= Heartbeat epoch=0 full=true owned=Some([])".to_string()), "{shown:?}");
        assert_eq!(h.con.process.member_id, id);
        assert!(h.con.process.assignment.is_empty());
    }

    #[test]
    fn with_auto_commit_it_commits_before_every_reconciliation_even_one_that_only_gains() {
        let mut h = modern(|s| s.commit = CommitMode::Auto);
        h.modern_member(&[(0, 3)]);
        let shown = h.beat_answer(2, Some(&[0, 1]));
        assert!(shown.contains(&format!("my-group <= Commit epoch=2 {:?} BeforeJoin", [(tp(0), 3)])), "{shown:?}");
        assert_eq!(h.con.process.assignment, [tp(0)], "nothing taken before the commit's answer");
        let shown =
            h.msg(Msg::GroupReply(cg::Reply::OffsetCommit { purpose: CommitPurpose::BeforeJoin, result: Ok(()) }));
        assert_eq!(h.con.process.assignment, [tp(0), tp(1)]);
        assert!(shown.contains(&"Assigned".to_string()), "{shown:?}");
    }

    #[test]
    fn with_auto_commit_the_reconciliation_finishes_in_the_background_once_its_commit_is_answered() {
        let mut h = modern(|s| s.commit = CommitMode::Auto);
        h.modern_member(&[(0, 3), (1, 4)]);
        h.beat_answer(2, Some(&[0])); // poll() commits first
                                      // Meanwhile the fetch brings records of both, and the application processes them.
        let fetch_id = h.con.fetch_id;
        h.msg(Msg::FetchResponse { fetch_id, ranges: vec![run(tp(0), 3, 4), run(tp(1), 4, 6)] });
        assert_eq!(h.con.process.phase, Phase::Processing);
        let shown =
            h.msg(Msg::GroupReply(cg::Reply::OffsetCommit { purpose: CommitPurpose::BeforeJoin, result: Ok(()) }));
        assert_eq!(shown[..2], ["RevokedWhileProcessing".to_string(), "Revoked".into()]);
        assert_eq!(h.con.process.assignment, [tp(0)]);
    }

    #[test]
    fn a_stale_member_epoch_answer_to_the_reconciliation_commit_is_retried_with_the_latest_epoch() {
        let mut h = modern(|s| s.commit = CommitMode::Auto);
        h.modern_member(&[(0, 3), (1, 4)]);
        h.beat_answer(2, Some(&[0]));
        let stale = || {
            Msg::GroupReply(cg::Reply::OffsetCommit {
                purpose: CommitPurpose::BeforeJoin,
                result: Err(cg::GroupError::StaleMemberEpoch),
            })
        };
        assert_eq!(h.msg(stale()), ["+100 RetryCommit"]);
        assert_eq!(h.con.process.assignment, [tp(0), tp(1)], "still waiting for its commit");
        h.con.process.generation = 3; // a heartbeat answer moved it on meanwhile
        let shown = h.msg(Msg::RetryCommit);
        assert!(shown.iter().any(|s| s.starts_with("my-group <= Commit epoch=3") && s.ends_with("BeforeJoin")));
        assert_eq!(h.msg(stale()), ["+200 RetryCommit"], "the backoff doubles");
        let shown =
            h.msg(Msg::GroupReply(cg::Reply::OffsetCommit { purpose: CommitPurpose::BeforeJoin, result: Ok(()) }));
        assert!(shown.contains(&"Revoked".to_string()), "{shown:?}");
        assert_eq!(h.con.process.assignment, [tp(0)]);
        // Past the rebalance timeout it gives up retrying and reconciles anyway.
        let mut h = modern(|s| s.commit = CommitMode::Auto);
        h.modern_member(&[(0, 3), (1, 4)]);
        h.beat_answer(2, Some(&[0]));
        h.now = SimTime(10_000);
        assert!(h.msg(stale()).contains(&"Revoked".to_string()));
    }

    #[test]
    fn an_offset_fetch_at_a_stale_epoch_is_asked_again_and_an_unknown_member_gives_up() {
        let mut h = modern(|_| {});
        h.start();
        h.beat_answer(1, Some(&[0]));
        let refused = |e| Msg::GroupReply(cg::Reply::OffsetFetch { result: Err((vec![tp(0)], e)) });
        assert_eq!(h.msg(refused(cg::GroupError::StaleMemberEpoch)), ["OffsetFetchFailed", "+100 RetryOffsetFetch"]);
        h.con.process.generation = 2;
        assert_eq!(
            h.msg(Msg::RetryOffsetFetch),
            ["OffsetFetch".to_string(), format!("my-group <= OffsetFetch epoch=2 {:?}", [tp(0)])]
        );
        assert_eq!(h.msg(refused(cg::GroupError::UnknownMemberId)), ["OffsetFetchFailed"]);
        assert!(h.con.process.awaiting_offsets.is_empty());
        assert!(h.msg(Msg::RetryOffsetFetch).is_empty());
    }

    #[test]
    fn fenced_while_processing_it_loses_its_partitions_at_once_and_finishes_the_batch_uncommitted() {
        let mut h = modern(|_| {});
        h.modern_member(&[(0, 0)]);
        let fetch_id = h.con.fetch_id;
        h.msg(Msg::FetchResponse { fetch_id, ranges: vec![run(tp(0), 0, 2)] });
        assert_eq!(h.con.process.phase, Phase::Processing);
        // The background thread clears its assignment and joins again at once (no listener to
        // run on the application thread).
        assert_eq!(
            h.beat_error(cg::GroupError::UnknownMemberId),
            [
                "RevokedWhileProcessing",
                "Revoked",
                "JoinGroup",
                "my-group <= Heartbeat epoch=0 full=true owned=Some([])"
            ]
        );
        assert!(h.con.process.assignment.is_empty() && !h.con.process.zombie);
        h.now = SimTime(2_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert!(shown.contains(&format!("processed {:?} 0..2", tp(0))), "{shown:?}");
        assert!(!shown.iter().any(|s| s.contains("Commit")), "nothing left to commit: {shown:?}");
        assert!(!shown.iter().any(|s| s.contains("Heartbeat epoch=0")), "it joined already: {shown:?}");
    }

    #[test]
    fn close_leaves_with_epoch_minus_1_and_a_static_member_with_minus_2() {
        for (instance, epoch) in [(None, -1), (Some("i-1".to_string()), -2)] {
            let mut h = modern(|s| s.group_instance_id = instance.clone());
            h.modern_member(&[(0, 0)]);
            let shown = h.run(|c, ctx, out| c.close(ctx, out));
            let leave = format!("my-group <= Heartbeat epoch={epoch} full=false owned=None");
            assert!(shown.contains(&leave), "{shown:?}");
        }
    }

    #[test]
    fn unreleased_instance_id_is_fatal() {
        let mut h = modern(|s| s.group_instance_id = Some("i-1".into()));
        h.start();
        assert_eq!(h.beat_error(cg::GroupError::UnreleasedInstanceId), ["JoinFailed"]);
        assert!(h.con.failure.as_deref().unwrap().starts_with("UNRELEASED_INSTANCE_ID"));
    }

    #[test]
    fn the_poll_timer_running_out_leaves_and_it_joins_again_at_its_next_poll() {
        let mut h = modern(|_| {});
        h.modern_member(&[(0, 0)]);
        let fetch_id = h.con.fetch_id;
        h.msg(Msg::FetchResponse { fetch_id, ranges: vec![run(tp(0), 0, 20)] }); // 20 s of work
        h.now = SimTime(10_001);
        let shown = h.msg(Msg::PollTimerCheck);
        assert_eq!(shown[..2], ["PollTimeout".to_string(), "LeaveGroup".into()]);
        assert!(shown.contains(&"my-group <= Heartbeat epoch=-1 full=false owned=None".to_string()), "{shown:?}");
        assert!(shown.contains(&"RevokedWhileProcessing".to_string()), "{shown:?}");
        assert!(h.con.process.assignment.is_empty(), "lost at once");
        h.now = SimTime(20_000);
        let shown = h.msg(Msg::ProcessingDone);
        assert!(shown.iter().any(|s| s.contains("Heartbeat epoch=0 full=true")), "{shown:?}");
    }
}
