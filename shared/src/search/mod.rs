//! Full-text search with tantivy. The index's segment files live in the stack's bucket under
//! `search/` (immutable: every name is new), and which files make the index now is a commit
//! pointer in the table, swapped by a version-checked write (`domain::search`). Searching
//! functions keep files in `/tmp` and fetch only those a newer commit adds.

pub mod engine;
pub mod find;
pub mod query;
pub mod schema;
pub mod tokens;

use async_trait::async_trait;
use engine::{Commit, EngineError, LocalIndex, Snapshot};
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

/// A function's view of the index: the remote files, the local cache, open snapshots.
pub struct SearchIndex {
    pub files: Arc<dyn IndexFiles>,
    local: LocalIndex,
    snapshots: Mutex<Vec<(Commit, Arc<Snapshot>)>>,
    /// One write at a time per process (they share the local writer directory).
    writing: tokio::sync::Mutex<()>,
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
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// The local root for `table` under the system's temporary directory.
    pub fn root_for(table: &str) -> PathBuf {
        let safe: String = table.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        std::env::temp_dir().join("helpdesk-search").join(safe)
    }

    async fn fetch(&self, commit: &Commit) -> Result<(), EngineError> {
        let missing = self.local.missing(commit);
        let fetched = futures::future::try_join_all(missing.iter().map(|name| async move {
            let bytes = self.files.get(name).await?;
            self.local.keep(name, &bytes)
        }));
        fetched.await.map(|_| ())
    }

    /// `commit` opened for searching: from the open ones, or its new files fetched first.
    pub async fn snapshot(&self, commit: &Commit) -> Result<Arc<Snapshot>, EngineError> {
        if let Some((_, open)) = self.snapshots.lock().unwrap().iter().find(|(c, _)| c.id == commit.id) {
            return Ok(open.clone());
        }
        self.fetch(commit).await?;
        let (local, wanted) = (self.local.clone(), commit.clone());
        let snapshot =
            Arc::new(tokio::task::spawn_blocking(move || local.open(&wanted)).await.map_err(blocking_failed)??);
        let kept: Vec<Commit> = {
            let mut open = self.snapshots.lock().unwrap();
            open.retain(|(c, _)| c.id != commit.id);
            open.push((commit.clone(), snapshot.clone()));
            open.sort_by_key(|(c, _)| std::cmp::Reverse(c.version));
            open.truncate(SNAPSHOTS_KEPT);
            open.iter().map(|(c, _)| c.clone()).collect()
        };
        let local = self.local.clone();
        // Files no open snapshot names go; open ones stay mapped even if unlinked.
        tokio::task::spawn_blocking(move || local.prune(&kept.iter().collect::<Vec<_>>()))
            .await
            .map_err(blocking_failed)??;
        Ok(snapshot)
    }

    /// The commit after `base` with `changes` applied, its new files uploaded (not yet
    /// named by any pointer: the caller swaps the pointer).
    pub async fn write(
        &self,
        base: &Commit,
        changes: Vec<(String, Option<RequestText>)>,
    ) -> Result<Commit, EngineError> {
        let _one_at_a_time = self.writing.lock().await;
        self.fetch(base).await?;
        let (local, base) = (self.local.clone(), base.clone());
        let (commit, new) =
            tokio::task::spawn_blocking(move || local.write(&base, &changes)).await.map_err(blocking_failed)??;
        let uploads = new.iter().map(|name| async move {
            let bytes = tokio::fs::read(self.local.cached(name)).await?;
            self.files.put(name, bytes).await
        });
        futures::future::try_join_all(uploads).await?;
        Ok(commit)
    }
}

#[cfg(test)]
mod tests;
