//! The group coordinator of Kafka's classic group protocol, as it runs on a broker, as a state
//! machine: it owns one group's state, takes one message at a time — a request
//! ([`GroupCoordinator::on_request`]) or one of its timers ([`GroupCoordinator::on_timer`]) — and
//! records what it does (replies, timers, events) in an [`Out`] the engine applies in the order
//! recorded. It knows nothing of the rest of the cluster.
//!
//! States `Empty → PreparingRebalance → CompletingRebalance → Stable` (and `Dead`), generations,
//! a leader that computes the assignment, JoinGroup/SyncGroup/Heartbeat/LeaveGroup handling,
//! `group.initial.rebalance.delay.ms`, the rebalance timeout (each member's
//! `max.poll.interval.ms`), session expiry after `session.timeout.ms` without a heartbeat, static
//! members (`group.instance.id`) that come back without a rebalance and fence a process that
//! still uses their id (FENCED_INSTANCE_ID), and the group's committed offsets (OffsetCommit,
//! OffsetFetch), which it keeps as `__consumer_offsets` would.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::sim::assign::Subscription;
use crate::sim::config::Strategy;
use crate::sim::event::{EventKind, PartitionOffset};
use crate::sim::ids::{ConsumerId, GroupId, MemberId, Name, Tp};
use crate::sim::time::SimTime;

/// The coordinator states of the classic protocol, as Kafka names them.
/// `offsets.topic.num.partitions`.
pub const OFFSETS_PARTITIONS: u32 = 50;

/// Java's `String.hashCode`, which Kafka's `partitionFor` uses.
pub(crate) fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The partition of an internal topic of `partitions` partitions that keeps `key` (Kafka's
/// `partitionFor`: `Utils.abs(key.hashCode()) % partitions`, where the absolute value of
/// `i32::MIN` is 0).
pub(crate) fn partition_for(key: &str, partitions: u32) -> u32 {
    let h = java_hash(key);
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % partitions
}

/// The `__consumer_offsets` partition of a group.
pub fn offsets_partition(group: &str) -> u32 {
    partition_for(group, OFFSETS_PARTITIONS)
}

/// The initial delay of an empty group's first rebalance: this delay, and what is left of the
/// rebalance timeout for more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InitialDelay {
    delay_ms: u64,
    remaining_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// A member as the coordinator knows it.
#[derive(Clone, Debug)]
pub struct Member {
    pub member_id: MemberId,
    /// The consumer (and its incarnation) behind this member id, and its name.
    pub consumer: ConsumerId,
    pub inc: u32,
    pub name: Name,
    pub client_id: String,
    pub instance_id: Option<String>,
    pub topics: Vec<String>,
    /// The assignors it supports, in order of preference.
    pub strategies: Vec<Strategy>,
    /// What it reported owning when it joined (a cooperative member: what it owns; an eager
    /// one: nothing), and its generation.
    pub owned: Vec<Tp>,
    pub owned_generation: i32,
    /// The sticky assignor's user data: what it owned in its last generation, and which.
    pub memorized: Vec<Tp>,
    pub memorized_generation: i32,
    /// Its partitions in the current generation.
    pub assignment: Vec<Tp>,
    /// It has sent a JoinGroup in the current rebalance.
    pub joined: bool,
    /// A JoinGroup response is being held for it.
    pub awaiting_join: bool,
    pub last_heartbeat: SimTime,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    session_check_at: Option<SimTime>,
}

impl Member {
    /// Whether a JoinGroup carries the metadata this member joined with (Kafka's
    /// `member.matches(protocols)`: the protocols and each one's subscription).
    fn same_metadata(&self, req: &JoinRequest) -> bool {
        self.topics == req.topics
            && self.strategies == req.strategies
            && self.owned == req.owned
            && self.owned_generation == req.owned_generation
            && self.memorized == req.memorized
            && self.memorized_generation == req.memorized_generation
    }

    /// Takes the metadata of a JoinGroup (subscription, protocols, timeouts).
    fn update_metadata(&mut self, req: &JoinRequest) {
        self.topics = req.topics.clone();
        self.strategies = req.strategies.clone();
        self.owned = req.owned.clone();
        self.owned_generation = req.owned_generation;
        self.memorized = req.memorized.clone();
        self.memorized_generation = req.memorized_generation;
        self.session_timeout_ms = req.session_timeout_ms;
        self.rebalance_timeout_ms = req.rebalance_timeout_ms;
    }

    /// When the coordinator will give up on it without another heartbeat.
    pub fn session_deadline(&self) -> SimTime {
        self.last_heartbeat.plus(self.session_timeout_ms)
    }

    /// A member as its JoinGroup `join` describes it, with `assignment`, its session from `now`:
    /// one that comes from a consumer-protocol group turned classic.
    pub fn from_join(join: &JoinRequest, member_id: &str, from: &Client, assignment: Vec<Tp>, now: SimTime) -> Member {
        let mut m = Member {
            member_id: member_id.into(),
            consumer: from.consumer,
            inc: from.inc,
            name: from.name.clone(),
            client_id: join.client_id.clone(),
            instance_id: join.instance_id.clone(),
            topics: Vec::new(),
            strategies: Vec::new(),
            owned: Vec::new(),
            owned_generation: -1,
            memorized: Vec::new(),
            memorized_generation: -1,
            assignment,
            joined: false,
            awaiting_join: false,
            last_heartbeat: now,
            session_timeout_ms: 0,
            rebalance_timeout_ms: 0,
            session_check_at: None,
        };
        m.update_metadata(join);
        m
    }
}

/// What a consumer sends in its JoinGroup.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    pub group: GroupId,
    pub member_id: MemberId,
    pub client_id: String,
    pub instance_id: Option<String>,
    pub topics: Vec<String>,
    /// `partition.assignment.strategy`: the protocols it supports, in order of preference.
    pub strategies: Vec<Strategy>,
    /// Subscription.ownedPartitions: what a cooperative member owns (an eager one gave all up).
    pub owned: Vec<Tp>,
    pub owned_generation: i32,
    /// The sticky assignor's user data: its previous assignment and that generation.
    pub memorized: Vec<Tp>,
    pub memorized_generation: i32,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
}

/// The coordinator's answer to a JoinGroup.
#[derive(Clone, Debug)]
pub enum JoinResponse {
    Ok {
        generation: i32,
        member_id: MemberId,
        leader: bool,
        strategy: Strategy,
        /// For the leader: every member's subscription, in join order.
        members: Vec<(MemberId, Subscription)>,
        /// KIP-814: a static leader replaced in a Stable group is told it leads but must not
        /// compute an assignment (the group keeps the one it has).
        skip_assignment: bool,
    },
    /// The member id is not known (it was removed): join again without one.
    UnknownMemberId,
    /// KIP-394: a new dynamic member's first JoinGroup gets its member id and no membership yet;
    /// it joins again with that id.
    MemberIdRequired { member_id: MemberId },
    /// Its `session.timeout.ms` is outside what the broker accepts.
    InvalidSessionTimeout,
    /// Its assignor is not one the group's members agree on.
    InconsistentGroupProtocol,
    /// Another consumer has joined with its `group.instance.id`.
    FencedInstanceId,
    /// The group was converted to the consumer protocol while this JoinGroup waited: join again.
    RebalanceInProgress,
    /// The group's members use the consumer protocol (KIP-848), and the run keeps the rules of
    /// links made before ksim modelled a group mixing both protocols (version 2): the member is
    /// refused, and told so.
    MixedProtocols,
}

/// Errors the coordinator answers Heartbeat, SyncGroup and OffsetCommit with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupError {
    RebalanceInProgress,
    UnknownMemberId,
    IllegalGeneration,
    /// A static member whose `group.instance.id` another consumer has taken over (KIP-345).
    FencedInstanceId,
}

impl GroupError {
    pub fn code(self) -> &'static str {
        match self {
            GroupError::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            GroupError::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            GroupError::IllegalGeneration => "ILLEGAL_GENERATION",
            GroupError::FencedInstanceId => "FENCED_INSTANCE_ID",
        }
    }
}

/// Who sends a request: the consumer process (its incarnation, where the answer goes) and the
/// name the run knows it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub consumer: ConsumerId,
    pub inc: u32,
    pub name: Name,
}

/// A member's identity in a request: member id, `group.instance.id` and generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRef {
    pub member_id: MemberId,
    pub instance_id: Option<String>,
    pub generation: i32,
}

/// The requests a group coordinator answers.
/// A request a coordinator holds unanswered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// A JoinGroup waiting for the rebalance to complete.
    Join,
    /// A SyncGroup waiting for the leader's.
    Sync,
}

/// Why a consumer commits: what it does with the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitPurpose {
    /// An auto-commit or `commitAsync()` in the poll loop, or on close: nothing waits for it.
    Async,
    /// `commitSync()` in the poll loop: the application waits for the answer.
    Sync,
    /// `onJoinPrepare`'s auto-commit: the JoinGroup waits for the answer.
    BeforeJoin,
}

#[derive(Clone, Debug)]
pub enum Request {
    Join(Box<JoinRequest>),
    /// SyncGroup; the leader's carries the assignment.
    Sync {
        member: MemberRef,
        assignments: Option<Vec<(MemberId, Vec<Tp>)>>,
    },
    Heartbeat {
        member: MemberRef,
    },
    Leave {
        member_id: MemberId,
    },
    OffsetCommit {
        member: MemberRef,
        offsets: Vec<(Tp, u64)>,
        purpose: CommitPurpose,
    },
    OffsetFetch {
        partitions: Vec<Tp>,
    },
}

