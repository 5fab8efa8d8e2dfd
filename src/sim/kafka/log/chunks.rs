//! A log's batches: a double-ended queue whose clones share their older batches, stored compactly.
//!
//! Logs only grow at the back and shrink at the front, and time travel clones the whole model at
//! every checkpoint. Every [`CHUNK`] batches are frozen behind an `Arc` and shared between clones,
//! so a clone copies one pointer per chunk plus the open tail, not every batch.
//!
//! A frozen chunk is also encoded: each batch as its difference from the one before it — offsets
//! are dense, so a batch's base offset is where the previous one ended, and one producer's
//! batches usually share producer, key setting, epoch and size. A busy cluster's typical batch
//! takes 3 bytes instead of the 56 of a [`Batch`], which is what keeps an hour of retention for a
//! thousand batches a second in tens of megabytes.

use super::{Batch, BatchKind};
use crate::sim::time::SimTime;
use std::collections::VecDeque;
use std::sync::Arc;

/// Batches per frozen chunk.
pub const CHUNK: usize = 64;

#[derive(Debug)]
struct Frozen {
    base_offset: u64,
    end_offset: u64,
    /// Not shrunk to fit: nearly every chunk's bytes sit in a block of the same size
    /// ([`CHUNK_BYTES`]), which the allocator hands out again as retention frees old chunks.
    /// Blocks of a hundred different sizes left the process growing for hours after the
    /// retention window was full.
    data: Vec<u8>,
}

/// The capacity a chunk's bytes start with: a busy log's 64 batches take about 200.
const CHUNK_BYTES: usize = CHUNK * 4;

impl Frozen {
    fn decode(&self) -> Decoder<'_> {
        Decoder::new(&self.data, self.base_offset)
    }
}

/// The state a chunk's first batch is encoded against.
fn start_of(base_offset: u64) -> Batch {
    Batch {
        base_offset,
        count: 0,
        producer: 0,
        keyer: 0,
        producer_id: None,
        first_seq: 0,
        last_seq: 0,
        timestamp: SimTime::ZERO,
        bytes: 0,
        leader_epoch: 0,
        kind: BatchKind::Plain,
        producer_epoch: 0,
    }
}

const ONE_RECORD: u8 = 1;
const SAME_PRODUCER: u8 = 2;
const SAME_EPOCH: u8 = 4;
const ONE_SEQ: u8 = 8;
const SAME_BYTES: u8 = 16;
/// A transactional batch; with [`MARKER`], a control batch; [`COMMIT`] says which marker.
const TRANSACTIONAL: u8 = 32;
const MARKER: u8 = 64;
const COMMIT: u8 = 128;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = data[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// A signed difference as an unsigned varint (zigzag), wrapping so any two u64 values round-trip.
fn put_diff(out: &mut Vec<u8>, from: u64, to: u64) {
    let d = to.wrapping_sub(from) as i64;
    put_varint(out, ((d << 1) ^ (d >> 63)) as u64);
}

fn get_diff(data: &[u8], pos: &mut usize, from: u64) -> u64 {
    let z = get_varint(data, pos);
    let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
    from.wrapping_add(d as u64)
}

fn encode_one(out: &mut Vec<u8>, prev: &Batch, b: &Batch) {
    debug_assert_eq!(b.base_offset, prev.end_offset(), "offsets are dense");
    let mut flags = 0;
    if b.count == 1 {
        flags |= ONE_RECORD;
    }
    if b.producer == prev.producer
        && b.keyer == prev.keyer
        && b.producer_id == prev.producer_id
        && b.producer_epoch == prev.producer_epoch
    {
        flags |= SAME_PRODUCER;
    }
    match b.kind {
        BatchKind::Plain => debug_assert_eq!(b.producer_epoch, 0, "only transactional batches carry an epoch"),
        BatchKind::Transactional => flags |= TRANSACTIONAL,
        BatchKind::Marker { commit } => flags |= MARKER | if commit { COMMIT } else { 0 },
    }
    if b.leader_epoch == prev.leader_epoch {
        flags |= SAME_EPOCH;
    }
    if b.last_seq == b.first_seq {
        flags |= ONE_SEQ;
    }
    if b.bytes == prev.bytes {
        flags |= SAME_BYTES;
    }
    out.push(flags);
    if flags & ONE_RECORD == 0 {
        put_varint(out, u64::from(b.count));
    }
    if flags & SAME_PRODUCER == 0 {
        put_varint(out, u64::from(b.producer));
        put_varint(out, u64::from(b.keyer));
        // 0 for a batch without a producer id (not idempotent), else the id + 1.
        put_varint(out, b.producer_id.map_or(0, |id| u64::from(id) + 1));
        // Only transactional batches and markers carry an epoch (a plain batch's is 0).
        if b.kind != BatchKind::Plain {
            put_varint(out, u64::from(b.producer_epoch));
        }
    }
    if flags & SAME_EPOCH == 0 {
        put_varint(out, u64::from(b.leader_epoch));
    }
    put_diff(out, prev.last_seq, b.first_seq);
    if flags & ONE_SEQ == 0 {
        put_varint(out, b.last_seq.wrapping_sub(b.first_seq));
    }
    put_diff(out, prev.timestamp.0, b.timestamp.0);
    if flags & SAME_BYTES == 0 {
        put_varint(out, b.bytes);
    }
}

/// Decodes a frozen chunk's batches in order.
struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    prev: Batch,
}

