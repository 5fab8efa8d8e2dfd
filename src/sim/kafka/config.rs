//! What a run is made of: topics, producers, consumers and the cluster's settings.
//!
//! Every setting carries Kafka's own name in its doc comment and Kafka 4.0's default unless a
//! scenario says otherwise. Scenarios are plain data (serde), so a share link can carry them.

use serde::{Deserialize, Serialize};

use crate::sim::ids::{GroupId, Name};
use crate::sim::json::{first_key, members, Json, Writer};
use crate::sim::text::quoted;

/// Limits on user-supplied numbers, so an absurd link or command gets an error, not a hang.
pub mod limits {
    pub const MAX_PARTITIONS: u32 = 10_000;
    pub const MAX_TOPICS: usize = 100;
    pub const MAX_CLIENTS: usize = 500;
    pub const MAX_RATE_PER_SEC: u32 = 1_000_000;
    pub const MAX_PRODUCE_COUNT: u64 = 10_000_000;
    pub const MAX_KEY_CARDINALITY: u32 = 100_000;
    pub const MAX_NAME_LEN: usize = 64;
    pub const MAX_MS: u64 = 30 * 24 * 3_600_000;
    pub const MAX_BROKERS: u32 = 32;
}

/// The settings of the cluster as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClusterSpec {
    /// One-way network latency between any client and a broker, in ms.
    pub latency_ms: u64,
    /// `log.retention.check.interval.ms` (Kafka: 300000).
    pub retention_check_interval_ms: u64,
    /// `group.initial.rebalance.delay.ms` (Kafka: 3000).
    pub group_initial_rebalance_delay_ms: u64,
    /// Number of brokers, with ids 1..=brokers.
    pub brokers: u32,
    /// `broker.session.timeout.ms` (9000): how long the controller takes to notice a broker
    /// that stopped heartbeating (a crash), and fence it.
    pub broker_session_timeout_ms: u64,
    /// `replica.lag.time.max.ms` (30000): a follower not caught up for this long leaves the ISR.
    pub replica_lag_time_max_ms: u64,
    /// `unclean.leader.election.enable` (false): may a replica outside the ISR become leader?
    pub unclean_leader_election: bool,
    /// `group.min.session.timeout.ms` (6000) and `group.max.session.timeout.ms` (1800000): a
    /// consumer whose `session.timeout.ms` is outside them is refused (INVALID_SESSION_TIMEOUT).
    pub group_min_session_timeout_ms: u64,
    pub group_max_session_timeout_ms: u64,
    /// `auto.leader.rebalance.enable` (true): the controller moves leadership back to each
    /// partition's preferred replica once it is in the ISR again, checking every
    /// `leader.imbalance.check.interval.seconds` (300 s) while some partition is led by another.
    pub auto_leader_rebalance: bool,
    pub leader_imbalance_check_interval_ms: u64,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            latency_ms: 2,
            retention_check_interval_ms: 300_000,
            group_initial_rebalance_delay_ms: 3_000,
            brokers: 1,
            broker_session_timeout_ms: 9_000,
            replica_lag_time_max_ms: 30_000,
            unclean_leader_election: false,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            auto_leader_rebalance: true,
            leader_imbalance_check_interval_ms: 300_000,
        }
    }
}

