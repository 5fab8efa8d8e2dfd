//! The group coordinator of Kafka 4's consumer group protocol (KIP-848, `group.protocol=consumer`)
//! for one group, as a state machine like the classic one ([`super::coordinator`]): it takes one
//! message at a time — a `ConsumerGroupHeartbeat`, an offset request or one of its timers — and
//! records what it does in an [`Out`].
//!
//! Kafka 4.x's `GroupMetadataManager.consumerGroupHeartbeat`, step by step:
//! 1. A member joins with epoch 0 (its member id is its own, a UUID), heartbeats with its epoch
//!    every `group.consumer.heartbeat.interval.ms` (5 s), and leaves with epoch -1 (-2 for a
//!    static member that means to come back: it keeps its place and partitions until its session
//!    runs out). A heartbeat with an epoch the coordinator does not expect is FENCED_MEMBER_EPOCH
//!    — except the previous epoch from a member that owns no more than it is given (the answer
//!    that bumped it was lost).
//! 2. The *group epoch* moves when a member joins, changes its subscription or is removed (Kafka
//!    also moves it when the subscribed topics' partitions change; ksim's topics keep theirs);
//!    the coordinator then computes a new *target
//!    assignment* with the group's server assignor ([`super::uniform`] by default, or
//!    [`super::broker_assign::range`]), at once, in the same heartbeat.
//! 3. The member that heartbeats is moved one step towards its target ([`super::reconcile`]): it
//!    revokes first and is given what another member still owns only once that member lets go.
//!    Only the member that heartbeats moves; the others move at their own next heartbeat.
//! 4. A member silent for `group.consumer.session.timeout.ms` (45 s) is removed; one that does not
//!    revoke within its rebalance timeout (its `max.poll.interval.ms`) is fenced and removed.
//!
//! The group's state (Empty, Assigning, Reconciling, Stable) follows from the epochs
//! ([`GroupState::of`]). Committed offsets are stored from the member at its current epoch only
//! (STALE_MEMBER_EPOCH otherwise), as Kafka 4.0 validates them.

use crate::sim::event::EventKind;
use crate::sim::ids::{ConsumerId, GroupId, MemberId, Name, TopicId, Tp};
use crate::sim::time::SimTime;
use crate::sim::vecmap::VecMap;

use super::broker_assign::{self, MemberSpec, TargetAssignment};
use super::coordinator::{partition_offsets, Client, CommitPurpose};
use super::reconcile::{self, GroupState, MemberAssignment, MemberState, Partitions, Reconcile};
use super::uniform;

mod classic;
pub use classic::ClassicMember;

/// `group.consumer.heartbeat.interval.ms`.
pub const HEARTBEAT_INTERVAL_MS: u64 = 5_000;
/// `group.consumer.session.timeout.ms`.
pub const SESSION_TIMEOUT_MS: u64 = 45_000;
/// The epoch a member leaves with.
pub const LEAVE_EPOCH: i32 = -1;
/// The epoch a static member leaves with when it means to come back.
pub const STATIC_LEAVE_EPOCH: i32 = -2;

pub use crate::sim::config::ServerAssignor;

impl ServerAssignor {
    /// The target assignment this assignor computes for `members` over `topics`, given the
    /// current target (the uniform assignor keeps what it can of it).
    pub fn assign(
        self,
        topics: &VecMap<String, u32>,
        members: &[MemberSpec],
        current: &TargetAssignment,
    ) -> TargetAssignment {
        match self {
            ServerAssignor::Uniform => uniform::uniform(topics, members, current),
            ServerAssignor::Range => broker_assign::range(topics, members),
        }
    }
}

/// A `ConsumerGroupHeartbeat`. `None` fields were left out: unchanged since the last one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatRequest {
    pub member_id: MemberId,
    pub member_epoch: i32,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub rebalance_timeout_ms: Option<u64>,
    pub topics: Option<Vec<String>>,
    pub assignor: Option<ServerAssignor>,
    /// The partitions the member owns.
    pub owned: Option<Partitions>,
}

impl HeartbeatRequest {
    /// A full request (joining, or after an error): every field a join needs is there.
    fn is_full(&self) -> bool {
        self.member_epoch == 0 || (self.rebalance_timeout_ms.is_some() && self.topics.is_some() && self.owned.is_some())
    }
}

/// The coordinator's answer to a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatResponse {
    pub member_id: MemberId,
    pub member_epoch: i32,
    pub heartbeat_interval_ms: u64,
    /// The member's assignment, when it changed or the request was full.
    pub assignment: Option<Partitions>,
}

/// Errors the coordinator answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupError {
    UnknownMemberId,
    FencedMemberEpoch,
    /// A static member joins while another member still holds its `group.instance.id`.
    UnreleasedInstanceId,
    /// A request from a member id whose `group.instance.id` another member now holds.
    FencedInstanceId,
    InvalidRequest,
    /// An offset commit from another epoch than the member's.
    StaleMemberEpoch,
    /// The group is not a consumer-protocol group and this request may not make it one: a
    /// heartbeat that is not a join (epoch above 0) for a classic group or none.
    GroupIdNotFound,
    /// The group is on the classic protocol, with members, and the run keeps the rules of links
    /// made before ksim modelled a group mixing both protocols (version 2): the member is
    /// refused (Kafka answers GROUP_ID_NOT_FOUND when it may not convert a group).
    MixedProtocols,
}

impl GroupError {
    pub fn code(self) -> &'static str {
        match self {
            GroupError::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            GroupError::FencedMemberEpoch => "FENCED_MEMBER_EPOCH",
            GroupError::UnreleasedInstanceId => "UNRELEASED_INSTANCE_ID",
            GroupError::FencedInstanceId => "FENCED_INSTANCE_ID",
            GroupError::InvalidRequest => "INVALID_REQUEST",
            GroupError::StaleMemberEpoch => "STALE_MEMBER_EPOCH",
            GroupError::GroupIdNotFound | GroupError::MixedProtocols => "GROUP_ID_NOT_FOUND",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Request {
    Heartbeat(Box<HeartbeatRequest>),
    OffsetCommit {
        member_id: MemberId,
        member_epoch: i32,
        offsets: Vec<(Tp, u64)>,
        purpose: CommitPurpose,
    },
    /// Committed offsets, asked by a member (its id and epoch; an empty id and a negative epoch
    /// for a client outside the group).
    OffsetFetch {
        member_id: MemberId,
        member_epoch: i32,
        partitions: Vec<Tp>,
    },
}

/// The coordinator's own timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// A member's session may have run out.
    SessionCheck { member_id: MemberId },
    /// A member had its rebalance timeout to revoke what it was asked to at `epoch`.
    Revocation { member_id: MemberId, epoch: i32 },
    /// A member on the classic protocol had its rebalance timeout to send SyncGroup after its
    /// JoinGroup was answered.
    ClassicSync { member_id: MemberId },
    /// A member on the classic protocol had its rebalance timeout to join again after it was
    /// told to.
    ClassicJoin { member_id: MemberId },
}

/// Each partition asked for, with its committed offset if it has one.
pub type Committed = Vec<(Tp, Option<u64>)>;

#[derive(Clone, Debug)]
pub enum Reply {
    Heartbeat(Result<HeartbeatResponse, GroupError>),
    OffsetCommit {
        purpose: CommitPurpose,
        result: Result<(), GroupError>,
    },
    /// The committed offsets, or why the member may not read them (with what it asked for).
    OffsetFetch {
        result: Result<Committed, (Vec<Tp>, GroupError)>,
    },
}

/// One thing the coordinator did, for the engine to carry out.
#[derive(Clone, Debug)]
pub enum Effect {
    Reply {
        consumer: ConsumerId,
        inc: u32,
        reply: Reply,
    },
    /// An answer to a member on the classic protocol.
    ClassicReply {
        consumer: ConsumerId,
        inc: u32,
        reply: super::coordinator::Reply,
    },
    Timer {
        at: SimTime,
        timer: Timer,
    },
    Event(EventKind),
    /// The last member on the consumer protocol is gone and members on the classic protocol
    /// remain: the group becomes a classic group (see [`classic`]), rebalancing at once unless a
    /// classic member just took the place of a static one.
    Downgrade {
        rebalance: bool,
    },
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

impl From<EventKind> for Effect {
    fn from(e: EventKind) -> Self {
        Effect::Event(e)
    }
}

impl Out {
    fn reply(&mut self, to: &Client, reply: Reply) {
        self.effects.push(Effect::Reply { consumer: to.consumer, inc: to.inc, reply });
    }