impl<'a> Decoder<'a> {
    /// Decodes `data`, a chunk whose first batch starts at `base_offset`.
    fn new(data: &'a [u8], base_offset: u64) -> Self {
        Decoder { data, pos: 0, prev: start_of(base_offset) }
    }
}

impl Iterator for Decoder<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.pos >= self.data.len() {
            return None;
        }
        let (data, pos, prev) = (self.data, &mut self.pos, &self.prev);
        let flags = data[*pos];
        *pos += 1;
        let count = if flags & ONE_RECORD != 0 { 1 } else { get_varint(data, pos) as u32 };
        let kind = if flags & MARKER != 0 {
            BatchKind::Marker { commit: flags & COMMIT != 0 }
        } else if flags & TRANSACTIONAL != 0 {
            BatchKind::Transactional
        } else {
            BatchKind::Plain
        };
        let (producer, keyer, producer_id, producer_epoch) = if flags & SAME_PRODUCER != 0 {
            (prev.producer, prev.keyer, prev.producer_id, prev.producer_epoch)
        } else {
            let (producer, keyer) = (get_varint(data, pos) as u32, get_varint(data, pos) as u32);
            let id = get_varint(data, pos);
            let epoch = if kind == BatchKind::Plain { 0 } else { get_varint(data, pos) as u16 };
            (producer, keyer, id.checked_sub(1).map(|id| id as u32), epoch)
        };
        let leader_epoch = if flags & SAME_EPOCH != 0 { prev.leader_epoch } else { get_varint(data, pos) as u32 };
        let first_seq = get_diff(data, pos, prev.last_seq);
        let last_seq = if flags & ONE_SEQ != 0 { first_seq } else { first_seq.wrapping_add(get_varint(data, pos)) };
        let timestamp = SimTime(get_diff(data, pos, prev.timestamp.0));
        let bytes = if flags & SAME_BYTES != 0 { prev.bytes } else { get_varint(data, pos) };
        let b = Batch {
            base_offset: prev.end_offset(),
            count,
            producer,
            keyer,
            producer_id,
            first_seq,
            last_seq,
            timestamp,
            bytes,
            leader_epoch,
            kind,
            producer_epoch,
        };
        self.prev = b;
        Some(b)
    }
}

/// The open (newest) chunk, encoded as batches arrive; frozen when it holds [`CHUNK`].
#[derive(Clone, Debug, Default)]
struct Open {
    base_offset: u64,
    count: usize,
    /// The last batch appended (what the next one is encoded against).
    last: Option<Batch>,
    data: Vec<u8>,
}

