//! The assignors a broker runs for a consumer-protocol group (KIP-848, `group.consumer.assignors`),
//! as Kafka 4.x's group coordinator has them. Under this protocol the coordinator, not a group
//! leader, computes the target assignment each time the group epoch moves; members then reconcile
//! towards it ([`super::reconcile`]).
//!
//! - `range` (`RangeAssignor`, as rewritten for Kafka 3.9/4.0): members in order — static members
//!   first by `group.instance.id`, then the others by member id — each take a contiguous range of
//!   every topic they subscribe to, the first `partitions % subscribers` of them one partition
//!   more. Each topic is assigned on its own, so topics co-partition when every member subscribes
//!   to all of them and they have as many partitions. It is not sticky: a new member id moves
//!   ranges; a static member coming back with its instance id gets its range back.
//!
//! Subscriptions to topics that do not exist are left out before the assignor runs, as Kafka's
//! coordinator resolves names through its metadata image first.

use crate::sim::sort;
use crate::sim::vecmap::{VecMap, VecSet};

use super::assign::static_members_first;
use super::reconcile::Partitions;

/// A member as an assignor sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSpec {
    pub member_id: String,
    /// `group.instance.id`, for static members.
    pub instance_id: Option<String>,
    /// The topics it subscribes to, by name.
    pub topics: Vec<String>,
}

/// The target assignment: every member, with the partitions of each topic it is given.
pub type TargetAssignment = VecMap<String, Partitions>;

/// Kafka's `RangeAssignor.sortMemberIds`: the classic assignors' order ([`static_members_first`]).
fn range_order(members: &[MemberSpec]) -> Vec<&MemberSpec> {
    let mut order: Vec<&MemberSpec> = members.iter().collect();
    fn key(m: &MemberSpec) -> (&str, Option<&str>) {
        (&m.member_id, m.instance_id.as_deref())
    }
    sort::by(&mut order, |a, b| static_members_first(key(a), key(b)));
    order
}

/// The `range` assignor. `topics`: partition counts by topic name.
pub fn range(topics: &VecMap<String, u32>, members: &[MemberSpec]) -> TargetAssignment {
    // Per topic: how many members subscribe, and (as ranges are handed out) the next partition
    // and how many members are still to get one partition more.
    struct Topic {
        partitions: u32,
        subscribers: u32,
        next: u32,
        extra: u32,
    }
    let subscribes = |m: &MemberSpec, topic: &str| m.topics.iter().any(|t| t == topic);
    let mut state: VecMap<&String, Topic> = VecMap::new();
    for (name, &partitions) in topics.iter() {
        let subscribers = members.iter().filter(|m| subscribes(m, name)).count() as u32;
        if subscribers > 0 {
            state.insert(name, Topic { partitions, subscribers, next: 0, extra: partitions % subscribers });
        }
    }
    let mut out = TargetAssignment::new();
    for member in range_order(members) {
        let mut mine = Partitions::new();
        for (name, t) in state.iter_mut() {
            if !subscribes(member, name) || t.next >= t.partitions {
                continue;
            }
            let start = t.next;
            let mut end = (start + t.partitions / t.subscribers).min(t.partitions);
            if t.extra > 0 {
                end += 1;
                t.extra -= 1;
            }
            t.next = end;
            if end > start {
                mine.insert((*name).clone(), (start..end).collect::<VecSet<u32>>());
            }
        }
        out.insert(member.member_id.clone(), mine);
    }
    out
}

#[cfg(test)]
mod tests {
    //! The cases of Kafka's `RangeAssignorTest` (group-coordinator), topic ids as names.
    use super::*;

