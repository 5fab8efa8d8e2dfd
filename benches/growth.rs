//! How the cost grows: simulated seconds per wall second of the stress cluster's shape with
//! more partitions (12 → 1 200 in all, over 3 topics) and more records per second (100 →
//! 100 000). Each cell runs a simulated minute, or stops early after a few wall seconds.
//! `cargo bench --bench growth`. Reports; never asserts.

mod common;

use std::time::Instant;

use ksim::sim::{Sim, SimTime};

const PARTITIONS: [u32; 3] = [4, 40, 400]; // per topic: 12, 120, 1 200 in all
const RATES: [u32; 4] = [100, 1_000, 10_000, 100_000];

fn main() {
    let budget = common::arg("seconds", 4) as f64;
    println!("simulated s per wall s (stress cluster shape: 6 brokers, RF 3, 3 groups x 6 consumers)");
    println!("| partitions \\ records/s | {} |", RATES.map(|r| r.to_string()).join(" | "));
    println!("|---|{}", "---|".repeat(RATES.len()));
    for p in PARTITIONS {
        let mut row = Vec::new();
        for rate in RATES {
            let scenario = ksim::sim::experiments::stress(3, p, rate, 1);
            let mut sim = Sim::new(&scenario, 1).expect("valid");
            let start = Instant::now();
            let mut simulated = 0;
            // One simulated second at a time, until a minute or the wall budget.
            while simulated < 60 && start.elapsed().as_secs_f64() < budget {
                simulated += 1;
                sim.run_until(SimTime(simulated * 1_000));
            }
            let speed = simulated as f64 / start.elapsed().as_secs_f64();
            println!("{}", common::bench_line(&format!("growth_{}_{rate}", p * 3), speed));
            row.push(format!("{speed:.1}"));
        }
        println!("| {} | {} |", p * 3, row.join(" | "));
    }
}
