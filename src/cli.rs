//! The native `ksim` command line: headless runs and scripting. Output formats are contracts
//! other tools rely on; errors are one line on stderr and a non-zero exit, never a panic.

use std::io::{Read, Write};

use std::collections::BTreeMap;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use serde::Deserialize;

use crate::sim::assign::{self, AssignInput, Subscription};
use crate::sim::config::{GroupProtocol, Strategy};
use crate::sim::link::Run;
use crate::sim::text::{one_line, quoted};
use crate::sim::{describe, experiments, murmur2, report, teach, time, Scenario, SimTime};

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

/// A deterministic, Kafka-true simulator of producers, brokers, partitions, offsets and
/// consumer groups: headless runs, share links, and Kafka's partitioner and assignors.
#[derive(Parser)]
#[command(name = "ksim", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// Values are taken as typed and checked here, so that every mistake gets the same one-line
/// message it always had.
#[derive(Subcommand)]
enum Cmd {
    /// Print the partition Kafka's default partitioner (murmur2) picks for each key, one a line
    Partition {
        /// The topic's partition count
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        partitions: Option<String>,
        /// Keys (after `--`, keys may start with `--`)
        #[arg(value_name = "KEY")]
        keys: Vec<String>,
    },
    /// Run a group assignor on a JSON request read from stdin and print each member's partitions
    ///
    /// The request: {"strategy": "range|roundrobin|sticky|cooperative-sticky", "topics": {name:
    /// partitions}, "members": {id: [topics]}, "static": {id: instance id}, "previous": {id: {topic:
    /// [partitions]}}, "generation": n or {id: n}}; with "group_protocol": "consumer" the broker's
    /// assignors of Kafka 4's consumer protocol instead ("strategy": "uniform" or "range").
    Assign {
        #[arg(hide = true)]
        extra: Vec<String>,
    },
    /// List the lessons and experiments: id, a tab, title
    Lessons {
        #[arg(hide = true)]
        extra: Vec<String>,
    },
    /// Run a built-in scenario or a share link headless and print what happened
    Run {
        /// A scenario id (see `ksim lessons`) or a share link (anything with `run=` in it)
        #[arg(value_name = "SCENARIO|LINK")]
        targets: Vec<String>,
        /// The run's seed (a link carries its own; this replaces it)
        #[arg(long, value_name = "S", allow_hyphen_values = true)]
        seed: Option<String>,
        /// How long to run, in simulated time (`90s`, `5m`, `2h`, `1d`, or ms); default: the
        /// link's cursor, else the scenario's length
        #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
        until: Option<String>,
        /// What to print: `summary` (default; a lesson's checks too), `jsonl` (every event, one
        /// JSON object a line), `describe` (as kafka-consumer-groups.sh and kafka-topics.sh
        /// --describe print), `hash` (the run's digest)
        #[arg(long, value_name = "FORMAT", allow_hyphen_values = true)]
        format: Option<String>,
        /// Every consumer on this group protocol: `classic` or `consumer` (Kafka 4's KIP-848)
        #[arg(long, value_name = "PROTOCOL", allow_hyphen_values = true)]
        group_protocol: Option<String>,
    },
    /// Print the share link of a built-in scenario (open it in the page, or give it to `ksim run`)
    Link {
        /// A scenario id (see `ksim lessons`)
        #[arg(value_name = "SCENARIO")]
        targets: Vec<String>,
        /// The run's seed
        #[arg(long, value_name = "S", allow_hyphen_values = true)]
        seed: Option<String>,
        /// Every consumer on this group protocol: `classic` or `consumer`
        #[arg(long, value_name = "PROTOCOL", allow_hyphen_values = true)]
        group_protocol: Option<String>,
    },
    /// Print a completion script for a shell (bash, zsh, fish, elvish or powershell)
    Completions {
        #[arg(value_name = "SHELL")]
        shell: Vec<String>,
    },
}

/// The options each command takes, and whether each takes a value.
fn options_of(command: &str) -> &'static [&'static str] {
    match command {
        "partition" => &["--partitions"],
        "run" => &["--seed", "--until", "--format", "--group-protocol"],
        "link" => &["--seed", "--group-protocol"],
        _ => &[],
    }
}

