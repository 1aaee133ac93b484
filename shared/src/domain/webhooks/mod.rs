//! Webhooks (PRODUCT.md "Automations and webhooks"): a project's targets get its events as
//! signed POSTs.
//!
//! How a delivery travels: the automations function, reading the table's stream, writes a
//! delivery for each target that asked for the event (or that a rule's `webhook` action names),
//! in one transaction with its run claim, and hands it to the sender function by an
//! asynchronous invoke. The sender (`functions/webhooks`, which touches nothing else) posts it
//! and records the attempt. A failed attempt leaves an alarm in the scheduler's hourly
//! partitions; the scheduler hands it to the sender again when it is due. Nothing polls: at
//! rest, webhooks cost nothing.
//!
//! - `records`: targets, secrets, deliveries, retries, the admins' notices.
//! - `targets`: the admins' routes.
//! - `deliveries`: the body, the signature, the backoff, one attempt.

pub mod deliveries;
pub mod records;
pub mod targets;
