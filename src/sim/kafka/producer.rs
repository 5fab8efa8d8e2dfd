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
//!
//! A [`Producer`] is a state machine like the other actors: it takes one message or one of the
//! application's calls at a time (`(&mut self, &mut Ctx, input, &mut Out)`) and records what it
//! does — produce requests, timers, events, acknowledgements to check — in an [`Out`] the engine
//! carries out in the order recorded.

use crate::sim::vecmap::VecMap;
use std::collections::VecDeque;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::sim::config::{Acks, Keys, ProducerSpec};
use crate::sim::event::EventKind;
use crate::sim::ids::{Name, ProducerId, TopicId, Tp};
use crate::sim::keys::Keyer;
use crate::sim::time::SimTime;

/// The transactional producer's side of a transaction (not run by the engine yet).
pub mod txn;

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
    /// A transactional producer's batch: the producer epoch it is written at.
    pub transactional: Option<u16>,
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

/// What a producer reads of the world when it handles something.
pub struct Ctx<'a> {
    pub now: SimTime,
    /// Its topic's name and partition count.
    pub topic: &'a Name,
    pub partitions: u32,
    /// Every keyer of the run (a producer's keys are its keyer's: see [`Producer::keyer`]).
    pub keyers: &'a [Keyer],
    /// The run's random numbers (the sticky partitioner's choices).
    pub rng: &'a mut ChaCha8Rng,
    /// The cluster's next producer id (`InitProducerId` hands them out in order).
    pub next_producer_id: &'a mut u32,
}

impl Ctx<'_> {
    /// `InitProducerId`.
    fn new_producer_id(&mut self) -> u32 {
        let id = *self.next_producer_id;
        *self.next_producer_id += 1;
        id
    }
}

/// One thing the producer did, for the engine to carry out.
#[derive(Clone, Debug)]
pub enum Effect {
    /// One produce request with these batches, each to its partition's leader.
    Send(Vec<SentBatch>),
    /// Deliver `msg` to the producer at `at`.
    At {
        at: SimTime,
        msg: Msg,
    },
    Event(EventKind),
    /// It was told `batch` is written where `ack` says (the engine checks the log).
    Acked {
        batch: SentBatch,
        ack: BatchAck,
    },
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

impl From<EventKind> for Effect {
    fn from(e: EventKind) -> Self {
        Effect::Event(e)
    }
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
    pub topic: TopicId,
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

impl Producer {
    /// A producer application with its first `KafkaProducer` instance, sending to `topic` with
    /// keyer number `keyer` (an idempotent one gets its producer id now).
    pub fn new(spec: ProducerSpec, topic: TopicId, keyer: u32, ctx: &mut Ctx, out: &mut Out) -> Producer {
        let rate = spec.rate_per_sec;
        let mut producer = Producer {
            topic,
            keyer,
            next_seq: 0,
            pending: 0,
            rate_since: ctx.now,
            rate_sent: 0,
            next_send: None,
            sticky: None,
            sticky_bytes: 0,
            acked: 0,
            producer_id: None,
            last_sent: VecMap::new(),
            partitions: VecMap::new(),
            buffered_bytes: 0,
            blocked_since: None,
            restarting: None,
            unresolved: VecMap::new(),
            removed: false,
            spec,
        };
        if producer.idempotent() {
            producer.producer_id = Some(ctx.new_producer_id());
        }
        if rate > 0 {
            let first = producer.next_rate_record_time().expect("rate is positive").plus(producer.spec.linger_ms);
            producer.ensure_send_by(first, out);
        }
        producer
    }

    /// A message: its sender's timer, a partition's backoff running out, a leader's answer.
    pub fn on_message(&mut self, ctx: &mut Ctx, msg: Msg, out: &mut Out) {
        match msg {
            Msg::Send => self.send(ctx, out),
            Msg::Retry { partition } => self.retry(ctx, partition, out),
            Msg::Acks(acks) => self.acked(ctx, acks, out),
        }
    }

    // ----- the application's calls ------------------------------------------------------------

    /// Its keys now come from keyer number `keyer`.
    pub fn set_keys(&mut self, keyer: u32, keys: Keys) {
        self.keyer = keyer;
        self.spec.keys = keys;
    }

    /// The application asks for `count` more records now.
    pub fn produce(&mut self, ctx: &Ctx, count: u64, out: &mut Out) {
        self.pending += count;
        self.ensure_send_by(ctx.now.plus(self.spec.linger_ms), out);
    }

