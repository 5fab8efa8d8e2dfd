//! How a member of a consumer-protocol group (KIP-848, `group.protocol=consumer`) moves towards
//! its target assignment, one heartbeat at a time: the coordinator's `CurrentAssignmentBuilder`
//! as Kafka 4.x runs it (group-coordinator, `modern/consumer`), as a pure state machine.
//!
//! The coordinator computes a *target* assignment for every group epoch. A member does not jump
//! to it: partitions it must give up are first put *pending revocation* (it keeps its epoch and
//! waits until a heartbeat no longer reports them as owned), and partitions that another member
//! still owns are *unreleased* (it takes the others now and those when they are free). Members
//! not involved keep consuming throughout — there is no stop-the-world barrier as in the classic
//! protocol.
//!
//! Kafka 4.x's rules, checked against the cases of its `CurrentAssignmentBuilderTest`:
//! - `Stable`: a newer target epoch starts a reconciliation; otherwise nothing changes.
//! - `UnrevokedPartitions`: nothing moves while the member still reports owning a partition
//!   pending revocation (or reports nothing); once it does not, it moves on to the next epoch
//!   (its epoch plus one, never past the target's).
//! - `UnreleasedPartitions`: reconciles again, taking unreleased partitions once they are free.
//! - a topic the member no longer subscribes to counts as an empty target.
//!
//! The group's state (Empty, Assigning, Reconciling, Stable) follows from its epochs and its
//! members' ([`GroupState::of`]). Topics are named here, not identified by id; a member's
//! partitions per topic are sets.

use crate::sim::vecmap::{VecMap, VecSet};

/// Partitions per topic.
pub type Partitions = VecMap<String, VecSet<u32>>;

/// A member's reconciliation state, as Kafka's `MemberState` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberState {
    /// Its assignment is its target's (at its epoch).
    Stable,
    /// It must revoke partitions before it gets more; it keeps its epoch until it has.
    UnrevokedPartitions,
    /// It has reached the target epoch but waits for partitions other members still own.
    UnreleasedPartitions,
}

impl MemberState {
    /// Kafka's name for the state (`ConsumerGroupDescribe`, `kafka-consumer-groups.sh`).
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Stable => "STABLE",
            MemberState::UnrevokedPartitions => "UNREVOKED_PARTITIONS",
            MemberState::UnreleasedPartitions => "UNRELEASED_PARTITIONS",
        }
    }
}

/// What the coordinator keeps of a member's assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberAssignment {
    pub state: MemberState,
    pub member_epoch: i32,
    pub previous_member_epoch: i32,
    /// What the member has been given (and may own).
    pub assigned: Partitions,
    /// What it was asked to give up and has not yet been seen to.
    pub pending_revocation: Partitions,
}

impl MemberAssignment {
    /// A member that joins at epoch 0 with nothing.
    pub fn joining() -> MemberAssignment {
        MemberAssignment {
            state: MemberState::Stable,
            member_epoch: 0,
            previous_member_epoch: 0,
            assigned: Partitions::new(),
            pending_revocation: Partitions::new(),
        }
    }

    /// Kafka's `updateMemberEpoch`: the current epoch becomes the previous one.
    fn at_epoch(&self, state: MemberState, epoch: i32, assigned: Partitions, pending: Partitions) -> MemberAssignment {
        MemberAssignment {
            state,
            member_epoch: epoch,
            previous_member_epoch: self.member_epoch,
            assigned,
            pending_revocation: pending,
        }
    }

    /// Kafka's `isReconciledTo`: stable at the target assignment's epoch.
    pub fn is_reconciled_to(&self, target_epoch: i32) -> bool {
        self.state == MemberState::Stable && self.member_epoch == target_epoch
    }
}

/// A consumer-protocol group's state, as Kafka's `ConsumerGroupState` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// No members.
    Empty,
    /// The group epoch moved on (a member joined, left or changed its subscription) and the
    /// target assignment has not been computed for it yet.
    Assigning,
    /// The target is computed; some member has not reached it.
    Reconciling,
    /// Every member is stable at the target's epoch.
    Stable,
}

