//! Changing a request: replies and internal notes, close and reopen, release from hold.

use super::follow_up::{self, Posted};
use super::{check_seen, history_write, try_update_request, update_request, NewComment, Seen, Viewed, MAX_COMMENT};
use crate::domain::access::{require_agent, require_internal_allowed, require_party_or_agent, Viewer};
use crate::domain::attachments::uploads;
use crate::domain::caller::Actor;
use crate::domain::caller::{load_request, Caller};
use crate::domain::idempotency::{Idempotency, IdempotencyKey};
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{comment_key, email_key, request_key, user_key};
use crate::model::{AuthorRole, Comment, Record, Request, RequestStatus};
use crate::store::{Condition, Write};
use crate::text::check_text;
use crate::App;

/// Replies on a request (or writes an internal note, agents only). With an
/// `Idempotency-Key`, a retry returns the first comment and writes nothing. Internal notes
/// leave what customers see (`comment_count`, `updated_at`) untouched.
/// A customer's reply to a request closed longer ago than the project's `reopen_days` opens
/// a follow-up request instead (`follow_up`).
/// Returns where it went and whether it was replayed.
pub async fn add_comment(
    app: &App,
    caller: &Caller,
    key: &str,
    input: Input<NewComment>,
    idempotency: Input<Option<IdempotencyKey>>,
) -> Result<(Posted, bool), ApiError> {
    let user_id = caller.require_claim()?;
    let idem = match (&input, &idempotency) {
        // Files are not part of what makes the call the same: a page's retry stages its files
        // again under new ids, and must replay the first reply, not be refused.
        (Ok(body), Ok(k)) => {
            Idempotency::new(k.as_ref(), user_id, &format!("comment\n{key}\n{}\n{}", body.internal, body.body))
        }
        _ => None,
    };
    let mut extra: Vec<_> = idem.iter().map(Idempotency::record_key).collect();
    // The uploads it names come with the request, in the same round trip.
    extra.extend(input.as_ref().ok().and_then(|b| uploads::keys(&b.attachments).ok()).unwrap_or_default());
    let scope = load_request(app, caller, key, &extra).await?;
    let (input, _) = (input?, idempotency?);
    uploads::keys(&input.attachments)?;
    check_text("body", &input.body, MAX_COMMENT, true, input.attachments.is_empty())?;
    super::check_version(input.seen_version)?;
    let now = app.now();
    if let Some(first) = idem.as_ref().map(|i| i.earlier(&scope.extra, now)).transpose()?.flatten() {
        let Some(id) = first.comment_id.as_deref() else {
            // The reply opened a follow-up (its files too, unless the first call stopped short).
            let Some(Record::Request(r)) = app.store.get(&request_key(&first.request_key)).await? else {
                return Err(ApiError::NotFound("request"));
            };
            follow_up::attach(app, &scope, &input.attachments, &r.key).await?;
            return Ok((Posted::FollowUp(Box::new(r)), true));
        };
        return match app.store.get(&comment_key(&first.request_key, id)).await? {
            Some(Record::Comment(c)) => Ok((Posted::Comment(c), true)),
            _ => Err(ApiError::NotFound("comment")),
        };
    }
    if input.internal {
        require_internal_allowed(scope.viewer())?;
    }
    super::refuse_merged(&scope.request)?;
    let reopen_days = scope.project.settings.reopen_days;
    if follow_up::is_follow_up(&scope.request, scope.viewer(), input.internal, now, reopen_days) {
        return follow_up::open(app, caller, &scope, input, idem).await;
    }
    let user = scope.user();
    let by_agent = scope.viewer() == Viewer::Agent;
    let comment = Comment {
        request_key: scope.request.key.clone(),
        id: crate::text::new_ulid(),
        author_id: user.id.clone(),
        author_email: user.email.clone(),
        body: input.body,
        internal: input.internal,
        created_at: now,
        author_role: Some(if by_agent { AuthorRole::Team } else { AuthorRole::Customer }),
        author_name: user.name.clone(),
        merged_from: None,
    };
    let mut writes = vec![Write::Put { record: Record::Comment(comment.clone()), condition: Condition::NotExists }];
    writes.extend(idem.map(|i| i.write(&scope.request.key, Some(&comment.id), now)));
    let (files, file_writes) =
        uploads::take(app, &scope.request.key, &user.id, &input.attachments, &scope.extra, &comment.id).await?;
    writes.extend(file_writes);
    let (seen, internal) = if comment.internal { (Seen::AgentsOnly, true) } else { (Seen::Public, false) };
    let count = |r: &mut Request| {
        check_seen(r, input.seen_version, &user.id)?;
        if internal {
            r.note_count += 1;
            r.noted_at = Some(now);
        } else {
            r.comment_count += 1;
            r.record_public_reply(by_agent, now, &user.id, reopen_days);
            r.mark_public(&user.id);
        }
        Ok(())
    };
    try_update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request.clone(),
        seen,
        count,
        |_, _| writes.clone(),
    )
    .await?;
    uploads::forget(app, &scope.request.key, &files).await;
    Ok((Posted::Comment(comment), false))
}

