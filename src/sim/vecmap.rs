//! Ordered maps and sets kept as one sorted vector.
//!
//! The model's maps are small (a group's members, a consumer's partitions, a topic's settings)
//! and are cloned with every checkpoint of the timeline. A `BTreeMap` compiles its node code
//! (insert, split, remove, rebalance, clone, drop) once for every key and value type: about
//! 2–3 KB of WebAssembly each, for some forty types. A sorted vector needs only a binary
//! search and `Vec`'s own insert and remove, clones as one allocation, and reads in order
//! without chasing nodes.
//!
//! [`VecMap`] and [`VecSet`] keep `BTreeMap`'s and `BTreeSet`'s meaning: iteration in key
//! order, one entry per key, a later insert of an equal key replacing the value (and keeping
//! the first key, as `BTreeMap::insert` does). Inserting in increasing key order, the common
//! case, appends; inserting elsewhere moves the entries after it, so these are not for maps of
//! many thousands of entries filled in random order.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Bound, RangeBounds};

/// A [`VecMap`]'s entries in key order, as references.
pub type Iter<'a, K, V> = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&(K, V)) -> (&K, &V)>;

/// A [`VecMap`]'s entries in key order, the values mutable.
pub type IterMut<'a, K, V> = std::iter::Map<std::slice::IterMut<'a, (K, V)>, fn(&mut (K, V)) -> (&K, &mut V)>;

/// An ordered map: `BTreeMap`'s meaning, a sorted `Vec<(K, V)>` underneath.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { items: Vec::new() }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.items.iter().map(|(k, v)| (k, v))).finish()
    }
}

fn pair<K, V>(item: &(K, V)) -> (&K, &V) {
    (&item.0, &item.1)
}

fn pair_mut<K, V>(item: &mut (K, V)) -> (&K, &mut V) {
    (&item.0, &mut item.1)
}

/// Where the first position not below `bound` (for a start) or past it (for an end) lies.
fn lower<K, Q>(items: &[(K, impl Sized)], bound: Bound<&Q>) -> usize
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    match bound {
        Bound::Unbounded => 0,
        Bound::Included(q) => items.partition_point(|(k, _)| k.borrow() < q),
        Bound::Excluded(q) => items.partition_point(|(k, _)| k.borrow() <= q),
    }
}

fn upper<K, Q>(items: &[(K, impl Sized)], bound: Bound<&Q>) -> usize
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    match bound {
        Bound::Unbounded => items.len(),
        Bound::Included(q) => items.partition_point(|(k, _)| k.borrow() <= q),
        Bound::Excluded(q) => items.partition_point(|(k, _)| k.borrow() < q),
    }
}

impl<K, V> VecMap<K, V> {
    pub const fn new() -> Self {
        VecMap { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.items.iter().map(pair as fn(&(K, V)) -> (&K, &V))
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        self.items.iter_mut().map(pair_mut as fn(&mut (K, V)) -> (&K, &mut V))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone + '_ {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone + '_ {
        self.items.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator + '_ {
        self.items.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.items.into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.items.into_iter().map(|(_, v)| v)
    }

    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.items.first().map(pair)
    }

    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.items.last().map(pair)
    }

    pub fn pop_first(&mut self) -> Option<(K, V)> {
        if self.items.is_empty() {
            None
        } else {
            Some(self.items.remove(0))
        }
    }

    pub fn pop_last(&mut self) -> Option<(K, V)> {
        self.items.pop()
    }

