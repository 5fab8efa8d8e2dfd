//! One partition's append-only log, stored as batches.
//!
//! Kafka writes and reads record batches; so does ksim. A batch keeps its producer, the range of
//! producer sequence numbers it covers and a timestamp; the records inside are derived (see
//! [`crate::sim::keys`]). Batches live in segments, and retention deletes whole closed segments from
//! the front, moving the log-start offset forward — as Kafka's log cleaner does with `delete`.

mod chunks;

use crate::sim::time::SimTime;
use chunks::BatchDeque;
use std::collections::VecDeque;

/// What a batch holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchKind {
    /// Records outside any transaction.
    #[default]
    Plain,
    /// Records of a transactional producer's transaction (decided by its marker).
    Transactional,
    /// A control batch: the COMMIT or ABORT marker of its producer's transaction. It takes one
    /// offset and holds no record a consumer is handed.
    Marker { commit: bool },
}

/// A record batch as appended to a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub base_offset: u64,
    pub count: u32,
    /// Index of the producer in the run.
    pub producer: u32,
    /// Index of the producer's key setting at the time of sending.
    pub keyer: u32,
    /// The idempotent producer's id (Kafka's `producerId`); `None` for a producer without
    /// idempotence, whose batches the broker does not deduplicate.
    pub producer_id: Option<u32>,
    /// Sequence numbers `first_seq..=last_seq` of the producer; with keys, only those whose key
    /// maps to this partition are in the batch.
    pub first_seq: u64,
    pub last_seq: u64,
    pub timestamp: SimTime,
    pub bytes: u64,
    /// The leader epoch the batch was written in (for truncation after a leader change).
    pub leader_epoch: u32,
    pub kind: BatchKind,
    /// The producer epoch of a transactional producer's batches and markers (0 otherwise: ksim's
    /// idempotent producer takes a new producer id where Kafka bumps the epoch).
    pub producer_epoch: u16,
}

impl Batch {
    pub fn end_offset(&self) -> u64 {
        self.base_offset + u64::from(self.count)
    }
}

#[derive(Clone, Copy, Debug)]
struct Segment {
    base_offset: u64,
    created: SimTime,
    bytes: u64,
    max_timestamp: SimTime,
    batches: usize,
}

/// Retention settings of the log's topic.
#[derive(Clone, Copy, Debug)]
pub struct LogConfig {
    pub retention_ms: Option<u64>,
    pub retention_bytes: Option<u64>,
    pub segment_bytes: u64,
    pub segment_ms: u64,
}

#[derive(Clone, Debug, Default)]
pub struct PartitionLog {
    /// Shared between clones of the model (checkpoints), chunk by chunk.
    batches: BatchDeque,
    segments: VecDeque<Segment>,
    log_start_offset: u64,
    log_end_offset: u64,
    bytes: u64,
    /// Leader epoch cache: (epoch, start offset), ascending — Kafka's `leader-epoch-checkpoint`.
    epochs: Vec<(u32, u64)>,
    /// The idempotent producers' state, by producer id (Kafka's `ProducerStateManager`).
    producers: crate::sim::vecmap::VecMap<u32, ProducerState>,
    /// Its transactions (the rest of `ProducerStateManager`, and the transaction index).
    txns: Txns,
    /// It holds (or held, before a truncation) a transactional batch or a marker: reads must
    /// look at each batch.
    transactional: bool,
}

/// An aborted transaction, as the transaction index keeps it: a `read_committed` fetch answer
/// lists those overlapping what it returns, and the consumer drops their batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: u32,
    pub first_offset: u64,
    /// The offset of its ABORT marker.
    pub last_offset: u64,
}

/// What a log knows of transactions.
#[derive(Clone, Debug, Default)]
struct Txns {
    /// Open transactions: producer id → the offset of its first batch (`ongoingTxns`).
    ongoing: crate::sim::vecmap::VecMap<u32, u64>,
    /// Decided transactions whose marker may not be replicated yet: (first offset, marker
    /// offset) (`unreplicatedTxns`); forgotten once the high watermark passes the marker.
    unreplicated: Vec<(u64, u64)>,
    /// Aborted transactions, in marker order.
    aborted: Vec<AbortedTxn>,
}

