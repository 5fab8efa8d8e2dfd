//! A lesson's progress, followed event by event: each step is done when what it asks for
//! happened after the previous step was done — and stays done. It is a [`Tracker`] fed every
//! event of the run in order (and, for what only the model's state shows, the model between
//! batches of events), so it can ride along with a timeline's cursor: seeking back before a
//! step undoes it, and nothing else does.
//!
//! When the user did what a step says but its moment did not happen (a crash that came right
//! after a commit, with nothing processed and uncommitted), the step stays to do and the tracker
//! says what went differently and how to try again.

use crate::sim::vecmap::{VecMap, VecSet};

use crate::sim::event::{Event, EventKind};
use crate::sim::ids::{GroupId, Name};
use crate::sim::scenario::Run;
use crate::sim::teach::lesson::{
    all_on_consumer_protocol, all_processed, step_matches, Act, Done, Goal, Lesson, Observed, Sight, Verdict,
};
use crate::sim::{Sim, SimError, SimTime};

#[derive(Clone, Debug)]
pub struct Tracker {
    goals: Vec<Goal>,
    done: Vec<Done>,
    /// Commands matching the current "do" step seen since the previous step was done.
    count: u32,
    /// What went differently the last time the user tried the current step.
    hint: Option<String>,
    /// Per consumer and partition ("topic-p"): the end of what it processed.
    processed: VecMap<(Name, String), u64>,
    /// Per group and partition: the committed offset.
    committed: VecMap<(GroupId, String), u64>,
    /// Each consumer's group, as its last event said.
    group_of: VecMap<Name, GroupId>,
    /// Consumers crashed and not started since.
    crashed: VecSet<Name>,
    /// Members per group and generation, from the leader's assignment.
    members: VecMap<(GroupId, i32), usize>,
    /// Groups that are Stable now, with how many members.
    stable: VecMap<GroupId, usize>,
    /// Per partition ("topic-p"): the log end, and the end of what any consumer fetched.
    appended: VecMap<String, u64>,
    fetched: VecMap<String, u64>,
    /// Partitions written to since the current step began, and how many records.
    spread: VecSet<String>,
    spread_records: u64,
}

/// Playing a lesson: its progress and its checks over a run.
impl Lesson {
    /// The lesson's progress after playing `run` to `until`, followed as a timeline follows it
    /// (every event, and the model once per simulated second).
    pub fn progress(&self, run: &Run, until: u64) -> Result<Tracker, SimError> {
        self.play(run, until).map(|(_, _, tracker)| tracker)
    }

    /// The run of the lesson's scripted path.
    pub fn scripted_run(&self, seed: u64) -> Run {
        Run {
            scenario: self.id.clone(),
            seed,
            commands: self.path.clone(),
            cursor_ms: None,
            group_protocol: Default::default(),
            refuse_mixed_groups: false,
        }
    }

    /// Plays `run` to `until` and computes the checks.
    pub fn evaluate(&self, run: &Run, until: u64) -> Result<(Sim, Vec<Verdict>), SimError> {
        let (sim, events, tracker) = self.play(run, until)?;
        let observed = Observed { sim: &sim, events: &events, commands: &run.commands, done: tracker.done() };
        let verdicts = self.checks.iter().map(|check| check(&observed)).collect();
        Ok((sim, verdicts))
    }

    fn play(&self, run: &Run, until: u64) -> Result<(Sim, Vec<Event>, Tracker), SimError> {
        let mut s = self.scenario.clone();
        run.apply_to(&mut s);
        let mut sim = Sim::new(&s, run.seed)?;
        sim.keep_events(true);
        let mut tracker = Tracker::new(self);
        let mut all = Vec::new();
        let mut t = 0u64;
        loop {
            // Second by second, skipping seconds in which nothing happens (the state is the same).
            let next = sim.next_time().map_or(until, |n| n.0.div_ceil(1_000).saturating_mul(1_000));
            t = t.saturating_add(1_000).max(next).min(until);
            sim.run_until(SimTime(t));
            let events = sim.drain_events();
            tracker.observe_batch(&events, &sim);
            all.extend(events);
            if t >= until {
                return Ok((sim, all, tracker));
            }
        }
    }
}

impl Tracker {
    pub fn new(lesson: &Lesson) -> Tracker {
        Tracker {
            goals: lesson.steps.iter().map(|s| s.goal.clone()).collect(),
            done: Vec::new(),
            count: 0,
            hint: None,
            processed: VecMap::new(),
            committed: VecMap::new(),
            group_of: VecMap::new(),
            crashed: VecSet::new(),
            members: VecMap::new(),
            stable: VecMap::new(),
            appended: VecMap::new(),
            fetched: VecMap::new(),
            spread: VecSet::new(),
            spread_records: 0,
        }
    }

