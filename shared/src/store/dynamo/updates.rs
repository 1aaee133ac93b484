//! Single-item UpdateItem calls: the project's request counter, an agent's load, and the
//! rate-limit counters.

use super::expr::{classify, n, s};
use super::{Call, DynamoStore};
use crate::items::dynamo::key_item;
use crate::store::{Counter, LoadChange, StoreError};
use crate::table::{PK, TTL_ATTRIBUTE};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use std::collections::HashMap;

impl DynamoStore {
    pub(super) async fn next_request_number_once(&self, project: &str) -> Result<u64, StoreError> {
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
    pub(super) async fn change_load_once(
        &self,
        project: &str,
        agent: &str,
        change: LoadChange<'_>,
    ) -> Result<bool, StoreError> {
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

    pub(super) async fn bump_once(&self, counter: &Counter) -> Result<bool, StoreError> {
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

    pub(super) async fn unbump_once(&self, counter: &Counter) -> Result<bool, StoreError> {
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
