//! Which request a reply belongs to: by a signed reply address, else by the Message-IDs it
//! answers. Message-IDs are remembered in `MSGID#` items: the notifier's (ours and the ids SES
//! gave them) and those of received mail.

use super::{IncomingMail, MAX_REFERENCES, MESSAGE_REF_DAYS};
use crate::domain::reply_address::ReplyToken;
use crate::error::ApiError;
use crate::items::{message_ref_key, request_key};
use crate::model::{MessageRef, Record, Request, User};
use crate::store::{Condition, StoreError, Write};
use crate::App;

/// Requests the message may belong to, most trusted first: those its reply addresses name
/// for this sender (the address proves the sender reads that recipient's mail), then, only
/// when SES authenticated the sender's domain, those of the messages it answers (thread ids
/// are known to everyone on the thread, so they prove nothing alone).
pub(super) async fn threads(
    app: &App,
    user: &User,
    tokens: &[ReplyToken],
    mail: &IncomingMail,
    authenticated: bool,
) -> Result<Vec<String>, ApiError> {
    let mut keys = vec![];
    for token in tokens {
        if let Some(Record::Request(request)) = app.store.get(&request_key(&token.request_key)).await? {
            if token.grants(app, &user.id, &request).await? {
                keys.push(request.key);
            }
        }
    }
    if !authenticated {
        return Ok(keys);
    }
    let refs: Vec<_> = mail.references.iter().take(MAX_REFERENCES).map(|r| message_ref_key(&message_key(r))).collect();
    if !refs.is_empty() {
        let found = app.store.get_many(&refs).await?;
        for wanted in &refs {
            let hit = found.iter().find_map(|r| match r {
                Record::MessageRef(m) if &r.key() == wanted && m.expires_at > app.now() => Some(m.request_key.clone()),
                _ => None,
            });
            keys.extend(hit.filter(|k| !keys.contains(k)));
        }
    }
    Ok(keys)
}

/// How long a message's id makes a later copy of it a duplicate rather than a new message.
pub const DUPLICATE_WINDOW_DAYS: i64 = 7;

/// The request a message with the same Message-ID reached in the last
/// `DUPLICATE_WINDOW_DAYS` under another SES delivery (the same message sent to two support
/// addresses, or resent by a relay). A retry of the same delivery is not a copy: it must
/// finish what the first attempt began.
pub(super) async fn earlier_copy(app: &App, mail: &IncomingMail, ses_id: &str) -> Result<Option<Request>, ApiError> {
    let Some(id) = &mail.message_id else { return Ok(None) };
    let now = app.now();
    let Some(Record::MessageRef(seen)) = app.store.get(&message_ref_key(&message_key(id))).await? else {
        return Ok(None);
    };
    let remembered_at = seen.expires_at - MESSAGE_REF_DAYS * 24 * 3600;
    let fresh = seen.expires_at > now && now - remembered_at <= DUPLICATE_WINDOW_DAYS * 24 * 3600;
    if !fresh || seen.ses_id.as_deref().is_none_or(|first| first == ses_id) {
        return Ok(None);
    }
    Ok(match app.store.get(&request_key(&seen.request_key)).await? {
        Some(Record::Request(request)) => Some(request),
        _ => None,
    })
}

/// What a Message-ID is remembered under: SES rewrites the ids of what the helpdesk sends to
/// `<ses id@region.amazonses.com>`, and the notifier stores the ses id it was given.
pub fn message_key(message_id: &str) -> String {
    let id = message_id.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    match id.rsplit_once('@') {
        Some((local, domain)) if domain.ends_with("amazonses.com") => local.to_string(),
        _ => id,
    }
}

/// The record that lets replies to a message the helpdesk sent find its request.
pub fn message_ref(message_id: &str, request_key: &str, now: i64) -> Record {
    Record::MessageRef(MessageRef {
        message_id: message_key(message_id),
        request_key: request_key.to_string(),
        expires_at: now + MESSAGE_REF_DAYS * 24 * 3600,
        ses_id: None,
    })
}

/// Remembers a received message's id for its request. The first message with an id keeps it
/// (a sender cannot repoint someone else's id at their own request), and ids that look like
/// the helpdesk's own are never taken from received mail.
pub(super) async fn remember_message(
    app: &App,
    mail: &IncomingMail,
    request_key: &str,
    ses_id: &str,
) -> Result<(), ApiError> {
    let Some(id) = &mail.message_id else { return Ok(()) };
    let key = message_key(id);
    let domain = key.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if domain.is_empty() || domain.ends_with(&app.config.support_domain) {
        return Ok(());
    }
    let now = app.now();
    let mut record = message_ref(id, request_key, now);
    if let Record::MessageRef(r) = &mut record {
        r.ses_id = Some(ses_id.to_string());
    }
    let write = Write::Put { record, condition: Condition::NotExistsOrExpired(now) };
    match app.store.transact(vec![write]).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
