//! The agent console (`/desk`). Each page reads through `helpdesk::domain::desk`; each form
//! calls the same use case as its API route (`requests::add_comment` for a reply or note,
//! `macros::apply_macro`, `moderation::suspend`, ...), so no rule has a second copy here.

mod admin;
mod admin_views;
mod automations;
mod charts;
mod merge;
mod reports;
mod sla;
mod views;

use crate::page_kit::{chrome, field_error, nonce, reply_anchor};
use crate::views::{render, Tab};
use crate::visitor::{Form, Visitor};
use helpdesk::caller::Caller;
use helpdesk::domain::attachments::uploads;
use helpdesk::domain::desk;
use helpdesk::domain::forms::{self, MoveInput};
use helpdesk::domain::public_links::{self, MintInput, MintedLink};
use helpdesk::domain::team::{self, RequestPatch};
use helpdesk::domain::{macros, tags};
use helpdesk::http::{self, Reply};
use helpdesk::model::{Priority, RequestStatus};
use helpdesk::moderation::{self, NoteInput, SuspendInput};
use helpdesk::participants::{self, ShareInput};
use helpdesk::requests::{self, ListOptions, NewComment};
use helpdesk::routes::Params;
use helpdesk::{organizations, ApiError, App};
use lambda_http::Request;
use views::{ChecklistView, LinkView, QueueRow, SectionError};

pub(crate) fn desk_chrome(v: &Visitor, title: impl Into<String>) -> crate::views::Chrome {
    crate::views::Chrome { desk: true, ..chrome(v, title, None) }
}

/// What a console form's error looks like where it was made: next to the form that failed
/// (bad input, a rule's refusal), not on a page of its own.
pub(super) fn in_place(err: &ApiError) -> Option<String> {
    if let ApiError::StaleRequest(..) = err {
        return Some(
            "Someone changed this request since you opened it: it shows what is there now. Choose again and save."
                .into(),
        );
    }
    field_error(err).or_else(|| {
        matches!(err, ApiError::Refused { .. } | ApiError::Conflict { .. } | ApiError::Forbidden(_))
            .then(|| err.public_message())
    })
}

