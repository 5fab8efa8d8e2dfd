//! Members on the classic protocol inside a consumer-protocol group, and the conversions between
//! a classic group and a consumer-protocol one: Kafka 4's online migration
//! (`group.consumer.migration.policy`, `bidirectional` by default), after
//! `GroupMetadataManager`'s `classicGroup{Join,Sync,Heartbeat,Leave}ToConsumerGroup`,
//! `ConsumerGroup.fromClassicGroup` and `ClassicGroup.fromConsumerGroup`.
//!
//! - **Upgrade.** A consumer-protocol member joining (epoch 0) a classic group that has members
//!   converts it ([`ConsumerGroup::from_classic`]): the group epoch is the classic generation,
//!   each member keeps its last assignment at that epoch (its target too), Stable; a JoinGroup or
//!   SyncGroup still waiting is answered REBALANCE_IN_PROGRESS. The joiner then moves the epoch
//!   on, and the broker computes a new target as for any join.
//! - **Classic members inside.** They keep speaking JoinGroup, SyncGroup, Heartbeat and
//!   LeaveGroup. A JoinGroup is answered at once — no barrier, never as the leader — with the
//!   member's epoch as its generation, after one reconciliation step with what its JoinGroup
//!   says it owns (an eager member: nothing). Its SyncGroup gets its current assignment. Its
//!   heartbeat answers REBALANCE_IN_PROGRESS when it should join again to move on: the group
//!   epoch passed it, it has partitions to give up, or the partitions it waits for are free.
//!   Its session is its own `session.timeout.ms`; it has its rebalance timeout to send SyncGroup
//!   after a JoinGroup answer and to join again once told to, or it is removed.
//! - **Downgrade.** When the last consumer-protocol member leaves or is removed and classic
//!   members remain, the group becomes classic again ([`ConsumerGroup::into_classic`]): generation
//!   = the group epoch, Stable, each member's target as its assignment, and a rebalance starts at
//!   once (not when a classic member took a static member's place: its JoinGroup was answered).

use rand_chacha::ChaCha8Rng;

use crate::sim::config::Strategy;
use crate::sim::coordinator::{
    self as classic, Client, GroupCoordinator, GroupError as ClassicError, JoinRequest, JoinResponse, MemberRef,
};
use crate::sim::event::EventKind;
use crate::sim::ids::new_member_uuid;
use crate::sim::ids::{Name, TopicId, Tp};
use crate::sim::sort;
use crate::sim::time::SimTime;

use super::{
    partitions_of, tps_of, ConsumerGroup, Ctx, Effect, Member, MemberAssignment, MemberState, Out, Partitions, Timer,
};

/// What the coordinator keeps of a member on the classic protocol (Kafka's
/// `ClassicMemberMetadata`: its session timeout and its JoinGroup's protocols), and its clocks.
#[derive(Clone, Debug)]
pub struct ClassicMember {
    /// Its last JoinGroup: subscription, protocols, what it owned, its timeouts.
    pub join: JoinRequest,
    /// It owes a SyncGroup by then (its JoinGroup was answered).
    sync_deadline: Option<SimTime>,
    /// It owes a JoinGroup by then (it was told to join again).
    join_deadline: Option<SimTime>,
}

impl ClassicMember {
    fn new(join: JoinRequest) -> Box<ClassicMember> {
        Box::new(ClassicMember { join, sync_deadline: None, join_deadline: None })
    }

    /// The protocol its JoinGroup answer names: the first it supports.
    pub fn protocol(&self) -> Strategy {
        self.join.strategies.first().copied().unwrap_or(Strategy::Range)
    }

    /// A new coordinator does not know the clocks of the old one.
    pub(super) fn forget_deadlines(&mut self) {
        self.sync_deadline = None;
        self.join_deadline = None;
    }
}

/// Partitions as `Tp`s, numbered as `topics` names them, in order.
fn tps(p: &Partitions, topics: &[Name]) -> Vec<Tp> {
    let index = |t: &str| topics.iter().position(|n| n.as_ref() == t).and_then(|i| u32::try_from(i).ok()).map(TopicId);
    let mut v = tps_of(p, index);
    sort::natural(&mut v);
    v
}

/// `Tp`s as partitions named by topic, topics named by `topics`.
fn named(v: &[Tp], topics: &[Name]) -> Partitions {
    partitions_of(v, |tp| (topics[tp.topic.ix()].clone(), tp.partition))
}

impl ConsumerGroup {
    // ----- conversions -----------------------------------------------------------------------

