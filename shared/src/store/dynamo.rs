//! DynamoDB implementation of the store. Every call asks for ConsumedCapacity and counts its
//! round trip, so the benchmark can report cost per operation.

use super::*;
use expr::{classify, expression, n, s};

#[path = "dynamo_expr.rs"]
mod expr;
use crate::items::dynamo::{from_item, item_size, key_item, to_item, Item};
use crate::model::RequestStatus;
use crate::table::{PK, SK, TTL_ATTRIBUTE};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ConsumedCapacity, Delete, KeysAndAttributes, Put, PutRequest,
    ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
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

    /// One BatchGetItem of up to 100 distinct keys, asking again for unprocessed keys.
    async fn batch_get(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError> {
        let mut records = Vec::with_capacity(keys.len());
        let mut pending: Vec<Item> = keys.iter().map(key_item).collect();
        // BatchGet may leave keys unprocessed under load; ask again for those only.
        for attempt in 0..5 {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))?;
            self.begin();
            let result = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            self.count(Call::Read, result.as_ref().map(|o| o.consumed_capacity()).unwrap_or_default());
            let out = result.map_err(classify)?;
            if let Some(mut responses) = out.responses {
                for item in responses.remove(&self.table).unwrap_or_default() {
                    records.push(from_item(item).map_err(StoreError::Other)?);
                }
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
            if pending.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable("batch get left keys unprocessed".into()));
        }
        Ok(records)
    }

    /// Warms the connection (TLS and DNS) during init so the first request does not pay it.
    pub async fn warm_up(&self) {
        let _ = self.client.describe_table().table_name(&self.table).send().await;
    }
}

/// A single write's failed condition, as a transaction would report it.
fn condition_failed(old: Option<Item>) -> StoreError {
    let old = old.filter(|i| !i.is_empty()).and_then(|i| from_item(i).ok());
    StoreError::ConditionFailed { failed: vec![0], old: vec![old] }
}

/// Write capacity of one transactional write by AWS's rules: 2 units per KB for the item,
/// plus 1 unit per KB for each index the item is written to.
fn transaction_units(item: &Item, indexes: usize) -> f64 {
    let kb = item_size(item).div_ceil(1024).max(1) as f64;
    2.0 * kb + kb * indexes as f64
}

/// A `Write::AddCounts`: the record's identity SET (so an item the ADD creates reads back as a
/// record), each count ADDed.
fn counts_update(
    table: &str,
    counts: &crate::model::StatsCounts,
) -> Result<aws_sdk_dynamodb::types::Update, StoreError> {
    let key = crate::items::stats_counts_key(&counts.project, &counts.scope, &counts.day);
    let mut names = HashMap::from([
        ("#type".to_string(), "type".to_string()),
        ("#project".to_string(), "project".to_string()),
        ("#scope".to_string(), "scope".to_string()),
        ("#day".to_string(), "day".to_string()),
    ]);
    let mut values = HashMap::from([
        (":type".to_string(), s("StatsCounts")),
        (":project".to_string(), s(&counts.project)),
        (":scope".to_string(), s(&counts.scope)),
        (":day".to_string(), s(&counts.day)),
    ]);
    let mut adds = vec![];
    for (i, (name, delta)) in counts.counts.iter().enumerate() {
        names.insert(format!("#c{i}"), name.clone());
        values.insert(format!(":c{i}"), n(delta));
        adds.push(format!("#c{i} :c{i}"));
    }
    let mut expression = "SET #type = :type, #project = :project, #scope = :scope, #day = :day".to_string();
    if !adds.is_empty() {
        expression.push_str(&format!(" ADD {}", adds.join(", ")));
    }
    aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(key_item(&key)))
        .update_expression(expression)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| StoreError::Other(e.to_string()))
}