    /// The application sends continuously at `per_sec` records a second from now.
    pub fn set_rate(&mut self, ctx: &Ctx, per_sec: u32, out: &mut Out) {
        let now = ctx.now;
        // Records already due under the old rate become explicit pending ones.
        self.pending += self.rate_due(now);
        self.spec.rate_per_sec = per_sec;
        self.rate_since = now;
        self.rate_sent = 0;
        if per_sec > 0 {
            let first = self.next_rate_record_time().expect("rate is positive");
            self.ensure_send_by(first.plus(self.spec.linger_ms), out);
        }
    }

    /// Taken away by the user: it sends nothing more.
    pub fn remove(&mut self, ctx: &Ctx) {
        self.pending = 0;
        self.spec.rate_per_sec = 0;
        self.rate_since = ctx.now;
        self.rate_sent = 0;
        self.next_send = None;
        self.blocked_since = None;
        self.restarting = None;
        self.removed = true;
    }

    /// `acks` or `enable.idempotence` changes: the application closes its producer and builds
    /// a new one. Nothing happens when the settings it asks for are the ones it has (or is
    /// moving to).
    pub fn reconfigure(&mut self, ctx: &mut Ctx, acks: Option<Acks>, idempotence: Option<bool>, out: &mut Out) {
        let current = self.restarting.unwrap_or((self.spec.acks, self.spec.enable_idempotence));
        let target = (acks.unwrap_or(current.0), idempotence.unwrap_or(current.1));
        if target == current {
            return;
        }
        // Changed back before the old instance finished closing, the new one still is a new
        // instance (with the settings the old one had).
        self.restarting = Some(target);
        self.maybe_finish_restart(ctx, out);
    }

    // ----- the sender ---------------------------------------------------------------------------

    /// Builds the new producer once the closing one has nothing left in flight or waiting.
    fn maybe_finish_restart(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let Some((acks, idempotence)) = self.restarting else { return };
        if !self.partitions.is_empty() {
            return;
        }
        self.restarting = None;
        self.unresolved.clear();
        self.spec.acks = acks;
        self.spec.enable_idempotence = idempotence;
        self.last_sent.clear();
        self.sticky = None;
        self.sticky_bytes = 0;
        let producer_id = self.idempotent().then(|| ctx.new_producer_id());
        self.producer_id = producer_id;
        out.event(EventKind::ProducerRestarted {
            producer: self.spec.name.clone(),
            acks: acks.name().to_string(),
            enable_idempotence: idempotence,
            producer_id,
        });
        if self.pending > 0 {
            self.ensure_send_by(ctx.now, out);
        }
    }

    /// Makes sure the producer sends no later than `at` (like a batch whose linger runs out).
    fn ensure_send_by(&mut self, at: SimTime, out: &mut Out) {
        if self.next_send.is_some_and(|t| t <= at) {
            return;
        }
        self.next_send = Some(at);
        out.effects.push(Effect::At { at, msg: Msg::Send });
    }

    /// The sender's turn: hands what the application asked for (as far as `buffer.memory`
    /// allows) to the accumulator, and sends what may go.
    fn send(&mut self, ctx: &mut Ctx, out: &mut Out) {
        let now = ctx.now;
        if self.next_send != Some(now) {
            return; // superseded by an earlier send
        }
        self.next_send = None;
        let from_rate = self.rate_due(now);
        self.rate_sent += from_rate;
        let n = self.pending + from_rate;
        self.pending = 0;
        let next_rate = self.next_rate_record_time();
        let linger = self.spec.linger_ms;
        let take = if self.restarting.is_some() {
            0 // the application waits for its new producer
        } else {
            let room = BUFFER_MEMORY.saturating_sub(self.buffered_bytes) / self.spec.record_bytes;
            n.min(room)
        };
        self.pending = n - take;
        if self.restarting.is_none() && take < n {
            // send() blocks on the full buffer; after max.block.ms it fails.
            let since = *self.blocked_since.get_or_insert(now);
            if now.since(since) >= MAX_BLOCK_MS {
                let records = self.pending;
                self.pending = 0;
                self.blocked_since = None;
                let error = format!(
                    "TimeoutException: no room in buffer.memory ({} MiB) within max.block.ms ({MAX_BLOCK_MS} ms)",
                    BUFFER_MEMORY >> 20
                );
                out.event(EventKind::SendFailed {
                    producer: self.spec.name.clone(),
                    topic: ctx.topic.clone(),
                    records,
                    error,
                });
            } else {
                self.ensure_send_by(since.plus(MAX_BLOCK_MS), out);
            }
        } else {
            self.blocked_since = None;
        }
        if take > 0 {
            self.send_records(ctx, take, out);
        }
        if let Some(t) = next_rate {
            self.ensure_send_by(t.max(now.plus(1)).plus(linger), out);
        }
    }

