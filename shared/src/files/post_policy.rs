//! S3's POST policy (browser-based uploads), signed with Signature Version 4: the SDKs presign
//! GET and PUT but not this form, so it is written here. The policy names the bucket, the one
//! key, the content type, the allowed sizes and the expiry; S3 refuses a form that breaks any.

use super::PostPolicy;
use base64::Engine;
use serde_json::{json, Value};

pub(super) struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
}

fn utc(at: i64, format: &[time::format_description::FormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(at).ok().and_then(|t| t.format(format).ok()).unwrap_or_default()
}

impl Signer<'_> {
    /// The form's fields, in the order S3 wants them before the file.
    pub fn fields(&self, bucket: &str, policy: &PostPolicy<'_>, now: i64) -> Vec<(String, String)> {
        let day = utc(now, time::macros::format_description!("[year][month][day]"));
        let stamp = utc(now, time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"));
        let credential = format!("{}/{day}/{}/s3/aws4_request", self.access_key_id, self.region);
        let mut signed: Vec<(String, String)> = vec![
            ("key".into(), policy.key.into()),
            ("Content-Type".into(), policy.content_type.into()),
            ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
            ("x-amz-credential".into(), credential),
            ("x-amz-date".into(), stamp),
        ];
        if let Some(token) = self.session_token {
            signed.push(("x-amz-security-token".into(), token.into()));
        }
        let document = document(bucket, policy, &signed);
        let encoded = base64::engine::general_purpose::STANDARD.encode(document.to_string());
        // The SDK's own SigV4 key derivation and signature: the string to sign is the policy.
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
        let key = aws_sigv4::sign::v4::generate_signing_key(self.secret_access_key, at, self.region, "s3");
        let signature = aws_sigv4::sign::v4::calculate_signature(key, encoded.as_bytes());
        signed.push(("policy".into(), encoded));
        signed.push(("x-amz-signature".into(), signature));
        signed
    }
}

/// The policy document: every field of the form exactly, the bucket, the size range.
fn document(bucket: &str, policy: &PostPolicy<'_>, fields: &[(String, String)]) -> Value {
    let expiration = crate::text::rfc3339(policy.expires_at);
    let mut conditions = vec![json!({"bucket": bucket}), json!(["content-length-range", 1, policy.max_size])];
    conditions.extend(fields.iter().map(|(name, value)| json!(["eq", format!("${name}"), value])));
    json!({"expiration": expiration, "conditions": conditions})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer<'static> {
        Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            session_token: Some("token"),
            region: "us-east-1",
        }
    }

    #[test]
    fn the_policy_fixes_the_key_type_size_and_expiry() {
        let policy = PostPolicy {
            key: "uploads/HD-1/01ABC",
            content_type: "image/png",
            max_size: 2048,
            expires_at: 1_800_000_900,
        };
        let fields = signer().fields("files", &policy, 1_800_000_000);
        let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("x-amz-credential"), "AKIDEXAMPLE/20270115/us-east-1/s3/aws4_request");
        assert_eq!(get("x-amz-date"), "20270115T080000Z");
        let decoded = base64::engine::general_purpose::STANDARD.decode(get("policy")).unwrap();
        let document: Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(document["expiration"], "2027-01-15T08:15:00Z");
        let conditions = document["conditions"].as_array().unwrap();
        for expected in [
            json!({"bucket": "files"}),
            json!(["content-length-range", 1, 2048]),
            json!(["eq", "$key", "uploads/HD-1/01ABC"]),
            json!(["eq", "$Content-Type", "image/png"]),
            json!(["eq", "$x-amz-security-token", "token"]),
        ] {
            assert!(conditions.contains(&expected), "{expected} missing from {document}");
        }
        // The signature is HMAC-SHA256 of the encoded policy under the day's signing key:
        // another secret, another policy or another day signs differently.
        let signature = get("x-amz-signature");
        assert_eq!(signature.len(), 64);
        let other = Signer { secret_access_key: "another", ..signer() }.fields("files", &policy, 1_800_000_000);
        assert_ne!(other.last().unwrap().1, signature);
        let later = signer().fields("files", &policy, 1_800_100_000);
        assert_ne!(later.last().unwrap().1, signature);
    }
}
