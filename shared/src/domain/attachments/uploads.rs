//! Files from the pages and the API: a client asks for an upload (`grant`: a presigned POST
//! whose policy fixes the key, the type, the size and the expiry; the file goes straight to
//! the bucket), or the web function stages a form's file (`stage`); then a comment names the
//! uploads and `take` checks each against its record and the stored object before they become
//! the comment's attachments, in the comment's transaction. What no comment names within a
//! day is deleted: the record by TTL, the file by the bucket's lifecycle rule on `uploads/`.

use crate::domain::caller::{load_request, Caller, RequestScope};
use crate::domain::Input;
use crate::error::ApiError;
use crate::files::{FileError, PostPolicy, PresignedPost};
use crate::items::{attachment_file_key, upload_file_key, upload_key, ItemKey};
use crate::model::{Attachment, Record, Upload};
use crate::store::{Condition, Counter, Write};
use crate::App;
use serde::Deserialize;

/// The largest file a comment takes (the presigned POST's content-length range).
pub const MAX_UPLOAD: u64 = 10 * 1024 * 1024;
/// Files one comment may name.
pub const MAX_PER_COMMENT: usize = 10;
/// How long an upload form works.
pub const POST_SECONDS: i64 = 15 * 60;
/// How long an upload waits for a comment (the lifecycle rule's day).
pub const UPLOAD_SECONDS: i64 = 24 * 3600;
/// Uploads one person may start in an hour: the bucket is not free storage.
pub const UPLOADS_PER_HOUR: u32 = 60;
pub const MAX_TYPE: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    pub name: String,
    #[serde(rename = "type")]
    pub content_type: String,
    /// Bytes; a whole number (`2048.0` too, as JSON allows).
    #[serde(deserialize_with = "crate::domain::whole_number")]
    pub size: u64,
}

/// An upload granted: where and how to POST the file, and the id a comment names it by.
#[derive(Debug)]
pub struct Granted {
    pub id: String,
    pub post: PresignedPost,
    pub max_size: u64,
    pub expires_at: i64,
}

/// A file a form brought to the web function, to stage as an upload.
#[derive(Debug, Clone)]
pub struct FormFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn storage(e: FileError) -> ApiError {
    tracing::error!(error = %e, "file storage failed");
    ApiError::StorageUnavailable
}

/// A MIME type as `type/subtype` in lower case, no parameters: what the policy fixes.
pub fn check_type(raw: &str) -> Result<String, ApiError> {
    let valid = |part: &str| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "!#$&^_.+-".contains(c))
    };
    match raw.split_once('/') {
        Some((kind, sub)) if raw.len() <= MAX_TYPE && valid(kind) && valid(sub) => Ok(raw.to_string()),
        _ => Err(ApiError::invalid("invalid_field", "type must be a MIME type such as image/png, in lower case")),
    }
}

fn too_large(size: u64) -> ApiError {
    ApiError::invalid(
        "upload_too_large",
        format!(
            "a file may have at most {} MB; this one has {:.1} MB",
            MAX_UPLOAD / 1_048_576,
            size as f64 / 1_048_576.0
        ),
    )
}

/// Who may add files: whoever may write on the request (the same rule as a comment).
async fn writer_scope(app: &App, caller: &Caller, key: &str) -> Result<RequestScope, ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    crate::domain::requests::refuse_merged(&scope.request)?;
    Ok(scope)
}

/// Counts `files` uploads against the writer's hourly allowance.
async fn count_uploads(app: &App, scope: &RequestScope, files: usize) -> Result<(), ApiError> {
    for _ in 0..files {
        let counter = Counter::hourly("upload", &scope.user().id, UPLOADS_PER_HOUR, app.now());
        if !app.store.bump(&counter).await? {
            return Err(ApiError::Refused {
                code: "too_many_uploads",
                message: format!("at most {UPLOADS_PER_HOUR} files an hour: try again later"),
            });
        }
    }
    Ok(())
}

