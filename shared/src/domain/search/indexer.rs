//! The indexer's work: the changed requests read again from the table, their documents
//! replaced in a new commit, the commit's pack uploaded, then the pointer swapped by a
//! version-checked put. Reading the requests at run time (not trusting the stream's images)
//! makes a replayed or reordered batch harmless; losing the pointer race (another indexer
//! committed first) means starting again from its commit, so nothing is lost.

use super::records::{DroppedFile, SearchPointer};
use super::text::request_text;
use crate::domain::requests::read_thread;
use crate::error::ApiError;
use crate::items::search_pointer_key;
use crate::model::Record;
use crate::search::engine::{Commit, EngineError};
use crate::search::{pack_id, pack_name, SearchIndex};
use crate::store::{Condition, Write};
use crate::App;

/// How long a pack no commit uses stays in the bucket: searchers paging through an older
/// commit still find it (a cursor lasts at least this long).
pub const GRACE_SECONDS: i64 = 15 * 60;
/// Lost races to retry before giving up (the invocation is retried then).
const ATTEMPTS: usize = 5;
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
        let reads = futures::future::try_join_all(keys.iter().map(|k| read_thread(app, k)));
        let (pointer, threads) = tokio::try_join!(read_pointer(app), reads)?;
        let changes = keys.iter().cloned().zip(threads.iter().map(request_text)).collect();
        let base = current_commit(search, pointer.as_ref()).await?;
        let commit = search.write(&base, changes).await.map_err(engine_error)?;
        if swap(app, search, pointer, &base, commit).await? {
            return Ok(Indexed { version: base.version + 1, requests: keys.len(), retries });
        }
        tracing::info!(version = base.version, "another indexer committed first: indexing again from its commit");
    }
    Err(ApiError::StorageUnavailable)
}

/// Points the index at `commit` (its pack uploaded) unless another writer moved the pointer
/// since `base` (false then). Packs dropped past the grace period are deleted after the swap.
async fn swap(
    app: &App,
    search: &SearchIndex,
    pointer: Option<SearchPointer>,
    base: &Commit,
    commit: Commit,
) -> Result<bool, ApiError> {
    let now = app.now();
    let mut dropped = pointer.map(|p| p.dropped).unwrap_or_default();
    let gone = base.packs.iter().filter(|p| !commit.packs.iter().any(|q| q.id == p.id));
    dropped.extend(gone.map(|p| DroppedFile { name: pack_name(&p.id), at: now }));
    let (expired, kept): (Vec<DroppedFile>, Vec<DroppedFile>) =
        dropped.into_iter().partition(|d| d.at + GRACE_SECONDS <= now);
    let next = SearchPointer { id: commit.id.clone(), version: commit.version, dropped: kept, committed_at: now };
    let condition = if base.version == 0 { Condition::NotExists } else { Condition::VersionIs(base.version) };
    match app.store.transact(vec![Write::Put { record: Record::SearchPointer(next.clone()), condition }]).await {
        Ok(()) => {}
        Err(e) if e.failed_at(0) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let expired: Vec<String> = expired.into_iter().map(|d| d.name).collect();
    let sweep_too = next.version.is_multiple_of(SWEEP_EVERY);
    if let Err(e) = delete_unneeded(search, &next, &commit, &expired, sweep_too, now).await {
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
        pointer.dropped.iter().filter(|d| d.at + GRACE_SECONDS <= now).map(|d| d.name.clone()).collect();
    delete_unneeded(search, &pointer, &commit, &expired, true, now).await.map_err(engine_error)
}

async fn delete_unneeded(
    search: &SearchIndex,
    pointer: &SearchPointer,
    commit: &Commit,
    expired: &[String],
    sweep_too: bool,
    now: i64,
) -> Result<usize, EngineError> {
    for name in expired {
        search.files.delete(name).await?;
    }
    let swept = if sweep_too { sweep(search, pointer, commit, now).await? } else { 0 };
    Ok(expired.len() + swept)
}

/// Deletes packs older than the grace period that the current commit does not use and the
/// pointer does not list as dropped (those wait for their own grace period): uploads of
/// writers that lost the race, and anything a failed delete left.
async fn sweep(search: &SearchIndex, pointer: &SearchPointer, commit: &Commit, now: i64) -> Result<usize, EngineError> {
    let used = |name: &str| {
        pack_id(name).is_some_and(|id| commit.packs.iter().any(|p| p.id == id))
            || pointer.dropped.iter().any(|d| d.name == name)
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