/// The coordinator's own timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// A member's session may have run out.
    SessionCheck { member_id: MemberId },
    /// The join phase of the rebalance ends at the latest.
    JoinDeadline,
}

/// Answers to a consumer.
#[derive(Clone, Debug)]
pub enum Reply {
    Join(JoinResponse),
    Sync { generation: i32, result: Result<Vec<Tp>, GroupError> },
    Heartbeat { generation: i32, result: Result<(), GroupError> },
    OffsetCommit { purpose: CommitPurpose },
    OffsetFetch { offsets: Vec<(Tp, Option<u64>)> },
}

/// One thing the coordinator did, for the engine to carry out.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Send `reply` to the consumer process (over the network).
    Reply {
        consumer: ConsumerId,
        inc: u32,
        reply: Reply,
    },
    /// Call [`GroupCoordinator::on_timer`] with `timer` at `at`.
    Timer {
        at: SimTime,
        timer: Timer,
    },
    Event(EventKind),
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

impl From<EventKind> for Effect {
    fn from(e: EventKind) -> Self {
        Effect::Event(e)
    }
}

impl Out {
    /// Records the need to answer a consumer.
    fn reply(&mut self, consumer: ConsumerId, inc: u32, reply: Reply) {
        self.effects.push(Effect::Reply { consumer, inc, reply });
    }

    /// Records the need to wake this coordinator at `at`.
    fn timer(&mut self, at: SimTime, timer: Timer) {
        self.effects.push(Effect::Timer { at, timer });
    }
}

/// What a handler may read besides its own state.
pub struct Ctx<'a> {
    pub now: SimTime,
    /// `group.initial.rebalance.delay.ms`.
    pub initial_rebalance_delay_ms: u64,
    /// The run's random numbers (member ids).
    pub rng: &'a mut ChaCha8Rng,
    /// Topic names by index (subscriptions and offsets name topics).
    pub topics: &'a [Name],
    /// `group.min.session.timeout.ms` and `group.max.session.timeout.ms`: the session timeouts
    /// the broker accepts.
    pub session_timeout_bounds: (u64, u64),
}

impl Ctx<'_> {
    fn tp_name(&self, tp: Tp) -> (Name, u32) {
        (self.topics[tp.topic.ix()].clone(), tp.partition)
    }
}

/// Committed offsets as events name them (topics by name), for either protocol's coordinator.
pub fn partition_offsets(topics: &[Name], offsets: &[(Tp, u64)]) -> Vec<PartitionOffset> {
    offsets
        .iter()
        .map(|(tp, offset)| PartitionOffset {
            topic: topics[tp.topic.ix()].clone(),
            partition: tp.partition,
            offset: *offset,
        })
        .collect()
}

