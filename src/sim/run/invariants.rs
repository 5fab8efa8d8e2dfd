//! Live invariants: what Kafka promises, watched event by event, each remembering the first
//! moment it broke.
//!
//! - no acknowledged record is lost (it can be, with `acks=1` or an unclean election): checked
//!   at leader elections, and from the producer's side — every acknowledgement names where its
//!   records are, and the leader's log must hold them there;
//! - each consumer reads a partition's offsets in order, without gaps (except where its position
//!   is set: an assignment, a reset);
//! - a partition has at most one owner per group and generation: the coordinator gives each
//!   partition of a generation to one member. Kafka promises no more. A consumer the group no
//!   longer counts as a member (removed while away from poll(), or a static member whose
//!   `group.instance.id` another consumer took) is a zombie: it may still be processing a
//!   partition that a member now owns, until its next poll(), and its commits are rejected. A
//!   consumer-protocol member gives partitions up from its background thread, even while its
//!   application still has records of them in hand: it finishes those, uncommitted.

use crate::sim::vecmap::VecMap;

use crate::sim::event::{Event, EventKind};
use crate::sim::{ConsumerStatus, Sim};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    NoAckedLoss,
    OrderKept,
    OneOwner,
}

impl Invariant {
    pub const ALL: [Invariant; 3] = [Invariant::NoAckedLoss, Invariant::OrderKept, Invariant::OneOwner];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::NoAckedLoss => "No acknowledged record lost",
            Invariant::OrderKept => "Order per partition kept",
            Invariant::OneOwner => "At most one owner per partition per group and generation",
        }
    }
}

/// The moment an invariant broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    pub at_ms: u64,
    /// Event count when it broke (orders violations; drops them on a fork).
    pub event_index: u64,
    pub text: String,
}

/// No position known yet for a consumer's partition.
const UNKNOWN: u64 = u64::MAX;

/// Watches a run's events in order.
#[derive(Clone, Debug, Default)]
pub struct Watcher {
    /// Where each consumer's next fetch of a partition must start: by consumer, then topic, then
    /// partition number. Nested so that a fetch finds its entry by name without a new key.
    next: VecMap<String, VecMap<String, Vec<u64>>>,
    violations: Vec<Violation>,
    /// How many of the model's acknowledgement findings were looked at.
    ack_findings_seen: usize,
}

