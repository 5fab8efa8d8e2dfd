//! The page's controller: the model, its timeline and what the views read of it (the
//! snapshot they draw, the lesson's progress, the plots' samples), advanced by playback and
//! published to the views a few times a second. The views ([`super::App`] and its cards) hold
//! a [`Controller`] and call it; it knows none of them.

use leptos::prelude::*;

use super::offscreen;
use super::playback;
use super::samples::{self, Sample};
use crate::sim::link::{LinkError, Run};
use crate::sim::snapshot::Snapshot;
use crate::sim::timeline::{Marker, Timeline};
use crate::sim::{Command, Sim};

/// Whether the page plays and how fast (simulated ms per wall ms), for layers that animate
/// between frames.
#[derive(Clone, Copy)]
pub struct Pace {
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
}

/// The one way the interface changes the model: apply a command, move in time, publish a new
/// snapshot.
#[derive(Clone, Copy)]
pub struct Controller {
    tl: StoredValue<Timeline, LocalStorage>,
    snapshot: RwSignal<Snapshot>,
    /// One sample per simulated second for the plots, oldest first (at most [`SAMPLE_HISTORY`]).
    samples: StoredValue<Vec<Sample>, LocalStorage>,
    /// Bumped when the samples shown change: the plots redraw once per simulated second (or
    /// seek), not per frame, and while playing only with a publish.
    sampled: RwSignal<u64>,
    /// A sample was taken on a played frame that did not publish: the next publish shows it.
    sample_waits: StoredValue<bool, LocalStorage>,
    /// Where the run stands in time: the timeline redraws when this changes.
    span: RwSignal<Span>,
    /// Said once after acting in the past: how many later actions the new branch dropped.
    forked: RwSignal<Option<(u64, usize)>>,
    /// Frames played so far (a busy cluster's rows and cards refresh in turns, see [`stagger`]).
    frames: StoredValue<u64, LocalStorage>,
    /// The protocol lanes' version: the lanes redraw when it changes, not every frame.
    lanes: RwSignal<u64>,
    /// When (wall ms) a played frame last published a snapshot (see [`PUBLISH_EVERY_MS`]).
    published_at: StoredValue<f64, LocalStorage>,
    /// The latest played frame published the page (see [`Controller::frame_is_busy`]).
    published_now: StoredValue<bool, LocalStorage>,
    /// The play clock: the simulated instant (ms) the wall clock has reached while playing, and
    /// the model's instant when playing last moved it (see [`Controller::play`]).
    clock: StoredValue<Option<(u64, u64)>, LocalStorage>,
    /// Bumped whenever the model leaves its course (a seek, a step back, another run): layers
    /// that add to what they drew ([`lane`]) draw afresh.
    jumps: StoredValue<u64, LocalStorage>,
}

/// While playing, the model moves and the page's text, rows, cards, edges and lanes are
/// published this often (wall ms): eight times a second reads as continuous for counters and
/// clocks, and spares the browser restyling, laying out and painting them sixty times a second.
/// The model is moved in the task that asks for the frame, just before it (see
/// [`Controller::play_ahead`]), so the frame itself only publishes.
/// The lanes and tokens follow in the same frame (edges that changed on the next, once the page's
/// views have taken the change in), and the tokens fly between publishes on a worker of their
/// own ([`tokens`]): no other frame is asked for, unless the model is slow to move (see
/// [`HEAVY_STEP_MS`]). Anything the user does publishes at once, and so does pausing.
const PUBLISH_EVERY_MS: f64 = 125.0;
/// A played frame whose model step takes longer than this (wall ms) asks for the next frame at
/// once rather than at the next publish.
pub const HEAVY_STEP_MS: f64 = 4.0;
/// A frame asked for at the publishing instant may come a little early (its timer fires ahead of
/// the display's frame): it publishes all the same.
const PUBLISH_SLACK_MS: f64 = 10.0;

