//! Full-text search with tantivy. Each commit of the index writes one pack to the stack's
//! bucket (`search/packs/<commit id>`: the commit's description and the segment files it
//! made; immutable, every name new), and which commit is the index now is a pointer in the
//! table, swapped by a version-checked write (`domain::search`). Searching functions keep
//! files in `/tmp` and fetch only the packs a newer commit adds.

pub mod engine;
pub mod find;
pub mod query;
pub mod schema;
pub mod tokens;

use async_trait::async_trait;
use engine::{decode_pack, encode_pack, Commit, Dropped, EngineError, LocalIndex, Snapshot};
use schema::RequestText;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where segment files are kept: S3 in deployment (moto locally), memory in domain tests.
#[async_trait]
pub trait IndexFiles: Send + Sync {
    async fn get(&self, name: &str) -> Result<Vec<u8>, EngineError>;
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), EngineError>;
    async fn delete(&self, name: &str) -> Result<(), EngineError>;
    /// Every file kept, with when it was written (Unix seconds).
    async fn list(&self) -> Result<Vec<(String, i64)>, EngineError>;
}

/// The prefix of the index's files in the bucket.
pub const BUCKET_PREFIX: &str = "search/";

pub struct S3IndexFiles {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3IndexFiles {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        S3IndexFiles { client, bucket }
    }
}

fn s3_error(e: impl std::fmt::Debug) -> EngineError {
    EngineError::Other(format!("{e:?}"))
}

#[async_trait]
impl IndexFiles for S3IndexFiles {
    async fn get(&self, name: &str) -> Result<Vec<u8>, EngineError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(format!("{BUCKET_PREFIX}{name}"))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(object.body.collect().await.map_err(s3_error)?.into_bytes().to_vec())
    }
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), EngineError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{BUCKET_PREFIX}{name}"))
            .body(bytes.into())
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }
    async fn delete(&self, name: &str) -> Result<(), EngineError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(format!("{BUCKET_PREFIX}{name}"))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }
    async fn list(&self) -> Result<Vec<(String, i64)>, EngineError> {
        let mut out = vec![];
        let mut pages =
            self.client.list_objects_v2().bucket(&self.bucket).prefix(BUCKET_PREFIX).into_paginator().send();
        while let Some(page) = pages.next().await {
            for object in page.map_err(s3_error)?.contents() {
                if let Some(name) = object.key().and_then(|k| k.strip_prefix(BUCKET_PREFIX)) {
                    out.push((name.to_string(), object.last_modified().map_or(0, |t| t.secs())));
                }
            }
        }
        Ok(out)
    }
}

/// Files in memory, for domain tests.
#[derive(Default)]
pub struct MemoryIndexFiles {
    files: Mutex<HashMap<String, Vec<u8>>>,
}

#[async_trait]
impl IndexFiles for MemoryIndexFiles {
    async fn get(&self, name: &str) -> Result<Vec<u8>, EngineError> {
        self.files.lock().unwrap().get(name).cloned().ok_or_else(|| EngineError::Missing(name.to_string()))
    }
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), EngineError> {
        self.files.lock().unwrap().insert(name.to_string(), bytes);
        Ok(())
    }
    async fn delete(&self, name: &str) -> Result<(), EngineError> {
        self.files.lock().unwrap().remove(name);
        Ok(())
    }
    async fn list(&self) -> Result<Vec<(String, i64)>, EngineError> {
        Ok(self.files.lock().unwrap().keys().map(|k| (k.clone(), 0)).collect())
    }
}

/// Snapshots kept open per process: the newest, and a few older ones that cursors of
/// recent searches still page through.
const SNAPSHOTS_KEPT: usize = 4;
/// Commit descriptions remembered per process.
const DESCRIPTIONS_KEPT: usize = 16;

/// How long a pack no commit uses stays in the bucket after it was dropped: searchers paging
/// through an older commit still find it (a cursor lasts at least this long).
pub const GRACE_SECONDS: i64 = 15 * 60;

