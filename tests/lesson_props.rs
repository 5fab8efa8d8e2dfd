//! Lessons played the way people play them: a learner reads the current step on a timeline (as
//! the page does) and does what it says — at once, after a pause or slowly, choosing any consumer
//! the step allows, sometimes sending more than asked — over many seeds. Whenever every step is
//! done, every check passes; and a step the learner tried without its moment says what to redo.
//!
//! 60 plays per lesson in CI; `KSIM_LESSON_CASES` for more.
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::command::{Command, ConsumerSetting};
use ksim::sim::config::{ConsumerSpec, GroupProtocol, Keys, OffsetReset};
use ksim::sim::lesson::{self, Act, Goal, Lesson};
use ksim::sim::link::Run;
use ksim::sim::timeline::Timeline;
use ksim::sim::ConsumerStatus;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How long a learner keeps trying before the play counts as stuck.
const GIVE_UP_MS: u64 = 20 * 60_000;

fn cases() -> u64 {
    std::env::var("KSIM_LESSON_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(60)
}

struct Learner {
    rng: ChaCha8Rng,
    /// Consumers the learner added, newest last.
    added: Vec<String>,
    groups: u32,
}

impl Learner {
    /// How long the learner takes before acting on a step: at once, after reading, or slowly.
    fn pause(&mut self) -> u64 {
        match self.rng.random_range(0..4) {
            0 => 0,
            1 => self.rng.random_range(50..1_500),
            2 => self.rng.random_range(1_500..8_000),
            _ => self.rng.random_range(8_000..30_000),
        }
    }

    fn pick(&mut self, names: Vec<String>) -> Option<String> {
        (!names.is_empty()).then(|| names[self.rng.random_range(0..names.len())].clone())
    }

    /// What the learner does for `act`, given the cluster now.
    fn act(&mut self, act: Act, tl: &Timeline, hint: Option<&str>) -> Option<Command> {
        let sim = tl.sim();
        let with = |status: fn(ConsumerStatus) -> bool| -> Vec<String> {
            sim.consumers().iter().filter(|c| !c.removed && status(c.status)).map(|c| c.spec.name.to_string()).collect()
        };
        let running = with(|s| s == ConsumerStatus::Running);
        let idle = with(|s| s != ConsumerStatus::Running);
        let producer = |name: Option<&str>| {
            name.map(str::to_string)
                .or_else(|| sim.producers().iter().find(|p| !p.removed).map(|p| p.spec.name.to_string()))
                .expect("a producer")
        };
        Some(match act {
            Act::StopConsumer => Command::StopConsumer { consumer: self.pick(running)? },
            Act::StartConsumer => Command::StartConsumer { consumer: self.pick(idle)? },
            Act::CrashConsumer => Command::CrashConsumer { consumer: self.pick(running)? },
            Act::CrashMidBatch => {
                // After a missed crash the learner does what the page says: start it, send
                // more, and crash it when its card shows processed records not yet committed.
                if running.is_empty() {
                    return Some(Command::StartConsumer { consumer: self.pick(idle)? });
                }
                if hint.is_some() {
                    let snapshot = ksim::sim::snapshot::Snapshot::of(sim);
                    let ready: Vec<String> =
                        snapshot.consumers.iter().filter(|c| c.uncommitted > 0).map(|c| c.name.to_string()).collect();
                    if ready.is_empty() {
                        let backlog: u64 = snapshot.groups.iter().map(|g| g.lag).sum();
                        return (backlog == 0).then(|| Command::Produce { producer: producer(None), count: 10 });
                    }
                    return Some(Command::CrashConsumer { consumer: self.pick(ready)? });
                }
                Command::CrashConsumer { consumer: self.pick(running)? }
            }
            Act::Produce(_) | Act::ProduceSpread(_) => Command::Produce { producer: producer(None), count: 10 },
            Act::ProduceFrom(name, _) => Command::Produce { producer: producer(Some(name)), count: 10 },
            // After a miss the page says to send the backlog again first.
            Act::ProduceWhileWaiting(name, topic) => {
                let backlog = sim.producers().iter().find(|p| p.spec.topic == topic).map(|p| p.spec.name.to_string());
                match (hint, backlog) {
                    (Some(_), Some(b)) if self.rng.random_bool(0.7) => Command::Produce { producer: b, count: 10 },
                    _ => Command::Produce { producer: producer(Some(name)), count: 10 },
                }
            }
            Act::AddConsumer => {
                let group = sim.consumers().first().map(|c| c.spec.group.clone()).unwrap_or_default();
                let topics = sim.topics().iter().map(|t| t.spec.name.to_string()).collect();
                let mut n = 2;
                while sim.consumer_index(&format!("consumer-{n}")).is_some() {
                    n += 1;
                }
                let name = format!("consumer-{n}");
                self.added.push(name.clone());
                Command::AddConsumer {
                    spec: ConsumerSpec { name: name.into(), group, topics, ..ConsumerSpec::default() },
                }
            }
            Act::MoveConsumer => {
                // The one just added, if the lesson had the learner add one; else any.
                let consumer = match self.added.last() {
                    Some(c) => c.clone(),
                    None => self.pick(sim.consumers().iter().map(|c| c.spec.name.to_string()).collect())?,
                };
                self.groups += 1;
                Command::MoveConsumer { consumer, group: format!("new-group-{}", self.groups) }
            }
            Act::SetKeys => Command::SetKeys { producer: producer(None), keys: Keys::Fixed { key: "order-42".into() } },
            // One thing at a time, as the step says: each consumer's setting, then a stop for each
            // one still running the classic protocol, then a start for each that is not running.
            Act::ConsumerProtocol => {
                let live = || sim.consumers().iter().filter(|c| !c.removed);
                let unset = live()
                    .find(|c| c.pending_spec.as_ref().unwrap_or(&c.spec).group_protocol != GroupProtocol::Consumer);
                if let Some(c) = unset {
                    return Some(Command::ConfigureConsumer {
                        consumer: c.spec.name.to_string(),
                        setting: ConsumerSetting::GroupProtocol(GroupProtocol::Consumer),
                    });
                }
                let classic: Vec<String> = live()
                    .filter(|c| c.status == ConsumerStatus::Running && !c.is_modern())
                    .map(|c| c.spec.name.to_string())
                    .collect();
                match self.pick(classic) {
                    Some(consumer) => Command::StopConsumer { consumer },
                    None => Command::StartConsumer { consumer: self.pick(idle)? },
                }
            }
            Act::SetEarliest => Command::ConfigureConsumer {
                consumer: self.added.last()?.clone(),
                setting: ConsumerSetting::AutoOffsetReset(OffsetReset::Earliest),
            },
        })
    }
}

/// Plays `lesson` as a learner would; returns what went wrong, if anything.
fn play(l: &Lesson, seed: u64) -> Result<Played, String> {
    let run = Run {
        scenario: l.id.clone(),
        seed,
        commands: Vec::new(),
        cursor_ms: None,
        group_protocol: Default::default(),
        refuse_mixed_groups: false,
    };
    let mut tl = Timeline::new(run).map_err(|e| e.to_string())?;
    let mut learner = Learner { rng: ChaCha8Rng::seed_from_u64(seed), added: Vec::new(), groups: 0 };
    // When the learner will act on the current "do" step (and again, if it is still to do a
    // while after).
    let mut due: Option<(usize, u64)> = None;
    let mut hinted = false;
    loop {
        let p = tl.lesson_progress().expect("a lesson with steps");
        let done = p.steps_done();
        if done == l.steps.len() {
            break;
        }
        if tl.now_ms() > GIVE_UP_MS {
            return Err(format!(
                "stuck at step {} ({:?}); hint: {:?}; run: {}",
                done + 1,
                l.steps[done].title,
                p.hint(),
                tl.run().encode()
            ));
        }
        let hint = p.hint().map(str::to_string);
        hinted |= hint.is_some();
        let Goal::Do(act) = l.steps[done].goal else {
            tl.advance_to(tl.now_ms() + 250);
            continue;
        };
        let at = match due {
            Some((step, at)) if step == done => at,
            _ => {
                let at = tl.now_ms() + learner.pause();
                due = Some((done, at));
                at
            }
        };
        if tl.now_ms() < at {
            tl.advance_to(at.min(tl.now_ms() + 250));
            continue;
        }
        if let Some(command) = learner.act(act, &tl, hint.as_deref()) {
            tl.apply(command);
            // Sometimes a learner sends more than asked.
            if learner.rng.random_bool(0.1) {
                let producer = tl.sim().producers()[0].spec.name.clone();
                tl.apply(Command::Produce { producer: producer.to_string(), count: 10 });
            }
        }
        due = Some((done, tl.now_ms() + learner.rng.random_range(1_000..6_000)));
        tl.advance_to(tl.now_ms() + 250);
    }
    // Every step is done: the page checks now and each second after; within a minute of
    // simulated time every check must pass.
    let done_at = tl.now_ms();
    let mut last = Vec::new();
    for t in (done_at..=done_at + 60_000).step_by(1_000) {
        let (_, verdicts) = l.evaluate(tl.run(), t).map_err(|e| e.to_string())?;
        if verdicts.iter().all(|v| v.pass) {
            return Ok(Played { hinted, done_at });
        }
        last = verdicts;
    }
    Err(format!(
        "every step done at {done_at} ms but checks fail: {:?}; run: {}",
        last.iter().filter(|v| !v.pass).map(|v| &v.text).collect::<Vec<_>>(),
        tl.run().encode()
    ))
}

/// How a play that went right went.
struct Played {
    /// The page told the learner what went differently at some point.
    hinted: bool,
    done_at: u64,
}

#[test]
fn every_lesson_teaches_at_any_pace_with_any_reasonable_choice() {
    let mut failures = Vec::new();
    let mut hinted = 0;
    for l in lesson::all().into_iter().filter(|l| !l.steps.is_empty()) {
        let mut longest = 0;
        for seed in 0..cases() {
            match play(&l, seed) {
                Ok(p) => {
                    hinted += usize::from(p.hinted);
                    longest = longest.max(p.done_at);
                }
                Err(why) => failures.push(format!("{} seed {seed}: {why}", l.id)),
            }
        }
        eprintln!("{}: {} plays, every step done by {:.0} s at the latest", l.id, cases(), longest as f64 / 1000.0);
    }
    eprintln!("{hinted} plays were told what to redo");
    // The learner's pace makes it miss moments now and then: the hints are exercised.
    assert!(hinted > 0, "no play needed a hint: the learner never missed a moment");
    // Each failure names its run: `ksim run "?run=…" --format summary` replays it.
    assert!(failures.is_empty(), "{} plays went wrong:\n{}", failures.len(), failures.join("\n"));
}
