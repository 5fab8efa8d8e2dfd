//! Component tests in a real browser (wasm-bindgen-test in headless Chromium).
#![cfg(target_arch = "wasm32")]

use ksim::sim::link::Run;
use ksim::sim::snapshot::Snapshot;
use ksim::sim::teach;
use ksim::sim::Command;
use ksim::sim::{Sim, SimTime};
use ksim::ui::{offscreen, App, ClusterView, Compare, Controller, EventLog, Plots, ProtocolLanes, TimelineBar};
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
    let mut sim = Sim::new(&teach::find(id).unwrap(), 1).unwrap();
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
    let s = teach::find("crash-before-commit").unwrap();
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

/// Mounts `view` with a Controller over `id` run to `ms` in context; returns the root.
fn mount_with_controller<V: IntoView + 'static>(
    id: &str,
    ms: u64,
    view: impl Fn(Controller) -> V + 'static,
) -> (web_sys::HtmlElement, Controller, impl Drop) {
    let root = container();
    let ctl = Controller::new(Run::of_scenario(&teach::find(id).unwrap(), 1)).unwrap();
    ctl.run_until(ms);
    let mount = leptos::mount::mount_to(root.clone(), move || {
        provide_context(ctl);
        view(ctl)
    });
    (root, ctl, mount)
}

fn click(root: &web_sys::HtmlElement, selector: &str) {
    let el: web_sys::HtmlElement = root.query_selector(selector).unwrap().expect(selector).unchecked_into();
    el.click();
}

#[wasm_bindgen_test]
async fn partition_inspector_lists_the_newest_records_first() {
    let (root, _ctl, _m) =
        mount_with_controller("basic", 3_000, |ctl| view! { <ClusterView snapshot=ctl.snapshot() /> });
    leptos::task::tick().await;
    click(&root, "button[aria-label='Inspect partition 0 of my-topic']");
    leptos::task::tick().await;
    let table = root.query_selector("table[aria-label='Records of partition 0 of my-topic']").unwrap().expect("table");
    let rows = table.query_selector_all("tbody tr").unwrap();
    assert_eq!(rows.length(), 10);
    let first = rows.item(0).unwrap().text_content().unwrap();
    assert!(first.starts_with("9null") && first.contains("producer message #9"), "{first}");
}

#[wasm_bindgen_test]
async fn group_inspector_prints_kafkas_describe_and_follows_the_model() {
    let (root, ctl, _m) =
        mount_with_controller("basic", 1_000, |ctl| view! { <ClusterView snapshot=ctl.snapshot() /> });
    leptos::task::tick().await;
    click(&root, "button[aria-label='Describe group my-group']");
    leptos::task::tick().await;
    let text = || {
        root.query_selector("[aria-label='kafka-consumer-groups --describe --group my-group']")
            .unwrap()
            .expect("describe output")
            .text_content()
            .unwrap()
    };
    // At 1 s the first rebalance is still held by group.initial.rebalance.delay.ms.
    assert!(text().contains("Warning: Consumer group 'my-group' is rebalancing."), "{}", text());
    ctl.run_until(10_000);
    leptos::task::tick().await;
    assert!(text().contains("Stable") && text().contains("CURRENT-OFFSET"), "{}", text());
}

#[wasm_bindgen_test]
async fn plots_draw_one_labelled_line_per_group() {
    let (root, ctl, _m) = mount_with_controller("consumer-group", 0, |_| view! { <Plots /> });
    for s in 1..=20 {
        ctl.run_until(s * 1_000);
    }
    leptos::task::tick().await;
    let svg = root.query_selector("svg[aria-label^='Lag per group']").unwrap().expect("lag chart");
    assert_eq!(svg.query_selector_all("polyline").unwrap().length(), 1);
    assert!(svg.text_content().unwrap().contains("my-group"));
    assert!(root.query_selector("svg[aria-label^='Throughput: all 4']").unwrap().is_some(), "4 records/s");
}

