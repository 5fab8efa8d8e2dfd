//! Brokers that fail like Kafka's: replicas, the ISR, the high watermark, `acks`, leader
//! election with leader epochs, broker crash and restart, and group coordinators that move.
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
//! A crashed broker is noticed by the controller after `broker.session.timeout.ms`; it is
//! then fenced: dropped from every ISR it was in, and its partitions get the first live ISR
//! replica (in assignment order) as leader, with a new leader epoch — or, with no such replica,
//! go offline (or, with unclean election, take any live replica and lose what it lacks). A
//! returning broker asks its leader where its log diverges (leader epochs) and truncates there
//! before catching up. Group coordinators live on the leaders of `__consumer_offsets`
//! partitions and move with them; requests for a coordinator that is down wait until one is
//! found again. With one broker and replication factor 1 none of this adds an event.

use super::config::Acks;
use super::coordinator::Request;
use super::engine::{Action, PendingAck, Sim, Tp};
use super::event::EventKind;
use super::log::Batch;
use super::producer::{BatchAck, SentBatch};
use rand::Rng;

/// `offsets.topic.num.partitions`.
pub const OFFSETS_PARTITIONS: u32 = 50;
/// Most batches a follower copies per fetch (about `replica.fetch.max.bytes`).
const MAX_BATCHES_PER_FETCH: usize = 1_000;

/// Java's `String.hashCode`.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition of a group (Kafka's `partitionFor`).
pub fn offsets_partition(group: &str) -> u32 {
    let h = java_hash(group);
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % OFFSETS_PARTITIONS
}

/// Why a produce request failed for a partition.
enum Refused {
    LeaderDown(u32),
    Offline,
    NotEnoughReplicas { isr: usize, min: u32 },
    OutOfOrder,
}

impl Refused {
    fn text(&self) -> String {
        match self {
            Refused::LeaderDown(b) => format!("NETWORK_EXCEPTION: leader broker {b} is down"),
            Refused::Offline => "LEADER_NOT_AVAILABLE: the partition is offline".into(),
            Refused::OutOfOrder => "OUT_OF_ORDER_SEQUENCE_NUMBER: an earlier batch is missing".into(),
            Refused::NotEnoughReplicas { isr, min } => {
                format!("NOT_ENOUGH_REPLICAS: the ISR has {isr} replica(s), min.insync.replicas is {min}")
            }
        }
    }
}

impl Sim {
    // ----- placement -------------------------------------------------------------------------

    /// Replica lists for `partitions` partitions, as Kafka's rack-unaware assignment makes them
    /// (a random start and shift; no randomness with one broker).
    pub(crate) fn assign_replicas(&mut self, partitions: u32, rf: u32) -> Vec<Vec<u32>> {
        let n = self.brokers.len() as u32;
        let (start, mut shift) =
            if n > 1 { (self.rng.random_range(0..n), self.rng.random_range(0..n)) } else { (0, 0) };
        (0..partitions)
            .map(|p| {
                if p > 0 && p % n == 0 {
                    shift += 1;
                }
                let first = (p + start) % n;
                let mut replicas = vec![first + 1];
                for j in 0..rf.saturating_sub(1) {
                    let step = 1 + (shift + j) % (n - 1).max(1);
                    replicas.push((first + step) % n + 1);
                }
                replicas
            })
            .collect()
    }

    fn broker_alive(&self, id: u32) -> bool {
        self.brokers[id as usize - 1].alive
    }

    fn part_mut(&mut self, tp: Tp) -> &mut super::engine::Partition {
        &mut self.topics[tp.topic as usize].partitions[tp.partition as usize]
    }

    fn replicated(&self, tp: Tp) -> bool {
        self.partition(tp).replicas.len() > 1
    }

    /// Whether consumers can read the partition now: it has a leader, that broker runs, and its
    /// high watermark has caught up with the start of its epoch.
    pub fn partition_readable(&self, tp: Tp) -> bool {
        let part = self.partition(tp);
        part.visible_high_watermark().is_some() && part.leader_broker().is_some_and(|b| self.broker_alive(b))
    }

    // ----- produce ---------------------------------------------------------------------------

