//! Text exactly as Kafka's `kafka-consumer-groups.sh --describe` prints it (ConsumerGroupCommand:
//! `printOffsets`, `printStates`), built from a snapshot of the model.

use crate::sim::engine::{Sim, Tp};
use crate::sim::ids::BrokerId;
use crate::sim::sort;

const MISSING: &str = "-";
/// Every simulated client runs on the learner's machine, as in the tutorial's Docker setup.
pub const CLIENT_HOST: &str = "/127.0.0.1";

pub use crate::sim::coordinator::GroupState;
use crate::sim::kafka::consumer_group::tps_of;
use crate::sim::kafka::reconcile::GroupState as ConsumerGroupState;

/// A group's state as the tool reports it: the classic protocol's, or the consumer protocol's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewState {
    Classic(GroupState),
    Consumer(ConsumerGroupState),
}

impl serde::Serialize for ViewState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl ViewState {
    pub fn name(self) -> &'static str {
        match self {
            ViewState::Classic(s) => s.name(),
            ViewState::Consumer(s) => s.name(),
        }
    }

    fn is_dead(self) -> bool {
        self == ViewState::Classic(GroupState::Dead)
    }

    fn is_empty(self) -> bool {
        matches!(self, ViewState::Classic(GroupState::Empty) | ViewState::Consumer(ConsumerGroupState::Empty))
    }

    fn is_stable(self) -> bool {
        matches!(self, ViewState::Classic(GroupState::Stable) | ViewState::Consumer(ConsumerGroupState::Stable))
    }
}

/// One row of the offsets table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetRow {
    pub group: String,
    pub topic: String,
    pub partition: u32,
    pub current_offset: Option<u64>,
    pub log_end_offset: u64,
    pub consumer_id: String,
    pub host: String,
    pub client_id: String,
}

impl OffsetRow {
    pub fn lag(&self) -> Option<u64> {
        self.current_offset.map(|o| self.log_end_offset.saturating_sub(o))
    }
}

/// A member as the coordinator sees it: ids and current assignment.
#[derive(Clone, Debug)]
pub struct MemberView {
    pub consumer_id: String,
    pub client_id: String,
    pub assignment: Vec<Tp>,
}

/// What `--describe` needs to know about a group.
#[derive(Clone, Debug)]
pub struct GroupView {
    pub name: String,
    pub state: ViewState,
    pub strategy: Option<String>,
    pub members: Vec<MemberView>,
    pub coordinator: String,
}

/// The group as its coordinator sees it.
pub fn group_view(sim: &Sim, group: &str) -> GroupView {
    // Broker n listens on localhost:909(1+n), as in a local multi-broker setup.
    let coordinator =
        sim.coordinator_of(group).map_or("none".to_string(), |id| format!("localhost:{}  ({id})", 9091 + id.0));
    if let Some(g) = sim.groups().consumer(group) {
        // ConsumerGroupDescribe: each member's current assignment, whatever the group's state,
        // and the group's server assignor.
        return GroupView {
            name: group.to_string(),
            state: ViewState::Consumer(g.state()),
            strategy: g.assignor.map(|a| a.name().to_string()),
            members: g
                .members
                .iter()
                .map(|m| MemberView {
                    consumer_id: m.member_id.to_string(),
                    client_id: m.client_id.clone(),
                    assignment: tps_of(&m.assignment.assigned, |t| sim.topic_index(t)),
                })
                .collect(),
            coordinator,
        };
    }
    match sim.groups().classic(group) {
        Some(g) => GroupView {
            name: group.to_string(),
            state: ViewState::Classic(g.state),
            strategy: g.protocol.map(|s| s.protocol_name().to_string()),
            members: g
                .members
                .iter()
                .map(|m| MemberView {
                    consumer_id: m.member_id.to_string(),
                    client_id: m.client_id.clone(),
                    // Until the group is stable, members hold no assignment Kafka would show.
                    assignment: if g.state == GroupState::Stable { m.assignment.clone() } else { Vec::new() },
                })
                .collect(),
            coordinator,
        },
        None => {
            let known = sim.committed_offsets().any(|(g, _, _)| g == group);
            let state = if known { GroupState::Empty } else { GroupState::Dead };
            GroupView {
                name: group.to_string(),
                state: ViewState::Classic(state),
                strategy: None,
                members: Vec::new(),
                coordinator,
            }
        }
    }
}