    /// Partitions `n` new records like Kafka's producer, adds them to their partitions'
    /// batches, and sends one produce request with what may go now.
    fn send_records(&mut self, ctx: &mut Ctx, n: u64, out: &mut Out) {
        let first_seq = self.next_seq;
        let last_seq = first_seq + n - 1;
        // Per partition: (first seq, last seq, count).
        let mut per_partition: VecMap<u32, (u64, u64, u64)> = VecMap::new();
        if let Some(explicit) = self.spec.partition {
            per_partition.insert(explicit, (first_seq, last_seq, n));
        } else if !matches!(self.spec.keys, Keys::None) {
            let keyer = &ctx.keyers[self.keyer as usize];
            for seq in first_seq..=last_seq {
                let part = keyer.partition_of(seq).expect("keyed records have a partition");
                let e = per_partition.entry(part).or_insert((seq, seq, 0));
                e.1 = seq;
                e.2 += 1;
            }
        } else {
            // Built-in uniform sticky partitioner: stay on one partition until about batch.size
            // bytes went to it, then move to another one.
            let (record_bytes, batch_size) = (self.spec.record_bytes, self.spec.batch_size);
            let mut seq = first_seq;
            while seq <= last_seq {
                let sticky = match self.sticky {
                    Some(s) => s,
                    None => {
                        let s = ctx.rng.random_range(0..ctx.partitions);
                        self.sticky = Some(s);
                        self.sticky_bytes = 0;
                        s
                    }
                };
                let room = batch_size.saturating_sub(self.sticky_bytes).div_ceil(record_bytes).max(1);
                let take = room.min(last_seq - seq + 1);
                let e = per_partition.entry(sticky).or_insert((seq, seq, 0));
                e.1 = seq + take - 1;
                e.2 += take;
                self.sticky_bytes += take * record_bytes;
                if self.sticky_bytes >= batch_size {
                    self.sticky = None;
                }
                seq += take;
            }
        }
        let now = ctx.now;
        self.next_seq = last_seq + 1;
        let (acks, producer_id) = (self.spec.acks, self.producer_id);
        out.event(EventKind::Sent {
            producer: self.spec.name.clone(),
            topic: ctx.topic.clone(),
            first_seq,
            last_seq,
            records: n,
        });
        let mut request = Vec::new();
        for (partition, (first_seq, last_seq, count)) in per_partition {
            let prev_seq = self.last_sent.insert(partition, last_seq);
            let batch = SentBatch {
                partition,
                prev_seq,
                first_seq,
                last_seq,
                count: count as u32,
                created: now,
                attempt: 0,
                in_flight: false,
                acks,
                producer_id,
                maybe_written: false,
                transactional: None,
            };
            if acks == Acks::Zero {
                // Fire and forget: the producer counts it done once it is on the wire.
                self.acked += count;
                request.push(batch);
                continue;
            }
            self.buffered_bytes += count * self.spec.record_bytes;
            let (batch_size, record_bytes) = (self.spec.batch_size, self.spec.record_bytes);
            let retries_only = !self.unresolved.is_empty();
            let queue = self.partitions.entry(partition).or_default();
            match queue.batches.back_mut() {
                // Records for a partition whose last batch still waits join that batch.
                Some(last)
                    if !last.in_flight
                        && last.attempt == 0
                        && u64::from(last.count + batch.count) * record_bytes <= batch_size =>
                {
                    last.last_seq = batch.last_seq;
                    last.count += batch.count;
                }
                _ => queue.batches.push_back(batch),
            }
            take_sendable(queue, now, retries_only, &mut request);
        }
        if !request.is_empty() {
            out.effects.push(Effect::Send(request));
        }
    }

    /// Sends what a partition may send now, as one request.
    fn dispatch(&mut self, ctx: &Ctx, partition: u32, out: &mut Out) {
        let retries_only = self.resolving();
        let Some(queue) = self.partitions.get_mut(&partition) else { return };
        let mut request = Vec::new();
        take_sendable(queue, ctx.now, retries_only, &mut request);
        if !request.is_empty() {
            out.effects.push(Effect::Send(request));
        }
    }

