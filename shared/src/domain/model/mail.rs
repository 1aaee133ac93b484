//! Mail and links: claimed support addresses, Message-IDs, notifications sent, the keys that
//! sign reply addresses and public links, and the lock on a link that took too many wrong
//! addresses.

use super::{EmailAddress, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A support address claimed by a project: inbound mail to it routes there. One project per
/// address, claimed in the same transaction that sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportAddress {
    pub address: EmailAddress,
    pub project: String,
}

/// A Message-ID the helpdesk sent or received, and the request it belongs to: replies that
/// name it in In-Reply-To or References attach there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRef {
    pub message_id: String,
    pub request_key: String,
    pub expires_at: Timestamp,
    /// The SES delivery that brought a received message: another delivery of the same
    /// message is a duplicate, a retry of this one is not. None for mail the helpdesk sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ses_id: Option<String>,
}

/// One notification sent (or being sent): written before sending, so a replayed stream
/// record finds it and sends nothing twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notified {
    /// The event: `new:<request>`, `comment:<id>` or `status:<request>:<version>`.
    pub event: String,
    pub user_id: String,
    pub expires_at: Timestamp,
}

/// The keys that sign public links and reply addresses, by key id. New tokens use
/// `current`; older keys still verify until they are retired (see `domain::signing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeys {
    pub current: String,
    /// Key id -> base64url secret (256 bits).
    pub keys: BTreeMap<String, String>,
    pub version: u64,
}

/// A public link that took too many wrong addresses: it shows nothing any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkLock {
    pub token_hash: String,
    pub expires_at: Timestamp,
}