    /// Kafka's `convertToConsumerGroup`: the classic group `old`, with members, becomes a
    /// consumer-protocol group as a consumer-protocol member joins it. JoinGroups and SyncGroups
    /// it held are answered REBALANCE_IN_PROGRESS; every member's session starts again.
    pub fn from_classic(old: GroupCoordinator, ctx: &Ctx, out: &mut Out) -> ConsumerGroup {
        let generation = old.generation;
        for m in &old.members {
            let to = Client { consumer: m.consumer, inc: m.inc, name: m.name.clone() };
            if m.awaiting_join {
                out.classic_reply(&to, classic::Reply::Join(JoinResponse::RebalanceInProgress));
            } else if old.pending_syncs().contains(&m.member_id) {
                let result = Err(ClassicError::RebalanceInProgress);
                out.classic_reply(&to, classic::Reply::Sync { generation, result });
            }
        }
        let mut g = ConsumerGroup::new(&old.name);
        g.offsets = old.offsets;
        g.group_epoch = generation;
        g.target_epoch = generation;
        for m in old.members {
            let assigned = named(&m.assignment, ctx.topics);
            let join = JoinRequest {
                group: old.name.clone(),
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
                instance_id: m.instance_id.clone(),
                topics: m.topics.clone(),
                strategies: m.strategies,
                owned: m.owned,
                owned_generation: m.owned_generation,
                memorized: m.memorized,
                memorized_generation: m.memorized_generation,
                session_timeout_ms: m.session_timeout_ms,
                rebalance_timeout_ms: m.rebalance_timeout_ms,
            };
            let from = Client { consumer: m.consumer, inc: m.inc, name: m.name };
            let mut member = Member::new(&m.member_id, &from, ctx.now);
            member.client_id = m.client_id;
            member.instance_id = m.instance_id;
            member.topics = m.topics;
            member.rebalance_timeout_ms = m.rebalance_timeout_ms;
            member.assignment = MemberAssignment {
                state: MemberState::Stable,
                member_epoch: generation,
                previous_member_epoch: generation,
                assigned: assigned.clone(),
                pending_revocation: Partitions::new(),
            };
            member.classic = Some(ClassicMember::new(join));
            g.target.insert(m.member_id.to_string(), assigned);
            g.members.push(member);
        }
        g.reported = (g.state(), g.group_epoch);
        out.event(EventKind::GroupConverted {
            group: g.name.clone(),
            protocol: "consumer".into(),
            generation,
            reason: "a member on the consumer protocol joined".into(),
        });
        for i in 0..g.members.len() {
            g.schedule_session_check(i, out);
        }
        g
    }

    /// Kafka's `ClassicGroup.fromConsumerGroup`: the group, whose members are all on the classic
    /// protocol now, becomes a classic group at generation = its group epoch, Stable. Each
    /// member's assignment is what it may still own — what it was given and what it has not yet
    /// been seen to give up — which is its target once it has reconciled. (A member still
    /// giving a partition up keeps it until it has: a consumer-protocol member joining again at
    /// once must not be handed that partition while the classic member still holds it.) Its
    /// coordinator then restarts every session (and rebalances, if the engine was asked to:
    /// [`GroupCoordinator::after_downgrade`]).
    pub fn into_classic(self, ctx: &Ctx) -> GroupCoordinator {
        let mut g = GroupCoordinator::new(&self.name);
        g.offsets = self.offsets;
        g.generation = self.group_epoch;
        g.state = classic::GroupState::Stable;
        for m in self.members {
            let Some(c) = m.classic else { continue };
            let mut assignment = tps(&m.assignment.assigned, ctx.topics);
            assignment.extend(tps(&m.assignment.pending_revocation, ctx.topics));
            crate::sim::sort::natural(&mut assignment);
            g.members.push(classic::Member::from_join(
                &c.join,
                &m.member_id,
                &Client { consumer: m.consumer, inc: m.inc, name: m.name },
                assignment,
                ctx.now,
            ));
        }
        g.leader = g.members.first().map(|m| m.member_id.clone());
        g.protocol = (!g.members.is_empty()).then(|| g.select_protocol());
        g.formed_topics = g.subscribed_topics();
        g
    }

    // ----- requests of the classic protocol --------------------------------------------------

    /// A request of the classic protocol to this group.
    pub fn on_classic(
        &mut self,
        ctx: &Ctx,
        rng: &mut ChaCha8Rng,
        from: Client,
        request: classic::Request,
        out: &mut Out,
    ) {
        match request {
            classic::Request::Join(req) => self.classic_join(ctx, rng, &from, *req, out),
            classic::Request::Sync { member, .. } => {
                let result = self.classic_sync(ctx, &member, out);
                out.classic_reply(&from, classic::Reply::Sync { generation: member.generation, result });
            }
            classic::Request::Heartbeat { member } => {
                let result = self.classic_heartbeat(ctx, &member, out);
                out.event(EventKind::Heartbeat {
                    consumer: from.name.clone(),
                    group: self.name.clone(),
                    generation: member.generation,
                    error: result.err().map(|e| e.code().to_string()),
                });
                out.classic_reply(&from, classic::Reply::Heartbeat { generation: member.generation, result });
            }
            classic::Request::Leave { member_id } => {
                if self.classic_member(&member_id, None).is_ok() {
                    self.fence(&member_id, "left the group (LeaveGroup)", out);
                }
            }
            classic::Request::OffsetCommit { member, offsets, purpose } => {
                self.classic_commit(ctx, &from, &member, offsets, out);
                out.classic_reply(&from, classic::Reply::OffsetCommit { purpose });
            }
            classic::Request::OffsetFetch { partitions } => {
                let offsets = partitions.iter().map(|tp| (*tp, self.offsets.get(*tp))).collect();
                out.classic_reply(&from, classic::Reply::OffsetFetch { offsets });
            }
        }
        self.report_state(String::new, out);
    }

