//! Domain records. These are what the store keeps; `items` maps them to DynamoDB items.

pub use crate::domain::email::EmailAddress;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectRole {
    Agent,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: EmailAddress,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub app_admin: bool,
    /// Project key -> role. Kept on the user so one read after the session gives every role.
    #[serde(default)]
    pub project_roles: BTreeMap<String, ProjectRole>,
    #[serde(default)]
    pub suspended: bool,
    /// Why and by whom the user was suspended, while they are.
    #[serde(default)]
    pub suspension: Option<Suspension>,
    /// Organization id -> its project. Kept on the user so visibility needs no extra read.
    #[serde(default)]
    pub organizations: BTreeMap<String, String>,
    /// Secondary addresses, pending or verified (a verified one also has its `EmailOwner`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_emails: Vec<SecondaryEmail>,
    pub created_at: Timestamp,
    pub version: u64,
}

impl User {
    pub fn is_member_of(&self, organization: &str) -> bool {
        self.organizations.contains_key(organization)
    }
    /// The user's organizations in one project.
    pub fn organizations_in<'a>(&'a self, project: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.organizations.iter().filter(move |(_, p)| p.as_str() == project).map(|(id, _)| id)
    }
}

/// An address a user added to their account: mail from it counts as theirs once verified;
/// notifications still go to the primary address only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondaryEmail {
    pub email: EmailAddress,
    pub verified: bool,
    pub added_at: Timestamp,
}

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

/// Maps an email address (normalised) to its account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailOwner {
    pub email: EmailAddress,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MagicLink {
    pub token_hash: String,
    pub email: EmailAddress,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSettings {
    pub org_sharing: bool,
    pub portal_private: bool,
    pub portal_public: bool,
    pub participant_cap: u32,
    /// How long a public link is valid, in days.
    #[serde(default = "default_public_link_days")]
    pub public_link_days: u32,
    /// Notifications one address may get from this project in an hour: two auto-responders
    /// answering each other stop here.
    #[serde(default = "default_notify_per_hour")]
    pub notify_per_hour: u32,
    /// How new requests find their agent.
    #[serde(default)]
    pub assignment: AssignmentSettings,
    /// Who may raise requests.
    #[serde(default)]
    pub intake: Intake,
    /// Service-level targets in business hours; None: no clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaSettings>,
    /// Whether the close email asks the requester for a rating.
    #[serde(default = "default_true")]
    pub csat: bool,
    /// Days after a close in which a customer's reply (any channel) reopens the request;
    /// 0: a reply never reopens it.
    #[serde(default = "default_reopen_days")]
    pub reopen_days: u32,
}

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

/// Who may raise requests in a project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intake {
    /// Anyone with an account, and anyone by email (the default, for email-first projects).
    #[default]
    Anyone,
    /// The project's customers (added by agents, shared in, or members of its organizations)
    /// and its agents; mail from anyone else is held for an agent.
    Customers,
}

/// Automatic assignment of new requests (any channel).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentSettings {
    #[serde(default)]
    pub mode: AssignmentMode,
    /// Most open or pending requests an agent gets automatically; None: no limit.
    #[serde(default, deserialize_with = "crate::domain::whole")]
    pub cap: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentMode {
    /// Agents take requests themselves.
    #[default]
    Manual,
    /// The next available agent in a stable order.
    RoundRobin,
    /// The available agent with the fewest open requests.
    LeastOpen,
}

pub const DEFAULT_NOTIFY_PER_HOUR: u32 = 30;

fn default_notify_per_hour() -> u32 {
    DEFAULT_NOTIFY_PER_HOUR
}

pub const DEFAULT_REOPEN_DAYS: u32 = 14;

fn default_reopen_days() -> u32 {
    DEFAULT_REOPEN_DAYS
}

fn default_true() -> bool {
    true
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub const DEFAULT_PUBLIC_LINK_DAYS: u32 = 30;

fn default_public_link_days() -> u32 {
    DEFAULT_PUBLIC_LINK_DAYS
}

impl Default for ProjectSettings {
    fn default() -> Self {
        ProjectSettings {
            org_sharing: false,
            portal_private: true,
            portal_public: true,
            participant_cap: 20,
            public_link_days: DEFAULT_PUBLIC_LINK_DAYS,
            notify_per_hour: DEFAULT_NOTIFY_PER_HOUR,
            assignment: AssignmentSettings::default(),
            intake: Intake::Anyone,
            sla: None,
            csat: true,
            reopen_days: DEFAULT_REOPEN_DAYS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub key: String,
    pub name: String,
    pub support_address: EmailAddress,
    pub settings: ProjectSettings,
    /// The last request number handed out; the next request is `last_seq + 1`.
    pub last_seq: u64,
    pub created_at: Timestamp,
    pub version: u64,
}

/// Which emails an agent gets from a project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    /// Also new and unassigned activity.
    All,
    /// Requests assigned to them (and being assigned one by someone else).
    #[default]
    Assigned,
    None,
}

impl NotifyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Assigned => "assigned",
            NotifyLevel::None => "none",
        }
    }
}

