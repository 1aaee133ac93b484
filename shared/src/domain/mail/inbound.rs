//! Mail in: a message SES received becomes a new request, a reply on one, or nothing.
//!
//! Order of trust: SES's verdicts (never headers a sender can write) first, then machine mail
//! (auto-replies, bounces, lists) is dropped. A `From:` is believed only as far as SES could
//! check it: with DMARC PASS the sender is their account; otherwise only a signed reply
//! address (proof of reading that recipient's mail) lets them act as it, and anything else from
//! a known address is held for an agent. A reply attaches to its request by a signed reply
//! address, else (authenticated senders) by In-Reply-To / References to a message the helpdesk
//! sent or received, and only when the sender may reply there (the same `load_request` rule
//! as every channel). Anything else opens a request in the project whose support address it
//! was sent to. The SES message id is the Idempotency-Key, so a message delivered twice acts
//! once.

use crate::domain::access::{is_agent, may_create_account};
use crate::domain::attachments;
use crate::domain::auth::{find_user_by_email, new_account_writes, new_user};
use crate::domain::blocklist;
use crate::domain::caller::Caller;
use crate::domain::email::EmailAddress;
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::participants::share_where_allowed;
use crate::domain::projects::managed_domains;
use crate::domain::reply_address::{self, ReplyToken};
use crate::domain::requests::{
    add_comment, add_helpdesk_note, create_request, follow_merges, helpdesk_user, Channel, NewComment, NewRequest,
    Posted,
};
use crate::domain::requests::{MAX_COMMENT, MAX_DESCRIPTION};
use crate::error::ApiError;
use crate::items::{managed_domains_key, project_of, request_key, support_address_key};
use crate::mime::incoming::{self, IncomingMail};
use crate::model::BlockAction;
use crate::model::{Record, User};
use crate::store::StoreError;
use crate::App;
use clean::{clean_subject, clean_text};
use serde::Serialize;
pub use threads::{message_key, message_ref};

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
    /// Whether SES could tie the `From:` domain to the sending servers (DMARC PASS).
    fn authenticated(&self) -> bool {
        self.dmarc.eq_ignore_ascii_case("PASS")
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
    Created {
        request: String,
    },
    Appended {
        request: String,
    },
    /// The same message came again under a new SES id (sent to two addresses, resent by a
    /// relay): it is already in this request.
    Duplicate {
        request: String,
    },
    Dropped {
        reason: String,
    },
}

fn dropped(reason: &str) -> Outcome {
    Outcome::Dropped { reason: reason.to_string() }
}

/// One parsed message and what is known of its sender.
struct Received<'a> {
    delivery: &'a Delivery<'a>,
    mail: IncomingMail,
    sender: EmailAddress,
    /// DMARC PASS: the `From:` is the sender's.
    authenticated: bool,
    idempotency: IdempotencyKey,
}

/// Handles one delivered message. Errors are only what a retry can fix (storage); every
/// problem with the message itself is an `Outcome::Dropped` with its reason.
pub async fn receive(app: &App, delivery: Delivery<'_>) -> Result<Outcome, ApiError> {
    if let Some(reason) = delivery.verdicts.refusal() {
        return Ok(dropped(reason));
    }
    let Some(mut mail) = incoming::parse(delivery.raw, delivery.envelope_from.as_deref()) else {
        return Ok(dropped("unparseable"));
    };
    if let Some(reason) = mail.automated {
        return Ok(dropped(reason));
    }
    if mail.senders > 1 {
        return Ok(dropped("several_senders"));
    }
    let Some(sender) = mail.from.as_deref().and_then(|f| EmailAddress::parse(f).ok()) else {
        return Ok(dropped("no_sender"));
    };
    if is_helpdesk_address(app, &sender) {
        return Ok(dropped("from_helpdesk"));
    }
    if !delivery.verdicts.virus.eq_ignore_ascii_case("PASS") {
        // Not scanned clean: the text is kept, the files are not.
        mail.attachments.clear();
    }
    // DMARC checked the `From:` as written; a sender read anywhere else (a repaired `From:`,
    // `Sender:`, `Reply-To:`, the envelope) is nobody SES vouched for.
    let authenticated = delivery.verdicts.authenticated() && mail.sender_source.is_from_header();
    let message = Received {
        delivery: &delivery,
        mail,
        sender,
        authenticated,
        idempotency: IdempotencyKey::from_message_id(delivery.ses_message_id),
    };
    let (account, earlier) = tokio::try_join!(
        find_user_by_email(app, &message.sender),
        threads::earlier_copy(app, &message.mail, delivery.ses_message_id)
    )?;
    let tokens: Vec<ReplyToken> =
        delivery.recipients.iter().filter_map(|r| reply_address::parse(r, &app.config.support_domain)).collect();
    if let Some(user) = account.as_ref().filter(|u| !u.suspended) {
        for key in threads::threads(app, user, &tokens, &message.mail, message.authenticated).await? {
            if let Some(e) = earlier.as_ref().filter(|e| e.key == key) {
                return Ok(Outcome::Duplicate { request: e.key.clone() });
            }
            // Already taken by the follow-up it opened on `key`.
            if let Some(e) = earlier.as_ref() {
                if let Some(Record::Request(r)) = app.store.get(&request_key(&e.key)).await? {
                    if r.follow_up_of.as_deref() == Some(key.as_str()) {
                        return Ok(Outcome::Duplicate { request: r.key });
                    }
                }
            }
            if let Some(outcome) = append(app, user, &key, &message).await? {
                return Ok(outcome);
            }
        }
    }
    open_request(app, &message, account, &tokens, earlier).await
}

