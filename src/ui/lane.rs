//! The rebalance protocol you can see: per group, a lane in simulated time with a row for the
//! coordinator and one per member. Requests go up to the coordinator, answers come down; the
//! group's states are bands behind them (rebalancing, then a generation); each member's session
//! runs out as a bar past "now" when no heartbeat renews it. Scrubbing moves the lane; clicking a
//! message seeks to it. Drawn from [`Lanes`](crate::sim::lane::Lanes).
//!
//! A lane's messages are written as SVG markup placed at their own instants: once, then only the
//! new ones are added as they come (at most a few times a second; the bands are rewritten when
//! they change, and everything afresh for a new minute, width or member, or after a seek). From
//! frame to frame only the lane's track moves and the session bars stretch — CSS transforms on
//! layers of their own, which the browser applies without laying out or repainting the page.

use std::fmt::Write;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::controller::Controller;
use super::playback::Next;
use crate::sim::lane::{Kind, Lane, Message};
use crate::sim::text::Fixed;
use crate::sim::ConsumerStatus;

/// Pixels per simulated second.
const PX_PER_S: f64 = 22.0;
/// The names' column.
const LABEL_W: f64 = 96.0;
/// Room right of "now" for running sessions (simulated seconds shown ahead).
const AHEAD_S: f64 = 12.0;
const ROW_H: f64 = 24.0;
const TOP: f64 = 16.0;
/// Positions are measured from a base instant, moved every this many simulated ms, so numbers
/// stay small (an SVG coordinate is a 32-bit float).
const BASE_EVERY_MS: u64 = 60_000;

/// Where "now" is drawn in a lane `width` wide: room for the sessions ahead, less on a phone.
fn now_x(width: f64) -> f64 {
    width - (AHEAD_S * PX_PER_S).min(width * 0.25)
}

fn x_of(at: u64, base: u64) -> f64 {
    (at as f64 - base as f64) / 1000.0 * PX_PER_S
}

fn row_y(row: usize) -> f64 {
    TOP + ROW_H * row as f64 + ROW_H / 2.0
}

fn kind_class(kind: Kind) -> &'static str {
    match kind {
        Kind::JoinGroup | Kind::JoinResponse | Kind::MemberIdRequired | Kind::GroupJoin => "join",
        Kind::SyncGroup | Kind::SyncResponse | Kind::NewAssignment => "sync",
        Kind::Heartbeat | Kind::GroupHeartbeat => "heartbeat",
        Kind::HeartbeatError | Kind::CommitFailed | Kind::GroupHeartbeatError => "error",
        Kind::LeaveGroup | Kind::GroupLeave => "leave",
        Kind::OffsetCommit => "commit",
        Kind::Expired | Kind::Crashed | Kind::Disconnected => "gone",
    }
}

/// `text` made safe inside SVG markup (text and attribute values): names come from links.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The lane's bands and messages as SVG markup, positioned against `base`: the bands in a group
/// of their own (rewritten when they change), then the messages (added to as they come).
fn markup(lane: &Lane, base: u64) -> String {
    format!(
        r#"<g class="bands">{}</g><g class="msgs">{}</g>"#,
        bands_markup(lane, base),
        messages_markup(lane, lane.messages.iter(), base)
    )
}

