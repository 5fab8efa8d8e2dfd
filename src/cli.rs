//! The native `ksim` command line: headless runs and scripting. Output formats are contracts
//! other tools rely on; errors are one line on stderr and a non-zero exit, never a panic.

use std::io::{Read, Write};

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sim::assign::{self, AssignInput, Subscription};
use crate::sim::config::{GroupProtocol, Strategy};
use crate::sim::link::Run;
use crate::sim::text::{one_line, quoted};
use crate::sim::{describe, experiments, murmur2, report, teach, time, Scenario, SimTime};

const USAGE: &str = "usage:
  ksim partition --partitions N [--] KEY...
  ksim assign < REQUEST.json
  ksim lessons
  ksim run SCENARIO|LINK [--seed S] [--until DURATION] [--format jsonl|summary|describe|hash]
           [--group-protocol classic|consumer]
  ksim link SCENARIO [--seed S] [--group-protocol classic|consumer]";

/// A user error: printed as one line, exit status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    /// One line, whatever the message repeats.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&one_line(&self.0, 1_000))
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, CliError> {
    Err(CliError(msg.into()))
}

fn io(e: std::io::Error) -> CliError {
    CliError(format!("write failed: {e}"))
}

/// Runs one `ksim` invocation. `args` excludes the program name.
pub fn run(args: &[String], stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), CliError> {
    let Some((cmd, rest)) = args.split_first() else {
        return err("no command given (try: ksim help)");
    };
    match cmd.as_str() {
        "partition" => partition(rest, out),
        "assign" => assign_cmd(rest, stdin, out),
        "lessons" => lessons(rest, out),
        "run" => run_scenario(rest, out),
        "link" => link_cmd(rest, out),
        "help" | "--help" | "-h" => writeln!(out, "{USAGE}").map_err(io),
        other => err(format!("unknown command {} (try: partition, assign, lessons, run, link)", quoted(other))),
    }
}

fn partition(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut partitions: Option<u32> = None;
    let mut keys: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut only_keys = false;
    while i < args.len() {
        let a = args[i].as_str();
        if only_keys {
            keys.push(a);
        } else if a == "--" {
            only_keys = true;
        } else if a == "--partitions" || a.starts_with("--partitions=") {
            let v = match a.strip_prefix("--partitions=") {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i).map(String::as_str).ok_or(CliError("--partitions needs a number".into()))?
                }
            };
            let n: u32 = v
                .parse()
                .map_err(|_| CliError(format!("--partitions must be a positive number, got {}", quoted(v))))?;
            if n == 0 {
                return err("--partitions must be at least 1");
            }
            partitions = Some(n);
        } else if a.starts_with("--") {
            return err(format!("unknown option {} for partition", quoted(a)));
        } else {
            keys.push(a);
        }
        i += 1;
    }
    let n = partitions.ok_or(CliError("partition needs --partitions N".into()))?;
    if keys.is_empty() {
        return err("partition needs at least one KEY");
    }
    for key in keys {
        writeln!(out, "{}", murmur2::partition_for_key(key.as_bytes(), n)).map_err(io)?;
    }
    Ok(())
}