    // ----- answers --------------------------------------------------------------------------------

    /// The producer learns these batches are written: it counts them (each to be checked against
    /// the log where the leader said it is) and sends what was waiting.
    fn acked(&mut self, ctx: &mut Ctx, acks: Vec<BatchAck>, out: &mut Out) {
        let mut records = 0;
        let mut touched = Vec::new();
        let mut resolved = false;
        for ack in acks {
            let Some(queue) = self.partitions.get_mut(&ack.partition) else { continue };
            let Some(i) = queue.batches.iter().position(|b| b.first_seq == ack.first_seq) else { continue };
            let b = queue.batches.remove(i).expect("found above");
            if queue.batches.is_empty() && queue.retry_at.is_none() {
                self.partitions.remove(&ack.partition);
            }
            // A batch after an expired one is written: so was the expired one
            // (`maybeResolveSequences`: the last acknowledged sequence is past it).
            if self.unresolved.get(&ack.partition).is_some_and(|&expired| b.first_seq > expired) {
                self.unresolved.remove(&ack.partition);
                resolved |= self.unresolved.is_empty();
            }
            self.buffered_bytes -= u64::from(b.count) * self.spec.record_bytes;
            records += u64::from(b.count);
            touched.push(ack.partition);
            out.effects.push(Effect::Acked { batch: b, ack });
        }
        if records == 0 {
            return;
        }
        self.acked += records;
        out.event(EventKind::Acked { producer: self.spec.name.clone(), topic: ctx.topic.clone(), records });
        touched.dedup();
        if resolved {
            // New batches were held back everywhere: they go now.
            touched = self.partitions.keys().copied().collect();
        }
        for partition in touched {
            self.dispatch(ctx, partition, out);
        }
        self.after_buffer_freed(ctx, out);
    }

    /// A batch failed at its leader (`written`: after the leader appended it) — an answer the
    /// leader gives at once, so it never waits in the queue (a queued action stays small): the
    /// partition backs off and the batch is sent again, or, past its delivery timeout, dropped
    /// (acks=0 never learns of it).
    pub fn on_failed(&mut self, ctx: &mut Ctx, b: SentBatch, error: String, written: bool, out: &mut Out) {
        let now = ctx.now;
        let doublings = b.attempt.saturating_sub(1).min(16);
        let backoff = self.spec.retry_backoff_ms.saturating_mul(1 << doublings).min(RETRY_BACKOFF_MAX_MS);
        let (producer, topic) = (self.spec.name.clone(), ctx.topic.clone());
        let event = |retry_in_ms| EventKind::ProduceFailed {
            producer,
            topic,
            partition: b.partition,
            records: b.count,
            error,
            retry_in_ms,
        };
        if b.acks == Acks::Zero {
            out.event(event(None));
            return;
        }
        let Some(queue) = self.partitions.get_mut(&b.partition) else { return };
        let Some(i) = queue.batches.iter().position(|x| x.first_seq == b.first_seq && x.in_flight) else {
            return; // an answer to a send already answered
        };
        queue.batches[i].maybe_written |= written;
        let give_up = now.plus(backoff).since(b.created) >= self.spec.delivery_timeout_ms;
        if give_up {
            self.drop_batch(b.partition, i);
            out.event(event(None));
            self.dispatch(ctx, b.partition, out);
            self.after_buffer_freed(ctx, out);
            return;
        }
        queue.batches[i].in_flight = false;
        let at = now.plus(backoff);
        if queue.retry_at.is_none_or(|t| t < at) {
            queue.retry_at = Some(at);
            out.effects.push(Effect::At { at, msg: Msg::Retry { partition: b.partition } });
        }
        out.event(event(Some(backoff)));
        self.maybe_reset_id(ctx, out);
    }

    /// Removes batch `i` of a partition for good (expired). If no leader can have written it,
    /// the batches after it take its place in the sequence (Kafka adjusts their sequence
    /// numbers). If one may have (a send failed after the append), an idempotent producer cannot
    /// tell where its sequence stands at that leader: the partition's sequence is unresolved
    /// (see [`Producer::unresolved`]).
    fn drop_batch(&mut self, partition: u32, i: usize) {
        let Some(queue) = self.partitions.get_mut(&partition) else { return };
        let Some(dropped) = queue.batches.remove(i) else { return };
        self.buffered_bytes -= u64::from(dropped.count) * self.spec.record_bytes;
        if dropped.maybe_written && dropped.producer_id.is_some() && self.producer_id.is_some() {
            let last = self.unresolved.entry(partition).or_insert(dropped.last_seq);
            *last = (*last).max(dropped.last_seq);
        } else {
            match queue.batches.get_mut(i) {
                Some(next) => next.prev_seq = dropped.prev_seq,
                None => {
                    match dropped.prev_seq {
                        Some(s) => self.last_sent.insert(partition, s),
                        None => self.last_sent.remove(&partition),
                    };
                }
            }
        }
        if queue.batches.is_empty() && queue.retry_at.is_none() {
            self.partitions.remove(&partition);
        }
    }