impl Txns {
    /// Takes in a batch appended at the log end.
    fn note(&mut self, b: &Batch) {
        let Some(id) = b.producer_id else { return };
        match b.kind {
            BatchKind::Plain => {}
            BatchKind::Transactional => {
                self.ongoing.entry(id).or_insert(b.base_offset);
            }
            BatchKind::Marker { commit } => {
                // A marker for a producer with nothing open (written again by a new coordinator)
                // decides nothing.
                let Some(first) = self.ongoing.remove(&id) else { return };
                self.unreplicated.push((first, b.base_offset));
                if !commit {
                    self.aborted.push(AbortedTxn { producer_id: id, first_offset: first, last_offset: b.base_offset });
                }
            }
        }
    }

    /// The first offset whose transaction is undecided, or decided by a marker at or past
    /// `high_watermark` (`firstUnstableOffset`).
    fn first_unstable(&self, high_watermark: u64) -> Option<u64> {
        let open = self.ongoing.iter().map(|(_, first)| *first);
        let unreplicated =
            self.unreplicated.iter().filter(|(_, last)| *last >= high_watermark).map(|(first, _)| *first);
        open.chain(unreplicated).min()
    }
}

/// The size of a control batch (a batch header and one control record).
pub const MARKER_BYTES: u64 = 78;

/// How many of a producer's latest batches a log remembers to recognise a retry (Kafka keeps
/// five: `max.in.flight.requests.per.connection` may be at most 5 with idempotence).
pub const REMEMBERED_BATCHES: usize = 5;

/// What a log knows of one idempotent producer: its last sequence number and its latest batches
/// (first sequence, last sequence, base offset), to answer a retry with the original's offset.
#[derive(Clone, Debug, Default)]
struct ProducerState {
    last_seq: u64,
    recent: VecDeque<(u64, u64, u64)>,
    /// Its latest producer epoch here.
    epoch: u16,
}

impl ProducerState {
    fn record(&mut self, b: &Batch) {
        self.epoch = self.epoch.max(b.producer_epoch);
        if matches!(b.kind, BatchKind::Marker { .. }) {
            return; // a marker has no sequence
        }
        self.last_seq = self.last_seq.max(b.last_seq);
        if self.recent.len() == REMEMBERED_BATCHES {
            self.recent.pop_front();
        }
        self.recent.push_back((b.first_seq, b.last_seq, b.base_offset));
    }
}

impl PartitionLog {
    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    pub fn log_end_offset(&self) -> u64 {
        self.log_end_offset
    }

    pub fn size_bytes(&self) -> u64 {
        self.bytes
    }

