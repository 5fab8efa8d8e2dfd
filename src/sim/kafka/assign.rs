//! Kafka's four classic partition assignors — range, roundrobin, sticky and cooperative-sticky —
//! giving the same answers as the Java implementations (`RangeAssignor`, `RoundRobinAssignor`,
//! `AbstractStickyAssignor`, `CooperativeStickyAssignor`, without rack awareness).
//!
//! Where Kafka's result depends on the iteration order of a Java `HashMap` (the sticky assignor
//! walks members in hash-bucket order when it keeps previously owned partitions), that order is
//! reproduced: Java's `String.hashCode`, the `HashMap` bit spread and its table size.

use crate::sim::vecmap::{VecMap, VecSet};

use crate::sim::config::Strategy;
use crate::sim::sort;

/// A topic-partition by name, as assignors see it.
pub type TopicPartition = (String, u32);

/// One member's subscription as the group leader receives it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscription {
    pub topics: Vec<String>,
    /// `group.instance.id`, for static members.
    pub instance_id: Option<String>,
    /// What it owned in the previous generation (sticky assignors only).
    pub owned: Vec<TopicPartition>,
    /// The generation in which it owned them.
    pub generation: Option<i32>,
}

/// Partition counts per topic and the members' subscriptions, in the order the leader got them.
#[derive(Clone, Debug, Default)]
pub struct AssignInput {
    pub topics: VecMap<String, u32>,
    pub members: Vec<(String, Subscription)>,
}

/// The assignment per member id; every member is present.
pub type Assignment = VecMap<String, Vec<TopicPartition>>;

/// Runs the named assignor.
pub fn assign(strategy: Strategy, input: &AssignInput) -> Assignment {
    match strategy {
        Strategy::Range => range(input),
        Strategy::Roundrobin => round_robin(input),
        Strategy::Sticky => sticky(input, false),
        Strategy::CooperativeSticky => sticky(input, true),
    }
}

// ----- helpers shared by the assignors -----------------------------------------------------------

fn subscribed(sub: &Subscription, topic: &str) -> bool {
    sub.topics.iter().any(|t| t == topic)
}

/// Kafka's order of members for the range-style assignors, given (member id, instance id):
/// static members first, by `group.instance.id`; then dynamic members by member id.
/// (`AbstractPartitionAssignor.MemberInfo.compareTo` on the client; the same rule in the
/// coordinator's `RangeAssignor.sortMemberIds` for the consumer protocol.)
pub fn static_members_first(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> std::cmp::Ordering {
    match (a.1, b.1) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(b.0),
    }
}

/// The members in [`static_members_first`] order.
fn member_order<'a>(members: impl Iterator<Item = (&'a String, &'a Subscription)>) -> Vec<&'a String> {
    let mut v: Vec<(&String, &Subscription)> = members.collect();
    sort::by(&mut v, |(a_id, a), (b_id, b)| {
        static_members_first((a_id, a.instance_id.as_deref()), (b_id, b.instance_id.as_deref()))
    });
    v.into_iter().map(|(id, _)| id).collect()
}

fn empty_assignment(input: &AssignInput) -> Assignment {
    VecMap::from_iter(input.members.iter().map(|(id, _)| (id.clone(), Vec::new())))
}

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Java's `TopicPartition.hashCode`.
fn java_tp_hash(tp: &TopicPartition) -> i32 {
    let mut h: i32 = 1;
    h = h.wrapping_mul(31).wrapping_add(tp.1 as i32);
    h.wrapping_mul(31).wrapping_add(java_string_hash(&tp.0))
}

/// The table size of a `new HashMap<>()` after `max_size` insertions (16, doubling past 0.75).
fn java_table_size(max_size: usize) -> usize {
    let mut cap = 16;
    while max_size * 4 > cap * 3 {
        cap *= 2;
    }
    cap
}

/// Indices of `hashes` (given in insertion order) in the order a Java `HashMap` iterates them.
fn java_hash_order(hashes: &[i32], max_size: usize) -> Vec<usize> {
    let cap = java_table_size(max_size.max(hashes.len()));
    let bucket = |h: i32| {
        let h = h as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    };
    let mut idx: Vec<usize> = (0..hashes.len()).collect();
    sort::by_key(&mut idx, |&i| bucket(hashes[i])); // stable: insertion order within a bucket
    idx
}

// ----- range -------------------------------------------------------------------------------------