pub async fn get(app: &App, req: &Request, v: &Visitor, path: &str, params: &Params) -> Result<Reply, ApiError> {
    let caller = http::page_caller(req, &app.config);
    let query = |name: &str| http::query_param(req, name);
    match path {
        "/desk" => home(app, v, &caller).await,
        "/desk/projects/{key}" => queue(app, req, v, &caller, params.get("key")).await,
        "/desk/requests/{key}" => {
            let key = params.get("key");
            let email = query("email").filter(|e| !e.trim().is_empty());
            let (page, checked) = tokio::join!(request_page(app, v, &caller, key, |_| {}), async {
                match &email {
                    Some(e) => Some(organizations::visibility(app, &caller, key, Ok(e.clone())).await),
                    None => None,
                }
            });
            let mut page = page?;
            page.notice = query("done").and_then(|d| done_message(&d)).map(str::to_string);
            page.check_email = email.unwrap_or_default();
            match checked {
                Some(Ok(visibility)) => page.checklist = Some(ChecklistView::from(&visibility)),
                Some(Err(err)) => match field_error(&err) {
                    Some(message) => page.error = Some(SectionError { section: "checklist", message }),
                    None => return Err(err),
                },
                None => {}
            }
            Ok(Reply::html(200, render(&page)?))
        }
        "/desk/users/{id}" => {
            let notice = query("done").and_then(|d| done_message(&d)).map(str::to_string);
            user_page(app, v, &caller, params.get("id"), 200, |p| p.notice = notice).await
        }
        "/desk/projects/{key}/reports" => reports::page(app, req, v, &caller, params.get("key")).await,
        "/desk/projects/{key}/search" => crate::search::desk_page(app, req, v, &caller, params.get("key")).await,
        "/desk/projects/{key}/automations" => {
            let notice = query("done").and_then(|d| done_message(&d)).map(str::to_string);
            let edit = query("edit");
            automations::page(app, v, &caller, params.get("key"), edit.as_deref(), 200, |p| p.notice = notice).await
        }
        "/desk/projects/{key}/settings" | "/desk/projects/{key}/people" => {
            admin::get(app, req, v, &caller, path, params.get("key")).await
        }
        "/desk/organizations/{id}" | "/desk/blocklist" | "/desk/blocklist/remove" => {
            admin::get(app, req, v, &caller, path, params.get("id")).await
        }
        "/desk/requests/{key}/merge" => merge::page(app, v, &caller, params.get("key"), query("into")).await,
        "/desk/users/{id}/suspend" => {
            let request = query("request").unwrap_or_default();
            suspend_page(app, v, &caller, params.get("id"), 200, request, String::new(), None).await
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

pub async fn post(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    path: &str,
    params: &Params,
    form: &Form,
) -> Result<Reply, ApiError> {
    // Staff only, before anything changes: a customer's session gets 403 here.
    desk::require_staff(app, caller).await?;
    match path {
        "/desk/requests/{key}/{action}" if params.get("action") == "merge" => {
            merge::confirm(app, v, caller, params.get("key"), form).await
        }
        "/desk/requests/{key}/{action}" => {
            request_action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/users/{id}/{action}" => user_action(app, v, caller, params.get("id"), params.get("action"), form).await,
        "/desk/projects/{key}/{action}" if params.get("action").starts_with("automation") => {
            automations::action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/projects/{key}/{action}" => {
            admin::project_action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/organizations/{id}/{action}" => {
            admin::organization_action(app, v, caller, params.get("id"), params.get("action"), form).await
        }
        "/desk/blocklist/{action}" => admin::blocklist_action(app, v, caller, params.get("action"), form).await,
        _ => Err(ApiError::RouteNotFound),
    }
}

/// The notice a page shows after `?done=<action>`.
pub(super) fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "close" => "The request is closed.",
        "reopen" => "The request is open again.",
        "release" => "Released: the request is in the queue, and its people are notified as usual.",
        "merged" => "Merged: the other request is closed, and its public replies, files and people are here.",
        "triage" => "Saved.",
        "organization" => "The organization is updated.",
        "share" => "Shared.",
        "unshare" => "No longer shared with that address.",
        "macro" => "The macro was applied.",
        "form" => "The request is on its new form.",
        "fields" => "The fields are saved.",
        "revoke-links" => "Every public link to this request has stopped working.",
        "suspend" => "Suspended. Each step is in the audit trail below.",
        "unsuspend" => "The suspension is lifted; requests it closed stay closed.",
        "note" => "Note added.",
        "settings" => "Settings saved.",
        "sla" => "Service levels saved.",
        "form-saved" => "The form is saved.",
        "macro-added" => "The macro is added.",
        "agent" => "The agent is added.",
        "customer" => "The customer is added.",
        "organization-created" => "The organization is created.",
        "add-member" => "Member added.",
        "remove-member" => "Member removed.",
        "rule-add" => "The rule is added.",
        "rule-remove" => "The rule is removed.",
        "automation-saved" => "The automation is saved.",
        "automation-on" => "The automation is on.",
        "automation-off" => "The automation is off.",
        "automation-delete" => "The automation is removed.",
        _ => return None,
    })
}

async fn home(app: &App, v: &Visitor, caller: &Caller) -> Result<Reply, ApiError> {
    let home = desk::home(app, caller).await?;
    let projects = home
        .projects
        .iter()
        .map(|(p, role)| views::ProjectRow { key: p.key.clone(), name: p.name.clone(), role: views::role_name(*role) })
        .collect();
    Ok(Reply::html(200, render(&views::HomePage { chrome: desk_chrome(v, "Projects"), projects })?))
}

/// A queue page's filters, as its links carry them.
#[derive(Clone, Default)]
struct QueueFilters {
    status: String,
    assignee: String,
    priority: String,
    tag: String,
    organization: String,
    /// `due`: nearest due first; empty: newest first.
    sort: String,
}

/// A queue page's address: its tab, filters and page.
fn queue_href(key: &str, f: &QueueFilters, cursor: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("status", &f.status);
    let pairs = [
        ("assignee", f.assignee.as_str()),
        ("priority", f.priority.as_str()),
        ("tag", f.tag.as_str()),
        ("organization", f.organization.as_str()),
        ("sort", f.sort.as_str()),
        ("cursor", cursor.unwrap_or("")),
    ];
    for (name, value) in pairs {
        if !value.is_empty() {
            q.append_pair(name, value);
        }
    }
    format!("/desk/projects/{key}?{}", q.finish())
}

async fn queue(app: &App, req: &Request, v: &Visitor, caller: &Caller, key: &str) -> Result<Reply, ApiError> {
    let param = |name: &str| http::query_param(req, name).map(|t| t.trim().to_string()).unwrap_or_default();
    // The open queue unless another tab is asked for; `all` is the API's "no status".
    let mut f = QueueFilters {
        status: Some(param("status")).filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into()),
        assignee: param("assignee"),
        priority: param("priority"),
        tag: param("tag"),
        organization: param("organization"),
        sort: param("sort"),
    };
    if f.status == "held" {
        // Held requests wait outside every owner's queue.
        f.assignee.clear();
    }
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    let options = ListOptions {
        status: (f.status != "all").then(|| f.status.clone()),
        tag: some(&f.tag),
        organization: some(&f.organization),
        assignee: some(&f.assignee),
        priority: some(&f.priority),
        sort: some(&f.sort),
        cursor: http::query_param(req, "cursor"),
        ..ListOptions::default()
    };
    let shown = desk::queue(app, caller, key, &options).await?;
    let now = app.now();
    let org_name = |id: &str| shown.organizations.iter().find(|o| o.id == id).map(|o| o.name.clone());
    let rows = shown
        .page
        .items
        .iter()
        .map(|(_, r)| QueueRow {
            key: r.key.clone(),
            summary: r.summary.clone(),
            reporter: r.reporter_email.to_string(),
            organization: r.organization.as_deref().map(|o| org_name(o).unwrap_or_else(|| o.to_string())),
            status: if r.held { "held" } else { r.status.as_str() },
            priority: r.priority.as_str(),
            assignee: r.assignee.as_ref().map(views::assignee_label),
            updated: crate::views::when(r.updated_at),
            waiting_on_us: r.customer_spoke_last && r.status == RequestStatus::Open,
            tags: r.tags.clone(),
            due: r.nearest_due().filter(|_| r.status.is_active() && !r.held).map(|due| {
                let (label, overdue) = crate::views::due_label(due, now);
                (label, overdue, crate::views::when(due))
            }),
        })
        .collect();
    let statuses =
        [("Open", "open"), ("Pending", "pending"), ("Closed", "closed"), ("Held for review", "held"), ("All", "all")];
    let tabs = statuses
        .into_iter()
        .map(|(label, value)| {
            let held = value == "held";
            let to = QueueFilters {
                status: value.into(),
                assignee: if held { String::new() } else { f.assignee.clone() },
                tag: if held { String::new() } else { f.tag.clone() },
                ..f.clone()
            };
            Tab { label: label.into(), href: queue_href(key, &to, None), current: f.status == value }
        })
        .collect();
    let owner_tabs = [("Mine", "me"), ("Unassigned", "none"), ("Everyone", "")]
        .into_iter()
        .map(|(label, value)| {
            let status = if f.status == "held" { "open".to_string() } else { f.status.clone() };
            let to = QueueFilters { assignee: value.into(), status, ..f.clone() };
            Tab { label: label.into(), href: queue_href(key, &to, None), current: f.assignee == value }
        })
        .collect();
    // Nearest due orders the requests with a running clock: no tag or organization filter.
    let sorts = [("Newest", ""), ("Nearest due", "due")]
        .into_iter()
        .map(|(label, value)| {
            let to = if value == "due" {
                QueueFilters { sort: value.into(), tag: String::new(), organization: String::new(), ..f.clone() }
            } else {
                QueueFilters { sort: value.into(), ..f.clone() }
            };
            Tab { label: label.into(), href: queue_href(key, &to, None), current: f.sort == value }
        })
        .collect();
    let page = views::QueuePage {
        chrome: desk_chrome(v, format!("{} queue", shown.project.name)),
        sorts,
        sort: f.sort.clone(),
        project_key: shown.project.key.clone(),
        project_name: shown.project.name.clone(),
        section: "queue",
        tabs,
        owner_tabs,
        next_href: shown.page.next_cursor.as_deref().map(|c| queue_href(key, &f, Some(c))),
        organizations: shown
            .organizations
            .iter()
            .map(|o| (o.id.clone(), o.name.clone(), o.id == f.organization))
            .collect(),
        filtered: !f.tag.is_empty() || !f.organization.is_empty() || !f.priority.is_empty(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str(), views::priority_label(*p), p.as_str() == f.priority))
            .collect(),
        status: f.status,
        assignee: f.assignee,
        tag: f.tag,
        rows,
    };
    Ok(Reply::html(200, render(&page)?))
}