    /// Kafka's `ConsumerGroup.supportsClassicProtocols`: one of the joiner's protocols must be
    /// one every classic member supports.
    fn supports_classic(&self, protocols: &[Strategy]) -> bool {
        if self.members.is_empty() {
            return !protocols.is_empty();
        }
        let classic = self.members.iter().filter_map(|m| m.classic.as_deref());
        protocols.iter().any(|p| classic.clone().all(|c| c.join.strategies.contains(p)))
    }

    /// Kafka's `classicGroupJoinToConsumerGroup`.
    fn classic_join(&mut self, ctx: &Ctx, rng: &mut ChaCha8Rng, from: &Client, req: JoinRequest, out: &mut Out) {
        let answer = |out: &mut Out, r: JoinResponse| out.classic_reply(from, classic::Reply::Join(r));
        if !self.supports_classic(&req.strategies) {
            return answer(out, JoinResponse::InconsistentGroupProtocol);
        }
        let unknown = req.member_id.is_empty();
        if unknown && req.instance_id.is_none() {
            // KIP-394 as for a classic group, but the id is not kept: any id joins.
            let member_id = new_member_uuid(rng);
            out.event(EventKind::MemberIdRequired {
                consumer: from.name.clone(),
                group: self.name.clone(),
                member_id: member_id.clone(),
            });
            return answer(out, JoinResponse::MemberIdRequired { member_id });
        }
        let member_id = if unknown { new_member_uuid(rng) } else { req.member_id.clone() };
        // The member, or a new one; a static member joining without a member id takes the place
        // of the one with its instance id (whatever its protocol).
        let (index, replaced) = match &req.instance_id {
            None => (self.index(&member_id), None),
            Some(instance) => match self.members.iter().position(|m| m.instance_id.as_ref() == Some(instance)) {
                None if unknown => (None, None),
                None => return answer(out, JoinResponse::UnknownMemberId),
                Some(e) if unknown => (None, Some(e)),
                Some(e) if self.members[e].member_id != member_id => {
                    return answer(out, JoinResponse::FencedInstanceId);
                }
                Some(e) => (Some(e), None),
            },
        };
        let mut member = match (index, replaced) {
            (Some(i), _) => self.members[i].clone(),
            (None, Some(e)) => self.members[e].replacement(&member_id),
            (None, None) => Member::new(&member_id, from, ctx.now),
        };
        let replaced_consumer_member = replaced.filter(|&e| self.members[e].classic.is_none());
        let replaced_id = replaced.map(|e| self.members[e].member_id.clone());
        let old_topics = std::mem::replace(&mut member.topics, req.topics.clone());
        (member.consumer, member.inc, member.name) = (from.consumer, from.inc, from.name.clone());
        member.client_id = req.client_id.clone();
        if req.instance_id.is_some() {
            member.instance_id = req.instance_id.clone();
        }
        member.rebalance_timeout_ms = req.rebalance_timeout_ms;
        let owned = named(&req.owned, ctx.topics);
        member.classic = Some(ClassicMember::new(req));
        let bump = self.group_epoch == 0 || member.topics != old_topics;
        let i = self.place(member, index, replaced_id.as_deref(), out);
        self.move_on(ctx, i, bump, index.is_none(), replaced.is_some(), Some(&owned), out);

        // It has its rebalance timeout to send SyncGroup; it no longer owes a JoinGroup.
        let m = &mut self.members[i];
        let deadline = ctx.now.plus(m.rebalance_timeout_ms);
        let c = m.classic.as_mut().expect("set above");
        c.join_deadline = None;
        c.sync_deadline = Some(deadline);
        let strategy = c.protocol();
        let response = JoinResponse::Ok {
            generation: m.assignment.member_epoch,
            member_id: m.member_id.clone(),
            leader: false,
            strategy,
            members: Vec::new(),
            skip_assignment: false,
        };
        out.timer(deadline, Timer::ClassicSync { member_id: m.member_id.clone() });
        answer(out, response);
        // Kafka's validateOnlineDowngradeWithReplacedMemberId: it took the place of the last
        // member on the consumer protocol.
        if replaced_consumer_member.is_some() && self.members.iter().all(|m| m.classic.is_some()) {
            out.effects.push(Effect::Downgrade { rebalance: false });
        }
    }

    /// Kafka's `validateConsumerGroupMember` and `throwIfMemberDoesNotUseClassicProtocol`.
    fn classic_member(&self, member_id: &str, instance_id: Option<&str>) -> Result<usize, ClassicError> {
        let i = match instance_id {
            None => self.index(member_id).ok_or(ClassicError::UnknownMemberId)?,
            Some(instance) => {
                let e = self
                    .members
                    .iter()
                    .position(|m| m.instance_id.as_deref() == Some(instance))
                    .ok_or(ClassicError::UnknownMemberId)?;
                if self.members[e].member_id != member_id {
                    return Err(ClassicError::FencedInstanceId);
                }
                e
            }
        };
        if self.members[i].classic.is_none() {
            return Err(ClassicError::UnknownMemberId);
        }
        Ok(i)
    }