impl GroupState {
    /// Kafka's name for the state (`kafka-consumer-groups.sh --describe --state`).
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::Assigning => "Assigning",
            GroupState::Reconciling => "Reconciling",
            GroupState::Stable => "Stable",
        }
    }

    /// Kafka's `ConsumerGroup.maybeUpdateGroupState`, from the group epoch, the target
    /// assignment's epoch and the members.
    pub fn of<'a>(
        group_epoch: i32,
        target_epoch: i32,
        members: impl IntoIterator<Item = &'a MemberAssignment>,
    ) -> GroupState {
        let mut members = members.into_iter().peekable();
        if members.peek().is_none() {
            GroupState::Empty
        } else if group_epoch > target_epoch {
            GroupState::Assigning
        } else if members.all(|m| m.is_reconciled_to(target_epoch)) {
            GroupState::Stable
        } else {
            GroupState::Reconciling
        }
    }
}

/// What one step of reconciliation looks at besides the member.
pub struct Reconcile<'a> {
    /// The group's target assignment epoch and this member's part of it.
    pub target_epoch: i32,
    pub target: &'a Partitions,
    /// The topics the member subscribes to.
    pub subscribed: &'a [String],
    /// What the member's heartbeat says it owns (`None`: the heartbeat did not say).
    pub owned: Option<&'a Partitions>,
    /// Whether another member currently owns a partition (Kafka: its epoch is not -1).
    pub owned_by_other: &'a dyn Fn(&str, u32) -> bool,
}

/// One step: the member's next state, or the same one when it cannot move yet.
pub fn next(member: &MemberAssignment, r: &Reconcile) -> MemberAssignment {
    match member.state {
        MemberState::Stable if member.member_epoch != r.target_epoch => compute(member, r, member.member_epoch),
        MemberState::Stable => member.clone(),
        MemberState::UnrevokedPartitions if owns_any(r.owned, &member.pending_revocation) => member.clone(),
        MemberState::UnrevokedPartitions => {
            compute(member, r, member.member_epoch.saturating_add(1).min(r.target_epoch))
        }
        MemberState::UnreleasedPartitions => compute(member, r, member.member_epoch),
    }
}

/// Whether the heartbeat reports owning any of `revoking` (an unreported heartbeat counts as yes).
fn owns_any(owned: Option<&Partitions>, revoking: &Partitions) -> bool {
    let Some(owned) = owned else { return true };
    owned.iter().any(|(topic, ps)| revoking.get(topic).is_some_and(|rev| ps.iter().any(|p| rev.contains(p))))
}

/// Kafka's `computeNextAssignment`, at `epoch` (the member's, or the one it moves on to).
fn compute(member: &MemberAssignment, r: &Reconcile, epoch: i32) -> MemberAssignment {
    let empty = VecSet::new();
    let mut topics: VecSet<&String> = r.target.keys().collect();
    topics.extend(member.assigned.keys());

    let mut assigned = Partitions::new();
    let mut revoking = Partitions::new();
    let mut pending_assignment = Partitions::new();
    let mut unreleased = false;
    for topic in topics.iter() {
        let target =
            if r.subscribed.iter().any(|t| t == *topic) { r.target.get(*topic).unwrap_or(&empty) } else { &empty };
        let current = member.assigned.get(*topic).unwrap_or(&empty);
        let pending_here = member.pending_revocation.get(*topic);
        // Kept = current ∩ target; revoked = current − kept.
        let kept: VecSet<u32> = current.intersection(target).copied().collect();
        let revoke: VecSet<u32> = current.difference(&kept).copied().collect();
        // Given = target − kept, less what another member still owns (unless it is this
        // member's own partition pending revocation: only one member owns a partition at a time).
        let mut give = VecSet::new();
        for &p in target.difference(&kept) {
            if (r.owned_by_other)(topic, p) && !pending_here.is_some_and(|s| s.contains(&p)) {
                unreleased = true;
            } else {
                give.insert(p);
            }
        }
        for (map, set) in [(&mut assigned, kept), (&mut revoking, revoke), (&mut pending_assignment, give)] {
            if !set.is_empty() {
                map.insert((*topic).clone(), set);
            }
        }
    }

    if !revoking.is_empty() && owns_any(r.owned, &revoking) {
        // Revoke first: the member stays at `epoch` until it has let them go.
        return member.at_epoch(MemberState::UnrevokedPartitions, epoch, assigned, revoking);
    }
    for (topic, ps) in pending_assignment.iter() {
        assigned.entry(topic.clone()).or_default().extend(ps.iter().copied());
    }
    let state = if unreleased { MemberState::UnreleasedPartitions } else { MemberState::Stable };
    member.at_epoch(state, r.target_epoch, assigned, Partitions::new())
}

