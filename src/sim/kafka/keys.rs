//! Deriving a record's key, and its partition, from the producer's key setting and the record's
//! sequence number — so the log never stores a key per record.

use crate::sim::config::Keys;
use crate::sim::murmur2::partition_for_key;

/// A producer's key setting bound to one topic's partition count.
#[derive(Clone, Debug)]
pub struct Keyer {
    keys: Keys,
    salt: u64,
    /// Partition of each key index, precomputed with murmur2 (empty for null keys).
    table: Vec<u32>,
}

/// SplitMix64: a fixed, portable mix used to spread random keys over sequence numbers.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Keyer {
    /// `salt` comes from the run's seeded RNG, so random keys differ between seeds.
    pub fn new(keys: Keys, partitions: u32, salt: u64) -> Keyer {
        let table = match &keys {
            Keys::None => Vec::new(),
            Keys::Fixed { key } => vec![partition_for_key(key.as_bytes(), partitions)],
            Keys::Cycle { keys } => keys.iter().map(|k| partition_for_key(k.as_bytes(), partitions)).collect(),
            Keys::Random { cardinality } => {
                (0..*cardinality).map(|i| partition_for_key(random_key(i).as_bytes(), partitions)).collect()
            }
        };
        Keyer { keys, salt, table }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn key_index(&self, seq: u64) -> Option<usize> {
        match &self.keys {
            Keys::None => None,
            Keys::Fixed { .. } => Some(0),
            Keys::Cycle { keys } => Some((seq % keys.len() as u64) as usize),
            Keys::Random { cardinality } => Some((splitmix64(self.salt ^ seq) % u64::from(*cardinality)) as usize),
        }
    }

    /// The key of the record with sequence number `seq`, `None` for null keys.
    pub fn key(&self, seq: u64) -> Option<String> {
        let i = self.key_index(seq)?;
        Some(match &self.keys {
            Keys::None => unreachable!("null keys have no index"),
            Keys::Fixed { key } => key.clone(),
            Keys::Cycle { keys } => keys[i].clone(),
            Keys::Random { .. } => random_key(i as u32),
        })
    }

    /// The partition murmur2 picks for record `seq`, `None` for null keys.
    #[inline]
    pub fn partition_of(&self, seq: u64) -> Option<u32> {
        self.key_index(seq).map(|i| self.table[i])
    }
}

fn random_key(i: u32) -> String {
    format!("key-{i}")
}

/// The value a record carries: derived, never stored (like the tutorial's numbered messages).
pub fn record_value(producer: &str, seq: u64) -> String {
    format!("{producer} message #{seq}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_cycled_keys_follow_murmur2() {
        let k = Keyer::new(Keys::Fixed { key: "foobar".into() }, 6, 0);
        assert_eq!(k.partition_of(17), Some(0));
        assert_eq!(k.key(17).as_deref(), Some("foobar"));
        let c = Keyer::new(Keys::Cycle { keys: vec!["a".into(), "b".into(), "c".into()] }, 3, 0);
        for seq in 0..9 {
            let key = c.key(seq).unwrap();
            assert_eq!(c.partition_of(seq), Some(partition_for_key(key.as_bytes(), 3)));
        }
    }

    #[test]
    fn random_keys_are_a_pure_function_of_salt_and_seq() {
        let a = Keyer::new(Keys::Random { cardinality: 50 }, 12, 99);
        let b = Keyer::new(Keys::Random { cardinality: 50 }, 12, 99);
        let mut seen = crate::sim::vecmap::VecSet::new();
        for seq in 0..1000 {
            assert_eq!(a.key(seq), b.key(seq));
            let key = a.key(seq).unwrap();
            assert_eq!(a.partition_of(seq), Some(partition_for_key(key.as_bytes(), 12)));
            seen.insert(key);
        }
        assert!(seen.len() > 40, "keys spread over the key space: {}", seen.len());
    }

    #[test]
    fn null_keys_have_no_partition() {
        let k = Keyer::new(Keys::None, 3, 0);
        assert_eq!(k.key(1), None);
        assert_eq!(k.partition_of(1), None);
    }
}
