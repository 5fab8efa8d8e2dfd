//! A group's committed offsets as its coordinator keeps them (Kafka's `OffsetMetadataManager`,
//! formerly `GroupMetadata`'s offsets): offsets committed at once (OffsetCommit), and offsets a
//! transaction committed (TxnOffsetCommit, KIP-98/KIP-447) that stay pending until the
//! transaction's marker reaches the group's `__consumer_offsets` partition — a COMMIT makes them
//! the group's, an ABORT drops them. Of a pending and a committed offset for one partition, the
//! one written to the offsets log later wins when the transaction commits. While offsets are
//! pending for a partition, an OffsetFetch that requires stable offsets (every consumer's since
//! KIP-447) is answered UNSTABLE_OFFSET_COMMIT for it, and asks again.

use crate::sim::ids::Tp;
use crate::sim::vecmap::VecMap;

/// An offset and when it was written to the offsets log (a count of writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Written {
    offset: u64,
    at: u64,
}

/// One group's offsets.
#[derive(Clone, Debug, Default)]
pub struct GroupOffsets {
    committed: VecMap<Tp, Written>,
    /// Pending transactional offsets, by producer id.
    pending: VecMap<u32, VecMap<Tp, Written>>,
    /// Writes to the offsets log so far.
    writes: u64,
}

impl GroupOffsets {
    /// The committed offset of `tp`.
    pub fn get(&self, tp: Tp) -> Option<u64> {
        self.committed.get(&tp).map(|w| w.offset)
    }

    /// Every committed offset.
    pub fn iter(&self) -> impl Iterator<Item = (Tp, u64)> + '_ {
        self.committed.iter().map(|(tp, w)| (*tp, w.offset))
    }

    /// No offset is committed.
    pub fn is_empty(&self) -> bool {
        self.committed.is_empty()
    }

    fn write(&mut self, offset: u64) -> Written {
        self.writes += 1;
        Written { offset, at: self.writes }
    }

    /// An OffsetCommit: the offset is the group's at once.
    pub fn commit(&mut self, tp: Tp, offset: u64) {
        let w = self.write(offset);
        self.committed.insert(tp, w);
    }

    /// A TxnOffsetCommit of `producer_id`'s transaction: pending until its marker.
    pub fn stage(&mut self, producer_id: u32, tp: Tp, offset: u64) {
        let w = self.write(offset);
        self.pending.entry(producer_id).or_default().insert(tp, w);
    }

    /// The marker of `producer_id`'s transaction reached the offsets partition: a commit makes
    /// its pending offsets the group's (unless a later OffsetCommit wrote one since), an abort
    /// drops them. Returns the partitions whose committed offset changed.
    pub fn complete(&mut self, producer_id: u32, commit: bool) -> Vec<Tp> {
        let Some(pending) = self.pending.remove(&producer_id) else { return Vec::new() };
        if !commit {
            return Vec::new();
        }
        let mut changed = Vec::new();
        for (tp, w) in pending.iter() {
            if self.committed.get(tp).is_none_or(|c| c.at < w.at) {
                self.committed.insert(*tp, *w);
                changed.push(*tp);
            }
        }
        changed
    }

    /// Some transaction's offsets for `tp` are pending (`hasPendingOffsetCommitsForTopicPartition`).
    pub fn unstable(&self, tp: Tp) -> bool {
        self.pending.iter().any(|(_, offsets)| offsets.contains_key(&tp))
    }

    /// The pending offsets of `tp`, by producer id (what `--describe` can show).
    pub fn pending_of(&self, tp: Tp) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.pending.iter().filter_map(move |(id, offsets)| offsets.get(&tp).map(|w| (*id, w.offset)))
    }
}

#[cfg(test)]
mod tests {
    //! As OffsetMetadataManagerTest and GroupMetadataTest exercise transactional offsets.

    use super::*;
    use crate::sim::ids::TopicId;

    fn tp(p: u32) -> Tp {
        Tp { topic: TopicId(0), partition: p }
    }

    #[test]
    fn transactional_offsets_are_pending_until_the_commit_marker() {
        let mut o = GroupOffsets::default();
        o.commit(tp(0), 5);
        o.stage(7, tp(0), 9);
        o.stage(7, tp(1), 3);
        assert_eq!((o.get(tp(0)), o.get(tp(1))), (Some(5), None), "pending offsets are not the group's yet");
        assert!(o.unstable(tp(0)) && o.unstable(tp(1)) && !o.unstable(tp(2)));
        assert_eq!(o.pending_of(tp(0)).collect::<Vec<_>>(), [(7, 9)]);
        assert_eq!(o.complete(7, true), [tp(0), tp(1)]);
        assert_eq!((o.get(tp(0)), o.get(tp(1))), (Some(9), Some(3)));
        assert!(!o.unstable(tp(0)));
    }

    #[test]
    fn an_abort_marker_drops_them_and_a_marker_with_nothing_pending_changes_nothing() {
        let mut o = GroupOffsets::default();
        o.commit(tp(0), 5);
        o.stage(7, tp(0), 9);
        assert_eq!(o.complete(7, false), []);
        assert_eq!(o.get(tp(0)), Some(5));
        assert!(!o.unstable(tp(0)));
        assert_eq!(o.complete(7, true), [], "a marker written again");
    }

    #[test]
    fn an_offset_committed_after_the_transactional_one_wins_when_the_transaction_commits() {
        let mut o = GroupOffsets::default();
        o.stage(7, tp(0), 9);
        o.commit(tp(0), 12);
        assert_eq!(o.complete(7, true), []);
        assert_eq!(o.get(tp(0)), Some(12));
        // The other way round: the transaction's later write wins.
        o.commit(tp(1), 4);
        o.stage(8, tp(1), 6);
        assert_eq!(o.complete(8, true), [tp(1)]);
        assert_eq!(o.get(tp(1)), Some(6));
    }

    #[test]
    fn two_producers_transactions_are_pending_apart() {
        let mut o = GroupOffsets::default();
        o.stage(7, tp(0), 9);
        o.stage(8, tp(0), 11);
        o.complete(8, false);
        assert!(o.unstable(tp(0)), "producer 7's is still pending");
        o.complete(7, true);
        assert_eq!(o.get(tp(0)), Some(9));
    }
}
