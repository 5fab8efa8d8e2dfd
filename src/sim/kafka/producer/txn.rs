//! The transactional producer's side of a transaction (Kafka's `TransactionManager`), under
//! transaction version 2: the calls the application makes (`initTransactions`,
//! `beginTransaction`, `send`, `sendOffsetsToTransaction`, `commitTransaction`,
//! `abortTransaction`) and the coordinator's answers move it between Kafka's client states.
//! - `initTransactions` asks InitProducerId until the coordinator answers with an id and epoch
//!   (CONCURRENT_TRANSACTIONS — an older instance's transaction is being aborted — is asked again
//!   after `retry.backoff.ms`).
//! - `beginTransaction` is local. Under version 2 the producer sends no AddPartitionsToTxn: the
//!   leaders it writes to add their partitions, and `sendOffsetsToTransaction` is one
//!   TxnOffsetCommit to the group coordinator, which adds the offsets partition.
//! - `commitTransaction`/`abortTransaction` send EndTxn (after the batches of the transaction are
//!   acknowledged: the caller flushes first); the answer carries the epoch bumped at the end,
//!   which the next transaction writes with. A transaction that sent nothing ends without EndTxn.
//! - PRODUCER_FENCED (from the coordinator, or a leader refusing an old epoch) is fatal: the
//!   instance is a zombie, and the application must close it. An error that only dooms the
//!   transaction (TRANSACTION_ABORTABLE) leaves it to abort.

use crate::sim::kafka::transaction::{PidEpoch, TxnError};

/// A request to send again after `retry.backoff.ms` (the coordinator said
/// CONCURRENT_TRANSACTIONS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnRetry {
    InitProducerId,
    EndTxn,
}

/// Kafka's `TransactionManager.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    Uninitialized,
    Initializing,
    Ready,
    InTransaction,
    CommittingTransaction,
    AbortingTransaction,
    AbortableError,
    FatalError,
}

impl ClientState {
    pub fn name(self) -> &'static str {
        match self {
            ClientState::Uninitialized => "UNINITIALIZED",
            ClientState::Initializing => "INITIALIZING",
            ClientState::Ready => "READY",
            ClientState::InTransaction => "IN_TRANSACTION",
            ClientState::CommittingTransaction => "COMMITTING_TRANSACTION",
            ClientState::AbortingTransaction => "ABORTING_TRANSACTION",
            ClientState::AbortableError => "ABORTABLE_ERROR",
            ClientState::FatalError => "FATAL_ERROR",
        }
    }

    /// `isTransitionValid`.
    fn may_go_to(self, target: ClientState) -> bool {
        use ClientState::*;
        match target {
            Uninitialized => matches!(self, Ready | AbortableError),
            Initializing => matches!(self, Uninitialized | AbortingTransaction),
            Ready => matches!(self, Initializing | CommittingTransaction | AbortingTransaction),
            InTransaction => self == Ready,
            CommittingTransaction => self == InTransaction,
            AbortingTransaction => matches!(self, InTransaction | AbortableError),
            AbortableError => matches!(self, InTransaction | CommittingTransaction | AbortableError | Initializing),
            FatalError => true,
        }
    }
}

/// A request the transaction manager needs sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Send {
    /// InitProducerId to the transaction coordinator.
    InitProducerId,
    /// EndTxn to the transaction coordinator, at this id and epoch.
    EndTxn { producer: PidEpoch, commit: bool },
}

/// Why a call the application made is refused (Kafka throws; the application sees it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The call does not fit the state (`IllegalStateException`), with Kafka's words.
    IllegalState(String),
    /// The producer was fenced: it can only be closed.
    Fenced,
}

/// The transactional state of one producer instance.
#[derive(Clone, Debug)]
pub struct TransactionManager {
    pub state: ClientState,
    /// The id and epoch it writes with (none before InitProducerId answered).
    pub producer: Option<PidEpoch>,
    /// It wrote (or sent offsets) in the transaction under way: EndTxn is needed to end it.
    pub started: bool,
    /// Why it failed, once in [`ClientState::FatalError`] or [`ClientState::AbortableError`].
    pub error: Option<String>,
}

