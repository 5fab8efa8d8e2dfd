//! The browser app: renders [`Snapshot`]s of the model and turns clicks into model commands.
//! No model logic lives here; the wall clock only paces playback.

mod cluster;
mod drag;
mod inspect;
mod playback;
mod plots;
mod tokens;

use leptos::prelude::*;

use crate::sim::scenario::{self, Scenario};
use crate::sim::snapshot::Snapshot;
use crate::sim::{Command, Sim, SimTime};

pub use cluster::ClusterView;
pub use inspect::EventLog;
pub use plots::Plots;

/// The one way the interface changes the model: apply a command, publish a new snapshot.
#[derive(Clone, Copy)]
pub struct Controller {
    sim: StoredValue<Sim, LocalStorage>,
    snapshot: RwSignal<Snapshot>,
    /// The most recent events, oldest first (at most [`EVENT_LOG_LEN`]).
    log: StoredValue<std::collections::VecDeque<crate::sim::Event>, LocalStorage>,
    /// One sample per simulated second for the plots (at most [`PLOT_SECONDS`]).
    samples: StoredValue<std::collections::VecDeque<plots::Sample>, LocalStorage>,
    /// Bumped when a sample is added: the plots redraw once per simulated second, not per frame.
    sampled: RwSignal<u64>,
}

/// How many simulated seconds the plots show.
pub const PLOT_SECONDS: usize = 120;

/// How many recent events the event log keeps.
pub const EVENT_LOG_LEN: usize = 500;

impl Controller {
    pub fn new(mut sim: Sim) -> Controller {
        sim.keep_events(true);
        let snapshot = RwSignal::new(Snapshot::of(&sim));
        Controller {
            sim: StoredValue::new_local(sim),
            snapshot,
            log: StoredValue::new_local(Default::default()),
            samples: StoredValue::new_local(Default::default()),
            sampled: RwSignal::new(0),
        }
    }

    /// Calls `f` with the plot samples, oldest first (re-runs when the snapshot changes).
    pub fn with_samples<R>(&self, f: impl FnOnce(&std::collections::VecDeque<plots::Sample>) -> R) -> Option<R> {
        self.sampled.track();
        self.samples.try_with_value(f)
    }

    /// Calls `f` with the recent events without subscribing to changes (for drawing).
    pub fn with_log_untracked<R>(
        &self,
        f: impl FnOnce(&std::collections::VecDeque<crate::sim::Event>) -> R,
    ) -> Option<R> {
        self.log.try_with_value(f)
    }

    /// Calls `f` with the recent events, oldest first (re-runs when the snapshot changes).
    pub fn with_log<R>(&self, f: impl FnOnce(&std::collections::VecDeque<crate::sim::Event>) -> R) -> Option<R> {
        self.snapshot.track();
        self.log.try_with_value(f)
    }

    pub fn snapshot(&self) -> ReadSignal<Snapshot> {
        self.snapshot.read_only()
    }

    /// Applies a command at the current simulated instant.
    pub fn apply(&self, command: Command) {
        self.update(|s| s.apply(command));
    }

    /// Runs the model forward to `t` (ms).
    pub fn run_until(&self, t: u64) {
        self.update(|s| s.run_until(SimTime(t)));
    }

    /// Runs until the next action that produces an event (the "step" control).
    pub fn step_to_next_event(&self) {
        self.update(|s| {
            let before = s.event_count();
            while s.event_count() == before && s.step() {}
        });
    }

    pub fn replace(&self, mut sim: Sim) {
        sim.keep_events(true);
        self.log.update_value(|l| l.clear());
        self.samples.update_value(|l| l.clear());
        self.sampled.update(|n| *n += 1);
        self.update(|s| *s = sim);
    }

    /// Reads the model (for text that is derived on demand, like `--describe`).
    pub fn with<R>(&self, f: impl FnOnce(&Sim) -> R) -> Option<R> {
        self.snapshot.track();
        self.sim.try_with_value(f)
    }

