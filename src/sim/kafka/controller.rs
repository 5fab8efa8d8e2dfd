//! The controller (KRaft's quorum controller, as far as ksim needs it) as a state machine: the
//! brokers' registrations, the leaders of `__consumer_offsets` (where group coordinators live),
//! and what it decides when a broker comes or goes.
//!
//! - A crashed broker's process is gone at once (its connections close, its replicas stop), but
//!   the controller notices only when its session runs out (`broker.session.timeout.ms`): then it
//!   fences it — takes it out of the ISRs and elects new leaders for what it led.
//! - A clean stop is a controlled shutdown: the controller fences the broker first (moving its
//!   leaderships while its replicas still run), then it goes down; nothing waits for the session.
//! - A broker back before the controller noticed re-registers with a new epoch, which fences the
//!   old incarnation first.
//! - Each `__consumer_offsets` partition led by a fenced broker moves to its first live replica:
//!   its groups' coordinator moves with it. So does each `__transaction_state` partition (its
//!   transactional ids' coordinator), once the topic exists: Kafka creates it at the first
//!   transactional request.
//! - While some partition is led by other than its preferred replica, it checks every
//!   `leader.imbalance.check.interval.seconds` and elects preferred replicas back (Kafka's KRaft
//!   controller has no imbalance ratio to reach first).
//!
//! It takes one input at a time (`(&mut self, input, &mut Out)`) and records what it does —
//! events, work for the partitions and the network, timers — in an [`Out`] the engine carries out
//! in the order recorded; an [`Effect::Continue`] hands it a next step once what came before is
//! done (its own state changes only where Kafka's would have happened by then: a broker's
//! incarnation moves on once its replicas stopped, coordinators move once the partitions took in
//! the fencing).

use crate::sim::cluster::{Broker, ClusterTimer};
use crate::sim::event::EventKind;
use crate::sim::ids::BrokerId;

/// The controller's state.
#[derive(Clone, Debug)]
pub struct Controller {
    /// Every broker (id `b` at index `b - 1`).
    brokers: Vec<Broker>,
    /// `__consumer_offsets`: each partition's replicas, and its leader (its groups' coordinator).
    offsets: Placement,
    /// `__transaction_state`, once created: each partition's leader is its transactional ids'
    /// coordinator.
    transaction_state: Option<Placement>,
    /// A preferred-leader check is scheduled.
    balance_queued: bool,
    session_timeout_ms: u64,
    auto_leader_rebalance: bool,
    balance_interval_ms: u64,
}

/// Where an internal topic's partitions live: their replicas, and each one's leader.
#[derive(Clone, Debug)]
struct Placement {
    replicas: Vec<Vec<BrokerId>>,
    leaders: Vec<Option<BrokerId>>,
}

impl Placement {
    /// Each partition led by its first replica that runs and is registered.
    fn new(replicas: Vec<Vec<BrokerId>>, brokers: &[Broker]) -> Placement {
        let leaders = replicas.iter().map(|r| first_usable(r, brokers)).collect();
        Placement { replicas, leaders }
    }

    fn leader(&self, p: u32) -> Option<BrokerId> {
        self.leaders.get(p as usize).copied().flatten()
    }

    /// Each partition led by a fenced broker (or by none) moves to its first usable replica;
    /// returns the partitions that moved.
    fn move_off_fenced(&mut self, brokers: &[Broker]) -> Vec<u32> {
        let mut moved = Vec::new();
        for p in 0..self.leaders.len() {
            let current = self.leaders[p];
            if current.is_some_and(|b| !brokers[b.ix()].fenced) {
                continue;
            }
            let next = first_usable(&self.replicas[p], brokers);
            if next != current {
                self.leaders[p] = next;
                moved.push(p as u32);
            }
        }
        moved
    }
}

/// The first of `replicas` whose broker runs and is registered.
fn first_usable(replicas: &[BrokerId], brokers: &[Broker]) -> Option<BrokerId> {
    replicas.iter().copied().find(|&b| {
        let br = &brokers[b.ix()];
        br.alive && !br.fenced
    })
}

/// The settings it runs with.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// `broker.session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// `auto.leader.rebalance.enable`.
    pub auto_leader_rebalance: bool,
    /// `leader.imbalance.check.interval.seconds`, in ms.
    pub balance_interval_ms: u64,
}

