//! DynamoDB item mapping (serde_dynamo): a record's fields, its `type` tag, and the keys
//! `Record::index_keys` gives it.

use super::*;
use crate::table::{GSIS, PK, SK, TTL_ATTRIBUTE};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub fn key_item(key: &ItemKey) -> Item {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.pk.clone())),
        (SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

pub fn to_item(record: &Record) -> Item {
    let mut item: Item = serde_dynamo::to_item(record).expect("records always serialise");
    let keys = record.index_keys();
    item.extend(key_item(&keys.primary()));
    for (gsi, pair) in keys.gsis() {
        if let Some((p, s)) = pair {
            item.insert(gsi.pk.to_string(), AttributeValue::S(p.clone()));
            item.insert(gsi.sk.to_string(), AttributeValue::S(s.clone()));
        }
    }
    if let Some(ttl) = keys.ttl {
        item.insert(TTL_ATTRIBUTE.to_string(), AttributeValue::N(ttl.to_string()));
    }
    item
}

pub fn from_item(mut item: Item) -> Result<Record, String> {
    for name in [PK, SK, TTL_ATTRIBUTE].into_iter().chain(GSIS.iter().flat_map(|g| [g.pk, g.sk])) {
        item.remove(name);
    }
    serde_dynamo::from_item(item).map_err(|e| e.to_string())
}

/// The old and new images of a stream record whose partition key starts with one of
/// `prefixes` (request partitions: requests, comments, automations' emails; admins'
/// notices), as records; None for every other partition, the signing keys above all,
/// which are never even decoded.
pub fn stream_images(
    record: &aws_lambda_events::dynamodb::EventRecord,
    prefixes: &[&str],
) -> Option<(Option<Record>, Option<Record>)> {
    let pk = match record.change.keys.get(PK) {
        Some(serde_dynamo::AttributeValue::S(s)) => s.as_str(),
        _ => return None,
    };
    if !prefixes.iter().any(|p| pk.starts_with(p)) {
        return None;
    }
    let image = |item: &serde_dynamo::Item| -> Option<Record> {
        if item.is_empty() {
            return None;
        }
        let map: Item = item.clone().into();
        match from_item(map) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, "undecodable stream image skipped");
                None
            }
        }
    };
    Some((image(&record.change.old_image), image(&record.change.new_image)))
}

/// The key of the request whose partition a stream record wrote (its request, comments,
/// files, tags or participants); None for every other partition.
pub fn stream_request_key(record: &aws_lambda_events::dynamodb::EventRecord) -> Option<String> {
    match record.change.keys.get(PK) {
        Some(serde_dynamo::AttributeValue::S(pk)) => pk.strip_prefix(REQUEST_PARTITION_PREFIX).map(str::to_string),
        _ => None,
    }
}

/// DynamoDB's size of an item (attribute names plus values), for capacity estimates.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::L(l) => 3 + l.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, x)| 1 + k.len() + value_size(x)).sum::<usize>(),
        AttributeValue::Ss(s) => s.iter().map(|x| x.len()).sum(),
        AttributeValue::Ns(s) => s.iter().map(|x| x.len().div_ceil(2) + 1).sum(),
        _ => 1,
    }
}
