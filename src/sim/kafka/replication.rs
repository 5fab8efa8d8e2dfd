//! One partition's replication, as a state machine: its replicas, the ISR, the high watermark,
//! `acks`, leader election with leader epochs, and what a broker's crash, fencing or return
//! does to it.
//!
//! Each partition has replicas on distinct brokers (Kafka's rack-unaware assignment). The
//! leader appends produced batches; followers fetch from it (a fetch is parked at the leader
//! until there is something new: records, or a higher high watermark) and copy batches as they
//! are, leader epoch included. The leader learns a follower's log end from its next fetch; the
//! high watermark is the smallest log end in the ISR, and consumers read only below it. A
//! follower not caught up for `replica.lag.time.max.ms` leaves the ISR and rejoins once it
//! reaches the high watermark. `acks=all` answers once the high watermark passes the batch and
//! refuses writes while the ISR is smaller than `min.insync.replicas`.
//!
//! When the controller fences a crashed broker it is dropped from the ISR and, if it led, the
//! first live ISR replica (in assignment order) leads, with a new leader epoch — or, with no
//! such replica, the partition goes offline (or, with unclean election, takes any live replica
//! and loses what it lacks). A returning broker asks its leader where its log diverges (leader
//! epochs) and truncates there before catching up. With one replica none of this adds an event.
//!
//! A partition takes one message or notice at a time and records what it does (messages to its
//! replicas, answers to producers, events) in an [`Out`] the engine applies in order.

use crate::sim::cluster::{Broker, Partition, PendingAck};
use crate::sim::config::{Acks, TopicSpec};
use crate::sim::event::EventKind;
use crate::sim::ids::{BrokerId, Name, ProducerId, Tp};
use crate::sim::log::{Batch, LogConfig};
use crate::sim::producer::{BatchAck, SentBatch};
use crate::sim::time::SimTime;

/// Most batches a follower copies per fetch (about `replica.fetch.max.bytes`).
const MAX_BATCHES_PER_FETCH: usize = 1_000;

/// A message between a partition's leader and one of its followers.
#[derive(Clone, Debug)]
pub enum ReplicaMsg {
    /// A follower's fetch reaches its leader: from its log end, with its latest leader epoch.
    Fetch { gen: u64, fetch_offset: u64, last_epoch: u32 },
    /// The leader's answer reaches the follower: records to copy, or where to truncate to.
    FetchResponse { gen: u64, batches: Vec<Batch>, hw: u64, truncate_to: Option<u64> },
}

/// One thing a partition did, for the engine to carry out.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Deliver `msg` to replica `replica` (an index in the partition's replica list) after
    /// `delay` ms.
    ToReplica {
        delay: u64,
        replica: usize,
        msg: ReplicaMsg,
    },
    /// Answer producer `producer`: the batch is written (one network hop).
    Ack {
        producer: ProducerId,
        ack: BatchAck,
    },
    /// Tell producer `producer` its batch failed (`written`: after the leader appended it).
    Failed {
        producer: ProducerId,
        batch: SentBatch,
        error: String,
        written: bool,
    },
    Event(EventKind),
    /// The high watermark moved: consumer fetches parked here may have records now.
    HighWatermarkMoved,
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

impl From<EventKind> for Effect {
    fn from(e: EventKind) -> Self {
        Effect::Event(e)
    }
}

/// What a partition may read besides its own state.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub tp: Tp,
    pub spec: &'a TopicSpec,
    pub log_config: LogConfig,
    /// Every broker (id `b` at index `b - 1`): alive, fenced, slowed down.
    pub brokers: &'a [Broker],
    /// One-way network latency, ms.
    pub latency: u64,
    pub replica_lag_time_max_ms: u64,
    pub unclean_leader_election: bool,
}

impl Ctx<'_> {
    fn broker(&self, node: BrokerId) -> &Broker {
        &self.brokers[node.ix()]
    }

    fn alive(&self, node: BrokerId) -> bool {
        self.broker(node).alive
    }

    /// Alive and registered with the controller: it may lead.
    fn usable(&self, node: BrokerId) -> bool {
        let b = self.broker(node);
        b.alive && !b.fenced
    }
}

/// The producer a batch comes from, as the leader records it.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    pub index: ProducerId,
    pub name: &'a Name,
    pub keyer: u32,
    pub record_bytes: u64,
}

/// Why a produce request failed for a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    LeaderDown(BrokerId),
    /// The broker it was sent to no longer leads the partition (leadership moved meanwhile).
    NotLeader(BrokerId),
    Offline,
    NotEnoughReplicas {
        isr: usize,
        min: u32,
    },
    OutOfOrder,
    /// A transactional batch or marker at an older producer epoch than the partition has seen:
    /// it comes from a fenced instance.
    InvalidProducerEpoch,
}

impl Refused {
    pub fn text(&self) -> String {
        match self {
            Refused::LeaderDown(b) => format!("NETWORK_EXCEPTION: leader broker {b} is down"),
            Refused::NotLeader(b) => format!("NOT_LEADER_OR_FOLLOWER: broker {b} no longer leads the partition"),
            Refused::Offline => "LEADER_NOT_AVAILABLE: the partition is offline".into(),
            Refused::OutOfOrder => "OUT_OF_ORDER_SEQUENCE_NUMBER: an earlier batch is missing".into(),
            Refused::InvalidProducerEpoch => {
                "INVALID_PRODUCER_EPOCH: a newer instance of the transactional producer has written here (this one is fenced)".into()
            }
            Refused::NotEnoughReplicas { isr, min } => {
                format!("NOT_ENOUGH_REPLICAS: the ISR has {isr} replica(s), min.insync.replicas is {min}")
            }
        }
    }
}

impl Partition {
    // ----- produce ---------------------------------------------------------------------------

