//! Requests and what hangs off them: status, priority, assignee, comments, history,
//! participants, tags, idempotency records and who is viewing one.

use super::{Csat, EmailAddress, RequestSla, Timestamp, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Open,
    /// Waiting on the customer: a public reply from the customer side moves it back to open.
    Pending,
    Closed,
}

/// How urgent a request is; old items without one read as `normal`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A public comment's author (`author_tag`) and the request version it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicMark {
    pub version: u64,
    pub by: String,
}

/// The end of a user id (a ULID's random part): enough to tell a request's few authors apart,
/// and short, since every write of the request and its index copies carries the marks.
pub fn author_tag(user_id: &str) -> String {
    user_id.chars().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect()
}

/// The marks as one string, `"12.ABCDEFGHJK 14.MNPQRSTVWX"`: a third of a list of maps.
mod compact_marks {
    use super::PublicMark;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(marks: &[PublicMark], s: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = marks.iter().map(|m| format!("{}.{}", m.version, m.by)).collect();
        s.serialize_str(&text.join(" "))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PublicMark>, D::Error> {
        let text = String::deserialize(d)?;
        Ok(text
            .split_whitespace()
            .filter_map(|m| {
                let (version, by) = m.split_once('.')?;
                Some(PublicMark { version: version.parse().ok()?, by: by.to_string() })
            })
            .collect())
    }
}

/// How many public comments a request remembers for the collision guard: a view older than
/// all of them counts as stale, which costs a "Send anyway" at worst.
pub const RECENT_PUBLIC: usize = 4;

/// The agent who owns a request (agents only ever see it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: String,
    pub email: EmailAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Assignee {
    pub fn of(user: &User) -> Assignee {
        Assignee { id: user.id.clone(), email: user.email.clone(), name: user.name.clone() }
    }
}

impl Request {
    /// Its latest activity as agents see it: the last change customers saw, or the last
    /// internal note when that came later. The console's queue sorts and marks by it.
    pub fn activity_at(&self) -> Timestamp {
        self.noted_at.map_or(self.updated_at, |noted| noted.max(self.updated_at))
    }

    /// The nearest due time of its running service-level clocks (overdue ones included).
    pub fn nearest_due(&self) -> Option<Timestamp> {
        let sla = self.sla.as_ref()?;
        [&sla.first_reply, &sla.next_reply, &sla.resolution]
            .into_iter()
            .flatten()
            .filter(|c| c.running_since.is_some())
            .filter_map(|c| c.due_at)
            .min()
    }

    /// Records a public reply for the SLA stage: by an agent or by the customer side.
    /// Whether someone other than `reader` wrote publicly after version `seen`.
    pub fn written_since(&self, seen: u64, reader: &str) -> bool {
        let reader = author_tag(reader);
        self.recent_public.iter().any(|m| m.version > seen && m.by != reader)
            // Older than what the request remembers: assume someone did.
            || (self.recent_public.len() >= RECENT_PUBLIC && self.recent_public[0].version > seen)
    }

    /// Remembers a public comment by `author` in the change that makes the next version.
    pub fn mark_public(&mut self, author: &str) {
        self.recent_public.push(PublicMark { version: self.version + 1, by: author_tag(author) });
        let excess = self.recent_public.len().saturating_sub(RECENT_PUBLIC);
        self.recent_public.drain(..excess);
    }

    /// A customer-side reply also answers what a pending request waits for: it is open again.
    /// On a request closed within `reopen_days` it reopens it (by `author`, whom the notifier
    /// then does not tell of their own reopening); an older close stays closed.
    pub fn record_public_reply(&mut self, by_agent: bool, at: Timestamp, author: &str, reopen_days: u32) {
        if by_agent {
            self.first_response_at.get_or_insert(at);
        } else if self.status == RequestStatus::Pending {
            self.status = RequestStatus::Open;
        } else if self.status == RequestStatus::Closed && self.reopens_on_reply(at, reopen_days) {
            self.status = RequestStatus::Open;
            self.status_by = Some(author.to_string());
        }
        self.customer_spoke_last = !by_agent;
    }

