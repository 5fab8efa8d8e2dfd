//! Ids of the things a run is made of, as types: a consumer is not a broker is not a topic.

use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A consumer application of the run, by its place in [`crate::sim::Sim::consumers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ConsumerId(pub u32);

/// A producer application of the run, by its place in [`crate::sim::Sim::producers`] (not Kafka's
/// producer id, which an idempotent producer instance gets from the cluster).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ProducerId(pub u32);

/// A broker, numbered from 1 as Kafka's `node.id`s usually are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BrokerId(pub u32);

impl ConsumerId {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

impl ProducerId {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for BrokerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl crate::sim::json::Json for BrokerId {
    fn json(&self, w: &mut crate::sim::json::Writer) {
        self.0.json(w);
    }
}

impl BrokerId {
    /// Its place in [`crate::sim::Sim::brokers`].
    pub fn ix(self) -> usize {
        self.0 as usize - 1
    }
}

/// A topic of the run, by its place in [`crate::sim::Sim::topics`] (in the order the run made
/// them; Kafka's topic ids are UUIDs, which nothing here needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicId(pub u32);

impl TopicId {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// A topic-partition by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tp {
    pub topic: TopicId,
    pub partition: u32,
}

/// What a shared-string id (a newtype over [`Name`]) is and does: read as a `str`, made from
/// strings, compared with them, shown and written to JSON as its text.
macro_rules! shared_string_id {
    ($id:ident) => {
        impl $id {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $id {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $id {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $id {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $id {
            fn from(s: &str) -> $id {
                $id(Name::from(s))
            }
        }

        impl From<String> for $id {
            fn from(s: String) -> $id {
                $id(Name::from(s))
            }
        }

        impl From<&String> for $id {
            fn from(s: &String) -> $id {
                $id(Name::from(s))
            }
        }

        impl From<Name> for $id {
            fn from(n: Name) -> $id {
                $id(n)
            }
        }

        impl PartialEq<str> for $id {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $id {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $id {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self)
            }
        }

        impl std::fmt::Debug for $id {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl crate::sim::json::Json for $id {
            fn json(&self, w: &mut crate::sim::json::Writer) {
                w.str(self);
            }
        }
    };
}

/// A consumer group, by its `group.id` (what the coordinators, the offsets and every request
/// name it by). Shared, as a [`Name`] is.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(Name);

shared_string_id!(GroupId);

impl From<GroupId> for String {
    fn from(g: GroupId) -> String {
        g.as_str().to_string()
    }
}

impl PartialEq<String> for GroupId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<GroupId> for str {
    fn eq(&self, other: &GroupId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<GroupId> for &str {
    fn eq(&self, other: &GroupId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<GroupId> for String {
    fn eq(&self, other: &GroupId) -> bool {
        self == other.as_str()
    }
}

/// A group member's id: made by the classic coordinator (`{client.id}-{uuid}`) or, under the
/// consumer protocol, by the member itself (a UUID); empty when not a member. Shared, as a
/// [`Name`] is: every request and event carries it.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct MemberId(Name);

shared_string_id!(MemberId);

/// The name of a topic, group, consumer or producer. Events carry names and every event clones
/// them, so a name is a shared string: cloning it counts a reference instead of allocating.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl crate::sim::json::Json for Name {
    fn json(&self, w: &mut crate::sim::json::Writer) {
        w.str(self);
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::from(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name(Arc::from(s.as_str()))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

/// A member id as Kafka's new consumer makes one (`Uuid.randomUuid().toString()`): 16 random
/// bytes of a version-4 UUID in URL-safe base64 without padding, never starting with '-'.
pub fn new_member_uuid(rng: &mut ChaCha8Rng) -> MemberId {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    loop {
        let a: u128 = rng.random();
        let a = (a & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        let bytes = a.to_be_bytes();
        let mut s = String::with_capacity(22);
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                s.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        if !s.starts_with('-') {
            return s.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name reads, sorts, prints and serializes exactly as the string it holds, so moving from
    /// `String` changed no digest, link or report.
    #[test]
    fn a_name_behaves_as_its_string() {
        let mut names: Vec<Name> = ["consumer-10", "consumer-2", "", "ünï"].map(Name::from).to_vec();
        let mut strings: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        names.sort();
        strings.sort();
        for (n, s) in names.iter().zip(&strings) {
            assert_eq!(n, s);
            assert_eq!(s, n);
            assert_eq!(n.as_str(), s);
        }
        let n = Name::from("quote\"d");
        assert_eq!(serde_json::to_string(&n).unwrap(), serde_json::to_string("quote\"d").unwrap());
        assert_eq!(serde_json::from_str::<Name>("\"g\"").unwrap(), "g");
        assert_eq!(format!("{n} {n:?}"), format!("{} {:?}", "quote\"d", "quote\"d"));
        // A clone shares the text.
        let c = n.clone();
        assert!(std::ptr::eq(c.as_str(), n.as_str()));
    }
}
