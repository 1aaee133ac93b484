//! The HTTP edge: request parsing, replies and the route table.

pub mod http;
pub mod json;
pub mod reports;
pub mod routes;