fn lessons(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(a) = args.first() {
        return err(format!("lessons takes no arguments, got {}", quoted(a)));
    }
    for l in crate::sim::lesson::all() {
        writeln!(out, "{}\t{}", l.id, l.title).map_err(io)?;
    }
    for s in experiments::all() {
        writeln!(out, "{}\t{}", s.id, s.title).map_err(io)?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    Summary,
    Describe,
    Hash,
}

fn run_scenario(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut id: Option<&str> = None;
    let mut seed: u64 = 1;
    let mut seed_given = false;
    let mut until: Option<u64> = None;
    let mut format = Format::Summary;
    let mut protocol: Option<GroupProtocol> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        let mut value = |name: &str| -> Result<String, CliError> {
            if let Some(v) = inline {
                return Ok(v.to_string());
            }
            i += 1;
            args.get(i).cloned().ok_or(CliError(format!("{name} needs a value")))
        };
        match flag {
            "--seed" => {
                seed_given = true;
                let v = value("--seed")?;
                seed = v.parse().map_err(|_| {
                    CliError(format!("--seed must be a whole number from 0 to 2^64-1, got {}", quoted(&v)))
                })?;
            }
            "--until" => until = Some(time::parse_duration(&value("--until")?).map_err(CliError)?),
            "--format" => {
                format = match value("--format")?.as_str() {
                    "jsonl" => Format::Jsonl,
                    "summary" => Format::Summary,
                    "describe" => Format::Describe,
                    "hash" => Format::Hash,
                    other => {
                        return err(format!("unknown format {} (use jsonl, summary, describe or hash)", quoted(other)))
                    }
                }
            }
            "--group-protocol" => {
                let v = value("--group-protocol")?;
                protocol = Some(
                    GroupProtocol::parse(&v)
                        .ok_or(CliError(format!("--group-protocol must be classic or consumer, got {}", quoted(&v))))?,
                );
            }
            _ if a.starts_with("--") => return err(format!("unknown option {} for run", quoted(a))),
            _ if id.is_none() => id = Some(a),
            _ => return err(format!("unexpected argument {}", quoted(a))),
        }
        i += 1;
    }
    let target = id.ok_or(CliError(format!("run needs a SCENARIO or a LINK (scenarios: {})", scenario_ids())))?;
    // A link carries its own scenario, seed, commands and cursor; --seed and --until override.
    let run = if target.contains("run=") {
        let mut run = Run::decode(target).map_err(|e| CliError(e.to_string()))?;
        if seed_given {
            run.seed = seed;
        }
        run
    } else {
        let scenario: Scenario = teach::find(target).ok_or(CliError(format!(
            "unknown scenario {} (one of: {})",
            quoted(target),
            scenario_ids()
        )))?;
        Run::of_scenario(&scenario, seed)
    };
    // Every consumer on the protocol asked for, the link's own and those its commands add.
    let run = match protocol {
        Some(p) => run.with_group_protocol(p),
        None => run,
    };
    let scenario = run.scenario().map_err(|e| CliError(e.to_string()))?;
    let until = until.or(run.cursor_ms).unwrap_or(scenario.duration_ms);
    let mut sim = run.start().map_err(|e| CliError(e.to_string()))?;
    if format == Format::Jsonl {
        sim.keep_events(true);
        // Stream in slices of simulated time so memory stays flat on long runs.
        let mut t = 0;
        while t < until {
            t = (t + 10_000).min(until);
            sim.run_until(SimTime(t));
            for e in sim.drain_events() {
                writeln!(out, "{}", e.to_line()).map_err(io)?;
            }
        }
        return Ok(());
    }
    sim.run_until(SimTime(until));
    match format {
        Format::Summary => {
            write!(out, "{}", report::summary(&sim, &scenario.id)).map_err(io)?;
            // A lesson's checks, computed from the same run.
            if let Some(lesson) = crate::sim::lesson::find(&scenario.id) {
                let (_, verdicts) = lesson.evaluate(&run, until).map_err(|e| CliError(e.to_string()))?;
                for v in verdicts {
                    writeln!(out, "check     {} {}", if v.pass { "pass" } else { "FAIL" }, v.text).map_err(io)?;
                }
            }
            Ok(())
        }
        Format::Hash => writeln!(out, "{}", sim.digest()).map_err(io),
        Format::Describe => {
            for g in sim.group_names() {
                let view = describe::group_view(&sim, &g);
                write!(out, "{}", describe::describe_offsets(&sim, &view)).map_err(io)?;
                write!(out, "{}", describe::describe_state(&view)).map_err(io)?;
            }
            // Then the topics, as `kafka-topics.sh --describe` prints them.
            write!(out, "\n{}", describe::describe_topics(&sim)).map_err(io)
        }
        Format::Jsonl => unreachable!("handled above"),
    }
}

fn scenario_ids() -> String {
    let lessons = crate::sim::lesson::all().into_iter().map(|l| l.id);
    lessons.chain(experiments::all().into_iter().map(|s| s.id)).collect::<Vec<_>>().join(", ")
}

/// The JSON `ksim assign` reads on stdin.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    strategy: String,
    topics: BTreeMap<String, u32>,
    members: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "static")]
    static_ids: BTreeMap<String, String>,
    #[serde(default)]
    previous: BTreeMap<String, BTreeMap<String, Vec<u32>>>,
    #[serde(default)]
    generation: Option<Generation>,
    /// `consumer`: the broker's assignors of Kafka 4's consumer protocol (`uniform`, `range`);
    /// `classic` or absent: the client's.
    #[serde(default)]
    group_protocol: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Generation {
    All(i32),
    PerMember(BTreeMap<String, i32>),
}

