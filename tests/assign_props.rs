//! Properties of the four assignors over random topics, subscriptions and previous owners.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use ksim::sim::assign::{assign, AssignInput, Subscription, TopicPartition};
use ksim::sim::config::Strategy as Assignor;
use proptest::prelude::*;

const TOPICS: [&str; 3] = ["alpha", "beta", "gamma"];

fn strategy() -> impl Strategy<Value = Assignor> {
    prop_oneof![
        Just(Assignor::Range),
        Just(Assignor::Roundrobin),
        Just(Assignor::Sticky),
        Just(Assignor::CooperativeSticky)
    ]
}

/// Topics with 1–8 partitions; members with non-empty subscriptions (all equal or each its own).
fn input() -> impl Strategy<Value = (AssignInput, bool)> {
    input_with(any::<bool>())
}

/// Inputs where every member subscribes to every topic.
fn equal_input() -> impl Strategy<Value = (AssignInput, bool)> {
    input_with(Just(true))
}

fn input_with(equal: impl Strategy<Value = bool>) -> impl Strategy<Value = (AssignInput, bool)> {
    (prop::collection::vec(1u32..=8, 1..=3), 1usize..=6, equal, prop::collection::vec(any::<u8>(), 6)).prop_map(
        |(sizes, members, equal, masks)| {
            let topics: ksim::sim::vecmap::VecMap<String, u32> =
                sizes.iter().enumerate().map(|(i, n)| (TOPICS[i].to_string(), *n)).collect();
            let names: Vec<String> = topics.keys().cloned().collect();
            let members = (0..members)
                .map(|i| {
                    let mask = if equal { 0xff } else { masks[i] };
                    let mut subs: Vec<String> = names
                        .iter()
                        .enumerate()
                        .filter(|(t, _)| mask & (1 << t) != 0)
                        .map(|(_, n)| n.clone())
                        .collect();
                    if subs.is_empty() {
                        subs.push(names[i % names.len()].clone());
                    }
                    (format!("consumer{}", i + 1), Subscription { topics: subs, ..Subscription::default() })
                })
                .collect();
            (AssignInput { topics, members }, equal)
        },
    )
}

fn all_partitions(input: &AssignInput) -> BTreeSet<TopicPartition> {
    let subscribed: BTreeSet<&String> = input.members.iter().flat_map(|(_, s)| s.topics.iter()).collect();
    input
        .topics
        .iter()
        .filter(|(t, _)| subscribed.contains(t))
        .flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every member is answered; a partition goes only to a subscriber, never to two members;
    /// eager assignors place every subscribed partition.
    #[test]
    fn each_subscribed_partition_is_assigned_exactly_once(s in strategy(), (input, _) in input()) {
        let a = assign(s, &input);
        prop_assert_eq!(a.len(), input.members.len());
        let mut seen = BTreeSet::new();
        for (member, tps) in &a {
            let sub = &input.members.iter().find(|(m, _)| m == member).unwrap().1;
            for tp in tps {
                prop_assert!(sub.topics.contains(&tp.0), "{} got {:?} without subscribing", member, tp);
                prop_assert!(seen.insert(tp.clone()), "{:?} assigned twice by {:?}", tp, s);
            }
        }
        prop_assert_eq!(seen, all_partitions(&input), "{:?} places every partition when nothing is owned", s);
    }

    /// With equal subscriptions, roundrobin and the sticky assignors balance to within one
    /// partition; range balances each topic.
    #[test]
    fn equal_subscriptions_are_balanced(s in strategy(), (input, _) in equal_input()) {
        let a = assign(s, &input);
        let spread = |counts: Vec<usize>| counts.iter().max().unwrap() - counts.iter().min().unwrap();
        if s == Assignor::Range {
            for t in input.topics.keys() {
                let per: Vec<usize> = a.values().map(|tps| tps.iter().filter(|tp| &tp.0 == t).count()).collect();
                prop_assert!(spread(per) <= 1, "range per topic {}", t);
            }
        } else {
            prop_assert!(spread(a.values().map(Vec::len).collect()) <= 1, "{:?}: {:?}", s, a);
        }
    }

    /// Sticky: when a member joins a balanced group, every old member keeps its partitions up to
    /// the new quota; cooperative withholds only partitions that change owner, and a second
    /// round hands them over.
    #[test]
    fn sticky_assignors_keep_what_members_owned((input, _) in equal_input(), cooperative in any::<bool>()) {
        prop_assume!(input.members.len() >= 2);
        let strategy = if cooperative { Assignor::CooperativeSticky } else { Assignor::Sticky };
        // Generation 1: all but the last member; then the last one joins.
        let mut first = input.clone();
        let newcomer = first.members.pop().unwrap();
        let gen1 = assign(strategy, &first);
        let mut second = input.clone();
        for (id, sub) in second.members.iter_mut() {
            sub.owned = gen1.get(id).cloned().unwrap_or_default();
            sub.generation = Some(1);
        }
        let gen2 = assign(strategy, &second);
        let total = all_partitions(&input).len();
        let min_quota = total / input.members.len();
        for (id, owned) in &gen1 {
            let kept = gen2[id].iter().filter(|tp| owned.contains(tp)).count();
            prop_assert!(kept >= owned.len().min(min_quota), "{} kept {} of {:?}: {:?}", id, kept, owned, gen2);
            if cooperative {
                prop_assert!(gen2[id].iter().all(|tp| owned.contains(tp)), "no one gains a moving partition in round one");
            }
        }
        if cooperative {
            prop_assert!(gen2[&newcomer.0].is_empty(), "the newcomer waits for revoked partitions");
            let mut third = input.clone();
            for (id, sub) in third.members.iter_mut() {
                sub.owned = gen2[id].clone();
                sub.generation = Some(2);
            }
            let gen3 = assign(strategy, &third);
            let placed: usize = gen3.values().map(Vec::len).sum();
            prop_assert_eq!(placed, total, "round two places everything");
            let counts: Vec<usize> = gen3.values().map(Vec::len).collect();
            prop_assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1);
        }
    }
}
