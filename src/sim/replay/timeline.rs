//! Time travel over a run: play forward, seek to any instant, step back, and fork.
//!
//! A [`Timeline`] owns the run (scenario, seed, timed commands) and a [`Cursor`] — a simulation
//! plus the index of the next command to feed it. Commands are fed at their times exactly as a
//! live session applies them (after the model's own actions at that instant), so a timeline, a
//! live session and a replayed link give the same events and digest.
//!
//! While the run moves past the furthest point reached so far, the timeline keeps checkpoints
//! (clones of the cursor) every [`CHECKPOINT_EVENTS`] events or [`CHECKPOINT_MS`] of simulated
//! time, so seeking restores the nearest earlier checkpoint and replays only the rest. It also
//! keeps [`Marker`]s — crashes, rebalances, commits, user commands — for a timeline view.
//!
//! Doing something at an instant before the furthest point reached *forks*: the later commands,
//! checkpoints and markers are dropped and the run continues from here on a new branch.

use crate::sim::vecmap::{VecMap, VecSet};
use std::collections::VecDeque;

use crate::sim::command::{Command, TimedCommand};
use crate::sim::config::limits;
use crate::sim::event::{Event, EventKind};
use crate::sim::ids::GroupId;
use crate::sim::invariants::{Violation, Watcher};
use crate::sim::lane::Lanes;
use crate::sim::lesson;
use crate::sim::link::{LinkError, Run};
use crate::sim::progress::Tracker;
use crate::sim::sort;
use crate::sim::{Scenario, Sim, SimTime};

/// A checkpoint is taken at most this many events after the previous one...
pub const CHECKPOINT_EVENTS: u64 = 4_000;
/// ...or this much simulated time after it, whichever comes first.
pub const CHECKPOINT_MS: u64 = 5_000;
/// When there are more checkpoints than this, every other one is dropped and the spacing doubles.
pub const MAX_CHECKPOINTS: usize = 512;
/// How many recent events the timeline keeps for the event log and the message animation.
pub const RECENT_EVENTS: usize = 500;
/// How far "the next thing that happens" is looked for before giving up.
pub const STEP_HORIZON_MS: u64 = 3_600_000;
/// Simulated time advanced per slice while playing, so checkpoints land inside long jumps.
const SLICE_MS: u64 = 1_000;

/// A simulation and where it is in the run's list of commands.
#[derive(Clone)]
pub struct Cursor {
    pub sim: Sim,
    /// Index of the first command not yet applied.
    pub next: usize,
    /// A lesson's progress up to this instant, when the run is a lesson: it travels with the
    /// cursor, so seeking back before a step undoes it and nothing else does.
    pub lesson: Option<Tracker>,
    /// The groups' protocol lanes up to this instant (they travel with the cursor too).
    pub lanes: Lanes,
}

impl Cursor {
    /// A simulation of `scenario` with none of its commands applied yet (its script is not
    /// queued: commands are fed by [`Cursor::advance_to`] and [`Cursor::step`]).
    pub fn start(scenario: &Scenario, seed: u64) -> Result<Cursor, LinkError> {
        let scenario = Scenario { script: Vec::new(), ..scenario.clone() };
        let sim = Sim::new(&scenario, seed).map_err(|e| LinkError::InvalidValue(e.to_string()))?;
        let lesson = lesson::find(&scenario.id).filter(|l| !l.steps.is_empty()).map(|l| Tracker::new(&l));
        Ok(Cursor { sim, next: 0, lesson, lanes: Lanes::default() })
    }

    /// Runs to `t` (ms), applying the commands due by then at their times.
    pub fn advance_to(&mut self, commands: &[TimedCommand], t: u64) {
        while let Some(c) = commands.get(self.next).filter(|c| c.at <= t) {
            self.sim.run_until(SimTime(c.at));
            self.sim.apply(c.command.clone());
            self.next += 1;
        }
        self.sim.run_until(SimTime(t));
    }

