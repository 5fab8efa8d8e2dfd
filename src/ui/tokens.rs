//! Message tokens on one canvas layer over the cluster: a batch flies from its producer to the
//! partition it was appended to, and from the partition to the consumer that fetched it. Tokens
//! are drawn from the recent events every animation frame — no DOM node or signal per token.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{playback, Controller};
use crate::sim::event::EventKind;

/// How long (simulated ms) a token takes to travel.
const FLIGHT_MS: u64 = 600;
/// Tokens are redrawn at most this often (wall ms). Frames come at most 30 a second while
/// playing; this keeps an extra frame (one asked for by a change) from drawing them again.
const DRAW_EVERY_MS: f64 = 20.0;
/// At most this many tokens per frame.
const MAX_TOKENS: usize = 300;
/// Okabe–Ito colours by partition number; the label says which record, so colour is a hint.
const COLORS: [&str; 7] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"];

struct Token {
    /// [`name_key`]s of the elements the token flies between.
    from: u64,
    to: u64,
    /// From a partition to a consumer: the key of the edge it travels along
    /// ([`super::wires::path_key`]); `None` from a producer to a partition.
    edge: Option<u64>,
    partition: u32,
    /// The record's offset or sequence number, shown when few enough tokens fly to read them.
    label: u64,
    /// Labels are producer sequence numbers ("#12") rather than offsets.
    seq: bool,
    progress: f64,
}

impl Token {
    /// Which path it travels: its edge, or its producer and partition.
    fn path_id(&self) -> u64 {
        self.edge.unwrap_or(self.from ^ self.to.rotate_left(17))
    }
}

/// Above this many tokens in flight, they are drawn without labels: labels would cover each
/// other, and drawing text for hundreds of tokens cost more than the rest of the layer.
const MAX_LABELS: usize = 60;

/// How often (wall ms) the layer re-reads where the elements are. Reading a box forces the
/// browser to lay the page out at once; doing it every frame doubled the frame time of a busy
/// cluster. Tokens in flight can lag a layout change by this much.
const RELAYOUT_MS: f64 = 1_000.0;

