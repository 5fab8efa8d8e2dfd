//! The transaction coordinator of one `transactional.id`, as a state machine: Kafka's
//! `TransactionMetadata` and the parts of `TransactionCoordinator` that move it, under
//! transaction version 2 (the 4.x default, KIP-890 part 2):
//! - InitProducerId gives an instance its producer id and a new epoch. A transaction an older
//!   instance left open is fenced (PrepareEpochFence, epoch + 1) and aborted first; the new
//!   instance is told CONCURRENT_TRANSACTIONS and asks again once the abort is done.
//! - The producer never sends AddPartitionsToTxn or AddOffsetsToTxn: the leader of a partition
//!   it writes to adds that partition (a transactional produce request, v12), and the group
//!   coordinator adds the group's `__consumer_offsets` partition (TxnOffsetCommit, v5). The first
//!   one moves the transaction to Ongoing and starts its `transaction.timeout.ms`.
//! - EndTxn moves it to PrepareCommit or PrepareAbort with the epoch bumped (every transaction
//!   ends at a new epoch, so a late write of this one cannot land in the next), answers the
//!   producer with that epoch, and writes a COMMIT or ABORT marker, carrying it, to every
//!   partition in the transaction; once every marker is written: CompleteCommit or CompleteAbort.
//! - A transaction left Ongoing past its timeout is fenced and aborted by the coordinator's
//!   periodic check (every 10 s).
//!
//! The coordinator is the leader of the transaction's `__transaction_state` partition; what it
//! writes there is taken as written at once (like the group coordinator's offsets). A new leader
//! takes the metadata over ([`TransactionCoordinator::on_load`]) and finishes what was under way.

use crate::sim::coordinator::partition_for;
use crate::sim::ids::{GroupId, ProducerId, Tp};
use crate::sim::time::SimTime;
use crate::sim::vecmap::VecSet;

/// `transaction.state.log.num.partitions`.
pub const TRANSACTION_STATE_PARTITIONS: u32 = 50;
/// `transaction.timeout.ms`, the producer's default.
pub const TRANSACTION_TIMEOUT_MS: u64 = 60_000;
/// `transaction.max.timeout.ms`: the longest timeout the broker accepts.
pub const TRANSACTION_MAX_TIMEOUT_MS: u64 = 900_000;
/// `transaction.abort.timed.out.transaction.cleanup.interval.ms`.
pub const ABORT_TIMED_OUT_INTERVAL_MS: u64 = 10_000;

/// The `__transaction_state` partition of a transactional id (Kafka's `partitionFor`).
pub fn transaction_state_partition(transactional_id: &str) -> u32 {
    partition_for(transactional_id, TRANSACTION_STATE_PARTITIONS)
}

/// Kafka's `TransactionState` (Dead, for expired ids, is not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    PrepareEpochFence,
}

impl TxnState {
    /// As Kafka names it (`kafka-transactions.sh describe`).
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    /// The states it may be entered from (`validPreviousStates`).
    fn valid_previous(self) -> &'static [TxnState] {
        use TxnState::*;
        match self {
            Empty => &[Empty, CompleteCommit, CompleteAbort],
            Ongoing => &[Ongoing, Empty, CompleteCommit, CompleteAbort],
            PrepareCommit => &[Ongoing],
            PrepareAbort => &[Ongoing, PrepareEpochFence],
            CompleteCommit => &[PrepareCommit],
            CompleteAbort => &[PrepareAbort],
            PrepareEpochFence => &[Ongoing],
        }
    }

    /// A commit or an abort is being completed: markers are being written.
    pub fn completing(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence)
    }
}

/// A partition in a transaction: a data partition, or a group's `__consumer_offsets` partition
/// (offsets sent to the transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TxnPartition {
    Data(Tp),
    Offsets(u32),
}

/// The coordinator's error answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnError {
    /// A commit or abort is being completed (or an older instance's open transaction is being
    /// aborted): retriable, after `retry.backoff.ms`.
    ConcurrentTransactions,
    /// An instance with a newer epoch exists: this one is a zombie and must close (fatal).
    ProducerFenced,
    /// The producer id is not this transactional id's.
    InvalidProducerIdMapping,
    /// The request does not fit the state (say, a commit of a transaction being aborted).
    InvalidTxnState,
    /// `transaction.timeout.ms` above `transaction.max.timeout.ms`.
    InvalidTransactionTimeout,
}