impl Open {
    fn decode(&self) -> Decoder<'_> {
        Decoder::new(&self.data, self.base_offset)
    }

    fn push(&mut self, batch: &Batch) {
        let prev = match self.last {
            Some(last) => last,
            None => {
                self.base_offset = batch.base_offset;
                start_of(batch.base_offset)
            }
        };
        encode_one(&mut self.data, &prev, batch);
        self.last = Some(*batch);
        self.count += 1;
    }

    fn freeze(&mut self) -> Frozen {
        let end_offset = self.last.map_or(self.base_offset, |b| b.end_offset());
        let data = std::mem::replace(&mut self.data, Vec::with_capacity(CHUNK_BYTES));
        let frozen = Frozen { base_offset: self.base_offset, end_offset, data };
        *self = Open { data: std::mem::take(&mut self.data), ..Open::default() };
        frozen
    }
}

/// Frozen chunks per group: a clone copies one pointer per group of [`GROUP`] chunks (4 096
/// batches), plus the pointers of the group being filled.
const GROUP: usize = 64;

/// A log's batches (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct BatchDeque {
    /// Full groups of frozen chunks, oldest first.
    groups: VecDeque<Arc<Vec<Arc<Frozen>>>>,
    /// Frozen chunks not yet making a full group.
    filling: Vec<Arc<Frozen>>,
    /// Frozen chunks already removed from the front (of the first group, or of `filling`).
    skip_chunks: usize,
    /// Batches already removed from the front of the first frozen chunk.
    skip: usize,
    open: Open,
}

impl BatchDeque {
    fn frozen_count(&self) -> usize {
        self.groups.len() * GROUP + self.filling.len() - self.skip_chunks
    }

    /// The `i`th frozen chunk still (partly) in the deque.
    fn chunk(&self, i: usize) -> &Arc<Frozen> {
        let i = i + self.skip_chunks;
        match self.groups.get(i / GROUP) {
            Some(group) => &group[i % GROUP],
            None => &self.filling[i - self.groups.len() * GROUP],
        }
    }

    pub fn len(&self) -> usize {
        self.frozen_count() * CHUNK - self.skip + self.open.count
    }

    pub fn push_back(&mut self, batch: Batch) {
        self.open.push(&batch);
        if self.open.count == CHUNK {
            self.filling.push(Arc::new(self.open.freeze()));
            if self.filling.len() == GROUP {
                self.groups.push_back(Arc::new(std::mem::take(&mut self.filling)));
            }
        }
    }

    /// Points the newest frozen chunk at `other`'s copy of the same batches, if it has one: a
    /// follower's log is its leader's, batch for batch, so the two can share storage. Chunks
    /// line up when both logs were filled from the same start; otherwise nothing is shared.
    pub fn share_newest_with(&mut self, other: &BatchDeque) {
        if self.frozen_count() == 0 {
            return;
        }
        let mine = self.chunk(self.frozen_count() - 1);
        let (base, end) = (mine.base_offset, mine.end_offset);
        let i = other.chunk_index(base);
        let found = (i < other.frozen_count()).then(|| other.chunk(i));
        let Some(theirs) = found.filter(|t| t.base_offset == base && t.end_offset == end) else { return };
        if Arc::ptr_eq(mine, theirs) || theirs.data != mine.data {
            return;
        }
        let theirs = Arc::clone(theirs);
        match self.filling.last_mut() {
            Some(last) => *last = theirs,
            None => {
                let group = self.groups.back_mut().expect("a frozen chunk exists");
                *Arc::make_mut(group).last_mut().expect("groups are full") = theirs;
            }
        }
    }