/// A step the controller takes once what it recorded before is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A controlled shutdown's second half, once its partitions were fenced: the process goes,
    /// then coordinators move off it.
    Shutdown(BrokerId),
    /// The broker runs again (after its old incarnation was fenced).
    Start(BrokerId),
    /// The broker's next start is a new incarnation (once its replicas have stopped).
    NewIncarnation(BrokerId),
    /// Coordinators on fenced brokers move (once the partitions have taken in what changed).
    MoveCoordinators,
}

/// One thing the controller did, for the engine to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Event(EventKind),
    /// The broker's connections close: requests its coordinators held fail at their clients.
    CloseConnections(BrokerId),
    /// The broker's replicas stop; writes waiting at its leaders fail.
    ReplicasDown(BrokerId),
    /// Take the broker out of every ISR and elect new leaders for what it led.
    FencePartitions(BrokerId),
    /// The broker's replicas run again.
    ReplicasUp(BrokerId),
    /// Every partition whose preferred replica is in the ISR and alive gets it back as leader.
    ElectPreferred,
    /// These `__consumer_offsets` partitions have a new leader (or none): their groups'
    /// coordinators moved.
    CoordinatorsMoved(Vec<u32>),
    /// These `__transaction_state` partitions have a new leader (or none): their transactional
    /// ids' coordinators moved.
    TransactionCoordinatorsMoved(Vec<u32>),
    /// Tell the controller (with [`Controller::balance_seen`]) whether some partition is led by
    /// other than its preferred replica.
    CheckBalance,
    /// Hand the controller `step` next.
    Continue(Step),
    /// One of the cluster's timers, `after` ms from now.
    Timer {
        after: u64,
        timer: ClusterTimer,
    },
}

/// What a handler did, in order.
pub type Out = crate::sim::kafka::out::Out<Effect>;

impl Controller {
    /// `brokers` brokers, all running, and `__consumer_offsets` placed on `offsets_replicas`
    /// (each partition led by its first replica).
    pub fn new(brokers: u32, offsets_replicas: Vec<Vec<BrokerId>>, config: Config) -> Controller {
        Controller {
            brokers: (1..=brokers)
                .map(|id| Broker { id: BrokerId(id), alive: true, inc: 0, fenced: false, stopped: false, delay_ms: 0 })
                .collect(),
            offsets: Placement {
                leaders: offsets_replicas.iter().map(|r| r.first().copied()).collect(),
                replicas: offsets_replicas,
            },
            transaction_state: None,
            balance_queued: false,
            session_timeout_ms: config.session_timeout_ms,
            auto_leader_rebalance: config.auto_leader_rebalance,
            balance_interval_ms: config.balance_interval_ms,
        }
    }

    pub fn brokers(&self) -> &[Broker] {
        &self.brokers
    }

    pub fn broker(&self, id: BrokerId) -> &Broker {
        &self.brokers[id.ix()]
    }

    /// The broker leading `__consumer_offsets` partition `p` (its groups' coordinator).
    pub fn offsets_leader(&self, p: u32) -> Option<BrokerId> {
        self.offsets.leader(p)
    }

    /// Creates `__transaction_state` on `replicas` (Kafka does at the first transactional
    /// request), each partition led by its first replica that runs and is registered; a second
    /// call changes nothing.
    pub fn create_transaction_state(&mut self, replicas: Vec<Vec<BrokerId>>) {
        if self.transaction_state.is_none() {
            self.transaction_state = Some(Placement::new(replicas, &self.brokers));
        }
    }

    /// Whether `__transaction_state` exists.
    pub fn has_transaction_state(&self) -> bool {
        self.transaction_state.is_some()
    }

    /// The broker leading `__transaction_state` partition `p` (its transactional ids'
    /// coordinator), if the topic exists and the partition has a leader.
    pub fn transaction_leader(&self, p: u32) -> Option<BrokerId> {
        self.transaction_state.as_ref().and_then(|t| t.leader(p))
    }

    /// Extra one-way delay of the broker's replication traffic.
    pub fn set_delay(&mut self, id: BrokerId, ms: u64) {
        self.brokers[id.ix()].delay_ms = ms;
    }

    /// The broker's process crashed: it is gone at once; the controller notices when its
    /// session runs out.
    pub fn crash(&mut self, id: BrokerId, out: &mut Out) {
        out.push(Effect::Event(EventKind::BrokerCrashed { broker: id }));
        self.go_down(id, out);
        // The incarnation it is about to have: a timer of an earlier crash is ignored.
        let inc = self.brokers[id.ix()].inc + 1;
        out.push(Effect::Timer {
            after: self.session_timeout_ms,
            timer: ClusterTimer::BrokerFenced { broker: id, inc },
        });
    }

