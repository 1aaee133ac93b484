use super::*;
use crate::domain::inbound::{receive, Delivery, Outcome, Verdicts};
use crate::testing::Desk;

fn token_in(desk: &Desk, to: &str) -> String {
    let mail = desk.outbox.sent().into_iter().rev().find(|m| m.to == to).expect("a mail to the new address");
    mail.text.split("\n\n").nth(2).unwrap().trim().to_string()
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
    // Adding an address it already has changes nothing (safe to retry).
    let user = add_email(&desk.app, &ann, add("a0@example.org")).await.unwrap();
    assert_eq!(user.secondary_emails.len(), MAX_SECONDARY_EMAILS);
}
