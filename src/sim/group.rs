//! The group coordinator of Kafka's classic group protocol, as it runs on a broker.
//!
//! States `Empty → PreparingRebalance → CompletingRebalance → Stable` (and `Dead`), generations,
//! a leader that computes the assignment, JoinGroup/SyncGroup/Heartbeat/LeaveGroup handling,
//! `group.initial.rebalance.delay.ms`, the rebalance timeout (each member's
//! `max.poll.interval.ms`), session expiry after `session.timeout.ms` without a heartbeat, and
//! static members (`group.instance.id`) that come back without a rebalance.

use super::assign::Subscription;
use super::config::Strategy;
use super::engine::{Action, Sim, Tp};
use super::event::EventKind;
use super::time::SimTime;

/// The coordinator states of the classic protocol, as Kafka names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub member_id: String,
    /// The consumer (and its incarnation) behind this member id.
    pub consumer: u32,
    pub inc: u32,
    pub client_id: String,
    pub instance_id: Option<String>,
    pub topics: Vec<String>,
    pub strategy: Strategy,
    /// What it reported owning when it joined, and in which generation.
    pub owned: Vec<Tp>,
    pub owned_generation: i32,
    /// Its partitions in the current generation.
    pub assignment: Vec<Tp>,
    /// It has sent a JoinGroup in the current rebalance.
    pub joined: bool,
    /// A JoinGroup response is being held for it.
    pub awaiting_join: bool,
    pub last_heartbeat: SimTime,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    pub(crate) session_check_at: Option<SimTime>,
}

impl Member {
    /// When the coordinator will give up on it without another heartbeat.
    pub fn session_deadline(&self) -> SimTime {
        self.last_heartbeat.plus(self.session_timeout_ms)
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub state: GroupState,
    pub generation: i32,
    pub protocol: Option<Strategy>,
    pub leader: Option<String>,
    /// Members in the order they joined.
    pub members: Vec<Member>,
    /// When the join phase of the current rebalance ends at the latest.
    pub join_deadline: Option<SimTime>,
    /// Set while `group.initial.rebalance.delay.ms` holds an empty group's first rebalance.
    initial_delay_since: Option<SimTime>,
    /// Members whose SyncGroup waits for the leader's.
    pending_sync: Vec<String>,
}

impl Group {
    fn new(name: &str) -> Group {
        Group {
            name: name.to_string(),
            state: GroupState::Empty,
            generation: 0,
            protocol: None,
            leader: None,
            members: Vec::new(),
            join_deadline: None,
            initial_delay_since: None,
            pending_sync: Vec::new(),
        }
    }

    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == id)
    }

    fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.member_id == id)
    }

    fn rebalance_timeout(&self) -> u64 {
        self.members.iter().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0)
    }
}

/// What a consumer sends in its JoinGroup.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    pub group: String,
    pub member_id: String,
    pub client_id: String,
    pub instance_id: Option<String>,
    pub topics: Vec<String>,
    pub strategy: Strategy,
    pub owned: Vec<Tp>,
    pub owned_generation: i32,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
}

/// The coordinator's answer to a JoinGroup.
#[derive(Clone, Debug)]
pub enum JoinResponse {
    Ok {
        generation: i32,
        member_id: String,
        leader: bool,
        strategy: Strategy,
        /// For the leader: every member's subscription, in join order.
        members: Vec<(String, Subscription)>,
    },
    /// The member id is not known (it was removed): join again without one.
    UnknownMemberId,
    /// Its assignor is not one the group's members agree on.
    InconsistentGroupProtocol,
    /// Another consumer has joined with its `group.instance.id`.
    FencedInstanceId,
}

/// Who sends a request to the coordinator: member id, `group.instance.id`, generation.
pub type Sender<'a> = (&'a str, Option<&'a str>, i32);

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

impl Group {
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
}

impl Sim {
    pub(crate) fn group_mut(&mut self, name: &str) -> &mut Group {
        if !self.groups.contains_key(name) {
            self.groups.insert(name.to_string(), Group::new(name));
        }
        self.groups.get_mut(name).expect("just inserted")
    }

    fn set_state(&mut self, group: &str, state: GroupState, reason: &str) {
        let g = self.group_mut(group);
        if g.state == state {
            return;
        }
        g.state = state;
        let generation = g.generation;
        self.emit(EventKind::GroupState {
            group: group.to_string(),
            state: state.name().to_string(),
            generation,
            reason: reason.to_string(),
        });
    }

