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

    fn cg_send(&mut self, ctx: &Ctx, request: cg::Request, out: &mut Out) {
        if matches!(request, cg::Request::Heartbeat(_)) {
            self.modern.outstanding += 1;
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
        if self.zombie {
            return Partitions::new(); // lost: a zombie's application may still be processing them
        }
        cg::partitions_of(&self.assignment, |tp| ctx.view.tp_name(tp))
    }

    /// Joins (or joins again): a full heartbeat at epoch 0, with the member id it made for
    /// itself.
    pub(super) fn cg_join(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.member_id.is_empty() {
            self.member_id = crate::sim::ids::new_member_uuid(ctx.rng);
        }
        self.generation = 0;
        self.joining = true;
        self.rejoin_needed = false;
        self.modern.full = true;
        let (consumer, group) = self.names();
        out.event(EventKind::JoinGroup { consumer, group, member_id: self.member_id.clone() });
        self.cg_heartbeat(ctx, out);
    }

    /// Sends a heartbeat now, unless one is out (then it goes when the answer comes).
    pub(super) fn cg_heartbeat(&mut self, ctx: &Ctx, out: &mut Out) {
        if self.modern.in_flight {
            self.modern.ack = true;
            return;
        }
        if self.coordinator_unknown {
            self.modern.full = true; // sent, in full, once the coordinator is found
            return;
        }
        let owned = self.owned_partitions(ctx);
        let full = self.modern.full || self.generation == 0;
        let report = full || self.modern.sent_owned.as_ref() != Some(&owned);
        let topics = self.topics.iter().map(|t| ctx.view.topics[*t as usize].spec.name.to_string()).collect();
        let req = HeartbeatRequest {
            member_id: self.member_id.clone(),
            member_epoch: self.generation,
            instance_id: self.spec.group_instance_id.clone(),
            client_id: self.client_id.clone(),
            rebalance_timeout_ms: full.then_some(self.spec.max_poll_interval_ms),
            topics: full.then_some(topics),
            // group.remote.assignor, in every full request (Kafka sends it when it changed).
            assignor: self.spec.remote_assignor.filter(|_| full),
            owned: report.then(|| owned.clone()),
        };
        if report {
            self.modern.sent_owned = Some(owned);
        }
        self.modern.full = false;
        self.modern.ack = false;
        self.modern.in_flight = true;
        self.modern.sent_at = ctx.now;
        self.cg_send(ctx, cg::Request::Heartbeat(Box::new(req)), out);
    }

    /// The heartbeat thread's turn: a regular heartbeat when one is due, or the poll timer.
    pub(super) fn cg_tick(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.poll_timer_expired(ctx.now) {
            self.poll_timeout(ctx, out);
            return;
        }
        if self.generation > 0 && !self.modern.in_flight && ctx.now >= self.modern.next_beat {
            self.cg_heartbeat(ctx, out);
        }
        let deadline = self.last_poll.plus(self.spec.max_poll_interval_ms);
        if self.outside_poll() && self.generation >= 0 && deadline > ctx.now {
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
        self.modern.in_flight = false;
        if self.generation < 0 {
            return; // it left meanwhile: old news
        }
        match result {
            Ok(r) => {
                if r.member_epoch < 0 {
                    return; // the answer to its leave
                }
                self.joining = false;
                self.generation = r.member_epoch;
                self.modern.interval_ms = r.heartbeat_interval_ms.max(1);
                self.modern.next_beat = self.modern.sent_at.plus(self.modern.interval_ms).max(ctx.now);
                out.effects.push(Effect::At { at: self.modern.next_beat, inc: self.inc, msg: Msg::HeartbeatTick });
                if let Some(a) = r.assignment {
                    let mut tps = cg::tps_of(&a, |t| ctx.view.topic_index(t));
                    sort::natural(&mut tps);
                    if self.cg_is_new_target(&tps) {
                        self.pending_assignment = Some(tps);
                        if self.spec.commit == CommitMode::Auto {
                            // Its next poll() starts the reconciliation (now, if blocked in one).
                            self.wake(ctx, out);
                        } else {
                            self.cg_reconcile(ctx, out);
                        }
                    }
                }
                if self.modern.ack {
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
                        self.generation
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
        self.modern.outstanding = self.modern.outstanding.saturating_sub(1);
        if self.modern.ignore > 0 {
            self.modern.ignore -= 1;
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
        self.modern.in_flight = false;
        self.modern.full = true;
    }

    /// Out of the group: what it owns is lost, at once (records of it in the application's
    /// hands are finished, not committed).
    fn cg_lose(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.generation = 0;
        self.joining = false;
        self.pending_assignment = None;
        self.modern.reconciling = None;
        self.modern.sent_owned = None;
        self.modern.ack = false;
        self.lose_partitions(ctx, out);
    }

    /// Whether `target` differs from what it will own once what is under way is done.
    fn cg_is_new_target(&self, target: &[Tp]) -> bool {
        let mut mine = self.assignment.clone();
        sort::natural(&mut mine);
        let upcoming = self.pending_assignment.as_ref().or(self.modern.reconciling.as_ref()).unwrap_or(&mine);
        upcoming.as_slice() != target
    }

    /// Reconciles the newest target now, from the background thread: gives up what is no longer
    /// its (records of it still in the application's hands are finished, not committed), takes
    /// what is new, and acknowledges.
    fn cg_reconcile(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if let Some(new) = self.pending_assignment.take() {
            self.apply_assignment(ctx, new, out);
            self.cg_heartbeat(ctx, out); // acknowledge
        }
    }

    /// Its group work inside `poll()`: start reconciling a new assignment (with auto-commit, by
    /// committing what it consumed), or join again.
    pub(super) fn cg_poll(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.pending_assignment.is_some() && self.modern.reconciling.is_none() {
            if self.spec.commit == CommitMode::Auto && !self.positions.is_empty() {
                // `maybeAutoCommitSyncBeforeRevocation`, before every reconciliation.
                self.modern.reconciling = self.pending_assignment.take();
                self.modern.reconcile_started = ctx.now;
                self.modern.commit_tries = 0;
                self.last_auto_commit = ctx.now;
                self.send_commit(ctx, CommitPurpose::BeforeJoin, out);
            } else {
                self.cg_reconcile(ctx, out);
            }
        }
        if self.rejoin_needed && !self.joining {
            self.cg_join(ctx, out);
        }
    }

    /// The answer to the commit a reconciliation began with: STALE_MEMBER_EPOCH is retried with
    /// the latest epoch and positions (after `retry.backoff.ms`, doubling) until the rebalance
    /// timeout; any other answer lets the reconciliation finish, in the background.
    pub(super) fn cg_reconcile_commit_answered(&mut self, ctx: &mut Ctx, stale: bool, out: &mut Out) {
        let Some(target) = self.modern.reconciling.as_ref() else { return };
        let deadline = self.modern.reconcile_started.plus(self.spec.max_poll_interval_ms);
        if stale && self.generation > 0 && ctx.now < deadline {
            let backoff =
                (lookup::RETRY_BACKOFF_MS << self.modern.commit_tries.min(4)).min(lookup::RETRY_BACKOFF_MAX_MS);
            self.modern.commit_tries += 1;
            self.after(backoff, Msg::RetryCommit, out);
            return;
        }
        let target = target.clone();
        self.modern.reconciling = None;
        self.apply_assignment(ctx, target, out);
        self.cg_heartbeat(ctx, out); // acknowledge
    }

    /// Time to send the reconciliation's commit again.
    pub(super) fn cg_retry_commit(&mut self, ctx: &mut Ctx, out: &mut Out) {
        if self.modern.reconciling.is_some() {
            self.send_commit(ctx, CommitPurpose::BeforeJoin, out);
        }
    }

    /// Leaves: epoch -1, or -2 for a static member that keeps its place for its session.
    pub(super) fn cg_leave(&mut self, ctx: &Ctx, reason: &str, out: &mut Out) {
        if self.member_id.is_empty() || self.generation < 0 {
            return;
        }
        // Answers to what it sent before leaving are old news.
        self.modern.ignore = self.modern.outstanding;
        if self.coordinator_unknown {
            // No coordinator to tell: its session runs out there.
            self.generation = -1;
            self.modern.in_flight = false;
            return;
        }
        let static_member = self.spec.group_instance_id.is_some();
        let (consumer, group) = self.names();
        out.event(EventKind::LeaveGroup { consumer, group, member_id: self.member_id.clone(), reason: reason.into() });
        let req = HeartbeatRequest {
            member_id: self.member_id.clone(),
            member_epoch: if static_member { STATIC_LEAVE_EPOCH } else { LEAVE_EPOCH },
            instance_id: self.spec.group_instance_id.clone(),
            client_id: self.client_id.clone(),
            rebalance_timeout_ms: None,
            topics: None,
            assignor: None,
            owned: None,
        };
        self.generation = -1;
        self.modern.in_flight = false;
        self.cg_send(ctx, cg::Request::Heartbeat(Box::new(req)), out);
        // Its own answer is old news too.
        self.modern.ignore += 1;
    }

    /// The poll timer ran out: it leaves, its partitions are lost, and it joins again at its
    /// next poll.
    pub(super) fn cg_poll_timeout(&mut self, ctx: &mut Ctx, out: &mut Out) {
        self.cg_leave(ctx, "max.poll.interval.ms exceeded", out);
        self.cg_lose(ctx, out);
        self.generation = -1;
        self.rejoin_needed = true;
    }

    pub(super) fn cg_commit(&mut self, ctx: &Ctx, offsets: Vec<(Tp, u64)>, purpose: CommitPurpose, out: &mut Out) {
        let request = cg::Request::OffsetCommit {
            member_id: self.member_id.clone(),
            member_epoch: self.generation,
            offsets,
            purpose,
        };
        self.cg_send(ctx, request, out);
    }

    pub(super) fn cg_offset_fetch(&mut self, ctx: &Ctx, partitions: Vec<Tp>, out: &mut Out) {
        let request =
            cg::Request::OffsetFetch { member_id: self.member_id.clone(), member_epoch: self.generation, partitions };
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
        if error == cg::GroupError::StaleMemberEpoch && self.generation > 0 {
            self.after(lookup::RETRY_BACKOFF_MS, Msg::RetryOffsetFetch, out);
        } else {
            for tp in &partitions {
                self.awaiting_offsets.remove(tp);
            }
        }
    }

    /// Time to ask again for the committed offsets it still waits for.
    pub(super) fn cg_retry_offset_fetch(&mut self, ctx: &Ctx, out: &mut Out) {
        let tps: Vec<Tp> = self.awaiting_offsets.iter().filter(|tp| self.assignment.contains(tp)).copied().collect();
        if !tps.is_empty() && !self.coordinator_unknown {
            self.send_offset_fetch(ctx, tps, out);
        }
    }
}