/// Whether `a` asks for help or the version.
fn is_help(a: &str) -> bool {
    matches!(a, "--help" | "-h" | "--version" | "-V")
}

/// The command's arguments in the order clap reads them unambiguously — its options (with their
/// values) first, then `--`, then everything else — or the first option it does not know. As
/// ksim always read them: an option may come anywhere before a bare `--`, its value is the next
/// argument whatever it looks like, and any other argument (`-x` included) is a value.
fn normalize(command: &str, args: &[String]) -> Result<Vec<String>, CliError> {
    let known = options_of(command);
    let (mut options, mut values) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            values.extend(args[i + 1..].iter().cloned());
            break;
        }
        if is_help(a) {
            options.push(a.to_string());
        } else if a.starts_with("--") {
            let name = a.split_once('=').map_or(a, |(n, _)| n);
            if !known.contains(&name) {
                return err(format!("unknown option {} for {command}", quoted(a)));
            }
            match (a.contains('='), args.get(i + 1)) {
                (true, _) => options.push(a.to_string()),
                (false, Some(v)) => {
                    options.push(format!("{a}={v}"));
                    i += 1;
                }
                (false, None) => return err(format!("{a} needs a value")),
            }
        } else {
            values.push(a.to_string());
        }
        i += 1;
    }
    if !values.is_empty() {
        options.push("--".to_string());
        options.extend(values);
    }
    Ok(options)
}

/// Runs one `ksim` invocation. `args` excludes the program name.
pub fn run(args: &[String], stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), CliError> {
    let Some((first, rest)) = args.split_first() else {
        return err("no command given (try: ksim help)");
    };
    let rest = match options_of(first) {
        // A command ksim knows: its arguments as clap reads them unambiguously.
        _ if Cli::command().find_subcommand(first).is_some() && first != "help" => normalize(first, rest)?,
        _ => rest.to_vec(),
    };
    let argv = ["ksim", first.as_str()].into_iter().map(str::to_string).chain(rest);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return clap_error(e, first, out),
    };
    let Some(command) = cli.command else { return err("no command given (try: ksim help)") };
    match command {
        Cmd::Partition { partitions, keys } => partition(partitions, keys, out),
        Cmd::Assign { extra } => assign_cmd(&extra, stdin, out),
        Cmd::Lessons { extra } => lessons(&extra, out),
        Cmd::Run { targets, seed, until, format, group_protocol } => {
            run_scenario(RunArgs { targets, seed, until, format, group_protocol }, out)
        }
        Cmd::Link { targets, seed, group_protocol } => link_cmd(targets, seed, group_protocol, out),
        Cmd::Completions { shell } => completions(&shell, out),
    }
}

/// What clap found wrong, as ksim's one-line errors; help and version are printed.
fn clap_error(e: clap::Error, command: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            write!(out, "{}", e.render()).map_err(io)
        }
        ErrorKind::InvalidSubcommand => {
            let typed = context(ContextKind::InvalidSubcommand).unwrap_or_else(|| command.to_string());
            let commands = ["partition", "assign", "lessons", "run", "link", "completions"];
            let near = commands.iter().map(|c| (edit_distance(&typed, c), *c)).filter(|(d, _)| *d <= 2).min();
            let hint = match near {
                Some((_, c)) => format!("did you mean {c}? try: partition, assign, lessons, run, link"),
                None => "try: partition, assign, lessons, run, link".to_string(),
            };
            err(format!("unknown command {} ({hint})", quoted(&typed)))
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals if e.to_string().contains("a value is required") => {
            let arg = context(ContextKind::InvalidArg).unwrap_or_default();
            err(format!("{} needs a value", arg.split_whitespace().next().unwrap_or("an option")))
        }
        _ => {
            let first = e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
            err(first)
        }
    }
}

fn completions(shell: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let [name] = shell else { return err("completions needs one SHELL: bash, zsh, fish, elvish or powershell") };
    let shell: clap_complete::Shell = name
        .parse()
        .map_err(|_| CliError(format!("unknown shell {} (use bash, zsh, fish, elvish or powershell)", quoted(name))))?;
    clap_complete::generate(shell, &mut Cli::command(), "ksim", out);
    Ok(())
}

