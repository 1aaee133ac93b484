//! The indexer's work: the changed requests read again from the table, their documents
//! replaced in a new commit, the commit's pack uploaded, then the pointer swapped by a
//! version-checked put. Reading the requests at run time (not trusting the stream's images)
//! makes a replayed or reordered batch harmless; losing the pointer race (another indexer
//! committed first) means starting again from its commit, so nothing is lost.

use super::records::SearchPointer;
use super::text::request_text;
use crate::domain::requests::read_thread;
use crate::error::ApiError;
use crate::items::search_pointer_key;
use crate::model::Record;
use crate::search::engine::{Commit, EngineError};
use crate::search::{pack_id, pack_name, SearchIndex, Written, GRACE_SECONDS};
use crate::store::{Condition, Write};
use crate::App;
use futures::{StreamExt, TryStreamExt};

/// Lost races to retry before giving up (the invocation is retried then).
const ATTEMPTS: usize = 5;
/// Request partitions read at once.
const READS_AT_ONCE: usize = 16;
/// Every this many commits, packs nothing names (uploads of a writer that lost the race)
/// are looked for and deleted.
const SWEEP_EVERY: u64 = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct Indexed {
    pub version: u64,
    pub requests: usize,
    /// Lost races before the commit landed.
    pub retries: usize,
}

pub(crate) fn engine_error(e: EngineError) -> ApiError {
    ApiError::Internal(e.to_string())
}

pub(crate) fn search_of(app: &App) -> Result<&SearchIndex, ApiError> {
    app.search.as_deref().ok_or_else(|| ApiError::Internal("this function has no search index".into()))
}

pub(crate) async fn read_pointer(app: &App) -> Result<Option<SearchPointer>, ApiError> {
    Ok(match app.store.get(&search_pointer_key()).await? {
        Some(Record::SearchPointer(p)) => Some(p),
        _ => None,
    })
}

/// The commit the pointer names (the empty index without one).
pub(crate) async fn current_commit(search: &SearchIndex, pointer: Option<&SearchPointer>) -> Result<Commit, ApiError> {
    search.describe(pointer.map_or("", |p| p.id.as_str())).await.map_err(engine_error)
}

/// Indexes the requests `keys` name as they are now (a key whose request is gone leaves the
/// index). Safe to run twice, in any order, and concurrently.
pub async fn index_requests(app: &App, keys: &[String]) -> Result<Indexed, ApiError> {
    let search = search_of(app)?;
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    for retries in 0..ATTEMPTS {
        // The pointer before the requests: a request read after it is at least as new as
        // the commit's copy, so a swap on that pointer never puts an older one back.
        let pointer = read_pointer(app).await?;
        let reads = keys.clone().into_iter().map(|key| async move { read_thread(app, &key).await });
        let threads: Vec<_> = futures::stream::iter(reads).buffered(READS_AT_ONCE).try_collect().await?;
        let changes = keys.iter().cloned().zip(threads.iter().map(request_text)).collect();
        let base = current_commit(search, pointer.as_ref()).await?;
        let written = search.write(&base, changes, app.now()).await.map_err(engine_error)?;
        if swap(app, search, &base, written.clone()).await? {
            return Ok(Indexed { version: base.version + 1, requests: keys.len(), retries });
        }
        search.discard(&written).await;
        tracing::info!(version = base.version, "another indexer committed first: indexing again from its commit");
    }
    Err(ApiError::StorageUnavailable)
}

/// Points the index at the written commit (its pack uploaded) unless another writer moved
/// the pointer since `base` (false then). Packs dropped past the grace period are deleted
/// after the swap.
async fn swap(app: &App, search: &SearchIndex, base: &Commit, written: Written) -> Result<bool, ApiError> {
    let Written { commit, expired } = written;
    let now = app.now();
    let next = SearchPointer { id: commit.id.clone(), version: commit.version, committed_at: now };
    let condition = if base.version == 0 { Condition::NotExists } else { Condition::VersionIs(base.version) };
    match app.store.transact(vec![Write::Put { record: Record::SearchPointer(next.clone()), condition }]).await {
        Ok(()) => {}
        Err(e) if e.failed_at(0) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let sweep_too = next.version.is_multiple_of(SWEEP_EVERY);
    if let Err(e) = delete_unneeded(search, &commit, &expired, sweep_too, now).await {
        tracing::warn!(error = %e, "index packs were not deleted: a later commit's sweep will");
    }
    Ok(true)
}

/// The indexer's clean-up as of `now`, outside a commit: the packs the pointer lists as
/// dropped past the grace period, and everything nothing names (see `sweep`). Returns how
/// many objects went.
pub async fn collect_garbage(app: &App, now: i64) -> Result<usize, ApiError> {
    let search = search_of(app)?;
    let Some(pointer) = read_pointer(app).await? else { return Ok(0) };
    let commit = current_commit(search, Some(&pointer)).await?;
    let expired: Vec<String> =
        commit.dropped.iter().filter(|d| d.at + GRACE_SECONDS <= now).map(|d| pack_name(&d.pack)).collect();
    delete_unneeded(search, &commit, &expired, true, now).await.map_err(engine_error)
}

async fn delete_unneeded(
    search: &SearchIndex,
    commit: &Commit,
    expired: &[String],
    sweep_too: bool,
    now: i64,
) -> Result<usize, EngineError> {
    for name in expired {
        search.files.delete(name).await?;
    }
    let swept = if sweep_too { sweep(search, commit, now).await? } else { 0 };
    Ok(expired.len() + swept)
}

/// Deletes packs older than the grace period that the current commit neither uses nor lists
/// as dropped (those wait for their own grace period): uploads of writers that lost the race,
/// and anything a failed delete left.
async fn sweep(search: &SearchIndex, commit: &Commit, now: i64) -> Result<usize, EngineError> {
    let used = |name: &str| {
        pack_id(name).is_some_and(|id| {
            id == commit.id || commit.packs.iter().any(|p| p.id == id) || commit.dropped.iter().any(|d| d.pack == id)
        })
    };
    let mut deleted = 0;
    for (name, written) in search.files.list().await? {
        if !used(&name) && written + GRACE_SECONDS <= now {
            search.files.delete(&name).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
