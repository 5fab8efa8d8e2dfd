//! What if? The same run played twice — as it was, and with one thing changed for every
//! consumer (how it commits, which assignor it uses, a clean stop instead of a crash) — measured
//! the same way: records lost, duplicates, time partitions had no live owner, and peak lag.

use crate::sim::vecmap::VecSet;

use crate::sim::command::{Command, ConsumerSetting, TimedCommand};
use crate::sim::config::{CommitMode, ConsumerSpec, GroupProtocol, Strategy};
use crate::sim::consumer::ConsumerStatus;
use crate::sim::engine::Tp;
use crate::sim::event::EventKind;
use crate::sim::link::{LinkError, Run};
use crate::sim::report::group_report;
use crate::sim::{Sim, SimTime};

/// How often the measurements sample the run (simulated ms).
pub const SAMPLE_MS: u64 = 100;

/// One change applied to a whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The run as it is.
    AsRun,
    /// Every consumer commits this way (scripted commit-mode changes are dropped).
    Commit(CommitMode),
    /// Every consumer uses this assignor (scripted assignor changes are dropped).
    Assignor(Strategy),
    /// Every crash becomes a clean stop (`consumer.close()`).
    CleanStops,
    /// Every consumer on Kafka 4's consumer protocol (KIP-848): the coordinator assigns, members
    /// reconcile partition by partition.
    ConsumerProtocol,
}

impl Variant {
    /// The variants offered for comparison, with stable ids for links and menus.
    pub const CHOICES: [(&'static str, Variant); 9] = [
        ("as-run", Variant::AsRun),
        ("commit-auto", Variant::Commit(CommitMode::Auto)),
        ("commit-after", Variant::Commit(CommitMode::AfterProcessing)),
        ("commit-before", Variant::Commit(CommitMode::BeforeProcessing)),
        ("range", Variant::Assignor(Strategy::Range)),
        ("roundrobin", Variant::Assignor(Strategy::Roundrobin)),
        ("cooperative-sticky", Variant::Assignor(Strategy::CooperativeSticky)),
        ("clean-stops", Variant::CleanStops),
        ("consumer-protocol", Variant::ConsumerProtocol),
    ];

    pub fn id(self) -> &'static str {
        Variant::CHOICES.iter().find(|(_, v)| *v == self).map_or("as-run", |(id, _)| id)
    }

    pub fn from_id(id: &str) -> Option<Variant> {
        Variant::CHOICES.iter().find(|(i, _)| *i == id).map(|(_, v)| *v)
    }

    pub fn label(self) -> &'static str {
        match self {
            Variant::AsRun => "as run",
            Variant::Commit(CommitMode::Auto) => "auto-commit",
            Variant::Commit(CommitMode::AfterProcessing) => "commit after processing",
            Variant::Commit(CommitMode::BeforeProcessing) => "commit before processing",
            Variant::Assignor(Strategy::Range) => "range assignor (eager)",
            Variant::Assignor(Strategy::Roundrobin) => "roundrobin assignor (eager)",
            Variant::Assignor(Strategy::Sticky) => "sticky assignor (eager)",
            Variant::Assignor(Strategy::CooperativeSticky) => "cooperative-sticky assignor",
            Variant::CleanStops => "clean stop instead of crash",
            Variant::ConsumerProtocol => "consumer protocol (Kafka 4, KIP-848)",
        }
    }

    fn spec(self, spec: &mut ConsumerSpec) {
        match self {
            Variant::Commit(mode) => spec.commit = mode,
            // An assignor of the classic protocol: the consumer speaks it.
            Variant::Assignor(s) => {
                spec.assignors = vec![s];
                spec.group_protocol = GroupProtocol::Classic;
            }
            Variant::ConsumerProtocol => spec.group_protocol = GroupProtocol::Consumer,
            Variant::AsRun | Variant::CleanStops => {}
        }
    }

    /// The command as this variant has it (`None`: dropped).
    fn command(self, c: &Command) -> Option<Command> {
        match (self, c) {
            (Variant::Commit(_), Command::SetCommitMode { .. }) => None,
            (Variant::Assignor(_), Command::ConfigureConsumer { setting: ConsumerSetting::Assignor(_), .. }) => None,
            (Variant::CleanStops, Command::CrashConsumer { consumer }) => {
                Some(Command::StopConsumer { consumer: consumer.clone() })
            }
            (_, Command::AddConsumer { spec }) => {
                let mut spec = spec.clone();
                self.spec(&mut spec);
                Some(Command::AddConsumer { spec })
            }
            _ => Some(c.clone()),
        }
    }
}

/// How one variant of a run went, up to the compared instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub variant: Variant,
    /// Distinct records processed, over all groups.
    pub processed: u64,
    /// Records below a committed offset that were never processed.
    pub lost: u64,
    /// Deliveries beyond the first.
    pub duplicates: u64,
    /// Partition-milliseconds during which no running consumer of a group held a partition the
    /// group reads (counted from the group's first assignment, sampled every [`SAMPLE_MS`]).
    pub unowned_ms: u64,
    /// The highest committed lag of any group at a sample.
    pub peak_lag: u64,
    /// Partitions taken from a running consumer in rebalances (eager rebalances revoke all of
    /// a member's partitions; cooperative ones only those that move).
    pub revoked: u64,
    pub digest: String,
}

