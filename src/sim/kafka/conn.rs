//! What travels between a consumer and its group's coordinator: a request over a connection to
//! one incarnation of one broker, and the rules of that network — a connection is made only to
//! a running broker, and a request on it reaches that process, or fails (see
//! `run/engine/network.rs` for how the engine carries it, and `consumer/lookup.rs` for what the
//! consumer does when it fails).

use crate::sim::cluster::Broker;
use crate::sim::coordinator::{CommitPurpose, Request};
use crate::sim::ids::BrokerId;
use crate::sim::kafka::consumer_group as cg;

/// A connection to one incarnation of a broker: a request on it reaches that process or fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    pub broker: BrokerId,
    /// The broker's incarnation when the connection was made.
    pub inc: u32,
}

impl Conn {
    /// A connection to `broker`'s process as it runs now; none to a broker that is down (the
    /// connection is refused).
    pub fn open(broker: &Broker) -> Option<Conn> {
        broker.alive.then_some(Conn { broker: broker.id, inc: broker.inc })
    }

    /// A request on this connection reaches `broker` (the same broker, as it runs now), whose
    /// group is coordinated by `coordinator`: the process it was sent to takes it if it still
    /// runs and still coordinates the group. A process that died closed the connection with the
    /// request on it (a restarted one is another process); one that no longer coordinates the
    /// group answers NOT_COORDINATOR.
    pub fn arrive(self, broker: &Broker, coordinator: Option<BrokerId>) -> Result<(), Failure> {
        if !broker.alive || broker.inc != self.inc {
            return Err(Failure::Disconnected);
        }
        if coordinator != Some(self.broker) {
            return Err(Failure::NotCoordinator);
        }
        Ok(())
    }
}

/// A request to a group coordinator, of either protocol.
#[derive(Clone, Debug)]
pub enum ToCoordinator {
    Classic(Box<Request>),
    Consumer(Box<cg::Request>),
}

impl ToCoordinator {
    /// What it is, as a failure names it.
    pub fn sent(&self) -> Sent {
        match self {
            ToCoordinator::Classic(r) => Sent::of(r),
            ToCoordinator::Consumer(r) => Sent::of_group(r),
        }
    }
}

/// A request to the group coordinator, as a failure names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    Join,
    Sync,
    Heartbeat,
    Leave,
    Commit(CommitPurpose),
    OffsetFetch,
    /// A `ConsumerGroupHeartbeat` (a join, a heartbeat or a leave).
    GroupHeartbeat,
}

impl Sent {
    pub fn name(self) -> &'static str {
        match self {
            Sent::Join => "JoinGroup",
            Sent::Sync => "SyncGroup",
            Sent::Heartbeat => "Heartbeat",
            Sent::Leave => "LeaveGroup",
            Sent::Commit(_) => "OffsetCommit",
            Sent::OffsetFetch => "OffsetFetch",
            Sent::GroupHeartbeat => "ConsumerGroupHeartbeat",
        }
    }

    /// What a classic request is.
    pub fn of(request: &Request) -> Sent {
        match request {
            Request::Join(_) => Sent::Join,
            Request::Sync { .. } => Sent::Sync,
            Request::Heartbeat { .. } => Sent::Heartbeat,
            Request::Leave { .. } => Sent::Leave,
            Request::OffsetCommit { purpose, .. } => Sent::Commit(*purpose),
            Request::OffsetFetch { .. } => Sent::OffsetFetch,
        }
    }

    /// What a consumer-protocol request is.
    pub fn of_group(request: &cg::Request) -> Sent {
        use cg::Request as R;
        match request {
            R::Heartbeat(_) => Sent::GroupHeartbeat,
            R::OffsetCommit { purpose, .. } => Sent::Commit(*purpose),
            R::OffsetFetch { .. } => Sent::OffsetFetch,
        }
    }
}

/// Why a request failed at the consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection closed with the request on it: the broker's process died.
    Disconnected,
    /// The broker it was sent to was down: the connection could not be made.
    Unreachable,
    /// The broker is no longer the group's coordinator.
    NotCoordinator,
}

impl Failure {
    pub fn text(self) -> &'static str {
        match self {
            Failure::Disconnected => "disconnected: the broker's process died with the request in flight",
            Failure::Unreachable => "disconnected: the coordinator's broker is down (connection refused)",
            Failure::NotCoordinator => "NOT_COORDINATOR: the broker no longer coordinates the group",
        }
    }
}

#[cfg(test)]
mod tests {
    //! The network's rules, as Kafka's `NetworkClient` has them for one connection.

    use super::*;

    fn broker(id: u32, alive: bool, inc: u32) -> Broker {
        Broker { id: BrokerId(id), alive, inc, delay_ms: 0, fenced: false, stopped: false }
    }

    #[test]
    fn a_connection_is_made_only_to_a_running_broker_and_names_its_incarnation() {
        assert_eq!(Conn::open(&broker(2, true, 3)), Some(Conn { broker: BrokerId(2), inc: 3 }));
        assert_eq!(Conn::open(&broker(2, false, 3)), None, "connection refused");
    }

    #[test]
    fn a_request_reaches_the_process_it_was_sent_to_while_it_coordinates_the_group() {
        let conn = Conn { broker: BrokerId(2), inc: 3 };
        assert_eq!(conn.arrive(&broker(2, true, 3), Some(BrokerId(2))), Ok(()));
        assert_eq!(conn.arrive(&broker(2, true, 3), Some(BrokerId(1))), Err(Failure::NotCoordinator));
        assert_eq!(conn.arrive(&broker(2, true, 3), None), Err(Failure::NotCoordinator));
    }

    #[test]
    fn a_process_that_died_closed_the_connection_even_if_the_broker_runs_again() {
        let conn = Conn { broker: BrokerId(2), inc: 3 };
        assert_eq!(conn.arrive(&broker(2, false, 3), Some(BrokerId(2))), Err(Failure::Disconnected));
        assert_eq!(
            conn.arrive(&broker(2, true, 4), Some(BrokerId(2))),
            Err(Failure::Disconnected),
            "a restarted broker is another process: the request was on the old one's connection"
        );
    }
}
