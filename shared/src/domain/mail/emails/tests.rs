use super::*;
use crate::domain::inbound::{receive, Delivery, Outcome, Verdicts};
use crate::testing::Desk;

fn token_in(desk: &Desk, to: &str) -> String {
    let mail = desk.outbox.sent().into_iter().rev().find(|m| m.to == to).expect("a mail to the new address");
    let link = mail.text.split("\n\n").nth(2).unwrap().trim();
    link.split("token=").nth(1).expect("a confirmation link").to_string()
}

fn add(email: &str) -> Input<NewEmail> {
    Ok(NewEmail { email: email.into() })
}

#[tokio::test]
async fn a_verified_secondary_address_is_the_accounts_for_mail_in() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let ann = desk.sign_in("ann@example.com").await;
    let user = add_email(&desk.app, &ann, add("Ann.Home@Example.org")).await.unwrap();
    assert_eq!(user.secondary_emails.len(), 1);
    assert!(!user.secondary_emails[0].verified);
    let token = token_in(&desk, "ann.home@example.org");
    // Someone else's session cannot spend it; a made-up token is refused.
    let bob = desk.sign_in("bob@example.com").await;
    let wrong = verify_email(&desk.app, &bob, Ok(VerifyEmail { token: token.clone() })).await.unwrap_err();
    assert_eq!(wrong.code(), "invalid_token");
    let made_up = verify_email(&desk.app, &ann, Ok(VerifyEmail { token: "x".repeat(43) })).await.unwrap_err();
    assert_eq!(made_up.code(), "invalid_token");
    let user = verify_email(&desk.app, &ann, Ok(VerifyEmail { token: token.clone() })).await.unwrap();
    assert!(user.secondary_emails[0].verified);
    let told = desk.outbox.sent().into_iter().rev().find(|m| m.to == "ann@example.com").unwrap();
    assert!(told.text.starts_with("ann.home@example.org is now a secondary address"), "{}", told.text);
    // Single use.
    let again = verify_email(&desk.app, &ann, Ok(VerifyEmail { token })).await.unwrap_err();
    assert_eq!(again.code(), "invalid_token");
    // Mail from it opens a request as Ann; notifications would go to her primary address.
    let raw = b"From: ann.home@example.org\r\nTo: hd@desk.example\r\nSubject: From home\r\n\r\nHi\r\n";
    let delivery = Delivery {
        ses_message_id: "ses-1",
        recipients: vec!["hd@desk.example".into()],
        verdicts: Verdicts::pass(),
        envelope_from: None,
        raw,
    };
    assert_eq!(receive(&desk.app, delivery).await.unwrap(), Outcome::Created { request: "HD-1".into() });
    let Some(Record::Request(request)) = desk.app.store.get(&crate::items::request_key("HD-1")).await.unwrap() else {
        panic!()
    };
    assert_eq!((request.reporter_id, request.reporter_email.as_str()), (user.id.clone(), "ann@example.com"));
    // Bob cannot claim it: it gets him no token (and the answer does not say why).
    let bobs = add_email(&desk.app, &bob, add("ann.home@example.org")).await.unwrap();
    assert!(!bobs.secondary_emails[0].verified);
    assert_eq!(desk.outbox.sent().iter().filter(|m| m.to == "ann.home@example.org").count(), 1);
    // Removed, it is nobody's again; the primary cannot be removed.
    let user = remove_email(&desk.app, &ann, "ann.home@example.org").await.unwrap();
    assert!(user.secondary_emails.is_empty());
    let owner = desk.app.store.get(&email_key("ann.home@example.org")).await.unwrap();
    assert_eq!(owner, None);
    assert_eq!(remove_email(&desk.app, &ann, "ann@example.com").await.unwrap_err().code(), "primary_email");
}

#[tokio::test]
async fn limits_and_rules_hold() {
    let desk = Desk::new().await;
    let ann = desk.sign_in("ann@example.com").await;
    for i in 0..MAX_SECONDARY_EMAILS {
        add_email(&desk.app, &ann, add(&format!("a{i}@example.org"))).await.unwrap();
    }
    let over = add_email(&desk.app, &ann, add("one-more@example.org")).await.unwrap_err();
    assert_eq!(over.code(), "too_many_emails");
    assert_eq!(add_email(&desk.app, &ann, add("not an address")).await.unwrap_err().code(), "invalid_email");
    assert_eq!(
        add_email(&desk.app, &Caller::Anonymous, add("x@example.org")).await.unwrap_err(),
        ApiError::Unauthorized
    );
    // Adding its own primary changes nothing (safe to retry); a pending one again would mail
    // a new link, past this hour's limit now.
    let (user, added) = add_address(&desk.app, &ann, add("Ann@example.com")).await.unwrap();
    assert_eq!((user.secondary_emails.len(), added), (MAX_SECONDARY_EMAILS, Added::AlreadyYours));
    let again = add_email(&desk.app, &ann, add("a0@example.org")).await.unwrap_err();
    assert_eq!(again.code(), "rate_limited");
}

