//! Watches which DynamoDB, SES and S3 actions each function performs (through the local gateway),
//! so a test can hold the template's IAM policies to exactly what the code calls.

use async_trait::async_trait;
use helpdesk::files::{FileError, FileFacts, FileStore, PostPolicy, PresignedPost};
use helpdesk::items::ItemKey;
use helpdesk::mailer::{Email, MailError, Mailer};
use helpdesk::model::Record;
use helpdesk::store::{Counter, LoadChange, Page, Query, Store, StoreError, Write};
use helpdesk::table::Index;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Function -> IAM actions it used (`dynamodb:Query` on an index is `dynamodb:Query (index)`).
pub type Observed = Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>;

fn note(observed: &Observed, action: &str) {
    let function = helpdesk_tools::function::FUNCTION
        .try_with(|f| f.to_string())
        .unwrap_or_else(|_| "(outside a function)".into());
    observed.lock().unwrap().entry(function).or_default().insert(action.to_string());
}

pub struct RecordingStore {
    pub inner: Arc<dyn Store>,
    pub observed: Observed,
}

#[async_trait]
impl Store for RecordingStore {
    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError> {
        let distinct: BTreeSet<_> = keys.iter().collect();
        note(&self.observed, if distinct.len() == 1 { "dynamodb:GetItem" } else { "dynamodb:BatchGetItem" });
        self.inner.get_many(keys).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        note(&self.observed, if query.index == Index::Table { "dynamodb:Query" } else { "dynamodb:Query (index)" });
        if query.index.gsi().is_some_and(|g| g.keys_only) {
            // The store reads a keys-only index's items through by key.
            note(&self.observed, "dynamodb:BatchGetItem");
        }
        self.inner.query(query).await
    }

    async fn count(&self, index: Index, pk: &str, cap: usize) -> Result<usize, StoreError> {
        note(&self.observed, if index == Index::Table { "dynamodb:Query" } else { "dynamodb:Query (index)" });
        self.inner.count(index, pk, cap).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        for write in &writes {
            note(
                &self.observed,
                match write {
                    Write::Put { .. } => "dynamodb:PutItem",
                    Write::Delete { .. } => "dynamodb:DeleteItem",
                    Write::Check { .. } => "dynamodb:ConditionCheckItem",
                    Write::MoveLoads { .. } | Write::AddCounts { .. } => "dynamodb:UpdateItem",
                },
            );
        }
        self.inner.transact(writes).await
    }

    async fn put_all(&self, records: Vec<Record>) -> Result<(), StoreError> {
        note(&self.observed, "dynamodb:BatchWriteItem");
        self.inner.put_all(records).await
    }

    async fn bump(&self, counter: &Counter) -> Result<bool, StoreError> {
        note(&self.observed, "dynamodb:UpdateItem");
        self.inner.bump(counter).await
    }

    async fn unbump(&self, counter: &Counter) -> Result<(), StoreError> {
        note(&self.observed, "dynamodb:UpdateItem");
        self.inner.unbump(counter).await
    }

    async fn next_request_number(&self, project: &str) -> Result<u64, StoreError> {
        note(&self.observed, "dynamodb:UpdateItem");
        self.inner.next_request_number(project).await
    }

    async fn change_load(&self, project: &str, agent: &str, change: LoadChange<'_>) -> Result<bool, StoreError> {
        note(&self.observed, "dynamodb:UpdateItem");
        self.inner.change_load(project, agent, change).await
    }
}

pub struct RecordingMailer {
    pub inner: Arc<dyn Mailer>,
    pub observed: Observed,
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        note(&self.observed, "ses:SendEmail");
        self.inner.send(email).await
    }

    async fn send_raw(&self, to: &str, raw: Vec<u8>) -> Result<String, MailError> {
        note(&self.observed, "ses:SendEmail");
        self.inner.send_raw(to, raw).await
    }
}

/// Files: a put is `s3:PutObject`; a presigned download URL carries the signer's
/// `s3:GetObject`, so handing one out counts as that, and a presigned POST its `s3:PutObject`.
/// A HeadObject needs `s3:GetObject`; a copy reads one object and writes another.
pub struct RecordingFiles {
    pub inner: Arc<dyn FileStore>,
    pub observed: Observed,
}

#[async_trait]
impl FileStore for RecordingFiles {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError> {
        note(&self.observed, "s3:PutObject");
        self.inner.put(key, bytes, content_type).await
    }

    async fn download_url(
        &self,
        key: &str,
        filename: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<String, FileError> {
        note(&self.observed, "s3:GetObject");
        self.inner.download_url(key, filename, content_type, expires_in).await
    }

    async fn presigned_post(&self, policy: &PostPolicy<'_>, now: i64) -> Result<PresignedPost, FileError> {
        note(&self.observed, "s3:PutObject");
        self.inner.presigned_post(policy, now).await
    }

    async fn head(&self, key: &str) -> Result<Option<FileFacts>, FileError> {
        note(&self.observed, "s3:GetObject");
        self.inner.head(key).await
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), FileError> {
        note(&self.observed, "s3:GetObject");
        note(&self.observed, "s3:PutObject");
        self.inner.copy(from, to).await
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        note(&self.observed, "s3:DeleteObject");
        self.inner.delete(key).await
    }
}

/// The webhook sender's asynchronous invoke: `lambda:InvokeFunction`.
pub struct RecordingInvoke {
    pub inner: Arc<dyn helpdesk::app::Invoke>,
    pub observed: Observed,
}

#[async_trait]
impl helpdesk::app::Invoke for RecordingInvoke {
    async fn invoke(&self, payload: serde_json::Value) -> Result<(), String> {
        note(&self.observed, "lambda:InvokeFunction");
        self.inner.invoke(payload).await
    }
}

/// The search index's files in the bucket: each call as the S3 action it is.
pub struct RecordingIndexFiles {
    pub inner: Arc<dyn helpdesk::search::IndexFiles>,
    pub observed: Observed,
}

#[async_trait]
impl helpdesk::search::IndexFiles for RecordingIndexFiles {
    async fn get(&self, name: &str) -> Result<Vec<u8>, helpdesk::search::engine::EngineError> {
        note(&self.observed, "s3:GetObject");
        self.inner.get(name).await
    }
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), helpdesk::search::engine::EngineError> {
        note(&self.observed, "s3:PutObject");
        self.inner.put(name, bytes).await
    }
    async fn delete(&self, name: &str) -> Result<(), helpdesk::search::engine::EngineError> {
        note(&self.observed, "s3:DeleteObject");
        self.inner.delete(name).await
    }
    async fn list(&self) -> Result<Vec<(String, i64)>, helpdesk::search::engine::EngineError> {
        note(&self.observed, "s3:ListBucket");
        self.inner.list().await
    }
}
