//! Requests written before the owner index (gsi5) existed are in no Mine or Unassigned
//! queue until something rewrites them: this rewrites them once.

use crate::error::ApiError;
use crate::model::{Record, RequestStatus};
use crate::store::{Condition, Query, Write};
use crate::table::Index;
use crate::App;

/// Puts every request of `project` written before the owner index existed into it (Mine,
/// Unassigned): each request item is written again as it is, which adds its gsi5 keys. Safe to
/// run again (a request changed meanwhile is skipped: its own write indexed it). Returns how
/// many requests it rewrote. For `helpdesk-admin index-owners KEY`.
pub async fn index_owners(app: &App, project: &str) -> Result<usize, ApiError> {
    let mut partitions: Vec<String> =
        RequestStatus::ALL.iter().map(|s| crate::items::queue_status_partition(project, *s)).collect();
    partitions.push(crate::items::held_partition(project));
    let mut rewritten = 0;
    for pk in partitions {
        let mut after = None;
        loop {
            let query =
                Query { newest_first: true, after: after.take(), ..Query::partition(Index::Gsi3, pk.clone(), 100) };
            let page = app.store.query(&query).await?;
            for record in page.records {
                let Record::Request(request) = record else { continue };
                let write =
                    Write::Put { condition: Condition::VersionIs(request.version), record: Record::Request(request) };
                match app.store.transact(vec![write]).await {
                    Ok(()) => rewritten += 1,
                    Err(crate::store::StoreError::ConditionFailed { .. }) => {}
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