/// While a cluster with more partitions than this plays, each partition's row (and each
/// consumer's and group's card) is refreshed on one publish in [`STAGGER_FRAMES`], taking turns
/// — an eighth of the page changes per publish instead of all of it — and not at all while it is
/// out of view ([`offscreen`]; on the next publish once it is back). Rows and cards in view are
/// at most seven publishes (0.7 s) behind the clock while playing, and all are exact whenever
/// playback stops (see [`Controller::refresh`]).
const STAGGER_ABOVE_PARTITIONS: usize = 12;
const STAGGER_FRAMES: u64 = 8;

/// Keeps in `next` the previous rows of the partitions, and cards of the consumers and groups,
/// whose turn it is not on `frame`.
fn stagger(prev: &Snapshot, next: &mut Snapshot, frame: u64) {
    let partitions: usize = next.topics.iter().map(|t| t.partitions.len()).sum();
    if partitions <= STAGGER_ABOVE_PARTITIONS {
        return;
    }
    let mut turn = 0u64;
    // `keep_old` puts the previous state back: out of view (unless just back in view), or not
    // this item's turn.
    let mut hold = |key: String, keep_old: &mut dyn FnMut()| {
        let due =
            offscreen::came_back(&key) || (!offscreen::is_out(&key) && (frame + turn).is_multiple_of(STAGGER_FRAMES));
        if !due {
            keep_old();
        }
        turn += 1;
    };
    for (topic, old) in next.topics.iter_mut().zip(&prev.topics) {
        if topic.name == old.name && topic.partitions.len() == old.partitions.len() {
            for (i, (p, o)) in topic.partitions.iter_mut().zip(&old.partitions).enumerate() {
                hold(offscreen::partition_key(&topic.name, i as u32), &mut || p.clone_from(o));
            }
        }
    }
    // Cards are held only while the same ones are shown (none added, removed or renamed).
    if next.consumers.iter().map(|c| &c.name).eq(prev.consumers.iter().map(|c| &c.name)) {
        for (c, o) in next.consumers.iter_mut().zip(&prev.consumers) {
            hold(offscreen::consumer_key(&c.name), &mut || c.clone_from(o));
        }
    }
    if next.groups.iter().map(|g| &g.name).eq(prev.groups.iter().map(|g| &g.name)) {
        for (g, o) in next.groups.iter_mut().zip(&prev.groups) {
            hold(offscreen::group_key(&g.name), &mut || g.clone_from(o));
        }
    }
    offscreen::frame_done();
}

/// The current instant against the furthest one reached on this branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub now_ms: u64,
    pub head_ms: u64,
    /// The current instant is before the furthest one: acting now forks.
    pub in_past: bool,
    /// Actions after the current instant that acting now would drop.
    pub later_commands: usize,
    /// Markers on this branch: a marker added without time moving (a command applied while
    /// paused) still changes the span, which readers of the markers follow.
    pub markers: usize,
    /// Invariant violations on this branch.
    pub violations: usize,
}

/// How many simulated seconds the plots show.
pub const PLOT_SECONDS: usize = 120;

/// How many per-second plot samples are kept for scrubbing back.
pub const SAMPLE_HISTORY: usize = 3_600;

impl Controller {
    /// A controller at the start of `run`.
    pub fn new(run: Run) -> Result<Controller, LinkError> {
        let tl = Timeline::new(run)?;
        let snapshot = RwSignal::new(Snapshot::of(tl.sim()));
        let ctl = Controller {
            tl: StoredValue::new_local(tl),
            snapshot,
            samples: StoredValue::new_local(Vec::new()),
            sampled: RwSignal::new(0),
            sample_waits: StoredValue::new_local(false),
            span: RwSignal::new(Span::default()),
            forked: RwSignal::new(None),
            frames: StoredValue::new_local(0),
            lanes: RwSignal::new(0),
            published_at: StoredValue::new_local(f64::MIN),
            published_now: StoredValue::new_local(false),
            clock: StoredValue::new_local(None),
            jumps: StoredValue::new_local(0),
        };
        ctl.update(|_| {});
        Ok(ctl)
    }