    /// The index of the first frozen chunk that ends after `offset` (`frozen_count` if none).
    fn chunk_index(&self, offset: u64) -> usize {
        let (mut lo, mut hi) = (0, self.frozen_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.chunk(mid).end_offset <= offset {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Removes the first `n` batches (or all there are).
    pub fn drop_front(&mut self, n: usize) {
        let mut n = n.min(self.len());
        while n > 0 && self.frozen_count() > 0 {
            let here = (CHUNK - self.skip).min(n);
            self.skip += here;
            n -= here;
            if self.skip == CHUNK {
                self.skip = 0;
                self.skip_chunks += 1;
                if !self.groups.is_empty() && self.skip_chunks == GROUP {
                    self.groups.pop_front();
                    self.skip_chunks = 0;
                } else if self.groups.is_empty() && self.skip_chunks == self.filling.len() {
                    self.filling.clear();
                    self.skip_chunks = 0;
                }
            }
        }
        if n > 0 {
            // Into the open chunk (rare: retention ends mid-chunk): encode what stays afresh.
            let kept: Vec<Batch> = self.open.decode().skip(n).collect();
            self.open = Open::default();
            for b in &kept {
                self.open.push(b);
            }
        }
    }

    pub fn back(&self) -> Option<Batch> {
        match self.open.last {
            Some(b) => Some(b),
            None if self.frozen_count() > 0 => self.chunk(self.frozen_count() - 1).decode().last(),
            None => None,
        }
    }

    /// Batches from the first one that ends after `offset`, in order.
    pub fn iter_from_offset(&self, offset: u64) -> impl Iterator<Item = Batch> + '_ {
        // A follower one batch behind asks for the last batch: no decoding needed.
        let last = self.open.last.filter(|l| offset >= l.base_offset);
        let first = if last.is_some() { self.frozen_count() } else { self.chunk_index(offset) };
        let open = last.is_none().then(|| self.open.decode());
        self.iter_chunks_from(first, open.into_iter().flatten().chain(last))
            .skip_while(move |b| b.end_offset() <= offset)
    }

    pub fn iter(&self) -> impl Iterator<Item = Batch> + '_ {
        self.iter_chunks_from(0, self.open.decode())
    }

    /// Batches from the start of frozen chunk `first` (those removed from the front excepted),
    /// then `open`.
    fn iter_chunks_from<'a>(
        &'a self,
        first: usize,
        open: impl Iterator<Item = Batch> + 'a,
    ) -> impl Iterator<Item = Batch> + 'a {
        let skip = self.skip;
        (first..self.frozen_count())
            .flat_map(move |i| self.chunk(i).decode().skip(if i == 0 { skip } else { 0 }))
            .chain(open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(prev_end: u64, x: u64) -> Batch {
        let count = if x.is_multiple_of(5) { 1 + (x % 7) as u32 } else { 1 };
        let first_seq = (x * 13) % 1_000 + if x.is_multiple_of(11) { u64::MAX / 2 } else { 0 };
        Batch {
            base_offset: prev_end,
            count,
            producer: (x.is_multiple_of(3)) as u32,
            keyer: (x.is_multiple_of(17)) as u32,
            producer_id: (!x.is_multiple_of(19)).then_some((x % 4) as u32 * 1_000),
            first_seq,
            last_seq: first_seq + u64::from(x.is_multiple_of(4)) * 9,
            timestamp: SimTime(x * 37 % 5_000),
            bytes: 100 + (x % 2) * 50,
            leader_epoch: (x / 100) as u32,
            kind: match x % 29 {
                0 => BatchKind::Marker { commit: x.is_multiple_of(2) },
                1..=6 => BatchKind::Transactional,
                _ => BatchKind::Plain,
            },
            producer_epoch: if x % 29 <= 6 { (x % 3) as u16 * 70 } else { 0 },
        }
    }

    /// Random pushes and front removals agree with a `VecDeque`: `drop_one_in` steps removes
    /// up to `max_drop` batches (small: the open chunk and the first chunks; large: the deque
    /// grows through several groups of chunks).
    fn agrees_with_a_vecdeque(steps: u64, drop_one_in: u64, max_drop: u64) {
        let mut ours = BatchDeque::default();
        let mut theirs = VecDeque::new();
        let mut x = 7u64;
        let mut end = 0;
        let mut longest = 0;
        for step in 0..steps {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if (x >> 33).is_multiple_of(drop_one_in) {
                let n = (x >> 40) as usize % max_drop as usize;
                ours.drop_front(n);
                theirs.drain(..n.min(theirs.len()));
            } else {
                let b = batch(end, x >> 20);
                end = b.end_offset();
                ours.push_back(b);
                theirs.push_back(b);
            }
            longest = longest.max(theirs.len());
            assert_eq!(ours.len(), theirs.len());
            assert_eq!(ours.back(), theirs.back().copied());
            if step % 97 == 0 {
                assert!(ours.iter().eq(theirs.iter().copied()), "step {step}");
                let first = theirs.front().map_or(0, |b| b.base_offset);
                for offset in [first, first + 1, (first + end) / 2, end.saturating_sub(1), end] {
                    let expected = theirs.iter().copied().skip_while(|b| b.end_offset() <= offset);
                    assert!(ours.iter_from_offset(offset).eq(expected), "step {step}, offset {offset}");
                }
            }
        }
        if max_drop > 1_000 {
            assert!(longest > 2 * GROUP * CHUNK, "the test reached several groups ({longest})");
        }
    }

    #[test]
    fn behaves_like_a_vecdeque() {
        agrees_with_a_vecdeque(20_000, 8, 80);
        agrees_with_a_vecdeque(80_000, 2_000, 3_000);
    }

    #[test]
    fn a_busy_logs_batches_take_a_few_bytes_each() {
        let mut d = BatchDeque::default();
        let mut end = 0;
        for i in 0..(CHUNK as u64 * 10) {
            let b = Batch {
                base_offset: end,
                count: 1,
                producer: 2,
                keyer: 0,
                producer_id: Some(2),
                first_seq: i * 12 + i % 5,
                last_seq: i * 12 + i % 5,
                timestamp: SimTime(i * 36),
                bytes: 120,
                leader_epoch: 1,
                kind: BatchKind::Plain,
                producer_epoch: 0,
            };
            end = b.end_offset();
            d.push_back(b);
        }
        let stored: usize = (0..d.frozen_count()).map(|i| d.chunk(i).data.len()).sum();
        // Three bytes a batch, and a chunk's first batch spelled out in full.
        assert!(stored <= 10 * (CHUNK * 3 + 16), "{stored} bytes for {} batches", CHUNK * 10);
    }

    #[test]
    fn clones_share_frozen_chunks() {
        let mut a = BatchDeque::default();
        let mut end = 0;
        for i in 0..(CHUNK as u64 * 4 + 3) {
            let b = batch(end, i);
            end = b.end_offset();
            a.push_back(b);
        }
        let b = a.clone();
        assert!(Arc::ptr_eq(a.chunk(0), b.chunk(0)));
        // A copy filled batch by batch shares once its chunk is frozen, and only then.
        let mut copy = BatchDeque::default();
        for x in a.iter().take(CHUNK * 2) {
            copy.push_back(x);
            copy.share_newest_with(&a);
        }
        assert!((0..copy.frozen_count()).all(|i| Arc::ptr_eq(copy.chunk(i), a.chunk(i))));
        assert!(copy.iter().eq(a.iter().take(CHUNK * 2)));
        let mut other = BatchDeque::default();
        for x in a.iter().skip(1).take(CHUNK) {
            other.push_back(x);
            other.share_newest_with(&a);
        }
        assert!(!Arc::ptr_eq(other.chunk(0), a.chunk(0)), "chunks that do not line up are not shared");
        a.drop_front(1);
        assert_eq!(b.iter().next().map(|x| x.base_offset), Some(0));
        assert_eq!(a.iter().next().map(|x| x.base_offset), Some(batch(0, 0).end_offset()));
    }

    #[test]
    fn a_follower_shares_across_groups_of_chunks() {
        let (mut leader, mut follower) = (BatchDeque::default(), BatchDeque::default());
        let mut end = 0;
        for i in 0..(GROUP * CHUNK * 2 + CHUNK + 5) as u64 {
            let b = batch(end, i);
            end = b.end_offset();
            leader.push_back(b);
            follower.push_back(b);
            follower.share_newest_with(&leader);
        }
        assert_eq!(follower.groups.len(), 2);
        assert!((0..follower.frozen_count()).all(|i| Arc::ptr_eq(follower.chunk(i), leader.chunk(i))));
        assert!(follower.iter().eq(leader.iter()));
    }
}