    /// The classic member a request at `generation` is from (Kafka's
    /// `throwIfGenerationIdUnmatched` after the member checks).
    fn classic_at_generation(&self, member: &MemberRef) -> Result<usize, ClassicError> {
        let i = self.classic_member(&member.member_id, member.instance_id.as_deref())?;
        if self.members[i].assignment.member_epoch != member.generation {
            return Err(ClassicError::IllegalGeneration);
        }
        Ok(i)
    }

    /// Member `i`'s request passed its checks: its session starts again.
    fn touch(&mut self, ctx: &Ctx, i: usize, out: &mut Out) {
        self.members[i].last_heartbeat = ctx.now;
        self.schedule_session_check(i, out);
    }

    /// Tells member `i` to join again: it has its rebalance timeout to do so (a clock already
    /// running is kept).
    fn ask_to_rejoin(&mut self, ctx: &Ctx, i: usize, out: &mut Out) -> ClassicError {
        let m = &mut self.members[i];
        let deadline = ctx.now.plus(m.rebalance_timeout_ms);
        if let Some(c) = m.classic.as_mut().filter(|c| c.join_deadline.is_none()) {
            c.join_deadline = Some(deadline);
            out.timer(deadline, Timer::ClassicJoin { member_id: m.member_id.clone() });
        }
        ClassicError::RebalanceInProgress
    }

    /// Kafka's `classicGroupSyncToConsumerGroup`: the member's current assignment, unless the
    /// group epoch moved past it (and it is not revoking): then it joins again.
    fn classic_sync(&mut self, ctx: &Ctx, member: &MemberRef, out: &mut Out) -> Result<Vec<Tp>, ClassicError> {
        let i = self.classic_at_generation(member)?;
        let m = &self.members[i];
        if self.group_epoch > m.assignment.member_epoch && m.assignment.state != MemberState::UnrevokedPartitions {
            return Err(self.ask_to_rejoin(ctx, i, out));
        }
        self.touch(ctx, i, out);
        let m = &mut self.members[i];
        if let Some(c) = m.classic.as_mut() {
            c.sync_deadline = None;
        }
        Ok(tps(&m.assignment.assigned, ctx.topics))
    }

    /// Kafka's `classicGroupHeartbeatToConsumerGroup`: REBALANCE_IN_PROGRESS when the member
    /// should join again to move on.
    fn classic_heartbeat(&mut self, ctx: &Ctx, member: &MemberRef, out: &mut Out) -> Result<(), ClassicError> {
        let i = self.classic_at_generation(member)?;
        self.touch(ctx, i, out);
        let m = &self.members[i];
        let rejoin = m.assignment.member_epoch < self.group_epoch
            || m.assignment.state == MemberState::UnrevokedPartitions
            || (m.assignment.state == MemberState::UnreleasedPartitions && !self.waiting_on_unreleased(i));
        if rejoin {
            Err(self.ask_to_rejoin(ctx, i, out))
        } else {
            Ok(())
        }
    }

    /// Kafka's `waitingOnUnreleasedPartition`: some partition of member `i`'s target is not yet
    /// its own and another member still holds it.
    fn waiting_on_unreleased(&self, i: usize) -> bool {
        let m = &self.members[i];
        let Some(target) = self.target.get(m.member_id.as_str()) else { return false };
        target.iter().any(|(t, ps)| {
            ps.iter().any(|&p| {
                !m.assignment.assigned.get(t).is_some_and(|a| a.contains(&p))
                    && self.members.iter().any(|o| o.member_id != m.member_id && o.owns(t, p))
            })
        })
    }

    /// An OffsetCommit from a classic member: stored at its epoch (its generation), as Kafka's
    /// `ConsumerGroup.validateOffsetCommit` checks a classic member (ILLEGAL_GENERATION).
    fn classic_commit(&mut self, ctx: &Ctx, from: &Client, member: &MemberRef, offsets: Vec<(Tp, u64)>, out: &mut Out) {
        let generation = member.generation;
        let valid = if member.member_id.is_empty() && generation < 0 {
            if self.members.is_empty() {
                Ok(())
            } else {
                Err(ClassicError::UnknownMemberId.code())
            }
        } else {
            match self.member(&member.member_id) {
                None => Err(ClassicError::UnknownMemberId.code()),
                Some(m) if m.assignment.member_epoch == generation => Ok(()),
                Some(m) if m.classic.is_some() => Err(ClassicError::IllegalGeneration.code()),
                Some(_) => Err(super::GroupError::StaleMemberEpoch.code()),
            }
        };
        let refused = valid.err().map(|code| format!("{code}: committed at generation {generation}"));
        self.store_commit(ctx, from, &offsets, refused, out);
    }

