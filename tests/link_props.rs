//! Share links: fixture links keep their digests forever; the codec round-trips any run; a
//! damaged link is an error, never a panic.
#![cfg(not(target_arch = "wasm32"))]

use ksim::sim::config::{CommitMode, ConsumerSpec, GroupProtocol, Keys, ProducerSpec, Strategy as Assignor};
use ksim::sim::link::{LinkError, Run};
use ksim::sim::{experiments, teach, Command, TimedCommand};
use proptest::prelude::*;

/// Links written by earlier versions, with the digest each must give (and, on `#` lines, why one
/// changed).
#[test]
fn fixture_links_replay_to_their_recorded_digests() {
    let fixtures = include_str!("fixtures/links.tsv");
    let mut n = 0;
    // `#` lines say why a digest changed: only a change of the model's behaviour changes one.
    for line in fixtures.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (link, digest) = line.split_once('\t').expect("link TAB digest");
        let run = Run::decode(link).unwrap_or_else(|e| panic!("{link}: {e}"));
        assert_eq!(run.replay(None).unwrap().digest(), digest, "{link}");
        n += 1;
    }
    assert!(n >= 7, "a fixture per built-in scenario");
}

fn command() -> impl Strategy<Value = Command> {
    let name = prop_oneof![Just("producer".to_string()), Just("consumer".to_string()), "[a-z<>&\"' -]{0,12}"];
    prop_oneof![
        (name.clone(), 0u64..100).prop_map(|(producer, count)| Command::Produce { producer, count }),
        (name.clone(), 0u32..50).prop_map(|(producer, per_sec)| Command::SetRate { producer, per_sec }),
        name.clone().prop_map(|consumer| Command::CrashConsumer { consumer }),
        name.clone().prop_map(|consumer| Command::StartConsumer { consumer }),
        (name.clone(), name.clone()).prop_map(|(consumer, group)| Command::MoveConsumer { consumer, group }),
        name.clone().prop_map(|consumer| Command::SetCommitMode { consumer, mode: CommitMode::BeforeProcessing }),
        (name.clone(), 1u32..20)
            .prop_map(|(producer, cardinality)| Command::SetKeys { producer, keys: Keys::Random { cardinality } }),
        (name.clone(), prop::option::of(0u32..4), 0u32..100).prop_map(|(name, partition, rate_per_sec)| {
            Command::AddProducer {
                spec: ProducerSpec { name: name.into(), partition, rate_per_sec, ..ProducerSpec::default() },
            }
        }),
        (name.clone(), name, any::<bool>(), prop::option::of("[a-z]{1,5}"), protocol()).prop_map(
            |(name, group, priority, id, group_protocol)| Command::AddConsumer {
                spec: ConsumerSpec {
                    name: name.into(),
                    group: group.into(),
                    priority,
                    group_instance_id: id,
                    assignors: vec![Assignor::CooperativeSticky],
                    group_protocol,
                    ..ConsumerSpec::default()
                },
            }
        ),
        (0u32..8, any::<u64>()).prop_map(|(broker, ms)| Command::DelayBroker { broker, ms }),
    ]
}

fn protocol() -> impl Strategy<Value = GroupProtocol> {
    prop::sample::select(GroupProtocol::ALL.to_vec())
}

fn run() -> impl Strategy<Value = Run> {
    let ids: Vec<String> = experiments::builtin().into_iter().map(|s| s.id).collect();
    (
        prop::sample::select(ids),
        any::<u64>(),
        prop::collection::vec((0u64..120_000, command()), 0..30),
        prop::option::of(0u64..600_000),
        protocol(),
        any::<bool>(),
    )
        .prop_map(|(scenario, seed, cmds, cursor_ms, group_protocol, refuse)| {
            let mut run = Run {
                scenario,
                seed,
                commands: cmds.into_iter().map(|(at, command)| TimedCommand { at, command }).collect(),
                cursor_ms,
                group_protocol,
                refuse_mixed_groups: false,
            };
            // Only a run on the consumer protocol carries the rules of a version-2 link.
            run.refuse_mixed_groups = refuse && run.uses_consumer_protocol();
            run
        })
}

