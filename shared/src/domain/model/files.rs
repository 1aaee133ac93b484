//! Files: attachments listed on a request, and uploads a client may still make.

use super::Timestamp;
use serde::{Deserialize, Serialize};

/// A file that came with a request or reply by email. The bytes live in the files bucket
/// (`items::attachment_file_key`); this lists it on the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub request_key: String,
    /// ULID: attachments sort by it.
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// The reply it came with; None for the request's first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
    pub created_at: Timestamp,
    /// The request it came to, when a merge listed it here: its bytes stay filed under that
    /// request (`Attachment::file_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

/// A file a client may upload for a request (straight to the bucket, by a presigned POST,
/// or through the web function): a comment that names it in time attaches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    /// ULID: also the attachment's id once a comment names it.
    pub id: String,
    pub request_key: String,
    pub uploader_id: String,
    pub name: String,
    pub content_type: String,
    /// The most bytes the file may have (what the client said it has).
    pub max_size: u64,
    /// When the upload form stops working: a file written after it is refused.
    pub post_until: Timestamp,
    /// When the record goes (TTL); the bucket's lifecycle rule deletes unnamed files then too.
    pub expires_at: Timestamp,
}

impl Attachment {
    /// Where its bytes are in the files bucket: under the request it first came to.
    pub fn file_key(&self) -> String {
        crate::items::attachment_file_key(self.merged_from.as_deref().unwrap_or(&self.request_key), &self.id)
    }
}
