//! The producer client: Kafka's partitioner, its record accumulator and its sender.
//!
//! Records the application hands to `send()` go into one batch per partition (up to
//! `batch.size`); a batch is sent once `linger.ms` has passed. A partition has at most
//! `max.in.flight.requests.per.connection` (5) batches sent and not yet answered; the rest wait in
//! the accumulator, growing to `batch.size`. A batch that fails goes back to the front of its
//! partition's queue and the partition waits `retry.backoff.ms`, doubling per attempt up to
//! `retry.backoff.max.ms` (KIP-580, without its jitter), before anything is sent again; only
//! failed and waiting batches are sent, never the ones still in flight. A batch not acknowledged
//! `delivery.timeout.ms` after it was created fails for good. What is buffered is bounded by
//! `buffer.memory`: while it is full, `send()` blocks, and fails after `max.block.ms`.
//!
//! `acks` and `enable.idempotence` are fixed when a producer is built, as in Kafka. Changing
//! either closes the producer — `close()` flushes what it has sent — and builds a new one with a
//! new producer id; records the application sends meanwhile wait for the new producer. An
//! idempotent producer's batches carry its producer id, and the leader deduplicates retries by
//! that id and their sequence numbers (see `replication.rs`).

use crate::sim::vecmap::VecMap;
use std::collections::VecDeque;

use crate::sim::config::{Acks, ProducerSpec};
use crate::sim::ids::{ProducerId, Tp};
use crate::sim::time::SimTime;

/// `max.in.flight.requests.per.connection` (5): batches of one partition sent and unanswered.
pub const MAX_IN_FLIGHT: usize = 5;
/// `retry.backoff.max.ms` (1000).
pub const RETRY_BACKOFF_MAX_MS: u64 = 1_000;
/// `buffer.memory` (32 MiB).
pub const BUFFER_MEMORY: u64 = 32 << 20;
/// `max.block.ms` (60000): how long `send()` waits for room in the buffer before it fails.
pub const MAX_BLOCK_MS: u64 = 60_000;

/// A batch of one partition's records in the producer, from creation to acknowledgement.
#[derive(Clone, Copy, Debug)]
pub struct SentBatch {
    pub partition: u32,
    /// The last sequence number the producer gave this partition before this batch (the
    /// idempotent producer's per-partition sequence chain).
    pub prev_seq: Option<u64>,
    pub first_seq: u64,
    pub last_seq: u64,
    pub count: u32,
    /// When its first record was handed to the producer (`delivery.timeout.ms` runs from here).
    pub created: SimTime,
    /// How many times it was sent (0 while it waits for its first send).
    pub attempt: u32,
    /// Sent and not yet answered.
    pub in_flight: bool,
    /// The producer's `acks` and producer id when the batch was made: a retry is the same batch.
    pub acks: Acks,
    pub producer_id: Option<u32>,
    /// A send of it failed after its leader had appended it (the answer was an error, or never
    /// came): it may be in a log.
    pub maybe_written: bool,
}

/// Messages for a producer application: its sender's timer, a partition's backoff running out,
/// its leaders' answers.
#[derive(Clone, Debug)]
pub enum Msg {
    /// Time to send what the accumulator holds (`linger.ms` ran out, or the rate made records).
    Send,
    /// A partition's retry backoff is over: it sends its waiting batches again.
    Retry { partition: u32 },
    /// The answer to a produce request: these batches are written.
    Acks(Vec<BatchAck>),
}

/// A leader's acknowledgement of one batch: where the batch is in the partition's log (Kafka's
/// `ProduceResponse` base offset), in which leader epoch the leader answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchAck {
    pub partition: u32,
    pub first_seq: u64,
    pub base_offset: u64,
    pub leader_epoch: u32,
}

/// One partition's batches in the producer, in sequence order: some in flight, the others
/// waiting in the accumulator.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartitionBatches {
    pub batches: VecDeque<SentBatch>,
    /// A failed batch is backing off: nothing of this partition is sent before then.
    pub retry_at: Option<SimTime>,
}

impl PartitionBatches {
    pub(crate) fn in_flight(&self) -> usize {
        self.batches.iter().filter(|b| b.in_flight).count()
    }

    /// Some batch was sent and is not done: unanswered, or failed and awaiting its retry (Kafka
    /// counts both as in flight: its sequence is taken).
    pub(crate) fn sent_and_open(&self) -> bool {
        self.batches.iter().any(|b| b.attempt > 0)
    }
}

