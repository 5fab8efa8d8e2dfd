//! Time travel: how long seeking takes in a 10-minute run of the stress cluster, and what the
//! checkpoints cost. `cargo bench --bench seek [-- --minutes N]`. Reports; never asserts.

mod common;

use std::time::Instant;

use common::stress;
use ksim::sim::link::Run;
use ksim::sim::timeline::Timeline;

fn main() {
    let minutes = common::minutes_arg(10);
    let end = minutes * 60_000;
    let scenario = stress(minutes);
    let run = Run { scenario: String::new(), ..Run::of_scenario(&scenario, 1) };
    let mut tl = Timeline::with_scenario(scenario, run).expect("valid");
    let start = Instant::now();
    tl.advance_to(end);
    let played = start.elapsed().as_secs_f64();
    // Seek to instants spread over the run, in a scrambled order (forwards and backwards).
    let mut times = Vec::new();
    let mut x: u64 = 12345;
    for _ in 0..200 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        times.push((x >> 11) % (end + 1));
    }
    let mut took: Vec<f64> = times
        .iter()
        .map(|&t| {
            let s = Instant::now();
            tl.seek(t);
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    took.sort_by(f64::total_cmp);
    let pct = |p: f64| took[((took.len() - 1) as f64 * p).round() as usize];
    println!("stress cluster, {minutes} simulated minutes played with checkpoints in {played:.2} s wall");
    println!("{} checkpoints, {} events", tl.checkpoint_count(), tl.sim().event_count());
    println!("seek to 200 instants: median {:.1} ms, p95 {:.1} ms, max {:.1} ms", pct(0.5), pct(0.95), pct(1.0));
    println!("{}", common::bench_line("native_seek_median_ms", pct(0.5)));
    println!("{}", common::bench_line("native_seek_p95_ms", pct(0.95)));
    println!("{}", common::bench_line("native_seek_max_ms", pct(1.0)));
}
