//! The `uniform` assignor a broker runs for a consumer-protocol group (KIP-848), the first of
//! `group.consumer.assignors` and so the default, as Kafka 4.x's group coordinator has it
//! (`UniformAssignor`). It aims for balance first — members' partition counts differ by one at
//! most — and stickiness second: a member keeps what its current target gives it as far as
//! balance allows. It is the broker-side heir of the classic `cooperative-sticky` assignor.
//!
//! Two builders, chosen by the group's subscriptions:
//! - every member subscribes to the same topics (`UniformHomogeneousAssignmentBuilder`): each
//!   member has a quota (`partitions / members`, the remainder one more each); it keeps its
//!   current partitions up to its quota and gives up the rest; a member that could not fill an
//!   extra slot from what it owns gives the slot up, and the slots left over go to the *last*
//!   members still short; then the free partitions are dealt out in order.
//! - otherwise (`UniformHeterogeneousAssignmentBuilder`): every member keeps all it owns of what
//!   it still subscribes to; free partitions go, topic by topic (most partitions per subscriber
//!   first), to the topic's least loaded subscribers; then, topic by topic, partitions move from
//!   the most to the least loaded subscribers until each topic's subscribers are within one —
//!   at most 16 rounds.
//!
//! Where Kafka iterates a hash map — member ids, and in the homogeneous builder the subscribed
//! topic ids — its order is arbitrary (member ids are random UUIDs). ksim fixes it: members in
//! ascending member id (the order Kafka's own tests use), topics by name, partitions ascending.
//! The heterogeneous builder orders topics by id where Kafka does; ksim by name.
//!
//! Subscriptions to topics that do not exist are left out, as the coordinator resolves names
//! through its metadata image before the assignor runs.

use crate::sim::sort;
use crate::sim::vecmap::{VecMap, VecSet};

use super::broker_assign::{MemberSpec, TargetAssignment};
use super::reconcile::Partitions;

/// Kafka's `MAX_ITERATION_COUNT` for the heterogeneous builder's balancing rounds.
const MAX_BALANCE_ROUNDS: usize = 16;

/// The `uniform` assignor. `topics`: partition counts by name; `members`: the group's members
/// and their subscriptions; `current`: the current target assignment (a member missing from it,
/// or a member that has just joined, owns nothing). Every member is in the result.
pub fn uniform(topics: &VecMap<String, u32>, members: &[MemberSpec], current: &TargetAssignment) -> TargetAssignment {
    let mut order: Vec<&MemberSpec> = members.iter().collect();
    sort::by(&mut order, |a, b| a.member_id.cmp(&b.member_id));
    let subscriptions: Vec<VecSet<&str>> =
        order.iter().map(|m| m.topics.iter().map(String::as_str).collect()).collect();
    // Kafka's ModernGroup.subscriptionType: homogeneous when every subscribed topic has every
    // member as a subscriber — by name, before existence is checked.
    let homogeneous = subscriptions.windows(2).all(|w| w[0] == w[1]);
    let group = Group::new(topics, &order, &subscriptions, current);
    let built = if homogeneous { group.homogeneous() } else { group.heterogeneous() };
    group.target(&order, built)
}

/// Per member, per topic (by index), its partitions.
type Table = Vec<Vec<Vec<u32>>>;

/// The assignor's input, members and topics numbered: members in their order, topics (those that
/// exist and someone subscribes to) by name.
struct Group<'a> {
    names: Vec<&'a str>,
    counts: Vec<u32>,
    /// Each member's subscribed topics, ascending.
    subscribed: Vec<Vec<usize>>,
    /// Each member's current assignment, by topic, of partitions that exist.
    owned: Table,
}

