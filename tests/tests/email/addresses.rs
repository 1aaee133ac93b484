//! Secondary addresses: proved by a mailed link, then the account's own; each belongs to one
//! account and its token to one user.

use super::*;

/// The token in the newest verification mail to `to`.
async fn verification_token(h: &Harness, to: &str) -> String {
    h.magic_token(to).await.expect("a verification mail with its link")
}

#[tokio::test]
async fn secondary_addresses_are_proved_by_mail_and_then_count_as_the_account() {
    let d = desk().await;
    let ann = d.h.sign_in(&d.ann).await;
    let (home, work) = (d.h.email("ann-home"), d.h.email("ann-work"));
    for address in [&home, &work] {
        let added = d.h.call("POST", "/me/emails", Some(&ann), Some(json!({"email": address}))).await;
        assert_eq!(added.status, 202, "{added:?}");
        let token = verification_token(&d.h, address).await;
        d.h.ok("POST", "/me/emails/verify", Some(&ann), Some(json!({"token": token}))).await;
    }
    let me = d.h.ok("GET", "/me", Some(&ann), None).await.body;
    let states: Vec<(String, bool, bool)> = me["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["email"].as_str().unwrap().to_string(), e["primary"] == true, e["verified"] == true))
        .collect();
    assert_eq!(states, vec![(d.ann.clone(), true, true), (home.clone(), false, true), (work.clone(), false, true)]);
    let told = d.h.mail_to(&d.ann).await;
    assert!(told.iter().any(|(subject, body)| subject.contains("address was added") && body.contains(&home)));
    // Mail from home is Ann's; the answer goes to her primary address only.
    let raw = format!("From: {home}\r\nTo: {}\r\nSubject: From home\r\nMessage-ID: <h1@x>\r\n\r\nHi\r\n", d.support);
    let key = created(&d.deliver(raw.into_bytes(), "").await);
    assert_eq!(d.request(&key).await["reporter"], d.ann.as_str());
    d.h.ok("POST", &format!("/requests/{key}/comments"), Some(&d.admin), Some(json!({"body": "Hello Ann"}))).await;
    d.notify().await;
    assert_eq!((d.mail_to(&d.ann).await.len(), d.mail_to(&home).await.len()), (1, 0));
    // Removed, home is nobody's: its next mail opens a request for a new account.
    d.h.ok("DELETE", &format!("/me/emails/{home}"), Some(&ann), None).await;
    let raw = format!("From: {home}\r\nTo: {}\r\nSubject: Again\r\nMessage-ID: <h2@x>\r\n\r\nHi\r\n", d.support);
    let other = created(&d.deliver(raw.into_bytes(), "").await);
    assert_eq!(d.request(&other).await["reporter"], home.as_str());
    // Suspending Ann blocks every address she has.
    let me = d.h.ok("GET", "/me", Some(&ann), None).await.body;
    let ann_id = me["id"].as_str().unwrap();
    d.h.ok("POST", &format!("/users/{ann_id}/suspend"), Some(&d.admin), Some(json!({"reason": "abuse"}))).await;
    let raw = format!("From: {work}\r\nTo: {}\r\nSubject: Still me\r\nMessage-ID: <w1@x>\r\n\r\nHi\r\n", d.support);
    assert_eq!(d.deliver(raw.into_bytes(), "").await, json!({"outcome": "dropped", "reason": "sender_suspended"}));
}

#[tokio::test]
async fn a_secondary_address_belongs_to_one_account_and_its_token_to_one_user() {
    let d = desk().await;
    let (ann, bob) = (d.h.sign_in(&d.ann).await, d.h.sign_in(&d.bob).await);
    let shared = d.h.email("shared");
    d.h.ok("POST", "/me/emails", Some(&ann), Some(json!({"email": shared}))).await;
    let token = verification_token(&d.h, &shared).await;
    // Bob holds Ann's token: it is not his.
    let stolen = d.h.call("POST", "/me/emails/verify", Some(&bob), Some(json!({"token": token}))).await;
    assert_eq!((stolen.status, stolen.code()), (422, "invalid_token"));
    d.h.ok("POST", "/me/emails/verify", Some(&ann), Some(json!({"token": token}))).await;
    let reused = d.h.call("POST", "/me/emails/verify", Some(&ann), Some(json!({"token": token}))).await;
    assert_eq!(reused.code(), "invalid_token");
    // Bob asks for the same address: the same answer as any, but no token is ever mailed.
    let before = d.h.mail_to(&shared).await.len();
    let asked = d.h.call("POST", "/me/emails", Some(&bob), Some(json!({"email": shared}))).await;
    assert_eq!(asked.status, 202);
    assert_eq!(d.h.mail_to(&shared).await.len(), before);
    let primary = d.h.call("DELETE", &format!("/me/emails/{}", d.ann), Some(&ann), None).await;
    assert_eq!((primary.status, primary.code()), (422, "primary_email"));
    let anonymous = d.h.call("POST", "/me/emails", None, Some(json!({"email": "x@example.org"}))).await;
    assert_eq!(anonymous.status, 401);
}
