//! What automations keep in the table besides the rules themselves.

use crate::model::Timestamp;
use serde::{Deserialize, Serialize};

/// A rule that fired on an event of a request: written in the same transaction as what the
/// rule did, on condition that it is new, so a redelivered event fires nothing twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomationRun {
    pub request_key: String,
    pub rule: String,
    pub event: String,
    pub at: Timestamp,
    pub expires_at: Timestamp,
}

/// When a rule last fired, and what it could not do then (for the console's list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomationFired {
    pub project: String,
    pub rule: String,
    pub at: Timestamp,
    pub request_key: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoMailKind {
    Acknowledgement,
    Reminder,
}

/// An email an automation asked for (an acknowledgement, a reminder): the notifier sends it to
/// the requester from the stream, like every other mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoMail {
    pub request_key: String,
    /// Derived from the rule and the event: a redelivered event asks once.
    pub id: String,
    pub kind: AutoMailKind,
    pub body: String,
    pub rule: String,
    pub created_at: Timestamp,
}

/// The projects that have time rules switched on: what the scheduler sweeps each hour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeRuleProjects {
    pub projects: std::collections::BTreeSet<String>,
    pub version: u64,
}
