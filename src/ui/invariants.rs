//! The live invariant panel: each of Kafka's promises, holding so far or broken at a moment
//! you can jump to.

use leptos::prelude::*;

use super::controller::Controller;
use crate::sim::invariants::Invariant;
use crate::sim::time::format_duration;

#[component]
pub fn Invariants() -> impl IntoView {
    let Some(ctl) = use_context::<Controller>() else { return ().into_any() };
    let rows = move || {
        let now = ctl.span().with(|s| s.now_ms);
        ctl.with_violations(|vs| {
            Invariant::ALL
                .into_iter()
                .map(|inv| {
                    // Broken only once the cursor has reached the moment it broke.
                    let broken = vs.iter().find(|v| v.invariant == inv && v.at_ms <= now).cloned();
                    match broken {
                        None => view! {
                            <li class="inv ok">
                                <strong>{inv.name()}</strong>
                                " — holds so far ✓"
                            </li>
                        }
                        .into_any(),
                        Some(v) => {
                            let at = v.at_ms;
                            view! {
                                <li class="inv broken">
                                    <strong>{inv.name()}</strong>
                                    {format!(" — BROKEN at {} ✗: {}", format_duration(at), v.text)}
                                    " "
                                    <button on:click=move |_| ctl.seek(at)>"Go to that moment"</button>
                                </li>
                            }
                            .into_any()
                        }
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="invariants" aria-label="Invariants">
            <h3>"Invariants"</h3>
            <ul>{rows}</ul>
        </section>
    }
    .into_any()
}
