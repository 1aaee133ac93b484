//! The benchmark's cost of 1,000 tickets: a ticket's whole life played through the local
//! gateway (one create, five replies, ten reads, one close), then the stream's functions (the
//! automations, with a project's initial rules, and the notifier) on what the stream gathered,
//! and the search indexer on each changed request; the capacity units, Lambda time, bucket
//! requests and emails it took, priced at list prices.

use crate::Harness;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

/// us-east-1 list prices (USD).
pub const HTTP_API_PER_MILLION: f64 = 1.00;
pub const LAMBDA_PER_MILLION: f64 = 0.20;
/// arm64.
pub const LAMBDA_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const WRITE_UNIT_PER_MILLION: f64 = 0.625;
pub const READ_UNIT_PER_MILLION: f64 = 0.125;
pub const EMAIL_PER_THOUSAND: f64 = 0.10;
/// S3 Standard PUT (and LIST) requests.
pub const S3_PUT_PER_THOUSAND: f64 = 0.005;

/// What `tickets` tickets used.
#[derive(Debug, Default)]
pub struct Usage {
    pub tickets: usize,
    pub http_calls: f64,
    pub invocations: f64,
    /// Billed milliseconds (each call rounded up to 1 ms) per function.
    pub billed_ms: BTreeMap<&'static str, f64>,
    pub write_units: f64,
    pub read_units: f64,
    pub emails: f64,
    /// Bucket writes: the search indexer's packs, one a commit.
    pub s3_puts: f64,
}

/// Plays `tickets` ticket lives in `project` (whose notify limit must allow every email):
/// `customers[i % len]` raises ticket i and replies twice, `agent` replies three times and
/// closes it, the customer reads it ten times. Then the notifier runs on the stream.
pub async fn play(h: &Harness, project: &str, agent: &str, customers: &[String], tickets: usize) -> Usage {
    // What earlier work left on the stream is not this run's (one poll reads at most 1,000
    // records a shard: read until nothing is left).
    while !h.run_stream().await.0.records.is_empty() {}
    let sent_before = h.sent_count().await;
    h.store.take_metrics();
    let mut usage = Usage { tickets, ..Usage::default() };
    let timed = |usage: &mut Usage, function: &'static str, started: Instant| {
        usage.http_calls += 1.0;
        usage.invocations += 1.0;
        *usage.billed_ms.entry(function).or_default() += (started.elapsed().as_secs_f64() * 1000.0).ceil();
    };
    for i in 0..tickets {
        let customer = &customers[i % customers.len()];
        let started = Instant::now();
        let created = h
            .ok(
                "POST",
                &format!("/projects/{project}/requests"),
                Some(customer),
                Some(json!({"summary": format!("Ticket {i}")})),
            )
            .await;
        timed(&mut usage, "intake", started);
        let key = created.body["key"].as_str().expect("key").to_string();
        for (n, author) in [agent, customer, agent, customer, agent].into_iter().enumerate() {
            let started = Instant::now();
            let body = json!({"body": format!("Reply {n} on ticket {i}")});
            h.ok("POST", &format!("/requests/{key}/comments"), Some(author), Some(body)).await;
            timed(&mut usage, "intake", started);
        }
        for _ in 0..10 {
            let started = Instant::now();
            h.ok("GET", &format!("/requests/{key}"), Some(customer), None).await;
            timed(&mut usage, "intake", started);
        }
        let started = Instant::now();
        h.ok("POST", &format!("/requests/{key}/close"), Some(agent), None).await;
        timed(&mut usage, "intake", started);
    }
    let event = h.poll_stream().await;
    // One poll (up to 1,000 records a shard): 50 tickets make fewer.
    assert!(event.records.len() < 1000, "the play's records came in one poll");
    // Each record that passes the template's filter (request partitions) is its own invocation
    // of each stream function (tickets spread over a day are rarely batched); the time is what
    // each function took.
    let request_records = event
        .records
        .iter()
        .filter(|r| {
            let keys = serde_json::to_value(&r.change.keys).unwrap_or_default();
            keys["pk"]["S"].as_str().is_some_and(|pk| pk.starts_with("REQ#"))
        })
        .count();
    for consumer in [helpdesk_tools::stream::Consumer::Automations, helpdesk_tools::stream::Consumer::Notifier] {
        let started = Instant::now();
        let answer = consumer.handle(&h.app, event.clone()).await;
        assert_eq!(answer["batchItemFailures"], json!([]), "{} did everything", consumer.name());
        usage.invocations += request_records as f64;
        *usage.billed_ms.entry(consumer.name()).or_default() += (started.elapsed().as_secs_f64() * 1000.0).ceil();
    }
    // The indexer: what the automations handed it, one commit per record (as one invocation
    // each), each a pack PUT and a pointer write.
    h.take_index_invocations().await;
    let keys: Vec<String> = event.records.iter().filter_map(helpdesk::items::dynamo::stream_request_key).collect();
    for key in keys {
        let started = Instant::now();
        let answer = helpdesk_tools::invoke::index(&h.app, json!({"requests": [key]})).await;
        assert!(answer.get("error").is_none(), "the indexer: {answer}");
        usage.invocations += 1.0;
        usage.s3_puts += 1.0;
        *usage.billed_ms.entry("indexer").or_default() += (started.elapsed().as_secs_f64() * 1000.0).ceil();
    }
    let m = h.store.take_metrics();
    usage.write_units = m.transaction_units + m.write_units;
    usage.read_units = m.read_units;
    usage.emails = (h.sent_count().await - sent_before) as f64;
    usage
}

