//! The group registry: every group the coordinators keep, each on the protocol it is on now —
//! Kafka's `GroupMetadataManager` keeps one map of groups whatever their type. It owns their
//! creation, the conversions both ways (Kafka 4's online migration, `bidirectional`), the rules
//! for groups that mix protocols, and the committed offsets an empty group keeps when it changes
//! protocol. What each kind of group does with a request is its own coordinator's
//! ([`crate::sim::coordinator`], [`crate::sim::kafka::consumer_group`]).

use crate::sim::coordinator::GroupCoordinator;
use crate::sim::kafka::consumer_group::{self as cg, ConsumerGroup, GroupError};
use crate::sim::kafka::offsets::GroupOffsets;
use crate::sim::vecmap::VecMap;

/// A group, on the classic protocol or Kafka 4's consumer protocol.
#[derive(Clone, Debug)]
pub enum Group {
    Classic(GroupCoordinator),
    Consumer(ConsumerGroup),
}

impl Group {
    pub fn offsets(&self) -> &GroupOffsets {
        match self {
            Group::Classic(g) => &g.offsets,
            Group::Consumer(g) => &g.offsets,
        }
    }

    /// Whether `member_id` is one of its active members (under the consumer protocol, a static
    /// member that left for a while keeps its place, but is not active).
    pub fn knows(&self, member_id: &str) -> bool {
        match self {
            Group::Classic(g) => g.member(member_id).is_some(),
            Group::Consumer(g) => g.member(member_id).is_some_and(|m| m.assignment.member_epoch >= 0),
        }
    }
}

/// Where a request of the classic protocol goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassicRoute {
    /// To the consumer-protocol group that has members: it takes classic members in.
    ConsumerGroup,
    /// Refused (a version-2 link's rules): a classic member may not join a consumer-protocol
    /// group with members.
    RefuseJoin,
    /// To the classic coordinator (a group it never heard of answers as an empty one).
    Classic,
}

/// Where a request of the consumer protocol goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerRoute {
    /// Refused with this error, as by the classic group (or none) there.
    Refuse(GroupError),
    /// The classic group with members becomes a consumer-protocol group first (Kafka's
    /// `convertToConsumerGroup`): see [`Groups::convert_to_consumer`].
    Convert,
    /// To the consumer-protocol coordinator.
    Consumer,
}

/// Every group, by name.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    groups: VecMap<String, Group>,
}

impl Groups {
    pub fn get(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// The group, if it is on the classic protocol.
    pub fn classic(&self, name: &str) -> Option<&GroupCoordinator> {
        match self.groups.get(name) {
            Some(Group::Classic(g)) => Some(g),
            _ => None,
        }
    }

    pub fn classic_mut(&mut self, name: &str) -> Option<&mut GroupCoordinator> {
        match self.groups.get_mut(name) {
            Some(Group::Classic(g)) => Some(g),
            _ => None,
        }
    }

    /// The group, if it is on the consumer protocol.
    pub fn consumer(&self, name: &str) -> Option<&ConsumerGroup> {
        match self.groups.get(name) {
            Some(Group::Consumer(g)) => Some(g),
            _ => None,
        }
    }

    pub fn consumer_mut(&mut self, name: &str) -> Option<&mut ConsumerGroup> {
        match self.groups.get_mut(name) {
            Some(Group::Consumer(g)) => Some(g),
            _ => None,
        }
    }

    pub fn is_consumer(&self, name: &str) -> bool {
        self.consumer(name).is_some()
    }

    /// Every group, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Group)> {
        self.groups.iter().map(|(name, g)| (name.as_str(), g))
    }