fn range(input: &AssignInput) -> Assignment {
    let mut out = empty_assignment(input);
    for (topic, &n) in &input.topics {
        let consumers = member_order(input.members.iter().filter(|(_, s)| subscribed(s, topic)).map(|(id, s)| (id, s)));
        if consumers.is_empty() {
            continue;
        }
        let c = consumers.len() as u32;
        let (per, extra) = (n / c, n % c);
        for (i, id) in consumers.iter().enumerate() {
            let i = i as u32;
            let start = per * i + i.min(extra);
            let len = per + u32::from(i < extra);
            out.get_mut(*id).expect("member").extend((start..start + len).map(|p| (topic.clone(), p)));
        }
    }
    out
}

// ----- roundrobin ------------------------------------------------------------------------------

fn round_robin(input: &AssignInput) -> Assignment {
    let mut out = empty_assignment(input);
    let members = member_order(input.members.iter().map(|(id, s)| (id, s)));
    if members.is_empty() {
        return out;
    }
    let subs: VecMap<&String, &Subscription> = VecMap::from_iter(input.members.iter().map(|(id, s)| (id, s)));
    let topics: VecSet<&String> = VecSet::from_iter(
        input.members.iter().flat_map(|(_, s)| s.topics.iter()).filter(|t| input.topics.contains_key(*t)),
    );
    let mut next = 0usize;
    for topic in topics {
        for p in 0..input.topics[topic] {
            while !subscribed(subs[members[next % members.len()]], topic) {
                next += 1;
            }
            out.get_mut(members[next % members.len()]).expect("member").push((topic.clone(), p));
            next += 1;
        }
    }
    out
}

// ----- sticky and cooperative-sticky ---------------------------------------------------------------

const DEFAULT_GENERATION: i32 = -1;

fn sticky(input: &AssignInput, cooperative: bool) -> Assignment {
    let all_topics: VecSet<&String> = VecSet::from_iter(input.topics.keys());
    let generation = |id: &str| {
        input.members.iter().find(|(m, _)| m == id).and_then(|(_, s)| s.generation).unwrap_or(DEFAULT_GENERATION)
    };

    // allSubscriptionsEqual: also resolves partitions claimed by two members.
    let mut equal = true;
    let first_topics: Option<VecSet<&String>> = input.members.first().map(|(_, s)| VecSet::from_iter(&s.topics));
    let mut owned: Vec<(String, Vec<TopicPartition>)> = Vec::new();
    let mut previous_owner: VecMap<TopicPartition, String> = VecMap::new();
    let mut multiply_claimed: VecSet<TopicPartition> = VecSet::new();
    let mut max_generation = DEFAULT_GENERATION;
    // Java iterates the subscriptions HashMap in bucket order.
    let hashes: Vec<i32> = input.members.iter().map(|(id, _)| java_string_hash(id)).collect();
    let order = java_hash_order(&hashes, input.members.len());
    for &i in &order {
        let (id, sub) = &input.members[i];
        let topics: VecSet<&String> = VecSet::from_iter(&sub.topics);
        if first_topics.as_ref().is_some_and(|f| *f != topics) {
            equal = false;
        }
        let gen = sub.generation.unwrap_or(DEFAULT_GENERATION);
        max_generation = max_generation.max(gen);
        owned.push((id.clone(), Vec::new()));
        for tp in &sub.owned {
            if !all_topics.contains(&tp.0) || tp.1 >= input.topics[&tp.0] {
                continue;
            }
            match previous_owner.get(tp).cloned() {
                None => {
                    owned.last_mut().expect("pushed").1.push(tp.clone());
                    previous_owner.insert(tp.clone(), id.clone());
                }
                Some(other) => {
                    let other_gen = generation(&other);
                    if gen == other_gen {
                        multiply_claimed.insert(tp.clone());
                        remove_tp(&mut owned, &other, tp);
                        previous_owner.insert(tp.clone(), id.clone());
                    } else if gen > other_gen {
                        owned.last_mut().expect("pushed").1.push(tp.clone());
                        remove_tp(&mut owned, &other, tp);
                        previous_owner.insert(tp.clone(), id.clone());
                    }
                }
            }
        }
    }

    let (assignment, transferring) = if equal {
        constrained_assign(input, &owned, &multiply_claimed)
    } else {
        let a = general_assign(input, owned, max_generation);
        (a, None)
    };
    let mut assignment = assignment;
    if cooperative {
        let transferring = transferring.unwrap_or_else(|| partitions_transferring_ownership(input, &assignment));
        for (tp, member) in transferring {
            if let Some(list) = assignment.get_mut(&member) {
                list.retain(|x| *x != tp);
            }
        }
    }
    assignment
}