    /// A produce request reaches the leaders of its batches' partitions.
    pub(crate) fn produce_arrive(&mut self, p: u32, batches: Vec<SentBatch>) {
        let topic = self.producers[p as usize].topic;
        let mut ready = Vec::new();
        let mut acks_zero = true;
        for b in batches {
            acks_zero &= b.acks == Acks::Zero;
            let tp = Tp { topic, partition: b.partition };
            match self.append_at_leader(p, tp, b) {
                Ok(Some(ack)) => ready.push(ack),
                Ok(None) => {}
                Err(why) => self.produce_failed(p, tp, b, why.text(), false),
            }
        }
        if !acks_zero && !ready.is_empty() {
            self.after(self.latency(), Action::ProduceAck { producer: p, batches: ready });
        }
    }

    /// Appends at the leader. `Ok(Some(ack))`: acknowledged now; `Ok(None)`: waits for the high
    /// watermark (acks=all) or is never acknowledged (acks=0).
    fn append_at_leader(&mut self, p: u32, tp: Tp, b: SentBatch) -> Result<Option<BatchAck>, Refused> {
        let now = self.now;
        let (keyer, record_bytes) = {
            let pr = &self.producers[p as usize];
            (pr.keyer, pr.spec.record_bytes)
        };
        let part = self.partition(tp);
        let Some(leader) = part.leader else { return Err(Refused::Offline) };
        let leader_broker = part.replicas[leader].broker;
        if !self.broker_alive(leader_broker) {
            return Err(Refused::LeaderDown(leader_broker));
        }
        let min = self.topics[tp.topic as usize].spec.min_insync_replicas;
        if b.acks == Acks::All && (part.isr.len() as u32) < min {
            return Err(Refused::NotEnoughReplicas { isr: part.isr.len(), min });
        }
        let (producer_name, topic_name) =
            (self.producers[p as usize].spec.name.clone(), self.topics[tp.topic as usize].spec.name.clone());
        let log = &part.replicas[leader].log;
        if let Some(id) = b.producer_id {
            if let Some(base_offset) = log.duplicate_of(id, b.first_seq, b.last_seq) {
                // A retry of a batch the leader already has (its first answer was lost): the
                // answer names the original's offset.
                self.emit(EventKind::DuplicateIgnored {
                    producer: producer_name,
                    topic: topic_name,
                    partition: tp.partition,
                    first_seq: b.first_seq,
                    last_seq: b.last_seq,
                });
                return Ok(self.ack_when_replicated(p, tp, b, base_offset));
            }
            if log.producer_seq(id) != b.prev_seq {
                // An earlier batch of this producer is still missing here: the producer resends
                // in order.
                return Err(Refused::OutOfOrder);
            }
        }
        let cfg = self.topics[tp.topic as usize].log_config;
        let part = self.part_mut(tp);
        let log = &mut part.replicas[leader].log;
        let bytes = u64::from(b.count) * record_bytes;
        let base_offset = log.append(&cfg, now, p, keyer, b.producer_id, b.first_seq, b.last_seq, b.count, bytes);
        self.emit(EventKind::Appended {
            producer: producer_name,
            topic: topic_name,
            partition: tp.partition,
            base_offset,
            records: b.count,
            first_seq: b.first_seq,
            last_seq: b.last_seq,
        });
        self.advance_hw(tp);
        let ready = self.ack_when_replicated(p, tp, b, base_offset);
        self.wake_followers(tp);
        Ok(ready)
    }

    /// The leader's answer to a written batch at `base_offset`: acks=1 at once; acks=all at once
    /// if the high watermark already covers it (one replica), else when it does; acks=0 never.
    fn ack_when_replicated(&mut self, p: u32, tp: Tp, b: SentBatch, base_offset: u64) -> Option<BatchAck> {
        let end = base_offset + u64::from(b.count);
        let part = self.part_mut(tp);
        let ack =
            BatchAck { partition: b.partition, first_seq: b.first_seq, base_offset, leader_epoch: part.leader_epoch };
        match b.acks {
            Acks::Zero => None,
            Acks::One => {
                part.acked.add(base_offset, end);
                Some(ack)
            }
            Acks::All if part.high_watermark >= end => {
                part.acked.add(base_offset, end);
                Some(ack)
            }
            Acks::All => {
                part.pending_acks.push(PendingAck { producer: p, end_offset: end, base_offset, batch: b });
                None
            }
        }
    }