    /// The classic groups, in name order.
    pub fn classic_groups(&self) -> impl Iterator<Item = (&str, &GroupCoordinator)> {
        self.iter().filter_map(|(name, g)| match g {
            Group::Classic(g) => Some((name, g)),
            Group::Consumer(_) => None,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.groups.keys()
    }

    /// A request of the classic protocol arrives for `group` (`keep`: a JoinGroup or an
    /// OffsetCommit, which make a group the coordinator keeps; `join`: a JoinGroup). A
    /// consumer-protocol group with members takes classic members in (Kafka 4's
    /// `classicGroup*ToConsumerGroup`) — unless `refuse_mixed` (a version-2 link's rules), when
    /// it refuses their joins; an empty one becomes classic, keeping its committed offsets.
    pub fn route_classic(&mut self, group: &str, keep: bool, join: bool, refuse_mixed: bool) -> ClassicRoute {
        let busy = self.consumer(group).is_some_and(|g| !g.members.is_empty());
        if busy && !refuse_mixed {
            return ClassicRoute::ConsumerGroup;
        }
        if keep && self.is_consumer(group) {
            if busy && join {
                return ClassicRoute::RefuseJoin;
            }
            if !busy {
                let mut g = GroupCoordinator::new(group);
                g.offsets = self.take_offsets(group);
                self.groups.insert(group.to_string(), Group::Classic(g));
            }
        }
        if keep && self.groups.get(group).is_none() {
            self.groups.insert(group.to_string(), Group::Classic(GroupCoordinator::new(group)));
        }
        ClassicRoute::Classic
    }

    /// A request of the consumer protocol arrives for `group` (`heartbeat`: a heartbeat, which
    /// joins at epoch 0 — `joining`). A join or an offset request makes the group, or converts
    /// a classic one: one with members must be converted ([`ConsumerRoute::Convert`]), an empty
    /// one keeps its committed offsets; a heartbeat at a later epoch finds no group
    /// (GROUP_ID_NOT_FOUND), as Kafka's `getOrMaybeCreateConsumerGroup` answers. Under a
    /// version-2 link's rules (`refuse_mixed`) a classic group with members refuses every
    /// consumer-protocol member instead, and a heartbeat for a group the coordinator does not
    /// keep makes it.
    pub fn route_consumer(&mut self, group: &str, heartbeat: bool, joining: bool, refuse_mixed: bool) -> ConsumerRoute {
        if self.is_consumer(group) {
            return ConsumerRoute::Consumer;
        }
        let busy = self.classic(group).is_some_and(|g| !g.members.is_empty());
        let refuse = if refuse_mixed {
            busy.then_some(GroupError::MixedProtocols)
        } else if busy && heartbeat && joining {
            return ConsumerRoute::Convert;
        } else if busy || !joining {
            Some(GroupError::GroupIdNotFound)
        } else {
            None
        };
        if let Some(error) = refuse {
            return ConsumerRoute::Refuse(error);
        }
        let mut g = ConsumerGroup::new(group);
        g.offsets = self.take_offsets(group);
        self.groups.insert(group.to_string(), Group::Consumer(g));
        ConsumerRoute::Consumer
    }

    /// Kafka's `convertToConsumerGroup`: the classic group with members becomes a
    /// consumer-protocol group at its generation, each member kept on the classic protocol.
    pub fn convert_to_consumer(&mut self, group: &str, ctx: &cg::Ctx, out: &mut cg::Out) {
        if let Some(Group::Classic(old)) = self.groups.remove(group) {
            self.groups.insert(group.to_string(), Group::Consumer(ConsumerGroup::from_classic(old, ctx, out)));
        }
    }

    /// Kafka's `convertToClassicGroup`: the consumer-protocol group becomes classic. Whether it
    /// did.
    pub fn convert_to_classic(&mut self, group: &str, ctx: &cg::Ctx) -> bool {
        match self.groups.remove(group) {
            Some(Group::Consumer(g)) => {
                self.groups.insert(group.to_string(), Group::Classic(g.into_classic(ctx)));
                true
            }
            Some(other) => {
                self.groups.insert(group.to_string(), other);
                false
            }
            None => false,
        }
    }

    /// The committed offsets of the group there was (empty if none), which is going away.
    fn take_offsets(&mut self, group: &str) -> GroupOffsets {
        match self.groups.remove(group) {
            Some(Group::Classic(g)) => g.offsets,
            Some(Group::Consumer(g)) => g.offsets,
            None => GroupOffsets::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The registry's rules, one request at a time: where each goes, and which group (with
    //! which offsets) it leaves behind.

    use super::*;
    use crate::sim::ids::{TopicId, Tp};

    fn with_offsets(mut g: Groups, name: &str) -> Groups {
        let tp = Tp { topic: TopicId(0), partition: 0 };
        match g.groups.get_mut(name) {
            Some(Group::Classic(c)) => c.offsets.commit(tp, 7),
            Some(Group::Consumer(c)) => c.offsets.commit(tp, 7),
            None => {}
        };
        g
    }

    fn offset(g: &Groups, name: &str) -> Option<u64> {
        g.get(name).and_then(|g| g.offsets().get(Tp { topic: TopicId(0), partition: 0 }))
    }

    #[test]
    fn a_join_or_a_commit_makes_a_classic_group_and_other_requests_make_none() {
        let mut g = Groups::default();
        assert_eq!(g.route_classic("a", false, false, false), ClassicRoute::Classic);
        assert!(g.get("a").is_none(), "a heartbeat for an unknown group is answered as by an empty one");
        assert_eq!(g.route_classic("a", true, true, false), ClassicRoute::Classic);
        assert!(g.classic("a").is_some());
    }

    #[test]
    fn an_empty_group_changes_protocol_keeping_its_offsets() {
        let mut g = Groups::default();
        g.route_classic("a", true, false, false);
        let mut g = with_offsets(g, "a");
        assert_eq!(g.route_consumer("a", true, true, false), ConsumerRoute::Consumer);
        assert_eq!((g.is_consumer("a"), offset(&g, "a")), (true, Some(7)));
        // And back, on a classic JoinGroup while it has no members.
        assert_eq!(g.route_classic("a", true, true, false), ClassicRoute::Classic);
        assert_eq!((g.classic("a").is_some(), offset(&g, "a")), (true, Some(7)));
    }

    #[test]
    fn one_group_per_name_whatever_the_rules() {
        let mut g = Groups::default();
        g.route_consumer("a", true, true, false);
        let from =
            crate::sim::coordinator::Client { consumer: crate::sim::ids::ConsumerId(0), inc: 0, name: "c".into() };
        let member = crate::sim::kafka::consumer_group::Member::new("m", &from, crate::sim::time::SimTime(0));
        g.consumer_mut("a").unwrap().members.push(member);
        // Kafka 4 takes classic members in...
        assert_eq!(g.route_classic("a", true, true, false), ClassicRoute::ConsumerGroup);
        // ...a version-2 link's rules refuse their joins, and a classic commit is answered as by
        // a group it does not know, leaving the consumer-protocol group as it is.
        assert_eq!(g.route_classic("a", true, true, true), ClassicRoute::RefuseJoin);
        assert_eq!(g.route_classic("a", true, false, true), ClassicRoute::Classic);
        assert!(g.is_consumer("a") && g.classic("a").is_none());
        // Under those rules too, an empty classic group changes protocol for a consumer-protocol
        // join (one with members refuses it: MIXED_PROTOCOLS).
        let mut g = Groups::default();
        g.route_classic("b", true, true, false);
        assert_eq!(g.route_consumer("b", true, true, true), ConsumerRoute::Consumer);
        assert!(g.is_consumer("b"));
    }

    #[test]
    fn a_heartbeat_past_epoch_0_finds_no_group_and_makes_none() {
        let mut g = Groups::default();
        assert_eq!(g.route_consumer("a", true, false, false), ConsumerRoute::Refuse(GroupError::GroupIdNotFound));
        assert!(g.get("a").is_none());
        // An offset fetch (not a heartbeat) makes it.
        assert_eq!(g.route_consumer("a", false, true, false), ConsumerRoute::Consumer);
        assert!(g.is_consumer("a"));
    }
}
