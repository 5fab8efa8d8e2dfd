//! Running the actors: each gets its message with what it may read of the rest of the model,
//! and what it recorded — messages, timers, events — is carried out in the order recorded: a
//! message travels the network (or the replication link), a timer is queued, an event traced.

use crate::sim::cluster::{Partition, View};
use crate::sim::consumer::{self, Consumer};
use crate::sim::coordinator::{self, Client, GroupCoordinator, Request, Timer};
use crate::sim::engine::{Action, Sim};
use crate::sim::ids::{ConsumerId, Tp};
use crate::sim::producer;
use crate::sim::replication;

impl Sim {
    // ----- group coordinators ----------------------------------------------------------------

    /// Hands a request to its group's coordinator and carries out what it did. A JoinGroup or an
    /// OffsetCommit makes a group the coordinator keeps; other requests for a group it never
    /// heard of are answered as by an empty one.
    pub(crate) fn deliver_to_coordinator(&mut self, group: &str, from: Client, request: Request) {
        let keep = matches!(request, Request::Join(_) | Request::OffsetCommit { .. });
        if keep && !self.groups.contains_key(group) {
            self.groups.insert(group.to_string(), GroupCoordinator::new(group));
        }
        let mut out = coordinator::Out { effects: std::mem::take(&mut self.scratch.coordinator) };
        let Sim { groups, rng, now, cluster, topic_names, .. } = self;
        let mut ctx = coordinator::Ctx {
            now: *now,
            initial_rebalance_delay_ms: cluster.group_initial_rebalance_delay_ms,
            rng,
            topics: topic_names,
            session_timeout_bounds: (cluster.group_min_session_timeout_ms, cluster.group_max_session_timeout_ms),
        };
        match groups.get_mut(group) {
            Some(g) => g.on_request(&mut ctx, from, request, &mut out),
            None => GroupCoordinator::new(group).on_request(&mut ctx, from, request, &mut out),
        }
        self.apply_coordinator(group, out);
    }

    pub(crate) fn coordinator_timer(&mut self, group: &str, timer: Timer) {
        let mut out = coordinator::Out { effects: std::mem::take(&mut self.scratch.coordinator) };
        let Sim { groups, rng, now, cluster, topic_names, .. } = self;
        let Some(g) = groups.get_mut(group) else { return };
        let mut ctx = coordinator::Ctx {
            now: *now,
            initial_rebalance_delay_ms: cluster.group_initial_rebalance_delay_ms,
            rng,
            topics: topic_names,
            session_timeout_bounds: (cluster.group_min_session_timeout_ms, cluster.group_max_session_timeout_ms),
        };
        g.on_timer(&mut ctx, timer, &mut out);
        self.apply_coordinator(group, out);
    }

    /// A coordinator took `group` over: it reloads it.
    pub(crate) fn coordinator_load(&mut self, group: &str) {
        let mut out = coordinator::Out { effects: std::mem::take(&mut self.scratch.coordinator) };
        let Sim { groups, rng, now, cluster, topic_names, .. } = self;
        let Some(g) = groups.get_mut(group) else { return };
        let ctx = coordinator::Ctx {
            now: *now,
            initial_rebalance_delay_ms: cluster.group_initial_rebalance_delay_ms,
            rng,
            topics: topic_names,
            session_timeout_bounds: (cluster.group_min_session_timeout_ms, cluster.group_max_session_timeout_ms),
        };
        g.on_loaded(&ctx, &mut out);
        self.apply_coordinator(group, out);
    }

    /// Carries out what a coordinator did, in order: answers travel the network, timers are
    /// queued, events recorded.
    fn apply_coordinator(&mut self, group: &str, mut out: coordinator::Out) {
        for effect in out.effects.drain(..) {
            match effect {
                coordinator::Effect::Reply { consumer, inc, reply } => {
                    self.after(self.latency(), Action::ToConsumer { consumer, inc, msg: consumer::Msg::Reply(reply) })
                }
                coordinator::Effect::Timer { at, timer } => {
                    self.push(at, Action::CoordinatorTimer { group: group.into(), timer })
                }
                coordinator::Effect::Event(kind) => self.emit(kind),
            }
        }
        // The buffer is kept for the next message (no allocation per message).
        self.scratch.coordinator = out.effects;
    }

