//! JSON views of domain values: what each reader sees of them.

use crate::domain::access::Viewer;
use crate::domain::moderation::SuspendOutcome;
use crate::domain::organizations::Visibility;
use crate::domain::rules::ref_text;
use crate::model::{AuditEntry, BlockRule, Comment, Organization, Project, Request, User};
use crate::requests::{RequestDetail, RequestPage};
use crate::text::rfc3339;
use serde_json::{json, Value};

/// A request as `viewer` may see it: customers see public activity only (no internal-note
/// count or time, no hold).
pub fn request_json(viewer: Viewer, r: &Request) -> Value {
    let mut body = json!({
        "key": r.key,
        "project": r.project,
        "summary": r.summary,
        "description": r.description,
        "form": r.form,
        "fields": r.fields,
        "status": r.status.as_str(),
        "priority": r.priority.as_str(),
        "reporter": r.reporter_email,
        "reporter_id": r.reporter_id,
        "organization": r.organization,
        "participants": r.participants,
        "comment_count": r.comment_count,
        "merged_into": r.merged_into,
        "follow_up_of": r.follow_up_of,
        "created_at": rfc3339(r.created_at),
        "updated_at": rfc3339(r.updated_at),
    });
    if viewer == Viewer::Agent {
        body["held"] = json!(r.held);
        body["note_count"] = json!(r.note_count);
        body["noted_at"] = json!(r.noted_at.map(rfc3339));
        body["tags"] = json!(r.tags);
        body["first_response_at"] = json!(r.first_response_at.map(rfc3339));
        body["customer_spoke_last"] = json!(r.customer_spoke_last);
        body["assignee"] = json!(r.assignee);
        // Every change moves it, internal notes too: agents only.
        body["version"] = json!(r.version);
        body["sla"] = sla_json(r.sla.as_ref());
        body["channel"] = json!(r.channel);
        body["csat"] = json!(r.csat.as_ref().map(|c| json!({
            "rating": c.rating.as_str(), "reason": c.reason, "comment": c.comment, "at": rfc3339(c.at),
        })));
    }
    body
}

/// A request's clocks as agents read them: per target, when it is due (while it runs), met
/// and breached.
pub fn sla_json(sla: Option<&crate::model::RequestSla>) -> Value {
    let Some(sla) = sla else { return Value::Null };
    let clock = |c: &Option<crate::model::SlaClock>| {
        c.as_ref().map(|c| {
            json!({"due_at": c.due_at.map(rfc3339), "met_at": c.met_at.map(rfc3339), "breached_at": c.breached_at.map(rfc3339),
                   "paused": c.due_at.is_none() && c.met_at.is_none()})
        })
    };
    json!({"first_reply": clock(&sla.first_reply), "next_reply": clock(&sla.next_reply), "resolution": clock(&sla.resolution)})
}

/// A project's agents as the team item keeps them.
pub fn team_json(team: &crate::model::ProjectTeam) -> Value {
    let items: Vec<Value> = team.agents.iter().map(|(id, m)| team_member_json(id, m)).collect();
    json!({"project": team.project, "items": items, "next_cursor": null})
}

pub fn team_member_json(id: &str, m: &crate::model::TeamMember) -> Value {
    json!({"id": id, "email": m.email, "name": m.name, "role": m.role, "available": m.available,
           "notify": m.notify.as_str(), "open": m.open()})
}

pub fn comment_json(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "author": c.author_email,
        "body": c.body,
        "internal": c.internal,
        "merged_from": c.merged_from,
        "created_at": rfc3339(c.created_at),
    })
}

/// A request as its public link shows it: no addresses, no ids, authors by role only.
pub fn public_page_json(page: &crate::domain::public_links::PublicPage) -> Value {
    let r = &page.detail.request;
    let comments: Vec<Value> = page
        .detail
        .comments
        .iter()
        .map(|c| {
            json!({"id": c.id, "author": page.author(c).label(), "body": c.body, "merged_from": c.merged_from,
                   "created_at": rfc3339(c.created_at)})
        })
        .collect();
    json!({
        "key": r.key, "summary": r.summary, "description": r.description, "status": r.status.as_str(),
        "project": page.project.name, "created_at": rfc3339(r.created_at), "updated_at": rfc3339(r.updated_at),
        "comments": comments,
    })
}