fn upload_record(scope: &RequestScope, name: &str, content_type: String, max_size: u64, now: i64) -> Upload {
    Upload {
        id: crate::text::new_ulid(),
        request_key: scope.request.key.clone(),
        uploader_id: scope.user().id.clone(),
        name: super::clean_name(name),
        content_type,
        max_size,
        post_until: now + POST_SECONDS,
        expires_at: now + UPLOAD_SECONDS,
    }
}

/// `POST /requests/{key}/attachments`: an upload of one file of `size` bytes at most.
pub async fn grant(app: &App, caller: &Caller, key: &str, input: Input<NewUpload>) -> Result<Granted, ApiError> {
    // Who asks first, then what they ask.
    let scope = writer_scope(app, caller, key).await?;
    let input = input?;
    let content_type = check_type(&input.content_type)?;
    crate::text::check_text("name", &input.name, 255, false, true)?;
    let size = input.size;
    if size == 0 {
        return Err(ApiError::invalid("invalid_field", "size must be the file's size in bytes, at least 1"));
    }
    if size > MAX_UPLOAD {
        return Err(too_large(size));
    }
    count_uploads(app, &scope, 1).await?;
    let now = app.now();
    let upload = upload_record(&scope, &input.name, content_type, size, now);
    let policy = PostPolicy {
        key: &upload_file_key(key, &upload.id),
        content_type: &upload.content_type,
        max_size: upload.max_size,
        expires_at: upload.post_until,
    };
    let post = app.files.presigned_post(&policy, now).await.map_err(storage)?;
    let (id, max_size, expires_at) = (upload.id.clone(), upload.max_size, upload.post_until);
    app.store.transact(vec![Write::Put { record: Record::Upload(upload), condition: Condition::NotExists }]).await?;
    Ok(Granted { id, post, max_size, expires_at })
}

/// Stages files a page's form brought (the web function's no-script path) as uploads of the
/// caller's, for the comment that comes with them to name. Answers their ids.
pub async fn stage(app: &App, caller: &Caller, key: &str, files: &[FormFile]) -> Result<Vec<String>, ApiError> {
    if files.is_empty() {
        return Ok(vec![]);
    }
    if files.len() > MAX_PER_COMMENT {
        return Err(ApiError::invalid("too_many_files", format!("at most {MAX_PER_COMMENT} files a reply")));
    }
    let scope = writer_scope(app, caller, key).await?;
    if let Some(big) = files.iter().find(|f| f.bytes.len() as u64 > MAX_UPLOAD) {
        return Err(too_large(big.bytes.len() as u64));
    }
    count_uploads(app, &scope, files.len()).await?;
    let now = app.now();
    let mut ids = vec![];
    for file in files {
        let content_type = check_type(&file.content_type).unwrap_or_else(|_| "application/octet-stream".into());
        let upload = upload_record(&scope, &file.name, content_type, file.bytes.len() as u64, now);
        let at = upload_file_key(key, &upload.id);
        app.files.put(&at, file.bytes.clone(), &upload.content_type).await.map_err(storage)?;
        ids.push(upload.id.clone());
        app.store
            .transact(vec![Write::Put { record: Record::Upload(upload), condition: Condition::NotExists }])
            .await?;
    }
    Ok(ids)
}

/// The keys a comment naming `ids` reads with its request: bounded, well-formed, distinct.
pub(crate) fn keys(ids: &[String]) -> Result<Vec<ItemKey>, ApiError> {
    if ids.len() > MAX_PER_COMMENT {
        return Err(ApiError::invalid("too_many_files", format!("at most {MAX_PER_COMMENT} files a reply")));
    }
    let mut seen: Vec<&String> = vec![];
    for id in ids {
        if ulid::Ulid::from_string(id).is_err() || seen.contains(&id) {
            return Err(ApiError::invalid("unknown_upload", format!("{id} is not an upload id (or is named twice)")));
        }
        seen.push(id);
    }
    Ok(ids.iter().map(|id| upload_key(id)).collect())
}

