//! Reads what a link carries — a run's timed commands and the specs inside them — from parsed
//! JSON, in exactly the shape their `Serialize` derives write.
//!
//! Written by hand rather than derived: serde's readers for internally tagged enums (commands,
//! key settings) buffer every value and are instantiated per type; for these types they were
//! 87 KB of the page's WebAssembly (18 KB brotli). These read a parsed [`Value`] directly
//! (parsed by [`super::value`], not serde_json), and no derived `Deserialize` is left in the page. As with the derives: unknown fields are
//! errors, missing spec fields take their defaults, and every number must fit its type. The
//! tests (here and in `tests/link_props.rs`) check that everything `Serialize` writes reads
//! back equal.

use std::collections::BTreeMap as Map;

pub use super::value::Value;

use crate::sim::command::{Command, ConsumerSetting, TimedCommand};
use crate::sim::config::{
    Acks, CommitMode, ConsumerSpec, GroupProtocol, Keys, OffsetReset, ProducerSpec, ServerAssignor, Strategy,
};
use crate::sim::ids::{GroupId, Name};
use crate::sim::text::quoted;

pub type Result<T> = std::result::Result<T, String>;

/// The members of one JSON object, taken one at a time; any left at the end are unknown.
pub struct Members {
    what: &'static str,
    map: Map<String, Value>,
}

impl Members {
    pub fn of(what: &'static str, v: Value) -> Result<Members> {
        match v {
            Value::Object(map) => Ok(Members { what, map }),
            other => Err(format!("{what} must be an object, not {}", kind(&other))),
        }
    }

    /// A member that must be present.
    pub fn need<T>(&mut self, key: &'static str, read: fn(Value) -> Result<T>) -> Result<T> {
        match self.map.remove(key) {
            Some(v) => read(v).map_err(|e| format!("{} `{key}`: {e}", self.what)),
            None => Err(format!("{}: missing field `{key}`", self.what)),
        }
    }

    /// A member that may be absent: `field` keeps its value then.
    pub fn set<T>(&mut self, key: &'static str, field: &mut T, read: fn(Value) -> Result<T>) -> Result<()> {
        if let Some(v) = self.map.remove(key) {
            *field = read(v).map_err(|e| format!("{} `{key}`: {e}", self.what))?;
        }
        Ok(())
    }