async fn request_page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    adjust: impl FnOnce(&mut views::RequestPage),
) -> Result<views::RequestPage, ApiError> {
    let shown = desk::request_page(app, caller, key).await?;
    let r = &shown.detail.request;
    let mut page = views::RequestPage::new(desk_chrome(v, format!("{}: {}", r.key, r.summary)), &shown);
    adjust(&mut page);
    Ok(page)
}

/// Back to the request page once `result` succeeded, with `?done=<notice>`.
fn done<T>(result: Result<T, ApiError>, notice: Option<&'static str>) -> Result<Done, ApiError> {
    result.map(|_| Done::Back(notice))
}

/// What a request form did: go back to the page (with a notice), or show links made now.
enum Done {
    Back(Option<&'static str>),
    To(String),
    Minted(Vec<MintedLink>),
}

/// The owner card: the API's `PATCH /requests/{key}`, with the version the page showed as its
/// `If-Match`, so a change made meanwhile is shown rather than overwritten.
async fn triage(app: &App, caller: &Caller, key: &str, form: &Form) -> Result<requests::Viewed, ApiError> {
    let choice = |name: &str| Some(form.get(name).to_string()).filter(|v| !v.is_empty());
    let refused = |what: &str| ApiError::invalid("invalid_field", format!("choose a {what} from the list"));
    let priority = choice("priority").map(|p| Priority::parse(&p).ok_or_else(|| refused("priority"))).transpose();
    let status = choice("status").map(|s| RequestStatus::parse(&s).ok_or_else(|| refused("status"))).transpose();
    let patch = priority.and_then(|priority| {
        status.map(|status| RequestPatch { assignee: Some(choice("assignee")), priority, status })
    });
    team::update_request_fields(app, caller, key, patch, Ok(form.get("version").parse().ok())).await
}

async fn request_action(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    action: &str,
    form: &Form,
) -> Result<Reply, ApiError> {
    let back = format!("/desk/requests/{key}");
    let field = |name: &str| form.get(name).to_string();
    let (section, result) = match action {
        "reply" => {
            let seen_version = form.get("seen_version").parse().ok();
            let internal = form.get("internal") == "true";
            let made = async {
                let attachments = uploads::stage(app, caller, key, form.files()).await?;
                let input = NewComment { body: field("body"), internal, seen_version, attachments };
                requests::add_comment(app, caller, key, Ok(input), nonce(form)).await
            }
            .await;
            ("reply", made.map(|(posted, _)| Done::To(reply_anchor("/desk/requests", &posted, ""))))
        }
        "close" | "reopen" => {
            let (status, notice) =
                if action == "close" { (RequestStatus::Closed, "close") } else { (RequestStatus::Open, "reopen") };
            let seen = Ok(form.get("seen_version").parse().ok());
            ("status", done(requests::set_status_seen(app, caller, key, status, seen).await, Some(notice)))
        }
        "release" => ("status", done(requests::release(app, caller, key).await, Some("release"))),
        // The owner card: the API's `PATCH /requests/{key}`, with the version the page showed
        // as its `If-Match`, so a change made meanwhile is shown rather than overwritten.
        "triage" => ("triage", done(triage(app, caller, key, form).await, Some("triage"))),
        "organization" => {
            let org = Some(field("organization")).filter(|o| !o.is_empty());
            let set = organizations::set_request_organization(app, caller, key, Ok(org)).await;
            ("organization", done(set, Some("organization")))
        }
        "share" => {
            let input = ShareInput { emails: vec![field("email")] };
            ("share", done(participants::share(app, caller, key, Ok(input)).await, Some("share")))
        }
        "unshare" => ("share", done(participants::unshare(app, caller, key, form.get("email")).await, Some("unshare"))),
        "tag" => ("tag", done(tags::set_tag(app, caller, key, form.get("tag"), true).await, None)),
        "untag" => ("tag", done(tags::set_tag(app, caller, key, form.get("tag"), false).await, None)),
        "macro" => {
            let applied = macros::apply_macro(app, caller, key, form.get("macro"), nonce(form)).await;
            ("macro", done(applied, Some("macro")))
        }
        "form" => {
            let input = MoveInput { form: field("form"), fields: None };
            ("form", done(forms::move_to_form(app, caller, key, Ok(input)).await, Some("form")))
        }
        // Its own form again, with new values: the API's `PUT /requests/{key}/form`.
        "fields" => {
            let input = MoveInput { form: field("form"), fields: Some(form.with_prefix("field.")) };
            ("fields", done(forms::move_to_form(app, caller, key, Ok(input)).await, Some("fields")))
        }
        "links" => ("links", public_links::mint(app, caller, key, Ok(MintInput::default())).await.map(Done::Minted)),
        "revoke-links" => ("links", done(public_links::revoke(app, caller, key).await, Some("revoke-links"))),
        _ => return Err(ApiError::RouteNotFound),
    };
    match result {
        Ok(Done::Back(notice)) => Ok(Reply::see_other(match notice {
            Some(n) => format!("{back}?done={n}"),
            None => back,
        })),
        Ok(Done::To(url)) => Ok(Reply::see_other(url)),
        Ok(Done::Minted(links)) => {
            let base = &app.config.public_base_url;
            let minted = links
                .iter()
                .map(|l| LinkView {
                    email: l.email.to_string(),
                    url: format!("{base}/p/{}", l.token),
                    expires: crate::views::when(l.expires_at),
                })
                .collect();
            let page = request_page(app, v, caller, key, |p| p.minted = minted).await?;
            // Secrets on the page: never stored by a cache or shown again by Back.
            Ok(Reply::html(200, render(&page)?).with_header("cache-control", "no-store"))
        }
        Err(err) => {
            let Some(message) = in_place(&err) else { return Err(err) };
            let (body, internal) = (field("body"), form.get("internal") == "true");
            let (typed, chosen) = (form.with_prefix("field."), field("form"));
            let page = request_page(app, v, caller, key, |p| {
                // A field's error: that form's fields, as typed, with the error next to it.
                if matches!(section, "form" | "fields") && message.starts_with("fields.") {
                    return p.show_fields_of(&chosen, &typed, message);
                }
                if let ApiError::Conflict { code: "stale_view", .. } = &err {
                    p.show_unseen(form.get("seen_version").parse().unwrap_or_default());
                }
                p.error = Some(SectionError { section, message });
                if section == "reply" {
                    p.reply_body = body;
                    p.reply_internal = internal;
                }
            })
            .await?;
            Ok(Reply::html(err.status(), render(&page)?))
        }
    }
}

async fn user_page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    id: &str,
    status: u16,
    adjust: impl FnOnce(&mut views::UserPage),
) -> Result<Reply, ApiError> {
    let shown = desk::user_page(app, caller, id).await?;
    let (trail, u) = (&shown.trail, &shown.trail.user);
    let mut page = views::UserPage {
        chrome: desk_chrome(v, u.email.to_string()),
        id: u.id.clone(),
        email: u.email.to_string(),
        suspended: u.suspended,
        since: crate::views::when(u.created_at),
        other_emails: u.secondary_emails.iter().filter(|e| e.verified).map(|e| e.email.to_string()).collect(),
        roles: u.project_roles.iter().map(|(p, r)| (p.clone(), views::role_name(*r))).collect(),
        audit: trail.entries.iter().rev().map(views::AuditView::from).collect(),
        requests: shown
            .requests
            .iter()
            .map(|r| (r.key.clone(), r.summary.clone(), if r.held { "held" } else { r.status.as_str() }))
            .collect(),
        notice: None,
        note_body: String::new(),
        note_error: None,
    };
    adjust(&mut page);
    Ok(Reply::html(status, render(&page)?))
}

