//! One partition's append-only log, stored as batches.
//!
//! Kafka writes and reads record batches; so does ksim. A batch keeps its producer, the range of
//! producer sequence numbers it covers and a timestamp; the records inside are derived (see
//! [`super::keys`]). Batches live in segments, and retention deletes whole closed segments from
//! the front, moving the log-start offset forward — as Kafka's log cleaner does with `delete`.

use super::chunks::ChunkedDeque;
use super::time::SimTime;
use std::collections::VecDeque;

/// A record batch as appended to a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub base_offset: u64,
    pub count: u32,
    /// Index of the producer in the run.
    pub producer: u32,
    /// Index of the producer's key setting at the time of sending.
    pub keyer: u32,
    /// Sequence numbers `first_seq..=last_seq` of the producer; with keys, only those whose key
    /// maps to this partition are in the batch.
    pub first_seq: u64,
    pub last_seq: u64,
    pub timestamp: SimTime,
    pub bytes: u64,
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
    batches: ChunkedDeque<Batch>,
    segments: VecDeque<Segment>,
    log_start_offset: u64,
    log_end_offset: u64,
    bytes: u64,
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

    pub fn batches(&self) -> impl DoubleEndedIterator<Item = &Batch> {
        self.batches.iter()
    }

    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// Appends a batch of `count` records, returning its base offset.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &mut self,
        cfg: &LogConfig,
        now: SimTime,
        producer: u32,
        keyer: u32,
        first_seq: u64,
        last_seq: u64,
        count: u32,
        bytes: u64,
    ) -> u64 {
        let base_offset = self.log_end_offset;
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
        seg.max_timestamp = seg.max_timestamp.max(now);
        self.batches.push_back(Batch {
            base_offset,
            count,
            producer,
            keyer,
            first_seq,
            last_seq,
            timestamp: now,
            bytes,
        });
        self.log_end_offset += u64::from(count);
        self.bytes += bytes;
        base_offset
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
            for _ in 0..seg.batches {
                self.batches.pop_front();
            }
            self.bytes -= seg.bytes;
            self.log_start_offset = self.segments[0].base_offset;
        }
        self.log_start_offset - before
    }

    /// The batch holding `offset`, if it is still in the log.
    pub fn batch_at(&self, offset: u64) -> Option<&Batch> {
        if offset < self.log_start_offset || offset >= self.log_end_offset {
            return None;
        }
        let i = self.batches.partition_point(|b| b.end_offset() <= offset);
        self.batches.get(i)
    }

    /// Batches overlapping `[from, to)`, in offset order.
    pub fn batches_between(&self, from: u64, to: u64) -> impl Iterator<Item = &Batch> {
        let i = self.batches.partition_point(|b| b.end_offset() <= from);
        self.batches.iter_from(i).take_while(move |b| b.base_offset < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(retention_ms: Option<u64>, retention_bytes: Option<u64>, segment_bytes: u64) -> LogConfig {
        LogConfig { retention_ms, retention_bytes, segment_bytes, segment_ms: u64::MAX }
    }

    #[test]
    fn offsets_are_dense_from_zero() {
        let c = cfg(None, None, 1 << 30);
        let mut log = PartitionLog::default();
        assert_eq!(log.append(&c, SimTime(0), 0, 0, 0, 2, 3, 300), 0);
        assert_eq!(log.append(&c, SimTime(5), 0, 0, 3, 3, 1, 100), 3);
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
            log.append(&c, SimTime(i * 100), 0, 0, i, i, 1, 100);
        }
        assert_eq!(log.apply_retention(&c, SimTime(1_150)), 2, "only the first segment (max ts 100) is older than 1s");
        assert_eq!(log.log_start_offset(), 2);
        assert_eq!(log.apply_retention(&c, SimTime(100_000)), 2, "the active segment stays");
        assert_eq!(log.log_start_offset(), 4);
        assert!(log.batch_at(3).is_none());
        assert_eq!(log.log_end_offset(), 6);
    }

    #[test]
    fn size_retention_keeps_the_log_under_its_limit() {
        let c = cfg(None, Some(250), 100);
        let mut log = PartitionLog::default();
        for i in 0..10u64 {
            log.append(&c, SimTime(i), 0, 0, i, i, 1, 100);
        }
        log.apply_retention(&c, SimTime(10));
        assert!(log.size_bytes() <= 300, "{}", log.size_bytes());
        assert_eq!(log.log_start_offset() + log.batch_count() as u64, 10);
    }
}
