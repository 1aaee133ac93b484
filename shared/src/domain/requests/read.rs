//! Reading one request with its thread and history.

use super::RequestDetail;
use crate::domain::access::{may_read_comment, may_read_history, viewer, Viewer};
use crate::domain::caller::{resolve, visible, Caller};
use crate::error::ApiError;
use crate::items::{project_key, project_of, request_partition, ItemKey};
use crate::model::Record;
use crate::store::Query;
use crate::table::Index;
use crate::App;

/// Comments read with a request; more than this is not a support conversation any more.
const MAX_COMMENTS_READ: usize = 1000;

/// A request's partition as stored: the request, its comments and history, oldest first.
pub(crate) struct Thread {
    pub request: Option<crate::model::Request>,
    pub comments: Vec<crate::model::Comment>,
    pub history: Vec<crate::model::HistoryEntry>,
    pub attachments: Vec<crate::model::Attachment>,
}

impl Thread {
    /// The thread as `viewer` may read it.
    pub fn seen_by(self, viewer: Viewer, request: crate::model::Request, project_name: &str) -> RequestDetail {
        let Thread { mut comments, mut history, mut attachments, .. } = self;
        // A file shows where its message shows: with the request, or with a readable reply.
        attachments.retain(|a| {
            a.comment_id.as_ref().is_none_or(|id| comments.iter().any(|c| &c.id == id && may_read_comment(viewer, c)))
        });
        comments.retain(|c| may_read_comment(viewer, c));
        history.retain(|h| may_read_history(viewer, h));
        RequestDetail { viewer, request, comments, history, attachments, project_name: project_name.to_string() }
    }
}

/// One Query of the request's partition.
pub(crate) async fn read_thread(app: &App, key: &str) -> Result<Thread, ApiError> {
    let query = Query {
        index: Index::Table,
        pk: request_partition(key),
        // Newest first: TAG#, PART# and META come first, then history (H#), the latest comments
        // (C#) and the attachments (ATT#).
        newest_first: true,
        limit: MAX_COMMENTS_READ,
        after: None,
        status: None,
    };
    let page = app.store.query(&query).await?;
    let (mut request, mut comments, mut history, mut attachments) = (None, vec![], vec![], vec![]);
    for record in page.records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Comment(c) => comments.push(c),
            Record::HistoryEntry(h) => history.push(h),
            Record::Attachment(a) => attachments.push(a),
            _ => {}
        }
    }
    comments.reverse();
    history.reverse();
    attachments.reverse();
    Ok(Thread { request, comments, history, attachments })
}

/// A request with its comments and history: one Query of its partition, in parallel with the
/// session check; nothing read is returned unless the caller is signed in and may see it.
pub async fn get_request(app: &App, caller: &Caller, key: &str) -> Result<RequestDetail, ApiError> {
    Ok(get_request_and_project(app, caller, key).await?.0)
}

/// `get_request`, with the request's project (read in the same BatchGet as the session) and
/// the reader.
pub async fn get_request_and_project(
    app: &App,
    caller: &Caller,
    key: &str,
) -> Result<(RequestDetail, crate::model::Project, crate::model::User), ApiError> {
    let (detail, project, user, _) = get_request_with(app, caller, key, |_| vec![]).await?;
    Ok((detail, project, user))
}

/// `get_request_and_project`, also reading the project's items `extra` names in the same
/// BatchGet (returned only when the caller may see the request).
pub async fn get_request_with(
    app: &App,
    caller: &Caller,
    key: &str,
    extra: impl FnOnce(&str) -> Vec<ItemKey>,
) -> Result<(RequestDetail, crate::model::Project, crate::model::User, Vec<Record>), ApiError> {
    caller.require_claim()?;
    let project_key_of = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let mut keys = vec![project_key(project_key_of)];
    keys.extend(extra(project_key_of));
    let (auth, thread) = tokio::join!(resolve(app, caller, &keys), read_thread(app, key));
    let (actor, records) = auth?;
    let mut thread = thread?;
    let (mut project, mut rest) = (None, vec![]);
    for record in records {
        match record {
            Record::Project(p) if project.is_none() && p.key == project_key_of => project = Some(p),
            other => rest.push(other),
        }
    }
    let (request, project) = visible(&actor, thread.request.take(), project)?;
    let viewer = viewer(&actor.user, &request);
    let mut detail = thread.seen_by(viewer, request, &project.name);
    if viewer == Viewer::Customer {
        crate::domain::authors::settle_roles(app, &project.key, &mut detail.comments, &mut detail.history).await?;
    }
    Ok((detail, project, actor.user, rest))
}