    fn classic_reply(&mut self, to: &Client, reply: super::coordinator::Reply) {
        self.effects.push(Effect::ClassicReply { consumer: to.consumer, inc: to.inc, reply });
    }

    fn timer(&mut self, at: SimTime, timer: Timer) {
        self.effects.push(Effect::Timer { at, timer });
    }
}

/// What a handler may read besides its own state.
pub struct Ctx<'a> {
    pub now: SimTime,
    /// Partition counts of the topics that exist, by name.
    pub partitions: &'a VecMap<String, u32>,
    /// Topic names by index (offsets name topics by index).
    pub topics: &'a [Name],
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
    pub assignor: Option<ServerAssignor>,
    pub rebalance_timeout_ms: u64,
    pub assignment: MemberAssignment,
    pub last_heartbeat: SimTime,
    session_check_at: Option<SimTime>,
    /// Set for a member on the classic protocol (Kafka's `ClassicMemberMetadata`).
    pub classic: Option<Box<ClassicMember>>,
}

impl Member {
    pub(crate) fn new(member_id: &str, from: &Client, now: SimTime) -> Member {
        Member {
            member_id: member_id.into(),
            consumer: from.consumer,
            inc: from.inc,
            name: from.name.clone(),
            client_id: String::new(),
            instance_id: None,
            topics: Vec::new(),
            assignor: None,
            rebalance_timeout_ms: 0,
            assignment: MemberAssignment::joining(),
            last_heartbeat: now,
            session_check_at: None,
            classic: None,
        }
    }

    /// When the coordinator gives up on it without another heartbeat: after the group's
    /// session timeout, or a classic member's own `session.timeout.ms`.
    pub fn session_deadline(&self) -> SimTime {
        self.last_heartbeat.plus(self.classic.as_ref().map_or(SESSION_TIMEOUT_MS, |c| c.join.session_timeout_ms))
    }

    /// A new process with the same `group.instance.id` takes this static member's place: same
    /// partitions, a new member id, epoch 0.
    fn replacement(&self, member_id: &str) -> Member {
        let mut m = self.clone();
        m.member_id = member_id.into();
        m.assignment.member_epoch = 0;
        m.assignment.previous_member_epoch = 0;
        m.session_check_at = None;
        m
    }

    /// Whether the coordinator counts the partition as this member's: given, or still to be given up.
    pub fn owns(&self, topic: &str, partition: u32) -> bool {
        let has = |p: &Partitions| p.get(topic).is_some_and(|ps| ps.contains(&partition));
        has(&self.assignment.assigned) || has(&self.assignment.pending_revocation)
    }
}

/// One consumer-protocol group's coordinator.
#[derive(Clone, Debug)]
pub struct ConsumerGroup {
    pub name: GroupId,
    pub group_epoch: i32,
    /// The epoch the target assignment was computed at, and the target.
    pub target_epoch: i32,
    pub target: TargetAssignment,
    /// Members in the order they joined.
    pub members: Vec<Member>,
    /// `group.consumer.assignors`; the first is the default.
    pub assignors: Vec<ServerAssignor>,
    /// The assignor the last target was computed with.
    pub assignor: Option<ServerAssignor>,
    /// The group's committed offsets, as `__consumer_offsets` holds them.
    pub offsets: crate::sim::kafka::offsets::GroupOffsets,
    /// The state and epoch last reported.
    reported: (GroupState, i32),
}

impl ConsumerGroup {
    pub fn new(name: &str) -> ConsumerGroup {
        ConsumerGroup {
            name: name.into(),
            group_epoch: 0,
            target_epoch: 0,
            target: TargetAssignment::new(),
            members: Vec::new(),
            assignors: ServerAssignor::ALL.to_vec(),
            assignor: None,
            offsets: Default::default(),
            reported: (GroupState::Empty, 0),
        }
    }