impl TxnError {
    /// Kafka's error code name.
    pub fn code(self) -> &'static str {
        match self {
            TxnError::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            TxnError::ProducerFenced => "PRODUCER_FENCED",
            TxnError::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            TxnError::InvalidTxnState => "INVALID_TXN_STATE",
            TxnError::InvalidTransactionTimeout => "INVALID_TRANSACTION_TIMEOUT",
        }
    }
}

/// A producer id and epoch (Kafka's `ProducerIdAndEpoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PidEpoch {
    pub producer_id: u32,
    pub epoch: u16,
}

/// Who asked: the answer goes back to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asker {
    /// A producer process (an incarnation of a producer application).
    Producer { producer: ProducerId, inc: u32 },
    /// The leader of a partition a transactional produce request writes to.
    Leader(Tp),
    /// A group coordinator taking a TxnOffsetCommit.
    Group(GroupId),
}

/// What the coordinator is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `initTransactions()`: `expected` is the id and epoch an instance already has (none for a
    /// new one).
    InitProducerId { expected: Option<PidEpoch>, timeout_ms: u64 },
    /// Add a partition for a produce request or a TxnOffsetCommit of `producer` (TV2).
    AddPartition { producer: PidEpoch, partition: TxnPartition },
    /// `commitTransaction()` or `abortTransaction()`.
    EndTxn { producer: PidEpoch, commit: bool },
}

/// The coordinator's answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    InitProducerId(Result<PidEpoch, TxnError>),
    AddPartition(Result<(), TxnError>),
    /// The epoch the producer goes on with (bumped by the end of the transaction).
    EndTxn(Result<PidEpoch, TxnError>),
}

/// A timer of the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The periodic check for timed-out transactions, for the transaction started at `started`.
    TimeoutCheck { started: SimTime },
}

/// One thing the coordinator did, for the engine to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Reply {
        to: Asker,
        reply: Reply,
    },
    /// WriteTxnMarkers: write a COMMIT or ABORT marker of `producer` (at the transaction's final
    /// epoch) to the leader of `partition`; the engine calls
    /// [`TransactionCoordinator::on_marker_written`] once it is written.
    WriteMarker {
        partition: TxnPartition,
        producer: PidEpoch,
        commit: bool,
    },
    Timer {
        at: SimTime,
        timer: Timer,
    },
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

/// What a handler may read or use besides the coordinator's own state.
pub struct Ctx<'a> {
    pub now: SimTime,
    /// The next producer id the cluster hands out.
    pub next_producer_id: &'a mut u32,
}

/// One transactional id's metadata (`TransactionMetadata`).
#[derive(Clone, Debug)]
pub struct TransactionCoordinator {
    pub transactional_id: String,
    /// None until the first InitProducerId.
    pub producer_id: Option<u32>,
    /// None: no epoch yet (`NO_PRODUCER_EPOCH`).
    pub epoch: Option<u16>,
    /// The epoch before the last bump (to recognise a retried request).
    pub last_epoch: Option<u16>,
    pub timeout_ms: u64,
    pub state: TxnState,
    pub partitions: VecSet<TxnPartition>,
    /// When the transaction under way began (its first partition).
    pub started: SimTime,
    /// Markers of the transaction being completed that are not written yet.
    pub unwritten: VecSet<TxnPartition>,
}

impl TransactionCoordinator {
    pub fn new(transactional_id: &str) -> TransactionCoordinator {
        TransactionCoordinator {
            transactional_id: transactional_id.to_string(),
            producer_id: None,
            epoch: None,
            last_epoch: None,
            timeout_ms: TRANSACTION_TIMEOUT_MS,
            state: TxnState::Empty,
            partitions: VecSet::new(),
            started: SimTime::ZERO,
            unwritten: VecSet::new(),
        }
    }

    fn current(&self) -> Option<PidEpoch> {
        Some(PidEpoch { producer_id: self.producer_id?, epoch: self.epoch? })
    }

