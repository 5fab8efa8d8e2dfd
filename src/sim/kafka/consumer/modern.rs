//! The consumer's membership under Kafka 4's consumer protocol (KIP-848, `group.protocol=consumer`),
//! as the new consumer of the 4.0 line (`AsyncKafkaConsumer`, its `ConsumerMembershipManager`,
//! heartbeat and commit request managers) runs it, with no rebalance listener:
//! - it makes its own member id (a random UUID) and joins with a full `ConsumerGroupHeartbeat` at
//!   epoch 0; it heartbeats at the interval the coordinator gives (5 s, counted from each send),
//!   one at a time, and reports what it owns only when that changed (or in a full request, after
//!   a lost answer);
//! - a new assignment is reconciled by its background thread, and acknowledged at once with a
//!   heartbeat carrying what it now owns. Without auto-commit that happens as soon as the answer
//!   comes (KAFKA-18641: `maybeReconcile` runs on every background poll), even while the
//!   application processes records of a partition it gives up: it finishes them, their offsets
//!   are no longer its to commit, and the partition's next owner reads them again. With
//!   auto-commit the reconciliation starts at the application's next `poll()`, which commits
//!   everything consumed first (before *every* reconciliation, retried on STALE_MEMBER_EPOCH
//!   with the latest epoch and positions), and completes in the background when the commit is
//!   answered. The partitions it keeps are fetched throughout — no stop-the-world;
//! - FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID: its partitions are lost at once (from the
//!   background thread) and it joins again at epoch 0 with the same member id; other errors are
//!   fatal;
//! - `close()` leaves with epoch -1 (-2 for a static member, which keeps its place for its
//!   session); the poll timer running out leaves the same way, its partitions lost at once, and
//!   it joins again at its next `poll()`;
//! - its OffsetFetch carries its member id and epoch; STALE_MEMBER_EPOCH is retried with the
//!   latest epoch, UNKNOWN_MEMBER_ID gives up (it is being fenced, and loses the partitions).

use super::*;
use crate::sim::kafka::consumer_group::{
    self as cg, HeartbeatRequest, HeartbeatResponse, LEAVE_EPOCH, STATIC_LEAVE_EPOCH,
};
use crate::sim::kafka::reconcile::Partitions;

/// The consumer-protocol client's own state.
#[derive(Clone, Debug)]
pub struct Modern {
    /// The interval the coordinator asks for.
    pub interval_ms: u64,
    /// A heartbeat is out (one at a time).
    pub in_flight: bool,
    /// The next heartbeat is a full one (after a join or a lost answer).
    pub full: bool,
    /// What it last told the coordinator it owns.
    pub sent_owned: Option<Partitions>,
    /// It has reconciled: acknowledge as soon as no heartbeat is out.
    pub ack: bool,
    /// When the next regular heartbeat is due.
    pub next_beat: SimTime,
    /// When the heartbeat out was sent: the interval runs from there (the heartbeat request
    /// manager restarts its timer when it sends).
    pub sent_at: SimTime,
    /// Heartbeats sent (a leave included) whose answer or failure has not come: they come
    /// back in the order they were sent, one connection to one broker.
    pub outstanding: u32,
    /// How many of those are older than its last leave: their answers are ignored (an answer
    /// belongs to the request that asked, and this member moved on since).
    pub ignore: u32,
    /// The assignment a reconciliation is taking, once the auto-commit it began with is
    /// answered (`reconciliationInProgress`); a newer target waits for the next one.
    pub reconciling: Option<Vec<Tp>>,
    /// When that reconciliation began: its commit is retried until the rebalance timeout.
    pub reconcile_started: SimTime,
    /// Tries of that commit so far (the backoff doubles with each).
    pub commit_tries: u32,
}