    pub fn state(&self) -> GroupState {
        GroupState::of(self.group_epoch, self.target_epoch, self.members.iter().map(|m| &m.assignment))
    }

    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == id)
    }

    /// Whether the group waits for its next epoch to settle: its target was computed again at
    /// the same epoch (a static member was replaced) and differs from what members already
    /// reconciled to that epoch hold — and Kafka's members move only when the epoch does
    /// (`CurrentAssignmentBuilder`: a Stable member at the target epoch stays as it is). Returns
    /// the partitions that wait: in some member's target but held by none, or held by a member
    /// reconciled to the epoch whose target no longer has them (another member waits for them).
    pub fn waiting_for_next_epoch(&self) -> Vec<(String, u32)> {
        let empty = Partitions::new();
        let mut waiting = Vec::new();
        for m in self.members.iter().filter(|m| m.assignment.is_reconciled_to(self.target_epoch)) {
            let target = self.target.get(m.member_id.as_str()).unwrap_or(&empty);
            for (topic, parts) in target.iter() {
                for p in parts.iter().filter(|p| !self.members.iter().any(|o| o.owns(topic, **p))) {
                    waiting.push((topic.clone(), *p));
                }
            }
            for (topic, parts) in m.assignment.assigned.iter() {
                for p in parts.iter().filter(|p| !target.get(topic).is_some_and(|t| t.contains(p))) {
                    waiting.push((topic.clone(), *p));
                }
            }
        }
        waiting
    }

    fn index(&self, id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.member_id == id)
    }

    // ----- messages --------------------------------------------------------------------------

    pub fn on_request(&mut self, ctx: &Ctx, from: Client, request: Request, out: &mut Out) {
        match request {
            Request::Heartbeat(req) => {
                let result = self.on_heartbeat(ctx, &from, &req, out);
                out.event(EventKind::Heartbeat {
                    consumer: from.name.clone(),
                    group: self.name.clone(),
                    generation: result.as_ref().map_or(req.member_epoch, |r| r.member_epoch),
                    error: result.as_ref().err().map(|e| e.code().to_string()),
                });
                out.reply(&from, Reply::Heartbeat(result));
            }
            Request::OffsetCommit { member_id, member_epoch, offsets, purpose } => {
                let result = self.on_commit(ctx, &from, &member_id, member_epoch, offsets, out);
                out.reply(&from, Reply::OffsetCommit { purpose, result });
            }
            Request::OffsetFetch { member_id, member_epoch, partitions } => {
                let result = match self.check_member(&member_id, member_epoch) {
                    Ok(()) => Ok(partitions.iter().map(|tp| (*tp, self.offsets.get(*tp))).collect()),
                    Err(e) => Err((partitions, e)),
                };
                out.reply(&from, Reply::OffsetFetch { result });
            }
        }
        self.report_state(String::new, out);
    }

    pub fn on_timer(&mut self, ctx: &Ctx, timer: Timer, out: &mut Out) {
        match timer {
            Timer::SessionCheck { member_id } => {
                let Some(i) = self.index(&member_id) else { return };
                let m = &mut self.members[i];
                m.session_check_at = None;
                if ctx.now >= m.session_deadline() {
                    self.fence(&member_id, "session timeout expired", out);
                } else {
                    self.schedule_session_check(i, out);
                }
            }
            Timer::Revocation { member_id, epoch } => {
                let still = self.member(&member_id).is_some_and(|m| {
                    m.assignment.member_epoch == epoch && m.assignment.state == MemberState::UnrevokedPartitions
                });
                if still {
                    self.fence(&member_id, "did not revoke its partitions within its rebalance timeout", out);
                }
            }
            Timer::ClassicSync { member_id } => self.on_classic_deadline(ctx, &member_id, true, out),
            Timer::ClassicJoin { member_id } => self.on_classic_deadline(ctx, &member_id, false, out),
        }
        self.report_state(String::new, out);
    }

    /// The coordinator is loaded on a new broker: the group's state is what `__consumer_offsets`
    /// holds, every session starts again from now, and members still revoking get their
    /// rebalance timeout again.
    pub fn on_loaded(&mut self, ctx: &Ctx, out: &mut Out) {
        for i in 0..self.members.len() {
            let m = &mut self.members[i];
            m.last_heartbeat = ctx.now;
            m.session_check_at = None;
            if let Some(c) = &mut m.classic {
                c.forget_deadlines();
            }
            self.schedule_session_check(i, out);
            let m = &self.members[i];
            if m.assignment.state == MemberState::UnrevokedPartitions && m.classic.is_none() {
                let timer = Timer::Revocation { member_id: m.member_id.clone(), epoch: m.assignment.member_epoch };
                out.timer(ctx.now.plus(m.rebalance_timeout_ms), timer);
            }
        }
    }

    /// A `ConsumerGroupHeartbeat`: join, heartbeat or leave.
    fn on_heartbeat(
        &mut self,
        ctx: &Ctx,
        from: &Client,
        req: &HeartbeatRequest,
        out: &mut Out,
    ) -> Result<HeartbeatResponse, GroupError> {
        validate(req)?;
        if req.member_epoch == LEAVE_EPOCH || req.member_epoch == STATIC_LEAVE_EPOCH {
            return self.on_leave(req, out);
        }
        let (index, replaced) = self.member_for(req)?;

        // 1. The member, updated from the request; the group epoch moves if its subscription did.
        let mut member = match (index, &replaced) {
            (Some(i), _) => self.members[i].clone(),
            (None, Some(old)) => old.replacement(&req.member_id),
            (None, None) => Member::new(&req.member_id, from, ctx.now),
        };
        let old_topics = member.topics.clone();
        let old_assigned = member.assignment.assigned.clone();
        (member.consumer, member.inc, member.name) = (from.consumer, from.inc, from.name.clone());
        member.client_id = req.client_id.clone();
        // It speaks the consumer protocol (a static member it replaced may not have).
        member.classic = None;
        if req.instance_id.is_some() {
            member.instance_id = req.instance_id.clone();
        }
        if let Some(ms) = req.rebalance_timeout_ms {
            member.rebalance_timeout_ms = ms;
        }
        if req.assignor.is_some() {
            member.assignor = req.assignor;
        }
        if let Some(topics) = &req.topics {
            member.topics = topics.clone();
        }
        let bump = self.group_epoch == 0 || member.topics != old_topics;
        let i = self.place(member, index, replaced.as_ref().map(|m| m.member_id.as_str()), out);
        self.move_on(ctx, i, bump, index.is_none(), replaced.is_some(), req.owned.as_ref(), out);

        let m = &self.members[i];
        let changed = m.assignment.assigned != old_assigned;
        Ok(HeartbeatResponse {
            member_id: m.member_id.clone(),
            member_epoch: m.assignment.member_epoch,
            heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
            assignment: (req.is_full() || changed).then(|| m.assignment.assigned.clone()),
        })
    }

    /// Steps 2 and 3 of a join or heartbeat from member `i`: the group epoch moves on if `bump`
    /// (the member `joined` or changed its subscription), a new target assignment is computed
    /// when it did or when the member `replaced` a static member (Kafka's
    /// `groupEpoch > assignmentEpoch || staticMemberReplaced`: the member it replaced may have
    /// had no target yet), and the member moves one step towards its target as it reports
    /// owning `owned`.
    #[allow(clippy::too_many_arguments)]
    fn move_on(
        &mut self,
        ctx: &Ctx,
        i: usize,
        bump: bool,
        joined: bool,
        replaced: bool,
        owned: Option<&Partitions>,
        out: &mut Out,
    ) {
        let client = self.members[i].client_id.clone();
        // Why the group's state may change (the usual reason, that the member reconciled, is
        // written only if the state changes).
        let mut reason = match (bump, joined) {
            (false, _) => None,
            (true, true) => Some(format!("{client} joined")),
            (true, false) => Some(format!("{client} changed its subscription")),
        };
        if bump {
            self.group_epoch += 1;
        }
        if self.group_epoch > self.target_epoch || replaced {
            self.compute_target(ctx, out);
            reason.get_or_insert_with(|| format!("the target assignment for epoch {} was computed", self.target_epoch));
        }
        self.reconcile(ctx, i, owned, out);
        self.members[i].last_heartbeat = ctx.now;
        self.schedule_session_check(i, out);
        let epoch = self.members[i].assignment.member_epoch;
        self.report_state(|| reason.unwrap_or_else(|| format!("{client} reconciled to epoch {epoch}")), out);
    }

    /// Puts a member in the group: at `index`, in the place of the static member `replaced`
    /// (its place and target go to the new member id), or last. Returns where.
    fn place(&mut self, member: Member, index: Option<usize>, replaced: Option<&str>, out: &mut Out) -> usize {
        if let Some(old) = replaced {
            let i = self.index(old).expect("the replaced member is in the group");
            let target = self.target.remove(old).unwrap_or_default();
            self.target.insert(member.member_id.to_string(), target);
            out.event(EventKind::StaticMemberReplaced {
                group: self.name.clone(),
                old_member_id: old.into(),
                member_id: member.member_id.clone(),
            });
            self.members[i] = member;
            i
        } else if let Some(i) = index {
            self.members[i] = member;
            i
        } else {
            self.members.push(member);
            self.members.len() - 1
        }
    }

    /// Finds the member a heartbeat is from, or makes one for a join (Kafka's
    /// `getOrMaybeSubscribe{Dynamic,Static}ConsumerGroupMember`): its index, or the static member
    /// a join replaces.
    fn member_for(&self, req: &HeartbeatRequest) -> Result<(Option<usize>, Option<Member>), GroupError> {
        let joining = req.member_epoch == 0;
        match &req.instance_id {
            None => {
                let index = self.index(&req.member_id);
                match index {
                    Some(i) => self.check_epoch(&self.members[i], req)?,
                    None if joining => {}
                    None => return Err(GroupError::UnknownMemberId),
                }
                Ok((index, None))
            }
            Some(instance) => {
                let existing = self.members.iter().position(|m| m.instance_id.as_ref() == Some(instance));
                match existing {
                    None if joining => Ok((self.index(&req.member_id), None)),
                    None => Err(GroupError::UnknownMemberId),
                    Some(e) if joining => {
                        // A member on the consumer protocol must have left (epoch -2) first; one
                        // on the classic protocol is replaced at once, as a classic group would.
                        let old = &self.members[e];
                        if old.assignment.member_epoch != STATIC_LEAVE_EPOCH && old.classic.is_none() {
                            return Err(GroupError::UnreleasedInstanceId);
                        }
                        Ok((None, Some(old.clone())))
                    }
                    Some(e) => {
                        let m = &self.members[e];
                        if m.member_id != req.member_id {
                            return Err(GroupError::FencedInstanceId);
                        }
                        self.check_epoch(m, req)?;
                        Ok((Some(e), None))
                    }
                }
            }
        }
    }

    /// Kafka's `throwIfConsumerGroupMemberEpochIsInvalid`.
    fn check_epoch(&self, m: &Member, req: &HeartbeatRequest) -> Result<(), GroupError> {
        let (received, epoch) = (req.member_epoch, m.assignment.member_epoch);
        if received > epoch {
            return Err(GroupError::FencedMemberEpoch);
        }
        if received < epoch {
            // The previous epoch, from a member owning no more than it is given: the answer
            // that moved it on was lost.
            let subset = req.owned.as_ref().is_some_and(|owned| {
                owned
                    .iter()
                    .all(|(t, ps)| m.assignment.assigned.get(t).is_some_and(|a| ps.iter().all(|p| a.contains(p))))
            });
            if received != m.assignment.previous_member_epoch || !subset {
                return Err(GroupError::FencedMemberEpoch);
            }
        }
        Ok(())
    }

    /// A heartbeat with epoch -1 (leave) or -2 (a static member leaving for a while).
    fn on_leave(&mut self, req: &HeartbeatRequest, out: &mut Out) -> Result<HeartbeatResponse, GroupError> {
        let index = match &req.instance_id {
            None => self.index(&req.member_id).ok_or(GroupError::UnknownMemberId)?,
            Some(instance) => {
                let e = self
                    .members
                    .iter()
                    .position(|m| m.instance_id.as_ref() == Some(instance))
                    .ok_or(GroupError::UnknownMemberId)?;
                if self.members[e].member_id != req.member_id {
                    return Err(GroupError::FencedInstanceId);
                }
                e
            }
        };
        if req.member_epoch == STATIC_LEAVE_EPOCH {
            // It keeps its place and partitions until it comes back or its session runs out.
            let m = &mut self.members[index];
            m.assignment.member_epoch = STATIC_LEAVE_EPOCH;
            m.assignment.pending_revocation = Partitions::new();
            member_event(&self.name, &self.members[index], out);
        } else {
            self.fence(&req.member_id, "left the group", out);
        }
        Ok(HeartbeatResponse {
            member_id: req.member_id.clone(),
            member_epoch: req.member_epoch,
            heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
            assignment: None,
        })
    }

    /// An OffsetCommit: stored from a member at its current epoch (Kafka 4.0's
    /// `ConsumerGroup.validateOffsetCommit`), or from outside the group while it has no members.
    fn on_commit(
        &mut self,
        ctx: &Ctx,
        from: &Client,
        member_id: &str,
        member_epoch: i32,
        offsets: Vec<(Tp, u64)>,
        out: &mut Out,
    ) -> Result<(), GroupError> {
        let valid = if member_id.is_empty() && member_epoch < 0 {
            if self.members.is_empty() {
                Ok(())
            } else {
                Err(GroupError::UnknownMemberId)
            }
        } else {
            self.check_member(member_id, member_epoch)
        };
        let refused = valid.err().map(|e| format!("{}: committed at epoch {member_epoch}", e.code()));
        self.store_commit(ctx, from, &offsets, refused, out);
        valid
    }

    /// A TxnOffsetCommit of `producer_id`'s transaction from `member_id` at `member_epoch`
    /// (KIP-447, `validateOffsetCommit` for a transactional commit): a known member at its current
    /// epoch, or a client outside an empty group; staged until the transaction's marker
    /// ([`ConsumerGroup::on_txn_marker`]). Kafka 4 answers a stale epoch here ILLEGAL_GENERATION
    /// (TxnOffsetCommit has no STALE_MEMBER_EPOCH before KIP-1319).
    pub fn txn_commit(
        &mut self,
        member_id: &str,
        member_epoch: i32,
        producer_id: u32,
        offsets: &[(Tp, u64)],
    ) -> Result<(), crate::sim::coordinator::GroupError> {
        use crate::sim::coordinator::GroupError as E;
        if !(member_epoch < 0 && self.members.is_empty()) {
            match self.member(member_id) {
                None => return Err(E::UnknownMemberId),
                Some(m) if m.assignment.member_epoch != member_epoch => return Err(E::IllegalGeneration),
                Some(_) => {}
            }
        }
        for (tp, offset) in offsets {
            self.offsets.stage(producer_id, *tp, *offset);
        }
        Ok(())
    }

    /// The marker of `producer_id`'s transaction reached the group's offsets partition: its
    /// staged offsets become the group's (a commit) or are dropped (an abort).
    pub fn on_txn_marker(&mut self, producer_id: u32, commit: bool) -> Vec<Tp> {
        self.offsets.complete(producer_id, commit)
    }

    /// An offset request from `member_id` at `member_epoch` (`validateOffsetFetch`, and the
    /// member half of `validateOffsetCommit`): from a client outside the group (no id, negative
    /// epoch) it is accepted; else the member must be known and at its current epoch.
    fn check_member(&self, member_id: &str, member_epoch: i32) -> Result<(), GroupError> {
        if member_id.is_empty() && member_epoch < 0 {
            return Ok(());
        }
        match self.member(member_id) {
            None => Err(GroupError::UnknownMemberId),
            Some(m) if m.assignment.member_epoch != member_epoch => Err(GroupError::StaleMemberEpoch),
            Some(_) => Ok(()),
        }
    }

    /// Stores a commit's offsets, or says why they are not stored (`refused`), for either
    /// protocol's members.
    fn store_commit(
        &mut self,
        ctx: &Ctx,
        from: &Client,
        offsets: &[(Tp, u64)],
        refused: Option<String>,
        out: &mut Out,
    ) {
        let (consumer, group) = (from.name.clone(), self.name.clone());
        match refused {
            None => {
                for (tp, offset) in offsets {
                    self.offsets.commit(*tp, *offset);
                }
                let offsets = partition_offsets(ctx.topics, offsets);
                out.event(EventKind::Committed { consumer, group, offsets });
            }
            Some(why) => {
                let reason = format!("{why}; its offsets are not stored");
                out.event(EventKind::CommitFailed { consumer, group, reason });
            }
        }
    }

    // ----- the group -------------------------------------------------------------------------

    /// The assignor most members ask for (ties: the earlier in `group.consumer.assignors`), or
    /// the default.
    fn preferred_assignor(&self) -> ServerAssignor {
        let count = |a: ServerAssignor| self.members.iter().filter(|m| m.assignor == Some(a)).count();
        let mut best = (0, self.assignors.first().copied().unwrap_or(ServerAssignor::Uniform));
        for &a in &self.assignors {
            if count(a) > best.0 {
                best = (count(a), a);
            }
        }
        best.1
    }

    /// Kafka's `updateTargetAssignment`: the assignor over the members, each with its current
    /// target, at the group epoch.
    fn compute_target(&mut self, ctx: &Ctx, out: &mut Out) {
        let specs: Vec<MemberSpec> = self
            .members
            .iter()
            .map(|m| MemberSpec {
                member_id: m.member_id.to_string(),
                instance_id: m.instance_id.clone(),
                topics: m.topics.clone(),
            })
            .collect();
        let assignor = self.preferred_assignor();
        let target = assignor.assign(ctx.partitions, &specs, &self.target);
        self.target = target;
        self.target_epoch = self.group_epoch;
        self.assignor = Some(assignor);
        out.event(EventKind::TargetAssignment {
            group: self.name.clone(),
            epoch: self.target_epoch,
            assignor: assignor.name().to_string(),
            assignment: self.target.iter().map(|(id, p)| (id.clone(), partition_names(p))).collect(),
        });
    }

    /// Moves member `i` one step towards its target, as its heartbeat reports what it owns.
    fn reconcile(&mut self, ctx: &Ctx, i: usize, owned: Option<&Partitions>, out: &mut Out) {
        let m = &self.members[i];
        if m.assignment.is_reconciled_to(self.target_epoch) || m.assignment.member_epoch < 0 {
            return;
        }
        let empty = Partitions::new();
        let others: Vec<&Member> = self.members.iter().filter(|o| o.member_id != m.member_id).collect();
        let owned_by_other = |t: &str, p: u32| others.iter().any(|o| o.owns(t, p));
        let next = reconcile::next(
            &m.assignment,
            &Reconcile {
                target_epoch: self.target_epoch,
                target: self.target.get(m.member_id.as_str()).unwrap_or(&empty),
                subscribed: &m.topics,
                owned,
                owned_by_other: &owned_by_other,
            },
        );
        if next == m.assignment {
            return;
        }
        // Members on the classic protocol have their JoinGroup and SyncGroup clocks instead.
        let revoking = next.state == MemberState::UnrevokedPartitions && m.classic.is_none();
        let timer = revoking.then(|| Timer::Revocation { member_id: m.member_id.clone(), epoch: next.member_epoch });
        let deadline = ctx.now.plus(m.rebalance_timeout_ms);
        self.members[i].assignment = next;
        if let Some(timer) = timer {
            out.timer(deadline, timer);
        }
        member_event(&self.name, &self.members[i], out);
    }

    /// Removes a member (Kafka's `consumerGroupFenceMember`): its target goes, the group epoch
    /// moves on.
    fn fence(&mut self, member_id: &str, reason: &str, out: &mut Out) {
        let Some(i) = self.index(member_id) else { return };
        let m = self.members.remove(i);
        self.target.remove(member_id);
        // Kafka's validateOnlineDowngradeWithFencedMember: the last member on the consumer
        // protocol is gone and others remain, all on the classic protocol. The group becomes
        // classic at its group epoch, not moved on.
        let downgrade =
            m.classic.is_none() && !self.members.is_empty() && self.members.iter().all(|o| o.classic.is_some());
        if !downgrade {
            self.group_epoch += 1;
        }
        out.event(EventKind::MemberRemoved {
            group: self.name.clone(),
            consumer: m.name.clone(),
            member_id: member_id.into(),
            reason: reason.to_string(),
        });
        if downgrade {
            out.effects.push(Effect::Downgrade { rebalance: true });
        }
        self.report_state(|| format!("{} {reason}", m.client_id), out);
    }

    fn schedule_session_check(&mut self, i: usize, out: &mut Out) {
        let m = &mut self.members[i];
        if m.session_check_at.is_some() {
            return;
        }
        let at = m.session_deadline();
        m.session_check_at = Some(at);
        out.timer(at, Timer::SessionCheck { member_id: m.member_id.clone() });
    }

    /// Reports the group's state, and why, when it or the group epoch changed.
    fn report_state(&mut self, reason: impl FnOnce() -> String, out: &mut Out) {
        let now = (self.state(), self.group_epoch);
        if now == self.reported || out.effects.iter().any(|e| matches!(e, Effect::Downgrade { .. })) {
            return; // unchanged, or about to be a classic group
        }
        self.reported = now;
        out.event(EventKind::GroupState {
            group: self.name.clone(),
            state: now.0.name().to_string(),
            generation: now.1,
            reason: reason(),
        });
    }
}

