//! The `ksim` command line as other tools use it: exact output formats, one-line errors.
#![cfg(not(target_arch = "wasm32"))]

use std::process::{Command, Output};

fn ksim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ksim")).args(args).output().expect("ksim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn assert_user_error(args: &[&str], needle: &str) {
    let o = ksim(args);
    assert_eq!(o.status.code(), Some(2), "{args:?} exits 2");
    let err = String::from_utf8(o.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
    assert!(err.starts_with("ksim: ") && err.contains(needle), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn partition_prints_one_partition_per_key() {
    let o = ksim(&["partition", "--partitions", "6", "foobar", "21", "abc"]);
    assert!(o.status.success());
    // toPositive(murmur2) % 6 for Kafka's UtilsTest vectors.
    assert_eq!(stdout(&o), "0\n0\n3\n");
    let o = ksim(&["partition", "--partitions", "3", "--", "--not-an-option"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 1);
}

#[test]
fn lessons_lists_ids_first() {
    let o = ksim(&["lessons"]);
    assert!(o.status.success());
    let ids: Vec<String> = stdout(&o).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    assert!(ids.contains(&"basic".to_string()) && ids.contains(&"durability".to_string()), "{ids:?}");
}

#[test]
fn run_hash_is_the_trace_digest_and_is_reproducible() {
    let a = ksim(&["run", "crash-before-commit", "--seed", "7", "--format", "hash"]);
    let b = ksim(&["run", "crash-before-commit", "--seed=7", "--until", "40s", "--format=hash"]);
    assert!(a.status.success());
    assert_eq!(stdout(&a), stdout(&b));
    let want = include_str!("fixtures/crash-before-commit-seed7.digest");
    assert_eq!(stdout(&a).trim(), want.trim(), "the same digest the browser test checks");
    let digest = stdout(&a);
    assert_eq!(digest.trim().len(), 32);
    assert!(digest.trim().chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn run_jsonl_is_one_json_event_per_line_in_time_order() {
    let o = ksim(&["run", "basic", "--format", "jsonl"]);
    assert!(o.status.success());
    let mut last = 0;
    let mut types = std::collections::BTreeSet::new();
    for line in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
        let t = v["t"].as_u64().expect("time");
        assert!(t >= last);
        last = t;
        types.insert(v["type"].as_str().unwrap().to_string());
    }
    for t in ["started", "sent", "appended", "acked", "fetched", "processed", "committed"] {
        assert!(types.contains(t), "{t} in {types:?}");
    }
}

#[test]
fn run_summary_counts_duplicates_and_losses() {
    let o = ksim(&["run", "crash-before-commit", "--format", "summary"]);
    assert!(stdout(&o)
        .contains("group     my-group: processed 50 of 50 records (65 deliveries), duplicates 15, lost 0, lag 0"));
    let o = ksim(&["run", "commit-before-processing"]);
    assert!(stdout(&o).contains("duplicates 0, lost 5"), "{}", stdout(&o));
}

#[test]
fn run_describe_prints_kafkas_table() {
    let o = ksim(&["run", "basic", "--format", "describe"]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "", "Kafka's format starts each block with a newline");
    assert_eq!(
        lines[1],
        "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                              HOST            CLIENT-ID"
    );
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(&row[..6], &["my-group", "my-topic", "0", "10", "10", "0"]);
    assert!(row[6].starts_with("consumer-my-group-1-"));
    assert_eq!(&row[7..], &["/127.0.0.1", "consumer-my-group-1"]);
    // --state as ConsumerGroupCommand pads it: GROUP as wide as the coordinator column (25).
    assert!(text.contains("\nGROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS\nmy-group                  localhost:9092  (1)       range                Stable          1\n"), "{text}");
    // Then the topic, as kafka-topics.sh --describe prints it.
    assert!(text.contains("\nTopic: my-topic\tTopicId: "), "{text}");
    assert!(
        text.ends_with("\tTopic: my-topic\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n"),
        "{text}"
    );
}

#[test]
fn describe_says_when_a_group_has_no_active_members() {
    // In "durability" the consumer is stopped from 5 s to 20 s; 10 more messages came at 8 s.
    let o = ksim(&["run", "durability", "--until", "10s", "--format", "describe"]);
    let text = stdout(&o);
    assert!(text.starts_with("\nConsumer group 'my-group' has no active members.\n"), "{text}");
    let row = text.lines().find(|l| l.starts_with("my-group        my-topic")).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[3..], &["5", "15", "10", "-", "-", "-"], "{row}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_user_error(&[], "no command given");
    assert_user_error(&["frobnicate"], "unknown command");
    assert_user_error(&["partition", "foo"], "--partitions");
    assert_user_error(&["partition", "--partitions", "0", "k"], "at least 1");
    assert_user_error(&["partition", "--partitions", "-3", "k"], "positive number");
    assert_user_error(&["partition", "--partitions", "3"], "at least one KEY");
    assert_user_error(&["run"], "needs a SCENARIO");
    assert_user_error(&["run", "nope"], "unknown scenario 'nope'");
    assert_user_error(&["run", "basic", "--seed", "x"], "--seed");
    assert_user_error(&["run", "basic", "--until", "5 weeks"], "invalid duration");
    assert_user_error(&["run", "basic", "--until", "99999999999999999999d"], "invalid duration");
    assert_user_error(&["run", "basic", "--format", "xml"], "unknown format");
    assert_user_error(&["run", "basic", "--until"], "needs a value");
    assert_user_error(&["lessons", "extra"], "no arguments");
    assert_user_error(&["run", "basic", "--group-protocol", "kip848"], "classic or consumer");
    assert_user_error(&["run", "basic", "--group-protocol"], "needs a value");
    assert_user_error(&["link", "basic", "--group-protocol", "x"], "classic or consumer");
}

#[test]
fn group_protocol_consumer_runs_every_consumer_on_kip_848_and_describe_says_so() {
    let o = ksim(&["run", "consumer-group", "--group-protocol", "consumer", "--format", "describe"]);
    assert!(o.status.success());
    let text = stdout(&o);
    // The members' own UUIDs as consumer ids; the broker's assignor; the consumer protocol's state.
    let row: Vec<&str> = text.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], &["my-group", "my-topic"]);
    assert_eq!(row[6].len(), 22, "a member id the consumer made: {}", row[6]);
    assert!(
        text.contains("\nmy-group                  localhost:9092  (1)       uniform              Stable          3\n"),
        "{text}"
    );
    // Different from the classic run, and the same again.
    let classic = ksim(&["run", "consumer-group", "--format", "hash"]);
    let consumer = ksim(&["run", "consumer-group", "--group-protocol", "consumer", "--format", "hash"]);
    assert_ne!(stdout(&classic), stdout(&consumer));
    let again = ksim(&["run", "consumer-group", "--group-protocol=consumer", "--format", "hash"]);
    assert_eq!(stdout(&consumer), stdout(&again));
    // --group-protocol classic is today's run.
    let explicit = ksim(&["run", "consumer-group", "--group-protocol", "classic", "--format", "hash"]);
    assert_eq!(stdout(&classic), stdout(&explicit));
}

#[test]
fn a_consumer_protocol_link_is_version_3_and_replays_its_run() {
    let o = ksim(&["link", "lesson-fault-tolerance", "--group-protocol", "consumer"]);
    let link = stdout(&o).trim().to_string();
    let run = ksim(&["run", &link, "--format", "hash"]);
    let direct = ksim(&["run", "lesson-fault-tolerance", "--group-protocol", "consumer", "--format", "hash"]);
    assert_eq!(stdout(&run), stdout(&direct));
    // A classic link is still version 1, as before.
    let classic = stdout(&ksim(&["link", "lesson-fault-tolerance"]));
    assert!(classic.starts_with("?run=eyJ2IjoxL"), "{classic}");
    assert!(link.starts_with("?run=eyJ2IjozL"), "{link}");
    // The lesson's checks speak of the consumer protocol's session.
    let summary = stdout(&ksim(&["run", "lesson-fault-tolerance", "--group-protocol", "consumer"]));
    assert!(summary.contains("group.consumer.session.timeout.ms 45 s"), "{summary}");
}

fn ksim_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ksim"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ksim runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn assign_prints_every_member_in_kafkas_answer() {
    let o = ksim_stdin(
        &["assign"],
        r#"{"strategy": "roundrobin", "topics": {"orders": 3}, "members": {"c1": ["orders"], "c2": ["orders"]}}"#,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), "{\"c1\": {\"orders\": [0, 2]}, \"c2\": {\"orders\": [1]}}\n");
    // Range with a static member first; optional fields accepted.
    let o = ksim_stdin(
        &["assign"],
        r#"{"strategy": "range", "topics": {"orders": 3}, "members": {"c1": ["orders"], "c2": ["orders"]},
            "static": {"c2": "instance-1"}, "previous": {"c1": {"orders": [0, 1]}}, "generation": 3}"#,
    );
    assert_eq!(stdout(&o), "{\"c1\": {\"orders\": [2]}, \"c2\": {\"orders\": [0, 1]}}\n");
    // More members than partitions: the extra one is present with {}.
    let o =
        ksim_stdin(&["assign"], r#"{"strategy": "sticky", "topics": {"a": 1}, "members": {"x": ["a"], "y": ["a"]}}"#);
    assert_eq!(stdout(&o), "{\"x\": {\"a\": [0]}, \"y\": {}}\n");
}

#[test]
fn assign_cooperative_prints_the_first_round() {
    // KAFKA_SEMANTICS case 9: partition 0 was claimed twice and is held back one round.
    let o = ksim_stdin(
        &["assign"],
        r#"{"strategy": "cooperative-sticky", "topics": {"topic": 4},
            "members": {"consumer1": ["topic"], "consumer2": ["topic"], "consumer3": ["topic"]},
            "previous": {"consumer1": {"topic": [0, 1]}, "consumer2": {"topic": [0, 2]}},
            "generation": {"consumer1": 1, "consumer2": 1}}"#,
    );
    assert_eq!(
        stdout(&o),
        "{\"consumer1\": {\"topic\": [1, 3]}, \"consumer2\": {\"topic\": [2]}, \"consumer3\": {}}\n"
    );
}

#[test]
fn assign_rejects_bad_requests_in_one_line() {
    for (input, needle) in [
        ("", "invalid assign request"),
        ("[1,2]", "invalid assign request"),
        (r#"{"strategy": "fair", "topics": {}, "members": {}}"#, "unknown strategy 'fair'"),
        (r#"{"strategy": "range", "topics": {"t": 0}, "members": {}}"#, "at least one partition"),
        (r#"{"strategy": "range", "topics": {"t": 1}, "members": {"a": ["u"]}}"#, "not in topics"),
        (
            r#"{"strategy": "range", "topics": {"t": 1}, "members": {}, "static": {"b": "i"}}"#,
            "'b' is not one of the members",
        ),
        (
            r#"{"strategy": "range", "topics": {"t": 1}, "members": {"a": ["t"]}, "previous": {"a": {"t": [5]}}}"#,
            "no partition 5",
        ),
        (r#"{"strategy": "range", "topics": {"t": 1}, "members": {}, "typo": 1}"#, "unknown field"),
        (r#"{"strategy": "range", "topics": {"t": 4000000000}, "members": {}}"#, "at most"),
    ] {
        let o = ksim_stdin(&["assign"], input);
        assert_eq!(o.status.code(), Some(2), "{input}");
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{input}: {e}");
        assert!(e.contains(needle), "{input}: {e}");
    }
}

#[test]
fn a_scenarios_link_replays_it_exactly_from_a_url_or_query() {
    let o = ksim(&["link", "crash-before-commit", "--seed", "7"]);
    assert!(o.status.success());
    let link = stdout(&o).trim().to_string();
    assert!(link.starts_with("?run=") && !link.contains('\n'));
    let want = include_str!("fixtures/crash-before-commit-seed7.digest").trim();
    for target in [link.clone(), format!("https://example.org/courses/kafka/ksim/{link}")] {
        let o = ksim(&["run", &target, "--format", "hash"]);
        assert_eq!(stdout(&o).trim(), want, "{target}");
    }
    // The cursor is where the run stops unless --until says otherwise.
    let at20 = ksim(&["run", &format!("{link}&t=20000"), "--format", "hash"]);
    let until20 = ksim(&["run", "crash-before-commit", "--seed", "7", "--until", "20s", "--format", "hash"]);
    assert_eq!(stdout(&at20), stdout(&until20));
}

#[test]
fn bad_links_and_link_arguments_are_one_line_errors() {
    assert_user_error(&["run", "?run=%%%"], "damaged");
    assert_user_error(&["run", "?run=eyJ2Ijo5OSwicyI6ImJhc2ljIiwic2VlZCI6MX0"], "format version 99");
    assert_user_error(&["link"], "needs a SCENARIO");
    assert_user_error(&["link", "nope"], "unknown scenario 'nope'");
    assert_user_error(&["link", "basic", "--seed", "x"], "--seed");
    assert_user_error(&["link", "basic", "--frob"], "unknown option");
}

#[test]
fn run_lesson_summary_prints_each_check() {
    let o = ksim(&["run", "lesson-durability", "--format", "summary"]);
    let text = stdout(&o);
    assert!(
        text.contains("check     pass all of the 30 messages sent while the consumer was down arrived after the restart, in order\n"),
        "{text}"
    );
    let lessons = stdout(&ksim(&["lessons"]));
    assert!(lessons.starts_with("lesson-durability\tLesson 1: message durability\n"), "{lessons}");
}

/// Whatever is typed is repeated quoted, escaped and cut: an error is always one line.
#[test]
fn errors_quote_what_was_typed_on_one_line() {
    assert_user_error(&["run", "x\ny"], "unknown scenario 'x\\ny'");
    assert_user_error(&["x\ny"], "unknown command 'x\\ny'");
    assert_user_error(&["run", "basic", "--format", "json\nl"], "unknown format 'json\\nl'");
    assert_user_error(&["run", "basic", "--until", "1\rq"], "invalid duration '1\\rq'");
    assert_user_error(&["run", "basic", "--seed", "\u{1b}[31m"], "got '\\u{1b}[31m'");
    assert_user_error(&["partition", "--partitions", "3", "--frob\t"], "unknown option '--frob\\t'");
    let long = "z".repeat(5_000);
    let o = ksim(&["run", &long]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.len() < 1_000 && err.contains("…'"), "{} bytes: {err}", err.len());
    // A link's contents are quoted too.
    assert_user_error(&["run", "?run=eyJ2IjoxLCJzIjoieFxueSIsInNlZWQiOjEsImMiOltdfQ"], "unknown experiment 'x\\ny'");
}

/// `ksim assign` with `"group_protocol": "consumer"` runs the broker's assignors of Kafka 4's
/// consumer protocol, same request and answer shapes: cases of Kafka's
/// `UniformHomogeneousAssignmentBuilderTest`, `UniformHeterogeneousAssignmentBuilderTest` and
/// `RangeAssignorTest`.
#[test]
fn assign_runs_the_consumer_protocols_assignors() {
    let cases = [
        // The extra partition goes to the last member short of its quota.
        (
            r#"{"group_protocol": "consumer", "strategy": "uniform", "topics": {"c1": 3, "b3": 2},
                "members": {"A": ["c1", "b3"], "B": ["c1", "b3"]}}"#,
            r#"{"A": {"b3": [0, 1]}, "B": {"c1": [0, 1, 2]}}"#,
        ),
        // An unbalanced previous assignment: each keeps what it can up to its quota.
        (
            r#"{"group_protocol": "consumer", "strategy": "uniform", "topics": {"t1": 3, "t2": 3},
                "members": {"A": ["t1", "t2"], "B": ["t1", "t2"]},
                "previous": {"A": {"t1": [0, 1], "t2": [0, 1]}, "B": {"t1": [2], "t2": [2]}}}"#,
            r#"{"A": {"t1": [0, 1], "t2": [0]}, "B": {"t1": [2], "t2": [1, 2]}}"#,
        ),
        // Different subscriptions (the heterogeneous builder).
        (
            r#"{"group_protocol": "consumer", "strategy": "uniform", "topics": {"t1": 3, "t3": 6},
                "members": {"A": ["t1", "t3"], "B": ["t3"]}}"#,
            r#"{"A": {"t1": [0, 1, 2], "t3": [4]}, "B": {"t3": [0, 1, 2, 3, 5]}}"#,
        ),
        // The broker's range: a contiguous range per topic, the first members one more.
        (
            r#"{"group_protocol": "consumer", "strategy": "range", "topics": {"t1": 3},
                "members": {"A": ["t1"], "B": ["t1"], "C": []}}"#,
            r#"{"A": {"t1": [0, 1]}, "B": {"t1": [2]}, "C": {}}"#,
        ),
    ];
    for (request, answer) in cases {
        let o = ksim_stdin(&["assign"], request);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(stdout(&o).trim(), answer, "{request}");
    }
    // Each protocol takes only its own assignors, and says which.
    let wrong = ksim_stdin(
        &["assign"],
        r#"{"group_protocol": "consumer", "strategy": "sticky", "topics": {"t": 1}, "members": {"A": ["t"]}}"#,
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("use uniform or range"));
    let bad = ksim_stdin(
        &["assign"],
        r#"{"group_protocol": "kraft", "strategy": "range", "topics": {"t": 1}, "members": {"A": ["t"]}}"#,
    );
    assert_eq!(bad.status.code(), Some(2));
    // Without group_protocol (or with classic) nothing changes.
    let classic = ksim_stdin(
        &["assign"],
        r#"{"group_protocol": "classic", "strategy": "range", "topics": {"t1": 3}, "members": {"A": ["t1"], "B": ["t1"]}}"#,
    );
    assert_eq!(stdout(&classic).trim(), r#"{"A": {"t1": [0, 1]}, "B": {"t1": [2]}}"#);
}

/// Every command has its own help, saying what each flag does; `--version` says which ksim;
/// a near-miss gets a suggestion; completions come for the usual shells. (Help goes to stdout
/// with exit 0, as a command line's does.)
#[test]
fn help_version_suggestions_and_completions() {
    for (command, flags) in [
        ("run", &["--seed", "--until", "--format", "--group-protocol"][..]),
        ("link", &["--seed", "--group-protocol"][..]),
        ("partition", &["--partitions"][..]),
        ("assign", &[][..]),
        ("lessons", &[][..]),
    ] {
        for help in ["--help", "-h"] {
            let o = ksim(&[command, help]);
            assert_eq!(o.status.code(), Some(0), "{command} {help}");
            let text = stdout(&o);
            assert!(text.contains(&format!("Usage: ksim {command}")), "{text}");
            for f in flags {
                let line = text.lines().find(|l| l.trim_start().starts_with(f)).unwrap_or_default();
                assert!(line.len() > f.len() + 12, "{command}: {f} is explained: {text}");
            }
        }
    }
    let top = stdout(&ksim(&["--help"]));
    for c in ["partition", "assign", "lessons", "run", "link", "completions"] {
        assert!(top.lines().any(|l| l.trim_start().starts_with(c)), "{top}");
    }
    assert_eq!(stdout(&ksim(&["--version"])), format!("ksim {}\n", env!("CARGO_PKG_VERSION")));
    assert_user_error(
        &["run", "lesson-durabilty"],
        "unknown scenario 'lesson-durabilty' (did you mean lesson-durability?",
    );
    assert_user_error(&["link", "consumer-grup"], "did you mean consumer-group?");
    assert_user_error(&["rnu"], "unknown command 'rnu' (did you mean run?");
    let bash = ksim(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("--group-protocol"), "the completions know the flags");
    assert_user_error(&["completions", "tcsh"], "unknown shell 'tcsh'");
    assert_user_error(&["completions"], "needs one SHELL");
}

/// As always: an option anywhere before a bare `--`, `--flag=value` or `--flag value` (a value
/// may start with `-`), and any other argument a value — a key like `-x` included.
#[test]
fn options_go_anywhere_and_values_may_start_with_a_dash() {
    let o = ksim(&["partition", "-x", "--partitions", "6", "foobar"]);
    let p = stdout(&ksim(&["partition", "--partitions=6", "--", "-x", "foobar"]));
    assert_eq!(stdout(&o), p);
    assert_eq!(p.lines().nth(1), Some("0"), "foobar's partition of 6, as in Kafka's UtilsTest");
    let a = stdout(&ksim(&["run", "--format", "hash", "basic", "--seed=3", "--until", "5s"]));
    let b = stdout(&ksim(&["run", "basic", "--until=5s", "--seed", "3", "--format=hash"]));
    assert_eq!(a, b);
    assert_eq!(a.trim().len(), 32);
    assert_user_error(&["run", "basic", "--seed", "-1"], "got '-1'");
    assert_user_error(&["run", "-x"], "unknown scenario '-x'");
    assert_user_error(&["run", "basic", "extra"], "unexpected argument 'extra'");
}
