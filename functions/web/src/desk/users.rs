//! A person's page in the console: their requests, audit trail and notes, and suspending them.

use super::{desk_chrome, views};
use crate::page_kit::field_error;
use crate::views::render;
use crate::visitor::{Form, Visitor};
use helpdesk::caller::Caller;
use helpdesk::domain::desk;
use helpdesk::http::Reply;
use helpdesk::moderation::{self, NoteInput, SuspendInput};
use helpdesk::{ApiError, App};

pub(super) async fn user_page(
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
pub(super) async fn suspend_page(
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

pub(super) async fn user_action(
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