/// Reports a member's step towards its target: epoch, state, what it is given and gives up.
fn member_event(group: &GroupId, m: &Member, out: &mut Out) {
    out.event(EventKind::MemberAssignment {
        group: group.clone(),
        consumer: m.name.clone(),
        member_id: m.member_id.clone(),
        epoch: m.assignment.member_epoch,
        state: m.assignment.state.name().to_string(),
        assigned: partition_names(&m.assignment.assigned),
        revoking: partition_names(&m.assignment.pending_revocation),
    });
}

/// Kafka's `throwIfConsumerGroupHeartbeatRequestIsInvalid`.
fn validate(req: &HeartbeatRequest) -> Result<(), GroupError> {
    let invalid = req.member_id.trim().is_empty()
        || req.instance_id.as_ref().is_some_and(|i| i.trim().is_empty())
        || match req.member_epoch {
            0 => {
                req.rebalance_timeout_ms.is_none()
                    || req.owned.as_ref().is_none_or(|o| !o.is_empty())
                    || req.topics.is_none()
            }
            STATIC_LEAVE_EPOCH => req.instance_id.is_none(),
            e => e < STATIC_LEAVE_EPOCH,
        };
    if invalid {
        Err(GroupError::InvalidRequest)
    } else {
        Ok(())
    }
}