const MAX_ASSIGN_MEMBERS: usize = 1_000;
const MAX_ASSIGN_PARTITIONS: u64 = 10_000;

fn assign_cmd(args: &[String], stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(a) = args.first() {
        return err(format!("assign takes no arguments (it reads JSON on stdin), got {}", quoted(a)));
    }
    let mut text = String::new();
    stdin.read_to_string(&mut text).map_err(|e| CliError(format!("cannot read stdin: {e}")))?;
    let req: AssignRequest = serde_json::from_str(&text)
        .map_err(|e| CliError(format!("invalid assign request: {}", one_line(&e.to_string(), 200))))?;
    let consumer_protocol = match req.group_protocol.as_deref() {
        None => false,
        Some(p) => match GroupProtocol::parse(p) {
            Some(p) => !p.is_classic(),
            None => return err(format!("group_protocol must be classic or consumer, got {}", quoted(p))),
        },
    };
    let total: u64 = req.topics.values().map(|n| u64::from(*n)).sum();
    if req.topics.values().any(|n| *n == 0) {
        return err("every topic needs at least one partition");
    }
    if total > MAX_ASSIGN_PARTITIONS || req.members.len() > MAX_ASSIGN_MEMBERS {
        return err(format!("at most {MAX_ASSIGN_MEMBERS} members and {MAX_ASSIGN_PARTITIONS} partitions"));
    }
    for (member, topics) in &req.members {
        if let Some(t) = topics.iter().find(|t| !req.topics.contains_key(*t)) {
            return err(format!("member {} subscribes to {}, which is not in topics", quoted(member), quoted(t)));
        }
    }
    let known = |m: &String| req.members.contains_key(m);
    if let Some(m) = req.static_ids.keys().chain(req.previous.keys()).find(|m| !known(m)) {
        return err(format!("{} is not one of the members", quoted(m)));
    }
    if let Some(Generation::PerMember(g)) = &req.generation {
        if let Some(m) = g.keys().find(|m| !known(m)) {
            return err(format!("{} is not one of the members", quoted(m)));
        }
    }
    for (id, parts) in &req.previous {
        for (topic, ps) in parts {
            let n = *req.topics.get(topic).ok_or(CliError(format!(
                "previous of {} names unknown topic {}",
                quoted(id),
                quoted(topic)
            )))?;
            if let Some(p) = ps.iter().find(|p| **p >= n) {
                return err(format!("previous of {}: topic {} has no partition {p}", quoted(id), quoted(topic)));
            }
        }
    }
    if consumer_protocol {
        return assign_on_the_broker(&req, out);
    }
    let strategy = Strategy::parse(&req.strategy).ok_or(CliError(format!(
        "unknown strategy {} (use range, roundrobin, sticky or cooperative-sticky)",
        quoted(&req.strategy)
    )))?;
    let mut members = Vec::new();
    for (id, topics) in &req.members {
        let mut owned = Vec::new();
        for (topic, parts) in req.previous.get(id).into_iter().flatten() {
            owned.extend(parts.iter().map(|p| (topic.clone(), *p)));
        }
        let generation = match &req.generation {
            Some(Generation::All(g)) => Some(*g),
            Some(Generation::PerMember(map)) => map.get(id).copied(),
            None => None,
        };
        members.push((
            id.clone(),
            Subscription { topics: topics.clone(), instance_id: req.static_ids.get(id).cloned(), owned, generation },
        ));
    }
    let result = assign::assign(
        strategy,
        &AssignInput { topics: req.topics.iter().map(|(t, n)| (t.clone(), *n)).collect(), members },
    );
    writeln!(out, "{}", format_assignment(&result)).map_err(io)
}

