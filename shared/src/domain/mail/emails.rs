//! Secondary addresses (seed 002): a user adds one, proves it by a token mailed to it (single
//! use, 24 hours), and from then on mail from it counts as theirs. The address then belongs to
//! that account alone (its `EmailOwner` item); notifications still go to the primary address,
//! which is told when an address joins the account. Suspension covers every address, since
//! every address resolves to the one (suspended) account.

use crate::domain::blocklist;
use crate::domain::caller::{resolve, Caller};
use crate::domain::email::EmailAddress;
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{email_key, email_verification_key, user_key};
use crate::mailer::Email;
use crate::model::{EmailOwner, EmailVerification, Record, SecondaryEmail, User};
use crate::store::{Condition, Counter, StoreError, Write};
use crate::text::{new_secret, sha256_hex};
use crate::App;
use serde::Deserialize;

pub const VERIFY_TTL_SECS: i64 = 24 * 3600;
pub const MAX_SECONDARY_EMAILS: usize = 5;
/// Verification mails a user may cause in an hour.
pub const VERIFY_MAILS_PER_HOUR: u32 = 5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEmail {
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    pub token: String,
}

/// What adding an address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A confirmation link is on its way (unless the address is another account's: the
    /// answer is the same, so it tells nobody whether an address has an account).
    Sent,
    /// The primary address or a confirmed secondary one: nothing to do.
    AlreadyYours,
}

/// `add_address` for the API, which answers with the addresses only.
pub async fn add_email(app: &App, caller: &Caller, input: Input<NewEmail>) -> Result<User, ApiError> {
    Ok(add_address(app, caller, input).await?.0)
}

/// Adds a pending secondary address and mails a confirmation link to it; asked again for one
/// still pending, mails a new link (the earlier one stays good until it expires). Answers the
/// same whether or not the address already belongs to someone (no account discovery): an
/// address taken by another account gets no token, so it never verifies.
pub async fn add_address(app: &App, caller: &Caller, input: Input<NewEmail>) -> Result<(User, Added), ApiError> {
    caller.require_claim()?;
    let email = input.and_then(|i| EmailAddress::parse(&i.email));
    let mut keys = email.as_ref().map(blocklist::pattern_keys).unwrap_or_default();
    keys.extend(email.as_ref().ok().map(|e| email_key(e.as_str())));
    let (actor, records) = resolve(app, caller, &keys).await?;
    let email = email?;
    let user = actor.user;
    blocklist::refuse_rejected(&email, None, &records)?;
    let pending = user.secondary_emails.iter().find(|s| s.email == email).map(|s| !s.verified);
    if user.email == email || pending == Some(false) {
        return Ok((user, Added::AlreadyYours));
    }
    if pending.is_none() && user.secondary_emails.len() >= MAX_SECONDARY_EMAILS {
        return Err(ApiError::invalid(
            "too_many_emails",
            format!("an account has at most {MAX_SECONDARY_EMAILS} secondary addresses; remove one first"),
        ));
    }
    let counter = Counter::hourly("verify", &user.id, VERIFY_MAILS_PER_HOUR, app.now());
    if !app.store.bump(&counter).await? {
        return Err(ApiError::Refused {
            code: "rate_limited",
            message: "too many verification emails in the last hour; try again later".into(),
        });
    }
    let taken = records.iter().any(|r| matches!(r, Record::EmailOwner(o) if o.email == email));
    let now = app.now();
    let token = new_secret();
    let verification = EmailVerification {
        token_hash: sha256_hex(&token),
        user_id: user.id.clone(),
        email: email.clone(),
        expires_at: now + VERIFY_TTL_SECS,
    };
    let token_put = || match taken {
        true => vec![],
        false => vec![Write::Put {
            record: Record::EmailVerification(verification.clone()),
            condition: Condition::NotExists,
        }],
    };
    let user = if pending.is_some() {
        // A new link for a pending address: only its token is written.
        let writes = token_put();
        if !writes.is_empty() {
            app.store.transact(writes).await?;
        }
        user
    } else {
        let added = SecondaryEmail { email: email.clone(), verified: false, added_at: now };
        change_user(app, user, |u| u.secondary_emails.push(added.clone()), token_put).await?
    };
    if !taken {
        let link = format!("{}{}", app.config.public_base_url, confirm_path(&token));
        let mail = Email {
            to: email.to_string(),
            subject: "Confirm this address for your helpdesk account".into(),
            text: format!(
                "{} asked to add this address to their helpdesk account. Mail from it will then count as theirs.\n\nTo confirm, open this link and press the button, signed in as {} (valid 24 hours, usable once):\n\n{link}\n\nIf you did not ask for it, ignore this email.",
                user.email, user.email
            ),
        };
        if let Err(e) = app.mailer.send(mail).await {
            tracing::error!(error = %e, "verification email not sent");
        }
    }
    Ok((user, Added::Sent))
}

/// The page that confirms an address with its token (opening it spends nothing).
pub fn confirm_path(token: &str) -> String {
    format!("/portal/account/confirm?token={token}")
}

