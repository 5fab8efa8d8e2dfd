//! The rebalance protocol as a sequence diagram: per group, the messages between its members
//! and its coordinator over the last [`WINDOW_MS`] of simulated time, and the group's states
//! (generations) as bands. Built from the events as they happen; it travels with the
//! timeline's cursor, so after a seek it is what it was at that instant.
//!
//! Messages are protocol-neutral ([`Kind`]): the classic protocol's JoinGroup / SyncGroup /
//! Heartbeat / LeaveGroup / OffsetCommit, and the consumer protocol's ConsumerGroupHeartbeat —
//! joining (epoch 0), regular, leaving (epoch -1/-2) — and the new assignments its answers carry.

use std::collections::VecDeque;

use crate::sim::event::{Event, EventKind};
use crate::sim::ids::{GroupId, Name};

/// How much simulated time a lane keeps.
pub const WINDOW_MS: u64 = 60_000;
/// At most this many messages per group (a busy group's commits would crowd it).
pub const MAX_MESSAGES: usize = 600;
/// A member's commits are drawn at most once per this many simulated ms (a consumer that commits
/// after every batch would hide everything else).
pub const COMMIT_EVERY_MS: u64 = 1_000;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    JoinGroup,
    /// The coordinator's answer to a new member's first JoinGroup: join again with this id.
    MemberIdRequired,
    /// The JoinGroup response: in `generation`, perhaps as the leader.
    JoinResponse,
    SyncGroup,
    /// The SyncGroup response: its assignment.
    SyncResponse,
    Heartbeat,
    /// A heartbeat answered with an error (REBALANCE_IN_PROGRESS: rejoin; UNKNOWN_MEMBER_ID…).
    HeartbeatError,
    LeaveGroup,
    OffsetCommit,
    /// The coordinator refused a commit.
    CommitFailed,
    /// The coordinator gave up on a member (its session or rebalance time ran out).
    Expired,
    /// The member's process crashed (no message: drawn on its row).
    Crashed,
    /// A request of the member's failed on its way: its coordinator's broker died with it in
    /// flight, was down, or no longer coordinates the group (drawn on its row).
    Disconnected,
    /// Consumer protocol: a ConsumerGroupHeartbeat at epoch 0 (joining).
    GroupJoin,
    /// Consumer protocol: a regular ConsumerGroupHeartbeat.
    GroupHeartbeat,
    /// Consumer protocol: a ConsumerGroupHeartbeat answered with an error.
    GroupHeartbeatError,
    /// Consumer protocol: a ConsumerGroupHeartbeat at epoch -1 (or -2: a static member away).
    GroupLeave,
    /// Consumer protocol: an answer moving the member towards its target (epoch, assignment,
    /// what to give up).
    NewAssignment,
}

impl Kind {
    /// Its name as Kafka's protocol calls it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::JoinGroup => "JoinGroup",
            Kind::MemberIdRequired => "JoinGroup response MEMBER_ID_REQUIRED",
            Kind::JoinResponse => "JoinGroup response",
            Kind::SyncGroup => "SyncGroup",
            Kind::SyncResponse => "SyncGroup response",
            Kind::Heartbeat => "Heartbeat",
            Kind::HeartbeatError => "Heartbeat response",
            Kind::LeaveGroup => "LeaveGroup",
            Kind::OffsetCommit => "OffsetCommit",
            Kind::CommitFailed => "OffsetCommit response",
            Kind::Expired => "member removed",
            Kind::Crashed => "crashed",
            Kind::Disconnected => "request failed",
            Kind::GroupJoin => "ConsumerGroupHeartbeat (epoch 0: join)",
            Kind::GroupHeartbeat => "ConsumerGroupHeartbeat",
            Kind::GroupHeartbeatError => "ConsumerGroupHeartbeat response",
            Kind::GroupLeave => "ConsumerGroupHeartbeat (leave)",
            Kind::NewAssignment => "ConsumerGroupHeartbeat response",
        }
    }

    /// From the member to the coordinator (else the other way, or on the member's row).
    pub fn is_request(self) -> bool {
        matches!(
            self,
            Kind::JoinGroup
                | Kind::SyncGroup
                | Kind::Heartbeat
                | Kind::LeaveGroup
                | Kind::OffsetCommit
                | Kind::GroupJoin
                | Kind::GroupHeartbeat
                | Kind::GroupLeave
        )
    }

    /// A short mark drawn on the arrow.
    pub fn glyph(self) -> &'static str {
        match self {
            Kind::JoinGroup | Kind::JoinResponse | Kind::MemberIdRequired => "J",
            Kind::SyncGroup | Kind::SyncResponse => "S",
            Kind::Heartbeat | Kind::HeartbeatError => "♥",
            Kind::LeaveGroup => "L",
            Kind::OffsetCommit | Kind::CommitFailed => "C",
            Kind::Expired => "⊘",
            Kind::Crashed => "✕",
            Kind::Disconnected => "↯",
            Kind::GroupJoin => "J",
            Kind::GroupHeartbeat | Kind::GroupHeartbeatError => "♥",
            Kind::GroupLeave => "L",
            Kind::NewAssignment => "A",
        }
    }

    /// The consumer protocol's kind for what the classic protocol calls this.
    fn modern(self) -> Kind {
        match self {
            Kind::JoinGroup => Kind::GroupJoin,
            Kind::Heartbeat => Kind::GroupHeartbeat,
            Kind::HeartbeatError => Kind::GroupHeartbeatError,
            Kind::LeaveGroup => Kind::GroupLeave,
            other => other,
        }
    }
}

