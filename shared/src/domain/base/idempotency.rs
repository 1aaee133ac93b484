//! Idempotent writes: a retried call (an `Idempotency-Key` header, or an email's Message-ID)
//! returns what the first one made and writes nothing. The record is read with the session
//! and written in the call's own transaction.

use crate::error::ApiError;
use crate::items::{idempotency_key, ItemKey};
use crate::model::{IdempotencyRecord, Record};
use crate::store::{Condition, Write};
use crate::text::sha256_hex;

pub const TTL_SECS: i64 = 24 * 3600;
pub const MAX_KEY_LEN: usize = 255;

/// A client's key for one call: 1-255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// From a header's raw bytes: present but not 1-255 visible ASCII is a 400, never ignored.
    pub fn from_header(raw: Option<&[u8]>) -> Result<Option<Self>, ApiError> {
        let Some(raw) = raw else { return Ok(None) };
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.iter().all(u8::is_ascii_graphic) {
            return Err(ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 visible ASCII characters",
            ));
        }
        Ok(Some(IdempotencyKey(String::from_utf8_lossy(raw).into_owned())))
    }

    /// An email's Message-ID: the same message delivered twice is the same call.
    pub fn from_message_id(message_id: &str) -> Self {
        IdempotencyKey(format!("message-id:{}", message_id.trim().trim_matches(['<', '>'])))
    }
}

/// One call's idempotency: the key, scoped to the caller, and the hash of what was asked.
#[derive(Debug, Clone)]
pub struct Idempotency {
    user_id: String,
    key_hash: String,
    call_hash: String,
}

impl Idempotency {
    /// `call` names everything that makes the call what it is (route, target, body), so the
    /// same key with a different call is refused rather than replayed.
    pub fn new(key: Option<&IdempotencyKey>, user_id: &str, call: &str) -> Option<Self> {
        key.map(|k| Idempotency {
            user_id: user_id.to_string(),
            key_hash: sha256_hex(&k.0),
            call_hash: sha256_hex(call),
        })
    }

    pub fn record_key(&self) -> ItemKey {
        idempotency_key(&self.user_id, &self.key_hash)
    }

    /// The unexpired earlier result among `records`: Ok(None) when there is none; refused
    /// when the key was used for a different call.
    pub fn earlier<'a>(&self, records: &'a [Record], now: i64) -> Result<Option<&'a IdempotencyRecord>, ApiError> {
        let key = self.record_key();
        let found = records.iter().find_map(|r| match r {
            Record::Idempotency(i) if r.key() == key && i.expires_at > now => Some(i),
            _ => None,
        });
        match found {
            Some(first) if first.body_hash != self.call_hash => Err(reused()),
            other => Ok(other),
        }
    }

    /// The record to write with the result, failing the transaction if a twin got there first.
    pub fn write(&self, request_key: &str, comment_id: Option<&str>, now: i64) -> Write {
        Write::Put {
            record: Record::Idempotency(IdempotencyRecord {
                user_id: self.user_id.clone(),
                key_hash: self.key_hash.clone(),
                request_key: request_key.to_string(),
                comment_id: comment_id.map(str::to_string),
                body_hash: self.call_hash.clone(),
                expires_at: now + TTL_SECS,
            }),
            condition: Condition::NotExistsOrExpired(now),
        }
    }
}

pub fn reused() -> ApiError {
    ApiError::invalid("idempotency_key_reused", "this Idempotency-Key was used for a different call; use a new key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_checked_not_ignored() {
        assert_eq!(IdempotencyKey::from_header(None).unwrap(), None);
        assert!(IdempotencyKey::from_header(Some(b"abc-123")).unwrap().is_some());
        for bad in [&b""[..], b"a b", b"\xc3\xa9", b"tab\there"] {
            assert_eq!(IdempotencyKey::from_header(Some(bad)).unwrap_err().code(), "invalid_idempotency_key");
        }
        assert!(IdempotencyKey::from_header(Some("x".repeat(255).as_bytes())).is_ok());
        assert!(IdempotencyKey::from_header(Some("x".repeat(256).as_bytes())).is_err());
    }

    #[test]
    fn keys_are_scoped_per_user_and_call() {
        let key = IdempotencyKey::from_header(Some(b"k1")).unwrap().unwrap();
        let ann = Idempotency::new(Some(&key), "ANN", "create\nHD\n{}").unwrap();
        let bob = Idempotency::new(Some(&key), "BOB", "create\nHD\n{}").unwrap();
        assert_ne!(ann.record_key(), bob.record_key());
        let Write::Put { record, .. } = ann.write("HD-1", None, 100) else { panic!() };
        let records = [record];
        assert_eq!(ann.earlier(&records, 100).unwrap().unwrap().request_key, "HD-1");
        assert_eq!(ann.earlier(&records, 100 + TTL_SECS).unwrap(), None);
        assert!(bob.earlier(&records, 100).unwrap().is_none());
        let other_call = Idempotency::new(Some(&key), "ANN", "create\nOT\n{}").unwrap();
        assert_eq!(other_call.earlier(&records, 100).unwrap_err().code(), "idempotency_key_reused");
    }
}
