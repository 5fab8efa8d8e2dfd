//! The brokers as the engine runs them: produce requests routed to partition leaders, messages
//! between replicas, the periodic ISR and retention checks, the controller (it notices a crashed
//! broker after `broker.session.timeout.ms`, fences it and moves leadership; a returning broker
//! re-registers), and group coordinators, which live on the leaders of `__consumer_offsets`
//! partitions and move with them (consumers find them again: [`super::network`]). What
//! happens inside one partition is [`crate::sim::replication`]'s.

use super::{Action, Sim};
use crate::sim::cluster::ClusterTimer;
use crate::sim::config::Acks;
use crate::sim::conn::Conn;
use crate::sim::coordinator::offsets_partition;
use crate::sim::event::EventKind;
use crate::sim::ids::{BrokerId, ProducerId, TopicId, Tp};
use crate::sim::kafka::controller::{self, Controller, Effect};
use crate::sim::producer::{self, SentBatch};
use crate::sim::replication::{Refused, Writer};
use rand::Rng;

impl Sim {
    // ----- placement -------------------------------------------------------------------------

    /// Replica lists for `partitions` partitions, as Kafka's rack-unaware assignment makes them
    /// (a random start and shift; no randomness with one broker).
    pub(crate) fn assign_replicas(&mut self, partitions: u32, rf: u32) -> Vec<Vec<BrokerId>> {
        let n = self.cluster.brokers;
        let (start, mut shift) =
            if n > 1 { (self.rng.random_range(0..n), self.rng.random_range(0..n)) } else { (0, 0) };
        (0..partitions)
            .map(|p| {
                if p > 0 && p % n == 0 {
                    shift += 1;
                }
                let first = (p + start) % n;
                let mut replicas = vec![BrokerId(first + 1)];
                for j in 0..rf.saturating_sub(1) {
                    let step = 1 + (shift + j) % (n - 1).max(1);
                    replicas.push(BrokerId((first + step) % n + 1));
                }
                replicas
            })
            .collect()
    }

    fn broker_alive(&self, id: BrokerId) -> bool {
        self.broker(id).alive
    }

    fn all_partitions(&self) -> Vec<Tp> {
        self.topics
            .iter()
            .enumerate()
            .flat_map(|(t, topic)| {
                (0..topic.spec.partitions).map(move |p| Tp { topic: TopicId(t as u32), partition: p })
            })
            .collect()
    }

    /// Whether consumers can read the partition now: it has a leader, that broker runs, and its
    /// high watermark has caught up with the start of its epoch.
    pub fn partition_readable(&self, tp: Tp) -> bool {
        let part = self.partition(tp);
        part.visible_high_watermark().is_some() && part.leader_broker().is_some_and(|b| self.broker_alive(b))
    }

    // ----- produce and replicate -------------------------------------------------------------

    /// The connection a produce request to a partition's leader goes on, if it has one (to a
    /// leader that is down as well: the partition refuses the batch, LeaderDown).
    pub(crate) fn leader_conn(&self, tp: Tp) -> Option<Conn> {
        self.partition(tp).leader_broker().map(|b| Conn { broker: b, inc: self.broker(b).inc })
    }

    /// A produce request reaches the leaders of its batches' partitions: the batches written at
    /// once are answered together.
    pub(crate) fn produce_arrive(&mut self, p: ProducerId, batches: Vec<(SentBatch, Option<Conn>)>) {
        let pr = &self.producers[p.ix()];
        let (topic, name, keyer, record_bytes) = (pr.topic, pr.spec.name.clone(), pr.keyer, pr.spec.record_bytes);
        let mut ready = Vec::new();
        let mut acks_zero = true;
        for (b, to) in batches {
            acks_zero &= b.acks == Acks::Zero;
            let tp = Tp { topic, partition: b.partition };
            let writer = Writer { index: p, name: &name, keyer, record_bytes };
            // A broker restarted since the request was sent closed the connection it was on.
            if let Some(c) = to.filter(|c| self.broker(c.broker).inc != c.inc) {
                self.produce_failed(p, b, Refused::LeaderDown(c.broker).text(), false);
                continue;
            }
            let to = to.map(|c| c.broker);
            match self.partition_do(tp, |part, ctx, out| part.append(ctx, writer, b, to, out)) {
                Ok(Some(ack)) => ready.push(ack),
                Ok(None) => {}
                Err(why) => self.produce_failed(p, b, why.text(), false),
            }
        }
        if !acks_zero && !ready.is_empty() {
            self.after(self.latency(), Action::ToProducer { producer: p, msg: producer::Msg::Acks(ready) });
        }
    }

    /// Every follower starts fetching from its leader.
    pub(crate) fn start_followers(&mut self) {
        for tp in self.all_partitions() {
            self.partition_do(tp, |part, ctx, out| part.start_followers(ctx, out));
        }
    }

