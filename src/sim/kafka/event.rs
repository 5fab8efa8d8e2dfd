//! What happened, as typed events. Each event has a canonical text form — one JSON object on one
//! line — and the trace digest is XXH3-128 over those lines, so it is the same natively and in wasm.

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use crate::sim::command::Command;
use crate::sim::ids::Name;

/// A run of offsets `[from, to)` in one partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OffsetRange {
    pub topic: Name,
    pub partition: u32,
    pub from: u64,
    pub to: u64,
}

impl OffsetRange {
    pub fn len(&self) -> u64 {
        self.to - self.from
    }

    pub fn is_empty(&self) -> bool {
        self.to == self.from
    }
}

/// A committed offset: the offset of the *next* record the group will read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionOffset {
    pub topic: Name,
    pub partition: u32,
    pub offset: u64,
}

/// What [`EventKind::Assigned`] carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assigned {
    pub consumer: Name,
    pub group: Name,
    pub generation: i32,
    pub assigned: Vec<String>,
    pub added: Vec<String>,
    pub revoked: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A user command took effect.
    Command {
        /// Boxed: a command may carry a whole spec, and every event would be as large.
        command: Box<Command>,
    },
    /// A command could not be applied (unknown name, wrong state, bad value).
    CommandRejected {
        command: Box<Command>,
        reason: String,
    },
    /// A producer sent a produce request holding records `first_seq..=last_seq`.
    Sent {
        producer: Name,
        topic: Name,
        first_seq: u64,
        last_seq: u64,
        records: u64,
    },
    /// The leader appended a batch.
    Appended {
        producer: Name,
        topic: Name,
        partition: u32,
        base_offset: u64,
        records: u32,
        first_seq: u64,
        last_seq: u64,
    },
    /// The producer got its acknowledgement.
    Acked {
        producer: Name,
        topic: Name,
        records: u64,
    },
    /// A fetch returned records to a consumer's `poll()`.
    Fetched {
        consumer: Name,
        group: Name,
        ranges: Vec<OffsetRange>,
    },
    /// The application started processing what `poll()` returned.
    Processing {
        consumer: Name,
        group: Name,
        records: u64,
        per_record_ms: u64,
    },
    /// The application finished processing these records (all of them, or those done before a crash).
    Processed {
        consumer: Name,
        group: Name,
        ranges: Vec<OffsetRange>,
    },
    /// The consumer sent an OffsetCommit.
    CommitSent {
        consumer: Name,
        group: Name,
        offsets: Vec<PartitionOffset>,
    },
    /// The coordinator stored committed offsets.
    Committed {
        consumer: Name,
        group: Name,
        offsets: Vec<PartitionOffset>,
    },
    /// The coordinator refused a commit (e.g. the member is no longer in the group's generation).
    CommitFailed {
        consumer: Name,
        group: Name,
        reason: String,
    },
    /// A consumer's position was set from a committed offset or by `auto.offset.reset`.
    PositionSet {
        consumer: Name,
        group: Name,
        topic: Name,
        partition: u32,
        offset: u64,
        reason: String,
    },
    /// The consumer process started (or restarted).
    Started {
        consumer: Name,
    },
    /// The consumer process died at once: no LeaveGroup, no commit.
    Crashed {
        consumer: Name,
        lost_in_flight: u64,
    },
    /// The consumer closed cleanly.
    Stopped {
        consumer: Name,
    },
    /// A consumer sent JoinGroup (empty member id on its first join).
    JoinGroup {
        consumer: Name,
        group: Name,
        member_id: String,
    },
    /// The coordinator answered a new member's first JoinGroup with MEMBER_ID_REQUIRED and the
    /// member id to join with (KIP-394): it sends JoinGroup again, with that id.
    MemberIdRequired {
        consumer: Name,
        group: Name,
        member_id: String,
    },
    /// Its JoinGroup was answered: it is in `generation`, perhaps as the leader.
    Joined {
        consumer: Name,
        group: Name,
        member_id: String,
        generation: i32,
        leader: bool,
    },
    /// A fatal group error (an assignor the group does not use, a fenced static member): the
    /// consumer stops, as Kafka's throws from poll().
    JoinFailed {
        consumer: Name,
        group: Name,
        error: String,
    },
    /// The leader ran the assignor: partitions per member id.
    AssignmentComputed {
        consumer: Name,
        group: Name,
        generation: i32,
        strategy: String,
        assignment: Vec<(String, Vec<String>)>,
    },
    SyncGroup {
        consumer: Name,
        group: Name,
        generation: i32,
    },
    /// The consumer took its new assignment (`onPartitionsAssigned`). Boxed: the largest kind
    /// by far, and rare; every event would otherwise be as large.
    Assigned(Box<Assigned>),
    /// The consumer gave partitions up (`onPartitionsRevoked`), or lost them with its membership.
    Revoked {
        consumer: Name,
        group: Name,
        partitions: Vec<String>,
        lost: bool,
    },
    /// The coordinator handled a heartbeat (error: what it answered, if not OK).
    Heartbeat {
        consumer: Name,
        group: Name,
        generation: i32,
        error: Option<String>,
    },
    LeaveGroup {
        consumer: Name,
        group: Name,
        member_id: String,
        reason: String,
    },
    /// The consumer learned it is out of the group while its application is away from poll()
    /// (processing, or committing): it still holds these partitions, which may have new owners
    /// already, and what it commits now is rejected. At its next poll() it gives them up as lost.
    Zombie {
        consumer: Name,
        group: Name,
        partitions: Vec<String>,
    },
    /// The application spent longer than `max.poll.interval.ms` away from poll().
    PollTimeout {
        consumer: Name,
        group: Name,
        max_poll_interval_ms: u64,
    },
    /// The consumer asked the coordinator for committed offsets.
    OffsetFetch {
        consumer: Name,
        group: Name,
        partitions: Vec<String>,
    },
    /// The coordinator moved the group to another state.
    GroupState {
        group: Name,
        state: String,
        generation: i32,
        reason: String,
    },
    MemberRemoved {
        group: Name,
        consumer: Name,
        member_id: String,
        reason: String,
    },
    /// A static member restarted within its session: same place, new member id.
    StaticMemberReplaced {
        group: Name,
        old_member_id: String,
        member_id: String,
    },
    /// A broker process died: its replicas stop, its connections close.
    BrokerCrashed {
        broker: u32,
    },
    /// A broker was stopped cleanly: its controlled shutdown moved its leaderships first, and
    /// the controller knows at once.
    BrokerStopped {
        broker: u32,
    },
    /// The controller noticed a crashed broker (`broker.session.timeout.ms`) and fenced it.
    BrokerFenced {
        broker: u32,
    },
    BrokerStarted {
        broker: u32,
    },
    /// The controller chose a partition's leader (`None`: no eligible replica, the partition is
    /// offline). An unclean election picks a replica outside the ISR; acknowledged records the
    /// new leader does not have are lost.
    LeaderElected {
        topic: Name,
        partition: u32,
        leader: Option<u32>,
        leader_epoch: u32,
        isr: Vec<u32>,
        unclean: bool,
        lost_acked: u64,
    },
    /// The in-sync replica set changed.
    IsrChanged {
        topic: Name,
        partition: u32,
        isr: Vec<u32>,
        reason: String,
    },
    /// A follower copied records from its leader, up to `log_end_offset`.
    Replicated {
        topic: Name,
        partition: u32,
        broker: u32,
        log_end_offset: u64,
    },
    /// The leader's high watermark moved (records below it are visible to consumers).
    HighWatermark {
        topic: Name,
        partition: u32,
        offset: u64,
    },
    /// A follower cut records its new leader does not have (leader-epoch truncation).
    Truncated {
        topic: Name,
        partition: u32,
        broker: u32,
        from: u64,
        to: u64,
    },
    /// A produce request failed for one partition; the producer retries after `retry_in_ms`,
    /// or gives up (`None`).
    ProduceFailed {
        producer: Name,
        topic: Name,
        partition: u32,
        records: u32,
        error: String,
        retry_in_ms: Option<u64>,
    },
    /// `acks` or `enable.idempotence` changed: the old producer instance closed once what it
    /// had sent was answered, and a new one started (with a new producer id if idempotent).
    ProducerRestarted {
        producer: Name,
        acks: String,
        enable_idempotence: bool,
        producer_id: Option<u32>,
    },
    /// An idempotent producer dropped an expired batch, so its sequence numbers no longer follow on
    /// at the leaders: it took a new producer id and numbers what waits afresh.
    ProducerIdReset {
        producer: Name,
        producer_id: u32,
    },
    /// The application's `send()` waited `max.block.ms` for room in a full `buffer.memory`
    /// and failed: these records were never sent.
    SendFailed {
        producer: Name,
        topic: Name,
        records: u64,
        error: String,
    },
    /// The idempotent producer's retry of a batch the leader already has: not written again.
    DuplicateIgnored {
        producer: Name,
        topic: Name,
        partition: u32,
        first_seq: u64,
        last_seq: u64,
    },
    /// A group's coordinator moved to another broker (`None`: no broker can host it).
    CoordinatorMoved {
        group: Name,
        broker: Option<u32>,
    },
    /// A consumer found its group's coordinator again and re-sent what was waiting.
    FindCoordinator {
        consumer: Name,
        group: Name,
        broker: u32,
    },
    /// Retention deleted old segments.
    RetentionDeleted {
        topic: Name,
        partition: u32,
        records: u64,
        log_start_offset: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Simulated time in ms.
    pub t: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The canonical one-line text of the event.
    pub fn to_line(&self) -> String {
        let mut line = Vec::new();
        self.write_line(&mut line);
        String::from_utf8(line).expect("JSON is UTF-8")
    }

    /// Appends the canonical line (without its `\n`) to `out`: the one definition both
    /// [`Event::to_line`] and the trace digest use. It is serde_json's rendering of the event;
    /// the kinds a busy cluster emits thousands of times a second are written by
    /// [`Event::write_common`] instead, byte for byte the same (tested against serde_json).
    fn write_line(&self, out: &mut Vec<u8>) {
        if !self.write_common(out) {
            self.write_with_serde(out);
        }
    }

    fn write_with_serde(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, self).unwrap_or_else(|e| panic!("events always serialise: {e}"));
    }

    /// Writes the most frequent kinds without serde (a quarter of a busy run's time went to
    /// serde_json); returns false, having written nothing, for the others.
    fn write_common(&self, out: &mut Vec<u8>) -> bool {
        let mut w = LineWriter { out };
        let start = |w: &mut LineWriter, type_member: &'static str| {
            w.lit("{\"t\":");
            w.num(self.t);
            w.lit(type_member);
        };
        match &self.kind {
            EventKind::Appended { producer, topic, partition, base_offset, records, first_seq, last_seq } => {
                start(&mut w, type_member!("appended"));
                w.field_str(key!("producer"), producer);
                w.field_str(key!("topic"), topic);
                w.field_num(key!("partition"), u64::from(*partition));
                w.field_num(key!("base_offset"), *base_offset);
                w.field_num(key!("records"), u64::from(*records));
                w.field_num(key!("first_seq"), *first_seq);
                w.field_num(key!("last_seq"), *last_seq);
            }
            EventKind::Acked { producer, topic, records } => {
                start(&mut w, type_member!("acked"));
                w.field_str(key!("producer"), producer);
                w.field_str(key!("topic"), topic);
                w.field_num(key!("records"), *records);
            }
            EventKind::Sent { producer, topic, first_seq, last_seq, records } => {
                start(&mut w, type_member!("sent"));
                w.field_str(key!("producer"), producer);
                w.field_str(key!("topic"), topic);
                w.field_num(key!("first_seq"), *first_seq);
                w.field_num(key!("last_seq"), *last_seq);
                w.field_num(key!("records"), *records);
            }
            EventKind::Fetched { consumer, group, ranges } | EventKind::Processed { consumer, group, ranges } => {
                let fetched = matches!(self.kind, EventKind::Fetched { .. });
                start(&mut w, if fetched { type_member!("fetched") } else { type_member!("processed") });
                w.field_str(key!("consumer"), consumer);
                w.field_str(key!("group"), group);
                w.lit(key!("ranges"));
                w.list(ranges, |w, r| {
                    w.field_str(first_key!("topic"), &r.topic);
                    w.field_num(key!("partition"), u64::from(r.partition));
                    w.field_num(key!("from"), r.from);
                    w.field_num(key!("to"), r.to);
                });
            }
            EventKind::Processing { consumer, group, records, per_record_ms } => {
                start(&mut w, type_member!("processing"));
                w.field_str(key!("consumer"), consumer);
                w.field_str(key!("group"), group);
                w.field_num(key!("records"), *records);
                w.field_num(key!("per_record_ms"), *per_record_ms);
            }
            EventKind::CommitSent { consumer, group, offsets } | EventKind::Committed { consumer, group, offsets } => {
                let sent = matches!(self.kind, EventKind::CommitSent { .. });
                start(&mut w, if sent { type_member!("commit_sent") } else { type_member!("committed") });
                w.field_str(key!("consumer"), consumer);
                w.field_str(key!("group"), group);
                w.lit(key!("offsets"));
                w.list(offsets, |w, o| {
                    w.field_str(first_key!("topic"), &o.topic);
                    w.field_num(key!("partition"), u64::from(o.partition));
                    w.field_num(key!("offset"), o.offset);
                });
            }
            EventKind::Replicated { topic, partition, broker, log_end_offset } => {
                start(&mut w, type_member!("replicated"));
                w.field_str(key!("topic"), topic);
                w.field_num(key!("partition"), u64::from(*partition));
                w.field_num(key!("broker"), u64::from(*broker));
                w.field_num(key!("log_end_offset"), *log_end_offset);
            }
            EventKind::HighWatermark { topic, partition, offset } => {
                start(&mut w, type_member!("high_watermark"));
                w.field_str(key!("topic"), topic);
                w.field_num(key!("partition"), u64::from(*partition));
                w.field_num(key!("offset"), *offset);
            }
            _ => return false,
        }
        w.out.push(b'}');
        true
    }
}

