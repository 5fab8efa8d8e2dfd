//! A producer's card: its rate, keys, acks and idempotence, and what it has in flight.

use super::*;

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
