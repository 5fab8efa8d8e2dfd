//! The timeline under the cluster: a scrubber over the run, markers for what happened (click one
//! to go there), step back, and the warning that acting in the past starts a new branch.

use leptos::prelude::*;

use super::controller::Controller;
use crate::sim::text::Fixed;
use crate::sim::time::format_duration;
use crate::sim::timeline::{distinct_markers, Marker, MarkerKind};

/// The scrubber's range grows in these steps (ms), so marks move rarely, not every frame.
const RANGES: [u64; 14] = [
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    1_200_000,
    1_800_000,
    3_600_000,
    7_200_000,
    21_600_000,
    43_200_000,
    86_400_000,
    604_800_000,
    2_592_000_000,
];

/// The end of the scrubber's range for a run that has reached `head_ms`.
pub fn range_end(head_ms: u64) -> u64 {
    RANGES.iter().copied().find(|&r| r > head_ms).unwrap_or(RANGES[RANGES.len() - 1])
}

/// The mark drawn for a kind of marker: a shape (so colour is never the only cue) and a class.
fn shape(kind: MarkerKind) -> impl IntoView {
    match kind {
        MarkerKind::Crash => view! {
            <g class="mk-crash">
                <line x1="-5" y1="3" x2="5" y2="13" />
                <line x1="5" y1="3" x2="-5" y2="13" />
            </g>
        }
        .into_any(),
        MarkerKind::Stop => view! { <rect class="mk-stop" x="-4" y="4" width="8" height="8" /> }.into_any(),
        MarkerKind::Start => view! { <polygon class="mk-start" points="-4,3 5,8 -4,13" /> }.into_any(),
        MarkerKind::RebalanceStart => {
            view! { <rect class="mk-rebalance" x="-1.5" y="0" width="3" height="24" /> }.into_any()
        }
        MarkerKind::RebalanceEnd => {
            view! { <line class="mk-stable" x1="0" y1="0" x2="0" y2="24" stroke-dasharray="3 2" /> }.into_any()
        }
        MarkerKind::Commit => view! { <circle class="mk-commit" cx="0" cy="20" r="2" /> }.into_any(),
        MarkerKind::Command => view! { <polygon class="mk-command" points="0,2 5,8 0,14 -5,8" /> }.into_any(),
        MarkerKind::BrokerDown => view! { <polygon class="mk-broker" points="-5,3 5,3 0,13" /> }.into_any(),
        MarkerKind::LeaderElected => view! { <circle class="mk-leader" cx="0" cy="8" r="4" /> }.into_any(),
    }
}

/// Markers of one kind within the same 1/`MARK_SLOTS` of the scrubber's range are drawn as one
/// mark (a long run commits every second: thousands of marks on a few hundred pixels).
const MARK_SLOTS: u64 = 250;

/// The track is drawn in this many stretches.
const MARK_STRETCHES: u64 = 10;

/// The stretch of the track a mark at `at_ms` is drawn in.
fn stretch_of(at_ms: u64, end: u64) -> u64 {
    (at_ms / end.div_ceil(MARK_STRETCHES).max(1)).min(MARK_STRETCHES - 1)
}

/// One mark, placed against the scrubber's range end `end`; `data-at` says where a click on it
/// goes (one listener on the track serves every mark).
fn mark(m: &Marker, end: u64) -> impl IntoView {
    let at = m.at_ms;
    let x = format!("{}%", Fixed(at as f64 / end as f64 * 100.0, 3));
    let title = format!("{} — {}", format_duration(at), m.label);
    view! {
        <svg x=x y="0" overflow="visible" class="mark" data-at=at>
            <title>{title}</title>
            {shape(m.kind)}
        </svg>
    }
}

/// The instant of the mark a click landed on.
fn clicked_mark(ev: &leptos::ev::MouseEvent) -> Option<u64> {
    use wasm_bindgen::JsCast;
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    target.closest(".mark").ok()??.get_attribute("data-at")?.parse().ok()
}

