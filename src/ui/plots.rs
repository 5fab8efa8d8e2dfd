//! Lag per group and throughput over the last simulated minutes, as small SVG line charts.
//! Each line is labelled with its group's name and drawn with its own dash pattern, so colour
//! is never the only way to tell lines apart.

use leptos::prelude::*;

use super::controller::Controller;
use crate::sim::sort;
use crate::sim::text::Fixed;

const W: f64 = 320.0;
const H: f64 = 90.0;
/// Okabe–Ito colours and dash patterns for successive lines.
const STYLES: [(&str, &str); 4] = [("#0072b2", ""), ("#d55e00", "6 3"), ("#009e73", "2 3"), ("#cc79a7", "8 3 2 3")];

struct Line {
    name: String,
    points: Vec<(u64, u64)>,
}

/// `noun` is what is counted (singular), `per` what follows the count ("/s").
fn chart(title: &str, noun: &str, per: &str, lines: Vec<Line>) -> impl IntoView {
    let (min_s, max_s) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
    let max_v = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).max().unwrap_or(0).max(1);
    let span = max_s.saturating_sub(min_s).max(1) as f64;
    let x = move |s: u64| (s.saturating_sub(min_s)) as f64 / span * (W - 60.0);
    let y = move |v: u64| H - 4.0 - v as f64 / max_v as f64 * (H - 14.0);
    let latest: Vec<String> =
        lines.iter().map(|l| format!("{} {}", l.name, l.points.last().map_or(0, |p| p.1))).collect();
    let max = format!("{}{per}", crate::sim::text::count(max_v, noun));
    let label = format!("{title}: {} (max {max})", latest.join(", "));
    let ends =
        label_positions(lines.iter().map(|l| l.points.last().map(|(s, v)| (x(*s) + 4.0, y(*v) + 3.0))).collect());
    let paths = lines
        .into_iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (l, end))| {
            let (color, dash) = STYLES[i % STYLES.len()];
            let pts: Vec<String> =
                l.points.iter().map(|(s, v)| format!("{},{}", Fixed(x(*s), 1), Fixed(y(*v), 1))).collect();
            view! {
                <polyline points=pts.join(" ") fill="none" stroke=color stroke-width="2" stroke-dasharray=dash />
                <text x=Fixed(end.0, 1).to_string() y=Fixed(end.1, 1).to_string() class="plot-label">{l.name}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="plot">
            <figcaption>{format!("{title} (max {max})")}</figcaption>
            <svg viewBox=format!("0 0 {} {}", Fixed(W, 0), Fixed(H, 0)) role="img" aria-label=label>
                <line x1="0" y1=Fixed(H - 4.0, 0).to_string() x2=Fixed(W - 60.0, 0).to_string() y2=Fixed(H - 4.0, 0).to_string() class="axis" />
                {paths}
            </svg>
        </figure>
    }
}

/// Where each line's name goes: at its last point, moved apart vertically so that lines ending
/// at the same value do not print their names over each other.
fn label_positions(ends: Vec<Option<(f64, f64)>>) -> Vec<(f64, f64)> {
    const GAP: f64 = 10.0; // the labels are 9 px
    let mut out: Vec<(f64, f64)> = ends.iter().map(|e| e.unwrap_or((0.0, 0.0))).collect();
    let mut order: Vec<usize> = (0..out.len()).filter(|&i| ends[i].is_some()).collect();
    sort::by(&mut order, |&a, &b| out[a].1.total_cmp(&out[b].1).then(a.cmp(&b)));
    for k in 1..order.len() {
        let above = out[order[k - 1]].1;
        let y = &mut out[order[k]].1;
        *y = y.max(above + GAP);
    }
    // Keep the lowest label inside the chart, moving the stack up as one.
    if let Some(&last) = order.last() {
        let over = out[last].1 - (H - 2.0);
        if over > 0.0 {
            for &i in &order {
                out[i].1 -= over;
            }
        }
    }
    out
}

/// Lag per group and throughput, from the samples the controller records.
#[component]
pub fn Plots() -> impl IntoView {
    let ctl = use_context::<Controller>();
    let charts = move || {
        ctl.and_then(|c| {
            c.with_samples(|samples| {
                if samples.len() < 2 {
                    return None;
                }
                let mut names: Vec<String> =
                    samples.iter().flat_map(|s| s.lag.iter().map(|(n, _)| n.clone())).collect();
                sort::natural(&mut names);
                names.dedup();
                let lag_lines = names
                    .into_iter()
                    .map(|name| Line {
                        points: samples
                            .iter()
                            .filter_map(|s| s.lag.iter().find(|(n, _)| *n == name).map(|(_, v)| (s.second, *v)))
                            .collect(),
                        name,
                    })
                    .collect();
                let rate: Vec<(u64, u64)> = samples
                    .iter()
                    .zip(samples.iter().skip(1))
                    .map(|(a, b)| (b.second, b.appended.saturating_sub(a.appended) / (b.second - a.second).max(1)))
                    .collect();
                Some(view! {
                    {chart("Lag per group", "record", "", lag_lines)}
                    {chart("Throughput", "record", "/s", vec![Line { name: "all".into(), points: rate }])}
                })
            })
            .flatten()
        })
    };
    view! { <section class="plots" aria-label="Plots">{charts}</section> }
}
