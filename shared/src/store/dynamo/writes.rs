//! Writes: BatchWriteItem for bulk puts, a lone conditional Put or Delete, and transactions
//! (with their capacity counted by AWS's rules and their cancellation reasons read back).

use super::expr::{classify, expression, n, s};
use super::{Call, DynamoStore};
use crate::items::dynamo::{from_item, item_size, key_item, to_item, Item};
use crate::model::Record;
use crate::store::{Condition, StoreError, Write};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, PutRequest, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, WriteRequest,
};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// A single write's failed condition, as a transaction would report it.
fn condition_failed(old: Option<Item>) -> StoreError {
    let old = old.filter(|i| !i.is_empty()).and_then(|i| from_item(i).ok());
    StoreError::ConditionFailed { failed: vec![0], old: vec![old] }
}

/// Write capacity of one transactional write by AWS's rules: 2 units per KB for the item,
/// plus what its index writes cost (`IndexKeys::index_units`).
fn transaction_units(item: &Item, keys: &crate::items::IndexKeys, before: Option<&crate::items::IndexKeys>) -> f64 {
    let kb = item_size(item).div_ceil(1024).max(1);
    (2 * kb + keys.index_units(before, kb)) as f64
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

impl DynamoStore {
    /// One BatchWriteItem of up to 25 puts, sending again what DynamoDB left unprocessed.
    pub(super) async fn batch_put(&self, records: &[Record]) -> Result<(), StoreError> {
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

    pub(super) async fn transact_once(&self, writes: Vec<Write>) -> Result<(), StoreError> {
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
                    units += transaction_units(&item, &keys, before);
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
        // The SDK retries an attempt that timed out, which may have committed: with one token
        // for all attempts DynamoDB answers the retry as the commit it was (for 10 minutes),
        // instead of failing its conditions and making the caller do the work twice.
        // A retry that finds its first attempt still running is asked again, shortly.
        let token = crate::text::new_ulid();
        let mut waits = 0;
        let result = loop {
            let sent = self
                .client
                .transact_write_items()
                .client_request_token(&token)
                .set_transact_items(Some(items.clone()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            match &sent {
                Err(SdkError::ServiceError(e)) if e.err().is_transaction_in_progress_exception() && waits < 5 => {
                    waits += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 << waits)).await;
                }
                _ => break sent,
            }
        };
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
}
