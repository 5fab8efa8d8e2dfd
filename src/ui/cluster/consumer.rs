//! A consumer's card: what it reads and does, its buttons and its settings.

use super::*;

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