/// Closes or reopens. The reporter, participants and agents may; setting the status it
/// already has changes nothing (safe to retry).
pub async fn set_status(app: &App, caller: &Caller, key: &str, status: RequestStatus) -> Result<Viewed, ApiError> {
    set_status_seen(app, caller, key, status, Ok(None)).await
}

/// `set_status`, refused (409 `stale_view`) when someone else wrote publicly after version
/// `seen` (the console sends the version its page showed).
pub async fn set_status_seen(
    app: &App,
    caller: &Caller,
    key: &str,
    status: RequestStatus,
    seen: Input<Option<u64>>,
) -> Result<Viewed, ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    require_party_or_agent(scope.user(), &scope.request, "change the status")?;
    let seen = super::check_version(seen?)?;
    let viewer = scope.viewer();
    if scope.request.status == status {
        return Ok((viewer, scope.request));
    }
    let by = scope.user().id.clone();
    let change = |r: &mut Request| {
        check_seen(r, seen, &by)?;
        r.status = status;
        r.status_by = Some(by.clone());
        Ok(())
    };
    let request = try_update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        Seen::Public,
        change,
        |_, _| vec![],
    )
    .await?;
    Ok((viewer, request))
}

/// Releases a request held for review into the queue (agents). Not held: no change.
pub async fn release(app: &App, caller: &Caller, key: &str) -> Result<Viewed, ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    if !scope.request.held {
        return Ok((Viewer::Agent, scope.request));
    }
    let owner = account_of_held_sender(app, &scope.request).await?;
    let history = history_write(&scope.request, scope.user(), "released", vec![], None, app.now());
    let unhold = |r: &mut Request| {
        r.held = false;
        if let Some(owner) = &owner {
            r.reporter_id = owner.clone();
        }
    };
    let request = update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        Seen::AgentsOnly,
        unhold,
        || vec![history.clone()],
    )
    .await?;
    Ok((Viewer::Agent, request))
}

/// The account a held request's sender address belongs to, when the request was held
/// without one (mail from a managed domain, or mail SES could not authenticate): released,
/// the request joins that account, unless it is suspended.
async fn account_of_held_sender(app: &App, request: &Request) -> Result<Option<String>, ApiError> {
    if request.reporter_id != HELPDESK_AUTHOR {
        return Ok(None);
    }
    let Some(Record::EmailOwner(owner)) = app.store.get(&email_key(request.reporter_email.as_str())).await? else {
        return Ok(None);
    };
    Ok(match app.store.get(&user_key(&owner.user_id)).await? {
        Some(Record::User(user)) if !user.suspended => Some(user.id),
        _ => None,
    })
}

/// An internal note the helpdesk itself writes (what a channel could not do, such as
/// participants an email named but the rules skipped). `event` names what caused it: its id
/// derives from it, so a redelivered event writes the note once.
pub(crate) async fn add_helpdesk_note(app: &App, key: &str, body: String, event: &str) -> Result<(), ApiError> {
    let Some(Record::Request(request)) = app.store.get(&request_key(key)).await? else {
        return Err(ApiError::NotFound("request"));
    };
    let id = crate::text::derived_ulid((request.created_at.max(0) as u64) * 1000 + 1, event);
    if app.store.get(&comment_key(key, &id)).await?.is_some() {
        return Ok(());
    }
    let helpdesk = helpdesk_user(app);
    let now = app.now();
    let comment = Comment {
        request_key: key.to_string(),
        id,
        author_id: helpdesk.id.clone(),
        author_email: helpdesk.email.clone(),
        body,
        internal: true,
        created_at: now,
        author_role: Some(AuthorRole::Team),
        author_name: None,
        merged_from: None,
    };
    let write = Write::Put { record: Record::Comment(comment), condition: Condition::NotExists };
    let actor = Actor { user: helpdesk, session_hash: None };
    let count = |r: &mut Request| {
        r.note_count += 1;
        r.noted_at = Some(now);
    };
    match update_request(app, &actor, None, request, Seen::AgentsOnly, count, || vec![write.clone()]).await {
        // A twin delivery wrote it first.
        Err(ApiError::Conflict { code: "idempotency_in_progress", .. }) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The helpdesk as the author of its own notes: its From address, no roles.
pub(crate) fn helpdesk_user(app: &App) -> crate::model::User {
    let from = &app.config.mail_from;
    let address = from.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>')).unwrap_or(from);
    let email = crate::domain::email::EmailAddress::parse(address).unwrap_or_else(|_| {
        crate::domain::email::EmailAddress::stored(&format!("helpdesk@{}", app.config.support_domain))
    });
    crate::model::User { id: HELPDESK_AUTHOR.to_string(), ..crate::domain::auth::new_user(&email, 0) }
}

/// The author id of notes the helpdesk writes itself.
pub const HELPDESK_AUTHOR: &str = "helpdesk";
