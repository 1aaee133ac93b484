//! A user's append-only audit trail (seed 002): the write that adds one entry. Moderation
//! (notes, suspensions and the rules they add) and rule changes both write it; a leaf, so
//! neither needs the other for it. Reading the trail is `moderation::audit_trail`.

use crate::model::{AuditEntry, Record, User};
use crate::store::{Condition, Write};

/// The entry `id` of `user_id`'s trail: `actor` did `action` at `at`. Put only where no entry
/// is: an entry is never overwritten.
pub(crate) fn audit(
    user_id: &str,
    id: String,
    actor: &User,
    action: &str,
    detail: Option<String>,
    request: Option<String>,
    at: i64,
) -> Write {
    Write::Put {
        record: Record::AuditEntry(AuditEntry {
            user_id: user_id.to_string(),
            id,
            actor_id: actor.id.clone(),
            actor_email: actor.email.clone(),
            action: action.to_string(),
            detail,
            request,
            at,
        }),
        condition: Condition::NotExists,
    }
}