    /// A JoinGroup arrives at the coordinator.
    pub(crate) fn join_arrive(&mut self, c: u32, inc: u32, req: JoinRequest) {
        let now = self.now;
        let group = req.group.clone();
        self.group_mut(&group);
        let g = &self.groups[&group];
        if !g.members.is_empty() && g.members.iter().any(|m| m.strategy != req.strategy && m.member_id != req.member_id)
        {
            self.after(
                self.latency(),
                Action::JoinResponse { consumer: c, inc, response: JoinResponse::InconsistentGroupProtocol },
            );
            return;
        }
        // A static member coming back under a new incarnation (joining without a member id) takes
        // over its old member id's place; one joining with another member id is fenced.
        if let Some(instance) = &req.instance_id {
            let known = g.members.iter().position(|m| m.instance_id.as_ref() == Some(instance));
            if let Some(i) = known {
                if req.member_id.is_empty() {
                    self.replace_static_member(c, inc, &req, i);
                    return;
                }
                if g.members[i].member_id != req.member_id {
                    let response = JoinResponse::FencedInstanceId;
                    self.after(self.latency(), Action::JoinResponse { consumer: c, inc, response });
                    return;
                }
            }
        }
        let member_id = if req.member_id.is_empty() {
            self.new_member_id(&req.client_id)
        } else if self.groups[&group].member(&req.member_id).is_none() {
            self.after(
                self.latency(),
                Action::JoinResponse { consumer: c, inc, response: JoinResponse::UnknownMemberId },
            );
            return;
        } else {
            req.member_id.clone()
        };
        let g = self.group_mut(&group);
        match g.member_mut(&member_id) {
            Some(m) => {
                m.consumer = c;
                m.inc = inc;
                m.topics = req.topics.clone();
                m.owned = req.owned.clone();
                m.owned_generation = req.owned_generation;
                m.joined = true;
                m.awaiting_join = true;
                m.last_heartbeat = now;
            }
            None => g.members.push(Member {
                member_id: member_id.clone(),
                consumer: c,
                inc,
                client_id: req.client_id.clone(),
                instance_id: req.instance_id.clone(),
                topics: req.topics.clone(),
                strategy: req.strategy,
                owned: req.owned.clone(),
                owned_generation: req.owned_generation,
                assignment: Vec::new(),
                joined: true,
                awaiting_join: true,
                last_heartbeat: now,
                session_timeout_ms: req.session_timeout_ms,
                rebalance_timeout_ms: req.rebalance_timeout_ms,
                session_check_at: None,
            }),
        }
        match self.groups[&group].state {
            GroupState::Empty | GroupState::Dead => {
                let delay = self.cluster.group_initial_rebalance_delay_ms;
                let g = self.group_mut(&group);
                g.initial_delay_since = Some(now);
                self.prepare_rebalance(&group, "first member joined", Some(delay));
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(&group, &format!("{} joined", req.client_id), None);
            }
            GroupState::PreparingRebalance => {
                // Each joiner during the initial delay extends it, up to the rebalance timeout.
                let delay = self.cluster.group_initial_rebalance_delay_ms;
                let g = self.group_mut(&group);
                if let Some(since) = g.initial_delay_since {
                    let limit = since.plus(g.rebalance_timeout());
                    let extended = now.plus(delay).min(limit);
                    if g.join_deadline.is_none_or(|d| extended > d) {
                        g.join_deadline = Some(extended);
                        self.push(extended, Action::JoinDeadline { group: group.clone() });
                    }
                }
            }
        }
        self.maybe_complete_join(&group);
    }

