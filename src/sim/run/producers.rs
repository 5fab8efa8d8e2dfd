//! The producer client as the engine runs it: building producers, the application's sends,
//! the partitioner and accumulator at work, requests to the leaders, and what their answers do
//! (see [`crate::sim::producer`] for the client's state and the rules it follows). Each
//! acknowledgement is also checked against the log where the leader said the batch is.

use crate::sim::vecmap::VecMap;

use rand::Rng;

use crate::sim::config::{limits, Acks, Keys, ProducerSpec};
use crate::sim::engine::{Action, Sim};
use crate::sim::event::EventKind;
use crate::sim::ids::{ProducerId, Tp};
use crate::sim::keys::Keyer;
use crate::sim::producer::{
    self, take_sendable, AckFinding, AckRecord, BatchAck, Producer, SentBatch, BUFFER_MEMORY, MAX_BLOCK_MS,
    RETRY_BACKOFF_MAX_MS,
};
use crate::sim::text::quoted;
use crate::sim::time::SimTime;

impl Sim {
    pub(crate) fn add_producer(&mut self, spec: ProducerSpec) -> Result<ProducerId, String> {
        spec.validate()?;
        if self.producers.len() >= limits::MAX_CLIENTS {
            return Err("too many producers".into());
        }
        if self.producer_index(&spec.name).is_some() {
            return Err(format!("a producer named {} already exists", quoted(&spec.name)));
        }
        let topic = self.topic_index(&spec.topic).ok_or(format!("no topic named {}", quoted(&spec.topic)))?;
        let partitions = self.topics[topic as usize].spec.partitions;
        if spec.partition.is_some_and(|p| p >= partitions) {
            return Err(format!("topic {} has no partition {}", quoted(&spec.topic), spec.partition.unwrap_or(0)));
        }
        let salt = self.rng.random::<u64>();
        self.keyers.push(Keyer::new(spec.keys.clone(), partitions, salt));
        let rate = spec.rate_per_sec;
        let index = ProducerId(self.producers.len() as u32);
        let mut producer = Producer {
            topic,
            keyer: (self.keyers.len() - 1) as u32,
            next_seq: 0,
            pending: 0,
            rate_since: self.now,
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
            producer.producer_id = Some(self.new_producer_id());
        }
        self.producers.push(producer);
        if rate > 0 {
            let pr = &self.producers[index.ix()];
            let first = pr.next_rate_record_time().expect("rate is positive").plus(pr.spec.linger_ms);
            self.ensure_send_by(index, first);
        }
        Ok(index)
    }

    /// `InitProducerId`: the cluster hands out producer ids in order.
    fn new_producer_id(&mut self) -> u32 {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        id
    }

    pub(crate) fn set_keys(&mut self, p: ProducerId, keys: Keys) {
        let topic = self.producers[p.ix()].topic;
        let partitions = self.topics[topic as usize].spec.partitions;
        let salt = self.rng.random::<u64>();
        self.keyers.push(Keyer::new(keys.clone(), partitions, salt));
        let pr = &mut self.producers[p.ix()];
        pr.keyer = (self.keyers.len() - 1) as u32;
        pr.spec.keys = keys;
    }

    /// The application asks for `count` more records now.
    pub(crate) fn produce(&mut self, p: ProducerId, count: u64) {
        self.producers[p.ix()].pending += count;
        let linger = self.producers[p.ix()].spec.linger_ms;
        self.ensure_send_by(p, self.now.plus(linger));
    }

    /// The application sends continuously at `per_sec` records a second from now.
    pub(crate) fn set_rate(&mut self, p: ProducerId, per_sec: u32) {
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        // Records already due under the old rate become explicit pending ones.
        pr.pending += pr.rate_due(now);
        pr.spec.rate_per_sec = per_sec;
        pr.rate_since = now;
        pr.rate_sent = 0;
        if per_sec > 0 {
            let first = pr.next_rate_record_time().expect("rate is positive");
            let linger = pr.spec.linger_ms;
            self.ensure_send_by(p, first.plus(linger));
        }
    }