/// Asked again for a pending address, a new link is mailed; either link confirms it once,
/// the other then changes nothing. Reading a link's address spends nothing.
#[tokio::test]
async fn a_pending_address_gets_a_new_link_and_reading_one_spends_nothing() {
    let desk = Desk::new().await;
    let ann = desk.sign_in("ann@example.com").await;
    let bob = desk.sign_in("bob@example.com").await;
    add_email(&desk.app, &ann, add("ann.home@example.org")).await.unwrap();
    let first = token_in(&desk, "ann.home@example.org");
    let (user, added) = add_address(&desk.app, &ann, add("ann.home@example.org")).await.unwrap();
    assert_eq!((user.secondary_emails.len(), added), (1, Added::Sent));
    let second = token_in(&desk, "ann.home@example.org");
    assert_ne!(first, second);
    for _ in 0..2 {
        let read = pending_address(&desk.app, &ann, &second).await.unwrap();
        assert_eq!(read.map(|e| e.to_string()).as_deref(), Some("ann.home@example.org"));
    }
    assert_eq!(pending_address(&desk.app, &bob, &second).await.unwrap(), None, "not Bob's");
    assert_eq!(pending_address(&desk.app, &ann, "forged").await.unwrap(), None);
    assert_eq!(pending_address(&desk.app, &Caller::Anonymous, &second).await.unwrap_err(), ApiError::Unauthorized);
    let user = verify_email(&desk.app, &ann, Ok(VerifyEmail { token: second })).await.unwrap();
    assert!(user.secondary_emails[0].verified);
    // The older link: the address is confirmed already, nothing more happens.
    assert_eq!(pending_address(&desk.app, &ann, &first).await.unwrap(), None);
    let user = verify_email(&desk.app, &ann, Ok(VerifyEmail { token: first })).await.unwrap();
    assert_eq!(user.secondary_emails.len(), 1);
    let (_, added) = add_address(&desk.app, &ann, add("ann.home@example.org")).await.unwrap();
    assert_eq!(added, Added::AlreadyYours);
}

#[tokio::test]
async fn a_verification_token_works_until_its_expiry_second() {
    let desk = Desk::new().await;
    let ann = desk.sign_in("ann@example.com").await;
    for address in ["a1@example.org", "a2@example.org"] {
        add_email(&desk.app, &ann, add(address)).await.unwrap();
    }
    let (early, late) = (token_in(&desk, "a1@example.org"), token_in(&desk, "a2@example.org"));
    // A day, written out.
    desk.app.clock.advance(24 * 3600 - 1);
    verify_email(&desk.app, &ann, Ok(VerifyEmail { token: early })).await.unwrap();
    desk.app.clock.advance(1);
    let expired = verify_email(&desk.app, &ann, Ok(VerifyEmail { token: late })).await.unwrap_err();
    assert_eq!(expired.code(), "invalid_token");
}

/// Two accounts asked for the same address before either proved it: the second proof finds
/// it taken.
#[tokio::test]
async fn an_address_proved_by_one_account_cannot_be_proved_by_another() {
    let desk = Desk::new().await;
    let ann = desk.sign_in("ann@example.com").await;
    let bob = desk.sign_in("bob@example.com").await;
    add_email(&desk.app, &ann, add("shared@example.org")).await.unwrap();
    let anns = token_in(&desk, "shared@example.org");
    add_email(&desk.app, &bob, add("shared@example.org")).await.unwrap();
    let bobs = token_in(&desk, "shared@example.org");
    verify_email(&desk.app, &ann, Ok(VerifyEmail { token: anns })).await.unwrap();
    let taken = verify_email(&desk.app, &bob, Ok(VerifyEmail { token: bobs })).await.unwrap_err();
    assert_eq!(taken.code(), "email_taken");
}

/// A change made from a copy of the user read before another change is redone on the user as
/// it is now (and moves its version), unless the account was suspended meanwhile.
#[tokio::test]
async fn a_change_from_a_stale_user_is_redone_on_the_current_one_unless_suspended() {
    let desk = Desk::new().await;
    let ann = desk.sign_in("ann@example.com").await;
    let stale = crate::auth::me(&desk.app, &ann).await.unwrap();
    let put = |user: User| Write::Put { record: Record::User(user), condition: Condition::None };
    let named = User { name: Some("Ann".into()), version: stale.version + 1, ..stale.clone() };
    desk.app.store.transact(vec![put(named)]).await.unwrap();
    let pending =
        SecondaryEmail { email: EmailAddress::parse("a1@example.org").unwrap(), verified: false, added_at: 0 };
    let add_pending = |u: &mut User| u.secondary_emails.push(pending.clone());
    let changed = change_user(&desk.app, stale.clone(), add_pending, Vec::new).await.unwrap();
    assert_eq!(
        (changed.name.as_deref(), changed.secondary_emails.len(), changed.version),
        (Some("Ann"), 1, stale.version + 2)
    );
    let suspended = User { suspended: true, version: changed.version + 1, ..changed.clone() };
    desk.app.store.transact(vec![put(suspended)]).await.unwrap();
    let refused = change_user(&desk.app, changed, add_pending, Vec::new).await.unwrap_err();
    assert_eq!(refused, ApiError::Unauthorized);
}
