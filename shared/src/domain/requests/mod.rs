//! Requests (tickets): raise (`create`), read (`read`), reply, close, reopen and release
//! (`change`), and the lists that find them (`lists`).

mod all;
mod change;
mod create;
mod follow_up;
mod lists;
mod merge;
mod queue;
mod read;

pub use all::index_requests;
pub(crate) use all::{every_record, every_request};
pub use change::{add_comment, release, set_status, set_status_seen, HELPDESK_AUTHOR};
pub(crate) use change::{add_helpdesk_note, helpdesk_user};
pub use create::create_request;
pub use follow_up::Posted;
pub use lists::list_for_customer;
pub(crate) use merge::{follow_merges, refuse_merged};
pub use merge::{merge, merge_preview, MergeInput, MergeStep, Merged, MAX_MERGE_NOTE};
pub use queue::{list_queue, queue_with_project};
pub use read::{get_request, get_request_and_project, get_request_with};
pub(crate) use read::{read_thread, Thread};

use crate::domain::access::Viewer;
use crate::domain::blocklist::{Commit, Guard};
use crate::domain::caller::Actor;
use crate::domain::retry::Budget;
use crate::error::ApiError;
use crate::items::request_key;
use crate::model::{Comment, HistoryEntry, Record, Request, RequestStatus, User};
use crate::store::{Condition, Write};
use crate::App;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_SUMMARY: usize = 255;
pub const MAX_DESCRIPTION: usize = 32_000;
pub const MAX_COMMENT: usize = 32_000;
pub const MAX_FIELDS: usize = 50;
pub const DEFAULT_PAGE: usize = 25;
pub const MAX_PAGE: usize = 100;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub form: Option<String>,
    /// Strings, or typed (a checkbox's `true`): see `form_values::typed_values`.
    #[serde(default, deserialize_with = "crate::domain::form_values::typed_values")]
    pub fields: BTreeMap<String, String>,
    /// How it came in; never part of a body.
    #[serde(skip)]
    pub channel: Channel,
    /// The closed request a late customer reply opens this one from (never part of a body):
    /// it keeps that request's form, and fields the form asks for may be missing.
    #[serde(skip)]
    pub follow_up_of: Option<String>,
}

/// The way a request comes in, where it changes the rules: email cannot ask for form fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    #[default]
    Api,
    /// The customer portal's or the console's form: the API's rules.
    Portal,
    Email,
    /// Mail from someone who has no account and may not get one by mail (a managed domain):
    /// kept as a held request under the helpdesk's own name for an agent, never lost.
    EmailHeldForReview,
}

impl Channel {
    /// Typed by a person on a form or through the API: every field of the form is asked for.
    pub fn is_typed(self) -> bool {
        matches!(self, Channel::Api | Channel::Portal)
    }
    /// As the request keeps it (automations' `channel` condition).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Portal => "portal",
            Channel::Email | Channel::EmailHeldForReview => "email",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
    /// The request version the writer saw: when someone else wrote publicly since, the
    /// comment is refused (409 `stale_view`) so they read it first. Absent: no check.
    #[serde(default, deserialize_with = "crate::domain::whole")]
    pub seen_version: Option<u64>,
    /// Uploads to attach (`POST /requests/{key}/attachments` ids): the body may be empty then.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// The largest request version a caller may name (JSON's exact integers): larger ones are
/// refused rather than compared.
pub const MAX_VERSION: u64 = 9_007_199_254_740_991;

/// A named version, checked: at most `MAX_VERSION`.
pub fn check_version(version: Option<u64>) -> Result<Option<u64>, ApiError> {
    match version {
        Some(v) if v > MAX_VERSION => {
            Err(ApiError::bad_request("invalid_seen_version", format!("a version is at most {MAX_VERSION}")))
        }
        other => Ok(other),
    }
}

/// The collision guard's refusal: someone else wrote publicly after `seen`.
pub(crate) fn check_seen(request: &Request, seen: Option<u64>, reader: &str) -> Result<(), ApiError> {
    match seen {
        Some(seen) if request.written_since(seen, reader) => Err(ApiError::Conflict {
            code: "stale_view",
            message: format!("someone else wrote on {} since you read it: read it, then send again", request.key),
        }),
        _ => Ok(()),
    }
}

/// Query-string options of the lists.
#[derive(Debug, Default, Clone)]
pub struct ListOptions {
    pub view: Option<String>,
    /// Only requests shared with this organization (customer lists).
    pub organization: Option<String>,
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
    /// Only requests with this tag (agents' queue).
    pub tag: Option<String>,
    /// Agents' queue: `me`, `none` (unassigned) or an agent's address.
    pub assignee: Option<String>,
    /// Agents' queue: only this priority.
    pub priority: Option<String>,
    /// Agents' queue: `created` (newest first, the default).
    pub sort: Option<String>,
}

/// A request and how much of it its reader may see.
pub type Viewed = (Viewer, Request);

/// A page of requests, each with how much its reader sees, and the cursor of the next page.
#[derive(Debug, PartialEq)]
pub struct RequestPage {
    pub items: Vec<(Viewer, Request)>,
    pub next_cursor: Option<String>,
}

/// A request as its reader sees it.
#[derive(Debug, PartialEq)]
pub struct RequestDetail {
    pub viewer: Viewer,
    pub request: Request,
    /// Oldest first; internal notes only for agents.
    pub comments: Vec<Comment>,
    /// Oldest first: who shared it with whom, and other changes.
    pub history: Vec<HistoryEntry>,
    /// Files that came by email, oldest first, only those of messages the reader may read.
    pub attachments: Vec<crate::model::Attachment>,
    /// The request's project's name: customers see the team by it.
    pub project_name: String,
}

impl RequestDetail {
    /// Who wrote `comment`, as this detail's reader is shown it.
    pub fn author(&self, comment: &Comment) -> String {
        crate::domain::authors::shown(comment, self.viewer, &self.project_name)
    }

