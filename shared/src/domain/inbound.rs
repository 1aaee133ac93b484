//! Mail in: a message SES received becomes a new request, a reply on one, or nothing.
//!
//! Order of trust: SES's verdicts (never headers a sender can write) first, then machine mail
//! (auto-replies, bounces, lists) is dropped, then the reply attaches to its request by a
//! signed reply address, else by In-Reply-To / References to a message the helpdesk sent or
//! received, and only when the sender may reply there (the same `load_request` rule as every
//! channel). Anything else opens a request in the project whose support address it was sent
//! to. The SES message id is the Idempotency-Key, so a message delivered twice acts once.

use crate::domain::access::may_create_account;
use crate::domain::attachments;
use crate::domain::auth::{find_user_by_email, new_account_writes, new_user};
use crate::domain::blocklist;
use crate::domain::caller::Caller;
use crate::domain::email::EmailAddress;
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::participants::{share, ShareInput};
use crate::domain::projects::managed_domains;
use crate::domain::reply_address::{self, ReplyToken};
use crate::domain::requests::{
    add_comment, add_helpdesk_note, create_request, helpdesk_user, Channel, NewComment, NewRequest,
};
use crate::domain::requests::{MAX_COMMENT, MAX_SUMMARY};
use crate::error::ApiError;
use crate::items::{managed_domains_key, message_ref_key, project_of, support_address_key};
use crate::mime::incoming::{self, IncomingMail};
use crate::model::BlockAction;
use crate::model::{MessageRef, Record, User};
use crate::store::{Condition, StoreError, Write};
use crate::App;
use serde::Serialize;

/// How long a Message-ID keeps threading replies.
pub const MESSAGE_REF_DAYS: i64 = 365;
/// References looked up per message: the newest ones name the thread.
const MAX_REFERENCES: usize = 20;
/// To and Cc addresses considered per message (a share takes at most 20 anyway).
const MAX_ADDRESSES: usize = 20;

/// SES's verdicts from the receipt record: `PASS`, `FAIL`, `GRAY` or `PROCESSING_FAILED`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdicts {
    pub spam: String,
    pub virus: String,
    pub dmarc: String,
}

impl Verdicts {
    pub fn pass() -> Self {
        Verdicts { spam: "PASS".into(), virus: "PASS".into(), dmarc: "PASS".into() }
    }
    fn refusal(&self) -> Option<&'static str> {
        let failed = |v: &str| v.eq_ignore_ascii_case("FAIL");
        if failed(&self.virus) {
            Some("virus")
        } else if failed(&self.spam) {
            Some("spam")
        } else if failed(&self.dmarc) {
            Some("dmarc_fail")
        } else {
            None
        }
    }
}

/// One message as SES delivered it.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub ses_message_id: &'a str,
    /// The envelope recipients SES accepted for the helpdesk's domains.
    pub recipients: Vec<String>,
    pub verdicts: Verdicts,
    /// The envelope sender (`MAIL FROM`); empty for bounces.
    pub envelope_from: Option<String>,
    pub raw: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Created { request: String },
    Appended { request: String },
    Dropped { reason: String },
}

fn dropped(reason: &str) -> Outcome {
    Outcome::Dropped { reason: reason.to_string() }
}

/// Handles one delivered message. Errors are only what a retry can fix (storage); every
/// problem with the message itself is an `Outcome::Dropped` with its reason.
pub async fn receive(app: &App, delivery: Delivery<'_>) -> Result<Outcome, ApiError> {
    if let Some(reason) = delivery.verdicts.refusal() {
        return Ok(dropped(reason));
    }
    let Some(mail) = incoming::parse(delivery.raw, delivery.envelope_from.as_deref()) else {
        return Ok(dropped("unparseable"));
    };
    if let Some(reason) = mail.automated {
        return Ok(dropped(reason));
    }
    let Some(sender) = mail.from.as_deref().and_then(|f| EmailAddress::parse(f).ok()) else {
        return Ok(dropped("no_sender"));
    };
    if is_helpdesk_address(app, &sender) {
        return Ok(dropped("from_helpdesk"));
    }
    let idempotency = IdempotencyKey::from_message_id(delivery.ses_message_id);
    let account = find_user_by_email(app, &sender).await?;
    let tokens: Vec<ReplyToken> =
        delivery.recipients.iter().filter_map(|r| reply_address::parse(r, &app.config.support_domain)).collect();
    if let Some(user) = account.as_ref().filter(|u| !u.suspended) {
        for key in threads(app, user, &tokens, &mail).await? {
            if let Some(outcome) = append(app, user, &key, &mail, &idempotency).await? {
                return Ok(outcome);
            }
        }
    }
    open_request(app, &delivery, &mail, sender, account, &tokens, idempotency).await
}

/// The helpdesk's own addresses never open requests nor become participants (mail loops).
fn is_helpdesk_address(app: &App, email: &EmailAddress) -> bool {
    email.is_in(&app.config.support_domain) || app.config.mail_from.to_lowercase().contains(email.as_str())
}