/// One message between a member and its coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// When it happened (simulated ms).
    pub at: u64,
    /// The consumer whose member sent or got it.
    pub member: Name,
    pub kind: Kind,
    /// What it carried worth reading: the generation, "leader", the assignment, the error.
    pub detail: String,
}

impl Message {
    /// One line saying what it was, for a title or an accessible name.
    pub fn describe(&self) -> String {
        let dir = match (self.kind, self.kind.is_request()) {
            (Kind::Expired | Kind::Crashed, _) => format!("{} {}", self.member, self.kind.name()),
            (Kind::Disconnected, _) => format!("{}'s {}", self.member, self.kind.name()),
            (_, true) => format!("{} from {}", self.kind.name(), self.member),
            (_, false) => format!("{} to {}", self.kind.name(), self.member),
        };
        let detail = if self.detail.is_empty() { String::new() } else { format!(" ({})", self.detail) };
        format!("{dir}{detail} at {}", crate::sim::time::format_duration(self.at))
    }
}

/// A stretch of time the group spent in one state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub from: u64,
    pub state: String,
    /// The generation, or under the consumer protocol the group epoch.
    pub generation: i32,
    /// The group is on the consumer protocol.
    pub modern: bool,
}

/// One group's lane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lane {
    /// Members in the order they first appeared (a row each).
    pub members: Vec<Name>,
    pub messages: VecDeque<Message>,
    /// Oldest first; the first may have begun before the window.
    pub bands: VecDeque<Band>,
}

/// Every group's lane. (Lists, not maps: a handful of groups, and the app's code stays small.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lanes {
    /// In the order the groups first appeared.
    pub groups: Vec<(GroupId, Lane)>,
    /// The group of each consumer, as its last event said (a crash names only the consumer).
    group_of: Vec<(Name, GroupId)>,
    /// Groups on the consumer protocol now.
    modern: Vec<GroupId>,
    /// Consumers known to speak the classic protocol (they were answered a JoinGroup or sent a
    /// SyncGroup since they last started): in a consumer-protocol group their messages stay
    /// classic ones.
    classic: Vec<Name>,
    /// Bumped whenever something was added: readers redraw when it changes.
    pub version: u64,
}

impl Lanes {
    pub fn group(&self, name: &str) -> Option<&Lane> {
        self.groups.iter().find(|(g, _)| *g == *name).map(|(_, l)| l)
    }

    fn lane(&mut self, group: &GroupId) -> &mut Lane {
        let i = match self.groups.iter().position(|(g, _)| g == group) {
            Some(i) => i,
            None => {
                self.groups.push((group.clone(), Lane::default()));
                self.groups.len() - 1
            }
        };
        &mut self.groups[i].1
    }