    /// Calls `f` with the plot samples up to the current instant, oldest first (at most
    /// [`PLOT_SECONDS`]; re-runs when they change).
    pub fn with_samples<R>(&self, f: impl FnOnce(&[Sample]) -> R) -> Option<R> {
        self.sampled.track();
        // Up to the instant shown (the model may stand later: it moves before a frame shows it).
        let now_s = self.snapshot.with_untracked(|s| s.now_ms) / 1000;
        self.samples.try_with_value(|all| {
            let end = all.partition_point(|s| s.second <= now_s);
            f(&all[end.saturating_sub(PLOT_SECONDS)..end])
        })
    }

    /// The protocol lanes' version (changes when a lane gains something, or after a seek).
    pub fn lanes_version(&self) -> ReadSignal<u64> {
        self.lanes.read_only()
    }

    /// Calls `f` with the protocol lanes at the current instant, without subscribing.
    pub fn with_lanes_untracked<R>(&self, f: impl FnOnce(&crate::sim::lane::Lanes) -> R) -> Option<R> {
        self.tl.try_with_value(|tl| f(tl.lanes()))
    }

    /// Calls `f` with the recent events without subscribing to changes (for drawing).
    pub fn with_log_untracked<R>(
        &self,
        f: impl FnOnce(&std::collections::VecDeque<crate::sim::Event>) -> R,
    ) -> Option<R> {
        self.tl.try_with_value(|tl| f(tl.recent_events()))
    }

    /// Calls `f` with the recent events, oldest first (re-runs when the snapshot changes).
    pub fn with_log<R>(&self, f: impl FnOnce(&std::collections::VecDeque<crate::sim::Event>) -> R) -> Option<R> {
        self.snapshot.track();
        self.with_log_untracked(f)
    }

    /// Calls `f` with the invariant violations of this branch (re-runs when the span changes).
    pub fn with_violations<R>(&self, f: impl FnOnce(&[crate::sim::invariants::Violation]) -> R) -> Option<R> {
        self.span.track();
        self.tl.try_with_value(|tl| f(tl.violations()))
    }

    /// Calls `f` with the timeline's markers (re-runs when the span changes).
    pub fn with_markers<R>(&self, f: impl FnOnce(&[Marker]) -> R) -> Option<R> {
        self.span.track();
        self.tl.try_with_value(|tl| f(tl.markers()))
    }

    pub fn snapshot(&self) -> ReadSignal<Snapshot> {
        self.snapshot.read_only()
    }

    pub fn span(&self) -> ReadSignal<Span> {
        self.span.read_only()
    }

    /// After acting in the past: the instant the new branch starts at and the actions dropped.
    pub fn forked(&self) -> RwSignal<Option<(u64, usize)>> {
        self.forked
    }

    /// Applies a command at the current simulated instant, and records it for the link. In
    /// the past, this starts a new branch (the page says so beforehand).
    pub fn apply(&self, command: Command) {
        let was_past = self.span.with_untracked(|s| s.in_past);
        let mut dropped = 0;
        self.update(|tl| dropped = tl.apply(command).len());
        if was_past {
            let now = self.now_ms();
            self.samples.update_value(|all| all.retain(|s| s.second <= now / 1000));
            self.forked.set(Some((now, dropped)));
        }
    }

    /// The share link's query part for the run so far, pointing at the current instant.
    pub fn link(&self) -> String {
        // The instant shown (while playing, the model may be a frame or two ahead of it).
        let now = self.snapshot.with_untracked(|s| s.now_ms);
        self.tl.with_value(|tl| Run { cursor_ms: Some(now), ..tl.run().clone() }.encode())
    }