impl Watcher {
    /// A watcher that takes up at `sim`'s present (after a fork): the positions consumers hold.
    pub fn resume(sim: &Sim, violations: Vec<Violation>) -> Watcher {
        let mut w = Watcher { next: VecMap::new(), violations, ack_findings_seen: sim.ack_findings().len() };
        for c in sim.consumers() {
            for (tp, pos) in c.process().iter().flat_map(|p| &p.positions) {
                let (topic, partition) = sim.tp_name(*tp);
                *w.next_of(&c.spec.name, &topic, partition) = *pos;
            }
        }
        w
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The first violation of `invariant`, if any.
    pub fn first(&self, invariant: Invariant) -> Option<&Violation> {
        self.violations.iter().find(|v| v.invariant == invariant)
    }

    fn broke(&mut self, invariant: Invariant, e: &Event, index: u64, text: String) {
        if self.first(invariant).is_none() {
            self.violations.push(Violation { invariant, at_ms: e.t, event_index: index, text });
        }
    }

    /// Looks at one event (`index`: the run's event count once it happened).
    pub fn observe(&mut self, e: &Event, index: u64) {
        match &e.kind {
            EventKind::LeaderElected { topic, partition, leader, lost_acked, unclean, .. } if *lost_acked > 0 => {
                let how = if *unclean { "an unclean election chose" } else { "the controller elected" };
                let text = format!(
                    "{lost_acked} acknowledged record(s) of {topic}-{partition} lost: {how} broker {} without them",
                    leader.map_or("none".to_string(), |b| b.to_string())
                );
                self.broke(Invariant::NoAckedLoss, e, index, text);
            }
            EventKind::PositionSet { consumer, topic, partition, offset, .. } => {
                *self.next_of(consumer, topic, *partition) = *offset;
            }
            EventKind::Fetched { consumer, ranges, .. } => {
                for r in ranges {
                    let next = self.next_of(consumer, &r.topic, r.partition);
                    let want = std::mem::replace(next, r.to);
                    if want != UNKNOWN && r.from != want {
                        let text = format!(
                            "{consumer} read {}-{} from offset {} where {want} was next",
                            r.topic, r.partition, r.from
                        );
                        self.broke(Invariant::OrderKept, e, index, text);
                    }
                }
            }
            _ => {}
        }
    }

    /// Where `consumer`'s next fetch of the partition must start ([`UNKNOWN`] until known),
    /// allocating keys only the first time a consumer or partition is seen.
    fn next_of(&mut self, consumer: &str, topic: &str, partition: u32) -> &mut u64 {
        if !self.next.contains_key(consumer) {
            self.next.insert(consumer.to_string(), VecMap::new());
        }
        let topics = self.next.get_mut(consumer).expect("inserted above");
        if !topics.contains_key(topic) {
            topics.insert(topic.to_string(), Vec::new());
        }
        let offsets = topics.get_mut(topic).expect("inserted above");
        let i = partition as usize;
        if offsets.len() <= i {
            offsets.resize(i + 1, UNKNOWN);
        }
        &mut offsets[i]
    }

    /// Checks the present state: no two members of a group own one partition by the same
    /// generation; and every acknowledgement producers received since the last check was found
    /// in the log.
    pub fn check_state(&mut self, sim: &Sim, at_ms: u64, index: u64) {
        if let Some(f) = sim.ack_findings().get(self.ack_findings_seen) {
            if self.first(Invariant::NoAckedLoss).is_none() {
                let v = Violation {
                    invariant: Invariant::NoAckedLoss,
                    at_ms: f.at_ms,
                    event_index: index,
                    text: f.text.clone(),
                };
                self.violations.push(v);
            }
        }
        self.ack_findings_seen = sim.ack_findings().len();
        if self.first(Invariant::OneOwner).is_some() {
            return;
        }
        // By group, then (generation, partition): this runs as the model moves, and a map of
        // every group's partitions together, filled consumer by consumer, would be filled out
        // of order (many groups with few members each); a group's own map seldom is.
        let mut owners: VecMap<&str, VecMap<(i32, crate::sim::Tp), &str>> = VecMap::new();
        let member = |c: &&crate::sim::consumer::Consumer| c.status == ConsumerStatus::Running && sim.knows_member(c);
        for c in sim.consumers().iter().filter(member) {
            let group = owners.entry(c.spec.group.as_str()).or_default();
            let Some(process) = c.process() else { continue };
            let generation = process.assignment_generation;
            for tp in &process.assignment {
                if let Some(other) = group.insert((generation, *tp), c.spec.name.as_str()) {
                    let (t, p) = sim.tp_name(*tp);
                    let text = format!(
                        "{other} and {} of {} both own {t}-{p} in generation {generation}",
                        c.spec.name, c.spec.group
                    );
                    self.violations.push(Violation { invariant: Invariant::OneOwner, at_ms, event_index: index, text });
                    return;
                }
            }
        }
    }

    /// Forgets what happened after event `index` (a fork).
    pub fn truncate(&mut self, index: u64) {
        self.violations.retain(|v| v.event_index <= index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::{Acks, ClusterSpec, ProducerSpec, TopicSpec};
    use crate::sim::ids::TopicId;
    use crate::sim::{Command, Scenario, SimTime, TimedCommand};

    #[test]
    fn a_fetch_that_skips_or_repeats_offsets_breaks_the_order_invariant() {
        use crate::sim::event::OffsetRange;
        let fetched = |t: u64, consumer: &str, partition: u32, from: u64, to: u64| Event {
            t,
            kind: EventKind::Fetched {
                consumer: consumer.into(),
                group: "g".into(),
                ranges: vec![OffsetRange { topic: "t".into(), partition, from, to }],
            },
        };
        let mut w = Watcher::default();
        let set = Event {
            t: 1,
            kind: EventKind::PositionSet {
                consumer: "c1".into(),
                group: "g".into(),
                topic: "t".into(),
                partition: 2,
                offset: 5,
                reason: "committed".into(),
            },
        };
        w.observe(&set, 1);
        w.observe(&fetched(2, "c1", 2, 5, 8), 2);
        w.observe(&fetched(3, "c1", 2, 8, 9), 3);
        w.observe(&fetched(4, "c2", 2, 0, 3), 4); // another consumer: its own positions
        w.observe(&fetched(5, "c1", 0, 7, 9), 5); // a partition first seen in a fetch
        assert!(w.first(Invariant::OrderKept).is_none(), "{:?}", w.violations());
        w.observe(&fetched(6, "c1", 2, 10, 12), 6);
        let v = w.first(Invariant::OrderKept).expect("offset 9 skipped");
        assert_eq!((v.at_ms, v.event_index), (6, 6));
        assert_eq!(v.text, "c1 read t-2 from offset 10 where 9 was next");
    }

    #[test]
    fn an_acks_1_loss_breaks_the_first_invariant_at_the_election() {
        let s = Scenario {
            cluster: ClusterSpec { brokers: 2, ..ClusterSpec::default() },
            topics: vec![TopicSpec { name: "t".into(), replication_factor: 2, ..TopicSpec::default() }],
            producers: vec![ProducerSpec {
                name: "p".into(),
                topic: "t".into(),
                acks: Acks::One,
                ..ProducerSpec::default()
            }],
            script: vec![TimedCommand { at: 1_000, command: Command::Produce { producer: "p".into(), count: 3 } }],
            ..Scenario::default()
        };
        let mut sim = Sim::new(&s, 1).unwrap();
        sim.keep_events(true);
        sim.run_until(SimTime(1_007));
        let leader = sim.partition(crate::sim::Tp { topic: TopicId(0), partition: 0 }).leader_broker().unwrap();
        sim.apply(Command::CrashBroker { broker: leader.0 });
        sim.run_until(SimTime(20_000));
        let mut w = Watcher::default();
        for (i, e) in sim.drain_events().iter().enumerate() {
            w.observe(e, i as u64 + 1);
        }
        let v = w.first(Invariant::NoAckedLoss).expect("broken");
        assert_eq!(v.at_ms, 1_007 + 9_000);
        assert!(v.text.starts_with("3 acknowledged record(s) of t-0 lost"), "{}", v.text);
        assert!(w.first(Invariant::OrderKept).is_none());
    }
}
