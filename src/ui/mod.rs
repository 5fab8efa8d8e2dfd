//! The browser app: renders [`Snapshot`]s of the model and turns clicks into model commands.
//! No model logic lives here; the wall clock only paces playback.

mod cluster;
mod compare;
mod drag;
mod inspect;
mod invariants;
mod lane;
mod lesson;
pub mod offscreen;
mod playback;
mod plots;
mod timeline;
mod tokens;
mod wires;

use leptos::prelude::*;

use crate::sim::lesson::Shelf;
use crate::sim::link::{LinkError, Run};
use crate::sim::scenario::Scenario;
use crate::sim::snapshot::Snapshot;
use crate::sim::text::decimal;
use crate::sim::timeline::{Marker, Timeline};
use crate::sim::{experiments, teach};
use crate::sim::{Command, Sim};

pub use cluster::ClusterView;
pub use compare::Compare;
pub use inspect::EventLog;
pub use lane::ProtocolLanes;
pub use lesson::LessonPanel;
pub use plots::Plots;
pub use timeline::TimelineBar;

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
    samples: StoredValue<Vec<plots::Sample>, LocalStorage>,
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
const HEAVY_STEP_MS: f64 = 4.0;
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
    pub fn with_samples<R>(&self, f: impl FnOnce(&[plots::Sample]) -> R) -> Option<R> {
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
    /// [`plots::record`]); says whether it did (the caller then bumps `sampled`, outside the
    /// model's borrow).
    fn sample(&self, sim: &Sim) -> bool {
        self.samples.try_update_value(|samples| plots::record(samples, sim, SAMPLE_HISTORY)) == Some(true)
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

/// The seed a fresh page runs with.
pub const DEFAULT_SEED: u64 = 1;

/// Mounts the app on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Whether the page's link asks for embed mode (`embed=1`): the cluster, the playback bar and
/// the lesson's current step, for an iframe in slides or documentation.
fn embed_from_location() -> bool {
    let search = window().location().search().unwrap_or_default();
    search.trim_start_matches('?').split('&').any(|kv| kv == "embed=1")
}

/// The run in the page's own link, if it has one.
fn run_from_location() -> Option<Result<Run, LinkError>> {
    let search = window().location().search().ok()?;
    search.contains("run=").then(|| Run::decode(&search))
}

/// Wall-clock time a link may spend replaying to its instant before the page gives up.
const OPEN_BUDGET_MS: f64 = 1_500.0;

/// Moves to `t` in slices, stopping if that takes longer than [`OPEN_BUDGET_MS`] (a link can
/// point days ahead). Returns whether `t` was reached.
fn seek_within_budget(ctl: Controller, t: u64) -> bool {
    let clock = playback::now_ms;
    let started = clock();
    loop {
        let now = ctl.snapshot.with_untracked(|s| s.now_ms);
        if now >= t {
            return true;
        }
        if clock() - started > OPEN_BUDGET_MS {
            return false;
        }
        ctl.seek(t.min(now + 60_000));
    }
}

/// A controller for the page: the link's run if it has a good one, else the first experiment
/// (with a message saying why in `banner`).
fn open(first: &Scenario, banner: RwSignal<Option<String>>) -> (Controller, Scenario, bool) {
    let fallback = |why: String| {
        banner.set(Some(format!("This link could not be opened: {why}. Showing the first lesson instead.")));
    };
    let link = run_from_location();
    if let Some(Ok(run)) = &link {
        if let (Ok(ctl), Some(s)) = (Controller::new(run.clone()), teach::find(&run.scenario)) {
            let cursor = run.cursor_ms.unwrap_or(0);
            if !seek_within_budget(ctl, cursor) {
                let reached = ctl.snapshot.with_untracked(|s| s.clock.clone());
                banner.set(Some(format!(
                    "This link points at {}, further than this page replays at once; it stopped at {reached}. Press Play to go on.",
                    crate::sim::time::format_duration(cursor),
                )));
            }
            return (ctl, s, true);
        }
    }
    match link {
        Some(Err(e)) => fallback(e.to_string()),
        Some(Ok(run)) => fallback(match Controller::new(run) {
            Err(e) => e.to_string(),
            Ok(_) => "its experiment is unknown".into(),
        }),
        None => {}
    }
    let ctl = Controller::new(Run::of_scenario(first, DEFAULT_SEED))
        .or_else(|_| Controller::new(Run::of_scenario(&Scenario::default(), DEFAULT_SEED)))
        .unwrap_or_else(|e| panic!("the built-in experiments start: {e}"));
    (ctl, first.clone(), false)
}

/// Best effort: where the browser refuses, the link is still shown on the page and in the
/// address bar.
fn copy_to_clipboard(text: &str) {
    use wasm_bindgen::closure::Closure;
    let refused = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(|_| {});
    let _ = window().navigator().clipboard().write_text(text).catch(&refused);
    refused.forget(); // one small closure per click
}

/// This page (wherever it is hosted) with `query`.
fn page_url(query: &str) -> Option<String> {
    let location = window().location();
    Some(format!("{}{}?{query}", location.origin().ok()?, location.pathname().ok()?))
}

/// Puts `query` in the address bar without a new history entry or a scroll.
fn show_in_address_bar(query: &str) -> Option<String> {
    let url = page_url(query)?;
    window().history().ok()?.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url)).ok()?;
    Some(url)
}