    fn replace_static_member(&mut self, c: u32, inc: u32, req: &JoinRequest, index: usize) {
        let now = self.now;
        let new_id = self.new_member_id(&req.client_id);
        let group = req.group.clone();
        let g = self.group_mut(&group);
        let old_id = std::mem::replace(&mut g.members[index].member_id, new_id.clone());
        if g.leader.as_deref() == Some(old_id.as_str()) {
            g.leader = Some(new_id.clone());
        }
        // The old member's JoinGroup or SyncGroup waiting here is answered FENCED_INSTANCE_ID.
        let old = (g.members[index].consumer, g.members[index].inc);
        let awaiting_sync = g.pending_sync.iter().position(|id| *id == old_id).map(|i| g.pending_sync.remove(i));
        if g.members[index].awaiting_join {
            let response = JoinResponse::FencedInstanceId;
            self.after(self.latency(), Action::JoinResponse { consumer: old.0, inc: old.1, response });
        } else if awaiting_sync.is_some() {
            let (result, generation) = (Err(GroupError::FencedInstanceId), g.generation);
            self.after(self.latency(), Action::SyncResponse { consumer: old.0, inc: old.1, generation, result });
        }
        let g = self.group_mut(&group);
        let m = &mut g.members[index];
        m.consumer = c;
        m.inc = inc;
        m.last_heartbeat = now;
        m.session_check_at = None;
        let stable = g.state == GroupState::Stable;
        let (generation, strategy) = (g.generation, g.protocol.unwrap_or(req.strategy));
        self.emit(EventKind::StaticMemberReplaced {
            group: group.clone(),
            old_member_id: old_id,
            member_id: new_id.clone(),
        });
        if stable {
            // Same instance, same subscription: it gets its old assignment back, no rebalance.
            self.schedule_session_check(&group, &new_id);
            let response =
                JoinResponse::Ok { generation, member_id: new_id, leader: false, strategy, members: Vec::new() };
            self.after(self.latency(), Action::JoinResponse { consumer: c, inc, response });
        } else {
            let g = self.group_mut(&group);
            let m = &mut g.members[index];
            m.joined = true;
            m.awaiting_join = true;
            if g.state == GroupState::CompletingRebalance {
                self.prepare_rebalance(&group, "static member rejoined", None);
            }
            self.maybe_complete_join(&group);
        }
    }

    /// Starts (or restarts) a rebalance: members learn of it from their heartbeats.
    fn prepare_rebalance(&mut self, group: &str, reason: &str, initial_delay: Option<u64>) {
        let now = self.now;
        let g = self.group_mut(group);
        // Members waiting for the leader's SyncGroup are told to rejoin.
        let pending: Vec<String> = std::mem::take(&mut g.pending_sync);
        let deadline = now.plus(initial_delay.unwrap_or_else(|| g.rebalance_timeout()));
        g.join_deadline = Some(deadline);
        if g.state != GroupState::PreparingRebalance {
            for m in g.members.iter_mut() {
                if !m.awaiting_join {
                    m.joined = false;
                }
            }
        }
        let waiting: Vec<(u32, u32)> =
            pending.iter().filter_map(|id| g.member(id).map(|m| (m.consumer, m.inc))).collect();
        let generation = g.generation;
        for (consumer, inc) in waiting {
            let result = Err(GroupError::RebalanceInProgress);
            self.after(self.latency(), Action::SyncResponse { consumer, inc, generation, result });
        }
        self.set_state(group, GroupState::PreparingRebalance, reason);
        self.push(deadline, Action::JoinDeadline { group: group.to_string() });
    }

    /// Completes the join phase when every member has rejoined (and any initial delay is over).
    fn maybe_complete_join(&mut self, group: &str) {
        let g = &self.groups[group];
        if g.state != GroupState::PreparingRebalance || g.initial_delay_since.is_some() {
            return;
        }
        if g.members.iter().all(|m| m.joined) {
            self.complete_join(group);
        }
    }

    /// A new coordinator loads the group from `__consumer_offsets`, where it finds the last
    /// generation the group completed. A group that never completed one is not there: it starts
    /// Empty, and the members whose JoinGroup was waiting at the old coordinator join again. A
    /// group in the middle of a rebalance gets a full rebalance timeout again.
    pub(crate) fn load_group(&mut self, group: &str) {
        let now = self.now;
        let Some(g) = self.groups.get_mut(group) else { return };
        if g.generation == 0 && g.state != GroupState::Empty {
            let waiting: Vec<(u32, u32)> = g.members.iter().map(|m| (m.consumer, m.inc)).collect();
            g.members.clear();
            g.pending_sync.clear();
            g.initial_delay_since = None;
            g.join_deadline = None;
            g.leader = None;
            g.protocol = None;
            self.set_state(group, GroupState::Empty, "a new coordinator found no generation to load");
            for (consumer, inc) in waiting {
                let response = JoinResponse::UnknownMemberId;
                self.after(self.latency(), Action::JoinResponse { consumer, inc, response });
            }
            return;
        }
        if g.state != GroupState::PreparingRebalance {
            return;
        }
        let deadline = now.plus(g.rebalance_timeout());
        g.join_deadline = Some(deadline);
        self.push(deadline, Action::JoinDeadline { group: group.to_string() });
    }