    /// A produced batch reaches the leader. `Ok(Some(ack))`: acknowledged now; `Ok(None)`: waits
    /// for the high watermark (acks=all) or is never acknowledged (acks=0).
    /// `to` is the broker the request was sent to (the leader the producer knew then): a
    /// request reaches that broker only — if it no longer leads, it refuses the batch.
    pub fn append(
        &mut self,
        ctx: &Ctx,
        w: Writer,
        b: SentBatch,
        to: Option<BrokerId>,
        out: &mut Out,
    ) -> Result<Option<BatchAck>, Refused> {
        let leader = self.leader_at(ctx, to)?;
        let min = ctx.spec.min_insync_replicas;
        if b.acks == Acks::All && (self.isr.len() as u32) < min {
            return Err(Refused::NotEnoughReplicas { isr: self.isr.len(), min });
        }
        let log = &self.replicas[leader].log;
        if let (Some(id), Some(epoch)) = (b.producer_id, b.transactional) {
            if log.producer_epoch(id).is_some_and(|e| e > epoch) {
                return Err(Refused::InvalidProducerEpoch);
            }
        }
        if let Some(id) = b.producer_id {
            if let Some(base_offset) = log.duplicate_of(id, b.first_seq, b.last_seq) {
                // A retry of a batch the leader already has (its first answer was lost): the
                // answer names the original's offset.
                out.event(EventKind::DuplicateIgnored {
                    producer: w.name.clone(),
                    topic: ctx.spec.name.clone(),
                    partition: ctx.tp.partition,
                    first_seq: b.first_seq,
                    last_seq: b.last_seq,
                });
                return Ok(self.ack_when_replicated(w.index, b, base_offset));
            }
            if log.producer_seq(id) != b.prev_seq {
                // An earlier batch of this producer is still missing here: the producer resends
                // in order.
                return Err(Refused::OutOfOrder);
            }
        }
        let log = &mut self.replicas[leader].log;
        let bytes = u64::from(b.count) * w.record_bytes;
        let base_offset = log.append(
            &ctx.log_config,
            ctx.now,
            w.index.0,
            w.keyer,
            b.producer_id,
            b.first_seq,
            b.last_seq,
            b.count,
            bytes,
            b.transactional,
        );
        out.event(EventKind::Appended {
            producer: w.name.clone(),
            topic: ctx.spec.name.clone(),
            partition: ctx.tp.partition,
            base_offset,
            records: b.count,
            first_seq: b.first_seq,
            last_seq: b.last_seq,
        });
        self.advance_hw(ctx, out);
        let ready = self.ack_when_replicated(w.index, b, base_offset);
        self.wake_followers(ctx, out);
        Ok(ready)
    }

    /// The leader's replica, if `to` — the broker a request was sent to — runs and leads the
    /// partition: a request reaches that broker only.
    fn leader_at(&self, ctx: &Ctx, to: Option<BrokerId>) -> Result<usize, Refused> {
        let Some(to) = to else { return Err(Refused::Offline) };
        if !ctx.alive(to) {
            return Err(Refused::LeaderDown(to));
        }
        self.leader.filter(|&l| self.replicas[l].broker == to).ok_or(Refused::NotLeader(to))
    }

    /// WriteTxnMarkers at this partition: its leader — `to`, the broker the transaction
    /// coordinator sent it to — appends `producer_id`'s COMMIT or ABORT marker at the
    /// transaction's final `epoch`, returning its offset. The coordinator counts it written once it
    /// is replicated ([`Partition::replicated`]), as Kafka's leader answers it with acks=all.
    #[allow(clippy::too_many_arguments)]
    pub fn write_marker(
        &mut self,
        ctx: &Ctx,
        producer: ProducerId,
        producer_id: u32,
        epoch: u16,
        commit: bool,
        to: Option<BrokerId>,
        out: &mut Out,
    ) -> Result<u64, Refused> {
        let leader = self.leader_at(ctx, to)?;
        let log = &mut self.replicas[leader].log;
        if log.producer_epoch(producer_id).is_some_and(|e| e > epoch) {
            return Err(Refused::InvalidProducerEpoch);
        }
        let offset = log.append_marker(&ctx.log_config, ctx.now, producer.0, producer_id, epoch, commit);
        out.event(EventKind::TxnMarker {
            topic: ctx.spec.name.clone(),
            partition: ctx.tp.partition,
            producer_id,
            result: if commit { "commit" } else { "abort" }.to_string(),
            offset,
        });
        self.advance_hw(ctx, out);
        self.wake_followers(ctx, out);
        Ok(offset)
    }

    /// Whether `offset` is below the high watermark: on every in-sync replica.
    pub fn replicated(&self, offset: u64) -> bool {
        self.high_watermark > offset
    }

    /// The last stable offset consumers are told: `read_committed` reads below it (the high
    /// watermark, held back at the first transaction not yet decided and replicated).
    pub fn last_stable_offset(&self) -> u64 {
        self.log().last_stable_offset(self.high_watermark)
    }

    /// The leader's answer to a written batch at `base_offset`: acks=1 at once; acks=all at once
    /// if the high watermark already covers it (one replica), else when it does; acks=0 never.
    fn ack_when_replicated(&mut self, producer: ProducerId, b: SentBatch, base_offset: u64) -> Option<BatchAck> {
        let end = base_offset + u64::from(b.count);
        let ack =
            BatchAck { partition: b.partition, first_seq: b.first_seq, base_offset, leader_epoch: self.leader_epoch };
        match b.acks {
            Acks::Zero => None,
            Acks::One => {
                self.acked.add(base_offset, end);
                Some(ack)
            }
            Acks::All if self.high_watermark >= end => {
                self.acked.add(base_offset, end);
                Some(ack)
            }
            Acks::All => {
                self.pending_acks.push(PendingAck { producer, end_offset: end, base_offset, batch: b });
                None
            }
        }
    }

    /// Moves the leader's high watermark to the smallest log end in the ISR; answers the
    /// acks=all writes and fetches it makes possible.
    fn advance_hw(&mut self, ctx: &Ctx, out: &mut Out) {
        let replicated = self.replicas.len() > 1;
        let Some(leader) = self.leader else { return };
        let leader_broker = self.replicas[leader].broker;
        let hw = self
            .replicas
            .iter()
            .filter(|r| self.isr.contains(&r.broker))
            .map(|r| if r.broker == leader_broker { r.log.log_end_offset() } else { r.fetch_offset })
            .min()
            .unwrap_or(0)
            .max(self.high_watermark);
        if hw == self.high_watermark && self.pending_acks.is_empty() {
            return;
        }
        let moved = hw > self.high_watermark;
        self.high_watermark = hw;
        self.replicas[leader].hw = hw;
        let isr = self.isr.len();
        let (done, waiting): (Vec<PendingAck>, Vec<PendingAck>) =
            std::mem::take(&mut self.pending_acks).into_iter().partition(|a| a.end_offset <= hw);
        self.pending_acks = waiting;
        let min = ctx.spec.min_insync_replicas as usize;
        for a in done {
            if isr < min {
                let error = format!("NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank to {isr}");
                out.effects.push(Effect::Failed { producer: a.producer, batch: a.batch, error, written: true });
            } else {
                self.acked.add(a.base_offset, a.end_offset);
                let ack = BatchAck {
                    partition: a.batch.partition,
                    first_seq: a.batch.first_seq,
                    base_offset: a.base_offset,
                    leader_epoch: self.leader_epoch,
                };
                out.effects.push(Effect::Ack { producer: a.producer, ack });
            }
        }
        if !moved {
            return;
        }
        if replicated {
            out.event(EventKind::HighWatermark {
                topic: ctx.spec.name.clone(),
                partition: ctx.tp.partition,
                offset: hw,
            });
            self.wake_followers(ctx, out);
        }
        out.effects.push(Effect::HighWatermarkMoved);
    }