pub fn forms_json(forms: &crate::model::ProjectForms) -> Value {
    json!({"project": forms.project, "default_form": forms.default_form, "items": forms.forms})
}

/// A project's rules, each with when it last fired (and what it could not do then).
pub fn automations_json(list: &crate::domain::automations::manage::RuleList) -> Value {
    let items: Vec<Value> = list
        .automations
        .rules
        .iter()
        .map(|rule| {
            let mut item = serde_json::to_value(rule).unwrap_or_default();
            let fired = list
                .last_fired(&rule.id)
                .map(|f| json!({"at": crate::text::rfc3339(f.at), "request": f.request_key, "skipped": f.skipped}));
            item["last_fired"] = fired.unwrap_or(Value::Null);
            item
        })
        .collect();
    json!({"project": list.automations.project, "items": items})
}

/// A webhook target as its admins see it (never its secret), times in RFC 3339.
pub fn webhook_json(t: &crate::model::WebhookTarget) -> Value {
    json!({"id": t.id, "url": t.url, "events": t.events, "format": t.format, "enabled": t.enabled,
           "failing_since": t.failing_since.map(rfc3339), "disabled_at": t.disabled_at.map(rfc3339),
           "created_at": rfc3339(t.created_at)})
}

/// A webhook target's deliveries, newest first, each with its attempts.
pub fn deliveries_json(deliveries: &[crate::model::WebhookDelivery]) -> Value {
    let items: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            let attempts: Vec<Value> = d
                .attempts
                .iter()
                .map(|a| json!({"at": rfc3339(a.at), "status": a.status, "error": a.error, "ms": a.ms}))
                .collect();
            json!({"id": d.id, "event": d.event, "request": d.request_key, "state": d.state,
                   "created_at": rfc3339(d.created_at), "next_attempt_at": d.next_at.map(rfc3339), "attempts": attempts})
        })
        .collect();
    json!({"items": items})
}

/// Search results: each request as its reader may see it, with `snippet` (HTML-escaped text,
/// the matched words in `<mark>`), the next page's cursor and how many match in all.
pub fn search_json(page: &crate::domain::search::SearchPage) -> Value {
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|(viewer, r, snippet)| {
            let mut item = request_json(*viewer, r);
            item["snippet"] = json!(snippet);
            item
        })
        .collect();
    json!({"items": items, "next_cursor": page.next_cursor, "total": page.total})
}

/// What a merge did: both requests as agents see them, what was copied, who was left out.
pub fn merged_json(merged: &crate::requests::Merged) -> Value {
    json!({"source": request_json(Viewer::Agent, &merged.source), "target": request_json(Viewer::Agent, &merged.target),
           "comments": merged.comments, "attachments": merged.attachments, "skipped": merged.skipped})
}

pub fn page_json(page: &RequestPage) -> Value {
    let items: Vec<Value> = page.items.iter().map(|(viewer, r)| request_json(*viewer, r)).collect();
    json!({"items": items, "next_cursor": page.next_cursor})
}

pub fn detail_json(detail: &RequestDetail) -> Value {
    let mut body = request_json(detail.viewer, &detail.request);
    body["comments"] = detail
        .comments
        .iter()
        .map(|c| {
            let mut shown = comment_json(c);
            shown["author"] = json!(detail.author(c));
            shown
        })
        .collect();
    body["attachments"] = detail
        .attachments
        .iter()
        .map(|a| {
            json!({"id": a.id, "name": a.name, "type": a.content_type, "size": a.size, "comment_id": a.comment_id,
                   "merged_from": a.merged_from, "url": format!("/requests/{}/attachments/{}", a.request_key, a.id)})
        })
        .collect();
    body["history"] = detail
        .history
        .iter()
        .map(|h| {
            let mut entry = json!({"id": h.id, "action": h.action, "by": detail.actor(h), "emails": h.emails,
                                   "detail": h.detail, "at": rfc3339(h.at)});
            // A form move's dropped values (agents only see form moves): what its undo restores.
            if !h.dropped.is_empty() {
                entry["dropped"] = json!(h.dropped);
                entry["undone"] = json!(h.undone_at.is_some());
            }
            entry
        })
        .collect();
    body
}

