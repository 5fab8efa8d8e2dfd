//! Paces the simulation by the wall clock: one frame loop calls every layer's callback with the
//! milliseconds since the previous frame (capped, so a background tab does not leap ahead), at
//! most 30 times a second and only while something moves or was woken.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

/// The longest step taken in one frame, in wall-clock ms.
const MAX_FRAME_MS: f64 = 250.0;

/// The wall clock (ms since the page opened), for pacing and throttling; never the model's.
pub(super) fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// A frame callback: given the wall ms since the previous frame, does its work and says whether
/// it needs another frame (it is animating) without being woken.
type Tick = Rc<dyn Fn(f64) -> bool>;

/// Frames come at most this often (wall ms) — 30 a second, as often as the model moves and the
/// tokens are drawn. Each frame a page asks for costs the browser a commit to the compositor even
/// when nothing changed, so the frames between are not asked for.
const FRAME_EVERY_MS: f64 = 33.0;

/// Everything called on each frame, in the order it was started: one `requestAnimationFrame`
/// callback serves them all, and none is asked for while nothing needs one (a paused page with
/// nothing moving does no work per frame).
#[derive(Default)]
struct Frames {
    ticks: Vec<(u64, Tick)>,
    next_id: u64,
    /// A frame is asked for (or a timer will ask for one), or the callbacks are running.
    scheduled: bool,
    /// Woken since the frame began.
    woken: bool,
    /// When (wall ms) the last frame ran; `None` after an idle spell.
    last: Option<f64>,
}

thread_local! {
    static FRAMES: RefCell<Frames> = RefCell::new(Frames::default());
}

/// Calls `tick(elapsed_ms)` on the next frame, and on every frame after it for as long as it
/// returns true or something [`wake`]s the loop, until the owning component is dropped.
pub fn start(tick: impl Fn(f64) -> bool + 'static) {
    let id = FRAMES.with_borrow_mut(|f| {
        f.next_id += 1;
        f.ticks.push((f.next_id, Rc::new(tick)));
        f.next_id
    });
    on_cleanup(move || FRAMES.with_borrow_mut(|f| f.ticks.retain(|(i, _)| *i != id)));
    wake();
}

/// Asks for a frame: something changed that the frame callbacks draw (a new snapshot, a resize,
/// playback started). Woken during a frame, the loop goes on at its pace.
pub fn wake() {
    let ask = FRAMES.with_borrow_mut(|f| {
        f.woken = true;
        !std::mem::replace(&mut f.scheduled, true)
    });
    if ask {
        request_animation_frame(frame);
    }
}

fn frame() {
    let now = now_ms();
    let elapsed = FRAMES.with_borrow_mut(|f| {
        f.woken = false;
        f.last.replace(now).map_or(0.0, |l| (now - l).clamp(0.0, MAX_FRAME_MS))
    });
    // By id, looked up as each is called: a tick may start or stop others (a stopped one is not
    // called again).
    let ids: Vec<u64> = FRAMES.with_borrow(|f| f.ticks.iter().map(|(id, _)| *id).collect());
    let mut again = false;
    for id in ids {
        let tick = FRAMES.with_borrow(|f| f.ticks.iter().find(|(i, _)| *i == id).map(|(_, t)| t.clone()));
        if let Some(tick) = tick {
            again |= tick(elapsed);
        }
    }
    let again = FRAMES.with_borrow_mut(|f| {
        let again = again || f.woken;
        f.scheduled = again;
        if !again {
            f.last = None; // idle: the next frame starts afresh
        }
        again
    });
    if again {
        // Not before FRAME_EVERY_MS: a timer asks for the frame a little before then (a display's
        // frames come every 16.7 ms, or 8.3; headless ones whenever asked for).
        let wait = (now + FRAME_EVERY_MS - 5.0 - now_ms()).max(0.0);
        set_timeout(|| request_animation_frame(frame), std::time::Duration::from_millis(wait as u64));
    }
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
