//! DynamoDB implementation of the store. Every call asks for ConsumedCapacity and counts its
//! round trip, so the benchmark can report cost per operation.
//! Split by call kind: `reads`, `writes` (and transactions), `updates` (single-item UpdateItem);
//! `expr` turns conditions and errors into DynamoDB's terms.

use super::*;

mod expr;
mod reads;
mod updates;
mod writes;

// `PK` is for `expr`, which takes it from here.
use crate::table::PK;
use aws_sdk_dynamodb::types::ConsumedCapacity;
use aws_sdk_dynamodb::Client;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Round trips and capacity, summed since the store was made (or last `take_metrics`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub round_trips: u64,
    /// Capacity units DynamoDB reported (read + write).
    pub reported_units: f64,
    /// Transaction write units by AWS's rules (2 per KB per item, plus index writes), since
    /// DynamoDB Local misreports transactions.
    pub transaction_units: f64,
    /// Of the reported units: those of reads (GetItem, BatchGetItem, Query), which DynamoDB
    /// Local reports as AWS bills them.
    pub read_units: f64,
    /// Of the reported units: those of single-item writes (counters), also reported right.
    pub write_units: f64,
    /// Time spent waiting on DynamoDB.
    pub busy: std::time::Duration,
}

/// What a round trip was, for the metrics.
#[derive(Clone, Copy)]
enum Call {
    Read,
    Write,
    Transaction,
}

#[derive(Default)]
struct Counters {
    round_trips: AtomicU64,
    reported_milli: AtomicU64,
    transaction_milli: AtomicU64,
    read_milli: AtomicU64,
    write_milli: AtomicU64,
    /// Calls in flight and when the current busy stretch began: parallel calls count once.
    in_flight: std::sync::Mutex<(u32, Option<Instant>)>,
    busy_micros: AtomicU64,
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    counters: Arc<Counters>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), counters: Arc::default() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Reads and resets the counters.
    pub fn take_metrics(&self) -> Metrics {
        let c = &self.counters;
        Metrics {
            round_trips: c.round_trips.swap(0, Ordering::Relaxed),
            reported_units: c.reported_milli.swap(0, Ordering::Relaxed) as f64 / 1000.0,
            transaction_units: c.transaction_milli.swap(0, Ordering::Relaxed) as f64 / 1000.0,
            read_units: c.read_milli.swap(0, Ordering::Relaxed) as f64 / 1000.0,
            write_units: c.write_milli.swap(0, Ordering::Relaxed) as f64 / 1000.0,
            busy: std::time::Duration::from_micros(c.busy_micros.swap(0, Ordering::Relaxed)),
        }
    }

    /// Marks a round trip as started; `count` ends it.
    fn begin(&self) {
        let now = Instant::now();
        let mut in_flight = self.counters.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.0 == 0 {
            in_flight.1 = Some(now);
        }
        in_flight.0 += 1;
    }

    /// Counts one round trip, with the capacity it reported, and the wall time DynamoDB kept
    /// at least one call waiting.
    fn count<'a>(&self, call: Call, consumed: impl IntoIterator<Item = &'a ConsumedCapacity>) {
        self.counters.round_trips.fetch_add(1, Ordering::Relaxed);
        {
            let mut in_flight = self.counters.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            in_flight.0 = in_flight.0.saturating_sub(1);
            if in_flight.0 == 0 {
                if let Some(since) = in_flight.1.take() {
                    self.counters.busy_micros.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
                }
            }
        }
        let units: f64 = consumed.into_iter().filter_map(|c| c.capacity_units()).sum();
        let milli = (units * 1000.0).round() as u64;
        self.counters.reported_milli.fetch_add(milli, Ordering::Relaxed);
        match call {
            Call::Read => self.counters.read_milli.fetch_add(milli, Ordering::Relaxed),
            Call::Write => self.counters.write_milli.fetch_add(milli, Ordering::Relaxed),
            Call::Transaction => 0,
        };
    }

    /// Warms the connection (TLS and DNS) during init so the first request does not pay it.
    pub async fn warm_up(&self) {
        let _ = self.client.describe_table().table_name(&self.table).send().await;
    }
}

/// DynamoDB's limits on key values: longer ones cannot exist.
const MAX_PK_BYTES: usize = 2048;
const MAX_SK_BYTES: usize = 1024;

fn storable(key: &ItemKey) -> bool {
    !key.pk.is_empty() && !key.sk.is_empty() && key.pk.len() <= MAX_PK_BYTES && key.sk.len() <= MAX_SK_BYTES
}

/// Reads that meet a transaction in progress (TransactionConflict) are tried again after a
/// short jittered pause; the SDK already retries throttling and dropped connections.
async fn retry_conflicts<T, F, Fut>(mut read: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    for attempt in 0..3u64 {
        match read().await {
            Err(StoreError::Conflict) if attempt < 2 => {
                let pause = 20 * (attempt + 1) + rand::random::<u64>() % 20;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
    Err(StoreError::Conflict)
}

#[async_trait]
impl Store for DynamoStore {
    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError> {
        // A key over DynamoDB's size limits cannot name an item: not found, not an error.
        let keys: Vec<ItemKey> = keys.iter().filter(|k| storable(k)).cloned().collect();
        retry_conflicts(|| self.get_many_once(&keys)).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        if query.pk.len() > MAX_PK_BYTES || query.after.as_ref().is_some_and(|a| a.len() > MAX_SK_BYTES) {
            return Ok(Page { records: vec![], last_sort_key: None });
        }
        retry_conflicts(|| self.query_once(query)).await
    }

    async fn count(&self, index: crate::table::Index, pk: &str, cap: usize) -> Result<usize, StoreError> {
        if pk.len() > MAX_PK_BYTES {
            return Ok(0);
        }
        let (mut counted, mut start) = (0, None);
        loop {
            let left = cap.saturating_sub(counted);
            let (more, next) = retry_conflicts(|| self.count_once(index, pk, left, start.clone())).await?;
            counted += more;
            match next {
                Some(next) if counted < cap => start = Some(next),
                _ => return Ok(counted.min(cap)),
            }
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.transact_once(writes).await
    }

    async fn put_all(&self, records: Vec<Record>) -> Result<(), StoreError> {
        for chunk in records.chunks(25) {
            self.batch_put(chunk).await?;
        }
        Ok(())
    }

    async fn bump(&self, counter: &Counter) -> Result<bool, StoreError> {
        retry_conflicts(|| self.bump_once(counter)).await
    }

    async fn unbump(&self, counter: &Counter) -> Result<(), StoreError> {
        retry_conflicts(|| self.unbump_once(counter)).await.map(|_| ())
    }

    async fn next_request_number(&self, project: &str) -> Result<u64, StoreError> {
        retry_conflicts(|| self.next_request_number_once(project)).await
    }

    async fn change_load(&self, project: &str, agent: &str, change: LoadChange<'_>) -> Result<bool, StoreError> {
        retry_conflicts(|| self.change_load_once(project, agent, change)).await
    }
}