    /// Takes in one event.
    pub fn observe(&mut self, e: &Event) {
        let (group, member, kind, detail) = match &e.kind {
            EventKind::JoinGroup { consumer, group, .. } => (group, consumer, Kind::JoinGroup, String::new()),
            EventKind::MemberIdRequired { consumer, group, .. } => {
                (group, consumer, Kind::MemberIdRequired, String::new())
            }
            EventKind::Joined { consumer, group, generation, leader, .. } => {
                self.learn_classic(group, consumer);
                let role = if *leader { "leader" } else { "member" };
                (group, consumer, Kind::JoinResponse, format!("generation {generation}, {role}"))
            }
            EventKind::JoinFailed { consumer, group, error } => (group, consumer, Kind::JoinResponse, error.clone()),
            EventKind::SyncGroup { consumer, group, generation } => {
                (group, consumer, Kind::SyncGroup, format!("generation {generation}"))
            }
            // Under the consumer protocol the coordinator's answers are drawn, not the client
            // taking them.
            EventKind::Assigned(a) if self.modern.contains(&a.group) => return,
            EventKind::Assigned(a) => {
                let list = if a.assigned.is_empty() { "nothing".to_string() } else { a.assigned.join(", ") };
                (&a.group, &a.consumer, Kind::SyncResponse, list)
            }
            EventKind::Heartbeat { consumer, group, error, .. } => match error {
                Some(err) => (group, consumer, Kind::HeartbeatError, err.clone()),
                None => (group, consumer, Kind::Heartbeat, String::new()),
            },
            EventKind::LeaveGroup { consumer, group, reason, .. } => {
                (group, consumer, Kind::LeaveGroup, reason.clone())
            }
            EventKind::CommitSent { consumer, group, .. } => (group, consumer, Kind::OffsetCommit, String::new()),
            EventKind::CommitFailed { consumer, group, reason } => {
                (group, consumer, Kind::CommitFailed, reason.clone())
            }
            EventKind::RequestFailed { consumer, group, request, error, .. } => {
                (group, consumer, Kind::Disconnected, format!("{request}: {error}"))
            }
            EventKind::MemberRemoved { group, consumer, reason, .. } => {
                (group, consumer, Kind::Expired, reason.clone())
            }
            EventKind::Crashed { consumer, .. } => {
                let Some((_, group)) = self.group_of.iter().find(|(c, _)| c == consumer).cloned() else { return };
                self.push(&group, consumer, e.t, Kind::Crashed, String::new());
                return;
            }
            EventKind::TargetAssignment { group, .. } => {
                if !self.modern.contains(group) {
                    // A new group on the consumer protocol: what it drew since it was last empty
                    // (its joins) is renamed; classic history before that, and classic
                    // members' messages, stay as they were.
                    self.modern.push(group.clone());
                    let classic = std::mem::take(&mut self.classic);
                    let lane = self.lane(group);
                    let since = lane.bands.iter().rev().find(|b| b.state == "Empty").map_or(0, |b| b.from);
                    for m in lane.messages.iter_mut().filter(|m| m.at >= since && !classic.contains(&m.member)) {
                        m.kind = m.kind.modern();
                    }
                    for b in lane.bands.iter_mut().filter(|b| b.from >= since) {
                        b.modern = true;
                    }
                    self.classic = classic;
                    self.version += 1;
                }
                return;
            }
            EventKind::GroupConverted { group, protocol, .. } => {
                // Its members stay what they were; what comes next is drawn for each member's
                // own protocol.
                let modern = protocol == "consumer";
                match self.modern.iter().position(|g| g == group) {
                    Some(i) if !modern => {
                        self.modern.remove(i);
                    }
                    None if modern => {
                        self.modern.push(group.clone());
                        // The join that converted it was a ConsumerGroupHeartbeat: the latest
                        // join of each member not known to speak the classic protocol.
                        let classic = std::mem::take(&mut self.classic);
                        let lane = self.lane(group);
                        let mut seen: Vec<Name> = Vec::new();
                        for m in lane.messages.iter_mut().rev() {
                            if m.kind == Kind::JoinGroup && !classic.contains(&m.member) && !seen.contains(&m.member) {
                                m.kind = Kind::GroupJoin;
                                seen.push(m.member.clone());
                            }
                        }
                        self.classic = classic;
                        self.version += 1;
                    }
                    _ => {}
                }
                return;
            }
            EventKind::Started { consumer } | EventKind::Stopped { consumer } => {
                // A new process may speak another protocol.
                self.classic.retain(|c| c != consumer);
                return;
            }
            EventKind::MemberAssignment { group, consumer, epoch, state, assigned, revoking, .. } => {
                let given = if assigned.is_empty() { "nothing".to_string() } else { assigned.join(", ") };
                let detail = if revoking.is_empty() {
                    format!("epoch {epoch}, {state}: {given}")
                } else {
                    format!("epoch {epoch}, {state}: keep {given}; give up {}", revoking.join(", "))
                };
                (group, consumer, Kind::NewAssignment, detail)
            }
            EventKind::GroupState { group, state, generation, .. } => {
                let modern = self.modern.contains(group);
                let lane = self.lane(group);
                lane.bands.push_back(Band { from: e.t, state: state.clone(), generation: *generation, modern });
                // Bands wholly before the window go (the one the window begins in stays).
                while lane.bands.len() > 1 && lane.bands[1].from + WINDOW_MS < e.t {
                    lane.bands.pop_front();
                }
                self.version += 1;
                return;
            }
            _ => return,
        };
        match self.group_of.iter_mut().find(|(c, _)| c == member) {
            Some((_, g)) => *g = group.clone(),
            None => self.group_of.push((member.clone(), group.clone())),
        }
        if kind == Kind::SyncGroup || kind == Kind::MemberIdRequired {
            self.learn_classic(group, member);
        }
        let kind = if self.modern.contains(group) && !self.classic.contains(member) { kind.modern() } else { kind };
        self.push(group, member, e.t, kind, detail);
    }