impl Default for Modern {
    fn default() -> Self {
        Modern {
            interval_ms: cg::HEARTBEAT_INTERVAL_MS,
            in_flight: false,
            full: true,
            sent_owned: None,
            ack: false,
            next_beat: SimTime::ZERO,
            sent_at: SimTime::ZERO,
            outstanding: 0,
            ignore: 0,
            reconciling: None,
            reconcile_started: SimTime::ZERO,
            commit_tries: 0,
        }
    }
}

impl Consumer {
    /// Whether it speaks the consumer protocol.
    pub fn is_modern(&self) -> bool {
        self.spec.group_protocol == GroupProtocol::Consumer
    }

    /// Its consumer-protocol state (see [`Process::modern_mut`]).
    fn cg(&mut self) -> &mut Modern {
        self.process.modern_mut()
    }

    fn cg_send(&mut self, ctx: &Ctx, request: cg::Request, out: &mut Out) {
        if matches!(request, cg::Request::Heartbeat(_)) {
            self.cg().outstanding += 1;
        }
        let from = self.client(ctx);
        out.effects.push(Effect::ToGroupCoordinator {
            group: self.spec.group.clone(),
            from,
            request: Box::new(request),
        });
    }

    /// What it owns, as a heartbeat names it.
    fn owned_partitions(&self, ctx: &Ctx) -> Partitions {
        if self.process.zombie {
            return Partitions::new(); // lost: a zombie's application may still be processing them
        }
        cg::partitions_of(&self.process.assignment, |tp| ctx.view.tp_name(tp))
    }

    /// Joins (or joins again): a full heartbeat at epoch 0, with the member id it made for
    /// itself.
    pub(super) fn cg_join(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.process.member_id.is_empty() {
            self.process.member_id = crate::sim::ids::new_member_uuid(ctx.rng);
        }
        self.process.generation = 0;
        self.process.joining = true;
        self.process.rejoin_needed = false;
        self.cg().full = true;
        let (consumer, group) = self.names();
        out.event(EventKind::JoinGroup { consumer, group, member_id: self.process.member_id.clone() });
        self.cg_heartbeat(ctx, out);
    }

    /// Sends a heartbeat now, unless one is out (then it goes when the answer comes).
    pub(super) fn cg_heartbeat(&mut self, ctx: &Ctx, out: &mut Out) {
        let m = self.cg();
        if m.in_flight {
            m.ack = true;
            return;
        }
        if self.process.coordinator_unknown {
            self.cg().full = true; // sent, in full, once the coordinator is found
            return;
        }
        let owned = self.owned_partitions(ctx);
        let epoch = self.process.generation;
        let m = self.cg();
        let full = m.full || epoch == 0;
        let report = full || m.sent_owned.as_ref() != Some(&owned);
        let topics = self.topics.iter().map(|t| ctx.view.topics[t.ix()].spec.name.to_string()).collect();
        let req = HeartbeatRequest {
            member_id: self.process.member_id.clone(),
            member_epoch: self.process.generation,
            instance_id: self.spec.group_instance_id.clone(),
            client_id: self.client_id.clone(),
            rebalance_timeout_ms: full.then_some(self.spec.max_poll_interval_ms),
            topics: full.then_some(topics),
            // group.remote.assignor, in every full request (Kafka sends it when it changed).
            assignor: self.spec.remote_assignor.filter(|_| full),
            owned: report.then(|| owned.clone()),
        };
        let m = self.cg();
        if report {
            m.sent_owned = Some(owned);
        }
        m.full = false;
        m.ack = false;
        m.in_flight = true;
        m.sent_at = ctx.now;
        self.cg_send(ctx, cg::Request::Heartbeat(Box::new(req)), out);
    }

