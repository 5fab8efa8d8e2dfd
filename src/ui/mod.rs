//! The browser app: renders [`Snapshot`]s of the model and turns clicks into model commands.
//! No model logic lives here; the wall clock only paces playback.

mod cluster;
mod drag;
mod inspect;
mod playback;
mod plots;
mod tokens;

use leptos::prelude::*;

use crate::sim::link::Run;
use crate::sim::scenario::{self, Scenario};
use crate::sim::snapshot::Snapshot;
use crate::sim::{Command, Sim, SimTime, TimedCommand};

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
    /// The run so far as data: scenario, seed and every command with its time (for links).
    run: StoredValue<Run, LocalStorage>,
}

/// How many simulated seconds the plots show.
pub const PLOT_SECONDS: usize = 120;

/// How many recent events the event log keeps.
pub const EVENT_LOG_LEN: usize = 500;

impl Controller {
    pub fn new(sim: Sim) -> Controller {
        Controller::with_run(
            sim,
            Run { scenario: String::new(), seed: DEFAULT_SEED, commands: Vec::new(), cursor_ms: None },
        )
    }

    /// A controller over `sim`, whose commands so far are those of `run`.
    pub fn with_run(mut sim: Sim, run: Run) -> Controller {
        sim.keep_events(true);
        let snapshot = RwSignal::new(Snapshot::of(&sim));
        Controller {
            sim: StoredValue::new_local(sim),
            snapshot,
            log: StoredValue::new_local(Default::default()),
            samples: StoredValue::new_local(Default::default()),
            sampled: RwSignal::new(0),
            run: StoredValue::new_local(run),
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

    /// Applies a command at the current simulated instant, and records it for the link.
    pub fn apply(&self, command: Command) {
        let at = self.snapshot.with_untracked(|s| s.now_ms);
        self.run.update_value(|r| r.commands.push(TimedCommand { at, command: command.clone() }));
        self.update(|s| s.apply(command));
    }

    /// The share link's query part for the run so far, pointing at the current instant.
    pub fn link(&self) -> String {
        let now = self.snapshot.with_untracked(|s| s.now_ms);
        self.run.with_value(|r| Run { cursor_ms: Some(now), ..r.clone() }.encode())
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

    /// Starts over with another run (a new experiment, or an opened link).
    pub fn replace(&self, mut sim: Sim, run: Run) {
        sim.keep_events(true);
        self.run.set_value(run);
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

fn build(scenario: &Scenario) -> (Sim, Run) {
    let run = Run::of_scenario(scenario, DEFAULT_SEED);
    // Built-in scenarios are validated by the model's tests; fall back to the sandbox regardless.
    let sim = Sim::new(scenario, DEFAULT_SEED)
        .or_else(|_| Sim::new(&Scenario::default(), DEFAULT_SEED))
        .expect("the default scenario is valid");
    (sim, run)
}

/// The run in the page's own link, if it has one: `Err` with a message for a bad link.
fn run_from_location() -> Option<Result<(Sim, Run), String>> {
    let search = window().location().search().ok()?;
    if !search.contains("run=") {
        return None;
    }
    Some(
        Run::decode(&search)
            .and_then(|run| {
                let mut sim = run.start()?;
                sim.run_until(SimTime(run.cursor_ms.unwrap_or(0)));
                Ok((sim, run))
            })
            .map_err(|e| e.to_string()),
    )
}

/// Best effort: where the browser refuses, the link is still shown on the page and in the
/// address bar.
fn copy_to_clipboard(text: &str) {
    use wasm_bindgen::closure::Closure;
    let refused = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(|_| {});
    let _ = window().navigator().clipboard().write_text(text).catch(&refused);
    refused.forget(); // one small closure per click
}

/// Puts `query` in the address bar without a new history entry or a scroll.
fn show_in_address_bar(query: &str) -> Option<String> {
    let location = window().location();
    let url = format!("{}{}?{query}", location.origin().ok()?, location.pathname().ok()?);
    window().history().ok()?.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url)).ok()?;
    Some(url)
}

/// The whole page: header with controls, the cluster, and the status line.
#[component]
pub fn App() -> impl IntoView {
    let scenarios = StoredValue::new(scenario::builtin());
    let mut first = scenarios.with_value(|s| s[0].clone());
    // A link opens its run, paused at the instant it points at; a bad one says why.
    let banner = RwSignal::new(None::<String>);
    let opened = run_from_location();
    let (sim, run) = match opened {
        Some(Ok((sim, run))) => {
            if let Some(s) = scenario::find(&run.scenario) {
                first = s;
            }
            (sim, run)
        }
        Some(Err(why)) => {
            banner.set(Some(format!("This link could not be opened: {why}. Showing the first experiment instead.")));
            build(&first)
        }
        None => build(&first),
    };
    let from_link = run.cursor_ms.is_some();
    let ctl = Controller::with_run(sim, run);
    provide_context(ctl);
    let snapshot = ctl.snapshot();
    drag::install(ctl, move || snapshot.with_untracked(|s| s.groups.iter().map(|g| g.name.clone()).collect()));
    let selected = RwSignal::new(first.id.clone());
    let title = RwSignal::new(first.title.clone());
    let summary = RwSignal::new(first.summary.clone());
    let playing = RwSignal::new(!from_link);
    let copied = RwSignal::new(None::<String>);
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
            let (sim, run) = build(&s);
            ctl.replace(sim, run);
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
            {move || {
                banner
                    .get()
                    .map(|text| {
                        view! {
                            <div class="banner" role="alert">
                                <span>{text}</span>
                                <button aria-label="Dismiss" on:click=move |_| banner.set(None)>"×"</button>
                            </div>
                        }
                    })
            }}
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
                "digest "
                <code aria-label=move || snapshot.with(|s| format!("Trace digest {}", s.digest))>
                    {move || snapshot.with(|s| s.digest[..12].to_string())}
                </code>
            </span>
        </footer>
    }
}
