//! Dragging a consumer card onto a group (or onto "new group") with Pointer Events, so mouse,
//! touch and pen all work. Dropping outside a group, `pointercancel` or Esc cancels. The drop
//! issues the same model command as the "Move to group…" menu.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::controller::Controller;
use crate::sim::text::Fixed;
use crate::sim::Command;

/// The attribute that marks drop targets; its value is the group name, or [`NEW_GROUP`].
pub const DROP_ATTR: &str = "data-drop-group";
/// The drop-target value of the "new group" zone (not a valid group name, so never a clash).
pub const NEW_GROUP: &str = "+new";

/// A drag in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Drag {
    pub consumer: String,
    pub from_group: String,
    pub pointer_id: i32,
    pub x: f64,
    pub y: f64,
    /// The drop target under the pointer (a group name, or [`NEW_GROUP`]).
    pub over: Option<String>,
}

/// Shared drag state (one drag at a time).
#[derive(Clone, Copy)]
pub struct DragState(pub RwSignal<Option<Drag>>);

/// The drop target under a point, if any.
fn target_at(x: f64, y: f64) -> Option<String> {
    let el = document().element_from_point(x as f32, y as f32)?;
    let zone = el.closest(&format!("[{DROP_ATTR}]")).ok()??;
    zone.get_attribute(DROP_ATTR)
}

/// How close to the window's top or bottom edge (px) a drag scrolls the page, so a group
/// below the fold can be reached.
const EDGE: f64 = 28.0;

/// Scrolls the page a little when a dragging pointer nears the top or bottom edge.
fn scroll_near_edge(y: f64) {
    let win = window();
    let height = win.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(0.0);
    let step = if y < EDGE {
        -(EDGE - y).max(4.0)
    } else if height > 0.0 && y > height - EDGE {
        (y - (height - EDGE)).max(4.0)
    } else {
        return;
    };
    win.scroll_by_with_x_and_y(0.0, step);
}

/// Installs the window listeners that move, drop and cancel drags. Call once, in the app.
pub fn install(ctl: Controller, groups: impl Fn() -> Vec<String> + Send + Sync + 'static) -> DragState {
    let state = DragState(RwSignal::new(None));
    let drag = state.0;
    let moved = window_event_listener(leptos::ev::pointermove, move |ev| {
        if drag.with_untracked(|d| d.as_ref().is_some_and(|d| d.pointer_id == ev.pointer_id())) {
            let (x, y) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
            scroll_near_edge(y);
            let over = target_at(x, y);
            drag.update(|d| {
                if let Some(d) = d {
                    d.x = x;
                    d.y = y;
                    d.over = over;
                }
            });
        }
    });
    let up = window_event_listener(leptos::ev::pointerup, move |ev| {
        let Some(d) = drag.get_untracked() else { return };
        if d.pointer_id != ev.pointer_id() {
            return;
        }
        drag.set(None);
        let target = target_at(f64::from(ev.client_x()), f64::from(ev.client_y()));
        let group = match target {
            Some(g) if g == NEW_GROUP => {
                let all = groups();
                (1..).map(|i| format!("group-{i}")).find(|g| !all.contains(g))
            }
            Some(g) if g != d.from_group => Some(g),
            _ => None, // dropped outside, or back where it came from
        };
        if let Some(group) = group {
            ctl.apply(Command::MoveConsumer { consumer: d.consumer, group });
        }
    });
    let cancel = window_event_listener(leptos::ev::pointercancel, move |_| drag.set(None));
    let esc = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && drag.with_untracked(Option::is_some) {
            drag.set(None);
        }
    });
    on_cleanup(move || {
        moved.remove();
        up.remove();
        cancel.remove();
        esc.remove();
    });
    provide_context(state);
    state
}

/// `pointerdown` on a card's handle starts dragging that consumer.
pub fn start(state: DragState, ev: &web_sys::PointerEvent, consumer: &str, from_group: &str) {
    let DragState(drag) = state;
    if ev.button() != 0 {
        return;
    }
    ev.prevent_default();
    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
        // Keep getting the pointer's events when it leaves the handle; pointerup still bubbles
        // to the window listener, and hit-testing uses the pointer's position.
        let _ = el.release_pointer_capture(ev.pointer_id());
    }
    drag.set(Some(Drag {
        consumer: consumer.to_string(),
        from_group: from_group.to_string(),
        pointer_id: ev.pointer_id(),
        x: f64::from(ev.client_x()),
        y: f64::from(ev.client_y()),
        over: None,
    }));
}

/// The card that follows the pointer while dragging.
#[component]
pub fn DragGhost() -> impl IntoView {
    let drag = use_context::<DragState>().map(|d| d.0);
    move || {
        drag.and_then(|d| d.get()).map(|d| {
            let note = match &d.over {
                Some(g) if g == NEW_GROUP => "→ new group".to_string(),
                Some(g) if *g != d.from_group => format!("→ {g}"),
                _ => "drop on a group · Esc cancels".to_string(),
            };
            view! {
                <div class="ghost" aria-hidden="true" style:left=format!("{}px", Fixed(d.x + 12.0, 1)) style:top=format!("{}px", Fixed(d.y + 12.0, 1))>
                    <strong>{d.consumer.clone()}</strong>
                    <span>{note}</span>
                </div>
            }
        })
    }
}

/// A reactive "is a consumer being dragged": drop targets show themselves (and the new-group
/// zone stays in view) while it is true.
pub fn dragging() -> impl Fn() -> bool + Send + Sync + 'static {
    let state = use_context::<DragState>();
    move || state.is_some_and(|d| d.0.with(Option::is_some))
}

/// A reactive "is a drag hovering over the group `name`" (or [`NEW_GROUP`]). Call it
/// while building a component: it reads the drag state from the component's context.
pub fn hovering(name: String) -> impl Fn() -> bool + Send + Sync + 'static {
    let state = use_context::<DragState>();
    move || {
        state.is_some_and(|d| {
            d.0.with(|d| d.as_ref().is_some_and(|d| d.over.as_deref() == Some(name.as_str()) && d.from_group != name))
        })
    }
}