/// The address a verification token would add to the caller's account, if the token is
/// live, theirs, and the address still waits on it. Reads only: mail scanners open links.
pub async fn pending_address(app: &App, caller: &Caller, token: &str) -> Result<Option<EmailAddress>, ApiError> {
    caller.require_claim()?;
    let key = email_verification_key(&sha256_hex(token.trim()));
    let (actor, records) = resolve(app, caller, &[key]).await?;
    let now = app.now();
    Ok(records.into_iter().find_map(|r| match r {
        Record::EmailVerification(v)
            if v.user_id == actor.user.id
                && v.expires_at > now
                && actor.user.secondary_emails.iter().any(|s| s.email == v.email && !s.verified) =>
        {
            Some(v.email)
        }
        _ => None,
    }))
}

/// Spends a verification token: the address joins the caller's account (and no other).
pub async fn verify_email(app: &App, caller: &Caller, input: Input<VerifyEmail>) -> Result<User, ApiError> {
    caller.require_claim()?;
    let key = input.as_ref().ok().map(|i| email_verification_key(&sha256_hex(i.token.trim())));
    let (actor, records) = resolve(app, caller, key.as_slice()).await?;
    input?;
    let now = app.now();
    let verification = records
        .into_iter()
        .find_map(|r| match r {
            Record::EmailVerification(v) if v.user_id == actor.user.id && v.expires_at > now => Some(v),
            _ => None,
        })
        .ok_or_else(|| ApiError::invalid("invalid_token", "this token is unknown, used, expired or not yours"))?;
    let email = verification.email.clone();
    if !actor.user.secondary_emails.iter().any(|s| s.email == email) {
        return Err(ApiError::invalid("invalid_token", "this address was removed from your account"));
    }
    // Confirmed already (by a newer link): nothing more to do.
    if actor.user.secondary_emails.iter().any(|s| s.email == email && s.verified) {
        return Ok(actor.user);
    }
    let owner = EmailOwner { email: email.clone(), user_id: actor.user.id.clone() };
    let token_key = email_verification_key(&verification.token_hash);
    let verify = |u: &mut User| {
        for s in u.secondary_emails.iter_mut().filter(|s| s.email == email) {
            s.verified = true;
        }
    };
    let extra = || {
        vec![
            Write::Delete { key: token_key.clone(), condition: Condition::ExistsUnexpired(now) },
            Write::Put { record: Record::EmailOwner(owner.clone()), condition: Condition::NotExists },
        ]
    };
    let user = match change_user(app, actor.user, verify, extra).await {
        Err(ApiError::Conflict { code: "email_changed", .. }) => {
            return Err(ApiError::Conflict {
                code: "email_taken",
                message: format!("{email} already belongs to an account; it cannot be added to a second one"),
            })
        }
        other => other?,
    };
    let told = Email {
        to: user.email.to_string(),
        subject: "An address was added to your helpdesk account".into(),
        text: format!(
            "{email} is now a secondary address of your helpdesk account: mail from it counts as yours. If this was not you, remove it on your account page and tell the support team:\n\n{}/portal/account",
            app.config.public_base_url
        ),
    };
    if let Err(e) = app.mailer.send(told).await {
        tracing::error!(error = %e, "secondary address notice not sent");
    }
    Ok(user)
}

/// Removes a secondary address (pending or verified); the primary cannot be removed. Removing
/// one that is not there changes nothing.
pub async fn remove_email(app: &App, caller: &Caller, raw: &str) -> Result<User, ApiError> {
    caller.require_claim()?;
    let email = EmailAddress::parse(raw);
    let keys: Vec<_> = email.as_ref().ok().map(|e| email_key(e.as_str())).into_iter().collect();
    let (actor, records) = resolve(app, caller, &keys).await?;
    let email = email?;
    if actor.user.email == email {
        return Err(ApiError::invalid("primary_email", "the primary address cannot be removed"));
    }
    if !actor.user.secondary_emails.iter().any(|s| s.email == email) {
        return Ok(actor.user);
    }
    let owned =
        records.iter().any(|r| matches!(r, Record::EmailOwner(o) if o.email == email && o.user_id == actor.user.id));
    // Its `EmailOwner` goes with it: mail from it stops counting as this account's.
    let release = || match owned {
        true => vec![Write::Delete { key: email_key(email.as_str()), condition: Condition::Exists }],
        false => vec![],
    };
    change_user(app, actor.user, |u| u.secondary_emails.retain(|s| s.email != email), release).await
}

/// Writes `change` of a user under optimistic locking with `extra` writes; rereads and redoes
/// when the user changed meanwhile. A failed extra write is `email_changed`.
async fn change_user(
    app: &App,
    mut user: User,
    change: impl Fn(&mut User),
    extra: impl Fn() -> Vec<Write>,
) -> Result<User, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let mut next = user.clone();
        change(&mut next);
        next.version = user.version + 1;
        let mut writes =
            vec![Write::Put { record: Record::User(next.clone()), condition: Condition::VersionIs(user.version) }];
        writes.extend(extra());
        match app.store.transact(writes).await {
            Ok(()) => return Ok(next),
            Err(e) if e.failed_at(0) => {
                user = match app.store.get(&user_key(&user.id)).await? {
                    Some(Record::User(u)) if !u.suspended => u,
                    _ => return Err(ApiError::Unauthorized),
                };
            }
            Err(StoreError::ConditionFailed { .. }) => {
                return Err(ApiError::Conflict {
                    code: "email_changed",
                    message: "the address changed meanwhile; try again".into(),
                })
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;
