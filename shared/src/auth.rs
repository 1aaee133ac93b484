//! Passwordless sign-in: magic links by email, bearer sessions, the signed-in principal.

use crate::error::ApiError;
use crate::items::{email_key, magic_link_key, rate_key, session_key, user_key, ItemKey};
use crate::mailer::Email;
use crate::model::{EmailOwner, MagicLink, Record, Session, User};
use crate::store::{Condition, Counter, StoreError, Write};
use crate::text::{new_secret, normalize_email, sha256_hex};
use crate::App;
use std::collections::BTreeMap;

pub const MAGIC_LINK_TTL_SECS: i64 = 15 * 60;
pub const SESSION_TTL_SECS: i64 = 30 * 24 * 3600;
/// Magic links one address may ask for per window.
pub const MAGIC_LINK_LIMIT: u32 = 5;
pub const MAGIC_LINK_WINDOW_SECS: i64 = 15 * 60;

/// The signed-in caller of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user: User,
    pub session_hash: String,
}

/// Emails a single-use sign-in link. Answers the same whether or not the address has an
/// account, and says nothing when the address is over its rate limit.
pub async fn request_magic_link(app: &App, raw_email: &str) -> Result<(), ApiError> {
    let email = normalize_email(raw_email)?;
    let now = app.now();
    let window = now / MAGIC_LINK_WINDOW_SECS;
    let counter = Counter {
        key: rate_key("magic", &email, window),
        limit: MAGIC_LINK_LIMIT,
        expires_at: (window + 1) * MAGIC_LINK_WINDOW_SECS,
    };
    if !app.store.bump(&counter).await? {
        // The address is personal data: log that the limit hit, not for whom.
        tracing::warn!("magic link rate limit reached");
        return Ok(());
    }
    // A rejected address or a suspended account gets no link; the answer stays the same.
    let mut keys = crate::moderation::candidate_keys(&email);
    keys.push(email_key(&email));
    let records = app.store.get_many(&keys).await?;
    if crate::moderation::verdict(&records) == Some(crate::model::BlockAction::Reject) {
        tracing::info!("magic link refused: blocklist");
        return Ok(());
    }
    if let Some(Record::EmailOwner(owner)) = records.iter().find(|r| matches!(r, Record::EmailOwner(_))) {
        if let Some(Record::User(user)) = app.store.get(&user_key(&owner.user_id)).await? {
            if user.suspended {
                tracing::info!("magic link refused: suspended");
                return Ok(());
            }
        }
    }
    let token = new_secret();
    let link =
        MagicLink { token_hash: sha256_hex(&token), email: email.clone(), expires_at: now + MAGIC_LINK_TTL_SECS };
    app.store.transact(vec![Write::Put { record: Record::MagicLink(link), condition: Condition::NotExists }]).await?;
    let url = format!("{}/login?token={token}", app.config.public_base_url);
    let email_out = Email {
        to: email,
        subject: "Your sign-in link".into(),
        text: format!(
            "Sign in to the helpdesk with this link (valid 15 minutes, usable once):\n\n{url}\n\nOr post the token to /auth/session: {token}\n\nIf you did not ask for it, ignore this email."
        ),
    };
    // The answer is 202 either way: a failed send must not reveal anything to the caller.
    if let Err(err) = app.mailer.send(email_out).await {
        tracing::error!(error = %err, "magic link email not sent");
    }
    Ok(())
}

