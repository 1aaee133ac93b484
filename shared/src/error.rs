//! Typed errors of the domain layer. Each maps to one HTTP status and one stable code.

use crate::store::StoreError;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// Every problem of a body at once, in the form's order (never empty); its code is the
    /// first problem's.
    #[error("{}", fields_message(.0))]
    Fields(Vec<FieldProblem>),
    #[error("sign in first: a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// Forbidden for a reason the caller can act on, with its own code.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("no route for this method and path")]
    RouteNotFound,
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    /// `If-Match` named a version the request has moved past: the current one comes back.
    #[error("the request changed since version {0}; here is the current one")]
    StaleRequest(u64, Box<crate::model::Request>),
    #[error("storage is unavailable, try again")]
    StorageUnavailable,
    #[error("internal error")]
    Internal(String),
}

/// One thing wrong with one field of a body: `summary`, `description`, `fields.<key>`...,
/// with a message in plain words for the person filling it in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        FieldProblem { field: field.into(), code, message: message.into() }
    }
}

/// `<field>: <message>` of the first problem (what one-error clients read), and how many more.
fn fields_message(problems: &[FieldProblem]) -> String {
    let Some(first) = problems.first() else { return "invalid fields".into() };
    match problems.len() {
        1 => format!("{}: {}", first.field, first.message),
        n => format!("{}: {} (and {} more: see errors)", first.field, first.message, n - 1),
    }
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest { .. } => 400,
            ApiError::Unauthorized => 401,
            ApiError::Forbidden(_) | ApiError::Refused { .. } => 403,
            ApiError::NotFound(_) | ApiError::RouteNotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::Conflict { .. } => 409,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::StaleRequest(..) => 412,
            ApiError::Invalid { .. } | ApiError::Fields(_) => 422,
            ApiError::StorageUnavailable => 503,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Invalid { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Refused { code, .. } => code,
            ApiError::Fields(problems) => problems.first().map_or("invalid_field", |p| p.code),
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::RouteNotFound => "route_not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::StaleRequest(..) => "stale_request",
            ApiError::StorageUnavailable => "storage_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The message shown to the caller; internal details stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid { code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) | StoreError::Conflict => ApiError::StorageUnavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// Whether trying again later may succeed (event-driven functions retry these and drop
    /// the rest: a malformed email stays malformed however often SES delivers it).
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::StorageUnavailable | ApiError::Internal(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_storage_and_internal_errors_are_worth_retrying() {
        assert!(ApiError::StorageUnavailable.is_transient());
        assert!(ApiError::Internal("x".into()).is_transient());
        for permanent in
            [ApiError::Unauthorized, ApiError::NotFound("request"), ApiError::invalid("invalid_field", "x")]
        {
            assert!(!permanent.is_transient(), "{permanent:?}");
        }
    }
}
