//! Reads: GetItem, BatchGetItem (100 keys a call, unprocessed keys asked again) and Query,
//! with the read-through of KEYS_ONLY indexes.

use super::expr::{classify, s};
use super::{Call, DynamoStore};
use crate::items::dynamo::{from_item, key_item, Item};
use crate::items::ItemKey;
use crate::model::{Record, RequestStatus};
use crate::store::{Page, Query, StoreError};
use crate::table::{PK, SK};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnConsumedCapacity, Select};
use std::collections::HashMap;

impl DynamoStore {
    pub(super) async fn get_many_once(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError> {
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

    /// One page of a Query with `Select=COUNT`, reading at most `limit` items: how many, and
    /// where to go on.
    pub(super) async fn count_once(
        &self,
        index: crate::table::Index,
        pk: &str,
        limit: usize,
        start: Option<HashMap<String, AttributeValue>>,
    ) -> Result<(usize, Option<HashMap<String, AttributeValue>>), StoreError> {
        let (pk_name, _) = index.key_names();
        self.begin();
        let result = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.gsi().map(|g| g.name.to_string()))
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(pk))
            .select(Select::Count)
            // The limit is what bounds the read (and its cost): without it one page reads 1 MB.
            .limit(limit.clamp(1, i32::MAX as usize) as i32)
            .set_exclusive_start_key(start)
            .consistent_read(index.gsi().is_none())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.count(Call::Read, result.as_ref().ok().and_then(|o| o.consumed_capacity()));
        let out = result.map_err(classify)?;
        Ok((out.count.max(0) as usize, out.last_evaluated_key))
    }

    pub(super) async fn query_once(&self, query: &Query) -> Result<Page, StoreError> {
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
}
