//! The browser app: renders [`Snapshot`]s of the model and turns clicks into model commands.
//! No model logic lives here; the wall clock only paces playback.

mod cluster;
mod playback;

use leptos::prelude::*;

use crate::sim::scenario::{self, Scenario};
use crate::sim::snapshot::Snapshot;
use crate::sim::{Sim, SimTime};

pub use cluster::ClusterView;

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
    let sim = StoredValue::new_local(build(&first));
    let snapshot = RwSignal::new(sim.with_value(Snapshot::of));
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
        if advance == 0 {
            return;
        }
        let snap = sim.try_update_value(|s| {
            let t = s.now().plus(advance);
            s.run_until(SimTime(t.ms()));
            Snapshot::of(s)
        });
        if let Some(snap) = snap {
            snapshot.set(snap);
        }
    });

    let choose = move |id: String| {
        if let Some(s) = scenarios.with_value(|all| all.iter().find(|s| s.id == id).cloned()) {
            sim.set_value(build(&s));
            snapshot.set(sim.with_value(Snapshot::of));
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
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                            speed.set(v);
                        }
                    }
                >
                    {[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
                        .into_iter()
                        .map(|v| view! { <option value=v.to_string() selected=v == 1.0>{format!("{v}×")}</option> })
                        .collect_view()}
                </select>
            </div>
        </header>
        <main>
            <section class="lesson" aria-label="Experiment description">
                <h2>{move || title.get()}</h2>
                <p>{move || summary.get()}</p>
            </section>
            <ClusterView snapshot=snapshot.read_only() />
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