/// A member id like Kafka's: `{client.id}-{uuid}`, or `{group.instance.id}-{uuid}` for a static
/// member, with a version-4 UUID from the run's RNG.
pub fn new_member_id(rng: &mut ChaCha8Rng, prefix: &str) -> MemberId {
    let a: u128 = rng.random();
    let a = (a & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{a:032x}");
    format!("{prefix}-{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]).into()
}

/// One group's coordinator.
#[derive(Clone, Debug)]
pub struct GroupCoordinator {
    pub name: GroupId,
    pub state: GroupState,
    pub generation: i32,
    pub protocol: Option<Strategy>,
    pub leader: Option<MemberId>,
    /// Members in the order they joined.
    pub members: Vec<Member>,
    /// When the join phase of the current rebalance ends at the latest.
    pub join_deadline: Option<SimTime>,
    /// Set while `group.initial.rebalance.delay.ms` holds an empty group's first rebalance: the
    /// delay now running and what is left of the rebalance timeout after it.
    initial_delay: Option<InitialDelay>,
    /// A member joined since the initial delay's timer was set: when it fires, it waits again.
    new_member_added: bool,
    /// Members whose SyncGroup waits for the leader's.
    pending_sync: Vec<MemberId>,
    /// Member ids handed out with MEMBER_ID_REQUIRED whose second JoinGroup has not come yet.
    pub pending_members: Vec<MemberId>,
    /// The group's committed offsets, as `__consumer_offsets` holds them.
    pub offsets: crate::sim::kafka::offsets::GroupOffsets,
    /// The topics the members subscribed to when the current generation formed: what its
    /// assignment covers (the leader's group subscription).
    pub formed_topics: Vec<String>,
}

impl GroupCoordinator {
    /// Topics a member subscribes to that the current generation's assignment does not cover:
    /// a static member came back with a wider subscription, and its return did not rebalance
    /// the group. Nobody reads them until the next rebalance.
    pub fn unserved_topics(&self) -> Vec<String> {
        if self.state != GroupState::Stable {
            return Vec::new(); // a rebalance is on its way (or nobody is there)
        }
        let mut topics: Vec<String> = self
            .members
            .iter()
            .flat_map(|m| m.topics.iter())
            .filter(|t| !self.formed_topics.contains(t))
            .cloned()
            .collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// Every member's subscription under `protocol`, in join order: what a leader is sent.
    fn subscriptions(&self, ctx: &Ctx, protocol: Strategy) -> Vec<(MemberId, Subscription)> {
        self.members.iter().map(|m| (m.member_id.clone(), subscription_of(ctx, m, protocol))).collect()
    }

    pub fn new(name: &str) -> GroupCoordinator {
        GroupCoordinator {
            name: name.into(),
            state: GroupState::Empty,
            generation: 0,
            protocol: None,
            leader: None,
            members: Vec::new(),
            join_deadline: None,
            initial_delay: None,
            new_member_added: false,
            pending_sync: Vec::new(),
            pending_members: Vec::new(),
            offsets: Default::default(),
            formed_topics: Vec::new(),
        }
    }

    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == id)
    }

    /// Members whose SyncGroup waits for the leader's.
    pub fn pending_syncs(&self) -> &[MemberId] {
        &self.pending_sync
    }

    /// The coordinator's broker died: the JoinGroup and SyncGroup requests it held unanswered
    /// fail with their connections (returned: who sent them, and what), and are forgotten — a
    /// member that was waiting has not joined this rebalance until it sends a JoinGroup again,
    /// as a coordinator that loads the group finds no request waiting.
    pub fn close_connections(&mut self) -> Vec<(ConsumerId, u32, Held)> {
        let mut failed = Vec::new();
        for m in self.members.iter_mut() {
            if m.awaiting_join {
                m.awaiting_join = false;
                m.joined = false;
                failed.push((m.consumer, m.inc, Held::Join));
            }
        }
        for id in std::mem::take(&mut self.pending_sync) {
            if let Some(m) = self.member(&id) {
                failed.push((m.consumer, m.inc, Held::Sync));
            }
        }
        failed
    }

    /// The topics the members subscribe to, sorted.
    pub fn subscribed_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self.members.iter().flat_map(|m| m.topics.iter().cloned()).collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// The group was a consumer-protocol group a moment ago ([`crate::sim::kafka::consumer_group::ConsumerGroup::into_classic`]):
    /// every member's session starts now, and a rebalance starts at once if `rebalance` (the
    /// last consumer-protocol member left; not when a classic member took a static one's place).
    pub fn after_downgrade(&mut self, ctx: &Ctx, rebalance: bool, out: &mut Out) {
        out.event(EventKind::GroupConverted {
            group: self.name.clone(),
            protocol: "classic".into(),
            generation: self.generation,
            reason: "the last member on the consumer protocol is gone".into(),
        });
        let ids: Vec<MemberId> = self.members.iter().map(|m| m.member_id.clone()).collect();
        for id in ids {
            self.schedule_session_check(&id, out);
        }
        if rebalance {
            self.prepare_rebalance(ctx, "the group became classic again", None, out);
        }
    }

    fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.member_id == id)
    }

    fn rebalance_timeout(&self) -> u64 {
        self.members.iter().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0)
    }

    /// The error for a request from a member id the group does not know: FENCED_INSTANCE_ID if
    /// its `group.instance.id` now belongs to another member id, else UNKNOWN_MEMBER_ID.
    fn unknown(&self, member_id: &str, instance_id: Option<&str>) -> GroupError {
        let taken = instance_id.is_some_and(|i| {
            self.members.iter().any(|m| m.instance_id.as_deref() == Some(i) && m.member_id != member_id)
        });
        if taken {
            GroupError::FencedInstanceId
        } else {
            GroupError::UnknownMemberId
        }
    }

    fn set_state(&mut self, state: GroupState, reason: &str, out: &mut Out) {
        if self.state == state {
            return;
        }
        self.state = state;
        out.event(EventKind::GroupState {
            group: self.name.clone(),
            state: state.name().to_string(),
            generation: self.generation,
            reason: reason.to_string(),
        });
    }

    // ----- messages --------------------------------------------------------------------------

    /// A request from `from` arrives.
    pub fn on_request(&mut self, ctx: &mut Ctx, from: Client, request: Request, out: &mut Out) {
        match request {
            Request::Join(req) => self.on_join(ctx, from, *req, out),
            Request::Sync { member, assignments } => self.on_sync(ctx, from, member, assignments, out),
            Request::Heartbeat { member } => self.on_heartbeat(ctx, from, member, out),
            Request::Leave { member_id } => self.on_leave(ctx, &member_id, out),
            Request::OffsetCommit { member, offsets, purpose } => {
                self.on_commit(ctx, from, member, offsets, purpose, out)
            }
            Request::OffsetFetch { partitions } => {
                let offsets = partitions.iter().map(|tp| (*tp, self.offsets.get(*tp))).collect();
                out.reply(from.consumer, from.inc, Reply::OffsetFetch { offsets });
            }
        }
    }

    /// One of its timers fires.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer, out: &mut Out) {
        match timer {
            Timer::SessionCheck { member_id } => self.on_session_check(ctx, &member_id, out),
            Timer::JoinDeadline => self.on_join_deadline(ctx, out),
        }
    }

    /// A JoinGroup arrives.
    pub fn on_join(&mut self, ctx: &mut Ctx, from: Client, req: JoinRequest, out: &mut Out) {
        let now = ctx.now;
        let Client { consumer: c, inc, name } = from;
        let (min, max) = ctx.session_timeout_bounds;
        if req.session_timeout_ms < min || req.session_timeout_ms > max {
            out.reply(c, inc, Reply::Join(JoinResponse::InvalidSessionTimeout));
            return;
        }
        if !self.supports_protocols(&req.strategies) {
            out.reply(c, inc, Reply::Join(JoinResponse::InconsistentGroupProtocol));
            return;
        }
        // A static member coming back under a new incarnation (joining without a member id) takes
        // over its old member id's place; one joining with another member id is fenced.
        if let Some(instance) = &req.instance_id {
            let known = self.members.iter().position(|m| m.instance_id.as_ref() == Some(instance));
            if let Some(i) = known {
                if req.member_id.is_empty() {
                    self.replace_static_member(ctx, Client { consumer: c, inc, name }, &req, i, out);
                    return;
                }
                if self.members[i].member_id != req.member_id {
                    out.reply(c, inc, Reply::Join(JoinResponse::FencedInstanceId));
                    return;
                }
            }
        }
        let member_id = if req.member_id.is_empty() {
            match &req.instance_id {
                // A new static member is added at once, with an id made from its instance id.
                Some(instance) => new_member_id(ctx.rng, instance),
                None => {
                    // A new dynamic member gets an id to join with (KIP-394): it is pending until
                    // its second JoinGroup, for at most its session timeout.
                    let member_id = new_member_id(ctx.rng, &req.client_id);
                    self.pending_members.push(member_id.clone());
                    out.timer(now.plus(req.session_timeout_ms), Timer::SessionCheck { member_id: member_id.clone() });
                    out.event(EventKind::MemberIdRequired {
                        consumer: name,
                        group: self.name.clone(),
                        member_id: member_id.clone(),
                    });
                    out.reply(c, inc, Reply::Join(JoinResponse::MemberIdRequired { member_id }));
                    return;
                }
            }
        } else if let Some(i) = self.pending_members.iter().position(|id| *id == req.member_id) {
            self.pending_members.remove(i);
            req.member_id.clone()
        } else if self.member(&req.member_id).is_none() {
            out.reply(c, inc, Reply::Join(JoinResponse::UnknownMemberId));
            return;
        } else {
            req.member_id.clone()
        };
        // A known member joining again with the same metadata while the group is Stable (a
        // follower) or CompletingRebalance gets the current generation back, no rebalance.
        let same = self.member(&member_id).is_some_and(|m| m.same_metadata(&req));
        let leader = self.leader.as_deref() == Some(member_id.as_str());
        let current = match self.state {
            GroupState::Stable => same && !leader,
            GroupState::CompletingRebalance => same,
            _ => false,
        };
        if current {
            let (generation, strategy) = (self.generation, self.protocol.unwrap_or(req.strategies[0]));
            let protocol = self.protocol.unwrap_or(strategy);
            let members = if leader && self.state == GroupState::CompletingRebalance {
                self.subscriptions(ctx, protocol)
            } else {
                Vec::new()
            };
            if let Some(m) = self.member_mut(&member_id) {
                m.consumer = c;
                m.inc = inc;
                m.name = name;
                m.last_heartbeat = now;
            }
            let response =
                JoinResponse::Ok { generation, member_id, leader, strategy, members, skip_assignment: false };
            out.reply(c, inc, Reply::Join(response));
            return;
        }
        match self.member_mut(&member_id) {
            Some(m) => {
                m.consumer = c;
                m.inc = inc;
                m.name = name;
                m.update_metadata(&req);
                m.joined = true;
                m.awaiting_join = true;
                m.last_heartbeat = now;
            }
            None => {
                // Only a new member of a group still forming its first generation delays it more.
                if self.state == GroupState::PreparingRebalance && self.generation == 0 {
                    self.new_member_added = true;
                }
                self.members.push(Member {
                    member_id: member_id.clone(),
                    consumer: c,
                    inc,
                    name,
                    client_id: req.client_id.clone(),
                    instance_id: req.instance_id.clone(),
                    topics: req.topics.clone(),
                    strategies: req.strategies.clone(),
                    owned: req.owned.clone(),
                    owned_generation: req.owned_generation,
                    memorized: req.memorized.clone(),
                    memorized_generation: req.memorized_generation,
                    assignment: Vec::new(),
                    joined: true,
                    awaiting_join: true,
                    last_heartbeat: now,
                    session_timeout_ms: req.session_timeout_ms,
                    rebalance_timeout_ms: req.rebalance_timeout_ms,
                    session_check_at: None,
                })
            }
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                // The group is new: give more members time to join (Kafka's InitialDelayedJoin).
                let delay_ms = ctx.initial_rebalance_delay_ms;
                let remaining_ms = self.rebalance_timeout().saturating_sub(delay_ms);
                self.initial_delay = Some(InitialDelay { delay_ms, remaining_ms });
                self.prepare_rebalance(ctx, "first member joined", Some(delay_ms), out);
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(ctx, &format!("{} joined", req.client_id), None, out);
            }
            GroupState::PreparingRebalance => {}
        }
        self.maybe_complete_join(ctx, out);
    }

    fn replace_static_member(&mut self, ctx: &mut Ctx, from: Client, req: &JoinRequest, index: usize, out: &mut Out) {
        let now = ctx.now;
        let instance = req.instance_id.as_deref().unwrap_or(&req.client_id);
        let new_id = new_member_id(ctx.rng, instance);
        let old_id = std::mem::replace(&mut self.members[index].member_id, new_id.clone());
        if self.leader.as_deref() == Some(old_id.as_str()) {
            self.leader = Some(new_id.clone());
        }
        // The old member's JoinGroup or SyncGroup waiting here is answered FENCED_INSTANCE_ID.
        let old = (self.members[index].consumer, self.members[index].inc);
        let awaiting_sync = self.pending_sync.iter().position(|id| *id == old_id).map(|i| self.pending_sync.remove(i));
        if self.members[index].awaiting_join {
            out.reply(old.0, old.1, Reply::Join(JoinResponse::FencedInstanceId));
        } else if awaiting_sync.is_some() {
            let result = Err(GroupError::FencedInstanceId);
            out.reply(old.0, old.1, Reply::Sync { generation: self.generation, result });
        }
        let m = &mut self.members[index];
        m.consumer = from.consumer;
        m.inc = from.inc;
        m.name = from.name;
        m.last_heartbeat = now;
        m.session_check_at = None;
        m.update_metadata(req);
        // In a Stable group it keeps its place unless the protocol the group would choose now
        // changes (a new subscription alone does not rebalance: the consumer notices the
        // assignment does not match it and joins again).
        let stable = self.state == GroupState::Stable && self.protocol == Some(self.select_protocol());
        let (generation, strategy) = (self.generation, self.protocol.unwrap_or(req.strategies[0]));
        out.event(EventKind::StaticMemberReplaced {
            group: self.name.clone(),
            old_member_id: old_id,
            member_id: new_id.clone(),
        });
        if stable {
            // Same instance: it gets its old assignment back, no rebalance. A replaced leader
            // stays the leader, with every member's subscription, but skips the assignment
            // (KIP-814): the group keeps the one it has, so a wider subscription is not served
            // until the next rebalance.
            self.schedule_session_check(&new_id, out);
            let leader = self.leader.as_deref() == Some(new_id.as_str());
            let members = if leader { self.subscriptions(ctx, strategy) } else { Vec::new() };
            let response =
                JoinResponse::Ok { generation, member_id: new_id, leader, strategy, members, skip_assignment: leader };
            out.reply(from.consumer, from.inc, Reply::Join(response));
        } else {
            let m = &mut self.members[index];
            m.joined = true;
            m.awaiting_join = true;
            if matches!(self.state, GroupState::CompletingRebalance | GroupState::Stable) {
                self.prepare_rebalance(ctx, "static member rejoined", None, out);
            }
            self.maybe_complete_join(ctx, out);
        }
    }

    /// Starts (or restarts) a rebalance: members learn of it from their heartbeats.
    fn prepare_rebalance(&mut self, ctx: &Ctx, reason: &str, initial_delay: Option<u64>, out: &mut Out) {
        // Members waiting for the leader's SyncGroup are told to rejoin.
        let pending: Vec<MemberId> = std::mem::take(&mut self.pending_sync);
        let deadline = ctx.now.plus(initial_delay.unwrap_or_else(|| self.rebalance_timeout()));
        self.join_deadline = Some(deadline);
        if self.state != GroupState::PreparingRebalance {
            for m in self.members.iter_mut() {
                if !m.awaiting_join {
                    m.joined = false;
                }
            }
        }
        for id in &pending {
            if let Some(m) = self.member(id) {
                let result = Err(GroupError::RebalanceInProgress);
                out.reply(m.consumer, m.inc, Reply::Sync { generation: self.generation, result });
            }
        }
        self.set_state(GroupState::PreparingRebalance, reason, out);
        out.timer(deadline, Timer::JoinDeadline);
    }

    /// Completes the join phase when every member has rejoined (and any initial delay is over).
    fn maybe_complete_join(&mut self, ctx: &Ctx, out: &mut Out) {
        if self.state != GroupState::PreparingRebalance || self.initial_delay.is_some() {
            return;
        }
        if self.members.iter().all(|m| m.joined) {
            self.complete_join(ctx, out);
        }
    }

    /// A new coordinator takes the group over (its broker became the leader of the group's
    /// `__consumer_offsets` partition) and loads it from there, where it finds the last
    /// generation the group completed: members get fresh session timers, a rebalance in progress
    /// gets a full rebalance timeout again. A group that never completed a generation is not
    /// there: it starts Empty, and the members whose JoinGroup was waiting join again.
    pub fn on_loaded(&mut self, ctx: &Ctx, out: &mut Out) {
        let now = ctx.now;
        for m in self.members.iter_mut() {
            m.last_heartbeat = now;
            m.session_check_at = None;
        }
        let ids: Vec<MemberId> = self.members.iter().map(|m| m.member_id.clone()).collect();
        for id in ids {
            self.schedule_session_check(&id, out);
        }
        if self.generation == 0 && self.state != GroupState::Empty {
            let waiting: Vec<(ConsumerId, u32)> = self.members.iter().map(|m| (m.consumer, m.inc)).collect();
            self.members.clear();
            self.pending_sync.clear();
            self.initial_delay = None;
            self.join_deadline = None;
            self.leader = None;
            self.protocol = None;
            self.set_state(GroupState::Empty, "a new coordinator found no generation to load", out);
            for (consumer, inc) in waiting {
                out.reply(consumer, inc, Reply::Join(JoinResponse::UnknownMemberId));
            }
            return;
        }
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let deadline = now.plus(self.rebalance_timeout());
        self.join_deadline = Some(deadline);
        out.timer(deadline, Timer::JoinDeadline);
    }

    fn on_join_deadline(&mut self, ctx: &Ctx, out: &mut Out) {
        if self.state != GroupState::PreparingRebalance || self.join_deadline != Some(ctx.now) {
            return; // superseded
        }
        // tryCompleteInitialRebalanceElseSchedule: a member joined during the initial delay, and
        // the rebalance timeout is not used up: wait another delay (the last no longer than what
        // is left).
        if let Some(d) = self.initial_delay {
            if self.new_member_added && d.remaining_ms != 0 {
                self.new_member_added = false;
                let delay_ms = ctx.initial_rebalance_delay_ms.min(d.remaining_ms);
                let remaining_ms = d.remaining_ms.saturating_sub(d.delay_ms);
                self.initial_delay = Some(InitialDelay { delay_ms, remaining_ms });
                let deadline = ctx.now.plus(delay_ms);
                self.join_deadline = Some(deadline);
                out.timer(deadline, Timer::JoinDeadline);
                return;
            }
        }
        self.initial_delay = None;
        let late: Vec<MemberId> = self.members.iter().filter(|m| !m.joined).map(|m| m.member_id.clone()).collect();
        for id in late {
            self.remove_member(ctx, &id, "did not rejoin within the rebalance timeout", false, out);
        }
        self.complete_join(ctx, out);
    }

    /// ClassicGroup.supportsProtocols: any protocols do for a group without members; else one of
    /// the joiner's must be supported by every member.
    fn supports_protocols(&self, protocols: &[Strategy]) -> bool {
        if self.members.is_empty() {
            return !protocols.is_empty();
        }
        protocols.iter().any(|p| self.members.iter().all(|m| m.strategies.contains(p)))
    }

    /// ClassicGroup.selectProtocol: among the protocols every member supports, each member votes
    /// for its most preferred; the most votes win.
    pub fn select_protocol(&self) -> Strategy {
        let candidate = |p: &Strategy| self.members.iter().all(|m| m.strategies.contains(p));
        let mut votes = [0usize; 4];
        for m in &self.members {
            if let Some(p) = m.strategies.iter().find(|p| candidate(p)) {
                votes[VOTE_TIE_ORDER.iter().position(|q| q == p).expect("every protocol is listed")] += 1;
            }
        }
        let best = votes.iter().copied().max().unwrap_or(0);
        let winner = votes.iter().position(|v| *v == best && best > 0);
        winner.map_or(self.members[0].strategies[0], |i| VOTE_TIE_ORDER[i])
    }

    fn complete_join(&mut self, ctx: &Ctx, out: &mut Out) {
        self.initial_delay = None;
        self.join_deadline = None;
        self.generation += 1;
        if self.members.is_empty() {
            self.leader = None;
            self.protocol = None;
            self.set_state(GroupState::Empty, "every member left", out);
            return;
        }
        if self.leader.as_ref().is_none_or(|l| self.member(l).is_none()) {
            self.leader = Some(self.members[0].member_id.clone());
        }
        let strategy = self.select_protocol();
        self.protocol = Some(strategy);
        let leader = self.leader.clone().expect("chosen above");
        let generation = self.generation;
        let subscriptions: Vec<(MemberId, Subscription)> = self.subscriptions(ctx, strategy);
        self.formed_topics = self.subscribed_topics();
        let mut responses = Vec::new();
        for m in self.members.iter_mut() {
            m.awaiting_join = false;
            // Completing the join restarts every member's session timer, as Kafka does.
            m.last_heartbeat = ctx.now;
            let is_leader = m.member_id == leader;
            responses.push((
                m.consumer,
                m.inc,
                JoinResponse::Ok {
                    generation,
                    member_id: m.member_id.clone(),
                    leader: is_leader,
                    strategy,
                    members: if is_leader { subscriptions.clone() } else { Vec::new() },
                    skip_assignment: false,
                },
            ));
        }
        self.set_state(GroupState::CompletingRebalance, &format!("generation {generation} formed"), out);
        for (consumer, inc, response) in responses {
            out.reply(consumer, inc, Reply::Join(response));
        }
        let ids: Vec<MemberId> = self.members.iter().map(|m| m.member_id.clone()).collect();
        for id in ids {
            self.schedule_session_check(&id, out);
        }
    }

    /// A SyncGroup arrives; the leader's carries the assignment.
    pub fn on_sync(
        &mut self,
        ctx: &Ctx,
        from: Client,
        member: MemberRef,
        assignments: Option<Vec<(MemberId, Vec<Tp>)>>,
        out: &mut Out,
    ) {
        let MemberRef { member_id, instance_id, generation } = member;
        let respond = |out: &mut Out, result| out.reply(from.consumer, from.inc, Reply::Sync { generation, result });
        if self.member(&member_id).is_none() {
            let error = self.unknown(&member_id, instance_id.as_deref());
            return respond(out, Err(error));
        }
        let current = self.generation;
        if let Some(m) = self.member_mut(&member_id) {
            m.last_heartbeat = ctx.now;
        }
        if generation != current {
            return respond(out, Err(GroupError::IllegalGeneration));
        }
        match self.state {
            GroupState::PreparingRebalance => respond(out, Err(GroupError::RebalanceInProgress)),
            GroupState::Stable => {
                let a = self.member(&member_id).map(|m| m.assignment.clone()).unwrap_or_default();
                respond(out, Ok(a));
            }
            GroupState::CompletingRebalance => {
                self.pending_sync.push(member_id.clone());
                let is_leader = self.leader.as_deref() == Some(member_id.as_str());
                if let (true, Some(assignments)) = (is_leader, assignments) {
                    for m in self.members.iter_mut() {
                        m.assignment = assignments
                            .iter()
                            .find(|(id, _)| *id == m.member_id)
                            .map(|(_, a)| a.clone())
                            .unwrap_or_default();
                    }
                    let waiting: Vec<(ConsumerId, u32, Vec<Tp>)> = std::mem::take(&mut self.pending_sync)
                        .iter()
                        .filter_map(|id| self.member(id).map(|m| (m.consumer, m.inc, m.assignment.clone())))
                        .collect();
                    self.set_state(GroupState::Stable, "the leader's assignment arrived", out);
                    for (consumer, inc, a) in waiting {
                        out.reply(consumer, inc, Reply::Sync { generation, result: Ok(a) });
                    }
                }
            }
            GroupState::Empty | GroupState::Dead => respond(out, Err(GroupError::UnknownMemberId)),
        }
    }

    /// A heartbeat arrives: it keeps the session alive and tells the member of rebalances.
    pub fn on_heartbeat(&mut self, ctx: &Ctx, from: Client, member: MemberRef, out: &mut Out) {
        let MemberRef { member_id, instance_id, generation } = member;
        let unknown = self.unknown(&member_id, instance_id.as_deref());
        let (current, state) = (self.generation, self.state);
        let result = match self.member_mut(&member_id) {
            None => Err(unknown),
            Some(m) => {
                m.last_heartbeat = ctx.now;
                if generation != current {
                    Err(GroupError::IllegalGeneration)
                } else if state == GroupState::PreparingRebalance {
                    Err(GroupError::RebalanceInProgress)
                } else {
                    Ok(())
                }
            }
        };
        out.event(EventKind::Heartbeat {
            consumer: from.name,
            group: self.name.clone(),
            generation,
            error: result.err().map(|e| e.code().to_string()),
        });
        out.reply(from.consumer, from.inc, Reply::Heartbeat { generation, result });
    }

    /// A LeaveGroup arrives: the member goes at once and the group rebalances.
    pub fn on_leave(&mut self, ctx: &Ctx, member_id: &str, out: &mut Out) {
        if self.member(member_id).is_some() {
            self.remove_member(ctx, member_id, "left the group (LeaveGroup)", true, out);
        }
    }

    /// An OffsetCommit arrives: stored if the member and generation are current (Kafka's
    /// `validateOffsetCommit` for classic groups). A request already on the wire lands even if
    /// the consumer died after sending it.
    pub fn on_commit(
        &mut self,
        ctx: &Ctx,
        from: Client,
        member: MemberRef,
        offsets: Vec<(Tp, u64)>,
        purpose: CommitPurpose,
        out: &mut Out,
    ) {
        let generation = member.generation;
        match self.validate_commit(&member) {
            Ok(()) => {
                for (tp, offset) in &offsets {
                    self.offsets.commit(*tp, *offset);
                }
                let offsets = partition_offsets(ctx.topics, &offsets);
                out.event(EventKind::Committed { consumer: from.name, group: self.name.clone(), offsets });
            }
            Err(e) => {
                let reason = format!(
                    "{}: the group has rebalanced since this member's generation {generation}; its offsets are not stored",
                    e.code()
                );
                out.event(EventKind::CommitFailed { consumer: from.name, group: self.name.clone(), reason });
            }
        }
        out.reply(from.consumer, from.inc, Reply::OffsetCommit { purpose });
    }

    /// A TxnOffsetCommit of `producer_id`'s transaction (KIP-447), checked as Kafka's
    /// `validateOffsetCommit` checks a transactional one — the member and generation it names
    /// must be current, whatever state the group is in — then staged until the transaction's
    /// marker ([`GroupCoordinator::on_txn_marker`]). A processor whose group moved on cannot
    /// commit its input offsets: its transaction must abort.
    pub fn txn_commit(
        &mut self,
        member: &MemberRef,
        producer_id: u32,
        offsets: &[(Tp, u64)],
    ) -> Result<(), GroupError> {
        // Without a generation, from a client outside group management (no member id, no
        // instance id) or to a group without members, it is taken as it is.
        let unmanaged = member.generation < 0
            && (self.members.is_empty() || (member.member_id.is_empty() && member.instance_id.is_none()));
        if !unmanaged {
            self.check_generation(member)?;
        }
        for (tp, offset) in offsets {
            self.offsets.stage(producer_id, *tp, *offset);
        }
        Ok(())
    }

    /// The marker of `producer_id`'s transaction reached the group's offsets partition: its
    /// staged offsets become the group's (a commit) or are dropped (an abort). Returns the
    /// partitions whose committed offset changed.
    pub fn on_txn_marker(&mut self, producer_id: u32, commit: bool) -> Vec<Tp> {
        self.offsets.complete(producer_id, commit)
    }

    /// The member is known and at the group's generation (either kind of offset commit).
    fn check_generation(&self, member: &MemberRef) -> Result<(), GroupError> {
        if self.member(&member.member_id).is_none() {
            return Err(self.unknown(&member.member_id, member.instance_id.as_deref()));
        }
        if member.generation != self.generation {
            return Err(GroupError::IllegalGeneration);
        }
        Ok(())
    }

    fn validate_commit(&self, member: &MemberRef) -> Result<(), GroupError> {
        if member.member_id.is_empty() && member.generation < 0 {
            // A consumer outside the group may only commit while the group has no members.
            return if self.members.is_empty() { Ok(()) } else { Err(GroupError::UnknownMemberId) };
        }
        self.check_generation(member)?;
        if self.state == GroupState::CompletingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
        Ok(())
    }

    fn schedule_session_check(&mut self, member_id: &str, out: &mut Out) {
        let Some(m) = self.member_mut(member_id) else { return };
        if m.session_check_at.is_some() {
            return;
        }
        let at = m.session_deadline();
        m.session_check_at = Some(at);
        out.timer(at, Timer::SessionCheck { member_id: member_id.into() });
    }

    /// The session timer of a member fires: no heartbeat for `session.timeout.ms` removes it.
    fn on_session_check(&mut self, ctx: &Ctx, member_id: &str, out: &mut Out) {
        if let Some(i) = self.pending_members.iter().position(|id| id == member_id) {
            // A pending member that never joined again: forgotten.
            self.pending_members.remove(i);
            return;
        }
        let Some(m) = self.member_mut(member_id) else { return };
        m.session_check_at = None;
        if m.awaiting_join {
            return; // a member waiting in JoinGroup is bounded by the rebalance timeout instead
        }
        if ctx.now >= m.session_deadline() {
            self.remove_member(ctx, member_id, "session timeout expired", true, out);
        } else {
            self.schedule_session_check(member_id, out);
        }
    }

    fn remove_member(&mut self, ctx: &Ctx, member_id: &str, reason: &str, rebalance: bool, out: &mut Out) {
        let Some(i) = self.members.iter().position(|m| m.member_id == member_id) else { return };
        let m = self.members.remove(i);
        self.pending_sync.retain(|id| id != member_id);
        if m.awaiting_join {
            // removeMemberAndUpdateGroup: "we return UNKNOWN_MEMBER_ID so that the consumer will
            // retry the JoinGroup request if it is still active".
            out.reply(m.consumer, m.inc, Reply::Join(JoinResponse::UnknownMemberId));
        }
        out.event(EventKind::MemberRemoved {
            group: self.name.clone(),
            consumer: m.name.clone(),
            member_id: member_id.into(),
            reason: reason.to_string(),
        });
        if !rebalance {
            return;
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(ctx, &format!("{} {reason}", m.client_id), None, out)
            }
            GroupState::PreparingRebalance => self.maybe_complete_join(ctx, out),
            GroupState::Empty | GroupState::Dead => {}
        }
    }
}