fn play_button(playing: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            class="play"
            aria-label=move || if playing.get() { "Pause" } else { "Play" }
            on:click=move |_| playing.update(|p| *p = !*p)
        >
            {move || if playing.get() { "❚❚ Pause" } else { "▶ Play" }}
        </button>
    }
}

/// The playback speeds offered, in simulated seconds per second.
const SPEEDS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

fn speed_select(speed: RwSignal<f64>) -> impl IntoView {
    view! {
        <span class="speed">
        <label for="speed">"Speed"</label>
        <select
            id="speed"
            prop:value=move || decimal(speed.get())
            on:change=move |ev| {
                // The option's own value, looked up rather than parsed as a number.
                let value = event_target_value(&ev);
                if let Some(v) = SPEEDS.into_iter().find(|v| decimal(*v) == value) {
                    speed.set(v);
                }
            }
        >
            {SPEEDS
                .into_iter()
                .map(|v| view! { <option value=decimal(v)>{format!("{}×", decimal(v))}</option> })
                .collect_view()}
        </select>
        </span>
    }
}

fn banner_view(banner: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        banner.get().map(|text| {
            view! {
                <div class="banner" role="alert">
                    <span>{text}</span>
                    <button aria-label="Dismiss" on:click=move |_| banner.set(None)>"×"</button>
                </div>
            }
        })
    }
}

/// Embed mode: the experiment's title, playback, the lesson's current step and the cluster,
/// sized to the frame, with a link that opens this run in the full page.
fn embedded(
    ctl: Controller,
    title: RwSignal<String>,
    lesson_id: RwSignal<Option<String>>,
    playing: RwSignal<bool>,
    speed: RwSignal<f64>,
    banner: RwSignal<Option<String>>,
) -> impl IntoView {
    if let Some(root) = document().document_element() {
        let _ = root.class_list().add_1("embed");
    }
    let snapshot = ctl.snapshot();
    view! {
        <header class="embed-bar">
            <strong class="embed-title">{move || title.get()}</strong>
            {play_button(playing)}
            {speed_select(speed)}
            <span class="clock">{move || snapshot.with(|s| s.clock.clone())}</span>
            <a
                class="open-full"
                href="./"
                target="_blank"
                rel="noopener"
                on:click=move |ev| {
                    // The run as it is now, in the full page (the link is made at the click).
                    if let (Some(url), Some(a)) = (page_url(&ctl.link()), event_target::<web_sys::Element>(&ev).closest("a").ok().flatten()) {
                        let _ = a.set_attribute("href", &url);
                    }
                }
            >
                "Open full ksim ↗"
            </a>
        </header>
        <main class="embed-main">
            {banner_view(banner)}
            <LessonPanel lesson=lesson_id />
            <ClusterView snapshot=snapshot />
            <TimelineBar playing=playing />
            <drag::DragGhost />
        </main>
    }
}