    /// The run so far (the branch being shown).
    pub fn run(&self) -> Option<Run> {
        self.tl.try_with_value(|tl| tl.run().clone())
    }

    /// Runs the model forward to `t` (ms).
    pub fn run_until(&self, t: u64) {
        self.update(|tl| tl.advance_to(t));
    }

    /// The model's current instant (ms). While playing, the page shows it up to
    /// [`PUBLISH_EVERY_MS`] later.
    pub fn now_ms(&self) -> u64 {
        self.tl.try_with_value(|tl| tl.now_ms()).unwrap_or(0)
    }

    /// When (wall ms) the page is next published while playing.
    pub fn next_publish_at(&self) -> f64 {
        self.published_at.get_value() + PUBLISH_EVERY_MS
    }

    /// Whether this frame of play published the page: the page's views take the change in once
    /// this frame's callbacks return, so a layer that reads their boxes (the edges) waits for
    /// the next frame.
    pub fn frame_is_busy(&self) -> bool {
        self.published_now.try_get_value().unwrap_or(false)
    }

    /// Plays one animation frame forward to `t` (ms) at wall-clock instant `wall` (ms): like
    /// [`Controller::run_until`], but the page is published only every [`PUBLISH_EVERY_MS`],
    /// with a busy cluster's rows and cards refreshed in turns.
    pub fn play_frame(&self, t: u64, wall: f64) {
        let publish = wall >= self.next_publish_at() - PUBLISH_SLACK_MS;
        self.published_now.set_value(publish);
        if !publish {
            let sampled = self.tl.try_update_value(|tl| {
                tl.advance_to(t);
                self.sample(tl.sim())
            });
            // The plots show samples up to the instant the page shows: the next publish redraws
            // them.
            if sampled == Some(true) {
                self.sample_waits.set_value(true);
            }
            return;
        }
        self.published_at.set_value(wall);
        let frame = self.frames.try_update_value(|n| {
            *n += 1;
            *n
        });
        self.publish(|tl| tl.advance_to(t), frame);
    }

    /// Where the play clock stands (simulated ms). A seek or an action that moved the model
    /// since playing last moved it starts the clock again from the model's instant.
    fn clock_ms(&self) -> u64 {
        let model = self.now_ms();
        match self.clock.get_value() {
            Some((clock, at)) if at == model => clock,
            _ => model,
        }
    }

    /// The work before a played frame, done in the task that asks for it so that the frame only
    /// publishes (see [`playback::before_frames`]): moves the model, unpublished, to where the
    /// play clock will stand `expected_ms` (wall) from the previous frame at `speed`.
    pub fn play_ahead(&self, expected_ms: f64, speed: f64) {
        let clock = self.clock_ms();
        self.tl.update_value(|tl| tl.advance_to(clock + (expected_ms * speed).round() as u64));
        self.clock.set_value(Some((clock, self.now_ms())));
    }

    /// Plays one frame `elapsed_ms` (wall) after the previous one at `speed`, at wall instant
    /// `wall` (see [`Controller::play_frame`]). A model already past the play clock (the frame
    /// came earlier than [`Controller::play_ahead`] expected) is shown where it stands, and the
    /// clock catches up with it: the run keeps the wall clock's pace.
    pub fn play(&self, elapsed_ms: f64, speed: f64, wall: f64) {
        let clock = self.clock_ms() + (elapsed_ms * speed).round() as u64;
        self.play_frame(clock.max(self.now_ms()), wall);
        self.clock.set_value(Some((clock, self.now_ms())));
    }

    /// How many times the model has left its course (a seek, a step back, another run): while
    /// this stays the same, the model has only moved forward.
    pub fn jumps(&self) -> u64 {
        self.jumps.try_get_value().unwrap_or(0)
    }

    fn jumped(&self) {
        self.jumps.update_value(|n| *n += 1);
    }

    /// Publishes the model's state afresh (playback stopped: every row exact again).
    pub fn refresh(&self) {
        self.update(|_| {});
    }

