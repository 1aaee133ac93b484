//! The console's templates and the view data they show.

pub use super::history_view::HistoryView;
use crate::views::{field_inputs, when, Chrome, CommentView, FieldView, FileView, Tab};
use askama::Template;
use helpdesk::access::is_project_admin;
use helpdesk::domain::desk::DeskRequest;
use helpdesk::model::{Assignee, AuditEntry, Priority, ProjectRole, ProjectTeam, Request, RequestStatus, User};
use helpdesk::organizations::Visibility;

pub fn role_name(role: ProjectRole) -> &'static str {
    match role {
        ProjectRole::Admin => "Project admin",
        ProjectRole::Agent => "Agent",
    }
}

pub struct ProjectRow {
    pub key: String,
    pub name: String,
    pub role: &'static str,
}

#[derive(Template)]
#[template(path = "desk/home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub projects: Vec<ProjectRow>,
    pub links: Vec<(&'static str, &'static str)>,
}

pub struct QueueRow {
    pub key: String,
    pub summary: String,
    pub reporter: String,
    pub organization: Option<String>,
    pub status: &'static str,
    pub priority: &'static str,
    pub assignee: Option<String>,
    pub updated: crate::views::Moment,
    /// The customer side wrote the last public word: the request waits on the team.
    pub waiting_on_us: bool,
    /// Something happened on it since this agent last opened it.
    pub unseen: bool,
    pub tags: Vec<String>,
    /// The nearest due time of its running clocks: ("due in 20 min", overdue, exact time).
    pub due: Option<(String, bool, String)>,
}

#[derive(Template)]
#[template(path = "desk/queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    /// Latest activity, newest or nearest due first.
    pub sorts: Vec<Tab>,
    pub sort: String,
    /// The order shown (`activity`, `created` or `due`): what the filters and pager offer.
    pub order: &'static str,
    pub project_key: String,
    pub project_name: String,
    /// Which of the project's pages this is (its navigation marks it).
    pub section: &'static str,
    /// Status tabs, with how many requests each bounded one holds ("500+" past the cap).
    pub tabs: Vec<(Tab, Option<String>)>,
    /// Mine / Unassigned / Everyone.
    pub owner_tabs: Vec<Tab>,
    pub status: String,
    /// The owner filter as sent (`me`, `none`, or empty for everyone).
    pub assignee: String,
    /// (value, label, chosen); "" is any priority.
    pub priorities: Vec<(&'static str, &'static str, bool)>,
    pub tag: String,
    /// (id, name, chosen)
    pub organizations: Vec<(String, String, bool)>,
    pub filtered: bool,
    pub rows: Vec<QueueRow>,
    /// Older requests, and back to newer ones.
    pub next_href: Option<String>,
    pub newer_href: Option<String>,
}

/// An agent as the console names them: their name, else their address.
pub fn assignee_label(a: &Assignee) -> String {
    a.name.clone().unwrap_or_else(|| a.email.to_string())
}

pub fn priority_label(p: Priority) -> &'static str {
    match p {
        Priority::Low => "Low",
        Priority::Normal => "Normal",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}

/// A status as agents read it.
pub fn status_label(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Open => "Open",
        RequestStatus::Pending => "Pending (waiting on the customer)",
        RequestStatus::Closed => "Closed",
    }
}

/// Who a request can go to: unassigned, the reader, then the team by address; the current
/// owner is always among them (an app admin who is on no team included).
fn owner_choices(r: &Request, team: &ProjectTeam, reader: &User) -> Vec<(String, String, bool)> {
    let current = r.assignee.as_ref().map(|a| a.email.to_string()).unwrap_or_default();
    let mut choices = vec![(String::new(), "Unassigned".to_string())];
    choices.push((reader.email.to_string(), format!("Me ({})", reader.email)));
    for member in team.agents.values().filter(|m| m.email != reader.email) {
        let label = match &member.name {
            Some(name) => format!("{name} ({})", member.email),
            None => member.email.to_string(),
        };
        choices.push((member.email.to_string(), if member.available { label } else { format!("{label}, away") }));
    }
    if let Some(a) = r.assignee.as_ref().filter(|a| !choices.iter().any(|(v, _)| *v == a.email.as_str())) {
        choices.push((a.email.to_string(), assignee_label(a)));
    }
    choices.into_iter().map(|(value, label)| (value.clone(), label, value == current)).collect()
}