    // ----- followers -------------------------------------------------------------------------

    /// Answers parked follower fetches that now have something to get.
    fn wake_followers(&mut self, ctx: &Ctx, out: &mut Out) {
        for r in 0..self.replicas.len() {
            if self.replicas[r].parked {
                self.answer_replica(ctx, r, out);
            }
        }
    }

    /// The leader sends follower `r` what it lacks (records, or news of the high watermark);
    /// with nothing to send it parks the fetch. Returns whether it answered.
    fn answer_replica(&mut self, ctx: &Ctx, r: usize, out: &mut Out) -> bool {
        let Some(leader) = self.leader else { return false };
        let from = self.replicas[r].fetch_offset;
        let leader_log = &self.replicas[leader].log;
        let has_records = from < leader_log.log_end_offset();
        let hw_news = self.replicas[r].hw < self.high_watermark;
        if !has_records && !hw_news {
            self.replicas[r].parked = true;
            return false;
        }
        let batches: Vec<Batch> = leader_log.batches_between(from, u64::MAX).take(MAX_BATCHES_PER_FETCH).collect();
        self.replicas[r].parked = false;
        let (gen, hw) = (self.replicas[r].fetch_gen, self.high_watermark);
        let delay = self.replication_latency(ctx, r);
        let msg = ReplicaMsg::FetchResponse { gen, batches, hw, truncate_to: None };
        out.effects.push(Effect::ToReplica { delay, replica: r, msg });
        true
    }

    /// One-way latency between follower `r` and its leader, slow brokers included.
    fn replication_latency(&self, ctx: &Ctx, r: usize) -> u64 {
        let delay = |b: BrokerId| ctx.broker(b).delay_ms;
        let leader = self.leader_broker().map_or(0, delay);
        ctx.latency + delay(self.replicas[r].broker) + leader
    }

    /// Every follower starts fetching from its leader.
    pub fn start_followers(&mut self, ctx: &Ctx, out: &mut Out) {
        for r in 0..self.replicas.len() {
            if Some(r) != self.leader {
                self.send_replica_fetch(ctx, r, out);
            }
        }
    }

    /// Follower `r` sends its next fetch: from its log end, with its latest leader epoch.
    fn send_replica_fetch(&mut self, ctx: &Ctx, r: usize, out: &mut Out) {
        let rep = &self.replicas[r];
        let (gen, fetch_offset, last_epoch) = (rep.fetch_gen, rep.log.log_end_offset(), rep.log.latest_epoch());
        let delay = self.replication_latency(ctx, r);
        out.effects.push(Effect::ToReplica {
            delay,
            replica: r,
            msg: ReplicaMsg::Fetch { gen, fetch_offset, last_epoch },
        });
    }

    /// A message between the leader and replica `r` arrives (dropped if the fetch it belongs to
    /// was abandoned, or the broker it is for is down).
    pub fn on_replica_msg(&mut self, ctx: &Ctx, r: usize, msg: ReplicaMsg, out: &mut Out) {
        match msg {
            ReplicaMsg::Fetch { gen, fetch_offset, last_epoch } => {
                self.on_fetch(ctx, r, gen, fetch_offset, last_epoch, out)
            }
            ReplicaMsg::FetchResponse { gen, batches, hw, truncate_to } => {
                self.on_fetch_response(ctx, r, gen, batches, hw, truncate_to, out)
            }
        }
    }

    /// Follower `r`'s fetch reaches the leader.
    fn on_fetch(&mut self, ctx: &Ctx, r: usize, gen: u64, fetch_offset: u64, last_epoch: u32, out: &mut Out) {
        let Some(leader) = self.leader else { return };
        let (leader_broker, follower) = (self.replicas[leader].broker, self.replicas[r].broker);
        if self.replicas[r].fetch_gen != gen || !ctx.alive(leader_broker) || !ctx.alive(follower) {
            return;
        }
        // A follower with records of an epoch the leader ended earlier must truncate first.
        let leader_log = &self.replicas[leader].log;
        let (_, epoch_end) = leader_log.end_offset_for_epoch(last_epoch);
        if epoch_end < fetch_offset {
            let to = self.replicas[r].log.divergence_from(leader_log);
            let delay = self.replication_latency(ctx, r);
            let msg = ReplicaMsg::FetchResponse { gen, batches: Vec::new(), hw: 0, truncate_to: Some(to) };
            out.effects.push(Effect::ToReplica { delay, replica: r, msg });
            return;
        }
        let leader_end = leader_log.log_end_offset();
        let hw = self.high_watermark;
        self.replicas[r].fetch_offset = fetch_offset;
        if fetch_offset >= leader_end {
            self.replicas[r].last_caught_up = ctx.now;
        }
        if !self.isr.contains(&follower) && fetch_offset >= hw {
            self.isr.push(follower);
            out.event(EventKind::IsrChanged {
                topic: ctx.spec.name.clone(),
                partition: ctx.tp.partition,
                isr: self.isr.clone(),
                reason: format!("broker {follower} caught up"),
            });
        }
        self.advance_hw(ctx, out);
        if self.replicas[r].fetch_gen == gen && !self.replicas[r].parked {
            self.answer_replica(ctx, r, out);
        }
    }

    /// The leader's answer reaches follower `r`: it truncates, or copies the batches, and fetches
    /// again.
    #[allow(clippy::too_many_arguments)]
    fn on_fetch_response(
        &mut self,
        ctx: &Ctx,
        r: usize,
        gen: u64,
        batches: Vec<Batch>,
        hw: u64,
        truncate_to: Option<u64>,
        out: &mut Out,
    ) {
        let follower = self.replicas[r].broker;
        if self.replicas[r].fetch_gen != gen || !ctx.alive(follower) {
            return;
        }
        let (topic, partition) = (ctx.spec.name.clone(), ctx.tp.partition);
        let rep = &mut self.replicas[r];
        if let Some(to) = truncate_to {
            let from = rep.log.log_end_offset();
            rep.log.truncate_to(to);
            let to = rep.log.log_end_offset();
            rep.hw = rep.hw.min(to);
            out.event(EventKind::Truncated { topic, partition, broker: follower, from, to });
        } else {
            let before = rep.log.log_end_offset();
            for b in batches {
                if b.base_offset == rep.log.log_end_offset() {
                    rep.log.append_batch(&ctx.log_config, ctx.now, b);
                }
            }
            let end = rep.log.log_end_offset();
            rep.hw = rep.hw.max(hw.min(end));
            if let Some(leader) = self.leader.filter(|_| end > before) {
                if let Ok([follower, leader]) = self.replicas.get_disjoint_mut([r, leader]) {
                    follower.log.share_storage_with(&leader.log);
                }
            }
            if end > before {
                out.event(EventKind::Replicated { topic, partition, broker: follower, log_end_offset: end });
            }
        }
        self.send_replica_fetch(ctx, r, out);
    }