    /// The heartbeat thread's turn: a regular heartbeat when one is due, or the poll timer.
    pub(super) fn cg_tick(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.poll_timer_expired(ctx.now) {
            self.poll_timeout(ctx, out);
            return;
        }
        let due = self.process.modern().is_some_and(|m| !m.in_flight && ctx.now >= m.next_beat);
        if self.process.generation > 0 && due {
            self.cg_heartbeat(ctx, out);
        }
        let deadline = self.process.last_poll.plus(self.spec.max_poll_interval_ms);
        if self.outside_poll() && self.process.generation >= 0 && deadline > ctx.now {
            out.effects.push(Effect::At { at: deadline, inc: self.inc, msg: Msg::PollTimerCheck });
        }
    }

    /// The coordinator's answer to a heartbeat.
    pub(super) fn on_cg_heartbeat(
        &mut self,
        ctx: &mut Ctx,
        result: Result<HeartbeatResponse, cg::GroupError>,
        out: &mut Out,
    ) {
        if !self.cg_answer_is_current() {
            return;
        }
        self.cg().in_flight = false;
        if self.process.generation < 0 {
            return; // it left meanwhile: old news
        }
        match result {
            Ok(r) => {
                if r.member_epoch < 0 {
                    return; // the answer to its leave
                }
                self.process.joining = false;
                self.process.generation = r.member_epoch;
                let m = self.cg();
                m.interval_ms = r.heartbeat_interval_ms.max(1);
                m.next_beat = m.sent_at.plus(m.interval_ms).max(ctx.now);
                let at = m.next_beat;
                out.effects.push(Effect::At { at, inc: self.inc, msg: Msg::HeartbeatTick });
                if let Some(a) = r.assignment {
                    let mut tps = cg::tps_of(&a, |t| ctx.view.topic_index(t));
                    sort::natural(&mut tps);
                    if self.cg_is_new_target(&tps) {
                        self.process.pending_assignment = Some(tps);
                        if self.spec.commit == CommitMode::Auto {
                            // Its next poll() starts the reconciliation (now, if blocked in one).
                            self.wake(ctx, out);
                        } else {
                            self.cg_reconcile(ctx, out);
                        }
                    }
                }
                if self.cg().ack {
                    self.cg_heartbeat(ctx, out);
                }
            }
            Err(cg::GroupError::FencedMemberEpoch | cg::GroupError::UnknownMemberId) => {
                // Fenced (`transitionToFenced`): its partitions are lost — given up now, or by a
                // zombie at its next poll — and the background thread joins again at once, with
                // the same member id (only a poll-timer expiry waits for poll()).
                self.cg_lose(ctx, out);
                self.cg_join(ctx, out);
                self.wake(ctx, out);
            }
            Err(e) => {
                let text = match e {
                    cg::GroupError::UnreleasedInstanceId => format!(
                        "UNRELEASED_INSTANCE_ID: another member still holds its group.instance.id {}",
                        quoted(self.spec.group_instance_id.as_deref().unwrap_or_default())
                    ),
                    cg::GroupError::FencedInstanceId => fenced_text(self),
                    cg::GroupError::MixedProtocols => mixed_text(&self.spec.group, "the classic protocol"),
                    cg::GroupError::GroupIdNotFound => format!(
                        "GROUP_ID_NOT_FOUND: group {} is not a consumer-protocol group now (it became classic, or is gone), and a heartbeat at epoch {} cannot make it one — only a join can",
                        quoted(&self.spec.group),
                        self.process.generation
                    ),
                    other => format!("{}: the group coordinator refused its heartbeat", other.code()),
                };
                self.fail_at_next_poll(ctx, text, out);
            }
        }
    }

    /// An answer (or a failure) to one of its heartbeats came back: whether it belongs to a
    /// request made since its last leave.
    fn cg_answer_is_current(&mut self) -> bool {
        let m = self.cg();
        m.outstanding = m.outstanding.saturating_sub(1);
        if m.ignore > 0 {
            m.ignore -= 1;
            return false;
        }
        true
    }