    pub(crate) fn remove_producer(&mut self, p: ProducerId) {
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        pr.pending = 0;
        pr.spec.rate_per_sec = 0;
        pr.rate_since = now;
        pr.rate_sent = 0;
        pr.next_send = None;
        pr.blocked_since = None;
        pr.restarting = None;
        pr.removed = true;
    }

    /// `acks` or `enable.idempotence` changes: the application closes its producer and builds
    /// a new one. Nothing happens when the settings it asks for are the ones it has (or is
    /// moving to).
    pub(crate) fn reconfigure_producer(&mut self, p: ProducerId, acks: Option<Acks>, idempotence: Option<bool>) {
        let pr = &mut self.producers[p.ix()];
        let current = pr.restarting.unwrap_or((pr.spec.acks, pr.spec.enable_idempotence));
        let target = (acks.unwrap_or(current.0), idempotence.unwrap_or(current.1));
        if target == current {
            return;
        }
        // Changed back before the old instance finished closing, the new one still is a new
        // instance (with the settings the old one had).
        pr.restarting = Some(target);
        self.maybe_finish_restart(p);
    }

    /// Builds the new producer once the closing one has nothing left in flight or waiting.
    fn maybe_finish_restart(&mut self, p: ProducerId) {
        let pr = &self.producers[p.ix()];
        let Some((acks, idempotence)) = pr.restarting else { return };
        if !pr.partitions.is_empty() {
            return;
        }
        let pr = &mut self.producers[p.ix()];
        pr.restarting = None;
        pr.unresolved.clear();
        pr.spec.acks = acks;
        pr.spec.enable_idempotence = idempotence;
        pr.last_sent.clear();
        pr.sticky = None;
        pr.sticky_bytes = 0;
        let idempotent = pr.idempotent();
        let producer_id = idempotent.then(|| self.new_producer_id());
        let pr = &mut self.producers[p.ix()];
        pr.producer_id = producer_id;
        let name = pr.spec.name.clone();
        self.emit(EventKind::ProducerRestarted {
            producer: name,
            acks: acks.name().to_string(),
            enable_idempotence: idempotence,
            producer_id,
        });
        if self.producers[p.ix()].pending > 0 {
            self.ensure_send_by(p, self.now);
        }
    }

    /// Makes sure the producer sends no later than `at` (like a batch whose linger runs out).
    pub(crate) fn ensure_send_by(&mut self, p: ProducerId, at: SimTime) {
        let pr = &mut self.producers[p.ix()];
        if pr.next_send.is_some_and(|t| t <= at) {
            return;
        }
        pr.next_send = Some(at);
        self.push(at, Action::ToProducer { producer: p, msg: producer::Msg::Send });
    }

    pub(crate) fn producer_send(&mut self, p: ProducerId) {
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        if pr.next_send != Some(now) {
            return; // superseded by an earlier send
        }
        pr.next_send = None;
        let from_rate = pr.rate_due(now);
        pr.rate_sent += from_rate;
        let n = pr.pending + from_rate;
        pr.pending = 0;
        let next_rate = pr.next_rate_record_time();
        let linger = pr.spec.linger_ms;
        let take = if pr.restarting.is_some() {
            0 // the application waits for its new producer
        } else {
            let room = BUFFER_MEMORY.saturating_sub(pr.buffered_bytes) / pr.spec.record_bytes;
            n.min(room)
        };
        pr.pending = n - take;
        if pr.restarting.is_none() && take < n {
            // send() blocks on the full buffer; after max.block.ms it fails.
            let since = *pr.blocked_since.get_or_insert(now);
            if now.since(since) >= MAX_BLOCK_MS {
                let records = pr.pending;
                pr.pending = 0;
                pr.blocked_since = None;
                let (producer, topic) = (pr.spec.name.clone(), self.topics[pr.topic as usize].spec.name.clone());
                let error = format!(
                    "TimeoutException: no room in buffer.memory ({} MiB) within max.block.ms ({MAX_BLOCK_MS} ms)",
                    BUFFER_MEMORY >> 20
                );
                self.emit(EventKind::SendFailed { producer, topic, records, error });
            } else {
                self.ensure_send_by(p, since.plus(MAX_BLOCK_MS));
            }
        } else {
            pr.blocked_since = None;
        }
        if take > 0 {
            self.send_records(p, take);
        }
        if let Some(t) = next_rate {
            self.ensure_send_by(p, t.max(now.plus(1)).plus(linger));
        }
    }

