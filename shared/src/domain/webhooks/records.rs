//! What webhooks keep in the table.

use crate::domain::automations::rules::Trigger;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};

/// How a delivery's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// `{event, project, request, comment?, at, delivery}`.
    #[default]
    Json,
    /// Slack's incoming-webhook body, `{text}`.
    Slack,
}

/// A place the project's events are posted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookTarget {
    pub id: String,
    pub url: String,
    pub events: Vec<Trigger>,
    #[serde(default)]
    pub format: WebhookFormat,
    pub enabled: bool,
    /// Since when every attempt failed (None: the last one succeeded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// The last failed attempt: a failure long after it starts a new spell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failed_at: Option<Timestamp>,
    /// When 24 hours of failures switched it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A project's targets, in one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectWebhooks {
    pub project: String,
    pub targets: Vec<WebhookTarget>,
    pub version: u64,
}

/// A target's signing secret, apart from the target: only the sender function's policy may
/// read its partition (`WHSECRET#`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSecret {
    pub target: String,
    pub secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Given up: 24 hours of failures, or its target removed or switched off.
    Failed,
}

/// One try, as the delivery log lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub at: Timestamp,
    /// The target's answer; None when there was none (refused address, timeout, no route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub ms: u32,
}

/// One event to post to one target, and its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub target: String,
    /// ULID: deliveries list newest first by it.
    pub id: String,
    pub project: String,
    pub request_key: String,
    pub event: Trigger,
    pub body: String,
    pub state: DeliveryState,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<DeliveryAttempt>,
    /// When the scheduler next hands it to the sender (its `WebhookRetry` alarm's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub version: u64,
}

/// The scheduler's reminder to try a delivery again, in the hourly alarm partitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRetry {
    pub project: String,
    pub target: String,
    pub delivery: String,
    pub at: Timestamp,
}

/// Something the project's admins are told by email (a webhook switched off); the notifier
/// sends it from the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminNotice {
    pub project: String,
    pub id: String,
    pub subject: String,
    pub body: String,
    pub created_at: Timestamp,
}
