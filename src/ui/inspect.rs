//! Looking closer: a partition's records, and the log of recent events with a filter.

use leptos::prelude::*;

use super::controller::Controller;
use crate::sim::report::records;
use crate::sim::time::format_duration;
use crate::sim::Tp;

/// The newest records of one partition (offset, key, value, time), read from the model.
#[component]
pub fn PartitionRecords(
    /// Topic name.
    topic: String,
    /// Partition number.
    index: u32,
) -> impl IntoView {
    let ctl = use_context::<Controller>();
    let rows = {
        let topic = topic.clone();
        move || {
            ctl.and_then(|c| {
                c.with(|sim| {
                    let t = sim.topic_index(&topic)?;
                    let tp = Tp { topic: t, partition: index };
                    let log = &sim.partition(tp).log();
                    let end = log.log_end_offset();
                    let from = end.saturating_sub(20).max(log.log_start_offset());
                    Some(records(sim, tp, from, end))
                })
                .flatten()
            })
            .unwrap_or_default()
            .into_iter()
            .rev()
            .map(|r| {
                view! {
                    <tr>
                        <td>{r.offset}</td>
                        <td>{r.key.unwrap_or_else(|| "null".into())}</td>
                        <td>{r.value}</td>
                        <td>{format_duration(r.timestamp)}</td>
                    </tr>
                }
            })
            .collect_view()
        }
    };
    view! {
        <table class="records" aria-label=format!("Records of partition {index} of {topic}")>
            <thead>
                <tr>
                    <th scope="col">"offset"</th>
                    <th scope="col">"key"</th>
                    <th scope="col">"value"</th>
                    <th scope="col">"time"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Recent events, newest first, filtered by a text the user types.
#[component]
pub fn EventLog() -> impl IntoView {
    let ctl = use_context::<Controller>();
    let filter = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let lines = move || {
        if !open.get() {
            return Vec::new();
        }
        // Case is ignored for ASCII letters (names and event types); other text matches as typed.
        let needle = filter.get().to_ascii_lowercase();
        ctl.and_then(|c| {
            c.with_log(|log| {
                log.iter()
                    .rev()
                    .map(|e| (e.t, e.to_line()))
                    .filter(|(_, line)| needle.is_empty() || line.to_ascii_lowercase().contains(&needle))
                    .take(100)
                    .collect::<Vec<_>>()
            })
        })
        .unwrap_or_default()
        .into_iter()
        .map(|(t, line)| {
            let body = line.split_once(",\"type\":\"").map_or(line.clone(), |(_, rest)| rest.replacen('"', "", 1));
            view! {
                <li>
                    <span class="t">{format_duration(t)}</span>
                    " "
                    <code>{body}</code>
                </li>
            }
        })
        .collect::<Vec<_>>()
    };
    view! {
        <section class="event-log" aria-label="Event log">
            <button aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                {move || if open.get() { "Hide event log" } else { "Show event log" }}
            </button>
            <Show when=move || open.get()>
                <label>
                    "Filter "
                    <input
                        type="search"
                        placeholder="e.g. crashed, heartbeat, my-topic-1"
                        prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev))
                    />
                </label>
                <ol class="events" aria-label="Recent events, newest first">
                    {lines}
                </ol>
            </Show>
        </section>
    }
}