    /// A heartbeat failed on its way (see [`super::lookup`]): the next one is sent in full once
    /// the coordinator is found (`HeartbeatState.reset`).
    pub(super) fn cg_request_failed(&mut self) {
        if !self.cg_answer_is_current() {
            return;
        }
        let m = self.cg();
        m.in_flight = false;
        m.full = true;
    }

    /// Out of the group: what it owns is lost, at once (records of it in the application's
    /// hands are finished, not committed).
    fn cg_lose(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.process.generation = 0;
        self.process.joining = false;
        self.process.pending_assignment = None;
        let m = self.process.modern_mut();
        m.reconciling = None;
        m.sent_owned = None;
        m.ack = false;
        self.lose_partitions(ctx, out);
    }

    /// Whether `target` differs from what it will own once what is under way is done.
    fn cg_is_new_target(&self, target: &[Tp]) -> bool {
        let mut mine = self.process.assignment.clone();
        sort::natural(&mut mine);
        let upcoming = self
            .process
            .pending_assignment
            .as_ref()
            .or(self.process.modern().and_then(|m| m.reconciling.as_ref()))
            .unwrap_or(&mine);
        upcoming.as_slice() != target
    }

    /// Reconciles the newest target now, from the background thread: gives up what is no longer
    /// its (records of it still in the application's hands are finished, not committed), takes
    /// what is new, and acknowledges.
    fn cg_reconcile(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if let Some(new) = self.process.pending_assignment.take() {
            self.apply_assignment(ctx, new, out);
            self.cg_heartbeat(ctx, out); // acknowledge
        }
    }

    /// Its group work inside `poll()`: start reconciling a new assignment (with auto-commit, by
    /// committing what it consumed), or join again.
    pub(super) fn cg_poll(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.process.pending_assignment.is_some() && self.process.modern().is_some_and(|m| m.reconciling.is_none()) {
            if self.spec.commit == CommitMode::Auto && !self.process.positions.is_empty() {
                // `maybeAutoCommitSyncBeforeRevocation`, before every reconciliation.
                let target = self.process.pending_assignment.take();
                let m = self.process.modern_mut();
                m.reconciling = target;
                m.reconcile_started = ctx.now;
                m.commit_tries = 0;
                self.process.last_auto_commit = ctx.now;
                self.send_commit(ctx, CommitPurpose::BeforeJoin, out);
            } else {
                self.cg_reconcile(ctx, out);
            }
        }
        if self.process.rejoin_needed && !self.process.joining {
            self.cg_join(ctx, out);
        }
    }

    /// The answer to the commit a reconciliation began with: STALE_MEMBER_EPOCH is retried with
    /// the latest epoch and positions (after `retry.backoff.ms`, doubling) until the rebalance
    /// timeout; any other answer lets the reconciliation finish, in the background.
    pub(super) fn cg_reconcile_commit_answered(&mut self, ctx: &mut Ctx, stale: bool, out: &mut Out) {
        let epoch = self.process.generation;
        let m = self.process.modern_mut();
        let Some(target) = m.reconciling.take() else { return };
        let deadline = m.reconcile_started.plus(self.spec.max_poll_interval_ms);
        if stale && epoch > 0 && ctx.now < deadline {
            let backoff = (lookup::RETRY_BACKOFF_MS << m.commit_tries.min(4)).min(lookup::RETRY_BACKOFF_MAX_MS);
            m.commit_tries += 1;
            m.reconciling = Some(target);
            self.after(backoff, Msg::RetryCommit, out);
            return;
        }
        self.apply_assignment(ctx, target, out);
        self.cg_heartbeat(ctx, out); // acknowledge
    }

    /// Time to send the reconciliation's commit again.
    pub(super) fn cg_retry_commit(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.process.modern().is_some_and(|m| m.reconciling.is_some()) {
            self.send_commit(ctx, CommitPurpose::BeforeJoin, out);
        }
    }