/// The subscription the leader is told of for a member.
/// A member's subscription as the leader gets it for the selected protocol: the sticky assignor
/// reads its own user data (the member's previous assignment), the others `ownedPartitions`.
fn subscription_of(ctx: &Ctx, m: &Member, protocol: Strategy) -> Subscription {
    let (owned, generation) = match protocol {
        Strategy::Sticky => (&m.memorized, m.memorized_generation),
        _ => (&m.owned, m.owned_generation),
    };
    Subscription {
        topics: m.topics.clone(),
        instance_id: m.instance_id.clone(),
        owned: owned
            .iter()
            .map(|tp| {
                let (t, p) = ctx.tp_name(*tp);
                (t.to_string(), p)
            })
            .collect(),
        generation: (generation >= 0).then_some(generation),
    }
}

/// Protocols in the order Java's `HashMap` iterates their names (buckets: sticky 8, range 9,
/// roundrobin 10, cooperative-sticky 15): on a tie of votes, the first of them wins.
const VOTE_TIE_ORDER: [Strategy; 4] =
    [Strategy::Sticky, Strategy::Range, Strategy::Roundrobin, Strategy::CooperativeSticky];

#[cfg(test)]
mod tests {
    //! Each transition of the classic protocol's coordinator, message by message, as Kafka's
    //! own tests (GroupMetadataManagerTest, ClassicGroupTest) exercise them.

