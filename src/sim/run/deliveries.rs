//! What each group did with each partition: deliveries counted per offset, and where the group
//! started reading — what reports and checks count duplicates and losses from.

use crate::sim::vecmap::VecMap;

use crate::sim::ids::Tp;
use crate::sim::ranges::RangeCounts;

/// Values per consumer group and partition, in (group, partition) order. Looked up by name
/// without allocating: a group's name is stored once, by its first entry.
#[derive(Clone, Debug)]
pub(crate) struct PerGroup<V>(VecMap<String, VecMap<Tp, V>>);

impl<V> Default for PerGroup<V> {
    fn default() -> Self {
        PerGroup(VecMap::new())
    }
}

impl<V> PerGroup<V> {
    pub(crate) fn get(&self, group: &str, tp: Tp) -> Option<&V> {
        self.0.get(group)?.get(&tp)
    }

    /// The value of `group` and `tp`, made with `V::default()` if there is none.
    pub(crate) fn entry(&mut self, group: &str, tp: Tp) -> &mut V
    where
        V: Default,
    {
        if !self.0.contains_key(group) {
            self.0.insert(group.to_string(), VecMap::new());
        }
        self.0.get_mut(group).map(|m| m.entry(tp).or_default()).unwrap_or_else(|| unreachable!("inserted above"))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Tp, &V)> {
        self.0.iter().flat_map(|(g, m)| m.iter().map(move |(tp, v)| (g.as_str(), *tp, v)))
    }
}

/// What one group has done with one partition: deliveries counted per offset.
#[derive(Clone, Debug, Default)]
pub struct DeliveryTrack {
    pub counts: RangeCounts,
    /// Where the group started reading this partition (its first reset position).
    pub first_position: Option<u64>,
}