    /// Takes a new producer id for sequences still unresolved once no batch that was sent is
    /// open — unanswered, or awaiting its retry (see [`Producer::unresolved`]): what waits, none
    /// of it sent yet, is numbered afresh, from no previous sequence at each partition, and sent.
    fn maybe_reset_id(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if !self.resolving() || self.partitions.values().any(|q| q.sent_and_open()) {
            return;
        }
        let id = ctx.new_producer_id();
        self.unresolved.clear();
        self.producer_id = Some(id);
        self.last_sent.clear();
        for (partition, queue) in self.partitions.iter_mut() {
            let mut prev = None;
            for b in queue.batches.iter_mut() {
                b.prev_seq = prev;
                b.producer_id = Some(id);
                prev = Some(b.last_seq);
            }
            if let Some(last) = prev {
                self.last_sent.insert(*partition, last);
            }
        }
        out.event(EventKind::ProducerIdReset { producer: self.spec.name.clone(), producer_id: id });
        let partitions: Vec<u32> = self.partitions.keys().copied().collect();
        for partition in partitions {
            self.dispatch(ctx, partition, out);
        }
    }

    /// A partition's backoff is over: batches that waited too long expire, the rest go out.
    fn retry(&mut self, ctx: &mut Ctx, partition: u32, out: &mut Out) {
        let now = ctx.now;
        let timeout = self.spec.delivery_timeout_ms;
        let Some(queue) = self.partitions.get_mut(&partition) else { return };
        if queue.retry_at != Some(now) {
            return; // superseded by a later backoff
        }
        queue.retry_at = None;
        let expired: Vec<usize> = (0..queue.batches.len())
            .rev()
            .filter(|&i| !queue.batches[i].in_flight && now.since(queue.batches[i].created) >= timeout)
            .collect();
        for i in expired {
            let b = self.partitions[&partition].batches[i];
            self.drop_batch(partition, i);
            out.event(EventKind::ProduceFailed {
                producer: self.spec.name.clone(),
                topic: ctx.topic.clone(),
                partition,
                records: b.count,
                error: format!("TimeoutException: not acknowledged within delivery.timeout.ms ({timeout} ms)"),
                retry_in_ms: None,
            });
        }
        if self.partitions.get(&partition).is_some_and(|q| q.batches.is_empty()) {
            self.partitions.remove(&partition);
        }
        self.dispatch(ctx, partition, out);
        self.after_buffer_freed(ctx, out);
    }