#[cfg(test)]
mod tests {
    //! The cases of Kafka's `CurrentAssignmentBuilderTest`, topic ids as names.
    use super::*;

    fn parts(spec: &[(&str, &[u32])]) -> Partitions {
        spec.iter().map(|(t, ps)| (t.to_string(), ps.iter().copied().collect())).collect()
    }

    fn member(
        state: MemberState,
        epoch: i32,
        previous: i32,
        assigned: &[(&str, &[u32])],
        pending: &[(&str, &[u32])],
    ) -> MemberAssignment {
        MemberAssignment {
            state,
            member_epoch: epoch,
            previous_member_epoch: previous,
            assigned: parts(assigned),
            pending_revocation: parts(pending),
        }
    }

    fn step(
        m: &MemberAssignment,
        epoch: i32,
        target: &[(&str, &[u32])],
        owned: Option<&[(&str, &[u32])]>,
        other: &dyn Fn(&str, u32) -> bool,
    ) -> MemberAssignment {
        let target = parts(target);
        let owned = owned.map(parts);
        let subscribed = ["t1".to_string(), "t2".to_string()];
        next(
            m,
            &Reconcile {
                target_epoch: epoch,
                target: &target,
                subscribed: &subscribed,
                owned: owned.as_ref(),
                owned_by_other: other,
            },
        )
    }

    const FREE: &dyn Fn(&str, u32) -> bool = &|_, _| false;
    const TAKEN: &dyn Fn(&str, u32) -> bool = &|_, _| true;
    use MemberState::*;

