//! What happened, as typed events. Each event has a canonical text form — one JSON object on one
//! line — and the trace digest is XXH3-128 over those lines, so it is the same natively and in wasm.

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use crate::sim::command::Command;
use crate::sim::ids::{BrokerId, GroupId, MemberId, Name};
use crate::sim::json::{first_key, members, Json, Writer};

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
    pub group: GroupId,
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
    /// A partition's leader wrote a transaction's COMMIT or ABORT marker (WriteTxnMarkers): a
    /// control record at `offset`, deciding the producer's batches before it.
    TxnMarker {
        topic: Name,
        partition: u32,
        producer_id: u32,
        /// "commit" or "abort".
        result: String,
        offset: u64,
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
        group: GroupId,
        ranges: Vec<OffsetRange>,
    },
    /// The application started processing what `poll()` returned.
    Processing {
        consumer: Name,
        group: GroupId,
        records: u64,
        per_record_ms: u64,
    },
    /// The application finished processing these records (all of them, or those done before a crash).
    Processed {
        consumer: Name,
        group: GroupId,
        ranges: Vec<OffsetRange>,
    },
    /// The consumer sent an OffsetCommit.
    CommitSent {
        consumer: Name,
        group: GroupId,
        offsets: Vec<PartitionOffset>,
    },
    /// The coordinator stored committed offsets.
    Committed {
        consumer: Name,
        group: GroupId,
        offsets: Vec<PartitionOffset>,
    },
    /// The coordinator refused a commit (e.g. the member is no longer in the group's generation).
    CommitFailed {
        consumer: Name,
        group: GroupId,
        reason: String,
    },
    /// A consumer's position was set from a committed offset or by `auto.offset.reset`.
    PositionSet {
        consumer: Name,
        group: GroupId,
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
        group: GroupId,
        member_id: MemberId,
    },
    /// The coordinator answered a new member's first JoinGroup with MEMBER_ID_REQUIRED and the
    /// member id to join with (KIP-394): it sends JoinGroup again, with that id.
    MemberIdRequired {
        consumer: Name,
        group: GroupId,
        member_id: MemberId,
    },
    /// Its JoinGroup was answered: it is in `generation`, perhaps as the leader.
    Joined {
        consumer: Name,
        group: GroupId,
        member_id: MemberId,
        generation: i32,
        leader: bool,
    },
    /// A fatal group error (an assignor the group does not use, a fenced static member): the
    /// consumer stops, as Kafka's throws from poll().
    JoinFailed {
        consumer: Name,
        group: GroupId,
        error: String,
    },
    /// The leader ran the assignor: partitions per member id.
    AssignmentComputed {
        consumer: Name,
        group: GroupId,
        generation: i32,
        strategy: String,
        assignment: Vec<(String, Vec<String>)>,
    },
    SyncGroup {
        consumer: Name,
        group: GroupId,
        generation: i32,
    },
    /// The consumer took its new assignment (`onPartitionsAssigned`). Boxed: the largest kind
    /// by far, and rare; every event would otherwise be as large.
    Assigned(Box<Assigned>),
    /// The consumer gave partitions up (`onPartitionsRevoked`), or lost them with its membership.
    Revoked {
        consumer: Name,
        group: GroupId,
        partitions: Vec<String>,
        lost: bool,
    },
    /// The coordinator handled a heartbeat (error: what it answered, if not OK).
    Heartbeat {
        consumer: Name,
        group: GroupId,
        generation: i32,
        error: Option<String>,
    },
    LeaveGroup {
        consumer: Name,
        group: GroupId,
        member_id: MemberId,
        reason: String,
    },
    /// The consumer learned it is out of the group while its application is away from poll()
    /// (processing, or committing): it still holds these partitions, which may have new owners
    /// already, and what it commits now is rejected. At its next poll() it gives them up as lost.
    Zombie {
        consumer: Name,
        group: GroupId,
        partitions: Vec<String>,
    },
    /// A consumer-protocol member's background thread gave up (or lost) partitions while its
    /// application had `records` of them in the batch in hand: it finishes the batch, and those
    /// offsets are no longer its to commit — unless it committed before processing, the
    /// partitions' next owner reads them again.
    RevokedWhileProcessing {
        consumer: Name,
        group: GroupId,
        partitions: Vec<String>,
        records: u64,
        lost: bool,
    },
    /// The application spent longer than `max.poll.interval.ms` away from poll().
    PollTimeout {
        consumer: Name,
        group: GroupId,
        max_poll_interval_ms: u64,
    },
    /// The consumer asked the coordinator for committed offsets.
    OffsetFetch {
        consumer: Name,
        group: GroupId,
        partitions: Vec<String>,
    },
    /// The coordinator refused a consumer-protocol member's OffsetFetch (STALE_MEMBER_EPOCH,
    /// UNKNOWN_MEMBER_ID).
    OffsetFetchFailed {
        consumer: Name,
        group: GroupId,
        partitions: Vec<String>,
        error: String,
    },
    /// The coordinator moved the group to another state.
    GroupState {
        group: GroupId,
        state: String,
        generation: i32,
        reason: String,
    },
    MemberRemoved {
        group: GroupId,
        consumer: Name,
        member_id: MemberId,
        reason: String,
    },
    /// A static member restarted within its session: same place, new member id.
    StaticMemberReplaced {
        group: GroupId,
        old_member_id: MemberId,
        member_id: MemberId,
    },
    /// A group changed protocol (Kafka 4's online migration): `protocol` is the one it is on
    /// now (`consumer` or `classic`), at group epoch or generation `generation`.
    GroupConverted {
        group: GroupId,
        protocol: String,
        generation: i32,
        reason: String,
    },
    /// A consumer-protocol group's coordinator computed the target assignment for the group
    /// epoch `epoch`: partitions per member id.
    TargetAssignment {
        group: GroupId,
        epoch: i32,
        assignor: String,
        assignment: Vec<(String, Vec<String>)>,
    },
    /// A member of a consumer-protocol group moved towards its target: its epoch, its state
    /// (STABLE, UNREVOKED_PARTITIONS, UNRELEASED_PARTITIONS), what it is given and what it must
    /// still give up.
    MemberAssignment {
        group: GroupId,
        consumer: Name,
        member_id: MemberId,
        epoch: i32,
        state: String,
        assigned: Vec<String>,
        revoking: Vec<String>,
    },
    /// A broker process died: its replicas stop, its connections close.
    BrokerCrashed {
        broker: BrokerId,
    },
    /// A broker was stopped cleanly: its controlled shutdown moved its leaderships first, and
    /// the controller knows at once.
    BrokerStopped {
        broker: BrokerId,
    },
    /// The controller noticed a crashed broker (`broker.session.timeout.ms`) and fenced it.
    BrokerFenced {
        broker: BrokerId,
    },
    BrokerStarted {
        broker: BrokerId,
    },
    /// The controller chose a partition's leader (`None`: no eligible replica, the partition is
    /// offline). An unclean election picks a replica outside the ISR; acknowledged records the
    /// new leader does not have are lost.
    LeaderElected {
        topic: Name,
        partition: u32,
        leader: Option<BrokerId>,
        leader_epoch: u32,
        isr: Vec<BrokerId>,
        unclean: bool,
        lost_acked: u64,
    },
    /// The in-sync replica set changed.
    IsrChanged {
        topic: Name,
        partition: u32,
        isr: Vec<BrokerId>,
        reason: String,
    },
    /// A follower copied records from its leader, up to `log_end_offset`.
    Replicated {
        topic: Name,
        partition: u32,
        broker: BrokerId,
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
        broker: BrokerId,
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
        group: GroupId,
        broker: Option<BrokerId>,
    },
    /// A consumer found its group's coordinator again and re-sent what was waiting.
    FindCoordinator {
        consumer: Name,
        group: GroupId,
        broker: BrokerId,
    },
    /// A request to a group's coordinator failed at the consumer: its connection to the broker
    /// closed (the broker died), the broker was down when it was sent, or the broker is no
    /// longer the group's coordinator (NOT_COORDINATOR). The consumer finds the coordinator
    /// again and sends what it still needs, built from its state then.
    RequestFailed {
        consumer: Name,
        group: GroupId,
        broker: Option<BrokerId>,
        request: String,
        error: String,
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

    #[cfg(test)]
    fn write_with_serde(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, self).unwrap_or_else(|e| panic!("events always serialise: {e}"));
    }

    /// Appends the canonical line (without its `\n`) to `out`: the one definition both
    /// [`Event::to_line`] and the trace digest use. It is serde_json's rendering of the event's
    /// derived `Serialize`, byte for byte (tested against serde_json for every kind), written
    /// by hand: a quarter of a busy run's time went to serde_json, and the page does without it.
    fn write_line(&self, out: &mut Vec<u8>) {
        let w = &mut Writer { out };
        w.lit("{\"t\":");
        w.num(self.t);
        macro_rules! kind {
            ($tag:literal; $($field:ident),*) => {{
                w.lit(type_member!($tag));
                members!(w; $($field),*);
            }};
        }
        match &self.kind {
            EventKind::Command { command } => kind!("command"; command),
            EventKind::CommandRejected { command, reason } => kind!("command_rejected"; command, reason),
            EventKind::CommitFailed { consumer, group, reason } => kind!("commit_failed"; consumer, group, reason),
            EventKind::PositionSet { consumer, group, topic, partition, offset, reason } => {
                kind!("position_set"; consumer, group, topic, partition, offset, reason)
            }
            EventKind::Started { consumer } => kind!("started"; consumer),
            EventKind::Crashed { consumer, lost_in_flight } => kind!("crashed"; consumer, lost_in_flight),
            EventKind::Stopped { consumer } => kind!("stopped"; consumer),
            EventKind::JoinGroup { consumer, group, member_id } => kind!("join_group"; consumer, group, member_id),
            EventKind::MemberIdRequired { consumer, group, member_id } => {
                kind!("member_id_required"; consumer, group, member_id)
            }
            EventKind::Joined { consumer, group, member_id, generation, leader } => {
                kind!("joined"; consumer, group, member_id, generation, leader)
            }
            EventKind::JoinFailed { consumer, group, error } => kind!("join_failed"; consumer, group, error),
            EventKind::AssignmentComputed { consumer, group, generation, strategy, assignment } => {
                kind!("assignment_computed"; consumer, group, generation, strategy, assignment)
            }
            EventKind::SyncGroup { consumer, group, generation } => kind!("sync_group"; consumer, group, generation),
            EventKind::Assigned(a) => {
                let Assigned { consumer, group, generation, assigned, added, revoked } = &**a;
                kind!("assigned"; consumer, group, generation, assigned, added, revoked)
            }
            EventKind::Revoked { consumer, group, partitions, lost } => {
                kind!("revoked"; consumer, group, partitions, lost)
            }
            EventKind::Heartbeat { consumer, group, generation, error } => {
                kind!("heartbeat"; consumer, group, generation, error)
            }
            EventKind::LeaveGroup { consumer, group, member_id, reason } => {
                kind!("leave_group"; consumer, group, member_id, reason)
            }
            EventKind::Zombie { consumer, group, partitions } => kind!("zombie"; consumer, group, partitions),
            EventKind::RevokedWhileProcessing { consumer, group, partitions, records, lost } => {
                kind!("revoked_while_processing"; consumer, group, partitions, records, lost)
            }
            EventKind::PollTimeout { consumer, group, max_poll_interval_ms } => {
                kind!("poll_timeout"; consumer, group, max_poll_interval_ms)
            }
            EventKind::OffsetFetch { consumer, group, partitions } => {
                kind!("offset_fetch"; consumer, group, partitions)
            }
            EventKind::OffsetFetchFailed { consumer, group, partitions, error } => {
                kind!("offset_fetch_failed"; consumer, group, partitions, error)
            }
            EventKind::GroupState { group, state, generation, reason } => {
                kind!("group_state"; group, state, generation, reason)
            }
            EventKind::MemberRemoved { group, consumer, member_id, reason } => {
                kind!("member_removed"; group, consumer, member_id, reason)
            }
            EventKind::StaticMemberReplaced { group, old_member_id, member_id } => {
                kind!("static_member_replaced"; group, old_member_id, member_id)
            }
            EventKind::GroupConverted { group, protocol, generation, reason } => {
                kind!("group_converted"; group, protocol, generation, reason)
            }
            EventKind::TargetAssignment { group, epoch, assignor, assignment } => {
                kind!("target_assignment"; group, epoch, assignor, assignment)
            }
            EventKind::MemberAssignment { group, consumer, member_id, epoch, state, assigned, revoking } => {
                kind!("member_assignment"; group, consumer, member_id, epoch, state, assigned, revoking)
            }
            EventKind::BrokerCrashed { broker } => kind!("broker_crashed"; broker),
            EventKind::BrokerStopped { broker } => kind!("broker_stopped"; broker),
            EventKind::BrokerFenced { broker } => kind!("broker_fenced"; broker),
            EventKind::BrokerStarted { broker } => kind!("broker_started"; broker),
            EventKind::LeaderElected { topic, partition, leader, leader_epoch, isr, unclean, lost_acked } => {
                kind!("leader_elected"; topic, partition, leader, leader_epoch, isr, unclean, lost_acked)
            }
            EventKind::IsrChanged { topic, partition, isr, reason } => {
                kind!("isr_changed"; topic, partition, isr, reason)
            }
            EventKind::Truncated { topic, partition, broker, from, to } => {
                kind!("truncated"; topic, partition, broker, from, to)
            }
            EventKind::ProduceFailed { producer, topic, partition, records, error, retry_in_ms } => {
                kind!("produce_failed"; producer, topic, partition, records, error, retry_in_ms)
            }
            EventKind::ProducerRestarted { producer, acks, enable_idempotence, producer_id } => {
                kind!("producer_restarted"; producer, acks, enable_idempotence, producer_id)
            }
            EventKind::ProducerIdReset { producer, producer_id } => kind!("producer_id_reset"; producer, producer_id),
            EventKind::SendFailed { producer, topic, records, error } => {
                kind!("send_failed"; producer, topic, records, error)
            }
            EventKind::DuplicateIgnored { producer, topic, partition, first_seq, last_seq } => {
                kind!("duplicate_ignored"; producer, topic, partition, first_seq, last_seq)
            }
            EventKind::CoordinatorMoved { group, broker } => kind!("coordinator_moved"; group, broker),
            EventKind::FindCoordinator { consumer, group, broker } => {
                kind!("find_coordinator"; consumer, group, broker)
            }
            EventKind::RequestFailed { consumer, group, broker, request, error } => {
                kind!("request_failed"; consumer, group, broker, request, error)
            }
            EventKind::RetentionDeleted { topic, partition, records, log_start_offset } => {
                kind!("retention_deleted"; topic, partition, records, log_start_offset)
            }
            EventKind::Sent { producer, topic, first_seq, last_seq, records } => {
                kind!("sent"; producer, topic, first_seq, last_seq, records)
            }
            EventKind::Appended { producer, topic, partition, base_offset, records, first_seq, last_seq } => {
                kind!("appended"; producer, topic, partition, base_offset, records, first_seq, last_seq)
            }
            EventKind::TxnMarker { topic, partition, producer_id, result, offset } => {
                kind!("txn_marker"; topic, partition, producer_id, result, offset)
            }
            EventKind::Acked { producer, topic, records } => kind!("acked"; producer, topic, records),
            EventKind::Fetched { consumer, group, ranges } => kind!("fetched"; consumer, group, ranges),
            EventKind::Processing { consumer, group, records, per_record_ms } => {
                kind!("processing"; consumer, group, records, per_record_ms)
            }
            EventKind::Processed { consumer, group, ranges } => kind!("processed"; consumer, group, ranges),
            EventKind::CommitSent { consumer, group, offsets } => kind!("commit_sent"; consumer, group, offsets),
            EventKind::Committed { consumer, group, offsets } => kind!("committed"; consumer, group, offsets),
            EventKind::Replicated { topic, partition, broker, log_end_offset } => {
                kind!("replicated"; topic, partition, broker, log_end_offset)
            }
            EventKind::HighWatermark { topic, partition, offset } => kind!("high_watermark"; topic, partition, offset),
        }
        w.out.push(b'}');
    }
}

