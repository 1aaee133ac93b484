//! Stored files (email attachments): S3 in deployment (moto locally), memory for domain tests.
//! Downloads are presigned URLs: the function signs, S3 serves, nothing streams through Lambda.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("file storage failed: {0}")]
pub struct FileError(pub String);

#[async_trait]
pub trait FileStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError>;
    /// A URL that downloads the file as `filename` until `expires_in` passes.
    async fn download_url(&self, key: &str, filename: &str, expires_in: Duration) -> Result<String, FileError>;
}

pub struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Files {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        S3Files { client, bucket }
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

    async fn download_url(&self, key: &str, filename: &str, expires_in: Duration) -> Result<String, FileError> {
        let config =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in).map_err(|e| FileError(e.to_string()))?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            // Always a download, never rendered on S3's origin.
            .response_content_disposition(disposition(filename))
            .presigned(config)
            .await
            .map_err(|e| FileError(format!("{e:?}")))?;
        Ok(presigned.uri().to_string())
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
    async fn download_url(&self, key: &str, _filename: &str, _expires_in: Duration) -> Result<String, FileError> {
        Ok(format!("memory://{key}"))
    }
}

/// For functions that keep no files (and have no S3 permission).
pub struct NoFiles;

#[async_trait]
impl FileStore for NoFiles {
    async fn put(&self, _key: &str, _bytes: Vec<u8>, _content_type: &str) -> Result<(), FileError> {
        Err(FileError("this function keeps no files".into()))
    }
    async fn download_url(&self, _key: &str, _filename: &str, _expires_in: Duration) -> Result<String, FileError> {
        Err(FileError("this function keeps no files".into()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dispositions_are_header_safe() {
        assert_eq!(super::disposition("a b.pdf"), "attachment; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf");
        let odd = super::disposition("ré\"port\r\n.pdf");
        assert!(!odd.contains('\r') && !odd.contains('\n') && odd.contains("filename=\"r__port__.pdf\""), "{odd}");
    }
}