    fn topics(spec: &[(&str, u32)]) -> VecMap<String, u32> {
        spec.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn m(id: &str, instance: Option<&str>, subscribed: &[&str]) -> MemberSpec {
        MemberSpec {
            member_id: id.to_string(),
            instance_id: instance.map(str::to_string),
            topics: subscribed.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// A member's partitions per topic, as the tests write them.
    type Parts<'a> = &'a [(&'a str, &'a [u32])];

    fn expect(spec: &[(&str, Parts)]) -> TargetAssignment {
        spec.iter()
            .map(|(member, parts)| {
                (
                    member.to_string(),
                    parts.iter().map(|(t, ps)| (t.to_string(), ps.iter().copied().collect())).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_member_subscribed_to_nothing_gets_nothing() {
        assert_eq!(range(&topics(&[("t1", 3)]), &[m("A", None, &[])]), expect(&[("A", &[])]));
    }

    #[test]
    fn first_assignment_two_members_two_topics_same_subscriptions() {
        let got = range(&topics(&[("t1", 3), ("t3", 2)]), &[m("A", None, &["t1", "t3"]), m("B", None, &["t1", "t3"])]);
        assert_eq!(got, expect(&[("A", &[("t1", &[0, 1]), ("t3", &[0])]), ("B", &[("t1", &[2]), ("t3", &[1])])]));
    }

    #[test]
    fn first_assignment_three_members_three_topics_different_subscriptions() {
        let got = range(
            &topics(&[("t1", 3), ("t2", 3), ("t3", 2)]),
            &[m("A", None, &["t1", "t2"]), m("B", None, &["t3"]), m("C", None, &["t2", "t3"])],
        );
        assert_eq!(
            got,
            expect(&[
                ("A", &[("t1", &[0, 1, 2]), ("t2", &[0, 1])]),
                ("B", &[("t3", &[0])]),
                ("C", &[("t2", &[2]), ("t3", &[1])]),
            ])
        );
    }

    #[test]
    fn more_members_than_partitions() {
        let all = ["t1", "t3"];
        let got =
            range(&topics(&[("t1", 3), ("t3", 2)]), &[m("A", None, &all), m("B", None, &all), m("C", None, &all)]);
        assert_eq!(
            got,
            expect(&[
                ("A", &[("t1", &[0]), ("t3", &[0])]),
                ("B", &[("t1", &[1]), ("t3", &[1])]),
                ("C", &[("t1", &[2])])
            ])
        );
    }

    #[test]
    fn a_member_added_beyond_the_partitions_gets_nothing() {
        let all = ["t1", "t2"];
        let got =
            range(&topics(&[("t1", 2), ("t2", 2)]), &[m("A", None, &all), m("B", None, &all), m("C", None, &all)]);
        assert_eq!(
            got,
            expect(&[("A", &[("t1", &[0]), ("t2", &[0])]), ("B", &[("t1", &[1]), ("t2", &[1])]), ("C", &[])])
        );
    }

    #[test]
    fn a_static_member_back_with_a_new_member_id_gets_its_range_back() {
        let t = topics(&[("t1", 3)]);
        let first = range(&t, &[m("A", Some("instanceA"), &["t1"]), m("B", Some("instanceB"), &["t1"])]);
        let again = range(&t, &[m("A1", Some("instanceA"), &["t1"]), m("B", Some("instanceB"), &["t1"])]);
        assert_eq!(first["A"], again["A1"]);
        assert_eq!(first["B"], again["B"]);
    }

    #[test]
    fn mixed_static_membership_is_kept_when_a_static_member_comes_back() {
        let t = topics(&[("t1", 5)]);
        let first =
            range(&t, &[m("A", Some("instanceA"), &["t1"]), m("B", None, &["t1"]), m("C", Some("instanceC"), &["t1"])]);
        let again = range(
            &t,
            &[m("A1", Some("instanceA"), &["t1"]), m("B", None, &["t1"]), m("C", Some("instanceC"), &["t1"])],
        );
        assert_eq!(first["A"], again["A1"]);
        assert_eq!(first["B"], again["B"]);
        assert_eq!(first["C"], again["C"]);
        // Static members come first: A and C take the first ranges, B the last.
        assert_eq!(first, expect(&[("A", &[("t1", &[0, 1])]), ("B", &[("t1", &[4])]), ("C", &[("t1", &[2, 3])])]));
    }

    #[test]
    fn each_partition_goes_to_exactly_one_subscriber_and_counts_differ_by_one_at_most() {
        // Every topic, every group shape up to 5 members and 3 topics of up to 7 partitions.
        let names = ["t1", "t2", "t3"];
        for n in 1..=5u32 {
            for mask in 0..(1u32 << (3 * n)) {
                let members: Vec<MemberSpec> = (0..n)
                    .map(|i| {
                        let subs: Vec<&str> =
                            (0..3).filter(|t| mask >> (3 * i + t) & 1 == 1).map(|t| names[t as usize]).collect();
                        m(&format!("m{i}"), None, &subs)
                    })
                    .collect();
                let t = topics(&[("t1", 7), ("t2", 1), ("t3", 4)]);
                let got = range(&t, &members);
                for (name, &count) in t.iter() {
                    let subscribers: Vec<&MemberSpec> = members.iter().filter(|m| m.topics.contains(name)).collect();
                    let mut owners = vec![0u32; count as usize];
                    let mut sizes = Vec::new();
                    for s in &subscribers {
                        let ps = got[&s.member_id].get(name).map_or(0, |p| p.len());
                        sizes.push(ps);
                        for &p in got[&s.member_id].get(name).into_iter().flatten() {
                            owners[p as usize] += 1;
                        }
                    }
                    if subscribers.is_empty() {
                        assert!(got.values().all(|a| a.get(name).is_none()));
                    } else {
                        assert!(owners.iter().all(|&o| o == 1), "{name}: {owners:?} for {members:?}");
                        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
                    }
                }
            }
        }
    }
}