/// A commit written, and the packs dropped past the grace period (to delete once the commit
/// is the index: an older pointer may still name them until then).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub commit: Commit,
    pub expired: Vec<String>,
}

/// The bucket object (under `search/`) of the pack commit `id` wrote.
pub fn pack_name(id: &str) -> String {
    format!("packs/{id}")
}

/// The commit id of a pack's object name.
pub fn pack_id(name: &str) -> Option<&str> {
    name.strip_prefix("packs/")
}

/// A function's view of the index: the remote files, the local cache, open snapshots.
pub struct SearchIndex {
    pub files: Arc<dyn IndexFiles>,
    local: LocalIndex,
    snapshots: Mutex<Vec<(Commit, Arc<Snapshot>)>>,
    descriptions: Mutex<Vec<Commit>>,
    /// The newest commit this process wrote: the next write most likely starts from it.
    last_written: Mutex<Option<Commit>>,
    /// One write at a time per process (they share the local writer directory).
    writing: tokio::sync::Mutex<()>,
    /// One snapshot opened at a time per process (each lays out its commit's directory).
    opening: tokio::sync::Mutex<()>,
}

fn blocking_failed(e: tokio::task::JoinError) -> EngineError {
    EngineError::Other(format!("search work stopped: {e}"))
}

impl SearchIndex {
    /// `root` is this index's own local directory (one per table, so tests never share).
    pub fn new(files: Arc<dyn IndexFiles>, root: PathBuf) -> SearchIndex {
        SearchIndex {
            files,
            local: LocalIndex::new(root),
            snapshots: Mutex::new(vec![]),
            descriptions: Mutex::new(vec![]),
            last_written: Mutex::new(None),
            writing: tokio::sync::Mutex::new(()),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// The local root for `table` under the system's temporary directory.
    pub fn root_for(table: &str) -> PathBuf {
        let safe: String = table.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        std::env::temp_dir().join("helpdesk-search").join(safe)
    }

    /// Fetches pack `id`: its files kept, its commit's description remembered and returned.
    async fn fetch_pack(&self, id: &str) -> Result<Commit, EngineError> {
        let bytes = self.files.get(&pack_name(id)).await?;
        let (header, files) = decode_pack(&bytes).ok_or_else(|| EngineError::Other(format!("pack {id} is damaged")))?;
        for (name, content) in files {
            if !self.local.cached(&name).exists() {
                self.local.keep(&name, content)?;
            }
        }
        self.remember(&header.commit);
        Ok(header.commit)
    }

    fn remember(&self, commit: &Commit) {
        let mut known = self.descriptions.lock().unwrap();
        if !known.iter().any(|c| c.id == commit.id) {
            known.push(commit.clone());
            if known.len() > DESCRIPTIONS_KEPT {
                known.remove(0);
            }
        }
    }

    /// Forgets what a write made when its commit lost the race for the pointer: another
    /// writer's commit may name a file the same (tantivy's delete files are named by segment
    /// and operation count), and it is theirs that must be read.
    pub async fn discard(&self, written: &Written) {
        let _no_write = self.writing.lock().await;
        let _no_open = self.opening.lock().await;
        let commit = &written.commit;
        for name in commit.packs.iter().filter(|p| p.id == commit.id).flat_map(|p| &p.files) {
            let _ = std::fs::remove_file(self.local.cached(name));
        }
        self.descriptions.lock().unwrap().retain(|c| c.id != commit.id);
        let mut last = self.last_written.lock().unwrap();
        if last.as_ref().is_some_and(|c| c.id == commit.id) {
            *last = None;
        }
    }

    /// The commit `id` names (its pack's header): remembered, or fetched with its files.
    /// The empty id is the empty index; a pack the bucket no longer has is `Missing`.
    pub async fn describe(&self, id: &str) -> Result<Commit, EngineError> {
        if id.is_empty() {
            return Ok(Commit::default());
        }
        if let Some(known) = self.descriptions.lock().unwrap().iter().find(|c| c.id == id) {
            return Ok(known.clone());
        }
        self.fetch_pack(id).await
    }

    async fn fetch(&self, commit: &Commit) -> Result<(), EngineError> {
        let missing = self.local.missing(commit);
        futures::future::try_join_all(missing.iter().map(|id| self.fetch_pack(id))).await.map(|_| ())
    }

    /// `commit` opened for searching: from the open ones, or its new files fetched first.
    pub async fn snapshot(&self, commit: &Commit) -> Result<Arc<Snapshot>, EngineError> {
        // The most recently used snapshot last: a cursor's older commit stays open while paged.
        let open_already = || {
            let mut open = self.snapshots.lock().unwrap();
            let at = open.iter().position(|(c, _)| c.id == commit.id)?;
            let used = open.remove(at);
            open.push(used.clone());
            Some(used.1)
        };
        if let Some(open) = open_already() {
            return Ok(open);
        }
        let _one_at_a_time = self.opening.lock().await;
        if let Some(open) = open_already() {
            return Ok(open);
        }
        self.fetch(commit).await?;
        let (local, wanted) = (self.local.clone(), commit.clone());
        let snapshot =
            Arc::new(tokio::task::spawn_blocking(move || local.open(&wanted)).await.map_err(blocking_failed)??);
        {
            let mut open = self.snapshots.lock().unwrap();
            open.retain(|(c, _)| c.id != commit.id);
            open.push((commit.clone(), snapshot.clone()));
            let extra = open.len().saturating_sub(SNAPSHOTS_KEPT);
            open.drain(..extra);
        }
        // Not while a write uses the files (the next open prunes).
        if let Ok(_no_write) = self.writing.try_lock() {
            self.prune_files().await?;
        }
        Ok(snapshot)
    }

    /// Forgets local files that neither an open snapshot nor the last commit written uses
    /// (open ones stay mapped even when unlinked). Called with no write and no open under way
    /// (the caller holds one lock, this takes the other).
    async fn prune_files(&self) -> Result<(), EngineError> {
        let mut keep: Vec<Commit> = self.snapshots.lock().unwrap().iter().map(|(c, _)| c.clone()).collect();
        keep.extend(self.last_written.lock().unwrap().clone());
        let local = self.local.clone();
        tokio::task::spawn_blocking(move || local.prune(&keep.iter().collect::<Vec<_>>()))
            .await
            .map_err(blocking_failed)?
    }

    /// The commit after `base` with `changes` applied as of `now`, its pack uploaded (not
    /// yet named by any pointer: the caller swaps the pointer). It carries the packs dropped
    /// within the grace period; those dropped before are returned to delete.
    pub async fn write(
        &self,
        base: &Commit,
        changes: Vec<(String, Option<RequestText>)>,
        now: i64,
    ) -> Result<Written, EngineError> {
        let _one_at_a_time = self.writing.lock().await;
        self.fetch(base).await?;
        let local = self.local.clone();
        let (mut commit, new) = tokio::task::spawn_blocking({
            let base = base.clone();
            move || local.write(&base, &changes)
        })
        .await
        .map_err(blocking_failed)??;
        let gone = base.packs.iter().filter(|p| !commit.packs.iter().any(|q| q.id == p.id));
        let dropped = base.dropped.iter().cloned().chain(gone.map(|p| Dropped { pack: p.id.clone(), at: now }));
        let (expired, kept): (Vec<Dropped>, Vec<Dropped>) = dropped.partition(|d| d.at + GRACE_SECONDS <= now);
        commit.dropped = kept;
        let mut contents = Vec::with_capacity(new.len());
        for name in new {
            let bytes = tokio::fs::read(self.local.cached(&name)).await?;
            contents.push((name, bytes));
        }
        self.files.put(&pack_name(&commit.id), encode_pack(&commit, &contents)).await?;
        self.remember(&commit);
        *self.last_written.lock().unwrap() = Some(commit.clone());
        {
            let _no_open = self.opening.lock().await;
            self.prune_files().await?;
        }
        Ok(Written { commit, expired: expired.into_iter().map(|d| pack_name(&d.pack)).collect() })
    }
}

#[cfg(test)]
mod tests;
