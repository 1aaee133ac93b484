//! Reading one request with its thread and history.

use super::RequestDetail;
use crate::domain::access::{may_read_comment, may_read_history, viewer};
use crate::domain::caller::{resolve, visible, Caller};
use crate::error::ApiError;
use crate::items::{project_key, project_of, request_partition};
use crate::model::Record;
use crate::store::Query;
use crate::table::Index;
use crate::App;

/// Comments read with a request; more than this is not a support conversation any more.
const MAX_COMMENTS_READ: usize = 1000;

/// A request with its comments and history: one Query of its partition, in parallel with the
/// session check; nothing read is returned unless the caller is signed in and may see it.
pub async fn get_request(app: &App, caller: &Caller, key: &str) -> Result<RequestDetail, ApiError> {
    caller.require_claim()?;
    let project = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let query = Query {
        index: Index::Table,
        pk: request_partition(key),
        // Newest first: PART# and META come first, then history (H#) and the latest comments (C#).
        newest_first: true,
        limit: MAX_COMMENTS_READ,
        after: None,
        status: None,
    };
    let project_keys = [project_key(project)];
    let (auth, page) = tokio::join!(resolve(app, caller, &project_keys), app.store.query(&query));
    let (actor, extra) = auth?;
    let page = page?;
    let project = extra.into_iter().find_map(|r| match r {
        Record::Project(p) => Some(p),
        _ => None,
    });
    let (mut request, mut comments, mut history) = (None, vec![], vec![]);
    for record in page.records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Comment(c) => comments.push(c),
            Record::HistoryEntry(h) => history.push(h),
            _ => {}
        }
    }
    let (request, _) = visible(&actor, request, project)?;
    let viewer = viewer(&actor.user, &request);
    comments.retain(|c| may_read_comment(viewer, c));
    history.retain(|h| may_read_history(viewer, h));
    comments.reverse();
    history.reverse();
    Ok(RequestDetail { viewer, request, comments, history })
}
