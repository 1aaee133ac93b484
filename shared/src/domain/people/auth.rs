//! Passwordless sign-in: magic links by email, sessions, accounts.

use crate::domain::access::may_create_account;
use crate::domain::blocklist;
use crate::domain::caller::{resolve, Caller};
use crate::domain::email::EmailAddress;
use crate::domain::retry::Budget;
use crate::error::ApiError;
use crate::items::{email_key, magic_link_key, rate_key, session_key, user_key};
use crate::mailer::Email;
use crate::model::{EmailOwner, MagicLink, Record, Session, User};
use crate::store::{Condition, Counter, StoreError, Write};
use crate::text::{new_secret, sha256_hex};
use crate::App;
use std::collections::BTreeMap;

pub const MAGIC_LINK_TTL_SECS: i64 = 15 * 60;
pub const SESSION_TTL_SECS: i64 = 30 * 24 * 3600;
/// Magic links one address may ask for per window.
pub const MAGIC_LINK_LIMIT: u32 = 5;
pub const MAGIC_LINK_WINDOW_SECS: i64 = 15 * 60;

/// What became of a request for a sign-in link. The caller is told the same in every case;
/// the request's log line says which (never for whom).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    Sent,
    RateLimited,
    /// A `reject:` rule matches the address, or its account is suspended.
    Refused,
    MailFailed,
}

impl LinkOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkOutcome::Sent => "sent",
            LinkOutcome::RateLimited => "rate_limited",
            LinkOutcome::Refused => "refused",
            LinkOutcome::MailFailed => "mail_failed",
        }
    }
}

/// What decides whether an address may sign in: its account and the app-wide rules matching
/// it, in one BatchGet; then the account itself. None: refused.
async fn sign_in_allowed(app: &App, email: &EmailAddress) -> Result<Option<Option<User>>, ApiError> {
    let mut keys = blocklist::pattern_keys(email);
    keys.extend([email_key(email.as_str()), crate::items::managed_domains_key()]);
    let records = app.store.get_many(&keys).await?;
    if blocklist::verdict(email, None, &records) == Some(crate::model::BlockAction::Reject) {
        return Ok(None);
    }
    let user = owner_account(app, &records).await?;
    if user.as_ref().is_some_and(|u| u.suspended) {
        return Ok(None);
    }
    // A first sign-in makes an account: seed 001's rule for managed domains holds here too
    // (the person signing up is no app admin).
    let managed = crate::domain::projects::managed_domains(&records);
    if user.is_none() && may_create_account(&new_user(email, 0), &[email], &managed).is_err() {
        return Ok(None);
    }
    Ok(Some(user))
}

/// `POST /auth/magic-link`'s body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MagicLinkInput {
    pub email: String,
}

/// `POST /auth/session`'s body: the token from the emailed link.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    pub token: String,
}

/// Emails a single-use sign-in link. Answers the same whether or not the address has an
/// account, and says nothing when the address is over its rate limit, rejected or suspended.
pub async fn request_magic_link(app: &App, raw_email: &str) -> Result<LinkOutcome, ApiError> {
    request_magic_link_to(app, raw_email, None).await
}

/// A page's own path to come back to after signing in: same-origin paths only (`/x`, never
/// `//host`, `/\host` or a scheme), at most 512 characters, never the sign-in pages.
pub fn return_path(raw: &str) -> Option<&str> {
    let safe = raw.starts_with('/')
        && !raw.starts_with("//")
        && raw.len() <= 512
        && !raw.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        && !raw.starts_with("/login")
        && !raw.starts_with("/logout");
    safe.then_some(raw)
}

/// `request_magic_link` whose link returns to `next` (a `return_path`) once signed in.
pub async fn request_magic_link_to(app: &App, raw_email: &str, next: Option<&str>) -> Result<LinkOutcome, ApiError> {
    let email = EmailAddress::parse(raw_email)?;
    let now = app.now();
    let window = now / MAGIC_LINK_WINDOW_SECS;
    let counter = Counter {
        key: rate_key("magic", email.as_str(), window),
        limit: MAGIC_LINK_LIMIT,
        expires_at: (window + 1) * MAGIC_LINK_WINDOW_SECS,
    };
    if !app.store.bump(&counter).await? {
        return Ok(LinkOutcome::RateLimited);
    }
    if sign_in_allowed(app, &email).await?.is_none() {
        return Ok(LinkOutcome::Refused);
    }
    let token = new_secret();
    let link =
        MagicLink { token_hash: sha256_hex(&token), email: email.clone(), expires_at: now + MAGIC_LINK_TTL_SECS };
    app.store.transact(vec![Write::Put { record: Record::MagicLink(link), condition: Condition::NotExists }]).await?;
    let mut url = format!("{}/login?token={token}", app.config.public_base_url);
    if let Some(next) = next.and_then(return_path) {
        url.push_str("&next=");
        url.extend(form_urlencoded::byte_serialize(next.as_bytes()));
    }
    let email_out = Email {
        to: email.to_string(),
        subject: "Your sign-in link".into(),
        text: format!(
            "Sign in to the helpdesk with this link (valid 15 minutes, usable once):\n\n{url}\n\nOr post the token to /auth/session: {token}\n\nIf you did not ask for it, ignore this email."
        ),
    };
    // The answer is 202 either way: a failed send must not reveal anything to the caller.
    match app.mailer.send(email_out).await {
        Ok(()) => Ok(LinkOutcome::Sent),
        Err(err) => {
            tracing::error!(error = %err, "magic link email not sent");
            Ok(LinkOutcome::MailFailed)
        }
    }
}