    /// Moves the leader's high watermark to the smallest log end in the ISR; answers the
    /// acks=all writes and consumer fetches it makes possible.
    fn advance_hw(&mut self, tp: Tp) {
        let replicated = self.replicated(tp);
        let part = self.part_mut(tp);
        let Some(leader) = part.leader else { return };
        let leader_broker = part.replicas[leader].broker;
        let hw = part
            .replicas
            .iter()
            .filter(|r| part.isr.contains(&r.broker))
            .map(|r| if r.broker == leader_broker { r.log.log_end_offset() } else { r.fetch_offset })
            .min()
            .unwrap_or(0)
            .max(part.high_watermark);
        if hw == part.high_watermark && part.pending_acks.is_empty() {
            return;
        }
        let moved = hw > part.high_watermark;
        part.high_watermark = hw;
        part.replicas[leader].hw = hw;
        let isr = part.isr.len();
        let (done, waiting): (Vec<PendingAck>, Vec<PendingAck>) =
            std::mem::take(&mut part.pending_acks).into_iter().partition(|a| a.end_offset <= hw);
        part.pending_acks = waiting;
        let min = self.topics[tp.topic as usize].spec.min_insync_replicas as usize;
        for a in done {
            if isr < min {
                let error = format!("NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank to {isr}");
                self.produce_failed(a.producer, tp, a.batch, error, true);
            } else {
                let part = self.part_mut(tp);
                part.acked.add(a.base_offset, a.end_offset);
                let ack = BatchAck {
                    partition: a.batch.partition,
                    first_seq: a.batch.first_seq,
                    base_offset: a.base_offset,
                    leader_epoch: part.leader_epoch,
                };
                self.after(self.latency(), Action::ProduceAck { producer: a.producer, batches: vec![ack] });
            }
        }
        if !moved {
            return;
        }
        if replicated {
            let topic = self.topics[tp.topic as usize].spec.name.clone();
            self.emit(EventKind::HighWatermark { topic, partition: tp.partition, offset: hw });
            self.wake_followers(tp);
        }
        let waiters = std::mem::take(&mut self.part_mut(tp).waiters);
        for (c, inc, fetch_id) in waiters {
            if self.consumers[c as usize].is_live(inc) {
                self.consumer_do(c, |con, ctx, out| con.on_partition_news(ctx, tp, fetch_id, out));
            }
        }
    }

    // ----- followers -------------------------------------------------------------------------

    /// Answers parked follower fetches that now have something to get.
    fn wake_followers(&mut self, tp: Tp) {
        let part = self.partition(tp);
        let parked: Vec<usize> = (0..part.replicas.len()).filter(|&r| part.replicas[r].parked).collect();
        for r in parked {
            self.answer_replica(tp, r);
        }
    }

    /// The leader sends follower `r` what it lacks (records, or news of the high watermark);
    /// with nothing to send it parks the fetch. Returns whether it answered.
    fn answer_replica(&mut self, tp: Tp, r: usize) -> bool {
        let part = self.part_mut(tp);
        let Some(leader) = part.leader else { return false };
        let from = part.replicas[r].fetch_offset;
        let leader_log = &part.replicas[leader].log;
        let has_records = from < leader_log.log_end_offset();
        let hw_news = part.replicas[r].hw < part.high_watermark;
        if !has_records && !hw_news {
            part.replicas[r].parked = true;
            return false;
        }
        let batches: Vec<Batch> = leader_log.batches_between(from, u64::MAX).take(MAX_BATCHES_PER_FETCH).collect();
        part.replicas[r].parked = false;
        let (gen, hw) = (part.replicas[r].fetch_gen, part.high_watermark);
        let delay = self.replication_latency(tp, r);
        self.after(delay, Action::ReplicaFetchResponse { tp, replica: r, gen, batches, hw, truncate_to: None });
        true
    }

