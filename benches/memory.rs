//! Memory: the resident set of a native run of the stress cluster over simulated hours (24 by
//! default), read from /proc/self/status after each hour. `cargo bench --bench memory
//! [-- --hours N]`. Reports; never asserts. Linux only (it reads /proc).

mod common;

use ksim::sim::{Sim, SimTime};

/// (VmRSS, VmHWM) in MB.
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let hours = common::arg("hours", 24);
    let scenario = common::stress(hours * 60);
    let mut sim = Sim::new(&scenario, 1).expect("valid");
    let start = std::time::Instant::now();
    let (base, _) = rss_mb();
    let mut after_first = f64::NAN;
    let mut peak = 0.0_f64;
    println!("stress cluster, {hours} simulated hours; resident memory after each hour");
    for h in 1..=hours {
        sim.run_until(SimTime(h * 3_600_000));
        let (rss, hwm) = rss_mb();
        peak = peak.max(hwm);
        if h == 1 {
            after_first = rss;
        }
        println!(
            "hour {h:>2}: rss {rss:.1} MB, peak {hwm:.1} MB ({:.0} s wall, {} events)",
            start.elapsed().as_secs_f64(),
            sim.event_count()
        );
    }
    let (end, _) = rss_mb();
    println!("process before the run: {base:.1} MB");
    println!("{}", common::bench_line("memory_peak_mb", peak));
    println!("{}", common::bench_line("memory_growth_after_first_hour_mb", end - after_first));
    println!("{}", common::bench_line("memory_hours", hours as f64));
}
