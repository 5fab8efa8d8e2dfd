//! Component tests in a real browser (wasm-bindgen-test in headless Chromium).
#![cfg(target_arch = "wasm32")]

use ksim::sim::scenario;
use ksim::sim::snapshot::Snapshot;
use ksim::sim::{Sim, SimTime};
use ksim::ui::{App, ClusterView};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let doc = document();
    let el = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&el).unwrap();
    el.unchecked_into()
}

fn snapshot_at(id: &str, ms: u64) -> Snapshot {
    let mut sim = Sim::new(&scenario::find(id).unwrap(), 1).unwrap();
    sim.run_until(SimTime(ms));
    Snapshot::of(&sim)
}

fn count(root: &web_sys::HtmlElement, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn cluster_view_draws_each_offset_of_the_log() {
    let root = container();
    let snap = RwSignal::new(snapshot_at("basic", 3_000));
    let _mount = leptos::mount::mount_to(root.clone(), move || view! { <ClusterView snapshot=snap.read_only() /> });
    leptos::task::tick().await;
    let list = root.query_selector("ol[aria-label='Partition 0 of my-topic']").unwrap().expect("partition list");
    assert_eq!(list.query_selector_all("li").unwrap().length(), 10, "offsets 0..9 are drawn");
    assert!(root.query_selector("article[aria-label='Consumer consumer']").unwrap().is_some());
    assert_eq!(count(&root, "li.committed"), 0, "auto-commit has not run yet at 3 s");
}

#[wasm_bindgen_test]
async fn cluster_view_follows_the_snapshot_signal() {
    let root = container();
    let snap = RwSignal::new(snapshot_at("basic", 500));
    let _mount = leptos::mount::mount_to(root.clone(), move || view! { <ClusterView snapshot=snap.read_only() /> });
    leptos::task::tick().await;
    assert_eq!(count(&root, "li.cell"), 0, "nothing produced yet");
    snap.set(snapshot_at("basic", 6_000));
    leptos::task::tick().await;
    assert_eq!(count(&root, "li.cell"), 10);
    assert_eq!(count(&root, "li.committed"), 10, "the 5 s auto-commit covered all ten");
    let group = root.query_selector("[aria-label='Group my-group']").unwrap().unwrap();
    assert!(group.text_content().unwrap().contains("processed 10"), "{:?}", group.text_content());
}

#[wasm_bindgen_test]
async fn app_shell_has_title_controls_and_status() {
    let root = container();
    let _mount = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    assert_eq!(root.query_selector("h1").unwrap().unwrap().text_content().unwrap(), "ksim");
    assert!(root.query_selector("button[aria-label='Pause']").unwrap().is_some());
    assert!(root.query_selector("select#scenario").unwrap().is_some());
    let status = root.query_selector("[role='status']").unwrap().unwrap();
    assert!(status.text_content().unwrap().contains("Simulated time"));
}

#[wasm_bindgen_test]
fn the_digest_matches_the_native_one() {
    // The same value is asserted natively in tests/cli.rs: determinism across targets.
    let s = scenario::find("crash-before-commit").unwrap();
    let mut sim = Sim::new(&s, 7).unwrap();
    sim.run_until(SimTime(s.duration_ms));
    assert_eq!(sim.digest(), include_str!("fixtures/crash-before-commit-seed7.digest").trim());
}

#[wasm_bindgen_test]
async fn consumer_card_buttons_send_commands_to_the_model() {
    let root = container();
    let _mount = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    // Let playback run the start of the experiment (the consumer launches at t = 0).
    gloo_timers::future::TimeoutFuture::new(200).await;
    let card = || root.query_selector("article[aria-label='Consumer consumer']").unwrap().unwrap();
    assert!(card().text_content().unwrap().contains("running"), "{:?}", card().text_content());
    let crash: web_sys::HtmlElement =
        root.query_selector("button[aria-label='Crash consumer']").unwrap().expect("a crash button").unchecked_into();
    crash.click();
    leptos::task::tick().await;
    assert!(card().text_content().unwrap().contains("crashed"), "{:?}", card().text_content());
    let start: web_sys::HtmlElement =
        root.query_selector("button[aria-label='Start consumer']").unwrap().expect("a start button").unchecked_into();
    start.click();
    leptos::task::tick().await;
    assert!(card().text_content().unwrap().contains("running"));
}