    /// `member` speaks the classic protocol: its JoinGroup drawn as a consumer-protocol join
    /// (before anything told) is named again.
    fn learn_classic(&mut self, group: &GroupId, member: &Name) {
        if self.classic.contains(member) {
            return;
        }
        self.classic.push(member.clone());
        let lane = self.lane(group);
        if let Some(m) = lane.messages.iter_mut().rev().find(|m| m.member == *member && m.kind == Kind::GroupJoin) {
            m.kind = Kind::JoinGroup;
        }
    }

    fn push(&mut self, group: &GroupId, member: &Name, at: u64, kind: Kind, detail: String) {
        let lane = self.lane(group);
        if kind == Kind::OffsetCommit
            && lane
                .messages
                .iter()
                .rev()
                .take_while(|m| m.at + COMMIT_EVERY_MS > at)
                .any(|m| m.member == *member && m.kind == Kind::OffsetCommit)
        {
            return;
        }
        if !lane.members.contains(member) {
            lane.members.push(member.clone());
        }
        lane.messages.push_back(Message { at, member: member.clone(), kind, detail });
        let mut dropped = false;
        while lane.messages.front().is_some_and(|m| m.at + WINDOW_MS < at) || lane.messages.len() > MAX_MESSAGES {
            lane.messages.pop_front();
            dropped = true;
        }
        // A member with nothing left in the window loses its row (only a drop can do that).
        if dropped {
            let messages = &lane.messages;
            lane.members.retain(|m| messages.iter().any(|x| x.member == *m));
        }
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::teach;
    use crate::sim::{Command, Sim, SimTime};

    fn lanes_of(sim: &mut Sim) -> Lanes {
        let mut lanes = Lanes::default();
        for e in sim.drain_events() {
            lanes.observe(&e);
        }
        lanes
    }

    fn kinds(lane: &Lane, member: &str, after: u64) -> Vec<Kind> {
        lane.messages.iter().filter(|m| m.member == member && m.at >= after).map(|m| m.kind).collect()
    }

    /// Under the consumer protocol: each member joins with a heartbeat at epoch 0, the
    /// coordinator's answers carry its epoch and what to keep and give up, its heartbeats go on
    /// every 5 s; no JoinGroup or SyncGroup. The bands speak of epochs.
    #[test]
    fn a_consumer_protocol_group_shows_heartbeats_and_the_assignments_they_bring() {
        let mut s = teach::find("consumer-group").unwrap();
        for c in &mut s.consumers {
            c.group_protocol = crate::sim::config::GroupProtocol::Consumer;
        }
        let mut sim = Sim::new(&s, 1).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(12_000));
        let lanes = lanes_of(&mut sim);
        let lane = lanes.group("my-group").unwrap();
        let first = kinds(lane, "consumer-1", 0);
        assert_eq!(first[0], Kind::GroupJoin, "{first:?}");
        assert!(first.contains(&Kind::NewAssignment) && first.contains(&Kind::GroupHeartbeat), "{first:?}");
        assert!(!first.iter().any(|k| matches!(k, Kind::JoinGroup | Kind::SyncGroup | Kind::SyncResponse)));
        let revoke = lane.messages.iter().find(|m| m.kind == Kind::NewAssignment && m.detail.contains("give up"));
        assert!(revoke.is_some_and(|m| m.detail.contains("UNREVOKED_PARTITIONS")), "{:?}", lane.messages);
        let last = lane.bands.back().unwrap();
        assert_eq!((last.state.as_str(), last.modern), ("Stable", true));
    }