/// The team item's update for a `Write::MoveLoads`: ADD and DELETE of one-id string sets on
/// each agent's `requests`, the version up by one, every agent on the team.
fn load_update(
    table: &str,
    project: &str,
    add: &[(String, String)],
    remove: &[(String, String)],
) -> Result<aws_sdk_dynamodb::types::Update, StoreError> {
    let mut names = HashMap::from([
        ("#agents".to_string(), "agents".to_string()),
        ("#requests".to_string(), "requests".to_string()),
        ("#version".to_string(), "version".to_string()),
    ]);
    let mut values = HashMap::from([(":one".to_string(), n(1))]);
    let (mut adds, mut deletes, mut exists) = (vec!["#version :one".to_string()], vec![], vec![]);
    for (i, (agent, request)) in add.iter().chain(remove).enumerate() {
        names.insert(format!("#a{i}"), agent.clone());
        values.insert(format!(":r{i}"), AttributeValue::Ss(vec![request.clone()]));
        let path = format!("#agents.#a{i}.#requests");
        exists.push(format!("attribute_exists(#agents.#a{i})"));
        if i < add.len() {
            adds.push(format!("{path} :r{i}"));
        } else {
            deletes.push(format!("{path} :r{i}"));
        }
    }
    let mut expression = format!("ADD {}", adds.join(", "));
    if !deletes.is_empty() {
        expression.push_str(&format!(" DELETE {}", deletes.join(", ")));
    }
    let mut update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(key_item(&crate::items::project_team_key(project))))
        .update_expression(expression)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values));
    if !exists.is_empty() {
        update = update.condition_expression(exists.join(" AND "));
    }
    update.build().map_err(|e| StoreError::Other(e.to_string()))
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