impl<'a> Group<'a> {
    fn new(
        all: &VecMap<String, u32>,
        order: &[&MemberSpec],
        subscriptions: &[VecSet<&'a str>],
        current: &TargetAssignment,
    ) -> Self {
        let mut names: Vec<&str> = subscriptions.iter().flatten().copied().filter(|t| all.contains_key(*t)).collect();
        sort::natural(&mut names);
        names.dedup();
        let counts: Vec<u32> = names.iter().map(|t| all[*t]).collect();
        let index = |t: &str| names.binary_search(&t).ok();
        let subscribed = subscriptions.iter().map(|s| s.iter().filter_map(|t| index(t)).collect()).collect();
        let owned = order
            .iter()
            .map(|m| {
                let mut mine = vec![Vec::new(); names.len()];
                for (t, ps) in current.get(&m.member_id).into_iter().flatten() {
                    if let Some(i) = index(t) {
                        mine[i] = ps.iter().copied().filter(|&p| p < counts[i]).collect();
                    }
                }
                mine
            })
            .collect();
        Group { names, counts, subscribed, owned }
    }

    /// The table as a target assignment: every member, its partitions by topic name.
    fn target(&self, order: &[&MemberSpec], table: Table) -> TargetAssignment {
        order
            .iter()
            .zip(table)
            .map(|(m, mine)| {
                let parts: Partitions = mine
                    .into_iter()
                    .enumerate()
                    .filter(|(_, ps)| !ps.is_empty())
                    .map(|(t, ps)| (self.names[t].to_string(), ps.into_iter().collect()))
                    .collect();
                (m.member_id.clone(), parts)
            })
            .collect()
    }

    fn empty(&self) -> Table {
        vec![vec![Vec::new(); self.names.len()]; self.subscribed.len()]
    }

    /// `UniformHomogeneousAssignmentBuilder`: every member subscribes to the same topics.
    fn homogeneous(&self) -> Table {
        let n = self.subscribed.len();
        let mut target = self.empty();
        let Some(topics) = self.subscribed.first().filter(|t| !t.is_empty()) else { return target };
        let mut unassigned: Vec<(usize, u32)> = Vec::new();
        let mut total = 0u64;
        for &t in topics {
            let taken = |p: u32| self.owned.iter().any(|o| o[t].contains(&p));
            unassigned.extend((0..self.counts[t]).filter(|&p| !taken(p)).map(|p| (t, p)));
            total += u64::from(self.counts[t]);
        }
        let minimum = total / n as u64;
        let mut extras = total % n as u64;

        // Keep what each member owns up to its quota; the rest is free again.
        let mut unfilled: Vec<(usize, u64)> = Vec::new();
        for (member, owned) in self.owned.iter().enumerate() {
            let mut quota = minimum;
            let mut has_extra = false;
            if extras > 0 {
                quota += 1;
                has_extra = true;
            }
            for &t in topics {
                for &p in &owned[t] {
                    if quota > 0 {
                        quota -= 1;
                        target[member][t].push(p);
                    } else {
                        unassigned.push((t, p));
                    }
                }
            }
            // A member that could not fill its extra slot from what it owns gives it up for
            // another member to claim.
            if quota > 0 && has_extra {
                quota -= 1;
                has_extra = false;
            }
            if quota == 0 && has_extra {
                extras -= 1;
            }
            if quota > 0 || (extras > 0 && !has_extra) {
                unfilled.push((member, quota));
            }
        }
        // The extra slots still unclaimed go to the last members short of partitions.
        for u in unfilled.iter_mut().rev() {
            if extras > 0 {
                extras -= 1;
                u.1 += 1;
            }
        }
        let mut free = unassigned.into_iter();
        for &(member, quota) in &unfilled {
            for (t, p) in free.by_ref().take(quota as usize) {
                target[member][t].push(p);
            }
        }
        debug_assert!(free.next().is_none(), "the quotas add up to every partition");
        target
    }

    /// `UniformHeterogeneousAssignmentBuilder`: members subscribe to different topics.
    fn heterogeneous(&self) -> Table {
        let n = self.subscribed.len();
        let topics = self.names.len();
        // Subscribers of each topic, ascending.
        let subscribers: Vec<Vec<usize>> =
            (0..topics).map(|t| (0..n).filter(|&m| self.subscribed[m].contains(&t)).collect()).collect();
        let mut b =
            Builder { owners: self.counts.iter().map(|&c| vec![None; c as usize]).collect(), sizes: vec![0; n] };
        // Keep everything owned of what is still subscribed.
        for (member, owned) in self.owned.iter().enumerate() {
            for &t in &self.subscribed[member] {
                for &p in &owned[t] {
                    b.assign(t, p, member);
                }
            }
        }
        // Topics by partitions per subscriber, descending; then subscribers, ascending; then name.
        let mut sorted: Vec<usize> = (0..topics).collect();
        sort::by(&mut sorted, |&a, &b| {
            let (pa, sa) = (u64::from(self.counts[a]), subscribers[a].len() as u64);
            let (pb, sb) = (u64::from(self.counts[b]), subscribers[b].len() as u64);
            (pb * sa).cmp(&(pa * sb)).then(sa.cmp(&sb)).then(a.cmp(&b))
        });

        // Deal out the free partitions to each topic's least loaded subscribers.
        let mut balancer = Balancer::default();
        for &t in &sorted {
            let free: Vec<u32> = (0..self.counts[t]).filter(|&p| b.owners[t][p as usize].is_none()).collect();
            if free.is_empty() {
                continue;
            }
            balancer.initialize(&subscribers[t], &b.sizes);
            for p in free {
                let member = balancer.next_least_loaded(&b.sizes);
                b.assign(t, p, member);
            }
        }

        // Balance the topics more than one member can take.
        let movable: Vec<usize> = sorted.into_iter().filter(|&t| subscribers[t].len() >= 2).collect();
        let mut last_moved: Option<usize> = None;
        'rounds: for _ in 0..MAX_BALANCE_ROUNDS {
            for (i, &t) in movable.iter().enumerate() {
                if last_moved == Some(i) {
                    // A whole round since the last move: nothing more can be improved.
                    break 'rounds;
                }
                let moved = b.balance_topic(t, &subscribers[t], &mut balancer);
                if moved > 0 || last_moved.is_none() {
                    last_moved = Some(i);
                }
            }
        }

        let mut target = self.empty();
        for (t, owners) in b.owners.iter().enumerate() {
            for (p, owner) in owners.iter().enumerate() {
                if let Some(m) = owner {
                    target[*m][t].push(p as u32);
                }
            }
        }
        target
    }
}