    /// Who wrote `comment`, as a page shows it to this detail's reader.
    pub fn page_author(&self, comment: &Comment) -> String {
        crate::domain::authors::shown_on_page(comment, self.viewer, &self.project_name)
    }

    /// Who made a change of the history, as this detail's reader is shown it.
    pub fn actor(&self, entry: &HistoryEntry) -> String {
        crate::domain::authors::shown_actor(entry, self.viewer, &self.project_name)
    }
}

/// A history entry for a change of a request, to write in the change's transaction.
pub(crate) fn history_write(
    request: &Request,
    actor: &User,
    action: &str,
    emails: Vec<crate::model::EmailAddress>,
    detail: Option<String>,
    at: i64,
) -> Write {
    let entry = history_entry(request, actor, action, emails, detail, at);
    Write::Put { record: Record::HistoryEntry(entry), condition: Condition::NotExists }
}

/// A history entry of a change of `request` by `actor`, under a new id.
pub(crate) fn history_entry(
    request: &Request,
    actor: &User,
    action: &str,
    emails: Vec<crate::model::EmailAddress>,
    detail: Option<String>,
    at: i64,
) -> HistoryEntry {
    HistoryEntry {
        request_key: request.key.clone(),
        id: crate::text::new_ulid(),
        actor_id: actor.id.clone(),
        actor_email: actor.email.clone(),
        action: action.to_string(),
        emails,
        detail,
        at,
        actor_role: Some(crate::domain::authors::role_of(actor, &request.project)),
        dropped: Default::default(),
        undone_at: None,
    }
}

/// Whether customers see a change: their `updated_at` moves only for public activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    Public,
    AgentsOnly,
}

/// Writes `change` of a request by `actor` under optimistic locking, with `extra` writes and
/// the blocklist check of the actor's address in the same transaction; rereads and reapplies
/// when someone else changed the request first.
pub(crate) async fn update_request(
    app: &App,
    actor: &Actor,
    sla: Option<&crate::model::SlaSettings>,
    request: Request,
    seen: Seen,
    change: impl Fn(&mut Request),
    extra: impl Fn() -> Vec<Write>,
) -> Result<Request, ApiError> {
    let change = |r: &mut Request| {
        change(r);
        Ok(())
    };
    try_update_request(app, actor, sla, request, seen, change, |_, _| extra()).await
}