/// Plays `variant` of `run` to `until_ms` and measures it.
pub fn outcome(run: &Run, variant: Variant, until_ms: u64) -> Result<Outcome, LinkError> {
    let mut scenario = run.scenario()?;
    for spec in &mut scenario.consumers {
        variant.spec(spec);
    }
    scenario.script = run
        .commands
        .iter()
        .filter_map(|tc| variant.command(&tc.command).map(|command| TimedCommand { at: tc.at, command }))
        .collect();
    let mut sim = Sim::new(&scenario, run.seed).map_err(|e| LinkError::InvalidValue(e.to_string()))?;
    sim.keep_events(true);
    let mut revoked = 0;
    let mut unowned_ms = 0;
    let mut peak_lag = 0;
    let mut started = VecSet::new();
    let mut t = 0;
    while t < until_ms {
        t = (t + SAMPLE_MS).min(until_ms);
        sim.run_until(SimTime(t));
        for e in sim.drain_events() {
            if let EventKind::Revoked { partitions, lost: false, .. } = e.kind {
                revoked += partitions.len() as u64;
            }
        }
        for group in sim.group_names() {
            let (wanted, owned) = ownership(&sim, &group);
            if !owned.is_empty() {
                started.insert(group.clone());
            }
            if started.contains(&group) {
                unowned_ms += wanted.difference(&owned).count() as u64 * SAMPLE_MS;
            }
            peak_lag = peak_lag.max(group_report(&sim, &group).lag);
        }
    }
    let (mut processed, mut lost, mut duplicates) = (0, 0, 0);
    for group in sim.group_names() {
        let r = group_report(&sim, &group);
        processed += r.processed;
        lost += r.lost;
        duplicates += r.duplicates;
    }
    Ok(Outcome { variant, processed, lost, duplicates, unowned_ms, peak_lag, revoked, digest: sim.digest() })
}

/// The partitions a group's consumers subscribe to, and those a running member holds.
fn ownership(sim: &Sim, group: &str) -> (VecSet<Tp>, VecSet<Tp>) {
    let mut wanted = VecSet::new();
    let mut owned = VecSet::new();
    for c in sim.consumers().iter().filter(|c| c.spec.group == group) {
        for &topic in &c.topics {
            let n = sim.topics()[topic.ix()].spec.partitions;
            wanted.extend((0..n).map(|partition| Tp { topic, partition }));
        }
        if c.status == ConsumerStatus::Running {
            owned.extend(c.assignment().iter().copied());
        }
    }
    (wanted, owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::teach;

    fn run_of(id: &str) -> (Run, u64) {
        let s = teach::find(id).unwrap();
        (Run::of_scenario(&s, 7), s.duration_ms)
    }

    #[test]
    fn as_run_is_the_run_itself() {
        let (run, end) = run_of("crash-before-commit");
        let o = outcome(&run, Variant::AsRun, end).unwrap();
        assert_eq!(o.digest, run.replay(Some(end)).unwrap().digest());
    }

    #[test]
    fn committing_before_processing_trades_duplicates_for_losses() {
        let (run, end) = run_of("crash-before-commit");
        let after = outcome(&run, Variant::Commit(CommitMode::AfterProcessing), end).unwrap();
        let before = outcome(&run, Variant::Commit(CommitMode::BeforeProcessing), end).unwrap();
        assert!(after.duplicates > 0 && after.lost == 0, "{after:?}");
        assert!(before.lost > 0 && before.duplicates == 0, "{before:?}");
    }

    /// Three consumers in a group; one crashes at 20 s and comes back at 40 s.
    fn crash_and_restart() -> (Run, u64) {
        let (mut run, end) = run_of("consumer-group");
        run.commands
            .push(TimedCommand { at: 20_000, command: Command::CrashConsumer { consumer: "consumer-2".into() } });
        run.commands
            .push(TimedCommand { at: 40_000, command: Command::StartConsumer { consumer: "consumer-2".into() } });
        (run, end)
    }

    #[test]
    fn a_clean_stop_hands_partitions_over_sooner_than_a_crash() {
        let (run, end) = crash_and_restart();
        let crash = outcome(&run, Variant::AsRun, end).unwrap();
        let stop = outcome(&run, Variant::CleanStops, end).unwrap();
        // The crashed member's partition waits out the 10 s session timeout.
        assert!(crash.unowned_ms >= 9_000, "{crash:?}");
        assert!(stop.unowned_ms + 5_000 < crash.unowned_ms, "{stop:?} vs {crash:?}");
    }

    #[test]
    fn cooperative_rebalancing_revokes_only_what_moves() {
        let (run, end) = crash_and_restart();
        let eager = outcome(&run, Variant::Assignor(Strategy::Range), end).unwrap();
        let coop = outcome(&run, Variant::Assignor(Strategy::CooperativeSticky), end).unwrap();
        assert!(coop.revoked < eager.revoked, "{coop:?} vs {eager:?}");
    }

    #[test]
    fn the_consumer_protocol_revokes_only_what_moves_but_waits_out_a_crashed_members_session() {
        let (run, end) = crash_and_restart();
        let eager = outcome(&run, Variant::Assignor(Strategy::Range), end).unwrap();
        let modern = outcome(&run, Variant::ConsumerProtocol, end).unwrap();
        assert!(modern.revoked < eager.revoked, "{modern:?} vs {eager:?}");
        // The crashed member keeps its partition for group.consumer.session.timeout.ms (45 s), past
        // the end of this run: the classic group (10 s sessions here) reassigns it sooner.
        assert!(modern.unowned_ms > eager.unowned_ms, "{modern:?} vs {eager:?}");
        assert_ne!(modern.digest, outcome(&run, Variant::AsRun, end).unwrap().digest);
    }

    #[test]
    fn variant_ids_round_trip() {
        for (id, v) in Variant::CHOICES {
            assert_eq!(Variant::from_id(id), Some(v));
            assert_eq!(v.id(), id);
            assert!(!v.label().is_empty());
        }
        assert_eq!(Variant::from_id("<b>"), None);
    }
}