fn partition(partitions: Option<String>, keys: Vec<String>, out: &mut dyn Write) -> Result<(), CliError> {
    let v = partitions.ok_or(CliError("partition needs --partitions N".into()))?;
    let n: u32 =
        v.parse().map_err(|_| CliError(format!("--partitions must be a positive number, got {}", quoted(&v))))?;
    if n == 0 {
        return err("--partitions must be at least 1");
    }
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

/// `ksim run`'s arguments, as typed.
struct RunArgs {
    targets: Vec<String>,
    seed: Option<String>,
    until: Option<String>,
    format: Option<String>,
    group_protocol: Option<String>,
}

fn parse_seed(v: Option<String>) -> Result<Option<u64>, CliError> {
    v.map(|v| {
        v.parse().map_err(|_| CliError(format!("--seed must be a whole number from 0 to 2^64-1, got {}", quoted(&v))))
    })
    .transpose()
}

fn parse_protocol(v: Option<String>) -> Result<Option<GroupProtocol>, CliError> {
    v.map(|v| {
        GroupProtocol::parse(&v)
            .ok_or(CliError(format!("--group-protocol must be classic or consumer, got {}", quoted(&v))))
    })
    .transpose()
}

/// The one SCENARIO|LINK argument.
fn one_target(targets: &[String]) -> Result<Option<&str>, CliError> {
    match targets {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [_, extra, ..] => err(format!("unexpected argument {}", quoted(extra))),
    }
}

/// A scenario's id as typed, or what it was probably meant to be.
fn unknown_scenario(typed: &str) -> CliError {
    let ids = scenario_id_list();
    let near = ids.iter().map(|id| (edit_distance(typed, id), id)).filter(|(d, _)| *d <= 3).min();
    let hint = match near {
        Some((_, id)) => format!("did you mean {id}? one of: "),
        None => "one of: ".to_string(),
    };
    CliError(format!("unknown scenario {} ({hint}{})", quoted(typed), ids.join(", ")))
}

/// Levenshtein distance, for suggestions (short strings only).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().take(64).collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn run_scenario(args: RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let seed_given = parse_seed(args.seed)?;
    let seed = seed_given.unwrap_or(1);
    let until = args.until.map(|v| time::parse_duration(&v).map_err(CliError)).transpose()?;
    let format = match args.format.as_deref() {
        None | Some("summary") => Format::Summary,
        Some("jsonl") => Format::Jsonl,
        Some("describe") => Format::Describe,
        Some("hash") => Format::Hash,
        Some(other) => return err(format!("unknown format {} (use jsonl, summary, describe or hash)", quoted(other))),
    };
    let protocol = parse_protocol(args.group_protocol)?;
    let id = one_target(&args.targets)?;
    let target = id.ok_or(CliError(format!("run needs a SCENARIO or a LINK (scenarios: {})", scenario_ids())))?;
    // A link carries its own scenario, seed, commands and cursor; --seed and --until override.
    let run = if target.contains("run=") {
        let mut run = Run::decode(target).map_err(|e| CliError(e.to_string()))?;
        if seed_given.is_some() {
            run.seed = seed;
        }
        run
    } else {
        let scenario: Scenario = teach::find(target).ok_or_else(|| unknown_scenario(target))?;
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

fn scenario_id_list() -> Vec<String> {
    let lessons = crate::sim::lesson::all().into_iter().map(|l| l.id);
    lessons.chain(experiments::all().into_iter().map(|s| s.id)).collect()
}

fn scenario_ids() -> String {
    scenario_id_list().join(", ")
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
fn link_cmd(
    targets: Vec<String>,
    seed: Option<String>,
    protocol: Option<String>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let seed = parse_seed(seed)?.unwrap_or(1);
    let protocol = parse_protocol(protocol)?.unwrap_or(GroupProtocol::Classic);
    let id = one_target(&targets)?;
    let id = id.ok_or(CliError(format!("link needs a SCENARIO (one of: {})", scenario_ids())))?;
    let s = teach::find(id).ok_or_else(|| unknown_scenario(id))?;
    writeln!(out, "?{}", Run::of_scenario(&s, seed).with_group_protocol(protocol).encode()).map_err(io)
}