impl Json for OffsetRange {
    fn json(&self, w: &mut Writer) {
        let OffsetRange { topic, partition, from, to } = self;
        w.lit(concat!("{", first_key!("topic")));
        topic.json(w);
        members!(w; partition, from, to);
        w.out.push(b'}');
    }
}

impl Json for PartitionOffset {
    fn json(&self, w: &mut Writer) {
        let PartitionOffset { topic, partition, offset } = self;
        w.lit(concat!("{", first_key!("topic")));
        topic.json(w);
        members!(w; partition, offset);
        w.out.push(b'}');
    }
}

/// `,"type":"kind"` — the event's tag, written after its time.
macro_rules! type_member {
    ($kind:literal) => {
        concat!(",\"type\":\"", $kind, "\"")
    };
}
use type_member;

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

    /// The hand-written lines are serde_json's, for every kind, including names that need
    /// escaping, empty lists, absent options and large numbers.
    #[test]
    fn every_kind_is_written_exactly_as_serde_writes_it() {
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
                EventKind::TxnMarker {
                    topic: s(1).into(),
                    partition: n(0) as u32,
                    producer_id: n(2) as u32,
                    result: if i.is_multiple_of(2) { "commit" } else { "abort" }.to_string(),
                    offset: n(3),
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
                    broker: BrokerId(n(2) as u32),
                    log_end_offset: n(3),
                },
                EventKind::HighWatermark { topic: name.to_string().into(), partition: n(2) as u32, offset: n(0) },
            ]);
            kinds.extend(rare_kinds(&s, &n, i));
        }
        let mut tags = std::collections::BTreeSet::new();
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event { t: nums[i % nums.len()], kind };
            let (mut ours, mut serde) = (Vec::new(), Vec::new());
            e.write_line(&mut ours);
            e.write_with_serde(&mut serde);
            assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
            tags.insert(serde_json::to_value(&e).unwrap()["type"].as_str().unwrap().to_string());
        }
        assert_eq!(tags.len(), 55, "every kind was written: {tags:?}");
    }

    /// One of each kind not in the common list, its values drawn from `s` (strings) and `n`.
    fn rare_kinds(s: &dyn Fn(usize) -> String, n: &dyn Fn(usize) -> u64, i: usize) -> Vec<EventKind> {
        use crate::sim::command::{Command, ConsumerSetting};
        use crate::sim::config::{ConsumerSpec, Keys, ProducerSpec, Strategy};
        let name = |k: usize| -> Name { s(k).into() };
        let list = |k: usize| -> Vec<String> { (0..(i + k) % 3).map(|j| s(j + k)).collect() };
        let int = |k: usize| n(k) as i32 - (i as i32 % 2) * 7;
        let opt_str = |k: usize| if (i + k).is_multiple_of(2) { None } else { Some(s(k)) };
        let opt = |k: usize| if (i + k).is_multiple_of(2) { None } else { Some(n(k) as u32) };
        let command = match i % 4 {
            0 => Command::Produce { producer: s(0), count: n(1) },
            1 => Command::AddConsumer {
                spec: ConsumerSpec { name: name(1), priority: i.is_multiple_of(3), ..ConsumerSpec::default() },
            },
            2 => Command::AddProducer {
                spec: ProducerSpec { keys: Keys::Cycle { keys: list(2) }, ..ProducerSpec::default() },
            },
            _ => Command::ConfigureConsumer {
                consumer: s(3),
                setting: ConsumerSetting::Assignors(vec![Strategy::CooperativeSticky, Strategy::Range]),
            },
        };
        vec![
            EventKind::Command { command: Box::new(command.clone()) },
            EventKind::CommandRejected { command: Box::new(command), reason: s(1) },
            EventKind::CommitFailed { consumer: name(0), group: name(1).into(), reason: s(2) },
            EventKind::PositionSet {
                consumer: name(0),
                group: name(1).into(),
                topic: name(2),
                partition: n(0) as u32,
                offset: n(1),
                reason: s(3),
            },
            EventKind::Started { consumer: name(0) },
            EventKind::Crashed { consumer: name(1), lost_in_flight: n(2) },
            EventKind::Stopped { consumer: name(2) },
            EventKind::JoinGroup { consumer: name(0), group: name(1).into(), member_id: s(2).into() },
            EventKind::MemberIdRequired { consumer: name(1), group: name(2).into(), member_id: s(3).into() },
            EventKind::Joined {
                consumer: name(0),
                group: name(1).into(),
                member_id: s(2).into(),
                generation: int(1),
                leader: i.is_multiple_of(2),
            },
            EventKind::JoinFailed { consumer: name(0), group: name(1).into(), error: s(2) },
            EventKind::AssignmentComputed {
                consumer: name(0),
                group: name(1).into(),
                generation: int(2),
                strategy: s(3),
                assignment: (0..i % 3).map(|k| (s(k), list(k))).collect(),
            },
            EventKind::SyncGroup { consumer: name(0), group: name(1).into(), generation: int(0) },
            EventKind::Assigned(Box::new(Assigned {
                consumer: name(0),
                group: name(1).into(),
                generation: int(3),
                assigned: list(0),
                added: list(1),
                revoked: list(2),
            })),
            EventKind::Revoked { consumer: name(0), group: name(1).into(), partitions: list(1), lost: i % 2 == 1 },
            EventKind::Heartbeat { consumer: name(0), group: name(1).into(), generation: int(1), error: opt_str(2) },
            EventKind::LeaveGroup { consumer: name(0), group: name(1).into(), member_id: s(2).into(), reason: s(3) },
            EventKind::Zombie { consumer: name(0), group: name(1).into(), partitions: list(2) },
            EventKind::RevokedWhileProcessing {
                consumer: name(0),
                group: name(1).into(),
                partitions: list(2),
                records: n(3),
                lost: i.is_multiple_of(2),
            },
            EventKind::PollTimeout { consumer: name(0), group: name(1).into(), max_poll_interval_ms: n(2) },
            EventKind::OffsetFetch { consumer: name(0), group: name(1).into(), partitions: list(0) },
            EventKind::OffsetFetchFailed { consumer: name(0), group: name(1).into(), partitions: list(1), error: s(2) },
            EventKind::GroupState { group: name(0).into(), state: s(1), generation: int(2), reason: s(3) },
            EventKind::MemberRemoved { group: name(0).into(), consumer: name(1), member_id: s(2).into(), reason: s(3) },
            EventKind::StaticMemberReplaced {
                group: name(0).into(),
                old_member_id: s(1).into(),
                member_id: s(2).into(),
            },
            EventKind::GroupConverted { group: name(1).into(), protocol: s(2), generation: int(3), reason: s(4) },
            EventKind::TargetAssignment {
                group: name(3).into(),
                epoch: 4,
                assignor: s(5),
                assignment: vec![(s(6), vec![s(7), s(8)])],
            },
            EventKind::MemberAssignment {
                group: name(9).into(),
                consumer: name(10),
                member_id: s(11).into(),
                epoch: -2,
                state: s(12),
                assigned: vec![s(13)],
                revoking: vec![],
            },
            EventKind::BrokerCrashed { broker: BrokerId(n(0) as u32) },
            EventKind::BrokerStopped { broker: BrokerId(n(1) as u32) },
            EventKind::BrokerFenced { broker: BrokerId(n(2) as u32) },
            EventKind::BrokerStarted { broker: BrokerId(n(3) as u32) },
            EventKind::LeaderElected {
                topic: name(0),
                partition: n(1) as u32,
                leader: opt(0).map(BrokerId),
                leader_epoch: n(2) as u32,
                isr: (0..i % 3).map(|k| BrokerId(n(k) as u32)).collect(),
                unclean: i.is_multiple_of(2),
                lost_acked: n(3),
            },
            EventKind::IsrChanged {
                topic: name(0),
                partition: n(0) as u32,
                isr: vec![BrokerId(n(1) as u32)],
                reason: s(1),
            },
            EventKind::Truncated {
                topic: name(1),
                partition: n(1) as u32,
                broker: BrokerId(n(2) as u32),
                from: n(3),
                to: n(0),
            },
            EventKind::ProduceFailed {
                producer: name(0),
                topic: name(1),
                partition: n(2) as u32,
                records: n(3) as u32,
                error: s(2),
                retry_in_ms: opt(1).map(u64::from),
            },
            EventKind::ProducerRestarted {
                producer: name(0),
                acks: s(1),
                enable_idempotence: i.is_multiple_of(2),
                producer_id: opt(1),
            },
            EventKind::ProducerIdReset { producer: name(0), producer_id: n(1) as u32 },
            EventKind::SendFailed { producer: name(0), topic: name(1), records: n(2), error: s(3) },
            EventKind::DuplicateIgnored {
                producer: name(0),
                topic: name(1),
                partition: n(2) as u32,
                first_seq: n(3),
                last_seq: n(0),
            },
            EventKind::CoordinatorMoved { group: name(0).into(), broker: opt(0).map(BrokerId) },
            EventKind::FindCoordinator { consumer: name(0), group: name(1).into(), broker: BrokerId(n(2) as u32) },
            EventKind::RequestFailed {
                consumer: name(0),
                group: name(1).into(),
                broker: opt(2).map(BrokerId),
                request: s(3),
                error: s(0),
            },
            EventKind::RetentionDeleted {
                topic: name(0),
                partition: n(1) as u32,
                records: n(2),
                log_start_offset: n(3),
            },
        ]
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