    /// Keeps the entries for which `keep` says so, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.items.retain_mut(|(k, v)| keep(k, v));
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        // Appending in key order is the common case: answer it without a search.
        match self.items.last() {
            None => Err(0),
            Some((last, _)) => match last.borrow().cmp(key) {
                Ordering::Less => Err(self.items.len()),
                Ordering::Equal => Ok(self.items.len() - 1),
                Ordering::Greater => self.items.binary_search_by(|(k, _)| k.borrow().cmp(key)),
            },
        }
    }

    /// Inserts `value` under `key`, returning the value it replaces (the key already there stays).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.items[at].1, value)),
            Err(at) => {
                self.items.insert(at, (key, value));
                None
            }
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| &self.items[at].1)
    }

    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| pair(&self.items[at]))
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| &mut self.items[at].1)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| self.items.remove(at))
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.find(&key) {
            Ok(at) => Entry::Occupied(OccupiedEntry { items: &mut self.items, at }),
            Err(at) => Entry::Vacant(VacantEntry { items: &mut self.items, at, key }),
        }
    }

    /// The entries whose keys lie in `range`, in key order.
    pub fn range<Q, R>(&self, range: R) -> Iter<'_, K, V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
        R: RangeBounds<Q>,
    {
        let from = lower(&self.items, range.start_bound());
        let to = upper(&self.items, range.end_bound()).max(from);
        self.items[from..to].iter().map(pair as fn(&(K, V)) -> (&K, &V))
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (k, v) in pairs {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// A later value for the same key wins, as with `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut map = VecMap::new();
        map.extend(pairs);
        map
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for VecMap<K, V> {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for VecMap<K, V> {
    type Output = V;
    /// Panics when the key is missing, as `BTreeMap`'s index does.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for the key")
    }
}

impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for VecMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// A place in a [`VecMap`] for a key, filled or not: `BTreeMap`'s entry.
pub enum Entry<'a, K, V> {
    Occupied(OccupiedEntry<'a, K, V>),
    Vacant(VacantEntry<'a, K, V>),
}

pub struct OccupiedEntry<'a, K, V> {
    items: &'a mut Vec<(K, V)>,
    at: usize,
}

pub struct VacantEntry<'a, K, V> {
    items: &'a mut Vec<(K, V)>,
    at: usize,
    key: K,
}

impl<'a, K, V> Entry<'a, K, V> {
    pub fn or_insert(self, default: V) -> &'a mut V {
        self.or_insert_with(|| default)
    }

    pub fn or_insert_with(self, default: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default()),
        }
    }

    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    pub fn and_modify(mut self, f: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(e) = &mut self {
            f(e.get_mut());
        }
        self
    }

    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => &e.key,
        }
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.items[self.at].0
    }

    pub fn get(&self) -> &V {
        &self.items[self.at].1
    }

    pub fn get_mut(&mut self) -> &mut V {
        &mut self.items[self.at].1
    }

    pub fn into_mut(self) -> &'a mut V {
        &mut self.items[self.at].1
    }

    pub fn insert(&mut self, value: V) -> V {
        std::mem::replace(self.get_mut(), value)
    }

    pub fn remove(self) -> V {
        self.items.remove(self.at).1
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.key
    }

    pub fn insert(self, value: V) -> &'a mut V {
        self.items.insert(self.at, (self.key, value));
        &mut self.items[self.at].1
    }
}

/// An ordered set: `BTreeSet`'s meaning, a [`VecMap`] of its items to nothing underneath.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecSet<T> {
    map: VecMap<T, ()>,
}

/// A [`VecSet`]'s items in order.
pub type SetIter<'a, T> = std::iter::Map<std::slice::Iter<'a, (T, ())>, fn(&(T, ())) -> &T>;

fn item<T>(entry: &(T, ())) -> &T {
    &entry.0
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet { map: VecMap::new() }
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T> VecSet<T> {
    pub const fn new() -> Self {
        VecSet { map: VecMap::new() }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// The items in order.
    pub fn iter(&self) -> SetIter<'_, T> {
        self.map.items.iter().map(item as fn(&(T, ())) -> &T)
    }

    pub fn first(&self) -> Option<&T> {
        self.map.first_key_value().map(|(k, _)| k)
    }

    pub fn last(&self) -> Option<&T> {
        self.map.last_key_value().map(|(k, _)| k)
    }

    pub fn pop_first(&mut self) -> Option<T> {
        self.map.pop_first().map(|(k, _)| k)
    }

    pub fn pop_last(&mut self) -> Option<T> {
        self.map.pop_last().map(|(k, _)| k)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.map.retain(|k, _| keep(k));
    }
}

impl<T: Ord> VecSet<T> {
    /// Adds `item`; false when an equal one was there already (which stays).
    pub fn insert(&mut self, item: T) -> bool {
        self.map.insert(item, ()).is_none()
    }

    pub fn contains<Q>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.contains_key(item)
    }

    pub fn get<Q>(&self, item: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.get_key_value(item).map(|(k, _)| k)
    }

    pub fn remove<Q>(&mut self, item: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.remove(item).is_some()
    }

    pub fn take<Q>(&mut self, item: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.remove_entry(item).map(|(k, _)| k)
    }

    /// The items in `range`, in order.
    pub fn range<Q, R>(&self, range: R) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + Clone + '_
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
        R: RangeBounds<Q>,
    {
        self.map.range(range).map(|(k, _)| k)
    }

    /// The items in `self` and not in `other`, in order.
    pub fn difference<'a>(&'a self, other: &'a VecSet<T>) -> impl Iterator<Item = &'a T> + Clone + 'a {
        self.iter().filter(move |t| !other.contains(*t))
    }

    /// The items in both, in order.
    pub fn intersection<'a>(&'a self, other: &'a VecSet<T>) -> impl Iterator<Item = &'a T> + Clone + 'a {
        self.iter().filter(move |t| other.contains(*t))
    }

    pub fn is_subset(&self, other: &VecSet<T>) -> bool {
        self.iter().all(|t| other.contains(t))
    }

    pub fn is_disjoint(&self, other: &VecSet<T>) -> bool {
        self.iter().all(|t| !other.contains(t))
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.insert(item);
        }
    }
}