/// The heterogeneous builder's working state: each partition's owner (by topic index) and each
/// member's count.
struct Builder {
    owners: Vec<Vec<Option<usize>>>,
    sizes: Vec<u64>,
}

impl Builder {
    fn assign(&mut self, topic: usize, partition: u32, member: usize) {
        if let Some(old) = self.owners[topic][partition as usize].replace(member) {
            self.sizes[old] -= 1;
        }
        self.sizes[member] += 1;
    }

    /// Kafka's `balanceTopic`: moves the topic's partitions from its most to its least loaded
    /// subscribers until they are within one. Returns how many moved.
    fn balance_topic(&mut self, topic: usize, subscribers: &[usize], balancer: &mut Balancer) -> usize {
        if balancer.initialize(subscribers, &self.sizes) <= 1 {
            return 0;
        }
        // The partitions grouped by owner, and each owner's range among them.
        let owners = &self.owners[topic];
        let mut partitions: Vec<u32> = (0..owners.len() as u32).collect();
        sort::by_key(&mut partitions, |&p| (owners[p as usize], p));
        let mut ranges: Vec<Option<(usize, usize)>> = vec![None; self.sizes.len()];
        for (i, &p) in partitions.iter().enumerate() {
            if let Some(owner) = owners[p as usize] {
                ranges[owner].get_or_insert((i, i)).1 = i + 1;
            }
        }
        let mut moved = 0;
        while !balancer.is_balanced() {
            // The most loaded subscriber with a partition of this topic to give up.
            let mut giver = None;
            while let Some(m) = balancer.next_most_loaded(&self.sizes) {
                match ranges[m] {
                    Some((start, end)) if end > start => {
                        giver = Some(m);
                        break;
                    }
                    _ => balancer.exclude_most_loaded(),
                }
            }
            let Some(giver) = giver else { break };
            let range = ranges[giver].as_mut().expect("the giver has a range");
            range.1 -= 1;
            let partition = partitions[range.1];
            let taker = balancer.next_least_loaded(&self.sizes);
            if balancer.is_balanced() {
                break;
            }
            self.assign(topic, partition, taker);
            moved += 1;
        }
        moved
    }
}