/// Requests the message may belong to, most trusted first: those its reply addresses name
/// for this sender, then those of the messages it answers.
async fn threads(app: &App, user: &User, tokens: &[ReplyToken], mail: &IncomingMail) -> Result<Vec<String>, ApiError> {
    let mut keys = vec![];
    for token in tokens {
        if let Some(Record::Request(request)) = app.store.get(&crate::items::request_key(&token.request_key)).await? {
            if token.grants(app, &user.id, &request).await? {
                keys.push(request.key);
            }
        }
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

/// What a Message-ID is remembered under: SES rewrites the ids of what the helpdesk sends to
/// `<ses id@region.amazonses.com>`, and the notifier stores the ses id it was given.
pub fn message_key(message_id: &str) -> String {
    let id = message_id.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    match id.rsplit_once('@') {
        Some((local, domain)) if domain.ends_with("amazonses.com") => local.to_string(),
        _ => id,
    }
}

/// The write that lets replies to `message_id` find `request_key`.
pub fn message_ref_write(message_id: &str, request_key: &str, now: i64) -> Write {
    Write::Put {
        record: Record::MessageRef(MessageRef {
            message_id: message_key(message_id),
            request_key: request_key.to_string(),
            expires_at: now + MESSAGE_REF_DAYS * 24 * 3600,
        }),
        condition: Condition::None,
    }
}

async fn remember_message(app: &App, mail: &IncomingMail, request_key: &str) -> Result<(), ApiError> {
    if let Some(id) = &mail.message_id {
        app.store.transact(vec![message_ref_write(id, request_key, app.now())]).await?;
    }
    Ok(())
}

/// Adds the message as the sender's reply; None when the sender may not reply there.
async fn append(
    app: &App,
    user: &User,
    key: &str,
    mail: &IncomingMail,
    idempotency: &IdempotencyKey,
) -> Result<Option<Outcome>, ApiError> {
    let caller = Caller::Sender(Box::new(user.clone()));
    let input = NewComment { body: clean_text(&mail.text, MAX_COMMENT, "(no text)"), internal: false };
    match add_comment(app, &caller, key, Ok(input), Ok(Some(idempotency.clone()))).await {
        Ok((comment, _)) => {
            let event = format!("{idempotency:?}");
            attachments::keep(app, key, Some(&comment.id), &mail.attachments, &event, comment.created_at).await?;
            remember_message(app, mail, key).await?;
            Ok(Some(Outcome::Appended { request: key.to_string() }))
        }
        Err(ApiError::NotFound(_) | ApiError::Forbidden(_)) => Ok(None),
        Err(e) => refused(e).map(Some),
    }
}

/// Problems a retry cannot fix end as a dropped message with the error's code.
fn refused(err: ApiError) -> Result<Outcome, ApiError> {
    match err {
        ApiError::StorageUnavailable | ApiError::Internal(_) => Err(err),
        ApiError::Unauthorized => Ok(dropped("sender_suspended")),
        other => Ok(dropped(other.code())),
    }
}

/// Opens a request from the message in the project it was sent to.
async fn open_request(
    app: &App,
    delivery: &Delivery<'_>,
    mail: &IncomingMail,
    sender: EmailAddress,
    account: Option<User>,
    tokens: &[ReplyToken],
    idempotency: IdempotencyKey,
) -> Result<Outcome, ApiError> {
    let envelope: Vec<EmailAddress> = delivery.recipients.iter().filter_map(|r| EmailAddress::parse(r).ok()).collect();
    // Every address on the message that could be one of the helpdesk's own support addresses
    // (custom ones may be outside the support domain): none of them may become a participant.
    let mut addresses = envelope.clone();
    for raw in mail.to.iter().chain(&mail.cc).take(MAX_ADDRESSES) {
        if let Ok(email) = EmailAddress::parse(raw) {
            if !addresses.contains(&email) {
                addresses.push(email);
            }
        }
    }
    let mut lookups: Vec<_> = addresses.iter().map(support_address_key).collect();
    lookups.push(managed_domains_key());
    lookups.extend(blocklist::pattern_keys(&sender));
    let records = app.store.get_many(&lookups).await?;
    let support: Vec<&crate::model::SupportAddress> = records
        .iter()
        .filter_map(|r| match r {
            Record::SupportAddress(a) => Some(a),
            _ => None,
        })
        .collect();
    // The support address SES delivered it to; else the project a reply address names (a
    // stranger answering a thread, or an expired address: the team still gets the mail).
    let project = envelope
        .iter()
        .find_map(|e| support.iter().find(|a| &a.address == e).map(|a| a.project.clone()))
        .or_else(|| tokens.iter().find_map(|t| project_of(&t.request_key).map(str::to_string)));
    let ours: Vec<EmailAddress> = support.iter().map(|a| a.address.clone()).collect();
    let Some(project) = project else { return Ok(dropped("no_project")) };
    if blocklist::verdict(&sender, Some(&project), &records) == Some(BlockAction::Reject) {
        return Ok(dropped("blocked"));
    }
    let mut channel = Channel::Email;
    let user = match account {
        Some(user) => user,
        None => {
            let candidate = new_user(&sender, app.now());
            if may_create_account(&candidate, &[&sender], &managed_domains(&records)).is_err() {
                // No account may be made here: the helpdesk holds it under its own name.
                channel = Channel::EmailHeldForReview;
                User { email: sender.clone(), ..helpdesk_user(app) }
            } else {
                create_account(app, candidate).await?
            }
        }
    };
    if user.suspended {
        return Ok(dropped("sender_suspended"));
    }
    let caller = Caller::Sender(Box::new(user.clone()));
    let input = NewRequest {
        summary: clean_subject(&mail.subject),
        description: clean_text(&mail.text, crate::domain::requests::MAX_DESCRIPTION, ""),
        form: None,
        fields: Default::default(),
        channel,
    };
    let request = match create_request(app, &caller, &project, Ok(input), Ok(Some(idempotency))).await {
        Ok(((_, request), _)) => request,
        Err(e) => return refused(e),
    };
    let event = format!("ses:{}", delivery.ses_message_id);
    attachments::keep(app, &request.key, None, &mail.attachments, &event, request.created_at).await?;
    remember_message(app, mail, &request.key).await?;
    if channel == Channel::EmailHeldForReview {
        let body = format!(
            "Held for review: {sender} wrote in, but {} is a managed domain, where only an app admin can create accounts. They get no email from the helpdesk until an app admin adds them; then share the request with them or answer them directly.",
            sender.domain()
        );
        add_helpdesk_note(app, &request.key, body, &format!("held\n{}", delivery.ses_message_id)).await?;
        return Ok(Outcome::Created { request: request.key });
    }
    add_participants(app, &caller, &request.key, mail, &user, &ours, delivery.ses_message_id).await?;
    Ok(Outcome::Created { request: request.key })
}

/// A customer account for a sender writing in for the first time; the one a twin delivery
/// made when it got there first.
async fn create_account(app: &App, user: User) -> Result<User, ApiError> {
    match app.store.transact(new_account_writes(&user).to_vec()).await {
        Ok(()) => Ok(user),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            find_user_by_email(app, &user.email).await?.ok_or(ApiError::StorageUnavailable)
        }
        Err(e) => Err(e.into()),
    }
}

/// Every other To/Cc address becomes a participant where the sharing rules allow it (as
/// the sender sharing it); the ones skipped are listed, with why, in an internal note.
async fn add_participants(
    app: &App,
    caller: &Caller,
    key: &str,
    mail: &IncomingMail,
    sender: &User,
    ours: &[EmailAddress],
    ses_message_id: &str,
) -> Result<(), ApiError> {
    let mut others: Vec<EmailAddress> = vec![];
    for raw in mail.to.iter().chain(&mail.cc).take(MAX_ADDRESSES) {
        if let Ok(email) = EmailAddress::parse(raw) {
            let helpdesk = is_helpdesk_address(app, &email) || ours.contains(&email);
            if email != sender.email && !helpdesk && !others.contains(&email) {
                others.push(email);
            }
        }
    }
    if others.is_empty() {
        return Ok(());
    }
    let all = ShareInput { emails: others.iter().map(|e| e.to_string()).collect() };
    if share(app, caller, key, Ok(all)).await.is_ok() {
        return Ok(());
    }
    let mut skipped = vec![];
    for email in &others {
        let one = ShareInput { emails: vec![email.to_string()] };
        match share(app, caller, key, Ok(one)).await {
            Ok(_) => {}
            Err(e @ (ApiError::StorageUnavailable | ApiError::Internal(_))) => return Err(e),
            Err(e) => skipped.push(format!("- {email}: {}", e.public_message())),
        }
    }
    if !skipped.is_empty() {
        let body =
            format!("These addresses were on the email but were not added as participants:\n{}", skipped.join("\n"));
        add_helpdesk_note(app, key, body, &format!("skipped\n{ses_message_id}")).await?;
    }
    Ok(())
}

/// A subject as a summary: one line, not blank, not too long.
fn clean_subject(subject: &str) -> String {
    let line: String = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let line: String = line.chars().take(MAX_SUMMARY).collect();
    if line.is_empty() {
        "(no subject)".to_string()
    } else {
        line
    }
}

/// A body as text: newlines normalised, other control characters dropped, cut to `max`.
fn clean_text(text: &str, max: usize, empty: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let kept: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let trimmed = kept.trim();
    if trimmed.is_empty() {
        return empty.to_string();
    }
    const CUT: &str = "\n[… cut: the message was longer than a request can hold]";
    if trimmed.chars().count() <= max {
        return trimmed.to_string();
    }
    let keep = max - CUT.chars().count();
    format!("{}{CUT}", trimmed.chars().take(keep).collect::<String>())
}

#[cfg(test)]
mod tests;