/// Seed 004's checklist for one typed address.
pub struct ChecklistView {
    pub email: String,
    pub visible: bool,
    pub reason: &'static str,
    /// (holds, what it says)
    pub checks: Vec<(bool, &'static str, String)>,
}

impl From<&Visibility> for ChecklistView {
    fn from(v: &Visibility) -> Self {
        let label = |check: &str| match check {
            "organization_set" => "The request has an organization",
            "sharing_on" => "The project shares requests with organizations",
            "customer_in_organization" => "The customer is a member of that organization",
            "right_filter" => "The customer looks at a list that shows it",
            _ => "Check",
        };
        ChecklistView {
            email: v.email.to_string(),
            visible: v.visible,
            reason: v.reason,
            checks: v
                .checks
                .iter()
                .map(|c| {
                    let why = match &c.filter {
                        Some(f) => format!("{} (list filter: {f})", c.why),
                        None => c.why.to_string(),
                    };
                    (c.ok, label(c.check), why)
                })
                .collect(),
        }
    }
}

pub struct LinkView {
    pub email: String,
    pub url: String,
    pub expires: String,
}

/// An error shown in the section of the form that caused it.
pub struct SectionError {
    pub section: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "desk/request.html")]
pub struct RequestPage {
    pub chrome: Chrome,
    /// Its service-level clocks: (target, how it stands, overdue or breached).
    pub clocks: Vec<(&'static str, String, bool)>,
    /// The requester's rating: "Good", or "Bad: It took too long", with its comment and time.
    pub rating: Option<(String, Option<String>, String)>,
    pub key: String,
    pub summary: String,
    pub description: String,
    pub status: &'static str,
    pub is_open: bool,
    pub held: bool,
    /// The request it was merged into: no replies here any more.
    pub merged_into: Option<String>,
    pub project_key: String,
    pub project_name: String,
    pub reporter: String,
    pub reporter_id: String,
    /// Whether the reader may be able to suspend the reporter (a project or app admin, not
    /// the reporter): the moderation rule itself decides when they try.
    pub may_suspend: bool,
    /// Whether user pages (the moderation rule's) are the reader's to open: links to people.
    pub moderator: bool,
    /// The request's field values, to fill another form's fields after a refused move.
    pub values: std::collections::BTreeMap<String, String>,
    pub organization: Option<String>,
    pub form_name: String,
    /// (label, value)
    pub fields: Vec<(String, String)>,
    /// The fields to edit: the current form's, or after a refused move, the chosen form's.
    pub field_inputs: Vec<FieldView>,
    pub fields_form_id: String,
    /// The problems of the last save of the fields, listed above them.
    pub field_problems: Vec<crate::views::ProblemLink>,
    pub fields_form_name: String,
    /// Every form of the project, to show another form's fields with what was typed.
    pub all_forms: Vec<helpdesk::model::Form>,
    pub created: String,
    pub updated: String,
    pub priority: &'static str,
    /// Who owns it, for the facts ("Unassigned" when nobody).
    pub assignee: String,
    /// The version the agent saw: the owner form sends it back as `If-Match` would.
    pub version: u64,
    /// (value, label, chosen): "" unassigned, then each agent's address.
    pub owner_choices: Vec<(String, String, bool)>,
    /// (value, label, chosen)
    pub priority_choices: Vec<(&'static str, &'static str, bool)>,
    /// (value, label, chosen)
    pub status_choices: Vec<(&'static str, &'static str, bool)>,
    pub comments: Vec<CommentView>,
    pub files: Vec<FileView>,
    pub history: Vec<HistoryView>,
    /// (user id, address)
    pub participants: Vec<(String, String)>,
    pub tags: Vec<String>,
    /// (id, name, current)
    pub organizations: Vec<(String, String, bool)>,
    /// (id, name)
    pub macros: Vec<(String, String)>,
    /// (id, name, current)
    pub forms: Vec<(String, String, bool)>,
    pub public_portal: bool,
    pub nonce: String,
    pub reply_body: String,
    /// An internal note that was refused, as typed.
    pub note_body: String,
    pub error: Option<SectionError>,
    /// Public comments by others since the version the agent's refused reply or status
    /// change was made on (the collision guard): shown with "Send anyway".
    pub unseen: Vec<CommentView>,
    /// Other agents who opened the request in the last two minutes.
    pub viewers: Vec<String>,
    /// Who reads the page, and the request's recent public authors (the collision guard).
    pub reader_id: String,
    pub reader_email: String,
    pub marks: Vec<helpdesk::model::PublicMark>,
    pub notice: Option<String>,
    pub check_email: String,
    pub checklist: Option<ChecklistView>,
    pub minted: Vec<LinkView>,
}

impl RequestPage {
    /// After a refusal for someone else's public reply since version `seen`: their newest
    /// public comments, to read before sending anyway.
    pub fn show_unseen(&mut self, seen: u64) {
        let reader = helpdesk::model::author_tag(&self.reader_id);
        let others = self.marks.iter().filter(|m| m.version > seen && m.by != reader).count().max(1);
        let theirs: Vec<&CommentView> =
            self.comments.iter().filter(|c| !c.internal && c.author != self.reader_email).collect();
        self.unseen = theirs[theirs.len().saturating_sub(others)..].iter().map(|c| (*c).clone()).collect();
    }

