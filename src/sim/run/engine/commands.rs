//! What a user can do, as the engine carries it out: each [`Command`] is checked against the
//! model — a command it cannot take (a consumer that is not running, a removed producer, an
//! absurd setting) is rejected with a one-line reason and changes nothing — then logged once, as
//! a `command` event, and handed to the actor it is for.

use super::{Action, Sim};
use crate::sim::command::{Command, ConsumerSetting};
use crate::sim::config::{check_ms, check_name, limits, Acks, CommitMode, ConsumerSpec, Keys, ProducerSpec};
use crate::sim::consumer::{self, Consumer, ConsumerStatus};
use crate::sim::event::EventKind;
use crate::sim::ids::{BrokerId, ConsumerId, ProducerId, TopicId};
use crate::sim::sort;
use crate::sim::text::quoted;

/// A command checked against the model: what it does, and to which actor.
enum Checked {
    Produce(ProducerId, u64),
    SetRate(ProducerId, u32),
    SetKeys(ProducerId, Keys),
    AddProducer(ProducerSpec),
    /// A consumer, with the topics it subscribes to (their indexes, in name order).
    AddConsumer(ConsumerSpec, Vec<TopicId>),
    CrashConsumer(ConsumerId),
    StopConsumer(ConsumerId),
    StartConsumer(ConsumerId),
    SetProcessingTime(ConsumerId, u64),
    SetPriority(ConsumerId, bool),
    MoveConsumer(ConsumerId, String),
    /// The consumer's settings for its next start.
    ConfigureConsumer(ConsumerId, ConsumerSpec),
    RemoveConsumer(ConsumerId),
    RemoveProducer(ProducerId),
    CrashBroker(BrokerId),
    StopBroker(BrokerId),
    RestartBroker(BrokerId),
    DelayBroker(BrokerId, u64),
    /// A new `acks` or `enable.idempotence`: a new producer instance.
    ReconfigureProducer(ProducerId, Option<Acks>, Option<bool>),
    SetCommitMode(ConsumerId, CommitMode),
}

impl Sim {
    /// Adds a consumer (launched at once if its spec says it runs).
    pub(crate) fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<ConsumerId, String> {
        let topics = self.check_consumer(&spec)?;
        Ok(self.add_checked_consumer(spec, topics))
    }

    /// Whether a consumer with this spec can be added; the topics it subscribes to if so.
    fn check_consumer(&self, spec: &ConsumerSpec) -> Result<Vec<TopicId>, String> {
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
        sort::by(&mut topics, |a, b| self.topics[a.ix()].spec.name.cmp(&self.topics[b.ix()].spec.name));
        Ok(topics)
    }

    fn add_checked_consumer(&mut self, spec: ConsumerSpec, topics: Vec<TopicId>) -> ConsumerId {
        let client_id = consumer::next_client_id(&mut self.client_counters, &spec.group);
        let running = spec.running;
        let index = ConsumerId(self.consumers.len() as u32);
        self.consumers.push(Consumer::new(spec, topics, client_id));
        if running {
            self.push(self.now, Action::Launch(index));
        }
        index
    }

    fn broker_of(&self, id: u32) -> Result<BrokerId, String> {
        if id == 0 || id as usize > self.brokers().len() {
            return Err(format!("no broker {id} (brokers are 1 to {})", self.brokers().len()));
        }
        Ok(BrokerId(id))
    }

    fn reject(&mut self, command: Command, reason: impl Into<String>) {
        self.emit(EventKind::CommandRejected { command: Box::new(command), reason: reason.into() });
    }

    /// A user's command: checked, logged once, carried out — or rejected with the reason.
    pub(crate) fn handle_command(&mut self, command: Command) {
        match self.check(&command) {
            Ok(checked) => {
                self.emit(EventKind::Command { command: Box::new(command) });
                self.carry_out(checked);
            }
            Err(reason) => self.reject(command, reason),
        }
    }

    fn producer_of(&self, name: &str) -> Result<ProducerId, String> {
        self.producer_index(name).ok_or(format!("no producer named {}", quoted(name)))
    }

