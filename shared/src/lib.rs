//! The helpdesk's model crate: domain types and rules, typed errors, the single-table store
//! and the HTTP translation shared by every Lambda function and the local gateway.

pub mod app;
pub mod auth;
pub mod error;
pub mod http;
pub mod items;
pub mod mailer;
pub mod model;
pub mod moderation;
pub mod organizations;
pub mod participants;
pub mod projects;
pub mod requests;
pub mod routes;
pub mod store;
pub mod table;
#[cfg(test)]
pub mod testing;
pub mod text;

pub use app::{App, Config};
pub use error::ApiError;
