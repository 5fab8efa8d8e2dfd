//! "What if?": the run so far played twice with one thing changed, measured side by side.

use leptos::prelude::*;

use super::controller::Controller;
use crate::sim::compare::{outcome, Outcome, Variant};
use crate::sim::text::Fixed;
use crate::sim::time::format_duration;

fn variant_select(label: &'static str, chosen: RwSignal<Variant>) -> impl IntoView {
    view! {
        <label>
            {label}
            " "
            <select
                aria-label=label
                prop:value=move || chosen.get().id()
                on:change=move |ev| {
                    if let Some(v) = Variant::from_id(&event_target_value(&ev)) {
                        chosen.set(v);
                    }
                }
            >
                {Variant::CHOICES
                    .into_iter()
                    .map(|(id, v)| view! { <option value=id>{v.label()}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The rows of the comparison: a name and how to read it from an outcome.
type Row = (&'static str, fn(&Outcome) -> String);
const ROWS: [Row; 6] = [
    ("records processed", |o| o.processed.to_string()),
    ("records lost", |o| o.lost.to_string()),
    ("duplicates", |o| o.duplicates.to_string()),
    ("time partitions had no live owner", |o| format!("{} partition-s", Fixed(o.unowned_ms as f64 / 1000.0, 1))),
    ("peak lag", |o| crate::sim::text::count(o.peak_lag, "record")),
    ("partitions revoked in rebalances", |o| o.revoked.to_string()),
];

/// Two variants of the current run, played to the same instant, with their numbers.
#[component]
pub fn Compare() -> impl IntoView {
    let Some(ctl) = use_context::<Controller>() else { return ().into_any() };
    let a = RwSignal::new(Variant::Commit(crate::sim::config::CommitMode::AfterProcessing));
    let b = RwSignal::new(Variant::Commit(crate::sim::config::CommitMode::BeforeProcessing));
    let result = RwSignal::new(None::<Result<(u64, Outcome, Outcome), String>>);
    let compare = move |_| {
        let Some(run) = ctl.run() else { return };
        let now = ctl.snapshot().with_untracked(|s| s.now_ms);
        let until = run.scenario().map_or(now, |s| s.duration_ms.max(now));
        let both = outcome(&run, a.get_untracked(), until)
            .and_then(|x| Ok((until, x, outcome(&run, b.get_untracked(), until)?)))
            .map_err(|e| e.to_string());
        result.set(Some(both));
    };
    let table = move || {
        result.get().map(|r| match r {
            Err(why) => view! { <p role="alert">{format!("Could not compare: {why}")}</p> }.into_any(),
            Ok((until, x, y)) => view! {
                <table class="compare-table" aria-label="Comparison">
                    <caption>{format!("Both played to {} with the same seed and actions", format_duration(until))}</caption>
                    <thead>
                        <tr>
                            <th scope="col">""</th>
                            <th scope="col">{x.variant.label()}</th>
                            <th scope="col">{y.variant.label()}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {ROWS
                            .into_iter()
                            .map(|(name, read)| {
                                view! {
                                    <tr>
                                        <th scope="row">{name}</th>
                                        <td>{read(&x)}</td>
                                        <td>{read(&y)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
        })
    };
    view! {
        <details class="compare">
            <summary>"What if? Compare two variants of this run"</summary>
            <p>
                "Plays the actions so far twice, changing one thing for every consumer, to the end of the experiment (or now, if later)."
            </p>
            <div class="compare-controls">
                {variant_select("Variant A", a)} {variant_select("Variant B", b)}
                <button on:click=compare>"Compare"</button>
            </div>
            {table}
        </details>
    }
    .into_any()
}