/// Cases per codec property: 3 000 in CI; `KSIM_FUZZ_CASES=300000` for a longer run.
fn codec_cases() -> u32 {
    std::env::var("KSIM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: codec_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_run_round_trips(r in run()) {
        let link = r.encode();
        prop_assert!(link.len() < 16 * 1024);
        prop_assert_eq!(Run::decode(&link).unwrap(), r.clone());
        prop_assert_eq!(Run::decode(&format!("https://example.org/a/b/?{link}")).unwrap(), r);
    }

    /// Flipped, dropped and inserted characters anywhere in a valid link: decoding (and, when
    /// it succeeds, replaying) never panics.
    #[test]
    fn mutated_links_never_panic(r in run(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)) {
        let mut bytes = r.encode().into_bytes();
        for (at, byte, kind) in edits {
            let len = bytes.len();
            let i = at.index(len.max(1));
            match kind {
                0 if len > 0 => bytes[i.min(len - 1)] = byte,
                1 if len > 0 => {
                    bytes.remove(i.min(len - 1));
                }
                _ => bytes.insert(i.min(len), byte),
            }
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        match Run::decode(&text) {
            Ok(run) => { let _ = run.replay(Some(5_000)); }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn random_text_is_an_error_not_a_panic(text in ".{0,300}") {
        if let Err(e) = Run::decode(&text) {
            let known = matches!(
                e,
                LinkError::Missing
                    | LinkError::Malformed(_)
                    | LinkError::InvalidValue(_)
                    | LinkError::UnknownVersion(_)
                    | LinkError::UnknownScenario(_)
                    | LinkError::TooLong { .. }
            );
            prop_assert!(known, "untyped error: {}", e);
        }
    }
}

/// Commands applied interactively (at whatever instant playback had reached) and the same
/// commands replayed from the link give the same events: what a shared link promises.
#[test]
fn live_commands_and_their_replay_give_the_same_digest() {
    use ksim::sim::{Sim, SimTime};
    let s = teach::find("consumer-group").unwrap();
    let mut live = Sim::new(&Run { commands: vec![], ..Run::of_scenario(&s, 5) }.scenario().unwrap(), 5).unwrap();
    let mut timeline = Vec::new();
    // Apply commands at instants where other actions are due (heartbeats at 3 006 ms, …).
    for (at, command) in [
        (3_006, Command::CrashConsumer { consumer: "consumer-2".into() }),
        (6_006, Command::Produce { producer: "producer".into(), count: 5 }),
        (9_006, Command::StartConsumer { consumer: "consumer-2".into() }),
        (12_000, Command::MoveConsumer { consumer: "consumer-3".into(), group: "other".into() }),
    ] {
        live.run_until(SimTime(at));
        live.apply(command.clone());
        timeline.push(TimedCommand { at, command });
    }
    live.run_until(SimTime(40_000));
    let run = Run {
        scenario: s.id.clone(),
        seed: 5,
        commands: timeline,
        cursor_ms: Some(40_000),
        group_protocol: GroupProtocol::Classic,
        refuse_mixed_groups: false,
    };
    let replayed = Run::decode(&run.encode()).unwrap().replay(None).unwrap();
    assert_eq!(replayed.digest(), live.digest());
}

fn live_command() -> impl Strategy<Value = Command> {
    let consumer = prop::sample::select(vec!["consumer-1", "consumer-2", "consumer-3"]).prop_map(String::from);
    prop_oneof![
        consumer.clone().prop_map(|consumer| Command::CrashConsumer { consumer }),
        consumer.clone().prop_map(|consumer| Command::StopConsumer { consumer }),
        consumer.clone().prop_map(|consumer| Command::StartConsumer { consumer }),
        (consumer.clone(), prop::sample::select(vec!["my-group", "other"]))
            .prop_map(|(consumer, g)| Command::MoveConsumer { consumer, group: g.into() }),
        (1u64..30).prop_map(|count| Command::Produce { producer: "producer".into(), count }),
        (consumer, 0u64..200).prop_map(|(consumer, ms)| Command::SetProcessingTime { consumer, ms }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever a user does, whenever they do it, the link of the session replays it exactly.
    #[test]
    fn any_interactive_session_replays_from_its_link(
        seed in any::<u64>(),
        mut acts in prop::collection::vec((0u64..30_000, live_command()), 0..12),
    ) {
        use ksim::sim::{Sim, SimTime};
        acts.sort_by_key(|(at, _)| *at);
        let s = teach::find("consumer-group").unwrap();
        let start = Run { commands: s.script.clone(), ..Run::of_scenario(&s, seed) };
        let mut live = Sim::new(&start.scenario().unwrap(), seed).unwrap();
        let mut timeline = s.script.clone();
        for (at, command) in acts {
            live.run_until(SimTime(at));
            live.apply(command.clone());
            timeline.push(TimedCommand { at, command });
        }
        live.run_until(SimTime(45_000));
        let run = Run { scenario: s.id.clone(), seed, commands: timeline, cursor_ms: Some(45_000), group_protocol: GroupProtocol::Classic, refuse_mixed_groups: false };
        prop_assert_eq!(Run::decode(&run.encode()).unwrap().replay(None).unwrap().digest(), live.digest());
    }
}

/// What a user does on the timeline.
#[derive(Clone, Debug)]
enum Move {
    Play(u64),
    Seek(u64),
    Step,
    StepBack,
    Act(Command),
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        prop_oneof![
            (0u64..20_000).prop_map(Move::Play),
            (0u64..60_000).prop_map(Move::Seek),
            Just(Move::Step),
            Just(Move::StepBack),
            live_command().prop_map(Move::Act),
        ],
        0..16,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Playing, seeking, stepping both ways and forking in any order: after every seek the
    /// state is exactly what replaying the branch's link to that instant gives, and the branch
    /// replays to the same digest at the end.
    #[test]
    fn time_travel_agrees_with_replay(
        seed in any::<u64>(),
        id in prop::sample::select(vec!["consumer-group", "crash-before-commit"]),
        moves in moves(),
    ) {
        use ksim::sim::timeline::Timeline;
        // One without a script, one whose script keeps running while the user acts.
        let s = teach::find(id).unwrap();
        let mut tl = Timeline::new(Run::of_scenario(&s, seed)).unwrap();
        for m in moves {
            match m {
                Move::Play(ms) => tl.advance_to(tl.now_ms() + ms),
                Move::Seek(t) => {
                    tl.seek(t);
                    prop_assert_eq!(tl.now_ms(), t);
                    prop_assert_eq!(tl.sim().digest(), tl.run().replay(Some(t)).unwrap().digest());
                }
                Move::Step => {
                    tl.step();
                }
                Move::StepBack => {
                    let before = tl.now_ms();
                    let moved = tl.step_back();
                    prop_assert!(!moved || tl.now_ms() < before || before == 0);
                }
                Move::Act(c) => {
                    // In the past, acting drops what came later; at the furthest point reached,
                    // a scripted future stays.
                    let later = if tl.in_past() { tl.later_commands() } else { 0 };
                    let dropped = tl.apply(c);
                    prop_assert_eq!(dropped.len(), later);
                    prop_assert!(!tl.in_past());
                }
            }
        }
        // Finish the current instant, then compare with a replay of the branch.
        let t = tl.now_ms() + 1;
        tl.advance_to(t);
        prop_assert_eq!(tl.sim().digest(), tl.run().replay(Some(t)).unwrap().digest());
    }
}

/// serde_json's parse of `bytes`, as the link reader's own parser would give it.
fn serde_value(bytes: &[u8]) -> Option<ksim::sim::replay::value::Value> {
    use ksim::sim::replay::value::Value;
    fn of(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => n.as_u64().map_or(Value::Number, Value::Whole),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(of).collect()),
            serde_json::Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, of(v))).collect()),
        }
    }
    serde_json::from_slice::<serde_json::Value>(bytes).ok().map(of)
}