/// `update_request` with a change that may refuse the request as it finds it (on a reread
/// too), and extra writes made from the request before and after each attempt. A change that
/// moves an agent's load (an assignee, or an assigned request closed or reopened) moves it on
/// the team item in the same transaction.
pub(crate) async fn try_update_request(
    app: &App,
    actor: &Actor,
    sla: Option<&crate::model::SlaSettings>,
    mut request: Request,
    seen: Seen,
    change: impl Fn(&mut Request) -> Result<(), ApiError>,
    extra: impl Fn(&Request, &Request) -> Vec<Write>,
) -> Result<Request, ApiError> {
    let mut guard = Guard::for_actor(actor, &request.project);
    let mut budget = Budget::default();
    // Read once a change moves a load; again when its membership changed meanwhile.
    let mut team: Option<Option<crate::model::ProjectTeam>> = None;
    loop {
        budget.next().await?;
        let mut next = request.clone();
        change(&mut next)?;
        // A merged request stays closed and takes no public reply, whatever path writes it
        // (a reply, a status change, a macro, an automation).
        if request.merged_into.is_some()
            && (next.status != RequestStatus::Closed || next.comment_count != request.comment_count)
        {
            refuse_merged(&request)?;
        }
        if crate::domain::sla::clocks::moved(&request, &next) {
            let read;
            let sla = match sla {
                Some(settings) => Some(settings),
                // A caller without the project moved a clock: its settings are read.
                None => {
                    read = load_sla(app, &request.project).await?;
                    read.as_ref()
                }
            };
            crate::domain::sla::advance(Some(&request), &mut next, sla, app.now());
        }
        next.version = request.version + 1;
        if next.status == RequestStatus::Closed && request.status != RequestStatus::Closed {
            next.closed_at = Some(app.now());
        }
        if seen == Seen::Public {
            next.updated_at = app.now();
        }
        let mut writes = vec![replace_request(&request, next.clone())];
        writes.extend(crate::domain::sla::alarm_writes(Some(&request), &next));
        let mut loads_at = None;
        if crate::domain::team::moves_load(&request, &next) {
            let current = match team.take() {
                Some(read) => read,
                None => crate::domain::team::read_team(app, &request.project).await?,
            };
            if let Some(write) = crate::domain::team::load_write(current.as_ref(), &request, &next) {
                writes.push(write);
                loads_at = Some(writes.len() - 1);
            }
            team = Some(current);
        }
        writes.extend(extra(&request, &next));
        let err = match guard.commit(app, writes).await? {
            Commit::Done => return Ok(next),
            Commit::Conflict | Commit::Retry { .. } => continue,
            Commit::Failed(err) => err,
        };
        if loads_at.is_some_and(|at| err.failed_at(at)) {
            // An agent left the team meanwhile: read it again.
            team = None;
            if !err.failed_at(0) {
                continue;
            }
        } else if !err.failed_at(0) {
            // One of the extra writes lost a race: a twin of this call (same Idempotency-Key)
            // is committing right now. Its retry will replay the result.
            return Err(ApiError::Conflict {
                code: "idempotency_in_progress",
                message: "a call with this Idempotency-Key is in progress; retry shortly".into(),
            });
        }
        request = match err.failed_old(0) {
            Some(Record::Request(current)) => current.clone(),
            _ => match app.store.get(&request_key(&request.key)).await? {
                Some(Record::Request(current)) => current,
                _ => return Err(ApiError::NotFound("request")),
            },
        };
    }
}

/// The write that replaces `before` with `next` when no one changed it meanwhile.
/// A project's service-level settings, for a change whose caller did not read the project.
async fn load_sla(app: &App, project: &str) -> Result<Option<crate::model::SlaSettings>, ApiError> {
    Ok(match app.store.get(&crate::items::project_key(project)).await? {
        Some(Record::Project(p)) => p.settings.sla,
        _ => None,
    })
}

pub(crate) fn replace_request(before: &Request, next: Request) -> Write {
    let keys = Record::Request(before.clone()).index_keys();
    Write::Put {
        record: Record::Request(next),
        condition: Condition::Replaces { version: before.version, before: Box::new(keys) },
    }
}

fn parse_status(raw: Option<&str>) -> Result<Option<RequestStatus>, ApiError> {
    raw.map(|s| {
        RequestStatus::parse(s)
            .ok_or_else(|| ApiError::bad_request("invalid_status", "status must be open, pending or closed"))
    })
    .transpose()
}

#[cfg(test)]
mod tests;

/// An open request as the store keeps one, with nothing set but its keys, reporter and time:
/// for tests and the benchmark that write requests directly.
pub fn open_request(key: &str, reporter_id: &str, created_at: i64) -> crate::model::Request {
    let project = key.rsplit_once('-').map_or(key, |(p, _)| p);
    crate::model::Request {
        key: key.into(),
        project: project.into(),
        id: ulid::Ulid::new().to_string(),
        summary: format!("{key} summary"),
        description: String::new(),
        form: None,
        fields: Default::default(),
        status: crate::model::RequestStatus::Open,
        priority: Default::default(),
        assignee: None,
        reporter_id: reporter_id.into(),
        reporter_email: crate::model::EmailAddress::stored("reporter@example.com"),
        organization: None,
        participants: vec![],
        participant_ids: vec![],
        comment_count: 0,
        note_count: 0,
        noted_at: None,
        macro_note: None,
        held: false,
        public_link_generation: 0,
        first_response_at: None,
        customer_spoke_last: true,
        tags: vec![],
        recent_public: vec![],
        assigned_by: None,
        status_by: None,
        created_at,
        updated_at: created_at,
        version: 1,
        sla: None,
        channel: None,
        automated_version: None,
        csat: None,
        closed_at: None,
        merged_into: None,
        follow_up_of: None,
    }
}