/// The rows `--describe` prints: members with partitions (most partitions first), then
/// partitions with a committed offset but no owner.
pub fn offset_rows(sim: &Sim, view: &GroupView) -> Vec<OffsetRow> {
    let row = |tp: Tp, consumer_id: &str, host: &str, client_id: &str| {
        let (topic, partition) = sim.tp_name(tp);
        OffsetRow {
            group: view.name.clone(),
            topic: topic.to_string(),
            partition,
            current_offset: sim.committed(&view.name, tp),
            log_end_offset: sim.partition(tp).high_watermark,
            consumer_id: consumer_id.into(),
            host: host.into(),
            client_id: client_id.into(),
        }
    };
    let by_name = |a: &OffsetRow, b: &OffsetRow| (&a.topic, a.partition).cmp(&(&b.topic, b.partition));
    let mut members: Vec<&MemberView> = view.members.iter().filter(|m| !m.assignment.is_empty()).collect();
    sort::by_key(&mut members, |m| std::cmp::Reverse(m.assignment.len()));
    let mut rows = Vec::new();
    let mut assigned = Vec::new();
    for m in members {
        let mut mine: Vec<OffsetRow> =
            m.assignment.iter().map(|tp| row(*tp, &m.consumer_id, CLIENT_HOST, &m.client_id)).collect();
        sort::by(&mut mine, by_name);
        rows.extend(mine);
        assigned.extend(m.assignment.iter().copied());
    }
    let mut orphans: Vec<OffsetRow> = sim
        .committed_offsets()
        .filter(|(g, tp, _)| *g == view.name && !assigned.contains(tp))
        .map(|(_, tp, _)| row(tp, MISSING, MISSING, MISSING))
        .collect();
    sort::by(&mut orphans, by_name);
    rows.extend(orphans);
    rows
}

fn pad(s: &str, width: usize) -> String {
    format!("{s:<width$}")
}

/// The state line Kafka prints (to stderr) before the table, if any.
fn state_notice(view: &GroupView, rows: usize) -> (Option<String>, bool) {
    if view.state.is_dead() {
        (Some(format!("\nError: Consumer group '{}' does not exist.", view.name)), false)
    } else if view.state.is_empty() {
        (Some(format!("\nConsumer group '{}' has no active members.", view.name)), rows > 0)
    } else if view.state.is_stable() {
        (None, rows > 0)
    } else {
        // PreparingRebalance, CompletingRebalance; Assigning, Reconciling.
        (Some(format!("\nWarning: Consumer group '{}' is rebalancing.", view.name)), rows > 0)
    }
}

/// `kafka-consumer-groups.sh --describe --group G`: the notice (if any) and the offsets table.
pub fn describe_offsets(sim: &Sim, view: &GroupView) -> String {
    let rows = offset_rows(sim, view);
    let mut out = String::new();
    let (notice, print_table) = state_notice(view, rows.len());
    if let Some(n) = notice {
        out.push_str(&n);
        out.push('\n');
    }
    if !print_table {
        return out;
    }
    let width = |f: &dyn Fn(&OffsetRow) -> usize| rows.iter().map(f).fold(15, usize::max);
    let (g, t, c, h) = (
        width(&|r| r.group.len()),
        width(&|r| r.topic.len()),
        width(&|r| r.consumer_id.len()),
        width(&|r| r.host.len()),
    );
    let line = |cols: [&str; 9]| {
        format!(
            "\n{} {} {} {} {} {} {} {} {}",
            pad(cols[0], g),
            pad(cols[1], t),
            pad(cols[2], 10),
            pad(cols[3], 15),
            pad(cols[4], 15),
            pad(cols[5], 15),
            pad(cols[6], c),
            pad(cols[7], h),
            cols[8]
        )
    };
    out.push_str(&line([
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]));
    for r in &rows {
        let (partition, current, leo) = (
            r.partition.to_string(),
            r.current_offset.map_or(MISSING.to_string(), |o| o.to_string()),
            r.log_end_offset.to_string(),
        );
        let lag = r.lag().map_or(MISSING.to_string(), |l| l.to_string());
        out.push_str(&line([
            &r.group,
            &r.topic,
            &partition,
            &current,
            &leo,
            &lag,
            &r.consumer_id,
            &r.host,
            &r.client_id,
        ]));
    }
    out.push('\n');
    out
}