impl Usage {
    /// The cost table for 1,000 tickets, with each function's configured memory (MB).
    pub fn table(&self, memory_mb: impl Fn(&str) -> f64) -> String {
        let per_1000 = 1000.0 / self.tickets as f64;
        let gb_seconds: f64 =
            self.billed_ms.iter().map(|(f, ms)| ms / 1000.0 * memory_mb(f) / 1024.0).sum::<f64>() * per_1000;
        let memory: Vec<String> = self.billed_ms.keys().map(|f| format!("{f} {} MB", memory_mb(f))).collect();
        let rows = [
            (
                "HTTP API",
                format!("{:.0} calls", self.http_calls * per_1000),
                self.http_calls * per_1000 * HTTP_API_PER_MILLION / 1e6,
            ),
            (
                "Lambda requests",
                format!("{:.0} invocations", self.invocations * per_1000),
                self.invocations * per_1000 * LAMBDA_PER_MILLION / 1e6,
            ),
            (
                "Lambda duration",
                format!("{gb_seconds:.1} GB-s ({})", memory.join(", ")),
                gb_seconds * LAMBDA_PER_GB_SECOND,
            ),
            (
                "DynamoDB writes",
                format!("{:.0} write units", self.write_units * per_1000),
                self.write_units * per_1000 * WRITE_UNIT_PER_MILLION / 1e6,
            ),
            (
                "DynamoDB reads",
                format!("{:.0} read units", self.read_units * per_1000),
                self.read_units * per_1000 * READ_UNIT_PER_MILLION / 1e6,
            ),
            ("SES", format!("{:.0} emails", self.emails * per_1000), self.emails * per_1000 * EMAIL_PER_THOUSAND / 1e3),
            (
                "S3",
                format!("{:.0} PUTs (search packs)", self.s3_puts * per_1000),
                self.s3_puts * per_1000 * S3_PUT_PER_THOUSAND / 1e3,
            ),
        ];
        let total: f64 = rows.iter().map(|(_, _, usd)| usd).sum();
        let mut out = format!("  {:<16} {:<44} {:>9}\n", "service", "per 1,000 tickets", "USD");
        for (service, usage, usd) in &rows {
            out += &format!("  {service:<16} {usage:<44} {usd:>9.4}\n");
        }
        out += &format!("  {:<16} {:<44} {total:>9.4}\n", "total", "");
        out
    }
}