/// Kafka's `MemberAssignmentBalancer`: a topic's subscribers sorted by partition count, with a
/// range of the least loaded (growing rightwards as they are given partitions) and one of the
/// most loaded (growing leftwards as they give partitions up). Counts are read live.
#[derive(Default)]
struct Balancer {
    sorted: Vec<usize>,
    least_end: usize,
    least_count: i64,
    next_least: usize,
    most_start: usize,
    most_end: usize,
    most_count: i64,
    next_most: isize,
}

impl Balancer {
    /// Starts on `members` (not empty); returns the spread of their counts.
    fn initialize(&mut self, members: &[usize], sizes: &[u64]) -> u64 {
        self.sorted.clear();
        self.sorted.extend_from_slice(members);
        sort::by_key(&mut self.sorted, |&m| (sizes[m], m));
        let n = self.sorted.len();
        let (low, high) = (sizes[self.sorted[0]], sizes[self.sorted[n - 1]]);
        self.least_end = 0;
        self.least_count = low as i64 - 1;
        self.next_least = 0;
        self.most_start = n;
        self.most_end = n;
        self.most_count = high as i64 + 1;
        self.next_most = n as isize - 1;
        high - low
    }

    fn count(&self, sizes: &[u64], at: usize) -> i64 {
        sizes[self.sorted[at]] as i64
    }

    /// The next member to give a partition to, assuming it is given one.
    fn next_least_loaded(&mut self, sizes: &[u64]) -> usize {
        if self.next_least >= self.least_end {
            // Each member of the range has had one: raise its level and widen it.
            self.least_count += 1;
            while self.least_end < self.sorted.len() && self.count(sizes, self.least_end) == self.least_count {
                self.least_end += 1;
            }
            self.next_least = 0;
        }
        let member = self.sorted[self.next_least];
        self.next_least += 1;
        member
    }

    /// The next member to take a partition from, assuming one is taken; `None` when none is left.
    fn next_most_loaded(&mut self, sizes: &[u64]) -> Option<usize> {
        if self.next_most < self.most_start as isize {
            if self.most_end <= self.most_start && self.most_start > 0 {
                // Emptied by exclusions: make sure the range widens below.
                self.most_count = self.count(sizes, self.most_start - 1);
            } else {
                self.most_count -= 1;
            }
            while self.most_start > 0 && self.count(sizes, self.most_start - 1) == self.most_count {
                self.most_start -= 1;
            }
            self.next_most = self.most_end as isize - 1;
        }
        if self.next_most < 0 {
            return None;
        }
        let member = self.sorted[self.next_most as usize];
        self.next_most -= 1;
        Some(member)
    }

    /// Drops the member `next_most_loaded` last returned from the most loaded range.
    fn exclude_most_loaded(&mut self) {
        let at = (self.next_most + 1) as usize;
        self.sorted.swap(at, self.most_end - 1);
        self.most_end -= 1;
    }

    fn is_balanced(&self) -> bool {
        self.most_count - self.least_count <= 1
    }
}

#[cfg(test)]
mod tests {
    //! The cases of Kafka's `UniformHomogeneousAssignmentBuilderTest` and
    //! `UniformHeterogeneousAssignmentBuilderTest` (group-coordinator, Kafka 4.x), members A, B, C
    //! as there, topics named so that ksim's order (by name) is the order Kafka's case runs in.
    use super::*;

