//! The fault sweep in `make test` (see `common/sweep.rs`): `KSIM_SWEEP_CASES` cases (4 000 by
//! default) over every command the page and links can issue, each followed by a drain and
//! checked for safety and liveness. `make soak` runs the long version.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/sweep.rs"]
mod sweep;

use std::sync::Mutex;

fn cases() -> u64 {
    std::env::var("KSIM_SWEEP_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(4_000)
}

/// Runs cases `first..first + n` on every core; returns the failures and how many groups the
/// passing cases converted between protocols.
fn run(first: u64, n: u64) -> (Vec<sweep::Failure>, u64) {
    let failures = Mutex::new(Vec::new());
    let conversions = std::sync::atomic::AtomicU64::new(0);
    sweep::on_every_core(first, n, |id| match sweep::check(&sweep::case(id)) {
        Ok(o) => {
            conversions.fetch_add(o.conversions, std::sync::atomic::Ordering::Relaxed);
        }
        Err(f) => failures.lock().unwrap().push(f),
    });
    let mut f = failures.into_inner().unwrap();
    f.sort_by_key(|f| f.case);
    (f, conversions.into_inner())
}

#[test]
fn any_sequence_of_user_actions_keeps_kafkas_promises_and_settles() {
    let (failures, conversions) = run(0, cases());
    if let Some(first) = failures.first() {
        let ids: Vec<String> = failures.iter().map(|f| f.case.to_string()).collect();
        panic!("{} of {} cases failed (cases {}); the first:\n{first}", failures.len(), cases(), ids.join(", "));
    }
    // The sweep reaches groups mixing both protocols, converted online each way.
    assert!(cases() < 1_000 || conversions > 0, "no group changed protocol in {} cases", cases());
}

/// Replays one case with its events printed: `KSIM_SWEEP_CASE=N`.
#[test]
fn one_case() {
    let Some(id) = std::env::var("KSIM_SWEEP_CASE").ok().and_then(|v| v.parse().ok()) else { return };
    let c = sweep::case(id);
    println!("?{}", c.link(sweep::ACTIVE_MS + sweep::SETTLE_LIMIT_MS));
    match sweep::check(&c) {
        Ok(o) => println!("passed: {o:?}"),
        Err(f) => panic!("{f}"),
    }
}

/// `make soak`: many cases (`KSIM_SWEEP_CASES`, 100 000 by default, from `KSIM_SWEEP_FIRST`),
/// panics caught and counted, failures grouped by what broke, slow cases listed. Prints a
/// report; fails if anything failed.
#[test]
#[ignore]
fn soak() {
    let first: u64 = std::env::var("KSIM_SWEEP_FIRST").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let n: u64 = std::env::var("KSIM_SWEEP_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let report = sweep::soak(first, n);
    println!("\n{report}");
    assert!(report.clean(), "the sweep found failures");
}

/// `make soak`: `KSIM_LINK_CASES` mutated links (1 000 000 by default), decoded and replayed
/// (up to two simulated minutes); panics, messages over several lines and slow replays counted.
#[test]
#[ignore]
fn soak_links() {
    let n: u64 = std::env::var("KSIM_LINK_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let report = sweep::soak_links(0, n);
    println!("\n{report}");
    assert!(report.clean(), "mutated links found failures");
}

/// A few thousand mutated links in `make test`.
#[test]
fn mutated_links_are_errors_or_runs_never_panics() {
    let report = sweep::soak_links(0, 5_000);
    assert!(report.panics.is_empty() && report.bad_messages.is_empty(), "{report}");
    assert!(report.refused > 100 && report.replayed > 100, "both kinds are exercised: {report}");
}

/// The digests of the first `KSIM_SWEEP_CASES` cases (2 000 by default) and of every experiment
/// and lesson at three seeds, one `name digest` line each: a corpus to compare before and after
/// a change that must not change behaviour (`cargo test --release --test sweep digests --
/// --ignored --nocapture | grep ^digest > a.txt`, change, again, `diff`).
#[test]
#[ignore]
fn digests() {
    use ksim::sim::link::Run;
    let n: u64 = std::env::var("KSIM_SWEEP_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let lines = Mutex::new(Vec::new());
    sweep::on_every_core(0, n, |id| {
        let c = sweep::case(id);
        let until = sweep::PROBE_MS + 60_000;
        let digest = Run { cursor_ms: Some(until), ..c.run }.replay(None).map(|s| s.digest()).unwrap_or_default();
        lines.lock().unwrap().push(format!("digest case-{id} {digest}"));
    });
    let mut lines = lines.into_inner().unwrap();
    for s in ksim::sim::experiments::all().into_iter().filter(|s| s.id != "stress") {
        for seed in 1..=3 {
            let d = Run::of_scenario(&s, seed).replay(None).unwrap().digest();
            lines.push(format!("digest {}-{seed} {d}", s.id));
        }
    }
    for l in ksim::sim::lesson::all() {
        for seed in 1..=3 {
            let run = l.scripted_run(seed);
            let d = run.replay(Some(l.scenario.duration_ms)).unwrap().digest();
            lines.push(format!("digest {}-{seed} {d}", l.id));
        }
    }
    lines.sort();
    for l in lines {
        println!("{l}");
    }
}