/// The whole page: header with controls, the cluster, and the status line.
#[component]
pub fn App() -> impl IntoView {
    let scenarios = StoredValue::new(experiments::all());
    // A first visit opens on Lesson 1: the tutorial's first step, not a free experiment.
    let first = crate::sim::lesson::find(crate::sim::lesson::FIRST)
        .map(|l| l.scenario)
        .unwrap_or_else(|| scenarios.with_value(|s| s[0].clone()));
    // A link opens its run, paused at the instant it points at; a bad one says why.
    let banner = RwSignal::new(None::<String>);
    let (ctl, first, from_link) = open(&first, banner);
    provide_context(ctl);
    let snapshot = ctl.snapshot();
    drag::install(ctl, move || snapshot.with_untracked(|s| s.groups.iter().map(|g| g.name.clone()).collect()));
    let selected = RwSignal::new(first.id.clone());
    let opened_lesson = crate::sim::lesson::find(&first.id);
    let title = RwSignal::new(opened_lesson.as_ref().map_or_else(|| first.title.clone(), |l| l.title.clone()));
    let summary = RwSignal::new(opened_lesson.map_or_else(|| first.summary.clone(), |l| l.intro));
    let playing = RwSignal::new(!from_link);
    let copied = RwSignal::new(None::<String>);
    let speed = RwSignal::new(1.0_f64);

    provide_context(Pace { playing, speed });
    // How long (wall ms) moving the model took for the latest frame, before it and in it.
    let step_ms = StoredValue::new_local(0.0_f64);
    // Before a played frame, its task moves the model on to the instant the frame is expected to
    // show, so that the frame itself only publishes it.
    playback::before_frames(move |expected_ms| {
        if playing.get_untracked() {
            let started = playback::now_ms();
            ctl.play_ahead(expected_ms, speed.get_untracked());
            step_ms.set_value(playback::now_ms() - started);
        }
    });
    playback::start(move |elapsed_ms| {
        let before = step_ms.get_value();
        step_ms.set_value(0.0);
        if !playing.get_untracked() {
            return playback::Next::Idle;
        }
        let started = playback::now_ms();
        ctl.play(elapsed_ms, speed.get_untracked(), started);
        // The model moves on before the next publish; the tokens fly on their own meanwhile. A
        // model that takes long to move (a busy cluster played fast) moves before every frame,
        // on frames that change nothing on the page, so that no frame waits for a publish's
        // worth of it.
        if before + (playback::now_ms() - started) > HEAVY_STEP_MS {
            playback::Next::Soon
        } else {
            playback::Next::At(ctl.next_publish_at())
        }
    });
    // Frames are asked for only while something moves: pressing Play starts them again. Pausing
    // shows the model exactly at once (while playing, the page may be a few frames behind it).
    Effect::new(move |was: Option<bool>| {
        let now = playing.get();
        if now {
            playback::wake();
        } else if was == Some(true) {
            ctl.refresh();
        }
        now
    });
    playback::on_keys(move |key| match key {
        playback::Key::Space => playing.update(|p| *p = !*p),
        playback::Key::Right => {
            playing.set(false);
            ctl.step_to_next_event();
        }
        playback::Key::Left => {
            playing.set(false);
            ctl.step_back();
        }
        playback::Key::Faster => speed.update(|v| *v = (*v * 2.0).min(64.0)),
        playback::Key::Slower => speed.update(|v| *v = (*v / 2.0).max(0.25)),
    });

    let lesson_id = RwSignal::new(crate::sim::lesson::find(&first.id).map(|l| l.id));
    let choose = move |id: String| {
        // A lesson starts with nothing done (the user does the steps); an experiment plays its
        // script.
        let chosen = match crate::sim::lesson::find(&id) {
            Some(l) => Some((
                Run {
                    scenario: l.id.clone(),
                    seed: DEFAULT_SEED,
                    commands: Vec::new(),
                    cursor_ms: None,
                    group_protocol: Default::default(),
                    refuse_mixed_groups: false,
                },
                l.title,
                l.intro,
                true,
            )),
            None => scenarios
                .with_value(|all| all.iter().find(|s| s.id == id).cloned())
                .map(|s| (Run::of_scenario(&s, DEFAULT_SEED), s.title, s.summary, false)),
        };
        let Some((run, t, text, is_lesson)) = chosen else { return };
        if let Err(e) = ctl.replace(run) {
            banner.set(Some(format!("This experiment could not start: {e}")));
            return;
        }
        title.set(t);
        summary.set(text);
        lesson_id.set(is_lesson.then(|| id.clone()));
        selected.set(id);
    };
    if embed_from_location() {
        return embedded(ctl, title, lesson_id, playing, speed, banner).into_any();
    }
    let lessons = StoredValue::new(crate::sim::lesson::all());
    let shelf = move |which: Shelf| {
        lessons.with_value(|all| {
            all.iter()
                .filter(|l| l.shelf() == which)
                .map(|l| view! { <option value=l.id.clone()>{l.title.clone()}</option> })
                .collect_view()
        })
    };

    view! {
        <header class="topbar">
            <h1>"ksim"</h1>
            <p class="tagline">"See Apache Kafka work — a deterministic simulation in your browser"</p>
            <div class="controls">
                <label for="scenario">"Experiment"</label>
                <select
                    id="scenario"
                    prop:value=move || selected.get()
                    on:change=move |ev| choose(event_target_value(&ev))
                >
                    <optgroup label="Lessons">{shelf(Shelf::Lesson)}</optgroup>
                    <optgroup label="Patterns and puzzles">{shelf(Shelf::Pattern)}</optgroup>
                    <optgroup label="Free play">
                        {shelf(Shelf::Free)}
                        {scenarios
                            .with_value(|all| {
                                all.iter()
                                    .map(|s| view! { <option value=s.id.clone()>{s.title.clone()}</option> })
                                    .collect_view()
                            })}
                    </optgroup>
                </select>
                {play_button(playing)}
                {speed_select(speed)}
                <button
                    aria-label="Step to the next event"
                    title="Step to the next event (→)"
                    on:click=move |_| {
                        playing.set(false);
                        ctl.step_to_next_event();
                    }
                >
                    "Step →"
                </button>
                <button
                    aria-label="Copy link"
                    title="A link that replays this run exactly, at this instant"
                    on:click=move |_| {
                        let query = ctl.link();
                        if let Some(url) = show_in_address_bar(&query) {
                            copy_to_clipboard(&url);
                            copied.set(Some(url));
                        }
                    }
                >
                    "Copy link"
                </button>
            </div>
        </header>
        <main>
            {banner_view(banner)}
            {move || {
                copied
                    .get()
                    .map(|url| {
                        view! {
                            <p class="copied" role="status">
                                "Link copied (and in the address bar): " <code>{url}</code>
                            </p>
                        }
                    })
            }}
            <section class="lesson" aria-label="Experiment description">
                <h2>{move || title.get()}</h2>
                <p>{move || summary.get()}</p>
                <p class="guide">
                    "How to read it: producers write records into a topic's partitions on the brokers, one numbered cell per record; a filled, underlined cell is committed. A line from a partition to a consumer means it reads it (one colour per group; faint when the consumer is gone and its group has not noticed). Dots are batches on their way, a dashed stream when many flow. Below, each group's rebalance protocol. Pause and Step → let you look closely."
                </p>
            </section>
            <LessonPanel lesson=lesson_id />
            <ClusterView snapshot=snapshot />
            <lane::ProtocolLanes playing=playing />
            <TimelineBar playing=playing />
            <drag::DragGhost />
            <plots::Plots />
            <invariants::Invariants />
            <Compare />
            <inspect::EventLog />
            <p class="keys">"Keys: Space play/pause · → next event · ← previous event · + / − speed"</p>
        </main>
        <footer class="status" role="status" aria-live="off" aria-label="Simulation status">
            <span class="clock">"Simulated time " <strong>{move || snapshot.with(|s| s.clock.clone())}</strong></span>
            <span>{move || snapshot.with(|s| format!("{} events", s.events))}</span>
            <span class="digest" title="Trace digest (XXH3-128 of every event)">
                "digest "
                <code aria-label=move || snapshot.with(|s| format!("Trace digest {}", s.digest))>
                    {move || snapshot.with(|s| s.digest[..12].to_string())}
                </code>
            </span>
        </footer>
    }
    .into_any()
}