/// `,"name":` — a member's key after the first, as one constant (constant-length copies
/// compile to a few stores).
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// `"name":` — the first member's key in an object.
macro_rules! first_key {
    ($name:literal) => {
        concat!("\"", $name, "\":")
    };
}

/// `,"type":"kind"` — the event's tag, written after its time.
macro_rules! type_member {
    ($kind:literal) => {
        concat!(",\"type\":\"", $kind, "\"")
    };
}
use {first_key, key, type_member};

/// Writes JSON members as serde_json does (compact, fields in order); keys come whole, with
/// their punctuation, from [`key!`] and [`first_key!`].
struct LineWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl LineWriter<'_> {
    #[inline(always)]
    fn lit(&mut self, text: &'static str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn str(&mut self, s: &str) {
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f) {
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'"');
        } else {
            serde_json::to_writer(&mut *self.out, s).unwrap_or_else(|e| panic!("strings always serialise: {e}"));
        }
    }

    fn num(&mut self, n: u64) {
        self.out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    #[inline(always)]
    fn field_str(&mut self, key: &'static str, value: &str) {
        self.lit(key);
        self.str(value);
    }

    #[inline(always)]
    fn field_num(&mut self, key: &'static str, value: u64) {
        self.lit(key);
        self.num(value);
    }

    /// A list of objects, each written by `item` (its first member with [`first_key!`]).
    fn list<T>(&mut self, items: &[T], item: impl Fn(&mut Self, &T)) {
        self.out.push(b'[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.push(b'{');
            item(self, x);
            self.out.push(b'}');
        }
        self.out.push(b']');
    }
}

/// The running digest of a trace, and optionally the events themselves.
#[derive(Clone)]
pub struct Trace {
    hasher: Xxh3,
    line: Vec<u8>,
    count: u64,
    keep: bool,
    events: Vec<Event>,
}

impl Trace {
    pub fn new(keep: bool) -> Trace {
        Trace { hasher: Xxh3::new(), line: Vec::new(), count: 0, keep, events: Vec::new() }
    }

    /// Whether events are kept for [`Trace::drain`]; turning it off drops those kept.
    pub fn set_keep(&mut self, keep: bool) {
        self.keep = keep;
        if !keep {
            self.events.clear();
        }
    }

    pub fn record(&mut self, event: Event) {
        // The canonical line, written into a buffer reused from event to event.
        self.line.clear();
        event.write_line(&mut self.line);
        self.line.push(b'\n');
        self.hasher.update(&self.line);
        self.count += 1;
        if self.keep {
            self.events.push(event);
        }
    }

    /// Hex XXH3-128 of every event line so far, each followed by `\n`: the same natively and
    /// in wasm, and cheap enough to keep for every event (a cryptographic hash is not needed to
    /// tell two runs apart, and SHA-256 in wasm cost more than the simulation).
    pub fn digest(&self) -> String {
        format!("{:032x}", self.hasher.digest128())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Takes the kept events out (the digest is unaffected).
    pub fn drain(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_line_is_flat_json_with_time_first() {
        let e = Event { t: 12, kind: EventKind::Started { consumer: "c1".into() } };
        assert_eq!(e.to_line(), r#"{"t":12,"type":"started","consumer":"c1"}"#);
    }

    /// The hand-written lines are serde_json's, for every kind they cover, including names
    /// that need escaping, empty lists and large numbers.
    #[test]
    fn common_kinds_are_written_exactly_as_serde_writes_them() {
        let names = ["c1", "", "quote\"d", "back\\slash", "tab\there", "nl\n", "\u{7f}del", "ünï/code", "\u{1}"];
        let nums = [0u64, 7, u64::from(u32::MAX), u64::MAX];
        let mut kinds = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let s = |k: usize| names[(i + k) % names.len()].to_string();
            let n = |k: usize| nums[(i + k) % nums.len()];
            let ranges: Vec<OffsetRange> = (0..i % 3)
                .map(|k| OffsetRange { topic: s(k).into(), partition: n(k) as u32, from: n(k + 1), to: n(k + 2) })
                .collect();
            let offsets: Vec<PartitionOffset> = (0..i % 3)
                .map(|k| PartitionOffset { topic: s(k + 1).into(), partition: n(k) as u32, offset: n(k + 3) })
                .collect();
            kinds.extend([
                EventKind::Appended {
                    producer: name.to_string().into(),
                    topic: s(1).into(),
                    partition: n(0) as u32,
                    base_offset: n(1),
                    records: n(2) as u32,
                    first_seq: n(3),
                    last_seq: n(1),
                },
                EventKind::Acked { producer: name.to_string().into(), topic: s(2).into(), records: n(3) },
                EventKind::Sent {
                    producer: s(1).into(),
                    topic: name.to_string().into(),
                    first_seq: n(0),
                    last_seq: n(1),
                    records: n(2),
                },
                EventKind::Fetched { consumer: name.to_string().into(), group: s(1).into(), ranges: ranges.clone() },
                EventKind::Processed { consumer: s(2).into(), group: name.to_string().into(), ranges },
                EventKind::Processing {
                    consumer: name.to_string().into(),
                    group: s(3).into(),
                    records: n(1),
                    per_record_ms: n(2),
                },
                EventKind::CommitSent {
                    consumer: name.to_string().into(),
                    group: s(1).into(),
                    offsets: offsets.clone(),
                },
                EventKind::Committed { consumer: s(1).into(), group: name.to_string().into(), offsets },
                EventKind::Replicated {
                    topic: name.to_string().into(),
                    partition: n(1) as u32,
                    broker: n(2) as u32,
                    log_end_offset: n(3),
                },
                EventKind::HighWatermark { topic: name.to_string().into(), partition: n(2) as u32, offset: n(0) },
            ]);
        }
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event { t: nums[i % nums.len()], kind };
            let (mut ours, mut serde) = (Vec::new(), Vec::new());
            assert!(e.write_common(&mut ours), "{e:?} is a common kind");
            e.write_with_serde(&mut serde);
            assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
        }
        let rare = Event { t: 1, kind: EventKind::Started { consumer: "c".into() } };
        assert!(!rare.write_common(&mut Vec::new()), "other kinds go through serde");
    }

    #[test]
    fn digest_is_xxh3_128_of_the_lines() {
        let mut t = Trace::new(false);
        assert_eq!(t.digest(), "99aa06d3014798d86001c324468d497f", "XXH3-128 of nothing");
        t.record(Event { t: 0, kind: EventKind::Started { consumer: "c".into() } });
        let want = xxhash_rust::xxh3::xxh3_128(b"{\"t\":0,\"type\":\"started\",\"consumer\":\"c\"}\n");
        assert_eq!(t.digest(), format!("{want:032x}"));
        assert!(t.events().is_empty(), "events are not kept unless asked");
    }
}