/// `ksim assign` for Kafka 4's consumer protocol: the broker's assignor (`uniform` or `range`)
/// computes the target assignment of `members` (id → topics), with `static` (id → instance id)
/// and `previous` (id → its current target, topic → partitions), as the group coordinator runs it.
fn assign_on_the_broker(req: &AssignRequest, out: &mut dyn Write) -> Result<(), CliError> {
    use crate::sim::kafka::broker_assign::MemberSpec;
    use crate::sim::kafka::consumer_group::ServerAssignor;
    use crate::sim::vecmap::{VecMap, VecSet};
    let assignor = ServerAssignor::parse(&req.strategy).ok_or(CliError(format!(
        "unknown strategy {} for the consumer protocol (use uniform or range)",
        quoted(&req.strategy)
    )))?;
    if req.generation.is_some() {
        return err("generation is the classic protocol's: the consumer protocol's assignors do not read it");
    }
    let topics: VecMap<String, u32> = req.topics.iter().map(|(t, n)| (t.clone(), *n)).collect();
    let members: Vec<MemberSpec> = req
        .members
        .iter()
        .map(|(id, subscribed)| MemberSpec {
            member_id: id.clone(),
            instance_id: req.static_ids.get(id).cloned(),
            topics: subscribed.clone(),
        })
        .collect();
    // `previous` was checked against `topics` by the caller.
    let current = req
        .previous
        .iter()
        .map(|(id, parts)| {
            let mine = parts.iter().map(|(t, ps)| (t.clone(), ps.iter().copied().collect::<VecSet<u32>>())).collect();
            (id.clone(), mine)
        })
        .collect::<VecMap<String, _>>();
    let target = assignor.assign(&topics, &members, &current);
    let result: assign::Assignment = req
        .members
        .keys()
        .map(|id| {
            let tps = target
                .get(id)
                .into_iter()
                .flat_map(|parts| parts.iter())
                .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
                .collect();
            (id.clone(), tps)
        })
        .collect();
    writeln!(out, "{}", format_assignment(&result)).map_err(io)
}

/// `{"c1": {"orders": [0, 2]}, "c2": {}}`: members, topics and partitions in sorted order.
fn format_assignment(result: &assign::Assignment) -> String {
    let json = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let members: Vec<String> = result
        .iter()
        .map(|(member, tps)| {
            let mut by_topic: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for (t, p) in tps {
                by_topic.entry(t.as_str()).or_default().push(*p);
            }
            let topics: Vec<String> = by_topic
                .into_iter()
                .map(|(t, mut ps)| {
                    ps.sort_unstable();
                    let list: Vec<String> = ps.iter().map(u32::to_string).collect();
                    format!("{}: [{}]", json(t), list.join(", "))
                })
                .collect();
            format!("{}: {{{}}}", json(member), topics.join(", "))
        })
        .collect();
    format!("{{{}}}", members.join(", "))
}

/// `ksim link SCENARIO [--seed S]`: the query part of the link that replays the scenario's
/// scripted path.
fn link_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut id: Option<&str> = None;
    let mut seed = 1u64;
    let mut protocol = GroupProtocol::Classic;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if let Some(v) = a
            .strip_prefix("--group-protocol=")
            .or_else(|| (a == "--group-protocol").then(|| args.get(i + 1).map(String::as_str)).flatten())
        {
            protocol = GroupProtocol::parse(v)
                .ok_or(CliError(format!("--group-protocol must be classic or consumer, got {}", quoted(v))))?;
            i += if a == "--group-protocol" { 2 } else { 1 };
            continue;
        }
        if a == "--group-protocol" {
            return err("--group-protocol needs a value");
        }
        if let Some(v) =
            a.strip_prefix("--seed=").or_else(|| (a == "--seed").then(|| args.get(i + 1).map(String::as_str)).flatten())
        {
            seed = v
                .parse()
                .map_err(|_| CliError(format!("--seed must be a whole number from 0 to 2^64-1, got {}", quoted(v))))?;
            i += if a == "--seed" { 2 } else { 1 };
            continue;
        }
        if a == "--seed" {
            return err("--seed needs a value");
        }
        if a.starts_with("--") {
            return err(format!("unknown option {} for link", quoted(a)));
        }
        if id.replace(a).is_some() {
            return err(format!("unexpected argument {}", quoted(a)));
        }
        i += 1;
    }
    let id = id.ok_or(CliError(format!("link needs a SCENARIO (one of: {})", scenario_ids())))?;
    let s = teach::find(id).ok_or(CliError(format!("unknown scenario {} (one of: {})", quoted(id), scenario_ids())))?;
    writeln!(out, "?{}", Run::of_scenario(&s, seed).with_group_protocol(protocol).encode()).map_err(io)
}
