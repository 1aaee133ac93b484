//! Stored files (email attachments): S3 in deployment (moto locally), memory for domain tests.
//! Downloads are presigned URLs: the function signs, S3 serves, nothing streams through Lambda.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("file storage failed: {0}")]
pub struct FileError(pub String);

/// A browser's (or any client's) upload straight to the bucket: POST `url` as
/// multipart/form-data with these fields, then the file as the last field, `file`.
#[derive(Debug, Clone, PartialEq)]
pub struct PresignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
}

/// What a presigned POST allows: one key, one content type, at most `max_size` bytes, until
/// `expires_at` (Unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct PostPolicy<'a> {
    pub key: &'a str,
    pub content_type: &'a str,
    pub max_size: u64,
    pub expires_at: i64,
}

/// A stored object's size, type and when it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    pub size: u64,
    pub content_type: String,
    pub written_at: i64,
}

#[async_trait]
pub trait FileStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError>;
    /// A URL that downloads the file as `filename` until `expires_in` passes: always as an
    /// attachment, and as `content_type` only when a browser could not run it (else as bytes).
    async fn download_url(
        &self,
        key: &str,
        filename: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<String, FileError>;
    /// A signed form that lets its holder write one object, on the policy's terms.
    async fn presigned_post(&self, policy: &PostPolicy<'_>, now: i64) -> Result<PresignedPost, FileError>;
    /// The object's facts; None when there is none at `key`.
    async fn head(&self, key: &str) -> Result<Option<FileFacts>, FileError>;
    async fn copy(&self, from: &str, to: &str) -> Result<(), FileError>;
    async fn delete(&self, key: &str) -> Result<(), FileError>;
}

/// Types a browser shows as data, never runs: anything else is served as bytes.
fn served_type(content_type: &str) -> &str {
    const SAFE: [&str; 9] = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/json",
    ];
    let base = content_type.split(';').next().unwrap_or_default().trim();
    if SAFE.iter().any(|t| t.eq_ignore_ascii_case(base)) {
        content_type
    } else {
        "application/octet-stream"
    }
}

pub struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// What signs upload forms (the function's role; SdkConfig's chain).
    credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
}

impl S3Files {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: String,
        credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    ) -> Self {
        S3Files { client, bucket, credentials }
    }
}

/// `attachment; filename=...` with the name made safe for a header (RFC 6266 / 5987).
fn disposition(filename: &str) -> String {
    let plain: String =
        filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

#[async_trait]
impl FileStore for S3Files {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| FileError(format!("{e:?}")))?;
        Ok(())
    }

    async fn download_url(
        &self,
        key: &str,
        filename: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<String, FileError> {
        let config =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in).map_err(|e| FileError(e.to_string()))?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            // Always a download, never rendered on S3's origin.
            .response_content_disposition(disposition(filename))
            .response_content_type(served_type(content_type))
            .presigned(config)
            .await
            .map_err(|e| FileError(format!("{e:?}")))?;
        Ok(presigned.uri().to_string())
    }

    async fn presigned_post(&self, policy: &PostPolicy<'_>, now: i64) -> Result<PresignedPost, FileError> {
        let config = self.client.config();
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| FileError("no region".into()))?;
        let provider = self.credentials.as_ref().ok_or_else(|| FileError("no credentials".into()))?;
        let credentials = aws_sdk_s3::config::ProvideCredentials::provide_credentials(provider)
            .await
            .map_err(|e| FileError(format!("{e:?}")))?;
        // The bucket's URL as this client addresses it (virtual-hosted in AWS, path-style on a
        // local endpoint): a presigned URL of the key, without the key and the query.
        let one_minute = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(60))
            .map_err(|e| FileError(e.to_string()))?;
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(policy.key)
            .presigned(one_minute)
            .await
            .map_err(|e| FileError(format!("{e:?}")))?;
        let uri = put.uri().split('?').next().unwrap_or_default();
        let url = uri.strip_suffix(&format!("/{}", policy.key)).unwrap_or(uri).to_string();
        let signer = post_policy::Signer {
            access_key_id: credentials.access_key_id(),
            secret_access_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
            region: &region,
        };
        Ok(PresignedPost { url, fields: signer.fields(&self.bucket, policy, now) })
    }

    async fn head(&self, key: &str) -> Result<Option<FileFacts>, FileError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(FileFacts {
                size: out.content_length().unwrap_or_default().max(0) as u64,
                content_type: out.content_type().unwrap_or("application/octet-stream").to_string(),
                written_at: out.last_modified().map(|t| t.secs()).unwrap_or_default(),
            })),
            // Without s3:ListBucket (which no function has), S3 answers a missing key with 403.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => Ok(None),
            Err(e) => Err(FileError(format!("{e:?}"))),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), FileError> {
        let source = format!("{}/{from}", self.bucket);
        let copied = self.client.copy_object().bucket(&self.bucket).copy_source(source).key(to).send().await;
        copied.map(|_| ()).map_err(|e| FileError(format!("{e:?}")))
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        let deleted = self.client.delete_object().bucket(&self.bucket).key(key).send().await;
        deleted.map(|_| ()).map_err(|e| FileError(format!("{e:?}")))
    }
}