    /// The leader drops followers not caught up for `replica.lag.time.max.ms` (a parked follower
    /// is caught up).
    pub fn isr_check(&mut self, ctx: &Ctx, out: &mut Out) {
        let Some(leader) = self.leader else { return };
        if !ctx.alive(self.replicas[leader].broker) {
            return;
        }
        let lag = ctx.replica_lag_time_max_ms;
        let behind: Vec<BrokerId> = self
            .replicas
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                *i != leader && self.isr.contains(&r.broker) && !r.parked && ctx.now.since(r.last_caught_up) > lag
            })
            .map(|(_, r)| r.broker)
            .collect();
        if behind.is_empty() {
            return;
        }
        self.isr.retain(|b| !behind.contains(b));
        let listed: Vec<String> = behind.iter().map(BrokerId::to_string).collect();
        let reason = format!("broker(s) [{}] not caught up for replica.lag.time.max.ms ({lag} ms)", listed.join(", "));
        out.event(EventKind::IsrChanged {
            topic: ctx.spec.name.clone(),
            partition: ctx.tp.partition,
            isr: self.isr.clone(),
            reason,
        });
        self.advance_hw(ctx, out);
    }

    /// Every live broker applies retention to its own replica; the leader's (or last leader's)
    /// deletions are reported.
    pub fn apply_retention(&mut self, ctx: &Ctx, out: &mut Out) {
        let shown = self.leader.unwrap_or(self.last_leader);
        let mut reported = None;
        for (i, r) in self.replicas.iter_mut().enumerate() {
            if !ctx.alive(r.broker) {
                continue;
            }
            let deleted = r.log.apply_retention(&ctx.log_config, ctx.now);
            if i == shown && deleted > 0 {
                reported = Some((deleted, r.log.log_start_offset()));
            }
        }
        if let Some((records, log_start_offset)) = reported {
            out.event(EventKind::RetentionDeleted {
                topic: ctx.spec.name.clone(),
                partition: ctx.tp.partition,
                records,
                log_start_offset,
            });
        }
    }

    // ----- brokers come and go ---------------------------------------------------------------

    /// `broker` crashed (already marked dead): its fetches stop, and if it led, its connections
    /// close: writes waiting for replication fail and are retried.
    pub fn on_broker_crashed(&mut self, broker: BrokerId, out: &mut Out) {
        let Some(i) = self.replicas.iter().position(|r| r.broker == broker) else { return };
        self.replicas[i].parked = false;
        self.replicas[i].fetch_gen += 1;
        if self.leader == Some(i) {
            for r in self.replicas.iter_mut() {
                r.parked = false;
                r.fetch_gen += 1;
            }
            for a in std::mem::take(&mut self.pending_acks) {
                let error = format!("NETWORK_EXCEPTION: leader broker {broker} is down");
                out.effects.push(Effect::Failed { producer: a.producer, batch: a.batch, error, written: true });
            }
        }
    }

    /// The controller fenced `broker` (already marked fenced): it leaves the ISR (unless it is the
    /// last member), and if it led, a new leader is elected.
    pub fn on_broker_fenced(&mut self, ctx: &Ctx, broker: BrokerId, out: &mut Out) {
        if !self.replicas.iter().any(|r| r.broker == broker) {
            return;
        }
        let was_leader = self.leader_broker() == Some(broker);
        if self.isr.contains(&broker) && self.isr.len() > 1 {
            self.isr.retain(|&b| b != broker);
            out.event(EventKind::IsrChanged {
                topic: ctx.spec.name.clone(),
                partition: ctx.tp.partition,
                isr: self.isr.clone(),
                reason: if ctx.broker(broker).stopped {
                    format!("broker {broker} shutting down")
                } else {
                    format!("broker {broker} fenced")
                },
            });
        }
        if was_leader {
            self.elect_leader(ctx, out);
        } else {
            self.advance_hw(ctx, out);
        }
    }

    /// `broker` is back (already marked alive and unfenced): an offline partition it can lead
    /// gets it as leader; otherwise it fetches from the leader again (truncating first where its
    /// log diverges).
    pub fn on_broker_restarted(&mut self, ctx: &Ctx, broker: BrokerId, out: &mut Out) {
        let Some(i) = self.replicas.iter().position(|r| r.broker == broker) else { return };
        if self.leader.is_none() && (self.isr.contains(&broker) || ctx.unclean_leader_election) {
            self.elect_leader(ctx, out);
        } else if self.leader != Some(i) {
            let rep = &mut self.replicas[i];
            rep.fetch_gen += 1;
            rep.parked = false;
            self.send_replica_fetch(ctx, i, out);
        }
    }

    /// The controller picks the first live, unfenced ISR replica in assignment order; with
    /// none, the partition goes offline — unless unclean election lets any live replica lead.
    fn elect_leader(&mut self, ctx: &Ctx, out: &mut Out) {
        let clean = self.replicas.iter().position(|r| self.isr.contains(&r.broker) && ctx.usable(r.broker));
        let unclean = if clean.is_none() && ctx.unclean_leader_election {
            self.replicas.iter().position(|r| ctx.usable(r.broker))
        } else {
            None
        };
        let Some(new) = clean.or(unclean) else {
            self.leader = None;
            out.event(EventKind::LeaderElected {
                topic: ctx.spec.name.clone(),
                partition: ctx.tp.partition,
                leader: None,
                leader_epoch: self.leader_epoch,
                isr: self.isr.clone(),
                unclean: false,
                lost_acked: 0,
            });
            return;
        };
        self.become_leader(ctx, new, unclean.is_some(), out);
    }

    /// Whether the preferred replica (the first assigned) could lead but does not: it is in the
    /// ISR, alive and registered.
    pub fn imbalanced(&self, ctx: &Ctx) -> bool {
        self.leader != Some(0) && self.isr.contains(&self.replicas[0].broker) && ctx.usable(self.replicas[0].broker)
    }

    /// The controller's preferred leader election (`auto.leader.rebalance.enable`): leadership
    /// goes back to the preferred replica if it is in the ISR and alive.
    pub fn elect_preferred(&mut self, ctx: &Ctx, out: &mut Out) {
        if self.imbalanced(ctx) {
            self.become_leader(ctx, 0, false, out);
        }
    }

    /// Replica `new` leads, in a new leader epoch. An old leader still running becomes a
    /// follower: writes waiting there for replication fail (NOT_LEADER_OR_FOLLOWER) and are
    /// retried at the new leader.
    fn become_leader(&mut self, ctx: &Ctx, new: usize, unclean: bool, out: &mut Out) {
        let (topic, partition) = (ctx.spec.name.clone(), ctx.tp.partition);
        for a in std::mem::take(&mut self.pending_acks) {
            let error = "NOT_LEADER_OR_FOLLOWER: the partition has a new leader".to_string();
            out.effects.push(Effect::Failed { producer: a.producer, batch: a.batch, error, written: true });
        }
        // What the old leader's log had past the point where the new one's diverges is gone.
        let old = self.last_leader;
        let keep = if old == new { u64::MAX } else { self.replicas[new].log.divergence_from(&self.replicas[old].log) };
        let lost_acked = self.acked.distinct_in(keep, u64::MAX);
        self.acked.truncate_from(keep);
        self.lost_acked += lost_acked;
        self.leader_epoch += 1;
        let epoch = self.leader_epoch;
        self.leader = Some(new);
        self.last_leader = new;
        let broker = self.replicas[new].broker;
        if unclean {
            self.isr = vec![broker];
        }
        self.replicas[new].log.start_epoch(epoch);
        self.epoch_start_offset = self.replicas[new].log.log_end_offset();
        self.high_watermark = self.replicas[new].hw.min(self.replicas[new].log.log_end_offset());
        for r in self.replicas.iter_mut() {
            // The new leader knows nothing of its followers yet: they tell it in their fetches.
            r.fetch_gen += 1;
            r.parked = false;
            r.fetch_offset = 0;
            r.last_caught_up = ctx.now;
        }
        out.event(EventKind::LeaderElected {
            topic,
            partition,
            leader: Some(broker),
            leader_epoch: epoch,
            isr: self.isr.clone(),
            unclean,
            lost_acked,
        });
        for i in 0..self.replicas.len() {
            if i != new && ctx.usable(self.replicas[i].broker) {
                self.send_replica_fetch(ctx, i, out);
            }
        }
        self.advance_hw(ctx, out);
    }
}

