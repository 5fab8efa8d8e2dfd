//! The consumer client: its poll loop (fetch, process, commit), its group membership (JoinGroup,
//! SyncGroup, heartbeats from a background thread, eager or cooperative rebalancing) and what a
//! crash, a clean close or a `max.poll.interval.ms` overrun does.

use std::collections::BTreeSet;

use super::assign::{self, AssignInput};
use super::config::{CommitMode, ConsumerSpec, OffsetReset};
use super::coordinator::{Client, GroupError, JoinRequest, JoinResponse, MemberRef, Request};
use super::engine::{Action, Consumer, ConsumerStatus, Phase, Sim, Tp};
use super::event::{EventKind, OffsetRange, PartitionOffset};
use super::ids::ConsumerId;
use super::sort;
use super::text::quoted;
use super::time::SimTime;

impl Sim {
    pub(crate) fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<u32, String> {
        spec.validate()?;
        if self.consumers.len() >= super::config::limits::MAX_CLIENTS {
            return Err("too many consumers".into());
        }
        if self.consumer_index(&spec.name).is_some() {
            return Err(format!("a consumer named {} already exists", quoted(&spec.name)));
        }
        let topics = self.resolve_topics(&spec.topics)?;
        let client_id = self.next_client_id(&spec.group);
        let running = spec.running;
        let index = self.consumers.len() as u32;
        self.consumers.push(Consumer::new(spec, topics, client_id));
        if running {
            self.push(self.now, Action::LaunchConsumer { consumer: index });
        }
        Ok(index)
    }