/// The lane's bands (its group's states over time) as SVG markup.
fn bands_markup(lane: &Lane, base: u64) -> String {
    let mut s = String::new();
    let top = Fixed(TOP, 0);
    let rows = lane.members.len() as f64 + 1.0;
    let end = x_of(base + 2 * BASE_EVERY_MS, base);
    for (i, b) in lane.bands.iter().enumerate() {
        let x0 = x_of(b.from, base);
        let x1 = lane.bands.get(i + 1).map_or(end, |n| x_of(n.from, base));
        let (class, title, short) = match b.state.as_str() {
            "PreparingRebalance" => (
                "preparing",
                "PreparingRebalance: waiting for every member's JoinGroup".to_string(),
                "rebalancing".to_string(),
            ),
            "CompletingRebalance" => (
                "completing",
                "CompletingRebalance: waiting for the leader's SyncGroup".to_string(),
                "syncing".to_string(),
            ),
            "Assigning" => (
                "preparing",
                format!(
                    "Assigning: the group epoch moved to {}; the coordinator computes the target at the next heartbeat",
                    b.generation
                ),
                "assigning".to_string(),
            ),
            "Reconciling" => (
                "completing",
                format!(
                    "Reconciling: members move to epoch {}, giving up partitions before others get them",
                    b.generation
                ),
                "reconciling".to_string(),
            ),
            "Stable" if b.modern => {
                ("stable", format!("Stable, epoch {}", b.generation), format!("epoch {}", b.generation))
            }
            "Stable" => {
                ("stable", format!("Stable, generation {}", b.generation), format!("generation {}", b.generation))
            }
            other => ("idle", other.to_string(), other.to_string()),
        };
        let w = (x1 - x0).max(0.0);
        let _ = write!(
            s,
            r#"<g class="band {class}"><title>{}</title><rect x="{x0}" y="{top}" width="{w}" height="{}"/>"#,
            escape(&title),
            Fixed(ROW_H * rows, 1),
            x0 = Fixed(x0, 1),
            w = Fixed(w, 1),
        );
        // Named where there is room for the name (about 6 px a letter).
        if w > 6.0 * short.len() as f64 + 6.0 {
            let _ =
                write!(s, r#"<text x="{}" y="{}">{}</text>"#, Fixed(x0 + 3.0, 1), Fixed(TOP - 4.0, 1), escape(&short));
        }
        s.push_str("</g>");
    }
    s
}

/// `messages` of the lane as SVG markup.
fn messages_markup<'a>(lane: &Lane, messages: impl Iterator<Item = &'a Message> + Clone, base: u64) -> String {
    let mut s = String::new();
    let top = Fixed(TOP, 0);
    // Heartbeats and commits come every few seconds from every member: each member's are one
    // path (a tick per message), not an element each. The lane's click finds their instant.
    for (row, member) in lane.members.iter().enumerate() {
        for (kind, class, what) in [
            (Kind::Heartbeat, "heartbeat", "Heartbeats"),
            (Kind::GroupHeartbeat, "heartbeat", "ConsumerGroupHeartbeats"),
            (Kind::OffsetCommit, "commit", "OffsetCommits"),
        ] {
            let (y1, y2) = (row_y(row + 1) - 6.0, row_y(0) + 7.0);
            let mut d = String::new();
            for m in messages.clone().filter(|m| m.kind == kind && m.member == *member) {
                let _ = write!(d, "M{} {y1}V{y2}", Fixed(x_of(m.at, base), 1), y1 = Fixed(y1, 1), y2 = Fixed(y2, 1));
            }
            if !d.is_empty() {
                let _ = write!(
                    s,
                    r#"<path class="ticks {class}" d="{d}"><title>{what} from {}</title></path>"#,
                    escape(member)
                );
            }
        }
    }
    for m in messages.filter(|m| !matches!(m.kind, Kind::Heartbeat | Kind::GroupHeartbeat | Kind::OffsetCommit)) {
        let Some(row) = lane.members.iter().position(|x| *x == m.member) else { continue };
        let (x, y_member, y_coord) = (x_of(m.at, base), row_y(row + 1), row_y(0));
        let label = escape(&m.describe());
        let _ = write!(
            s,
            r#"<g class="msg {}" role="button" aria-label="{label}" data-at="{}"><title>{label}</title><rect class="hit" x="{}" y="{top}" width="10" height="{}"/>"#,
            kind_class(m.kind),
            m.at,
            Fixed(x - 5.0, 1),
            Fixed(ROW_H * (row as f64 + 2.0), 1),
        );
        if matches!(m.kind, Kind::Crashed | Kind::Expired | Kind::Disconnected) {
            let _ = write!(
                s,
                r#"<text class="glyph" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                Fixed(y_member + 4.0, 1),
                m.kind.glyph(),
                x = Fixed(x, 1)
            );
        } else {
            let up = m.kind.is_request();
            let (y1, y2, dy) =
                if up { (y_member - 6.0, y_coord + 7.0, 6) } else { (y_coord + 7.0, y_member - 6.0, -6) };
            let _ = write!(
                s,
                r#"<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}"/><path d="M{x} {y2}l-3 {dy}h6z"/><text class="glyph" x="{}" y="{}">{}</text>"#,
                Fixed(x + 3.0, 1),
                Fixed((y1 + y2) / 2.0 + 3.0, 1),
                m.kind.glyph(),
                x = Fixed(x, 1),
                y1 = Fixed(y1, 1),
                y2 = Fixed(y2, 1)
            );
        }
        s.push_str("</g>");
    }
    s
}

/// The instant a click on a lane points at: the message's own, or the time under the pointer
/// (a heartbeat's or commit's tick, or anywhere before "now").
fn clicked_at(ev: &leptos::ev::MouseEvent, now: u64, width: f64) -> Option<u64> {
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    if let Some(at) = target.closest("[data-at]").ok().flatten().and_then(|m| m.get_attribute("data-at")) {
        return at.parse().ok();
    }
    let plot = target.closest(".lane-box").ok()??;
    let x = f64::from(ev.client_x()) - plot.get_bounding_client_rect().left();
    if x < LABEL_W || x > now_x(width) {
        return None;
    }
    let back_ms = (now_x(width) - x) / PX_PER_S * 1000.0;
    Some(now.saturating_sub(back_ms.round() as u64))
}