    /// A classic member's SyncGroup (`sync`) or JoinGroup clock ran out.
    pub(super) fn on_classic_deadline(&mut self, ctx: &Ctx, member_id: &str, sync: bool, out: &mut Out) {
        let due = self.member(member_id).and_then(|m| m.classic.as_ref()).is_some_and(|c| {
            let deadline = if sync { c.sync_deadline } else { c.join_deadline };
            deadline == Some(ctx.now)
        });
        if due {
            let what = if sync { "did not send SyncGroup" } else { "did not join again" };
            self.fence(member_id, &format!("{what} within its rebalance timeout"), out);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Classic members in a consumer-protocol group and the conversions, as Kafka's
    //! `GroupMetadataManagerTest` (classicGroup*ToConsumerGroup, online upgrade and downgrade)
    //! and `ConsumerProtocolMigrationTest` exercise them: topic foo with 6 partitions, the
    //! uniform assignor.

    use super::super::{HeartbeatRequest, Reply, Request, LEAVE_EPOCH};
    use super::*;
    use crate::sim::ids::{ConsumerId, MemberId};
    use crate::sim::vecmap::{VecMap, VecSet};
    use rand::SeedableRng;

    const SESSION: u64 = 10_000;
    const REBALANCE: u64 = 30_000;

    struct Harness {
        g: ConsumerGroup,
        rng: ChaCha8Rng,
        partitions: VecMap<String, u32>,
        topics: Vec<Name>,
        now: SimTime,
    }

    fn client(c: u32) -> Client {
        Client { consumer: ConsumerId(c), inc: 1, name: format!("c{c}").into() }
    }

    fn foo(ps: &[u32]) -> Vec<Tp> {
        ps.iter().map(|&partition| Tp { topic: TopicId(0), partition }).collect()
    }

    fn join_request(member_id: &str, owned: &[u32], strategy: Strategy) -> JoinRequest {
        JoinRequest {
            group: "g".into(),
            member_id: member_id.into(),
            client_id: format!("client-{member_id}"),
            instance_id: None,
            topics: vec!["foo".into()],
            strategies: vec![strategy],
            owned: foo(owned),
            owned_generation: -1,
            memorized: Vec::new(),
            memorized_generation: -1,
            session_timeout_ms: SESSION,
            rebalance_timeout_ms: REBALANCE,
        }
    }

    fn mref(member_id: &str, generation: i32) -> MemberRef {
        MemberRef { member_id: member_id.into(), instance_id: None, generation }
    }

    fn cg_join(id: &str) -> HeartbeatRequest {
        HeartbeatRequest {
            member_id: id.into(),
            member_epoch: 0,
            instance_id: None,
            client_id: format!("client-{id}"),
            rebalance_timeout_ms: Some(REBALANCE),
            topics: Some(vec!["foo".into()]),
            assignor: None,
            owned: Some(Partitions::new()),
        }
    }

    fn cg_beat(id: &str, epoch: i32, owned: &[u32]) -> HeartbeatRequest {
        let mut owned_p = Partitions::new();
        if !owned.is_empty() {
            owned_p.insert("foo".into(), owned.iter().copied().collect::<VecSet<u32>>());
        }
        HeartbeatRequest {
            member_epoch: epoch,
            rebalance_timeout_ms: None,
            topics: None,
            owned: Some(owned_p),
            ..cg_join(id)
        }
    }

    impl Harness {
        fn new() -> Harness {
            Harness {
                g: ConsumerGroup::new("g"),
                rng: ChaCha8Rng::seed_from_u64(1),
                partitions: [("foo".to_string(), 6)].into_iter().collect(),
                topics: vec!["foo".into()],
                now: SimTime(0),
            }
        }

        fn classic(&mut self, c: u32, request: classic::Request) -> Vec<Effect> {
            let mut out = Out::default();
            let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topics };
            self.g.on_classic(&ctx, &mut self.rng, client(c), request, &mut out);
            out.effects
        }

        fn modern(&mut self, c: u32, req: HeartbeatRequest) -> i32 {
            let mut out = Out::default();
            let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topics };
            self.g.on_request(&ctx, client(c), Request::Heartbeat(Box::new(req)), &mut out);
            let answer = out.effects.iter().find_map(|e| match e {
                Effect::Reply { reply: Reply::Heartbeat(r), .. } => Some(r.clone()),
                _ => None,
            });
            answer.expect("an answer").expect("no error").member_epoch
        }

        fn timer(&mut self, timer: Timer) -> Vec<Effect> {
            let mut out = Out::default();
            let ctx = Ctx { now: self.now, partitions: &self.partitions, topics: &self.topics };
            self.g.on_timer(&ctx, timer, &mut out);
            out.effects
        }

        /// A classic member's JoinGroup; its answer.
        fn join(&mut self, c: u32, req: JoinRequest) -> JoinResponse {
            let effects = self.classic(c, classic::Request::Join(Box::new(req)));
            match answer(&effects) {
                classic::Reply::Join(r) => r,
                other => panic!("not a JoinGroup answer: {other:?}"),
            }
        }

        fn sync(&mut self, c: u32, member: MemberRef) -> Result<Vec<Tp>, ClassicError> {
            match answer(&self.classic(c, classic::Request::Sync { member, assignments: None })) {
                classic::Reply::Sync { result, .. } => result,
                other => panic!("not a SyncGroup answer: {other:?}"),
            }
        }

        fn heartbeat(&mut self, c: u32, member: MemberRef) -> Result<(), ClassicError> {
            match answer(&self.classic(c, classic::Request::Heartbeat { member })) {
                classic::Reply::Heartbeat { result, .. } => result,
                other => panic!("not a Heartbeat answer: {other:?}"),
            }
        }

        /// Member A on the consumer protocol owns all of foo at epoch 1; classic member B
        /// joins (member id required first) and gets generation 2, with nothing yet.
        fn mixed() -> (Harness, String) {
            let mut h = Harness::new();
            assert_eq!(h.modern(1, cg_join("A")), 1);
            let JoinResponse::MemberIdRequired { member_id } = h.join(2, join_request("", &[], Strategy::Range)) else {
                panic!("a member id is required first")
            };
            let JoinResponse::Ok { generation, leader, members, strategy, .. } =
                h.join(2, join_request(&member_id, &[], Strategy::Range))
            else {
                panic!("joined")
            };
            assert_eq!((generation, leader, members.len(), strategy), (2, false, 0, Strategy::Range));
            (h, member_id.to_string())
        }
    }