impl ClusterSpec {
    pub fn validate(&self) -> Result<(), String> {
        if self.latency_ms > 10_000 || self.retention_check_interval_ms > limits::MAX_MS {
            return Err("cluster latency must be at most 10 s".into());
        }
        if self.brokers == 0 || self.brokers > limits::MAX_BROKERS {
            return Err(format!("a cluster has 1 to {} brokers", limits::MAX_BROKERS));
        }
        if self.broker_session_timeout_ms == 0 || self.replica_lag_time_max_ms == 0 {
            return Err("broker.session.timeout.ms and replica.lag.time.max.ms must be positive".into());
        }
        check_ms("broker.session.timeout.ms", self.broker_session_timeout_ms)?;
        if self.group_min_session_timeout_ms > self.group_max_session_timeout_ms {
            return Err("group.min.session.timeout.ms must not be above group.max.session.timeout.ms".into());
        }
        if self.leader_imbalance_check_interval_ms == 0 {
            return Err("leader.imbalance.check.interval.seconds must be positive".into());
        }
        check_ms("leader.imbalance.check.interval.seconds", self.leader_imbalance_check_interval_ms)?;
        check_ms("replica.lag.time.max.ms", self.replica_lag_time_max_ms)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicSpec {
    pub name: Name,
    /// `num.partitions`.
    pub partitions: u32,
    /// `retention.ms` (Kafka: 7 days). `None` keeps records forever (`-1`).
    pub retention_ms: Option<u64>,
    /// `retention.bytes` per partition (Kafka: -1, unlimited).
    pub retention_bytes: Option<u64>,
    /// `segment.bytes` (Kafka: 1 GiB). Retention deletes whole closed segments only.
    pub segment_bytes: u64,
    /// `segment.ms` (Kafka: 7 days): a segment older than this rolls on the next append.
    pub segment_ms: u64,
    /// `replication.factor` (Kafka's `default.replication.factor`: 1).
    pub replication_factor: u32,
    /// `min.insync.replicas` (1): acks=all writes are refused while the ISR is smaller.
    pub min_insync_replicas: u32,
}

impl Default for TopicSpec {
    fn default() -> Self {
        TopicSpec {
            name: "my-topic".into(),
            partitions: 1,
            retention_ms: Some(7 * 24 * 3_600_000),
            retention_bytes: None,
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3_600_000,
            replication_factor: 1,
            min_insync_replicas: 1,
        }
    }
}

/// How a producer picks record keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Keys {
    /// Null keys: Kafka's built-in uniform sticky partitioner (KIP-794).
    #[default]
    None,
    /// Every record has this key.
    Fixed { key: String },
    /// Record `n` (its sequence number) has key `keys[n % keys.len()]`.
    Cycle { keys: Vec<String> },
    /// Keys `key-0` … `key-{cardinality-1}`, picked pseudo-randomly per record.
    Random { cardinality: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Acks {
    /// `acks=0`: the producer does not wait for the broker.
    Zero,
    /// `acks=1`: the leader's append is enough.
    One,
    /// `acks=all` (Kafka 3.0+ default).
    #[default]
    All,
}

impl Acks {
    /// As Kafka's configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProducerSpec {
    pub name: Name,
    pub topic: Name,
    pub keys: Keys,
    /// Send to this partition instead of using the partitioner.
    pub partition: Option<u32>,
    /// Records per second sent continuously (0: only explicit `produce` commands).
    pub rate_per_sec: u32,
    /// `linger.ms` (Kafka 4.0: 5).
    pub linger_ms: u64,
    /// `batch.size` in bytes (16384): also how long the sticky partitioner sticks.
    pub batch_size: u64,
    /// Size of one record on the wire, in bytes (key + value + overhead).
    pub record_bytes: u64,
    /// `acks`.
    pub acks: Acks,
    /// `enable.idempotence` (true since 3.0): retries never write a batch twice.
    pub enable_idempotence: bool,
    /// `retry.backoff.ms` (100), doubling per attempt up to `retry.backoff.max.ms` (1000).
    pub retry_backoff_ms: u64,
    /// `delivery.timeout.ms` (120000): a batch not acknowledged by then fails for good.
    pub delivery_timeout_ms: u64,
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            name: "producer-1".into(),
            topic: "my-topic".into(),
            keys: Keys::None,
            partition: None,
            rate_per_sec: 0,
            linger_ms: 5,
            batch_size: 16_384,
            record_bytes: 100,
            acks: Acks::All,
            enable_idempotence: true,
            retry_backoff_ms: 100,
            delivery_timeout_ms: 120_000,
        }
    }
}

/// When a consumer commits its offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    /// `enable.auto.commit=true`: inside `poll()`, every `auto.commit.interval.ms`, the offsets
    /// the previous poll returned; also on a clean close.
    #[default]
    Auto,
    /// `commitSync()` after processing each batch: at-least-once.
    AfterProcessing,
    /// `commitSync()` right after `poll()`, before processing: at-most-once.
    BeforeProcessing,
}

