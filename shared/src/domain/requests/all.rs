//! Every request of a project, for the admin tools that rebuild what is derived from them
//! (reports' counts, the search index): the status lists of the queue index, paged through.

use crate::error::ApiError;
use crate::items::{held_partition, queue_status_partition};
use crate::model::{Record, Request, RequestStatus};
use crate::store::Query;
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

/// Every request of `project`: open, pending, closed and held.
pub(crate) async fn every_request(app: &App, project: &str) -> Result<Vec<Request>, ApiError> {
    let mut partitions: Vec<String> = RequestStatus::ALL.map(|s| queue_status_partition(project, s)).into();
    partitions.push(held_partition(project));
    let mut requests = vec![];
    for pk in partitions {
        requests.extend(every_record(app, Index::Gsi3, pk).await?.into_iter().filter_map(|r| match r {
            Record::Request(r) => Some(r),
            _ => None,
        }));
    }
    Ok(requests)
}