    pub fn batches(&self) -> impl Iterator<Item = Batch> + '_ {
        self.batches.iter()
    }

    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// Appends a batch of `count` records in the log's latest leader epoch, returning its base
    /// offset; `transactional` is the producer epoch of a transactional producer's batch.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &mut self,
        cfg: &LogConfig,
        now: SimTime,
        producer: u32,
        keyer: u32,
        producer_id: Option<u32>,
        first_seq: u64,
        last_seq: u64,
        count: u32,
        bytes: u64,
        transactional: Option<u16>,
    ) -> u64 {
        let batch = Batch {
            base_offset: self.log_end_offset,
            count,
            producer,
            keyer,
            producer_id,
            first_seq,
            last_seq,
            timestamp: now,
            bytes,
            leader_epoch: self.epochs.last().map_or(0, |e| e.0),
            kind: if transactional.is_some() { BatchKind::Transactional } else { BatchKind::Plain },
            producer_epoch: transactional.unwrap_or(0),
        };
        self.append_batch(cfg, now, batch);
        batch.base_offset
    }

    /// Appends `batch` as it is (a follower copying its leader), at the log end. The batch's
    /// base offset must be the log-end offset.
    pub fn append_batch(&mut self, cfg: &LogConfig, now: SimTime, batch: Batch) {
        debug_assert_eq!(batch.base_offset, self.log_end_offset);
        let (base_offset, bytes) = (batch.base_offset, batch.bytes);
        if self.epochs.last().is_none_or(|e| e.0 < batch.leader_epoch) {
            self.epochs.push((batch.leader_epoch, base_offset));
        }
        if let Some(id) = batch.producer_id {
            self.producers.entry(id).or_default().record(&batch);
        }
        self.txns.note(&batch);
        self.transactional |= batch.kind != BatchKind::Plain;
        let roll = match self.segments.back() {
            None => true,
            Some(s) => s.bytes + bytes > cfg.segment_bytes && s.batches > 0 || now.since(s.created) >= cfg.segment_ms,
        };
        if roll {
            self.segments.push_back(Segment { base_offset, created: now, bytes: 0, max_timestamp: now, batches: 0 });
        }
        let seg = self.segments.back_mut().expect("a segment was just ensured");
        seg.bytes += bytes;
        seg.batches += 1;
        seg.max_timestamp = seg.max_timestamp.max(batch.timestamp);
        self.batches.push_back(batch);
        self.log_end_offset += u64::from(batch.count);
        self.bytes += bytes;
    }

    /// Shares storage with `leader`'s log where this log holds the same batches (see
    /// `BatchDeque::share_newest_with`); what the log holds does not change.
    pub fn share_storage_with(&mut self, leader: &PartitionLog) {
        self.batches.share_newest_with(&leader.batches);
    }

    /// Starts leader epoch `epoch` at the log end (a replica becoming leader).
    pub fn start_epoch(&mut self, epoch: u32) {
        if self.epochs.last().is_none_or(|e| e.0 < epoch) {
            self.epochs.push((epoch, self.log_end_offset));
        }
    }

    /// The latest leader epoch in this log (0 if none).
    pub fn latest_epoch(&self) -> u32 {
        self.epochs.last().map_or(0, |e| e.0)
    }

    /// Kafka's `OffsetsForLeaderEpoch` answer from this (leader's) log: the largest epoch not
    /// above `epoch`, and the offset where it ends (the start of the next epoch, or the log end).
    pub fn end_offset_for_epoch(&self, epoch: u32) -> (u32, u64) {
        let i = self.epochs.partition_point(|e| e.0 <= epoch);
        if i == 0 {
            return (0, self.epochs.first().map_or(self.log_end_offset, |e| e.1));
        }
        let end = self.epochs.get(i).map_or(self.log_end_offset, |e| e.1);
        (self.epochs[i - 1].0, end)
    }

    /// Where this (follower's) log diverges from `leader`'s: the offset to truncate to.
    pub fn divergence_from(&self, leader: &PartitionLog) -> u64 {
        let mut end = self.log_end_offset;
        let mut epoch = self.latest_epoch();
        loop {
            let (leader_epoch, leader_end) = leader.end_offset_for_epoch(epoch);
            end = end.min(leader_end);
            if leader_epoch == epoch || end == 0 {
                return end;
            }
            // The leader never had our epoch: look again from the largest epoch it has.
            let i = self.epochs.partition_point(|e| e.0 <= leader_epoch);
            if i == 0 {
                return end.min(self.log_start_offset);
            }
            epoch = self.epochs[i - 1].0;
        }
    }

    /// Removes every record at or after `offset` (a follower truncating to its leader).
    /// Returns the number of records removed.
    pub fn truncate_to(&mut self, offset: u64) -> u64 {
        if offset >= self.log_end_offset {
            return 0;
        }
        let offset = offset.max(self.log_start_offset);
        let old_end = self.log_end_offset;
        // Batches are cut whole (Kafka truncates at batch boundaries).
        let mut rebuilt = BatchDeque::default();
        for b in self.batches.iter().take_while(|b| b.base_offset < offset) {
            rebuilt.push_back(b);
        }
        self.batches = rebuilt;
        let end = self.batches.back().map_or(self.log_start_offset, |b| b.end_offset());
        self.log_end_offset = end;
        // Segments: drop those starting at or after the new end; recount the last one.
        while self.segments.len() > 1 && self.segments.back().is_some_and(|s| s.base_offset >= end) {
            self.segments.pop_back();
        }
        let seg_batches: usize =
            self.segments.iter().take(self.segments.len().saturating_sub(1)).map(|s| s.batches).sum();
        let seg_bytes: u64 = self.segments.iter().take(self.segments.len().saturating_sub(1)).map(|s| s.bytes).sum();
        if let Some(last) = self.segments.back_mut() {
            let tail: Vec<Batch> = self.batches.iter().skip(seg_batches).collect();
            last.batches = tail.len();
            last.bytes = tail.iter().map(|b| b.bytes).sum();
            if let Some(ts) = tail.iter().map(|b| b.timestamp).max() {
                last.max_timestamp = ts;
            }
            self.bytes = seg_bytes + last.bytes;
        }
        self.epochs.retain(|e| e.1 < end);
        self.producers.clear();
        self.txns = Txns::default();
        self.transactional = false;
        for b in self.batches.iter() {
            if let Some(id) = b.producer_id {
                self.producers.entry(id).or_default().record(&b);
            }
            self.txns.note(&b);
            self.transactional |= b.kind != BatchKind::Plain;
        }
        old_end - end
    }

    /// Appends the COMMIT or ABORT marker of `producer_id`'s transaction (a control batch of one
    /// offset, at the transaction's final epoch), returning its offset.
    pub fn append_marker(
        &mut self,
        cfg: &LogConfig,
        now: SimTime,
        producer: u32,
        producer_id: u32,
        producer_epoch: u16,
        commit: bool,
    ) -> u64 {
        let last_seq = self.batches.back().map_or(0, |b| b.last_seq);
        let batch = Batch {
            base_offset: self.log_end_offset,
            count: 1,
            producer,
            keyer: 0,
            producer_id: Some(producer_id),
            // A control batch has no sequence; the previous batch's keeps its encoding short.
            first_seq: last_seq,
            last_seq,
            timestamp: now,
            bytes: MARKER_BYTES,
            leader_epoch: self.epochs.last().map_or(0, |e| e.0),
            kind: BatchKind::Marker { commit },
            producer_epoch,
        };
        self.append_batch(cfg, now, batch);
        batch.base_offset
    }

    /// The last stable offset under `high_watermark` (Kafka's `lastStableOffset`): the first
    /// offset of the earliest transaction still undecided — or decided by a marker not yet below
    /// the high watermark — and the high watermark if there is none. A `read_committed` consumer
    /// reads below it.
    pub fn last_stable_offset(&self, high_watermark: u64) -> u64 {
        self.txns.first_unstable(high_watermark).map_or(high_watermark, |o| o.min(high_watermark))
    }

    /// Forgets decided transactions whose markers are below `high_watermark`
    /// (`onHighWatermarkUpdated`); what [`PartitionLog::last_stable_offset`] answers is unchanged.
    pub fn forget_stable(&mut self, high_watermark: u64) {
        self.txns.unreplicated.retain(|(_, last)| *last >= high_watermark);
    }

    /// What a fetch from `from` hands the application below `bound` — the high watermark under
    /// `read_uncommitted`, the last stable offset under `read_committed` — at most `max` records:
    /// markers are never handed over, and under `read_committed` neither are the batches of
    /// aborted transactions (the consumer drops them using the fetch answer's aborted-transactions
    /// list, `AbortedTransactions`). `run` is called with each run `[from, to)` of record offsets,
    /// in order; the answer is the position after the fetch: past what it handed over, and past
    /// markers and skipped batches up to the bound.
    pub fn read(&self, from: u64, bound: u64, max: u64, read_committed: bool, mut run: impl FnMut(u64, u64)) -> u64 {
        if !self.transactional {
            let to = bound.min(from.saturating_add(max)).max(from);
            if to > from {
                run(from, to);
            }
            return to;
        }
        let mut next = from;
        let mut current: Option<(u64, u64)> = None;
        let mut left = max;
        for b in self.batches_between(from, bound) {
            let (start, end) = (b.base_offset.max(from), b.end_offset().min(bound));
            if start >= end {
                continue;
            }
            if left == 0 {
                break; // what follows, markers included, is for the next fetch
            }
            let skipped = match b.kind {
                BatchKind::Marker { .. } => true,
                BatchKind::Transactional => read_committed && self.aborted_batch(&b),
                BatchKind::Plain => false,
            };
            if skipped {
                next = end;
                continue;
            }
            let to = start + (end - start).min(left);
            left -= to - start;
            current = match current {
                Some((a, b)) if b == start => Some((a, to)),
                Some((a, b)) => {
                    run(a, b);
                    Some((start, to))
                }
                None => Some((start, to)),
            };
            next = to;
        }
        if let Some((a, b)) = current {
            run(a, b);
        }
        next
    }

    /// A batch of a transaction that was aborted.
    fn aborted_batch(&self, b: &Batch) -> bool {
        b.producer_id.is_some_and(|id| {
            self.txns
                .aborted
                .iter()
                .any(|a| a.producer_id == id && a.first_offset <= b.base_offset && b.base_offset < a.last_offset)
        })
    }

    /// Whether `producer_id` has a transaction open in this log.
    pub fn open_transaction(&self, producer_id: u32) -> Option<u64> {
        self.txns.ongoing.get(&producer_id).copied()
    }

    /// The aborted transactions a fetch of `[from, to)` must list (`collectAbortedTransactions`):
    /// those with batches in the range.
    pub fn aborted_between(&self, from: u64, to: u64) -> impl Iterator<Item = AbortedTxn> + '_ {
        self.txns.aborted.iter().copied().filter(move |a| a.first_offset < to && a.last_offset >= from)
    }

    /// The latest epoch of `producer_id`'s batches here: a batch at an older one is a fenced
    /// producer's (`INVALID_PRODUCER_EPOCH`).
    pub fn producer_epoch(&self, producer_id: u32) -> Option<u16> {
        self.producers.get(&producer_id).map(|s| s.epoch)
    }

    /// The highest sequence number of the idempotent producer `producer_id` in this log.
    pub fn producer_seq(&self, producer_id: u32) -> Option<u64> {
        self.producers.get(&producer_id).map(|s| s.last_seq)
    }

    /// The base offset of the batch `first_seq..=last_seq` of `producer_id`, if it is one of
    /// the producer's latest batches here: a retry of it is a duplicate (Kafka's
    /// `DUPLICATE_SEQUENCE_NUMBER`, answered with the original's offset).
    pub fn duplicate_of(&self, producer_id: u32, first_seq: u64, last_seq: u64) -> Option<u64> {
        let state = self.producers.get(&producer_id)?;
        state.recent.iter().find(|(f, l, _)| *f == first_seq && *l == last_seq).map(|(_, _, base)| *base)
    }

    /// Deletes closed segments that retention allows to go; returns the number of records deleted.
    /// The active (last) segment is never deleted, as in Kafka.
    pub fn apply_retention(&mut self, cfg: &LogConfig, now: SimTime) -> u64 {
        let before = self.log_start_offset;
        while self.segments.len() > 1 {
            let seg = self.segments[0];
            let too_old = cfg.retention_ms.is_some_and(|ms| now.since(seg.max_timestamp) > ms);
            let too_big = cfg.retention_bytes.is_some_and(|limit| self.bytes.saturating_sub(seg.bytes) >= limit);
            if !(too_old || too_big) {
                break;
            }
            self.segments.pop_front();
            self.batches.drop_front(seg.batches);
            self.bytes -= seg.bytes;
            self.log_start_offset = self.segments[0].base_offset;
        }
        // What ended before the log start no longer matters to a reader (`onLogStartOffsetIncremented`).
        let start = self.log_start_offset;
        self.txns.unreplicated.retain(|(_, last)| *last >= start);
        self.txns.aborted.retain(|a| a.last_offset >= start);
        self.log_start_offset - before
    }

    /// The batch holding `offset`, if it is still in the log.
    pub fn batch_at(&self, offset: u64) -> Option<Batch> {
        if offset < self.log_start_offset || offset >= self.log_end_offset {
            return None;
        }
        self.batches.iter_from_offset(offset).next()
    }

    /// Batches overlapping `[from, to)`, in offset order.
    pub fn batches_between(&self, from: u64, to: u64) -> impl Iterator<Item = Batch> + '_ {
        self.batches.iter_from_offset(from).take_while(move |b| b.base_offset < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(retention_ms: Option<u64>, retention_bytes: Option<u64>, segment_bytes: u64) -> LogConfig {
        LogConfig { retention_ms, retention_bytes, segment_bytes, segment_ms: u64::MAX }
    }

    /// What [`PartitionLog::read`] hands over, as a list of runs, and the position after.
    fn readable(log: &PartitionLog, from: u64, bound: u64, max: u64, read_committed: bool) -> (Vec<(u64, u64)>, u64) {
        let mut runs = Vec::new();
        let next = log.read(from, bound, max, read_committed, |a, b| runs.push((a, b)));
        (runs, next)
    }

    /// Appends `count` records of transactional producer `id` at `epoch`.
    fn txn_write(log: &mut PartitionLog, id: u32, epoch: u16, count: u32) -> u64 {
        let seq = log.producer_seq(id).map_or(0, |s| s + 1);
        let batch = Batch {
            base_offset: log.log_end_offset(),
            count,
            producer: id,
            keyer: 0,
            producer_id: Some(id),
            first_seq: seq,
            last_seq: seq + u64::from(count) - 1,
            timestamp: SimTime(0),
            bytes: 100,
            leader_epoch: 0,
            kind: BatchKind::Transactional,
            producer_epoch: epoch,
        };
        log.append_batch(&cfg(None, None, 1 << 30), SimTime(0), batch);
        batch.base_offset
    }

    fn marker(log: &mut PartitionLog, id: u32, epoch: u16, commit: bool) -> u64 {
        log.append_marker(&cfg(None, None, 1 << 30), SimTime(0), id, id, epoch, commit)
    }

    // ----- transactions, as ProducerStateManagerTest and the LSO tests of UnifiedLogTest -----

    #[test]
    fn without_transactions_the_last_stable_offset_is_the_high_watermark() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        log.append(&c, SimTime(0), 0, 0, Some(0), 0, 2, 3, 300, None);
        assert_eq!(log.last_stable_offset(2), 2);
        assert_eq!(log.last_stable_offset(3), 3);
    }

    #[test]
    fn an_open_transaction_holds_the_last_stable_offset_at_its_first_offset_until_its_marker_is_replicated() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        log.append(&c, SimTime(0), 9, 0, Some(9), 0, 1, 2, 200, None); // offsets 0-1, outside transactions
        let first = txn_write(&mut log, 4, 0, 3); // 2-4
        txn_write(&mut log, 4, 0, 1); // 5
        assert_eq!(first, 2);
        assert_eq!(log.open_transaction(4), Some(2));
        assert_eq!(log.last_stable_offset(6), 2, "undecided from offset 2");
        assert_eq!(log.last_stable_offset(1), 1, "never above the high watermark");
        let at = marker(&mut log, 4, 1, true); // 6
        assert_eq!((at, log.log_end_offset()), (6, 7), "a marker takes one offset");
        assert_eq!(log.open_transaction(4), None);
        assert_eq!(log.last_stable_offset(6), 2, "decided, but the marker is not below the high watermark");
        assert_eq!(log.last_stable_offset(7), 7);
        log.forget_stable(7);
        assert_eq!(log.last_stable_offset(7), 7);
        assert_eq!(log.aborted_between(0, 7).count(), 0, "a commit is not listed");
    }

    #[test]
    fn the_earliest_of_several_open_transactions_holds_the_last_stable_offset() {
        let mut log = PartitionLog::default();
        txn_write(&mut log, 1, 0, 2); // 0-1
        txn_write(&mut log, 2, 0, 2); // 2-3
        marker(&mut log, 1, 1, false); // 4: producer 1 aborts
        assert_eq!(log.last_stable_offset(5), 2, "producer 2's transaction is open from 2");
        txn_write(&mut log, 1, 1, 1); // 5: producer 1's next transaction
        marker(&mut log, 2, 1, true); // 6
        assert_eq!(log.last_stable_offset(7), 5);
        assert_eq!(log.producer_epoch(1), Some(1));
    }

    #[test]
    fn aborted_transactions_are_listed_for_the_fetch_ranges_they_overlap() {
        let mut log = PartitionLog::default();
        txn_write(&mut log, 1, 0, 3); // 0-2
        marker(&mut log, 1, 1, false); // 3
        txn_write(&mut log, 1, 1, 2); // 4-5
        marker(&mut log, 1, 2, true); // 6
        txn_write(&mut log, 2, 0, 1); // 7
        marker(&mut log, 2, 1, false); // 8
        let listed = |from, to| {
            log.aborted_between(from, to).map(|a| (a.producer_id, a.first_offset, a.last_offset)).collect::<Vec<_>>()
        };
        assert_eq!(listed(0, 9), [(1, 0, 3), (2, 7, 8)]);
        assert_eq!(listed(2, 3), [(1, 0, 3)]);
        assert_eq!(listed(4, 7), [], "the committed one between");
        assert_eq!(listed(8, 9), [(2, 7, 8)], "a range holding only the marker still lists it");
        // A marker for a producer with nothing open decides nothing (a coordinator writing it again).
        marker(&mut log, 2, 1, false);
        assert_eq!(log.aborted_between(0, 10).count(), 2);
    }

    #[test]
    fn truncating_a_marker_away_reopens_its_transaction_and_truncating_the_transaction_removes_it() {
        let mut log = PartitionLog::default();
        txn_write(&mut log, 1, 0, 2); // 0-1
        marker(&mut log, 1, 1, false); // 2
        assert_eq!(log.last_stable_offset(3), 3);
        log.truncate_to(2);
        assert_eq!(log.open_transaction(1), Some(0));
        assert_eq!(log.last_stable_offset(2), 0);
        assert_eq!(log.aborted_between(0, 3).count(), 0, "the abort is gone with its marker");
        log.truncate_to(0);
        assert_eq!(log.open_transaction(1), None);
        assert_eq!(log.last_stable_offset(0), 0);
    }

    #[test]
    fn a_fetch_hands_over_records_only_skipping_markers_and_under_read_committed_aborted_batches() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        log.append(&c, SimTime(0), 9, 0, Some(9), 0, 1, 2, 200, None); // 0-1 plain
        txn_write(&mut log, 1, 0, 2); // 2-3: aborted below
        txn_write(&mut log, 2, 0, 1); // 4: committed below
        marker(&mut log, 1, 1, false); // 5
        marker(&mut log, 2, 1, true); // 6
        log.append(&c, SimTime(0), 9, 0, Some(9), 2, 2, 1, 100, None); // 7 plain
        assert_eq!(
            readable(&log, 0, 8, 100, false),
            (vec![(0, 5), (7, 8)], 8),
            "read_uncommitted: everything but markers"
        );
        assert_eq!(
            readable(&log, 0, 8, 100, true),
            (vec![(0, 2), (4, 5), (7, 8)], 8),
            "read_committed drops the aborted"
        );
        assert_eq!(readable(&log, 0, 8, 3, true), (vec![(0, 2), (4, 5)], 5), "max records counts records, not offsets");
        assert_eq!(readable(&log, 5, 7, 100, true), (vec![], 7), "only markers: the position moves past them");
        assert_eq!(readable(&log, 2, 4, 1, false), (vec![(2, 3)], 3), "a batch may be split");
    }

    #[test]
    fn a_log_without_transactions_hands_over_offsets_as_they_are() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        log.append(&c, SimTime(0), 0, 0, Some(0), 0, 9, 10, 1_000, None);
        assert_eq!(readable(&log, 3, 8, 100, true), (vec![(3, 8)], 8));
        assert_eq!(readable(&log, 3, 8, 2, false), (vec![(3, 5)], 5));
        assert_eq!(readable(&log, 8, 8, 2, false), (vec![], 8));
    }

    #[test]
    fn offsets_are_dense_from_zero() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        assert_eq!(log.append(&c, SimTime(0), 0, 0, Some(0), 0, 2, 3, 300, None), 0);
        assert_eq!(log.append(&c, SimTime(5), 0, 0, Some(0), 3, 3, 1, 100, None), 3);
        assert_eq!(log.log_end_offset(), 4);
        assert_eq!(log.batch_at(3).unwrap().first_seq, 3);
        assert_eq!(log.batch_at(2).unwrap().base_offset, 0);
        assert!(log.batch_at(4).is_none());
        assert_eq!(log.batches_between(1, 4).count(), 2);
    }

    #[test]
    fn time_retention_deletes_closed_segments_only() {
        // Each segment holds two 100-byte batches.
        let c = cfg(Some(1_000), None, 200);
        let mut log = PartitionLog::default();
        for i in 0..6u64 {
            log.append(&c, SimTime(i * 100), 0, 0, Some(0), i, i, 1, 100, None);
        }
        assert_eq!(log.apply_retention(&c, SimTime(1_150)), 2, "only the first segment (max ts 100) is older than 1s");
        assert_eq!(log.log_start_offset(), 2);
        assert_eq!(log.apply_retention(&c, SimTime(100_000)), 2, "the active segment stays");
        assert_eq!(log.log_start_offset(), 4);
        assert!(log.batch_at(3).is_none());
        assert_eq!(log.log_end_offset(), 6);
    }

    #[test]
    fn epochs_find_where_a_follower_diverged_and_truncation_cuts_there() {
        let c = cfg(None, None, 250);
        let mut leader = PartitionLog::default();
        let mut follower = PartitionLog::default();
        // Epoch 0: offsets 0..4 on both.
        for i in 0..4u64 {
            leader.append(&c, SimTime(i), 0, 0, Some(0), i, i, 1, 100, None);
        }
        for b in leader.batches().collect::<Vec<_>>() {
            follower.append_batch(&c, SimTime(9), b);
        }
        // The follower (an old leader) wrote 4..7 alone in epoch 0; the leader moved to epoch 1 at 4.
        for i in 4..7u64 {
            follower.append(&c, SimTime(i), 0, 0, Some(0), i, i, 1, 100, None);
        }
        leader.start_epoch(1);
        leader.append(&c, SimTime(20), 1, 0, Some(1), 0, 1, 2, 200, None);
        assert_eq!(leader.end_offset_for_epoch(0), (0, 4));
        assert_eq!(leader.end_offset_for_epoch(1), (1, 6));
        assert_eq!(follower.divergence_from(&leader), 4);
        assert_eq!(follower.truncate_to(4), 3);
        assert_eq!(follower.log_end_offset(), 4);
        assert_eq!(follower.producer_seq(0), Some(3));
        assert_eq!(follower.size_bytes(), 400);
        assert_eq!(follower.batch_count(), 4);
        // Caught up from the leader, it has the leader's epochs too.
        for b in leader.batches_between(4, 6).collect::<Vec<_>>() {
            follower.append_batch(&c, SimTime(30), b);
        }
        assert_eq!(follower.latest_epoch(), 1);
        assert_eq!(follower.divergence_from(&leader), 6);
        assert_eq!(follower.producer_seq(1), Some(1));
    }

    #[test]
    fn idempotent_state_is_kept_per_producer_id_and_remembers_five_batches() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        for i in 0..7u64 {
            log.append(&c, SimTime(i), 0, 0, Some(4), i * 10, i * 10 + 9, 10, 1_000, None);
        }
        // Producer 0 without idempotence: no state, whatever it writes.
        log.append(&c, SimTime(9), 0, 0, None, 500, 500, 1, 100, None);
        assert_eq!(log.producer_seq(4), Some(69));
        assert_eq!(log.duplicate_of(4, 60, 69), Some(60));
        assert_eq!(log.duplicate_of(4, 20, 29), Some(20), "the fifth latest");
        assert_eq!(log.duplicate_of(4, 10, 19), None, "older than the five latest");
        assert_eq!(log.duplicate_of(4, 60, 65), None, "another batch");
        assert_eq!(log.duplicate_of(5, 60, 69), None, "another producer id");
        log.truncate_to(50);
        assert_eq!(log.producer_seq(4), Some(49), "rebuilt from the batches kept");
        assert_eq!(log.duplicate_of(4, 40, 49), Some(40));
    }

    #[test]
    fn size_retention_keeps_the_log_under_its_limit() {
        let c = cfg(None, Some(250), 100);
        let mut log = PartitionLog::default();
        for i in 0..10u64 {
            log.append(&c, SimTime(i), 0, 0, Some(0), i, i, 1, 100, None);
        }
        log.apply_retention(&c, SimTime(10));
        assert!(log.size_bytes() <= 300, "{}", log.size_bytes());
        assert_eq!(log.log_start_offset() + log.batch_count() as u64, 10);
    }
}