#[cfg(test)]
mod tests {
    //! Each transition of one partition's replication, message by message, as Kafka's
    //! PartitionTest, ReplicaManagerTest and the KIP-101/KIP-279 truncation cases exercise them.

    use super::*;
    use crate::sim::cluster::Broker;
    use crate::sim::ids::TopicId;

    /// A partition of topic `t` on brokers 1, 2, 3 (min.insync.replicas 2), its brokers, a clock.
    struct Harness {
        part: Partition,
        spec: TopicSpec,
        brokers: Vec<Broker>,
        now: SimTime,
        unclean: bool,
        /// Replica messages sent and not yet delivered, in order.
        wire: Vec<(usize, ReplicaMsg)>,
        next_seq: u64,
    }

    const LAG: u64 = 30_000;

    fn batch(acks: Acks, producer_id: Option<u32>, prev_seq: Option<u64>, first_seq: u64, count: u32) -> SentBatch {
        SentBatch {
            partition: 0,
            prev_seq,
            first_seq,
            last_seq: first_seq + u64::from(count) - 1,
            count,
            created: SimTime::ZERO,
            attempt: 1,
            in_flight: true,
            acks,
            producer_id,
            maybe_written: false,
            transactional: None,
        }
    }

    impl Harness {
        fn new() -> Harness {
            Harness {
                part: Partition::new(&[1, 2, 3].map(BrokerId)),
                spec: TopicSpec {
                    name: "t".into(),
                    partitions: 1,
                    replication_factor: 3,
                    min_insync_replicas: 2,
                    ..TopicSpec::default()
                },
                brokers: (1..=3)
                    .map(|id| Broker {
                        id: BrokerId(id),
                        alive: true,
                        inc: 0,
                        fenced: false,
                        stopped: false,
                        delay_ms: 0,
                    })
                    .collect(),
                now: SimTime(0),
                unclean: false,
                wire: Vec::new(),
                next_seq: 0,
            }
        }

        /// Runs a handler; keeps the replica messages it sends on the wire and returns the rest.
        fn run<R>(&mut self, f: impl FnOnce(&mut Partition, &Ctx, &mut Out) -> R) -> (R, Vec<Effect>) {
            let mut out = Out::default();
            let ctx = Ctx {
                now: self.now,
                tp: Tp { topic: TopicId(0), partition: 0 },
                spec: &self.spec,
                log_config: LogConfig {
                    retention_ms: self.spec.retention_ms,
                    retention_bytes: self.spec.retention_bytes,
                    segment_bytes: self.spec.segment_bytes,
                    segment_ms: self.spec.segment_ms,
                },
                brokers: &self.brokers,
                latency: 1,
                replica_lag_time_max_ms: LAG,
                unclean_leader_election: self.unclean,
            };
            let r = f(&mut self.part, &ctx, &mut out);
            let mut rest = Vec::new();
            for e in out.effects {
                match e {
                    Effect::ToReplica { replica, msg, .. } => self.wire.push((replica, msg)),
                    e => rest.push(e),
                }
            }
            (r, rest)
        }

        /// A producer's batch of `count` records (acks as given, no idempotence).
        fn produce(&mut self, acks: Acks, count: u32) -> (Result<Option<BatchAck>, Refused>, Vec<Effect>) {
            let b = batch(acks, None, None, self.next_seq, count);
            self.next_seq += u64::from(count);
            self.append(b)
        }

        /// A batch the leader must take.
        fn write(&mut self, acks: Acks, count: u32) -> Vec<Effect> {
            let (result, effects) = self.produce(acks, count);
            assert!(result.is_ok(), "{result:?}");
            effects
        }

        fn append(&mut self, b: SentBatch) -> (Result<Option<BatchAck>, Refused>, Vec<Effect>) {
            let w = Writer { index: ProducerId(0), name: &Name::from("p"), keyer: 0, record_bytes: 100 };
            // Sent to the leader of the moment.
            self.run(|p, ctx, out| {
                let to = p.leader.map(|l| p.replicas[l].broker);
                p.append(ctx, w, b, to, out)
            })
        }

        /// Delivers replica messages until none is left (or only those for `except`'s broker,
        /// which are dropped): every follower catches up and parks. Returns the other effects.
        fn replicate_except(&mut self, except: Option<BrokerId>) -> Vec<Effect> {
            let mut rest = Vec::new();
            for _ in 0..1_000 {
                if self.wire.is_empty() {
                    return rest;
                }
                let (r, msg) = self.wire.remove(0);
                if except == Some(self.part.replicas[r].broker) {
                    continue;
                }
                rest.extend(self.run(|p, ctx, out| p.on_replica_msg(ctx, r, msg, out)).1);
            }
            panic!("replication did not settle");
        }

        fn replicate(&mut self) -> Vec<Effect> {
            self.replicate_except(None)
        }

        fn crash(&mut self, broker: BrokerId) -> Vec<Effect> {
            self.brokers[broker.ix()].alive = false;
            self.run(|p, _, out| p.on_broker_crashed(broker, out)).1
        }

        fn fence(&mut self, broker: BrokerId) -> Vec<Effect> {
            self.brokers[broker.ix()].fenced = true;
            self.run(|p, ctx, out| p.on_broker_fenced(ctx, broker, out)).1
        }