impl CommitMode {
    /// As it is spelled in scenarios and links.
    pub fn name(self) -> &'static str {
        match self {
            CommitMode::Auto => "auto",
            CommitMode::AfterProcessing => "after_processing",
            CommitMode::BeforeProcessing => "before_processing",
        }
    }
}

/// `group.protocol`: how a consumer takes part in its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupProtocol {
    /// JoinGroup and SyncGroup, a leader that assigns, rebalances that stop the group (or, with
    /// a cooperative assignor, the partitions that move): Kafka's default.
    #[default]
    Classic,
    /// Kafka 4's consumer protocol (KIP-848): heartbeats only, the coordinator assigns, members
    /// reconcile partition by partition.
    Consumer,
}

impl GroupProtocol {
    pub const ALL: [GroupProtocol; 2] = [GroupProtocol::Classic, GroupProtocol::Consumer];

    /// As the setting is spelled.
    pub fn name(self) -> &'static str {
        match self {
            GroupProtocol::Classic => "classic",
            GroupProtocol::Consumer => "consumer",
        }
    }

    pub fn parse(s: &str) -> Option<GroupProtocol> {
        GroupProtocol::ALL.into_iter().find(|p| p.name() == s)
    }

    pub fn is_classic(&self) -> bool {
        *self == GroupProtocol::Classic
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OffsetReset {
    Earliest,
    /// Kafka's default.
    #[default]
    Latest,
}

impl OffsetReset {
    /// As Kafka's configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            OffsetReset::Earliest => "earliest",
            OffsetReset::Latest => "latest",
        }
    }
}

/// The partition assignment strategies of the classic protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    #[default]
    Range,
    Roundrobin,
    Sticky,
    CooperativeSticky,
}

impl Strategy {
    /// The protocol name Kafka registers for this assignor (`ASSIGNMENT-STRATEGY` column).
    pub fn protocol_name(self) -> &'static str {
        match self {
            Strategy::Range => "range",
            Strategy::Roundrobin => "roundrobin",
            Strategy::Sticky => "sticky",
            Strategy::CooperativeSticky => "cooperative-sticky",
        }
    }

    pub const ALL: [Strategy; 4] =
        [Strategy::Range, Strategy::Roundrobin, Strategy::Sticky, Strategy::CooperativeSticky];

    pub fn parse(s: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|st| st.protocol_name() == s)
    }

    pub fn is_cooperative(self) -> bool {
        self == Strategy::CooperativeSticky
    }

    /// The Java consumer's default `partition.assignment.strategy` since Kafka 3.0.
    pub const DEFAULT_LIST: [Strategy; 2] = [Strategy::Range, Strategy::CooperativeSticky];

    /// A list as the setting is written: `range, cooperative-sticky`.
    pub fn list_text(list: &[Strategy]) -> String {
        list.iter().map(|s| s.protocol_name()).collect::<Vec<_>>().join(", ")
    }

    /// Reads `range, cooperative-sticky` (commas, spaces optional).
    pub fn parse_list(text: &str) -> Option<Vec<Strategy>> {
        text.split(',').map(|s| Strategy::parse(s.trim())).collect()
    }
}

/// The broker-side assignors of Kafka 4's consumer protocol, in the order of
/// `group.consumer.assignors` (the first is the default); a consumer may ask for one with
/// `group.remote.assignor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerAssignor {
    Uniform,
    Range,
}

impl ServerAssignor {
    pub const ALL: [ServerAssignor; 2] = [ServerAssignor::Uniform, ServerAssignor::Range];