    /// Handles the next thing that happens — a model action or a command — until at least one
    /// event comes out. Returns false when nothing is left to happen.
    pub fn step(&mut self, commands: &[TimedCommand]) -> bool {
        let before = self.sim.event_count();
        // Quiet periodic work (a retention check finding nothing) must not keep it looking forever.
        let horizon = self.sim.now().0.saturating_add(STEP_HORIZON_MS).min(limits::MAX_MS);
        loop {
            let command_at = commands.get(self.next).map(|c| c.at);
            let model_at = self.sim.next_time().map(|t| t.0);
            if command_at.min(model_at).or(command_at).or(model_at).is_none_or(|t| t > horizon) {
                self.advance_to(commands, horizon);
                return false;
            }
            match (command_at, model_at) {
                (None, None) => return false,
                // At equal times the model's own actions go first, as in a live session.
                (Some(c), m) if m.is_none_or(|m| c < m) => {
                    self.sim.run_until(SimTime(c));
                    self.sim.apply(commands[self.next].command.clone());
                    self.next += 1;
                }
                _ => {
                    self.sim.step();
                }
            }
            if self.sim.event_count() != before {
                return true;
            }
        }
    }
}

/// What a marker on the timeline stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkerKind {
    /// Something the user (or the lesson's script) did.
    Command,
    Crash,
    Stop,
    Start,
    RebalanceStart,
    RebalanceEnd,
    Commit,
    BrokerDown,
    LeaderElected,
}

impl MarkerKind {
    /// How many kinds there are.
    pub const COUNT: usize = 9;

    /// Every kind, in declaration order (`ALL[k as usize] == k`).
    pub const ALL: [MarkerKind; MarkerKind::COUNT] = [
        MarkerKind::Command,
        MarkerKind::Crash,
        MarkerKind::Stop,
        MarkerKind::Start,
        MarkerKind::RebalanceStart,
        MarkerKind::RebalanceEnd,
        MarkerKind::Commit,
        MarkerKind::BrokerDown,
        MarkerKind::LeaderElected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MarkerKind::Command => "action",
            MarkerKind::Crash => "crash",
            MarkerKind::Stop => "stop",
            MarkerKind::Start => "start",
            MarkerKind::RebalanceStart => "rebalance starts",
            MarkerKind::RebalanceEnd => "rebalance ends",
            MarkerKind::Commit => "commit",
            MarkerKind::BrokerDown => "broker down",
            MarkerKind::LeaderElected => "leader elected",
        }
    }
}

/// A notable moment of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub at_ms: u64,
    pub kind: MarkerKind,
    pub label: String,
    /// How many events the run had produced when this one came out (orders markers exactly).
    pub event_index: u64,
}

/// A run you can move around in.
pub struct Timeline {
    run: Run,
    cur: Cursor,
    checkpoints: Vec<Cursor>,
    checkpoint_events: u64,
    checkpoint_ms: u64,
    /// The furthest point reached on this branch: simulated time and event count.
    head_ms: u64,
    head_events: u64,
    markers: Vec<Marker>,
    /// Per group, when its last commit marker was placed (commits are marked at most once a second).
    last_commit_marker: VecMap<GroupId, u64>,
    /// Groups seen on the consumer protocol (their markers speak of epochs).
    modern_groups: VecSet<GroupId>,
    recent: VecDeque<Event>,
    /// The live invariants, watched at the furthest point reached.
    watch: Watcher,
}

impl Timeline {
    /// A timeline at the start of `run` (its cursor field is ignored: see [`Timeline::seek`]).
    pub fn new(run: Run) -> Result<Timeline, LinkError> {
        Timeline::with_scenario(run.scenario()?, run)
    }

    /// A timeline over `scenario` (not necessarily a built-in one) with `run`'s seed and commands.
    pub fn with_scenario(scenario: Scenario, mut run: Run) -> Result<Timeline, LinkError> {
        // Commands are fed in time order; a stable sort keeps the order of equal times, which
        // is the order a replay runs them in.
        sort::by_key(&mut run.commands, |c| c.at);
        let mut cur = Cursor::start(&scenario, run.seed)?;
        cur.sim.keep_events(true);
        let run = Run { cursor_ms: None, ..run };
        Ok(Timeline {
            checkpoints: vec![cur.clone()],
            run,
            cur,
            checkpoint_events: CHECKPOINT_EVENTS,
            checkpoint_ms: CHECKPOINT_MS,
            head_ms: 0,
            head_events: 0,
            markers: Vec::new(),
            last_commit_marker: VecMap::new(),
            modern_groups: VecSet::new(),
            recent: VecDeque::new(),
            watch: Watcher::default(),
        })
    }