/// A lane's frame: its figure with the names; a window right of them holding the track (the
/// messages, moved as time passes) and, over it, the row line, "now" and the session bars.
/// The track and the overlay are layers of their own (see the stylesheet), so moving the track
/// and stretching a bar repaint nothing else on the page.
fn figure(s: &mut String, group: &str, lane: &Lane, base: u64, width: f64) {
    let rows = lane.members.len() as f64 + 1.0;
    // As written in the markup: whole pixels for sizes, tenths for places.
    let height = Fixed(TOP + ROW_H * rows + 4.0, 0);
    let window = Fixed((width - LABEL_W).max(0.0), 0);
    let now_x = Fixed(now_x(width) - LABEL_W, 1);
    let (width, y) = (Fixed(width, 0), Fixed(row_y(0), 1));
    let g = escape(group);
    let _ = write!(
        s,
        r#"<figure class="lane" aria-label="Protocol of group {g}"><figcaption>Group <code>{g}</code></figcaption><div class="lane-box"><svg class="lane-svg lane-names" width="{width}" height="{height}"><text class="who coordinator" x="4" y="{}">coordinator</text>"#,
        Fixed(row_y(0) + 4.0, 1),
    );
    for (i, m) in lane.members.iter().enumerate() {
        let _ = write!(s, r#"<text class="who" x="4" y="{}">{}</text>"#, Fixed(row_y(i + 1) + 4.0, 1), escape(m));
    }
    let _ = write!(
        s,
        r#"</svg><div class="lane-window"><div class="lane-track"><svg class="lane-svg" width="{}" height="{height}"><g class="track">{}</g></svg></div><svg class="lane-svg lane-over" width="{window}" height="{height}"><line class="row-line" x1="0" y1="{y}" x2="{window}" y2="{y}"/>"#,
        Fixed(x_of(base + 2 * BASE_EVERY_MS, base), 0),
        markup(lane, base),
    );
    let _ =
        write!(s, r#"<line class="now" x1="{now_x}" y1="{}" x2="{now_x}" y2="{height}"/></svg>"#, Fixed(TOP - 2.0, 1),);
    // The session bars: stretched by a transform (placed by `place_bar`), which neither lays
    // out nor repaints the lane.
    for _ in &lane.members {
        s.push_str(r#"<div class="lane-session"></div>"#);
    }
    s.push_str("</div></div></figure>");
}

/// Puts member `row`'s session bar (see [`figure`]) at "now" on its row. Inline styles are set
/// through the style object: the page's policy refuses them in markup.
fn place_bar(bar: &web_sys::HtmlElement, row: usize, width: f64) {
    let style = bar.style();
    let _ = style.set_property("left", &format!("{}px", Fixed(now_x(width) - LABEL_W, 1)));
    let _ = style.set_property("top", &format!("{}px", Fixed(row_y(row + 1) + 5.0, 1)));
}

/// What one lane's track shows, so that only what is new is added to it.
struct TrackDrawn {
    /// The groups (bands) and messages of the track.
    bands: web_sys::Element,
    msgs: web_sys::Element,
    /// The bands as written (see [`bands_key`]).
    bands_key: (usize, u64, u64),
    /// The newest message written (see [`newest`]).
    last: Option<(u64, usize)>,
}

/// What tells a lane's bands apart: how many, and the first's and the last's start.
fn bands_key(lane: &Lane) -> (usize, u64, u64) {
    (lane.bands.len(), lane.bands.front().map_or(0, |b| b.from), lane.bands.back().map_or(0, |b| b.from))
}

/// The lane's newest message: its instant, and how many messages there are at that instant.
fn newest(lane: &Lane) -> Option<(u64, usize)> {
    let at = lane.messages.back()?.at;
    Some((at, lane.messages.iter().rev().take_while(|m| m.at == at).count()))
}

/// Where the lane's messages not yet written begin, after the newest written was `last` (see
/// [`newest`]). Messages come in time order, and older ones leave from the front.
fn unwritten(lane: &Lane, last: Option<(u64, usize)>) -> usize {
    let Some((at, count)) = last else { return 0 };
    let first = lane.messages.partition_point(|m| m.at < at);
    let same = lane.messages.partition_point(|m| m.at <= at) - first;
    first + count.min(same)
}

/// What the lanes keep between frames.
#[derive(Default)]
struct Drawn {
    /// What the markup was written for: the lanes' version, the base instant, the width, and
    /// the model's jumps (see [`Controller::jumps`]).
    key: (u64, u64, u64, u64),
    /// Each group with its members as written: any other change rewrites every lane.
    shape: Vec<(String, Vec<String>)>,
    /// Each lane's track, to add to.
    written: Vec<TrackDrawn>,
    /// Each lane's track (moved as time passes) and its members' session bars with their names.
    tracks: Vec<web_sys::HtmlElement>,
    bars: Vec<(web_sys::HtmlElement, String, String)>,
    /// The instant the track and bars were last moved to.
    now: u64,
    /// Set by a window resize: the width is read again.
    resized: std::rc::Rc<std::cell::Cell<bool>>,
    width: f64,
    /// The tracks' offset as last written.
    shift: String,
    /// When (wall ms) the markup was last written: a busy run's lanes are written at most
    /// every [`REWRITE_MS`].
    written_at: f64,
}

/// The groups and their members, as [`Drawn::shape`] keeps them.
fn shape(lanes: &crate::sim::lane::Lanes) -> Vec<(String, Vec<String>)> {
    lanes.groups.iter().map(|(g, l)| (g.to_string(), l.members.iter().map(|m| m.to_string()).collect())).collect()
}

/// How often (wall ms) at most a changing lane is rewritten.
const REWRITE_MS: f64 = 500.0;

/// The frame a lane needs next: a newer lane `held` back is written [`REWRITE_MS`] after the
/// last was (`written_at`).
fn again(held: bool, written_at: f64) -> Next {
    if held {
        Next::At(written_at + REWRITE_MS)
    } else {
        Next::Idle
    }
}

/// Every group's lane, with a legend. Drawn by the frame loop, not by reactive views: the lanes
/// are rewritten when they change and only moved when time passes.
#[component]
pub fn ProtocolLanes(
    /// Playback state: clicking a message pauses it there.
    playing: RwSignal<bool>,
) -> impl IntoView {
    let Some(ctl) = use_context::<Controller>() else { return ().into_any() };
    let host = NodeRef::<leptos::html::Div>::new();
    let drawn = StoredValue::new_local(Drawn { now: u64::MAX, ..Drawn::default() });
    let resized = drawn.with_value(|d| d.resized.clone());
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        resized.set(true);
        super::playback::wake();
    });
    on_cleanup(move || resize.remove());
    super::playback::start(move |_| {
        let Some(host) = host.get_untracked() else { return Next::Idle };
        let now = ctl.snapshot().with_untracked(|s| s.now_ms);
        let version = ctl.lanes_version().get_untracked();
        drawn
            .try_update_value(|d| {
                if d.width == 0.0 || d.resized.replace(false) {
                    d.width = f64::from(host.client_width()).max(LABEL_W + 120.0);
                }
                let base = now / BASE_EVERY_MS * BASE_EVERY_MS;
                let key = (version, base, d.width as u64, ctl.jumps());
                let wall = super::playback::now_ms();
                // The same lanes, moved only forward, with more in them.
                let only_newer = (key.1, key.2, key.3) == (d.key.1, d.key.2, d.key.3) && key.0 > d.key.0;
                // A newer lane held back by REWRITE_MS is written on a later frame.
                let held = key != d.key && only_newer && wall - d.written_at < REWRITE_MS;
                if key != d.key && !held {
                    d.written_at = wall;
                    d.key = key;
                    let lanes_shape = ctl.with_lanes_untracked(shape).unwrap_or_default();
                    if only_newer && lanes_shape == d.shape && d.written.len() == lanes_shape.len() {
                        // The same lanes with more in them: add what is new, rewrite the bands
                        // that changed.
                        ctl.with_lanes_untracked(|l| {
                            for ((_, lane), w) in l.groups.iter().zip(&mut d.written) {
                                if bands_key(lane) != w.bands_key {
                                    w.bands.set_inner_html(&bands_markup(lane, base));
                                    w.bands_key = bands_key(lane);
                                }
                                let from = unwritten(lane, w.last);
                                if from < lane.messages.len() {
                                    let more = messages_markup(lane, lane.messages.range(from..), base);
                                    let _ = w.msgs.insert_adjacent_html("beforeend", &more);
                                }
                                w.last = newest(lane);
                            }
                        });
                    } else {
                        let mut s = String::new();
                        ctl.with_lanes_untracked(|l| {
                            for (group, lane) in &l.groups {
                                figure(&mut s, group, lane, base, d.width);
                            }
                        });
                        host.set_inner_html(&s);
                        let all = |sel: &str| {
                            let list = host.query_selector_all(sel).ok();
                            (0..list.as_ref().map_or(0, |l| l.length()))
                                .filter_map(|i| list.as_ref()?.item(i)?.dyn_into::<web_sys::Element>().ok())
                                .collect::<Vec<_>>()
                        };
                        d.written = ctl
                            .with_lanes_untracked(|l| {
                                l.groups
                                    .iter()
                                    .zip(all(".lane .track > .bands").into_iter().zip(all(".lane .track > .msgs")))
                                    .map(|((_, lane), (bands, msgs))| TrackDrawn {
                                        bands,
                                        msgs,
                                        bands_key: bands_key(lane),
                                        last: newest(lane),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        d.tracks = all(".lane .lane-track").into_iter().filter_map(|t| t.dyn_into().ok()).collect();
                        // Each bar with its member's name and row, in the order the lanes were written.
                        let names = lanes_shape
                            .iter()
                            .flat_map(|(_, members)| members.iter().enumerate().map(|(row, m)| (m.clone(), row)));
                        let width = d.width;
                        d.bars = all(".lane .lane-session")
                            .into_iter()
                            .filter_map(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                            .zip(names)
                            .map(|(el, (n, row))| {
                                place_bar(&el, row, width);
                                (el, n, String::new())
                            })
                            .collect();
                        d.shape = lanes_shape;
                        d.now = u64::MAX;
                        d.shift.clear();
                    }
                }
                if d.now == now {
                    return again(held, d.written_at); // paused, nothing moved
                }
                d.now = now;
                // Whole pixels (text stays crisp): at 1× the lane moves 22 px a second. The track is
                // a layer of its own, so this moves it without repainting.
                let shift = format!("translateX({}px)", Fixed(now_x(d.width) - LABEL_W - x_of(now, base), 0));
                if shift != d.shift {
                    for t in &d.tracks {
                        let _ = web_sys::HtmlElement::style(t).set_property("transform", &shift);
                    }
                    d.shift = shift;
                }
                ctl.snapshot().with_untracked(|s| {
                    for (bar, name, written) in &mut d.bars {
                        let c = s.consumers.iter().find(|c| c.name == *name.as_str());
                        let (w, dead) = c
                            .and_then(|c| {
                                Some((
                                    c.session_left_ms? as f64 / 1000.0 * PX_PER_S,
                                    c.status != ConsumerStatus::Running,
                                ))
                            })
                            .unwrap_or((0.0, false));
                        // Written only when it changed (whole pixels).
                        let w = Fixed(w, 0);
                        let want = format!("{w}{}", if dead { " dying" } else { "" });
                        if *written != want {
                            let _ = web_sys::HtmlElement::style(bar).set_property("transform", &format!("scaleX({w})"));
                            // The class only when the member starts or stops dying (the bar
                            // shrinks with every publish; its class seldom changes).
                            if written.is_empty() || written.ends_with(" dying") != dead {
                                let _ = bar
                                    .set_attribute("class", if dead { "lane-session dying" } else { "lane-session" });
                            }
                            *written = want;
                        }
                    }
                });
                again(held, d.written_at)
            })
            .unwrap_or(Next::Idle)
    });
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let now = ctl.snapshot().with_untracked(|s| s.now_ms);
        let width = drawn.with_value(|d| d.width);
        if let Some(at) = clicked_at(&ev, now, width) {
            playing.set(false);
            ctl.seek(at);
        }
    };
    view! {
        <section class="lanes" aria-label="Rebalance protocol" on:click=on_click>
            <h3>"Rebalance protocol"</h3>
            <p class="legend">
                "Each group's members (rows) and its coordinator (top row) over the last seconds; ↑ request, ↓ answer. "
                <span class="msg join">"J JoinGroup"</span> " · " <span class="msg sync">"S SyncGroup"</span> " · "
                <span class="msg heartbeat">"grey ticks: Heartbeats"</span> " · " <span class="msg leave">"L LeaveGroup"</span>
                " · consumer protocol: " <span class="msg sync">"A an answer with a new epoch and assignment"</span>
                " · " <span class="msg commit">"dashed blue ticks: OffsetCommits"</span> " · " <span class="msg error">"red: an error answer"</span>
                " · " <span class="msg gone">"✕ crashed · ⊘ removed by the coordinator"</span> " · " <span class="msg gone">"↯ a request cut off"</span>
                ". The bar past the dashed line is each member's session running out. Click a message (or anywhere in a lane) to go to that instant."
            </p>
            <div node_ref=host></div>
        </section>
    }
    .into_any()
}