    /// Moves to `next`; a move Kafka never makes is refused (and reported in debug builds).
    fn transition(&mut self, next: TxnState) -> bool {
        let ok = next.valid_previous().contains(&self.state);
        debug_assert!(ok, "{} cannot go from {:?} to {next:?}", self.transactional_id, self.state);
        if ok {
            self.state = next;
        }
        ok
    }

    pub fn on_request(&mut self, ctx: &mut Ctx, from: Asker, request: Request, out: &mut Out) {
        let reply = match request {
            Request::InitProducerId { expected, timeout_ms } => {
                Reply::InitProducerId(self.init_producer_id(ctx, expected, timeout_ms, out))
            }
            Request::AddPartition { producer, partition } => {
                Reply::AddPartition(self.add_partition(ctx, producer, partition, out))
            }
            Request::EndTxn { producer, commit } => Reply::EndTxn(self.end_txn(producer, commit, out)),
        };
        out.push(Effect::Reply { to: from, reply });
    }

    /// `handleInitProducerId` (`prepareInitProducerIdTransit`).
    fn init_producer_id(
        &mut self,
        ctx: &mut Ctx,
        expected: Option<PidEpoch>,
        timeout_ms: u64,
        out: &mut Out,
    ) -> Result<PidEpoch, TxnError> {
        if timeout_ms == 0 || timeout_ms > TRANSACTION_MAX_TIMEOUT_MS {
            return Err(TxnError::InvalidTransactionTimeout);
        }
        // An instance that had an id and epoch is fenced unless it is this id's (its epoch is
        // checked below) or nothing has an epoch yet.
        if let Some(e) = expected {
            if self.epoch.is_some() && Some(e.producer_id) != self.producer_id {
                return Err(TxnError::ProducerFenced);
            }
        }
        match self.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                Err(TxnError::ConcurrentTransactions)
            }
            TxnState::Ongoing => {
                // An older instance's transaction is open: fence it and abort it first; this
                // instance asks again once that is done.
                self.fence_and_abort(out);
                Err(TxnError::ConcurrentTransactions)
            }
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                let producer_id = match self.producer_id {
                    Some(id) => id,
                    None => {
                        let id = *ctx.next_producer_id;
                        *ctx.next_producer_id += 1;
                        self.producer_id = Some(id);
                        id
                    }
                };
                // `prepareIncrementProducerEpoch`.
                let bumped = self.epoch.map_or(0, |e| e.saturating_add(1));
                let (epoch, last) = match expected.map(|e| e.epoch) {
                    None => (bumped, None),
                    Some(e) if self.epoch.is_none() || Some(e) == self.epoch => (bumped, self.epoch),
                    // A retry of a bump whose answer was lost.
                    Some(e) if Some(e) == self.last_epoch => (self.epoch.unwrap_or(bumped), self.last_epoch),
                    Some(_) => return Err(TxnError::ProducerFenced),
                };
                self.transition(TxnState::Empty);
                self.epoch = Some(epoch);
                self.last_epoch = last;
                self.timeout_ms = timeout_ms;
                self.partitions.clear();
                Ok(PidEpoch { producer_id, epoch })
            }
        }
    }

    /// A partition leader (produce) or the group coordinator (TxnOffsetCommit) adds a partition
    /// to the producer's transaction (`handleAddPartitionsToTransaction`, verification off).
    fn add_partition(
        &mut self,
        ctx: &Ctx,
        producer: PidEpoch,
        partition: TxnPartition,
        out: &mut Out,
    ) -> Result<(), TxnError> {
        if self.producer_id != Some(producer.producer_id) {
            return Err(TxnError::InvalidProducerIdMapping);
        }
        if self.epoch != Some(producer.epoch) {
            return Err(TxnError::ProducerFenced);
        }
        if self.state.completing() {
            return Err(TxnError::ConcurrentTransactions);
        }
        if self.state != TxnState::Ongoing {
            // The transaction begins: its clock starts.
            self.started = ctx.now;
            self.partitions.clear();
            self.transition(TxnState::Ongoing);
            out.push(Effect::Timer {
                at: next_timeout_check(ctx.now, self.timeout_ms),
                timer: Timer::TimeoutCheck { started: ctx.now },
            });
        }
        self.partitions.insert(partition);
        Ok(())
    }

    /// `handleEndTransaction` from the producer, under transaction version 2.
    fn end_txn(&mut self, producer: PidEpoch, commit: bool, out: &mut Out) -> Result<PidEpoch, TxnError> {
        if self.producer_id != Some(producer.producer_id) {
            return Err(TxnError::InvalidProducerIdMapping);
        }
        // A retry of an EndTxn that was done (its answer lost) carries the epoch before the bump.
        let retry = self.last_epoch == Some(producer.epoch);
        let same_result = |state: TxnState| {
            matches!((state, commit), (TxnState::PrepareCommit | TxnState::CompleteCommit, true))
                || matches!((state, commit), (TxnState::PrepareAbort | TxnState::CompleteAbort, false))
        };
        match self.state {
            TxnState::Ongoing if self.epoch == Some(producer.epoch) => {
                self.prepare_end(commit, out);
                self.current().ok_or(TxnError::InvalidProducerIdMapping)
            }
            TxnState::Ongoing | TxnState::Empty | TxnState::PrepareEpochFence if self.epoch != Some(producer.epoch) => {
                Err(TxnError::ProducerFenced)
            }
            TxnState::Ongoing | TxnState::PrepareEpochFence => Err(TxnError::InvalidTxnState),
            // Nothing was added: there is no transaction to end.
            TxnState::Empty => Err(TxnError::InvalidTxnState),
            TxnState::PrepareCommit | TxnState::PrepareAbort if retry && same_result(self.state) => {
                Err(TxnError::ConcurrentTransactions)
            }
            TxnState::CompleteCommit | TxnState::CompleteAbort if retry && same_result(self.state) => {
                self.current().ok_or(TxnError::InvalidProducerIdMapping)
            }
            _ if retry => Err(TxnError::InvalidTxnState),
            _ => Err(TxnError::ProducerFenced),
        }
    }

    /// `prepareAbortOrCommit` with the epoch bump of transaction version 2, then a marker to every
    /// partition in the transaction.
    fn prepare_end(&mut self, commit: bool, out: &mut Out) {
        let next = if commit { TxnState::PrepareCommit } else { TxnState::PrepareAbort };
        if !self.transition(next) {
            return;
        }
        let epoch = self.epoch.map_or(0, |e| e.saturating_add(1));
        self.last_epoch = self.epoch;
        self.epoch = Some(epoch);
        self.send_markers(out);
    }

    fn send_markers(&mut self, out: &mut Out) {
        let Some(producer) = self.current() else { return };
        let commit = self.state == TxnState::PrepareCommit;
        self.unwritten = self.partitions.clone();
        for partition in self.partitions.iter() {
            out.push(Effect::WriteMarker { partition: *partition, producer, commit });
        }
    }

    /// The open transaction of an older instance, or one that timed out: its epoch is fenced
    /// (`prepareFenceProducerEpoch`), then it is aborted at the epoch after (version 2 bumps again
    /// as it ends).
    fn fence_and_abort(&mut self, out: &mut Out) {
        if !self.transition(TxnState::PrepareEpochFence) {
            return;
        }
        self.epoch = Some(self.epoch.map_or(0, |e| e.saturating_add(1)));
        self.last_epoch = None;
        self.prepare_end(false, out);
    }

    /// A marker was written to `partition`'s log: once all are, the transaction is complete
    /// (`prepareComplete`).
    pub fn on_marker_written(&mut self, partition: TxnPartition) {
        if !self.state.completing() || !self.unwritten.remove(&partition) || !self.unwritten.is_empty() {
            return;
        }
        let done =
            if self.state == TxnState::PrepareCommit { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
        if self.transition(done) {
            self.partitions.clear();
        }
    }

    pub fn on_timer(&mut self, ctx: &Ctx, timer: Timer, out: &mut Out) {
        match timer {
            Timer::TimeoutCheck { started } => {
                if self.state != TxnState::Ongoing || self.started != started {
                    return; // that transaction ended
                }
                if ctx.now > self.started.plus(self.timeout_ms) {
                    self.fence_and_abort(out);
                } else {
                    out.push(Effect::Timer { at: next_timeout_check(ctx.now, 0), timer });
                }
            }
        }
    }

    /// A broker became the leader of this id's `__transaction_state` partition and took its
    /// metadata over: a commit or abort under way has its markers written again (writing one
    /// twice is harmless), and an open transaction is watched for its timeout again.
    pub fn on_load(&mut self, ctx: &Ctx, out: &mut Out) {
        match self.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => self.send_markers(out),
            TxnState::Ongoing => out.push(Effect::Timer {
                at: next_timeout_check(ctx.now, 0).max(ctx.now.plus(1)),
                timer: Timer::TimeoutCheck { started: self.started },
            }),
            _ => {}
        }
    }
}

