//! Paces the simulation by the wall clock: one callback per animation frame with the elapsed
//! milliseconds since the previous frame (capped, so a background tab does not leap ahead).

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;

/// The longest step taken in one frame, in wall-clock ms.
const MAX_FRAME_MS: f64 = 250.0;

/// The wall clock (ms since the page opened), for pacing and throttling; never the model's.
pub(super) fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Calls `tick(elapsed_ms)` on every animation frame until the owning component is dropped.
pub fn start(tick: impl Fn(f64) + 'static) {
    let alive = Arc::new(AtomicBool::new(true));
    let stop = alive.clone();
    on_cleanup(move || stop.store(false, Ordering::Relaxed));
    let tick: Rc<dyn Fn(f64)> = Rc::new(tick);
    schedule(tick, alive, now_ms());
}

fn schedule(tick: Rc<dyn Fn(f64)>, alive: Arc<AtomicBool>, last: f64) {
    request_animation_frame(move || {
        if !alive.load(Ordering::Relaxed) {
            return;
        }
        let now = now_ms();
        tick((now - last).clamp(0.0, MAX_FRAME_MS));
        schedule(tick, alive, now);
    });
}

/// Playback shortcuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Space,
    Right,
    Left,
    Faster,
    Slower,
}

/// Calls `f` for playback keys pressed anywhere but in a form control (where they keep their
/// usual meaning), until the owning component is dropped.
pub fn on_keys(f: impl Fn(Key) + 'static) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let tag = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .map(|el| el.tag_name())
            .unwrap_or_default();
        // Form controls keep every key; a focused button keeps Space (which presses it).
        let in_field = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
        let key = match ev.key().as_str() {
            _ if in_field => return,
            " " if tag != "BUTTON" => Key::Space,
            "ArrowRight" => Key::Right,
            "ArrowLeft" => Key::Left,
            "+" | "=" => Key::Faster,
            "-" | "_" => Key::Slower,
            _ => return,
        };
        ev.prevent_default();
        f(key);
    });
    on_cleanup(move || handle.remove());
}
