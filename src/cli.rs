//! The native `ksim` command line: headless runs and scripting. Output formats are contracts
//! other tools rely on; errors are one line on stderr and a non-zero exit, never a panic.

use std::io::{Read, Write};

use crate::sim::{describe, murmur2, report, scenario, time, Scenario, Sim, SimTime};

const USAGE: &str = "usage:
  ksim partition --partitions N [--] KEY...
  ksim lessons
  ksim run SCENARIO [--seed S] [--until DURATION] [--format jsonl|summary|describe|hash]";

/// A user error: printed as one line, exit status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, CliError> {
    Err(CliError(msg.into()))
}

fn io(e: std::io::Error) -> CliError {
    CliError(format!("write failed: {e}"))
}

/// Runs one `ksim` invocation. `args` excludes the program name.
pub fn run(args: &[String], _stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), CliError> {
    let Some((cmd, rest)) = args.split_first() else {
        return err("no command given (try: ksim help)");
    };
    match cmd.as_str() {
        "partition" => partition(rest, out),
        "lessons" => lessons(rest, out),
        "run" => run_scenario(rest, out),
        "help" | "--help" | "-h" => writeln!(out, "{USAGE}").map_err(io),
        other => err(format!("unknown command '{other}' (try: partition, lessons, run)")),
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
            let n: u32 =
                v.parse().map_err(|_| CliError(format!("--partitions must be a positive number, got '{v}'")))?;
            if n == 0 {
                return err("--partitions must be at least 1");
            }
            partitions = Some(n);
        } else if a.starts_with("--") {
            return err(format!("unknown option '{a}' for partition"));
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
        return err(format!("lessons takes no arguments, got '{a}'"));
    }
    for s in scenario::builtin() {
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
    let mut until: Option<u64> = None;
    let mut format = Format::Summary;
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
                let v = value("--seed")?;
                seed = v
                    .parse()
                    .map_err(|_| CliError(format!("--seed must be a whole number from 0 to 2^64-1, got '{v}'")))?;
            }
            "--until" => until = Some(time::parse_duration(&value("--until")?).map_err(CliError)?),
            "--format" => {
                format = match value("--format")?.as_str() {
                    "jsonl" => Format::Jsonl,
                    "summary" => Format::Summary,
                    "describe" => Format::Describe,
                    "hash" => Format::Hash,
                    other => return err(format!("unknown format '{other}' (use jsonl, summary, describe or hash)")),
                }
            }
            _ if a.starts_with("--") => return err(format!("unknown option '{a}' for run")),
            _ if id.is_none() => id = Some(a),
            _ => return err(format!("unexpected argument '{a}'")),
        }
        i += 1;
    }
    let id = id.ok_or(CliError(format!("run needs a SCENARIO (one of: {})", scenario_ids())))?;
    let scenario: Scenario =
        scenario::find(id).ok_or(CliError(format!("unknown scenario '{id}' (one of: {})", scenario_ids())))?;
    let until = until.unwrap_or(scenario.duration_ms);
    let mut sim = Sim::new(&scenario, seed).map_err(|e| CliError(e.to_string()))?;
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
        Format::Summary => write!(out, "{}", report::summary(&sim, &scenario.id)).map_err(io),
        Format::Hash => writeln!(out, "{}", sim.digest()).map_err(io),
        Format::Describe => {
            for g in sim.group_names() {
                let view = describe::group_view(&sim, &g);
                write!(out, "{}", describe::describe_offsets(&sim, &view)).map_err(io)?;
                write!(out, "{}", describe::describe_state(&view)).map_err(io)?;
            }
            Ok(())
        }
        Format::Jsonl => unreachable!("handled above"),
    }
}

fn scenario_ids() -> String {
    scenario::builtin().iter().map(|s| s.id.clone()).collect::<Vec<_>>().join(", ")
}