/// The first run of the periodic timed-out-transaction check (every 10 s from the start) that
/// finds a transaction begun at `from` past a timeout of `timeout_ms` (it must be strictly past).
fn next_timeout_check(from: SimTime, timeout_ms: u64) -> SimTime {
    let due = from.ms() + timeout_ms + 1;
    SimTime(due.div_ceil(ABORT_TIMED_OUT_INTERVAL_MS) * ABORT_TIMED_OUT_INTERVAL_MS)
}

#[cfg(test)]
mod tests {
    //! Each transition, as Kafka's TransactionCoordinatorTest and TransactionMetadataTest exercise
    //! them under transaction version 2.

    use super::*;
    use crate::sim::ids::TopicId;

    const PRODUCER: Asker = Asker::Producer { producer: ProducerId(0), inc: 1 };

    fn tp(p: u32) -> TxnPartition {
        TxnPartition::Data(Tp { topic: TopicId(0), partition: p })
    }

    struct Harness {
        c: TransactionCoordinator,
        now: SimTime,
        next_producer_id: u32,
    }

    impl Harness {
        fn new() -> Harness {
            Harness { c: TransactionCoordinator::new("receipts-tx"), now: SimTime(1_000), next_producer_id: 7 }
        }

        fn ask(&mut self, from: Asker, request: Request) -> (Reply, Vec<Effect>) {
            let mut out = Out::default();
            let mut ctx = Ctx { now: self.now, next_producer_id: &mut self.next_producer_id };
            self.c.on_request(&mut ctx, from, request, &mut out);
            let mut effects = out.effects;
            let Some(Effect::Reply { reply, .. }) = effects.pop() else { panic!("no reply: {effects:?}") };
            (reply, effects)
        }