    fn answer(effects: &[Effect]) -> classic::Reply {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::ClassicReply { reply, .. } => Some(reply.clone()),
                _ => None,
            })
            .expect("an answer")
    }

    #[test]
    fn a_classic_member_is_answered_at_once_and_takes_its_partitions_as_they_are_released() {
        let (mut h, b) = Harness::mixed();
        assert_eq!(h.g.group_epoch, 2);
        // Its partitions are still A's: nothing yet, and no reason to join again.
        assert_eq!(h.sync(2, mref(&b, 2)), Ok(vec![]));
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Ok(()));
        // A revokes three partitions and moves to epoch 2.
        h.now = SimTime(1_000);
        assert_eq!(h.modern(1, cg_beat("A", 1, &[0, 1, 2, 3, 4, 5])), 1);
        assert_eq!(h.modern(1, cg_beat("A", 1, &[0, 1, 2])), 2);
        // B's partitions are free: its heartbeat tells it to join again, and then it has them.
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Err(ClassicError::RebalanceInProgress));
        let JoinResponse::Ok { generation, .. } = h.join(2, join_request(&b, &[], Strategy::Range)) else {
            panic!("joined")
        };
        assert_eq!(generation, 2);
        assert_eq!(h.sync(2, mref(&b, 2)), Ok(foo(&[3, 4, 5])));
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Ok(()));
        assert_eq!(h.g.state().name(), "Stable");
    }

    #[test]
    fn a_classic_member_gives_partitions_up_by_joining_again_without_them() {
        let (mut h, b) = Harness::mixed();
        h.modern(1, cg_beat("A", 1, &[0, 1, 2, 3, 4, 5]));
        h.modern(1, cg_beat("A", 1, &[0, 1, 2]));
        h.join(2, join_request(&b, &[], Strategy::Range));
        assert_eq!(h.sync(2, mref(&b, 2)), Ok(foo(&[3, 4, 5])));
        // C joins on the consumer protocol: the epoch moves on, B must give one up.
        h.modern(3, cg_join("C"));
        assert_eq!(h.g.group_epoch, 3);
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Err(ClassicError::RebalanceInProgress));
        // Joining again still owning everything: it keeps its epoch, is told to give up one,
        // and its SyncGroup brings what it keeps (it is revoking, so not REBALANCE_IN_PROGRESS).
        let JoinResponse::Ok { generation, .. } = h.join(2, join_request(&b, &[3, 4, 5], Strategy::Range)) else {
            panic!("joined")
        };
        assert_eq!(generation, 2);
        let kept = h.sync(2, mref(&b, 2)).expect("its assignment");
        assert_eq!(kept.len(), 2);
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Err(ClassicError::RebalanceInProgress));
        // Having revoked it, it joins again owning what it kept: epoch 3.
        let kept_ps: Vec<u32> = kept.iter().map(|tp| tp.partition).collect();
        let JoinResponse::Ok { generation, .. } = h.join(2, join_request(&b, &kept_ps, Strategy::Range)) else {
            panic!("joined")
        };
        assert_eq!(generation, 3);
        assert_eq!(h.sync(2, mref(&b, 3)), Ok(kept));
        // An old generation is refused.
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Err(ClassicError::IllegalGeneration));
    }

    #[test]
    fn a_classic_member_has_its_own_session_and_its_rebalance_timeout_for_sync_and_join() {
        // Session: its own session.timeout.ms (10 s), not the group's 45 s.
        let (mut h, b) = Harness::mixed();
        let check = h.g.member(&b).unwrap().session_deadline();
        assert_eq!(check, SimTime(SESSION));
        h.now = check;
        h.timer(Timer::SessionCheck { member_id: b.clone().into() });
        assert!(h.g.member(&b).is_none(), "removed after its session");

        // SyncGroup: owed within the rebalance timeout after the JoinGroup answer.
        let (mut h, b) = Harness::mixed();
        h.now = SimTime(REBALANCE);
        h.g.members.iter_mut().for_each(|m| m.last_heartbeat = h.now);
        let effects = h.timer(Timer::ClassicSync { member_id: b.clone().into() });
        assert!(h.g.member(&b).is_none(), "{effects:?}");

        // JoinGroup: owed within the rebalance timeout after REBALANCE_IN_PROGRESS.
        let (mut h, b) = Harness::mixed();
        assert_eq!(h.sync(2, mref(&b, 2)), Ok(vec![]));
        h.modern(1, cg_beat("A", 1, &[0, 1, 2, 3, 4, 5]));
        h.modern(1, cg_beat("A", 1, &[0, 1, 2]));
        h.now = SimTime(1_000);
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Err(ClassicError::RebalanceInProgress));
        h.now = SimTime(2_000);
        assert_eq!(h.heartbeat(2, mref(&b, 2)), Err(ClassicError::RebalanceInProgress));
        // The clock started at the first REBALANCE_IN_PROGRESS and is not moved by the second.
        h.now = SimTime(1_000 + REBALANCE);
        h.g.members.iter_mut().for_each(|m| m.last_heartbeat = h.now);
        h.timer(Timer::ClassicJoin { member_id: b.clone().into() });
        assert!(h.g.member(&b).is_none());
    }

    #[test]
    fn requests_of_the_wrong_protocol_or_with_foreign_protocols_are_refused() {
        let (mut h, _) = Harness::mixed();
        // A consumer-protocol member's id over the classic protocol is unknown there.
        assert_eq!(h.heartbeat(1, mref("A", 1)), Err(ClassicError::UnknownMemberId));
        // A joiner supporting none of the classic members' protocols.
        assert!(matches!(
            h.join(3, join_request("x", &[], Strategy::Roundrobin)),
            JoinResponse::InconsistentGroupProtocol
        ));
    }

    #[test]
    fn a_classic_members_commit_is_stored_at_its_epoch_only() {
        let (mut h, b) = Harness::mixed();
        let commit = |h: &mut Harness, generation| {
            let member = mref(&b, generation);
            let offsets = vec![(Tp { topic: TopicId(0), partition: 3 }, 7)];
            h.classic(2, classic::Request::OffsetCommit { member, offsets, purpose: classic::CommitPurpose::Async })
        };
        let refused = commit(&mut h, 1);
        assert!(refused.iter().any(|e| matches!(e, Effect::Event(EventKind::CommitFailed { reason, .. }) if reason.starts_with("ILLEGAL_GENERATION"))));
        assert!(h.g.offsets.is_empty());
        commit(&mut h, 2);
        assert_eq!(h.g.offsets.get(Tp { topic: TopicId(0), partition: 3 }), Some(7));
    }

    #[test]
    fn the_last_consumer_protocol_member_leaving_turns_the_group_classic_and_rebalances() {
        let (mut h, b) = Harness::mixed();
        h.modern(1, cg_beat("A", 1, &[0, 1, 2, 3, 4, 5]));
        h.modern(1, cg_beat("A", 1, &[0, 1, 2]));
        let mut out = Out::default();
        let ctx = Ctx { now: h.now, partitions: &h.partitions, topics: &h.topics };
        let leave = HeartbeatRequest { member_epoch: LEAVE_EPOCH, ..cg_beat("A", 2, &[]) };
        h.g.on_request(&ctx, client(1), Request::Heartbeat(Box::new(leave)), &mut out);
        assert!(out.effects.iter().any(|e| matches!(e, Effect::Downgrade { rebalance: true })));
        let epoch = h.g.group_epoch;
        let classic = h.g.clone().into_classic(&ctx);
        assert_eq!((classic.state, classic.generation), (classic::GroupState::Stable, epoch));
        assert_eq!(classic.leader.as_deref(), Some(b.as_str()));
        assert_eq!(classic.protocol, Some(Strategy::Range));
        // Its assignment is what it may own: nothing yet — its target's 3, 4 and 5 were still to
        // be taken by joining again — and the rebalance that follows gives it everything.
        assert_eq!(classic.member(&b).unwrap().assignment, Vec::<Tp>::new());
    }

    #[test]
    fn a_classic_member_taking_the_last_consumer_protocol_members_static_place_turns_it_classic_without_a_rebalance() {
        let mut h = Harness::new();
        let static_join = HeartbeatRequest { instance_id: Some("i".into()), ..cg_join("A") };
        h.modern(1, static_join);
        let req = JoinRequest { instance_id: Some("i".into()), ..join_request("", &[], Strategy::Range) };
        let effects = h.classic(2, classic::Request::Join(Box::new(req)));
        let classic::Reply::Join(JoinResponse::Ok { generation, member_id, .. }) = answer(&effects) else {
            panic!("joined")
        };
        assert!(effects.iter().any(|e| matches!(e, Effect::Downgrade { rebalance: false })));
        // It took A's place, partitions and epoch.
        assert_eq!(generation, 1);
        assert!(h.g.member("A").is_none());
        assert_eq!(h.g.member(&member_id).unwrap().assignment.assigned.get("foo").map(|s| s.len()), Some(6));
    }

    #[test]
    fn a_consumer_protocol_member_takes_a_classic_static_members_place_at_once() {
        let (mut h, _) = Harness::mixed();
        let req = JoinRequest { instance_id: Some("i".into()), ..join_request("", &[], Strategy::Range) };
        let classic::Reply::Join(JoinResponse::Ok { member_id: old, .. }) =
            answer(&h.classic(3, classic::Request::Join(Box::new(req))))
        else {
            panic!("joined")
        };
        // Same instance id on the consumer protocol: no UNRELEASED_INSTANCE_ID (the classic
        // member never leaves with epoch -2); it takes the place, and speaks its own protocol.
        h.modern(4, HeartbeatRequest { instance_id: Some("i".into()), ..cg_join("D") });
        assert!(h.g.member(&old).is_none());
        assert!(h.g.member("D").is_some_and(|m| m.classic.is_none()));
    }

    #[test]
    fn a_classic_group_with_members_becomes_a_consumer_protocol_group_at_its_generation() {
        use crate::sim::coordinator::{Ctx as ClassicCtx, GroupCoordinator, Out as ClassicOut};
        // A classic group, Stable at generation 1: c1 leads, c2 follows, range over foo.
        let mut g = GroupCoordinator::new("g");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let topics: Vec<Name> = vec!["foo".into()];
        let mut ctx = ClassicCtx {
            now: SimTime(0),
            initial_rebalance_delay_ms: 0,
            rng: &mut rng,
            topics: &topics,
            session_timeout_bounds: (6_000, 1_800_000),
        };
        let mut out = ClassicOut::default();
        for (c, id) in [(1, "m1"), (2, "m2")] {
            let req = JoinRequest { instance_id: Some(id.into()), ..join_request("", &[], Strategy::Range) };
            g.on_request(&mut ctx, client(c), classic::Request::Join(Box::new(req)), &mut out);
        }
        // The initial delay (0 ms here) waits again once for the second joiner.
        g.on_timer(&mut ctx, classic::Timer::JoinDeadline, &mut out);
        g.on_timer(&mut ctx, classic::Timer::JoinDeadline, &mut out);
        let ids: Vec<MemberId> = g.members.iter().map(|m| m.member_id.clone()).collect();
        let assignments = vec![(ids[0].clone(), foo(&[0, 1, 2])), (ids[1].clone(), foo(&[3, 4, 5]))];
        let leader = MemberRef { member_id: ids[0].clone(), instance_id: Some("m1".into()), generation: 1 };
        g.on_request(
            &mut ctx,
            client(1),
            classic::Request::Sync { member: leader, assignments: Some(assignments) },
            &mut out,
        );
        assert_eq!((g.state, g.generation), (classic::GroupState::Stable, 1));
        // c2 was asked to join again and waits in JoinGroup when a consumer-protocol member comes.
        let rejoin = JoinRequest {
            member_id: ids[1].clone(),
            instance_id: Some("m2".into()),
            topics: vec!["foo".into(), "bar".into()],
            ..join_request("", &[], Strategy::Range)
        };
        g.on_request(&mut ctx, client(2), classic::Request::Join(Box::new(rejoin)), &mut out);
        assert!(g.members[1].awaiting_join);

        let partitions: VecMap<String, u32> = [("foo".to_string(), 6)].into_iter().collect();
        let cg_ctx = Ctx { now: SimTime(5), partitions: &partitions, topics: &topics };
        let mut out = Out::default();
        let converted = ConsumerGroup::from_classic(g, &cg_ctx, &mut out);
        assert_eq!((converted.group_epoch, converted.target_epoch), (1, 1));
        assert_eq!(converted.state().name(), "Stable");
        let m1 = converted.member(&ids[0]).unwrap();
        assert_eq!(
            m1.assignment.assigned.get("foo").map(|s| s.iter().copied().collect::<Vec<_>>()),
            Some(vec![0, 1, 2])
        );
        assert!(m1.classic.is_some());
        assert_eq!(m1.session_deadline(), SimTime(5 + SESSION));
        // The waiting JoinGroup is answered: join again.
        let told: Vec<&classic::Reply> = out
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::ClassicReply { consumer, reply, .. } if *consumer == ConsumerId(2) => Some(reply),
                _ => None,
            })
            .collect();
        assert!(matches!(told[..], [classic::Reply::Join(JoinResponse::RebalanceInProgress)]), "{told:?}");
        // Now a consumer-protocol member joins: the epoch moves on to 2.
        let mut h = Harness { g: converted, rng: ChaCha8Rng::seed_from_u64(1), partitions, topics, now: SimTime(6) };
        assert_eq!(h.modern(3, cg_join("C")), 2);
        assert_eq!(h.g.group_epoch, 2);
    }
}
