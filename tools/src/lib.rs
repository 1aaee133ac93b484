//! The helpdesk on localhost: the template reader (table and routes), the local gateway
//! that serves every route with the Lambda handlers, and the demo seed.

pub mod function;
pub mod gateway;
pub mod invoke;
pub mod local;
pub mod local_mail;
pub mod openapi;
pub mod stream;
pub mod template;
