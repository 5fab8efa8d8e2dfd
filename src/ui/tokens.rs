//! Message tokens on one canvas layer over the cluster: a batch flies from its producer to the
//! partition it was appended to, and from the partition along the edge to the consumer that
//! fetched it. A worker of their own (`web/tokens.js`) draws them on the canvas handed to it:
//! on each publish (eight times a second while playing) this layer sends it the tokens in
//! flight — the path each one travels and when it set off — with the model's clock, and the
//! worker moves them on between messages on its own thread. The page's thread does no work per
//! token frame, and there is no DOM node or signal per token. (A browser without
//! `OffscreenCanvas` shows no tokens; the edges, streams' counts and logs say the same.)

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::controller::Controller;
use super::playback::{self, Next};
use super::wires::name_key;
use crate::sim::event::EventKind;
use crate::sim::text::Fixed;
use crate::sim::vecmap::VecMap;

/// How long (simulated ms) a token takes to travel.
const FLIGHT_MS: u64 = 600;
/// At most this many tokens per message (the newest).
const MAX_TOKENS: usize = 600;
/// While playing, tokens are drawn this long (wall ms) behind the model. The worker hears from
/// the page on each publish, every 125 ms: drawn this far behind, every token
/// that sets off before the next message is known when it is drawn (none pops up midway), and
/// none is drawn past the instant the page shows.
const LAG_MS: f64 = 160.0;

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
    /// When it set off (simulated ms).
    t0: u64,
}

impl Token {
    /// Which path it travels: its edge, or its producer and partition.
    fn path_id(&self) -> u64 {
        self.edge.unwrap_or(self.from ^ self.to.rotate_left(17))
    }
}

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
    boxes: VecMap<u64, End>,
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

/// The elements tokens fly between.
const ENDS: &str = "[aria-label^='Producer '], [aria-label^='Partition '], [aria-label^='Consumer ']";

