//! Who reads what, drawn: an SVG layer over the cluster with an edge from each partition to each
//! consumer tied to it ([`EdgeSnap`]), in its group's colour and labelled with the partition.
//!
//! Edges change the way the protocol changes them. A crashed consumer keeps its edges (the
//! coordinator has not noticed; they are drawn faint) while its session runs out; then they are
//! revoked — dashed, fading — and drawn in to the new owners when their assignment arrives. Under
//! cooperative rebalancing only the moved edges change, because only they change in the model.
//!
//! The layer is redrawn when the edges or the layout change, never per frame: element boxes are
//! read once then (one layout), and a resize of the columns says when they moved.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::playback::{self, Next};
use crate::sim::snapshot::{Snapshot, Tie};
use crate::sim::text::Fixed;

const SVG: &str = "http://www.w3.org/2000/svg";

/// Groups take the colours `c0`…`c5` of the style sheet (Okabe–Ito) in the order they are shown.
const GROUP_CLASSES: [&str; 6] = ["c0", "c1", "c2", "c3", "c4", "c5"];

/// How long (wall ms) a revoked edge takes to fade.
const FADE_MS: f64 = 1_200.0;

/// The class giving the group shown `index`th its colour (`--group-color` in the style sheet; an
/// inline style would break the page's Content-Security-Policy).
pub fn group_class(index: usize) -> &'static str {
    GROUP_CLASSES[index % GROUP_CLASSES.len()]
}

/// One edge to draw.
#[derive(Clone, Debug, PartialEq)]
struct Edge {
    key: String,
    group: usize,
    topic: String,
    partition: u32,
    consumer: String,
    tie: Tie,
}

/// The edges of every group, with each group's place in `shown` (its colour).
fn edges_of(s: &Snapshot, shown: &[String]) -> Vec<Edge> {
    let mut out = Vec::new();
    for g in &s.groups {
        let index = shown.iter().position(|n| *n == g.name).unwrap_or(0);
        for e in &g.edges {
            out.push(Edge {
                key: format!("{}\u{1}{}\u{1}{}\u{1}{}", g.name, e.topic, e.partition, e.consumer),
                group: index,
                topic: e.topic.to_string(),
                partition: e.partition,
                consumer: e.consumer.to_string(),
                tie: e.tie,
            });
        }
    }
    out
}

/// Boxes relative to the cluster section, read in one go. (Lists, not maps, here and below: a
/// few dozen entries, and the app's code stays small.)
#[derive(Default)]
struct Boxes {
    /// Right edge of the partitions' column.
    partitions_right: f64,
    /// Right edge of the section (the gutter edges run in when columns are stacked).
    right: f64,
    /// Per partition log ("Partition p of t"): its vertical middle and right edge.
    logs: Vec<(String, (f64, f64))>,
    /// Per consumer card: left, top, right, bottom.
    cards: Vec<(String, (f64, f64, f64, f64))>,
}

fn read_boxes(section: &web_sys::Element) -> Boxes {
    let origin = section.get_bounding_client_rect();
    let (ox, oy) = (origin.left(), origin.top());
    let mut b = Boxes { right: origin.width(), ..Boxes::default() };
    if let Ok(Some(col)) = section.query_selector(".column.broker") {
        b.partitions_right = col.get_bounding_client_rect().right() - ox;
    }
    let all = |selector: &str, f: &mut dyn FnMut(String, web_sys::DomRect)| {
        if let Ok(found) = section.query_selector_all(selector) {
            for i in 0..found.length() {
                let Some(e) = found.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
                if let Some(name) = e.get_attribute("aria-label") {
                    f(name, e.get_bounding_client_rect());
                }
            }
        }
    };
    all("ol.log[aria-label^='Partition ']", &mut |name, r| {
        b.logs.push((name, (r.top() + r.height() / 2.0 - oy, r.right() - ox)));
    });
    all("article[aria-label^='Consumer ']", &mut |name, r| {
        b.cards.push((name, (r.left() - ox, r.top() - oy, r.right() - ox, r.bottom() - oy)));
    });
    b
}

/// Points along a drawn edge, in the cluster section's coordinates.
type Points = Vec<(f64, f64)>;

