//! The helpdesk's model crate, in three layers: `domain` (records, rules, use cases and typed
//! errors; no AWS or HTTP types), `store` (the single table: key formats, item mapping, the
//! DynamoDB and in-memory stores) and `web` (HTTP translation and the route table). Every
//! Lambda function and the local gateway build on it.

pub mod app;
pub mod domain;
pub mod error;
pub mod files;
pub mod invoke;
pub mod mailer;
pub mod mime;
pub mod search;
pub mod store;
#[cfg(test)]
pub mod testing;
pub mod text;
pub mod web;

pub use app::{App, Config};
pub use domain::{
    access, auth, blocklist, caller, model, moderation, organizations, participants, projects, requests, rules,
};
pub use error::ApiError;
pub use store::{items, table};
pub use web::{http, routes};
