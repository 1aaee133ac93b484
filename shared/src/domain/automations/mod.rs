//! Automations (PRODUCT.md "Automations and webhooks"): a project's rules, as data, that act on
//! requests while the team is away.
//!
//! Where they run: from the table's stream (`functions/automations`), not in the transaction
//! of the change that triggers them. Every channel (API, pages, email, public links, the
//! scheduler's clocks) already writes its change through the table, so one consumer sees them
//! all without any channel reading the rules on its own path: a reply costs what it did before
//! (no extra read, no extra write units) whether or not the project has rules. A rule acts
//! about a second later, in its own transaction with its run claim. Time rules run in the
//! scheduler (`timer`), hourly.
//!
//! - `rules`: what a rule is, its checks, the three rules every project starts with (off).
//! - `events`: which events a change of an item means, and whether a rule's conditions hold.
//! - `engine`: fires the matching rules of an event, once each.
//! - `timer`: the hourly sweep of time rules.
//! - `manage`: the admins' routes.

pub mod engine;
pub mod events;
pub mod manage;
pub mod records;
pub mod rules;
pub mod timer;

pub use engine::{on_event, Fired};
pub use events::{events_of, AutoEvent, AUTOMATION_AUTHOR};