    /// Leaves: epoch -1, or -2 for a static member that keeps its place for its session.
    pub(super) fn cg_leave(&mut self, ctx: &Ctx, reason: &str, out: &mut Out) {
        if self.process.member_id.is_empty() || self.process.generation < 0 {
            return;
        }
        // Answers to what it sent before leaving are old news.
        let m = self.cg();
        m.ignore = m.outstanding;
        if self.process.coordinator_unknown {
            // No coordinator to tell: its session runs out there.
            self.process.generation = -1;
            self.cg().in_flight = false;
            return;
        }
        let static_member = self.spec.group_instance_id.is_some();
        let (consumer, group) = self.names();
        out.event(EventKind::LeaveGroup {
            consumer,
            group,
            member_id: self.process.member_id.clone(),
            reason: reason.into(),
        });
        let req = HeartbeatRequest {
            member_id: self.process.member_id.clone(),
            member_epoch: if static_member { STATIC_LEAVE_EPOCH } else { LEAVE_EPOCH },
            instance_id: self.spec.group_instance_id.clone(),
            client_id: self.client_id.clone(),
            rebalance_timeout_ms: None,
            topics: None,
            assignor: None,
            owned: None,
        };
        self.process.generation = -1;
        self.cg().in_flight = false;
        self.cg_send(ctx, cg::Request::Heartbeat(Box::new(req)), out);
        // Its own answer is old news too.
        self.cg().ignore += 1;
    }

    /// The poll timer ran out: it leaves, its partitions are lost, and it joins again at its
    /// next poll.
    pub(super) fn cg_poll_timeout(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.cg_leave(ctx, "max.poll.interval.ms exceeded", out);
        self.cg_lose(ctx, out);
        self.process.generation = -1;
        self.process.rejoin_needed = true;
    }

    pub(super) fn cg_commit(&mut self, ctx: &Ctx, offsets: Vec<(Tp, u64)>, purpose: CommitPurpose, out: &mut Out) {
        let request = cg::Request::OffsetCommit {
            member_id: self.process.member_id.clone(),
            member_epoch: self.process.generation,
            offsets,
            purpose,
        };
        self.cg_send(ctx, request, out);
    }

    pub(super) fn cg_offset_fetch(&mut self, ctx: &Ctx, partitions: Vec<Tp>, out: &mut Out) {
        let request = cg::Request::OffsetFetch {
            member_id: self.process.member_id.clone(),
            member_epoch: self.process.generation,
            partitions,
        };
        self.cg_send(ctx, request, out);
    }

    /// Its OffsetFetch was refused: STALE_MEMBER_EPOCH is asked again after `retry.backoff.ms`
    /// with the epoch it has then; UNKNOWN_MEMBER_ID is not (it is out of the group, and its
    /// heartbeat finds out).
    pub(super) fn cg_offset_fetch_failed(
        &mut self,
        ctx: &mut Ctx,
        partitions: Vec<Tp>,
        error: cg::GroupError,
        out: &mut Out,
    ) {
        let (consumer, group) = self.names();
        let (labels, code) = (ctx.view.labels(&partitions), error.code());
        out.event(EventKind::OffsetFetchFailed { consumer, group, partitions: labels, error: code.to_string() });
        if error == cg::GroupError::StaleMemberEpoch && self.process.generation > 0 {
            self.after(lookup::RETRY_BACKOFF_MS, Msg::RetryOffsetFetch, out);
        } else {
            for tp in &partitions {
                self.process.awaiting_offsets.remove(tp);
            }
        }
    }

    /// Time to ask again for the committed offsets it still waits for.
    pub(super) fn cg_retry_offset_fetch(&mut self, ctx: &Ctx, out: &mut Out) {
        let tps: Vec<Tp> =
            self.process.awaiting_offsets.iter().filter(|tp| self.process.assignment.contains(tp)).copied().collect();
        if !tps.is_empty() && !self.process.coordinator_unknown {
            self.send_offset_fetch(ctx, tps, out);
        }
    }
}
