//! DynamoDB errors and condition expressions, as the store's own types.

use super::{Condition, StoreError, PK};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub(super) fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    err: SdkError<E, R>,
) -> StoreError {
    match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown");
            match code {
                "TransactionConflictException" => StoreError::Conflict,
                "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "ThrottlingException"
                | "TransactionInProgressException"
                | "InternalServerError"
                | "ServiceUnavailable" => StoreError::Unavailable(code.to_string()),
                _ => StoreError::Other(format!("{code}: {}", service.err().message().unwrap_or(""))),
            }
        }
        // Timeouts, connection failures and unreadable responses: the store is not there.
        _ => StoreError::Unavailable(format!("{err:?}")),
    }
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A condition expression with its attribute names and values.
type Expression = (String, HashMap<String, String>, HashMap<String, AttributeValue>);

/// A condition as a DynamoDB expression with its names and values.
pub(super) fn expression(condition: &Condition) -> Option<Expression> {
    let names = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let values = |pairs: Vec<(&str, AttributeValue)>| pairs.into_iter().map(|(a, b)| (a.to_string(), b)).collect();
    match condition {
        Condition::None => None,
        Condition::NotExists => Some(("attribute_not_exists(#pk)".into(), names(&[("#pk", PK)]), HashMap::new())),
        Condition::Exists => Some(("attribute_exists(#pk)".into(), names(&[("#pk", PK)]), HashMap::new())),
        Condition::VersionIs(v) | Condition::Replaces { version: v, .. } => {
            Some(("#version = :version".into(), names(&[("#version", "version")]), values(vec![(":version", n(v))])))
        }
        Condition::NotExistsOrExpired(now) => Some((
            "attribute_not_exists(#pk) OR #expires <= :now".into(),
            names(&[("#pk", PK), ("#expires", "expires_at")]),
            values(vec![(":now", n(now))]),
        )),
        Condition::ExistsUnexpired(now) => Some((
            "attribute_exists(#pk) AND #expires > :now".into(),
            names(&[("#pk", PK), ("#expires", "expires_at")]),
            values(vec![(":now", n(now))]),
        )),
    }
}