/// One agent of a project as assignment sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub email: EmailAddress,
    #[serde(default)]
    pub name: Option<String>,
    pub role: ProjectRole,
    /// Takes automatic assignments.
    pub available: bool,
    #[serde(default)]
    pub notify: NotifyLevel,
    /// The ids (ULIDs) of the requests assigned to them that are open or pending: a set, so
    /// adding or removing one twice (a retried update) counts once.
    #[serde(with = "serde_dynamo::string_set", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub requests: BTreeSet<String>,
}

impl TeamMember {
    /// How many open or pending requests they own.
    pub fn open(&self) -> u32 {
        self.requests.len() as u32
    }
}

/// A project's agents, their availability and load, in one item read with the request or the
/// project: auto-assignment picks from it, and its version orders changes of the loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectTeam {
    pub project: String,
    /// By user id: the round-robin order.
    pub agents: BTreeMap<String, TeamMember>,
    /// Round robin: who got the last automatic assignment.
    #[serde(default)]
    pub last_assigned: Option<String>,
    /// 0: not stored yet.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectMember {
    pub project: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub role: ProjectRole,
    pub added_at: Timestamp,
}

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
}

/// A customer added to a project by an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectCustomer {
    pub project: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// Email domains an institution manages: only app admins create accounts in them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManagedDomains {
    pub domains: Vec<String>,
    pub updated_at: Timestamp,
}

impl ManagedDomains {
    /// Whether an address falls in a managed domain (or one of its subdomains).
    pub fn covers(&self, email: &crate::domain::email::EmailAddress) -> bool {
        self.domains.iter().any(|d| email.is_in(d))
    }
}

/// Who owns an organization's membership when a CRM sync does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSource {
    pub source: String,
    /// Whom to ask for membership changes.
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub project: String,
    pub name: String,
    #[serde(default)]
    pub external: Option<ExternalSource>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgMember {
    pub org_id: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub added_at: Timestamp,
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

/// A support address claimed by a project: inbound mail to it routes there. One project per
/// address, claimed in the same transaction that sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportAddress {
    pub address: EmailAddress,
    pub project: String,
}

/// The keys that sign public links and reply addresses, by key id. New tokens use
/// `current`; older keys still verify until they are retired (see `domain::signing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeys {
    pub current: String,
    /// Key id -> base64url secret (256 bits).
    pub keys: BTreeMap<String, String>,
    pub version: u64,
}

/// A public link that took too many wrong addresses: it shows nothing any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkLock {
    pub token_hash: String,
    pub expires_at: Timestamp,
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

/// The kinds of field a form can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Textarea,
    Select,
    Checkbox,
    Email,
    Date,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// The choices of a `select`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A request form (seed 002): what a request of this kind asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Stable id: `default`, `support-ops`, or a slug made from the name.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Customers see and use only public forms.
    pub public: bool,
    pub fields: Vec<FormField>,
}

/// A project's forms, in one item read with the project. A project that never changed its
/// forms has none stored and uses `ProjectForms::initial`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectForms {
    pub project: String,
    pub default_form: String,
    pub forms: Vec<Form>,
    pub version: u64,
}

/// One step of a macro (seed 002).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MacroAction {
    SetForm { form: String },
    AddTag { tag: String },
    RemoveTag { tag: String },
    AddInternalNote { body: String },
    AddPublicReply { body: String },
    SetStatus { status: RequestStatus },
    SetField { key: String, value: String },
}

/// A named, ordered list of actions an agent applies to a request in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Macro {
    pub id: String,
    pub name: String,
    pub actions: Vec<MacroAction>,
}

/// A project's macros, in one item. A project that never changed them has the initial ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectMacros {
    pub project: String,
    pub macros: Vec<Macro>,
    pub version: u64,
}

/// A Message-ID the helpdesk sent or received, and the request it belongs to: replies that
/// name it in In-Reply-To or References attach there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRef {
    pub message_id: String,
    pub request_key: String,
    pub expires_at: Timestamp,
    /// The SES delivery that brought a received message: another delivery of the same
    /// message is a duplicate, a retry of this one is not. None for mail the helpdesk sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ses_id: Option<String>,
}

