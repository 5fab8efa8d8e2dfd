//! Which partition rows and cards are out of view. While a busy cluster plays, rows and cards
//! out of view keep their last state (see `stagger` in `ui/mod.rs`): a stress cluster shows a
//! handful of its 36 partitions and 18 consumers at a time, and refreshing the others cost most
//! of each frame. One `IntersectionObserver` watches them all; a row coming back into view is
//! refreshed on the next frame, and every row is exact whenever playback stops.

use std::cell::RefCell;

use leptos::prelude::on_cleanup;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// Rows this far outside the viewport count as in view, so a scroll finds them fresh.
const MARGIN: &str = "200px 0px";

/// The data attribute that carries a watched element's key.
const KEY_ATTRIBUTE: &str = "data-watch";

#[derive(Default)]
struct State {
    /// Keys of the watched elements now out of view (a few dozen: plain lists).
    out: Vec<String>,
    /// Keys that came back into view since the last played frame.
    back: Vec<String>,
    /// Each watched element under a number of its own, with its key.
    watched: Vec<(u64, String, Element)>,
    next_id: u64,
    observer: Option<IntersectionObserver>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

pub fn partition_key(topic: &str, index: u32) -> String {
    format!("p {index} {topic}")
}

pub fn consumer_key(name: &str) -> String {
    format!("c {name}")
}

pub fn group_key(name: &str) -> String {
    format!("g {name}")
}

/// Whether the element with `key` is out of view.
pub fn is_out(key: &str) -> bool {
    STATE.with(|s| s.borrow().out.iter().any(|k| k == key))
}

/// Whether the element with `key` came back into view since the last played frame.
pub fn came_back(key: &str) -> bool {
    STATE.with(|s| s.borrow().back.iter().any(|k| k == key))
}

/// How many elements are watched now.
pub fn watched() -> usize {
    STATE.with(|s| s.borrow().watched.len())
}

/// A played frame has used the "came back" marks.
pub fn frame_done() {
    STATE.with(|s| s.borrow_mut().back.clear());
}

fn on_entries(entries: js_sys::Array) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        for entry in entries.iter() {
            let Ok(entry) = entry.dyn_into::<IntersectionObserverEntry>() else { continue };
            let Some(key) = entry.target().get_attribute(KEY_ATTRIBUTE) else { continue };
            let was_out = s.out.len();
            s.out.retain(|k| *k != key);
            s.back.retain(|k| *k != key);
            if !entry.is_intersecting() {
                s.out.push(key);
            } else if s.out.len() < was_out {
                s.back.push(key);
            }
        }
    });
}

/// The directive `use:watch=key`: watches the element under `key` until its owner is cleaned up.
pub fn watch(el: Element, key: String) {
    let id = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.observer.is_none() {
            let callback = Closure::<dyn Fn(js_sys::Array)>::new(on_entries);
            let options = IntersectionObserverInit::new();
            options.set_root_margin(MARGIN);
            s.observer = IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &options).ok();
            callback.forget(); // lives as long as the page
        }
        let observer = s.observer.clone()?;
        let _ = el.set_attribute(KEY_ATTRIBUTE, &key);
        observer.observe(&el);
        s.next_id += 1;
        let id = s.next_id;
        s.watched.push((id, key, el));
        Some(id)
    });
    if let Some(id) = id {
        on_cleanup(move || unwatch(id));
    }
}

fn unwatch(id: u64) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(at) = s.watched.iter().position(|(i, _, _)| *i == id) else { return };
        let (_, key, el) = s.watched.swap_remove(at);
        if let Some(observer) = &s.observer {
            observer.unobserve(&el);
        }
        if !s.watched.iter().any(|(_, k, _)| *k == key) {
            s.out.retain(|k| *k != key);
            s.back.retain(|k| *k != key);
        }
    });
}
