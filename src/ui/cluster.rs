//! The cluster picture: producers, the broker's topics and partition logs, consumer groups.
//!
//! Lists are keyed by name and every card reads its own memoised slice of the snapshot, so a
//! frame only touches the text that changed: buttons, menus and keyboard focus stay put.
//!
//! Each card has a file of its own in `cluster/` (broker, producer, topic and partition rows,
//! group, consumer); they share the helpers and imports here (`use super::*`).

use leptos::prelude::*;

use crate::sim::command::ConsumerSetting;
use crate::sim::config::{
    Acks, CommitMode, ConsumerSpec, GroupProtocol, Keys, OffsetReset, ProducerSpec, ServerAssignor, Strategy,
};
use crate::sim::describe::{describe_offsets, describe_state, group_view};
use crate::sim::snapshot::{BrokerStatus, ConsumerSnap, GroupSnap, PartitionSnap, ProducerSnap, Snapshot};
use crate::sim::text::Fixed;
use crate::sim::time::format_duration;
use crate::sim::{Command, ConsumerStatus};

use super::controller::Controller;
use super::drag;
use super::offscreen::{self, watch};

mod broker;
mod consumer;
mod group;
mod producer;
mod topic;

use broker::BrokerCard;
use consumer::ConsumerCard;
use group::GroupBox;
use producer::ProducerCard;
use topic::TopicView;

fn names<T>(list: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    list.iter().map(|x| name(x).to_string()).collect()
}

/// `{prefix}-{n}` with the smallest n not taken.
fn free_name(prefix: &str, taken: &[String]) -> String {
    (1..).map(|i| format!("{prefix}-{i}")).find(|n| !taken.contains(n)).unwrap_or_default()
}

/// A card's own slice of the snapshot: the item of `list` called `name`, re-computed per frame
/// but only signalling a change when that item changed.
fn item_memo<T: Clone + PartialEq + Send + Sync + 'static>(
    snapshot: ReadSignal<Snapshot>,
    name: &str,
    list: fn(&Snapshot) -> &[T],
    name_of: fn(&T) -> &str,
) -> Memo<Option<T>> {
    let name = name.to_string();
    Memo::new(move |_| snapshot.with(|s| list(s).iter().find(|x| name_of(x) == name).cloned()))
}

/// Producers → broker (topics, partitions) → consumer groups, from one snapshot signal.
#[component]
pub fn ClusterView(
    /// The model's state at the current instant.
    snapshot: ReadSignal<Snapshot>,
) -> impl IntoView {
    let producers = Memo::new(move |_| snapshot.with(|s| names(&s.producers, |p| &p.name)));
    let topics = Memo::new(move |_| snapshot.with(|s| names(&s.topics, |t| &t.name)));
    // Groups keep the place they were first shown in and new ones come last, where the
    // new-group zone was: a consumer dropped there stays in view.
    let groups = Memo::new(move |before: Option<&Vec<String>>| {
        snapshot.with(|s| in_shown_order(before.map_or(&[][..], Vec::as_slice), names(&s.groups, |g| &g.name)))
    });
    let brokers = Memo::new(move |_| snapshot.with(|s| s.brokers.len() as u32));
    view! {
        <section class="cluster" aria-label="Cluster">
            <div class="column producers">
                <h3>"Producers"</h3>
                <For each=move || producers.get() key=|n| n.clone() let:name>
                    <ProducerCard name snapshot />
                </For>
                {use_context::<Controller>()
                    .map(|ctl| {
                        let add = move |_| {
                            let (name, topic) = snapshot
                                .with_untracked(|s| {
                                    (free_name("producer", &names(&s.producers, |p| &p.name)), s.topics.first().map(|t| t.name.clone()))
                                });
                            if let Some(topic) = topic {
                                ctl.apply(Command::AddProducer { spec: ProducerSpec { name: name.into(), topic, ..ProducerSpec::default() } });
                            }
                        };
                        view! { <button class="add" on:click=add>"+ Add producer"</button> }
                    })}
            </div>
            <div class="column broker" role="group" aria-label=move || broker_heading(brokers.get())>
                <h3>{move || broker_heading(brokers.get())}</h3>
                <ul class="brokers" aria-label="Broker list">
                    <For each=move || 1..=brokers.get() key=|id| *id let:id>
                        <BrokerCard id snapshot />
                    </For>
                </ul>
                <For each=move || topics.get() key=|n| n.clone() let:name>
                    <TopicView name snapshot />
                </For>
            </div>
            <div class="column groups">
                <h3>"Consumer groups"</h3>
                <For each=move || groups.get() key=|n| n.clone() let:name>
                    <GroupBox name snapshot groups />
                </For>
                <div
                    class="group new-group"
                    class:drop-over=drag::hovering(drag::NEW_GROUP.to_string())
                    class:dragging=drag::dragging()
                    data-drop-group=drag::NEW_GROUP
                >
                    "Drop a consumer here to start a new group"
                </div>
            </div>
            <super::wires::Wires snapshot shown=groups />
            <super::tokens::Tokens />
        </section>
    }
}

/// `now` ordered as `before` showed them, with names not shown before after them (in their own
/// order).
fn in_shown_order(before: &[String], now: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = before.iter().filter(|n| now.contains(n)).cloned().collect();
    out.extend(now.into_iter().filter(|n| !before.contains(n)));
    out
}

fn broker_heading(brokers: u32) -> String {
    if brokers == 1 {
        "Broker 1".into()
    } else {
        format!("{brokers} brokers")
    }
}