/// The address a magic link signs in, while it is unused and unexpired: the confirm page
/// names it, so nobody is signed in to someone else's account (a login CSRF) unawares.
pub async fn magic_link_address(app: &App, token: &str) -> Result<Option<EmailAddress>, ApiError> {
    if token.len() > 200 {
        return Ok(None);
    }
    Ok(match app.store.get(&magic_link_key(&sha256_hex(token.trim()))).await? {
        Some(Record::MagicLink(link)) if link.expires_at > app.now() => Some(link.email),
        _ => None,
    })
}

/// Trades a magic-link token for a session. The link is consumed in the same transaction
/// that creates the session, so it works once; a first sign-in creates the customer account.
/// A link asked for before its address was rejected or suspended no longer signs in.
pub async fn create_session(app: &App, token: &str) -> Result<(String, Session, User), ApiError> {
    let now = app.now();
    let link_key = magic_link_key(&sha256_hex(token.trim()));
    let link = match app.store.get(&link_key).await? {
        Some(Record::MagicLink(link)) if link.expires_at > now => link,
        _ => return Err(ApiError::Unauthorized),
    };
    let email = link.email.clone();
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let Some(existing) = sign_in_allowed(app, &email).await? else { return Err(ApiError::Unauthorized) };
        let new_account = existing.is_none();
        let user = existing.unwrap_or_else(|| new_user(&email, now));
        let bearer = format!("{}.{}", user.id, new_secret());
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
        } else {
            // A suspension between the read and this write must win.
            writes.push(Write::Check { key: user_key(&user.id), condition: Condition::VersionIs(user.version) });
        }
        match app.store.transact(writes).await {
            Ok(()) => return Ok((bearer, session, user)),
            Err(e) if e.failed_at(0) => return Err(ApiError::Unauthorized),
            // Someone created or changed the account at the same moment: read it again.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A fresh customer account for an address.
pub fn new_user(email: &EmailAddress, now: i64) -> User {
    User {
        id: crate::text::new_ulid(),
        email: email.clone(),
        name: None,
        app_admin: false,
        project_roles: BTreeMap::new(),
        organizations: BTreeMap::new(),
        secondary_emails: vec![],
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

/// The account of the address whose `EMAIL#` claim is among `records`, if any.
pub(crate) async fn owner_account(app: &App, records: &[Record]) -> Result<Option<User>, ApiError> {
    let owner = records.iter().find_map(|r| match r {
        Record::EmailOwner(o) => Some(user_key(&o.user_id)),
        _ => None,
    });
    match owner {
        Some(key) => Ok(app.store.get(&key).await?.and_then(|r| match r {
            Record::User(u) => Some(u),
            _ => None,
        })),
        None => Ok(None),
    }
}

pub async fn find_user_by_email(app: &App, email: &EmailAddress) -> Result<Option<User>, ApiError> {
    let Some(Record::EmailOwner(owner)) = app.store.get(&email_key(email.as_str())).await? else { return Ok(None) };
    match app.store.get(&user_key(&owner.user_id)).await? {
        Some(Record::User(user)) => Ok(Some(user)),
        _ => Ok(None),
    }
}

/// Ends the caller's session. Deleting an already-deleted session is fine (retries).
pub async fn logout(app: &App, caller: &Caller) -> Result<(), ApiError> {
    let (actor, _) = resolve(app, caller, &[]).await?;
    if let Some(hash) = actor.session_hash {
        app.store.transact(vec![Write::Delete { key: session_key(&hash), condition: Condition::None }]).await?;
    }
    Ok(())
}

/// The signed-in user.
pub async fn me(app: &App, caller: &Caller) -> Result<User, ApiError> {
    Ok(resolve(app, caller, &[]).await?.0.user)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_this_sites_own_paths_are_returned_to() {
        for good in ["/portal/requests/HD-1", "/desk/projects/HD/queue?status=open", "/p/abc"] {
            assert_eq!(return_path(good), Some(good));
        }
        for bad in [
            "",
            "portal",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/login?next=/x",
            "/logout",
            "/a\nb",
            "/a b",
            &format!("/{}", "x".repeat(600)),
        ] {
            assert_eq!(return_path(bad), None, "{bad}");
        }
    }

    use super::*;
    use crate::testing::memory_app;

    fn token_from(text: &str) -> String {
        text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string()
    }

    fn session(bearer: &str) -> Caller {
        Caller::session(Some(bearer))
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
        assert_eq!(user.email.as_str(), "ann@example.com");
        assert_eq!(create_session(&app, &token).await.unwrap_err(), ApiError::Unauthorized);
        assert_eq!(me(&app, &session(&bearer)).await.unwrap().id, user.id);
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
        assert_eq!(me(&app, &session(&bearer)).await.unwrap_err(), ApiError::Unauthorized);
    }

    #[tokio::test]
    async fn rate_limit_stops_emails_but_not_the_answer() {
        let (app, outbox, _) = memory_app();
        for i in 0..(MAGIC_LINK_LIMIT + 3) {
            let expected = if i < MAGIC_LINK_LIMIT { LinkOutcome::Sent } else { LinkOutcome::RateLimited };
            assert_eq!(request_magic_link(&app, "ann@example.com").await.unwrap(), expected);
        }
        assert_eq!(outbox.sent().len(), MAGIC_LINK_LIMIT as usize);
        app.clock.advance(MAGIC_LINK_WINDOW_SECS);
        request_magic_link(&app, "ann@example.com").await.unwrap();
        assert_eq!(outbox.sent().len(), MAGIC_LINK_LIMIT as usize + 1);
    }

    /// The lifetimes, written out: a link lasts 15 minutes, a session 30 days, and five links
    /// per address are sent in each 15-minute window.
    #[tokio::test]
    async fn links_last_15_minutes_sessions_30_days_and_the_limit_a_15_minute_window() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        app.clock.advance(15 * 60 - 1);
        let (bearer, _, _) = create_session(&app, &token_from(&outbox.sent()[0].text)).await.unwrap();
        app.clock.advance(30 * 24 * 3600 - 1);
        assert!(me(&app, &session(&bearer)).await.is_ok(), "a session's last second");
        // To the last second of one 15-minute window: limited; the next window: sent.
        let window_end = (app.now() / 900 + 1) * 900;
        for _ in 0..MAGIC_LINK_LIMIT {
            request_magic_link(&app, "bob@example.com").await.unwrap();
        }
        app.clock.advance(window_end - 1 - app.now());
        assert_eq!(request_magic_link(&app, "bob@example.com").await.unwrap(), LinkOutcome::RateLimited);
        app.clock.advance(1);
        assert_eq!(request_magic_link(&app, "bob@example.com").await.unwrap(), LinkOutcome::Sent);
    }

    /// The in-memory store, keeping every counter it is asked to bump and making `meanwhile`
    /// (what a twin request did) just before the first transaction.
    struct Counted {
        inner: std::sync::Arc<dyn crate::store::Store>,
        bumped: std::sync::Mutex<Vec<Counter>>,
        meanwhile: std::sync::Mutex<Option<Vec<Write>>>,
    }

    fn counted(app: &mut App, meanwhile: Option<Vec<Write>>) -> std::sync::Arc<Counted> {
        let store = Counted { inner: app.store.clone(), bumped: Default::default(), meanwhile: meanwhile.into() };
        let store = std::sync::Arc::new(store);
        app.store = store.clone();
        store
    }

    #[async_trait::async_trait]
    impl crate::store::Store for Counted {
        async fn get_many(&self, keys: &[crate::items::ItemKey]) -> Result<Vec<Record>, StoreError> {
            self.inner.get_many(keys).await
        }
        async fn query(&self, query: &crate::store::Query) -> Result<crate::store::Page, StoreError> {
            self.inner.query(query).await
        }
        async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
            let meanwhile = self.meanwhile.lock().unwrap().take();
            if let Some(meanwhile) = meanwhile {
                self.inner.transact(meanwhile).await?;
            }
            self.inner.transact(writes).await
        }
        async fn put_all(&self, records: Vec<Record>) -> Result<(), StoreError> {
            self.inner.put_all(records).await
        }
        async fn bump(&self, counter: &Counter) -> Result<bool, StoreError> {
            self.bumped.lock().unwrap().push(counter.clone());
            self.inner.bump(counter).await
        }
        async fn unbump(&self, counter: &Counter) -> Result<(), StoreError> {
            self.inner.unbump(counter).await
        }
        async fn next_request_number(&self, project: &str) -> Result<u64, StoreError> {
            self.inner.next_request_number(project).await
        }
        async fn change_load(
            &self,
            project: &str,
            agent: &str,
            change: crate::store::LoadChange<'_>,
        ) -> Result<bool, StoreError> {
            self.inner.change_load(project, agent, change).await
        }
    }

    /// A sign-in counter is kept (its TTL in DynamoDB) to the end of its 15-minute window: not
    /// less, or the table could drop it and forget the count within the window.
    #[tokio::test]
    async fn a_sign_in_counter_lives_to_the_end_of_its_window() {
        let (mut app, _, _) = memory_app();
        let counted = counted(&mut app, None);
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let window_end = (app.now() / 900 + 1) * 900;
        let bumped = counted.bumped.lock().unwrap().clone();
        assert_eq!(bumped.iter().map(|c| c.expires_at).collect::<Vec<_>>(), [window_end]);
    }

    /// The confirm page's address: the link's while it works, for a token of up to 200
    /// characters as sent (surrounding spaces included); nothing otherwise.
    #[tokio::test]
    async fn a_link_names_its_address_while_it_works() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let token = token_from(&outbox.sent()[0].text);
        let ann = Some(EmailAddress::parse("ann@example.com").unwrap());
        let padded = |len: usize| format!("{token}{}", " ".repeat(len - token.len()));
        assert_eq!(magic_link_address(&app, &padded(200)).await.unwrap(), ann);
        assert_eq!(magic_link_address(&app, &padded(201)).await.unwrap(), None);
        assert_eq!(magic_link_address(&app, "unknown").await.unwrap(), None);
        app.clock.advance(MAGIC_LINK_TTL_SECS - 1);
        assert_eq!(magic_link_address(&app, &token).await.unwrap(), ann);
        app.clock.advance(1);
        assert_eq!(magic_link_address(&app, &token).await.unwrap(), None);
    }

    /// A link another request consumed between the read and the write signs nobody in; an
    /// account another request made meanwhile is the one signed in.
    #[tokio::test]
    async fn a_sign_in_loses_to_a_twin_that_used_the_link_and_joins_one_that_made_the_account() {
        let (mut app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        request_magic_link(&app, "bob@example.com").await.unwrap();
        let (anns, bobs) = (token_from(&outbox.sent()[0].text), token_from(&outbox.sent()[1].text));
        let used = Write::Delete { key: magic_link_key(&sha256_hex(&anns)), condition: Condition::None };
        counted(&mut app, Some(vec![used]));
        assert_eq!(create_session(&app, &anns).await.unwrap_err(), ApiError::Unauthorized);
        let twin = new_user(&EmailAddress::parse("bob@example.com").unwrap(), app.now());
        counted(&mut app, Some(new_account_writes(&twin).to_vec()));
        let (_, _, bob) = create_session(&app, &bobs).await.unwrap();
        assert_eq!(bob.id, twin.id);
    }

    #[tokio::test]
    async fn a_session_ends_at_logout() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let (bearer, _, _) = create_session(&app, &token_from(&outbox.sent()[0].text)).await.unwrap();
        logout(&app, &session(&bearer)).await.unwrap();
        assert_eq!(me(&app, &session(&bearer)).await.unwrap_err(), ApiError::Unauthorized);
    }

    #[test]
    fn each_outcome_has_its_log_name() {
        use LinkOutcome::*;
        let names: Vec<_> = [Sent, RateLimited, Refused, MailFailed].into_iter().map(LinkOutcome::as_str).collect();
        assert_eq!(names, ["sent", "rate_limited", "refused", "mail_failed"]);
    }

    #[tokio::test]
    async fn forged_tokens_are_refused() {
        let (app, outbox, _) = memory_app();
        request_magic_link(&app, "ann@example.com").await.unwrap();
        let (bearer, _, user) = create_session(&app, &token_from(&outbox.sent()[0].text)).await.unwrap();
        for bad in [Caller::Anonymous, session(""), session("nodot"), session(&format!("{}.short", user.id))] {
            assert_eq!(me(&app, &bad).await.unwrap_err(), ApiError::Unauthorized);
        }
        let mut tampered = bearer.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_ne!(tampered, bearer);
        assert_eq!(me(&app, &session(&tampered)).await.unwrap_err(), ApiError::Unauthorized);
    }
}
