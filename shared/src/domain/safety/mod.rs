//! Keeping abusers out: blocklist rules (`rules`, matched by `blocklist`), suspensions and
//! notes on people (`moderation`), and the audit trail of it all.

pub mod audit;
pub mod blocklist;
pub mod moderation;
pub mod rules;
#[cfg(test)]
mod rules_tests;