        fn init(&mut self, expected: Option<PidEpoch>) -> Result<PidEpoch, TxnError> {
            match self.ask(PRODUCER, Request::InitProducerId { expected, timeout_ms: TRANSACTION_TIMEOUT_MS }).0 {
                Reply::InitProducerId(r) => r,
                other => panic!("{other:?}"),
            }
        }

        fn add(&mut self, producer: PidEpoch, partition: TxnPartition) -> Result<(), TxnError> {
            match self
                .ask(
                    Asker::Leader(Tp { topic: TopicId(0), partition: 0 }),
                    Request::AddPartition { producer, partition },
                )
                .0
            {
                Reply::AddPartition(r) => r,
                other => panic!("{other:?}"),
            }
        }

        fn end(&mut self, producer: PidEpoch, commit: bool) -> (Result<PidEpoch, TxnError>, Vec<Effect>) {
            match self.ask(PRODUCER, Request::EndTxn { producer, commit }) {
                (Reply::EndTxn(r), effects) => (r, effects),
                other => panic!("{other:?}"),
            }
        }

        fn timer(&mut self, timer: Timer) -> Vec<Effect> {
            let mut out = Out::default();
            let mut next = self.next_producer_id;
            self.c.on_timer(&Ctx { now: self.now, next_producer_id: &mut next }, timer, &mut out);
            out.effects
        }
    }