    use super::*;
    use crate::sim::ids::TopicId;
    use rand::SeedableRng;

    const DELAY: u64 = 3_000;
    const SESSION: u64 = 10_000;
    const REBALANCE: u64 = 30_000;

    /// A coordinator, a clock and what it did last.
    struct Harness {
        g: GroupCoordinator,
        rng: ChaCha8Rng,
        topics: Vec<Name>,
        now: SimTime,
    }

    fn tp(p: u32) -> Tp {
        Tp { topic: TopicId(0), partition: p }
    }

    fn client(c: u32) -> Client {
        Client { consumer: ConsumerId(c), inc: 1, name: format!("c{c}").into() }
    }

    impl Harness {
        fn new() -> Harness {
            Harness {
                g: GroupCoordinator::new("g"),
                rng: ChaCha8Rng::seed_from_u64(1),
                topics: vec!["t".into()],
                now: SimTime(0),
            }
        }

        fn request(&mut self, from: Client, request: Request) -> Vec<Effect> {
            let mut out = Out::default();
            let mut ctx = Ctx {
                now: self.now,
                initial_rebalance_delay_ms: DELAY,
                rng: &mut self.rng,
                topics: &self.topics,
                session_timeout_bounds: (6_000, 1_800_000),
            };
            self.g.on_request(&mut ctx, from, request, &mut out);
            out.effects
        }

        fn timer(&mut self, timer: Timer) -> Vec<Effect> {
            let mut out = Out::default();
            let mut ctx = Ctx {
                now: self.now,
                initial_rebalance_delay_ms: DELAY,
                rng: &mut self.rng,
                topics: &self.topics,
                session_timeout_bounds: (6_000, 1_800_000),
            };
            self.g.on_timer(&mut ctx, timer, &mut out);
            out.effects
        }

        /// Consumer `c` sends JoinGroup. A new dynamic member (no member id, no instance id) is
        /// answered MEMBER_ID_REQUIRED first and joins again with its id: what the second
        /// JoinGroup did is returned.
        fn join(&mut self, c: u32, member_id: &str, instance: Option<&str>, strategy: Strategy) -> Vec<Effect> {
            let req = self.join_request(c, member_id, instance, strategy);
            let effects = self.request(client(c), Request::Join(Box::new(req)));
            match join_answers(&effects).as_slice() {
                [(_, JoinResponse::MemberIdRequired { member_id })] => {
                    let req = self.join_request(c, member_id, instance, strategy);
                    self.request(client(c), Request::Join(Box::new(req)))
                }
                _ => effects,
            }
        }