/// The helpdesk's own addresses never open requests nor become participants (mail loops).
fn is_helpdesk_address(app: &App, email: &EmailAddress) -> bool {
    email.is_in(&app.config.support_domain)
        || EmailAddress::parse_mailbox(&app.config.mail_from).ok().as_ref() == Some(email)
}

/// Adds the message as the sender's reply; None when the sender may not reply there.
async fn append(app: &App, user: &User, key: &str, message: &Received<'_>) -> Result<Option<Outcome>, ApiError> {
    // Rules match the address it came from too (a secondary one may be blocked on its own).
    if message.sender != user.email {
        let rules = app.store.get_many(&blocklist::pattern_keys(&message.sender)).await?;
        if blocklist::verdict(&message.sender, project_of(key), &rules) == Some(BlockAction::Reject) {
            return Ok(Some(dropped("blocked")));
        }
    }
    let caller = Caller::Sender(Box::new(user.clone()));
    let text = clean_text(app, &message.mail.text, MAX_COMMENT, "(no text)");
    // An agent's mail that starts with a line `#note` is an internal note (the line removed).
    let (body, internal) = match note_body(&text) {
        Some(note) if project_of(key).is_some_and(|p| is_agent(user, p)) => (note, true),
        _ => (text, false),
    };
    let input = NewComment { body, internal, seen_version: None, attachments: vec![] };
    // Merged since: the reply lands where the thread went (if the sender may write there),
    // the same on every delivery of the message.
    let key = match follow_merges(app, key).await {
        Ok(request) => request.key,
        Err(ApiError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    match add_comment(app, &caller, &key, Ok(input), Ok(Some(message.idempotency.clone()))).await {
        Ok((posted, _)) => {
            let event = format!("ses:{}", message.delivery.ses_message_id);
            let files = &message.mail.attachments;
            // A reply long after the close opened a follow-up: the mail's files and thread go there.
            let (key, comment_id, at) = match &posted {
                Posted::Comment(c) => (key, Some(c.id.as_str()), c.created_at),
                Posted::FollowUp(r) => (r.key.clone(), None, r.created_at),
            };
            attachments::keep(app, &key, comment_id, files, &event, at).await?;
            threads::remember_message(app, &message.mail, &key, message.delivery.ses_message_id).await?;
            Ok(Some(match posted {
                Posted::Comment(_) => Outcome::Appended { request: key },
                Posted::FollowUp(_) => Outcome::Created { request: key },
            }))
        }
        Err(ApiError::NotFound(_) | ApiError::Forbidden(_)) => Ok(None),
        Err(e) => refused(e).map(Some),
    }
}

/// The text after a first line `#note` (any case), when the text starts with one.
fn note_body(text: &str) -> Option<String> {
    let text = text.trim_start();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    first.trim().eq_ignore_ascii_case("#note").then(|| match rest.trim() {
        "" => "(no text)".to_string(),
        note => note.to_string(),
    })
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
    message: &Received<'_>,
    account: Option<User>,
    tokens: &[ReplyToken],
    earlier: Option<crate::model::Request>,
) -> Result<Outcome, ApiError> {
    let (mail, sender) = (&message.mail, &message.sender);
    let envelope: Vec<EmailAddress> =
        message.delivery.recipients.iter().filter_map(|r| EmailAddress::parse(r).ok()).collect();
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
    lookups.extend(blocklist::pattern_keys(sender));
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
    // Opened already by this sender in this project from a copy of the same message.
    if let Some(request) = earlier.filter(|r| r.project == project && r.reporter_email == *sender) {
        return Ok(Outcome::Duplicate { request: request.key });
    }
    if blocklist::verdict(sender, Some(&project), &records) == Some(BlockAction::Reject) {
        return Ok(dropped("blocked"));
    }
    // Held for an agent: an address that may get no account here, or a known one whose
    // sender SES could not authenticate (anyone can write any `From:`).
    // Either way the request belongs to nobody's account until an agent releases it, so the
    // account's owner never sees words someone else put under their name.
    let mut held_because = None;
    let user = match account {
        Some(user) if !message.authenticated && !user.suspended => {
            held_because = Some(format!(
                "Held for review: this came from {sender}, but SES could not authenticate that address (DMARC: {}), so it may not be from them. Nothing was shared, nobody was emailed, and it is not in that account until you release it.",
                message.delivery.verdicts.dmarc
            ));
            User { email: sender.clone(), ..helpdesk_user(app) }
        }
        Some(user) => user,
        None => {
            let candidate = new_user(sender, app.now());
            if may_create_account(&candidate, &[sender], &managed_domains(&records)).is_err() {
                held_because = Some(format!(
                    "Held for review: {sender} wrote in, but {} is a managed domain, where only an app admin can create accounts. They get no email from the helpdesk until an app admin adds them; then share the request with them or answer them directly.",
                    sender.domain()
                ));
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
        description: clean_text(app, &mail.text, MAX_DESCRIPTION, ""),
        form: None,
        fields: Default::default(),
        channel: if held_because.is_some() { Channel::EmailHeldForReview } else { Channel::Email },
        follow_up_of: None,
    };
    let idempotency = Ok(Some(message.idempotency.clone()));
    let request = match create_request(app, &caller, &project, Ok(input), idempotency).await {
        Ok(((_, request), _)) => request,
        Err(e) => return refused(e),
    };
    let ses_id = message.delivery.ses_message_id;
    let event = format!("ses:{ses_id}");
    attachments::keep(app, &request.key, None, &mail.attachments, &event, request.created_at).await?;
    threads::remember_message(app, mail, &request.key, message.delivery.ses_message_id).await?;
    if request.held && held_because.is_none() {
        held_because = Some(format!(
            "Held for review: {sender} is not a customer of this project, which takes requests from its customers only. Release it to take it, or add them as a customer first."
        ));
    }
    if let Some(why) = held_because {
        add_helpdesk_note(app, &request.key, why, &format!("held\n{ses_id}")).await?;
        return Ok(Outcome::Created { request: request.key });
    }
    let copied = Copied { mail, sender: &user, ours: &ours, authenticated: message.authenticated, ses_id };
    add_participants(app, &caller, &request.key, copied).await?;
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

/// The addresses copied on a new request's first message, and what decides their fate.
struct Copied<'a> {
    mail: &'a IncomingMail,
    sender: &'a User,
    /// The helpdesk's support addresses found on the message.
    ours: &'a [EmailAddress],
    authenticated: bool,
    ses_id: &'a str,
}

/// Every other To/Cc address becomes a participant where the sharing rules allow it (as
/// the sender sharing it), and only when the sender is authenticated; the ones skipped are
/// listed, with why, in an internal note.
async fn add_participants(app: &App, caller: &Caller, key: &str, copied: Copied<'_>) -> Result<(), ApiError> {
    let mut others: Vec<EmailAddress> = vec![];
    for raw in copied.mail.to.iter().chain(&copied.mail.cc).take(MAX_ADDRESSES) {
        if let Ok(email) = EmailAddress::parse(raw) {
            let helpdesk = is_helpdesk_address(app, &email) || copied.ours.contains(&email);
            if email != copied.sender.email && !helpdesk && !others.contains(&email) {
                others.push(email);
            }
        }
    }
    if others.is_empty() {
        return Ok(());
    }
    let mut skipped = vec![];
    if !copied.authenticated {
        let why = "not added: SES could not authenticate the sender's address";
        skipped.extend(others.iter().map(|e| format!("- {e}: {why}")));
    } else {
        skipped = share_where_allowed(app, caller, key, &others).await?;
    }
    if !skipped.is_empty() {
        let body =
            format!("These addresses were on the email but were not added as participants:\n{}", skipped.join("\n"));
        add_helpdesk_note(app, key, body, &format!("skipped\n{}", copied.ses_id)).await?;
    }
    Ok(())
}

mod clean;
mod decode;
mod scrub;
mod threads;

#[cfg(test)]
mod tests;
