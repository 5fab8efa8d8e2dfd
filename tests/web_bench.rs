//! Browser benchmarks (wasm in headless Chromium): simulation speed and seeking in a 10-minute
//! run of the stress cluster, the same work `benches/sim_speed.rs` and `benches/seek.rs` time
//! natively. Ignored in `make test`; `make bench` runs them with `--include-ignored` and they
//! report on the console. They never assert a time.
#![cfg(target_arch = "wasm32")]

#[path = "../benches/common/mod.rs"]
mod common;

use ksim::sim::link::Run;
use ksim::sim::timeline::Timeline;
use ksim::sim::{Sim, SimTime};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

fn report(line: String) {
    web_sys::console::log_1(&line.into());
}

/// Lets the page breathe (the test runner polls it) without counting the pause.
async fn breathe() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_sim_speed_wasm() {
    let minutes = common::minutes_arg(10);
    let scenario = common::stress(minutes);
    // Best of two runs, as `benches/sim_speed.rs` does natively.
    let (mut best, mut events) = (f64::MAX, 0);
    for _ in 0..2 {
        let mut sim = Sim::new(&scenario, 1).expect("valid");
        let mut wall = 0.0;
        for slice in 1..=minutes * 12 {
            let start = now_ms();
            sim.run_until(SimTime(slice * 5_000));
            wall += now_ms() - start;
            breathe().await;
        }
        best = best.min(wall / 1000.0);
        events = sim.event_count();
    }
    report(format!(
        "wasm sim speed: {} simulated s in {best:.2} s wall (best of 2): {:.0} simulated s per wall s ({events} events)",
        minutes * 60,
        (minutes * 60) as f64 / best,
    ));
    report(common::bench_line("wasm_speed", (minutes * 60) as f64 / best));
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_seek_wasm() {
    let minutes = common::minutes_arg(10);
    let end = minutes * 60_000;
    let scenario = common::stress(minutes);
    let run = Run { scenario: String::new(), ..Run::of_scenario(&scenario, 1) };
    let mut tl = Timeline::with_scenario(scenario, run).expect("valid");
    for slice in 1..=minutes * 12 {
        tl.advance_to(slice * 5_000);
        breathe().await;
    }
    let mut x: u64 = 12345;
    let mut took = Vec::new();
    for _ in 0..200 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let t = (x >> 11) % (end + 1);
        let s = now_ms();
        tl.seek(t);
        took.push(now_ms() - s);
        breathe().await;
    }
    took.sort_by(f64::total_cmp);
    let pct = |p: f64| took[((took.len() - 1) as f64 * p).round() as usize];
    report(common::bench_line("wasm_seek_median_ms", pct(0.5)));
    report(common::bench_line("wasm_seek_p95_ms", pct(0.95)));
    report(common::bench_line("wasm_seek_max_ms", pct(1.0)));
    report(format!(
        "wasm seek in a {minutes}-minute stress run ({} checkpoints): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        tl.checkpoint_count(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    ));
}
