//! The browser app: renders [`Snapshot`]s of the model and turns clicks into model commands.
//! No model logic lives here; the wall clock only paces playback.

mod cluster;
mod compare;
mod controller;
mod drag;
mod inspect;
mod invariants;
mod lane;
mod lesson;
pub mod offscreen;
mod playback;
mod plots;
mod samples;
mod timeline;
mod tokens;
mod wires;

use leptos::prelude::*;

use crate::sim::lesson::Shelf;
use crate::sim::link::{LinkError, Run};
use crate::sim::scenario::Scenario;
use crate::sim::text::decimal;
use crate::sim::{experiments, teach};

pub use cluster::ClusterView;
pub use compare::Compare;
pub use inspect::EventLog;
pub use lane::ProtocolLanes;
pub use lesson::LessonPanel;
pub use plots::Plots;
pub use timeline::TimelineBar;

pub use controller::{Controller, Pace, Span, HEAVY_STEP_MS, PLOT_SECONDS, SAMPLE_HISTORY};

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
        let now = ctl.snapshot().with_untracked(|s| s.now_ms);
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
                let reached = ctl.snapshot().with_untracked(|s| s.clock.clone());
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