    /// A producer still there (not removed).
    fn live_producer_of(&self, name: &str) -> Result<ProducerId, String> {
        let p = self.producer_of(name)?;
        if self.producers[p.ix()].removed {
            return Err(format!("{name} was removed"));
        }
        Ok(p)
    }

    fn consumer_of(&self, name: &str) -> Result<ConsumerId, String> {
        self.consumer_index(name).ok_or(format!("no consumer named {}", quoted(name)))
    }

    /// Whether the model can take `command` now, and what it then does.
    fn check(&self, command: &Command) -> Result<Checked, String> {
        Ok(match command {
            Command::Produce { producer, count } => {
                let p = self.live_producer_of(producer)?;
                if *count == 0 || *count > limits::MAX_PRODUCE_COUNT {
                    return Err(format!("count must be 1 to {}", limits::MAX_PRODUCE_COUNT));
                }
                Checked::Produce(p, *count)
            }
            Command::SetRate { producer, per_sec } => {
                let p = self.live_producer_of(producer)?;
                if *per_sec > limits::MAX_RATE_PER_SEC {
                    return Err(format!("rate must be at most {} records/s", limits::MAX_RATE_PER_SEC));
                }
                Checked::SetRate(p, *per_sec)
            }
            Command::SetKeys { producer, keys } => {
                let p = self.producer_of(producer)?;
                keys.validate()?;
                Checked::SetKeys(p, keys.clone())
            }
            Command::AddProducer { spec } => {
                self.check_producer(spec)?;
                Checked::AddProducer(spec.clone())
            }
            Command::AddConsumer { spec } => Checked::AddConsumer(spec.clone(), self.check_consumer(spec)?),
            Command::CrashConsumer { consumer } => {
                let c = self.consumer_of(consumer)?;
                if self.consumers[c.ix()].status != ConsumerStatus::Running {
                    return Err(format!("{consumer} is not running"));
                }
                Checked::CrashConsumer(c)
            }
            Command::StopConsumer { consumer } => {
                let c = self.consumer_of(consumer)?;
                let con = &self.consumers[c.ix()];
                if con.status != ConsumerStatus::Running {
                    return Err(format!("{consumer} is not running"));
                }
                if con.process().is_some_and(|p| p.stopping) && !con.restart {
                    return Err(format!("{consumer} is already stopping (it finishes the batch in hand first)"));
                }
                Checked::StopConsumer(c)
            }
            Command::StartConsumer { consumer } => {
                let c = self.consumer_of(consumer)?;
                let con = &self.consumers[c.ix()];
                if con.removed {
                    return Err(format!("{consumer} was removed"));
                }
                if con.status == ConsumerStatus::Running && (!con.process().is_some_and(|p| p.stopping) || con.restart)
                {
                    return Err(format!("{consumer} is already running"));
                }
                Checked::StartConsumer(c)
            }
            Command::SetProcessingTime { consumer, ms } => {
                let c = self.consumer_of(consumer)?;
                if *ms > 600_000 {
                    return Err("processing time must be at most 10 minutes per record".into());
                }
                Checked::SetProcessingTime(c, *ms)
            }
            Command::SetPriority { consumer, enabled } => Checked::SetPriority(self.consumer_of(consumer)?, *enabled),
            Command::MoveConsumer { consumer, group } => {
                let c = self.consumer_of(consumer)?;
                check_name("group", group)?;
                let con = &self.consumers[c.ix()];
                if con.removed {
                    return Err(format!("{consumer} was removed"));
                }
                if con.moving_to.as_deref().unwrap_or(&con.spec.group) == group {
                    let verb = if con.moving_to.is_some() { "already moving to" } else { "already in" };
                    return Err(format!("{consumer} is {verb} {group}"));
                }
                Checked::MoveConsumer(c, group.clone())
            }
            Command::ConfigureConsumer { consumer, setting } => {
                let c = self.consumer_of(consumer)?;
                let mut spec = self.consumers[c.ix()].spec.clone();
                match setting.clone() {
                    ConsumerSetting::AutoOffsetReset(r) => spec.auto_offset_reset = r,
                    ConsumerSetting::Assignor(a) => spec.assignors = vec![a],
                    ConsumerSetting::Assignors(list) => spec.assignors = list,
                    ConsumerSetting::SessionTimeoutMs(ms) => spec.session_timeout_ms = ms,
                    ConsumerSetting::GroupProtocol(p) => spec.group_protocol = p,
                    ConsumerSetting::RemoteAssignor(a) => spec.remote_assignor = a,
                }
                spec.validate()?;
                Checked::ConfigureConsumer(c, spec)
            }
            Command::RemoveConsumer { consumer } => {
                let c = self.consumer_of(consumer)?;
                if self.consumers[c.ix()].removed {
                    return Err(format!("{consumer} was removed"));
                }
                Checked::RemoveConsumer(c)
            }
            Command::RemoveProducer { producer } => Checked::RemoveProducer(self.live_producer_of(producer)?),
            // A crash kills the process; a stop is a controlled shutdown.
            Command::CrashBroker { broker } | Command::StopBroker { broker } => {
                let b = self.broker_of(*broker)?;
                if !self.broker(b).alive {
                    return Err(format!("broker {broker} is not running"));
                }
                if matches!(command, Command::StopBroker { .. }) {
                    Checked::StopBroker(b)
                } else {
                    Checked::CrashBroker(b)
                }
            }
            Command::RestartBroker { broker } => {
                let b = self.broker_of(*broker)?;
                if self.broker(b).alive {
                    return Err(format!("broker {broker} is already running"));
                }
                Checked::RestartBroker(b)
            }
            Command::DelayBroker { broker, ms } => {
                let b = self.broker_of(*broker)?;
                check_ms("delay", *ms)?;
                Checked::DelayBroker(b, *ms)
            }
            // Fixed when a producer is built: a change builds a new one (see producer.rs).
            Command::SetAcks { producer, acks } => {
                Checked::ReconfigureProducer(self.live_producer_of(producer)?, Some(*acks), None)
            }
            Command::SetIdempotence { producer, enabled } => {
                Checked::ReconfigureProducer(self.live_producer_of(producer)?, None, Some(*enabled))
            }
            Command::SetCommitMode { consumer, mode } => Checked::SetCommitMode(self.consumer_of(consumer)?, *mode),
        })
    }

