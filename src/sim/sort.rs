//! One stable sort for the whole program.
//!
//! `slice::sort_by` is generic over the element and the comparison, so every call site with its
//! own element type or closure compiles its own copy of the standard library's sort (~3.5 KB of
//! WebAssembly each, after `wasm-opt`). These functions sort a list of positions with a single,
//! non-generic comparison and then move the elements into place, so the page carries one copy.
//! The result is exactly `slice::sort_by`'s: stable, equal elements keep their order. They are
//! meant for the short lists of the assignors, descriptions and menus, not for hot loops.

use std::cmp::Ordering;

/// The positions `0..n` in the stable order `cmp` gives them.
fn positions(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Sorts `v` stably by `cmp`, like `slice::sort_by`.
pub fn by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let mut order = positions(v.len(), &|a, b| cmp(&v[a], &v[b]));
    // Apply the permutation in place, cycle by cycle: position `i` takes the element that was
    // at `order[i]`; `usize::MAX` marks positions already filled.
    for start in 0..order.len() {
        let mut at = start;
        loop {
            let from = std::mem::replace(&mut order[at], usize::MAX);
            if from == usize::MAX || from == start {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

/// Sorts `v` stably by the key `key` gives, like `slice::sort_by_key`.
pub fn by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` in its natural order, like `slice::sort`.
pub fn natural<T: Ord>(v: &mut [T]) {
    by(v, T::cmp);
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        /// The same order as the standard library's stable sort, equal keys included.
        #[test]
        fn agrees_with_the_standard_stable_sort(v in proptest::collection::vec((0u8..6, any::<u32>()), 0..200)) {
            let mut expected = v.clone();
            expected.sort_by_key(|&(k, _)| k);
            let mut got = v.clone();
            by_key(&mut got, |&(k, _)| k);
            prop_assert_eq!(&got, &expected);

            let mut expected = v.clone();
            expected.sort();
            let mut got = v;
            natural(&mut got);
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn moves_owned_elements_without_cloning() {
        let mut v: Vec<String> = ["delta", "alpha", "charlie", "bravo", "alpha"].map(String::from).to_vec();
        by(&mut v, |a, b| a.cmp(b));
        assert_eq!(v, ["alpha", "alpha", "bravo", "charlie", "delta"]);
        let mut empty: Vec<String> = Vec::new();
        natural(&mut empty);
        assert!(empty.is_empty());
    }
}