/// JSON-ish text: a run's JSON with bytes changed, inserted or removed, or pieces of JSON syntax.
fn json_ish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b",".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\u".to_vec()),
        Just(b"\\ud83d".to_vec()),
        Just(b"\\ude00".to_vec()),
        Just(b"\\n".to_vec()),
        Just(vec![0xc3, 0xa9]),
        Just(vec![0xff]),
        Just(vec![0x01]),
        "-?[0-9]{0,22}(\\.[0-9]{0,3})?([eE][+-]?[0-9]{0,4})?".prop_map(String::into_bytes),
        "(null|true|false|nul|tru)".prop_map(String::into_bytes),
        "\"[a-z\\\\\"]{0,6}\"".prop_map(String::into_bytes),
    ];
    let pieces = prop::collection::vec(piece, 0..40).prop_map(|v| v.concat());
    let mutated = (run(), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4)).prop_map(
        |(r, edits)| {
            let query = r.encode();
            let payload = query.trim_start_matches("run=").split('&').next().unwrap_or_default().to_string();
            use base64::Engine;
            let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap_or_default();
            for (at, byte, how) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match how {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            bytes
        },
    );
    prop_oneof![pieces, mutated]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: codec_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// The link reader's JSON parser accepts exactly what serde_json accepts, and reads it the same.
    #[test]
    fn the_link_json_parser_reads_as_serde_json_reads(bytes in json_ish()) {
        let ours = ksim::sim::replay::value::parse(&bytes);
        let theirs = serde_value(&bytes);
        prop_assert_eq!(ours.as_ref().ok(), theirs.as_ref(), "{:?} ({:?})", String::from_utf8_lossy(&bytes), ours);
    }
}