/// Partitions named by topic as `Tp`s, topics numbered by `index` (unknown ones left out), in
/// order.
pub fn tps_of(p: &Partitions, index: impl Fn(&str) -> Option<TopicId>) -> Vec<Tp> {
    p.iter()
        .filter_map(|(t, ps)| index(t).map(|topic| (topic, ps)))
        .flat_map(|(topic, ps)| ps.iter().map(move |&partition| Tp { topic, partition }))
        .collect()
}

/// `Tp`s as partitions named by topic, each topic named by `name`: what a consumer-protocol
/// member reports owning, and what a classic member's JoinGroup and assignment say.
pub fn partitions_of(tps: &[Tp], name: impl Fn(Tp) -> (Name, u32)) -> Partitions {
    let mut p = Partitions::new();
    for tp in tps {
        let (topic, partition) = name(*tp);
        p.entry(topic.to_string()).or_default().insert(partition);
    }
    p
}

/// Partitions as `topic-partition` names, in order.
pub fn partition_names(p: &Partitions) -> Vec<String> {
    p.iter().flat_map(|(t, ps)| ps.iter().map(move |n| format!("{t}-{n}"))).collect()
}

#[cfg(test)]
mod tests {
    //! Transitions from Kafka's `GroupMetadataManagerTest` (consumer group heartbeats), with the
    //! real assignors in place of its mock: topics foo (6 partitions) and bar (3).
    use super::*;
    use crate::sim::vecmap::VecSet;

    struct Harness {
        g: ConsumerGroup,
        partitions: VecMap<String, u32>,
        topics: Vec<Name>,
        now: SimTime,
    }

    fn client(c: u32) -> Client {
        Client { consumer: ConsumerId(c), inc: 1, name: format!("c{c}").into() }
    }

    fn parts(spec: &[(&str, &[u32])]) -> Partitions {
        spec.iter().map(|(t, ps)| (t.to_string(), ps.iter().copied().collect::<VecSet<u32>>())).collect()
    }

    /// A full join request (epoch 0) for member `id`.
    fn join(id: &str, topics: &[&str]) -> HeartbeatRequest {
        HeartbeatRequest {
            member_id: id.into(),
            member_epoch: 0,
            instance_id: None,
            client_id: format!("client-{id}"),
            rebalance_timeout_ms: Some(300_000),
            topics: Some(topics.iter().map(|t| t.to_string()).collect()),
            assignor: None,
            owned: Some(Partitions::new()),
        }
    }

    /// A regular heartbeat: epoch and what the member owns.
    fn beat(id: &str, epoch: i32, owned: Partitions) -> HeartbeatRequest {
        HeartbeatRequest {
            member_id: id.into(),
            member_epoch: epoch,
            instance_id: None,
            client_id: format!("client-{id}"),
            rebalance_timeout_ms: None,
            topics: None,
            assignor: None,
            owned: Some(owned),
        }
    }

    impl Harness {
        fn new(assignors: &[ServerAssignor]) -> Harness {
            let mut g = ConsumerGroup::new("g");
            g.assignors = assignors.to_vec();
            Harness {
                g,
                partitions: [("foo".to_string(), 6), ("bar".to_string(), 3)].into_iter().collect(),
                topics: vec!["foo".into(), "bar".into()],
                now: SimTime(0),
            }
        }

        fn ctx(&self) -> Ctx<'_> {
            Ctx { now: self.now, partitions: &self.partitions, topics: &self.topics }
        }

