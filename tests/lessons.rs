//! Each lesson's scripted path — what a person following its steps does — completes every step
//! and passes every check, natively. (The browser plays them in tests/e2e/lessons.test.mjs.)
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::command::{Command, TimedCommand};
use ksim::sim::config::GroupProtocol;
use ksim::sim::lesson;

fn passes(id: &str) {
    passes_on(id, GroupProtocol::Classic);
}

/// The same, with every consumer on `protocol`.
fn passes_on(id: &str, protocol: GroupProtocol) {
    let l = lesson::find(id).expect("a lesson");
    let run = match protocol {
        GroupProtocol::Classic => l.scripted_run(1),
        p => l.scripted_run(1).with_group_protocol(p),
    };
    let (_, verdicts) = l.evaluate(&run, l.scenario.duration_ms).expect("it runs");
    assert!(!l.checks.is_empty() || l.steps.is_empty(), "{id} checks what it teaches");
    for v in &verdicts {
        assert!(v.pass, "{id}: {}", v.text);
    }
    let done = l.progress(&run, l.scenario.duration_ms).expect("it runs").progress();
    assert!(done.iter().all(|d| *d), "{id}: every step done");
    // Without the user's actions the steps stay undone and the checks do not pass.
    if !l.path.is_empty() {
        let idle = ksim::sim::link::Run { commands: Vec::new(), ..run };
        let (_, verdicts) = l.evaluate(&idle, l.scenario.duration_ms).expect("it runs");
        let done = l.progress(&idle, l.scenario.duration_ms).expect("it runs").progress();
        assert!(!done.iter().all(|d| *d), "{id}: done without doing anything");
        assert!(verdicts.iter().any(|v| !v.pass), "{id}: passes without doing anything");
    }
}

#[test]
fn durability() {
    passes("lesson-durability");
}

#[test]
fn ordering() {
    passes("lesson-ordering");
}

#[test]
fn load_balancing() {
    passes("lesson-load-balancing");
}

#[test]
fn fault_tolerance() {
    passes("lesson-fault-tolerance");
}

#[test]
fn offset_management() {
    passes("lesson-offsets");
}

#[test]
fn fan_out() {
    passes("lesson-fan-out");
}

#[test]
fn priority() {
    passes("lesson-priority");
    // Reading both topics together, the urgent messages wait behind the backlog.
    let l = lesson::find("lesson-priority").unwrap();
    let mut run = l.scripted_run(1);
    run.commands.insert(
        0,
        TimedCommand { at: 0, command: Command::SetPriority { consumer: "consumer".into(), enabled: false } },
    );
    let (_, verdicts) = l.evaluate(&run, l.scenario.duration_ms).unwrap();
    assert!(!verdicts[0].pass, "{}", verdicts[0].text);
}

#[test]
fn processed_twice() {
    passes("lesson-processed-twice");
}

#[test]
fn sandbox() {
    passes("lesson-sandbox");
}

#[test]
fn every_lesson_is_tested_here() {
    assert_eq!(lesson::all().len(), 9, "add a test above for a new lesson");
}

/// Every lesson's scripted path shows its moments on Kafka 4's consumer protocol too (a run made
/// with `--group-protocol consumer`): every step is reached and every check passes.
#[test]
fn lessons_on_the_consumer_protocol() {
    for id in [
        "lesson-durability",
        "lesson-ordering",
        "lesson-load-balancing",
        "lesson-fault-tolerance",
        "lesson-offsets",
        "lesson-fan-out",
        "lesson-priority",
        "lesson-processed-twice",
    ] {
        passes_on(id, GroupProtocol::Consumer);
    }
}