impl Layout {
    fn refresh_if_old(&mut self, cluster: &web_sys::Element, now: f64) {
        // One box a frame is cheap: the page's views take a publish in only after this frame's
        // callbacks, so reading it here lays nothing out afresh.
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
        let mut boxes = VecMap::new();
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

/// The tokens that set off within `window` (simulated ms) before instant `now` (the one the page
/// shows), from the controller's recent events. The model may stand later than the page (it
/// moves before a frame publishes it): its events after `now` are not shown yet.
fn tokens(ctl: Controller, now: u64, window: u64) -> Vec<Token> {
    ctl.with_log_untracked(|log| {
        let mut out = Vec::new();
        for e in log.iter().rev().skip_while(|e| e.t > now) {
            if e.t.saturating_add(window) < now || out.len() >= MAX_TOKENS {
                break;
            }
            let t0 = e.t;
            match &e.kind {
                EventKind::Appended { producer, topic, partition, first_seq, .. } => out.push(Token {
                    from: name_key(format_args!("Producer {producer}")),
                    to: name_key(format_args!("Partition {partition} of {topic}")),
                    edge: None,
                    partition: *partition,
                    label: *first_seq,
                    seq: true,
                    t0,
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
                            t0,
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

/// The worker drawing the tokens, once the canvas is handed to it.
struct Painter {
    worker: web_sys::Worker,
    /// Says when the cluster's size changes (a card grew or went, the window was resized): the
    /// canvas, placed over the cluster's visible part, is placed again even while paused.
    _resized: Option<playback::SizeWatch>,
    /// The canvas's box as last placed (cluster px).
    placed: (f64, f64, f64, f64),
    /// What was last sent: the instant shown and its event count, whether it played and how fast.
    sent: Option<((u64, u64), bool, u64)>,
    /// The last message had tokens (an empty one then clears them).
    had_tokens: bool,
}

impl Painter {
    /// Hands `canvas` to a new worker; `None` where the browser cannot (no `OffscreenCanvas`).
    fn start(canvas: &web_sys::HtmlCanvasElement, cluster: &web_sys::Element) -> Option<Painter> {
        let handed = js_sys::Reflect::has(canvas, &"transferControlToOffscreen".into()).ok()?;
        if !handed {
            return None;
        }
        let offscreen = canvas.transfer_control_to_offscreen().ok()?;
        let worker = web_sys::Worker::new("./tokens.js").ok()?;
        let message = js_sys::Object::new();
        js_sys::Reflect::set(&message, &"canvas".into(), &offscreen).ok()?;
        worker.post_message_with_transfer(&message, &js_sys::Array::of1(&offscreen)).ok()?;
        let resized = playback::SizeWatch::new(|| MOVED.with(|m| m.set(true)));
        if let Some(r) = &resized {
            r.watch(cluster);
        }
        Some(Painter { worker, _resized: resized, placed: (0.0, 0.0, 0.0, 0.0), sent: None, had_tokens: false })
    }
}

/// The canvas layer: placed over the part of the cluster in the window (tokens run in its side
/// margins too), drawn by the worker.
#[component]
pub fn Tokens() -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let ctl = use_context::<Controller>();
    let pace = use_context::<super::controller::Pace>();
    let layout = StoredValue::new_local(Layout::default());
    // Started on the first frame with the canvas in the page; `Err` where it could not be.
    let painter = StoredValue::new_local(None::<Result<Painter, ()>>);
    on_cleanup(move || {
        painter.try_update_value(|p| {
            if let Some(Ok(p)) = p.take() {
                p.worker.terminate(); // and the size watch stops with `p`
            }
        });
    });
    watch_viewport();
    playback::start(move |_| {
        let (Some(ctl), Some(pace), Some(canvas)) = (ctl, pace, canvas.get_untracked()) else { return Next::Idle };
        let Some(parent) = canvas.parent_element() else { return Next::Idle };
        if painter.with_value(|p| p.is_none()) {
            painter.set_value(Some(Painter::start(&canvas, &parent).ok_or(())));
        }
        if painter.with_value(|p| matches!(p, Some(Err(())))) {
            return Next::Idle; // no worker to draw them: no tokens
        }
        let (playing, speed) = (pace.playing.get_untracked(), pace.speed.get_untracked());
        // The instant the page shows (and its event count: a step may add events at one
        // instant): tokens follow the published page, not the model, which may be ahead of it.
        let shown = ctl.snapshot().with_untracked(|s| (s.now_ms, s.events));
        let key = (shown, playing, speed.to_bits());
        let unchanged = painter.with_value(|p| matches!(p, Some(Ok(p)) if p.sent == Some(key)));
        if unchanged && !MOVED.with(|m| m.get()) {
            return Next::Idle;
        }
        let lag_ms = if playing { LAG_MS * speed } else { 0.0 };
        let tokens = tokens(ctl, shown.0, FLIGHT_MS + lag_ms.ceil() as u64);
        let now = playback::now_ms();
        painter.update_value(|p| {
            let Some(Ok(p)) = p else { return };
            p.sent = Some(key);
            if tokens.is_empty() {
                // Read afresh when tokens come back; cleared once.
                MOVED.with(|m| m.set(false));
                layout.update_value(|l| *l = Layout::default());
                if !std::mem::replace(&mut p.had_tokens, false) {
                    return;
                }
            } else {
                p.had_tokens = true;
                layout.update_value(|l| l.refresh_if_old(&parent, now));
            }
            // The canvas covers the visible part of the cluster (a phone's page must not scroll
            // sideways for it).
            let clip = layout.with_value(|l| l.clip);
            let clip = if clip.2 > 0.0 && clip.3 > 0.0 { clip } else { (0.0, 0.0, 0.0, 0.0) };
            if clip != p.placed {
                p.placed = clip;
                let style = web_sys::HtmlElement::style(&canvas);
                for (k, v) in [("left", clip.0), ("top", clip.1), ("width", clip.2), ("height", clip.3)] {
                    let _ = style.set_property(k, &format!("{}px", Fixed(v, 2)));
                }
            }
            // Each path once, then the tokens pointing at theirs.
            let mut paths: Vec<f64> = Vec::new();
            let mut at: VecMap<u64, Option<usize>> = VecMap::new();
            let mut flat: Vec<f64> = Vec::with_capacity(tokens.len() * 5);
            layout.with_value(|l| {
                for t in &tokens {
                    let start = *at.entry(t.path_id()).or_insert_with(|| {
                        let pts = l.path(t)?;
                        let start = paths.len();
                        paths.push(pts.len() as f64);
                        paths.extend(pts.iter().flat_map(|&(x, y)| [x, y]));
                        Some(start)
                    });
                    if let Some(start) = start {
                        flat.extend([
                            start as f64,
                            t.t0 as f64,
                            f64::from(t.partition),
                            t.label as f64,
                            f64::from(u8::from(t.seq)),
                        ]);
                    }
                }
            });
            // One array of numbers (the worker's header, then the paths, then the tokens): one copy
            // to send, no property names to convert.
            let wall = window().performance().map_or(0.0, |p| p.time_origin() + p.now());
            let header = [
                clip.0,
                clip.1,
                clip.2,
                clip.3,
                window().device_pixel_ratio(),
                shown.0 as f64,
                wall,
                if playing { speed } else { 0.0 },
                LAG_MS,
                FLIGHT_MS as f64,
                paths.len() as f64,
            ];
            let message = js_sys::Float64Array::new_with_length((header.len() + paths.len() + flat.len()) as u32);
            message.subarray(0, header.len() as u32).copy_from(&header);
            message.subarray(header.len() as u32, (header.len() + paths.len()) as u32).copy_from(&paths);
            message.subarray((header.len() + paths.len()) as u32, message.length()).copy_from(&flat);
            let _ = p.worker.post_message(&message);
        });
        Next::Idle
    });
    view! { <canvas class="tokens" aria-hidden="true" node_ref=canvas></canvas> }
}
