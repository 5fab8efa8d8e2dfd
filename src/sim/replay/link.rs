//! A run as data, and the share link that carries it.
//!
//! A run is a scenario (by id), a seed and the timeline of commands with their simulated times;
//! replaying it gives the same events and digest everywhere. In a link it travels as the query
//! parameter `run` — base64url (no padding) of a versioned JSON object — plus an optional
//! cursor `t` (ms). Every older version stays readable; anything else is a typed error, never a
//! panic.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::sim::json::{first_key, members, Json, Writer};

use crate::sim::command::TimedCommand;
use crate::sim::command::{Command, ConsumerSetting};
use crate::sim::config::{limits, GroupProtocol};
pub use crate::sim::scenario::Run;
use crate::sim::scenario::Scenario;
use crate::sim::teach;
use crate::sim::text::quoted;
use crate::sim::{wire, Sim, SimTime};

/// The newest version `encode` writes: 3 for a run with consumers on the consumer protocol
/// (groups mixing both protocols convert online, as Kafka 4 does), 1 for every other run, so
/// links to classic runs stay as they were. A version-2 link replays under its own rules (a
/// group refuses a member of the other protocol while it has members) and is written back as
/// version 2.
pub const LINK_VERSION: u32 = 3;
/// Longest link accepted, in bytes.
pub const MAX_LINK_BYTES: usize = 16 * 1024;
/// Most commands a run may carry.
pub const MAX_COMMANDS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// No `run=` parameter.
    Missing,
    TooLong {
        bytes: usize,
    },
    /// Not base64url, not JSON, or not the shape of a run.
    Malformed(String),
    UnknownVersion(u64),
    UnknownScenario(String),
    /// A number out of range (times past 30 days, too many commands, …).
    InvalidValue(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Missing => write!(f, "the link has no run= parameter"),
            LinkError::TooLong { bytes } => {
                write!(f, "the link is {bytes} bytes long; links of at most {MAX_LINK_BYTES} bytes are read")
            }
            LinkError::Malformed(why) => write!(f, "the link is damaged ({why})"),
            LinkError::UnknownVersion(v) => {
                write!(f, "the link is format version {v}; this ksim reads versions 1 to {LINK_VERSION}")
            }
            LinkError::UnknownScenario(id) => {
                write!(f, "the link names an unknown experiment {}", quoted(id))
            }
            LinkError::InvalidValue(why) => write!(f, "the link holds an impossible value: {why}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// Version 1 on the wire (read back by [`wire`], member by member).
#[derive(Serialize)]
struct RunV1 {
    v: u32,
    /// Scenario id.
    s: String,
    seed: u64,
    c: Vec<TimedCommand>,
}

/// Versions 2 and 3: version 1 and the run's `group.protocol` (`p`); they differ in the rules
/// the run replays under (see [`LINK_VERSION`]).
#[derive(Serialize)]
struct RunV2 {
    v: u32,
    s: String,
    seed: u64,
    p: GroupProtocol,
    c: Vec<TimedCommand>,
}

impl Json for RunV2 {
    fn json(&self, w: &mut Writer) {
        let RunV2 { v, s, seed, p, c } = self;
        w.lit(concat!("{", first_key!("v")));
        v.json(w);
        members!(w; s, seed, p, c);
        w.out.push(b'}');
    }
}

/// As the derived `Serialize` writes it (see `sim::json`; the tests compare the two).
impl Json for RunV1 {
    fn json(&self, w: &mut Writer) {
        let RunV1 { v, s, seed, c } = self;
        w.lit(concat!("{", first_key!("v")));
        v.json(w);
        members!(w; s, seed, c);
        w.out.push(b'}');
    }
}

impl Run {
    /// The run a built-in scenario plays: its scripted commands.
    pub fn of_scenario(s: &Scenario, seed: u64) -> Run {
        Run {
            scenario: s.id.clone(),
            seed,
            commands: s.script.clone(),
            cursor_ms: None,
            group_protocol: GroupProtocol::Classic,
            refuse_mixed_groups: false,
        }
    }

    /// The same run with every consumer on `protocol`: the scenario's, and those its commands
    /// add (`ksim run --group-protocol`).
    pub fn with_group_protocol(mut self, protocol: GroupProtocol) -> Run {
        self.group_protocol = protocol;
        for c in &mut self.commands {
            match &mut c.command {
                Command::AddConsumer { spec } => spec.group_protocol = protocol,
                Command::ConfigureConsumer { setting: ConsumerSetting::GroupProtocol(p), .. } => *p = protocol,
                _ => {}
            }
        }
        self
    }

    /// Whether anything in the run speaks the consumer protocol (its link is then version 2 or 3).
    pub fn uses_consumer_protocol(&self) -> bool {
        self.group_protocol != GroupProtocol::Classic
            || self.commands.iter().any(|c| match &c.command {
                Command::AddConsumer { spec } => spec.group_protocol != GroupProtocol::Classic,
                Command::ConfigureConsumer { setting: ConsumerSetting::GroupProtocol(p), .. } => {
                    *p != GroupProtocol::Classic
                }
                _ => false,
            })
    }

    /// The query part of the link: `run=…` and, with a cursor, `&t=…`.
    pub fn encode(&self) -> String {
        let (s, seed, c) = (self.scenario.clone(), self.seed, self.commands.clone());
        let json = if self.uses_consumer_protocol() {
            let v = if self.refuse_mixed_groups { 2 } else { 3 };
            crate::sim::json::to_vec(&RunV2 { v, s, seed, p: self.group_protocol, c })
        } else {
            crate::sim::json::to_vec(&RunV1 { v: 1, s, seed, c })
        };
        let mut q = format!("run={}", URL_SAFE_NO_PAD.encode(json));
        if let Some(t) = self.cursor_ms {
            q.push_str(&format!("&t={t}"));
        }
        q
    }

    /// Reads a whole URL, its query part (`?run=…`), or just `run=…&t=…`.
    pub fn decode(link: &str) -> Result<Run, LinkError> {
        if link.len() > MAX_LINK_BYTES {
            return Err(LinkError::TooLong { bytes: link.len() });
        }
        let query = link.split_once('?').map_or(link, |(_, q)| q);
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        let param =
            |name: &str| query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v));
        let payload = param("run").ok_or(LinkError::Missing)?;
        let cursor_ms = match param("t") {
            None => None,
            Some(t) => {
                let ms: u64 =
                    t.parse().map_err(|_| LinkError::InvalidValue(format!("t={} is not a time in ms", quoted(t))))?;
                if ms > limits::MAX_MS {
                    return Err(LinkError::InvalidValue(format!("t={ms} is past the 30-day limit")));
                }
                Some(ms)
            }
        };
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|e| LinkError::Malformed(format!("not base64url: {e}")))?;
        let value = super::value::parse(&bytes).map_err(|e| LinkError::Malformed(format!("not JSON: {e}")))?;
        let version = value.get("v").and_then(wire::Value::as_u64).ok_or(LinkError::Malformed("no version".into()))?;
        let run = match version {
            1..=3 => {
                let read = || -> wire::Result<Run> {
                    let mut m = wire::Members::of("run", value)?;
                    m.need("v", wire::u64)?;
                    let scenario = m.need("s", wire::string)?;
                    let seed = m.need("seed", wire::u64)?;
                    let group_protocol =
                        if version >= 2 { m.need("p", wire::group_protocol)? } else { GroupProtocol::Classic };
                    let mut commands = Vec::new();
                    m.set("c", &mut commands, wire::timed_commands)?;
                    m.done()?;
                    let refuse_mixed_groups = version == 2;
                    Ok(Run { scenario, seed, commands, cursor_ms, group_protocol, refuse_mixed_groups })
                };
                read().map_err(LinkError::Malformed)?
            }
            v => return Err(LinkError::UnknownVersion(v)),
        };
        if run.commands.len() > MAX_COMMANDS {
            return Err(LinkError::InvalidValue(format!("{} commands (at most {MAX_COMMANDS})", run.commands.len())));
        }
        if let Some(c) = run.commands.iter().find(|c| c.at > limits::MAX_MS) {
            return Err(LinkError::InvalidValue(format!("a command at {} ms is past the 30-day limit", c.at)));
        }
        if teach::find(&run.scenario).is_none() {
            return Err(LinkError::UnknownScenario(run.scenario));
        }
        Ok(run)
    }

    /// The scenario the run starts from (its own script replaced by the run's commands).
    pub fn scenario(&self) -> Result<Scenario, LinkError> {
        let mut s = teach::find(&self.scenario).ok_or_else(|| LinkError::UnknownScenario(self.scenario.clone()))?;
        self.apply_to(&mut s);
        Ok(s)
    }

    /// Makes `s` this run: its commands in place of the script, its consumers on the run's
    /// `group.protocol`.
    pub fn apply_to(&self, s: &mut Scenario) {
        s.script = self.commands.clone();
        s.refuse_mixed_groups = self.refuse_mixed_groups;
        for c in &mut s.consumers {
            c.group_protocol = self.group_protocol;
        }
    }

    /// A simulation ready to replay the run (commands queued, clock at zero).
    pub fn start(&self) -> Result<Sim, LinkError> {
        let s = self.scenario()?;
        Sim::new(&s, self.seed).map_err(|e| LinkError::InvalidValue(e.to_string()))
    }

    /// Replays the run up to `until` (default: the cursor, else the scenario's duration).
    pub fn replay(&self, until: Option<u64>) -> Result<Sim, LinkError> {
        let duration = self.scenario()?.duration_ms;
        let mut sim = self.start()?;
        sim.run_until(SimTime(until.or(self.cursor_ms).unwrap_or(duration)));
        Ok(sim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{experiments, Command};

    /// Links are written by hand exactly as the derived `Serialize` writes them: every
    /// command kind (specs with every field set, and with defaults), and every lesson's and
    /// experiment's script.
    #[test]
    fn links_are_written_exactly_as_serde_writes_them() {
        let mut runs: Vec<RunV1> = vec![RunV1 {
            v: LINK_VERSION,
            s: "quote\"d \n".into(),
            seed: u64::MAX,
            c: crate::sim::wire::tests::every_command()
                .into_iter()
                .enumerate()
                .map(|(i, command)| TimedCommand { at: i as u64 * 977, command })
                .collect(),
        }];
        for s in crate::sim::experiments::all() {
            runs.push(RunV1 { v: LINK_VERSION, s: s.id.clone(), seed: 7, c: s.script.clone() });
        }
        for l in crate::sim::lesson::all() {
            runs.push(RunV1 { v: LINK_VERSION, s: l.id.clone(), seed: 42, c: l.path.clone() });
        }
        assert!(runs.len() > 10);
        for run in &runs {
            let ours = String::from_utf8(crate::sim::json::to_vec(run)).unwrap();
            assert_eq!(ours, serde_json::to_string(run).unwrap());
        }
    }

    #[test]
    fn a_scenarios_link_replays_the_scenario_exactly() {
        for s in experiments::builtin() {
            let link = Run::of_scenario(&s, 7).encode();
            let run = Run::decode(&link).unwrap();
            let mut direct = Sim::new(&s, 7).unwrap();
            direct.run_until(SimTime(s.duration_ms));
            assert_eq!(run.replay(None).unwrap().digest(), direct.digest(), "{}", s.id);
        }
    }

    #[test]
    fn round_trips_through_urls_and_query_parts() {
        let run = Run {
            scenario: "basic".into(),
            seed: u64::MAX,
            commands: vec![TimedCommand { at: 5, command: Command::Produce { producer: "producer".into(), count: 3 } }],
            cursor_ms: Some(1234),
            group_protocol: GroupProtocol::Classic,
            refuse_mixed_groups: false,
        };
        let q = run.encode();
        for link in [q.clone(), format!("?{q}"), format!("https://example.org/courses/kafka/ksim/?{q}#top")] {
            assert_eq!(Run::decode(&link).unwrap(), run, "{link}");
        }
    }

    #[test]
    fn bad_links_are_typed_errors() {
        let good = Run::of_scenario(&teach::find("basic").unwrap(), 1).encode();
        let b64 = |json: &str| format!("run={}", URL_SAFE_NO_PAD.encode(json));
        type Expect = fn(&LinkError) -> bool;
        let cases: Vec<(String, Expect)> = vec![
            ("https://x/?other=1".into(), |e| *e == LinkError::Missing),
            (good[..good.len() / 2].to_string(), |e| matches!(e, LinkError::Malformed(_))),
            ("run=%%%%".into(), |e| matches!(e, LinkError::Malformed(_))),
            (format!("run={}", "A".repeat(MAX_LINK_BYTES)), |e| matches!(e, LinkError::TooLong { .. })),
            (b64(r#"{"v":99,"s":"basic","seed":1}"#), |e| *e == LinkError::UnknownVersion(99)),
            (b64(r#"{"v":1,"s":"<script>alert(1)</script>","seed":1}"#), |e| {
                matches!(e, LinkError::UnknownScenario(_))
            }),
            (b64(r#"{"v":1,"s":"basic","seed":-1}"#), |e| matches!(e, LinkError::Malformed(_))),
            (b64(r#"{"v":1,"s":"basic","seed":1,"c":[{"at":-5,"cmd":"produce","producer":"p","count":1}]}"#), |e| {
                matches!(e, LinkError::Malformed(_))
            }),
            (
                b64(
                    r#"{"v":1,"s":"basic","seed":1,"c":[{"at":999999999999999,"cmd":"produce","producer":"p","count":1}]}"#,
                ),
                |e| matches!(e, LinkError::InvalidValue(_)),
            ),
            (format!("{good}&t=-3"), |e| matches!(e, LinkError::InvalidValue(_))),
            (b64(r#"{"v":1,"s":"basic","seed":1,"extra":true}"#), |e| matches!(e, LinkError::Malformed(_))),
        ];
        for (link, ok) in cases {
            let err = Run::decode(&link).expect_err(&link);
            assert!(ok(&err), "{link}: {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn names_from_a_link_are_shown_escaped() {
        let err = LinkError::UnknownScenario("a\"b\n<i>".into()).to_string();
        assert!(!err.contains('\n'), "{err}");
    }
}
