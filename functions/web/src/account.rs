//! The account page (`/portal/account`): the sign-in address and the secondary ones with
//! their state, adding one (a confirmation link is mailed to it, or sent again for one still
//! waiting), removing one; and the page the emailed link opens, whose GET only asks (mail
//! scanners open links) and whose POST confirms.
//!
//! Confirming needs the session of the account that asked, as the API does: the token alone
//! proves the inbox, not that its holder wants the address in *that* account. Someone who
//! adds a stranger's address would otherwise have the stranger's click move the stranger's
//! mail into their account. Opened signed out, the page asks to sign in and comes back.

use crate::page_kit::{chrome, query};
use crate::views::{self, render, Chrome};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::emails::{self, Added, NewEmail, VerifyEmail, MAX_SECONDARY_EMAILS};
use helpdesk::http::Reply;
use helpdesk::{auth, ApiError, App};
use lambda_http::Request;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    notice: Option<String>,
    primary: String,
    /// Secondary addresses and whether each is confirmed.
    secondary: Vec<(String, bool)>,
    max: usize,
    add_value: String,
    add_error: Option<String>,
}

#[derive(Template)]
#[template(path = "account_confirm.html")]
struct ConfirmAddressPage {
    chrome: Chrome,
    token: String,
    email: String,
    primary: String,
}

pub(crate) async fn get(app: &App, req: &Request, v: &Visitor, path: &str) -> Result<Reply, ApiError> {
    let caller = helpdesk::http::page_caller(req, &app.config);
    match path {
        "/portal/account" => {
            let done = query(req, "done").unwrap_or_default();
            let email = query(req, "email").unwrap_or_default();
            account_page(app, v, &caller, 200, Some((done, email)), String::new(), None).await
        }
        "/portal/account/confirm" => {
            let token = query(req, "token").unwrap_or_default();
            let Some(email) = emails::pending_address(app, &caller, &token).await? else {
                return Ok(link_gone(v));
            };
            let page = ConfirmAddressPage {
                chrome: chrome(v, format!("Add {email} to your account?"), None),
                token,
                email: email.to_string(),
                primary: auth::me(app, &caller).await?.email.to_string(),
            };
            Ok(Reply::html(200, render(&page)?))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

pub(crate) async fn post(app: &App, v: &Visitor, caller: &Caller, path: &str, form: &Form) -> Result<Reply, ApiError> {
    let email = form.get("email");
    let back = |done: &str, email: &str| {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("done", done)
            .append_pair("email", email)
            .finish();
        Reply::see_other(format!("/portal/account?{q}"))
    };
    match path {
        "/portal/account/emails" => {
            let resend = form.get("resend") == "1";
            match emails::add_address(app, caller, Ok(NewEmail { email: email.into() })).await {
                Ok((user, Added::AlreadyYours)) => Ok(back("already", &shown(&user, email))),
                Ok((user, Added::Sent)) => Ok(back(if resend { "resent" } else { "added" }, &shown(&user, email))),
                Err(err) => {
                    let Some(message) = add_error(&err) else { return Err(err) };
                    account_page(app, v, caller, err.status(), None, email.into(), Some(message)).await
                }
            }
        }
        "/portal/account/emails/remove" => {
            emails::remove_email(app, caller, email).await?;
            Ok(back("removed", email.trim()))
        }
        "/portal/account/confirm" => {
            match emails::verify_email(app, caller, Ok(VerifyEmail { token: form.get("token").into() })).await {
                Ok(_) => Ok(back("confirmed", email.trim())),
                // Spent, expired, forged or another account's: nothing changed. Spent by this
                // form's first press (a double submit) when the address is already confirmed.
                Err(ApiError::Invalid { code: "invalid_token", .. }) => {
                    let user = auth::me(app, caller).await?;
                    match state_of(&user, &shown(&user, email)) {
                        Some(true) => Ok(back("confirmed", email.trim())),
                        _ => Ok(link_gone(v)),
                    }
                }
                Err(err) => Err(err),
            }
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

/// The address as the account now writes it (the one typed, lower-cased and trimmed).
fn shown(user: &helpdesk::model::User, typed: &str) -> String {
    let typed = typed.trim().to_lowercase();
    let known =
        std::iter::once(user.email.to_string()).chain(user.secondary_emails.iter().map(|s| s.email.to_string()));
    known.into_iter().find(|e| *e == typed).unwrap_or(typed)
}

/// An address of `user`'s: Some(true) confirmed (or the sign-in address), Some(false)
/// waiting for confirmation, None not theirs.
fn state_of(user: &helpdesk::model::User, email: &str) -> Option<bool> {
    if user.email.as_str() == email {
        return Some(true);
    }
    user.secondary_emails.iter().find(|s| s.email.as_str() == email).map(|s| s.verified)
}

/// What the page says after `?done=<action>` (`email` is the address it was about), only
/// when the account agrees: a crafted link cannot make it claim what did not happen.
fn notice(user: &helpdesk::model::User, done: &str, email: &str) -> Option<String> {
    if email.is_empty() {
        return None;
    }
    let email = shown(user, email);
    let agrees = match done {
        "added" | "resent" => state_of(user, &email) == Some(false),
        "already" | "confirmed" => state_of(user, &email) == Some(true),
        "removed" => state_of(user, &email).is_none(),
        _ => false,
    };
    if !agrees {
        return None;
    }
    Some(match done {
        "added" => format!(
            "We emailed a confirmation link to {email}. Open it within 24 hours, signed in as you are now, to add the address."
        ),
        "resent" => format!("We emailed a new confirmation link to {email}."),
        "already" => format!("{email} is already one of your addresses."),
        "removed" => format!("{email} was removed: mail from it no longer counts as yours."),
        "confirmed" => format!("{email} is now one of your addresses: mail from it counts as yours."),
        _ => return None,
    })
}

/// Errors the add form shows under its field, in plain words.
fn add_error(err: &ApiError) -> Option<String> {
    Some(match err.code() {
        "invalid_email" => "Type a whole email address, like name@example.com.".into(),
        "too_many_emails" => {
            format!("Your account already has {MAX_SECONDARY_EMAILS} more addresses, the most it can have. Remove one first.")
        }
        "rate_limited" => "We have sent several confirmation emails in the last hour. Try again later.".into(),
        "blocked" => "This helpdesk does not accept that address.".into(),
        _ => return None,
    })
}

async fn account_page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    status: u16,
    done: Option<(String, String)>,
    add_value: String,
    add_error: Option<String>,
) -> Result<Reply, ApiError> {
    let user = auth::me(app, caller).await?;
    let page = AccountPage {
        chrome: chrome(v, "Your account", None),
        notice: done.and_then(|(done, email)| notice(&user, &done, &email)),
        primary: user.email.to_string(),
        secondary: user.secondary_emails.iter().map(|s| (s.email.to_string(), s.verified)).collect(),
        max: MAX_SECONDARY_EMAILS,
        add_value,
        add_error,
    };
    Ok(Reply::html(status, render(&page)?))
}

/// A confirmation link that cannot be used (any reason): says so and changes nothing.
fn link_gone(v: &Visitor) -> Reply {
    let page = views::ErrorPage {
        chrome: chrome(v, "This link cannot be used", None),
        heading: "This link cannot be used".into(),
        message: "This confirmation link has expired, was already used, or was sent for another account. Nothing was changed. Your addresses are on your account page, where you can ask for a new link.".into(),
        back: "/portal/account",
        back_label: "Go to your account",
    };
    render(&page).map_or_else(|_| Reply::html(410, "This link cannot be used".into()), |html| Reply::html(410, html))
}