fn remove_tp(owned: &mut [(String, Vec<TopicPartition>)], member: &str, tp: &TopicPartition) {
    if let Some((_, list)) = owned.iter_mut().find(|(m, _)| m == member) {
        list.retain(|x| x != tp);
    }
}

/// `CooperativeStickyAssignor.computePartitionsTransferringOwnership`.
fn partitions_transferring_ownership(input: &AssignInput, assignment: &Assignment) -> VecMap<TopicPartition, String> {
    let mut added: VecMap<TopicPartition, String> = VecMap::new();
    let mut revoked: VecSet<TopicPartition> = VecSet::new();
    for (id, sub) in &input.members {
        let assigned = &assignment[id];
        for tp in assigned {
            if !sub.owned.contains(tp) {
                added.insert(tp.clone(), id.clone());
            }
        }
        for tp in &sub.owned {
            if !assigned.contains(tp) {
                revoked.insert(tp.clone());
            }
        }
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}

/// `ConstrainedAssignmentBuilder` (all members subscribe to the same topics).
fn constrained_assign(
    input: &AssignInput,
    owned: &[(String, Vec<TopicPartition>)],
    multiply_claimed: &VecSet<TopicPartition>,
) -> (Assignment, Option<VecMap<TopicPartition, String>>) {
    let mut assignment = empty_assignment(input);
    let mut transferring: VecMap<TopicPartition, String> = VecMap::new();
    let subscribed_topics: VecSet<&String> = input
        .members
        .first()
        .map(|(_, s)| VecSet::from_iter(s.topics.iter().filter(|t| input.topics.contains_key(*t))))
        .unwrap_or_default();
    let total: u32 = subscribed_topics.iter().map(|t| input.topics[*t]).sum();
    let n = owned.len() as u32;
    if n == 0 {
        return (assignment, Some(transferring));
    }
    let (min_quota, max_quota) = (total / n, total.div_ceil(n));
    let expected_over = (total % n) as usize;
    let mut current_over = 0usize;
    let mut under_min: Vec<String> = Vec::new();
    let mut exactly_min: Vec<String> = Vec::new();
    let mut assigned: VecSet<TopicPartition> = VecSet::new();
    let mut revoked: VecSet<TopicPartition> = VecSet::new();

    // `owned` is already in the HashMap order Java iterates `currentAssignment` in.
    for (member, parts) in owned {
        let mut parts: Vec<TopicPartition> =
            parts.iter().filter(|tp| !multiply_claimed.contains(*tp)).cloned().collect();
        sort::by(&mut parts, |a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let mine = assignment.get_mut(member).expect("member");
        let size = parts.len() as u32;
        if size < min_quota {
            for tp in &parts {
                assigned.insert(tp.clone());
            }
            mine.extend(parts);
            under_min.push(member.clone());
        } else if size >= max_quota && current_over < expected_over {
            current_over += 1;
            if current_over == expected_over {
                exactly_min.clear();
            }
            for tp in &parts[..max_quota as usize] {
                assigned.insert(tp.clone());
            }
            revoked.extend(parts[max_quota as usize..].iter().cloned());
            mine.extend(parts[..max_quota as usize].iter().cloned());
        } else {
            for tp in &parts[..min_quota as usize] {
                assigned.insert(tp.clone());
            }
            revoked.extend(parts[min_quota as usize..].iter().cloned());
            mine.extend(parts[..min_quota as usize].iter().cloned());
            if current_over < expected_over {
                exactly_min.push(member.clone());
            }
        }
    }

    let unassigned: Vec<TopicPartition> = subscribed_topics
        .iter()
        .flat_map(|t| (0..input.topics[*t]).map(move |p| ((*t).clone(), p)))
        .filter(|tp| !assigned.contains(tp))
        .collect();
    sort::natural(&mut under_min);
    sort::natural(&mut exactly_min);

    // assignRoundRobin, with Java's iterator over the under-min list.
    let mut cursor = 0usize;
    for tp in unassigned {
        let member = if cursor < under_min.len() {
            cursor += 1;
            under_min[cursor - 1].clone()
        } else if under_min.is_empty() && exactly_min.is_empty() {
            // Kafka throws here; all partitions are always placeable when quotas are right.
            break;
        } else if under_min.is_empty() {
            exactly_min.remove(0)
        } else {
            cursor = 1;
            under_min[0].clone()
        };
        let mine = assignment.get_mut(&member).expect("member");
        mine.push(tp.clone());
        if revoked.contains(&tp) || multiply_claimed.contains(&tp) {
            transferring.insert(tp, member.clone());
        }
        let count = mine.len() as u32;
        if count == min_quota {
            // unfilledConsumerIter.remove(): the member last returned by the iterator.
            if let Some(pos) = under_min.iter().position(|m| *m == member) {
                under_min.remove(pos);
                if pos < cursor {
                    cursor -= 1;
                }
            }
            exactly_min.push(member);
        }
    }
    (assignment, Some(transferring))
}

/// `GeneralAssignmentBuilder` (members subscribe to different topics).
fn general_assign(input: &AssignInput, owned: Vec<(String, Vec<TopicPartition>)>, max_generation: i32) -> Assignment {
    let subs: VecMap<String, &Subscription> = VecMap::from_iter(input.members.iter().map(|(id, s)| (id.clone(), s)));
    let mut topic_consumers: VecMap<String, Vec<String>> =
        VecMap::from_iter(input.topics.keys().map(|t| (t.clone(), Vec::new())));
    let mut consumer_topics: VecMap<String, Vec<String>> = VecMap::new();
    for (id, sub) in &input.members {
        let topics: Vec<String> = sub.topics.iter().filter(|t| input.topics.contains_key(*t)).cloned().collect();
        for t in &topics {
            topic_consumers.get_mut(t).expect("known topic").push(id.clone());
        }
        consumer_topics.insert(id.clone(), topics);
    }
    let mut current: VecMap<String, Vec<TopicPartition>> = VecMap::from_iter(owned);
    for (id, _) in &input.members {
        current.entry(id.clone()).or_default();
    }
    let mut partition_consumer: VecMap<TopicPartition, String> = VecMap::new();
    for (id, parts) in &current {
        for tp in parts {
            partition_consumer.insert(tp.clone(), id.clone());
        }
    }
    let topic_key = |t: &String| (topic_consumers[t].len(), t.clone());
    let mut sorted_topics: Vec<String> = topic_consumers.keys().cloned().collect();
    sort::by_key(&mut sorted_topics, topic_key);
    let mut sorted_all: Vec<TopicPartition> =
        sorted_topics.iter().flat_map(|t| (0..input.topics[t]).map(move |p| (t.clone(), p))).collect();

    // prepopulateCurrentAssignments: owners from older generations.
    let mut prev: VecMap<TopicPartition, (String, i32)> = VecMap::new();
    for (id, sub) in &input.members {
        let gen = match sub.generation {
            Some(g) if g < max_generation => g,
            None if max_generation > DEFAULT_GENERATION => DEFAULT_GENERATION,
            _ => continue,
        };
        for tp in &sub.owned {
            if prev.get(tp).is_none_or(|(_, g)| gen > *g) {
                prev.insert(tp.clone(), (id.clone(), gen));
            }
        }
    }

    // assignOwnedPartitions.
    let mut revocation_required = false;
    let mut assigned: Vec<TopicPartition> = Vec::new();
    for (id, parts) in current.iter_mut() {
        let sub = subs[id];
        parts.retain(|tp| {
            if !topic_consumers.contains_key(&tp.0) {
                partition_consumer.remove(tp);
                false
            } else if !subscribed(sub, &tp.0) {
                revocation_required = true;
                false
            } else {
                assigned.push(tp.clone());
                true
            }
        });
    }
    let assigned: VecSet<TopicPartition> = VecSet::from_iter(assigned);
    let mut unassigned: Vec<TopicPartition> = sorted_all.iter().filter(|tp| !assigned.contains(*tp)).cloned().collect();

    let mut g = General {
        current,
        partition_consumer,
        topic_consumers,
        consumer_topics,
        partitions: input.topics.clone(),
        movements: Movements::default(),
        fixed: VecSet::new(),
    };

    // balance()
    let initializing = g.sorted_consumers().last().is_none_or(|c| g.current[c].is_empty());
    for tp in &unassigned {
        if g.topic_consumers[&tp.0].is_empty() {
            continue;
        }
        if let Some(c) = g.sorted_consumers().into_iter().find(|c| g.consumer_topics[c].contains(&tp.0)) {
            g.current.get_mut(&c).expect("member").push(tp.clone());
            g.partition_consumer.insert(tp.clone(), c);
        }
    }
    let fixed_topics: VecSet<String> =
        g.topic_consumers.iter().filter(|(_, cs)| cs.len() < 2).map(|(t, _)| t.clone()).collect();
    sorted_all.retain(|tp| !fixed_topics.contains(&tp.0));
    unassigned.retain(|tp| !fixed_topics.contains(&tp.0));
    let fixed: Vec<String> = g.consumer_topics.keys().filter(|c| !g.can_consumer_participate(c)).cloned().collect();
    g.fixed = VecSet::from_iter(fixed.iter().cloned());
    let pre_balance = g.current.clone();
    let pre_partition_consumer = g.partition_consumer.clone();
    if !revocation_required {
        g.perform_reassignments(&unassigned, &prev);
    }
    let performed = g.perform_reassignments(&sorted_all, &prev);
    if !initializing && performed && g.balance_score() >= balance_score_of(&pre_balance, &g.fixed) {
        g.current = pre_balance;
        g.partition_consumer = pre_partition_consumer;
    }
    let mut out = empty_assignment(input);
    for (id, parts) in g.current {
        out.insert(id, parts);
    }
    out
}

fn balance_score_of(a: &VecMap<String, Vec<TopicPartition>>, fixed: &VecSet<String>) -> i64 {
    let sizes: Vec<i64> = a.iter().filter(|(c, _)| !fixed.contains(*c)).map(|(_, v)| v.len() as i64).collect();
    let mut score = 0;
    for i in 0..sizes.len() {
        for j in i + 1..sizes.len() {
            score += (sizes[i] - sizes[j]).abs();
        }
    }
    score
}

/// A (source, destination) pair of consumers.
type ConsumerPair = (String, String);
/// Partitions in a Java `HashSet`: insertion order and the largest size it ever had.
type JavaSet = (Vec<TopicPartition>, usize);

/// Partition movements, to keep reassignments sticky (`PartitionMovements`).
#[derive(Default)]
struct Movements {
    by_partition: VecMap<TopicPartition, ConsumerPair>,
    /// topic → (src, dst) → the partitions moved that way.
    by_topic: VecMap<String, VecMap<ConsumerPair, JavaSet>>,
}

impl Movements {
    fn remove_record(&mut self, tp: &TopicPartition) -> (String, String) {
        let pair = self.by_partition.remove(tp).expect("recorded movement");
        let topic = self.by_topic.get_mut(&tp.0).expect("topic movements");
        let (set, _) = topic.get_mut(&pair).expect("pair movements");
        set.retain(|x| x != tp);
        if set.is_empty() {
            topic.remove(&pair);
        }
        if topic.is_empty() {
            self.by_topic.remove(&tp.0);
        }
        pair
    }

    fn add_record(&mut self, tp: &TopicPartition, pair: (String, String)) {
        self.by_partition.insert(tp.clone(), pair.clone());
        let (set, peak) = self.by_topic.entry(tp.0.clone()).or_default().entry(pair).or_default();
        set.push(tp.clone());
        *peak = (*peak).max(set.len());
    }

    fn move_partition(&mut self, tp: &TopicPartition, old: &str, new: &str) {
        if self.by_partition.contains_key(tp) {
            let existing = self.remove_record(tp);
            if existing.0 != new {
                self.add_record(tp, (existing.0, new.to_string()));
            }
        } else {
            self.add_record(tp, (old.to_string(), new.to_string()));
        }
    }

    fn actual_partition_to_move(&self, tp: &TopicPartition, old: &str, new: &str) -> TopicPartition {
        let Some(topic) = self.by_topic.get(&tp.0) else { return tp.clone() };
        let old = self.by_partition.get(tp).map_or(old.to_string(), |(src, _)| src.clone());
        match topic.get(&(new.to_string(), old)) {
            None => tp.clone(),
            Some((set, peak)) => {
                // `HashSet.iterator().next()`: the first in Java's bucket order.
                let hashes: Vec<i32> = set.iter().map(java_tp_hash).collect();
                set[java_hash_order(&hashes, *peak)[0]].clone()
            }
        }
    }
}

struct General {
    current: VecMap<String, Vec<TopicPartition>>,
    partition_consumer: VecMap<TopicPartition, String>,
    topic_consumers: VecMap<String, Vec<String>>,
    consumer_topics: VecMap<String, Vec<String>>,
    partitions: VecMap<String, u32>,
    movements: Movements,
    /// Consumers taken out of the reassignment (`fixedAssignments`).
    fixed: VecSet<String>,
}

impl General {
    /// `sortedCurrentSubscriptions`: by assignment size, then member id.
    fn sorted_consumers(&self) -> Vec<String> {
        let mut v: Vec<&String> = self.current.keys().filter(|c| !self.fixed.contains(*c)).collect();
        sort::by_key(&mut v, |c| (self.current[*c].len(), (*c).clone()));
        v.into_iter().cloned().collect()
    }

    fn size(&self, c: &str) -> usize {
        self.current[c].len()
    }

    fn max_assignment_size(&self, c: &str) -> usize {
        self.consumer_topics[c].iter().map(|t| self.partitions[t] as usize).sum()
    }

    fn can_topic_participate(&self, topic: &str) -> bool {
        self.topic_consumers[topic].len() >= 2
    }

    fn can_consumer_participate(&self, c: &str) -> bool {
        let size = self.size(c);
        size < self.max_assignment_size(c) || self.current[c].iter().any(|tp| self.can_topic_participate(&tp.0))
    }

    fn is_balanced(&self) -> bool {
        let sorted = self.sorted_consumers();
        let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else { return true };
        if self.size(first) + 1 >= self.size(last) {
            return true;
        }
        for c in &sorted {
            let count = self.size(c);
            if count == self.max_assignment_size(c) {
                continue;
            }
            for topic in &self.consumer_topics[c] {
                for p in 0..self.partitions[topic] {
                    let tp = (topic.clone(), p);
                    if self.current[c].contains(&tp) {
                        continue;
                    }
                    if let Some(other) = self.partition_consumer.get(&tp) {
                        if !self.fixed.contains(other) && count + 1 < self.size(other) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    fn balance_score(&self) -> i64 {
        balance_score_of(&self.current, &self.fixed)
    }

    fn perform_reassignments(
        &mut self,
        partitions: &[TopicPartition],
        prev: &VecMap<TopicPartition, (String, i32)>,
    ) -> bool {
        let mut performed = false;
        loop {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let Some(consumer) = self.partition_consumer.get(tp).cloned() else { continue };
                if self.fixed.contains(&consumer) {
                    continue;
                }
                if let Some((prev_consumer, _)) = prev.get(tp) {
                    if self.current.contains_key(prev_consumer)
                        && !self.fixed.contains(prev_consumer)
                        && self.size(&consumer) > self.size(prev_consumer) + 1
                    {
                        let target = prev_consumer.clone();
                        self.reassign_to(tp, &target);
                        performed = true;
                        modified = true;
                        continue;
                    }
                }
                let others = self.topic_consumers[&tp.0].clone();
                if others.iter().any(|o| self.current.contains_key(o) && self.size(&consumer) > self.size(o) + 1) {
                    let target = self
                        .sorted_consumers()
                        .into_iter()
                        .find(|c| self.consumer_topics[c].contains(&tp.0))
                        .expect("a subscribed consumer exists");
                    self.reassign_to(tp, &target);
                    performed = true;
                    modified = true;
                }
            }
            if !modified {
                return performed;
            }
        }
    }

    fn reassign_to(&mut self, tp: &TopicPartition, new: &str) {
        let old = self.partition_consumer[tp].clone();
        let actual = self.movements.actual_partition_to_move(tp, &old, new);
        let old = self.partition_consumer[&actual].clone();
        self.movements.move_partition(&actual, &old, new);
        self.current.get_mut(&old).expect("old owner").retain(|x| *x != actual);
        self.current.get_mut(new).expect("new owner").push(actual.clone());
        self.partition_consumer.insert(actual, new.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(topics: &[&str]) -> Subscription {
        Subscription { topics: topics.iter().map(|t| t.to_string()).collect(), ..Subscription::default() }
    }

    fn owning(topics: &[&str], owned: &[(&str, u32)], generation: i32) -> Subscription {
        Subscription {
            owned: owned.iter().map(|(t, p)| (t.to_string(), *p)).collect(),
            generation: Some(generation),
            ..sub(topics)
        }
    }

    fn input(topics: &[(&str, u32)], members: Vec<(&str, Subscription)>) -> AssignInput {
        AssignInput {
            topics: topics.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
            members: members.into_iter().map(|(id, s)| (id.to_string(), s)).collect(),
        }
    }

    fn tps(list: &[(&str, u32)]) -> Vec<TopicPartition> {
        list.iter().map(|(t, p)| (t.to_string(), *p)).collect()
    }

    fn sorted(mut v: Vec<TopicPartition>) -> Vec<TopicPartition> {
        sort::natural(&mut v);
        v
    }

    fn check(a: &Assignment, member: &str, want: &[(&str, u32)]) {
        assert_eq!(sorted(a[member].clone()), sorted(tps(want)), "{member} in {a:?}");
    }

    #[test]
    fn java_hashes_match_the_jvm() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // "hello".hashCode() == 99162322 and "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn hashmap_order_of_kafkas_test_member_names() {
        let names = ["consumer1", "consumer2", "consumer3"];
        let hashes: Vec<i32> = names.iter().map(|n| java_string_hash(n)).collect();
        let order: Vec<&str> = java_hash_order(&hashes, 3).into_iter().map(|i| names[i]).collect();
        assert_eq!(order, ["consumer3", "consumer2", "consumer1"]);
    }

    // The cases of ../shared/KAFKA_SEMANTICS.md §2, from Kafka's own assignor tests.

    /// topic1 = 3, topic2 = 2; consumer1 [topic1], consumer2 [topic1, topic2], consumer3 [topic1].
    fn different_subscriptions() -> AssignInput {
        input(
            &[("topic1", 3), ("topic2", 2)],
            vec![
                ("consumer1", sub(&["topic1"])),
                ("consumer2", sub(&["topic1", "topic2"])),
                ("consumer3", sub(&["topic1"])),
            ],
        )
    }

    #[test]
    fn case1_range_with_different_subscriptions() {
        let i = different_subscriptions();
        let a = assign(Strategy::Range, &i);
        check(&a, "consumer1", &[("topic1", 0)]);
        check(&a, "consumer2", &[("topic1", 1), ("topic2", 0), ("topic2", 1)]);
        check(&a, "consumer3", &[("topic1", 2)]);
    }

    #[test]
    fn case2_range_two_topics_two_consumers() {
        let both = || sub(&["topic1", "topic2"]);
        let i = input(&[("topic1", 3), ("topic2", 3)], vec![("consumer1", both()), ("consumer2", both())]);
        let a = assign(Strategy::Range, &i);
        check(&a, "consumer1", &[("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)]);
        check(&a, "consumer2", &[("topic1", 2), ("topic2", 2)]);
    }

    #[test]
    fn case3_range_static_members_first() {
        let st = |id: &str| Subscription { instance_id: Some(id.into()), ..sub(&["topic1", "topic2"]) };
        let i = input(
            &[("topic1", 5), ("topic2", 4)],
            vec![
                ("consumer1", st("instance1")),
                ("consumer2", st("instance2")),
                ("consumer3", st("instance3")),
                ("consumer4", sub(&["topic1", "topic2"])),
            ],
        );
        let a = assign(Strategy::Range, &i);
        check(&a, "consumer1", &[("topic1", 0), ("topic1", 1), ("topic2", 0)]);
        check(&a, "consumer2", &[("topic1", 2), ("topic2", 1)]);
        check(&a, "consumer3", &[("topic1", 3), ("topic2", 2)]);
        check(&a, "consumer4", &[("topic1", 4), ("topic2", 3)]);
    }

    #[test]
    fn case4_roundrobin_two_topics() {
        let both = || sub(&["topic1", "topic2"]);
        let i = input(&[("topic1", 3), ("topic2", 3)], vec![("consumer1", both()), ("consumer2", both())]);
        let a = assign(Strategy::Roundrobin, &i);
        check(&a, "consumer1", &[("topic1", 0), ("topic1", 2), ("topic2", 1)]);
        check(&a, "consumer2", &[("topic1", 1), ("topic2", 0), ("topic2", 2)]);
    }

    #[test]
    fn case5_roundrobin_skips_unsubscribed() {
        let i = input(
            &[("t0", 1), ("t1", 2), ("t2", 3)],
            vec![("C0", sub(&["t0"])), ("C1", sub(&["t0", "t1"])), ("C2", sub(&["t0", "t1", "t2"]))],
        );
        let a = assign(Strategy::Roundrobin, &i);
        check(&a, "C0", &[("t0", 0)]);
        check(&a, "C1", &[("t1", 0)]);
        check(&a, "C2", &[("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)]);
    }

    #[test]
    fn case6_sticky_fresh_with_different_subscriptions() {
        let i = different_subscriptions();
        let a = assign(Strategy::Sticky, &i);
        check(&a, "consumer1", &[("topic1", 0), ("topic1", 2)]);
        check(&a, "consumer2", &[("topic2", 0), ("topic2", 1)]);
        check(&a, "consumer3", &[("topic1", 1)]);
    }

    #[test]
    fn case7_sticky_keeps_owned_partitions() {
        let both = &["topic1", "topic2"];
        let i = input(
            &[("topic1", 2), ("topic2", 2)],
            vec![
                ("consumer1", owning(both, &[("topic1", 0), ("topic2", 0)], 1)),
                ("consumer2", owning(both, &[("topic1", 1), ("topic2", 1)], 1)),
                ("consumer3", sub(both)),
            ],
        );
        let a = assign(Strategy::Sticky, &i);
        check(&a, "consumer1", &[("topic1", 0)]);
        check(&a, "consumer2", &[("topic1", 1), ("topic2", 1)]);
        check(&a, "consumer3", &[("topic2", 0)]);
    }

    #[test]
    fn case8_doubly_claimed_partition_sticky_and_cooperative() {
        let t = &["topic"];
        let members = || {
            vec![
                ("consumer1", owning(t, &[("topic", 0), ("topic", 1)], 1)),
                ("consumer2", owning(t, &[("topic", 0), ("topic", 2)], 1)),
                ("consumer3", sub(t)),
            ]
        };
        let a = assign(Strategy::Sticky, &input(&[("topic", 3)], members()));
        check(&a, "consumer1", &[("topic", 1)]);
        check(&a, "consumer2", &[("topic", 2)]);
        check(&a, "consumer3", &[("topic", 0)]);
        let a = assign(Strategy::CooperativeSticky, &input(&[("topic", 3)], members()));
        check(&a, "consumer1", &[("topic", 1)]);
        check(&a, "consumer2", &[("topic", 2)]);
        check(&a, "consumer3", &[]);
    }

    #[test]
    fn case9_cooperative_four_partitions() {
        let t = &["topic"];
        let i = input(
            &[("topic", 4)],
            vec![
                ("consumer1", owning(t, &[("topic", 0), ("topic", 1)], 1)),
                ("consumer2", owning(t, &[("topic", 0), ("topic", 2)], 1)),
                ("consumer3", sub(t)),
            ],
        );
        let a = assign(Strategy::CooperativeSticky, &i);
        check(&a, "consumer1", &[("topic", 1), ("topic", 3)]);
        check(&a, "consumer2", &[("topic", 2)]);
        check(&a, "consumer3", &[]);
    }

    #[test]
    fn cooperative_withholds_a_moving_partition_for_one_round() {
        // Two members own 3 partitions each; a third joins: two partitions must move.
        let t = &["t"];
        let i = input(
            &[("t", 6)],
            vec![
                ("consumer1", owning(t, &[("t", 0), ("t", 1), ("t", 2)], 3)),
                ("consumer2", owning(t, &[("t", 3), ("t", 4), ("t", 5)], 3)),
                ("consumer3", sub(t)),
            ],
        );
        let eager = assign(Strategy::Sticky, &i);
        assert_eq!(eager["consumer3"].len(), 2);
        let coop = assign(Strategy::CooperativeSticky, &i);
        assert!(coop["consumer3"].is_empty(), "moving partitions are withheld: {coop:?}");
        assert_eq!(coop["consumer1"].len() + coop["consumer2"].len(), 4, "the movers are revoked first");
        // Second round: the revoked partitions are unowned and go to the newcomer.
        let owned = |m: &str| coop[m].iter().map(|(t, p)| (t.as_str(), *p)).collect::<Vec<_>>();
        let i2 = input(
            &[("t", 6)],
            vec![
                ("consumer1", owning(t, &owned("consumer1"), 4)),
                ("consumer2", owning(t, &owned("consumer2"), 4)),
                ("consumer3", owning(t, &[], 4)),
            ],
        );
        let round2 = assign(Strategy::CooperativeSticky, &i2);
        assert_eq!(round2["consumer3"].len(), 2, "{round2:?}");
        assert_eq!(round2["consumer1"], coop["consumer1"]);
        assert_eq!(round2["consumer2"], coop["consumer2"]);
    }
}