        fn join_request(&self, c: u32, member_id: &str, instance: Option<&str>, strategy: Strategy) -> JoinRequest {
            JoinRequest {
                group: "g".into(),
                member_id: member_id.into(),
                client_id: format!("consumer-g-{c}"),
                instance_id: instance.map(String::from),
                topics: vec!["t".into()],
                strategies: vec![strategy],
                owned: Vec::new(),
                owned_generation: -1,
                memorized: Vec::new(),
                memorized_generation: -1,
                session_timeout_ms: SESSION,
                rebalance_timeout_ms: REBALANCE,
            }
        }

        fn member(&self, c: u32) -> MemberRef {
            let m = self.g.members.iter().find(|m| m.consumer == ConsumerId(c)).expect("a member");
            MemberRef {
                member_id: m.member_id.clone(),
                instance_id: m.instance_id.clone(),
                generation: self.g.generation,
            }
        }

        fn heartbeat(&mut self, c: u32, member: MemberRef) -> Result<(), GroupError> {
            let effects = self.request(client(c), Request::Heartbeat { member });
            effects
                .iter()
                .find_map(|e| match e {
                    Effect::Reply { reply: Reply::Heartbeat { result, .. }, .. } => Some(*result),
                    _ => None,
                })
                .expect("an answer")
        }

        /// Forms generation 1 with consumers `0..n` (range), the first as leader, and syncs it.
        fn stable(n: u32) -> Harness {
            let mut h = Harness::new();
            for c in 0..n {
                h.join(c, "", None, Strategy::Range);
            }
            // The others joined during the initial delay: it waits one delay more.
            while let Some(deadline) = h.g.join_deadline {
                h.now = deadline;
                h.timer(Timer::JoinDeadline);
            }
            let leader = h.member(0);
            let assignments = (0..n).map(|c| (h.member(c).member_id, vec![tp(c)])).collect();
            h.request(client(0), Request::Sync { member: leader, assignments: Some(assignments) });
            assert_eq!(h.g.state, GroupState::Stable);
            h
        }
    }

