//! A consumer group's box (its state, generation or epoch, counters, notes and cards) and its
//! `--describe` inspector.

use super::*;

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
            format!("group {}", crate::ui::wires::group_class(index))
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