impl DynamoStore {
    /// One BatchWriteItem of up to 25 puts, sending again what DynamoDB left unprocessed.
    async fn batch_put(&self, records: &[Record]) -> Result<(), StoreError> {
        let mut pending: Vec<WriteRequest> = records
            .iter()
            .map(|r| {
                let put = PutRequest::builder().set_item(Some(to_item(r))).build();
                put.map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(|e| StoreError::Other(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        for attempt in 0..5 {
            self.begin();
            let result = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            let out = match result {
                Ok(out) => {
                    self.count(Call::Write, out.consumed_capacity());
                    out
                }
                Err(e) => {
                    self.count(Call::Write, None);
                    return Err(classify(e));
                }
            };
            pending = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
        }
        Err(StoreError::Unavailable("BatchWriteItem left items unprocessed".into()))
    }

    /// A single conditional Put or Delete, outside a transaction.
    async fn write_one(&self, write: &Write) -> Result<(), StoreError> {
        let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
        self.begin();
        let result = match write {
            Write::Put { record, condition } => {
                let mut put = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(to_item(record)))
                    .return_values_on_condition_check_failure(all_old)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total);
                if let Some((expr, names, values)) = expression(condition) {
                    put = put
                        .condition_expression(expr)
                        .set_expression_attribute_names(Some(names))
                        .set_expression_attribute_values((!values.is_empty()).then_some(values));
                }
                match put.send().await {
                    Ok(out) => Ok(out.consumed_capacity),
                    Err(SdkError::ServiceError(service)) if service.err().is_conditional_check_failed_exception() => {
                        use aws_sdk_dynamodb::operation::put_item::PutItemError;
                        match service.into_err() {
                            PutItemError::ConditionalCheckFailedException(e) => Err(condition_failed(e.item)),
                            _ => unreachable!("checked above"),
                        }
                    }
                    Err(e) => Err(classify(e)),
                }
            }
            Write::Delete { key, condition } => {
                let mut delete = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_item(key)))
                    .return_values_on_condition_check_failure(all_old)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total);
                if let Some((expr, names, values)) = expression(condition) {
                    delete = delete
                        .condition_expression(expr)
                        .set_expression_attribute_names(Some(names))
                        .set_expression_attribute_values((!values.is_empty()).then_some(values));
                }
                match delete.send().await {
                    Ok(out) => Ok(out.consumed_capacity),
                    Err(SdkError::ServiceError(service)) if service.err().is_conditional_check_failed_exception() => {
                        use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
                        match service.into_err() {
                            DeleteItemError::ConditionalCheckFailedException(e) => Err(condition_failed(e.item)),
                            _ => unreachable!("checked above"),
                        }
                    }
                    Err(e) => Err(classify(e)),
                }
            }
            Write::Check { .. } | Write::MoveLoads { .. } | Write::AddCounts { .. } => {
                return Err(StoreError::Other("only a Put or a Delete is written alone".into()))
            }
        };
        match result {
            Ok(consumed) => {
                self.count(Call::Write, consumed.as_ref());
                Ok(())
            }
            Err(e) => {
                self.count(Call::Write, None);
                Err(e)
            }
        }
    }

    async fn get_many_once(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError> {
        let mut records = Vec::with_capacity(keys.len());
        let mut unique: Vec<ItemKey> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.contains(key) {
                unique.push(key.clone());
            }
        }
        if unique.is_empty() {
            return Ok(records);
        }
        if let [key] = unique.as_slice() {
            self.begin();
            let result = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key_item(key)))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            self.count(Call::Read, result.as_ref().ok().and_then(|o| o.consumed_capacity()));
            let out = result.map_err(classify)?;
            if let Some(item) = out.item {
                records.push(from_item(item).map_err(StoreError::Other)?);
            }
            return Ok(records);
        }
        // BatchGetItem takes at most 100 distinct keys a call.
        for chunk in unique.chunks(100) {
            records.extend(self.batch_get(chunk).await?);
        }
        // Keep the caller's order: BatchGet answers in any order.
        records.sort_by_key(|r| {
            let k = r.key();
            unique.iter().position(|x| *x == k)
        });
        Ok(records)
    }

    async fn query_once(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_name, sk_name) = query.index.key_names();
        let mut names = HashMap::from([("#pk".to_string(), pk_name.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), s(&query.pk))]);
        let mut condition = "#pk = :pk".to_string();
        // A KEYS_ONLY index holds no status: the read-through filters instead.
        let keys_only = query.index.gsi().is_some_and(|g| g.keys_only);
        let filter = query.status.filter(|_| !keys_only).map(|status| {
            names.insert("#status".into(), "status".into());
            values.insert(":status".into(), s(status.as_str()));
            "#status = :status".to_string()
        });
        if let Some(after) = &query.after {
            names.insert("#sk".into(), sk_name.into());
            values.insert(":after".into(), s(after));
            condition.push_str(if query.newest_first { " AND #sk < :after" } else { " AND #sk > :after" });
        }
        self.begin();
        let result = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.gsi().map(|g| g.name.to_string()))
            .key_condition_expression(condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.newest_first)
            .limit(query.limit as i32)
            .consistent_read(query.index.gsi().is_none())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.count(Call::Read, result.as_ref().ok().and_then(|o| o.consumed_capacity()));
        let out = result.map_err(classify)?;
        let items = out.items.unwrap_or_default();
        let records = if keys_only {
            self.read_through(items, query.status).await?
        } else {
            items.into_iter().map(|i| from_item(i).map_err(StoreError::Other)).collect::<Result<Vec<_>, _>>()?
        };
        let last_sort_key = out.last_evaluated_key.and_then(|mut lek| match lek.remove(sk_name) {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        });
        Ok(Page { records, last_sort_key })
    }

    /// The items a KEYS_ONLY index named, read by their table keys in one BatchGet, in the
    /// index's order; the status filter applies to them (the index holds no status to filter).
    async fn read_through(
        &self,
        index_items: Vec<Item>,
        status: Option<RequestStatus>,
    ) -> Result<Vec<Record>, StoreError> {
        let key = |item: &Item, name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        let keys: Vec<ItemKey> =
            index_items.iter().filter_map(|i| Some(ItemKey { pk: key(i, PK)?, sk: key(i, SK)? })).collect();
        let found = self.get_many_once(&keys).await?;
        Ok(found
            .into_iter()
            .filter(|r| match (status, r) {
                (None, _) => true,
                (Some(want), Record::Request(req)) => req.status == want,
                (Some(_), _) => false,
            })
            .collect())
    }

    async fn transact_once(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // One item is atomic on its own: a conditional PutItem or DeleteItem costs half of
        // a one-write transaction and says the same when its condition fails.
        if let [single @ (Write::Put { .. } | Write::Delete { .. })] = writes.as_slice() {
            return self.write_one(single).await;
        }
        let mut items = Vec::with_capacity(writes.len());
        let mut units = 0.0;
        for write in &writes {
            let item = match write {
                Write::Put { record, condition } => {
                    let item = to_item(record);
                    let keys = record.index_keys();
                    let before = match condition {
                        Condition::Replaces { before, .. } => Some(before.as_ref()),
                        Condition::NotExists | Condition::NotExistsOrExpired(_) => None,
                        // An update of an item whose keys this write does not move.
                        _ => Some(&keys),
                    };
                    units += transaction_units(&item, keys.index_writes(before));
                    let mut put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
                    if let Some((expr, names, values)) = expression(condition) {
                        put = put
                            .condition_expression(expr)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values((!values.is_empty()).then_some(values));
                    }
                    TransactWriteItem::builder().put(put.build().map_err(|e| StoreError::Other(e.to_string()))?).build()
                }
                Write::Delete { key, condition } => {
                    units += 2.0;
                    let mut delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_item(key)))
                        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
                    if let Some((expr, names, values)) = expression(condition) {
                        delete = delete
                            .condition_expression(expr)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values((!values.is_empty()).then_some(values));
                    }
                    TransactWriteItem::builder()
                        .delete(delete.build().map_err(|e| StoreError::Other(e.to_string()))?)
                        .build()
                }
                Write::MoveLoads { project, add, remove } => {
                    units += 2.0;
                    let update = load_update(&self.table, project, add, remove)?;
                    TransactWriteItem::builder().update(update).build()
                }
                Write::AddCounts { counts } => {
                    units += 2.0;
                    TransactWriteItem::builder().update(counts_update(&self.table, counts)?).build()
                }
                Write::Check { key, condition } => {
                    units += 2.0;
                    let (expr, names, values) =
                        expression(condition).ok_or_else(|| StoreError::Other("a check needs a condition".into()))?;
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_item(key)))
                        .condition_expression(expr)
                        .set_expression_attribute_names(Some(names))
                        .set_expression_attribute_values((!values.is_empty()).then_some(values))
                        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                        .build()
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            items.push(item);
        }
        self.begin();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.counters.transaction_milli.fetch_add((units * 1000.0) as u64, Ordering::Relaxed);
        match result {
            Ok(out) => {
                self.count(Call::Transaction, out.consumed_capacity());
                Ok(())
            }
            Err(SdkError::ServiceError(service)) if service.err().is_transaction_canceled_exception() => {
                self.count(Call::Transaction, None);
                let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
                    cancelled,
                ) = service.into_err()
                else {
                    unreachable!("checked above")
                };
                let reasons = cancelled.cancellation_reasons();
                let failed: Vec<usize> = reasons
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(i, _)| i)
                    .collect();
                if failed.is_empty() && reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                    return Err(StoreError::Conflict);
                }
                if failed.is_empty() {
                    // Cancelled for another reason (throttling, capacity): transient.
                    let codes: Vec<_> = reasons.iter().filter_map(|r| r.code()).collect();
                    return Err(StoreError::Unavailable(format!("transaction cancelled: {codes:?}")));
                }
                let old = reasons
                    .iter()
                    .map(|r| r.item().cloned().filter(|i| !i.is_empty()).and_then(|i| from_item(i).ok()))
                    .collect();
                Err(StoreError::ConditionFailed { failed, old })
            }
            Err(e) => {
                self.count(Call::Transaction, None);
                Err(classify(e))
            }
        }
    }

    async fn next_request_number_once(&self, project: &str) -> Result<u64, StoreError> {
        self.begin();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&crate::items::project_key(project))))
            .update_expression("ADD #seq :one, #version :one")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#seq", "last_seq")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.count(Call::Write, result.as_ref().ok().and_then(|o| o.consumed_capacity()));
        let out = result.map_err(classify)?;
        match out.attributes.as_ref().and_then(|a| a.get("last_seq")) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| StoreError::Other(format!("bad counter {v}"))),
            _ => Err(StoreError::Other("the counter update returned no value".into())),
        }
    }

    /// One UpdateItem of the team item: the agent's load moves, and the version with it (a
    /// transaction that rewrites the item then sees the change).
    async fn change_load_once(&self, project: &str, agent: &str, change: LoadChange<'_>) -> Result<bool, StoreError> {
        let request = match change {
            LoadChange::Claim { request, .. } | LoadChange::Release { request } => request,
        };
        let mut values = HashMap::from([
            (":one".to_string(), n(1)),
            (":request".to_string(), AttributeValue::Ss(vec![request.into()])),
        ]);
        let mut names = HashMap::from([
            ("#agents".to_string(), "agents".to_string()),
            ("#id".to_string(), agent.to_string()),
            ("#requests".to_string(), "requests".to_string()),
            ("#version".to_string(), "version".to_string()),
        ]);
        let mut condition = "attribute_exists(#agents.#id)".to_string();
        let update = match change {
            LoadChange::Claim { cap, .. } => {
                // Room under the cap while available, or a retry of a claim that went through.
                let mut room = "#agents.#id.#available = :yes".to_string();
                if let Some(cap) = cap {
                    room.push_str(
                        " AND (attribute_not_exists(#agents.#id.#requests) OR size(#agents.#id.#requests) < :cap)",
                    );
                    values.insert(":cap".into(), n(cap));
                }
                condition.push_str(&format!(" AND (({room}) OR contains(#agents.#id.#requests, :key))"));
                values.insert(":yes".into(), AttributeValue::Bool(true));
                values.insert(":agent".into(), s(agent));
                values.insert(":key".into(), s(request));
                names.insert("#available".into(), "available".into());
                names.insert("#last".into(), "last_assigned".into());
                "ADD #agents.#id.#requests :request, #version :one SET #last = :agent"
            }
            LoadChange::Release { .. } => "DELETE #agents.#id.#requests :request ADD #version :one",
        };
        self.begin();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&crate::items::project_team_key(project))))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.applied(result)
    }

    /// A conditional UpdateItem's answer, counted: whether its condition held and it applied.
    fn applied<R: std::fmt::Debug>(
        &self,
        result: Result<UpdateItemOutput, SdkError<UpdateItemError, R>>,
    ) -> Result<bool, StoreError> {
        match result {
            Ok(out) => {
                self.count(Call::Write, out.consumed_capacity());
                Ok(true)
            }
            Err(SdkError::ServiceError(service)) if service.err().is_conditional_check_failed_exception() => {
                self.count(Call::Write, None);
                Ok(false)
            }
            Err(e) => {
                self.count(Call::Write, None);
                Err(classify(e))
            }
        }
    }

    async fn bump_once(&self, counter: &Counter) -> Result<bool, StoreError> {
        self.begin();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&counter.key)))
            .update_expression("ADD #hits :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#hits) OR #hits < :limit")
            .expression_attribute_names("#hits", "hits")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(counter.expires_at))
            .expression_attribute_values(":limit", n(counter.limit))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.applied(result)
    }

    async fn unbump_once(&self, counter: &Counter) -> Result<bool, StoreError> {
        self.begin();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&counter.key)))
            .update_expression("ADD #hits :minus_one")
            .condition_expression("#hits > :zero")
            .expression_attribute_names("#hits", "hits")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        // Not there or already zero: nothing to take back.
        self.applied(result)
    }
}