    pub(crate) fn join_deadline(&mut self, group: &str) {
        let now = self.now;
        let Some(g) = self.groups.get_mut(group) else { return };
        if g.state != GroupState::PreparingRebalance || g.join_deadline != Some(now) {
            return; // superseded
        }
        g.initial_delay_since = None;
        let late: Vec<String> = g.members.iter().filter(|m| !m.joined).map(|m| m.member_id.clone()).collect();
        for id in late {
            self.remove_member(group, &id, "did not rejoin within the rebalance timeout", false);
        }
        self.complete_join(group);
    }

    fn complete_join(&mut self, group: &str) {
        let g = self.group_mut(group);
        g.initial_delay_since = None;
        g.join_deadline = None;
        g.generation += 1;
        if g.members.is_empty() {
            g.leader = None;
            g.protocol = None;
            self.set_state(group, GroupState::Empty, "every member left");
            return;
        }
        if g.leader.as_ref().is_none_or(|l| g.member(l).is_none()) {
            g.leader = Some(g.members[0].member_id.clone());
        }
        g.protocol = Some(g.members[0].strategy);
        let leader = g.leader.clone().expect("chosen above");
        let (generation, strategy) = (g.generation, g.members[0].strategy);
        let subscriptions: Vec<(String, Subscription)> =
            self.groups[group].members.iter().map(|m| (m.member_id.clone(), self.subscription_of(m))).collect();
        let now = self.now;
        let g = self.group_mut(group);
        let mut responses = Vec::new();
        for m in g.members.iter_mut() {
            m.awaiting_join = false;
            // Completing the join restarts every member's session timer, as Kafka does.
            m.last_heartbeat = now;
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
                },
            ));
        }
        self.set_state(group, GroupState::CompletingRebalance, &format!("generation {generation} formed"));
        for (consumer, inc, response) in responses {
            self.after(self.latency(), Action::JoinResponse { consumer, inc, response });
        }
        let ids: Vec<String> = self.groups[group].members.iter().map(|m| m.member_id.clone()).collect();
        for id in ids {
            self.schedule_session_check(group, &id);
        }
    }

    fn subscription_of(&self, m: &Member) -> Subscription {
        Subscription {
            topics: m.topics.clone(),
            instance_id: m.instance_id.clone(),
            owned: m.owned.iter().map(|tp| self.tp_name(*tp)).collect(),
            generation: (m.owned_generation >= 0).then_some(m.owned_generation),
        }
    }

    /// A SyncGroup arrives; the leader's carries the assignment.
    pub(crate) fn sync_arrive(
        &mut self,
        c: u32,
        inc: u32,
        group: &str,
        (member_id, instance_id, generation): Sender,
        assignments: Option<Vec<(String, Vec<Tp>)>>,
    ) {
        let now = self.now;
        let respond = |sim: &mut Sim, result: Result<Vec<Tp>, GroupError>| {
            sim.after(sim.latency(), Action::SyncResponse { consumer: c, inc, generation, result });
        };
        let Some(g) = self.groups.get_mut(group) else { return respond(self, Err(GroupError::UnknownMemberId)) };
        if g.member(member_id).is_none() {
            let error = g.unknown(member_id, instance_id);
            return respond(self, Err(error));
        }
        let Some(m) = g.member_mut(member_id) else { return respond(self, Err(GroupError::UnknownMemberId)) };
        m.last_heartbeat = now;
        if generation != g.generation {
            return respond(self, Err(GroupError::IllegalGeneration));
        }
        match g.state {
            GroupState::PreparingRebalance => respond(self, Err(GroupError::RebalanceInProgress)),
            GroupState::Stable => {
                let a = g.member(member_id).map(|m| m.assignment.clone()).unwrap_or_default();
                respond(self, Ok(a));
            }
            GroupState::CompletingRebalance => {
                g.pending_sync.push(member_id.to_string());
                let is_leader = g.leader.as_deref() == Some(member_id);
                if let (true, Some(assignments)) = (is_leader, assignments) {
                    for m in g.members.iter_mut() {
                        m.assignment = assignments
                            .iter()
                            .find(|(id, _)| *id == m.member_id)
                            .map(|(_, a)| a.clone())
                            .unwrap_or_default();
                    }
                    let waiting: Vec<(u32, u32, Vec<Tp>)> = std::mem::take(&mut g.pending_sync)
                        .iter()
                        .filter_map(|id| g.member(id).map(|m| (m.consumer, m.inc, m.assignment.clone())))
                        .collect();
                    self.set_state(group, GroupState::Stable, "the leader's assignment arrived");
                    for (consumer, inc, a) in waiting {
                        let response = Action::SyncResponse { consumer, inc, generation, result: Ok(a) };
                        self.after(self.latency(), response);
                    }
                }
            }
            GroupState::Empty | GroupState::Dead => respond(self, Err(GroupError::UnknownMemberId)),
        }
    }

    /// A heartbeat arrives: it keeps the session alive and tells the member of rebalances.
    pub(crate) fn heartbeat_arrive(
        &mut self,
        c: u32,
        inc: u32,
        group: &str,
        (member_id, instance_id, generation): Sender,
    ) {
        let now = self.now;
        let consumer = self.consumers[c as usize].spec.name.clone();
        let unknown = self.groups.get(group).map_or(GroupError::UnknownMemberId, |g| g.unknown(member_id, instance_id));
        let result = match self.groups.get_mut(group).and_then(|g| {
            let gen = g.generation;
            let state = g.state;
            g.member_mut(member_id).map(|m| (m, gen, state))
        }) {
            None => Err(unknown),
            Some((m, gen, state)) => {
                m.last_heartbeat = now;
                if generation != gen {
                    Err(GroupError::IllegalGeneration)
                } else if state == GroupState::PreparingRebalance {
                    Err(GroupError::RebalanceInProgress)
                } else {
                    Ok(())
                }
            }
        };
        self.emit(EventKind::Heartbeat {
            consumer,
            group: group.to_string(),
            generation,
            error: result.err().map(|e| e.code().to_string()),
        });
        self.after(self.latency(), Action::HeartbeatResponse { consumer: c, inc, generation, result });
    }

    /// A LeaveGroup arrives: the member goes at once and the group rebalances.
    pub(crate) fn leave_arrive(&mut self, group: &str, member_id: &str) {
        if self.groups.get(group).and_then(|g| g.member(member_id)).is_some() {
            self.remove_member(group, member_id, "left the group (LeaveGroup)", true);
        }
    }

    pub(crate) fn schedule_session_check(&mut self, group: &str, member_id: &str) {
        let Some(m) = self.groups.get_mut(group).and_then(|g| g.member_mut(member_id)) else { return };
        if m.session_check_at.is_some() {
            return;
        }
        let at = m.session_deadline();
        m.session_check_at = Some(at);
        self.push(at, Action::SessionCheck { group: group.to_string(), member_id: member_id.to_string() });
    }

    /// The session timer of a member fires: no heartbeat for `session.timeout.ms` removes it.
    pub(crate) fn session_check(&mut self, group: &str, member_id: &str) {
        let now = self.now;
        let Some(m) = self.groups.get_mut(group).and_then(|g| g.member_mut(member_id)) else { return };
        m.session_check_at = None;
        if m.awaiting_join {
            return; // a member waiting in JoinGroup is bounded by the rebalance timeout instead
        }
        if now >= m.session_deadline() {
            self.remove_member(group, member_id, "session timeout expired", true);
        } else {
            self.schedule_session_check(group, member_id);
        }
    }

    fn remove_member(&mut self, group: &str, member_id: &str, reason: &str, rebalance: bool) {
        let g = self.group_mut(group);
        let Some(i) = g.members.iter().position(|m| m.member_id == member_id) else { return };
        let m = g.members.remove(i);
        g.pending_sync.retain(|id| id != member_id);
        let consumer = self.consumers[m.consumer as usize].spec.name.clone();
        self.emit(EventKind::MemberRemoved {
            group: group.to_string(),
            consumer,
            member_id: member_id.to_string(),
            reason: reason.to_string(),
        });
        if !rebalance {
            return;
        }
        match self.groups[group].state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(group, &format!("{} {reason}", m.client_id), None)
            }
            GroupState::PreparingRebalance => self.maybe_complete_join(group),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Whether an OffsetCommit from this member and generation is accepted (Kafka's
    /// `validateOffsetCommit` for classic groups).
    pub(crate) fn validate_commit(
        &self,
        group: &str,
        (member_id, instance_id, generation): Sender,
    ) -> Result<(), GroupError> {
        let Some(g) = self.groups.get(group) else {
            return if member_id.is_empty() { Ok(()) } else { Err(GroupError::UnknownMemberId) };
        };
        if member_id.is_empty() && generation < 0 {
            // A consumer outside the group may only commit while the group has no members.
            return if g.members.is_empty() { Ok(()) } else { Err(GroupError::UnknownMemberId) };
        }
        if g.member(member_id).is_none() {
            return Err(g.unknown(member_id, instance_id));
        }
        if generation != g.generation {
            return Err(GroupError::IllegalGeneration);
        }
        if g.state == GroupState::CompletingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
        Ok(())
    }
}
