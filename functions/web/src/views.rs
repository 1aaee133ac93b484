//! The pages' templates (compiled into the binary by askama, escaped by default) and the
//! view data they show, built from domain values.

use askama::Template;
use helpdesk::domain::requests::RequestDetail;
use helpdesk::error::FieldProblem;
use helpdesk::model::{Comment, RequestStatus};
use helpdesk::text::rfc3339;
use helpdesk::ApiError;
use std::sync::OnceLock;

const STYLESHEET: &str = include_str!("../static/style.css");

/// The stylesheet's URL: its name carries a hash of its content, so it is cached for a year
/// and a new version is a new URL.
pub fn stylesheet_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| format!("/static/style-{}.css", &helpdesk::text::sha256_hex(STYLESHEET)[..12]))
}

/// The stylesheet, when `file` is its current name.
pub fn stylesheet(file: &str) -> Option<&'static str> {
    (stylesheet_path().strip_prefix("/static/") == Some(file)).then_some(STYLESHEET)
}

/// What the layout around every page needs.
pub struct Chrome {
    pub site: String,
    pub title: String,
    pub stylesheet: &'static str,
    pub signed_in: bool,
    pub csrf: String,
    /// The console (`/desk`, wider) or the customers' pages (`/portal`).
    pub desk: bool,
    /// Where the header's search box sends its words (None: no box on this page).
    pub search: Option<String>,
    /// The words searched, on a results page.
    pub search_q: String,
}

/// `2026-11-23 15:04 UTC`.
pub fn when(ts: i64) -> String {
    let t = rfc3339(ts);
    match (t.get(..10), t.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => t,
    }
}

/// A time as lists show it: how long ago, with the exact time on hover and for machines
/// (`<time datetime title>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub iso: String,
    pub exact: String,
    pub ago: String,
}

impl Moment {
    pub fn of(ts: i64, now: i64) -> Moment {
        let ago = match now - ts {
            s if s < 60 => "just now".to_string(),
            s if s < 3600 => format!("{} min ago", s / 60),
            s if s < 86_400 => format!("{} h ago", s / 3600),
            s if s < 2 * 86_400 => "yesterday".to_string(),
            s if s < 7 * 86_400 => format!("{} days ago", s / 86_400),
            _ => when(ts).get(..10).unwrap_or_default().to_string(),
        };
        Moment { iso: rfc3339(ts), exact: when(ts), ago }
    }
}

/// A due time relative to now, for the console's badges: "due in 20 min", "overdue by 1 h"
/// (and whether it is overdue).
pub fn due_label(due: i64, now: i64) -> (String, bool) {
    let span = |seconds: i64| match seconds {
        s if s < 3600 => format!("{} min", (s / 60).max(1)),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86400),
    };
    if due >= now {
        (format!("due in {}", span(due - now)), false)
    } else {
        (format!("overdue by {}", span(now - due)), true)
    }
}

#[derive(Clone)]
pub struct CommentView {
    pub id: String,
    pub author: String,
    pub when: String,
    pub body: String,
    /// The quoted history below an emailed reply, folded on the page.
    pub quoted: Option<String>,
    pub internal: bool,
    /// The request it was written on, when a merge brought it here.
    pub merged_from: Option<String>,
    /// The files that came with it.
    pub files: Vec<FileView>,
}

impl From<&Comment> for CommentView {
    fn from(c: &Comment) -> Self {
        let (body, quoted) = helpdesk::text::split_quoted(&c.body);
        CommentView {
            id: c.id.clone(),
            author: c.author_email.to_string(),
            when: when(c.created_at),
            body: body.to_string(),
            quoted: quoted.map(str::to_string),
            internal: c.internal,
            merged_from: c.merged_from.clone(),
            files: vec![],
        }
    }
}

/// A file of the request, as a download link.
#[derive(Clone)]
pub struct FileView {
    pub name: String,
    pub url: String,
    pub size: String,
    /// The reply it came with (None: the first message).
    pub comment_id: Option<String>,
}

/// Puts each file with the reply it came with; answers the rest (the first message's).
pub fn place_files(comments: &mut [CommentView], files: Vec<FileView>) -> Vec<FileView> {
    let mut rest = vec![];
    for file in files {
        match file.comment_id.as_ref().and_then(|id| comments.iter_mut().find(|c| &c.id == id)) {
            Some(comment) => comment.files.push(file),
            None => rest.push(file),
        }
    }
    rest
}