    /// Leaders drop followers not caught up for `replica.lag.time.max.ms`; the check runs every
    /// half of it.
    pub(crate) fn isr_check(&mut self) {
        for tp in self.all_partitions() {
            self.partition_do(tp, |part, ctx, out| part.isr_check(ctx, out));
        }
        self.after((self.cluster.replica_lag_time_max_ms / 2).max(1), Action::Cluster(ClusterTimer::IsrCheck));
    }

    /// Every live broker applies retention to its own replicas.
    pub(crate) fn retention_check(&mut self) {
        for tp in self.all_partitions() {
            self.partition_do(tp, |part, ctx, out| part.apply_retention(ctx, out));
        }
        let every = self.cluster.retention_check_interval_ms.max(1);
        self.after(every, Action::Cluster(ClusterTimer::RetentionCheck));
    }

    // ----- brokers come and go: the controller -----------------------------------------------

    pub(crate) fn crash_broker(&mut self, broker: BrokerId) {
        self.controller_do(|c, out| c.crash(broker, out));
    }

    /// A crashed broker's session ran out (see [`crate::sim::kafka::controller`]).
    pub(crate) fn broker_fenced(&mut self, broker: BrokerId, inc: u32) {
        self.controller_do(|c, out| c.session_ran_out(broker, inc, out));
    }

    pub(crate) fn stop_broker(&mut self, broker: BrokerId) {
        self.controller_do(|c, out| c.stop(broker, out));
    }

    pub(crate) fn restart_broker(&mut self, broker: BrokerId) {
        self.controller_do(|c, out| c.restart(broker, out));
    }

    /// The preferred-leader check is due.
    pub(crate) fn leader_balance(&mut self) {
        self.controller_do(|c, out| c.balance_due(out));
    }

    fn controller_do(&mut self, f: impl FnOnce(&mut Controller, &mut controller::Out)) {
        let mut out = controller::Out::default();
        f(&mut self.controller, &mut out);
        self.apply_controller(out);
    }

    /// Carries out what the controller did, in order.
    fn apply_controller(&mut self, out: controller::Out) {
        for effect in out.effects {
            match effect {
                Effect::Event(kind) => self.emit(kind),
                Effect::CloseConnections(broker) => self.close_connections(broker),
                Effect::ReplicasDown(broker) => {
                    for tp in self.all_partitions() {
                        self.partition_do(tp, |part, _, out| part.on_broker_crashed(broker, out));
                    }
                }
                Effect::FencePartitions(broker) => {
                    for tp in self.all_partitions() {
                        self.partition_do(tp, |part, ctx, out| part.on_broker_fenced(ctx, broker, out));
                    }
                }
                Effect::ReplicasUp(broker) => {
                    for tp in self.all_partitions() {
                        self.partition_do(tp, |part, ctx, out| part.on_broker_restarted(ctx, broker, out));
                    }
                }
                Effect::ElectPreferred => {
                    for tp in self.all_partitions() {
                        self.partition_do(tp, |part, ctx, out| part.elect_preferred(ctx, out));
                    }
                }
                Effect::CoordinatorsMoved(moved) => self.coordinators_moved(&moved),
                // The engine never creates `__transaction_state` yet (no producer is transactional),
                // so the controller has no transaction coordinators to move.
                Effect::TransactionCoordinatorsMoved(_) => {}
                Effect::CheckBalance => {
                    let imbalanced = self.topics.iter().flat_map(|t| &t.partitions).any(|p| p.leader != Some(0));
                    self.controller_do(|c, out| c.balance_seen(imbalanced, out));
                }
                Effect::Continue(step) => self.controller_do(|c, out| c.continue_with(step, out)),
                Effect::Timer { after, timer } => self.after(after, Action::Cluster(timer)),
            }
        }
    }

    // ----- group coordinators ----------------------------------------------------------------

    /// The broker hosting `group`'s coordinator, if any broker can.
    pub fn coordinator_of(&self, group: &str) -> Option<BrokerId> {
        self.controller.offsets_leader(offsets_partition(group))
    }

    pub(crate) fn coordinator_available(&self, group: &str) -> bool {
        self.coordinator_conn(group).is_some()
    }

    /// These `__consumer_offsets` partitions have a new leader: groups whose coordinator moved
    /// carry on there.
    fn coordinators_moved(&mut self, moved: &[u32]) {
        let groups = self.group_names();
        for g in groups {
            if moved.contains(&offsets_partition(&g)) {
                let broker = self.coordinator_of(&g);
                self.emit(EventKind::CoordinatorMoved { group: g.as_str().into(), broker });
                if broker.is_some() {
                    // It reloads the group; consumers find it themselves (`network.rs`).
                    self.coordinator_load(&g);
                }
            }
        }
    }
}