/// The uploads a comment names, checked and filed under the request: each must be the
/// author's, for this request, unexpired, with its file arrived before its form expired and
/// within its size. Answers the attachments and the writes that consume the uploads (for the
/// comment's transaction); the waiting copies are deleted once the comment is written
/// (`forget`), or a day later by the lifecycle rule.
pub(crate) async fn take(
    app: &App,
    request_key: &str,
    author_id: &str,
    ids: &[String],
    read: &[Record],
    comment_id: &str,
) -> Result<(Vec<Attachment>, Vec<Write>), ApiError> {
    take_to(app, (request_key, request_key), author_id, ids, read, Some(comment_id)).await
}

/// `take` for uploads granted on `from` that become files of `to` (a follow-up's first
/// message: `comment_id` None).
pub(crate) async fn take_to(
    app: &App,
    (request_key, to): (&str, &str),
    author_id: &str,
    ids: &[String],
    read: &[Record],
    comment_id: Option<&str>,
) -> Result<(Vec<Attachment>, Vec<Write>), ApiError> {
    let now = app.now();
    let (mut attachments, mut writes) = (vec![], vec![]);
    for id in ids {
        let (upload, facts) = verified(app, request_key, author_id, id, read).await?;
        let waiting = upload_file_key(request_key, id);
        app.files.copy(&waiting, &attachment_file_key(to, id)).await.map_err(storage)?;
        attachments.push(Attachment {
            request_key: to.to_string(),
            id: id.clone(),
            name: upload.name.clone(),
            content_type: upload.content_type.clone(),
            size: facts.size,
            comment_id: comment_id.map(str::to_string),
            created_at: now,
            merged_from: None,
        });
        writes.push(Write::Put {
            record: Record::Attachment(attachments[attachments.len() - 1].clone()),
            condition: Condition::NotExists,
        });
        // Consumed once: a second comment naming it finds nothing.
        writes.push(Write::Delete { key: upload_key(id), condition: Condition::Exists });
    }
    Ok((attachments, writes))
}

/// Deletes the waiting copies of uploads a comment took (best effort: the lifecycle rule
/// deletes what this misses).
/// Checks that every upload in `ids` could be taken now (`take`'s checks, nothing copied):
/// what must hold before a follow-up request is opened for them.
pub(crate) async fn verify(
    app: &App,
    request_key: &str,
    author_id: &str,
    ids: &[String],
    read: &[Record],
) -> Result<(), ApiError> {
    for id in ids {
        verified(app, request_key, author_id, id, read).await?;
    }
    Ok(())
}

/// One named upload: the author's, for this request, unexpired, and its file arrived within
/// its size and before its form expired (else the file is deleted).
async fn verified<'a>(
    app: &App,
    request_key: &str,
    author_id: &str,
    id: &str,
    read: &'a [Record],
) -> Result<(&'a Upload, crate::files::FileFacts), ApiError> {
    let now = app.now();
    let upload = read.iter().find_map(|r| match r {
        Record::Upload(u) if u.id == id => Some(u),
        _ => None,
    });
    let Some(upload) =
        upload.filter(|u| u.request_key == request_key && u.uploader_id == author_id && u.expires_at > now)
    else {
        return Err(ApiError::invalid(
            "unknown_upload",
            format!("{id} is not a file you uploaded for {request_key} in the last day"),
        ));
    };
    let waiting = upload_file_key(request_key, id);
    let Some(facts) = app.files.head(&waiting).await.map_err(storage)? else {
        return Err(ApiError::invalid(
            "upload_missing",
            format!("the file of upload {id} has not arrived: send it with its form first"),
        ));
    };
    if facts.size > upload.max_size || facts.size > MAX_UPLOAD {
        app.files.delete(&waiting).await.map_err(storage)?;
        return Err(too_large(facts.size));
    }
    if facts.written_at > upload.post_until {
        app.files.delete(&waiting).await.map_err(storage)?;
        return Err(ApiError::invalid(
            "upload_expired",
            format!("the form of upload {id} had expired when its file came: ask for a new one"),
        ));
    }
    Ok((upload, facts))
}

pub(crate) async fn forget(app: &App, request_key: &str, attachments: &[Attachment]) {
    for a in attachments {
        if let Err(e) = app.files.delete(&upload_file_key(request_key, &a.id)).await {
            tracing::warn!(error = %e, upload = a.id, "a taken upload's waiting copy stays until the lifecycle rule");
        }
    }
}
