//! The producer client as the engine runs it: building producers (and their keyers), handing
//! them the application's calls and their messages, and carrying out what they do — produce
//! requests to the leaders as the cluster knows them, timers, events (the client itself is the
//! state machine in [`crate::sim::producer`]). Each acknowledgement is also checked against the
//! log where the leader said the batch is.

use rand::Rng;

use super::{Action, Sim};
use crate::sim::config::{limits, Acks, Keys, ProducerSpec};
use crate::sim::ids::{ProducerId, TopicId, Tp};
use crate::sim::keys::Keyer;
use crate::sim::producer::{AckFinding, AckRecord, BatchAck, Ctx, Effect, Msg, Out, Producer, SentBatch};
use crate::sim::text::quoted;

impl Sim {
    pub(crate) fn add_producer(&mut self, spec: ProducerSpec) -> Result<ProducerId, String> {
        let topic = self.check_producer(&spec)?;
        let partitions = self.topics[topic.ix()].spec.partitions;
        let keyer = self.new_keyer(spec.keys.clone(), partitions);
        let index = ProducerId(self.producers.len() as u32);
        let mut out = Out { effects: std::mem::take(&mut self.scratch.producer) };
        let mut ctx = Ctx {
            now: self.now,
            topic: &self.topics[topic.ix()].spec.name,
            partitions,
            keyers: &self.keyers,
            rng: &mut self.rng,
            next_producer_id: &mut self.next_producer_id,
        };
        let producer = Producer::new(spec, topic, keyer, &mut ctx, &mut out);
        self.producers.push(producer);
        self.apply_producer(index, out);
        Ok(index)
    }

    /// Whether a producer with this spec can be added; the topic it sends to if so.
    pub(crate) fn check_producer(&self, spec: &ProducerSpec) -> Result<TopicId, String> {
        spec.validate()?;
        if self.producers.len() >= limits::MAX_CLIENTS {
            return Err("too many producers".into());
        }
        if self.producer_index(&spec.name).is_some() {
            return Err(format!("a producer named {} already exists", quoted(&spec.name)));
        }
        let topic = self.topic_index(&spec.topic).ok_or(format!("no topic named {}", quoted(&spec.topic)))?;
        let partitions = self.topics[topic.ix()].spec.partitions;
        if spec.partition.is_some_and(|p| p >= partitions) {
            return Err(format!("topic {} has no partition {}", quoted(&spec.topic), spec.partition.unwrap_or(0)));
        }
        Ok(topic)
    }

    /// A keyer for `keys` over `partitions` (its salt drawn from the run's random numbers).
    fn new_keyer(&mut self, keys: Keys, partitions: u32) -> u32 {
        let salt = self.rng.random::<u64>();
        self.keyers.push(Keyer::new(keys, partitions, salt));
        (self.keyers.len() - 1) as u32
    }

    pub(crate) fn set_keys(&mut self, p: ProducerId, keys: Keys) {
        let topic = self.producers[p.ix()].topic;
        let keyer = self.new_keyer(keys.clone(), self.topics[topic.ix()].spec.partitions);
        self.producers[p.ix()].set_keys(keyer, keys);
    }

    /// The application asks for `count` more records now.
    pub(crate) fn produce(&mut self, p: ProducerId, count: u64) {
        self.producer_do(p, |pr, ctx, out| pr.produce(ctx, count, out));
    }

    /// The application sends continuously at `per_sec` records a second from now.
    pub(crate) fn set_rate(&mut self, p: ProducerId, per_sec: u32) {
        self.producer_do(p, |pr, ctx, out| pr.set_rate(ctx, per_sec, out));
    }

    pub(crate) fn remove_producer(&mut self, p: ProducerId) {
        self.producer_do(p, |pr, ctx, _| pr.remove(ctx));
    }

    /// `acks` or `enable.idempotence` changes (see [`Producer::reconfigure`]).
    pub(crate) fn reconfigure_producer(&mut self, p: ProducerId, acks: Option<Acks>, idempotence: Option<bool>) {
        self.producer_do(p, |pr, ctx, out| pr.reconfigure(ctx, acks, idempotence, out));
    }

    /// A message for a producer.
    pub(crate) fn producer_msg(&mut self, p: ProducerId, msg: Msg) {
        self.producer_do(p, |pr, ctx, out| pr.on_message(ctx, msg, out));
    }

    /// A batch failed at its leader (`written`: after the leader appended it).
    pub(crate) fn produce_failed(&mut self, p: ProducerId, batch: SentBatch, error: String, written: bool) {
        self.producer_do(p, |pr, ctx, out| pr.on_failed(ctx, batch, error, written, out));
    }

    /// Runs `f` on producer `p` with its context, then carries out what it did.
    fn producer_do(&mut self, p: ProducerId, f: impl FnOnce(&mut Producer, &mut Ctx, &mut Out)) {
        let topic = self.producers[p.ix()].topic.ix();
        let mut out = Out { effects: std::mem::take(&mut self.scratch.producer) };
        let mut ctx = Ctx {
            now: self.now,
            topic: &self.topics[topic].spec.name,
            partitions: self.topics[topic].spec.partitions,
            keyers: &self.keyers,
            rng: &mut self.rng,
            next_producer_id: &mut self.next_producer_id,
        };
        f(&mut self.producers[p.ix()], &mut ctx, &mut out);
        self.apply_producer(p, out);
    }

    /// Carries out what producer `p` did, in order.
    fn apply_producer(&mut self, p: ProducerId, mut out: Out) {
        let topic = self.producers[p.ix()].topic;
        for effect in out.effects.drain(..) {
            match effect {
                Effect::Send(batches) => {
                    // To each partition's leader as the producer knows it now.
                    let batches = batches
                        .into_iter()
                        .map(|b| {
                            let to = self.leader_conn(Tp { topic, partition: b.partition });
                            (b, to)
                        })
                        .collect();
                    self.after(self.latency(), Action::ToLeaders { producer: p, batches });
                }
                Effect::At { at, msg } => self.push(at, Action::ToProducer { producer: p, msg }),
                Effect::Event(e) => self.emit(e),
                Effect::Acked { batch, ack } => self.check_ack(p, Tp { topic, partition: ack.partition }, &batch, &ack),
            }
        }
        // The buffer is kept for the next message (no allocation per message).
        self.scratch.producer = out.effects;
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
}

#[cfg(test)]
mod tests {
    use crate::sim::config::{Acks, ClusterSpec, ProducerSpec, TopicSpec};
    use crate::sim::event::EventKind;
    use crate::sim::experiments::at;
    use crate::sim::ids::TopicId;
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
        sim.partition(Tp { topic: TopicId(0), partition: 0 }).leader_broker().unwrap().0
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
        assert!(p.buffered_bytes <= crate::sim::producer::BUFFER_MEMORY, "{}", p.buffered_bytes);
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