    pub fn sim(&self) -> &Sim {
        &self.cur.sim
    }

    pub fn now_ms(&self) -> u64 {
        self.cur.sim.now().0
    }

    /// The furthest instant reached on this branch.
    pub fn head_ms(&self) -> u64 {
        self.head_ms
    }

    /// The run so far (the branch being shown), without a cursor.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The lesson's progress at the current instant, when the run is a lesson with steps.
    pub fn lesson_progress(&self) -> Option<&Tracker> {
        self.cur.lesson.as_ref()
    }

    /// The groups' protocol lanes at the current instant.
    pub fn lanes(&self) -> &Lanes {
        &self.cur.lanes
    }

    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    /// The most recent events up to the current instant, oldest first (after a seek, those
    /// since the checkpoint it started from).
    pub fn recent_events(&self) -> &VecDeque<Event> {
        &self.recent
    }

    /// Invariant violations on this branch, first each; those after the current instant are
    /// included (the caller compares times).
    pub fn violations(&self) -> &[Violation] {
        self.watch.violations()
    }

    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// Whether the current instant is before the furthest point reached (acting now forks).
    pub fn in_past(&self) -> bool {
        self.cur.sim.event_count() < self.head_events || self.now_ms() < self.head_ms
    }

    /// Commands after the current instant that acting now would drop.
    pub fn later_commands(&self) -> usize {
        self.run.commands.len() - self.cur.next
    }

    /// Plays forward to `t` (ms; capped at the 30-day limit).
    pub fn advance_to(&mut self, t: u64) {
        let t = t.min(limits::MAX_MS);
        loop {
            let end = self.now_ms().saturating_add(SLICE_MS).min(t);
            self.cur.advance_to(&self.run.commands, end);
            self.after_progress();
            if self.now_ms() >= t {
                return;
            }
        }
    }

    /// Plays forward to the next thing that happens. Returns false at the end of everything.
    pub fn step(&mut self) -> bool {
        let moved = self.cur.step(&self.run.commands);
        self.after_progress();
        moved
    }

    /// Moves to instant `t` (ms): everything up to and including `t` has happened.
    pub fn seek(&mut self, t: u64) {
        let t = t.min(limits::MAX_MS);
        let from = self.checkpoints.partition_point(|c| c.sim.now().0 <= t).saturating_sub(1);
        let checkpoint = &self.checkpoints[from];
        let ahead = t >= self.now_ms() && checkpoint.sim.event_count() <= self.cur.sim.event_count();
        if !ahead {
            self.cur = checkpoint.clone();
            self.recent.clear();
        }
        self.advance_to(t);
    }

    /// Goes back to the previous instant at which something happened. Returns false at the start.
    pub fn step_back(&mut self) -> bool {
        let now = self.now_ms();
        let events = self.cur.sim.event_count();
        let before = self.checkpoints.partition_point(|c| c.sim.now().0 < now);
        for i in (0..before).rev() {
            let mut probe = self.checkpoints[i].clone();
            probe.sim.keep_events(false);
            let mut last = None;
            while probe.sim.now().0 < now && probe.sim.event_count() < events && probe.step(&self.run.commands) {
                if probe.sim.now().0 < now {
                    last = Some(probe.sim.now().0);
                }
            }
            if let Some(t) = last {
                self.seek(t);
                return true;
            }
        }
        if now > 0 {
            self.seek(0);
            return true;
        }
        false
    }

    /// Applies `command` at the current instant. If that is in the past, the run forks first:
    /// the later commands (returned) are dropped, as are the checkpoints and markers after now.
    pub fn apply(&mut self, command: Command) -> Vec<TimedCommand> {
        let dropped = if self.in_past() { self.fork() } else { Vec::new() };
        // After a step the instant may be half done; a command goes after all of it, as in a
        // replay (commands due now were applied already, or dropped by the fork).
        let at = self.now_ms();
        self.cur.advance_to(&self.run.commands, at);
        // Before any later command (a lesson's script, say), which stays.
        self.run.commands.insert(self.cur.next, TimedCommand { at, command: command.clone() });
        self.cur.sim.apply(command);
        self.cur.next += 1;
        self.after_progress();
        dropped
    }