    fn markers(effects: &[Effect]) -> Vec<(TxnPartition, u16, bool)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::WriteMarker { partition, producer, commit } => Some((*partition, producer.epoch, *commit)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_partition_of_a_transactional_id_is_its_java_hash_modulo_50() {
        // "a".hashCode() = 97; "receipts-tx".hashCode() is negative: abs, then modulo.
        assert_eq!(transaction_state_partition("a"), 97 % 50);
        let h = crate::sim::coordinator::java_hash("receipts-tx");
        assert_eq!(transaction_state_partition("receipts-tx"), h.unsigned_abs() % 50);
    }

    #[test]
    fn a_new_transactional_id_gets_a_producer_id_at_epoch_0_and_the_next_instance_the_next_epoch() {
        let mut h = Harness::new();
        assert_eq!(h.init(None), Ok(PidEpoch { producer_id: 7, epoch: 0 }));
        assert_eq!(h.next_producer_id, 8);
        assert_eq!(h.init(None), Ok(PidEpoch { producer_id: 7, epoch: 1 }), "a new instance bumps the epoch");
        assert_eq!(h.c.state, TxnState::Empty);
        assert_eq!(h.next_producer_id, 8, "the id stays the transactional id's");
    }

    #[test]
    fn an_instance_asking_with_an_epoch_older_than_the_last_one_is_fenced() {
        let mut h = Harness::new();
        let first = h.init(None).unwrap();
        let second = h.init(None).unwrap();
        let third = h.init(Some(second)).unwrap();
        assert_eq!(third.epoch, 2);
        assert_eq!(h.init(Some(first)), Err(TxnError::ProducerFenced));
        assert_eq!(h.init(Some(second)), Ok(third), "a retry of the last bump gets the same epoch");
        assert_eq!(
            h.ask(PRODUCER, Request::InitProducerId { expected: None, timeout_ms: TRANSACTION_MAX_TIMEOUT_MS + 1 }).0,
            Reply::InitProducerId(Err(TxnError::InvalidTransactionTimeout))
        );
    }

    #[test]
    fn the_first_partition_starts_the_transaction_and_its_timeout_check() {
        let mut h = Harness::new();
        let p = h.init(None).unwrap();
        let (reply, effects) = h.ask(
            Asker::Leader(Tp { topic: TopicId(0), partition: 0 }),
            Request::AddPartition { producer: p, partition: tp(0) },
        );
        assert_eq!(reply, Reply::AddPartition(Ok(())));
        assert_eq!(h.c.state, TxnState::Ongoing);
        assert_eq!(h.c.started, SimTime(1_000));
        // Strictly past 61 000 ms: the check at 70 s.
        assert_eq!(
            effects,
            [Effect::Timer { at: SimTime(70_000), timer: Timer::TimeoutCheck { started: SimTime(1_000) } }]
        );
        h.now = SimTime(1_500);
        let (_, effects) =
            h.ask(Asker::Group("g".into()), Request::AddPartition { producer: p, partition: TxnPartition::Offsets(3) });
        assert!(effects.is_empty(), "no second timer for the same transaction");
        assert_eq!(h.c.partitions.len(), 2);
        assert_eq!(h.add(PidEpoch { epoch: p.epoch + 1, ..p }, tp(1)), Err(TxnError::ProducerFenced));
        assert_eq!(h.add(PidEpoch { producer_id: 99, ..p }, tp(1)), Err(TxnError::InvalidProducerIdMapping));
    }

    #[test]
    fn a_commit_bumps_the_epoch_writes_a_marker_to_every_partition_and_completes_when_all_are_written() {
        let mut h = Harness::new();
        let p = h.init(None).unwrap();
        h.add(p, tp(0)).unwrap();
        h.add(p, TxnPartition::Offsets(3)).unwrap();
        let (answer, effects) = h.end(p, true);
        assert_eq!(answer, Ok(PidEpoch { producer_id: 7, epoch: 1 }), "version 2: the epoch moves at every end");
        assert_eq!(h.c.state, TxnState::PrepareCommit);
        assert_eq!(markers(&effects), [(tp(0), 1, true), (TxnPartition::Offsets(3), 1, true)]);
        // Meanwhile the next transaction waits.
        let next = answer.unwrap();
        assert_eq!(h.add(next, tp(1)), Err(TxnError::ConcurrentTransactions));
        h.c.on_marker_written(tp(0));
        assert_eq!(h.c.state, TxnState::PrepareCommit);
        h.c.on_marker_written(TxnPartition::Offsets(3));
        assert_eq!(h.c.state, TxnState::CompleteCommit);
        assert_eq!(h.add(next, tp(1)), Ok(()), "the next transaction, at the new epoch");
        assert_eq!(h.add(p, tp(2)), Err(TxnError::ProducerFenced), "the old epoch is gone");
    }

    #[test]
    fn an_end_txn_retried_after_its_answer_was_lost_gets_the_same_answer() {
        let mut h = Harness::new();
        let p = h.init(None).unwrap();
        h.add(p, tp(0)).unwrap();
        let (first, _) = h.end(p, false);
        assert_eq!(h.end(p, false).0, Err(TxnError::ConcurrentTransactions), "still writing markers");
        assert_eq!(h.end(p, true).0, Err(TxnError::InvalidTxnState), "an abort cannot become a commit");
        h.c.on_marker_written(tp(0));
        assert_eq!(h.c.state, TxnState::CompleteAbort);
        assert_eq!(h.end(p, false).0, first);
        let next = first.unwrap();
        // A version-2 client sends no EndTxn for a transaction it added nothing to; one at the
        // current epoch after a completed transaction is not a retry, and is answered as a
        // zombie's (Kafka's `isValidEpoch` for CompleteCommit/CompleteAbort).
        assert_eq!(h.end(next, true).0, Err(TxnError::ProducerFenced));
    }

    #[test]
    fn a_new_instance_fences_and_aborts_what_the_old_one_left_open_then_gets_a_newer_epoch() {
        let mut h = Harness::new();
        let old = h.init(None).unwrap();
        h.add(old, tp(0)).unwrap();
        h.add(old, tp(1)).unwrap();
        let (reply, effects) =
            h.ask(PRODUCER, Request::InitProducerId { expected: None, timeout_ms: TRANSACTION_TIMEOUT_MS });
        assert_eq!(reply, Reply::InitProducerId(Err(TxnError::ConcurrentTransactions)));
        assert_eq!(h.c.state, TxnState::PrepareAbort);
        // Fenced at epoch 1, aborted at epoch 2.
        assert_eq!(markers(&effects), [(tp(0), 2, false), (tp(1), 2, false)]);
        assert_eq!(h.init(None), Err(TxnError::ConcurrentTransactions), "asked again too soon");
        assert_eq!(h.end(old, true).0, Err(TxnError::ProducerFenced), "the zombie cannot commit");
        assert_eq!(h.add(old, tp(2)), Err(TxnError::ProducerFenced), "nor write");
        h.c.on_marker_written(tp(0));
        h.c.on_marker_written(tp(1));
        assert_eq!(h.c.state, TxnState::CompleteAbort);
        assert_eq!(h.init(None), Ok(PidEpoch { producer_id: 7, epoch: 3 }));
    }

    #[test]
    fn a_transaction_open_past_its_timeout_is_fenced_and_aborted_by_the_periodic_check() {
        let mut h = Harness::new();
        let p = h.init(None).unwrap();
        h.add(p, tp(0)).unwrap();
        let check = Timer::TimeoutCheck { started: SimTime(1_000) };
        h.now = SimTime(60_000);
        let effects = h.timer(check);
        assert_eq!(effects, [Effect::Timer { at: SimTime(70_000), timer: check }], "not past yet: next check");
        h.now = SimTime(70_000);
        let effects = h.timer(check);
        assert_eq!(markers(&effects), [(tp(0), 2, false)]);
        assert_eq!(h.c.state, TxnState::PrepareAbort);
        assert_eq!(h.end(p, true).0, Err(TxnError::ProducerFenced), "it wakes up fenced");
        // A check for a transaction that ended does nothing.
        h.c.on_marker_written(tp(0));
        assert!(h.timer(check).is_empty());
    }

    #[test]
    fn a_new_leader_of_the_transaction_state_partition_writes_the_markers_of_a_commit_under_way_again() {
        let mut h = Harness::new();
        let p = h.init(None).unwrap();
        h.add(p, tp(0)).unwrap();
        h.add(p, tp(1)).unwrap();
        h.end(p, true).0.unwrap();
        h.c.on_marker_written(tp(0));
        let mut out = Out::default();
        let mut next = 0;
        h.c.on_load(&Ctx { now: SimTime(5_000), next_producer_id: &mut next }, &mut out);
        assert_eq!(
            markers(&out.effects),
            [(tp(0), 1, true), (tp(1), 1, true)],
            "all of them: it cannot know which were written"
        );
        h.c.on_marker_written(tp(0));
        h.c.on_marker_written(tp(1));
        assert_eq!(h.c.state, TxnState::CompleteCommit);
    }
}