/// A producer application and its current `KafkaProducer` instance.
#[derive(Clone, Debug)]
pub struct Producer {
    pub spec: ProducerSpec,
    pub topic: u32,
    pub keyer: u32,
    /// Sequence number of the next record (the tutorial's message number).
    pub next_seq: u64,
    /// Records asked for by `produce` (or the rate) but not yet handed to the producer.
    pub(crate) pending: u64,
    pub(crate) rate_since: SimTime,
    pub(crate) rate_sent: u64,
    pub(crate) next_send: Option<SimTime>,
    pub(crate) sticky: Option<u32>,
    pub(crate) sticky_bytes: u64,
    pub acked: u64,
    /// The producer id the cluster gave this instance (`InitProducerId`), if it is idempotent.
    pub producer_id: Option<u32>,
    /// Last sequence number given to each partition.
    pub(crate) last_sent: VecMap<u32, u64>,
    /// Batches not yet acknowledged, per partition.
    pub(crate) partitions: VecMap<u32, PartitionBatches>,
    /// Bytes of the records in `partitions` (bounded by `buffer.memory`).
    pub(crate) buffered_bytes: u64,
    /// Since when `send()` has been waiting for room in the buffer.
    pub(crate) blocked_since: Option<SimTime>,
    /// The application is replacing this instance with one using these `acks` and
    /// `enable.idempotence`: it is closing, flushing what it has sent.
    pub restarting: Option<(Acks, bool)>,
    /// Partitions where an idempotent producer dropped an expired batch that a leader may have
    /// written, with that batch's last record number: whether its sequence follows on at the
    /// leader is unknown (Kafka's unresolved sequences, `TransactionManager`). Meanwhile only
    /// batches already sent are sent again — nothing new. A later batch of the partition
    /// acknowledged resolves it (the leader had the expired one); once no batch that was sent is
    /// unanswered or awaiting its retry, what is still unresolved takes a new producer id and
    /// what waits is numbered afresh (Kafka bumps the producer epoch, KIP-360).
    pub(crate) unresolved: VecMap<u32, u64>,
    /// Taken away by the user: sends nothing more, hidden.
    pub removed: bool,
}

/// An acknowledgement the producer received, kept when [`crate::sim::Sim::keep_ack_ledger`] asks: what a
/// client-side history of a run holds, to be checked against the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckRecord {
    pub producer: ProducerId,
    pub tp: Tp,
    pub base_offset: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub count: u32,
    pub acks: Acks,
}

/// An acknowledgement whose records the leader's log does not hold where the leader said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckFinding {
    pub at_ms: u64,
    pub text: String,
}

impl Producer {
    /// Records created by the rate up to `now` and not yet sent.
    pub(crate) fn rate_due(&self, now: SimTime) -> u64 {
        let r = u64::from(self.spec.rate_per_sec);
        if r == 0 {
            return 0;
        }
        let created = (u128::from(now.since(self.rate_since)) * u128::from(r) / 1000) as u64;
        created.saturating_sub(self.rate_sent)
    }

    /// When the rate creates its next unsent record.
    pub(crate) fn next_rate_record_time(&self) -> Option<SimTime> {
        let r = u64::from(self.spec.rate_per_sec);
        if r == 0 {
            return None;
        }
        let n = u128::from(self.rate_sent + 1);
        let ms = (n * 1000).div_ceil(u128::from(r)) as u64;
        Some(self.rate_since.plus(ms))
    }

    /// Whether the current instance is idempotent (Kafka needs `acks=all` for it).
    pub fn idempotent(&self) -> bool {
        self.spec.enable_idempotence && self.spec.acks == Acks::All
    }

    /// Records sent or waiting in the producer and not yet acknowledged.
    pub fn unacknowledged(&self) -> u64 {
        self.partitions.values().flat_map(|q| &q.batches).map(|b| u64::from(b.count)).sum()
    }

    /// Records the application asked to send that the producer has not taken yet (while it
    /// restarts, or while its buffer is full).
    pub fn waiting(&self) -> u64 {
        self.pending
    }

    /// An unresolved sequence holds new batches back (see [`Producer::unresolved`]).
    pub(crate) fn resolving(&self) -> bool {
        !self.unresolved.is_empty()
    }

    /// Some batch failed and is being sent again.
    pub fn retrying(&self) -> bool {
        self.partitions.values().any(|q| q.retry_at.is_some() || q.batches.iter().any(|b| b.attempt > 1))
    }
}

/// Marks as sent, and moves to `request`, the batches a partition may send now: none while it
/// backs off; otherwise those waiting, in order, up to [`MAX_IN_FLIGHT`] in flight — with
/// `retries_only`, only batches sent before (an unresolved sequence holds new ones back).
pub(crate) fn take_sendable(
    queue: &mut PartitionBatches,
    now: SimTime,
    retries_only: bool,
    request: &mut Vec<SentBatch>,
) {
    if queue.retry_at.is_some_and(|t| t > now) {
        return;
    }
    let mut room = MAX_IN_FLIGHT.saturating_sub(queue.in_flight());
    for b in queue.batches.iter_mut() {
        if room == 0 {
            break;
        }
        if b.in_flight {
            continue;
        }
        if retries_only && b.attempt == 0 {
            break;
        }
        b.in_flight = true;
        b.attempt += 1;
        request.push(*b);
        room -= 1;
    }
}
