//! A lesson beside the cluster: its steps (done when the model sees them done), the checks
//! computed from the run, why it happens, and the same thing on a real cluster.

use leptos::prelude::*;

use super::controller::Controller;
use crate::sim::lesson::{self, Lesson, Verdict};

/// The panel for the selected lesson (nothing for a plain experiment).
#[component]
pub fn LessonPanel(
    /// Id of the selected lesson, if the experiment is one.
    lesson: RwSignal<Option<String>>,
) -> impl IntoView {
    let Some(ctl) = use_context::<Controller>() else { return ().into_any() };
    let current = Memo::new(move |_| lesson.get().and_then(|id| lesson::find(&id).map(StoredLesson)));
    (move || current.get().map(|StoredLesson(l)| view! { <Panel lesson=l ctl /> })).into_any()
}

/// A lesson in a `Memo` (compared by id).
#[derive(Clone)]
struct StoredLesson(Lesson);

impl PartialEq for StoredLesson {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

#[component]
fn Panel(lesson: Lesson, ctl: Controller) -> impl IntoView {
    let lesson = StoredValue::new(lesson);
    let tracked = Memo::new(move |_| ctl.lesson_progress().unwrap_or_default());
    let progress = Memo::new(move |_| tracked.with(|(done, _)| done.clone()));
    let hint = Memo::new(move |_| tracked.with(|(_, hint)| hint.clone()));
    // The step shown: the first not done, unless the user browses with Back / Next.
    let browsing = RwSignal::new(None::<usize>);
    let current = move || progress.with(|p| p.iter().position(|d| !d).unwrap_or(p.len().saturating_sub(1)));
    let shown = move || browsing.get().unwrap_or_else(current);
    let count = lesson.with_value(|l| l.steps.len());
    let verdicts = RwSignal::new(None::<Vec<Verdict>>);
    let check = move || {
        let Some(run) = ctl.run() else { return };
        let now = ctl.snapshot().with_untracked(|s| s.now_ms);
        let result = lesson.with_value(|l| l.evaluate(&run, now));
        verdicts.set(result.ok().map(|(_, v)| v));
    };
    // Checked by itself once every step is done, and again each simulated second until every
    // check passes (what the last step starts takes a moment to show).
    let second = Memo::new(move |_| ctl.snapshot().with(|s| s.now_ms / 1000));
    Effect::new(move |_| {
        // `get`, not `track`: a memo follows its sources only once it has been read.
        let _ = second.get();
        let all_done = count > 0 && progress.with(|p| p.iter().all(|d| *d));
        let settled = verdicts.with_untracked(|v| v.as_ref().is_some_and(|v| v.iter().all(|x| x.pass)));
        if all_done && !settled {
            check();
        }
    });
    let steps = move || {
        let done = progress.get();
        let shown = shown();
        lesson.with_value(|l| {
            l.steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let state = if done.get(i).copied().unwrap_or(false) {
                        "done"
                    } else if i == current() {
                        "to do now"
                    } else {
                        "later"
                    };
                    let detail = (i == shown).then(|| view! { <p class="step-detail">{s.detail.clone()}</p> });
                    view! {
                        <li class="step" class:done=state == "done" class:shown=i == shown>
                            <span class="step-state">{format!("{state}: ")}</span>
                            <strong>{s.title.clone()}</strong>
                            {detail}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let results = move || {
        verdicts.get().map(|vs| {
            vs.into_iter()
                .map(|v| {
                    view! {
                        <li class:pass=v.pass class:fail=!v.pass>
                            <strong>{if v.pass { "pass ✓ " } else { "not yet ✗ " }}</strong>
                            {v.text}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let (why, real, has_checks) = lesson.with_value(|l| (l.why.clone(), l.real_cluster.clone(), !l.checks.is_empty()));
    // Once the panel scrolls out of view (the user is down at the cluster, doing the step), the
    // current step docks at the top of the window.
    let panel = NodeRef::<leptos::html::Section>::new();
    let away = RwSignal::new(false);
    let look = move || {
        if let Some(el) = panel.get_untracked() {
            let gone = el.get_bounding_client_rect().bottom() < 0.0;
            if away.get_untracked() != gone {
                away.set(gone);
            }
        }
    };
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| look());
    let resized = window_event_listener(leptos::ev::resize, move |_| look());
    on_cleanup(move || {
        scrolled.remove();
        resized.remove();
    });
    let dock = move || {
        let i = current();
        let step = lesson.with_value(|l| l.steps.get(i).map(|s| (s.title.clone(), s.detail.clone())));
        let (title, detail) = step?;
        let done = progress.with(|p| !p.is_empty() && p.iter().all(|d| *d));
        let label = if done { format!("All {count} steps done") } else { format!("Step {} of {count}", i + 1) };
        Some(view! {
            <aside class="step-dock" aria-label="Current step">
                <span class="step-state">{label}</span>
                " "
                <strong>{title}</strong>
                " "
                <span class="dock-detail">{detail}</span>
                {move || hint.get().map(|h| view! { <p class="dock-hint">{h}</p> })}
            </aside>
        })
    };
    view! {
        <Show when=move || { away.get() && count > 0 }>{dock}</Show>
        <section class="lesson-panel" aria-label="Lesson" node_ref=panel>
            <Show when=move || { count > 0 }>
                <ol class="steps" aria-label="Steps">{steps}</ol>
                {move || hint.get().map(|h| view! { <p class="step-hint" role="status">{h}</p> })}
                <div class="step-nav">
                    <button
                        aria-label="Previous step"
                        on:click=move |_| browsing.set(Some(shown().saturating_sub(1)))
                    >
                        "‹ Back"
                    </button>
                    <button
                        aria-label="Next step"
                        on:click=move |_| browsing.set(Some((shown() + 1).min(count - 1)))
                    >
                        "Next ›"
                    </button>
                </div>
            </Show>
            <Show when=move || has_checks>
                <div class="checks">
                    <button on:click=move |_| check()>"Check my run"</button>
                    <ul aria-label="Checks" aria-live="polite">{results}</ul>
                </div>
            </Show>
            <Show when={
                let why = why.clone();
                move || !why.is_empty()
            }>
                <details>
                    <summary>"Why?"</summary>
                    <p>{why.clone()}</p>
                </details>
            </Show>
            <details>
                <summary>"On a real cluster"</summary>
                <pre><code>{real}</code></pre>
            </details>
        </section>
    }
}
