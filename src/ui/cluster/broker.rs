//! A broker's card: its state, the partitions it leads and follows, and its buttons.

use super::*;

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
