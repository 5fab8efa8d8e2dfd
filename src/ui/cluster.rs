//! The cluster picture: producers, the broker's topics and partition logs, consumer groups.
//!
//! Lists are keyed by name and every card reads its own memoised slice of the snapshot, so a
//! frame only touches the text that changed: buttons, menus and keyboard focus stay put.

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

/// What the group card says when a subscribed topic has no owner in a Stable group.
fn unserved_note(topics: &[String]) -> Option<String> {
    if topics.is_empty() {
        return None;
    }
    let list = topics.join(", ");
    Some(format!(
        "Nobody in this group reads {list}: a static member came back subscribed to it, and its \
         return keeps the old assignment without a rebalance. The next rebalance assigns it."
    ))
}

/// What the group card says when partitions of a consumer-protocol group wait for its next
/// epoch to change hands.
fn waiting_epoch_note(partitions: &[String], epoch: i32) -> Option<String> {
    if partitions.is_empty() {
        return None;
    }
    let (list, verb) = (partitions.join(", "), if partitions.len() == 1 { "waits" } else { "wait" });
    Some(format!(
        "{list} {verb} for the group's next epoch: a static member's return made the coordinator \
         compute the target again at epoch {epoch}, and members already at that epoch keep what \
         they hold until the epoch moves (a join, a leave or a subscription change)."
    ))
}

fn broker_heading(brokers: u32) -> String {
    if brokers == 1 {
        "Broker 1".into()
    } else {
        format!("{brokers} brokers")
    }
}

/// A broker: whether it runs, what it leads, and the buttons that crash, stop or restart it.
#[component]
pub fn BrokerCard(
    /// Broker id.
    id: u32,
    /// The model's state.
    snapshot: ReadSignal<Snapshot>,
) -> impl IntoView {
    let me = Memo::new(move |_| snapshot.with(|s| s.brokers.iter().find(|b| b.id == id).cloned()));
    let ctl = use_context::<Controller>();
    let status = move || me.with(|b| b.as_ref().map_or("", |b| b.status.name()));
    let running = move || me.with(|b| b.as_ref().is_some_and(|b| b.status == BrokerStatus::Running));
    let detail = move || {
        me.with(|b| {
            b.as_ref().map_or(String::new(), |b| {
                let mut parts = vec![format!("leads {}", b.leads)];
                if !b.coordinates.is_empty() {
                    parts.push(format!("coordinator of {}", b.coordinates.join(", ")));
                }
                if b.delay_ms > 0 {
                    parts.push(format!("replicating {} slower", format_duration(b.delay_ms)));
                }
                if b.status == BrokerStatus::Down {
                    parts.push("the controller has not noticed yet".into());
                }
                parts.join(" · ")
            })
        })
    };
    let toggle = move |_| {
        if let Some(ctl) = ctl {
            ctl.apply(if running() {
                Command::CrashBroker { broker: id }
            } else {
                Command::RestartBroker { broker: id }
            });
        }
    };
    let stop = move |_| {
        if let Some(ctl) = ctl {
            ctl.apply(Command::StopBroker { broker: id });
        }
    };
    view! {
        <li class="broker-card" class:down=move || !running() aria-label=format!("Broker {id}")>
            <strong>{format!("Broker {id}")}</strong>
            " "
            <span class="bstate" class:bad=move || !running()>{status}</span>
            <span class="detail">{detail}</span>
            {ctl.map(|_| {
                view! {
                    <button
                        aria-label=move || if running() { format!("Crash broker {id}") } else { format!("Restart broker {id}") }
                        title=move || if running() { "Kill the process: the controller notices after broker.session.timeout.ms" } else { "Start it again with the logs it had" }
                        on:click=toggle
                    >
                        {move || if running() { "Crash" } else { "Restart" }}
                    </button>
                    <Show when=running>
                        <button
                            aria-label=format!("Stop broker {id}")
                            title="Controlled shutdown: its leaderships move to other in-sync replicas first"
                            on:click=stop
                        >
                            "Stop"
                        </button>
                    </Show>
                }
            })}
        </li>
    }
}