    /// Runs until the next action that produces an event (the "step" control).
    pub fn step_to_next_event(&self) {
        self.update(|tl| {
            tl.step();
        });
    }

    /// Goes back to the previous instant at which something happened.
    pub fn step_back(&self) {
        self.jumped();
        self.update(|tl| {
            tl.step_back();
        });
        self.sampled.update(|n| *n += 1);
    }

    /// Moves to instant `t` (ms), backwards or forwards.
    pub fn seek(&self, t: u64) {
        self.jumped();
        self.update(|tl| tl.seek(t));
        self.sampled.update(|n| *n += 1);
    }

    /// Starts over with another run (a new experiment, or an opened link), at its cursor.
    pub fn replace(&self, run: Run) -> Result<(), LinkError> {
        let cursor = run.cursor_ms;
        let tl = Timeline::new(run)?;
        self.jumped();
        self.samples.update_value(|l| l.clear());
        self.forked.set(None);
        // The new run's lanes may have the old one's version number: readers look again.
        self.lanes.set(u64::MAX);
        self.update(|old| *old = tl);
        if let Some(t) = cursor {
            self.seek(t);
        }
        self.sampled.update(|n| *n += 1);
        Ok(())
    }

    /// The lesson's steps done at the current instant, and what went differently when the user
    /// last tried the current one (re-runs when the snapshot changes).
    pub fn lesson_progress(&self) -> Option<(Vec<bool>, Option<String>)> {
        self.snapshot.track();
        self.tl
            .try_with_value(|tl| tl.lesson_progress().map(|p| (p.progress(), p.hint().map(str::to_string))))
            .flatten()
    }

    /// Reads the model (for text that is derived on demand, like `--describe`).
    pub fn with<R>(&self, f: impl FnOnce(&Sim) -> R) -> Option<R> {
        self.snapshot.track();
        self.tl.try_with_value(|tl| f(tl.sim()))
    }

    /// Takes the plots' sample of `sim` if it entered a simulated second not sampled yet (see
    /// [`samples::record`]); says whether it did (the caller then bumps `sampled`, outside the
    /// model's borrow).
    fn sample(&self, sim: &Sim) -> bool {
        self.samples.try_update_value(|samples| samples::record(samples, sim, SAMPLE_HISTORY)) == Some(true)
    }

    fn update(&self, f: impl FnOnce(&mut Timeline)) {
        self.published_now.set_value(false);
        self.publish(f, None);
    }

    /// Changes the model and publishes its state; `frame`: a played frame (see [`stagger`]).
    fn publish(&self, f: impl FnOnce(&mut Timeline), frame: Option<u64>) {
        if let Some((mut snap, span, lanes, added)) = self.tl.try_update_value(|tl| {
            f(tl);
            let span = Span {
                now_ms: tl.now_ms(),
                head_ms: tl.head_ms(),
                in_past: tl.in_past(),
                later_commands: tl.later_commands(),
                markers: tl.markers().len(),
                violations: tl.violations().len(),
            };
            let added = self.sample(tl.sim());
            (Snapshot::of(tl.sim()), span, tl.lanes().version, added)
        }) {
            if let Some(frame) = frame {
                self.snapshot.with_untracked(|prev| stagger(prev, &mut snap, frame));
            }
            self.snapshot.set(snap);
            // After the snapshot: the plots show the samples up to its instant.
            if added || self.sample_waits.get_value() {
                self.sample_waits.set_value(false);
                self.sampled.update(|n| *n += 1);
            }
            if self.lanes.get_untracked() != lanes {
                self.lanes.set(lanes);
            }
            if self.span.get_untracked() != span {
                self.span.set(span);
            }
            // The layers drawn by frame (tokens, edges, lanes) follow: on this frame when it is a
            // played one (they are called after it), on the next otherwise.
            if frame.is_none() {
                playback::wake();
            }
        }
    }
}