impl<'a, T: Ord + Copy + 'a> Extend<&'a T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, items: I) {
        for item in items {
            self.insert(*item);
        }
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut set = VecSet::new();
        set.extend(items);
        set
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for VecSet<T> {
    fn from(items: [T; N]) -> Self {
        items.into_iter().collect()
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::iter::Map<std::vec::IntoIter<(T, ())>, fn((T, ())) -> T>;
    fn into_iter(self) -> Self::IntoIter {
        fn take<T>(entry: (T, ())) -> T {
            entry.0
        }
        self.map.items.into_iter().map(take as fn((T, ())) -> T)
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = SetIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: serde::Serialize> serde::Serialize for VecSet<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use std::collections::{BTreeMap, BTreeSet};

    /// One step of a random workout, applied to both a `VecMap` and a `BTreeMap`.
    #[cfg(not(target_arch = "wasm32"))]
    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Entry(u8, u16),
        Retain(u8),
        PopFirst,
        PopLast,
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn agree(ops: &[Op]) {
        let mut ours: VecMap<u8, u16> = VecMap::new();
        let mut std: BTreeMap<u8, u16> = BTreeMap::new();
        let mut set: VecSet<u8> = VecSet::new();
        let mut std_set: BTreeSet<u8> = BTreeSet::new();
        for op in ops {
            match *op {
                Op::Insert(k, v) => {
                    assert_eq!(ours.insert(k, v), std.insert(k, v));
                    assert_eq!(set.insert(k), std_set.insert(k));
                }
                Op::Remove(k) => {
                    assert_eq!(ours.remove(&k), std.remove(&k));
                    assert_eq!(set.remove(&k), std_set.remove(&k));
                }
                Op::Entry(k, v) => {
                    let a = ours.entry(k).and_modify(|x| *x = x.wrapping_add(v)).or_insert(v);
                    *a = a.wrapping_add(1);
                    let b = std.entry(k).and_modify(|x| *x = x.wrapping_add(v)).or_insert(v);
                    *b = b.wrapping_add(1);
                }
                Op::Retain(m) => {
                    ours.retain(|k, _| k % (m % 5 + 2) != 0);
                    std.retain(|k, _| k % (m % 5 + 2) != 0);
                    set.retain(|k| k % (m % 5 + 2) != 0);
                    std_set.retain(|k| k % (m % 5 + 2) != 0);
                }
                Op::PopFirst => {
                    assert_eq!(ours.pop_first(), std.pop_first());
                    assert_eq!(set.pop_first(), std_set.pop_first());
                }
                Op::PopLast => {
                    assert_eq!(ours.pop_last(), std.pop_last());
                    assert_eq!(set.pop_last(), std_set.pop_last());
                }
            }
            assert!(ours.iter().eq(std.iter()));
            assert!(set.iter().eq(std_set.iter()));
            assert_eq!(ours.len(), std.len());
            for k in [0u8, 7, 100, 255] {
                assert_eq!(ours.get(&k), std.get(&k));
                assert_eq!(set.contains(&k), std_set.contains(&k));
                assert!(ours.range(k..).eq(std.range(k..)));
                assert!(ours.range(..=k).eq(std.range(..=k)));
                assert!(set.range(..k).eq(std_set.range(..k)));
            }
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
            any::<u8>().prop_map(Op::Remove),
            (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Entry(k, v)),
            any::<u8>().prop_map(Op::Retain),
            Just(Op::PopFirst),
            Just(Op::PopLast),
        ]
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Any sequence of inserts, removals, entries, retains and pops leaves the same contents,
        /// answers and order as the standard library's ordered map and set.
        #[test]
        fn behaves_as_the_standard_ordered_map_and_set(ops in proptest::collection::vec(op(), 0..300)) {
            agree(&ops);
        }
    }

    #[test]
    fn keeps_the_first_key_and_takes_the_later_value() {
        let map: VecMap<&str, u32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
        assert_eq!(map.iter().collect::<Vec<_>>(), [(&"a", &2), (&"b", &3)]);
        let mut by_name: VecMap<String, u32> = VecMap::new();
        by_name.insert("x".into(), 1);
        assert_eq!(by_name.get("x"), Some(&1));
        assert_eq!(by_name["x"], 1);
        assert_eq!(serde_json::to_string(&by_name).unwrap(), r#"{"x":1}"#);
    }

    #[test]
    fn ranges_that_are_empty_or_backwards_yield_nothing() {
        let map: VecMap<u32, ()> = (0..10).map(|k| (k, ())).collect();
        assert_eq!(map.range(5..5).count(), 0);
        assert_eq!(map.range(20..).count(), 0);
        assert_eq!(map.range(3..=4).map(|(k, _)| *k).collect::<Vec<_>>(), [3, 4]);
    }
}