/// What a macro would do (`GET /requests/{key}/macros/{id}/preview`).
pub fn macro_preview_json(p: &crate::domain::macros::MacroPreview) -> Value {
    let steps: Vec<Value> = p
        .steps
        .iter()
        .map(|s| json!({"action": s.action, "error": s.error, "already_there": s.already_there}))
        .collect();
    json!({"macro": {"id": p.chosen.id, "name": p.chosen.name}, "request": p.request.key, "applies": p.applies,
           "steps": steps, "recipients": p.recipients, "dropped": p.dropped})
}

pub fn project_json(p: &Project) -> Value {
    json!({
        "key": p.key,
        "name": p.name,
        "support_address": p.support_address,
        "org_sharing": p.settings.org_sharing,
        "portal": {"private": p.settings.portal_private, "public": p.settings.portal_public, "link_days": p.settings.public_link_days},
        "participant_cap": p.settings.participant_cap,
        "notify_per_hour": p.settings.notify_per_hour,
        "assignment": p.settings.assignment,
        "intake": p.settings.intake,
        "sla": p.settings.sla,
        "csat": p.settings.csat,
        "reopen_days": p.settings.reopen_days,
        "created_at": rfc3339(p.created_at),
    })
}

pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "app_admin": user.app_admin,
        "roles": user.project_roles,
        "suspended": user.suspended,
        "organizations": user
            .organizations
            .iter()
            .map(|(id, project)| json!({"id": id, "project": project}))
            .collect::<Vec<_>>(),
        "emails": emails_json(user),
    })
}

/// Every address of an account: the primary first, then the secondary ones with their state.
pub fn emails_json(user: &User) -> Value {
    let mut emails = vec![json!({"email": user.email, "primary": true, "verified": true})];
    emails.extend(
        user.secondary_emails.iter().map(
            |s| json!({"email": s.email, "primary": false, "verified": s.verified, "added_at": rfc3339(s.added_at)}),
        ),
    );
    Value::Array(emails)
}

pub fn participants_json(request: &Request, cap: u32) -> Value {
    json!({
        "request": request.key,
        "items": request.participants.iter().map(|e| json!({"email": e})).collect::<Vec<_>>(),
        "participant_cap": cap,
    })
}

pub fn organization_json(o: &Organization) -> Value {
    json!({
        "id": o.id,
        "project": o.project,
        "name": o.name,
        "external": o.external.as_ref().map(|e| json!({"source": e.source, "contact": e.contact})),
        "created_at": rfc3339(o.created_at),
    })
}

pub fn visibility_json(v: &Visibility) -> Value {
    let checks: Vec<Value> = v
        .checks
        .iter()
        .map(|c| {
            let mut line = json!({"check": c.check, "ok": c.ok, "why": c.why});
            if c.check == "right_filter" {
                line["filter"] = json!(c.filter);
            }
            line
        })
        .collect();
    json!({
        "request": v.request,
        "email": v.email,
        "checks": checks,
        "reporter": v.reporter,
        "participant": v.participant,
        "verdict": if v.visible { "visible" } else { "hidden" },
        "reason": v.reason,
    })
}

pub fn rule_json(rule: &BlockRule) -> Value {
    json!({
        "rule": rule.text(),
        "project": rule.project,
        "created_by": rule.created_by,
        "created_at": rfc3339(rule.created_at),
        "suspension_of": rule.suspension_of,
    })
}

pub fn audit_json(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id, "action": entry.action, "by": entry.actor_email, "detail": entry.detail,
        "request": entry.request, "at": rfc3339(entry.at),
    })
}

pub fn suspension_json(outcome: &SuspendOutcome) -> Value {
    let suspension = outcome.user.suspension.as_ref();
    json!({
        "user_id": outcome.user.id,
        "email": outcome.user.email,
        "suspended": outcome.user.suspended,
        "reason": suspension.map(|s| s.reason.clone()),
        "rules": suspension.map(|s| s.rules.iter().map(ref_text).collect::<Vec<_>>()),
        "requests_closed": outcome.closed,
        "sessions_ended": outcome.sessions_ended,
    })
}

/// A list answer: `{items, next_cursor}`.
pub fn list_json<T>(items: &[T], view: impl Fn(&T) -> Value) -> Value {
    json!({"items": items.iter().map(view).collect::<Vec<_>>(), "next_cursor": null})
}
