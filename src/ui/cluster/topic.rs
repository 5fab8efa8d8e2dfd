//! A topic and its partition rows: each log's cells, high watermark, committed offsets and
//! leader.

use super::*;

/// How many offsets a partition row shows at most: the newest. A row that has more than fit its
/// width keeps its newest in view (the oldest are cut off at the left; see `.log` in the CSS).
const VISIBLE_CELLS: u64 = 20;

/// The first offset a partition row shows.
fn first_shown(log_start: u64, log_end: u64) -> u64 {
    log_end.saturating_sub(VISIBLE_CELLS).max(log_start)
}

/// A cell's classes: committed (by the first group), the next one a consumer reads, and above
/// the high watermark (not yet on every in-sync replica, not readable).
fn cell_class(p: &PartitionSnap, o: u64) -> &'static str {
    let done = committed_of(p).is_some_and(|c| o < c);
    let next = p.positions.iter().any(|(_, at)| *at == o);
    match (done, next, o >= p.high_watermark) {
        (_, true, true) => "cell unreplicated next",
        (_, false, true) => "cell unreplicated",
        (true, true, _) => "cell committed next",
        (true, false, _) => "cell committed",
        (false, true, _) => "cell next",
        (false, false, _) => "cell",
    }
}

/// Brings `list` to the cells of `p`: a cell per offset shown, kept while it stays in view (a
/// record appended adds one cell and drops the oldest, instead of every cell changing), its class
/// and title written only when they change (the title only on cells not yet replicated).
fn sync_cells(
    list: &web_sys::Element,
    cells: &mut std::collections::VecDeque<(u64, &'static str, web_sys::Element)>,
    p: Option<&PartitionSnap>,
) {
    let (first, end) = p.map_or((0, 0), |p| (first_shown(p.log_start_offset, p.log_end_offset), p.log_end_offset));
    // Out of view now: before the first shown, or past the end (after a seek back).
    cells.retain(|(o, _, el)| {
        let keep = (first..end).contains(o);
        if !keep {
            el.remove();
        }
        keep
    });
    let Some(p) = p else { return };
    let doc = document();
    let cell = |o: u64| {
        let li = doc.create_element("li").ok()?;
        li.set_text_content(Some(&o.to_string()));
        Some(li)
    };
    // Cells missing before the first kept one (a seek back) or after the last.
    let kept = cells.front().map(|(o, _, _)| *o);
    for o in (first..kept.unwrap_or(first)).rev() {
        let Some(li) = cell(o) else { return };
        let _ = list.insert_before(&li, cells.front().map(|(_, _, el)| el as &web_sys::Node));
        cells.push_front((o, "", li));
    }
    let next = cells.back().map_or(first, |(o, _, _)| o + 1);
    for o in next..end {
        let Some(li) = cell(o) else { return };
        let _ = list.append_child(&li);
        cells.push_back((o, "", li));
    }
    for (o, class, el) in cells.iter_mut() {
        let now = cell_class(p, *o);
        if *class != now {
            let (was, is) = (class.starts_with("cell unreplicated"), now.starts_with("cell unreplicated"));
            *class = now;
            let _ = el.set_attribute("class", now);
            if is && !was {
                let _ = el.set_attribute("title", "not yet replicated to every in-sync replica");
            } else if was && !is {
                let _ = el.remove_attribute("title");
            }
        }
    }
}

/// A topic and its partition logs.
#[component]
pub fn TopicView(
    /// Topic name.
    name: String,
    /// The model's state.
    snapshot: ReadSignal<Snapshot>,
) -> impl IntoView {
    let count = {
        let name = name.clone();
        Memo::new(move |_| {
            snapshot.with(|s| s.topics.iter().find(|t| t.name == name).map_or(0, |t| t.partitions.len()))
        })
    };
    let topic = name.clone();
    view! {
        <div class="topic" role="group" aria-label=format!("Topic {name}")>
            <h4>"Topic " <code>{name.clone()}</code></h4>
            <For each=move || 0..count.get() as u32 key=|i| *i let:index>
                <PartitionRow topic=topic.clone() index snapshot />
            </For>
        </div>
    }
}

/// One partition's log: the newest offsets as cells, committed offsets marked.
#[component]
pub fn PartitionRow(
    /// Topic name.
    topic: String,
    /// Partition number.
    index: u32,
    /// The model's state.
    snapshot: ReadSignal<Snapshot>,
) -> impl IntoView {
    let me = {
        let topic = topic.clone();
        Memo::new(move |_| {
            snapshot.with(|s| {
                s.topics.iter().find(|t| t.name == topic).and_then(|t| t.partitions.get(index as usize)).cloned()
            })
        })
    };
    // The cells are kept by hand (see `sync_cells`), not re-rendered.
    let list = NodeRef::<leptos::html::Ol>::new();
    let cells = StoredValue::new_local(std::collections::VecDeque::new());
    Effect::new(move |_| {
        let Some(ol) = list.get() else { return };
        me.with(|p| cells.update_value(|c| sync_cells(&ol, c, p.as_ref())));
    });
    let info = move || {
        me.with(|p| {
            p.as_ref().map_or(String::new(), |p| {
                format!(
                    "log-start {} · high watermark {} · log-end {}{}",
                    p.log_start_offset,
                    p.high_watermark,
                    p.log_end_offset,
                    p.committed
                        .iter()
                        .map(|(g, c)| format!(" · {g} committed {c} (lag {})", p.high_watermark.saturating_sub(*c)))
                        .chain(p.positions.iter().map(|(name, o)| format!(" · {name} reads at {o}")))
                        .collect::<String>()
                )
            })
        })
    };
    let replication = move || {
        me.with(|p| {
            let p = p.as_ref()?;
            if p.replicas.len() < 2 && p.leader.is_some() {
                return None;
            }
            let leader = p.leader.map_or("none: OFFLINE".to_string(), |b| format!("broker {b}"));
            // Each replica's log drawn against the longest: a follower behind shows as a shorter bar.
            let longest = p.replicas.iter().map(|r| r.log_end_offset).max().unwrap_or(0).max(1);
            let chips = p
                .replicas
                .iter()
                .map(|r| {
                    let filled = format!("{}%", Fixed(100.0 * r.log_end_offset as f64 / longest as f64, 0));
                    let role = if r.leader {
                        "leader"
                    } else if r.in_isr {
                        "in sync"
                    } else {
                        "out of sync"
                    };
                    let class = if r.leader {
                        "replica leader"
                    } else if r.in_isr {
                        "replica"
                    } else {
                        "replica lagging"
                    };
                    view! {
                        <li class=class title=format!("broker {}: {role}, log end {}", r.broker, r.log_end_offset)>
                            {format!("B{} {} · {}", r.broker, role, r.log_end_offset)}
                            <span class="replica-log" aria-hidden="true">
                                <span style:width=filled></span>
                            </span>
                        </li>
                    }
                })
                .collect_view();
            let lost = (p.lost_acked > 0)
                .then(|| format!(" · {} lost", crate::sim::text::count(p.lost_acked, "acknowledged record")));
            Some(view! {
                <div class="replication">
                    <span>{format!("leader {leader} · epoch {}", p.leader_epoch)} {lost}</span>
                    <ul class="replicas" aria-label=format!("Replicas of partition {index}")>{chips}</ul>
                </div>
            })
        })
    };
    let open = RwSignal::new(false);
    let records_topic = topic.clone();
    view! {
        <div class="partition" use:watch=offscreen::partition_key(&topic, index)>
            <button
                class="pname"
                aria-expanded=move || open.get().to_string()
                aria-label=format!("Inspect partition {index} of {topic}")
                title="Show this partition's records"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {format!("P{index}")}
            </button>
            <ol class="log" aria-label=format!("Partition {index} of {topic}") node_ref=list></ol>
            <p class="pinfo">{info}</p>
            {replication}
            <Show when=move || open.get()>
                <div class="pinfo">
                    <crate::ui::inspect::PartitionRecords topic=records_topic.clone() index />
                </div>
            </Show>
        </div>
    }
}

fn committed_of(p: &PartitionSnap) -> Option<u64> {
    p.committed.first().map(|(_, o)| *o)
}