#[wasm_bindgen_test]
async fn event_log_filters_events() {
    let (root, _ctl, _m) = mount_with_controller("basic", 0, |ctl| {
        ctl.run_until(12_000);
        view! { <EventLog /> }
    });
    leptos::task::tick().await;
    click(&root, "[aria-label='Event log'] button");
    leptos::task::tick().await;
    let input: web_sys::HtmlInputElement =
        root.query_selector("input[type='search']").unwrap().unwrap().unchecked_into();
    input.set_value("committed");
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    leptos::task::tick().await;
    let items = root.query_selector_all(".events li").unwrap();
    assert!(items.length() > 0);
    for i in 0..items.length() {
        assert!(items.item(i).unwrap().text_content().unwrap().contains("committed"));
    }
}

#[wasm_bindgen_test]
async fn timeline_marks_what_happened_and_its_scrubber_seeks() {
    let (root, ctl, _m) = mount_with_controller("consumer-group", 15_000, |_| {
        let playing = RwSignal::new(false);
        view! { <TimelineBar playing=playing /> }
    });
    ctl.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    ctl.run_until(40_000);
    leptos::task::tick().await;
    assert_eq!(count(&root, ".marks .mk-crash"), 1);
    assert!(count(&root, ".marks .mk-rebalance") >= 2, "the first join and the crash");
    assert_eq!(count(&root, ".past"), 0, "at the head, nothing to warn about");

    // A command applied while paused is marked at once, though the clock does not move
    // (at the head: no new branch).
    let commands = count(&root, ".marks .mk-command");
    let producer = ctl.snapshot().get_untracked().producers[0].name.clone();
    ctl.apply(Command::SetRate { producer: producer.to_string(), per_sec: 5 });
    leptos::task::tick().await;
    assert_eq!(count(&root, ".marks .mk-command"), commands + 1);

    let slider: web_sys::HtmlInputElement =
        root.query_selector("input[aria-label='Simulated time']").unwrap().unwrap().unchecked_into();
    slider.set_value("5000");
    slider.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    leptos::task::tick().await;
    assert_eq!(ctl.snapshot().get_untracked().now_ms, 5_000);
    let past = root.query_selector(".past").unwrap().expect("the branch warning");
    assert!(past.text_content().unwrap().contains("the 2 later actions will be dropped"));

    click(&root, "button[aria-label='Step back to the previous event']");
    leptos::task::tick().await;
    assert!(ctl.snapshot().get_untracked().now_ms < 5_000);

    // A click anywhere on a mark's shape goes to its moment: the crash, at 15 s.
    let title = root.query_selector(".marks .mark:has(.mk-crash) title").unwrap().expect("the crash mark's title");
    assert_eq!(title.text_content().unwrap(), "15.000s — consumer-2 crashed");
    js_sys::eval(
        "document.querySelector('.marks .mk-crash line').dispatchEvent(new MouseEvent('click', {bubbles: true}))",
    )
    .unwrap();
    leptos::task::tick().await;
    assert_eq!(ctl.snapshot().get_untracked().now_ms, 15_000);
    // A click on the track between marks goes nowhere.
    js_sys::eval("document.querySelector('svg.marks').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        .unwrap();
    leptos::task::tick().await;
    assert_eq!(ctl.snapshot().get_untracked().now_ms, 15_000);
}

#[wasm_bindgen_test]
async fn after_a_fork_the_marks_and_moments_are_the_new_branchs() {
    let (root, ctl, _m) = mount_with_controller("consumer-group", 15_000, |_| {
        let playing = RwSignal::new(false);
        view! { <TimelineBar playing=playing /> }
    });
    let texts = |selector: &str| {
        let found = root.query_selector_all(selector).unwrap();
        (0..found.length()).map(|i| found.item(i).unwrap().text_content().unwrap()).collect::<Vec<_>>().join("\n")
    };
    ctl.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    ctl.run_until(40_000);
    leptos::task::tick().await;
    let (old_marks, old_moments) = (texts(".marks title"), texts("label.jump option"));
    assert!(old_marks.contains("consumer-2 crashed") && old_moments.contains("consumer-2 crashed"));
    // Back to 10 s, crash another consumer instead: as many markers of each kind, other ones.
    ctl.seek(10_000);
    ctl.apply(Command::CrashConsumer { consumer: "consumer-1".into() });
    ctl.run_until(35_000);
    leptos::task::tick().await;
    let (marks, moments) = (texts(".marks title"), texts("label.jump option"));
    for text in [&marks, &moments] {
        assert!(text.contains("consumer-1 crashed") && !text.contains("consumer-2 crashed"), "{text}");
    }
    assert_eq!(moments.lines().count(), old_moments.lines().count(), "as many moments, other ones");
}

#[wasm_bindgen_test]
async fn compare_shows_both_variants_numbers() {
    let (root, _ctl, _m) = mount_with_controller("crash-before-commit", 0, |_| view! { <Compare /> });
    leptos::task::tick().await;
    click(&root, ".compare-controls button");
    leptos::task::tick().await;
    let table = root.query_selector("table[aria-label='Comparison']").unwrap().expect("comparison table");
    let text = table.text_content().unwrap();
    assert!(text.contains("commit after processing") && text.contains("commit before processing"), "{text}");
    assert_eq!(table.query_selector_all("tbody tr").unwrap().length(), 6);
}

#[wasm_bindgen_test]
async fn partition_rows_show_the_newest_twenty_offsets_and_keep_their_cells() {
    let root = container();
    let base = snapshot_at("basic", 3_000);
    let with_end = move |end: u64| {
        let mut s = base.clone();
        let p = &mut s.topics[0].partitions[0];
        (p.log_end_offset, p.high_watermark) = (end, end);
        s
    };
    let snap = RwSignal::new(with_end(20));
    let _mount = leptos::mount::mount_to(root.clone(), move || view! { <ClusterView snapshot=snap.read_only() /> });
    let cells = |root: &web_sys::HtmlElement| -> Vec<String> {
        let list = root.query_selector("ol[aria-label='Partition 0 of my-topic']").unwrap().unwrap();
        let items = list.query_selector_all("li").unwrap();
        (0..items.length()).map(|i| items.item(i).unwrap().text_content().unwrap()).collect()
    };
    leptos::task::tick().await;
    assert_eq!(cells(&root), (0..20).map(|o| o.to_string()).collect::<Vec<_>>(), "up to 20 offsets fit");
    snap.set(with_end(25));
    leptos::task::tick().await;
    assert_eq!(cells(&root), (5..25).map(|o| o.to_string()).collect::<Vec<_>>(), "the newest twenty");
    let cell_24 = || root.query_selector("ol[aria-label='Partition 0 of my-topic'] li:last-child").unwrap().unwrap();
    let before = cell_24();
    snap.set(with_end(31));
    leptos::task::tick().await;
    assert_eq!(cells(&root), (11..31).map(|o| o.to_string()).collect::<Vec<_>>());
    let kept = root.query_selector_all("ol[aria-label='Partition 0 of my-topic'] li").unwrap().item(13).unwrap();
    assert_eq!(kept.text_content().as_deref(), Some("24"));
    assert!(kept.is_same_node(Some(&before)), "offset 24's cell is the same element: appends only add cells");
    snap.set(with_end(8));
    leptos::task::tick().await;
    assert_eq!(cells(&root), (0..8).map(|o| o.to_string()).collect::<Vec<_>>(), "back in time: the older cells again");
}

#[wasm_bindgen_test]
async fn only_cells_not_yet_replicated_carry_a_title() {
    let root = container();
    let base = snapshot_at("basic", 3_000);
    let at = move |end: u64, hw: u64| {
        let mut s = base.clone();
        let p = &mut s.topics[0].partitions[0];
        (p.log_end_offset, p.high_watermark) = (end, hw);
        s
    };
    let snap = RwSignal::new(at(6, 4));
    let _mount = leptos::mount::mount_to(root.clone(), move || view! { <ClusterView snapshot=snap.read_only() /> });
    let titled = |root: &web_sys::HtmlElement| -> Vec<String> {
        let items = root.query_selector_all("ol[aria-label='Partition 0 of my-topic'] li[title]").unwrap();
        (0..items.length()).map(|i| items.item(i).unwrap().text_content().unwrap()).collect()
    };
    leptos::task::tick().await;
    assert_eq!(titled(&root), ["4", "5"], "offsets at or past the high watermark");
    snap.set(at(8, 5));
    leptos::task::tick().await;
    assert_eq!(titled(&root), ["5", "6", "7"], "offset 4 is replicated now, and 6 and 7 are new");
    snap.set(at(8, 8));
    leptos::task::tick().await;
    assert!(titled(&root).is_empty(), "every cell replicated: no title left, none written empty");
}

#[wasm_bindgen_test]
fn playing_a_busy_cluster_refreshes_rows_in_turns_and_exactly_once_stopped() {
    let ctl = Controller::new(Run::of_scenario(&teach::find("stress").unwrap(), 1)).unwrap();
    let fresh = || ctl.with(Snapshot::of).unwrap();
    let partitions = |s: &Snapshot| s.topics.iter().flat_map(|t| t.partitions.clone()).collect::<Vec<_>>();
    // Frames 125 wall ms apart: each is published.
    for frame in 1..=120 {
        ctl.play_frame(frame * 16, frame as f64 * 125.0);
    }
    let (shown, model) = (ctl.snapshot().get_untracked(), fresh());
    assert_eq!(shown.now_ms, model.now_ms, "the clock is exact");
    let (shown_rows, model_rows) = (partitions(&shown), partitions(&model));
    let behind = shown_rows.iter().zip(&model_rows).filter(|(a, b)| a != b).count();
    assert!(behind > 0, "some rows wait for their turn");
    assert!(behind <= shown_rows.len() * 7 / 8 + 1, "{behind} of {} rows behind", shown_rows.len());
    ctl.refresh();
    assert!(ctl.snapshot().get_untracked() == fresh(), "stopping shows every row exactly");
    // A small cluster is always shown exactly.
    let small = Controller::new(Run::of_scenario(&teach::find("basic").unwrap(), 1)).unwrap();
    for frame in 1..=120 {
        small.play_frame(frame * 16, frame as f64 * 125.0);
    }
    assert!(small.snapshot().get_untracked() == small.with(Snapshot::of).unwrap());
}

#[wasm_bindgen_test]
fn playing_publishes_the_page_eight_times_a_wall_second_and_pausing_shows_the_model() {
    let ctl = Controller::new(Run::of_scenario(&teach::find("basic").unwrap(), 1)).unwrap();
    let shown = || ctl.snapshot().get_untracked().now_ms;
    // Frames 16 wall ms apart: the model moves on each, the page every 125 wall ms (a frame up to
    // 10 ms early counts: a frame asked for at the publishing instant may come a little early).
    let mut published = Vec::new();
    for frame in 1..=30u64 {
        ctl.play_frame(frame * 16, frame as f64 * 16.0);
        if published.last() != Some(&shown()) {
            published.push(shown());
        }
    }
    assert_eq!(ctl.now_ms(), 480);
    assert_eq!(published, vec![16, 144, 272, 400], "published every 128 wall ms: the first frame from 115 ms on");
    assert!(shown() < ctl.now_ms(), "the page is a frame behind the model");
    ctl.refresh();
    assert_eq!(shown(), 480, "stopping shows the model exactly");
}

#[wasm_bindgen_test]
fn the_plots_show_samples_only_up_to_the_instant_the_page_shows() {
    let ctl = Controller::new(Run::of_scenario(&teach::find("basic").unwrap(), 1)).unwrap();
    let last_sample = || ctl.with_samples(|s| s.last().map(|x| x.second)).flatten();
    // Frames 16 wall ms apart at 6.25×: the model crosses simulated seconds between publishes.
    for frame in 1..=60u64 {
        ctl.play_frame(frame * 100, frame as f64 * 16.0);
        let shown_s = ctl.snapshot().get_untracked().now_ms / 1000;
        assert!(last_sample().is_none_or(|l| l <= shown_s), "frame {frame}: a sample ahead of the page");
    }
    assert!(ctl.now_ms() / 1000 > ctl.snapshot().get_untracked().now_ms / 1000, "the model is a second ahead");
    ctl.refresh();
    assert_eq!(last_sample(), Some(6), "stopped: the current second's sample is shown");
}

#[wasm_bindgen_test]
fn moving_the_model_ahead_of_a_frame_shows_it_only_in_the_frame_at_the_wall_clocks_pace() {
    let ctl = Controller::new(Run::of_scenario(&teach::find("basic").unwrap(), 1)).unwrap();
    let shown = || ctl.snapshot().get_untracked().now_ms;
    // At 2×, a frame every 125 wall ms, coming 5 ms early or late in turn; before each, the model
    // is moved to where the frame is expected (125 ms after the previous one was due).
    ctl.play(0.0, 2.0, 0.0);
    let mut last = 0.0;
    for k in 1..=40u64 {
        let due = k as f64 * 125.0;
        let before = shown();
        ctl.play_ahead(due - last, 2.0);
        assert_eq!(shown(), before, "frame {k}: nothing is shown before its frame");
        assert!(ctl.now_ms() > before, "frame {k}: the model moved ahead");
        let wall = due + if k % 2 == 0 { -5.0 } else { 5.0 };
        ctl.play(wall - last, 2.0, wall);
        last = wall;
        let clock = (2.0 * wall) as u64;
        assert!(shown() >= clock, "frame {k}: shows {} behind the clock {clock}", shown());
        assert!(
            shown() <= clock + 10,
            "frame {k}: shows {} ahead of the clock {clock} by more than an early frame",
            shown()
        );
    }
    // A seek moves the model: the clock starts again from there.
    ctl.seek(1_000);
    ctl.play(16.0, 1.0, last + 125.0);
    assert_eq!(shown(), 1_016);
}

#[wasm_bindgen_test]
async fn rows_out_of_view_wait_while_playing_and_catch_up_once_in_view() {
    let (root, ctl, mount) =
        mount_with_controller("stress", 0, |ctl| view! { <ClusterView snapshot=ctl.snapshot() /> });
    let row = |topic: &str, p: u32| {
        let list = root.query_selector(&format!("ol[aria-label='Partition {p} of {topic}']")).unwrap().unwrap();
        list.parent_element().unwrap()
    };
    let shown = |t: usize, p: usize| ctl.snapshot().get_untracked().topics[t].partitions[p].clone();
    let model = |t: usize, p: usize| ctl.with(|sim| Snapshot::of(sim).topics[t].partitions[p].clone()).unwrap();
    let play = |from: u64, frames: u64| (from..from + frames).for_each(|f| ctl.play_frame(f * 16, f as f64 * 125.0));
    leptos::task::tick().await;
    row("topic-0", 0).scroll_into_view();
    gloo_timers::future::TimeoutFuture::new(200).await; // the observer reports what is in view
    play(1, 120);
    let (first, last) = (shown(0, 0), shown(2, 11));
    assert!(first.log_end_offset > 0, "a row in view is refreshed");
    assert_eq!(last.log_end_offset, 0, "a row far out of view keeps its state from before playing");
    assert!(model(2, 11).log_end_offset > 0);

    row("topic-2", 11).scroll_into_view();
    gloo_timers::future::TimeoutFuture::new(200).await;
    play(121, 1);
    assert_eq!(shown(2, 11), model(2, 11), "back in view: refreshed on the next frame");
    play(122, 60);
    assert_eq!(shown(0, 0).log_end_offset, first.log_end_offset, "now the first row is out of view");
    ctl.refresh();
    assert_eq!(shown(0, 0), model(0, 0), "stopping shows every row exactly");
    let rows_and_cards = 36 + 18 + 3;
    assert_eq!(offscreen::watched(), rows_and_cards);
    drop(mount);
    leptos::task::tick().await;
    gloo_timers::future::TimeoutFuture::new(100).await;
    assert_eq!(offscreen::watched(), 0, "rows and cards stop being watched when they go");
}

/// The picture's edges: one per partition to its reader, in the group's colour; a crash leaves
/// them (faint: the coordinator has not noticed) and after the session they fade and go.
#[wasm_bindgen_test]
async fn edges_tie_each_partition_to_its_reader_and_follow_a_crash() {
    let root = container();
    let mut sim = Sim::new(&teach::find("consumer-group").unwrap(), 1).unwrap();
    sim.run_until(SimTime(8_000));
    let snap = RwSignal::new(Snapshot::of(&sim));
    let _mount = leptos::mount::mount_to(root.clone(), move || view! { <ClusterView snapshot=snap.read_only() /> });
    let frames = || gloo_timers::future::TimeoutFuture::new(100);
    frames().await;
    let partitions = count(&root, "ol.log[aria-label^='Partition ']");
    assert!(partitions >= 3);
    assert_eq!(count(&root, "svg.wires g.reads"), partitions, "every partition has one reader");
    let owned = count(&root, "svg.wires g.reads[data-consumer='consumer-2']");
    assert!(owned > 0);
    sim.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    snap.set(Snapshot::of(&sim));
    frames().await;
    assert_eq!(count(&root, "svg.wires g.unnoticed[data-consumer='consumer-2']"), owned);
    sim.run_until(SimTime(60_000));
    snap.set(Snapshot::of(&sim));
    frames().await;
    assert_eq!(count(&root, "svg.wires g.revoked[data-consumer='consumer-2']"), owned, "fading");
    assert_eq!(count(&root, "svg.wires g.reads"), partitions, "new owners read them");
    gloo_timers::future::TimeoutFuture::new(1_500).await;
    assert_eq!(count(&root, "svg.wires g[data-consumer='consumer-2']"), 0, "gone once faded");
}

#[wasm_bindgen_test]
async fn a_members_session_bar_turns_dying_while_its_crash_goes_unnoticed_and_back_after() {
    let (root, ctl, _m) =
        mount_with_controller("consumer-group", 10_000, |_| view! { <ProtocolLanes playing=RwSignal::new(false) /> });
    let wait = || gloo_timers::future::TimeoutFuture::new(600);
    let classes = || {
        let list = root.query_selector_all(".lane .lane-session").unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().unchecked_into::<web_sys::Element>().get_attribute("class").unwrap())
            .collect::<Vec<_>>()
    };
    wait().await;
    assert_eq!(classes(), ["lane-session"; 3]);
    // Crashed at 10 s: its session runs out unrenewed, drawn as dying, for the others it is not.
    ctl.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    for t in [11_000, 13_000] {
        ctl.run_until(t);
        wait().await;
        assert_eq!(classes(), ["lane-session", "lane-session dying", "lane-session"], "at {t} ms");
    }
    // Removed by the coordinator once the session ran out: no bar to run out any more.
    ctl.run_until(40_000);
    wait().await;
    assert!(classes().iter().all(|c| c == "lane-session"), "{:?}", classes());
}

