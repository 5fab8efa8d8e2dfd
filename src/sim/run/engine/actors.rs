//! Running the actors: each gets its message with what it may read of the rest of the model,
//! and what it recorded — messages, timers, events — is carried out in the order recorded: a
//! message travels the network (or the replication link), a timer is queued, an event traced.

use super::{Action, Sim};
use crate::sim::cluster::{Partition, View};
use crate::sim::conn::ToCoordinator;
use crate::sim::consumer::{self, Consumer};
use crate::sim::coordinator::{self, Client, GroupCoordinator, Request, Timer};
use crate::sim::ids::{ConsumerId, Tp};
use crate::sim::kafka::consumer_group::{self as cg, ConsumerGroup};
use crate::sim::kafka::groups::{ClassicRoute, ConsumerRoute, Groups};
use crate::sim::producer;
use crate::sim::replication;
use rand_chacha::ChaCha8Rng;

impl Sim {
    // ----- group coordinators ----------------------------------------------------------------

    /// Hands a request of the classic protocol to its group's coordinator — the classic one, or
    /// a consumer-protocol group with members, which takes classic members in (the registry's
    /// rules: [`crate::sim::kafka::groups`]) — and carries out what it did.
    pub(crate) fn deliver_to_coordinator(&mut self, group: &str, from: Client, request: Request) {
        let keep = matches!(request, Request::Join(_) | Request::OffsetCommit { .. });
        let join = matches!(request, Request::Join(_));
        match self.groups.route_classic(group, keep, join, self.refuse_mixed_groups) {
            ClassicRoute::ConsumerGroup => {
                self.consumer_group_do_rng(group, |g, ctx, rng, out| g.on_classic(ctx, rng, from, request, out));
            }
            ClassicRoute::RefuseJoin => {
                let reply = coordinator::Reply::Join(coordinator::JoinResponse::MixedProtocols);
                self.after(
                    self.latency(),
                    Action::ToConsumer { consumer: from.consumer, inc: from.inc, msg: consumer::Msg::Reply(reply) },
                );
            }
            ClassicRoute::Classic => self.coordinator_do(group, |g, ctx, out| match g {
                Some(g) => g.on_request(ctx, from, request, out),
                None => GroupCoordinator::new(group).on_request(ctx, from, request, out),
            }),
        }
    }

    pub(crate) fn coordinator_timer(&mut self, group: &str, timer: Timer) {
        self.coordinator_do(group, |g, ctx, out| {
            if let Some(g) = g {
                g.on_timer(ctx, timer, out)
            }
        });
    }

    /// A coordinator took `group` over: it reloads it.
    pub(crate) fn coordinator_load(&mut self, group: &str) {
        if self.groups.is_consumer(group) {
            return self.consumer_group_do(group, |g, ctx, out| g.on_loaded(ctx, out));
        }
        self.coordinator_do(group, |g, ctx, out| {
            if let Some(g) = g {
                g.on_loaded(ctx, out)
            }
        });
    }

    /// Lets `group`'s classic coordinator (`None` when it keeps no such group) handle something,
    /// and carries out what it did.
    fn coordinator_do(
        &mut self,
        group: &str,
        f: impl FnOnce(Option<&mut GroupCoordinator>, &mut coordinator::Ctx, &mut coordinator::Out),
    ) {
        let mut out = coordinator::Out { effects: std::mem::take(&mut self.scratch.coordinator) };
        let Sim { groups, rng, now, cluster, topic_names, .. } = self;
        let groups = groups.classic_mut(group);
        let mut ctx = coordinator::Ctx {
            now: *now,
            initial_rebalance_delay_ms: cluster.group_initial_rebalance_delay_ms,
            rng,
            topics: topic_names,
            session_timeout_bounds: (cluster.group_min_session_timeout_ms, cluster.group_max_session_timeout_ms),
        };
        f(groups, &mut ctx, &mut out);
        self.apply_coordinator(group, out);
    }

    /// Hands a request to its group's consumer-protocol coordinator, after the registry made or
    /// converted the group as Kafka 4 does ([`crate::sim::kafka::groups`]); a request it refuses
    /// is answered as the group there (or none) answers it.
    pub(crate) fn deliver_to_group_coordinator(&mut self, group: &str, from: Client, request: cg::Request) {
        let (heartbeat, joining) = match &request {
            cg::Request::Heartbeat(h) => (true, h.member_epoch == 0),
            _ => (false, true),
        };
        match self.groups.route_consumer(group, heartbeat, joining, self.refuse_mixed_groups) {
            ConsumerRoute::Refuse(error) => {
                let offsets = self.groups.get(group).map(|g| g.offsets());
                let reply = match request {
                    cg::Request::Heartbeat(_) => cg::Reply::Heartbeat(Err(error)),
                    cg::Request::OffsetCommit { purpose, .. } => {
                        cg::Reply::OffsetCommit { purpose, result: Err(error) }
                    }
                    // A member of no group here (Kafka's classic group refuses a member id it
                    // does not know); a client outside any group reads what is committed.
                    cg::Request::OffsetFetch { member_id, partitions, .. } if !member_id.is_empty() => {
                        cg::Reply::OffsetFetch { result: Err((partitions, cg::GroupError::UnknownMemberId)) }
                    }
                    cg::Request::OffsetFetch { partitions, .. } => cg::Reply::OffsetFetch {
                        result: Ok(partitions.iter().map(|tp| (*tp, offsets.and_then(|o| o.get(*tp)))).collect()),
                    },
                };
                let msg = consumer::Msg::GroupReply(reply);
                self.after(self.latency(), Action::ToConsumer { consumer: from.consumer, inc: from.inc, msg });
                return;
            }
            ConsumerRoute::Convert => {
                // Kafka's convertToConsumerGroup: its members stay, on the classic protocol.
                self.groups_do(group, |groups, ctx, _, out| groups.convert_to_consumer(group, ctx, out));
            }
            ConsumerRoute::Consumer => {}
        }
        self.consumer_group_do(group, |g, ctx, out| g.on_request(ctx, from, request, out));
    }