    /// Makes the current instant the end of the branch.
    fn fork(&mut self) -> Vec<TimedCommand> {
        let events = self.cur.sim.event_count();
        let dropped = self.run.commands.split_off(self.cur.next);
        let now = self.now_ms();
        // A checkpoint after this instant may have the same event count (nothing happened in
        // between), so both are compared.
        self.checkpoints.retain(|c| c.sim.event_count() <= events && c.sim.now().0 <= now);
        self.markers.retain(|m| m.event_index <= events);
        let mut kept = self.watch.violations().to_vec();
        kept.retain(|v| v.event_index <= events);
        self.watch = Watcher::resume(&self.cur.sim, kept);
        self.last_commit_marker.retain(|_, t| *t <= now);
        self.head_ms = now;
        self.head_events = events;
        dropped
    }

    /// Keeps recent events, markers past the head, and checkpoints past the last one.
    fn after_progress(&mut self) {
        let events = self.cur.sim.drain_events();
        let count = self.cur.sim.event_count();
        let first_index = count - events.len() as u64 + 1;
        let new_ground = count > self.head_events;
        // Only the newest RECENT_EVENTS are kept: older ones are dropped here, not queued first.
        let kept_from = events.len().saturating_sub(RECENT_EVENTS);
        if let Some(lesson) = self.cur.lesson.as_mut() {
            lesson.observe_batch(&events, &self.cur.sim);
        }
        for (i, e) in events.into_iter().enumerate() {
            self.cur.lanes.observe(&e);
            let index = first_index + i as u64;
            if index > self.head_events {
                self.mark(&e, index);
                self.watch.observe(&e, index);
            }
            if i >= kept_from {
                self.recent.push_back(e);
            }
        }
        if new_ground {
            let now = self.now_ms();
            self.watch.check_state(&self.cur.sim, now, count);
        }
        let excess = self.recent.len().saturating_sub(RECENT_EVENTS);
        self.recent.drain(..excess);
        if count >= self.head_events {
            self.head_events = count;
            self.head_ms = self.head_ms.max(self.now_ms());
        }
        let last = self.checkpoints.last().expect("the first checkpoint is never dropped");
        if count >= last.sim.event_count() + self.checkpoint_events
            || self.now_ms() >= last.sim.now().0 + self.checkpoint_ms
        {
            self.checkpoints.push(self.cur.clone());
            if self.checkpoints.len() > MAX_CHECKPOINTS {
                let mut i = 0;
                self.checkpoints.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.checkpoint_events *= 2;
                self.checkpoint_ms *= 2;
            }
        }
    }

    fn mark(&mut self, e: &Event, event_index: u64) {
        let at_ms = e.t;
        let (kind, label) = match &e.kind {
            EventKind::Command { command } => match &**command {
                // These show up as the consumer's own crash / stop / start events.
                Command::CrashConsumer { .. }
                | Command::StopConsumer { .. }
                | Command::StartConsumer { .. }
                | Command::CrashBroker { .. }
                | Command::StopBroker { .. }
                | Command::RestartBroker { .. } => return,
                other => (MarkerKind::Command, other.describe()),
            },
            EventKind::Crashed { consumer, .. } => (MarkerKind::Crash, format!("{consumer} crashed")),
            EventKind::Stopped { consumer } => (MarkerKind::Stop, format!("{consumer} stopped")),
            EventKind::BrokerCrashed { broker } => (MarkerKind::BrokerDown, format!("broker {broker} crashed")),
            EventKind::BrokerStopped { broker } => (MarkerKind::BrokerDown, format!("broker {broker} stopped")),
            EventKind::BrokerStarted { broker } => (MarkerKind::Start, format!("broker {broker} restarted")),
            EventKind::LeaderElected { topic, partition, leader, .. } => (
                MarkerKind::LeaderElected,
                match leader {
                    Some(b) => format!("{topic}-{partition}: broker {b} leads"),
                    None => format!("{topic}-{partition} is offline"),
                },
            ),
            EventKind::Started { consumer } if at_ms > 0 => (MarkerKind::Start, format!("{consumer} started")),
            EventKind::GroupState { group, state, generation, reason } => match state.as_str() {
                "PreparingRebalance" => (MarkerKind::RebalanceStart, format!("{group} rebalancing: {reason}")),
                // The consumer protocol: the group epoch moved on; a new target follows.
                "Assigning" => (MarkerKind::RebalanceStart, format!("{group} epoch {generation}: {reason}")),
                "Stable" if self.modern_groups.contains(group) => {
                    (MarkerKind::RebalanceEnd, format!("{group} stable, epoch {generation}"))
                }
                "Stable" => (MarkerKind::RebalanceEnd, format!("{group} stable, generation {generation}")),
                _ => return,
            },
            EventKind::TargetAssignment { group, .. } => {
                self.modern_groups.insert(group.clone());
                return;
            }
            EventKind::GroupConverted { group, protocol, reason, .. } => {
                if protocol == "consumer" {
                    self.modern_groups.insert(group.clone());
                } else {
                    self.modern_groups.remove(group);
                }
                (MarkerKind::RebalanceStart, format!("{group} is on the {protocol} protocol now: {reason}"))
            }
            EventKind::Committed { group, .. } => {
                if self.last_commit_marker.get(group).is_some_and(|t| at_ms < t + 1_000) {
                    return;
                }
                self.last_commit_marker.insert(group.clone(), at_ms);
                (MarkerKind::Commit, format!("{group} committed"))
            }
            _ => return,
        };
        self.markers.push(Marker { at_ms, kind, label, event_index });
    }
}