    /// The broker's session ran out: it is fenced, unless it restarted (or was fenced) since.
    pub fn session_ran_out(&mut self, id: BrokerId, inc: u32, out: &mut Out) {
        let b = &self.brokers[id.ix()];
        if !b.alive && !b.fenced && b.inc == inc {
            self.fence(id, out);
        }
    }

    /// A controlled shutdown: fenced first (its leaderships move while its replicas still run),
    /// then the process goes.
    pub fn stop(&mut self, id: BrokerId, out: &mut Out) {
        let b = &mut self.brokers[id.ix()];
        b.fenced = true;
        b.stopped = true;
        out.push(Effect::Event(EventKind::BrokerStopped { broker: id }));
        out.push(Effect::FencePartitions(id));
        out.push(Effect::Continue(Step::Shutdown(id)));
    }

    /// The broker starts again; one back before the controller noticed its crash re-registers
    /// with a new epoch, which fences the old incarnation first.
    pub fn restart(&mut self, id: BrokerId, out: &mut Out) {
        if self.brokers[id.ix()].fenced {
            self.start(id, out);
        } else {
            self.fence(id, out);
            out.push(Effect::Continue(Step::Start(id)));
        }
    }

    /// The next step of something it began.
    pub fn continue_with(&mut self, step: Step, out: &mut Out) {
        match step {
            Step::Shutdown(id) => {
                self.go_down(id, out);
                out.push(Effect::Continue(Step::MoveCoordinators));
                out.push(Effect::CheckBalance);
            }
            Step::Start(id) => self.start(id, out),
            Step::NewIncarnation(id) => self.brokers[id.ix()].inc += 1,
            Step::MoveCoordinators => self.move_coordinators(out),
        }
    }

    /// The preferred-leader check is due: preferred replicas are elected back where they can be.
    pub fn balance_due(&mut self, out: &mut Out) {
        self.balance_queued = false;
        out.push(Effect::ElectPreferred);
        out.push(Effect::CheckBalance);
    }

    /// Whether some partition is led by other than its preferred replica: if so, and automatic
    /// rebalancing is on, a check is scheduled (once).
    pub fn balance_seen(&mut self, imbalanced: bool, out: &mut Out) {
        if !self.auto_leader_rebalance || self.balance_queued || !imbalanced {
            return;
        }
        self.balance_queued = true;
        out.push(Effect::Timer { after: self.balance_interval_ms, timer: ClusterTimer::LeaderBalance });
    }

    // ----- steps ---------------------------------------------------------------------------------

    /// The process is gone: its connections close, its replicas stop, and its next start is a
    /// new incarnation.
    fn go_down(&mut self, id: BrokerId, out: &mut Out) {
        self.brokers[id.ix()].alive = false;
        out.push(Effect::CloseConnections(id));
        out.push(Effect::ReplicasDown(id));
        out.push(Effect::Continue(Step::NewIncarnation(id)));
    }

    fn fence(&mut self, id: BrokerId, out: &mut Out) {
        self.brokers[id.ix()].fenced = true;
        out.push(Effect::Event(EventKind::BrokerFenced { broker: id }));
        out.push(Effect::FencePartitions(id));
        out.push(Effect::Continue(Step::MoveCoordinators));
        out.push(Effect::CheckBalance);
    }

    fn start(&mut self, id: BrokerId, out: &mut Out) {
        let b = &mut self.brokers[id.ix()];
        b.alive = true;
        b.fenced = false;
        b.stopped = false;
        out.push(Effect::Event(EventKind::BrokerStarted { broker: id }));
        out.push(Effect::ReplicasUp(id));
        out.push(Effect::Continue(Step::MoveCoordinators));
    }