/// `kafka-consumer-groups.sh --describe --group G --state`.
pub fn describe_state(view: &GroupView) -> String {
    let (notice, _) = state_notice(view, 1);
    let mut out = String::new();
    if let Some(n) = notice {
        out.push_str(&n);
        out.push('\n');
    }
    if view.state.is_dead() {
        return out;
    }
    // ConsumerGroupCommand's format, quirk included: the GROUP column is as wide as the
    // coordinator's (at least 25), the COORDINATOR column 25.
    let cw = view.coordinator.len().max(25);
    // DescribeGroups names the protocol only for a Stable group; ConsumerGroupDescribe names the
    // group's server assignor in every state.
    let strategy = match view.state {
        ViewState::Classic(s) if s != GroupState::Stable => String::new(),
        _ => view.strategy.clone().unwrap_or_default(),
    };
    let line = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        format!("\n{} {} {} {} {}", pad(a, cw), pad(b, 25), pad(c, 20), pad(d, 15), e)
    };
    out.push_str(&line("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"));
    out.push_str(&line(&view.name, &view.coordinator, &strategy, view.state.name(), &view.members.len().to_string()));
    out.push('\n');
    out
}

/// Every topic as `kafka-topics.sh --describe` prints it (Kafka 4.0: with the `Elr` columns).
/// The topic id is derived from the topic's name; `Configs` lists the settings that differ from
/// the broker defaults, by name.
pub fn describe_topics(sim: &Sim) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use std::fmt::Write;
    let defaults = crate::sim::config::TopicSpec::default();
    let mut out = String::new();
    for t in sim.topics() {
        let spec = &t.spec;
        // A stable stand-in for Kafka's random topic UUID: 16 bytes derived from the name.
        let id = URL_SAFE_NO_PAD
            .encode(xxhash_rust::xxh3::xxh3_128(format!("topic:{}", spec.name).as_bytes()).to_be_bytes());
        let mut configs = Vec::new();
        if spec.min_insync_replicas != defaults.min_insync_replicas {
            configs.push(format!("min.insync.replicas={}", spec.min_insync_replicas));
        }
        if let Some(bytes) = spec.retention_bytes {
            configs.push(format!("retention.bytes={bytes}"));
        }
        if spec.retention_ms != defaults.retention_ms {
            configs.push(format!("retention.ms={}", spec.retention_ms.map_or(-1, |ms| ms as i64)));
        }
        if spec.segment_bytes != defaults.segment_bytes {
            configs.push(format!("segment.bytes={}", spec.segment_bytes));
        }
        if spec.segment_ms != defaults.segment_ms {
            configs.push(format!("segment.ms={}", spec.segment_ms));
        }
        let _ = writeln!(
            out,
            "Topic: {}\tTopicId: {id}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}",
            spec.name,
            spec.partitions,
            spec.replication_factor,
            configs.join(",")
        );
        let list = |v: &[BrokerId]| v.iter().map(BrokerId::to_string).collect::<Vec<_>>().join(",");
        for (i, p) in t.partitions.iter().enumerate() {
            let leader = p.leader_broker().map_or("none".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "\tTopic: {}\tPartition: {i}\tLeader: {leader}\tReplicas: {}\tIsr: {}\tElr: \tLastKnownElr: ",
                spec.name,
                list(&p.replica_brokers()),
                list(&p.isr)
            );
        }
    }
    out
}
