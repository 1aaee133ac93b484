//! Records, rules and use cases. Use cases take a `Caller` and typed input and return typed
//! values or an `ApiError`; they never see HTTP, HTML or DynamoDB attribute values.
//!
//! Each use case resolves its caller first (with the route's items, in one BatchGet), then
//! authorizes through `access`, and only then looks at the body: a body that did not parse
//! arrives as `Input::Err` and is reported after the caller is known to be allowed.

pub mod access;
pub mod attachments;
pub mod auth;
pub mod authors;
pub mod blocklist;
pub mod caller;
pub mod desk;
pub mod email;
pub mod emails;
pub mod forms;
pub mod idempotency;
pub mod inbound;
pub mod macros;
pub mod model;
pub mod moderation;
pub mod notify;
pub mod organizations;
pub mod participants;
pub mod portal;
pub mod projects;
pub mod public_links;
pub mod reply_address;
pub mod requests;
pub mod retry;
pub mod rules;
#[cfg(test)]
mod rules_tests;
pub mod signing;
pub mod sla;
pub mod tags;
pub mod team;

/// A body as the channel read it: the value, or why it could not be read.
pub type Input<T> = Result<T, crate::error::ApiError>;

/// For `Option<Option<T>>` fields of a PATCH: a field given (even as null) is `Some`; absent
/// stays `None` by `#[serde(default)]`.
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