thread_local! {
    /// The edges as drawn, as points along each (section coordinates), keyed by
    /// [`path_key`]: message tokens from a partition to its reader travel along them.
    static PATHS: std::cell::RefCell<Vec<(u64, Points)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The key of the edge from partition `partition` of `topic` to `consumer`.
pub fn path_key(topic: &str, partition: u32, consumer: &str) -> u64 {
    name_key(format_args!("{partition}\u{1}{topic}\u{1}{consumer}"))
}

/// Calls `f` with the points of that edge as drawn (section coordinates), if it is.
pub fn with_path<R>(key: u64, f: impl FnOnce(&[(f64, f64)]) -> R) -> Option<R> {
    PATHS.with(|p| p.borrow().iter().find(|(k, _)| *k == key).map(|(_, pts)| f(pts)))
}

/// Points along a cubic Bézier curve (its start left out).
fn curve(p0: (f64, f64), p1: (f64, f64), p2: (f64, f64), p3: (f64, f64), out: &mut Vec<(f64, f64)>) {
    for i in 1..=12 {
        let t = f64::from(i) / 12.0;
        let u = 1.0 - t;
        let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
        out.push((a * p0.0 + b * p1.0 + c * p2.0 + d * p3.0, a * p0.1 + b * p1.1 + c * p2.1 + d * p3.1));
    }
}

/// The path of `edge` (its `nth` of `count` ends on its card): the SVG path, points along it,
/// and where its label goes.
fn route(b: &Boxes, edge: &Edge, nth: usize, count: usize) -> Option<(String, Points, f64, f64, &'static str)> {
    let log = format!("Partition {} of {}", edge.partition, edge.topic);
    let card = format!("Consumer {}", edge.consumer);
    let (y0, log_right) = b.logs.iter().find(|(n, _)| *n == log)?.1;
    let (left, top, right, bottom) = b.cards.iter().find(|(n, _)| *n == card)?.1;
    // Ends spread down the card's side, below its name.
    let span = (bottom - top - 24.0).max(8.0);
    let y1 = top + 14.0 + span * (nth as f64 + 0.5) / count.max(1) as f64 * 0.6;
    if left >= b.partitions_right - 1.0 {
        // Side by side: a curve across the gap, from the partitions' column to the card.
        let x0 = b.partitions_right;
        let dx = ((left - x0) / 2.0).max(24.0);
        let d = {
            let [start, y0, x0, c1, c2, y1, left] =
                [log_right + 4.0, y0, x0, x0 + dx, left - dx, y1, left].map(|v| Fixed(v, 1));
            format!("M{start} {y0}H{x0}C{c1} {y0} {c2} {y1} {left} {y1}")
        };
        let mut pts = vec![(x0, y0)];
        curve((x0, y0), (x0 + dx, y0), (left - dx, y1), (left, y1), &mut pts);
        Some((d, pts, left - 3.0, y1 - 3.0, "end"))
    } else {
        // Stacked (a narrow screen): out to the right, down a gutter lane per group, in to the card.
        // The lane runs in the columns' right padding, beside the cards.
        let lane = b.right - 5.0 - 4.0 * (edge.group % 3) as f64;
        let d = {
            let [start, y0, lane, y1, right] = [log_right + 4.0, y0, lane, y1, right].map(|v| Fixed(v, 1));
            format!("M{start} {y0}H{lane}V{y1}H{right}")
        };
        let pts = vec![(log_right + 4.0, y0), (lane, y0), (lane, y1), (right, y1)];
        Some((d, pts, right - 3.0, y1 - 3.0, "end"))
    }
}

struct Drawn {
    key: String,
    el: web_sys::Element,
    group: usize,
    tie: Tie,
    /// Revoked: removed once the fade is over (wall ms).
    leaving_since: Option<f64>,
}

fn svg_el(doc: &web_sys::Document, tag: &str) -> Option<web_sys::Element> {
    doc.create_element_ns(Some(SVG), tag).ok()
}

fn tie_class(tie: Tie) -> &'static str {
    match tie {
        Tie::Reads => "reads",
        Tie::Unnoticed => "unnoticed",
        Tie::Lost => "lost",
    }
}

