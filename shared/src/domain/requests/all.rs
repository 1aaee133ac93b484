//! Every request of a project, for the admin tools that rebuild what is derived from them
//! (reports' counts, the search index, the indexes added after it was written): the status
//! lists of the queue index, paged through.

use crate::error::ApiError;
use crate::items::{held_partition, queue_status_partition};
use crate::model::{Record, Request, RequestStatus};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::App;

/// Every record of one partition (of the table or an index), oldest first.
pub(crate) async fn every_record(app: &App, index: Index, pk: String) -> Result<Vec<Record>, ApiError> {
    let mut records = vec![];
    let mut after = None;
    loop {
        let query = Query { after, ..Query::partition(index, pk.clone(), 1000) };
        let page = app.store.query(&query).await?;
        records.extend(page.records);
        match page.last_sort_key {
            Some(last) => after = Some(last),
            None => return Ok(records),
        }
    }
}

/// The queue index's partitions of `project`: each status, and held.
fn status_partitions(project: &str) -> Vec<String> {
    let mut partitions: Vec<String> = RequestStatus::ALL.map(|s| queue_status_partition(project, s)).into();
    partitions.push(held_partition(project));
    partitions
}

/// Every request of `project`: open, pending, closed and held.
pub(crate) async fn every_request(app: &App, project: &str) -> Result<Vec<Request>, ApiError> {
    let mut requests = vec![];
    for pk in status_partitions(project) {
        requests.extend(every_record(app, Index::Gsi3, pk).await?.into_iter().filter_map(|r| match r {
            Record::Request(r) => Some(r),
            _ => None,
        }));
    }
    Ok(requests)
}

/// Puts every request of `project` written before an index existed into it (the owner queues,
/// gsi5; the queue by activity, gsi6): each request item is written again as it is, which
/// adds the keys the code gives it now; no version moves, so nothing reads it as a change.
/// Safe to run again (a request changed meanwhile is skipped: its own write indexed it).
/// Returns how many requests it rewrote. For `helpdesk-admin index-requests KEY`.
pub async fn index_requests(app: &App, project: &str) -> Result<usize, ApiError> {
    let mut rewritten = 0;
    for pk in status_partitions(project) {
        let mut after = None;
        loop {
            let query = Query { after: after.take(), ..Query::partition(Index::Gsi3, pk.clone(), 100) };
            let page = app.store.query(&query).await?;
            for record in page.records {
                let Record::Request(request) = record else { continue };
                let write =
                    Write::Put { condition: Condition::VersionIs(request.version), record: Record::Request(request) };
                match app.store.transact(vec![write]).await {
                    Ok(()) => rewritten += 1,
                    Err(StoreError::ConditionFailed { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            match page.last_sort_key {
                Some(last) => after = Some(last),
                None => break,
            }
        }
    }
    Ok(rewritten)
}
