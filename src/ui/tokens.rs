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
/// At most this many tokens per frame.
const MAX_TOKENS: usize = 300;
/// Okabe–Ito colours by partition number; the label says which record, so colour is a hint.
const COLORS: [&str; 7] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"];

struct Token {
    from: String,
    to: String,
    partition: u32,
    label: String,
    progress: f64,
}

fn rect_of(selector: &str) -> Option<web_sys::DomRect> {
    document().query_selector(selector).ok().flatten().map(|e| e.get_bounding_client_rect())
}

/// The tokens in flight at the current instant, from the controller's recent events.
fn tokens(ctl: Controller) -> Vec<Token> {
    let now = ctl.snapshot().with_untracked(|s| s.now_ms);
    ctl.with_log_untracked(|log| {
        let mut out = Vec::new();
        for e in log.iter().rev() {
            if e.t + FLIGHT_MS < now || out.len() >= MAX_TOKENS {
                break;
            }
            let progress = (now.saturating_sub(e.t)) as f64 / FLIGHT_MS as f64;
            match &e.kind {
                EventKind::Appended { producer, topic, partition, first_seq, .. } => out.push(Token {
                    from: format!("[aria-label='Producer {producer}']"),
                    to: format!("[aria-label='Partition {partition} of {topic}']"),
                    partition: *partition,
                    label: format!("#{first_seq}"),
                    progress,
                }),
                EventKind::Fetched { consumer, ranges, .. } => {
                    for r in ranges {
                        out.push(Token {
                            from: format!("[aria-label='Partition {} of {}']", r.partition, r.topic),
                            to: format!("[aria-label='Consumer {consumer}']"),
                            partition: r.partition,
                            label: r.from.to_string(),
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

/// The canvas layer; it fills its (positioned) parent.
#[component]
pub fn Tokens() -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let ctl = use_context::<Controller>();
    playback::start(move |_| {
        let (Some(ctl), Some(canvas)) = (ctl, canvas.get_untracked()) else { return };
        let Some(parent) = canvas.parent_element() else { return };
        let area = parent.get_bounding_client_rect();
        let ratio = window().device_pixel_ratio();
        let (w, h) = ((area.width() * ratio) as u32, (area.height() * ratio) as u32);
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let Some(cx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        cx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0).ok();
        cx.clear_rect(0.0, 0.0, area.width(), area.height());
        cx.set_font("600 10px system-ui, sans-serif");
        cx.set_text_align("center");
        cx.set_text_baseline("middle");
        for t in tokens(ctl) {
            let (Some(a), Some(b)) = (rect_of(&t.from), rect_of(&t.to)) else { continue };
            let (x0, y0) = (a.right() - area.left(), a.top() + a.height() / 2.0 - area.top());
            let (x1, y1) = (b.left() - area.left(), b.top() + b.height() / 2.0 - area.top());
            let p = t.progress.clamp(0.0, 1.0);
            let eased = p * p * (3.0 - 2.0 * p);
            let (x, y) = (x0 + (x1 - x0) * eased, y0 + (y1 - y0) * eased);
            cx.set_global_alpha(if p > 0.85 { (1.0 - p) / 0.15 } else { 1.0 });
            cx.set_fill_style_str(COLORS[t.partition as usize % COLORS.len()]);
            cx.begin_path();
            cx.arc(x, y, 10.0, 0.0, std::f64::consts::TAU).ok();
            cx.fill();
            cx.set_fill_style_str("#ffffff");
            cx.fill_text(&t.label, x, y).ok();
        }
        cx.set_global_alpha(1.0);
    });
    view! { <canvas class="tokens" aria-hidden="true" node_ref=canvas></canvas> }
}