    fn resolve_topics(&self, names: &[String]) -> Result<Vec<u32>, String> {
        let mut topics = Vec::new();
        for name in names {
            let t = self.topic_index(name).ok_or(format!("no topic named {}", quoted(name)))?;
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
        sort::by(&mut topics, |a, b| self.topics[*a as usize].spec.name.cmp(&self.topics[*b as usize].spec.name));
        Ok(topics)
    }

    /// `client.id` as Kafka's consumer makes it: `consumer-{group}-{n}`.
    fn next_client_id(&mut self, group: &str) -> String {
        let n = self.client_counters.entry(group.to_string()).or_insert(0);
        *n += 1;
        format!("consumer-{group}-{n}")
    }

    pub(crate) fn is_live(&self, c: u32, inc: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.status == ConsumerStatus::Running && con.inc == inc
    }

    pub(crate) fn fetch_is_live(&self, c: u32, inc: u32, fetch_id: u64) -> bool {
        self.is_live(c, inc) && self.consumers[c as usize].fetch_id == fetch_id
    }

    pub(crate) fn tp_label(&self, tp: Tp) -> String {
        let (t, p) = self.tp_name(tp);
        format!("{t}-{p}")
    }

    fn labels(&self, tps: &[Tp]) -> Vec<String> {
        tps.iter().map(|tp| self.tp_label(*tp)).collect()
    }

    /// Who this consumer process is, to a coordinator.
    fn client(&self, c: u32) -> Client {
        let con = &self.consumers[c as usize];
        Client { consumer: ConsumerId(c), inc: con.inc, name: con.spec.name.clone() }
    }

    /// Sends a request to the coordinator of `group`.
    fn send_to_coordinator(&mut self, c: u32, group: String, request: Request) {
        let from = self.client(c);
        self.after(self.latency(), Action::ToCoordinator { group, from, request });
    }

    fn member_ref(&self, c: u32) -> MemberRef {
        let con = &self.consumers[c as usize];
        MemberRef {
            member_id: con.member_id.clone(),
            instance_id: con.spec.group_instance_id.clone(),
            generation: con.generation,
        }
    }

    fn names(&self, c: u32) -> (String, String) {
        let con = &self.consumers[c as usize];
        (con.spec.name.clone(), con.spec.group.clone())
    }

    // ----- life cycle -------------------------------------------------------------------------

    pub(crate) fn start_consumer(&mut self, c: u32) {
        let now = self.now;
        let con = &mut self.consumers[c as usize];
        if let Some(spec) = con.pending_spec.take() {
            // Keep what can change at run time; take the new constructor-time settings.
            con.spec = ConsumerSpec {
                group: con.spec.group.clone(),
                commit: con.spec.commit,
                processing_ms: con.spec.processing_ms,
                priority: con.spec.priority,
                ..spec
            };
        }
        con.inc += 1;
        con.status = ConsumerStatus::Running;
        con.failure = None;
        con.reset_membership();
        con.last_poll = now;
        con.last_auto_commit = now;
        let name = con.spec.name.clone();
        self.emit(EventKind::Started { consumer: name });
        self.send_join(c);
    }

    pub(crate) fn crash_consumer(&mut self, c: u32) {
        let now = self.now;
        let con = &self.consumers[c as usize];
        let mut lost_in_flight = 0;
        if con.phase == Phase::Processing && !con.in_flight.is_empty() {
            let total = con.in_flight_records();
            let per = con.spec.processing_ms;
            let done = now.since(con.processing_started).checked_div(per).map_or(0, |d| d.min(total));
            self.credit_processed(c, done);
            lost_in_flight = total - done;
        } else if con.phase == Phase::CommittingBeforeProcessing {
            lost_in_flight = con.in_flight_records();
        }
        let con = &mut self.consumers[c as usize];
        con.status = ConsumerStatus::Crashed;
        con.inc += 1;
        con.reset_membership();
        let consumer = con.spec.name.clone();
        self.emit(EventKind::Crashed { consumer, lost_in_flight });
        // A move or restart it was finishing does not happen now; a new group.id is used when it
        // starts.
        self.consumers[c as usize].restart = false;
        if let Some(group) = self.consumers[c as usize].moving_to.take() {
            self.set_group(c, &group);
        }
    }

    pub(crate) fn request_stop(&mut self, c: u32) {
        let con = &mut self.consumers[c as usize];
        con.stopping = true;
        // A consumer blocked in poll() is woken up and closes now; one busy processing or
        // committing finishes that first, as an application's poll loop would.
        if matches!(con.phase, Phase::Fetching | Phase::Idle | Phase::Joining) {
            self.close(c);
        }
    }

    /// `consumer.close()`: commit if auto-commit is on, leave the group (dynamic members only).
    /// A consumer that is moving takes its new `group.id`; one moving or asked to start again
    /// starts.
    pub(crate) fn close(&mut self, c: u32) {
        let con = &self.consumers[c as usize];
        if con.spec.commit == CommitMode::Auto && !con.positions.is_empty() {
            self.send_commit(c, false);
        }
        self.leave_group(c, "consumer closed");
        let con = &mut self.consumers[c as usize];
        con.status = ConsumerStatus::Stopped;
        con.inc += 1;
        con.reset_membership();
        let consumer = con.spec.name.clone();
        self.emit(EventKind::Stopped { consumer });
        if let Some(group) = self.consumers[c as usize].moving_to.take() {
            self.set_group(c, &group);
        }
        if std::mem::take(&mut self.consumers[c as usize].restart) {
            self.start_consumer(c);
        }
    }

    /// Sends LeaveGroup for a dynamic member; a static member's session simply runs out.
    fn leave_group(&mut self, c: u32, reason: &str) {
        let con = &self.consumers[c as usize];
        if con.member_id.is_empty() || con.spec.group_instance_id.is_some() {
            return;
        }
        let (consumer, group) = self.names(c);
        let member_id = con.member_id.clone();
        self.emit(EventKind::LeaveGroup {
            consumer,
            group: group.clone(),
            member_id: member_id.clone(),
            reason: reason.into(),
        });
        self.send_to_coordinator(c, group, Request::Leave { member_id });
    }

    /// Moves a consumer to another group, as restarting its process with another `group.id`
    /// does: a running consumer finishes the batch in hand (commit included) and closes —
    /// committing for its old group, to that group's coordinator, and leaving it — then starts
    /// in the new group. A consumer that is not running just takes the new `group.id`.
    pub(crate) fn move_consumer(&mut self, c: u32, group: &str) {
        if self.consumers[c as usize].status != ConsumerStatus::Running {
            self.set_group(c, group);
            return;
        }
        let con = &mut self.consumers[c as usize];
        con.moving_to = Some(group.to_string());
        con.restart = true;
        if !con.stopping {
            self.request_stop(c);
        }
    }

    fn set_group(&mut self, c: u32, group: &str) {
        if self.consumers[c as usize].spec.group == group {
            return;
        }
        let client_id = self.next_client_id(group);
        let con = &mut self.consumers[c as usize];
        con.spec.group = group.to_string();
        con.client_id = client_id;
    }

    // ----- group membership -------------------------------------------------------------------

    fn send_join(&mut self, c: u32) {
        let con = &mut self.consumers[c as usize];
        con.joining = true;
        con.rejoin_needed = false;
        let cooperative = con.spec.assignor.is_cooperative();
        // Cooperative members report what they own now; eager sticky ones what they owned last.
        let (owned, owned_generation) = if cooperative {
            (con.assignment.clone(), con.generation)
        } else {
            (con.last_assignment.clone(), con.last_generation)
        };
        let req = JoinRequest {
            group: con.spec.group.clone(),
            member_id: con.member_id.clone(),
            client_id: con.client_id.clone(),
            instance_id: con.spec.group_instance_id.clone(),
            topics: con.topics.iter().map(|t| self.topics[*t as usize].spec.name.clone()).collect(),
            strategy: con.spec.assignor,
            owned,
            owned_generation,
            session_timeout_ms: con.spec.session_timeout_ms,
            rebalance_timeout_ms: con.spec.max_poll_interval_ms,
        };
        if !cooperative {
            con.phase = Phase::Joining;
        }
        let (consumer, group) = self.names(c);
        let member_id = req.member_id.clone();
        self.emit(EventKind::JoinGroup { consumer, group: group.clone(), member_id });
        self.send_to_coordinator(c, group, Request::Join(Box::new(req)));
    }

    pub(crate) fn join_response(&mut self, c: u32, inc: u32, response: JoinResponse) {
        if !self.is_live(c, inc) {
            return;
        }
        let (consumer, group) = self.names(c);
        match response {
            JoinResponse::UnknownMemberId => {
                self.consumers[c as usize].member_id.clear();
                self.send_join(c);
            }
            JoinResponse::InconsistentGroupProtocol => {
                self.fail(c, "INCONSISTENT_GROUP_PROTOCOL: its assignor differs from the group's".into());
            }
            JoinResponse::FencedInstanceId => self.fail(c, fenced_text(&self.consumers[c as usize])),
            JoinResponse::Ok { generation, member_id, leader, strategy, members } => {
                let con = &mut self.consumers[c as usize];
                con.member_id = member_id.clone();
                con.generation = generation;
                let start_heartbeats = !con.heartbeating;
                con.heartbeating = true;
                let hb = con.spec.heartbeat_interval_ms;
                self.emit(EventKind::Joined {
                    consumer: consumer.clone(),
                    group: group.clone(),
                    member_id: member_id.clone(),
                    generation,
                    leader,
                });
                if start_heartbeats {
                    self.after(hb, Action::HeartbeatTick { consumer: c, inc });
                }
                self.consumers[c as usize].syncing = Some(generation);
                let assignments = leader.then(|| self.compute_assignment(c, &group, generation, strategy, members));
                self.emit(EventKind::SyncGroup { consumer, group: group.clone(), generation });
                let member = self.member_ref(c);
                self.send_to_coordinator(c, group, Request::Sync { member, assignments });
            }
        }
    }

    /// The leader runs the group's assignor over every member's subscription.
    fn compute_assignment(
        &mut self,
        c: u32,
        group: &str,
        generation: i32,
        strategy: super::config::Strategy,
        members: Vec<(String, assign::Subscription)>,
    ) -> Vec<(String, Vec<Tp>)> {
        let topics = self
            .topics
            .iter()
            .filter(|t| members.iter().any(|(_, s)| s.topics.contains(&t.spec.name)))
            .map(|t| (t.spec.name.clone(), t.spec.partitions))
            .collect();
        let result = assign::assign(strategy, &AssignInput { topics, members });
        let by_member: Vec<(String, Vec<Tp>)> = result
            .iter()
            .map(|(id, tps)| {
                let mut v: Vec<Tp> = tps
                    .iter()
                    .filter_map(|(t, p)| self.topic_index(t).map(|topic| Tp { topic, partition: *p }))
                    .collect();
                sort::natural(&mut v);
                (id.clone(), v)
            })
            .collect();
        let consumer = self.consumers[c as usize].spec.name.clone();
        let shown = by_member.iter().map(|(id, tps)| (id.clone(), self.labels(tps))).collect();
        self.emit(EventKind::AssignmentComputed {
            consumer,
            group: group.to_string(),
            generation,
            strategy: strategy.protocol_name().to_string(),
            assignment: shown,
        });
        by_member
    }

    pub(crate) fn sync_response(&mut self, c: u32, inc: u32, generation: i32, result: Result<Vec<Tp>, GroupError>) {
        if !self.is_live(c, inc) || self.consumers[c as usize].syncing != Some(generation) {
            return; // it gave this SyncGroup up (its heartbeat learned it was out of the group)
        }
        let con = &mut self.consumers[c as usize];
        con.joining = false;
        con.syncing = None;
        match result {
            Err(GroupError::FencedInstanceId) => {
                let text = fenced_text(con);
                self.fail_at_next_poll(c, text);
            }
            Err(GroupError::UnknownMemberId) => {
                con.member_id.clear();
                self.send_join(c);
            }
            Err(_) => self.send_join(c),
            Ok(assignment) => {
                con.pending_assignment = Some(assignment);
                // An eager member waits inside poll() for this; a cooperative one takes it at its
                // next poll, or now if it is blocked in one.
                if matches!(con.phase, Phase::Joining | Phase::Idle | Phase::Fetching) {
                    self.wake(c);
                }
            }
        }
    }

    /// Applies a new assignment: revoke what went, fetch committed offsets for what came.
    fn apply_assignment(&mut self, c: u32) {
        let Some(new) = self.consumers[c as usize].pending_assignment.take() else { return };
        let con = &self.consumers[c as usize];
        let old = con.assignment.clone();
        let revoked: Vec<Tp> = old.iter().filter(|tp| !new.contains(tp)).copied().collect();
        let added: Vec<Tp> = new.iter().filter(|tp| !old.contains(tp)).copied().collect();
        if !revoked.is_empty() {
            self.revoke(c, &revoked, false);
        }
        let now = self.now;
        let con = &mut self.consumers[c as usize];
        if !added.is_empty() || !revoked.is_empty() {
            con.last_change = Some((now, added.clone(), revoked.clone()));
        }
        con.assignment = new.clone();
        con.assignment_generation = con.generation;
        con.last_assignment = new.clone();
        con.last_generation = con.generation;
        let cooperative = con.spec.assignor.is_cooperative();
        let generation = con.generation;
        let (consumer, group) = self.names(c);
        let (assigned, added_l, revoked_l) = (self.labels(&new), self.labels(&added), self.labels(&revoked));
        self.emit(EventKind::Assigned { consumer, group, generation, assigned, added: added_l, revoked: revoked_l });
        if cooperative && !revoked.is_empty() {
            // KIP-429: having given partitions up, rejoin so they can go to their new owners.
            self.consumers[c as usize].rejoin_needed = true;
        }
        if !added.is_empty() {
            self.send_offset_fetch(c, added);
        }
    }

    /// Gives partitions up (`onPartitionsRevoked`, or `onPartitionsLost` when `lost`).
    fn revoke(&mut self, c: u32, tps: &[Tp], lost: bool) {
        let con = &self.consumers[c as usize];
        if !lost && con.spec.commit == CommitMode::Auto && tps.iter().any(|tp| con.positions.contains_key(tp)) {
            // With auto-commit the consumer commits before giving partitions up.
            self.send_commit(c, false);
        }
        let now = self.now;
        let con = &mut self.consumers[c as usize];
        con.assignment.retain(|tp| !tps.contains(tp));
        con.last_change = Some((now, Vec::new(), tps.to_vec()));
        for tp in tps {
            con.positions.remove(tp);
            con.awaiting_offsets.remove(tp);
        }
        let (consumer, group) = self.names(c);
        let partitions = self.labels(tps);
        self.emit(EventKind::Revoked { consumer, group, partitions, lost });
    }

    pub(crate) fn heartbeat_tick(&mut self, c: u32, inc: u32) {
        if !self.is_live(c, inc) {
            return;
        }
        let now = self.now;
        let con = &self.consumers[c as usize];
        let hb = con.spec.heartbeat_interval_ms;
        if self.poll_timer_expired(c) {
            self.poll_timeout(c);
        } else if !con.member_id.is_empty() && (!con.joining || con.syncing.is_some()) {
            // The heartbeat thread runs from the JoinGroup answer on, through SyncGroup.
            let (group, member) = (con.spec.group.clone(), self.member_ref(c));
            self.send_to_coordinator(c, group, Request::Heartbeat { member });
        }
        // Between heartbeats the thread also wakes when the poll timer runs out.
        let con = &self.consumers[c as usize];
        let deadline = con.last_poll.plus(con.spec.max_poll_interval_ms);
        if con.outside_poll() && !con.member_id.is_empty() && deadline > now && deadline < now.plus(hb) {
            self.push(deadline, Action::PollTimerCheck { consumer: c, inc });
        }
        self.after(hb, Action::HeartbeatTick { consumer: c, inc });
    }

    /// `max.poll.interval.ms` has passed since the application last called poll(), and it is
    /// still away (processing, or committing after processing), as a member.
    fn poll_timer_expired(&self, c: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.outside_poll() && !con.member_id.is_empty() && self.now >= con.last_poll.plus(con.spec.max_poll_interval_ms)
    }

    pub(crate) fn poll_timer_check(&mut self, c: u32, inc: u32) {
        if self.is_live(c, inc) && self.poll_timer_expired(c) {
            self.poll_timeout(c);
        }
    }

    /// The heartbeat thread finds the poll timer expired: the consumer leaves the group.
    fn poll_timeout(&mut self, c: u32) {
        let con = &self.consumers[c as usize];
        let max_poll_interval_ms = con.spec.max_poll_interval_ms;
        let (consumer, group) = self.names(c);
        self.emit(EventKind::PollTimeout { consumer, group, max_poll_interval_ms });
        self.leave_group(c, "max.poll.interval.ms exceeded");
        self.lose_membership(c);
    }

    /// The member is out of the group (removed, fenced or timed out): its partitions are lost.
    /// Its application learns at its next poll(); if it is away from poll() now, holding
    /// partitions, it is a zombie until then.
    fn lose_membership(&mut self, c: u32) {
        let con = &mut self.consumers[c as usize];
        con.member_id.clear();
        con.generation = -1;
        con.rejoin_needed = true;
        con.pending_assignment = None;
        let owned = con.assignment.clone();
        if owned.is_empty() {
            return;
        }
        if con.outside_poll() {
            con.zombie = true;
            let (consumer, group) = self.names(c);
            let partitions = self.labels(&owned);
            self.emit(EventKind::Zombie { consumer, group, partitions });
        } else {
            self.revoke(c, &owned, true);
        }
    }

    pub(crate) fn heartbeat_response(&mut self, c: u32, inc: u32, generation: i32, result: Result<(), GroupError>) {
        let con = &self.consumers[c as usize];
        // Answers to heartbeats of an earlier generation, or while a JoinGroup is out, are old news.
        if !self.is_live(c, inc) || con.generation != generation || (con.joining && con.syncing.is_none()) {
            return;
        }
        match result {
            Ok(()) => {}
            // Waiting for SyncGroup, the rebalance is already under way: its answer will say.
            Err(GroupError::RebalanceInProgress) if con.syncing.is_some() => {}
            Err(GroupError::RebalanceInProgress) => {
                self.consumers[c as usize].rejoin_needed = true;
                self.wake(c);
            }
            Err(
                error @ (GroupError::UnknownMemberId | GroupError::IllegalGeneration | GroupError::FencedInstanceId),
            ) => {
                let con = &mut self.consumers[c as usize];
                if con.syncing.take().is_some() {
                    con.joining = false; // its SyncGroup is given up
                }
                if error == GroupError::FencedInstanceId {
                    let text = fenced_text(con);
                    self.fail_at_next_poll(c, text);
                    return;
                }
                self.lose_membership(c);
                self.wake(c);
            }
        }
    }

    /// A fatal group error (Kafka throws it from poll()): the consumer stops, without a commit or
    /// LeaveGroup.
    fn fail(&mut self, c: u32, error: String) {
        let (consumer, group) = self.names(c);
        self.emit(EventKind::JoinFailed { consumer, group, error: error.clone() });
        let con = &mut self.consumers[c as usize];
        con.failure = Some(error);
        con.status = ConsumerStatus::Stopped;
        con.inc += 1;
        con.reset_membership();
        con.restart = false;
        if let Some(group) = con.moving_to.take() {
            self.set_group(c, &group);
        }
    }

    /// A fatal group error learned by the heartbeat thread: it is out of the group at once (a
    /// zombie if it is processing) and fails when the application next calls poll().
    fn fail_at_next_poll(&mut self, c: u32, error: String) {
        self.lose_membership(c);
        let con = &mut self.consumers[c as usize];
        if con.outside_poll() {
            con.fatal = Some(error);
        } else {
            self.fail(c, error);
        }
    }

    /// Interrupts a consumer blocked in poll() so it handles group news now.
    fn wake(&mut self, c: u32) {
        let con = &mut self.consumers[c as usize];
        if matches!(con.phase, Phase::Fetching | Phase::Idle | Phase::Joining) {
            con.parked = false;
            con.fetch_id += 1; // the outstanding fetch is abandoned
            self.poll(c);
        }
    }

    // ----- offsets --------------------------------------------------------------------------

    fn send_offset_fetch(&mut self, c: u32, tps: Vec<Tp>) {
        let con = &mut self.consumers[c as usize];
        con.awaiting_offsets.extend(tps.iter().copied());
        let (consumer, group) = self.names(c);
        let partitions = self.labels(&tps);
        self.emit(EventKind::OffsetFetch { consumer, group: group.clone(), partitions });
        self.send_to_coordinator(c, group, Request::OffsetFetch { partitions: tps });
    }

    pub(crate) fn offset_fetch_response(&mut self, c: u32, inc: u32, offsets: Vec<(Tp, Option<u64>)>) {
        if !self.is_live(c, inc) {
            return;
        }
        for (tp, committed) in offsets {
            let con = &mut self.consumers[c as usize];
            if !con.awaiting_offsets.remove(&tp) || !con.assignment.contains(&tp) {
                continue; // revoked meanwhile
            }
            match committed {
                Some(offset) => self.set_position(c, tp, offset, "committed offset"),
                None => self.reset_position(c, tp, "no committed offset"),
            }
        }
        if matches!(self.consumers[c as usize].phase, Phase::Idle | Phase::Fetching) {
            self.wake(c);
        }
    }

    fn set_position(&mut self, c: u32, tp: Tp, offset: u64, reason: &str) {
        let con = &mut self.consumers[c as usize];
        con.positions.insert(tp, offset);
        let (consumer, group) = self.names(c);
        let (topic, partition) = self.tp_name(tp);
        self.deliveries.entry(&group, tp).first_position.get_or_insert(offset);
        self.emit(EventKind::PositionSet { consumer, group, topic, partition, offset, reason: reason.to_string() });
    }

    /// `auto.offset.reset`: earliest is the log-start offset, latest the log-end offset.
    fn reset_position(&mut self, c: u32, tp: Tp, why: &str) {
        let policy = self.consumers[c as usize].spec.auto_offset_reset;
        let log = &self.partition(tp).log();
        let (offset, name) = match policy {
            OffsetReset::Earliest => (log.log_start_offset(), "earliest"),
            OffsetReset::Latest => (log.log_end_offset(), "latest"),
        };
        self.set_position(c, tp, offset, &format!("{why}: auto.offset.reset={name}"));
    }

    // ----- the poll loop ----------------------------------------------------------------------

    /// The application calls `poll()`: group work first, then an auto-commit if due, then a fetch.
    pub(crate) fn poll(&mut self, c: u32) {
        let now = self.now;
        let con = &mut self.consumers[c as usize];
        con.last_poll = now;
        if con.stopping {
            self.close(c);
            return;
        }
        if let Some(error) = con.fatal.take() {
            self.fail(c, error);
            return;
        }
        let eager = !con.spec.assignor.is_cooperative();
        if std::mem::take(&mut con.zombie) {
            // onPartitionsLost: what it held may belong to others by now.
            let owned = con.assignment.clone();
            self.revoke(c, &owned, true);
        }
        // Finish the last rebalance first, so a JoinGroup reports what the member really owns.
        if self.consumers[c as usize].pending_assignment.is_some() {
            self.apply_assignment(c);
        }
        let con = &self.consumers[c as usize];
        if (con.member_id.is_empty() || con.rejoin_needed) && !con.joining {
            if eager && !con.assignment.is_empty() {
                let all = con.assignment.clone();
                self.revoke(c, &all, false);
            }
            self.send_join(c);
        }
        let con = &mut self.consumers[c as usize];
        if eager && con.joining {
            con.phase = Phase::Joining; // stop the world until the new assignment
            return;
        }
        let con = &self.consumers[c as usize];
        if con.spec.commit == CommitMode::Auto
            && !con.positions.is_empty()
            && now.since(con.last_auto_commit) >= con.spec.auto_commit_interval_ms
        {
            self.consumers[c as usize].last_auto_commit = now;
            self.send_commit(c, false);
        }
        let con = &mut self.consumers[c as usize];
        if con.positions.is_empty() {
            con.phase = Phase::Idle; // nothing to fetch until partitions (and offsets) arrive
            return;
        }
        con.phase = Phase::Fetching;
        con.fetch_id += 1;
        let (inc, fetch_id) = (con.inc, con.fetch_id);
        self.after(self.latency(), Action::FetchArrive { consumer: c, inc, fetch_id });
    }

    pub(crate) fn fetch_arrive(&mut self, c: u32, inc: u32, fetch_id: u64) {
        if !self.fetch_is_live(c, inc, fetch_id) {
            return;
        }
        // Positions outside the log are out of range: the consumer resets them.
        let fetchable: Vec<(Tp, u64)> = self.consumers[c as usize].positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        for (tp, pos) in &fetchable {
            if !self.partition_readable(*tp) {
                continue; // no leader to ask: nothing to check, nothing to read
            }
            let log = &self.partition(*tp).log();
            if *pos < log.log_start_offset() || *pos > log.log_end_offset() {
                self.reset_position(c, *tp, &format!("offset {pos} out of range"));
            }
        }
        if !self.answer_fetch(c, inc, fetch_id) {
            // Long poll: park until data arrives or fetch.max.wait.ms passes.
            self.consumers[c as usize].parked = true;
            for (tp, _) in fetchable {
                self.topics[tp.topic as usize].partitions[tp.partition as usize].waiters.push((c, inc, fetch_id));
            }
            let wait = self.consumers[c as usize].spec.fetch_max_wait_ms;
            self.after(wait, Action::FetchTimeout { consumer: c, inc, fetch_id });
        }
    }

    /// Collects up to `max.poll.records` visible records; sends the response if there are any.
    pub(crate) fn answer_fetch(&mut self, c: u32, inc: u32, fetch_id: u64) -> bool {
        let con = &self.consumers[c as usize];
        let mut tps: Vec<(Tp, u64)> = con.positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        if con.spec.priority {
            // Only the first topic (in subscription order) with records to read is fetched: the
            // application has paused the partitions of the topics after it.
            let rank = |tp: &Tp| con.topics.iter().position(|t| *t == tp.topic).unwrap_or(usize::MAX);
            let has_records =
                |(tp, pos): &(Tp, u64)| self.partition_readable(*tp) && self.partition(*tp).high_watermark > *pos;
            if let Some(top) = tps.iter().filter(|x| has_records(x)).map(|(tp, _)| rank(tp)).min() {
                tps.retain(|(tp, _)| rank(tp) == top);
            }
        }
        let n = tps.len();
        let mut remaining = u64::from(con.spec.max_poll_records);
        let mut ranges = Vec::new();
        for i in 0..n {
            if remaining == 0 {
                break;
            }
            let (tp, pos) = tps[(con.round_robin + i) % n];
            if !self.partition_readable(tp) {
                continue;
            }
            let hw = self.partition(tp).high_watermark;
            if hw > pos {
                let take = (hw - pos).min(remaining);
                ranges.push((tp, pos, pos + take));
                remaining -= take;
            }
        }
        if ranges.is_empty() {
            return false;
        }
        let con = &mut self.consumers[c as usize];
        con.round_robin = (con.round_robin + 1) % n.max(1);
        self.after(self.latency(), Action::FetchResponse { consumer: c, inc, fetch_id, ranges });
        true
    }

    pub(crate) fn fetch_timeout(&mut self, c: u32, inc: u32, fetch_id: u64) {
        if self.fetch_is_live(c, inc, fetch_id) && self.consumers[c as usize].parked {
            self.consumers[c as usize].parked = false;
            self.after(self.latency(), Action::FetchResponse { consumer: c, inc, fetch_id, ranges: Vec::new() });
        }
    }

    fn offset_ranges(&self, ranges: &[(Tp, u64, u64)]) -> Vec<OffsetRange> {
        ranges
            .iter()
            .map(|(tp, from, to)| {
                let (topic, partition) = self.tp_name(*tp);
                OffsetRange { topic, partition, from: *from, to: *to }
            })
            .collect()
    }

    pub(crate) fn fetch_response(&mut self, c: u32, inc: u32, fetch_id: u64, ranges: Vec<(Tp, u64, u64)>) {
        if !self.fetch_is_live(c, inc, fetch_id) {
            return;
        }
        // Drop what belongs to partitions revoked or repositioned while the fetch was out.
        let con = &self.consumers[c as usize];
        let ranges: Vec<(Tp, u64, u64)> =
            ranges.into_iter().filter(|(tp, from, _)| con.positions.get(tp) == Some(from)).collect();
        if ranges.is_empty() {
            self.poll(c);
            return;
        }
        let con = &mut self.consumers[c as usize];
        for (tp, _, to) in &ranges {
            con.positions.insert(*tp, *to);
        }
        con.in_flight = ranges;
        let (consumer, group) = self.names(c);
        let offset_ranges = self.offset_ranges(&self.consumers[c as usize].in_flight);
        self.emit(EventKind::Fetched { consumer, group, ranges: offset_ranges });
        if self.consumers[c as usize].spec.commit == CommitMode::BeforeProcessing {
            self.consumers[c as usize].phase = Phase::CommittingBeforeProcessing;
            self.send_commit(c, true);
        } else {
            self.start_processing(c);
        }
    }

    fn start_processing(&mut self, c: u32) {
        let now = self.now;
        let con = &mut self.consumers[c as usize];
        con.phase = Phase::Processing;
        con.processing_started = now;
        let records = con.in_flight_records();
        let per_record_ms = con.spec.processing_ms;
        if per_record_ms == 0 {
            self.processing_done(c);
            return;
        }
        let inc = con.inc;
        let (consumer, group) = self.names(c);
        self.emit(EventKind::Processing { consumer, group, records, per_record_ms });
        self.after(records * per_record_ms, Action::ProcessingDone { consumer: c, inc });
    }

    /// Credits the first `k` in-flight records as processed by the consumer's group.
    fn credit_processed(&mut self, c: u32, k: u64) {
        let mut left = k;
        let mut done = Vec::new();
        for &(tp, from, to) in &self.consumers[c as usize].in_flight {
            if left == 0 {
                break;
            }
            let take = (to - from).min(left);
            done.push((tp, from, from + take));
            left -= take;
        }
        if done.is_empty() {
            return;
        }
        let (consumer, group) = self.names(c);
        for &(tp, from, to) in &done {
            self.deliveries.entry(&group, tp).counts.add(from, to);
        }
        let ranges = self.offset_ranges(&done);
        self.emit(EventKind::Processed { consumer, group, ranges });
    }

    pub(crate) fn processing_done(&mut self, c: u32) {
        let total = self.consumers[c as usize].in_flight_records();
        self.credit_processed(c, total);
        self.consumers[c as usize].in_flight.clear();
        match self.consumers[c as usize].spec.commit {
            CommitMode::AfterProcessing => {
                self.consumers[c as usize].phase = Phase::CommittingAfterProcessing;
                self.send_commit(c, true);
            }
            CommitMode::Auto | CommitMode::BeforeProcessing => self.poll(c),
        }
    }

    /// Sends an OffsetCommit of the consumer's positions, with its member id and generation. A
    /// subscribed consumer outside an active generation does not send it: the commit fails at
    /// once (Kafka's `CommitFailedException`).
    fn send_commit(&mut self, c: u32, sync: bool) {
        let con = &self.consumers[c as usize];
        if con.member_id.is_empty() {
            let (consumer, group) = self.names(c);
            let reason = "CommitFailedException: the consumer is not part of an active group (it lost its membership); its offsets are not committed".to_string();
            self.emit(EventKind::CommitFailed { consumer, group, reason });
            if sync {
                self.commit_done(c);
            }
            return;
        }
        let offsets: Vec<(Tp, u64)> = con.positions.iter().map(|(tp, o)| (*tp, *o)).collect();
        let (consumer, group) = self.names(c);
        let shown = self.partition_offsets(&offsets);
        self.emit(EventKind::CommitSent { consumer, group: group.clone(), offsets: shown });
        let member = self.member_ref(c);
        self.send_to_coordinator(c, group, Request::OffsetCommit { member, offsets, sync });
    }

    fn partition_offsets(&self, offsets: &[(Tp, u64)]) -> Vec<PartitionOffset> {
        offsets
            .iter()
            .map(|(tp, offset)| {
                let (topic, partition) = self.tp_name(*tp);
                PartitionOffset { topic, partition, offset: *offset }
            })
            .collect()
    }

    pub(crate) fn commit_done(&mut self, c: u32) {
        match self.consumers[c as usize].phase {
            Phase::CommittingBeforeProcessing => self.start_processing(c),
            Phase::CommittingAfterProcessing => self.poll(c),
            _ => {}
        }
    }
}

/// What a fenced static member's error says.
fn fenced_text(con: &Consumer) -> String {
    format!(
        "FENCED_INSTANCE_ID: another consumer joined with its group.instance.id {}",
        quoted(con.spec.group_instance_id.as_deref().unwrap_or_default())
    )
}

impl Consumer {
    pub(crate) fn new(spec: ConsumerSpec, topics: Vec<u32>, client_id: String) -> Consumer {
        Consumer {
            spec,
            topics,
            status: ConsumerStatus::Stopped,
            phase: Phase::Idle,
            inc: 0,
            assignment: Vec::new(),
            positions: Default::default(),
            in_flight: Vec::new(),
            processing_started: SimTime::ZERO,
            last_auto_commit: SimTime::ZERO,
            last_poll: SimTime::ZERO,
            fetch_id: 0,
            parked: false,
            stopping: false,
            round_robin: 0,
            client_id,
            member_id: String::new(),
            generation: -1,
            joining: false,
            syncing: None,
            rejoin_needed: false,
            heartbeating: false,
            pending_assignment: None,
            last_assignment: Vec::new(),
            last_generation: -1,
            awaiting_offsets: BTreeSet::new(),
            pending_spec: None,
            moving_to: None,
            restart: false,
            fatal: None,
            failure: None,
            assignment_generation: -1,
            zombie: false,
            last_change: None,
            removed: false,
        }
    }

    /// Forgets everything a process keeps in memory (used on start, crash and close).
    fn reset_membership(&mut self) {
        self.phase = Phase::Idle;
        self.stopping = false;
        self.parked = false;
        self.positions.clear();
        self.in_flight.clear();
        self.assignment.clear();
        self.assignment_generation = -1;
        self.zombie = false;
        self.fatal = None;
        self.member_id.clear();
        self.generation = -1;
        self.joining = false;
        self.syncing = None;
        self.rejoin_needed = false;
        self.heartbeating = false;
        self.pending_assignment = None;
        self.last_assignment.clear();
        self.last_generation = -1;
        self.awaiting_offsets.clear();
    }

    /// The application is away from poll(): processing, or committing around processing.
    pub fn outside_poll(&self) -> bool {
        matches!(self.phase, Phase::Processing | Phase::CommittingAfterProcessing | Phase::CommittingBeforeProcessing)
    }

    pub fn in_flight_records(&self) -> u64 {
        self.in_flight.iter().map(|(_, f, t)| t - f).sum()
    }
}