    /// A batch answered or dropped: room in the buffer, perhaps nothing in flight any more, or a
    /// closing producer's last batch gone. Wakes what waited for it.
    fn after_buffer_freed(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.maybe_reset_id(ctx, out);
        self.maybe_finish_restart(ctx, out);
        if self.blocked_since.is_some() && self.pending > 0 && self.restarting.is_none() {
            self.ensure_send_by(ctx.now, out);
        }
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

#[cfg(test)]
mod tests {
    //! Each transition of the producer client — its sender, accumulator, retries, expiry,
    //! unresolved sequences, restarts and the buffer — one input at a time, as Kafka's
    //! `SenderTest`, `RecordAccumulatorTest` and `TransactionManagerTest` exercise them: what it
    //! sends, schedules and reports, in order.

    use super::*;
    use rand::SeedableRng;

    /// A producer of `my-topic` (3 partitions) and the world around it.
    struct Harness {
        p: Producer,
        keyers: Vec<Keyer>,
        rng: ChaCha8Rng,
        next_id: u32,
        now: SimTime,
    }

    impl Harness {
        fn new(edit: impl FnOnce(&mut ProducerSpec)) -> (Harness, Vec<String>) {
            let mut spec = ProducerSpec { name: "p".into(), partition: Some(0), ..ProducerSpec::default() };
            edit(&mut spec);
            let keyers = vec![Keyer::new(spec.keys.clone(), 3, 7)];
            let mut h = Harness {
                p: Producer::new(spec.clone(), TopicId(0), 0, &mut dummy_ctx(), &mut Out::default()),
                keyers,
                rng: ChaCha8Rng::seed_from_u64(1),
                next_id: 0,
                now: SimTime(0),
            };
            let shown = h.run(|p, ctx, out| *p = Producer::new(spec, TopicId(0), 0, ctx, out));
            (h, shown)
        }

        fn run(&mut self, f: impl FnOnce(&mut Producer, &mut Ctx, &mut Out)) -> Vec<String> {
            let mut out = Out::default();
            let topic = Name::from("my-topic");
            let mut ctx = Ctx {
                now: self.now,
                topic: &topic,
                partitions: 3,
                keyers: &self.keyers,
                rng: &mut self.rng,
                next_producer_id: &mut self.next_id,
            };
            f(&mut self.p, &mut ctx, &mut out);
            out.effects.iter().map(show).collect()
        }

        fn at(&mut self, t: u64, msg: Msg) -> Vec<String> {
            self.now = SimTime(t);
            self.run(|p, ctx, out| p.on_message(ctx, msg, out))
        }

        fn produce(&mut self, t: u64, count: u64) -> Vec<String> {
            self.now = SimTime(t);
            self.run(|p, ctx, out| p.produce(ctx, count, out))
        }

        /// The batch of partition 0 starting at `first_seq`, as it is now.
        fn batch(&self, first_seq: u64) -> SentBatch {
            *self.p.partitions[&0].batches.iter().find(|b| b.first_seq == first_seq).expect("a batch")
        }

        fn ack(&mut self, t: u64, first_seq: u64) -> Vec<String> {
            let ack = BatchAck { partition: 0, first_seq, base_offset: first_seq, leader_epoch: 0 };
            self.at(t, Msg::Acks(vec![ack]))
        }

        fn fail(&mut self, t: u64, first_seq: u64, written: bool) -> Vec<String> {
            let batch = self.batch(first_seq);
            self.now = SimTime(t);
            self.run(|p, ctx, out| p.on_failed(ctx, batch, "NOT_LEADER_OR_FOLLOWER".into(), written, out))
        }
    }

    fn dummy_ctx() -> Ctx<'static> {
        let rng = Box::leak(Box::new(ChaCha8Rng::seed_from_u64(0)));
        let id = Box::leak(Box::new(0u32));
        let topic = Box::leak(Box::new(Name::from("my-topic")));
        Ctx { now: SimTime(0), topic, partitions: 3, keyers: &[], rng, next_producer_id: id }
    }

    /// One effect as a short line: `send [p0 0..=9 #1, …]`, `@t Msg`, `EventName`, `acked p0 0`.
    fn show(effect: &Effect) -> String {
        match effect {
            Effect::Send(batches) => {
                let b: Vec<String> = batches
                    .iter()
                    .map(|b| format!("p{} {}..={} #{}{}", b.partition, b.first_seq, b.last_seq, b.attempt, id_of(b)))
                    .collect();
                format!("send [{}]", b.join(", "))
            }
            Effect::At { at, msg } => format!("@{} {msg:?}", at.0),
            Effect::Event(kind) => format!("{kind:?}").split([' ', '{', '(']).next().unwrap_or_default().to_string(),
            Effect::Acked { batch, ack } => format!("acked p{} {}", ack.partition, batch.first_seq),
        }
    }

    fn id_of(b: &SentBatch) -> String {
        b.producer_id.map_or(String::new(), |id| format!(" id{id}"))
    }

    #[test]
    fn an_idempotent_producer_gets_an_id_and_a_rate_schedules_its_first_send_after_linger() {
        let (h, shown) = Harness::new(|s| s.rate_per_sec = 10);
        assert_eq!(h.p.producer_id, Some(0));
        // The first record is due at 100 ms; its batch goes 5 ms (linger.ms) later.
        assert_eq!(shown, ["@105 Send"]);
        let (h, shown) = Harness::new(|s| s.acks = Acks::One);
        assert_eq!((h.p.producer_id, shown.len()), (None, 0), "no idempotence without acks=all");
    }

    #[test]
    fn records_wait_linger_then_go_in_one_request_with_a_batch_per_partition() {
        let (mut h, _) = Harness::new(|s| {
            s.partition = None;
            s.keys = Keys::Cycle { keys: vec!["a".into(), "b".into(), "c".into()] };
        });
        assert_eq!(h.produce(0, 6), ["@5 Send"]);
        // A second produce within linger.ms keeps the send it has.
        assert_eq!(h.produce(2, 3), Vec::<String>::new());
        let shown = h.at(5, Msg::Send);
        assert_eq!(shown[0], "Sent");
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[1].starts_with("send [p"), "one request: {shown:?}");
        let batches = shown[1].matches(" #1").count();
        assert!((2..=3).contains(&batches), "a batch per partition its keys go to: {shown:?}");
        assert_eq!(h.p.unacknowledged(), 9);
    }