        fn send(&mut self, c: u32, request: Request) -> Vec<Effect> {
            let mut out = Out::default();
            let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topics };
            self.g.on_request(&ctx, client(c), request, &mut out);
            out.effects
        }

        /// Sends a heartbeat from consumer `c`; returns the answer.
        fn hb(&mut self, c: u32, req: HeartbeatRequest) -> Result<HeartbeatResponse, GroupError> {
            let effects = self.send(c, Request::Heartbeat(Box::new(req)));
            answer(&effects)
        }

        fn timer(&mut self, timer: Timer) -> Vec<Effect> {
            let mut out = Out::default();
            let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topics };
            self.g.on_timer(&ctx, timer, &mut out);
            out.effects
        }

        fn assigned(&self, id: &str) -> &Partitions {
            &self.g.member(id).expect("a member").assignment.assigned
        }
    }

    fn answer(effects: &[Effect]) -> Result<HeartbeatResponse, GroupError> {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::Reply { reply: Reply::Heartbeat(r), .. } => Some(r.clone()),
                _ => None,
            })
            .expect("a heartbeat answer")
    }

    fn timers(effects: &[Effect]) -> Vec<(SimTime, Timer)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Timer { at, timer } => Some((*at, timer.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_transactional_commit_is_staged_for_a_member_at_its_epoch_and_a_stale_epoch_is_an_illegal_generation() {
        use crate::sim::coordinator::GroupError as E;
        let mut h = Harness::new(&[ServerAssignor::Range]);
        let tp0 = Tp { topic: TopicId(0), partition: 0 };
        assert_eq!(h.g.txn_commit("", -1, 7, &[(tp0, 4)]), Ok(()), "outside an empty group");
        h.hb(1, join("A", &["foo"])).unwrap();
        assert_eq!(h.g.txn_commit("A", 1, 8, &[(tp0, 5)]), Ok(()));
        assert_eq!(h.g.txn_commit("A", 0, 8, &[(tp0, 6)]), Err(E::IllegalGeneration));
        assert_eq!(h.g.txn_commit("B", 1, 8, &[(tp0, 6)]), Err(E::UnknownMemberId));
        assert_eq!(h.g.txn_commit("", -1, 9, &[(tp0, 6)]), Err(E::UnknownMemberId), "the group has a member now");
        assert_eq!(h.g.offsets.get(tp0), None);
        assert_eq!(h.g.on_txn_marker(8, true), [tp0]);
        assert_eq!(h.g.offsets.get(tp0), Some(5));
        assert_eq!(h.g.on_txn_marker(7, true), [], "the later write won");
    }

    #[test]
    fn a_member_joining_an_empty_group_gets_everything_at_epoch_1() {
        let mut h = Harness::new(&[ServerAssignor::Range]);
        let effects = h.send(1, Request::Heartbeat(Box::new(join("A", &["foo", "bar"]))));
        let r = answer(&effects).unwrap();
        assert_eq!((r.member_epoch, r.heartbeat_interval_ms), (1, 5_000));
        assert_eq!(r.assignment, Some(parts(&[("bar", &[0, 1, 2]), ("foo", &[0, 1, 2, 3, 4, 5])])));
        assert_eq!((h.g.group_epoch, h.g.target_epoch, h.g.state()), (1, 1, GroupState::Stable));
        assert_eq!(h.g.assignor, Some(ServerAssignor::Range));
        assert_eq!(timers(&effects), vec![(SimTime(45_000), Timer::SessionCheck { member_id: "A".into() })]);
    }

    #[test]
    fn a_new_subscription_moves_the_group_epoch_and_brings_a_new_target() {
        let mut h = Harness::new(&[ServerAssignor::Uniform]);
        h.hb(1, join("A", &["foo"])).unwrap();
        assert_eq!(h.assigned("A"), &parts(&[("foo", &[0, 1, 2, 3, 4, 5])]));
        let mut req = beat("A", 1, parts(&[("foo", &[0, 1, 2, 3, 4, 5])]));
        req.topics = Some(vec!["foo".into(), "bar".into()]);
        let r = h.hb(1, req).unwrap();
        assert_eq!(r.member_epoch, 2);
        assert_eq!(r.assignment, Some(parts(&[("bar", &[0, 1, 2]), ("foo", &[0, 1, 2, 3, 4, 5])])));
        // An unchanged heartbeat is answered without the assignment.
        let r = h.hb(1, beat("A", 2, h.assigned("A").clone())).unwrap();
        assert_eq!((r.member_epoch, r.assignment), (2, None));
    }

    #[test]
    fn a_joiner_gets_partitions_only_once_their_owner_revoked_them() {
        let mut h = Harness::new(&[ServerAssignor::Range]);
        h.hb(1, join("A", &["foo", "bar"])).unwrap();
        let all = h.assigned("A").clone();

        // B joins: epoch 2; its range is still A's, so it waits for it.
        let r = h.hb(2, join("B", &["foo", "bar"])).unwrap();
        assert_eq!((r.member_epoch, r.assignment), (2, Some(Partitions::new())));
        assert_eq!(h.g.member("B").unwrap().assignment.state, MemberState::UnreleasedPartitions);
        assert_eq!(h.g.state(), GroupState::Reconciling);

        // A is told to give up B's range; it keeps its epoch until it has.
        let effects = h.send(1, Request::Heartbeat(Box::new(beat("A", 1, all.clone()))));
        let r = answer(&effects).unwrap();
        let kept = parts(&[("bar", &[0, 1]), ("foo", &[0, 1, 2])]);
        assert_eq!((r.member_epoch, r.assignment.as_ref()), (1, Some(&kept)));
        let a = &h.g.member("A").unwrap().assignment;
        assert_eq!(a.state, MemberState::UnrevokedPartitions);
        assert_eq!(a.pending_revocation, parts(&[("bar", &[2]), ("foo", &[3, 4, 5])]));
        assert_eq!(
            timers(&effects),
            vec![(SimTime(300_000), Timer::Revocation { member_id: "A".into(), epoch: 1 })],
            "its rebalance timeout to revoke"
        );

        // B heartbeats before A has revoked: still nothing.
        let r = h.hb(2, beat("B", 2, Partitions::new())).unwrap();
        assert_eq!((r.member_epoch, r.assignment), (2, None));

        // A no longer reports them: it moves to epoch 2.
        let r = h.hb(1, beat("A", 1, kept.clone())).unwrap();
        assert_eq!((r.member_epoch, r.assignment), (2, None));
        // B now takes them.
        let r = h.hb(2, beat("B", 2, Partitions::new())).unwrap();
        assert_eq!(r.assignment, Some(parts(&[("bar", &[2]), ("foo", &[3, 4, 5])])));
        assert_eq!(h.g.state(), GroupState::Stable);
        // The revocation deadline passes harmlessly.
        h.now = SimTime(300_000);
        h.timer(Timer::Revocation { member_id: "A".into(), epoch: 1 });
        assert!(h.g.member("A").is_some());
    }

    #[test]
    fn a_member_that_does_not_revoke_in_time_is_fenced() {
        let mut h = Harness::new(&[ServerAssignor::Range]);
        h.hb(1, join("A", &["foo", "bar"])).unwrap();
        let all = h.assigned("A").clone();
        h.hb(2, join("B", &["foo", "bar"])).unwrap();
        h.hb(1, beat("A", 1, all.clone())).unwrap();
        h.now = SimTime(300_000);
        let effects = h.timer(Timer::Revocation { member_id: "A".into(), epoch: 1 });
        assert!(h.g.member("A").is_none());
        assert!(effects.iter().any(|e| matches!(e, Effect::Event(EventKind::MemberRemoved { .. }))));
        assert_eq!((h.g.group_epoch, h.g.state()), (3, GroupState::Assigning));
        // B's next heartbeat brings the new target: everything.
        let r = h.hb(2, beat("B", 2, Partitions::new())).unwrap();
        assert_eq!(r.assignment, Some(all));
        assert_eq!((r.member_epoch, h.g.state()), (3, GroupState::Stable));
    }

    #[test]
    fn a_leaving_member_moves_the_group_epoch() {
        let mut h = Harness::new(&[ServerAssignor::Uniform]);
        h.hb(1, join("A", &["foo"])).unwrap();
        h.hb(2, join("B", &["foo"])).unwrap();
        let mut leave = beat("A", LEAVE_EPOCH, Partitions::new());
        leave.owned = None;
        let r = h.hb(1, leave).unwrap();
        assert_eq!((r.member_id.as_str(), r.member_epoch), ("A", -1));
        assert!(h.g.member("A").is_none() && !h.g.target.contains_key("A"));
        assert_eq!((h.g.group_epoch, h.g.state()), (3, GroupState::Assigning));
        // Leaving again: unknown.
        let mut again = beat("A", LEAVE_EPOCH, Partitions::new());
        again.owned = None;
        assert_eq!(h.hb(1, again), Err(GroupError::UnknownMemberId));
    }

    #[test]
    fn a_silent_member_is_removed_after_the_session_timeout() {
        let mut h = Harness::new(&[ServerAssignor::Uniform]);
        h.hb(1, join("A", &["foo"])).unwrap();
        h.now = SimTime(10_000);
        h.hb(2, join("B", &["foo"])).unwrap();
        h.now = SimTime(45_000);
        h.timer(Timer::SessionCheck { member_id: "B".into() }); // B heard from at 10 s: not yet
        let effects = h.timer(Timer::SessionCheck { member_id: "A".into() });
        assert!(h.g.member("A").is_none());
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Event(EventKind::MemberRemoved { reason, .. }) if reason == "session timeout expired"
        )));
        assert!(h.g.member("B").is_some());
    }

    #[test]
    fn a_heartbeat_is_fenced_unless_its_epoch_is_current_or_the_previous_with_a_subset() {
        let mut h = Harness::new(&[ServerAssignor::Range]);
        h.hb(1, join("A", &["foo"])).unwrap();
        let mut req = beat("A", 1, h.assigned("A").clone());
        req.topics = Some(vec!["foo".into(), "bar".into()]);
        h.hb(1, req).unwrap(); // epoch 2, previous 1
        assert_eq!(h.hb(1, beat("A", 200, Partitions::new())), Err(GroupError::FencedMemberEpoch));
        // The previous epoch without saying what it owns.
        let mut none = beat("A", 1, Partitions::new());
        none.owned = None;
        assert_eq!(h.hb(1, none), Err(GroupError::FencedMemberEpoch));
        // The previous epoch owning more than it is given.
        assert_eq!(h.hb(1, beat("A", 1, parts(&[("baz", &[0])]))), Err(GroupError::FencedMemberEpoch));
        // The previous epoch owning a part of it: the answer was lost; it learns its epoch.
        let r = h.hb(1, beat("A", 1, parts(&[("foo", &[1, 2])]))).unwrap();
        assert_eq!(r.member_epoch, 2);
        // Unknown member ids with an epoch are refused; malformed joins too.
        assert_eq!(h.hb(2, beat("Z", 3, Partitions::new())), Err(GroupError::UnknownMemberId));
        let mut no_timeout = join("Z", &["foo"]);
        no_timeout.rebalance_timeout_ms = None;
        assert_eq!(h.hb(2, no_timeout), Err(GroupError::InvalidRequest));
        let mut owning = join("Z", &["foo"]);
        owning.owned = Some(parts(&[("foo", &[0])]));
        assert_eq!(h.hb(2, owning), Err(GroupError::InvalidRequest));
        assert_eq!(h.hb(2, join("", &["foo"])), Err(GroupError::InvalidRequest));
    }

    #[test]
    fn a_static_member_leaving_for_a_while_comes_back_to_its_partitions_without_a_new_epoch() {
        let mut h = Harness::new(&[ServerAssignor::Uniform]);
        let stat = |id: &str, mut req: HeartbeatRequest| {
            req.instance_id = Some("i-1".into());
            req.member_id = id.into();
            req
        };
        h.hb(1, stat("A", join("A", &["foo"]))).unwrap();
        h.hb(2, join("B", &["foo"])).unwrap();
        // A gives up B's half and settles at epoch 2; B takes it.
        h.hb(1, stat("A", beat("A", 1, h.assigned("A").clone()))).unwrap();
        h.hb(1, stat("A", beat("A", 1, h.assigned("A").clone()))).unwrap();
        h.hb(2, beat("B", 2, Partitions::new())).unwrap();
        assert_eq!(h.g.state(), GroupState::Stable);
        let a = h.assigned("A").clone();
        assert_eq!(a, parts(&[("foo", &[0, 1, 2])]));
        let epoch = h.g.group_epoch;

        // Another process with the same instance id while A still holds it.
        assert_eq!(h.hb(3, stat("A2", join("A2", &["foo"]))), Err(GroupError::UnreleasedInstanceId));
        // A leaves for a while: it keeps its place and partitions.
        let mut leave = stat("A", beat("A", STATIC_LEAVE_EPOCH, Partitions::new()));
        leave.owned = None;
        assert_eq!(h.hb(1, leave).unwrap().member_epoch, STATIC_LEAVE_EPOCH);
        assert_eq!(h.g.group_epoch, epoch);
        // Its new process joins with a new member id: same partitions, no new group epoch.
        let r = h.hb(3, stat("A2", join("A2", &["foo"]))).unwrap();
        assert_eq!((r.member_epoch, r.assignment.as_ref()), (epoch, Some(&a)));
        assert_eq!(h.g.group_epoch, epoch);
        assert!(h.g.member("A").is_none());
        // The old member id is fenced.
        assert_eq!(h.hb(1, stat("A", beat("A", epoch, a.clone()))), Err(GroupError::FencedInstanceId));
    }

    #[test]
    fn offsets_are_stored_only_from_a_member_at_its_epoch() {
        let mut h = Harness::new(&[ServerAssignor::Uniform]);
        h.hb(1, join("A", &["foo"])).unwrap();
        let commit = |id: &str, epoch: i32| Request::OffsetCommit {
            member_id: id.into(),
            member_epoch: epoch,
            offsets: vec![(Tp { topic: TopicId(0), partition: 0 }, 7)],
            purpose: CommitPurpose::Sync,
        };
        let result = |effects: Vec<Effect>| {
            effects.into_iter().find_map(|e| match e {
                Effect::Reply { reply: Reply::OffsetCommit { result, .. }, .. } => Some(result),
                _ => None,
            })
        };
        assert_eq!(result(h.send(1, commit("A", 0))), Some(Err(GroupError::StaleMemberEpoch)));
        assert_eq!(result(h.send(1, commit("B", 1))), Some(Err(GroupError::UnknownMemberId)));
        assert_eq!(result(h.send(1, commit("", -1))), Some(Err(GroupError::UnknownMemberId)));
        assert!(h.g.offsets.is_empty());
        assert_eq!(result(h.send(1, commit("A", 1))), Some(Ok(())));
        assert_eq!(h.g.offsets.get(Tp { topic: TopicId(0), partition: 0 }), Some(7));
    }

    #[test]
    fn offsets_are_read_by_a_member_at_its_epoch_or_a_client_outside_the_group() {
        let mut h = Harness::new(&[ServerAssignor::Uniform]);
        h.hb(1, join("A", &["foo"])).unwrap();
        let tp0 = Tp { topic: TopicId(0), partition: 0 };
        h.g.offsets.commit(tp0, 7);
        let fetch = |id: &str, epoch: i32| Request::OffsetFetch {
            member_id: id.into(),
            member_epoch: epoch,
            partitions: vec![tp0],
        };
        let result = |effects: Vec<Effect>| {
            effects.into_iter().find_map(|e| match e {
                Effect::Reply { reply: Reply::OffsetFetch { result }, .. } => Some(result),
                _ => None,
            })
        };
        // ConsumerGroup.validateOffsetFetch.
        assert_eq!(result(h.send(1, fetch("A", 0))), Some(Err((vec![tp0], GroupError::StaleMemberEpoch))));
        assert_eq!(result(h.send(1, fetch("B", 1))), Some(Err((vec![tp0], GroupError::UnknownMemberId))));
        assert_eq!(result(h.send(1, fetch("A", 1))), Some(Ok(vec![(tp0, Some(7))])));
        assert_eq!(result(h.send(1, fetch("", -1))), Some(Ok(vec![(tp0, Some(7))])));
    }

    #[test]
    fn a_loaded_coordinator_starts_every_session_again_and_the_revocation_clocks() {
        let mut h = Harness::new(&[ServerAssignor::Range]);
        h.hb(1, join("A", &["foo", "bar"])).unwrap();
        let all = h.assigned("A").clone();
        h.hb(2, join("B", &["foo", "bar"])).unwrap();
        h.hb(1, beat("A", 1, all)).unwrap();
        let mut moved = h.g.clone();
        h.now = SimTime(20_000);
        let mut out = Out::default();
        moved.on_loaded(&h.ctx(), &mut out);
        let mut got = timers(&out.effects);
        got.sort_by_key(|(at, _)| *at);
        assert_eq!(
            got,
            vec![
                (SimTime(65_000), Timer::SessionCheck { member_id: "A".into() }),
                (SimTime(65_000), Timer::SessionCheck { member_id: "B".into() }),
                (SimTime(320_000), Timer::Revocation { member_id: "A".into(), epoch: 1 }),
            ]
        );
    }

    #[test]
    fn the_group_uses_the_assignor_most_members_ask_for() {
        let mut h = Harness::new(&[ServerAssignor::Uniform, ServerAssignor::Range]);
        h.hb(1, join("A", &["foo"])).unwrap();
        assert_eq!(h.g.assignor, Some(ServerAssignor::Uniform));
        let mut b = join("B", &["foo"]);
        b.assignor = Some(ServerAssignor::Range);
        h.hb(2, b).unwrap();
        assert_eq!(h.g.assignor, Some(ServerAssignor::Range));
    }
}

