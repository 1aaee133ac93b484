//! Projects: their settings, team, members and customers, request forms and macros.

use super::{EmailAddress, ProjectRole, RequestStatus, SlaSettings, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

/// A customer added to a project by an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectCustomer {
    pub project: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub added_by: String,
    pub added_at: Timestamp,
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
    /// Ids of removed forms: never given to a new form, whose fields would otherwise read the
    /// values its requests still keep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<String>,
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