    pub fn new(chrome: Chrome, shown: &DeskRequest) -> Self {
        let r = &shown.detail.request;
        let org_name = |id: &str| {
            shown.organizations.iter().find(|o| o.id == id).map(|o| o.name.clone()).unwrap_or_else(|| id.to_string())
        };
        let form_id = r.form.clone().unwrap_or_else(|| shown.forms.default_form.clone());
        let form = shown.forms.forms.iter().find(|f| f.id == form_id);
        let mut page = RequestPage {
            chrome,
            clocks: clocks(r, shown.now),
            rating: r.csat.as_ref().map(rating),
            key: r.key.clone(),
            summary: r.summary.clone(),
            description: r.description.clone(),
            status: if r.held { "held" } else { r.status.as_str() },
            is_open: r.status.is_active(),
            held: r.held,
            merged_into: r.merged_into.clone(),
            project_key: shown.project.key.clone(),
            project_name: shown.project.name.clone(),
            reporter: r.reporter_email.to_string(),
            reporter_id: r.reporter_id.clone(),
            may_suspend: r.reporter_id != shown.user.id && is_project_admin(&shown.user, &r.project),
            moderator: is_project_admin(&shown.user, &r.project),
            values: r.fields.clone(),
            organization: r.organization.as_deref().map(org_name),
            form_name: form.map(|f| f.name.clone()).unwrap_or(form_id.clone()),
            fields: helpdesk::domain::form_values::shown_fields(form, &r.fields),
            field_inputs: form.map(|f| field_inputs(f, &r.fields, &[]).0).unwrap_or_default(),
            field_problems: vec![],
            fields_form_id: form_id.clone(),
            fields_form_name: form.map(|f| f.name.clone()).unwrap_or_default(),
            all_forms: shown.forms.forms.clone(),
            created: when(r.created_at),
            updated: when(r.updated_at),
            priority: r.priority.as_str(),
            assignee: r.assignee.as_ref().map(assignee_label).unwrap_or_else(|| "Unassigned".into()),
            version: r.version,
            owner_choices: owner_choices(r, &shown.team, &shown.user),
            priority_choices: Priority::ALL
                .iter()
                .map(|p| (p.as_str(), priority_label(*p), *p == r.priority))
                .collect(),
            status_choices: RequestStatus::ALL.iter().map(|s| (s.as_str(), status_label(*s), *s == r.status)).collect(),
            comments: shown
                .detail
                .comments
                .iter()
                .map(|c| CommentView { author: shown.detail.page_author(c), ..CommentView::from(c) })
                .collect(),
            files: shown.detail.attachments.iter().map(FileView::from).collect(),
            history: shown.detail.history.iter().rev().map(|h| HistoryView::new(h, org_name, &shown.forms)).collect(),
            participants: r.participant_ids.iter().cloned().zip(r.participants.iter().map(|e| e.to_string())).collect(),
            tags: r.tags.clone(),
            organizations: {
                let current = r.organization.as_deref();
                let mut all: Vec<_> = shown
                    .organizations
                    .iter()
                    .map(|o| (o.id.clone(), o.name.clone(), current == Some(o.id.as_str())))
                    .collect();
                // The picker always holds the current one, so "Set" never clears it by omission.
                if let Some(id) = current.filter(|id| !all.iter().any(|o| o.0 == *id)) {
                    all.insert(0, (id.to_string(), id.to_string(), true));
                }
                all
            },
            macros: shown.macros.macros.iter().map(|m| (m.id.clone(), m.name.clone())).collect(),
            forms: shown.forms.forms.iter().map(|f| (f.id.clone(), f.name.clone(), f.id == form_id)).collect(),
            public_portal: shown.project.settings.portal_public,
            nonce: helpdesk::text::new_secret(),
            reply_body: String::new(),
            note_body: String::new(),
            error: None,
            unseen: vec![],
            viewers: shown.viewers.clone(),
            reader_id: shown.user.id.clone(),
            reader_email: shown.user.email.to_string(),
            marks: r.recent_public.clone(),
            notice: None,
            check_email: String::new(),
            checklist: None,
            minted: vec![],
        };
        page.files = crate::views::place_files(&mut page.comments, std::mem::take(&mut page.files));
        page
    }

