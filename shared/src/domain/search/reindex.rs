//! `helpdesk-admin reindex [KEY]`: the search index rebuilt from the table. Every request of
//! the project is indexed again (in commits of a few hundred, through the indexer's own path,
//! so the stream's indexer may run meanwhile), and documents of the project that no request
//! has any more leave the index.

use super::indexer::{current_commit, engine_error, index_requests, read_pointer, search_of};
use crate::domain::requests::every_request;
use crate::error::ApiError;
use crate::App;
use std::collections::BTreeSet;

/// Requests per commit: one commit's segment, and its reads, stay small.
const CHUNK: usize = 250;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reindexed {
    pub requests: usize,
    /// Documents of requests no longer in the table, removed.
    pub removed: usize,
    pub commits: usize,
}

/// Reindexes `project`; `progress(done, total)` after each commit.
pub async fn reindex(app: &App, project: &str, mut progress: impl FnMut(usize, usize)) -> Result<Reindexed, ApiError> {
    let search = search_of(app)?;
    let keys: Vec<String> = every_request(app, project).await?.into_iter().map(|r| r.key).collect();
    let commit = current_commit(search, read_pointer(app).await?.as_ref()).await?;
    let snapshot = search.snapshot(&commit).await.map_err(engine_error)?;
    let indexed = snapshot.keys_in_project(project).map_err(engine_error)?;
    let present: BTreeSet<&String> = keys.iter().collect();
    let gone: Vec<String> = indexed.into_iter().filter(|k| !present.contains(k)).collect();
    let mut done = Reindexed { requests: keys.len(), removed: gone.len(), commits: 0 };
    let work: Vec<String> = gone.into_iter().chain(keys).collect();
    let total = work.len();
    for (i, chunk) in work.chunks(CHUNK).enumerate() {
        index_requests(app, chunk).await?;
        done.commits += 1;
        progress((i * CHUNK + chunk.len()).min(total), total);
    }
    Ok(done)
}