    /// Ends the object: a member nobody took is an error.
    pub fn done(self) -> Result<()> {
        match self.map.keys().next() {
            Some(k) => Err(format!("{}: unknown field {}", self.what, quoted(k))),
            None => Ok(()),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Whole(_) | Value::Number => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub fn u64(v: Value) -> Result<u64> {
    v.as_u64().ok_or_else(|| format!("expected a whole number ≥ 0, found {}", kind(&v)))
}

pub fn u32(v: Value) -> Result<u32> {
    let n = u64(v)?;
    u32::try_from(n).map_err(|_| format!("{n} is too large (at most {})", u32::MAX))
}

pub fn bool(v: Value) -> Result<bool> {
    v.as_bool().ok_or_else(|| format!("expected true or false, found {}", kind(&v)))
}

pub fn string(v: Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!("expected a string, found {}", kind(&other))),
    }
}

pub fn name(v: Value) -> Result<Name> {
    string(v).map(Name::from)
}

fn group_id(v: Value) -> Result<GroupId> {
    string(v).map(GroupId::from)
}

fn list<T>(v: Value, read: fn(Value) -> Result<T>) -> Result<Vec<T>> {
    match v {
        Value::Array(items) => {
            items.into_iter().enumerate().map(|(i, v)| read(v).map_err(|e| format!("item {i}: {e}"))).collect()
        }
        other => Err(format!("expected a list, found {}", kind(&other))),
    }
}

fn strings(v: Value) -> Result<Vec<String>> {
    list(v, string)
}

fn option<T>(v: Value, read: fn(Value) -> Result<T>) -> Result<Option<T>> {
    match v {
        Value::Null => Ok(None),
        v => read(v).map(Some),
    }
}

/// One of a few names (as the enum's serde attributes spell them; the tests check every one).
fn pick<T: Copy>(v: Value, options: &[(&'static str, T)]) -> Result<T> {
    let name = string(v)?;
    match options.iter().find(|(n, _)| *n == name) {
        Some(&(_, value)) => Ok(value),
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            Err(format!("unknown value {} (one of {})", quoted(&name), names.join(", ")))
        }
    }
}

fn acks(v: Value) -> Result<Acks> {
    pick(v, &[("zero", Acks::Zero), ("one", Acks::One), ("all", Acks::All)])
}

fn commit_mode(v: Value) -> Result<CommitMode> {
    let modes = [CommitMode::Auto, CommitMode::AfterProcessing, CommitMode::BeforeProcessing];
    pick(v, &modes.map(|m| (m.name(), m)))
}

fn offset_reset(v: Value) -> Result<OffsetReset> {
    pick(v, &[OffsetReset::Earliest, OffsetReset::Latest].map(|r| (r.name(), r)))
}

pub fn group_protocol(v: Value) -> Result<GroupProtocol> {
    pick(v, &GroupProtocol::ALL.map(|p| (p.name(), p)))
}

fn server_assignor(v: Value) -> Result<ServerAssignor> {
    pick(v, &ServerAssignor::ALL.map(|a| (a.name(), a)))
}

fn assignor(v: Value) -> Result<Strategy> {
    pick(v, &Strategy::ALL.map(|s| (s.protocol_name(), s)))
}

fn keys(v: Value) -> Result<Keys> {
    let mut m = Members::of("keys", v)?;
    let keys = match m.need("kind", string)?.as_str() {
        "none" => Keys::None,
        "fixed" => Keys::Fixed { key: m.need("key", string)? },
        "cycle" => Keys::Cycle { keys: m.need("keys", strings)? },
        "random" => Keys::Random { cardinality: m.need("cardinality", u32)? },
        other => return Err(format!("unknown kind of keys {} (none, fixed, cycle or random)", quoted(other))),
    };
    m.done()?;
    Ok(keys)
}

fn producer_spec(v: Value) -> Result<ProducerSpec> {
    let mut m = Members::of("producer", v)?;
    let mut p = ProducerSpec::default();
    m.set("name", &mut p.name, name)?;
    m.set("topic", &mut p.topic, name)?;
    m.set("keys", &mut p.keys, keys)?;
    m.set("partition", &mut p.partition, |v| option(v, u32))?;
    m.set("rate_per_sec", &mut p.rate_per_sec, u32)?;
    m.set("linger_ms", &mut p.linger_ms, u64)?;
    m.set("batch_size", &mut p.batch_size, u64)?;
    m.set("record_bytes", &mut p.record_bytes, u64)?;
    m.set("acks", &mut p.acks, acks)?;
    m.set("enable_idempotence", &mut p.enable_idempotence, bool)?;
    m.set("retry_backoff_ms", &mut p.retry_backoff_ms, u64)?;
    m.set("delivery_timeout_ms", &mut p.delivery_timeout_ms, u64)?;
    m.done()?;
    Ok(p)
}

fn consumer_spec(v: Value) -> Result<ConsumerSpec> {
    let mut m = Members::of("consumer", v)?;
    let mut c = ConsumerSpec::default();
    m.set("name", &mut c.name, name)?;
    m.set("group", &mut c.group, group_id)?;
    m.set("topics", &mut c.topics, strings)?;
    m.set("running", &mut c.running, bool)?;
    m.set("commit", &mut c.commit, commit_mode)?;
    m.set("auto_commit_interval_ms", &mut c.auto_commit_interval_ms, u64)?;
    m.set("auto_offset_reset", &mut c.auto_offset_reset, offset_reset)?;
    m.set("max_poll_records", &mut c.max_poll_records, u32)?;
    m.set("fetch_max_wait_ms", &mut c.fetch_max_wait_ms, u64)?;
    m.set("processing_ms", &mut c.processing_ms, u64)?;
    m.set("session_timeout_ms", &mut c.session_timeout_ms, u64)?;
    m.set("heartbeat_interval_ms", &mut c.heartbeat_interval_ms, u64)?;
    m.set("max_poll_interval_ms", &mut c.max_poll_interval_ms, u64)?;
    // One assignor (links before lists), or the list in order of preference.
    let mut one = None;
    m.set("assignor", &mut one, |v| assignor(v).map(Some))?;
    if let Some(a) = one {
        c.assignors = vec![a];
    }
    m.set("assignors", &mut c.assignors, |v| list(v, assignor))?;
    m.set("group_instance_id", &mut c.group_instance_id, |v| option(v, string))?;
    m.set("priority", &mut c.priority, bool)?;
    m.set("group_protocol", &mut c.group_protocol, group_protocol)?;
    m.set("remote_assignor", &mut c.remote_assignor, |v| option(v, server_assignor))?;
    m.done()?;
    Ok(c)
}

fn setting(v: Value) -> Result<ConsumerSetting> {
    let mut m = Members::of("setting", v)?;
    let setting = match m.need("name", string)?.as_str() {
        "auto_offset_reset" => ConsumerSetting::AutoOffsetReset(m.need("value", offset_reset)?),
        "assignor" => ConsumerSetting::Assignor(m.need("value", assignor)?),
        "session_timeout_ms" => ConsumerSetting::SessionTimeoutMs(m.need("value", u64)?),
        "assignors" => ConsumerSetting::Assignors(m.need("value", |v| list(v, assignor))?),
        "group_protocol" => ConsumerSetting::GroupProtocol(m.need("value", group_protocol)?),
        "remote_assignor" => ConsumerSetting::RemoteAssignor(m.need("value", |v| option(v, server_assignor))?),
        other => return Err(format!("unknown setting {}", quoted(other))),
    };
    m.done()?;
    Ok(setting)
}

/// The command in `m` (its `cmd` member names it), taking the members it uses.
fn command(m: &mut Members) -> Result<Command> {
    Ok(match m.need("cmd", string)?.as_str() {
        "produce" => Command::Produce { producer: m.need("producer", string)?, count: m.need("count", u64)? },
        "set_rate" => Command::SetRate { producer: m.need("producer", string)?, per_sec: m.need("per_sec", u32)? },
        "set_keys" => Command::SetKeys { producer: m.need("producer", string)?, keys: m.need("keys", keys)? },
        "add_producer" => Command::AddProducer { spec: m.need("spec", producer_spec)? },
        "add_consumer" => Command::AddConsumer { spec: m.need("spec", consumer_spec)? },
        "crash_consumer" => Command::CrashConsumer { consumer: m.need("consumer", string)? },
        "stop_consumer" => Command::StopConsumer { consumer: m.need("consumer", string)? },
        "start_consumer" => Command::StartConsumer { consumer: m.need("consumer", string)? },
        "set_processing_time" => {
            Command::SetProcessingTime { consumer: m.need("consumer", string)?, ms: m.need("ms", u64)? }
        }
        "set_commit_mode" => {
            Command::SetCommitMode { consumer: m.need("consumer", string)?, mode: m.need("mode", commit_mode)? }
        }
        "set_priority" => {
            Command::SetPriority { consumer: m.need("consumer", string)?, enabled: m.need("enabled", bool)? }
        }
        "configure_consumer" => {
            Command::ConfigureConsumer { consumer: m.need("consumer", string)?, setting: m.need("setting", setting)? }
        }
        "move_consumer" => {
            Command::MoveConsumer { consumer: m.need("consumer", string)?, group: m.need("group", string)? }
        }
        "remove_consumer" => Command::RemoveConsumer { consumer: m.need("consumer", string)? },
        "remove_producer" => Command::RemoveProducer { producer: m.need("producer", string)? },
        "crash_broker" => Command::CrashBroker { broker: m.need("broker", u32)? },
        "restart_broker" => Command::RestartBroker { broker: m.need("broker", u32)? },
        "stop_broker" => Command::StopBroker { broker: m.need("broker", u32)? },
        "delay_broker" => Command::DelayBroker { broker: m.need("broker", u32)?, ms: m.need("ms", u64)? },
        "set_acks" => Command::SetAcks { producer: m.need("producer", string)?, acks: m.need("acks", acks)? },
        "set_idempotence" => {
            Command::SetIdempotence { producer: m.need("producer", string)?, enabled: m.need("enabled", bool)? }
        }
        other => return Err(format!("unknown command {}", quoted(other))),
    })
}

/// One timed command: `at` beside the command's own members.
pub fn timed_command(v: Value) -> Result<TimedCommand> {
    let mut m = Members::of("command", v)?;
    let at = m.need("at", u64)?;
    let command = command(&mut m)?;
    m.done()?;
    Ok(TimedCommand { at, command })
}

/// A list of timed commands.
pub fn timed_commands(v: Value) -> Result<Vec<TimedCommand>> {
    list(v, timed_command)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every command kind, with specs whose every field differs from its default.
    pub(crate) fn every_command() -> Vec<Command> {
        let producer = ProducerSpec {
            name: "p \"2\"".into(),
            topic: "orders".into(),
            keys: Keys::Cycle { keys: vec!["a".into(), "b".into()] },
            partition: Some(3),
            rate_per_sec: 7,
            linger_ms: 9,
            batch_size: 1_000,
            record_bytes: 50,
            acks: Acks::One,
            enable_idempotence: false,
            retry_backoff_ms: 10,
            delivery_timeout_ms: 2_000,
        };
        let consumer = ConsumerSpec {
            name: "c".into(),
            group: "g".into(),
            topics: vec!["high".into(), "low".into()],
            running: false,
            commit: CommitMode::AfterProcessing,
            auto_commit_interval_ms: 1,
            auto_offset_reset: OffsetReset::Earliest,
            max_poll_records: 20,
            fetch_max_wait_ms: 100,
            processing_ms: 30,
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: 1_000,
            max_poll_interval_ms: 60_000,
            assignors: vec![Strategy::Sticky, Strategy::Roundrobin],
            group_instance_id: Some("static-1".into()),
            priority: true,
            group_protocol: GroupProtocol::Consumer,
            remote_assignor: Some(ServerAssignor::Range),
        };
        let c = || "consumer-1".to_string();
        let p = || "producer-1".to_string();
        vec![
            Command::Produce { producer: p(), count: u64::MAX },
            Command::SetRate { producer: p(), per_sec: u32::MAX },
            Command::SetKeys { producer: p(), keys: Keys::None },
            Command::SetKeys { producer: p(), keys: Keys::Fixed { key: "k".into() } },
            Command::SetKeys { producer: p(), keys: Keys::Random { cardinality: 4 } },
            Command::AddProducer { spec: producer },
            Command::AddProducer { spec: ProducerSpec::default() },
            Command::AddConsumer { spec: consumer },
            Command::AddConsumer { spec: ConsumerSpec::default() },
            Command::CrashConsumer { consumer: c() },
            Command::StopConsumer { consumer: c() },
            Command::StartConsumer { consumer: c() },
            Command::SetProcessingTime { consumer: c(), ms: 5 },
            Command::SetCommitMode { consumer: c(), mode: CommitMode::BeforeProcessing },
            Command::SetPriority { consumer: c(), enabled: true },
            Command::ConfigureConsumer {
                consumer: c(),
                setting: ConsumerSetting::AutoOffsetReset(OffsetReset::Earliest),
            },
            Command::ConfigureConsumer { consumer: c(), setting: ConsumerSetting::Assignor(Strategy::Roundrobin) },
            Command::ConfigureConsumer { consumer: c(), setting: ConsumerSetting::SessionTimeoutMs(6_000) },
            Command::ConfigureConsumer {
                consumer: c(),
                setting: ConsumerSetting::GroupProtocol(GroupProtocol::Consumer),
            },
            Command::ConfigureConsumer {
                consumer: c(),
                setting: ConsumerSetting::Assignors(vec![Strategy::CooperativeSticky, Strategy::Range]),
            },
            Command::ConfigureConsumer {
                consumer: c(),
                setting: ConsumerSetting::RemoteAssignor(Some(ServerAssignor::Uniform)),
            },
            Command::ConfigureConsumer { consumer: c(), setting: ConsumerSetting::RemoteAssignor(None) },
            Command::MoveConsumer { consumer: c(), group: "other".into() },
            Command::RemoveConsumer { consumer: c() },
            Command::RemoveProducer { producer: p() },
            Command::CrashBroker { broker: 2 },
            Command::RestartBroker { broker: 2 },
            Command::StopBroker { broker: 3 },
            Command::DelayBroker { broker: 3, ms: 250 },
            Command::SetAcks { producer: p(), acks: Acks::Zero },
            Command::SetIdempotence { producer: p(), enabled: false },
        ]
    }

    /// Exhaustive on purpose: a new command kind fails to compile here until `every_command`
    /// (and so the round trip) covers it.
    fn covered(c: &Command) -> usize {
        match c {
            Command::Produce { .. } => 0,
            Command::SetRate { .. } => 1,
            Command::SetKeys { .. } => 2,
            Command::AddProducer { .. } => 3,
            Command::AddConsumer { .. } => 4,
            Command::CrashConsumer { .. } => 5,
            Command::StopConsumer { .. } => 6,
            Command::StartConsumer { .. } => 7,
            Command::SetProcessingTime { .. } => 8,
            Command::SetCommitMode { .. } => 9,
            Command::SetPriority { .. } => 10,
            Command::ConfigureConsumer { .. } => 11,
            Command::MoveConsumer { .. } => 12,
            Command::RemoveConsumer { .. } => 13,
            Command::RemoveProducer { .. } => 14,
            Command::CrashBroker { .. } => 15,
            Command::RestartBroker { .. } => 16,
            Command::StopBroker { .. } => 17,
            Command::DelayBroker { .. } => 18,
            Command::SetAcks { .. } => 19,
            Command::SetIdempotence { .. } => 20,
        }
    }

    use crate::sim::replay::value::parse;

    /// serde_json's value, as the link reader parses its text.
    fn of(v: serde_json::Value) -> Value {
        parse(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    #[test]
    fn everything_serialize_writes_reads_back_equal() {
        let all = every_command();
        let mut seen: Vec<usize> = all.iter().map(covered).collect();
        seen.dedup();
        assert_eq!(seen, (0..21).collect::<Vec<_>>(), "every command kind, in declaration order");
        for (i, command) in all.into_iter().enumerate() {
            let t = TimedCommand { at: i as u64 * 1_000, command };
            let json = serde_json::to_vec(&t).unwrap();
            assert_eq!(timed_command(parse(&json).unwrap()), Ok(t), "{}", String::from_utf8_lossy(&json));
        }
    }

    /// Every value of the small enums, as serde writes it, reads back.
    #[test]
    fn every_enum_value_reads_back() {
        fn check<T: serde::Serialize + PartialEq + std::fmt::Debug + Copy>(all: &[T], read: fn(Value) -> Result<T>) {
            for &x in all {
                assert_eq!(read(parse(&serde_json::to_vec(&x).unwrap()).unwrap()), Ok(x));
            }
        }
        check(&[Acks::Zero, Acks::One, Acks::All], acks);
        check(&[CommitMode::Auto, CommitMode::AfterProcessing, CommitMode::BeforeProcessing], commit_mode);
        check(&[OffsetReset::Earliest, OffsetReset::Latest], offset_reset);
        check(&Strategy::ALL, assignor);
    }

    #[test]
    fn missing_spec_fields_take_their_defaults() {
        let v = serde_json::json!({"at": 0, "cmd": "add_consumer", "spec": {"name": "c9"}});
        let Command::AddConsumer { spec } = timed_command(of(v)).unwrap().command else { panic!("an add_consumer") };
        assert_eq!(spec, ConsumerSpec { name: "c9".into(), ..ConsumerSpec::default() });
    }

    #[test]
    fn a_link_from_before_assignor_lists_names_one_assignor() {
        let v = serde_json::json!({"at": 0, "cmd": "add_consumer", "spec": {"name": "c9", "assignor": "sticky"}});
        let Command::AddConsumer { spec } = timed_command(of(v)).unwrap().command else { panic!("an add_consumer") };
        assert_eq!(spec.assignors, [Strategy::Sticky]);
        let v = serde_json::json!({"at": 0, "cmd": "configure_consumer", "consumer": "c9",
            "setting": {"name": "assignor", "value": "range"}});
        let Command::ConfigureConsumer { setting, .. } = timed_command(of(v)).unwrap().command else { panic!() };
        assert_eq!(setting, ConsumerSetting::Assignor(Strategy::Range));
    }

    #[test]
    fn wrong_shapes_are_errors_that_say_where() {
        let cases = [
            (r#"{"cmd":"produce","producer":"p","count":1}"#, "missing field `at`"),
            (r#"{"at":1,"producer":"p","count":1}"#, "missing field `cmd`"),
            (r#"{"at":1,"cmd":"explode"}"#, "unknown command 'explode'"),
            (r#"{"at":1,"cmd":"produce","producer":"p","count":1,"extra":0}"#, "unknown field 'extra'"),
            (r#"{"at":1,"cmd":"produce","producer":"p","count":-1}"#, "`count`: expected a whole number"),
            (r#"{"at":1,"cmd":"produce","producer":"p","count":1.5}"#, "`count`: expected a whole number"),
            (r#"{"at":1,"cmd":"set_rate","producer":"p","per_sec":4294967296}"#, "too large"),
            (r#"{"at":1,"cmd":"produce","producer":7,"count":1}"#, "`producer`: expected a string"),
            (r#"{"at":1,"cmd":"set_keys","producer":"p","keys":{"kind":"cycle","keys":["a",2]}}"#, "item 1"),
            (
                r#"{"at":1,"cmd":"set_acks","producer":"p","acks":"most"}"#,
                "unknown value 'most' (one of zero, one, all)",
            ),
            (r#"{"at":1,"cmd":"add_producer","spec":{"nmae":"x"}}"#, "producer: unknown field 'nmae'"),
            (
                r#"{"at":1,"cmd":"configure_consumer","consumer":"c","setting":{"name":"x","value":1}}"#,
                "unknown setting",
            ),
            (r#"[1]"#, "command must be an object, not a list"),
        ];
        for (json, expected) in cases {
            let err = timed_command(parse(json.as_bytes()).unwrap()).expect_err(json);
            assert!(err.contains(expected), "{json}: {err}");
        }
    }
}