/// Keeps files in memory, for domain tests.
#[derive(Default)]
pub struct MemoryFiles {
    files: Mutex<HashMap<String, (Vec<u8>, String)>>,
}

impl MemoryFiles {
    pub fn get(&self, key: &str) -> Option<(Vec<u8>, String)> {
        self.files.lock().unwrap().get(key).cloned()
    }
}

#[async_trait]
impl FileStore for MemoryFiles {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError> {
        self.files.lock().unwrap().insert(key.to_string(), (bytes, content_type.to_string()));
        Ok(())
    }
    async fn download_url(&self, key: &str, _: &str, _: &str, _: Duration) -> Result<String, FileError> {
        Ok(format!("memory://{key}"))
    }
    async fn presigned_post(&self, policy: &PostPolicy<'_>, _now: i64) -> Result<PresignedPost, FileError> {
        Ok(PresignedPost { url: "memory://".into(), fields: vec![("key".into(), policy.key.to_string())] })
    }
    async fn head(&self, key: &str) -> Result<Option<FileFacts>, FileError> {
        let files = self.files.lock().unwrap();
        Ok(files.get(key).map(|(bytes, t)| FileFacts {
            size: bytes.len() as u64,
            content_type: t.clone(),
            written_at: 0,
        }))
    }
    async fn copy(&self, from: &str, to: &str) -> Result<(), FileError> {
        let mut files = self.files.lock().unwrap();
        let file = files.get(from).cloned().ok_or_else(|| FileError(format!("no file at {from}")))?;
        files.insert(to.to_string(), file);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.files.lock().unwrap().remove(key);
        Ok(())
    }
}

/// For functions that keep no files (and have no S3 permission).
pub struct NoFiles;

fn no_files<T>() -> Result<T, FileError> {
    Err(FileError("this function keeps no files".into()))
}

#[async_trait]
impl FileStore for NoFiles {
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), FileError> {
        no_files()
    }
    async fn download_url(&self, _: &str, _: &str, _: &str, _: Duration) -> Result<String, FileError> {
        no_files()
    }
    async fn presigned_post(&self, _: &PostPolicy<'_>, _: i64) -> Result<PresignedPost, FileError> {
        no_files()
    }
    async fn head(&self, _: &str) -> Result<Option<FileFacts>, FileError> {
        no_files()
    }
    async fn copy(&self, _: &str, _: &str) -> Result<(), FileError> {
        no_files()
    }
    async fn delete(&self, _: &str) -> Result<(), FileError> {
        no_files()
    }
}

mod post_policy;

#[cfg(test)]
mod tests {
    #[test]
    fn dispositions_are_header_safe() {
        assert_eq!(super::disposition("a b.pdf"), "attachment; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf");
        let odd = super::disposition("ré\"port\r\n.pdf");
        assert!(!odd.contains('\r') && !odd.contains('\n') && odd.contains("filename=\"r__port__.pdf\""), "{odd}");
    }

    #[test]
    fn only_types_a_browser_never_runs_are_served_as_themselves() {
        assert_eq!(super::served_type("image/png"), "image/png");
        assert_eq!(super::served_type("text/plain; charset=utf-8"), "text/plain; charset=utf-8");
        for risky in ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/javascript", ""] {
            assert_eq!(super::served_type(risky), "application/octet-stream", "{risky}");
        }
    }
}