        fn restart(&mut self, broker: BrokerId) -> Vec<Effect> {
            let b = &mut self.brokers[broker.ix()];
            b.alive = true;
            b.fenced = false;
            self.run(|p, ctx, out| p.on_broker_restarted(ctx, broker, out)).1
        }

        fn log_end(&self, broker: BrokerId) -> u64 {
            self.part.replicas.iter().find(|r| r.broker == broker).unwrap().log.log_end_offset()
        }
    }

    fn acks(effects: &[Effect]) -> Vec<u64> {
        effects
            .iter()
            .filter_map(|e| if let Effect::Ack { ack, .. } = e { Some(ack.base_offset) } else { None })
            .collect()
    }

    fn failures(effects: &[Effect]) -> Vec<String> {
        effects
            .iter()
            .filter_map(|e| if let Effect::Failed { error, .. } = e { Some(error.clone()) } else { None })
            .collect()
    }

    fn events(effects: &[Effect]) -> Vec<&EventKind> {
        effects.iter().filter_map(|e| if let Effect::Event(k) = e { Some(k) } else { None }).collect()
    }

    /// Broker ids as the numbers the assertions write.
    fn numbers(ids: &[BrokerId]) -> Vec<u32> {
        ids.iter().map(|b| b.0).collect()
    }

    fn isr_events(effects: &[Effect]) -> Vec<(Vec<u32>, String)> {
        events(effects)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::IsrChanged { isr, reason, .. } => Some((numbers(isr), reason.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn followers_start_fetching_and_park_at_the_leader_when_caught_up() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        assert_eq!(h.wire.iter().map(|(r, _)| *r).collect::<Vec<_>>(), [1, 2]);
        assert!(h.replicate().is_empty());
        assert!(h.part.replicas[1].parked && h.part.replicas[2].parked);
    }

    #[test]
    fn acks_1_is_answered_at_once_and_consumers_wait_for_the_high_watermark() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        let (ack, effects) = h.produce(Acks::One, 5);
        let ack = ack.unwrap().unwrap();
        assert_eq!((ack.base_offset, ack.leader_epoch), (0, 0));
        assert!(matches!(events(&effects)[..], [EventKind::Appended { base_offset: 0, records: 5, .. }]));
        assert_eq!(h.part.high_watermark, 0, "not replicated yet");
        assert_eq!(h.wire.len(), 2, "both parked followers are answered");
        // The followers copy the batch; their next fetches move the high watermark.
        let effects = h.replicate();
        assert_eq!(h.part.high_watermark, 5);
        assert!(effects.iter().any(|e| matches!(e, Effect::HighWatermarkMoved)));
        assert_eq!((h.log_end(BrokerId(2)), h.log_end(BrokerId(3))), (5, 5));
        assert_eq!(h.part.replicas[1].hw, 5, "followers learn the high watermark from the leader");
    }

    #[test]
    fn acks_all_is_answered_once_the_whole_isr_has_the_batch() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        let (ack, _) = h.produce(Acks::All, 3);
        assert_eq!(ack, Ok(None));
        let effects = h.replicate();
        assert_eq!(acks(&effects), [0]);
        assert_eq!(h.part.acked.distinct_in(0, u64::MAX), 3);
    }

    #[test]
    fn a_single_replica_answers_acks_all_at_once() {
        let mut h = Harness::new();
        h.part = Partition::new(&[BrokerId(1)]);
        h.spec.min_insync_replicas = 1;
        let (ack, effects) = h.produce(Acks::All, 2);
        assert_eq!(ack.unwrap().unwrap().base_offset, 0);
        assert!(
            !events(&effects).iter().any(|k| matches!(k, EventKind::HighWatermark { .. })),
            "one replica: no event"
        );
        assert!(effects.iter().any(|e| matches!(e, Effect::HighWatermarkMoved)));
    }