    fn join_answers(effects: &[Effect]) -> Vec<(u32, JoinResponse)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Reply { consumer, reply: Reply::Join(r), .. } => Some((consumer.0, r.clone())),
                _ => None,
            })
            .collect()
    }

    fn states(effects: &[Effect]) -> Vec<&str> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Event(EventKind::GroupState { state, .. }) => Some(state.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_first_join_waits_the_initial_delay_and_waits_again_while_members_keep_joining() {
        let mut h = Harness::new();
        let effects = h.join(0, "", None, Strategy::Range);
        assert_eq!(states(&effects), ["PreparingRebalance"]);
        assert!(join_answers(&effects).is_empty(), "the JoinGroup is held");
        assert!(effects.iter().any(|e| matches!(e, Effect::Timer { at: SimTime(DELAY), timer: Timer::JoinDeadline })));
        h.now = SimTime(2_000);
        let effects = h.join(1, "", None, Strategy::Range);
        assert!(join_answers(&effects).is_empty() && !effects.iter().any(|e| matches!(e, Effect::Timer { .. })));
        // tryCompleteInitialRebalanceElseSchedule: someone joined during the delay, so it waits a
        // whole delay more from when it ends.
        h.now = SimTime(DELAY);
        let effects = h.timer(Timer::JoinDeadline);
        assert!(join_answers(&effects).is_empty());
        assert!(effects.iter().any(|e| matches!(e, Effect::Timer { at: SimTime(6_000), timer: Timer::JoinDeadline })));
        h.now = SimTime(6_000);
        let effects = h.timer(Timer::JoinDeadline);
        assert_eq!(states(&effects), ["CompletingRebalance"]);
        let answers = join_answers(&effects);
        assert_eq!(answers.len(), 2);
        let leaders: Vec<bool> =
            answers.iter().map(|(_, r)| matches!(r, JoinResponse::Ok { leader: true, .. })).collect();
        assert_eq!(leaders, [true, false], "the first member leads");
        assert!(
            matches!(&answers[0].1, JoinResponse::Ok { generation: 1, members, .. } if members.len() == 2),
            "the leader gets every subscription"
        );
    }

    #[test]
    fn a_new_dynamic_member_gets_its_id_with_member_id_required_and_joins_again_with_it() {
        let mut h = Harness::new();
        let req = h.join_request(0, "", None, Strategy::Range);
        let effects = h.request(client(0), Request::Join(Box::new(req)));
        let answers = join_answers(&effects);
        let [(0, JoinResponse::MemberIdRequired { member_id })] = answers.as_slice() else { panic!("{effects:?}") };
        assert!(member_id.starts_with("consumer-g-0-"), "{member_id}");
        assert!(states(&effects).is_empty(), "not a member yet: the group is still Empty");
        assert!(h.g.members.is_empty() && h.g.pending_members == [member_id.clone()]);
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::Event(EventKind::MemberIdRequired { member_id: m, .. }) if m == member_id)));
        // Its second JoinGroup, with that id, makes it a member.
        let req = h.join_request(0, member_id, None, Strategy::Range);
        let effects = h.request(client(0), Request::Join(Box::new(req)));
        assert_eq!(states(&effects), ["PreparingRebalance"]);
        assert_eq!(h.g.members.len(), 1);
        assert!(h.g.pending_members.is_empty());
    }

    #[test]
    fn a_pending_member_that_never_joins_again_is_forgotten_after_its_session_timeout() {
        let mut h = Harness::new();
        let req = h.join_request(0, "", None, Strategy::Range);
        let effects = h.request(client(0), Request::Join(Box::new(req)));
        let member_id = match join_answers(&effects).as_slice() {
            [(_, JoinResponse::MemberIdRequired { member_id })] => member_id.clone(),
            other => panic!("{other:?}"),
        };
        assert!(effects.iter().any(|e| matches!(e, Effect::Timer { at: SimTime(SESSION), timer: Timer::SessionCheck { member_id: m } } if *m == member_id)));
        h.now = SimTime(SESSION);
        h.timer(Timer::SessionCheck { member_id: member_id.clone() });
        assert!(h.g.pending_members.is_empty());
        let req = h.join_request(0, &member_id, None, Strategy::Range);
        let effects = h.request(client(0), Request::Join(Box::new(req)));
        assert!(matches!(join_answers(&effects).as_slice(), [(_, JoinResponse::UnknownMemberId)]));
    }

    #[test]
    fn a_session_timeout_outside_the_brokers_bounds_is_refused() {
        let mut h = Harness::new();
        for (ms, refused) in [(5_999, true), (6_000, false), (1_800_000, false), (1_800_001, true)] {
            let mut req = h.join_request(0, "", None, Strategy::Range);
            req.session_timeout_ms = ms;
            let effects = h.request(client(0), Request::Join(Box::new(req)));
            let got = matches!(join_answers(&effects).as_slice(), [(_, JoinResponse::InvalidSessionTimeout)]);
            assert_eq!(got, refused, "{ms} ms");
        }
    }

    #[test]
    fn the_initial_delay_waits_again_only_while_the_rebalance_timeout_lasts() {
        let mut h = Harness::new();
        // A rebalance timeout of 5 s: one delay of 3 s, then at most 2 s more.
        let join = |h: &mut Harness, c: u32| {
            let mut req = h.join_request(c, "", None, Strategy::Range);
            req.rebalance_timeout_ms = 5_000;
            let first = h.request(client(c), Request::Join(Box::new(req.clone())));
            let answers = join_answers(&first);
            let [(_, JoinResponse::MemberIdRequired { member_id })] = answers.as_slice() else { panic!("{first:?}") };
            req.member_id = member_id.clone();
            h.request(client(c), Request::Join(Box::new(req)))
        };
        join(&mut h, 0);
        h.now = SimTime(1_000);
        join(&mut h, 1);
        h.now = SimTime(DELAY);
        let effects = h.timer(Timer::JoinDeadline);
        assert!(effects.iter().any(|e| matches!(e, Effect::Timer { at: SimTime(5_000), timer: Timer::JoinDeadline })));
        h.now = SimTime(4_000);
        join(&mut h, 2);
        h.now = SimTime(5_000);
        let effects = h.timer(Timer::JoinDeadline);
        assert_eq!(states(&effects), ["CompletingRebalance"], "nothing of the rebalance timeout is left");
        assert_eq!(join_answers(&effects).len(), 3);
    }
    #[test]
    fn the_leaders_sync_makes_the_group_stable_and_answers_every_waiting_member() {
        let mut h = Harness::new();
        h.join(0, "", None, Strategy::Range);
        h.join(1, "", None, Strategy::Range);
        while let Some(deadline) = h.g.join_deadline {
            h.now = deadline;
            h.timer(Timer::JoinDeadline);
        }
        // The follower syncs first: it waits.
        let follower = h.member(1);
        assert!(h.request(client(1), Request::Sync { member: follower.clone(), assignments: None }).is_empty());
        let leader = h.member(0);
        let assignments = vec![(leader.member_id.clone(), vec![tp(0)]), (follower.member_id.clone(), vec![tp(1)])];
        let effects = h.request(client(0), Request::Sync { member: leader, assignments: Some(assignments) });
        assert_eq!(states(&effects), ["Stable"]);
        let got: Vec<(u32, Vec<Tp>)> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Reply { consumer, reply: Reply::Sync { result: Ok(a), .. }, .. } => {
                    Some((consumer.0, a.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(got, [(1, vec![tp(1)]), (0, vec![tp(0)])]);
    }

    #[test]
    fn heartbeats_are_answered_by_state_and_generation() {
        let mut h = Harness::new();
        h.join(0, "", None, Strategy::Range);
        h.now = SimTime(DELAY);
        h.timer(Timer::JoinDeadline);
        // After its JoinGroup answer, before SyncGroup completes: heartbeats are normal ones.
        let m = h.member(0);
        assert_eq!(h.heartbeat(0, m.clone()), Ok(()));
        let stale = MemberRef { generation: 0, ..m.clone() };
        assert_eq!(h.heartbeat(0, stale), Err(GroupError::IllegalGeneration));
        let unknown = MemberRef { member_id: "nobody".into(), ..m.clone() };
        assert_eq!(h.heartbeat(0, unknown), Err(GroupError::UnknownMemberId));
        // A joiner starts a rebalance: the member learns it from its heartbeat.
        h.join(1, "", None, Strategy::Range);
        assert_eq!(h.g.state, GroupState::PreparingRebalance);
        assert_eq!(h.heartbeat(0, m), Err(GroupError::RebalanceInProgress));
    }

    #[test]
    fn a_joiner_rebalances_a_stable_group_and_the_join_completes_when_all_rejoined() {
        let mut h = Harness::stable(1);
        h.now = SimTime(20_000);
        let effects = h.join(1, "", None, Strategy::Range);
        assert_eq!(states(&effects), ["PreparingRebalance"]);
        assert!(effects.iter().any(
            |e| matches!(e, Effect::Timer { at, timer: Timer::JoinDeadline } if *at == SimTime(20_000 + REBALANCE))
        ));
        let m0 = h.member(0).member_id;
        let effects = h.join(0, &m0, None, Strategy::Range);
        assert_eq!(states(&effects), ["CompletingRebalance"]);
        assert_eq!(h.g.generation, 2);
        assert_eq!(join_answers(&effects).len(), 2);
    }

    #[test]
    fn a_member_that_does_not_rejoin_is_removed_at_the_rebalance_timeout() {
        let mut h = Harness::stable(2);
        h.now = SimTime(20_000);
        h.join(2, "", None, Strategy::Range);
        let m0 = h.member(0).member_id;
        h.join(0, &m0, None, Strategy::Range);
        h.now = SimTime(20_000 + REBALANCE);
        let effects = h.timer(Timer::JoinDeadline);
        let removed: Vec<&str> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Event(EventKind::MemberRemoved { consumer, reason, .. }) => {
                    assert!(reason.contains("rebalance timeout"), "{reason}");
                    Some(consumer.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(removed, ["c1"]);
        assert_eq!((h.g.state, h.g.members.len()), (GroupState::CompletingRebalance, 2));
    }

    #[test]
    fn a_silent_member_expires_after_its_session_timeout_and_the_group_rebalances() {
        let mut h = Harness::stable(2);
        let formed = h.now;
        // c0 heartbeats at 5 s; c1 never does.
        h.now = formed.plus(5_000);
        let m0 = h.member(0);
        assert_eq!(h.heartbeat(0, m0), Ok(()));
        let m1 = h.member(1).member_id;
        let m0 = h.member(0).member_id;
        h.now = formed.plus(SESSION);
        let effects = h.timer(Timer::SessionCheck { member_id: m1 });
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::Event(EventKind::MemberRemoved { consumer, .. }) if consumer == "c1")));
        assert_eq!(states(&effects), ["PreparingRebalance"]);
        // c0's check finds a later heartbeat and looks again when that one runs out.
        let effects = h.timer(Timer::SessionCheck { member_id: m0 });
        assert!(matches!(effects.as_slice(), [Effect::Timer { at, .. }] if *at == formed.plus(5_000 + SESSION)));
    }

    #[test]
    fn a_member_waiting_in_join_group_is_not_expired_by_its_session() {
        let mut h = Harness::stable(2);
        h.now = SimTime(5_000);
        h.join(2, "", None, Strategy::Range);
        let m0 = h.member(0).member_id;
        h.join(0, &m0, None, Strategy::Range);
        h.now = SimTime(DELAY + SESSION);
        assert!(h.timer(Timer::SessionCheck { member_id: m0 }).is_empty());
    }

    #[test]
    fn leave_group_removes_at_once_and_the_last_leaving_empties_the_group() {
        let mut h = Harness::stable(2);
        let m1 = h.member(1).member_id;
        let effects = h.request(client(1), Request::Leave { member_id: m1 });
        assert_eq!(states(&effects), ["PreparingRebalance"]);
        let m0 = h.member(0).member_id;
        let effects = h.request(client(0), Request::Leave { member_id: m0 });
        assert_eq!(states(&effects), ["Empty"]);
        assert_eq!(h.g.generation, 2, "an empty generation");
        // A leave from a member it does not know changes nothing.
        assert!(h.request(client(0), Request::Leave { member_id: "nobody".into() }).is_empty());
    }

    #[test]
    fn an_assignor_the_group_does_not_use_is_an_inconsistent_protocol() {
        let mut h = Harness::stable(1);
        let effects = h.join(1, "", None, Strategy::Roundrobin);
        assert!(matches!(join_answers(&effects).as_slice(), [(1, JoinResponse::InconsistentGroupProtocol)]));
        assert_eq!(h.g.state, GroupState::Stable);
    }

    /// Forms generation 1 from members with these assignor lists; returns the protocol chosen.
    fn chosen(lists: &[&[Strategy]]) -> Strategy {
        let mut h = Harness::new();
        for (c, list) in lists.iter().enumerate() {
            let mut req = h.join_request(c as u32, "", None, list[0]);
            req.strategies = list.to_vec();
            let first = h.request(client(c as u32), Request::Join(Box::new(req.clone())));
            let answers = join_answers(&first);
            let [(_, JoinResponse::MemberIdRequired { member_id })] = answers.as_slice() else { panic!("{first:?}") };
            req.member_id = member_id.clone();
            let effects = h.request(client(c as u32), Request::Join(Box::new(req)));
            assert!(!matches!(join_answers(&effects).as_slice(), [(_, JoinResponse::InconsistentGroupProtocol)]));
        }
        while let Some(deadline) = h.g.join_deadline {
            h.now = deadline;
            h.timer(Timer::JoinDeadline);
        }
        h.g.protocol.expect("a protocol for the generation")
    }

    #[test]
    fn the_protocol_is_one_every_member_supports_chosen_by_vote() {
        use Strategy::*;
        // ClassicGroup.selectProtocol: each member votes for the first of its protocols that all
        // support.
        assert_eq!(
            chosen(&[&[Range, CooperativeSticky], &[Range, CooperativeSticky], &[CooperativeSticky, Range]]),
            Range
        );
        assert_eq!(chosen(&[&[Range, CooperativeSticky], &[CooperativeSticky]]), CooperativeSticky);
        assert_eq!(chosen(&[&[Roundrobin, Sticky], &[Sticky, Range]]), Sticky);
        // A tie goes to the protocol Java's HashMap of votes iterates first: sticky, range,
        // roundrobin, cooperative-sticky.
        assert_eq!(chosen(&[&[Range, Sticky], &[Sticky, Range]]), Sticky);
        assert_eq!(chosen(&[&[CooperativeSticky, Roundrobin], &[Roundrobin, CooperativeSticky]]), Roundrobin);
    }

    #[test]
    fn a_joiner_is_accepted_if_one_of_its_protocols_is_supported_by_every_member() {
        let mut h = Harness::stable(1); // one member supporting range only
        let mut req = h.join_request(1, "", None, Strategy::CooperativeSticky);
        req.strategies = vec![Strategy::CooperativeSticky, Strategy::Range];
        let effects = h.request(client(1), Request::Join(Box::new(req)));
        assert!(matches!(join_answers(&effects).as_slice(), [(1, JoinResponse::MemberIdRequired { .. })]));
    }

    #[test]
    fn a_follower_joining_again_unchanged_gets_the_current_generation_and_a_leader_rebalances() {
        let mut h = Harness::stable(2);
        let follower = h.member(1).member_id;
        let effects = h.join(1, &follower, None, Strategy::Range);
        assert!(states(&effects).is_empty(), "no rebalance: {effects:?}");
        assert!(matches!(
            join_answers(&effects).as_slice(),
            [(1, JoinResponse::Ok { generation: 1, leader: false, members, .. })] if members.is_empty()
        ));
        // Changed metadata (here: what it owns) rebalances.
        let mut req = h.join_request(1, &follower, None, Strategy::Range);
        req.owned = vec![tp(1)];
        let effects = h.request(client(1), Request::Join(Box::new(req)));
        assert_eq!(states(&effects), ["PreparingRebalance"]);
        // The leader joining again always does (it may have seen metadata change).
        let mut h = Harness::stable(2);
        let leader = h.member(0).member_id;
        assert_eq!(states(&h.join(0, &leader, None, Strategy::Range)), ["PreparingRebalance"]);
    }

    #[test]
    fn a_static_member_coming_back_with_another_subscription_keeps_its_place_with_the_new_one() {
        let mut h = Harness::new();
        h.join(0, "", Some("a"), Strategy::Range);
        while let Some(deadline) = h.g.join_deadline {
            h.now = deadline;
            h.timer(Timer::JoinDeadline);
        }
        let old = h.member(0);
        h.request(client(0), Request::Sync { member: old, assignments: Some(vec![]) });
        let mut req = h.join_request(7, "", Some("a"), Strategy::Range);
        req.topics = vec!["u".into()];
        let effects = h.request(client(7), Request::Join(Box::new(req)));
        assert!(states(&effects).is_empty(), "the protocol does not change: no rebalance");
        assert_eq!(h.g.members[0].topics, ["u"], "the group knows its new subscription");
        assert_eq!(h.g.unserved_topics(), ["u"], "which the group's assignment does not cover");
        // Preferring a protocol the group then chooses instead, it rebalances.
        let mut req = h.join_request(8, "", Some("a"), Strategy::Roundrobin);
        req.strategies = vec![Strategy::Roundrobin, Strategy::Range];
        let effects = h.request(client(8), Request::Join(Box::new(req)));
        // Its only member has joined: the new generation forms at once, with roundrobin.
        assert_eq!(states(&effects), ["PreparingRebalance", "CompletingRebalance"]);
        assert_eq!((h.g.generation, h.g.protocol), (2, Some(Strategy::Roundrobin)));
    }

    #[test]
    fn a_static_member_rejoining_a_stable_group_keeps_its_place_and_fences_its_old_id() {
        let mut h = Harness::new();
        h.join(0, "", Some("a"), Strategy::Range);
        h.now = SimTime(DELAY);
        h.timer(Timer::JoinDeadline);
        let old = h.member(0);
        let assignments = vec![(old.member_id.clone(), vec![tp(0), tp(1)])];
        h.request(client(0), Request::Sync { member: old.clone(), assignments: Some(assignments) });
        // A new process with the same group.instance.id joins without a member id.
        h.now = SimTime(10_000);
        let effects = h.join(7, "", Some("a"), Strategy::Range);
        assert!(states(&effects).is_empty(), "no rebalance");
        let answers = join_answers(&effects);
        // It was the leader and stays the leader: told every member's subscription and to skip
        // the assignment (KIP-814), as Kafka 4's coordinator answers.
        let new_id = match &answers[..] {
            [(7, JoinResponse::Ok { generation: 1, member_id, leader: true, skip_assignment: true, members, .. })]
                if members.len() == 1 && members[0].0 == *member_id =>
            {
                member_id.clone()
            }
            other => panic!("{other:?}"),
        };
        // A static member's id is its group.instance.id and a UUID.
        assert!(new_id.starts_with("a-") && new_id != old.member_id, "{new_id}");
        let sync = h.request(client(7), Request::Sync { member: h.member(7), assignments: None });
        assert!(sync.iter().any(
            |e| matches!(e, Effect::Reply { reply: Reply::Sync { result: Ok(a), .. }, .. } if *a == vec![tp(0), tp(1)])
        ));
        // The old process is fenced wherever it turns up with its old member id.
        assert_eq!(h.heartbeat(0, old.clone()), Err(GroupError::FencedInstanceId));
        let effects = h.join(0, &old.member_id, Some("a"), Strategy::Range);
        assert!(matches!(join_answers(&effects).as_slice(), [(0, JoinResponse::FencedInstanceId)]));
    }

    #[test]
    fn a_replaced_static_follower_is_answered_as_a_follower_with_nothing_to_skip() {
        let mut h = Harness::new();
        h.join(0, "", Some("a"), Strategy::Range);
        h.join(1, "", Some("b"), Strategy::Range);
        while let Some(deadline) = h.g.join_deadline {
            h.now = deadline;
            h.timer(Timer::JoinDeadline);
        }
        let (a, b) = (h.member(0), h.member(1));
        assert_eq!(h.g.leader.as_deref(), Some(a.member_id.as_str()));
        let assignments = vec![(a.member_id.clone(), vec![tp(0)]), (b.member_id.clone(), vec![tp(1)])];
        h.request(client(0), Request::Sync { member: a, assignments: Some(assignments) });
        h.request(client(1), Request::Sync { member: b, assignments: None });
        let effects = h.join(7, "", Some("b"), Strategy::Range);
        assert!(states(&effects).is_empty(), "no rebalance");
        assert!(matches!(
            join_answers(&effects).as_slice(),
            [(7, JoinResponse::Ok { leader: false, skip_assignment: false, members, .. })] if members.is_empty()
        ));
    }

    #[test]
    fn commits_are_stored_only_from_a_current_member_outside_completing_rebalance() {
        let mut h = Harness::new();
        h.join(0, "", None, Strategy::Range);
        h.now = SimTime(DELAY);
        h.timer(Timer::JoinDeadline);
        let m = h.member(0);
        let commit = |h: &mut Harness, member: MemberRef, offset| {
            let effects = h.request(
                client(0),
                Request::OffsetCommit { member, offsets: vec![(tp(0), offset)], purpose: CommitPurpose::Sync },
            );
            effects.iter().find_map(|e| match e {
                Effect::Event(EventKind::Committed { .. }) => Some(Ok(())),
                Effect::Event(EventKind::CommitFailed { reason, .. }) => Some(Err(reason.clone())),
                _ => None,
            })
        };
        let failed = commit(&mut h, m.clone(), 5).unwrap().unwrap_err();
        assert!(failed.starts_with("REBALANCE_IN_PROGRESS"), "{failed}");
        h.request(
            client(0),
            Request::Sync { member: m.clone(), assignments: Some(vec![(m.member_id.clone(), vec![tp(0)])]) },
        );
        assert_eq!(commit(&mut h, m.clone(), 5), Some(Ok(())));
        let stale = MemberRef { generation: 0, ..m.clone() };
        assert!(commit(&mut h, stale, 9).unwrap().unwrap_err().starts_with("ILLEGAL_GENERATION"));
        let unknown = MemberRef { member_id: "nobody".into(), ..m };
        assert!(commit(&mut h, unknown, 9).unwrap().unwrap_err().starts_with("UNKNOWN_MEMBER_ID"));
        let effects = h.request(client(0), Request::OffsetFetch { partitions: vec![tp(0), tp(1)] });
        assert!(effects.iter().any(|e| matches!(e, Effect::Reply { reply: Reply::OffsetFetch { offsets }, .. } if *offsets == vec![(tp(0), Some(5)), (tp(1), None)])));
    }

    #[test]
    fn a_new_coordinator_reloads_what_the_last_completed_generation_left() {
        // Never completed a generation: it is not in __consumer_offsets; the joiner joins again.
        let mut h = Harness::new();
        h.join(0, "", None, Strategy::Range);
        let mut out = Out::default();
        h.now = SimTime(1_000);
        let ctx = Ctx {
            now: h.now,
            initial_rebalance_delay_ms: DELAY,
            rng: &mut h.rng,
            topics: &h.topics,
            session_timeout_bounds: (6_000, 1_800_000),
        };
        h.g.on_loaded(&ctx, &mut out);
        assert_eq!(states(&out.effects), ["Empty"]);
        assert!(matches!(join_answers(&out.effects).as_slice(), [(0, JoinResponse::UnknownMemberId)]));
        // In the middle of a rebalance: a fresh full rebalance timeout.
        let mut h = Harness::stable(2);
        h.now = SimTime(20_000);
        h.join(2, "", None, Strategy::Range);
        h.now = SimTime(25_000);
        let mut out = Out::default();
        let ctx = Ctx {
            now: h.now,
            initial_rebalance_delay_ms: DELAY,
            rng: &mut h.rng,
            topics: &h.topics,
            session_timeout_bounds: (6_000, 1_800_000),
        };
        h.g.on_loaded(&ctx, &mut out);
        assert!(out.effects.iter().any(
            |e| matches!(e, Effect::Timer { at, timer: Timer::JoinDeadline } if *at == SimTime(25_000 + REBALANCE))
        ));
    }

    #[test]
    fn a_transactional_commit_is_staged_for_a_current_member_even_mid_rebalance_and_refused_otherwise() {
        let mut h = Harness::stable(2);
        let current = h.member(0);
        assert_eq!(h.g.txn_commit(&current, 7, &[(tp(0), 5)]), Ok(()));
        assert_eq!(h.g.offsets.get(tp(0)), None, "pending until the marker");
        assert!(h.g.offsets.unstable(tp(0)));
        let stale = MemberRef { generation: current.generation - 1, ..current.clone() };
        assert_eq!(h.g.txn_commit(&stale, 7, &[(tp(0), 6)]), Err(GroupError::IllegalGeneration));
        let stranger = MemberRef { member_id: "nobody".into(), instance_id: None, generation: current.generation };
        assert_eq!(h.g.txn_commit(&stranger, 7, &[(tp(0), 6)]), Err(GroupError::UnknownMemberId));
        // A third member joins: the group prepares a rebalance, at the same generation so far;
        // the group's state refuses no transactional commit.
        h.join(2, "", None, Strategy::Range);
        assert_eq!(h.g.txn_commit(&h.member(1), 8, &[(tp(1), 3)]), Ok(()));
        assert_eq!(h.g.on_txn_marker(7, true), [tp(0)]);
        assert_eq!(h.g.offsets.get(tp(0)), Some(5));
        assert_eq!(h.g.on_txn_marker(8, false), []);
        assert_eq!(h.g.offsets.get(tp(1)), None, "the abort dropped it");
    }
}