#[allow(clippy::too_many_arguments)]
async fn suspend_page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    id: &str,
    status: u16,
    request: String,
    reason: String,
    error: Option<String>,
) -> Result<Reply, ApiError> {
    // The trail's read is the moderation rule's check: who may not suspend this user sees 403.
    let trail = moderation::audit_trail(app, caller, id).await?;
    let email = trail.user.email.to_string();
    let page = views::SuspendPage {
        chrome: desk_chrome(v, format!("Suspend {email}")),
        id: trail.user.id,
        email,
        request,
        reason,
        error,
    };
    Ok(Reply::html(status, render(&page)?))
}

async fn user_action(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    id: &str,
    action: &str,
    form: &Form,
) -> Result<Reply, ApiError> {
    let request = Some(form.get("request").trim().to_string()).filter(|r| !r.is_empty());
    let result = match action {
        "suspend" => {
            let input = SuspendInput { reason: form.get("reason").to_string(), request: request.clone() };
            moderation::suspend(app, caller, id, Ok(input), None).await.map(|_| ())
        }
        "unsuspend" => moderation::unsuspend(app, caller, id).await.map(|_| ()),
        "note" => {
            let input = NoteInput { body: form.get("body").to_string(), request: request.clone() };
            moderation::add_note(app, caller, id, Ok(input)).await.map(|_| ())
        }
        _ => return Err(ApiError::RouteNotFound),
    };
    match result {
        Ok(()) => Ok(Reply::see_other(format!("/desk/users/{id}?done={action}"))),
        Err(err) => {
            let Some(message) = field_error(&err) else { return Err(err) };
            let status = err.status();
            match action {
                "suspend" => {
                    let (request, reason) = (request.unwrap_or_default(), form.get("reason").to_string());
                    suspend_page(app, v, caller, id, status, request, reason, Some(message)).await
                }
                _ => {
                    let body = form.get("body").to_string();
                    user_page(app, v, caller, id, status, |p| {
                        p.note_body = body;
                        p.note_error = Some(message);
                    })
                    .await
                }
            }
        }
    }
}
