//! A double-ended queue whose clones share their older elements.
//!
//! Logs only grow at the back and shrink at the front, and time travel clones the whole model
//! at every checkpoint. Full chunks are frozen behind an `Arc` and shared between clones, so a
//! clone copies one pointer per [`CHUNK`] elements plus the open tail, not every element.

use std::sync::Arc;

/// Elements per frozen chunk.
pub const CHUNK: usize = 64;

#[derive(Clone, Debug)]
pub struct ChunkedDeque<T> {
    frozen: std::collections::VecDeque<Arc<[T]>>,
    /// Elements already removed from the front of the first frozen chunk.
    skip: usize,
    tail: Vec<T>,
}

impl<T> Default for ChunkedDeque<T> {
    fn default() -> Self {
        ChunkedDeque { frozen: Default::default(), skip: 0, tail: Vec::new() }
    }
}

impl<T: Copy> ChunkedDeque<T> {
    pub fn len(&self) -> usize {
        self.frozen.len() * CHUNK - self.skip + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push_back(&mut self, value: T) {
        self.tail.push(value);
        if self.tail.len() == CHUNK {
            let full = std::mem::replace(&mut self.tail, Vec::with_capacity(CHUNK));
            self.frozen.push_back(full.into());
        }
    }

    pub fn pop_front(&mut self) -> Option<T> {
        if let Some(first) = self.frozen.front() {
            let value = first[self.skip];
            self.skip += 1;
            if self.skip == CHUNK {
                self.frozen.pop_front();
                self.skip = 0;
            }
            Some(value)
        } else if self.tail.is_empty() {
            None
        } else {
            Some(self.tail.remove(0))
        }
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        let i = i + self.skip;
        let (chunk, at) = (i / CHUNK, i % CHUNK);
        match self.frozen.get(chunk) {
            Some(c) => Some(&c[at]),
            None => self.tail.get(i - self.frozen.len() * CHUNK),
        }
    }

    /// The index of the first element for which `pred` is false (elements must be partitioned).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.get(mid).expect("mid is in range")) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Elements from index `from` on, in order.
    pub fn iter_from(&self, from: usize) -> impl DoubleEndedIterator<Item = &T> {
        let i = from + self.skip;
        let (chunk, at) = (i / CHUNK, i % CHUNK);
        let frozen = self.frozen.len();
        let tail_start = i.saturating_sub(frozen * CHUNK).min(self.tail.len());
        self.frozen
            .range(chunk.min(frozen)..)
            .enumerate()
            .flat_map(move |(k, c)| c[if k == 0 { at } else { 0 }..].iter())
            .chain(self.tail[tail_start..].iter())
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.iter_from(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn behaves_like_a_vecdeque() {
        let mut ours = ChunkedDeque::default();
        let mut theirs = VecDeque::new();
        let mut x = 7u64;
        for step in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if x >> 62 == 0 {
                assert_eq!(ours.pop_front(), theirs.pop_front(), "step {step}");
            } else {
                ours.push_back(step);
                theirs.push_back(step);
            }
            assert_eq!(ours.len(), theirs.len());
            if step % 997 == 0 {
                assert!(ours.iter().eq(theirs.iter()));
                let mid = theirs.len() / 2;
                assert!(ours.iter_from(mid).eq(theirs.range(mid..)));
                assert_eq!(ours.get(mid), theirs.get(mid));
                assert_eq!(ours.partition_point(|v| *v < step / 2), theirs.partition_point(|v| *v < step / 2));
                assert_eq!(ours.iter().next_back(), theirs.back());
            }
        }
    }

    #[test]
    fn clones_share_frozen_chunks() {
        let mut a = ChunkedDeque::default();
        for i in 0..(CHUNK * 4 + 3) {
            a.push_back(i);
        }
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.frozen[0], &b.frozen[0]));
        a.pop_front();
        assert_eq!(b.get(0), Some(&0));
        assert_eq!(a.get(0), Some(&1));
    }
}