/// Clients that follow the protocol, any order and timing of joins, heartbeats, lost answers,
/// leaves, crashes, restarts and subscription changes; then a drain: every live client
/// heartbeats every 5 s for three minutes.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Action {
        /// Client `c` joins (if it is not in the group) or heartbeats; `lost`: its answer is lost.
        Beat {
            c: usize,
            lost: bool,
        },
        Leave {
            c: usize,
        },
        Crash {
            c: usize,
        },
        /// Subscribes client `c` to foo only, bar only, or both.
        Subscribe {
            c: usize,
            which: u8,
        },
        Tick {
            ms: u64,
        },
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            6 => (0..4usize, proptest::bool::weighted(0.15)).prop_map(|(c, lost)| Action::Beat { c, lost }),
            1 => (0..4usize).prop_map(|c| Action::Leave { c }),
            1 => (0..4usize).prop_map(|c| Action::Crash { c }),
            1 => (0..4usize, 0..3u8).prop_map(|(c, which)| Action::Subscribe { c, which }),
            3 => (1..20_000u64).prop_map(|ms| Action::Tick { ms }),
        ]
    }

    /// A client as it sees itself.
    #[derive(Clone, Debug)]
    struct ClientState {
        incarnation: u32,
        epoch: i32,
        owned: Partitions,
        topics: Vec<String>,
        /// It has sent its join and not left since.
        joined: bool,
        /// Its last answer was lost: the next heartbeat is a full one, as Kafka's client sends
        /// after a failed request.
        full: bool,
    }

    impl ClientState {
        fn member_id(&self, c: usize) -> String {
            format!("m{c}-{}", self.incarnation)
        }
    }

    struct World {
        g: ConsumerGroup,
        partitions: VecMap<String, u32>,
        topic_names: Vec<Name>,
        now: SimTime,
        timers: Vec<(SimTime, Timer)>,
        clients: Vec<ClientState>,
    }

    impl World {
        fn new() -> World {
            World {
                g: ConsumerGroup::new("g"),
                partitions: [("foo".to_string(), 5), ("bar".to_string(), 3)].into_iter().collect(),
                topic_names: vec!["foo".into(), "bar".into()],
                now: SimTime(0),
                timers: Vec::new(),
                clients: (0..4)
                    .map(|_| ClientState {
                        incarnation: 0,
                        epoch: 0,
                        owned: Partitions::new(),
                        topics: vec!["foo".into(), "bar".into()],
                        joined: false,
                        full: false,
                    })
                    .collect(),
            }
        }

        fn apply(&mut self, out: Out) -> Option<Result<HeartbeatResponse, GroupError>> {
            let mut answer = None;
            for e in out.effects {
                match e {
                    Effect::Timer { at, timer } => self.timers.push((at, timer)),
                    Effect::Reply { reply: Reply::Heartbeat(r), .. } => answer = Some(r),
                    _ => {}
                }
            }
            answer
        }

        fn send(&mut self, c: usize, req: HeartbeatRequest) -> Option<Result<HeartbeatResponse, GroupError>> {
            let mut out = Out::default();
            let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topic_names };
            let from = Client {
                consumer: ConsumerId(c as u32),
                inc: self.clients[c].incarnation,
                name: format!("c{c}").into(),
            };
            self.g.on_request(&ctx, from, Request::Heartbeat(Box::new(req)), &mut out);
            self.apply(out)
        }

        fn beat(&mut self, c: usize, lost: bool, topics_changed: bool) {
            let cl = &self.clients[c];
            let id = cl.member_id(c);
            let req = if !cl.joined || cl.epoch == 0 {
                HeartbeatRequest {
                    member_id: id.into(),
                    member_epoch: 0,
                    instance_id: None,
                    client_id: format!("c{c}"),
                    rebalance_timeout_ms: Some(60_000),
                    topics: Some(cl.topics.clone()),
                    assignor: None,
                    owned: Some(Partitions::new()),
                }
            } else {
                HeartbeatRequest {
                    member_id: id.into(),
                    member_epoch: cl.epoch,
                    instance_id: None,
                    client_id: format!("c{c}"),
                    rebalance_timeout_ms: cl.full.then_some(60_000),
                    topics: (topics_changed || cl.full).then(|| cl.topics.clone()),
                    assignor: None,
                    owned: Some(cl.owned.clone()),
                }
            };
            let answer = self.send(c, req);
            let cl = &mut self.clients[c];
            cl.joined = true;
            cl.full = lost;
            if lost {
                return;
            }
            match answer.expect("a heartbeat is answered") {
                Ok(r) => {
                    cl.epoch = r.member_epoch;
                    if let Some(a) = r.assignment {
                        cl.owned = a; // revokes and takes at once
                    }
                }
                Err(_) => {
                    // Fenced or unknown: it gives everything up and joins again.
                    cl.epoch = 0;
                    cl.owned = Partitions::new();
                }
            }
        }

        fn tick(&mut self, ms: u64) {
            let end = self.now.plus(ms);
            loop {
                self.timers.sort_by_key(|(at, _)| *at);
                if self.timers.first().is_none_or(|(at, _)| *at > end) {
                    break;
                }
                let (at, timer) = self.timers.remove(0);
                self.now = self.now.max(at);
                let mut out = Out::default();
                let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topic_names };
                self.g.on_timer(&ctx, timer, &mut out);
                self.apply(out);
            }
            self.now = end;
        }

        fn act(&mut self, a: &Action) {
            match *a {
                Action::Beat { c, lost } => self.beat(c, lost, false),
                Action::Leave { c } => {
                    if self.clients[c].joined {
                        let req = HeartbeatRequest {
                            member_id: self.clients[c].member_id(c).into(),
                            member_epoch: LEAVE_EPOCH,
                            instance_id: None,
                            client_id: format!("c{c}"),
                            rebalance_timeout_ms: None,
                            topics: None,
                            assignor: None,
                            owned: None,
                        };
                        let cl = &mut self.clients[c];
                        (cl.joined, cl.epoch, cl.owned) = (false, 0, Partitions::new());
                        self.send(c, req);
                    }
                }
                Action::Crash { c } => {
                    // The process dies; a new one (a new member id) takes its place, not yet joined.
                    let cl = &mut self.clients[c];
                    cl.incarnation += 1;
                    (cl.joined, cl.epoch, cl.owned) = (false, 0, Partitions::new());
                }
                Action::Subscribe { c, which } => {
                    let topics: Vec<String> = match which {
                        0 => vec!["foo".into()],
                        1 => vec!["bar".into()],
                        _ => vec!["foo".into(), "bar".into()],
                    };
                    self.clients[c].topics = topics;
                    if self.clients[c].joined && self.clients[c].epoch > 0 {
                        self.beat(c, false, true);
                    }
                }
                Action::Tick { ms } => self.tick(ms),
            }
        }

        /// No partition is with two members at once, and what a client owns its member holds.
        fn check_safety(&self) -> Result<(), TestCaseError> {
            for (i, a) in self.g.members.iter().enumerate() {
                for b in &self.g.members[i + 1..] {
                    for (t, ps) in a.assignment.assigned.iter().chain(a.assignment.pending_revocation.iter()) {
                        for &p in ps.iter() {
                            prop_assert!(!b.owns(t, p), "{t}-{p} with {} and {}", a.member_id, b.member_id);
                        }
                    }
                }
            }
            for (c, cl) in self.clients.iter().enumerate() {
                if let Some(m) = self.g.member(&cl.member_id(c)) {
                    for (t, ps) in cl.owned.iter() {
                        for &p in ps.iter() {
                            prop_assert!(m.owns(t, p), "client {c} owns {t}-{p} its member does not hold");
                        }
                    }
                }
            }
            Ok(())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn safe_always_and_stable_after_a_drain(actions in proptest::collection::vec(action(), 0..60)) {
            let mut w = World::new();
            for a in &actions {
                w.act(a);
                w.check_safety()?;
            }
            // Drain: every client joins and heartbeats every 5 s for three minutes.
            for _ in 0..36 {
                for c in 0..4 {
                    w.beat(c, false, false);
                    w.check_safety()?;
                }
                w.tick(HEARTBEAT_INTERVAL_MS);
            }
            prop_assert_eq!(w.g.state(), GroupState::Stable);
            prop_assert_eq!(w.g.members.len(), 4);
            for (t, &n) in w.partitions.iter() {
                let subscribed = w.clients.iter().any(|cl| cl.topics.contains(t));
                for p in 0..n {
                    let owners = w.clients.iter().filter(|cl| cl.owned.get(t).is_some_and(|ps| ps.contains(&p))).count();
                    prop_assert_eq!(owners, usize::from(subscribed), "{}-{}", t, p);
                }
            }
            for (c, cl) in w.clients.iter().enumerate() {
                let m = w.g.member(&cl.member_id(c)).expect("every client is a member");
                prop_assert_eq!(&cl.owned, &m.assignment.assigned);
                prop_assert_eq!(cl.epoch, w.g.group_epoch);
            }
        }
    }
}