/// The markers worth drawing on a scrubber whose range `0..range_ms` is cut into `slots` equal
/// slots: the first marker of each kind in each slot. Later ones of the same kind in the same slot
/// would be drawn on top of it (a long run commits every second), so a scrubber shows at most
/// `slots` marks per kind however long the run. Indices into `markers`, in order; markers are in
/// time order, and those at or past the end of the range fall in the last slot.
pub fn distinct_markers(markers: &[Marker], range_ms: u64, slots: u64) -> impl Iterator<Item = usize> + '_ {
    let slots = slots.max(1);
    let slot_ms = range_ms.div_ceil(slots).max(1);
    // The slot of the last mark shown, by kind.
    let mut shown = [None; MarkerKind::COUNT];
    markers.iter().enumerate().filter_map(move |(i, m)| {
        let slot = (m.at_ms / slot_ms).min(slots - 1);
        (shown[m.kind as usize].replace(slot) != Some(slot)).then_some(i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{experiments, teach};

    fn marker(at_ms: u64, kind: MarkerKind) -> Marker {
        Marker { at_ms, kind, label: format!("{} at {at_ms}", kind.name()), event_index: at_ms }
    }

    #[test]
    fn every_marker_kind_is_listed_once_at_its_index() {
        use MarkerKind::*;
        // A new kind does not compile here until it is listed (and COUNT grows with it).
        let listed = |k: MarkerKind| match k {
            Command | Crash | Stop | Start | RebalanceStart | RebalanceEnd | Commit | BrokerDown | LeaderElected => {
                MarkerKind::ALL.contains(&k)
            }
        };
        for (i, k) in MarkerKind::ALL.into_iter().enumerate() {
            assert!(listed(k));
            assert_eq!(k as usize, i);
        }
    }

    #[test]
    fn distinct_markers_keep_the_first_of_each_kind_per_slot() {
        use MarkerKind::{Commit, Crash};
        // A 10 s range in 10 slots of 1 s.
        let m = [
            marker(0, Commit),
            marker(400, Commit),   // same slot as 0: hidden
            marker(500, Crash),    // another kind in that slot: shown
            marker(999, Commit),   // hidden
            marker(1_000, Commit), // next slot
            marker(1_500, Crash),
            marker(1_700, Crash),   // hidden
            marker(9_999, Commit),  // last slot
            marker(25_000, Commit), // past the range: last slot, hidden
            marker(30_000, Crash),  // past the range, first crash there
        ];
        assert_eq!(distinct_markers(&m, 10_000, 10).collect::<Vec<_>>(), vec![0, 2, 4, 5, 7, 9]);
        // Enough slots: every marker; one slot (or a zero range): one per kind.
        assert_eq!(distinct_markers(&m, 10_000, 100_000).count(), m.len());
        assert_eq!(distinct_markers(&m, 10_000, 1).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(distinct_markers(&m, 0, 0).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(distinct_markers(&[], 10_000, 10).count(), 0);
    }

    #[test]
    fn a_long_run_draws_a_bounded_number_of_marks() {
        // Three hours of a commit every second, a crash every minute.
        let mut markers: Vec<Marker> = (0..3 * 3_600)
            .map(|s| marker(s * 1_000, MarkerKind::Commit))
            .chain((0..3 * 60).map(|m| marker(m * 60_000 + 500, MarkerKind::Crash)))
            .collect();
        sort::by_key(&mut markers, |m| m.at_ms);
        let shown: Vec<usize> = distinct_markers(&markers, 3 * 3_600_000, 1_000).collect();
        let count = |kind| shown.iter().filter(|&&i| markers[i].kind == kind).count();
        assert!(
            count(MarkerKind::Commit) <= 1_000 && count(MarkerKind::Commit) >= 900,
            "{}",
            count(MarkerKind::Commit)
        );
        assert_eq!(count(MarkerKind::Crash), 180, "sparser than the slots: all shown");
        assert!(shown.windows(2).all(|w| w[0] < w[1]));
    }

    fn run_of(id: &str) -> Run {
        Run::of_scenario(&teach::find(id).unwrap(), 7)
    }

    #[test]
    fn a_timeline_plays_a_run_like_its_link() {
        for s in experiments::builtin() {
            let run = Run::of_scenario(&s, 3);
            let mut tl = Timeline::new(run.clone()).unwrap();
            tl.advance_to(s.duration_ms);
            assert_eq!(tl.sim().digest(), run.replay(Some(s.duration_ms)).unwrap().digest(), "{}", s.id);
        }
    }

    #[test]
    fn seeking_back_and_forth_lands_on_the_same_state() {
        let run = run_of("crash-before-commit");
        let mut tl = Timeline::new(run.clone()).unwrap();
        tl.advance_to(60_000);
        assert!(tl.checkpoint_count() > 5);
        for t in [0, 1, 12_345, 59_999, 30_000, 60_000, 4_000] {
            tl.seek(t);
            assert_eq!(tl.now_ms(), t);
            assert_eq!(tl.sim().digest(), run.replay(Some(t)).unwrap().digest(), "t={t}");
        }
        assert!(tl.in_past());
        assert_eq!(tl.head_ms(), 60_000);
    }

    #[test]
    fn stepping_back_returns_to_the_previous_instant_with_events() {
        let run = run_of("basic");
        let mut tl = Timeline::new(run).unwrap();
        tl.advance_to(8_000);
        let mut times = vec![tl.now_ms()];
        for _ in 0..5 {
            assert!(tl.step_back());
            times.push(tl.now_ms());
        }
        assert!(times.windows(2).all(|w| w[1] < w[0]), "{times:?}");
        // Stepping forward from there visits the same instant we came back from.
        let back = tl.now_ms();
        tl.step();
        while tl.now_ms() == back {
            tl.step();
        }
        assert_eq!(tl.now_ms(), times[times.len() - 2]);
    }

    #[test]
    fn acting_in_the_past_forks_and_drops_later_commands() {
        let run = run_of("crash-before-commit");
        let scripted = run.commands.len();
        let mut tl = Timeline::new(run.clone()).unwrap();
        tl.advance_to(60_000);
        let first_later = run.commands.iter().position(|c| c.at > 5_000).unwrap();
        tl.seek(5_000);
        assert!(tl.in_past());
        assert_eq!(tl.later_commands(), scripted - first_later);
        let dropped = tl.apply(Command::Produce { producer: "producer".into(), count: 3 });
        assert_eq!(dropped.len(), scripted - first_later);
        assert!(!tl.in_past());
        assert_eq!(tl.head_ms(), 5_000);
        assert!(tl.markers().iter().all(|m| m.at_ms <= 5_000));
        tl.advance_to(20_000);
        // The branch is a run like any other: its link replays it.
        let branch = tl.run().clone();
        assert_eq!(branch.commands.len(), first_later + 1);
        assert_eq!(tl.sim().digest(), branch.replay(Some(20_000)).unwrap().digest());
        // Seeking inside the new branch uses its own checkpoints.
        tl.seek(12_000);
        assert_eq!(tl.sim().digest(), branch.replay(Some(12_000)).unwrap().digest());
    }

    #[test]
    fn acting_before_scripted_commands_keeps_them_and_applies_each_once() {
        let run = run_of("basic");
        let scripted = run.commands.clone();
        assert!(scripted.iter().all(|c| c.at > 200));
        let mut tl = Timeline::new(run).unwrap();
        tl.advance_to(200);
        let before = tl.sim().event_count();
        tl.apply(Command::Produce { producer: "producer".into(), count: 3 });
        assert_eq!(tl.sim().event_count(), before + 1, "the command took effect once");
        assert_eq!(tl.run().commands.len(), scripted.len() + 1);
        assert!(tl.run().commands.windows(2).all(|w| w[0].at <= w[1].at), "still in time order");
        let end = teach::find("basic").unwrap().duration_ms;
        tl.advance_to(end);
        let commands = tl.sim().digest();
        assert_eq!(commands, tl.run().replay(Some(end)).unwrap().digest());
        let produced: u64 = tl.sim().producers()[0].next_seq;
        assert_eq!(produced, 13, "the script's 10 and the user's 3");
    }

    #[test]
    fn stepping_through_a_quiet_hour_stops_at_the_horizon() {
        // The consumer crashes for good: after its session runs out, only the broker's
        // periodic retention check (finding nothing) is left.
        let mut run = run_of("crash-before-commit");
        run.commands.retain(|c| !matches!(c.command, Command::StartConsumer { .. }));
        let mut tl = Timeline::new(run).unwrap();
        tl.advance_to(60_000);
        assert!(!tl.step(), "nothing happens");
        assert_eq!(tl.now_ms(), 60_000 + STEP_HORIZON_MS);
    }

    #[test]
    fn invariants_hold_in_every_experiment_and_lesson() {
        let runs = experiments::builtin()
            .into_iter()
            .filter(|s| s.id != "acks-one")
            .map(|s| (Run::of_scenario(&s, 2), s.duration_ms))
            .chain(crate::sim::lesson::all().into_iter().map(|l| (l.scripted_run(2), l.scenario.duration_ms)));
        for (run, end) in runs {
            let id = run.scenario.clone();
            let mut tl = Timeline::new(run).unwrap();
            tl.advance_to(end);
            assert!(tl.violations().is_empty(), "{id}: {:?}", tl.violations());
        }
    }

    #[test]
    fn the_acks_one_experiment_breaks_no_acknowledged_loss_at_the_election() {
        let s = teach::find("acks-one").unwrap();
        let mut tl = Timeline::new(Run::of_scenario(&s, 1)).unwrap();
        tl.advance_to(s.duration_ms);
        let v = tl.violations();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].invariant, crate::sim::invariants::Invariant::NoAckedLoss);
        assert!(v[0].at_ms >= 24_000, "at the election, after the controller noticed: {v:?}");
        // Before that moment, scrubbing back shows it holding (the page compares times).
        tl.seek(20_000);
        assert!(tl.violations().iter().all(|x| x.at_ms > tl.now_ms()));
    }

    #[test]
    fn markers_show_crashes_and_rebalances_once() {
        let mut tl = Timeline::new(run_of("consumer-group")).unwrap();
        let end = teach::find("consumer-group").unwrap().duration_ms;
        tl.advance_to(end);
        let before = tl.markers().to_vec();
        assert!(before.iter().any(|m| m.kind == MarkerKind::RebalanceStart));
        assert!(before.iter().any(|m| m.kind == MarkerKind::RebalanceEnd));
        assert!(before.windows(2).all(|w| w[0].event_index < w[1].event_index));
        // Replaying known ground adds no markers.
        tl.seek(end / 3);
        tl.advance_to(end);
        assert_eq!(tl.markers(), &before[..]);
    }

    #[test]
    fn checkpoints_stay_bounded() {
        let mut tl = Timeline::new(run_of("basic")).unwrap();
        tl.advance_to(2 * 60 * 60 * 1000);
        assert!(tl.checkpoint_count() <= MAX_CHECKPOINTS);
        tl.seek(3_600_000);
        assert_eq!(tl.sim().digest(), run_of("basic").replay(Some(3_600_000)).unwrap().digest());
    }
}