    fn topics(spec: &[(&str, u32)]) -> VecMap<String, u32> {
        spec.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn m(id: &str, subscribed: &[&str]) -> MemberSpec {
        MemberSpec {
            member_id: id.to_string(),
            instance_id: None,
            topics: subscribed.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// A member's partitions per topic, as the tests write them.
    type Parts<'a> = &'a [(&'a str, &'a [u32])];

    fn assignment(spec: &[(&str, Parts)]) -> TargetAssignment {
        spec.iter()
            .map(|(member, parts)| {
                (
                    member.to_string(),
                    parts.iter().map(|(t, ps)| (t.to_string(), ps.iter().copied().collect())).collect(),
                )
            })
            .collect()
    }

    /// Runs one builder whatever the subscriptions, as Kafka's tests choose it.
    fn build(
        homogeneous: bool,
        t: &VecMap<String, u32>,
        members: &[MemberSpec],
        current: &TargetAssignment,
    ) -> TargetAssignment {
        let order: Vec<&MemberSpec> = members.iter().collect();
        let subs: Vec<VecSet<&str>> = order.iter().map(|m| m.topics.iter().map(String::as_str).collect()).collect();
        let group = Group::new(t, &order, &subs, current);
        let built = if homogeneous { group.homogeneous() } else { group.heterogeneous() };
        group.target(&order, built)
    }

    // ---- Homogeneous. Kafka iterates the set {topic1, topic2, topic3} by the hash of their ids:
    // topic2, topic3, topic1. Cases where that order decides name the topics `a2`, `b3`, `c1`;
    // cases where the order of a member's owned topics decides (insertion order there) keep `t1`,
    // `t2`.

    #[test]
    fn homogeneous_one_member_without_subscriptions_gets_nothing() {
        let got = uniform(&topics(&[("t1", 3)]), &[m("A", &[])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[])]));
    }

    #[test]
    fn a_subscription_to_a_topic_that_does_not_exist_gets_nothing() {
        // Kafka's coordinator never passes one: it resolves names through its metadata first.
        let got = uniform(&topics(&[("t1", 3)]), &[m("A", &["t2"])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[])]));
    }

    #[test]
    fn homogeneous_first_assignment_two_members_two_topics() {
        // The extra partition goes to the last member short of its quota.
        let t = topics(&[("c1", 3), ("b3", 2)]);
        let got = uniform(&t, &[m("A", &["c1", "b3"]), m("B", &["c1", "b3"])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[("b3", &[0, 1])]), ("B", &[("c1", &[0, 1, 2])])]));
    }

    #[test]
    fn homogeneous_more_members_than_partitions() {
        let all = ["b3"];
        let got = uniform(&topics(&[("b3", 2)]), &[m("A", &all), m("B", &all), m("C", &all)], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[]), ("B", &[("b3", &[0])]), ("C", &[("b3", &[1])])]));
    }

    #[test]
    fn homogeneous_reassignment_given_an_unbalanced_previous_assignment() {
        let all = ["t1", "t2"];
        let current = assignment(&[("A", &[("t1", &[0, 1]), ("t2", &[0, 1])]), ("B", &[("t1", &[2]), ("t2", &[2])])]);
        let got = uniform(&topics(&[("t1", 3), ("t2", 3)]), &[m("A", &all), m("B", &all)], &current);
        assert_eq!(
            got,
            assignment(&[("A", &[("t1", &[0, 1]), ("t2", &[0])]), ("B", &[("t1", &[2]), ("t2", &[1, 2])])])
        );
    }

    #[test]
    fn homogeneous_reassignment_when_partitions_are_added() {
        let all = ["c1", "a2"];
        let current = assignment(&[("A", &[("c1", &[0, 2]), ("a2", &[0])]), ("B", &[("c1", &[1]), ("a2", &[1, 2])])]);
        let got = uniform(&topics(&[("c1", 6), ("a2", 5)]), &[m("A", &all), m("B", &all)], &current);
        assert_eq!(
            got,
            assignment(&[
                ("A", &[("c1", &[0, 2]), ("a2", &[0, 3, 4])]),
                ("B", &[("c1", &[1, 3, 4, 5]), ("a2", &[1, 2])]),
            ])
        );
    }

    #[test]
    fn homogeneous_reassignment_when_a_member_is_added() {
        let all = ["t1", "t2"];
        let current = assignment(&[("A", &[("t1", &[0, 2]), ("t2", &[0])]), ("B", &[("t1", &[1]), ("t2", &[1, 2])])]);
        let got = uniform(&topics(&[("t1", 3), ("t2", 3)]), &[m("A", &all), m("B", &all), m("C", &all)], &current);
        assert_eq!(
            got,
            assignment(&[("A", &[("t1", &[0, 2])]), ("B", &[("t1", &[1]), ("t2", &[1])]), ("C", &[("t2", &[0, 2])]),])
        );
    }

    #[test]
    fn homogeneous_reassignment_when_a_member_is_removed() {
        let all = ["c1", "a2"];
        // C, which owned c1-2 and a2-2, has left.
        let current = assignment(&[("A", &[("c1", &[0]), ("a2", &[0])]), ("B", &[("c1", &[1]), ("a2", &[1])])]);
        let got = uniform(&topics(&[("c1", 3), ("a2", 3)]), &[m("A", &all), m("B", &all)], &current);
        assert_eq!(
            got,
            assignment(&[("A", &[("c1", &[0]), ("a2", &[0, 2])]), ("B", &[("c1", &[1, 2]), ("a2", &[1])])])
        );
    }

    #[test]
    fn homogeneous_reassignment_when_a_subscription_is_removed() {
        let current = assignment(&[("A", &[("t1", &[0]), ("t2", &[0])]), ("B", &[("t1", &[1]), ("t2", &[1])])]);
        let got = uniform(&topics(&[("t1", 2), ("t2", 2)]), &[m("A", &["t2"]), m("B", &["t2"])], &current);
        assert_eq!(got, assignment(&[("A", &[("t2", &[0])]), ("B", &[("t2", &[1])])]));
    }

    // ---- Heterogeneous. Kafka orders topics by id here, which is their names' order.

    #[test]
    fn heterogeneous_members_without_subscriptions_get_nothing() {
        let got = build(false, &topics(&[("t1", 3)]), &[m("A", &[]), m("B", &[])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[]), ("B", &[])]));
    }

    #[test]
    fn heterogeneous_first_assignment_two_members_two_topics() {
        let t = topics(&[("t1", 3), ("t3", 6)]);
        let got = uniform(&t, &[m("A", &["t1", "t3"]), m("B", &["t3"])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[("t1", &[0, 1, 2]), ("t3", &[4])]), ("B", &[("t3", &[0, 1, 2, 3, 5])])]));
    }

    #[test]
    fn heterogeneous_more_members_than_partitions() {
        let t = topics(&[("t1", 2), ("t3", 1)]);
        let got = uniform(&t, &[m("A", &["t3"]), m("B", &["t3"]), m("C", &["t1"])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[("t3", &[0])]), ("B", &[]), ("C", &[("t1", &[0, 1])])]));
    }

    #[test]
    fn heterogeneous_reassignment_given_an_unbalanced_previous_assignment() {
        let t = topics(&[("t1", 6), ("t2", 4), ("t3", 4)]);
        let current = assignment(&[
            ("A", &[("t1", &[0, 1, 2])]),
            ("B", &[("t1", &[3]), ("t2", &[0])]),
            ("C", &[("t1", &[4, 5]), ("t2", &[1, 2, 3]), ("t3", &[0, 1, 2, 3])]),
        ]);
        let got = uniform(&t, &[m("A", &["t1"]), m("B", &["t1", "t2"]), m("C", &["t1", "t2", "t3"])], &current);
        assert_eq!(
            got,
            assignment(&[
                ("A", &[("t1", &[0, 1, 2, 5])]),
                ("B", &[("t1", &[3]), ("t2", &[0, 1, 2, 3])]),
                ("C", &[("t1", &[4]), ("t3", &[0, 1, 2, 3])]),
            ])
        );
    }

    #[test]
    fn heterogeneous_reassignment_when_partitions_are_added() {
        let t = topics(&[("t1", 6), ("t2", 5), ("t3", 3), ("t4", 3)]);
        let current = assignment(&[
            ("A", &[("t1", &[0, 1, 2, 3]), ("t3", &[0, 1])]),
            ("B", &[("t2", &[0, 1, 2]), ("t4", &[0, 1, 2])]),
        ]);
        let got = uniform(&t, &[m("A", &["t1", "t3"]), m("B", &["t1", "t2", "t3", "t4"])], &current);
        assert_eq!(
            got,
            assignment(&[
                ("A", &[("t1", &[0, 1, 2, 3, 4, 5]), ("t3", &[0, 1, 2])]),
                ("B", &[("t2", &[0, 1, 2, 3, 4]), ("t4", &[0, 1, 2])]),
            ])
        );
    }

    #[test]
    fn heterogeneous_reassignment_when_a_member_and_partitions_are_added() {
        let t = topics(&[("t1", 6), ("t2", 7)]);
        let current = assignment(&[("A", &[("t1", &[0, 2]), ("t2", &[0])]), ("B", &[("t1", &[1]), ("t2", &[1, 2])])]);
        let got = uniform(&t, &[m("A", &["t1"]), m("B", &["t1", "t2"]), m("C", &["t1", "t2"])], &current);
        assert_eq!(
            got,
            assignment(&[
                ("A", &[("t1", &[0, 2, 3, 4, 5])]),
                ("B", &[("t1", &[1]), ("t2", &[1, 2, 6])]),
                ("C", &[("t2", &[0, 3, 4, 5])]),
            ])
        );
    }

    #[test]
    fn heterogeneous_reassignment_when_a_member_is_removed() {
        let t = topics(&[("t1", 3), ("t2", 8), ("t3", 3)]);
        let current = assignment(&[("A", &[("t1", &[0, 1, 2]), ("t3", &[0, 1])]), ("B", &[("t2", &[3, 4, 5, 6])])]);
        let got = uniform(&t, &[m("A", &["t1", "t3"]), m("B", &["t2"])], &current);
        assert_eq!(
            got,
            assignment(&[
                ("A", &[("t1", &[0, 1, 2]), ("t3", &[0, 1, 2])]),
                ("B", &[("t2", &[0, 1, 2, 3, 4, 5, 6, 7])])
            ])
        );
    }

    #[test]
    fn heterogeneous_reassignment_when_a_subscription_is_removed() {
        let t = topics(&[("t1", 3), ("t2", 5)]);
        let current =
            assignment(&[("A", &[("t1", &[0, 2]), ("t2", &[1, 3])]), ("B", &[("t1", &[1]), ("t2", &[0, 2, 4])])]);
        let got = uniform(&t, &[m("A", &["t1"]), m("B", &["t1", "t2"])], &current);
        assert_eq!(got, assignment(&[("A", &[("t1", &[0, 1, 2])]), ("B", &[("t2", &[0, 1, 2, 3, 4])])]));
    }

    #[test]
    fn heterogeneous_balancing_stops_when_a_topic_runs_out_of_partitions() {
        let t = topics(&[("t1", 2), ("t2", 2), ("t3", 2)]);
        let all = ["t1", "t2", "t3"];
        let current = assignment(&[("A", &[("t1", &[0, 1]), ("t2", &[0, 1]), ("t3", &[0, 1])]), ("B", &[])]);
        let got = build(false, &t, &[m("A", &all), m("B", &all)], &current);
        assert_eq!(
            got,
            assignment(&[("A", &[("t2", &[0]), ("t3", &[0, 1])]), ("B", &[("t1", &[0, 1]), ("t2", &[1])])])
        );
    }

    #[test]
    fn heterogeneous_first_assignment_with_a_member_without_subscriptions() {
        let got = uniform(&topics(&[("t1", 3)]), &[m("A", &["t1"]), m("B", &[])], &TargetAssignment::new());
        assert_eq!(got, assignment(&[("A", &[("t1", &[0, 1, 2])]), ("B", &[])]));
    }
}