/// A producer: what it sent, with controls that make it send.
#[component]
pub fn ProducerCard(
    /// Producer name.
    name: String,
    /// The model's state.
    snapshot: ReadSignal<Snapshot>,
) -> impl IntoView {
    let me = item_memo(snapshot, &name, |s| &s.producers, |p| &p.name);
    let ctl = use_context::<Controller>();
    let text = move |f: fn(&ProducerSnap) -> String| move || me.with(|p| p.as_ref().map(f).unwrap_or_default());
    let send = {
        let name = name.clone();
        move |_| {
            if let Some(ctl) = ctl {
                ctl.apply(Command::Produce { producer: name.clone(), count: 10 });
            }
        }
    };
    let set_rate = {
        let name = name.clone();
        move |ev| {
            if let (Some(ctl), Ok(per_sec)) = (ctl, event_target_value(&ev).parse::<u32>()) {
                ctl.apply(Command::SetRate { producer: name.clone(), per_sec });
            }
        }
    };
    // The controls' values as memos: the producer changes with every publish (its counts), and
    // setting a control's value, even to the same one, costs the browser work of its own.
    let rate_now = Memo::new(move |_| me.with(|p| p.as_ref().map_or(0, |p| p.rate_per_sec)));
    let rate = move || rate_now.get().to_string();
    let keys_choice = Memo::new(move |_| me.with(|p| p.as_ref().map_or("", |p| key_choice(&p.keys))));
    let set_keys = {
        let name = name.clone();
        move |ev| {
            let choice = event_target_value(&ev);
            if let (Some(ctl), Some((_, _, make))) = (ctl, KEY_CHOICES.iter().find(|(v, _, _)| *v == choice)) {
                ctl.apply(Command::SetKeys { producer: name.clone(), keys: make() });
            }
        }
    };
    let acks = Memo::new(move |_| me.with(|p| p.as_ref().map_or("all", |p| p.acks.name())));
    let set_acks = {
        let name = name.clone();
        move |ev| {
            let acks = match event_target_value(&ev).as_str() {
                "0" => Acks::Zero,
                "1" => Acks::One,
                _ => Acks::All,
            };
            if let Some(ctl) = ctl {
                ctl.apply(Command::SetAcks { producer: name.clone(), acks });
            }
        }
    };
    view! {
        <article class="card producer" aria-label=format!("Producer {name}")>
            <h4>{name.clone()}</h4>
            <p>{text(|p| format!("→ {}", p.topic))}</p>
            <p>{text(|p| format!("sent {} · acked {}", p.sent, p.acked))}</p>
            {move || me.with(|p| p.as_ref().and_then(|p| p.note.clone()).map(|n| view! { <p class="status-note">{n}</p> }))}
            {ctl
                .map(|_| {
                    view! {
                        <div class="actions">
                            <button on:click=send aria-label=format!("Send 10 messages from {name}")>"Send 10"</button>
                            <button
                                class="remove"
                                aria-label=format!("Remove {name}")
                                title="Stop it for good"
                                on:click={
                                    let name = name.clone();
                                    move |_| {
                                        if let Some(ctl) = ctl {
                                            ctl.apply(Command::RemoveProducer { producer: name.clone() });
                                        }
                                    }
                                }
                            >
                                "Remove"
                            </button>
                            <select aria-label=format!("Send rate of {name}") on:change=set_rate prop:value=rate>
                                {move || {
                                    let current = rate_now.get();
                                    let mut rates = vec![0u32, 1, 2, 5, 10, 50, 200, 1000];
                                    if !rates.contains(&current) {
                                        rates.push(current);
                                        rates.sort_unstable();
                                    }
                                    rates
                                        .into_iter()
                                        .map(|r| {
                                            view! {
                                                <option value=r.to_string() selected=r == current>
                                                    {format!("{r}/s")}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                            <select aria-label=format!("Acks of {name}") on:change=set_acks prop:value=acks>
                                {[(Acks::Zero, "acks=0"), (Acks::One, "acks=1"), (Acks::All, "acks=all")]
                                    .into_iter()
                                    .map(|(a, text)| view! { <option value=a.name()>{text}</option> })
                                    .collect_view()}
                            </select>
                            <select aria-label=format!("Keys of {name}") on:change=set_keys prop:value=keys_choice>
                                {KEY_CHOICES
                                    .iter()
                                    .map(|(value, text, _)| view! { <option value=*value>{*text}</option> })
                                    .collect_view()}
                            </select>
                        </div>
                    }
                })}
        </article>
    }
}

/// A key setting a producer card offers: (value, label, keys).
type KeyChoice = (&'static str, &'static str, fn() -> Keys);

const KEY_CHOICES: [KeyChoice; 5] = [
    ("none", "null keys (sticky)", || Keys::None),
    ("one", "one key: order-42", || Keys::Fixed { key: "order-42".into() }),
    ("users", "6 user keys", || Keys::Cycle {
        keys: ["alice", "bob", "carol", "dave", "erin", "frank"].map(String::from).to_vec(),
    }),
    ("random", "100 random keys", || Keys::Random { cardinality: 100 }),
    ("random-1000", "1 000 random keys", || Keys::Random { cardinality: 1_000 }),
];

fn key_choice(keys: &Keys) -> &'static str {
    KEY_CHOICES.iter().find(|(_, _, make)| make() == *keys).map_or("", |(value, _, _)| value)
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
                    <super::inspect::PartitionRecords topic=records_topic.clone() index />
                </div>
            </Show>
        </div>
    }
}

fn committed_of(p: &PartitionSnap) -> Option<u64> {
    p.committed.first().map(|(_, o)| *o)
}

/// A consumer group: its coordinator state, counters, members and inspector.
#[component]
pub fn GroupBox(
    /// Group name.
    name: String,
    /// The model's state.
    snapshot: ReadSignal<Snapshot>,
    /// Every group's name (for "Move to group…").
    groups: Memo<Vec<String>>,
) -> impl IntoView {
    let me = item_memo(snapshot, &name, |s| &s.groups, |g| &g.name);
    let members = {
        let name = name.clone();
        Memo::new(move |_| {
            snapshot.with(|s| {
                s.consumers.iter().filter(|c| c.group == name).map(|c| c.name.to_string()).collect::<Vec<_>>()
            })
        })
    };
    let text = move |f: fn(&GroupSnap) -> String| move || me.with(|g| g.as_ref().map(f).unwrap_or_default());
    // Its colour is its edges' colour (its place among the groups shown).
    let color = {
        let name = name.clone();
        move || {
            let index = groups.with(|all| all.iter().position(|g| *g == name).unwrap_or(0));
            format!("group {}", super::wires::group_class(index))
        }
    };
    view! {
        <div
            use:watch=offscreen::group_key(&name)
            class=color
            class:drop-over=drag::hovering(name.clone())
            class:drop-target=drag::dragging()
            role="group"
            aria-label=format!("Group {name}")
            data-drop-group=name.clone()
        >
            <h4>
                "Group " <code>{name.clone()}</code> <span class="state">{text(|g| g.state.name().to_string())}</span>
                <span class="generation">
                    {text(|g| {
                        if g.protocol == GroupProtocol::Consumer && !g.classic_members.is_empty() {
                            let names: Vec<&str> = g.classic_members.iter().map(|n| n.as_ref()).collect();
                            format!("epoch {} · consumer protocol · classic: {}", g.generation, names.join(", "))
                        } else if g.protocol == GroupProtocol::Consumer {
                            format!("epoch {} · consumer protocol", g.generation)
                        } else {
                            format!("generation {}", g.generation)
                        }
                    })}
                </span>
            </h4>
            <p class="counters">
                {text(|g| {
                    format!("processed {} · duplicates {} · lost {} · {}", g.processed, g.duplicates, g.lost, g.lag_text())
                })}
            </p>
            {move || {
                me.with(|g| g.as_ref().and_then(|g| unserved_note(&g.unserved)))
                    .map(|n| view! { <p class="status-note">{n}</p> })
            }}
            {move || {
                me.with(|g| g.as_ref().and_then(|g| waiting_epoch_note(&g.waiting_epoch, g.generation)))
                    .map(|n| view! { <p class="status-note">{n}</p> })
            }}
            {move || {
                me.with(|g| {
                    g.as_ref()
                        .filter(|g| !g.reconciling.is_empty())
                        .map(|g| view! { <p class="status-note reconciling">{format!("reconciling: {}", g.reconciling.join("; "))}</p> })
                })
            }}
            <For each=move || members.get() key=|n| n.clone() let:consumer>
                <ConsumerCard name=consumer snapshot groups />
            </For>
            {use_context::<Controller>()
                .map(|ctl| {
                    let group = name.clone();
                    let add = move |_| {
                        let (name, topics, group_protocol) = snapshot
                            .with_untracked(|s| {
                                (
                                    free_name("consumer", &names(&s.consumers, |c| &c.name)),
                                    names(&s.topics, |t| &t.name),
                                    s.protocol_for_new_consumer(&group),
                                )
                            });
                        let spec = ConsumerSpec {
                            name: name.into(),
                            group: group.clone().into(),
                            topics,
                            group_protocol,
                            ..ConsumerSpec::default()
                        };
                        ctl.apply(Command::AddConsumer { spec });
                    };
                    view! {
                        <button class="add" aria-label=format!("Add a consumer to {name}") on:click=add>
                            "+ Add consumer"
                        </button>
                    }
                })}
            <GroupInspector group=name.clone() />
        </div>
    }
}

/// The group's `kafka-consumer-groups.sh --describe` output, on demand.
#[component]
pub fn GroupInspector(
    /// Group name.
    group: String,
) -> impl IntoView {
    let ctl = use_context::<Controller>();
    let open = RwSignal::new(false);
    let text = {
        let group = group.clone();
        move || {
            ctl.and_then(|c| {
                c.with(|sim| {
                    let view = group_view(sim, &group);
                    format!("{}{}", describe_offsets(sim, &view), describe_state(&view))
                })
            })
            .unwrap_or_default()
        }
    };
    let label = format!("Describe group {group}");
    let region = format!("kafka-consumer-groups --describe --group {group}");
    ctl.map(|_| {
        view! {
            <button
                class="describe"
                aria-expanded=move || open.get().to_string()
                aria-label=label
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if open.get() { "Hide --describe" } else { "--describe" }}
            </button>
            <Show when=move || open.get()>
                <pre class="describe-out" role="region" aria-label=region.clone()>
                    {text.clone()}
                </pre>
            </Show>
        }
    })
}

/// A consumer: its state, what it owns, its session, and what you can do to it.
#[component]
pub fn ConsumerCard(
    /// Consumer name.
    name: String,
    /// The model's state.
    snapshot: ReadSignal<Snapshot>,
    /// Every group's name (for "Move to group…").
    groups: Memo<Vec<String>>,
) -> impl IntoView {
    let me = item_memo(snapshot, &name, |s| &s.consumers, |c| &c.name);
    let running = Memo::new(move |_| me.with(|c| c.as_ref().is_some_and(|c| c.status == ConsumerStatus::Running)));
    let text = move |f: fn(&ConsumerSnap) -> String| move || me.with(|c| c.as_ref().map(f).unwrap_or_default());
    let class = move || me.with(|c| format!("card consumer {}", c.as_ref().map_or("", |c| c.status.name())));
    // The share of its session left, in whole percent, while the coordinator counts one.
    let session_share = Memo::new(move |_| {
        me.with(|c| {
            let c = c.as_ref()?;
            let session = match c.settings.group_protocol {
                GroupProtocol::Consumer => crate::sim::kafka::consumer_group::SESSION_TIMEOUT_MS,
                GroupProtocol::Classic => c.settings.session_timeout_ms,
            };
            let share = c.session_left_ms? as f64 / session.max(1) as f64;
            // A transform, not a width: the card is neither laid out nor its text repainted.
            Some(format!("scaleX({})", Fixed(share.clamp(0.0, 1.0), 2)))
        })
    });
    let session_shown = Memo::new(move |_| session_share.with(Option::is_some));
    let ctl = use_context::<Controller>();
    let drag_state = use_context::<drag::DragState>();
    let grab = {
        let name = name.clone();
        move |ev: web_sys::PointerEvent| {
            let group = me.with_untracked(|c| c.as_ref().map(|c| c.group.clone()).unwrap_or_default());
            if let Some(state) = drag_state {
                drag::start(state, &ev, &name, &group);
            }
        }
    };
    view! {
        <article class=class aria-label=format!("Consumer {name}") use:watch=offscreen::consumer_key(&name)>
            <h5 class="handle" title="Drag onto another group to move it" on:pointerdown=grab>
                <span class="grip" aria-hidden="true">"⠿"</span>
                {name.clone()}
                <span class="status-tag">{text(|c| c.status.name().to_string())}</span>
            </h5>
            // One line each, always both: the card keeps its height as the numbers change (the
            // cards below, and the edges to them, do not jump).
            <p class="line">{text(|c| c.activity_line())}</p>
            <p
                class="line"
                class:uncommitted=move || me.with(|c| c.as_ref().is_some_and(|c| c.uncommitted > 0))
                title="Processed, but its group has not committed them yet: after a crash now, they would be processed again"
            >
                {text(|c| match c.uncommitted {
                    0 => "nothing left to commit".to_string(),
                    n => format!("{n} not yet committed"),
                })}
            </p>
            {move || me.with(|c| c.as_ref().and_then(|c| c.note.clone()).map(|n| view! { <p class="status-note">{n}</p> }))}
            <p class="owns">
                {text(|c| {
                    if c.assignment.is_empty() {
                        "owns nothing".to_string()
                    } else {
                        format!("owns {}", c.assignment.join(", "))
                    }
                })}
                {move || {
                    me.with(|c| {
                        let c = c.as_ref()?;
                        let gained = (!c.newly_assigned.is_empty()).then(|| {
                            view! { <span class="gained">{format!(" · + gained {}", c.newly_assigned.join(", "))}</span> }
                        });
                        let lost = (!c.revoked.is_empty()).then(|| {
                            view! { <span class="gave-up">{format!(" · − gave up {}", c.revoked.join(", "))}</span> }
                        });
                        Some(view! { {gained} {lost} })
                    })
                }}
            </p>
            <p class="session">
                {text(|c| {
                    c.session_left_ms
                        .map(|ms| {
                            let note = if c.status == ConsumerStatus::Running { "session" } else { "the group notices in" };
                            // Tenths of a second in the last ten, whole seconds before: the text
                            // changes as rarely as reads right (each change is laid out and
                            // painted again).
                            if ms < 10_000 {
                                format!("{note} {}.{}s", ms / 1000, ms % 1000 / 100)
                            } else if ms < 60_000 {
                                format!("{note} {}s", ms.div_ceil(1000))
                            } else {
                                format!("{note} {}", format_duration(ms / 1000 * 1000))
                            }
                        })
                        .unwrap_or_default()
                })}
            </p>
            {move || {
                // Made once while a session runs; only its width follows the clock.
                session_shown.get().then(|| {
                    view! {
                        <div class="session-bar" aria-hidden="true">
                            <span style:transform=move || session_share.get().unwrap_or_default()></span>
                        </div>
                    }
                })
            }}
            {ctl.map(|ctl| consumer_actions(ctl, name.clone(), running, me, groups))}
            {ctl.map(|ctl| consumer_settings(ctl, name.clone(), me))}
        </article>
    }
}

/// Crash / stop / start buttons and the "Move to group…" menu of a consumer card.
fn consumer_actions(
    ctl: Controller,
    name: String,
    running: Memo<bool>,
    me: Memo<Option<ConsumerSnap>>,
    groups: Memo<Vec<String>>,
) -> impl IntoView {
    let cmd = move |make: fn(String) -> Command, name: String| move |_| ctl.apply(make(name.clone()));
    let buttons = {
        let name = name.clone();
        move || {
            let name = name.clone();
            if running.get() {
                view! {
                    <button
                        class="danger"
                        aria-label=format!("Crash {name}")
                        on:click=cmd(|consumer| Command::CrashConsumer { consumer }, name.clone())
                    >
                        "Crash"
                    </button>
                    <button
                        aria-label=format!("Stop {name}")
                        on:click=cmd(|consumer| Command::StopConsumer { consumer }, name.clone())
                    >
                        "Stop"
                    </button>
                }
                .into_any()
            } else {
                view! {
                    <button
                        aria-label=format!("Start {name}")
                        on:click=cmd(|consumer| Command::StartConsumer { consumer }, name.clone())
                    >
                        "Start"
                    </button>
                }
                .into_any()
            }
        }
    };
    let targets = Memo::new(move |_| {
        let own = me.with(|c| c.as_ref().map(|c| c.group.clone()).unwrap_or_default());
        let all = groups.get();
        let new_group = (1..).map(|i| format!("group-{i}")).find(|g| !all.contains(g)).unwrap_or_default();
        let mut v: Vec<(String, String)> = all.into_iter().filter(|g| *g != own).map(|g| (g.clone(), g)).collect();
        v.push((new_group.clone(), format!("new group ({new_group})")));
        v
    });
    let move_to = {
        let name = name.clone();
        move |ev| {
            let group = event_target_value(&ev);
            if !group.is_empty() {
                ctl.apply(Command::MoveConsumer { consumer: name.clone(), group });
            }
        }
    };
    view! {
        <div class="actions">
            {buttons}
            <select class="move" aria-label=format!("Move {name} to group") on:change=move_to prop:value="">
                <option value="">"Move to group…"</option>
                {move || {
                    targets
                        .get()
                        .into_iter()
                        .map(|(value, text)| view! { <option value=value>{text}</option> })
                        .collect_view()
                }}
            </select>
        </div>
    }
}

/// A select bound to one consumer setting: `current` reads it, `apply` turns a choice into a command.
fn setting_select(
    label: String,
    options: Vec<(String, String)>,
    current: impl Fn() -> String + Send + Sync + 'static,
    apply: impl Fn(String) + 'static,
) -> impl IntoView {
    // Set only when it changes (see the producer's controls).
    let current = Memo::new(move |_| current());
    view! {
        <label class="setting">
            <span>{label}</span>
            <select prop:value=current on:change=move |ev| apply(event_target_value(&ev))>
                {options.into_iter().map(|(v, t)| view! { <option value=v>{t}</option> }).collect_view()}
            </select>
        </label>
    }
}

/// `partition.assignment.strategy` choices: Kafka's default list, each assignor alone, and the
/// list a rolling upgrade to cooperative rebalancing passes through; plus the consumer's own if
/// it is none of these (from a link).
fn assignor_options(me: Memo<Option<ConsumerSnap>>) -> Vec<(String, String)> {
    let mut lists: Vec<Vec<Strategy>> = vec![Strategy::DEFAULT_LIST.to_vec()];
    lists.extend(Strategy::ALL.iter().map(|s| vec![*s]));
    lists.push(vec![Strategy::CooperativeSticky, Strategy::Range]);
    let own = me.with_untracked(|c| c.as_ref().map(|c| c.settings.assignors.clone()));
    if let Some(own) = own.filter(|o| !lists.contains(o)) {
        lists.push(own);
    }
    lists
        .iter()
        .map(|l| {
            let text = Strategy::list_text(l);
            let shown = if l[..] == Strategy::DEFAULT_LIST[..] { format!("{text} (default)") } else { text.clone() };
            (text, shown)
        })
        .collect()
}

fn opts(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(v, t)| (v.to_string(), t.to_string())).collect()
}

/// Per-consumer settings: commit mode and processing time apply at once; the others, like a
/// real consumer's configuration, at its next start.
fn consumer_settings(ctl: Controller, name: String, me: Memo<Option<ConsumerSnap>>) -> impl IntoView {
    let remove_name = name.clone();
    let get = move |f: fn(&ConsumerSnap) -> String| move || me.with(|c| c.as_ref().map(f).unwrap_or_default());
    let configure = {
        let name = name.clone();
        move |setting: ConsumerSetting| ctl.apply(Command::ConfigureConsumer { consumer: name.clone(), setting })
    };
    let commit = {
        let name = name.clone();
        move |v: String| {
            let mode = match v.as_str() {
                "after_processing" => CommitMode::AfterProcessing,
                "before_processing" => CommitMode::BeforeProcessing,
                _ => CommitMode::Auto,
            };
            ctl.apply(Command::SetCommitMode { consumer: name.clone(), mode });
        }
    };
    let processing = {
        let name = name.clone();
        move |v: String| {
            if let Ok(ms) = v.parse() {
                ctl.apply(Command::SetProcessingTime { consumer: name.clone(), ms });
            }
        }
    };
    let reset = {
        let configure = configure.clone();
        move |v: String| {
            let r = if v == "latest" { OffsetReset::Latest } else { OffsetReset::Earliest };
            configure(ConsumerSetting::AutoOffsetReset(r));
        }
    };
    let assignor = {
        let configure = configure.clone();
        move |v: String| match Strategy::parse_list(&v).as_deref() {
            Some([one]) => configure(ConsumerSetting::Assignor(*one)),
            Some(list) => configure(ConsumerSetting::Assignors(list.to_vec())),
            None => {}
        }
    };
    let priority_name = name.clone();
    // A memo: the select is made again only when this changes, not with every publish.
    let several_topics = Memo::new(move |_| me.with(|c| c.as_ref().is_some_and(|c| c.settings.topics.len() > 1)));
    let priority = move || {
        let name = priority_name.clone();
        several_topics.get().then(|| {
            setting_select(
                "read topics".into(),
                opts(&[("priority", "in priority order"), ("together", "all together")]),
                get(|c| if c.settings.priority { "priority".into() } else { "together".into() }),
                move |v: String| ctl.apply(Command::SetPriority { consumer: name.clone(), enabled: v == "priority" }),
            )
        })
    };
    let session = {
        let configure = configure.clone();
        move |v: String| {
            if let Ok(ms) = v.parse() {
                configure(ConsumerSetting::SessionTimeoutMs(ms));
            }
        }
    };
    let remote = {
        let configure = configure.clone();
        move |v: String| configure(ConsumerSetting::RemoteAssignor(ServerAssignor::parse(&v)))
    };
    let protocol = move |v: String| {
        if let Some(p) = GroupProtocol::parse(&v) {
            configure(ConsumerSetting::GroupProtocol(p));
        }
    };
    let modern = Memo::new(move |_| {
        me.with(|c| c.as_ref().is_some_and(|c| c.settings.group_protocol == GroupProtocol::Consumer))
    });
    let ms = |list: &[u64]| list.iter().map(|v| (v.to_string(), format_duration(*v))).collect::<Vec<_>>();
    view! {
        <details class="settings">
            <summary aria-label=format!("Settings of {name}")>"Settings"</summary>
            {setting_select(
                "commit".into(),
                opts(&[("auto", "auto (every 5 s, in poll)"), ("after_processing", "after processing"), ("before_processing", "before processing")]),
                get(|c| c.settings.commit.name().to_string()),
                commit,
            )}
            {setting_select(
                "processing per record".into(),
                ms(&[0, 10, 50, 100, 500, 1_000, 5_000]),
                get(|c| c.settings.processing_ms.to_string()),
                processing,
            )}
            {priority}
            {setting_select(
                "auto.offset.reset".into(),
                opts(&[("earliest", "earliest"), ("latest", "latest")]),
                get(|c| c.settings.auto_offset_reset.name().into()),
                reset,
            )}
            {setting_select(
                "partition.assignment.strategy".into(),
                assignor_options(me),
                get(|c| Strategy::list_text(&c.settings.assignors)),
                assignor,
            )}
            {setting_select(
                "session.timeout.ms".into(),
                ms(&[6_000, 10_000, 45_000]),
                get(|c| c.settings.session_timeout_ms.to_string()),
                session,
            )}
            {setting_select(
                "group.protocol".into(),
                opts(&[("classic", "classic (JoinGroup, SyncGroup)"), ("consumer", "consumer (Kafka 4, KIP-848)")]),
                get(|c| c.settings.group_protocol.name().to_string()),
                protocol,
            )}
            {move || {
                let remote = remote.clone();
                modern.get().then(move || {
                    setting_select(
                        "group.remote.assignor".into(),
                        opts(&[("default", "default (uniform)"), ("uniform", "uniform"), ("range", "range")]),
                        get(|c| c.settings.remote_assignor.map_or("default", |a| a.name()).to_string()),
                        remote,
                    )
                })
            }}
            {move || {
                modern
                    .get()
                    .then(|| {
                        view! {
                            <p class="note">
                                "Under the consumer protocol the broker sets the session (group.consumer.session.timeout.ms, 45 s), the heartbeat interval (5 s) and the assignor (uniform, or the one the most members ask for with group.remote.assignor): partition.assignment.strategy and session.timeout.ms are not used. A group whose consumers use both protocols converts online, as Kafka 4 does: classic members keep JoinGroup and SyncGroup inside a consumer-protocol group, and when the last consumer-protocol member leaves, the group is classic again."
                            </p>
                        }
                    })
            }}
            <p class="note">
                {move || {
                    if me.with(|c| c.as_ref().is_some_and(|c| c.settings_pending)) {
                        "Changed: takes effect when the consumer next starts (Stop, then Start)."
                    } else {
                        "auto.offset.reset, assignors, session timeout and group.protocol are read when the consumer starts."
                    }
                }}
            </p>
            <button
                class="remove"
                aria-label=format!("Remove {remove_name}")
                title="Close it cleanly and take it away"
                on:click=move |_| ctl.apply(Command::RemoveConsumer { consumer: remove_name.clone() })
            >
                "Remove this consumer"
            </button>
        </details>
    }
}
