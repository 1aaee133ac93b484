//! What reports keep in the table: per request, what the aggregates already counted of it (the
//! ledger); per project, scope and day, the counts themselves.

use crate::model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A satisfaction rating's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Good,
    Bad,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::Bad => "bad",
        }
    }

    pub fn parse(text: &str) -> Option<Rating> {
        match text {
            "good" => Some(Rating::Good),
            "bad" => Some(Rating::Bad),
            _ => None,
        }
    }
}

/// A requester's rating of a request (agents see it; other customers never do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    pub rating: Rating,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who rated (a user id).
    pub by: String,
    pub at: Timestamp,
    /// When it was first rated: a changed rating stays counted on that day.
    pub first_at: Timestamp,
}

/// Which service-level target an SLA count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    FirstReply,
    NextReply,
    Resolution,
}

impl SlaTarget {
    pub const ALL: [SlaTarget; 3] = [SlaTarget::FirstReply, SlaTarget::NextReply, SlaTarget::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::FirstReply => "first_reply",
            SlaTarget::NextReply => "next_reply",
            SlaTarget::Resolution => "resolution",
        }
    }
}

/// What of a request the aggregates depend on. Counts move by the difference between the view
/// last counted and the request's view now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    pub status: crate::model::RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<Timestamp>,
    /// Per target (first reply, next reply, resolution): when its clock was last met and last
    /// breached.
    #[serde(default)]
    pub sla: [(Option<Timestamp>, Option<Timestamp>); 3],
    /// The rating, the day it counts on, and the agent it counts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<(Rating, Timestamp, Option<String>)>,
}

/// One thing that happened to a request, as reports count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatEvent {
    pub at: Timestamp,
    /// The assignee it counts for (None: unassigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub kind: StatKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatKind {
    Created,
    /// Closed, after this many (business) seconds since it was created.
    Closed(i64),
    Reopened,
    /// Joined (+1) or left (-1) the backlog (open or pending) of its assignee.
    Backlog(i64),
    /// First public reply, this many (business) seconds after creation.
    FirstReply(i64),
    SlaMet(SlaTarget),
    SlaBreached(SlaTarget),
    /// A rating counted (+1) or taken back (-1) when it changed.
    Csat(Rating, i64),
}

/// Per request: the request version the aggregates have counted, its view then, and every
/// event counted (`rebuild-stats` sums these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsLedger {
    pub project: String,
    pub request_key: String,
    pub version: u64,
    /// None once the request was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<StatsView>,
    #[serde(default)]
    pub events: Vec<StatEvent>,
}

/// One scope's counts on one day (`YYYY-MM-DD` in the project's time zone), or its running
/// totals (`day` = `TOTAL_DAY`). Each count is its own attribute, so adding to one is an
/// `ADD` that also creates the item.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StatsCounts {
    pub project: String,
    /// `ALL`, or `A#<agent id>` (`A#none`: unassigned).
    pub scope: String,
    pub day: String,
    #[serde(flatten)]
    pub counts: BTreeMap<String, i64>,
}

/// The `day` of a scope's running totals: sorts after every date.
pub const TOTAL_DAY: &str = "~total";
/// The scope of a whole project's counts.
pub const ALL_SCOPE: &str = "ALL";

pub fn agent_scope(agent: Option<&str>) -> String {
    format!("A#{}", agent.unwrap_or(crate::items::UNASSIGNED))
}