/// The classes of an edge of the group shown `group`th.
fn classes(group: usize, state: &str) -> String {
    format!("wire {} {state}", group_class(group))
}

/// Draws `edges` into `svg`: new ones are drawn in, gone ones fade out, changed ones restyle.
fn draw(svg: &web_sys::Element, drawn: &mut Vec<Drawn>, edges: &[Edge], b: &Boxes, now: f64) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let first_draw = drawn.is_empty();
    let mut paths = Vec::with_capacity(edges.len());
    for (k, e) in edges.iter().enumerate() {
        // Its place among the edges ending on the same card.
        let nth = edges[..k].iter().filter(|x| x.consumer == e.consumer).count();
        let count = edges.iter().filter(|x| x.consumer == e.consumer).count();
        let Some((d, pts, lx, ly, anchor)) = route(b, e, nth, count) else { continue };
        if e.tie == Tie::Reads {
            paths.push((path_key(&e.topic, e.partition, &e.consumer), pts));
        }
        let entry = drawn.iter_mut().find(|w| w.key == e.key);
        let g = match entry {
            Some(w) if w.leaving_since.is_none() => {
                if (w.tie, w.group) != (e.tie, e.group) {
                    (w.tie, w.group) = (e.tie, e.group);
                    let _ = w.el.set_attribute("class", &classes(e.group, tie_class(e.tie)));
                }
                w.el.clone()
            }
            _ => {
                if let Some(i) = drawn.iter().position(|w| w.key == e.key) {
                    drawn.remove(i).el.remove();
                }
                let Some(g) = svg_el(&doc, "g") else { continue };
                let _ = g.set_attribute("class", &classes(e.group, tie_class(e.tie)));
                let _ = g.set_attribute("data-edge", &e.key.replace('\u{1}', " "));
                let _ = g.set_attribute("data-consumer", &e.consumer);
                let _ = g.set_attribute("data-partition", &format!("{}-{}", e.topic, e.partition));
                if !first_draw {
                    let _ = g.class_list().add_1("enter");
                }
                for tag in ["path", "text"] {
                    if let Some(child) = svg_el(&doc, tag) {
                        let _ = g.append_child(&child);
                    }
                }
                if let Some(text) = g.last_element_child() {
                    text.set_text_content(Some(&format!("P{}", e.partition)));
                }
                let _ = svg.append_child(&g);
                drawn.push(Drawn {
                    key: e.key.clone(),
                    el: g.clone(),
                    group: e.group,
                    tie: e.tie,
                    leaving_since: None,
                });
                g
            }
        };
        if let (Some(path), Some(text)) = (g.first_element_child(), g.last_element_child()) {
            if path.get_attribute("d").as_deref() != Some(d.as_str()) {
                let _ = path.set_attribute("d", &d);
                let _ = text.set_attribute("x", &Fixed(lx, 1).to_string());
                let _ = text.set_attribute("y", &Fixed(ly, 1).to_string());
                let _ = text.set_attribute("text-anchor", anchor);
            }
        }
    }
    PATHS.with(|p| *p.borrow_mut() = paths);
    // Gone from the model: revoked. They fade where they were.
    for w in drawn.iter_mut() {
        if w.leaving_since.is_none() && !edges.iter().any(|e| e.key == w.key) {
            w.leaving_since = Some(now);
            let _ = w.el.set_attribute("class", &classes(w.group, "revoked"));
        }
    }
    sweep(drawn, now);
}

/// Removes revoked edges whose fade is over; whether any still fade.
fn sweep(drawn: &mut Vec<Drawn>, now: f64) -> bool {
    drawn.retain(|w| match w.leaving_since {
        Some(t) if now - t >= FADE_MS => {
            w.el.remove();
            false
        }
        _ => true,
    });
    drawn.iter().any(|w| w.leaving_since.is_some())
}

