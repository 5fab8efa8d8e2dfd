//! The cluster's brokers, topics, partitions and replicas, as data, and a read-only view of
//! them for the clients' state machines.

use crate::sim::config::TopicSpec;
use crate::sim::ids::{BrokerId, ConsumerId, Name, ProducerId, TopicId, Tp};
use crate::sim::log::{LogConfig, PartitionLog};
use crate::sim::producer::SentBatch;
use crate::sim::ranges::RangeCounts;
use crate::sim::time::SimTime;

#[derive(Clone, Debug)]
pub struct Topic {
    pub spec: TopicSpec,
    pub partitions: Vec<Partition>,
    pub(crate) log_config: LogConfig,
}

/// A broker of the cluster (ids 1..=brokers).
#[derive(Clone, Debug)]
pub struct Broker {
    pub id: BrokerId,
    pub alive: bool,
    /// Bumped at each crash, so the fencing timer of an earlier crash is ignored.
    pub(crate) inc: u32,
    /// Extra one-way network delay of its replication traffic, in ms.
    pub delay_ms: u64,
    /// The controller has noticed it is gone (after `broker.session.timeout.ms`) and fenced it.
    pub fenced: bool,
    /// It was stopped cleanly (a controlled shutdown), not crashed.
    pub stopped: bool,
}

/// The cluster's own timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterTimer {
    /// The controller notices a crashed broker (its session ran out) and fences it.
    BrokerFenced { broker: BrokerId, inc: u32 },
    /// Leaders drop followers that have not caught up for `replica.lag.time.max.ms`.
    IsrCheck,
    /// Every live broker applies retention to its logs.
    RetentionCheck,
    /// The controller moves leadership back to preferred replicas
    /// (`leader.imbalance.check.interval.seconds`).
    LeaderBalance,
}

/// One copy of a partition's log, on one broker.
#[derive(Clone, Debug)]
pub struct Replica {
    pub broker: BrokerId,
    pub log: PartitionLog,
    /// The high watermark this replica knows (a follower learns it from fetch responses).
    pub hw: u64,
    /// The leader's view of this follower: its log end at its last fetch...
    pub(crate) fetch_offset: u64,
    /// ...and when it last was caught up with the leader's log end.
    pub(crate) last_caught_up: SimTime,
    /// Its fetch is parked at the leader, waiting for data or a new high watermark.
    pub(crate) parked: bool,
    /// Bumped to drop replication messages in flight (leader change, crash, restart).
    pub(crate) fetch_gen: u64,
}

/// An acks=all write waiting for the high watermark to pass `end_offset`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingAck {
    pub producer: ProducerId,
    pub end_offset: u64,
    pub base_offset: u64,
    pub batch: SentBatch,
}

#[derive(Clone, Debug)]
pub struct Partition {
    /// Its replicas in assignment order; the first is the preferred leader.
    pub replicas: Vec<Replica>,
    /// Index in `replicas` of the leader; `None` while the partition is offline.
    pub leader: Option<usize>,
    /// The last leader (its log is the one shown while the partition is offline).
    pub(crate) last_leader: usize,
    pub leader_epoch: u32,
    /// The leader's log end when it was elected. Until the high watermark reaches it, the new
    /// leader cannot promise offsets that only grow, and answers consumers OFFSET_NOT_AVAILABLE
    /// (KIP-207): so the high watermark consumers see never moves back.
    pub epoch_start_offset: u64,
    /// Broker ids of the in-sync replicas, leader included.
    pub isr: Vec<BrokerId>,
    /// Offsets below this are visible to consumers: replicated to the whole ISR.
    pub high_watermark: u64,
    /// Fetches parked here until data arrives (consumer, incarnation, fetch id).
    waiters: Vec<(ConsumerId, u32, u64)>,
    pub(crate) pending_acks: Vec<PendingAck>,
    /// Offsets (in the current leader's log) of records whose producer was acknowledged.
    pub(crate) acked: RangeCounts,
    /// Acknowledged records lost when a leader without them was elected.
    pub lost_acked: u64,
}

impl Partition {
    /// Parks fetch `fetch_id` of `consumer`'s incarnation `inc` here until the partition has
    /// news (its high watermark moves) or its leader's process dies.
    pub fn park(&mut self, consumer: ConsumerId, inc: u32, fetch_id: u64) {
        self.waiters.push((consumer, inc, fetch_id));
    }

    /// The fetches parked here, which leave it (to look again, or to fail on disconnect).
    pub fn take_parked(&mut self) -> Vec<(ConsumerId, u32, u64)> {
        std::mem::take(&mut self.waiters)
    }

    pub(crate) fn new(brokers: &[BrokerId]) -> Partition {
        Partition {
            replicas: brokers
                .iter()
                .map(|&broker| Replica {
                    broker,
                    log: PartitionLog::default(),
                    hw: 0,
                    fetch_offset: 0,
                    last_caught_up: SimTime::ZERO,
                    parked: false,
                    fetch_gen: 0,
                })
                .collect(),
            leader: Some(0),
            last_leader: 0,
            leader_epoch: 0,
            epoch_start_offset: 0,
            isr: brokers.to_vec(),
            high_watermark: 0,
            waiters: Vec::new(),
            pending_acks: Vec::new(),
            acked: RangeCounts::default(),
            lost_acked: 0,
        }
    }

    /// The leader's log (the last leader's while the partition is offline).
    pub fn log(&self) -> &PartitionLog {
        &self.replicas[self.leader.unwrap_or(self.last_leader)].log
    }

    /// The high watermark consumers are told, if the leader can serve them yet.
    pub fn visible_high_watermark(&self) -> Option<u64> {
        (self.leader.is_some() && self.high_watermark >= self.epoch_start_offset).then_some(self.high_watermark)
    }

    /// The broker id of the leader, if the partition has one.
    pub fn leader_broker(&self) -> Option<BrokerId> {
        self.leader.map(|i| self.replicas[i].broker)
    }

    pub fn replica_brokers(&self) -> Vec<BrokerId> {
        self.replicas.iter().map(|r| r.broker).collect()
    }
}

/// What a client may read of the cluster while it handles a message: partitions' logs, high
/// watermarks and leaders, brokers' liveness, topic names.
pub struct View<'a> {
    pub topics: &'a [Topic],
    pub brokers: &'a [Broker],
}

impl View<'_> {
    pub fn partition(&self, tp: Tp) -> &Partition {
        &self.topics[tp.topic.ix()].partitions[tp.partition as usize]
    }

    pub fn tp_name(&self, tp: Tp) -> (Name, u32) {
        (self.topics[tp.topic.ix()].spec.name.clone(), tp.partition)
    }

    /// `topic-partition`, as Kafka prints it.
    pub fn label(&self, tp: Tp) -> String {
        let (t, p) = self.tp_name(tp);
        format!("{t}-{p}")
    }

    pub fn labels(&self, tps: &[Tp]) -> Vec<String> {
        tps.iter().map(|tp| self.label(*tp)).collect()
    }

    pub fn topic_index(&self, name: &str) -> Option<TopicId> {
        self.topics.iter().position(|t| t.spec.name == name).map(|i| TopicId(i as u32))
    }

    /// Whether consumers can read the partition now: it has a leader, that broker runs, and its
    /// high watermark has caught up with the start of its epoch.
    pub fn readable(&self, tp: Tp) -> bool {
        let part = self.partition(tp);
        part.visible_high_watermark().is_some() && part.leader_broker().is_some_and(|b| self.brokers[b.ix()].alive)
    }
}
