//! What a user (or a lesson's script) can do to a running cluster. Commands name things by their
//! names, so a list of timed commands is plain data a link can carry.

use serde::Serialize;

use crate::sim::config::{
    Acks, CommitMode, ConsumerSpec, GroupProtocol, Keys, OffsetReset, ProducerSpec, ServerAssignor, Strategy,
};
use crate::sim::json::{first_key, members, Json, Writer};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Send `count` numbered records now (like one run of the tutorial's producer.py).
    Produce {
        producer: String,
        count: u64,
    },
    /// Send continuously at this many records per second (0 stops).
    SetRate {
        producer: String,
        per_sec: u32,
    },
    /// Change how the producer picks keys for records sent from now on.
    SetKeys {
        producer: String,
        keys: Keys,
    },
    AddProducer {
        spec: ProducerSpec,
    },
    AddConsumer {
        spec: ConsumerSpec,
    },
    /// Kill the consumer process: no commit, no LeaveGroup.
    CrashConsumer {
        consumer: String,
    },
    /// Close the consumer cleanly (`consumer.close()`).
    StopConsumer {
        consumer: String,
    },
    /// Start a stopped or crashed consumer again.
    StartConsumer {
        consumer: String,
    },
    /// Time the application takes per record.
    SetProcessingTime {
        consumer: String,
        ms: u64,
    },
    SetCommitMode {
        consumer: String,
        mode: CommitMode,
    },
    /// The application reads its topics in priority order (subscription order), pausing the
    /// later topics' partitions while an earlier one has records; or all together.
    SetPriority {
        consumer: String,
        enabled: bool,
    },
    /// Change a consumer's configuration. Like a real consumer's config, it is read when the
    /// consumer starts: a running consumer uses it after its next restart.
    ConfigureConsumer {
        consumer: String,
        setting: ConsumerSetting,
    },
    /// Leave the current group cleanly and join another (what dragging a consumer card does).
    MoveConsumer {
        consumer: String,
        group: String,
    },
    /// Close a consumer cleanly and take it away (its name stays taken).
    RemoveConsumer {
        consumer: String,
    },
    /// Stop a producer for good: nothing more is sent; what is in flight still lands.
    RemoveProducer {
        producer: String,
    },
    /// Kill a broker process (brokers are numbered from 1).
    CrashBroker {
        broker: u32,
    },
    /// Start a crashed or stopped broker again, with the logs it had on disk.
    RestartBroker {
        broker: u32,
    },
    /// Stop a broker cleanly: a controlled shutdown moves its leaderships to other in-sync
    /// replicas first, then it stops.
    StopBroker {
        broker: u32,
    },
    /// Adds `ms` of network delay to the replication traffic of a broker (0 restores it): a
    /// slow follower.
    DelayBroker {
        broker: u32,
        ms: u64,
    },
    /// The producer's `acks` for what it sends from now on.
    SetAcks {
        producer: String,
        acks: Acks,
    },
    /// The producer's `enable.idempotence` for what it sends from now on.
    SetIdempotence {
        producer: String,
        enabled: bool,
    },
}

impl Command {
    /// A short human description for logs and timelines.
    pub fn describe(&self) -> String {
        match self {
            Command::Produce { producer, count } => {
                format!("{producer} sends {}", crate::sim::text::count(*count, "message"))
            }
            Command::SetRate { producer, per_sec } => format!("{producer} sends {per_sec}/s"),
            Command::SetKeys { producer, .. } => format!("{producer} changes its keys"),
            Command::AddProducer { spec } => format!("add producer {}", spec.name),
            Command::AddConsumer { spec } => format!("add consumer {} to {}", spec.name, spec.group),
            Command::CrashConsumer { consumer } => format!("crash {consumer}"),
            Command::StopConsumer { consumer } => format!("stop {consumer}"),
            Command::StartConsumer { consumer } => format!("start {consumer}"),
            Command::SetProcessingTime { consumer, ms } => format!("{consumer} takes {ms} ms per record"),
            Command::SetCommitMode { consumer, mode } => format!(
                "{consumer} commits {}",
                match mode {
                    CommitMode::Auto => "automatically (enable.auto.commit)",
                    CommitMode::AfterProcessing => "after processing each batch",
                    CommitMode::BeforeProcessing => "before processing each batch",
                }
            ),
            Command::SetPriority { consumer, enabled: true } => {
                format!("{consumer} drains its topics in priority order")
            }
            Command::SetPriority { consumer, enabled: false } => format!("{consumer} reads all its topics together"),
            Command::MoveConsumer { consumer, group } => format!("move {consumer} to {group}"),
            Command::ConfigureConsumer { consumer, setting } => match setting {
                ConsumerSetting::AutoOffsetReset(r) => format!("{consumer} sets auto.offset.reset={}", r.name()),
                ConsumerSetting::Assignor(a) => {
                    format!("{consumer} sets partition.assignment.strategy={}", a.protocol_name())
                }
                ConsumerSetting::SessionTimeoutMs(ms) => format!("{consumer} sets session.timeout.ms={ms}"),
                ConsumerSetting::Assignors(list) => {
                    format!("{consumer} sets partition.assignment.strategy={}", Strategy::list_text(list))
                }
                ConsumerSetting::GroupProtocol(p) => format!("{consumer} sets group.protocol={}", p.name()),
                ConsumerSetting::RemoteAssignor(a) => {
                    format!(
                        "{consumer} sets group.remote.assignor={}",
                        a.map_or("(the broker's default)", |a| a.name())
                    )
                }
            },
            Command::RemoveConsumer { consumer } => format!("remove {consumer}"),
            Command::RemoveProducer { producer } => format!("remove {producer}"),
            Command::CrashBroker { broker } => format!("crash broker {broker}"),
            Command::RestartBroker { broker } => format!("restart broker {broker}"),
            Command::StopBroker { broker } => format!("stop broker {broker}"),
            Command::DelayBroker { broker, ms } => format!("broker {broker} replicates {ms} ms slower"),
            Command::SetAcks { producer, acks } => format!("{producer} uses acks={}", acks.name()),
            Command::SetIdempotence { producer, enabled } => format!("{producer} sets enable.idempotence={enabled}"),
        }
    }
}

