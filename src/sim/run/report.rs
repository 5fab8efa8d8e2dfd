//! What happened in a run, counted from the model's own records: produced, processed,
//! duplicated, lost and lag, per topic and per group.

use std::fmt::Write;

use crate::sim::engine::{Sim, Tp};
use crate::sim::keys::record_value;
use crate::sim::time::format_duration;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TopicReport {
    pub name: String,
    pub partitions: u32,
    pub log_start_offsets: Vec<u64>,
    pub log_end_offsets: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GroupReport {
    pub name: String,
    /// Records from where the group started reading each partition to the high watermark.
    pub in_scope: u64,
    /// Distinct records processed at least once.
    pub processed: u64,
    /// All deliveries to the application (processed + duplicates).
    pub deliveries: u64,
    /// Deliveries beyond the first.
    pub duplicates: u64,
    /// Records below the committed offset that were never processed.
    pub lost: u64,
    /// Sum over partitions with a committed offset of (high watermark − committed).
    pub lag: u64,
}

/// Counts for one group and one partition.
pub fn group_partition_counts(sim: &Sim, group: &str, tp: Tp) -> GroupReport {
    let mut r = GroupReport { name: group.into(), ..GroupReport::default() };
    let hw = sim.partition(tp).high_watermark;
    let committed = sim.committed(group, tp);
    if let Some(c) = committed {
        r.lag = hw.saturating_sub(c);
    }
    if let Some(d) = sim.delivery(group, tp) {
        let start = d.first_position.unwrap_or(0);
        r.in_scope = hw.saturating_sub(start);
        r.processed = d.counts.distinct_in(start, u64::MAX);
        r.deliveries = d.counts.deliveries();
        r.duplicates = d.counts.duplicates();
        if let Some(c) = committed {
            let span = c.saturating_sub(start);
            r.lost = span - d.counts.distinct_in(start, c);
        }
    }
    r
}

pub fn group_report(sim: &Sim, group: &str) -> GroupReport {
    let mut total = GroupReport { name: group.into(), ..GroupReport::default() };
    let tps: Vec<Tp> = sim.deliveries().filter(|(g, _, _)| *g == group).map(|(_, tp, _)| tp).collect();
    for tp in tps {
        let r = group_partition_counts(sim, group, tp);
        total.in_scope += r.in_scope;
        total.processed += r.processed;
        total.deliveries += r.deliveries;
        total.duplicates += r.duplicates;
        total.lost += r.lost;
        total.lag += r.lag;
    }
    total
}

pub fn topic_reports(sim: &Sim) -> Vec<TopicReport> {
    sim.topics()
        .iter()
        .map(|t| TopicReport {
            name: t.spec.name.to_string(),
            partitions: t.spec.partitions,
            log_start_offsets: t.partitions.iter().map(|p| p.log().log_start_offset()).collect(),
            log_end_offsets: t.partitions.iter().map(|p| p.log().log_end_offset()).collect(),
        })
        .collect()
}

fn join(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
}

/// The text `ksim run … --format summary` prints.
pub fn summary(sim: &Sim, scenario_id: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario  {scenario_id}");
    let _ = writeln!(out, "seed      {}", sim.seed());
    let _ = writeln!(out, "time      {}", format_duration(sim.now().ms()));
    let _ = writeln!(out, "events    {}", sim.event_count());
    let _ = writeln!(out, "digest    {}", sim.digest());
    for p in sim.producers() {
        let topic = &sim.topics()[p.topic.ix()].spec.name;
        let _ = writeln!(
            out,
            "producer  {}: sent {} records to {topic}, {} acknowledged",
            p.spec.name, p.next_seq, p.acked
        );
    }
    if sim.brokers().len() > 1 || sim.brokers().iter().any(|b| !b.alive) {
        for b in sim.brokers() {
            let state = if b.alive {
                "running"
            } else if b.fenced {
                "down (fenced)"
            } else {
                "down"
            };
            let leads =
                sim.topics().iter().flat_map(|t| &t.partitions).filter(|p| p.leader_broker() == Some(b.id)).count();
            let _ = writeln!(out, "broker    {}: {state}, leader of {leads} partition(s)", b.id);
        }
    }
    for t in sim.topics() {
        let offline = t.partitions.iter().filter(|p| p.leader.is_none()).count();
        let lost: u64 = t.partitions.iter().map(|p| p.lost_acked).sum();
        if t.spec.replication_factor > 1 || offline > 0 || lost > 0 {
            let under = t.partitions.iter().filter(|p| p.isr.len() < p.replicas.len()).count();
            let _ = writeln!(
                out,
                "replicas  {}: replication factor {}, {under} under-replicated, {offline} offline, {lost} acknowledged records lost",
                t.spec.name, t.spec.replication_factor
            );
        }
    }
    for t in topic_reports(sim) {
        let total: u64 = t.log_end_offsets.iter().zip(&t.log_start_offsets).map(|(e, s)| e - s).sum();
        let _ = writeln!(
            out,
            "topic     {}: {} partition(s), {} records in the log; log-start [{}] log-end [{}]",
            t.name,
            t.partitions,
            total,
            join(&t.log_start_offsets),
            join(&t.log_end_offsets)
        );
    }
    for g in sim.group_names() {
        let r = group_report(sim, &g);
        let _ = writeln!(
            out,
            "group     {}: processed {} of {} records ({} deliveries), duplicates {}, lost {}, lag {}",
            r.name, r.processed, r.in_scope, r.deliveries, r.duplicates, r.lost, r.lag
        );
    }
    out
}

/// One record as an inspector shows it, derived from its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordView {
    pub offset: u64,
    pub key: Option<String>,
    pub value: String,
    pub producer: String,
    pub seq: u64,
    pub timestamp: u64,
}

/// The records at offsets `[from, to)` of a partition that are still in the log.
pub fn records(sim: &Sim, tp: Tp, from: u64, to: u64) -> Vec<RecordView> {
    let mut out = Vec::new();
    for batch in sim.partition(tp).log().batches_between(from, to) {
        let keyer = sim.keyer(batch.keyer);
        let producer = &sim.producers()[batch.producer as usize].spec.name;
        let mut offset = batch.base_offset;
        let keyed = batch.count as u64 != batch.last_seq - batch.first_seq + 1;
        for seq in batch.first_seq..=batch.last_seq {
            if keyed && keyer.partition_of(seq) != Some(tp.partition) {
                continue;
            }
            if offset >= from && offset < to {
                out.push(RecordView {
                    offset,
                    key: keyer.key(seq),
                    value: record_value(producer, seq),
                    producer: producer.to_string(),
                    seq,
                    timestamp: batch.timestamp.ms(),
                });
            }
            offset += 1;
            if offset >= batch.end_offset() {
                break;
            }
        }
    }
    out
}