    /// Partitions `n` new records like Kafka's producer, adds them to their partitions'
    /// batches, and sends one produce request with what may go now.
    fn send_records(&mut self, p: ProducerId, n: u64) {
        let topic = self.producers[p.ix()].topic;
        let partitions = self.topics[topic as usize].spec.partitions;
        let first_seq = self.producers[p.ix()].next_seq;
        let last_seq = first_seq + n - 1;
        // Per partition: (first seq, last seq, count).
        let mut per_partition: VecMap<u32, (u64, u64, u64)> = VecMap::new();
        let mut add = |part: u32, seq: u64| {
            let e = per_partition.entry(part).or_insert((seq, seq, 0));
            e.1 = seq;
            e.2 += 1;
        };
        let pr = &self.producers[p.ix()];
        if let Some(explicit) = pr.spec.partition {
            per_partition.insert(explicit, (first_seq, last_seq, n));
        } else if !matches!(pr.spec.keys, Keys::None) {
            let keyer = &self.keyers[pr.keyer as usize];
            for seq in first_seq..=last_seq {
                add(keyer.partition_of(seq).expect("keyed records have a partition"), seq);
            }
        } else {
            // Built-in uniform sticky partitioner: stay on one partition until about batch.size
            // bytes went to it, then move to another one.
            let record_bytes = pr.spec.record_bytes;
            let batch_size = pr.spec.batch_size;
            let mut seq = first_seq;
            while seq <= last_seq {
                let sticky = match self.producers[p.ix()].sticky {
                    Some(s) => s,
                    None => {
                        let s = self.rng.random_range(0..partitions);
                        let pr = &mut self.producers[p.ix()];
                        pr.sticky = Some(s);
                        pr.sticky_bytes = 0;
                        s
                    }
                };
                let pr = &mut self.producers[p.ix()];
                let room = batch_size.saturating_sub(pr.sticky_bytes).div_ceil(record_bytes).max(1);
                let take = room.min(last_seq - seq + 1);
                let e = per_partition.entry(sticky).or_insert((seq, seq, 0));
                e.1 = seq + take - 1;
                e.2 += take;
                pr.sticky_bytes += take * record_bytes;
                if pr.sticky_bytes >= batch_size {
                    pr.sticky = None;
                }
                seq += take;
            }
        }
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        pr.next_seq = last_seq + 1;
        let (acks, producer_id) = (pr.spec.acks, pr.producer_id);
        let topic_name = self.topics[topic as usize].spec.name.clone();
        self.emit(EventKind::Sent {
            producer: self.producers[p.ix()].spec.name.clone(),
            topic: topic_name,
            first_seq,
            last_seq,
            records: n,
        });
        let pr = &mut self.producers[p.ix()];
        let mut request = Vec::new();
        for (partition, (first_seq, last_seq, count)) in per_partition {
            let prev_seq = pr.last_sent.insert(partition, last_seq);
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
            };
            if acks == Acks::Zero {
                // Fire and forget: the producer counts it done once it is on the wire.
                pr.acked += count;
                request.push(batch);
                continue;
            }
            pr.buffered_bytes += count * pr.spec.record_bytes;
            let batch_size = pr.spec.batch_size;
            let record_bytes = pr.spec.record_bytes;
            let queue = pr.partitions.entry(partition).or_default();
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
            take_sendable(queue, now, !pr.unresolved.is_empty(), &mut request);
        }
        if !request.is_empty() {
            self.send_to_leaders(p, request);
        }
    }

    /// Sends batches to their partitions' leaders as the producer knows them now.
    fn send_to_leaders(&mut self, p: ProducerId, batches: Vec<SentBatch>) {
        let topic = self.producers[p.ix()].topic;
        let batches = batches
            .into_iter()
            .map(|b| {
                let to = self.leader_conn(Tp { topic, partition: b.partition });
                (b, to)
            })
            .collect();
        self.after(self.latency(), Action::ToLeaders { producer: p, batches });
    }

    /// Sends what a partition may send now, as one request.
    fn dispatch(&mut self, p: ProducerId, partition: u32) {
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        let retries_only = pr.resolving();
        let Some(queue) = pr.partitions.get_mut(&partition) else { return };
        let mut request = Vec::new();
        take_sendable(queue, now, retries_only, &mut request);
        if !request.is_empty() {
            self.send_to_leaders(p, request);
        }
    }

    /// The producer learns these batches are written: it counts them, checks each against the
    /// log where the leader said it is, and sends what was waiting.
    pub(crate) fn produce_acked(&mut self, p: ProducerId, acks: Vec<BatchAck>) {
        let mut records = 0;
        let mut touched = Vec::new();
        let mut resolved = false;
        for ack in acks {
            let pr = &mut self.producers[p.ix()];
            let Some(queue) = pr.partitions.get_mut(&ack.partition) else { continue };
            let Some(i) = queue.batches.iter().position(|b| b.first_seq == ack.first_seq) else { continue };
            let b = queue.batches.remove(i).expect("found above");
            if queue.batches.is_empty() && queue.retry_at.is_none() {
                pr.partitions.remove(&ack.partition);
            }
            // A batch after an expired one is written: so was the expired one
            // (`maybeResolveSequences`: the last acknowledged sequence is past it).
            if pr.unresolved.get(&ack.partition).is_some_and(|&expired| b.first_seq > expired) {
                pr.unresolved.remove(&ack.partition);
                resolved |= pr.unresolved.is_empty();
            }
            pr.buffered_bytes -= u64::from(b.count) * pr.spec.record_bytes;
            records += u64::from(b.count);
            touched.push(ack.partition);
            let tp = Tp { topic: pr.topic, partition: ack.partition };
            self.check_ack(p, tp, &b, &ack);
        }
        if records == 0 {
            return;
        }
        let pr = &mut self.producers[p.ix()];
        pr.acked += records;
        let (producer, topic) = (pr.spec.name.clone(), self.topics[pr.topic as usize].spec.name.clone());
        self.emit(EventKind::Acked { producer, topic, records });
        touched.dedup();
        if resolved {
            // New batches were held back everywhere: they go now.
            touched = self.producers[p.ix()].partitions.keys().copied().collect();
        }
        for partition in touched {
            self.dispatch(p, partition);
        }
        self.after_buffer_freed(p);
    }

    /// The producer's side of "no acknowledged record lost": the leader named the offset of the
    /// batch, so its log must hold the batch there (unless retention deleted it, or a leader
    /// election since — which counts its own losses — replaced the log).
    fn check_ack(&mut self, p: ProducerId, tp: Tp, b: &SentBatch, ack: &BatchAck) {
        if let Some(ledger) = self.ack_ledger.as_mut() {
            ledger.push(AckRecord {
                producer: p,
                tp,
                base_offset: ack.base_offset,
                first_seq: b.first_seq,
                last_seq: b.last_seq,
                count: b.count,
                acks: b.acks,
            });
        }
        let part = self.partition(tp);
        if part.leader_epoch != ack.leader_epoch {
            return;
        }
        let log = part.log();
        if ack.base_offset < log.log_start_offset() {
            return;
        }
        // An idempotent batch is among the latest five its leader remembers for the producer id,
        // at the offset it was appended at (a log's producer state is built only from what it
        // appends): that vouches for it without decoding the log. Else the log itself is read.
        let remembered =
            b.producer_id.is_some_and(|id| log.duplicate_of(id, b.first_seq, b.last_seq) == Some(ack.base_offset));
        let held = remembered
            || log.batch_at(ack.base_offset).is_some_and(|x| {
                x.base_offset == ack.base_offset
                    && x.producer == p.0
                    && x.first_seq == b.first_seq
                    && x.last_seq == b.last_seq
            });
        if !held {
            let (topic, partition) = self.tp_name(tp);
            let text = format!(
                "{} was told its records {}..={} are at offset {} of {topic}-{partition}, but the leader's log does not hold them there",
                self.producers[p.ix()].spec.name, b.first_seq, b.last_seq, ack.base_offset
            );
            self.ack_findings.push(AckFinding { at_ms: self.now.ms(), text });
        }
    }

    /// A batch failed at its leader (`written`: after the leader appended it): the partition
    /// backs off and the batch is sent again, or, past its delivery timeout, dropped (acks=0 never
    /// learns of it).
    pub(crate) fn produce_failed(&mut self, p: ProducerId, tp: Tp, b: SentBatch, error: String, written: bool) {
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        let doublings = b.attempt.saturating_sub(1).min(16);
        let backoff = pr.spec.retry_backoff_ms.saturating_mul(1 << doublings).min(RETRY_BACKOFF_MAX_MS);
        let (producer, topic) = (pr.spec.name.clone(), self.topics[tp.topic as usize].spec.name.clone());
        let event = |retry_in_ms| EventKind::ProduceFailed {
            producer,
            topic,
            partition: tp.partition,
            records: b.count,
            error,
            retry_in_ms,
        };
        if b.acks == Acks::Zero {
            self.emit(event(None));
            return;
        }
        let Some(queue) = pr.partitions.get_mut(&b.partition) else { return };
        let Some(i) = queue.batches.iter().position(|x| x.first_seq == b.first_seq && x.in_flight) else {
            return; // an answer to a send already answered
        };
        queue.batches[i].maybe_written |= written;
        let give_up = now.plus(backoff).since(b.created) >= pr.spec.delivery_timeout_ms;
        if give_up {
            self.drop_batch(p, b.partition, i);
            self.emit(event(None));
            self.dispatch(p, b.partition);
            self.after_buffer_freed(p);
            return;
        }
        queue.batches[i].in_flight = false;
        let at = now.plus(backoff);
        if queue.retry_at.is_none_or(|t| t < at) {
            queue.retry_at = Some(at);
            self.push(at, Action::ToProducer { producer: p, msg: producer::Msg::Retry { partition: b.partition } });
        }
        self.emit(event(Some(backoff)));
        self.maybe_reset_id(p);
    }

    /// Removes batch `i` of a partition for good (expired). If no leader can have written it,
    /// the batches after it take its place in the sequence (Kafka adjusts their sequence
    /// numbers). If one may have (a send failed after the append), an idempotent producer cannot
    /// tell where its sequence stands at that leader: the partition's sequence is unresolved
    /// (see [`Producer::unresolved`]).
    fn drop_batch(&mut self, p: ProducerId, partition: u32, i: usize) {
        let pr = &mut self.producers[p.ix()];
        let Some(queue) = pr.partitions.get_mut(&partition) else { return };
        let Some(dropped) = queue.batches.remove(i) else { return };
        pr.buffered_bytes -= u64::from(dropped.count) * pr.spec.record_bytes;
        if dropped.maybe_written && dropped.producer_id.is_some() && pr.producer_id.is_some() {
            let last = pr.unresolved.entry(partition).or_insert(dropped.last_seq);
            *last = (*last).max(dropped.last_seq);
        } else {
            match queue.batches.get_mut(i) {
                Some(next) => next.prev_seq = dropped.prev_seq,
                None => {
                    match dropped.prev_seq {
                        Some(s) => pr.last_sent.insert(partition, s),
                        None => pr.last_sent.remove(&partition),
                    };
                }
            }
        }
        if queue.batches.is_empty() && queue.retry_at.is_none() {
            pr.partitions.remove(&partition);
        }
    }

    /// Takes a new producer id for sequences still unresolved once no batch that was sent is
    /// open — unanswered, or awaiting its retry (see [`Producer::unresolved`]): what waits, none
    /// of it sent yet, is numbered afresh, from no previous sequence at each partition, and sent.
    fn maybe_reset_id(&mut self, p: ProducerId) {
        let pr = &self.producers[p.ix()];
        if !pr.resolving() || pr.partitions.values().any(|q| q.sent_and_open()) {
            return;
        }
        let id = self.new_producer_id();
        let pr = &mut self.producers[p.ix()];
        pr.unresolved.clear();
        pr.producer_id = Some(id);
        pr.last_sent.clear();
        for (partition, queue) in pr.partitions.iter_mut() {
            let mut prev = None;
            for b in queue.batches.iter_mut() {
                b.prev_seq = prev;
                b.producer_id = Some(id);
                prev = Some(b.last_seq);
            }
            if let Some(last) = prev {
                pr.last_sent.insert(*partition, last);
            }
        }
        let name = pr.spec.name.clone();
        self.emit(EventKind::ProducerIdReset { producer: name, producer_id: id });
        let partitions: Vec<u32> = self.producers[p.ix()].partitions.keys().copied().collect();
        for partition in partitions {
            self.dispatch(p, partition);
        }
    }

    /// A partition's backoff is over: batches that waited too long expire, the rest go out.
    pub(crate) fn produce_retry(&mut self, p: ProducerId, partition: u32) {
        let now = self.now;
        let pr = &mut self.producers[p.ix()];
        let timeout = pr.spec.delivery_timeout_ms;
        let Some(queue) = pr.partitions.get_mut(&partition) else { return };
        if queue.retry_at != Some(now) {
            return; // superseded by a later backoff
        }
        queue.retry_at = None;
        let expired: Vec<usize> = (0..queue.batches.len())
            .rev()
            .filter(|&i| !queue.batches[i].in_flight && now.since(queue.batches[i].created) >= timeout)
            .collect();
        let topic = self.producers[p.ix()].topic;
        for i in expired {
            let b = self.producers[p.ix()].partitions[&partition].batches[i];
            self.drop_batch(p, partition, i);
            let pr = &self.producers[p.ix()];
            self.emit(EventKind::ProduceFailed {
                producer: pr.spec.name.clone(),
                topic: self.topics[topic as usize].spec.name.clone(),
                partition,
                records: b.count,
                error: format!("TimeoutException: not acknowledged within delivery.timeout.ms ({timeout} ms)"),
                retry_in_ms: None,
            });
        }
        let pr = &mut self.producers[p.ix()];
        if pr.partitions.get(&partition).is_some_and(|q| q.batches.is_empty()) {
            pr.partitions.remove(&partition);
        }
        self.dispatch(p, partition);
        self.after_buffer_freed(p);
    }

    /// A batch answered or dropped: room in the buffer, perhaps nothing in flight any more, or a
    /// closing producer's last batch gone. Wakes what waited for it.
    fn after_buffer_freed(&mut self, p: ProducerId) {
        self.maybe_reset_id(p);
        self.maybe_finish_restart(p);
        let pr = &self.producers[p.ix()];
        if pr.blocked_since.is_some() && pr.pending > 0 && pr.restarting.is_none() {
            self.ensure_send_by(p, self.now);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::config::{Acks, ClusterSpec, ProducerSpec, TopicSpec};
    use crate::sim::event::EventKind;
    use crate::sim::experiments::at;
    use crate::sim::producer::MAX_IN_FLIGHT;
    use crate::sim::{Command, Scenario, Sim, SimTime, Tp};

    /// One topic of one partition on three brokers (min.insync.replicas 2) and a producer `p`.
    fn cluster(spec: ProducerSpec, script: Vec<crate::sim::TimedCommand>) -> Sim {
        let s = Scenario {
            cluster: ClusterSpec { brokers: 3, ..ClusterSpec::default() },
            topics: vec![TopicSpec {
                name: "t".into(),
                replication_factor: 3,
                min_insync_replicas: 2,
                ..TopicSpec::default()
            }],
            producers: vec![ProducerSpec { name: "p".into(), topic: "t".into(), ..spec }],
            script,
            ..Scenario::default()
        };
        let mut sim = Sim::new(&s, 1).unwrap();
        sim.keep_events(true);
        sim
    }

    fn leader(sim: &Sim) -> u32 {
        sim.partition(Tp { topic: 0, partition: 0 }).leader_broker().unwrap()
    }

    fn in_flight(sim: &Sim) -> usize {
        sim.producers[0].partitions.get(&0).map_or(0, |q| q.in_flight())
    }

    #[test]
    fn at_most_five_batches_are_in_flight_and_the_rest_wait_growing_to_batch_size() {
        // Followers 2 s away: acks=all answers take 4 s, so batches pile up behind five.
        let mut sim = cluster(ProducerSpec { rate_per_sec: 200, ..ProducerSpec::default() }, vec![]);
        sim.run_until(SimTime(100));
        let l = leader(&sim);
        for b in (1..=3).filter(|b| *b != l) {
            sim.apply(Command::DelayBroker { broker: b, ms: 2_000 });
        }
        sim.run_until(SimTime(3_000));
        assert_eq!(in_flight(&sim), MAX_IN_FLIGHT);
        let q = &sim.producers[0].partitions[&0];
        let waiting: Vec<u32> = q.batches.iter().filter(|b| !b.in_flight).map(|b| b.count).collect();
        // 16 384-byte batches of 100-byte records: 163 records, then a new batch.
        assert!(waiting.iter().all(|n| *n <= 163) && waiting.iter().any(|n| *n > 100), "{waiting:?}");
        sim.run_until(SimTime(60_000));
        let p = &sim.producers[0];
        assert_eq!(p.acked + p.unacknowledged(), p.next_seq, "nothing lost on the way");
    }

    #[test]
    fn only_failed_batches_are_retried_after_a_backoff_that_doubles() {
        let mut sim = cluster(ProducerSpec::default(), vec![]);
        sim.run_until(SimTime(100));
        let l = leader(&sim);
        sim.apply(Command::CrashBroker { broker: l });
        sim.apply(Command::Produce { producer: "p".into(), count: 3 });
        sim.run_until(SimTime(5_000));
        let retries: Vec<(u64, Option<u64>)> = sim
            .drain_events()
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::ProduceFailed { retry_in_ms, .. } => Some((e.t, retry_in_ms)),
                _ => None,
            })
            .collect();
        let backoffs: Vec<u64> = retries.iter().filter_map(|r| r.1).take(5).collect();
        assert_eq!(backoffs, [100, 200, 400, 800, 1_000], "{retries:?}");
        // One batch, one failure per attempt: nothing else was sent again.
        assert!(retries.windows(2).all(|w| w[0].0 < w[1].0), "{retries:?}");
    }

    #[test]
    fn changing_acks_builds_a_new_producer_once_the_old_one_is_flushed() {
        let mut sim =
            cluster(ProducerSpec::default(), vec![at(1_000, Command::Produce { producer: "p".into(), count: 5 })]);
        sim.run_until(SimTime(1_005));
        let id = sim.producers[0].producer_id;
        assert!(id.is_some(), "idempotent by default");
        sim.apply(Command::SetAcks { producer: "p".into(), acks: Acks::One });
        // The first five are still on their way: the old instance waits for them.
        assert!(sim.producers[0].restarting.is_some());
        sim.apply(Command::Produce { producer: "p".into(), count: 2 });
        sim.run_until(SimTime(2_000));
        let p = &sim.producers[0];
        assert!(p.restarting.is_none());
        assert_eq!((p.spec.acks, p.producer_id, p.acked), (Acks::One, None, 7), "acks=1 is not idempotent");
        let events = sim.drain_events();
        let restart = events.iter().position(|e| matches!(e.kind, EventKind::ProducerRestarted { .. })).unwrap();
        assert!(events[..restart].iter().any(|e| matches!(e.kind, EventKind::Acked { records: 5, .. })));
        assert!(events[restart..].iter().any(|e| matches!(e.kind, EventKind::Sent { records: 2, .. })));
        // Asking for what it already has changes nothing.
        sim.apply(Command::SetAcks { producer: "p".into(), acks: Acks::One });
        assert!(sim.producers[0].restarting.is_none());
    }

    #[test]
    fn an_expired_batch_never_written_leaves_no_gap_and_keeps_the_producer_id() {
        // With every other broker down the ISR is below min.insync.replicas: refused before the
        // append, so nothing is written, and the batch expires after delivery.timeout.ms.
        let spec = ProducerSpec { delivery_timeout_ms: 5_000, ..ProducerSpec::default() };
        let mut sim = cluster(spec, vec![]);
        sim.run_until(SimTime(100));
        let l = leader(&sim);
        for b in (1..=3).filter(|b| *b != l) {
            sim.apply(Command::CrashBroker { broker: b });
        }
        sim.run_until(SimTime(10_000));
        sim.apply(Command::Produce { producer: "p".into(), count: 3 });
        sim.run_until(SimTime(20_000));
        let id = sim.producers[0].producer_id;
        assert_eq!(sim.producers[0].unacknowledged(), 0, "expired");
        for b in (1..=3).filter(|b| *b != l) {
            sim.apply(Command::RestartBroker { broker: b });
        }
        sim.run_until(SimTime(60_000));
        sim.apply(Command::Produce { producer: "p".into(), count: 4 });
        sim.run_until(SimTime(70_000));
        let p = &sim.producers[0];
        assert_eq!((p.acked, p.producer_id), (4, id), "the next records are written, same producer id");
        assert!(!sim.drain_events().iter().any(|e| matches!(e.kind, EventKind::ProducerIdReset { .. })));
    }

    #[test]
    fn a_full_buffer_blocks_send_and_fails_it_after_max_block_ms() {
        // Every broker down, at a million records a second: 32 MiB of 100-byte records fill in a
        // third of a second.
        let spec = ProducerSpec { delivery_timeout_ms: 1_000_000, ..ProducerSpec::default() };
        let mut sim = cluster(spec, vec![]);
        sim.run_until(SimTime(100));
        for b in 1..=3 {
            sim.apply(Command::CrashBroker { broker: b });
        }
        sim.apply(Command::SetRate { producer: "p".into(), per_sec: 1_000_000 });
        sim.run_until(SimTime(30_000));
        let p = &sim.producers[0];
        assert!(p.buffered_bytes <= super::BUFFER_MEMORY, "{}", p.buffered_bytes);
        assert!(p.blocked_since.is_some() && p.waiting() > 0);
        sim.run_until(SimTime(61_000));
        let failed: u64 = sim
            .drain_events()
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::SendFailed { records, .. } => Some(records),
                _ => None,
            })
            .sum();
        assert!(failed > 0, "send() failed after max.block.ms");
    }
}