/// What the layer keeps between frames.
#[derive(Default)]
struct Layer {
    drawn: Vec<Drawn>,
    edges: Vec<Edge>,
    /// A digest of the edges last drawn: they are rebuilt only when it changes.
    digest: u64,
    /// Set when the layout moved (by the resize observer): boxes must be read again.
    moved: std::rc::Rc<std::cell::Cell<bool>>,
    observer: Option<playback::SizeWatch>,
    fading: bool,
    /// The snapshot last looked at (its instant and event count): a paused page does nothing.
    seen: (u64, u64),
}

/// A digest of every group's edges and the groups' order (no allocation: it runs every frame).
fn digest(s: &Snapshot, shown: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    shown.hash(&mut h);
    for g in &s.groups {
        g.name.hash(&mut h);
        for e in &g.edges {
            (e.topic.as_str(), e.partition, e.consumer.as_str(), e.tie as u8).hash(&mut h);
        }
    }
    h.finish()
}

/// Watches the section and what is in it for size changes, which move the ends.
fn observe(layer: &mut Layer, section: &web_sys::Element) {
    if layer.observer.is_none() {
        let moved = layer.moved.clone();
        layer.observer = playback::SizeWatch::new(move || moved.set(true));
    }
    let Some(o) = &layer.observer else { return };
    o.watch(section);
    // New cards and groups are watched too (watching one twice is harmless).
    if let Ok(found) = section.query_selector_all(".column, .group, article.consumer") {
        for i in 0..found.length() {
            if let Some(e) = found.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                o.watch(&e);
            }
        }
    }
}

/// The layer. `shown` is the groups in the order their boxes are shown (their colours).
#[component]
pub fn Wires(snapshot: ReadSignal<Snapshot>, shown: Memo<Vec<String>>) -> impl IntoView {
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let layer = StoredValue::new_local(Layer::default());
    on_cleanup(move || {
        // Dropped, it stops watching.
        layer.try_update_value(|l| l.observer.take());
    });
    let ctl = use_context::<super::controller::Controller>();
    playback::start(move |_| {
        let Some(svg) = svg.get_untracked() else { return Next::Idle };
        let svg: web_sys::Element = svg.into();
        let Some(section) = svg.parent_element() else { return Next::Idle };
        let now = playback::now_ms();
        layer
            .try_update_value(|l| {
                let seen = snapshot.with_untracked(|s| (s.now_ms, s.events));
                if seen == l.seen && !l.fading && !l.moved.get() && l.observer.is_some() {
                    return Next::Idle;
                }
                let d = shown.with_untracked(|order| snapshot.with_untracked(|s| digest(s, order)));
                let changed = d != l.digest || l.observer.is_none();
                // Published this frame, the page's views have not taken the change in yet (they
                // do once this frame's callbacks return): edges that changed, or must be placed
                // again, are drawn on the next frame, from the boxes as they will be.
                if (changed || l.moved.get()) && ctl.is_some_and(|c| c.frame_is_busy()) {
                    return Next::Soon;
                }
                l.seen = seen;
                if changed {
                    l.digest = d;
                    l.edges = shown.with_untracked(|order| snapshot.with_untracked(|s| edges_of(s, order)));
                    observe(l, &section);
                }
                if changed || l.moved.replace(false) {
                    let boxes = read_boxes(&section);
                    let _ = svg.set_attribute("height", &section.scroll_height().to_string());
                    draw(&svg, &mut l.drawn, &l.edges, &boxes, now);
                    l.fading = true;
                }
                if l.fading {
                    l.fading = sweep(&mut l.drawn, now);
                }
                // A fade runs out by frames.
                if l.fading {
                    Next::Soon
                } else {
                    Next::Idle
                }
            })
            .unwrap_or(Next::Idle)
    });
    view! { <svg class="wires" aria-hidden="true" node_ref=svg></svg> }
}

/// FNV-1a over text written into it: tokens find their elements by accessible name, and
/// hashing the name as it is formatted spares hundreds of strings a frame.
struct NameKey(u64);

impl std::fmt::Write for NameKey {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Ok(())
    }
}

/// The key of the accessible name `args` formats to.
pub(super) fn name_key(args: std::fmt::Arguments) -> u64 {
    let mut key = NameKey(0xcbf2_9ce4_8422_2325);
    let _ = std::fmt::Write::write_fmt(&mut key, args);
    key.0
}