thread_local! {
    /// Set by scrolling and resizing: what is in the window, and element boxes, must be read again.
    static MOVED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Listens (once per page) for what moves elements in the viewport.
fn watch_viewport() {
    thread_local!(static WATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if WATCHING.with(|w| w.replace(true)) {
        return;
    }
    let moved = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| {
        MOVED.with(|m| m.set(true));
        playback::wake();
    });
    for event in ["scroll", "resize"] {
        let _ = window().add_event_listener_with_callback(event, moved.as_ref().unchecked_ref());
    }
    moved.forget(); // lives as long as the page
}

/// Where the token ends are, in the cluster's coordinates: the cluster's
/// visible box (tokens are clipped to it), and per accessible name of a producer, partition or
/// consumer its [`End`]. All of them are read together, in one
/// layout, when the boxes are refreshed: reading a box after the page changed forces a layout,
/// and reading them one by one as tokens needed them cost several layouts a frame.
#[derive(Default)]
struct Layout {
    read_at: Option<f64>,
    /// The cluster's box (viewport px) when last looked at: when it moves (the window scrolled,
    /// the lesson above it grew) the visible part is worked out again; when its size changes,
    /// every box is read again.
    cluster: (f64, f64, f64, f64),
    /// The part of the cluster (with its side margins) in the window.
    clip: (f64, f64, f64, f64),
    boxes: std::collections::BTreeMap<u64, End>,
    /// The partitions' column sides.
    partitions: (f64, f64),
}

/// One end of a flight: an element's sides and vertical middle.
#[derive(Clone, Copy)]
struct End {
    left: f64,
    right: f64,
    y: f64,
}

/// Above this many tokens on one path at once, the path is drawn as a stream (a moving dashed
/// line as wide as the flow is busy) instead of dots that would pile into a streak.
const STREAM_ABOVE: usize = 4;

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

/// The elements tokens fly between.
const ENDS: &str = "[aria-label^='Producer '], [aria-label^='Partition '], [aria-label^='Consumer ']";

impl Layout {
    fn refresh_if_old(&mut self, cluster: &web_sys::Element, now: f64) {
        // One box a frame is cheap (tokens are drawn on frames that changed nothing else yet).
        let area = cluster.get_bounding_client_rect();
        let at = (area.left(), area.top(), area.width(), area.height());
        let fresh = self.read_at.is_some_and(|t| now - t < RELAYOUT_MS);
        let moved = MOVED.with(|m| m.replace(false)) || at != self.cluster;
        if !moved && fresh {
            return;
        }
        // Everything is in the cluster's own coordinates (its top left corner is 0, 0): the
        // canvas sits in the cluster, so tokens scroll and move with it without being redrawn.
        // Only what is in the window is drawn, with the margins beside the cluster (on a phone
        // tokens run down them): the window's size without scroll bars.
        let (width, height) = document()
            .document_element()
            .map_or((0.0, 0.0), |e| (f64::from(e.client_width()), f64::from(e.client_height())));
        let (ox, oy) = (area.left(), area.top());
        let (left, top) = ((-12.0_f64).max(-ox), 0.0_f64.max(-oy));
        let (right, bottom) = ((area.width() + 12.0).min(width - ox), area.height().min(height - oy));
        self.clip = (left, top, right - left, bottom - top);
        let resized = (at.2, at.3) != (self.cluster.2, self.cluster.3);
        self.cluster = at;
        // Moved (scrolled, or pushed down by the lesson above) but not resized: the boxes, in
        // the cluster's coordinates, still hold. Every box is read again when the cluster's size
        // changed, or a second passed.
        if !resized && fresh {
            return;
        }
        let column = cluster.query_selector(".column.broker").ok().flatten().map(|c| c.get_bounding_client_rect());
        let partitions = column.map_or((0.0, area.width()), |c| (c.left() - ox, c.right() - ox));
        let mut boxes = std::collections::BTreeMap::new();
        if let Ok(found) = document().query_selector_all(ENDS) {
            for i in 0..found.length() {
                let Some(e) = found.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
                let Some(name) = e.get_attribute("aria-label") else { continue };
                boxes.entry(name_key(format_args!("{name}"))).or_insert_with(|| {
                    let r = e.get_bounding_client_rect();
                    let y = if name.starts_with("Consumer ") { r.top() + 14.0 } else { r.top() + r.height() / 2.0 };
                    End { left: r.left() - ox, right: r.right() - ox, y: y - oy }
                });
            }
        }
        (self.read_at, self.boxes, self.partitions) = (Some(now), boxes, partitions);
    }

    fn of(&self, key: u64) -> Option<End> {
        self.boxes.get(&key).copied()
    }

    /// The points a token travels through. Tokens stay out of the columns' contents, so no label
    /// or record is covered: from a producer to the partitions' column, at the partition's row
    /// (down the left margin when the columns are stacked); from a partition along the edge to
    /// its reader.
    fn path(&self, t: &Token) -> Option<Vec<(f64, f64)>> {
        let (from, to) = (self.of(t.from)?, self.of(t.to)?);
        let (col_left, col_right) = self.partitions;
        match t.edge {
            None if from.right <= col_left + 1.0 => Some(vec![(from.right, from.y), (col_left - 3.0, to.y)]),
            None => {
                // A lane per partition (of three), so flows to different partitions stay apart.
                let gutter = -3.0 - 3.0 * f64::from(t.partition % 3);
                Some(vec![(from.left, from.y), (gutter, from.y), (gutter, to.y), (col_left - 3.0, to.y)])
            }
            // The edges' layer also starts at the cluster's corner.
            Some(edge) => super::wires::with_path(edge, |pts| pts.to_vec())
                .or_else(|| Some(vec![(col_right, from.y), (to.left, to.y)])),
        }
    }
}

/// The point `share` (0..=1) of the way along a path of points.
fn point_at(pts: &[(f64, f64)], share: f64) -> (f64, f64) {
    let len = |a: (f64, f64), b: (f64, f64)| ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let total: f64 = pts.windows(2).map(|w| len(w[0], w[1])).sum();
    let mut left = total * share;
    for w in pts.windows(2) {
        let l = len(w[0], w[1]);
        if left <= l && l > 0.0 {
            let k = left / l;
            return (w[0].0 + (w[1].0 - w[0].0) * k, w[0].1 + (w[1].1 - w[0].1) * k);
        }
        left -= l;
    }
    pts.last().copied().unwrap_or_default()
}

/// The tokens in flight at the current instant, from the controller's recent events.
fn tokens(ctl: Controller) -> Vec<Token> {
    let now = ctl.now_ms();
    ctl.with_log_untracked(|log| {
        let mut out = Vec::new();
        for e in log.iter().rev() {
            if e.t + FLIGHT_MS < now || out.len() >= MAX_TOKENS {
                break;
            }
            let progress = (now.saturating_sub(e.t)) as f64 / FLIGHT_MS as f64;
            match &e.kind {
                EventKind::Appended { producer, topic, partition, first_seq, .. } => out.push(Token {
                    from: name_key(format_args!("Producer {producer}")),
                    to: name_key(format_args!("Partition {partition} of {topic}")),
                    edge: None,
                    partition: *partition,
                    label: *first_seq,
                    seq: true,
                    progress,
                }),
                EventKind::Fetched { consumer, ranges, .. } => {
                    for r in ranges {
                        out.push(Token {
                            from: name_key(format_args!("Partition {} of {}", r.partition, r.topic)),
                            to: name_key(format_args!("Consumer {consumer}")),
                            edge: Some(super::wires::path_key(&r.topic, r.partition, consumer)),
                            partition: r.partition,
                            label: r.from,
                            seq: false,
                            progress,
                        });
                    }
                }
                _ => {}
            }
        }
        out
    })
    .unwrap_or_default()
}

/// The canvas layer: fixed to the window, and only as large as the box where tokens fly (a layer
/// as large as the window cost more to paint and composite each redraw than everything else).
#[component]
pub fn Tokens() -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let ctl = use_context::<Controller>();
    let layout = StoredValue::new_local(Layout::default());
    // The instant last drawn (and its event count): a paused page draws nothing again. And when
    // (wall ms): tokens are drawn at most every DRAW_EVERY_MS.
    let drawn = StoredValue::new_local((u64::MAX, 0u64));
    let drawn_at = StoredValue::new_local(f64::MIN);
    // The box (cluster px) the canvas covers: only where tokens are, so each redraw paints and
    // composites a strip instead of the whole window.
    let covered = StoredValue::new_local((0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64));
    watch_viewport();
    playback::start(move |_| {
        let (Some(ctl), Some(canvas)) = (ctl, canvas.get_untracked()) else { return false };
        let Some(parent) = canvas.parent_element() else { return false };
        let instant = ctl.instant();
        if instant == drawn.get_value() && !MOVED.with(|m| m.get()) {
            return false;
        }
        let now = playback::now_ms();
        if now - drawn_at.get_value() < DRAW_EVERY_MS || ctl.frame_is_busy() {
            return true; // drawn moments ago, or the page was published this frame: on the next
        }
        drawn.set_value(instant);
        drawn_at.set_value(now);
        let tokens = tokens(ctl);
        // Nothing in flight: nothing to read or draw (clear once).
        if tokens.is_empty() && layout.with_value(|l| l.read_at.is_none()) {
            return false;
        }
        layout.update_value(|l| l.refresh_if_old(&parent, now));
        let (cl, ct, cw, ch) = layout.with_value(|l| l.clip);
        // Each token's path (read once a frame), and how many tokens share it.
        let paths: Vec<Option<Vec<(f64, f64)>>> = layout.with_value(|l| tokens.iter().map(|t| l.path(t)).collect());
        let busy: Vec<usize> =
            tokens.iter().map(|t| tokens.iter().filter(|o| o.path_id() == t.path_id()).count()).collect();
        // Where the tokens are (with a token's radius around), within the cluster's visible box,
        // widened to multiples of 64 px so the canvas is not resized every frame.
        let mut area = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for &(x, y) in paths.iter().flatten().flatten() {
            area = (area.0.min(x), area.1.min(y), area.2.max(x), area.3.max(y));
        }
        let snap = |v: f64, up: bool| if up { (v / 64.0).ceil() * 64.0 } else { (v / 64.0).floor() * 64.0 };
        // Then kept within the visible box: the canvas is in the page, and a canvas reaching
        // past the window's edge would let a phone's page scroll sideways.
        let bx = snap(area.0 - 12.0, false).max(cl);
        let by = snap(area.1 - 12.0, false).max(ct);
        let bw = (snap(area.2 + 12.0, true).min(cl + cw) - bx).max(0.0);
        let bh = (snap(area.3 + 12.0, true).min(ct + ch) - by).max(0.0);
        let ratio = window().device_pixel_ratio();
        let boxed = if tokens.is_empty() || !bw.is_finite() || !bh.is_finite() {
            (0.0, 0.0, 0.0, 0.0)
        } else {
            (bx, by, bw, bh)
        };
        if boxed != covered.get_value() {
            covered.set_value(boxed);
            let style = web_sys::HtmlElement::style(&canvas);
            for (k, v) in [("left", boxed.0), ("top", boxed.1), ("width", boxed.2), ("height", boxed.3)] {
                let _ = style.set_property(k, &format!("{v}px"));
            }
            canvas.set_width((boxed.2 * ratio) as u32);
            canvas.set_height((boxed.3 * ratio) as u32);
        }
        let (bx, by, width, height) = boxed;
        let Some(cx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
        else {
            return false;
        };
        // Drawn in the cluster's coordinates, moved to the canvas's box.
        cx.set_transform(ratio, 0.0, 0.0, ratio, -bx * ratio, -by * ratio).ok();
        cx.clear_rect(bx, by, width, height);
        if tokens.is_empty() {
            layout.update_value(|l| *l = Layout::default()); // read afresh when tokens come back
            return false;
        }
        if cw <= 0.0 || ch <= 0.0 || width <= 0.0 {
            return false; // the cluster is scrolled out of view
        }
        cx.save();
        cx.begin_path();
        cx.rect(cl, ct, cw, ch);
        cx.clip();
        // Busy paths become streams: one moving dashed line each, as wide as the flow is busy.
        let mut streamed: Vec<u64> = Vec::new();
        let dots = busy.iter().filter(|n| **n <= STREAM_ABOVE).count();
        for ((t, pts), n) in tokens.iter().zip(&paths).zip(&busy).filter(|(_, n)| **n > STREAM_ABOVE) {
            if streamed.contains(&t.path_id()) {
                continue;
            }
            streamed.push(t.path_id());
            let Some(pts) = pts else { continue };
            cx.set_global_alpha(0.7);
            cx.set_stroke_style_str(COLORS[t.partition as usize % COLORS.len()]);
            cx.set_line_width((1.5 + *n as f64 / 6.0).min(7.0));
            let dash = js_sys::Array::of2(&8.0.into(), &6.0.into());
            let _ = cx.set_line_dash(&dash);
            cx.set_line_dash_offset(-(now / 30.0) % 14.0);
            cx.begin_path();
            for (i, (x, y)) in pts.iter().enumerate() {
                if i == 0 {
                    cx.move_to(*x, *y);
                } else {
                    cx.line_to(*x, *y);
                }
            }
            cx.stroke();
        }
        let _ = cx.set_line_dash(&js_sys::Array::new());
        let labelled = dots <= MAX_LABELS;
        if labelled {
            cx.set_font("600 10px system-ui, sans-serif");
            cx.set_text_align("center");
            cx.set_text_baseline("middle");
        }
        let radius = if labelled { 10.0 } else { 5.0 };
        let mut label = String::new();
        for ((t, pts), _) in tokens.iter().zip(&paths).zip(&busy).filter(|(_, n)| **n <= STREAM_ABOVE) {
            let Some(pts) = pts else { continue };
            let p = t.progress.clamp(0.0, 1.0);
            let eased = p * p * (3.0 - 2.0 * p);
            let (x, y) = point_at(pts, eased);
            cx.set_global_alpha(if p > 0.85 { (1.0 - p) / 0.15 } else { 1.0 });
            cx.set_fill_style_str(COLORS[t.partition as usize % COLORS.len()]);
            cx.begin_path();
            cx.arc(x, y, radius, 0.0, std::f64::consts::TAU).ok();
            cx.fill();
            if labelled {
                use std::fmt::Write;
                label.clear();
                let _ = write!(label, "{}{}", if t.seq { "#" } else { "" }, t.label);
                cx.set_fill_style_str("#ffffff");
                cx.fill_text(&label, x, y).ok();
            }
        }
        cx.set_global_alpha(1.0);
        cx.restore();
        false
    });
    view! { <canvas class="tokens" aria-hidden="true" node_ref=canvas></canvas> }
}