    pub fn name(self) -> &'static str {
        match self {
            ServerAssignor::Uniform => "uniform",
            ServerAssignor::Range => "range",
        }
    }

    pub fn parse(s: &str) -> Option<ServerAssignor> {
        ServerAssignor::ALL.into_iter().find(|a| a.name() == s)
    }
}

impl serde::Serialize for ServerAssignor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Json for ServerAssignor {
    fn json(&self, w: &mut Writer) {
        self.name().json(w);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsumerSpec {
    pub name: Name,
    /// `group.id`.
    pub group: GroupId,
    /// Topics it subscribes to.
    pub topics: Vec<String>,
    /// Whether it is running when the run starts.
    pub running: bool,
    pub commit: CommitMode,
    /// `auto.commit.interval.ms` (5000).
    pub auto_commit_interval_ms: u64,
    /// `auto.offset.reset` (latest).
    pub auto_offset_reset: OffsetReset,
    /// `max.poll.records` (500).
    pub max_poll_records: u32,
    /// `fetch.max.wait.ms` (500).
    pub fetch_max_wait_ms: u64,
    /// Time the application spends on each record.
    pub processing_ms: u64,
    /// `session.timeout.ms` (45000).
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms` (3000).
    pub heartbeat_interval_ms: u64,
    /// `max.poll.interval.ms` (300000).
    pub max_poll_interval_ms: u64,
    /// `partition.assignment.strategy`: the assignors it supports, in order of preference (Kafka's
    /// default: range, cooperative-sticky). The group uses one every member supports, chosen by
    /// vote; the consumer rebalances cooperatively only if every assignor in its list can.
    pub assignors: Vec<Strategy>,
    /// `group.instance.id` (static membership).
    pub group_instance_id: Option<String>,
    /// The application drains its topics in subscription order: while an earlier topic has
    /// records to read, it pauses (`consumer.pause()`) the partitions of the later ones.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub priority: bool,
    /// `group.protocol`. Under `consumer`, `session.timeout.ms`, `heartbeat.interval.ms` and
    /// `partition.assignment.strategy` are the broker's (`group.consumer.*`), not the client's.
    #[serde(skip_serializing_if = "GroupProtocol::is_classic")]
    pub group_protocol: GroupProtocol,
    /// `group.remote.assignor`: the broker-side assignor it asks for under the consumer
    /// protocol (none: the broker's default, uniform).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_assignor: Option<ServerAssignor>,
}

impl Default for ConsumerSpec {
    fn default() -> Self {
        ConsumerSpec {
            name: "consumer-1".into(),
            group: "my-group".into(),
            topics: vec!["my-topic".into()],
            running: true,
            commit: CommitMode::Auto,
            auto_commit_interval_ms: 5_000,
            auto_offset_reset: OffsetReset::Latest,
            max_poll_records: 500,
            fetch_max_wait_ms: 500,
            processing_ms: 0,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 3_000,
            max_poll_interval_ms: 300_000,
            assignors: Strategy::DEFAULT_LIST.to_vec(),
            group_instance_id: None,
            priority: false,
            group_protocol: GroupProtocol::Classic,
            remote_assignor: None,
        }
    }
}

pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > limits::MAX_NAME_LEN {
        return Err(format!("{kind} name must be 1 to {} characters", limits::MAX_NAME_LEN));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(format!("{kind} name {} may only use letters, digits, '-', '_' and '.'", quoted(name)));
    }
    Ok(())
}

pub(crate) fn check_ms(what: &str, ms: u64) -> Result<(), String> {
    if ms > limits::MAX_MS {
        return Err(format!("{what} of {ms} ms is longer than the 30-day limit"));
    }
    Ok(())
}

impl TopicSpec {
    pub fn validate(&self) -> Result<(), String> {
        check_name("topic", &self.name)?;
        if self.partitions == 0 || self.partitions > limits::MAX_PARTITIONS {
            return Err(format!("topic '{}' must have 1 to {} partitions", self.name, limits::MAX_PARTITIONS));
        }
        if self.segment_bytes == 0 || self.segment_ms == 0 {
            return Err(format!("topic '{}': segment.bytes and segment.ms must be positive", self.name));
        }
        check_ms("segment.ms", self.segment_ms)?;
        if self.replication_factor == 0 || self.replication_factor > limits::MAX_BROKERS {
            return Err(format!("topic '{}': replication.factor must be 1 to {}", self.name, limits::MAX_BROKERS));
        }
        if self.min_insync_replicas == 0 || self.min_insync_replicas > limits::MAX_BROKERS {
            return Err(format!("topic '{}': min.insync.replicas must be 1 to {}", self.name, limits::MAX_BROKERS));
        }
        if let Some(ms) = self.retention_ms {
            check_ms("retention.ms", ms)?;
        }
        Ok(())
    }
}

impl Keys {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Keys::None => Ok(()),
            Keys::Fixed { key } if key.len() > limits::MAX_NAME_LEN => Err("a key may be at most 64 bytes".into()),
            Keys::Fixed { .. } => Ok(()),
            Keys::Cycle { keys } if keys.is_empty() || keys.len() > 1_000 => {
                Err("a key list needs 1 to 1000 keys".into())
            }
            Keys::Cycle { keys } if keys.iter().any(|k| k.len() > limits::MAX_NAME_LEN) => {
                Err("a key may be at most 64 bytes".into())
            }
            Keys::Cycle { .. } => Ok(()),
            Keys::Random { cardinality } if *cardinality == 0 || *cardinality > limits::MAX_KEY_CARDINALITY => {
                Err(format!("random keys need 1 to {} distinct keys", limits::MAX_KEY_CARDINALITY))
            }
            Keys::Random { .. } => Ok(()),
        }
    }
}

impl ProducerSpec {
    pub fn validate(&self) -> Result<(), String> {
        check_name("producer", &self.name)?;
        self.keys.validate()?;
        if self.rate_per_sec > limits::MAX_RATE_PER_SEC {
            return Err(format!("producer '{}': rate above {} records/s", self.name, limits::MAX_RATE_PER_SEC));
        }
        if self.record_bytes == 0 || self.record_bytes > 1 << 20 || self.batch_size == 0 || self.batch_size > 1 << 26 {
            return Err(format!("producer '{}': record and batch sizes must be positive and sane", self.name));
        }
        check_ms("retry.backoff.ms", self.retry_backoff_ms)?;
        check_ms("delivery.timeout.ms", self.delivery_timeout_ms)?;
        check_ms("linger.ms", self.linger_ms)
    }
}

impl ConsumerSpec {
    /// Kafka's rebalance protocol for the consumer: COOPERATIVE only if every assignor it lists
    /// supports it, else EAGER.
    pub fn cooperative(&self) -> bool {
        self.assignors.iter().all(|a| a.is_cooperative())
    }

    pub fn validate(&self) -> Result<(), String> {
        check_name("consumer", &self.name)?;
        check_name("group", &self.group)?;
        if self.topics.is_empty() {
            return Err(format!("consumer '{}' subscribes to no topic", self.name));
        }
        if self.max_poll_records == 0 || self.max_poll_records > 100_000 {
            return Err(format!("consumer '{}': max.poll.records must be 1 to 100000", self.name));
        }
        if self.heartbeat_interval_ms == 0 || self.heartbeat_interval_ms >= self.session_timeout_ms {
            return Err(format!(
                "consumer '{}': heartbeat.interval.ms must be positive and below session.timeout.ms",
                self.name
            ));
        }
        if self.auto_commit_interval_ms == 0 || self.max_poll_interval_ms == 0 {
            return Err(format!("consumer '{}': intervals must be positive", self.name));
        }
        if self.assignors.is_empty() || self.assignors.len() > Strategy::ALL.len() {
            return Err(format!("consumer '{}': partition.assignment.strategy names 1 to 4 assignors", self.name));
        }
        if self.assignors.iter().enumerate().any(|(i, a)| self.assignors[..i].contains(a)) {
            return Err(format!("consumer '{}': partition.assignment.strategy names an assignor twice", self.name));
        }
        for (what, ms) in [
            ("processing time", self.processing_ms),
            ("session.timeout.ms", self.session_timeout_ms),
            ("max.poll.interval.ms", self.max_poll_interval_ms),
            ("fetch.max.wait.ms", self.fetch_max_wait_ms),
            ("auto.commit.interval.ms", self.auto_commit_interval_ms),
        ] {
            check_ms(what, ms)?;
        }
        if let Some(id) = &self.group_instance_id {
            check_name("group.instance.id", id)?;
        }
        Ok(())
    }
}

// ----- JSON, as the derived `Serialize` writes it (see `sim::json`) ----------------------------

impl Json for Keys {
    fn json(&self, w: &mut Writer) {
        match self {
            Keys::None => w.lit("{\"kind\":\"none\""),
            Keys::Fixed { key } => {
                w.lit("{\"kind\":\"fixed\"");
                members!(w; key);
            }
            Keys::Cycle { keys } => {
                w.lit("{\"kind\":\"cycle\"");
                members!(w; keys);
            }
            Keys::Random { cardinality } => {
                w.lit("{\"kind\":\"random\"");
                members!(w; cardinality);
            }
        }
        w.out.push(b'}');
    }
}

impl Json for Acks {
    fn json(&self, w: &mut Writer) {
        w.str(match self {
            Acks::Zero => "zero",
            Acks::One => "one",
            Acks::All => "all",
        });
    }
}

impl Json for CommitMode {
    fn json(&self, w: &mut Writer) {
        w.str(self.name());
    }
}

impl Json for OffsetReset {
    fn json(&self, w: &mut Writer) {
        w.str(self.name());
    }
}

impl Json for GroupProtocol {
    fn json(&self, w: &mut Writer) {
        w.str(self.name());
    }
}

impl Json for Strategy {
    fn json(&self, w: &mut Writer) {
        w.str(self.protocol_name());
    }
}

impl Json for ProducerSpec {
    fn json(&self, w: &mut Writer) {
        let ProducerSpec {
            name,
            topic,
            keys,
            partition,
            rate_per_sec,
            linger_ms,
            batch_size,
            record_bytes,
            acks,
            enable_idempotence,
            retry_backoff_ms,
            delivery_timeout_ms,
        } = self;
        w.lit(concat!("{", first_key!("name")));
        name.json(w);
        members!(w; topic, keys, partition, rate_per_sec, linger_ms, batch_size, record_bytes, acks,
            enable_idempotence, retry_backoff_ms, delivery_timeout_ms);
        w.out.push(b'}');
    }
}

impl Json for ConsumerSpec {
    fn json(&self, w: &mut Writer) {
        let ConsumerSpec {
            name,
            group,
            topics,
            running,
            commit,
            auto_commit_interval_ms,
            auto_offset_reset,
            max_poll_records,
            fetch_max_wait_ms,
            processing_ms,
            session_timeout_ms,
            heartbeat_interval_ms,
            max_poll_interval_ms,
            assignors,
            group_instance_id,
            priority,
            group_protocol,
            remote_assignor,
        } = self;
        w.lit(concat!("{", first_key!("name")));
        name.json(w);
        members!(w; group, topics, running, commit, auto_commit_interval_ms, auto_offset_reset,
            max_poll_records, fetch_max_wait_ms, processing_ms, session_timeout_ms, heartbeat_interval_ms,
            max_poll_interval_ms, assignors, group_instance_id);
        // Written only when set, as its `skip_serializing_if` says.
        if *priority {
            members!(w; priority);
        }
        if !group_protocol.is_classic() {
            members!(w; group_protocol);
        }
        if let Some(remote_assignor) = remote_assignor {
            members!(w; remote_assignor);
        }
        w.out.push(b'}');
    }
}
