//! The consumer and its connection to the group coordinator, as Kafka's clients have it
//! (`NetworkClient`, `ConsumerNetworkClient`, `AbstractCoordinator`):
//! - a request goes to the broker the consumer knows as its coordinator, over its connection to
//!   that broker. When the broker's process dies the connection closes and every request on it
//!   fails at the consumer at once (*disconnected*); a request to a broker that is down, or no
//!   longer the group's coordinator (NOT_COORDINATOR), fails the same way. No request is ever
//!   handed to another broker.
//! - A failed request marks the coordinator unknown (`markCoordinatorUnknown`). While it is
//!   unknown the consumer sends nothing to it: it asks for it (FindCoordinator, again after
//!   `retry.backoff.ms`, doubling up to `retry.backoff.max.ms`), and remembers what it needs.
//! - Once found, it sends what it still needs, built from its state *then*: a JoinGroup if its
//!   join or sync was cut off (`requestRejoin`, in its next `poll()`), a synchronous commit again
//!   (`commitSync` and `onJoinPrepare` retry until they succeed), the committed offsets it still
//!   waits for, a consumer-protocol heartbeat (a full one). An asynchronous commit that failed is
//!   not sent again (its callback gets a retriable error; the next one covers it); heartbeats
//!   simply go on.

use super::*;

/// `retry.backoff.ms` (100) and `retry.backoff.max.ms` (1000): between FindCoordinator tries,
/// and between tries of a commit that is retried.
pub(super) const RETRY_BACKOFF_MS: u64 = 100;
pub(super) const RETRY_BACKOFF_MAX_MS: u64 = 1_000;

impl Consumer {
    /// A request it sent to its coordinator failed: it marks the coordinator unknown, looks for
    /// it, and remembers what it still needs.
    pub(super) fn on_request_failed(&mut self, request: Sent, broker: Option<BrokerId>, why: Failure, out: &mut Out) {
        let (consumer, group) = self.names();
        out.event(EventKind::RequestFailed {
            consumer: consumer.clone(),
            group: group.clone(),
            broker,
            request: request.name().to_string(),
            error: why.text().to_string(),
        });
        self.mark_coordinator_unknown(out);
        match request {
            Sent::Join | Sent::Sync => {
                if self.process.joining {
                    self.rejoin_later();
                }
            }
            Sent::Commit(purpose) => {
                let reason = format!("RetriableCommitFailedException: {}", why.text());
                out.event(EventKind::CommitFailed { consumer, group, reason });
                if purpose != CommitPurpose::Async {
                    self.process.pending_commit = Some((purpose, std::mem::take(&mut self.process.sync_commit)));
                }
            }
            Sent::GroupHeartbeat => self.cg_request_failed(),
            Sent::Heartbeat | Sent::Leave | Sent::OffsetFetch => {}
        }
    }

    /// `requestRejoin`: its join (or sync) is over without an answer; it joins again at its next
    /// poll() with a coordinator known.
    pub(super) fn rejoin_later(&mut self) {
        self.process.joining = false;
        if let Some(c) = self.process.classic_mut() {
            c.syncing = None;
        }
        self.process.rejoin_needed = true;
    }

    /// `markCoordinatorUnknown`: nothing more is sent to it until it is found again.
    pub(super) fn mark_coordinator_unknown(&mut self, out: &mut Out) {
        self.process.coordinator_unknown = true;
        if self.process.lookup_backoff.is_none() {
            self.process.lookup_backoff = Some(RETRY_BACKOFF_MS);
            out.effects.push(Effect::FindCoordinator { inc: self.inc });
        }
    }

    /// The answer to FindCoordinator: none yet (try again after the backoff), or `broker`.
    pub(super) fn on_find_coordinator(&mut self, ctx: &mut Ctx, broker: Option<BrokerId>, out: &mut Out) {
        let Some(backoff) = self.process.lookup_backoff else { return };
        let Some(broker) = broker else {
            self.process.lookup_backoff = Some((backoff * 2).min(RETRY_BACKOFF_MAX_MS));
            self.after(backoff, Msg::LookUpCoordinator, out);
            return;
        };
        self.process.lookup_backoff = None;
        self.process.coordinator_unknown = false;
        let (consumer, group) = self.names();
        out.event(EventKind::FindCoordinator { consumer, group, broker });
        // What it still needs, from its state now.
        if let Some((purpose, offsets)) = self.process.pending_commit.take() {
            self.send_offsets(ctx, purpose, offsets, out);
        }
        if !self.process.awaiting_offsets.is_empty() {
            let tps: Vec<Tp> = self.process.awaiting_offsets.iter().copied().collect();
            self.send_offset_fetch(ctx, tps, out);
        }
        if self.is_modern() {
            if self.process.generation >= 0 && (self.process.joining || self.process.generation > 0) {
                self.cg_heartbeat(ctx, out);
            }
        } else if self.process.member_id.is_empty() || self.process.rejoin_needed {
            self.wake(ctx, out);
        }
    }

    /// Asks again who the coordinator is.
    pub(super) fn look_up_coordinator(&mut self, out: &mut Out) {
        if self.process.lookup_backoff.is_some() {
            out.effects.push(Effect::FindCoordinator { inc: self.inc });
        }
    }
}
