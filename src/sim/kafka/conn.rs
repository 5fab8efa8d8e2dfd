//! What travels between a consumer and its group's coordinator: a request over a connection to
//! one incarnation of one broker (see `run/network.rs` for how the engine carries it, and
//! `consumer/lookup.rs` for what the consumer does when it fails).

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