impl From<&helpdesk::model::Attachment> for FileView {
    fn from(a: &helpdesk::model::Attachment) -> Self {
        let size = match a.size {
            n if n < 1024 => format!("{n} B"),
            n if n < 1024 * 1024 => format!("{:.0} KB", n as f64 / 1024.0),
            n => format!("{:.1} MB", n as f64 / 1_048_576.0),
        };
        let url = format!("/requests/{}/attachments/{}", a.request_key, a.id);
        FileView { name: a.name.clone(), url, size, comment_id: a.comment_id.clone() }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// The page to come back to once signed in (empty: home).
    pub next: String,
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub token: String,
    /// The address the link signs in.
    pub email: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
    pub back: &'static str,
    pub back_label: &'static str,
}

pub struct Tab {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// A request's status as customers read it: pending is "waiting for your reply".
#[derive(Debug, Clone, Copy)]
pub struct CustomerStatus(pub RequestStatus);

impl CustomerStatus {
    /// The CSS class (the status's own name).
    pub fn class(&self) -> &'static str {
        self.0.as_str()
    }
}

impl std::fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            RequestStatus::Open => "open",
            RequestStatus::Pending => "Waiting for your reply",
            RequestStatus::Closed => "closed",
        })
    }
}

pub struct Row {
    pub key: String,
    pub summary: String,
    pub status: CustomerStatus,
    pub project: String,
    pub reporter: String,
    pub organization: Option<String>,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage {
    pub chrome: Chrome,
    pub view: String,
    pub tabs: Vec<Tab>,
    /// (id, name, selected)
    pub organizations: Vec<(String, String, bool)>,
    /// (value, label, selected)
    pub statuses: Vec<(&'static str, &'static str, bool)>,
    pub rows: Vec<Row>,
    pub next_href: Option<String>,
    pub empty_message: Option<String>,
    /// (key, name) of projects to raise a request in.
    pub projects: Vec<(String, String)>,
}

/// One field of a request form, as the new-request page shows it.
pub struct FieldView {
    pub key: String,
    pub label: String,
    /// `text`, `textarea`, `select`, `checkbox`, `email` or `date` (also the input's type).
    pub kind: &'static str,
    pub required: bool,
    pub help: Option<String>,
    /// (option, selected)
    pub options: Vec<(String, bool)>,
    pub value: String,
    pub error: Option<String>,
}

impl FieldView {
    pub fn new(f: &helpdesk::model::FormField, value: &str, error: Option<String>) -> Self {
        use helpdesk::model::FieldKind;
        let kind = match f.kind {
            FieldKind::Text => "text",
            FieldKind::Textarea => "textarea",
            FieldKind::Select => "select",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Email => "email",
            FieldKind::Date => "date",
        };
        FieldView {
            key: f.key.clone(),
            label: f.label.clone(),
            kind,
            required: f.required,
            help: f.help.clone(),
            options: f.options.iter().map(|o| (o.clone(), o == value)).collect(),
            value: value.to_string(),
            error,
        }
    }
}

/// The inputs of a form's fields, filled with `values`, each with its problem next to it.
/// Returns the inputs and the problems that name none of them.
pub fn field_inputs(
    form: &helpdesk::model::Form,
    values: &std::collections::BTreeMap<String, String>,
    problems: &[FieldProblem],
) -> (Vec<FieldView>, Vec<FieldProblem>) {
    let of = |f: &helpdesk::model::FormField| problems.iter().find(|p| p.field == format!("fields.{}", f.key));
    let inputs = form
        .fields
        .iter()
        .map(|f| {
            let value = values.get(&f.key).map(String::as_str).unwrap_or("");
            FieldView::new(f, value, of(f).map(|p| p.message.clone()))
        })
        .collect();
    let placed = |p: &&FieldProblem| form.fields.iter().any(|f| p.field == format!("fields.{}", f.key));
    let elsewhere = problems.iter().filter(|p| !placed(p)).cloned().collect();
    (inputs, elsewhere)
}

/// One line of a form's summary of problems: the message, linking to its input when the
/// page has one (`#summary`, `#field-<key>`).
pub struct ProblemLink {
    pub href: Option<String>,
    pub message: String,
}

/// The summary's lines, in the problems' order; `has_input` says which fields the page shows.
pub fn problem_links(problems: &[FieldProblem], has_input: impl Fn(&str) -> bool) -> Vec<ProblemLink> {
    problems
        .iter()
        .map(|p| {
            let id = match p.field.strip_prefix("fields.") {
                Some(key) => format!("field-{key}"),
                None => p.field.clone(),
            };
            ProblemLink { href: has_input(&p.field).then(|| format!("#{id}")), message: p.message.clone() }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "new.html")]
pub struct NewRequestPage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    /// (id, name, current) of the forms this user may use.
    pub forms: Vec<(String, String, bool)>,
    pub form_id: String,
    pub form_description: String,
    pub field_inputs: Vec<FieldView>,
    pub nonce: String,
    pub summary: String,
    pub description: String,
    pub summary_error: Option<String>,
    pub description_error: Option<String>,
    /// Every problem of the last try, in the form's order (the summary at the top).
    pub problems: Vec<ProblemLink>,
}

#[derive(Template)]
#[template(path = "request.html")]
pub struct RequestPage {
    pub chrome: Chrome,
    pub key: String,
    pub summary: String,
    pub description: String,
    pub status: CustomerStatus,
    pub is_open: bool,
    pub project_name: String,
    pub reporter: String,
    /// The organization's name (set by the portal; the request holds only its id).
    pub organization: Option<String>,
    /// Everyone in the organization sees the request.
    pub organization_sees: bool,
    pub created: String,
    pub updated: String,
    pub form_name: Option<String>,
    /// (label, value)
    pub fields: Vec<(String, String)>,
    pub comments: Vec<CommentView>,
    pub files: Vec<FileView>,
    pub participants: Vec<String>,
    pub can_change: bool,
    /// The request it was merged into: the conversation goes on there.
    pub merged_into: Option<String>,
    /// The closed request this one follows up.
    pub follow_up_of: Option<String>,
    /// What the last action did (`?done=`).
    pub notice: Option<String>,
    /// Where the rating of a closed request is given (`/csat/<token>`), when offered.
    pub rating_url: Option<String>,
    pub nonce: String,
    pub reply_body: String,
    pub reply_error: Option<String>,
    pub share_value: String,
    pub share_error: Option<String>,
}

impl RequestPage {
    pub fn new(chrome: Chrome, detail: &RequestDetail, can_change: bool) -> Self {
        let (r, project_name) = (&detail.request, &detail.project_name);
        RequestPage {
            chrome,
            key: r.key.clone(),
            summary: r.summary.clone(),
            description: r.description.clone(),
            status: CustomerStatus(r.status),
            is_open: r.status.is_active(),
            project_name: project_name.to_string(),
            reporter: r.reporter_email.to_string(),
            organization: None,
            organization_sees: false,
            created: when(r.created_at),
            updated: when(r.updated_at),
            form_name: None,
            fields: vec![],
            comments: detail
                .comments
                .iter()
                .map(|c| CommentView { author: detail.page_author(c), ..CommentView::from(c) })
                .collect(),
            files: vec![],
            participants: r.participants.iter().map(|e| e.to_string()).collect(),
            can_change,
            merged_into: r.merged_into.clone(),
            follow_up_of: r.follow_up_of.clone(),
            notice: None,
            rating_url: None,
            nonce: helpdesk::text::new_secret(),
            reply_body: String::new(),
            reply_error: None,
            share_value: String::new(),
            share_error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "public.html")]
pub struct PublicPage {
    pub chrome: Chrome,
    pub token: String,
    pub key: String,
    pub summary: String,
    pub description: String,
    pub status: CustomerStatus,
    pub is_open: bool,
    pub project_name: String,
    pub updated: String,
    pub comments: Vec<CommentView>,
    pub files: Vec<FileView>,
    pub nonce: String,
    pub notice: Option<String>,
    /// Where the rating of a closed request is given, when offered.
    pub rating_url: Option<String>,
    /// The address this browser proved earlier (a remembered replier): not asked again.
    pub replying_as: Option<String>,
    pub email_value: String,
    pub email_error: Option<String>,
    pub body_value: String,
    pub body_error: Option<String>,
}

/// Renders a template; a template that fails to render is an internal error.
pub fn render(t: &impl Template) -> Result<String, ApiError> {
    t.render().map_err(|e| ApiError::Internal(format!("template: {e}")))
}
