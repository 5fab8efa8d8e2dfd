//! The network between consumers and group coordinators, as Kafka's `NetworkClient` has it: a
//! request travels over a connection to one broker — the one the consumer's group is
//! coordinated by when it is sent — and to no other. When that broker's process dies its
//! connections close, and every request on them fails at the consumer: the requests on their
//! way, and those the coordinator holds unanswered (a JoinGroup waiting for the rebalance, a
//! SyncGroup waiting for the leader). A request to a broker that is down fails the same way;
//! one that reaches a broker no longer coordinating the group is answered NOT_COORDINATOR.
//! Answers already sent arrive. What the consumer does then is its own
//! ([`crate::sim::kafka::consumer`]'s `lookup`): it finds the coordinator again and builds what
//! it still needs from its state.

use super::{Action, Sim};
use crate::sim::conn::{Conn, ToCoordinator};
use crate::sim::consumer::{self, Failure, Sent};
use crate::sim::coordinator::{Client, Held};
use crate::sim::ids::{BrokerId, ConsumerId, GroupId};

impl Sim {
    /// The connection to `group`'s coordinator, if its broker runs.
    pub(crate) fn coordinator_conn(&self, group: &str) -> Option<Conn> {
        Conn::open(self.broker(self.coordinator_of(group)?))
    }

    /// A consumer sends a request to its group's coordinator: over the connection to the
    /// coordinator's broker, or, if that broker is down, it fails at once.
    pub(crate) fn send_to_coordinator(&mut self, group: GroupId, from: Client, request: ToCoordinator) {
        match self.coordinator_conn(&group) {
            Some(to) => self.after(self.latency(), Action::ToCoordinator { group, from, request, to }),
            None => {
                let broker = self.coordinator_of(&group);
                self.fail_request(from, request.sent(), broker, Failure::Unreachable);
            }
        }
    }

    /// A request reaches the broker it was sent to: the coordinator takes it if that process
    /// still runs and still coordinates the group; otherwise it fails at the consumer.
    pub(crate) fn arrive_at_coordinator(&mut self, group: &str, from: Client, request: ToCoordinator, to: Conn) {
        if let Err(why) = to.arrive(self.broker(to.broker), self.coordinator_of(group)) {
            return self.fail_request(from, request.sent(), Some(to.broker), why);
        }
        match request {
            ToCoordinator::Classic(r) => self.deliver_to_coordinator(group, from, *r),
            ToCoordinator::Consumer(r) => self.deliver_to_group_coordinator(group, from, *r),
        }
    }

    /// The consumer learns its request failed (one network latency after the broker closed or
    /// refused the connection, or answered NOT_COORDINATOR).
    fn fail_request(&mut self, from: Client, request: Sent, broker: Option<BrokerId>, why: Failure) {
        let msg = consumer::Msg::Failed { request, broker, why };
        self.after(self.latency(), Action::ToConsumer { consumer: from.consumer, inc: from.inc, msg });
    }

    /// A consumer asks a broker (any live one) which broker coordinates its group; the answer
    /// comes back one round trip later.
    pub(crate) fn find_coordinator(&mut self, consumer: ConsumerId, inc: u32) {
        let group = self.consumers[consumer.ix()].spec.group.clone();
        let broker = self.coordinator_conn(&group).map(|c| c.broker);
        let msg = consumer::Msg::Coordinator { broker };
        self.after(2 * self.latency(), Action::ToConsumer { consumer, inc, msg });
    }

    /// Broker `broker`'s process died: its connections close. Fetches parked at its leaders and
    /// requests its coordinators held unanswered fail at their consumers (requests still on their way fail when they reach
    /// it: [`Sim::arrive_at_coordinator`]).
    pub(crate) fn close_connections(&mut self, broker: BrokerId) {
        // Fetches parked at the partitions it leads fail at their consumers (once per fetch).
        let mut fetches: Vec<(ConsumerId, u32, u64)> = Vec::new();
        for topic in self.topics.iter_mut() {
            for part in topic.partitions.iter_mut().filter(|p| p.leader_broker() == Some(broker)) {
                for w in part.take_parked() {
                    if !fetches.contains(&w) {
                        fetches.push(w);
                    }
                }
            }
        }
        for (consumer, inc, fetch_id) in fetches {
            let msg = consumer::Msg::FetchFailed { fetch_id, broker };
            self.after(self.latency(), Action::ToConsumer { consumer, inc, msg });
        }
        let mut held: Vec<(ConsumerId, u32, Held)> = Vec::new();
        let coordinated: Vec<String> = self
            .groups
            .classic_groups()
            .map(|(g, _)| g)
            .filter(|g| self.coordinator_of(g) == Some(broker))
            .map(str::to_string)
            .collect();
        for group in coordinated {
            if let Some(g) = self.groups.classic_mut(&group) {
                held.extend(g.close_connections());
            }
        }
        for (consumer, inc, request) in held {
            let from = Client { consumer, inc, name: self.consumers[consumer.ix()].spec.name.clone() };
            let sent = match request {
                Held::Join => Sent::Join,
                Held::Sync => Sent::Sync,
            };
            self.fail_request(from, sent, Some(broker), Failure::Disconnected);
        }
    }
}
