//! What a user can do, as the engine carries it out: each [`Command`] is checked (a command the
//! model cannot take — a consumer that is not running, a removed producer, an absurd setting —
//! is rejected with a one-line reason and changes nothing) and handed to the actor it is for.

use crate::sim::command::{Command, ConsumerSetting};
use crate::sim::config::{check_ms, check_name, limits, ConsumerSpec};
use crate::sim::consumer::{self, Consumer, ConsumerStatus};
use crate::sim::engine::{Action, Sim};
use crate::sim::event::EventKind;
use crate::sim::ids::{BrokerId, ConsumerId};
use crate::sim::sort;
use crate::sim::text::quoted;

impl Sim {
    /// Adds a consumer (launched at once if its spec says it runs).
    pub(crate) fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<ConsumerId, String> {
        spec.validate()?;
        if self.consumers.len() >= limits::MAX_CLIENTS {
            return Err("too many consumers".into());
        }
        if self.consumer_index(&spec.name).is_some() {
            return Err(format!("a consumer named {} already exists", quoted(&spec.name)));
        }
        let mut topics = Vec::new();
        for name in &spec.topics {
            let t = self.topic_index(name).ok_or(format!("no topic named {}", quoted(name)))?;
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
        sort::by(&mut topics, |a, b| self.topics[*a as usize].spec.name.cmp(&self.topics[*b as usize].spec.name));
        let client_id = consumer::next_client_id(&mut self.client_counters, &spec.group);
        let running = spec.running;
        let index = ConsumerId(self.consumers.len() as u32);
        self.consumers.push(Consumer::new(spec, topics, client_id));
        if running {
            self.push(self.now, Action::Launch(index));
        }
        Ok(index)
    }

    fn broker_of(&self, id: u32) -> Result<BrokerId, String> {
        if id == 0 || id as usize > self.brokers.len() {
            return Err(format!("no broker {id} (brokers are 1 to {})", self.brokers.len()));
        }
        Ok(BrokerId(id))
    }

    fn reject(&mut self, command: Command, reason: impl Into<String>) {
        self.emit(EventKind::CommandRejected { command: Box::new(command), reason: reason.into() });
    }

    pub(crate) fn handle_command(&mut self, cmd: Command) {
        let original = cmd.clone();
        let producer_of =
            |sim: &Sim, name: &str| sim.producer_index(name).ok_or(format!("no producer named {}", quoted(name)));
        let consumer_of =
            |sim: &Sim, name: &str| sim.consumer_index(name).ok_or(format!("no consumer named {}", quoted(name)));
        let result: Result<(), String> = match cmd {
            Command::Produce { producer, count } => producer_of(self, &producer).and_then(|p| {
                if self.producers[p.ix()].removed {
                    return Err(format!("{producer} was removed"));
                }
                if count == 0 || count > limits::MAX_PRODUCE_COUNT {
                    return Err(format!("count must be 1 to {}", limits::MAX_PRODUCE_COUNT));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.produce(p, count);
                Ok(())
            }),
            Command::SetRate { producer, per_sec } => producer_of(self, &producer).and_then(|p| {
                if self.producers[p.ix()].removed {
                    return Err(format!("{producer} was removed"));
                }
                if per_sec > limits::MAX_RATE_PER_SEC {
                    return Err(format!("rate must be at most {} records/s", limits::MAX_RATE_PER_SEC));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.set_rate(p, per_sec);
                Ok(())
            }),
            Command::SetKeys { producer, keys } => producer_of(self, &producer).and_then(|p| {
                keys.validate()?;
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.set_keys(p, keys);
                Ok(())
            }),
            Command::AddProducer { spec } => {
                self.add_producer(spec).map(|_| self.emit(EventKind::Command { command: Box::new(original.clone()) }))
            }
            Command::AddConsumer { spec } => {
                self.add_consumer(spec).map(|_| self.emit(EventKind::Command { command: Box::new(original.clone()) }))
            }
            Command::CrashConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                if self.consumers[c.ix()].status != ConsumerStatus::Running {
                    return Err(format!("{consumer} is not running"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumer_do(c, |con, ctx, out| con.crash(ctx, out));
                Ok(())
            }),
            Command::StopConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                let con = &self.consumers[c.ix()];
                if con.status != ConsumerStatus::Running {
                    return Err(format!("{consumer} is not running"));
                }
                if con.stopping && !con.restart {
                    return Err(format!("{consumer} is already stopping (it finishes the batch in hand first)"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                // Stopping already, to start again: it stays stopped instead.
                self.consumers[c.ix()].restart = false;
                self.consumer_do(c, |con, ctx, out| con.request_stop(ctx, out));
                Ok(())
            }),
            Command::StartConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                let con = &self.consumers[c.ix()];
                if con.removed {
                    return Err(format!("{consumer} was removed"));
                }
                if con.status == ConsumerStatus::Running && (!con.stopping || con.restart) {
                    return Err(format!("{consumer} is already running"));
                }
                let closing = con.status == ConsumerStatus::Running;
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                if closing {
                    // Still closing (finishing its batch): it starts again once closed.
                    self.consumers[c.ix()].restart = true;
                } else {
                    self.consumer_do(c, |con, ctx, out| con.start(ctx, out));
                }
                Ok(())
            }),
            Command::SetProcessingTime { consumer, ms } => consumer_of(self, &consumer).and_then(|c| {
                if ms > 600_000 {
                    return Err("processing time must be at most 10 minutes per record".into());
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumers[c.ix()].spec.processing_ms = ms;
                Ok(())
            }),
            Command::SetPriority { consumer, enabled } => consumer_of(self, &consumer).map(|c| {
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumers[c.ix()].spec.priority = enabled;
            }),
            Command::MoveConsumer { consumer, group } => consumer_of(self, &consumer).and_then(|c| {
                check_name("group", &group)?;
                if self.consumers[c.ix()].removed {
                    return Err(format!("{consumer} was removed"));
                }
                let con = &self.consumers[c.ix()];
                if con.moving_to.as_deref().unwrap_or(&con.spec.group) == group {
                    let verb = if con.moving_to.is_some() { "already moving to" } else { "already in" };
                    return Err(format!("{consumer} is {verb} {group}"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumer_do(c, |con, ctx, out| con.move_to(ctx, &group, out));
                Ok(())
            }),
            Command::ConfigureConsumer { consumer, setting } => consumer_of(self, &consumer).and_then(|c| {
                let mut spec = self.consumers[c.ix()].spec.clone();
                match setting {
                    ConsumerSetting::AutoOffsetReset(r) => spec.auto_offset_reset = r,
                    ConsumerSetting::Assignor(a) => spec.assignors = vec![a],
                    ConsumerSetting::Assignors(list) => spec.assignors = list,
                    ConsumerSetting::SessionTimeoutMs(ms) => spec.session_timeout_ms = ms,
                    ConsumerSetting::GroupProtocol(p) => spec.group_protocol = p,
                    ConsumerSetting::RemoteAssignor(a) => spec.remote_assignor = a,
                }
                spec.validate()?;
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumers[c.ix()].pending_spec = Some(spec);
                Ok(())
            }),
            Command::RemoveConsumer { consumer } => consumer_of(self, &consumer).and_then(|c| {
                if self.consumers[c.ix()].removed {
                    return Err(format!("{consumer} was removed"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumers[c.ix()].moving_to = None;
                self.consumers[c.ix()].restart = false;
                if self.consumers[c.ix()].status == ConsumerStatus::Running {
                    self.consumer_do(c, |con, ctx, out| con.request_stop(ctx, out));
                }
                self.consumers[c.ix()].removed = true;
                Ok(())
            }),
            Command::RemoveProducer { producer } => producer_of(self, &producer).and_then(|p| {
                if self.producers[p.ix()].removed {
                    return Err(format!("{producer} was removed"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.remove_producer(p);
                Ok(())
            }),
            // A crash kills the process; a stop is a controlled shutdown.
            Command::CrashBroker { broker } | Command::StopBroker { broker } => self.broker_of(broker).and_then(|b| {
                if !self.brokers[b.ix()].alive {
                    return Err(format!("broker {broker} is not running"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                if matches!(original, Command::StopBroker { .. }) {
                    self.stop_broker(b);
                } else {
                    self.crash_broker(b);
                }
                Ok(())
            }),
            Command::RestartBroker { broker } => self.broker_of(broker).and_then(|b| {
                if self.brokers[b.ix()].alive {
                    return Err(format!("broker {broker} is already running"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.restart_broker(b);
                Ok(())
            }),
            Command::DelayBroker { broker, ms } => self.broker_of(broker).and_then(|b| {
                check_ms("delay", ms)?;
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.brokers[b.ix()].delay_ms = ms;
                Ok(())
            }),
            // Fixed when a producer is built: a change builds a new one (see producer.rs).
            Command::SetAcks { producer, acks } => producer_of(self, &producer).and_then(|p| {
                if self.producers[p.ix()].removed {
                    return Err(format!("{producer} was removed"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.reconfigure_producer(p, Some(acks), None);
                Ok(())
            }),
            Command::SetIdempotence { producer, enabled } => producer_of(self, &producer).and_then(|p| {
                if self.producers[p.ix()].removed {
                    return Err(format!("{producer} was removed"));
                }
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.reconfigure_producer(p, None, Some(enabled));
                Ok(())
            }),
            Command::SetCommitMode { consumer, mode } => consumer_of(self, &consumer).map(|c| {
                self.emit(EventKind::Command { command: Box::new(original.clone()) });
                self.consumers[c.ix()].spec.commit = mode;
            }),
        };
        if let Err(reason) = result {
            self.reject(original, reason);
        }
    }
}
