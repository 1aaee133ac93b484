//! The agent console (`/desk`). Each page reads through `helpdesk::domain::desk`; each form
//! calls the same use case as its API route (`requests::add_comment` for a reply or note,
//! `macros::apply_macro` after its preview, `moderation::suspend`, ...), so no rule has a second copy here.

mod admin;
mod admin_views;
mod automations;
mod charts;
mod fields_view;
mod form_editor;
mod history_view;
mod macro_editor;
mod macro_preview;
mod merge;
mod people_list;
mod queue;
mod reports;
mod rows;
mod sla;
mod users;
mod views;

use crate::page_kit::{chrome, field_error, nonce, reply_anchor};
use crate::views::render;
use crate::visitor::{Form, Visitor};
use helpdesk::caller::Caller;
use helpdesk::domain::attachments::uploads;
use helpdesk::domain::desk;
use helpdesk::domain::forms::{self, MoveInput};
use helpdesk::domain::public_links::{self, MintInput, MintedLink};
use helpdesk::domain::team::{self, RequestPatch};
use helpdesk::domain::{form_moves, tags};
use helpdesk::http::{self, Reply};
use helpdesk::model::{Priority, RequestStatus};
use helpdesk::participants::{self, ShareInput};
use helpdesk::requests::{self, NewComment};
use helpdesk::routes::Params;
use helpdesk::{organizations, ApiError, App};
use lambda_http::Request;
use views::{ChecklistView, LinkView, SectionError};

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
        "/desk/projects/{key}" => queue::queue(app, req, v, &caller, params.get("key")).await,
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
        "/desk/users" => people_list::users_page(app, req, v, &caller).await,
        "/desk/projects/new" => people_list::new_project_page(app, v, &caller).await,
        "/desk/users/{id}" => {
            let notice = query("done").and_then(|d| done_message(&d)).map(str::to_string);
            users::user_page(app, v, &caller, params.get("id"), 200, |p| p.notice = notice).await
        }
        "/desk/projects/{key}/reports" => reports::page(app, req, v, &caller, params.get("key")).await,
        "/desk/projects/{key}/search" => crate::search::desk_page(app, req, v, &caller, params.get("key")).await,
        "/desk/projects/{key}/automations" => {
            let notice = query("done").and_then(|d| done_message(&d)).map(str::to_string);
            let edit = query("edit");
            automations::page(app, v, &caller, params.get("key"), edit.as_deref(), 200, |p| p.notice = notice).await
        }
        "/desk/projects/{key}/forms/{id}" | "/desk/projects/{key}/macros/{id}" => {
            let notice = query("done").and_then(|d| done_message(&d)).map(str::to_string);
            let (key, id) = (params.get("key"), params.get("id"));
            match path.contains("/forms/") {
                true => form_editor::page(app, v, &caller, key, id, 200, |p| p.notice = notice).await,
                false => macro_editor::page(app, v, &caller, key, id, 200, |p| p.notice = notice).await,
            }
        }
        "/desk/projects/{key}/settings" | "/desk/projects/{key}/people" => {
            admin::get(app, req, v, &caller, path, params.get("key")).await
        }
        "/desk/organizations/{id}" | "/desk/blocklist" | "/desk/blocklist/remove" => {
            admin::get(app, req, v, &caller, path, params.get("id")).await
        }
        "/desk/requests/{key}/merge" => merge::page(app, v, &caller, params.get("key"), query("into")).await,
        "/desk/requests/{key}/macro" => {
            macro_preview::page(app, v, &caller, params.get("key"), &query("macro").unwrap_or_default()).await
        }
        "/desk/users/{id}/suspend" => {
            let request = query("request").unwrap_or_default();
            users::suspend_page(app, v, &caller, params.get("id"), 200, request, String::new(), None).await
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
        "/desk/projects/new" => people_list::create_project(app, v, caller, form).await,
        "/desk/requests/{key}/{action}" if params.get("action") == "merge" => {
            merge::confirm(app, v, caller, params.get("key"), form).await
        }
        "/desk/requests/{key}/{action}" if params.get("action") == "macro" => {
            macro_preview::confirm(app, v, caller, params.get("key"), form).await
        }
        "/desk/requests/{key}/{action}" => {
            request_action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/users/{id}/{action}" => {
            users::user_action(app, v, caller, params.get("id"), params.get("action"), form).await
        }
        "/desk/projects/{key}/{action}" if params.get("action").starts_with("automation") => {
            automations::action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/projects/{key}/{action}" if matches!(params.get("action"), "form" | "form-delete") => {
            form_editor::action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/projects/{key}/{action}" if matches!(params.get("action"), "agent-role" | "agent-remove") => {
            people_list::agent_action(app, v, caller, params.get("key"), params.get("action"), form).await
        }
        "/desk/projects/{key}/{action}" if matches!(params.get("action"), "macro" | "macro-delete") => {
            macro_editor::action(app, v, caller, params.get("key"), params.get("action"), form).await
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
        "agent-role" => "The role is changed.",
        "agent-removed" => {
            "The agent is removed from the project: their open and pending requests there are unassigned."
        }
        "undo-form" => "The form move is undone: the request is back on its old form, with the values it had.",
        "fields" => "The fields are saved.",
        "revoke-links" => "Every public link to this request has stopped working.",
        "suspend" => "Suspended. Each step is in the audit trail below.",
        "unsuspend" => "The suspension is lifted; requests it closed stay closed.",
        "note" => "Note added.",
        "settings" => "Settings saved.",
        "sla" => "Service levels saved.",
        "form-saved" => "The form is saved.",
        "form-deleted" => "The form is removed. Requests on it keep their values.",
        "macro-saved" => "The macro is saved.",
        "macro-deleted" => "The macro is removed.",
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
        "project-created" => "The project is created. Add its agents below.",
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
    // People for admins of a project (or the app), a new project for app admins.
    let user = &home.user;
    let mut links = vec![];
    if user.app_admin || user.project_roles.values().any(|r| *r == helpdesk::model::ProjectRole::Admin) {
        links.push(("/desk/users", "People"));
    }
    if user.app_admin {
        links.push(("/desk/projects/new", "New project"));
    }
    Ok(Reply::html(200, render(&views::HomePage { chrome: desk_chrome(v, "Projects"), projects, links })?))
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
            let section = if internal { "note" } else { "reply" };
            (section, made.map(|(posted, _)| Done::To(reply_anchor("/desk/requests", &posted, ""))))
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
        // Puts a form move back, from its line in the history.
        "undo-form" => {
            let undone = form_moves::undo_form_move(app, caller, key, form.get("entry")).await;
            ("history", done(undone, Some("undo-form")))
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
            let body = field("body");
            let (typed, chosen) = (form.with_prefix("field."), field("form"));
            let page = request_page(app, v, caller, key, |p| {
                // Field errors: that form's fields, as typed, each error next to its field.
                if let (true, ApiError::Fields(problems)) = (matches!(section, "form" | "fields"), &err) {
                    return p.show_fields_of(&chosen, &typed, problems);
                }
                if let ApiError::Conflict { code: "stale_view", .. } = &err {
                    p.show_unseen(form.get("seen_version").parse().unwrap_or_default());
                }
                p.error = Some(SectionError { section, message });
                match section {
                    "reply" => p.reply_body = body,
                    "note" => p.note_body = body,
                    _ => {}
                }
            })
            .await?;
            Ok(Reply::html(err.status(), render(&page)?))
        }
    }
}