    /// Hands a checked command to the actor it is for.
    fn carry_out(&mut self, checked: Checked) {
        match checked {
            Checked::Produce(p, count) => self.produce(p, count),
            Checked::SetRate(p, per_sec) => self.set_rate(p, per_sec),
            Checked::SetKeys(p, keys) => self.set_keys(p, keys),
            Checked::AddProducer(spec) => {
                self.add_producer(spec).expect("checked");
            }
            Checked::AddConsumer(spec, topics) => {
                self.add_checked_consumer(spec, topics);
            }
            Checked::CrashConsumer(c) => self.consumer_do(c, |con, ctx, out| con.crash(ctx, out)),
            Checked::StopConsumer(c) => self.consumer_do(c, |con, ctx, out| con.stop(ctx, out)),
            Checked::StartConsumer(c) => self.consumer_do(c, |con, ctx, out| con.start_again(ctx, out)),
            Checked::SetProcessingTime(c, ms) => self.consumers[c.ix()].set_processing_ms(ms),
            Checked::SetPriority(c, enabled) => self.consumers[c.ix()].set_priority(enabled),
            Checked::MoveConsumer(c, group) => self.consumer_do(c, |con, ctx, out| con.move_to(ctx, &group, out)),
            Checked::ConfigureConsumer(c, spec) => self.consumers[c.ix()].configure(spec),
            Checked::RemoveConsumer(c) => self.consumer_do(c, |con, ctx, out| con.remove(ctx, out)),
            Checked::RemoveProducer(p) => self.remove_producer(p),
            Checked::CrashBroker(b) => self.crash_broker(b),
            Checked::StopBroker(b) => self.stop_broker(b),
            Checked::RestartBroker(b) => self.restart_broker(b),
            Checked::DelayBroker(b, ms) => self.controller.set_delay(b, ms),
            Checked::ReconfigureProducer(p, acks, idempotence) => self.reconfigure_producer(p, acks, idempotence),
            Checked::SetCommitMode(c, mode) => self.consumers[c.ix()].set_commit_mode(mode),
        }
    }
}