    #[test]
    fn stable_to_stable() {
        let m = member(Stable, 10, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]);
        let got = step(&m, 11, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], None, TAKEN);
        assert_eq!(got, member(Stable, 11, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]));
    }

    #[test]
    fn stable_to_stable_with_new_partitions() {
        let m = member(Stable, 10, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]);
        let got = step(&m, 11, &[("t1", &[1, 2, 3, 4]), ("t2", &[4, 5, 6, 7])], None, FREE);
        assert_eq!(got, member(Stable, 11, 10, &[("t1", &[1, 2, 3, 4]), ("t2", &[4, 5, 6, 7])], &[]));
    }

    #[test]
    fn stable_to_unrevoked_partitions() {
        let m = member(Stable, 10, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]);
        let got = step(&m, 11, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], None, FREE);
        assert_eq!(
            got,
            member(UnrevokedPartitions, 10, 10, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[("t1", &[1]), ("t2", &[4])])
        );
    }

    #[test]
    fn stable_to_unreleased_partitions() {
        let m = member(Stable, 10, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]);
        let got = step(&m, 11, &[("t1", &[1, 2, 3, 4]), ("t2", &[4, 5, 6, 7])], None, TAKEN);
        assert_eq!(got, member(UnreleasedPartitions, 11, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]));
    }

    #[test]
    fn stable_to_unreleased_when_the_revoked_partition_is_no_longer_owned() {
        let m = member(Stable, 10, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 6])], &[]);
        let t2_taken = |t: &str, _| t == "t2";
        let got = step(&m, 11, &[("t1", &[1, 2, 3]), ("t2", &[4, 5, 7])], Some(&[]), &t2_taken);
        assert_eq!(got, member(UnreleasedPartitions, 11, 10, &[("t1", &[1, 2, 3]), ("t2", &[4, 5])], &[]));
    }

    #[test]
    fn unrevoked_to_stable() {
        let m = member(UnrevokedPartitions, 10, 10, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[("t1", &[1]), ("t2", &[4])]);
        let got = step(&m, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], Some(&[("t1", &[2, 3]), ("t2", &[5, 6])]), FREE);
        assert_eq!(got, member(Stable, 11, 10, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]));
    }

    #[test]
    fn remains_in_unrevoked_partitions() {
        let m = member(UnrevokedPartitions, 10, 10, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[("t1", &[1]), ("t2", &[4])]);
        let target: &[(&str, &[u32])] = &[("t1", &[3]), ("t2", &[6])];
        assert_eq!(step(&m, 12, target, None, FREE), m);
        assert_eq!(step(&m, 12, target, Some(&[("t1", &[1, 2, 3]), ("t2", &[5, 6])]), FREE), m);
        assert_eq!(step(&m, 12, target, Some(&[("t1", &[2, 3]), ("t2", &[4, 5, 6])]), FREE), m);
    }

    #[test]
    fn unrevoked_to_unrevoked_moves_one_epoch_at_most_to_the_target() {
        for (epoch, target_epoch, expected) in [(10, 12, 11), (10, 10, 10)] {
            let m = member(
                UnrevokedPartitions,
                epoch,
                epoch,
                &[("t1", &[2, 3]), ("t2", &[5, 6])],
                &[("t1", &[1]), ("t2", &[4])],
            );
            let got =
                step(&m, target_epoch, &[("t1", &[3]), ("t2", &[6])], Some(&[("t1", &[2, 3]), ("t2", &[5, 6])]), FREE);
            assert_eq!(
                got,
                member(
                    UnrevokedPartitions,
                    expected,
                    epoch,
                    &[("t1", &[3]), ("t2", &[6])],
                    &[("t1", &[2]), ("t2", &[5])]
                )
            );
        }
    }

    #[test]
    fn unrevoked_to_unreleased_partitions() {
        let m = member(UnrevokedPartitions, 11, 10, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]);
        let got =
            step(&m, 11, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], Some(&[("t1", &[2, 3]), ("t2", &[5, 6])]), TAKEN);
        assert_eq!(got, member(UnreleasedPartitions, 11, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]));
    }

    #[test]
    fn unrevoked_to_stable_takes_back_its_own_partition_pending_revocation() {
        let m = member(UnrevokedPartitions, 10, 10, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[("t1", &[4])]);
        let owner = |t: &str, p: u32| matches!((t, p), ("t1", 2..=4) | ("t2", 5 | 6));
        let got =
            step(&m, 12, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], Some(&[("t1", &[2, 3]), ("t2", &[5, 6])]), &owner);
        assert_eq!(got, member(Stable, 12, 10, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], &[]));
    }

    #[test]
    fn unreleased_to_stable() {
        let m = member(UnreleasedPartitions, 11, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]);
        let got = step(&m, 12, &[("t1", &[2, 3]), ("t2", &[5, 6])], None, TAKEN);
        assert_eq!(got, member(Stable, 12, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]));
    }

    #[test]
    fn unreleased_to_stable_with_new_partitions() {
        let m = member(UnreleasedPartitions, 11, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]);
        let got = step(&m, 11, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], None, FREE);
        assert_eq!(got, member(Stable, 11, 11, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], &[]));
    }

    #[test]
    fn unreleased_stays_unreleased() {
        let m = member(UnreleasedPartitions, 11, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]);
        assert_eq!(step(&m, 11, &[("t1", &[2, 3, 4]), ("t2", &[5, 6, 7])], None, TAKEN), m);
    }

    #[test]
    fn unreleased_to_unrevoked_partitions() {
        let m = member(UnreleasedPartitions, 11, 11, &[("t1", &[2, 3]), ("t2", &[5, 6])], &[]);
        let got = step(&m, 12, &[("t1", &[3]), ("t2", &[6])], None, TAKEN);
        assert_eq!(
            got,
            member(UnrevokedPartitions, 11, 11, &[("t1", &[3]), ("t2", &[6])], &[("t1", &[2]), ("t2", &[5])])
        );
    }

    #[test]
    fn an_unsubscribed_topic_is_revoked() {
        let m = member(Stable, 10, 10, &[("t1", &[1]), ("t3", &[0])], &[]);
        let got = step(&m, 11, &[("t1", &[1]), ("t3", &[0])], None, FREE);
        assert_eq!(got, member(UnrevokedPartitions, 10, 10, &[("t1", &[1])], &[("t3", &[0])]));
    }

    #[test]
    fn a_joining_member_takes_its_free_partitions_at_once() {
        let got = step(&MemberAssignment::joining(), 1, &[("t1", &[0, 1, 2])], Some(&[]), FREE);
        assert_eq!(got, member(Stable, 1, 0, &[("t1", &[0, 1, 2])], &[]));
    }

    #[test]
    fn the_group_state_follows_its_epochs_and_members() {
        let stable = member(Stable, 3, 2, &[("t1", &[0])], &[]);
        let behind = member(Stable, 2, 2, &[("t1", &[0])], &[]);
        let revoking = member(UnrevokedPartitions, 3, 3, &[], &[("t1", &[1])]);
        assert_eq!(GroupState::of(3, 3, []), GroupState::Empty);
        assert_eq!(GroupState::of(4, 3, [&stable]), GroupState::Assigning);
        assert_eq!(GroupState::of(3, 3, [&stable, &behind]), GroupState::Reconciling);
        assert_eq!(GroupState::of(3, 3, [&stable, &revoking]), GroupState::Reconciling);
        assert_eq!(GroupState::of(3, 3, [&stable]), GroupState::Stable);
        assert_eq!(GroupState::Reconciling.name(), "Reconciling");
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// A group reconciling to a new target, its members heartbeating in any order: no
        /// partition is ever owned by two members at once, and every member reaches the target.
        #[test]
        fn members_converge_without_sharing_a_partition(
            before in proptest::collection::vec(proptest::option::of(0usize..4), 1..12),
            after in proptest::collection::vec(0usize..4, 12),
            order in proptest::collection::vec(0usize..4, 200),
        ) {
            let members = 4;
            let topic = "t1".to_string();
            let subscribed = [topic.clone()];
            let owned_set = |assign: &[Option<usize>], m: usize| -> Partitions {
                let ps: VecSet<u32> = (0..assign.len()).filter(|&p| assign[p] == Some(m)).map(|p| p as u32).collect();
                if ps.is_empty() { Partitions::new() } else { std::iter::once((topic.clone(), ps)).collect() }
            };
            let mut state: Vec<MemberAssignment> = (0..members)
                .map(|m| MemberAssignment { assigned: owned_set(&before, m), member_epoch: 1, previous_member_epoch: 1, ..MemberAssignment::joining() })
                .collect();
            // What each client owns. A client acts on a heartbeat's answer (revoking what it lost,
            // taking what it gained) only by the time it sends its next heartbeat.
            let mut owned: Vec<Partitions> = state.iter().map(|s| s.assigned.clone()).collect();
            let mut answered: Vec<Option<Partitions>> = vec![None; members];
            let target_of: Vec<Option<usize>> = (0..before.len()).map(|p| Some(after[p])).collect();
            let targets: Vec<Partitions> = (0..members).map(|m| owned_set(&target_of, m)).collect();
            for m in order.iter().copied().chain((0..members).cycle().take(8 * members)) {
                if let Some(assigned) = answered[m].take() {
                    owned[m] = assigned;
                }
                for p in 0..before.len() as u32 {
                    let holders = owned.iter().filter(|o| o.get("t1").is_some_and(|ps| ps.contains(&p))).count();
                    proptest::prop_assert!(holders <= 1, "partition {} owned by {} members", p, holders);
                }
                let holds = |s: &MemberAssignment, p: u32| {
                    [&s.assigned, &s.pending_revocation].iter().any(|a| a.get("t1").is_some_and(|ps| ps.contains(&p)))
                };
                let others: Vec<MemberAssignment> = state.iter().enumerate().filter(|(i, _)| *i != m).map(|(_, s)| s.clone()).collect();
                let other = |_: &str, p: u32| others.iter().any(|s| holds(s, p));
                let r = Reconcile { target_epoch: 2, target: &targets[m], subscribed: &subscribed, owned: Some(&owned[m]), owned_by_other: &other };
                state[m] = next(&state[m], &r);
                answered[m] = Some(state[m].assigned.clone());
            }
            for m in 0..members {
                proptest::prop_assert_eq!(state[m].state, MemberState::Stable);
                proptest::prop_assert_eq!(state[m].member_epoch, 2);
                proptest::prop_assert_eq!(&state[m].assigned, &targets[m]);
            }
        }
    }
}