impl Default for TransactionManager {
    fn default() -> Self {
        TransactionManager { state: ClientState::Uninitialized, producer: None, started: false, error: None }
    }
}

impl TransactionManager {
    /// Moves to `target` if Kafka would; reports whether it did.
    fn go(&mut self, target: ClientState) -> bool {
        let ok = self.state.may_go_to(target);
        if ok {
            self.state = target;
        }
        ok
    }

    fn illegal(&self, call: &str) -> Refused {
        if self.state == ClientState::FatalError {
            return Refused::Fenced;
        }
        Refused::IllegalState(format!("cannot {call} in state {}", self.state.name()))
    }

    /// `initTransactions()`.
    pub fn init(&mut self) -> Result<Send, Refused> {
        if !self.go(ClientState::Initializing) {
            return Err(self.illegal("initTransactions"));
        }
        Ok(Send::InitProducerId)
    }

    /// The answer to InitProducerId: an id and epoch, a retry, or fenced.
    pub fn on_init_answer(&mut self, answer: Result<PidEpoch, TxnError>) -> Option<TxnRetry> {
        if self.state != ClientState::Initializing {
            return None;
        }
        match answer {
            Ok(p) => {
                self.producer = Some(p);
                self.go(ClientState::Ready);
                None
            }
            Err(TxnError::ConcurrentTransactions) => Some(TxnRetry::InitProducerId),
            Err(e) => {
                self.fail(e.code());
                None
            }
        }
    }

    /// `beginTransaction()`.
    pub fn begin(&mut self) -> Result<(), Refused> {
        if !self.go(ClientState::InTransaction) {
            return Err(self.illegal("beginTransaction"));
        }
        self.started = false;
        Ok(())
    }

    /// `send()` or `sendOffsetsToTransaction()` within the transaction: the id and epoch the
    /// records (or the TxnOffsetCommit) carry.
    pub fn write(&mut self, call: &str) -> Result<PidEpoch, Refused> {
        match (self.state, self.producer) {
            (ClientState::InTransaction, Some(p)) => {
                self.started = true;
                Ok(p)
            }
            _ => Err(self.illegal(call)),
        }
    }

    /// `commitTransaction()` or `abortTransaction()` (once what was sent is acknowledged): EndTxn,
    /// or nothing to send when the transaction wrote nothing.
    pub fn end(&mut self, commit: bool) -> Result<Option<Send>, Refused> {
        let target = if commit { ClientState::CommittingTransaction } else { ClientState::AbortingTransaction };
        let Some(producer) = self.producer.filter(|_| self.state.may_go_to(target)) else {
            return Err(self.illegal(if commit { "commitTransaction" } else { "abortTransaction" }));
        };
        self.go(target);
        if !self.started {
            self.go(ClientState::Ready);
            return Ok(None);
        }
        Ok(Some(Send::EndTxn { producer, commit }))
    }

    /// The answer to EndTxn: done at the bumped epoch, a retry, or fenced.
    pub fn on_end_answer(&mut self, answer: Result<PidEpoch, TxnError>) -> Option<TxnRetry> {
        if !matches!(self.state, ClientState::CommittingTransaction | ClientState::AbortingTransaction) {
            return None;
        }
        match answer {
            Ok(p) => {
                self.producer = Some(p);
                self.started = false;
                self.go(ClientState::Ready);
                None
            }
            Err(TxnError::ConcurrentTransactions) => Some(TxnRetry::EndTxn),
            Err(e) => {
                self.fail(e.code());
                None
            }
        }
    }

    /// A write of the transaction failed at a leader: fenced (an older epoch: fatal), or an error
    /// that dooms the transaction, which must then be aborted.
    pub fn on_write_failed(&mut self, error: &str, fenced: bool) {
        if fenced {
            self.fail(error);
        } else if self.go(ClientState::AbortableError) {
            self.error = Some(error.to_string());
        }
    }

    fn fail(&mut self, error: &str) {
        self.go(ClientState::FatalError);
        self.error = Some(error.to_string());
    }
}

#[cfg(test)]
mod tests {
    //! Each transition, as the client's TransactionManagerTest exercises them under version 2.