    #[test]
    fn at_most_five_batches_are_in_flight_and_the_rest_wait_growing_to_batch_size() {
        let (mut h, _) = Harness::new(|s| s.batch_size = 1_000); // 10 records a batch
        for i in 0..7 {
            h.produce(i * 10, 10);
            h.at(i * 10 + 5, Msg::Send);
        }
        let q = &h.p.partitions[&0];
        assert_eq!((q.in_flight(), q.batches.len()), (5, 7));
        // More records join the last waiting batch while it has room, else start a new one.
        h.produce(100, 5);
        let shown = h.at(105, Msg::Send);
        assert_eq!(shown, ["Sent"], "nothing may go: five in flight");
        assert_eq!(h.p.partitions[&0].batches.len(), 8);
        // An acknowledgement frees a slot: the oldest waiting batch goes.
        let shown = h.ack(110, 0);
        assert_eq!(shown, ["acked p0 0", "Acked", "send [p0 50..=59 #1 id0]"]);
    }

    #[test]
    fn a_failed_batch_backs_off_doubling_and_only_it_is_sent_again() {
        let (mut h, _) = Harness::new(|_| {});
        h.produce(0, 10);
        h.at(5, Msg::Send);
        assert_eq!(h.fail(10, 0, false), ["@110 Retry { partition: 0 }", "ProduceFailed"]);
        // Nothing of the partition goes before the backoff is over.
        h.produce(20, 5);
        assert_eq!(h.at(25, Msg::Send), ["Sent"]);
        let shown = h.at(110, Msg::Retry { partition: 0 });
        assert_eq!(shown, ["send [p0 0..=9 #2 id0, p0 10..=14 #1 id0]"]);
        // The second failure waits twice as long.
        assert_eq!(h.fail(120, 0, false)[0], "@320 Retry { partition: 0 }");
        // A stale timer (superseded by a later backoff) does nothing.
        assert!(h.at(110, Msg::Retry { partition: 0 }).is_empty());
    }

    #[test]
    fn a_batch_never_written_that_expires_gives_its_sequence_to_the_next_one() {
        let (mut h, _) = Harness::new(|s| s.delivery_timeout_ms = 1_000);
        h.produce(0, 10);
        h.at(5, Msg::Send);
        h.fail(10, 0, false);
        h.produce(20, 5);
        h.at(25, Msg::Send);
        h.at(110, Msg::Retry { partition: 0 });
        let failed = h.fail(990, 0, false);
        assert_eq!(failed[0], "ProduceFailed", "past delivery.timeout.ms it is dropped: {failed:?}");
        assert_eq!(h.batch(10).prev_seq, None, "the next batch follows on from where the dropped one began");
        assert!(h.p.unresolved.is_empty());
        assert_eq!(h.p.producer_id, Some(0));
    }

    #[test]
    fn an_expired_batch_a_leader_may_have_written_holds_new_batches_until_a_later_ack_resolves_it() {
        let (mut h, _) = Harness::new(|s| s.delivery_timeout_ms = 1_000);
        h.produce(0, 10);
        h.at(5, Msg::Send);
        h.produce(6, 5);
        h.at(11, Msg::Send); // 10..=14 in flight too
                             // 0..=9 failed after its leader appended it, then expires.
        h.fail(20, 0, true);
        h.at(120, Msg::Retry { partition: 0 });
        let shown = h.fail(1_000, 0, true);
        assert_eq!(shown[0], "ProduceFailed");
        assert_eq!(h.p.unresolved.get(&0), Some(&9));
        // New records wait; the batch already sent is not renumbered.
        h.produce(1_001, 3);
        assert_eq!(h.at(1_006, Msg::Send), ["Sent"]);
        // 10..=14 acknowledged: the leader had 0..=9 — resolved, same producer id, and what
        // waited goes.
        let shown = h.ack(1_010, 10);
        assert_eq!(shown, ["acked p0 10", "Acked", "send [p0 15..=17 #1 id0]"]);
        assert!(h.p.unresolved.is_empty());
    }