    /// Whether a customer's reply at `at` reopens this closed request. One closed before its
    /// close time was kept counts from its last public change.
    pub fn reopens_on_reply(&self, at: Timestamp, reopen_days: u32) -> bool {
        let closed = self.closed_at.unwrap_or(self.updated_at);
        reopen_days > 0 && at <= closed + i64::from(reopen_days) * 86_400
    }
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Pending => "pending",
            RequestStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        RequestStatus::ALL.into_iter().find(|status| status.as_str() == s)
    }
    /// Every status, in the order the queue tabs show them.
    pub const ALL: [RequestStatus; 3] = [RequestStatus::Open, RequestStatus::Pending, RequestStatus::Closed];
    /// Open or pending: still the team's work (an agent's load, a suspension closes these).
    pub fn is_active(self) -> bool {
        self != RequestStatus::Closed
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Human key, `HD-42`.
    pub key: String,
    pub project: String,
    /// ULID: orders requests by creation time in every list.
    pub id: String,
    pub summary: String,
    pub description: String,
    #[serde(default)]
    pub form: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    pub status: RequestStatus,
    #[serde(default)]
    pub priority: Priority,
    /// The agent who owns it; None: unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    /// Who made the last assignment when it was not the assignee (an agent who takes a
    /// request is not emailed about it; automatic assignment emails as a new request does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_by: Option<String>,
    pub reporter_id: String,
    pub reporter_email: EmailAddress,
    #[serde(default)]
    pub organization: Option<String>,
    /// Participants' addresses, for display, and their account ids, for access checks.
    #[serde(default)]
    pub participants: Vec<EmailAddress>,
    #[serde(default)]
    pub participant_ids: Vec<String>,
    /// Public comments: what customers see. Internal notes count apart, in `note_count`.
    pub comment_count: u32,
    #[serde(default)]
    pub note_count: u32,
    /// When the last internal note was written (agents only).
    #[serde(default)]
    pub noted_at: Option<Timestamp>,
    /// The last internal note a macro added, as `macros::note_mark` writes it: applying the
    /// same macro again adds no second copy while that note is still the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_note: Option<String>,
    /// Held for review (a `suspend:` blocklist rule matched its reporter): out of the queue
    /// until an agent releases it.
    #[serde(default)]
    pub held: bool,
    /// Public links carry the generation they were minted in; revoking bumps it, so every
    /// earlier link stops working at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub public_link_generation: u32,
    /// SLA stage (seed 002): when an agent first replied publicly (None: waiting for the
    /// first response), and whether the customer side wrote the last public word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_spoke_last: bool,
    /// Agents' tags, sorted (each also a `RequestTag` item for the by-tag queue).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The newest public comments' authors and the versions they made (at most
    /// `RECENT_PUBLIC`): a reply or status change made on an older version learns whether
    /// someone else wrote since (the collision guard).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "compact_marks")]
    pub recent_public: Vec<PublicMark>,
    /// Who last opened or closed it: the notifier never tells them of their own change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_by: Option<String>,
    pub created_at: Timestamp,
    /// The last change customers can see (never an internal note).
    pub updated_at: Timestamp,
    pub version: u64,
    /// Service-level clocks, when the project had targets for its priority (agents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<RequestSla>,
    /// How it came in: `email`, `portal` or `api` (None: before this was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The version automations wrote, when they wrote the latest one: what they change never
    /// triggers automations again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_version: Option<u64>,
    /// The requester's satisfaction rating (agents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Csat>,
    /// When it was last closed: a customer's reply within the project's `reopen_days` of it
    /// opens it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// The request it was merged into (closed then): mail to it lands there, its public
    /// links stop working, nobody writes on it any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// The closed request a customer wrote to after its reopen window: this one carries on
    /// from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub request_key: String,
    /// ULID: comments sort by it.
    pub id: String,
    pub author_id: String,
    pub author_email: EmailAddress,
    pub body: String,
    pub internal: bool,
    pub created_at: Timestamp,
    /// Whether the author wrote as the team or as a customer. None on comments written before
    /// it was kept: read from the author's account then (`authors::settle_roles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_role: Option<AuthorRole>,
    /// The display name the author had when writing, if they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// The request it was written on, when a merge brought it here (a copy, same id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

/// What a comment's author was on its request: customers see the team as the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorRole {
    Team,
    Customer,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Remembers what an `Idempotency-Key` produced, so a retry returns the same request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub user_id: String,
    pub key_hash: String,
    pub request_key: String,
    /// Set when the key made a comment rather than a request.
    #[serde(default)]
    pub comment_id: Option<String>,
    pub body_hash: String,
    pub expires_at: Timestamp,
}

/// A participant of a request: lets the participant find it (`view=participating`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub request_key: String,
    /// The request's ULID: participations list in request order.
    pub request_id: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// One entry of a request's history: who changed what, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub request_key: String,
    pub id: String,
    pub actor_id: String,
    pub actor_email: EmailAddress,
    /// `participants_added`, `participants_removed`, ...
    pub action: String,
    #[serde(default)]
    pub emails: Vec<EmailAddress>,
    /// What else the change names (an organization id, ...).
    #[serde(default)]
    pub detail: Option<String>,
    pub at: Timestamp,
    /// Whether the actor acted as the team or as a customer (None before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<AuthorRole>,
    /// A form move's field values the new form has no field for: what its undo restores.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped: BTreeMap<String, String>,
    /// When the move was undone (an undone move is not undone twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<Timestamp>,
}

/// A tag on a request: finds it in its project's by-tag queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestTag {
    pub request_key: String,
    /// The request's ULID: the by-tag queue sorts by it, like every list.
    pub request_id: String,
    pub project: String,
    pub tag: String,
}

/// When an agent last opened a request in the console. For two minutes after, other agents
/// see who else is looking before they answer; until it expires, the agent's queue marks
/// the request when something happened on it since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewing {
    pub request_key: String,
    pub user_id: String,
    pub email: EmailAddress,
    #[serde(default)]
    pub name: Option<String>,
    /// When the agent opened it (0 on items written before this was kept: not looking now).
    #[serde(default)]
    pub seen_at: Timestamp,
    /// The request's version the agent saw then: any change since (a colleague's note too)
    /// is activity they have not seen.
    #[serde(default)]
    pub seen_version: u64,
    pub expires_at: Timestamp,
}