/// One notification sent (or being sent): written before sending, so a replayed stream
/// record finds it and sends nothing twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notified {
    /// The event: `new:<request>`, `comment:<id>` or `status:<request>:<version>`.
    pub event: String,
    pub user_id: String,
    pub expires_at: Timestamp,
}

/// An agent who has a request open in the console, for two minutes: other agents see who
/// else is looking before they answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewing {
    pub request_key: String,
    pub user_id: String,
    pub email: EmailAddress,
    #[serde(default)]
    pub name: Option<String>,
    pub expires_at: Timestamp,
}

/// A pending secondary address's single-use token (stored hashed, 24 hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailVerification {
    pub token_hash: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub expires_at: Timestamp,
}

/// A file that came with a request or reply by email. The bytes live in the files bucket
/// (`items::attachment_file_key`); this lists it on the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub request_key: String,
    /// ULID: attachments sort by it.
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// The reply it came with; None for the request's first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
    pub created_at: Timestamp,
    /// The request it came to, when a merge listed it here: its bytes stay filed under that
    /// request (`Attachment::file_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

/// A file a client may upload for a request (straight to the bucket, by a presigned POST,
/// or through the web function): a comment that names it in time attaches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    /// ULID: also the attachment's id once a comment names it.
    pub id: String,
    pub request_key: String,
    pub uploader_id: String,
    pub name: String,
    pub content_type: String,
    /// The most bytes the file may have (what the client said it has).
    pub max_size: u64,
    /// When the upload form stops working: a file written after it is refused.
    pub post_until: Timestamp,
    /// When the record goes (TTL); the bucket's lifecycle rule deletes unnamed files then too.
    pub expires_at: Timestamp,
}

impl Attachment {
    /// Where its bytes are in the files bucket: under the request it first came to.
    pub fn file_key(&self) -> String {
        crate::items::attachment_file_key(self.merged_from.as_deref().unwrap_or(&self.request_key), &self.id)
    }
}

pub use crate::domain::automations::records::{
    AutoMail, AutoMailKind, AutomationFired, AutomationRun, TimeRuleProjects,
};
pub use crate::domain::automations::rules::ProjectAutomations;
pub use crate::domain::webhooks::records::{
    AdminNotice, DeliveryAttempt, DeliveryState, ProjectWebhooks, WebhookDelivery, WebhookFormat, WebhookRetry,
    WebhookSecret, WebhookTarget,
};

pub use crate::domain::reports::records::{Csat, Rating, StatsCounts, StatsLedger};
pub use crate::domain::search::records::SearchPointer;

/// Every kind of record the table holds.
// A request is the largest record and the most read one: boxing it would put an allocation
// and a pointer chase on every list for a few hundred bytes of stack per record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Record {
    User(User),
    EmailOwner(EmailOwner),
    MagicLink(MagicLink),
    Session(Session),
    Project(Project),
    ProjectMember(ProjectMember),
    Request(Request),
    Comment(Comment),
    Idempotency(IdempotencyRecord),
    Participant(Participant),
    HistoryEntry(HistoryEntry),
    ProjectCustomer(ProjectCustomer),
    ManagedDomains(ManagedDomains),
    Organization(Organization),
    OrgMember(OrgMember),
    AuditEntry(AuditEntry),
    BlockRule(BlockRule),
    BlockPattern(BlockPattern),
    SupportAddress(SupportAddress),
    SigningKeys(SigningKeys),
    LinkLock(LinkLock),
    ProjectForms(ProjectForms),
    RequestTag(RequestTag),
    ProjectMacros(ProjectMacros),
    ProjectTeam(ProjectTeam),
    Viewing(Viewing),
    MessageRef(MessageRef),
    Notified(Notified),
    EmailVerification(EmailVerification),
    Attachment(Attachment),
    SlaAlarm(SlaAlarm),
    SchedulerCursor(SchedulerCursor),
    ProjectAutomations(ProjectAutomations),
    AutomationRun(AutomationRun),
    AutomationFired(AutomationFired),
    AutoMail(AutoMail),
    TimeRuleProjects(TimeRuleProjects),
    ProjectWebhooks(ProjectWebhooks),
    WebhookSecret(WebhookSecret),
    WebhookDelivery(WebhookDelivery),
    WebhookRetry(WebhookRetry),
    AdminNotice(AdminNotice),
    StatsLedger(StatsLedger),
    StatsCounts(StatsCounts),
    SearchPointer(SearchPointer),
    Upload(Upload),
}
