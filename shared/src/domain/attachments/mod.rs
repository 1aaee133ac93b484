//! Files that come with email: kept in the files bucket, listed on the request, and handed
//! out as short-lived presigned URLs to whoever may see the request (the one visibility rule,
//! through `load_request`), nobody else.

use crate::domain::caller::{load_request, Caller};

pub mod uploads;
use crate::error::ApiError;
use crate::items::{attachment_file_key, attachment_key, comment_key};
use crate::mime::incoming::IncomingAttachment;
use crate::model::{Attachment, Record};
use crate::store::{Condition, Write};
use crate::App;
use std::time::Duration;

/// Files kept from one message; the rest are named in the log and dropped.
pub const MAX_PER_MESSAGE: usize = 20;
/// A download link works this long.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(300);
const MAX_NAME: usize = 200;

/// A file name as stored and offered: no path, no control or format characters (a
/// right-to-left override would disguise `.exe` as `.pdf`), not too long.
pub(crate) fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String =
        base.chars().filter(|c| !c.is_control() && !crate::text::is_format_char(*c)).take(MAX_NAME).collect();
    let name = name.trim().trim_start_matches('.').to_string();
    if name.is_empty() {
        "attachment".into()
    } else {
        name
    }
}

/// Keeps a message's files for a request (and the reply they came with). `event` names the
/// message and `at` its time: ids derive from them, so a redelivered message rewrites the same
/// objects and items instead of adding copies.
pub async fn keep(
    app: &App,
    request_key: &str,
    comment_id: Option<&str>,
    files: &[IncomingAttachment],
    event: &str,
    at: i64,
) -> Result<Vec<Attachment>, ApiError> {
    if files.len() > MAX_PER_MESSAGE {
        tracing::warn!(request = request_key, count = files.len(), "attachments over the limit dropped");
    }
    let mut kept = vec![];
    for (i, file) in files.iter().take(MAX_PER_MESSAGE).enumerate() {
        let id = crate::text::derived_ulid((at.max(0) as u64) * 1000 + i as u64, &format!("{event}\n{i}"));
        app.files.put(&attachment_file_key(request_key, &id), file.bytes.clone(), &file.content_type).await.map_err(
            |e| {
                tracing::error!(error = %e, "storing an attachment failed");
                ApiError::StorageUnavailable
            },
        )?;
        kept.push(Attachment {
            request_key: request_key.to_string(),
            id,
            name: clean_name(&file.name),
            content_type: file.content_type.chars().take(100).collect(),
            size: file.bytes.len() as u64,
            comment_id: comment_id.map(str::to_string),
            created_at: at,
            merged_from: None,
        });
    }
    if !kept.is_empty() {
        let writes = kept
            .iter()
            .map(|a| Write::Put { record: Record::Attachment(a.clone()), condition: Condition::None })
            .collect();
        app.store.transact(writes).await?;
    }
    Ok(kept)
}

/// A short-lived download URL of an attachment, for a caller who may see its request.
pub async fn download_url(app: &App, caller: &Caller, key: &str, id: &str) -> Result<String, ApiError> {
    let scope = load_request(app, caller, key, &[attachment_key(key, id)]).await?;
    let attachment = scope.extra.iter().find_map(|r| match r {
        Record::Attachment(a) if a.id == id => Some(a),
        _ => None,
    });
    // A file of an internal note is as private as the note.
    if let Some(comment_id) = attachment.and_then(|a| a.comment_id.as_deref()) {
        let comment = match app.store.get(&comment_key(key, comment_id)).await? {
            Some(Record::Comment(c)) => Some(c),
            _ => None,
        };
        if !comment.is_some_and(|c| crate::domain::access::may_read_comment(scope.viewer(), &c)) {
            return Err(ApiError::NotFound("attachment"));
        }
    }
    signed_url(app, attachment).await
}

/// A short-lived download URL of an attachment shown on a public link's page.
pub async fn public_download_url(app: &App, token: &str, id: &str) -> Result<String, ApiError> {
    let page = crate::domain::public_links::open(app, token).await?;
    signed_url(app, page.detail.attachments.iter().find(|a| a.id == id)).await
}

async fn signed_url(app: &App, attachment: Option<&Attachment>) -> Result<String, ApiError> {
    let attachment = attachment.ok_or(ApiError::NotFound("attachment"))?;
    app.files
        .download_url(&attachment.file_key(), &attachment.name, &attachment.content_type, DOWNLOAD_URL_TTL)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("a\r\nb.txt"), "ab.txt");
        assert_eq!(clean_name(".htaccess"), "htaccess");
        assert_eq!(clean_name(""), "attachment");
        assert_eq!(clean_name(&"x".repeat(500)).len(), MAX_NAME);
    }
}