    fn update(&self, f: impl FnOnce(&mut Sim)) {
        if let Some((snap, events)) = self.sim.try_update_value(|s| {
            f(s);
            (Snapshot::of(s), s.drain_events())
        }) {
            self.log.update_value(|log| {
                log.extend(events);
                let excess = log.len().saturating_sub(EVENT_LOG_LEN);
                log.drain(..excess);
            });
            let added = self.samples.try_update_value(|samples| plots::record(samples, &snap, PLOT_SECONDS));
            if added == Some(true) {
                self.sampled.update(|n| *n += 1);
            }
            self.snapshot.set(snap);
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

fn build(scenario: &Scenario) -> Sim {
    // Built-in scenarios are validated by the model's tests; fall back to the sandbox regardless.
    Sim::new(scenario, DEFAULT_SEED)
        .or_else(|_| Sim::new(&Scenario::default(), DEFAULT_SEED))
        .expect("the default scenario is valid")
}

/// The whole page: header with controls, the cluster, and the status line.
#[component]
pub fn App() -> impl IntoView {
    let scenarios = StoredValue::new(scenario::builtin());
    let first = scenarios.with_value(|s| s[0].clone());
    let ctl = Controller::new(build(&first));
    provide_context(ctl);
    let snapshot = ctl.snapshot();
    drag::install(ctl, move || snapshot.with_untracked(|s| s.groups.iter().map(|g| g.name.clone()).collect()));
    let selected = RwSignal::new(first.id.clone());
    let title = RwSignal::new(first.title.clone());
    let summary = RwSignal::new(first.summary.clone());
    let playing = RwSignal::new(true);
    let speed = RwSignal::new(1.0_f64);

    playback::start(move |elapsed_ms| {
        if !playing.get_untracked() {
            return;
        }
        let advance = (elapsed_ms * speed.get_untracked()).round() as u64;
        if advance > 0 {
            ctl.run_until(snapshot.with_untracked(|s| s.now_ms) + advance);
        }
    });
    playback::on_keys(move |key| match key {
        playback::Key::Space => playing.update(|p| *p = !*p),
        playback::Key::Right => {
            playing.set(false);
            ctl.step_to_next_event();
        }
        playback::Key::Faster => speed.update(|v| *v = (*v * 2.0).min(64.0)),
        playback::Key::Slower => speed.update(|v| *v = (*v / 2.0).max(0.25)),
    });

    let choose = move |id: String| {
        if let Some(s) = scenarios.with_value(|all| all.iter().find(|s| s.id == id).cloned()) {
            ctl.replace(build(&s));
            title.set(s.title.clone());
            summary.set(s.summary.clone());
            selected.set(s.id);
        }
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
                    {scenarios
                        .with_value(|all| {
                            all.iter()
                                .map(|s| view! { <option value=s.id.clone()>{s.title.clone()}</option> })
                                .collect_view()
                        })}
                </select>
                <button
                    class="play"
                    aria-label=move || if playing.get() { "Pause" } else { "Play" }
                    on:click=move |_| playing.update(|p| *p = !*p)
                >
                    {move || if playing.get() { "❚❚ Pause" } else { "▶ Play" }}
                </button>
                <label for="speed">"Speed"</label>
                <select
                    id="speed"
                    prop:value=move || speed.get().to_string()
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                            speed.set(v);
                        }
                    }
                >
                    {[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
                        .into_iter()
                        .map(|v| view! { <option value=v.to_string()>{format!("{v}×")}</option> })
                        .collect_view()}
                </select>
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
            </div>
        </header>
        <main>
            <section class="lesson" aria-label="Experiment description">
                <h2>{move || title.get()}</h2>
                <p>{move || summary.get()}</p>
            </section>
            <ClusterView snapshot=snapshot />
            <drag::DragGhost />
            <plots::Plots />
            <inspect::EventLog />
            <p class="keys">"Keys: Space play/pause · → next event · + / − speed"</p>
        </main>
        <footer class="status" role="status" aria-live="off" aria-label="Simulation status">
            <span class="clock">"Simulated time " <strong>{move || snapshot.with(|s| s.clock.clone())}</strong></span>
            <span>{move || snapshot.with(|s| format!("{} events", s.events))}</span>
            <span class="digest" title="Trace digest (SHA-256 of every event)">
                "digest " <code>{move || snapshot.with(|s| s.digest[..12].to_string())}</code>
            </span>
        </footer>
    }
}