/// A consumer configuration that takes effect when the consumer (re)starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "name", content = "value", rename_all = "snake_case")]
pub enum ConsumerSetting {
    AutoOffsetReset(OffsetReset),
    /// `partition.assignment.strategy` of one assignor.
    Assignor(Strategy),
    SessionTimeoutMs(u64),
    /// `partition.assignment.strategy` of several, in order of preference.
    Assignors(Vec<Strategy>),
    /// `group.protocol`.
    GroupProtocol(GroupProtocol),
    /// `group.remote.assignor` (none: the broker's default).
    RemoteAssignor(Option<ServerAssignor>),
}

/// A command and the simulated time (ms) it is applied at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimedCommand {
    pub at: u64,
    #[serde(flatten)]
    pub command: Command,
}

// ----- JSON, as the derived `Serialize` writes it (see `sim::json`) ----------------------------

/// `"cmd":"name"` and the command's own members: an object's first members, so that a timed
/// command can put `at` before them (serde's `flatten`).
macro_rules! tagged {
    ($w:expr, $tag:literal; $($field:ident),*) => {{
        $w.lit(concat!("\"cmd\":\"", $tag, "\""));
        members!($w; $($field),*);
    }};
}

impl Command {
    fn json_members(&self, w: &mut Writer) {
        match self {
            Command::Produce { producer, count } => tagged!(w, "produce"; producer, count),
            Command::SetRate { producer, per_sec } => tagged!(w, "set_rate"; producer, per_sec),
            Command::SetKeys { producer, keys } => tagged!(w, "set_keys"; producer, keys),
            Command::AddProducer { spec } => tagged!(w, "add_producer"; spec),
            Command::AddConsumer { spec } => tagged!(w, "add_consumer"; spec),
            Command::CrashConsumer { consumer } => tagged!(w, "crash_consumer"; consumer),
            Command::StopConsumer { consumer } => tagged!(w, "stop_consumer"; consumer),
            Command::StartConsumer { consumer } => tagged!(w, "start_consumer"; consumer),
            Command::SetProcessingTime { consumer, ms } => tagged!(w, "set_processing_time"; consumer, ms),
            Command::SetCommitMode { consumer, mode } => tagged!(w, "set_commit_mode"; consumer, mode),
            Command::SetPriority { consumer, enabled } => tagged!(w, "set_priority"; consumer, enabled),
            Command::ConfigureConsumer { consumer, setting } => tagged!(w, "configure_consumer"; consumer, setting),
            Command::MoveConsumer { consumer, group } => tagged!(w, "move_consumer"; consumer, group),
            Command::RemoveConsumer { consumer } => tagged!(w, "remove_consumer"; consumer),
            Command::RemoveProducer { producer } => tagged!(w, "remove_producer"; producer),
            Command::CrashBroker { broker } => tagged!(w, "crash_broker"; broker),
            Command::RestartBroker { broker } => tagged!(w, "restart_broker"; broker),
            Command::StopBroker { broker } => tagged!(w, "stop_broker"; broker),
            Command::DelayBroker { broker, ms } => tagged!(w, "delay_broker"; broker, ms),
            Command::SetAcks { producer, acks } => tagged!(w, "set_acks"; producer, acks),
            Command::SetIdempotence { producer, enabled } => tagged!(w, "set_idempotence"; producer, enabled),
        }
    }
}

impl Json for Command {
    fn json(&self, w: &mut Writer) {
        w.out.push(b'{');
        self.json_members(w);
        w.out.push(b'}');
    }
}

impl Json for TimedCommand {
    fn json(&self, w: &mut Writer) {
        w.lit(concat!("{", first_key!("at")));
        w.num(self.at);
        w.out.push(b',');
        self.command.json_members(w);
        w.out.push(b'}');
    }
}

impl Json for ConsumerSetting {
    fn json(&self, w: &mut Writer) {
        match self {
            ConsumerSetting::AutoOffsetReset(value) => {
                w.lit("{\"name\":\"auto_offset_reset\"");
                members!(w; value);
            }
            ConsumerSetting::Assignor(value) => {
                w.lit("{\"name\":\"assignor\"");
                members!(w; value);
            }
            ConsumerSetting::SessionTimeoutMs(value) => {
                w.lit("{\"name\":\"session_timeout_ms\"");
                members!(w; value);
            }
            ConsumerSetting::Assignors(value) => {
                w.lit("{\"name\":\"assignors\"");
                members!(w; value);
            }
            ConsumerSetting::GroupProtocol(value) => {
                w.lit("{\"name\":\"group_protocol\"");
                members!(w; value);
            }
            ConsumerSetting::RemoteAssignor(value) => {
                w.lit("{\"name\":\"remote_assignor\"");
                members!(w; value);
            }
        }
        w.out.push(b'}');
    }
}
