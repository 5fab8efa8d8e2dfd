//! The cluster picture: producers, the broker's topics and partition logs, consumer groups.

use leptos::prelude::*;

use crate::sim::snapshot::{ConsumerSnap, PartitionSnap, Snapshot};

/// How many of the newest offsets a partition row shows.
const VISIBLE_CELLS: u64 = 20;

/// Producers → broker (topics, partitions) → consumer groups, from one snapshot signal.
#[component]
pub fn ClusterView(
    /// The model's state at the current instant.
    snapshot: ReadSignal<Snapshot>,
) -> impl IntoView {
    view! {
        <section class="cluster" aria-label="Cluster">
            <div class="column producers">
                <h3>"Producers"</h3>
                {move || {
                    snapshot
                        .with(|s| {
                            s.producers
                                .iter()
                                .map(|p| {
                                    let label = format!("Producer {}", p.name);
                                    view! {
                                        <article class="card producer" aria-label=label>
                                            <h4>{p.name.clone()}</h4>
                                            <p>{format!("→ {}", p.topic)}</p>
                                            <p>{format!("sent {} · acked {}", p.sent, p.acked)}</p>
                                        </article>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </div>
            <div class="column broker" role="group" aria-label="Broker 1">
                <h3>"Broker 1"</h3>
                {move || {
                    snapshot
                        .with(|s| {
                            s.topics
                                .iter()
                                .map(|t| {
                                    let topic = t.name.clone();
                                    view! {
                                        <div class="topic" role="group" aria-label=format!("Topic {topic}")>
                                            <h4>"Topic " <code>{topic.clone()}</code></h4>
                                            {t
                                                .partitions
                                                .iter()
                                                .map(|p| view! { <PartitionRow topic=topic.clone() partition=p.clone() /> })
                                                .collect_view()}
                                        </div>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </div>
            <div class="column groups">
                <h3>"Consumer groups"</h3>
                {move || {
                    snapshot
                        .with(|s| {
                            s.groups
                                .iter()
                                .map(|g| {
                                    let members: Vec<ConsumerSnap> = s
                                        .consumers
                                        .iter()
                                        .filter(|c| c.group == g.name)
                                        .cloned()
                                        .collect();
                                    view! {
                                        <div class="group" role="group" aria-label=format!("Group {}", g.name)>
                                            <h4>
                                                "Group " <code>{g.name.clone()}</code>
                                                <span class="state">{g.state}</span>
                                                <span class="generation">{format!("generation {}", g.generation)}</span>
                                            </h4>
                                            <p class="counters">
                                                {format!(
                                                    "processed {} · duplicates {} · lost {} · lag {}",
                                                    g.processed,
                                                    g.duplicates,
                                                    g.lost,
                                                    g.lag,
                                                )}
                                            </p>
                                            {members.into_iter().map(|c| view! { <ConsumerCard consumer=c /> }).collect_view()}
                                        </div>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </div>
        </section>
    }
}

/// One partition's log: the newest offsets as cells, committed offsets marked.
#[component]
pub fn PartitionRow(
    /// Topic name.
    topic: String,
    /// The partition's offsets.
    partition: PartitionSnap,
) -> impl IntoView {
    let end = partition.log_end_offset;
    let first = end.saturating_sub(VISIBLE_CELLS).max(partition.log_start_offset);
    let committed = partition.committed.first().map(|(_, o)| *o);
    let cells = (first..end)
        .map(|o| {
            let done = committed.is_some_and(|c| o < c);
            view! { <li class="cell" class:committed=done>{o}</li> }
        })
        .collect_view();
    let label = format!("Partition {} of {}", partition.index, topic);
    let info = format!(
        "log-start {} · high watermark {} · log-end {}{}",
        partition.log_start_offset,
        partition.high_watermark,
        partition.log_end_offset,
        committed.map_or(String::new(), |c| format!(" · committed {c}"))
    );
    view! {
        <div class="partition">
            <span class="pname">{format!("P{}", partition.index)}</span>
            <ol class="log" aria-label=label>{cells}</ol>
            <p class="pinfo">{info}</p>
        </div>
    }
}

/// A consumer: its state, what it owns and where it is.
#[component]
pub fn ConsumerCard(
    /// The consumer's state.
    consumer: ConsumerSnap,
) -> impl IntoView {
    let label = format!("Consumer {}", consumer.name);
    let owns = if consumer.assignment.is_empty() { "nothing".to_string() } else { consumer.assignment.join(", ") };
    let class = format!("card consumer {}", consumer.status);
    let session = consumer.session_left_ms.map(|ms| {
        let note = if consumer.status == "running" { "session" } else { "the group notices in" };
        format!("{note} {}", crate::sim::time::format_duration(ms))
    });
    view! {
        <article class=class aria-label=label>
            <h5>{consumer.name.clone()} <span class="status-tag">{consumer.status}</span></h5>
            <p>{consumer.activity}</p>
            <p>{format!("owns {owns}")}</p>
            {session.map(|s| view! { <p class="session">{s}</p> })}
        </article>
    }
}