    pub(crate) fn group_coordinator_timer(&mut self, group: &str, timer: cg::Timer) {
        self.consumer_group_do(group, |g, ctx, out| g.on_timer(ctx, timer, out));
    }

    /// Lets the consumer-protocol coordinator of `group` (if the group is on that protocol)
    /// handle something and carries out what it did.
    fn consumer_group_do(&mut self, group: &str, f: impl FnOnce(&mut ConsumerGroup, &cg::Ctx, &mut cg::Out)) {
        self.consumer_group_do_rng(group, |g, ctx, _, out| f(g, ctx, out));
    }

    /// As [`Sim::consumer_group_do`], with the run's random numbers.
    fn consumer_group_do_rng(
        &mut self,
        group: &str,
        f: impl FnOnce(&mut ConsumerGroup, &cg::Ctx, &mut ChaCha8Rng, &mut cg::Out),
    ) {
        self.groups_do(group, |groups, ctx, rng, out| {
            if let Some(g) = groups.consumer_mut(group) {
                f(g, ctx, rng, out)
            }
        });
    }

    /// Lets the group registry handle something for `group` — `f` gets it (to reach a group,
    /// or convert one), what a consumer-protocol coordinator may read and the run's random
    /// numbers — and carries out what the coordinators did.
    fn groups_do<R>(
        &mut self,
        group: &str,
        f: impl FnOnce(&mut Groups, &cg::Ctx, &mut ChaCha8Rng, &mut cg::Out) -> R,
    ) -> R {
        let mut out = cg::Out { effects: std::mem::take(&mut self.scratch.group) };
        let Sim { groups, now, topic_partitions, topic_names, rng, .. } = self;
        let ctx = cg::Ctx { now: *now, partitions: topic_partitions, topics: topic_names };
        let r = f(groups, &ctx, rng, &mut out);
        self.apply_group_coordinator(group, out);
        r
    }

    fn apply_group_coordinator(&mut self, group: &str, mut out: cg::Out) {
        let mut downgrade = None;
        for effect in out.effects.drain(..) {
            match effect {
                cg::Effect::Reply { consumer, inc, reply } => self
                    .after(self.latency(), Action::ToConsumer { consumer, inc, msg: consumer::Msg::GroupReply(reply) }),
                cg::Effect::ClassicReply { consumer, inc, reply } => {
                    self.after(self.latency(), Action::ToConsumer { consumer, inc, msg: consumer::Msg::Reply(reply) })
                }
                cg::Effect::Timer { at, timer } => {
                    self.push(at, Action::GroupCoordinatorTimer { group: group.into(), timer })
                }
                cg::Effect::Event(kind) => self.emit(kind),
                cg::Effect::Downgrade { rebalance } => downgrade = Some(rebalance),
            }
        }
        self.scratch.group = out.effects;
        if let Some(rebalance) = downgrade {
            self.downgrade(group, rebalance);
        }
    }

    /// Kafka's `convertToClassicGroup`: the consumer-protocol group `group` becomes classic.
    fn downgrade(&mut self, group: &str, rebalance: bool) {
        if !self.groups_do(group, |groups, ctx, _, _| groups.convert_to_classic(group, ctx)) {
            return;
        }
        self.coordinator_do(group, |g, ctx, out| {
            if let Some(g) = g {
                g.after_downgrade(ctx, rebalance, out);
            }
        });
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
        let Sim { consumers, topics, controller, client_counters, now, cluster, rng, .. } = self;
        let brokers = controller.brokers();
        let mut ctx = consumer::Ctx {
            now: *now,
            id: c,
            latency: cluster.latency_ms,
            view: View { topics, brokers },
            client_ids: client_counters,
            rng,
        };
        f(&mut consumers[c.ix()], &mut ctx, &mut out);
        self.apply_consumer(c, out);
    }

    /// Carries out what a consumer did, in order.
    fn apply_consumer(&mut self, consumer: ConsumerId, mut out: consumer::Out) {
        for effect in out.effects.drain(..) {
            match effect {
                consumer::Effect::ToCoordinator { group, from, request } => {
                    self.send_to_coordinator(group, from, ToCoordinator::Classic(request))
                }
                consumer::Effect::ToGroupCoordinator { group, from, request } => {
                    self.send_to_coordinator(group, from, ToCoordinator::Consumer(request))
                }
                consumer::Effect::FindCoordinator { inc } => {
                    self.after(self.latency(), Action::FindCoordinator { consumer, inc })
                }
                consumer::Effect::After { delay, inc, msg } => {
                    self.after(delay, Action::ToConsumer { consumer, inc, msg })
                }
                consumer::Effect::At { at, inc, msg } => self.push(at, Action::ToConsumer { consumer, inc, msg }),
                consumer::Effect::Park { tp, inc, fetch_id } => {
                    self.topics[tp.topic.ix()].partitions[tp.partition as usize].park(consumer, inc, fetch_id)
                }
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
        let Sim { topics, controller, cluster, now, .. } = self;
        let brokers = controller.brokers();
        let topic = &mut topics[tp.topic.ix()];
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
                    self.produce_failed(producer, batch, error, written)
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
        let waiters = self.topics[tp.topic.ix()].partitions[tp.partition as usize].take_parked();
        for (c, inc, fetch_id) in waiters {
            if self.consumers[c.ix()].is_live(inc) {
                self.consumer_do(c, |con, ctx, out| con.on_partition_news(ctx, tp, fetch_id, out));
            }
        }
    }
}