    use super::*;

    const P0: PidEpoch = PidEpoch { producer_id: 7, epoch: 0 };
    const P1: PidEpoch = PidEpoch { producer_id: 7, epoch: 1 };

    fn ready() -> TransactionManager {
        let mut t = TransactionManager::default();
        assert_eq!(t.init(), Ok(Send::InitProducerId));
        assert_eq!(t.on_init_answer(Ok(P0)), None);
        assert_eq!(t.state, ClientState::Ready);
        t
    }

    #[test]
    fn init_retries_while_an_older_instance_is_being_aborted_and_is_fatal_when_fenced() {
        let mut t = TransactionManager::default();
        t.init().unwrap();
        assert_eq!(t.on_init_answer(Err(TxnError::ConcurrentTransactions)), Some(TxnRetry::InitProducerId));
        assert_eq!(t.state, ClientState::Initializing);
        assert_eq!(t.on_init_answer(Ok(P0)), None);
        assert_eq!((t.state, t.producer), (ClientState::Ready, Some(P0)));
        assert!(matches!(t.init(), Err(Refused::IllegalState(_))), "initTransactions twice");
        let mut t = TransactionManager::default();
        t.init().unwrap();
        t.on_init_answer(Err(TxnError::ProducerFenced));
        assert_eq!(t.state, ClientState::FatalError);
        assert_eq!(t.begin(), Err(Refused::Fenced));
    }

    #[test]
    fn a_transaction_writes_with_its_epoch_and_ends_at_the_next_one() {
        let mut t = ready();
        assert!(matches!(t.write("send"), Err(Refused::IllegalState(_))), "send outside a transaction");
        t.begin().unwrap();
        assert_eq!(t.write("send"), Ok(P0));
        assert_eq!(t.write("sendOffsetsToTransaction"), Ok(P0));
        assert_eq!(t.end(true), Ok(Some(Send::EndTxn { producer: P0, commit: true })));
        assert_eq!(t.state, ClientState::CommittingTransaction);
        assert_eq!(t.on_end_answer(Err(TxnError::ConcurrentTransactions)), Some(TxnRetry::EndTxn));
        assert_eq!(t.on_end_answer(Ok(P1)), None);
        assert_eq!((t.state, t.producer), (ClientState::Ready, Some(P1)));
        t.begin().unwrap();
        assert_eq!(t.write("send"), Ok(P1), "the next transaction at the bumped epoch");
    }

    #[test]
    fn a_transaction_that_wrote_nothing_ends_without_end_txn() {
        let mut t = ready();
        t.begin().unwrap();
        assert_eq!(t.end(false), Ok(None));
        assert_eq!((t.state, t.producer), (ClientState::Ready, Some(P0)));
        assert!(matches!(t.end(true), Err(Refused::IllegalState(_))), "no transaction to commit");
    }

    #[test]
    fn a_fenced_write_is_fatal_and_an_abortable_one_leaves_only_abort() {
        let mut t = ready();
        t.begin().unwrap();
        t.write("send").unwrap();
        t.on_write_failed("TRANSACTION_ABORTABLE", false);
        assert_eq!(t.state, ClientState::AbortableError);
        assert!(matches!(t.end(true), Err(Refused::IllegalState(_))), "it cannot commit");
        assert_eq!(t.end(false), Ok(Some(Send::EndTxn { producer: P0, commit: false })));
        t.on_end_answer(Ok(P1));
        t.begin().unwrap();
        t.write("send").unwrap();
        t.on_write_failed("PRODUCER_FENCED", true);
        assert_eq!(t.state, ClientState::FatalError);
        assert_eq!(t.end(false), Err(Refused::Fenced), "a zombie can only be closed");
        assert_eq!(t.error.as_deref(), Some("PRODUCER_FENCED"));
    }

    #[test]
    fn a_fenced_end_txn_is_fatal() {
        let mut t = ready();
        t.begin().unwrap();
        t.write("send").unwrap();
        t.end(true).unwrap();
        t.on_end_answer(Err(TxnError::ProducerFenced));
        assert_eq!(t.state, ClientState::FatalError);
    }
}