    #[test]
    fn unresolved_with_nothing_sent_still_open_takes_a_new_producer_id_and_renumbers_what_waits() {
        let (mut h, _) = Harness::new(|s| s.delivery_timeout_ms = 1_000);
        h.produce(0, 10);
        h.at(5, Msg::Send);
        h.produce(6, 5);
        h.at(11, Msg::Send);
        h.fail(20, 0, true);
        h.at(120, Msg::Retry { partition: 0 });
        h.fail(1_000, 0, true); // expires, maybe written: unresolved while 10..=14 is open
        assert_eq!(h.p.producer_id, Some(0));
        h.produce(1_001, 3);
        assert_eq!(h.at(1_006, Msg::Send), ["Sent"], "held back");
        // 10..=14 expires unwritten: nothing sent is open any more, so a new id (Kafka bumps the
        // epoch) numbers the waiting batch afresh and sends it.
        let shown = h.fail(1_010, 10, false);
        assert_eq!(shown, ["ProduceFailed", "ProducerIdReset", "send [p0 15..=17 #1 id1]"]);
        assert_eq!(h.batch(15).prev_seq, None);
    }

    #[test]
    fn changing_acks_closes_the_instance_and_builds_a_new_one_once_it_has_flushed() {
        let (mut h, _) = Harness::new(|_| {});
        h.produce(0, 10);
        h.at(5, Msg::Send);
        assert!(h.run(|p, ctx, out| p.reconfigure(ctx, Some(Acks::One), None, out)).is_empty());
        // Records sent meanwhile wait for the new producer.
        h.produce(6, 2);
        assert_eq!(h.at(11, Msg::Send), Vec::<String>::new());
        assert_eq!(h.p.waiting(), 2);
        let shown = h.ack(20, 0);
        assert_eq!(shown, ["acked p0 0", "Acked", "ProducerRestarted", "@20 Send"]);
        assert_eq!((h.p.spec.acks, h.p.producer_id), (Acks::One, None));
        // Asking for what it already has does nothing.
        assert!(h.run(|p, ctx, out| p.reconfigure(ctx, Some(Acks::One), Some(true), out)).is_empty());
    }

    #[test]
    fn acks_zero_is_done_on_the_wire_and_never_retried() {
        let (mut h, _) = Harness::new(|s| s.acks = Acks::Zero);
        h.produce(0, 4);
        assert_eq!(h.at(5, Msg::Send), ["Sent", "send [p0 0..=3 #0]"]);
        assert_eq!((h.p.acked, h.p.unacknowledged()), (4, 0));
        let b = SentBatch {
            partition: 0,
            prev_seq: None,
            first_seq: 0,
            last_seq: 3,
            count: 4,
            created: SimTime(0),
            attempt: 0,
            in_flight: true,
            acks: Acks::Zero,
            producer_id: None,
            maybe_written: false,
            transactional: None,
        };
        h.now = SimTime(6);
        assert_eq!(h.run(|p, ctx, out| p.on_failed(ctx, b, "x".into(), false, out)), ["ProduceFailed"]);
    }

    #[test]
    fn an_answer_to_a_batch_already_answered_is_ignored() {
        let (mut h, _) = Harness::new(|_| {});
        h.produce(0, 3);
        h.at(5, Msg::Send);
        let b = h.batch(0);
        h.ack(10, 0);
        assert!(h.ack(11, 0).is_empty());
        h.now = SimTime(12);
        assert!(h.run(|p, ctx, out| p.on_failed(ctx, b, "late".into(), false, out)).is_empty());
    }

    #[test]
    fn a_full_buffer_blocks_send_and_fails_it_after_max_block_ms() {
        let (mut h, _) = Harness::new(|s| s.record_bytes = 1 << 20); // 32 records fill 32 MiB
        h.produce(0, 40);
        let shown = h.at(5, Msg::Send);
        assert_eq!(shown.last().map(String::as_str), Some("send [p0 0..=31 #1 id0]"));
        assert!(shown.contains(&"@60005 Send".to_string()), "send() blocks: {shown:?}");
        assert_eq!(h.p.waiting(), 8);
        let shown = h.at(60_005, Msg::Send);
        assert_eq!(shown, ["SendFailed"], "no room within max.block.ms");
        assert_eq!(h.p.waiting(), 0);
    }
}
