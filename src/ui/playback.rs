//! Paces the simulation by the wall clock: one frame loop calls every layer's callback with the
//! milliseconds since the previous frame (capped, so a background tab does not leap ahead), at
//! most 30 times a second and only when one of them needs it: while playing, the page is
//! published eight times a second and the layers follow in the same frame (the tokens fly on a
//! worker of their own, [`super::tokens`]), so the frames in between are not asked for. Work
//! that can be done ahead of a frame (moving the model to the frame's instant) is done in the
//! task that asks for the frame, a little before it, so the frame itself only draws.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

/// The longest step taken in one frame, in wall-clock ms.
const MAX_FRAME_MS: f64 = 250.0;

/// The wall clock (ms since the page opened), for pacing and throttling; never the model's.
pub(super) fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// What a frame callback needs next, without being woken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Nothing: it is still.
    Idle,
    /// The next frame (it is animating, or left work for the next frame).
    Soon,
    /// No frame before this wall-clock instant (ms, [`now_ms`]), then one.
    At(f64),
}

/// A frame callback: given the wall ms since the previous frame, does its work and says when it
/// needs another frame.
type Tick = Rc<dyn Fn(f64) -> Next>;

/// Work ahead of a frame: given the wall ms the frame is expected to come after the previous one,
/// gets ready for it (see [`before_frames`]).
type Prepare = Rc<dyn Fn(f64)>;

/// The most a timer asks ahead of its frame to leave room for the work before it (wall ms).
const MAX_LEAD_MS: f64 = 24.0;

/// Frames come at most this often (wall ms), 30 a second. Each frame a page asks for costs the
/// browser a commit to the compositor even when nothing changed, so no frame is asked for that
/// no callback needs.
const FRAME_EVERY_MS: f64 = 33.0;

/// Everything called on each frame, in the order it was started: one `requestAnimationFrame`
/// callback serves them all, and none is asked for while nothing needs one (a paused page with
/// nothing moving does no work per frame).
#[derive(Default)]
struct Frames {
    ticks: Vec<(u64, Tick)>,
    prepares: Vec<(u64, Prepare)>,
    next_id: u64,
    /// How long (wall ms) the work before a frame took lately: a timer fires that much earlier,
    /// so the work is done before the frame is due rather than delaying it.
    lead: f64,
    /// A frame is asked for (or a timer will ask for one), or the callbacks are running.
    scheduled: bool,
    /// When (wall ms) the timer asks for the next frame, while one waits; the number of that
    /// timer (a wake that brings the frame forward leaves the old timer with a stale number).
    timer: Option<(f64, u64)>,
    timers: u64,
    /// Woken since the frame began.
    woken: bool,
    /// When (wall ms) the last frame ran; `None` after an idle spell.
    last: Option<f64>,
}

thread_local! {
    static FRAMES: RefCell<Frames> = RefCell::new(Frames::default());
}

/// Calls `tick(elapsed_ms)` on the next frame, and again when it says (see [`Next`]) or something
/// [`wake`]s the loop, until the owning component is dropped.
pub fn start(tick: impl Fn(f64) -> Next + 'static) {
    let id = FRAMES.with_borrow_mut(|f| {
        f.next_id += 1;
        f.ticks.push((f.next_id, Rc::new(tick)));
        f.next_id
    });
    on_cleanup(move || FRAMES.with_borrow_mut(|f| f.ticks.retain(|(i, _)| *i != id)));
    wake();
}

/// Calls `prepare(expected_ms)` in the task that asks for a frame a little before it (a timer's),
/// with the wall ms the frame is expected to come after the previous one, until the owning
/// component is dropped. A frame asked for at once (a [`wake`]) comes without it.
pub fn before_frames(prepare: impl Fn(f64) + 'static) {
    let id = FRAMES.with_borrow_mut(|f| {
        f.next_id += 1;
        f.prepares.push((f.next_id, Rc::new(prepare)));
        f.next_id
    });
    on_cleanup(move || FRAMES.with_borrow_mut(|f| f.prepares.retain(|(i, _)| *i != id)));
}