    /// How many steps are done (they are done in order).
    pub fn steps_done(&self) -> usize {
        self.done.len()
    }

    /// Each step: when it was done, if it was.
    pub fn done(&self) -> &[Done] {
        &self.done
    }

    /// Which steps are done.
    pub fn progress(&self) -> Vec<bool> {
        (0..self.goals.len()).map(|i| i < self.done.len()).collect()
    }

    /// What went differently when the user last tried the current step, and what to do now.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    fn complete(&mut self, at_ms: u64, event_index: u64) {
        self.done.push(Done { at_ms, event_index });
        self.count = 0;
        self.hint = None;
        self.spread.clear();
        self.spread_records = 0;
        // A step to see a Stable group is done at once if the group already is.
        if let Some(Goal::See(Sight::Stable(n))) = self.goals.get(self.done.len()) {
            if self.stable.values().any(|m| m == n) {
                self.complete(at_ms, event_index);
            }
        }
    }

    /// Records processed by `consumer` and not yet committed by its group.
    fn uncommitted(&self, consumer: &str) -> u64 {
        let Some(group) = self.group_of.get(consumer) else { return 0 };
        self.processed
            .range((Name::from(consumer), String::new())..)
            .take_while(|((c, _), _)| c == consumer)
            .map(|((_, tp), &end)| {
                let committed = self.committed.get(&(group.clone(), tp.clone())).copied().unwrap_or(0);
                end.saturating_sub(committed)
            })
            .sum()
    }

    /// Records of `topic` written and not yet fetched by any consumer.
    fn waiting(&self, topic: &str) -> u64 {
        let prefix = format!("{topic}-");
        self.appended
            .iter()
            .filter(|(tp, _)| tp.strip_prefix(&prefix).is_some_and(|p| p.parse::<u32>().is_ok()))
            .map(|(tp, end)| end.saturating_sub(self.fetched.get(tp).copied().unwrap_or(0)))
            .sum()
    }

    /// Follows one event (the `index`-th of the run).
    pub fn observe(&mut self, e: &Event, index: u64) {
        // The step's judgement comes first: a crash is judged on what was uncommitted before it.
        if let Some(goal) = self.goals.get(self.done.len()).cloned() {
            match goal {
                Goal::Do(act) => self.judge_act(act, e, index),
                Goal::See(sight) => self.judge_sight(sight, e, index),
            }
        }
        match &e.kind {
            EventKind::Appended { topic, partition, base_offset, records, .. } => {
                self.appended.insert(format!("{topic}-{partition}"), base_offset + u64::from(*records));
            }
            EventKind::Fetched { ranges, .. } => {
                for r in ranges {
                    let end = self.fetched.entry(format!("{}-{}", r.topic, r.partition)).or_default();
                    *end = (*end).max(r.to);
                }
            }
            EventKind::Processed { consumer, group, ranges } => {
                self.group_of.insert(consumer.clone(), group.clone());
                for r in ranges {
                    let key = (consumer.clone(), format!("{}-{}", r.topic, r.partition));
                    let end = self.processed.entry(key).or_default();
                    *end = (*end).max(r.to);
                }
            }
            // A commit on its way counts: the coordinator gets it even if the consumer dies now.
            EventKind::CommitSent { group, offsets, .. } | EventKind::Committed { group, offsets, .. } => {
                for o in offsets {
                    let c = self.committed.entry((group.clone(), format!("{}-{}", o.topic, o.partition))).or_default();
                    *c = (*c).max(o.offset);
                }
            }
            EventKind::Crashed { consumer, .. } => {
                self.crashed.insert(consumer.clone());
            }
            EventKind::Started { consumer } => {
                self.crashed.remove(consumer);
                // A new process starts from its group's committed offsets.
                let mine: Vec<_> = self.processed.keys().filter(|(c, _)| c == consumer).cloned().collect();
                for k in mine {
                    self.processed.remove(&k);
                }
            }
            EventKind::AssignmentComputed { group, generation, assignment, .. } => {
                self.members.insert((group.clone(), *generation), assignment.len());
            }
            // The consumer protocol: the target at a group epoch names every member.
            EventKind::TargetAssignment { group, epoch, assignment, .. } => {
                self.members.insert((group.clone(), *epoch), assignment.len());
            }
            EventKind::GroupState { group, state, generation, .. } => {
                match self.members.get(&(group.clone(), *generation)) {
                    Some(&n) if state == "Stable" => self.stable.insert(group.clone(), n),
                    _ => self.stable.remove(group),
                };
            }
            _ => {}
        }
    }

    fn judge_act(&mut self, act: Act, e: &Event, index: u64) {
        match (&e.kind, act) {
            (EventKind::JoinFailed { consumer, .. }, Act::ConsumerProtocol) => {
                self.hint = Some(format!(
                    "{consumer} stopped: this run replays an older link, under whose rules a group used one protocol, and others were still on the other one. Set group.protocol=consumer in every consumer's Settings, stop the ones still running, then start all of them."
                ));
            }
            // Judged when the crash happens, on what the consumer had not committed.
            (EventKind::Crashed { consumer, .. }, Act::CrashMidBatch) => {
                if self.uncommitted(consumer) > 0 {
                    self.complete(e.t, index);
                } else {
                    self.hint = Some(format!(
                        "{consumer} had processed nothing its group had not committed when it crashed (no batch in hand, or its last one had just been committed), so there is nothing to read again. Start it, send more, and crash it while its card shows records not yet committed."
                    ));
                }
            }
            (EventKind::Command { command }, Act::ProduceWhileWaiting(..)) if step_matches(act, command) => {
                self.count += 1;
            }
            // Judged when the consumer first fetches them: did they overtake records of `topic`
            // still waiting to be fetched?
            (EventKind::Fetched { ranges, .. }, Act::ProduceWhileWaiting(_, topic))
                if self.count > 0 && ranges.iter().any(|r| r.topic != topic) =>
            {
                if self.waiting(topic) > 0 {
                    self.complete(e.t, index);
                } else {
                    self.count = 0;
                    self.hint = Some(format!(
                        "No {topic} message was waiting to be read when these were, so there was nothing to overtake: send the backlog again, then these while it works through it."
                    ));
                }
            }
            (EventKind::Appended { topic, partition, records, .. }, Act::ProduceSpread(n)) if self.count >= n => {
                self.spread.insert(format!("{topic}-{partition}"));
                self.spread_records += u64::from(*records);
                if self.spread.len() >= 2 {
                    self.complete(e.t, index);
                } else {
                    self.hint = Some(format!(
                        "All {} messages went to {topic}-{partition} so far: press Send 10 again — when a batch is full the sticky partitioner picks another partition at random.",
                        self.spread_records
                    ));
                }
            }
            (EventKind::Appended { topic, partition, records, .. }, Act::ProduceSpread(_)) => {
                self.spread.insert(format!("{topic}-{partition}"));
                self.spread_records += u64::from(*records);
            }
            (EventKind::Command { command }, act) if act != Act::CrashMidBatch && step_matches(act, command) => {
                self.count += 1;
                let need = match act {
                    Act::Produce(n) | Act::ProduceFrom(_, n) => n,
                    // Done once the records are in two partitions (judged as they are written).
                    Act::ProduceSpread(_) => u32::MAX,
                    _ => 1,
                };
                if self.count >= need {
                    self.complete(e.t, index);
                }
            }
            _ => {}
        }
    }

    fn judge_sight(&mut self, sight: Sight, e: &Event, index: u64) {
        match (&e.kind, sight) {
            (EventKind::GroupState { group, state, generation, .. }, Sight::Stable(n)) if state == "Stable" => {
                match self.members.get(&(group.clone(), *generation)) {
                    Some(&m) if m == n => self.complete(e.t, index),
                    Some(&m) => {
                        self.hint = Some(format!(
                            "{group} settled with {m} members, not the {n} this step waits for: start or stop consumers until it has {n}."
                        ))
                    }
                    None => {}
                }
            }
            (EventKind::MemberRemoved { consumer, .. }, Sight::CrashNoticed) if self.crashed.contains(consumer) => {
                self.complete(e.t, index);
            }
            _ => {}
        }
    }

    /// Looks at the model after the events so far (`events` of them): for what only its state
    /// shows (every record processed).
    pub fn observe_state(&mut self, sim: &Sim, events: u64) {
        match self.goals.get(self.done.len()) {
            Some(Goal::See(Sight::AllProcessed)) if all_processed(sim) => self.complete(sim.now().0, events),
            Some(Goal::Do(Act::ConsumerProtocol)) if all_on_consumer_protocol(sim) => {
                self.complete(sim.now().0, events)
            }
            _ => {}
        }
    }

    /// Follows the events `sim` just gave out (the last ones of the run so far), then looks at
    /// the model after them.
    pub fn observe_batch(&mut self, events: &[Event], sim: &Sim) {
        let count = sim.event_count();
        let first = count - events.len() as u64 + 1;
        for (i, e) in events.iter().enumerate() {
            self.observe(e, first + i as u64);
        }
        self.observe_state(sim, count);
    }
}