/// Trades a magic-link token for a session. The link is consumed in the same transaction
/// that creates the session, so it works once; a first sign-in creates the customer account.
pub async fn create_session(app: &App, token: &str) -> Result<(String, Session, User), ApiError> {
    let now = app.now();
    let link_key = magic_link_key(&sha256_hex(token.trim()));
    let link = match app.store.get(&link_key).await? {
        Some(Record::MagicLink(link)) if link.expires_at > now => link,
        _ => return Err(ApiError::Unauthorized),
    };
    for _ in 0..3 {
        let (user, new_account) = match find_user_by_email(app, &link.email).await? {
            Some(user) => (user, false),
            None => (new_user(&link.email, now), true),
        };
        if user.suspended {
            return Err(ApiError::Unauthorized);
        }
        let secret = new_secret();
        let bearer = format!("{}.{secret}", user.id);
        let session = Session {
            token_hash: sha256_hex(&bearer),
            user_id: user.id.clone(),
            created_at: now,
            expires_at: now + SESSION_TTL_SECS,
        };
        let mut writes = vec![
            Write::Delete { key: link_key.clone(), condition: Condition::ExistsUnexpired(now) },
            Write::Put { record: Record::Session(session.clone()), condition: Condition::NotExists },
        ];
        if new_account {
            writes.extend(new_account_writes(&user));
        }
        match app.store.transact(writes).await {
            Ok(()) => return Ok((bearer, session, user)),
            Err(e) if e.failed_at(0) => return Err(ApiError::Unauthorized),
            // Someone created the account at the same moment: read it and try again.
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

/// A fresh customer account for an address.
pub fn new_user(email: &str, now: i64) -> User {
    User {
        id: crate::text::new_ulid(),
        email: email.to_string(),
        name: None,
        app_admin: false,
        project_roles: BTreeMap::new(),
        organizations: BTreeMap::new(),
        suspended: false,
        suspension: None,
        created_at: now,
        version: 1,
    }
}

/// The writes that create an account: the user and the claim on its address.
pub fn new_account_writes(user: &User) -> [Write; 2] {
    [
        Write::Put { record: Record::User(user.clone()), condition: Condition::NotExists },
        Write::Put {
            record: Record::EmailOwner(EmailOwner { email: user.email.clone(), user_id: user.id.clone() }),
            condition: Condition::NotExists,
        },
    ]
}

pub async fn find_user_by_email(app: &App, email: &str) -> Result<Option<User>, ApiError> {
    let Some(Record::EmailOwner(owner)) = app.store.get(&email_key(email)).await? else { return Ok(None) };
    match app.store.get(&user_key(&owner.user_id)).await? {
        Some(Record::User(user)) => Ok(Some(user)),
        _ => Ok(None),
    }
}

/// The user id a bearer token claims (`<user id>.<secret>`); only `authenticate` proves it.
pub fn claimed_user_id(bearer: Option<&str>) -> Option<&str> {
    let (user_id, secret) = bearer?.split_once('.')?;
    (!user_id.is_empty() && user_id.len() <= 64 && secret.len() >= 32).then_some(user_id)
}

/// Checks the bearer token and reads `extra` keys in the same round trip (a BatchGet of the
/// session, the user and the extras). Expiry is checked here: TTL deletes only lazily.
pub async fn authenticate(
    app: &App,
    bearer: Option<&str>,
    extra: &[ItemKey],
) -> Result<(Principal, Vec<Record>), ApiError> {
    let user_id = claimed_user_id(bearer).ok_or(ApiError::Unauthorized)?;
    let bearer = bearer.unwrap_or_default();
    let session_hash = sha256_hex(bearer);
    let mut keys = vec![session_key(&session_hash), user_key(user_id)];
    keys.extend_from_slice(extra);
    let records = app.store.get_many(&keys).await?;
    let now = app.now();
    let mut session = None;
    let mut user = None;
    let mut rest = Vec::with_capacity(extra.len());
    for record in records {
        match record {
            Record::Session(s) if s.token_hash == session_hash => session = Some(s),
            Record::User(u) if u.id == user_id => user = Some(u),
            other => rest.push(other),
        }
    }
    match (session, user) {
        (Some(s), Some(u)) if s.user_id == u.id && s.expires_at > now && !u.suspended => {
            Ok((Principal { user: u, session_hash }, rest))
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// Ends the caller's session. Deleting an already-deleted session is fine (retries).
pub async fn logout(app: &App, bearer: Option<&str>) -> Result<(), ApiError> {
    let (principal, _) = authenticate(app, bearer, &[]).await?;
    app.store
        .transact(vec![Write::Delete { key: session_key(&principal.session_hash), condition: Condition::None }])
        .await?;
    Ok(())
}

/// The signed-in user.
pub async fn me(app: &App, bearer: Option<&str>) -> Result<User, ApiError> {
    Ok(authenticate(app, bearer, &[]).await?.0.user)
}

pub fn user_json(user: &User) -> serde_json::Value {
    serde_json::json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "app_admin": user.app_admin,
        "roles": user.project_roles,
        "suspended": user.suspended,
        "organizations": user
            .organizations
            .iter()
            .map(|(id, project)| serde_json::json!({"id": id, "project": project}))
            .collect::<Vec<_>>(),
        "emails": [{"email": user.email, "primary": true, "verified": true}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::memory_app;

    fn token_from(text: &str) -> String {
        text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string()
    }

    #[tokio::test]
    async fn magic_link_signs_in_once_and_creates_the_account() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, " Ann@Example.com ").await.unwrap();
        let sent = outbox.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, "ann@example.com");
        let token = token_from(&sent[0].text);
        let (bearer, _, user) = create_session(&app, &token).await.unwrap();
        assert_eq!(user.email, "ann@example.com");
        assert_eq!(create_session(&app, &token).await.unwrap_err(), ApiError::Unauthorized);
        let (principal, _) = authenticate(&app, Some(&bearer), &[]).await.unwrap();
        assert_eq!(principal.user.id, user.id);
        // A second sign-in finds the same account.
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let (_, _, again) = create_session(&app, &token_from(&outbox.sent()[1].text)).await.unwrap();
        assert_eq!(again.id, user.id);
    }

    #[tokio::test]
    async fn expired_links_and_sessions_are_refused_even_before_ttl_deletes_them() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let token = token_from(&outbox.sent()[0].text);
        app.clock.advance(MAGIC_LINK_TTL_SECS + 1);
        assert_eq!(create_session(&app, &token).await.unwrap_err(), ApiError::Unauthorized);

        request_magic_link(&app, "ann@example.com").await.unwrap();
        let (bearer, _, _) = create_session(&app, &token_from(&outbox.sent()[1].text)).await.unwrap();
        app.clock.advance(SESSION_TTL_SECS + 1);
        assert_eq!(authenticate(&app, Some(&bearer), &[]).await.unwrap_err(), ApiError::Unauthorized);
    }

    #[tokio::test]
    async fn rate_limit_stops_emails_but_not_the_answer() {
        let (app, outbox, _) = memory_app();
        for _ in 0..(MAGIC_LINK_LIMIT + 3) {
            request_magic_link(&app, "ann@example.com").await.unwrap();
        }
        assert_eq!(outbox.sent().len(), MAGIC_LINK_LIMIT as usize);
        app.clock.advance(MAGIC_LINK_WINDOW_SECS);
        request_magic_link(&app, "ann@example.com").await.unwrap();
        assert_eq!(outbox.sent().len(), MAGIC_LINK_LIMIT as usize + 1);
    }

    #[tokio::test]
    async fn forged_tokens_are_refused() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let (bearer, _, user) = create_session(&app, &token_from(&outbox.sent()[0].text)).await.unwrap();
        for bad in [None, Some(""), Some("nodot"), Some(&format!("{}.short", user.id))] {
            assert_eq!(authenticate(&app, bad, &[]).await.unwrap_err(), ApiError::Unauthorized);
        }
        let mut tampered = bearer.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_ne!(tampered, bearer);
        assert_eq!(authenticate(&app, Some(&tampered), &[]).await.unwrap_err(), ApiError::Unauthorized);
    }
}