/// Properties over any group: every subscribed partition to exactly one subscriber, balance,
/// and stability (the assignor run on its own result changes nothing).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 3] = ["t1", "t2", "t3"];

    /// Topics' partition counts, members' subscriptions (bit masks over the topics) and, per
    /// partition, a draw for who owns it now (a subscriber or nobody).
    fn group() -> impl Strategy<Value = (Vec<u32>, Vec<u8>, Vec<u8>)> {
        (
            proptest::collection::vec(1u32..=7, 3),
            proptest::collection::vec(0u8..8, 1..=5),
            proptest::collection::vec(any::<u8>(), 21),
        )
    }

    fn setup(counts: &[u32], masks: &[u8], draws: &[u8]) -> (VecMap<String, u32>, Vec<MemberSpec>, TargetAssignment) {
        let topics: VecMap<String, u32> = NAMES.iter().zip(counts).map(|(t, &n)| (t.to_string(), n)).collect();
        let members: Vec<MemberSpec> = masks
            .iter()
            .enumerate()
            .map(|(i, mask)| MemberSpec {
                member_id: format!("m{i}"),
                instance_id: None,
                topics: (0..3).filter(|b| mask >> b & 1 == 1).map(|b| NAMES[b].to_string()).collect(),
            })
            .collect();
        let mut current = TargetAssignment::new();
        let mut draw = draws.iter();
        for (t, &n) in topics.iter() {
            let subscribers: Vec<&MemberSpec> = members.iter().filter(|m| m.topics.contains(t)).collect();
            for p in 0..n {
                let d = *draw.next().unwrap() as usize;
                if let Some(owner) = subscribers.get(d % (subscribers.len() + 1)) {
                    current.entry(owner.member_id.clone()).or_default().entry(t.clone()).or_default().insert(p);
                }
            }
        }
        (topics, members, current)
    }

    fn size(p: &Partitions) -> usize {
        p.values().map(|ps| ps.len()).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn valid_balanced_and_stable((counts, masks, draws) in group()) {
            let (topics, members, current) = setup(&counts, &masks, &draws);
            let got = uniform(&topics, &members, &current);
            prop_assert_eq!(got.len(), members.len());
            for (t, &n) in topics.iter() {
                let subscribed = members.iter().any(|m| m.topics.contains(t));
                for p in 0..n {
                    let owners: Vec<&String> = got.iter().filter(|(_, a)| a.get(t).is_some_and(|ps| ps.contains(&p))).map(|(m, _)| m).collect();
                    prop_assert_eq!(owners.len(), usize::from(subscribed), "{}-{} owned by {:?}", t, p, owners);
                    for o in owners {
                        prop_assert!(members.iter().any(|m| &m.member_id == o && m.topics.contains(t)));
                    }
                }
            }
            // Balanced: no partition could move to one of its topic's subscribers with two fewer.
            for (owner, parts) in got.iter() {
                for t in parts.keys() {
                    for m in members.iter().filter(|m| m.topics.contains(t)) {
                        prop_assert!(size(&got[&m.member_id]) + 1 >= size(parts), "{} → {} in {:?}", owner, m.member_id, got);
                    }
                }
            }
            // Sticky: what it gives is what it gives again.
            prop_assert_eq!(uniform(&topics, &members, &got), got);
        }
    }
}
