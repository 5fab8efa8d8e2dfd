//! Counting deliveries per offset without a counter per record.
//!
//! Consumers process contiguous runs of offsets, so "how many times was offset `o` processed by
//! this group" is kept as sorted, non-overlapping runs `[start, end)` each with one count. A
//! group that never re-reads keeps one run per partition however many records it processes.

use serde::Serialize;

/// A run of offsets `[start, end)` processed `count` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub start: u64,
    pub end: u64,
    pub count: u32,
}

/// Delivery counts for one partition, as sorted disjoint runs with count ≥ 1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeCounts {
    runs: Vec<Run>,
}

impl RangeCounts {
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// Forgets every offset at or after `offset`.
    pub fn truncate_from(&mut self, offset: u64) {
        self.runs.retain(|r| r.start < offset);
        if let Some(last) = self.runs.last_mut() {
            last.end = last.end.min(offset);
        }
    }

    /// Adds one delivery to every offset in `[start, end)`.
    pub fn add(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        // Fast path: appending right after (or past) the last run.
        if let Some(last) = self.runs.last_mut() {
            if start >= last.end {
                if start == last.end && last.count == 1 {
                    last.end = end;
                } else {
                    self.runs.push(Run { start, end, count: 1 });
                }
                return;
            }
        } else {
            self.runs.push(Run { start, end, count: 1 });
            return;
        }
        let mut out: Vec<Run> = Vec::with_capacity(self.runs.len() + 2);
        let mut cursor = start;
        for run in self.runs.drain(..) {
            if run.end <= start || run.start >= end {
                // Fill the gap before this run if the added range covers it.
                if run.start >= end && cursor < end {
                    out.push(Run { start: cursor, end, count: 1 });
                    cursor = end;
                }
                out.push(run);
                continue;
            }
            if run.start < start {
                out.push(Run { start: run.start, end: start, count: run.count });
            }
            let lo = run.start.max(start);
            if cursor < lo {
                out.push(Run { start: cursor, end: lo, count: 1 });
            }
            let hi = run.end.min(end);
            out.push(Run { start: lo, end: hi, count: run.count + 1 });
            cursor = hi;
            if run.end > end {
                out.push(Run { start: end, end: run.end, count: run.count });
            }
        }
        if cursor < end {
            out.push(Run { start: cursor, end, count: 1 });
        }
        // Merge neighbours with equal counts to keep the list short.
        let mut merged: Vec<Run> = Vec::with_capacity(out.len());
        for run in out {
            match merged.last_mut() {
                Some(prev) if prev.end == run.start && prev.count == run.count => prev.end = run.end,
                _ => merged.push(run),
            }
        }
        self.runs = merged;
    }

    /// Number of distinct offsets in `[start, end)` delivered at least once.
    pub fn distinct_in(&self, start: u64, end: u64) -> u64 {
        self.runs.iter().map(|r| r.end.min(end).saturating_sub(r.start.max(start))).sum()
    }

    /// Total deliveries (each delivery of each offset).
    pub fn deliveries(&self) -> u64 {
        self.runs.iter().map(|r| (r.end - r.start) * u64::from(r.count)).sum()
    }

    /// Deliveries beyond the first, over all offsets.
    pub fn duplicates(&self) -> u64 {
        self.runs.iter().map(|r| (r.end - r.start) * u64::from(r.count - 1)).sum()
    }

    /// How many times `offset` was delivered.
    pub fn count_at(&self, offset: u64) -> u32 {
        self.runs.iter().find(|r| r.start <= offset && offset < r.end).map_or(0, |r| r.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(adds: &[(u64, u64)], upto: u64) -> Vec<u32> {
        let mut v = vec![0u32; upto as usize];
        for &(s, e) in adds {
            for o in s..e {
                v[o as usize] += 1;
            }
        }
        v
    }

    #[test]
    fn sequential_processing_stays_one_run() {
        let mut rc = RangeCounts::default();
        for i in 0..100 {
            rc.add(i * 10, i * 10 + 10);
        }
        assert_eq!(rc.runs().len(), 1);
        assert_eq!(rc.deliveries(), 1000);
        assert_eq!(rc.duplicates(), 0);
    }

    #[test]
    fn redelivery_counts_duplicates() {
        let mut rc = RangeCounts::default();
        rc.add(0, 10);
        rc.add(5, 15);
        assert_eq!(rc.duplicates(), 5);
        assert_eq!(rc.distinct_in(0, 100), 15);
        assert_eq!(rc.count_at(7), 2);
        assert_eq!(rc.count_at(12), 1);
        assert_eq!(rc.count_at(20), 0);
    }

    #[test]
    fn matches_a_per_offset_count_for_arbitrary_ranges() {
        // A deterministic spread of overlapping, nested and disjoint ranges.
        let mut x: u64 = 12345;
        for _case in 0..300 {
            let mut adds = Vec::new();
            let mut rc = RangeCounts::default();
            for _ in 0..12 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let s = (x >> 33) % 60;
                let len = (x >> 20) % 15;
                adds.push((s, s + len));
                rc.add(s, s + len);
            }
            let want = naive(&adds, 80);
            for (o, w) in want.iter().enumerate() {
                assert_eq!(rc.count_at(o as u64), *w, "offset {o} after {adds:?}");
            }
            let runs = rc.runs();
            assert!(runs.windows(2).all(|w| w[0].end <= w[1].start), "{runs:?}");
            assert!(runs.iter().all(|r| r.count >= 1 && r.start < r.end));
        }
    }
}