    /// A group mixing both protocols: consumer-1 comes back on the consumer protocol and the
    /// group converts; its join is a ConsumerGroupHeartbeat, while the others' messages stay
    /// classic ones (JoinGroup, SyncGroup, Heartbeat) inside the consumer-protocol group.
    #[test]
    fn a_mixed_group_draws_each_member_in_its_own_protocol() {
        use crate::sim::command::ConsumerSetting;
        use crate::sim::config::GroupProtocol;
        let mut sim = Sim::new(&teach::find("consumer-group").unwrap(), 1).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(10_000));
        let setting = ConsumerSetting::GroupProtocol(GroupProtocol::Consumer);
        sim.apply(Command::ConfigureConsumer { consumer: "consumer-1".into(), setting });
        sim.apply(Command::StopConsumer { consumer: "consumer-1".into() });
        sim.run_until(SimTime(15_000));
        sim.apply(Command::StartConsumer { consumer: "consumer-1".into() });
        sim.run_until(SimTime(40_000));
        let lanes = lanes_of(&mut sim);
        let lane = lanes.group("my-group").unwrap();
        let after = |member: &str| -> Vec<Kind> {
            lane.messages.iter().filter(|m| m.member == member && m.at >= 15_000).map(|m| m.kind).collect()
        };
        let one = after("consumer-1");
        assert_eq!(one.first(), Some(&Kind::GroupJoin), "{one:?}");
        assert!(one.contains(&Kind::GroupHeartbeat) && !one.contains(&Kind::JoinGroup), "{one:?}");
        let two = after("consumer-2");
        assert!(two.contains(&Kind::Heartbeat) && !two.contains(&Kind::GroupHeartbeat), "{two:?}");
        assert!(
            two.contains(&Kind::JoinGroup) && two.contains(&Kind::SyncGroup),
            "it joined again to move on: {two:?}"
        );
        assert!(lane.bands.back().is_some_and(|b| b.modern), "{:?}", lane.bands);
    }

    /// A new group forms: each member joins twice (MEMBER_ID_REQUIRED first), is answered, syncs
    /// and gets its assignment, then heartbeats; the bands go PreparingRebalance →
    /// CompletingRebalance → Stable.
    #[test]
    fn a_group_forming_shows_join_sync_and_heartbeats() {
        let mut sim = Sim::new(&teach::find("consumer-group").unwrap(), 1).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(20_000));
        let lanes = lanes_of(&mut sim);
        let lane = &lanes.group("my-group").unwrap();
        assert_eq!(lane.members.len(), 3, "{:?}", lane.members);
        let k = kinds(lane, "consumer-1", 0);
        let at = |kind| k.iter().position(|x| *x == kind).unwrap_or_else(|| panic!("{kind:?} in {k:?}"));
        assert!(at(Kind::JoinGroup) < at(Kind::MemberIdRequired));
        assert!(at(Kind::MemberIdRequired) < at(Kind::JoinResponse));
        assert!(at(Kind::JoinResponse) < at(Kind::SyncGroup));
        assert!(at(Kind::SyncGroup) < at(Kind::SyncResponse));
        assert!(at(Kind::SyncResponse) < at(Kind::Heartbeat));
        let states: Vec<&str> = lane.bands.iter().map(|b| b.state.as_str()).collect();
        assert!(states.ends_with(&["PreparingRebalance", "CompletingRebalance", "Stable"]), "{states:?}");
        let leader = lane.messages.iter().filter(|m| m.kind == Kind::JoinResponse && m.detail.ends_with("leader"));
        assert_eq!(leader.count(), 1, "one leader per generation");
    }

    /// A crash: nothing from the dead member; after its session the coordinator removes it and
    /// the survivors rejoin (their heartbeats answered REBALANCE_IN_PROGRESS) and sync again. A
    /// clean stop sends LeaveGroup instead.
    #[test]
    fn a_crash_then_a_stop_show_what_the_protocol_does() {
        let mut sim = Sim::new(&teach::find("consumer-group").unwrap(), 1).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(10_000));
        let mut lanes = lanes_of(&mut sim);
        sim.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
        sim.run_until(SimTime(40_000));
        for e in sim.drain_events() {
            lanes.observe(&e);
        }
        let lane = &lanes.group("my-group").unwrap();
        let dead = kinds(lane, "consumer-2", 10_000);
        assert_eq!(dead, vec![Kind::Crashed, Kind::Expired], "{dead:?}");
        let survivor = kinds(lane, "consumer-1", 10_000);
        for k in [Kind::HeartbeatError, Kind::JoinGroup, Kind::JoinResponse, Kind::SyncGroup, Kind::SyncResponse] {
            assert!(survivor.contains(&k), "{k:?} in {survivor:?}");
        }
        sim.apply(Command::StopConsumer { consumer: "consumer-3".into() });
        sim.run_until(SimTime(45_000));
        for e in sim.drain_events() {
            lanes.observe(&e);
        }
        assert!(kinds(lanes.group("my-group").unwrap(), "consumer-3", 40_000).contains(&Kind::LeaveGroup));
    }

    /// The coordinator's broker crashes with the members' heartbeats on their way: each request
    /// that fails is drawn on its member's row (↯), and the members find the coordinator again.
    #[test]
    fn a_request_cut_off_by_a_broker_crash_is_drawn_as_failed() {
        let mut scenario = teach::find("consumer-group").unwrap();
        scenario.cluster.brokers = 3;
        let mut sim = Sim::new(&scenario, 1).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(10_000));
        let mut lanes = lanes_of(&mut sim);
        let broker = sim.coordinator_of("my-group").unwrap();
        sim.apply(Command::CrashBroker { broker: broker.0 });
        sim.run_until(SimTime(40_000));
        for e in sim.drain_events() {
            lanes.observe(&e);
        }
        let lane = &lanes.group("my-group").unwrap();
        let failed: Vec<&Message> = lane.messages.iter().filter(|m| m.kind == Kind::Disconnected).collect();
        assert!(!failed.is_empty(), "{:?}", lane.messages);
        let said = failed[0].describe();
        assert!(said.contains("request failed (") && said.contains("disconnected"), "{said}");
        assert!(!Kind::Disconnected.is_request());
    }

    /// Old messages leave the window, and a busy lane keeps at most its cap.
    #[test]
    fn a_lane_keeps_its_window_and_its_cap() {
        let mut lanes = Lanes::default();
        let e = |t, c: &str| Event {
            t,
            kind: EventKind::CommitSent { consumer: c.into(), group: "g".into(), offsets: Vec::new() },
        };
        for t in 0..1_000 {
            lanes.observe(&e(t * 10, &format!("c{}", t % 100)));
        }
        assert_eq!(lanes.group("g").unwrap().messages.len(), MAX_MESSAGES);
        // One member committing every 10 ms is drawn once a second.
        let mut one = Lanes::default();
        for t in 0..500 {
            one.observe(&e(t * 10, "a"));
        }
        assert_eq!(one.group("g").unwrap().messages.len(), 5);
        lanes.observe(&e(100_000, "b"));
        let lane = &lanes.group("g").unwrap();
        assert!(lane.messages.iter().all(|m| m.at + WINDOW_MS >= 100_000));
        assert_eq!(lane.members, vec![Name::from("b")], "a member with nothing in the window loses its row");
    }
}