#[wasm_bindgen_test]
async fn a_lane_adds_what_is_new_to_what_it_drew_and_draws_afresh_after_a_seek() {
    let (root, ctl, _m) =
        mount_with_controller("consumer-group", 10_000, |_| view! { <ProtocolLanes playing=RwSignal::new(false) /> });
    // Past the lanes' least time between two writes.
    let wait = || gloo_timers::future::TimeoutFuture::new(600);
    wait().await;
    let msgs = || root.query_selector(".lane .track > .msgs").unwrap().expect("a lane's messages");
    let ticks = || count(&root, ".lane .track path.ticks");
    let labels = || {
        let list = root.query_selector_all(".lane .msg[aria-label]").unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().unchecked_into::<web_sys::Element>().get_attribute("aria-label").unwrap())
            .collect::<Vec<_>>()
    };
    let first = msgs();
    let before = labels();
    assert!(before.iter().any(|l| l.starts_with("JoinGroup from consumer-1")), "{before:?}");
    // A crash, noticed when the session runs out, then the rest rejoin: all within the minute
    // the lane is drawn against.
    ctl.apply(Command::CrashConsumer { consumer: "consumer-2".into() });
    ctl.run_until(59_000);
    wait().await;
    assert!(msgs().is_same_node(Some(&first)), "added to, not written afresh");
    let grown = labels();
    assert!(grown.len() > before.len() && grown.starts_with(&before), "{grown:?}");
    assert!(grown.iter().any(|l| l.starts_with("consumer-2 member removed")), "{grown:?}");
    let grown_ticks = ticks();
    // The same instant drawn afresh reads the same (a seek draws afresh).
    ctl.seek(ctl.now_ms());
    wait().await;
    assert!(!msgs().is_same_node(Some(&first)), "written afresh after a seek");
    assert_eq!(labels(), grown);
    assert!(ticks() <= grown_ticks, "heartbeats in one path a member when written afresh");
    // Back in time: only what had happened by then (the crash came at 10 s).
    ctl.seek(9_000);
    wait().await;
    assert_eq!(labels(), before);
}