    /// The error to show in `section`, if it is the one that failed.
    pub fn error_in(&self, section: &str) -> Option<&str> {
        self.error.as_ref().filter(|e| e.section == section).map(|e| e.message.as_str())
    }
}

pub struct AuditView {
    pub who: String,
    pub what: String,
    pub detail: Option<String>,
    pub request: Option<String>,
    pub when: String,
}

impl From<&AuditEntry> for AuditView {
    fn from(a: &AuditEntry) -> Self {
        let what = match a.action.as_str() {
            "suspended" => "Suspended",
            "unsuspended" => "Suspension lifted",
            "note" => "Note",
            "rule_added" => "Blocklist rule added",
            "rule_removed" => "Blocklist rule removed",
            "request_closed" => "Request closed",
            "sessions_ended" => "Sessions ended",
            other => other,
        };
        AuditView {
            who: a.actor_email.to_string(),
            what: what.to_string(),
            detail: a.detail.clone(),
            request: a.request.clone(),
            when: when(a.at),
        }
    }
}

#[derive(Template)]
#[template(path = "desk/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub id: String,
    pub email: String,
    pub suspended: bool,
    pub since: String,
    pub other_emails: Vec<String>,
    /// (project, role)
    pub roles: Vec<(String, &'static str)>,
    /// Newest first.
    pub audit: Vec<AuditView>,
    /// (key, summary, status) of the newest requests they reported, where the reader works.
    pub requests: Vec<(String, String, &'static str)>,
    pub notice: Option<String>,
    pub note_body: String,
    pub note_error: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/suspend.html")]
pub struct SuspendPage {
    pub chrome: Chrome,
    pub id: String,
    pub email: String,
    pub request: String,
    pub reason: String,
    pub error: Option<String>,
}

/// A request's clocks as the console shows them: what each target's clock says now.
fn clocks(r: &helpdesk::model::Request, now: i64) -> Vec<(&'static str, String, bool)> {
    let Some(sla) = &r.sla else { return vec![] };
    let named = [("First reply", &sla.first_reply), ("Next reply", &sla.next_reply), ("Resolution", &sla.resolution)];
    named
        .into_iter()
        .filter_map(|(name, clock)| {
            let c = clock.as_ref()?;
            let breached = c.breached_at.map(|at| format!("breached at {}", when(at)));
            let shown = match (c.met_at, c.due_at) {
                (Some(met), _) => (format!("met at {}", when(met)), c.breached_at.is_some()),
                (None, Some(due)) => {
                    let (label, overdue) = crate::views::due_label(due, now);
                    (format!("{label} ({})", when(due)), overdue)
                }
                (None, None) if r.status.is_active() => ("paused while waiting on the customer".to_string(), false),
                (None, None) => ("stopped".to_string(), false),
            };
            let text = match breached {
                Some(b) if c.met_at.is_some() => format!("{}, {b}", shown.0),
                _ => shown.0,
            };
            Some((name, text, shown.1))
        })
        .collect()
}

/// A rating as agents read it: the choice with its reason, the comment, when.
fn rating(c: &helpdesk::model::Csat) -> (String, Option<String>, String) {
    let reason = c.reason.as_deref().and_then(|r| helpdesk::domain::csat::REASONS.iter().find(|(key, _)| *key == r));
    let choice = match (c.rating, reason) {
        (helpdesk::model::Rating::Good, _) => "Good".to_string(),
        (helpdesk::model::Rating::Bad, Some((_, label))) => format!("Bad: {label}"),
        (helpdesk::model::Rating::Bad, None) => "Bad".to_string(),
    };
    (choice, c.comment.clone(), when(c.at))
}
