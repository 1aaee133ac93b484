//! Service levels: a project's targets, a request's clocks, and the scheduler's alarms and
//! cursor.

use super::{Priority, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A project's service levels, as the admin wrote them (checked by `sla::calendar_of`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    /// An IANA time zone name.
    pub timezone: String,
    /// `mon`..`sun` -> `["09:00", "17:00"]`; a day not named is closed.
    pub hours: BTreeMap<String, Vec<String>>,
    /// `YYYY-MM-DD` dates in the time zone: closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Per priority; a target not named has no clock.
    #[serde(default)]
    pub targets: BTreeMap<Priority, SlaTargets>,
}

/// Durations in business time: `30m`, `4h`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// A request's clocks (agents only): each target it has, and how it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSla {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_reply: Option<SlaClock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reply: Option<SlaClock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<SlaClock>,
    /// When the scheduler next has work on this request (its `SlaAlarm` item's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_at: Option<Timestamp>,
}

/// One target's clock. It counts business seconds while it runs; pending pauses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    /// Business seconds the target allows.
    pub target: i64,
    /// Business seconds counted before `running_since`.
    pub used: i64,
    /// Since when it counts; None while paused or stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_since: Option<Timestamp>,
    /// When it runs out, while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
    /// When it ran out unmet (the due time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    /// When three quarters of it will have run, while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_at: Option<Timestamp>,
    /// When the scheduler warned of it (once per clock run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
}

/// The scheduler's work item: a request whose clock warns or runs out at `at`. Kept in
/// hourly partitions (`ALARM#<hour>`), written and removed with the request's own change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaAlarm {
    pub request_key: String,
    pub at: Timestamp,
}

/// How far the scheduler has worked: every alarm in an hour before `done_before_hour` is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerCursor {
    pub done_before_hour: i64,
    pub version: u64,
}