    /// One-way latency between follower `r` and its leader, slow brokers included.
    fn replication_latency(&self, tp: Tp, r: usize) -> u64 {
        let part = self.partition(tp);
        let delay = |b: u32| self.brokers[b as usize - 1].delay_ms;
        let leader = part.leader_broker().map_or(0, delay);
        self.latency() + delay(part.replicas[r].broker) + leader
    }

    /// Every follower starts fetching from its leader.
    pub(crate) fn start_followers(&mut self) {
        for tp in self.all_partitions() {
            let part = self.partition(tp);
            let followers: Vec<usize> = (0..part.replicas.len()).filter(|&r| Some(r) != part.leader).collect();
            for r in followers {
                self.send_replica_fetch(tp, r);
            }
        }
    }

    /// Follower `r` sends its next fetch: from its log end, with its latest leader epoch.
    fn send_replica_fetch(&mut self, tp: Tp, r: usize) {
        let rep = &self.partition(tp).replicas[r];
        let (gen, fetch_offset, last_epoch) = (rep.fetch_gen, rep.log.log_end_offset(), rep.log.latest_epoch());
        let delay = self.replication_latency(tp, r);
        self.after(delay, Action::ReplicaFetch { tp, replica: r, gen, fetch_offset, last_epoch });
    }

