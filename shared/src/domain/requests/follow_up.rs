//! A customer's reply to a request closed longer ago than its project's `reopen_days`: the
//! old request stays closed as it was answered, and the reply opens a follow-up request that
//! links it (`follow_up_of`), with the reply as its first message and its files. Within the
//! window the reply reopens the request instead (`Request::record_public_reply`).

use super::create::create_with;
use super::{Channel, NewComment, NewRequest, MAX_SUMMARY};
use crate::domain::access::Viewer;
use crate::domain::attachments::uploads;
use crate::domain::caller::{Caller, RequestScope};
use crate::domain::idempotency::Idempotency;
use crate::error::ApiError;
use crate::model::{Comment, Record, Request, RequestStatus};
use crate::App;

/// Where a reply went: onto the request, or into a follow-up of it.
#[derive(Debug, Clone)]
pub enum Posted {
    Comment(Comment),
    FollowUp(Box<Request>),
}

impl Posted {
    /// The request to read it on.
    pub fn request_key(&self) -> &str {
        match self {
            Posted::Comment(c) => &c.request_key,
            Posted::FollowUp(r) => &r.key,
        }
    }

    pub fn comment(&self) -> Option<&Comment> {
        match self {
            Posted::Comment(c) => Some(c),
            Posted::FollowUp(_) => None,
        }
    }
}

/// Whether a reply goes to a follow-up: a customer's public reply to a request closed for
/// longer than the window (a window of 0: any closed request).
pub(super) fn is_follow_up(request: &Request, viewer: Viewer, internal: bool, now: i64, reopen_days: u32) -> bool {
    viewer == Viewer::Customer
        && !internal
        && request.status == RequestStatus::Closed
        && !request.reopens_on_reply(now, reopen_days)
}

/// Opens the follow-up of `scope.request` with the reply. `idem` is the reply's own, so a
/// retried reply replays this request.
pub(super) async fn open(
    app: &App,
    caller: &Caller,
    scope: &RequestScope,
    reply: NewComment,
    idem: Option<Idempotency>,
) -> Result<(Posted, bool), ApiError> {
    let old = &scope.request;
    // The reporter's follow-up carries on with their summary, form and values. Someone else's
    // (a participant, an organization's member) carries only the link: the new request may be
    // seen by people the old one was not shared with.
    let own = old.reporter_id == scope.user().id;
    let input = NewRequest {
        summary: if own { summary_of(old) } else { format!("Follow-up to {}", old.key) },
        description: reply.body,
        form: old.form.clone().filter(|_| own),
        fields: if own { old.fields.clone() } else { Default::default() },
        channel: match caller {
            Caller::Sender(_) => Channel::Email,
            _ => Channel::Api,
        },
        follow_up_of: Some(old.key.clone()),
    };
    // Files that cannot be taken refuse the reply before any request is opened.
    uploads::verify(app, &old.key, &scope.user().id, &reply.attachments, &scope.extra).await?;
    let ((_, request), replayed) = create_with(app, caller, &old.project, Ok(input), idem).await?;
    attach(app, scope, &reply.attachments, &request.key).await?;
    Ok((Posted::FollowUp(Box::new(request)), replayed))
}

/// The reply's files, with the follow-up's first message. Those taken already (a retry after
/// they were) are not named by an upload any more and are skipped, so a retry of a reply whose
/// files were not all taken finishes the job.
pub(super) async fn attach(app: &App, scope: &RequestScope, named: &[String], to: &str) -> Result<(), ApiError> {
    let waiting: Vec<String> = named
        .iter()
        .filter(|id| scope.extra.iter().any(|r| matches!(r, Record::Upload(u) if &u.id == *id)))
        .cloned()
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    let from = &scope.request.key;
    let (files, writes) = uploads::take_to(app, (from, to), &scope.user().id, &waiting, &scope.extra, None).await?;
    app.store.transact(writes).await?;
    uploads::forget(app, from, &files).await;
    Ok(())
}

/// "Follow-up to HD-3: <its summary>", within the summary's length.
fn summary_of(old: &Request) -> String {
    let summary = format!("Follow-up to {}: {}", old.key, old.summary);
    summary.chars().take(MAX_SUMMARY).collect()
}
