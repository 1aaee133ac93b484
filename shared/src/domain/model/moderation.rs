//! Moderation: suspensions, a user's audit trail, and the blocklist's rules.

use super::{EmailAddress, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspension {
    /// ULID: names every audit entry of this suspension, so retries write no duplicates.
    pub id: String,
    pub reason: String,
    #[serde(default)]
    pub request: Option<String>,
    pub by: EmailAddress,
    pub at: Timestamp,
    /// The blocklist rules this suspension added, removed again on unsuspend.
    pub rules: Vec<RuleRef>,
}

/// One rule of the blocklist: a pattern in a scope (None: app-wide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub pattern: String,
    #[serde(default)]
    pub project: Option<String>,
}

/// An append-only entry of a user's audit trail (notes are entries too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub user_id: String,
    /// Sorts entries in time: a ULID, or a suspension's ULID and a step suffix.
    pub id: String,
    pub actor_id: String,
    pub actor_email: EmailAddress,
    /// `suspended`, `note`, `rule_added`, `request_closed`, `sessions_ended`, `unsuspended`, `rule_removed`.
    pub action: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub request: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockAction {
    /// Refused on every channel.
    Reject,
    /// Accepted but held for review, out of the agents' queue until released.
    Suspend,
}

/// The scope key of app-wide rules in `BlockPattern::rules`.
pub const APP_SCOPE: &str = "*";

/// Every rule of one pattern (an address or `*@domain`), by scope: `*` app-wide, or a
/// project key. One item per pattern, so one check or read finds all its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockPattern {
    pub pattern: String,
    pub rules: BTreeMap<String, BlockAction>,
    pub version: u64,
}

/// A blocklist rule as its scope's list shows it: `reject:alice@example.com` in project HD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRule {
    /// The address, or `*@domain`.
    pub pattern: String,
    /// None: app-wide. Some(project): that project's channels only.
    #[serde(default)]
    pub project: Option<String>,
    pub action: BlockAction,
    pub created_by: EmailAddress,
    pub created_at: Timestamp,
    /// The user whose suspension added it, if one did.
    #[serde(default)]
    pub suspension_of: Option<String>,
}

impl BlockRule {
    pub fn text(&self) -> String {
        crate::domain::blocklist::rule_text(self.action, &self.pattern)
    }
    pub fn id(&self) -> RuleRef {
        RuleRef { pattern: self.pattern.clone(), project: self.project.clone() }
    }
}