    pub(crate) fn replica_fetch_arrive(&mut self, tp: Tp, r: usize, gen: u64, fetch_offset: u64, last_epoch: u32) {
        let now = self.now;
        let part = self.partition(tp);
        let Some(leader) = part.leader else { return };
        let (leader_broker, follower) = (part.replicas[leader].broker, part.replicas[r].broker);
        if part.replicas[r].fetch_gen != gen || !self.broker_alive(leader_broker) || !self.broker_alive(follower) {
            return;
        }
        // A follower with records of an epoch the leader ended earlier must truncate first.
        let leader_log = &part.replicas[leader].log;
        let (_, epoch_end) = leader_log.end_offset_for_epoch(last_epoch);
        if epoch_end < fetch_offset {
            let to = part.replicas[r].log.divergence_from(leader_log);
            self.after(
                self.replication_latency(tp, r),
                Action::ReplicaFetchResponse { tp, replica: r, gen, batches: Vec::new(), hw: 0, truncate_to: Some(to) },
            );
            return;
        }
        let leader_end = leader_log.log_end_offset();
        let hw = part.high_watermark;
        let part = self.part_mut(tp);
        part.replicas[r].fetch_offset = fetch_offset;
        if fetch_offset >= leader_end {
            part.replicas[r].last_caught_up = now;
        }
        if !part.isr.contains(&follower) && fetch_offset >= hw {
            part.isr.push(follower);
            let isr = part.isr.clone();
            let topic = self.topics[tp.topic as usize].spec.name.clone();
            self.emit(EventKind::IsrChanged {
                topic,
                partition: tp.partition,
                isr,
                reason: format!("broker {follower} caught up"),
            });
        }
        self.advance_hw(tp);
        let part = self.partition(tp);
        if part.replicas[r].fetch_gen == gen && !part.replicas[r].parked {
            self.answer_replica(tp, r);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn replica_fetch_response(
        &mut self,
        tp: Tp,
        r: usize,
        gen: u64,
        batches: Vec<Batch>,
        hw: u64,
        truncate_to: Option<u64>,
    ) {
        let now = self.now;
        let follower = self.partition(tp).replicas[r].broker;
        if self.partition(tp).replicas[r].fetch_gen != gen || !self.broker_alive(follower) {
            return;
        }
        let cfg = self.topics[tp.topic as usize].log_config;
        let topic = self.topics[tp.topic as usize].spec.name.clone();
        let rep = &mut self.part_mut(tp).replicas[r];
        if let Some(to) = truncate_to {
            let from = rep.log.log_end_offset();
            rep.log.truncate_to(to);
            let to = rep.log.log_end_offset();
            rep.hw = rep.hw.min(to);
            self.emit(EventKind::Truncated { topic, partition: tp.partition, broker: follower, from, to });
        } else {
            let before = rep.log.log_end_offset();
            for b in batches {
                if b.base_offset == rep.log.log_end_offset() {
                    rep.log.append_batch(&cfg, now, b);
                }
            }
            let end = rep.log.log_end_offset();
            rep.hw = rep.hw.max(hw.min(end));
            let part = self.part_mut(tp);
            if let Some(leader) = part.leader.filter(|_| end > before) {
                if let Ok([follower, leader]) = part.replicas.get_disjoint_mut([r, leader]) {
                    follower.log.share_storage_with(&leader.log);
                }
            }
            if end > before {
                self.emit(EventKind::Replicated {
                    topic,
                    partition: tp.partition,
                    broker: follower,
                    log_end_offset: end,
                });
            }
        }
        self.send_replica_fetch(tp, r);
    }

    /// Leaders drop followers not caught up for `replica.lag.time.max.ms` (a parked follower
    /// is caught up).
    pub(crate) fn isr_check(&mut self) {
        let now = self.now;
        let lag = self.cluster.replica_lag_time_max_ms;
        for ti in 0..self.topics.len() {
            for pi in 0..self.topics[ti].partitions.len() {
                let tp = Tp { topic: ti as u32, partition: pi as u32 };
                let part = self.partition(tp);
                let Some(leader) = part.leader else { continue };
                if !self.broker_alive(part.replicas[leader].broker) {
                    continue;
                }
                let out: Vec<u32> = part
                    .replicas
                    .iter()
                    .enumerate()
                    .filter(|(i, r)| {
                        *i != leader && part.isr.contains(&r.broker) && !r.parked && now.since(r.last_caught_up) > lag
                    })
                    .map(|(_, r)| r.broker)
                    .collect();
                if out.is_empty() {
                    continue;
                }
                let part = self.part_mut(tp);
                part.isr.retain(|b| !out.contains(b));
                let isr = part.isr.clone();
                let topic = self.topics[ti].spec.name.clone();
                let reason = format!("broker(s) {out:?} not caught up for replica.lag.time.max.ms ({lag} ms)");
                self.emit(EventKind::IsrChanged { topic, partition: tp.partition, isr, reason });
                self.advance_hw(tp);
            }
        }
        self.after((lag / 2).max(1), Action::IsrCheck);
    }

    // ----- brokers come and go ---------------------------------------------------------------

    pub(crate) fn crash_broker(&mut self, broker: u32) {
        self.brokers[broker as usize - 1].alive = false;
        self.emit(EventKind::BrokerCrashed { broker });
        for tp in self.all_partitions() {
            let part = self.part_mut(tp);
            let Some(i) = part.replicas.iter().position(|r| r.broker == broker) else { continue };
            part.replicas[i].parked = false;
            part.replicas[i].fetch_gen += 1;
            if part.leader == Some(i) {
                // Its connections close: writes waiting for replication fail and are retried.
                for r in part.replicas.iter_mut() {
                    r.parked = false;
                    r.fetch_gen += 1;
                }
                let pending = std::mem::take(&mut part.pending_acks);
                for a in pending {
                    let error = format!("NETWORK_EXCEPTION: leader broker {broker} is down");
                    self.produce_failed(a.producer, tp, a.batch, error, true);
                }
            }
        }
        let b = &mut self.brokers[broker as usize - 1];
        b.inc += 1;
        let inc = b.inc;
        let timeout = self.cluster.broker_session_timeout_ms;
        self.after(timeout, Action::BrokerFenced { broker, inc });
    }

    fn all_partitions(&self) -> Vec<Tp> {
        self.topics
            .iter()
            .enumerate()
            .flat_map(|(t, topic)| (0..topic.spec.partitions).map(move |p| Tp { topic: t as u32, partition: p }))
            .collect()
    }

    /// The controller notices a crash (the broker's session ran out) and fences the broker,
    /// unless it has restarted since.
    pub(crate) fn broker_fenced(&mut self, broker: u32, inc: u32) {
        let b = &self.brokers[broker as usize - 1];
        if !b.alive && !b.fenced && b.inc == inc {
            self.fence(broker);
        }
    }

    fn fence(&mut self, broker: u32) {
        self.brokers[broker as usize - 1].fenced = true;
        self.emit(EventKind::BrokerFenced { broker });
        for tp in self.all_partitions() {
            let part = self.partition(tp);
            if !part.replicas.iter().any(|r| r.broker == broker) {
                continue;
            }
            let was_leader = part.leader_broker() == Some(broker);
            if part.isr.contains(&broker) && part.isr.len() > 1 {
                let part = self.part_mut(tp);
                part.isr.retain(|&b| b != broker);
                let isr = part.isr.clone();
                let topic = self.topics[tp.topic as usize].spec.name.clone();
                let reason = format!("broker {broker} fenced");
                self.emit(EventKind::IsrChanged { topic, partition: tp.partition, isr, reason });
            }
            if was_leader {
                self.elect_leader(tp);
            } else {
                self.advance_hw(tp);
            }
        }
        self.move_coordinators();
    }

    pub(crate) fn restart_broker(&mut self, broker: u32) {
        if !self.brokers[broker as usize - 1].fenced {
            // Back before the controller noticed: it re-registers with a new epoch, which
            // fences the old incarnation first.
            self.fence(broker);
        }
        let b = &mut self.brokers[broker as usize - 1];
        b.alive = true;
        b.fenced = false;
        self.emit(EventKind::BrokerStarted { broker });
        let unclean = self.cluster.unclean_leader_election;
        for tp in self.all_partitions() {
            let part = self.partition(tp);
            let Some(i) = part.replicas.iter().position(|r| r.broker == broker) else { continue };
            if part.leader.is_none() && (part.isr.contains(&broker) || unclean) {
                self.elect_leader(tp);
            } else if part.leader != Some(i) {
                let rep = &mut self.part_mut(tp).replicas[i];
                rep.fetch_gen += 1;
                rep.parked = false;
                self.send_replica_fetch(tp, i);
            }
        }
        self.move_coordinators();
    }

    /// The controller picks the first live, unfenced ISR replica in assignment order; with
    /// none, the partition goes offline — unless unclean election lets any live replica lead.
    fn elect_leader(&mut self, tp: Tp) {
        let usable = |sim: &Sim, b: u32| {
            let br = &sim.brokers[b as usize - 1];
            br.alive && !br.fenced
        };
        let part = self.partition(tp);
        let clean = part.replicas.iter().position(|r| part.isr.contains(&r.broker) && usable(self, r.broker));
        let unclean = if clean.is_none() && self.cluster.unclean_leader_election {
            part.replicas.iter().position(|r| usable(self, r.broker))
        } else {
            None
        };
        let topic = self.topics[tp.topic as usize].spec.name.clone();
        let Some(new) = clean.or(unclean) else {
            let part = self.part_mut(tp);
            part.leader = None;
            let (leader_epoch, isr) = (part.leader_epoch, part.isr.clone());
            self.emit(EventKind::LeaderElected {
                topic,
                partition: tp.partition,
                leader: None,
                leader_epoch,
                isr,
                unclean: false,
                lost_acked: 0,
            });
            return;
        };
        let now = self.now;
        let part = self.part_mut(tp);
        // What the old leader's log had past the point where the new one's diverges is gone.
        let old = part.last_leader;
        let keep = if old == new { u64::MAX } else { part.replicas[new].log.divergence_from(&part.replicas[old].log) };
        let lost_acked = part.acked.distinct_in(keep, u64::MAX);
        part.acked.truncate_from(keep);
        part.lost_acked += lost_acked;
        part.leader_epoch += 1;
        let epoch = part.leader_epoch;
        part.leader = Some(new);
        part.last_leader = new;
        let broker = part.replicas[new].broker;
        if unclean.is_some() {
            part.isr = vec![broker];
        }
        let rep = &mut part.replicas[new];
        rep.log.start_epoch(epoch);
        part.epoch_start_offset = part.replicas[new].log.log_end_offset();
        part.high_watermark = part.replicas[new].hw.min(part.replicas[new].log.log_end_offset());
        for r in part.replicas.iter_mut() {
            // The new leader knows nothing of its followers yet: they tell it in their fetches.
            r.fetch_gen += 1;
            r.parked = false;
            r.fetch_offset = 0;
            r.last_caught_up = now;
        }
        let isr = part.isr.clone();
        self.emit(EventKind::LeaderElected {
            topic,
            partition: tp.partition,
            leader: Some(broker),
            leader_epoch: epoch,
            isr,
            unclean: unclean.is_some(),
            lost_acked,
        });
        let followers: Vec<usize> = (0..self.partition(tp).replicas.len())
            .filter(|&i| i != new && usable(self, self.partition(tp).replicas[i].broker))
            .collect();
        for i in followers {
            self.send_replica_fetch(tp, i);
        }
        self.advance_hw(tp);
    }

    // ----- group coordinators ----------------------------------------------------------------

    /// The broker hosting `group`'s coordinator, if any broker can.
    pub fn coordinator_of(&self, group: &str) -> Option<u32> {
        self.offsets_leaders.get(offsets_partition(group) as usize).copied().flatten()
    }

    pub(crate) fn coordinator_available(&self, group: &str) -> bool {
        self.coordinator_of(group).is_some_and(|b| self.broker_alive(b))
    }

    /// The group a coordinator-bound request or timer belongs to.
    pub(crate) fn coordinator_group<'a>(&'a self, action: &'a Action) -> Option<&'a str> {
        match action {
            Action::ToCoordinator { group, .. } | Action::CoordinatorTimer { group, .. } => Some(group),
            _ => None,
        }
    }

    /// Keeps a request until the group has a coordinator again (one heartbeat per consumer).
    pub(crate) fn hold_for_coordinator(&mut self, group: String, action: Action) {
        let held = self.coordinator_backlog.entry(group).or_default();
        let heartbeat = |a: &Action| match a {
            Action::ToCoordinator { from, request: Request::Heartbeat { .. }, .. } => Some(from.consumer),
            _ => None,
        };
        if let Some(c) = heartbeat(&action) {
            held.retain(|a| heartbeat(a) != Some(c));
        }
        held.push(action);
    }

    /// After a broker comes or goes: each `__consumer_offsets` partition led by a fenced broker
    /// moves to its first live replica; groups whose coordinator moved carry on there.
    fn move_coordinators(&mut self) {
        let mut moved = Vec::new();
        for p in 0..OFFSETS_PARTITIONS as usize {
            let current = self.offsets_leaders[p];
            let keep = current.is_some_and(|b| !self.brokers[b as usize - 1].fenced);
            if keep {
                continue;
            }
            let next = self.offsets_replicas[p].iter().copied().find(|&b| {
                let br = &self.brokers[b as usize - 1];
                br.alive && !br.fenced
            });
            if next != current {
                self.offsets_leaders[p] = next;
                moved.push(p as u32);
            }
        }
        if moved.is_empty() {
            return;
        }
        let groups = self.group_names();
        for g in groups {
            if moved.contains(&offsets_partition(&g)) {
                let broker = self.coordinator_of(&g);
                self.emit(EventKind::CoordinatorMoved { group: g.clone(), broker });
                if broker.is_some() {
                    self.coordinator_loaded(&g);
                }
            }
        }
    }

    /// A coordinator takes a group over: members get fresh session timers, a rebalance in
    /// progress gets a fresh deadline, and requests held meanwhile are sent to it.
    fn coordinator_loaded(&mut self, group: &str) {
        let broker = self.coordinator_of(group).expect("a coordinator was found");
        self.coordinator_load(group);
        let held = self.coordinator_backlog.remove(group).unwrap_or_default();
        let mut told = Vec::new();
        for action in held {
            // Each consumer that was waiting finds the coordinator (a LeaveGroup of a closed
            // one is just delivered).
            let consumer = match &action {
                Action::ToCoordinator { from, request, .. } if !matches!(request, Request::Leave { .. }) => {
                    Some(from.consumer)
                }
                _ => None,
            };
            if let Some(c) = consumer.filter(|c| !told.contains(c)) {
                told.push(c);
                let name = self.consumers[c.ix()].spec.name.clone();
                self.emit(EventKind::FindCoordinator { consumer: name, group: group.to_string(), broker });
            }
            self.after(self.latency(), action);
        }
    }
}