    #[test]
    fn acks_0_is_never_answered() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        assert_eq!(h.produce(Acks::Zero, 2).0, Ok(None));
        assert!(acks(&h.replicate()).is_empty());
    }

    #[test]
    fn a_follower_behind_for_replica_lag_time_max_leaves_the_isr_and_acks_all_is_refused_below_min_isr() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::One, 4);
        // Broker 2 stops fetching (slow or partitioned): the answer to its fetch never arrives.
        // Broker 3 copies the batch and parks, caught up.
        h.replicate_except(Some(BrokerId(2)));
        h.now = SimTime(LAG);
        let (_, effects) = h.run(|p, ctx, out| p.isr_check(ctx, out));
        assert!(isr_events(&effects).is_empty(), "not yet: {effects:?}");
        h.now = SimTime(LAG + 1);
        let (_, effects) = h.run(|p, ctx, out| p.isr_check(ctx, out));
        assert_eq!(
            isr_events(&effects),
            [(vec![1, 3], "broker(s) [2] not caught up for replica.lag.time.max.ms (30000 ms)".to_string())]
        );
        assert_eq!(h.part.high_watermark, 4, "the high watermark no longer waits for broker 2");
        assert!(effects.iter().any(|e| matches!(e, Effect::HighWatermarkMoved)));
        // One more out and acks=all is refused: the ISR is below min.insync.replicas.
        h.part.isr = vec![BrokerId(1)];
        let (refused, _) = h.produce(Acks::All, 1);
        assert_eq!(refused, Err(Refused::NotEnoughReplicas { isr: 1, min: 2 }));
    }

    #[test]
    fn writes_waiting_when_the_isr_shrinks_below_min_isr_fail_after_the_append() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        let (ack, _) = h.produce(Acks::All, 2);
        assert_eq!(ack, Ok(None));
        h.wire.clear(); // the followers never get it
        h.now = SimTime(LAG + 1);
        h.part.replicas[1].parked = false;
        h.part.replicas[2].parked = false;
        let (_, effects) = h.run(|p, ctx, out| p.isr_check(ctx, out));
        assert_eq!(isr_events(&effects)[0].0, [1]);
        assert_eq!(failures(&effects), ["NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank to 1"]);
        assert!(matches!(
            effects.iter().find(|e| matches!(e, Effect::Failed { .. })),
            Some(Effect::Failed { written: true, .. })
        ));
    }

    #[test]
    fn a_follower_that_catches_up_rejoins_the_isr() {
        let mut h = Harness::new();
        h.part.isr = vec![BrokerId(1), BrokerId(2)];
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        let effects = h.replicate();
        assert_eq!(isr_events(&effects), [(vec![1, 2, 3], "broker 3 caught up".to_string())]);
    }

    #[test]
    fn the_idempotent_leader_answers_a_retried_batch_with_its_first_offset_and_refuses_a_gap() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        let first = batch(Acks::One, Some(7), None, 0, 3);
        assert_eq!(h.append(first).0.unwrap().unwrap().base_offset, 0);
        h.write(Acks::One, 2); // another producer's records in between
        let (again, effects) = h.append(first);
        assert_eq!(again.unwrap().unwrap().base_offset, 0);
        assert!(matches!(events(&effects)[..], [EventKind::DuplicateIgnored { first_seq: 0, last_seq: 2, .. }]));
        assert_eq!(h.log_end(BrokerId(1)), 5, "written once");
        // Sequence 3..=4 went missing: 5..=6 must wait for it.
        let gap = batch(Acks::One, Some(7), Some(4), 5, 2);
        assert_eq!(h.append(gap).0, Err(Refused::OutOfOrder));
        let next = batch(Acks::One, Some(7), Some(2), 3, 2);
        assert_eq!(h.append(next).0.unwrap().unwrap().base_offset, 5);
    }

    #[test]
    fn a_leader_crash_fails_waiting_writes_and_drops_replication_in_flight() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::All, 2);
        assert!(!h.wire.is_empty());
        let effects = h.crash(BrokerId(1));
        assert_eq!(failures(&effects), ["NETWORK_EXCEPTION: leader broker 1 is down"]);
        // Messages of the old fetches are dropped.
        let effects = h.replicate();
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(h.log_end(BrokerId(2)), 0);
        let (refused, _) = h.produce(Acks::One, 1);
        assert_eq!(refused, Err(Refused::LeaderDown(BrokerId(1))));
    }

    #[test]
    fn fencing_the_leader_elects_the_first_live_isr_replica_with_a_new_epoch() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::All, 4);
        h.replicate();
        h.crash(BrokerId(1));
        let effects = h.fence(BrokerId(1));
        let elected: Vec<_> = events(&effects)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::LeaderElected { leader, leader_epoch, isr, unclean, lost_acked, .. } => {
                    Some((leader.map(|b| b.0), *leader_epoch, numbers(isr), *unclean, *lost_acked))
                }
                _ => None,
            })
            .collect();
        assert_eq!(elected, [(Some(2), 1, vec![2, 3], false, 0)]);
        assert_eq!(isr_events(&effects), [(vec![2, 3], "broker 1 fenced".to_string())]);
        assert_eq!(h.part.leader_broker(), Some(BrokerId(2)));
        assert_eq!(h.part.epoch_start_offset, 4);
        assert_eq!(h.part.visible_high_watermark(), Some(4));
        let (ack, _) = h.produce(Acks::One, 1);
        assert_eq!(ack.unwrap().unwrap().leader_epoch, 1);
    }

    #[test]
    fn a_new_leader_hides_its_high_watermark_until_it_reaches_the_start_of_its_epoch() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::One, 3);
        // The followers copy the batch, but the leader crashes before they learn the new high
        // watermark: broker 2 has 3 records and a high watermark of 0.
        let (r, msg) = h.wire.remove(0);
        h.run(|p, ctx, out| p.on_replica_msg(ctx, r, msg, out));
        h.wire.clear();
        h.crash(BrokerId(1));
        h.fence(BrokerId(1));
        assert_eq!(h.part.leader_broker(), Some(BrokerId(2)));
        assert_eq!((h.part.high_watermark, h.part.epoch_start_offset), (0, 3));
        assert_eq!(h.part.visible_high_watermark(), None, "KIP-207: OFFSET_NOT_AVAILABLE until then");
        h.replicate();
        assert_eq!(h.part.visible_high_watermark(), Some(3));
    }

    #[test]
    fn with_no_live_isr_replica_the_partition_goes_offline_unless_election_may_be_unclean() {
        for unclean in [false, true] {
            let mut h = Harness::new();
            h.unclean = unclean;
            h.run(|p, ctx, out| p.start_followers(ctx, out));
            h.replicate();
            h.write(Acks::One, 2);
            h.replicate();
            // Broker 3 falls out of the ISR, then the leader takes more acks=1 writes alone.
            h.part.isr = vec![BrokerId(1), BrokerId(2)];
            h.crash(BrokerId(3));
            h.fence(BrokerId(3));
            h.crash(BrokerId(2));
            h.fence(BrokerId(2));
            h.write(Acks::One, 5);
            h.restart(BrokerId(3));
            h.crash(BrokerId(1));
            let effects = h.fence(BrokerId(1));
            if unclean {
                assert_eq!(h.part.leader_broker(), Some(BrokerId(3)));
                assert_eq!(numbers(&h.part.isr), [3]);
                let lost = events(&effects).iter().find_map(|k| match k {
                    EventKind::LeaderElected { unclean: true, lost_acked, .. } => Some(*lost_acked),
                    _ => None,
                });
                assert_eq!(lost, Some(5), "the acknowledged records only broker 1 had are gone");
                assert_eq!(h.part.lost_acked, 5);
            } else {
                assert_eq!(h.part.leader, None);
                assert_eq!(numbers(&h.part.isr), [1], "the last ISR member stays, for a clean election later");
                assert_eq!(h.produce(Acks::One, 1).0, Err(Refused::Offline));
                // Broker 1 returns: it leads again, with everything it had.
                h.restart(BrokerId(1));
                assert_eq!(h.part.leader_broker(), Some(BrokerId(1)));
                assert_eq!(h.part.lost_acked, 0);
            }
        }
    }

    #[test]
    fn a_returning_leader_truncates_what_it_wrote_alone_before_it_catches_up() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::One, 2);
        h.replicate();
        // Broker 1 takes 3 more records alone, then crashes; broker 2 leads in epoch 1.
        h.write(Acks::One, 3);
        h.wire.clear();
        h.crash(BrokerId(1));
        h.fence(BrokerId(1));
        h.write(Acks::One, 1);
        h.replicate();
        assert_eq!((h.log_end(BrokerId(1)), h.log_end(BrokerId(2))), (5, 3));
        let effects = h.restart(BrokerId(1));
        assert!(effects.is_empty());
        let effects = h.replicate();
        let truncated: Vec<_> = events(&effects)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::Truncated { broker, from, to, .. } => Some((broker.0, *from, *to)),
                _ => None,
            })
            .collect();
        assert_eq!(truncated, [(1, 5, 2)], "back to where epoch 0 ended on the new leader");
        assert_eq!(h.log_end(BrokerId(1)), 3, "then it copies the new leader's record");
        assert_eq!(isr_events(&effects).last().unwrap().0, [2, 3, 1]);
    }

    #[test]
    fn retention_is_applied_by_live_brokers_and_reported_for_the_leader() {
        let mut h = Harness::new();
        h.spec.retention_ms = Some(1_000);
        h.spec.segment_ms = 10;
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::One, 2);
        h.replicate();
        h.now = SimTime(20);
        h.write(Acks::One, 1); // rolls a new segment
        h.replicate();
        h.brokers[2].alive = false;
        h.now = SimTime(5_000);
        let (_, effects) = h.run(|p, ctx, out| p.apply_retention(ctx, out));
        assert!(matches!(events(&effects)[..], [EventKind::RetentionDeleted { records: 2, log_start_offset: 2, .. }]));
        assert_eq!(h.part.replicas[1].log.log_start_offset(), 2);
        assert_eq!(h.part.replicas[2].log.log_start_offset(), 0, "a dead broker deletes nothing");
    }

    // ----- transactions ------------------------------------------------------------------

    /// A transactional batch of producer id 5 at `epoch`, `count` records from `first_seq`.
    fn txn_batch(epoch: u16, prev_seq: Option<u64>, first_seq: u64, count: u32) -> SentBatch {
        SentBatch { transactional: Some(epoch), ..batch(Acks::All, Some(5), prev_seq, first_seq, count) }
    }

    fn marker(h: &mut Harness, epoch: u16, commit: bool) -> (Result<u64, Refused>, Vec<Effect>) {
        h.run(|p, ctx, out| {
            let to = p.leader.map(|l| p.replicas[l].broker);
            p.write_marker(ctx, ProducerId(0), 5, epoch, commit, to, out)
        })
    }

    #[test]
    fn a_transaction_holds_the_last_stable_offset_until_its_marker_is_replicated_on_every_replica() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::All, 2); // 0-1, outside transactions
        let (r, _) = h.append(txn_batch(0, None, 0, 3)); // 2-4
        assert!(r.is_ok(), "{r:?}");
        h.replicate();
        assert_eq!(
            (h.part.high_watermark, h.part.last_stable_offset()),
            (5, 2),
            "read_committed stops at the open transaction"
        );
        let (at, effects) = marker(&mut h, 1, true);
        assert_eq!(at, Ok(5));
        assert!(effects.iter().any(|e| matches!(e,
            Effect::Event(EventKind::TxnMarker { partition: 0, producer_id: 5, result, offset: 5, .. }) if result == "commit")));
        assert!(!h.part.replicated(5), "written on the leader only");
        assert_eq!(h.part.last_stable_offset(), 2, "decided, not yet replicated");
        h.replicate();
        assert!(h.part.replicated(5));
        assert_eq!((h.part.high_watermark, h.part.last_stable_offset()), (6, 6));
        for r in &h.part.replicas {
            assert_eq!(r.log.last_stable_offset(6), 6, "every replica's log took the marker in");
        }
    }

    #[test]
    fn a_fenced_instance_can_neither_write_nor_have_a_marker_written_at_its_old_epoch() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.append(txn_batch(0, None, 0, 2)).0.unwrap();
        // The coordinator fenced epoch 0 and aborted at epoch 2.
        assert_eq!(marker(&mut h, 2, false).0, Ok(2));
        assert_eq!(
            h.append(txn_batch(0, Some(1), 2, 1)).0,
            Err(Refused::InvalidProducerEpoch),
            "the zombie's late write"
        );
        assert_eq!(marker(&mut h, 1, true).0, Err(Refused::InvalidProducerEpoch));
        h.replicate();
        assert_eq!(h.part.log().aborted_between(0, 3).count(), 1);
        assert_eq!(h.part.last_stable_offset(), 3);
        // The new instance writes at its epoch.
        assert!(h.append(txn_batch(3, Some(1), 2, 1)).0.is_ok());
    }

    #[test]
    fn a_marker_goes_to_the_leader_it_was_sent_to_or_fails() {
        let mut h = Harness::new();
        h.append(txn_batch(0, None, 0, 1)).0.unwrap();
        let r = h.run(|p, ctx, out| p.write_marker(ctx, ProducerId(0), 5, 1, true, Some(BrokerId(2)), out)).0;
        assert_eq!(r, Err(Refused::NotLeader(BrokerId(2))));
        let r = h.run(|p, ctx, out| p.write_marker(ctx, ProducerId(0), 5, 1, true, None, out)).0;
        assert_eq!(r, Err(Refused::Offline));
    }

    fn leaders_elected(effects: &[Effect]) -> Vec<(Option<u32>, u32)> {
        events(effects)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::LeaderElected { leader, leader_epoch, .. } => Some((leader.map(|b| b.0), *leader_epoch)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn leadership_goes_back_to_the_preferred_replica_only_once_it_is_in_the_isr_again() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        h.write(Acks::All, 2);
        h.replicate();
        h.crash(BrokerId(1));
        h.fence(BrokerId(1));
        assert_eq!(h.part.leader_broker(), Some(BrokerId(2)));
        h.write(Acks::All, 3);
        h.replicate();
        h.restart(BrokerId(1));
        // Back, but behind: not in the ISR, so not a leader the controller may pick.
        let (imbalanced, effects) = h.run(|p, ctx, _| p.imbalanced(ctx));
        assert!(!imbalanced && effects.is_empty());
        let (_, effects) = h.run(|p, ctx, out| p.elect_preferred(ctx, out));
        assert!(leaders_elected(&effects).is_empty());
        h.replicate();
        assert_eq!(numbers(&h.part.isr), [2, 3, 1]);
        assert!(h.run(|p, ctx, _| p.imbalanced(ctx)).0);
        let (_, effects) = h.run(|p, ctx, out| p.elect_preferred(ctx, out));
        assert_eq!(leaders_elected(&effects), [(Some(1), 2)], "preferred replica, new leader epoch");
        assert_eq!(h.log_end(BrokerId(1)), 5, "nothing is lost: the preferred replica was in sync");
        h.replicate();
        assert_eq!(h.part.visible_high_watermark(), Some(5));
        assert!(!h.run(|p, ctx, _| p.imbalanced(ctx)).0);
        let (_, effects) = h.run(|p, ctx, out| p.elect_preferred(ctx, out));
        assert!(leaders_elected(&effects).is_empty(), "a balanced partition is left alone");
    }

    #[test]
    fn a_leader_that_steps_down_alive_fails_its_waiting_writes_as_not_leader() {
        let mut h = Harness::new();
        h.run(|p, ctx, out| p.start_followers(ctx, out));
        h.replicate();
        // An acks=all write waits for the followers when broker 1's controlled shutdown moves
        // its leadership (it is still running: no crash, no session timeout).
        let effects = h.write(Acks::All, 2);
        assert!(acks(&effects).is_empty());
        h.wire.clear();
        let effects = h.fence(BrokerId(1));
        assert_eq!(leaders_elected(&effects), [(Some(2), 1)]);
        assert_eq!(failures(&effects), ["NOT_LEADER_OR_FOLLOWER: the partition has a new leader"]);
        assert_eq!(numbers(&h.part.isr), [2, 3], "a stopping broker is no acceptable leader");
        assert_eq!(h.log_end(BrokerId(2)), 0, "the write that was never replicated is retried, not kept");
    }
}