/// Size changes of the elements it watches, as a flag the frame callbacks read: a
/// `ResizeObserver` whose callback sets `moved` and asks for a frame. Its callback lives as long
/// as it does; dropped, it stops watching.
pub struct SizeWatch {
    observer: web_sys::ResizeObserver,
    _on_resize: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

impl SizeWatch {
    /// `None` where the browser has no `ResizeObserver`.
    pub fn new(moved: impl Fn() + 'static) -> Option<SizeWatch> {
        let on_resize = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            moved();
            wake();
        });
        let observer = web_sys::ResizeObserver::new(wasm_bindgen::JsCast::unchecked_ref(on_resize.as_ref())).ok()?;
        Some(SizeWatch { observer, _on_resize: on_resize })
    }

    /// Watches `element` too (watching one twice is harmless).
    pub fn watch(&self, element: &web_sys::Element) {
        self.observer.observe(element);
    }
}

impl Drop for SizeWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// Asks for a frame: something changed that the frame callbacks draw (a new snapshot, a resize,
/// playback started). Woken during a frame, the loop goes on at its pace; woken while the next
/// frame waits for a later instant, it comes as soon as the pace allows.
pub fn wake() {
    let now = now_ms();
    let ask = FRAMES.with_borrow_mut(|f| {
        f.woken = true;
        let soonest = f.last.map_or(now, |l| l + FRAME_EVERY_MS);
        match f.timer {
            Some((at, _)) if at > soonest.max(now) + 1.0 => {
                f.timer = None; // that timer's frame is asked for below instead
                Some(soonest)
            }
            _ if !std::mem::replace(&mut f.scheduled, true) => Some(now),
            _ => None,
        }
    });
    match ask {
        Some(at) if at > now => ask_at(at),
        Some(_) => request_animation_frame(frame),
        None => {}
    }
}

/// Asks for a frame at wall instant `at`: a timer asks a little before then (a display's frames
/// come every 16.7 ms, or 8.3; headless ones whenever asked for).
fn ask_at(at: f64) {
    let (number, lead) = FRAMES.with_borrow_mut(|f| {
        f.timers += 1;
        f.timer = Some((at, f.timers));
        (f.timers, f.lead)
    });
    let wait = (at - 5.0 - lead - now_ms()).max(0.0);
    set_timeout(
        move || {
            // A wake asked for an earlier frame meanwhile: this timer's is not needed.
            let current = FRAMES.with_borrow_mut(|f| {
                let current = f.timer.is_some_and(|(_, n)| n == number);
                if current {
                    f.timer = None;
                }
                current
            });
            if current {
                prepare(at);
                request_animation_frame(frame);
            }
        },
        std::time::Duration::from_millis(wait as u64),
    );
}

/// Runs the work before a frame expected at wall instant `at`, and learns how long it takes.
fn prepare(at: f64) {
    let (prepares, expected) = FRAMES.with_borrow(|f| {
        let expected = f.last.map_or(0.0, |l| (at - l).clamp(0.0, MAX_FRAME_MS));
        (f.prepares.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>(), expected)
    });
    if prepares.is_empty() {
        return;
    }
    let started = now_ms();
    for p in prepares {
        p(expected);
    }
    let took = now_ms() - started;
    // Up at once when it grows, down slowly (one slow spell should not leave frames late).
    FRAMES.with_borrow_mut(|f| f.lead = took.max(f.lead * 0.75).min(MAX_LEAD_MS));
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
    // The earliest instant a callback needs a frame at, if any.
    let mut next: Option<f64> = None;
    for id in ids {
        let tick = FRAMES.with_borrow(|f| f.ticks.iter().find(|(i, _)| *i == id).map(|(_, t)| t.clone()));
        let at = match tick.map(|tick| tick(elapsed)) {
            None | Some(Next::Idle) => continue,
            Some(Next::Soon) => now,
            Some(Next::At(at)) => at,
        };
        next = Some(next.map_or(at, |n: f64| n.min(at)));
    }
    let next = FRAMES.with_borrow_mut(|f| {
        let next = if f.woken { Some(now) } else { next };
        f.scheduled = next.is_some();
        if next.is_none() {
            f.last = None; // idle: the next frame starts afresh
        }
        next
    });
    if let Some(at) = next {
        ask_at(at.max(now + FRAME_EVERY_MS)); // not before FRAME_EVERY_MS
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