    /// Each `__consumer_offsets` and `__transaction_state` partition led by a fenced broker
    /// moves to its first live replica.
    fn move_coordinators(&mut self, out: &mut Out) {
        let moved = self.offsets.move_off_fenced(&self.brokers);
        if !moved.is_empty() {
            out.push(Effect::CoordinatorsMoved(moved));
        }
        if let Some(t) = self.transaction_state.as_mut() {
            let moved = t.move_off_fenced(&self.brokers);
            if !moved.is_empty() {
                out.push(Effect::TransactionCoordinatorsMoved(moved));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each transition of the controller, one input at a time, as Kafka's
    //! `QuorumControllerTest` and `ReplicationControlManagerTest` exercise them (fencing on
    //! session expiry, controlled shutdown, re-registration, preferred leaders): what it records,
    //! in order.

    use super::*;
    use Effect::*;

    const SESSION: u64 = 9_000;

    /// Three brokers; `__consumer_offsets` partition 0 on brokers 1, 2, 3 and partition 1 on 2, 3, 1.
    fn controller(auto_balance: bool) -> Controller {
        let config =
            Config { session_timeout_ms: SESSION, auto_leader_rebalance: auto_balance, balance_interval_ms: 300_000 };
        Controller::new(3, vec![[1, 2, 3].map(BrokerId).to_vec(), [2, 3, 1].map(BrokerId).to_vec()], config)
    }

    fn run(c: &mut Controller, f: impl FnOnce(&mut Controller, &mut Out)) -> Vec<Effect> {
        let mut out = Out::default();
        f(c, &mut out);
        out.effects
    }

    const B1: BrokerId = BrokerId(1);

    /// Runs `f`, then every step the controller asked for, as the engine would (the partitions'
    /// work is not done here).
    fn run_all(c: &mut Controller, f: impl FnOnce(&mut Controller, &mut Out)) -> Vec<Effect> {
        let mut done = Vec::new();
        let mut todo = run(c, f);
        while !todo.is_empty() {
            let e = todo.remove(0);
            if let Continue(step) = e {
                let mut next = run(c, |c, out| c.continue_with(step, out));
                next.extend(todo);
                todo = next;
            }
            done.push(e);
        }
        done
    }

    #[test]
    fn a_crash_takes_the_process_at_once_and_fencing_waits_for_the_session() {
        let mut c = controller(true);
        let got = run_all(&mut c, |c, out| c.crash(B1, out));
        assert_eq!(
            got,
            [
                Event(EventKind::BrokerCrashed { broker: BrokerId(1) }),
                CloseConnections(B1),
                ReplicasDown(B1),
                Continue(Step::NewIncarnation(B1)),
                Timer { after: SESSION, timer: ClusterTimer::BrokerFenced { broker: B1, inc: 1 } },
            ]
        );
        let b = c.broker(B1);
        assert!(!b.alive && !b.fenced && b.inc == 1);
        assert_eq!(c.offsets_leader(0), Some(BrokerId(1)), "the coordinator stays until the controller notices");
        // The session runs out: fenced, partitions fenced, then its coordinator moves to broker
        // 2, and a preferred-leader check is asked for.
        let got = run_all(&mut c, |c, out| c.session_ran_out(B1, 1, out));
        assert_eq!(
            got,
            [
                Event(EventKind::BrokerFenced { broker: BrokerId(1) }),
                FencePartitions(B1),
                Continue(Step::MoveCoordinators),
                CoordinatorsMoved(vec![0]),
                CheckBalance,
            ]
        );
        assert_eq!(c.offsets_leader(0), Some(BrokerId(2)));
        assert!(c.broker(B1).fenced);
    }

    #[test]
    fn a_session_timer_of_an_earlier_incarnation_or_a_fenced_broker_does_nothing() {
        let mut c = controller(true);
        run_all(&mut c, |c, out| c.crash(B1, out));
        // Back before the controller noticed: the old incarnation is fenced, then it starts.
        let got = run(&mut c, |c, out| c.restart(B1, out));
        assert_eq!(
            got,
            [
                Event(EventKind::BrokerFenced { broker: BrokerId(1) }),
                FencePartitions(B1),
                Continue(Step::MoveCoordinators),
                CheckBalance,
                Continue(Step::Start(B1)),
            ]
        );
        run(&mut c, |c, out| c.continue_with(Step::MoveCoordinators, out));
        let got = run_all(&mut c, |c, out| c.continue_with(Step::Start(B1), out));
        assert_eq!(
            got,
            [Event(EventKind::BrokerStarted { broker: BrokerId(1) }), ReplicasUp(B1), Continue(Step::MoveCoordinators)]
        );
        assert_eq!(c.offsets_leader(0), Some(BrokerId(2)), "a coordinator moves only off a fenced broker");
        // The first crash's timer, and a second timer of the new incarnation once it is fenced.
        assert!(run(&mut c, |c, out| c.session_ran_out(B1, 1, out)).is_empty());
        run_all(&mut c, |c, out| c.crash(B1, out));
        assert_eq!(
            run(&mut c, |c, out| c.session_ran_out(B1, 2, out))[0],
            Event(EventKind::BrokerFenced { broker: BrokerId(1) })
        );
        assert!(run(&mut c, |c, out| c.session_ran_out(B1, 2, out)).is_empty());
    }

    #[test]
    fn a_controlled_shutdown_fences_first_then_the_process_goes() {
        let mut c = controller(true);
        let got = run(&mut c, |c, out| c.stop(B1, out));
        assert_eq!(
            got,
            [
                Event(EventKind::BrokerStopped { broker: BrokerId(1) }),
                FencePartitions(B1),
                Continue(Step::Shutdown(B1))
            ]
        );
        let b = c.broker(B1);
        assert!(b.alive && b.fenced && b.stopped, "its replicas still run while its partitions are fenced");
        let got = run_all(&mut c, |c, out| c.continue_with(Step::Shutdown(B1), out));
        assert_eq!(
            got,
            [
                CloseConnections(B1),
                ReplicasDown(B1),
                Continue(Step::NewIncarnation(B1)),
                Continue(Step::MoveCoordinators),
                CoordinatorsMoved(vec![0]),
                CheckBalance,
            ]
        );
        assert!(!c.broker(B1).alive);
        // A fenced broker's restart needs no fencing first.
        let got = run(&mut c, |c, out| c.restart(B1, out));
        assert_eq!(got[0], Event(EventKind::BrokerStarted { broker: BrokerId(1) }));
        assert!(!c.broker(B1).stopped && !c.broker(B1).fenced);
    }

    #[test]
    fn a_coordinator_with_no_live_replica_is_nowhere_until_one_starts() {
        let mut c = controller(true);
        for b in 1..=3 {
            run_all(&mut c, |c, out| c.stop(BrokerId(b), out));
        }
        assert_eq!((c.offsets_leader(0), c.offsets_leader(1)), (None, None));
        let got = run_all(&mut c, |c, out| c.restart(BrokerId(3), out));
        assert_eq!(got.last(), Some(&CoordinatorsMoved(vec![0, 1])));
        assert_eq!((c.offsets_leader(0), c.offsets_leader(1)), (Some(BrokerId(3)), Some(BrokerId(3))));
    }

    #[test]
    fn transaction_state_is_made_once_led_by_usable_replicas_and_its_coordinators_move_like_groups() {
        let mut c = controller(true);
        assert!(!c.has_transaction_state());
        assert_eq!(c.transaction_leader(0), None);
        run_all(&mut c, |c, out| c.stop(B1, out));
        // Made while broker 1 is down: partition 0 is led by its next replica.
        c.create_transaction_state(vec![[1, 2, 3].map(BrokerId).to_vec(), [3, 1, 2].map(BrokerId).to_vec()]);
        c.create_transaction_state(vec![[3, 2, 1].map(BrokerId).to_vec()]);
        assert_eq!((c.transaction_leader(0), c.transaction_leader(1)), (Some(BrokerId(2)), Some(BrokerId(3))));
        assert_eq!(c.transaction_leader(2), None, "no such partition");
        // Broker 3 crashes and its session runs out: its transaction coordinators move.
        run_all(&mut c, |c, out| c.restart(B1, out));
        run_all(&mut c, |c, out| c.crash(BrokerId(3), out));
        let got = run_all(&mut c, |c, out| c.session_ran_out(BrokerId(3), 1, out));
        assert!(got.contains(&TransactionCoordinatorsMoved(vec![1])), "{got:?}");
        assert_eq!(c.transaction_leader(1), Some(B1));
        assert_eq!(c.transaction_leader(0), Some(BrokerId(2)), "a coordinator moves only off a fenced broker");
    }

    #[test]
    fn an_imbalance_schedules_one_preferred_leader_check_when_rebalancing_is_on() {
        let mut c = controller(true);
        assert!(run(&mut c, |c, out| c.balance_seen(false, out)).is_empty());
        let timer = Timer { after: 300_000, timer: ClusterTimer::LeaderBalance };
        assert_eq!(run(&mut c, |c, out| c.balance_seen(true, out)), std::slice::from_ref(&timer));
        assert!(run(&mut c, |c, out| c.balance_seen(true, out)).is_empty(), "one check at a time");
        assert_eq!(run(&mut c, |c, out| c.balance_due(out)), [ElectPreferred, CheckBalance]);
        assert_eq!(run(&mut c, |c, out| c.balance_seen(true, out)), [timer]);
        let mut off = controller(false);
        assert!(run(&mut off, |c, out| c.balance_seen(true, out)).is_empty());
    }
}