/// Scrubber, markers, step back, "jump to", and the branch warning.
#[component]
pub fn TimelineBar(
    /// Playback state: scrubbing pauses it.
    playing: RwSignal<bool>,
) -> impl IntoView {
    let Some(ctl) = use_context::<Controller>() else { return ().into_any() };
    let span = ctl.span();
    let end = Memo::new(move |_| range_end(span.with(|s| s.head_ms)));
    let pause = move || playing.set(false);
    // The marks drawn, each with the range end it is placed against. Recomputed with the span
    // (cheap: no view), compared by content: the track redraws only when a mark is added, the
    // range grows or a new branch has other marks — not on every frame or every commit.
    let shown = Memo::new(move |_| {
        let end = end.get();
        ctl.with_markers(|m| distinct_markers(m, end, MARK_SLOTS).map(|i| (m[i].clone(), end)).collect::<Vec<_>>())
            .unwrap_or_default()
    });
    // The track in stretches of a tenth of its range: a new mark redraws only its own stretch.
    let stretches = (0..MARK_STRETCHES)
        .map(|k| {
            let part = Memo::new(move |_| {
                shown.with(|all| {
                    all.iter().filter(|(m, end)| stretch_of(m.at_ms, *end) == k).cloned().collect::<Vec<_>>()
                })
            });
            move || part.with(|marks| marks.iter().map(|(m, end)| mark(m, *end)).collect_view())
        })
        .collect_view();
    // The moments to jump to: the newest 200 markers other than commits (which come every
    // second), redrawn only when they change.
    let moments = Memo::new(move |_| {
        ctl.with_markers(|m| {
            m.iter().filter(|m| m.kind != MarkerKind::Commit).rev().take(200).cloned().collect::<Vec<_>>()
        })
        .unwrap_or_default()
    });
    let jump_options = move || {
        moments.with(|m| {
            m.iter()
                .map(|m| {
                    let label = format!("{} — {}", format_duration(m.at_ms), m.label);
                    view! { <option value=m.at_ms.to_string()>{label}</option> }
                })
                .collect_view()
        })
    };
    let past = move || {
        let s = span.get();
        s.in_past.then(|| {
            let head = s.head_ms;
            let later = match s.later_commands {
                0 => "nothing you did later is lost".to_string(),
                1 => "the 1 later action will be dropped".to_string(),
                n => format!("the {n} later actions will be dropped"),
            };
            view! {
                <p class="past" role="status">
                    {format!(
                        "You are looking back at {} (the run has reached {}). Acting now starts a new branch from here: {later}.",
                        format_duration(s.now_ms),
                        format_duration(head),
                    )}
                    <button on:click=move |_| ctl.seek(head)>{format!("Return to {}", format_duration(head))}</button>
                </p>
            }
        })
    };
    let forked = ctl.forked();
    let fork_note = move || {
        forked.get().map(|(at, dropped)| {
            view! {
                <p class="forked" role="status">
                    {format!(
                        "New branch from {}: {dropped} later action{} dropped.",
                        format_duration(at),
                        if dropped == 1 { "" } else { "s" },
                    )}
                    <button aria-label="Dismiss branch note" on:click=move |_| forked.set(None)>"×"</button>
                </p>
            }
        })
    };
    view! {
        <section class="timeline" aria-label="Timeline">
            <div class="timeline-row">
                <button
                    aria-label="Step back to the previous event"
                    title="Step back to the previous event (←)"
                    on:click=move |_| {
                        pause();
                        ctl.step_back();
                    }
                >
                    "← Back"
                </button>
                <div class="scrubber">
                    <svg
                        class="marks"
                        aria-hidden="true"
                        width="100%"
                        height="24"
                        on:click=move |ev| {
                            if let Some(at) = clicked_mark(&ev) {
                                pause();
                                ctl.seek(at);
                            }
                        }
                    >
                        {stretches}
                    </svg>
                    <input
                        type="range"
                        aria-label="Simulated time"
                        min="0"
                        max=move || end.get().to_string()
                        step="100"
                        prop:value=move || span.with(|s| s.now_ms).to_string()
                        aria-valuetext=move || format_duration(span.with(|s| s.now_ms))
                        on:input=move |ev| {
                            if let Ok(t) = event_target_value(&ev).parse::<u64>() {
                                pause();
                                ctl.seek(t);
                            }
                        }
                    />
                    <div class="scale" aria-hidden="true">
                        <span>"0:00"</span>
                        <span>{move || format_duration(end.get())}</span>
                    </div>
                </div>
                <label class="jump">
                    "Jump to "
                    <select
                        aria-label="Jump to a moment"
                        prop:value=""
                        on:change=move |ev| {
                            if let Ok(t) = event_target_value(&ev).parse::<u64>() {
                                pause();
                                ctl.seek(t);
                            }
                        }
                    >
                        <option value="">"a moment…"</option>
                        {jump_options}
                    </select>
                </label>
            </div>
            <ul class="legend" aria-label="Timeline legend">
                {MarkerKind::ALL
                    .into_iter()
                    .map(|k| {
                        view! {
                            <li>
                                <svg width="14" height="24" viewBox="-7 0 14 24" aria-hidden="true">
                                    {shape(k)}
                                </svg>
                                {k.name()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {past}
            {fork_note}
        </section>
    }
    .into_any()
}
