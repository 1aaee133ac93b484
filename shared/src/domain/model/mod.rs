//! Domain records. These are what the store keeps; `items` maps them to DynamoDB items.
//! Split by product area; every type is re-exported here, so `model::X` names them all.

mod files;
mod mail;
mod moderation;
mod people;
mod projects;
mod requests;
mod sla;

pub use files::*;
pub use mail::*;
pub use moderation::*;
pub use people::*;
pub use projects::*;
pub use requests::*;
pub use sla::*;

pub use crate::domain::email::EmailAddress;
use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

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