    /// Lets consumer `c` handle something and carries out what it did.
    pub(crate) fn consumer_do(
        &mut self,
        c: ConsumerId,
        f: impl FnOnce(&mut Consumer, &mut consumer::Ctx, &mut consumer::Out),
    ) {
        let mut out = consumer::Out { effects: std::mem::take(&mut self.scratch.consumer) };
        let Sim { consumers, topics, brokers, client_counters, now, cluster, .. } = self;
        let mut ctx = consumer::Ctx {
            now: *now,
            id: c,
            latency: cluster.latency_ms,
            view: View { topics, brokers },
            client_ids: client_counters,
        };
        f(&mut consumers[c.ix()], &mut ctx, &mut out);
        self.apply_consumer(c, out);
    }

    /// Carries out what a consumer did, in order.
    fn apply_consumer(&mut self, consumer: ConsumerId, mut out: consumer::Out) {
        for effect in out.effects.drain(..) {
            match effect {
                consumer::Effect::ToCoordinator { group, from, request } => {
                    self.after(self.latency(), Action::ToCoordinator { group, from, request })
                }
                consumer::Effect::After { delay, inc, msg } => {
                    self.after(delay, Action::ToConsumer { consumer, inc, msg })
                }
                consumer::Effect::At { at, inc, msg } => self.push(at, Action::ToConsumer { consumer, inc, msg }),
                consumer::Effect::Park { tp, inc, fetch_id } => self.topics[tp.topic as usize].partitions
                    [tp.partition as usize]
                    .waiters
                    .push((consumer, inc, fetch_id)),
                consumer::Effect::Event(kind) => self.emit(kind),
                consumer::Effect::Processed { group, tp, from, to } => {
                    self.deliveries.entry(&group, tp).counts.add(from, to)
                }
                consumer::Effect::Positioned { group, tp, offset } => {
                    self.deliveries.entry(&group, tp).first_position.get_or_insert(offset);
                }
            }
        }
        // The buffer is kept for the next message (no allocation per message).
        self.scratch.consumer = out.effects;
    }

    // ----- partitions -------------------------------------------------------------------------

    /// Lets partition `tp` handle something and carries out what it did.
    pub(crate) fn partition_do<R>(
        &mut self,
        tp: Tp,
        f: impl FnOnce(&mut Partition, &replication::Ctx, &mut replication::Out) -> R,
    ) -> R {
        let mut out = replication::Out { effects: std::mem::take(&mut self.scratch.partition) };
        let Sim { topics, brokers, cluster, now, .. } = self;
        let topic = &mut topics[tp.topic as usize];
        let ctx = replication::Ctx {
            now: *now,
            tp,
            spec: &topic.spec,
            log_config: topic.log_config,
            brokers,
            latency: cluster.latency_ms,
            replica_lag_time_max_ms: cluster.replica_lag_time_max_ms,
            unclean_leader_election: cluster.unclean_leader_election,
        };
        let result = f(&mut topic.partitions[tp.partition as usize], &ctx, &mut out);
        self.apply_partition(tp, out);
        result
    }

    /// Carries out what a partition did, in order.
    fn apply_partition(&mut self, tp: Tp, mut out: replication::Out) {
        for effect in out.effects.drain(..) {
            match effect {
                replication::Effect::ToReplica { delay, replica, msg } => {
                    self.after(delay, Action::ToReplica { tp, replica, msg })
                }
                replication::Effect::Ack { producer, ack } => {
                    self.after(self.latency(), Action::ToProducer { producer, msg: producer::Msg::Acks(vec![ack]) })
                }
                replication::Effect::Failed { producer, batch, error, written } => {
                    self.produce_failed(producer, tp, batch, error, written)
                }
                replication::Effect::Event(kind) => self.emit(kind),
                replication::Effect::HighWatermarkMoved => self.wake_fetches(tp),
            }
        }
        // The buffer is kept for the next message (no allocation per message).
        self.scratch.partition = out.effects;
    }

    /// Consumer fetches parked at `tp` look again.
    fn wake_fetches(&mut self, tp: Tp) {
        let waiters = std::mem::take(&mut self.topics[tp.topic as usize].partitions[tp.partition as usize].waiters);
        for (c, inc, fetch_id) in waiters {
            if self.consumers[c.ix()].is_live(inc) {
                self.consumer_do(c, |con, ctx, out| con.on_partition_news(ctx, tp, fetch_id, out));
            }
        }
    }
}
