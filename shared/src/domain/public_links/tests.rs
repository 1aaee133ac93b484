use super::*;
use crate::testing::Desk;

async fn desk_with_request() -> (Desk, Caller, Caller, String) {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let agent = desk.staff("agent@example.com", "HD", crate::model::ProjectRole::Agent).await;
    let ann = desk.sign_in("ann@example.com").await;
    let key = desk.raise(&ann, "HD", "printer").await.key;
    (desk, agent, ann, key)
}

#[tokio::test]
async fn a_link_shows_the_public_thread_and_takes_a_reply_from_the_right_address() {
    let (desk, agent, _, key) = desk_with_request().await;
    let app = &desk.app;
    requests::add_comment(
        app,
        &agent,
        &key,
        Ok(NewComment { body: "note".into(), internal: true, seen_version: None, attachments: vec![] }),
        Ok(None),
    )
    .await
    .unwrap();
    let links = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap();
    assert_eq!(links.len(), 1);
    let token = &links[0].token;
    let page = open(app, token).await.unwrap();
    assert_eq!(page.detail.viewer, Viewer::Customer);
    assert!(page.detail.comments.is_empty(), "internal notes never show");
    assert_eq!(
        reply(app, token, "eve@example.com", None, Ok("hi".into()), &[], Ok(None)).await.unwrap_err().code(),
        "wrong_email"
    );
    let answered = reply(app, token, " ANN@example.com", None, Ok("thanks".into()), &[], Ok(None)).await.unwrap().0;
    assert_eq!(answered.detail.comments[0].author_email.as_str(), "ann@example.com");
    let page = open(app, token).await.unwrap();
    assert_eq!(page.detail.comments, answered.detail.comments);
    assert_eq!(page.detail.comments.len(), 1);
    assert_eq!(page.author(&page.detail.comments[0]), PublicAuthor::You);
    // Not an address: refused without counting toward the lock.
    for bad in ["", "nobody"] {
        assert_eq!(
            reply(app, token, bad, None, Ok("x".into()), &[], Ok(None)).await.unwrap_err().code(),
            "invalid_email"
        );
    }
    assert_eq!(set_status(app, token, RequestStatus::Closed).await.unwrap().status, RequestStatus::Closed);
}

#[tokio::test]
async fn revoked_expired_altered_or_locked_links_are_the_same_404() {
    let (desk, agent, ann, key) = desk_with_request().await;
    let app = &desk.app;
    let token = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap().remove(0).token;
    let mut altered = token.clone();
    altered.insert(altered.len() - 2, 'x');
    assert_eq!(open(app, &altered).await.unwrap_err(), ApiError::NotFound("page"));
    // Customers cannot mint or revoke.
    assert_eq!(mint(app, &ann, &key, Ok(MintInput::default())).await.unwrap_err().status(), 403);
    assert_eq!(revoke(app, &ann, &key).await.unwrap_err().status(), 403);
    revoke(app, &agent, &key).await.unwrap();
    assert_eq!(open(app, &token).await.unwrap_err(), ApiError::NotFound("page"));

    let token = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap().remove(0).token;
    for _ in 0..MAX_WRONG_EMAILS {
        assert_eq!(
            reply(app, &token, "eve@example.com", None, Ok("x".into()), &[], Ok(None)).await.unwrap_err().code(),
            "wrong_email"
        );
    }
    assert_eq!(open(app, &token).await.unwrap_err(), ApiError::NotFound("page"), "locked");

    // Good until the second it expires, not at it. (Minted a second later: a link minted
    // in the same second for the same recipient is the same token, and that one is locked.)
    app.clock.advance(1);
    let token = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap().remove(0).token;
    // Thirty days of 86 400 seconds, written out: a wrong `DAY` cannot agree with itself.
    app.clock.advance(30 * 86_400 - 1);
    let early = open(app, &token).await;
    assert!(early.is_ok(), "a second before it expires: {:?}", early.err());
    app.clock.advance(1);
    assert_eq!(open(app, &token).await.unwrap_err(), ApiError::NotFound("page"), "expired");
}

#[tokio::test]
async fn a_link_dies_with_the_portal_its_recipients_party_or_their_account() {
    let (desk, agent, _, key) = desk_with_request().await;
    let app = &desk.app;
    desk.sign_in("bob@example.com").await;
    let share = crate::participants::ShareInput { emails: vec!["bob@example.com".into()] };
    crate::participants::share(app, &agent, &key, Ok(share)).await.unwrap();
    let links = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap();
    let (ann_link, bob_link) = (&links[0].token, &links[1].token);
    assert_eq!(links[1].email.as_str(), "bob@example.com");
    assert!(open(app, bob_link).await.is_ok());

    // Removed as a participant: Bob's link is dead, Ann's is not.
    crate::participants::unshare(app, &agent, &key, "bob@example.com").await.unwrap();
    assert_eq!(open(app, bob_link).await.unwrap_err(), ApiError::NotFound("page"));
    assert!(open(app, ann_link).await.is_ok());

    // The public portal turned off, then on again.
    let portal = |public| crate::projects::ProjectPatch {
        portal: Some(crate::projects::PortalPatch { public: Some(public), ..Default::default() }),
        ..Default::default()
    };
    crate::projects::update_project(app, &desk.admin, "HD", Ok(portal(false))).await.unwrap();
    assert_eq!(open(app, ann_link).await.unwrap_err(), ApiError::NotFound("page"));
    crate::projects::update_project(app, &desk.admin, "HD", Ok(portal(true))).await.unwrap();
    assert!(open(app, ann_link).await.is_ok());

    // Its recipient suspended: nothing.
    let ann_id = open(app, ann_link).await.unwrap().recipient.id;
    let Some(Record::User(ann)) = app.store.get(&user_key(&ann_id)).await.unwrap() else { panic!("ann") };
    let suspended = Record::User(User { suspended: true, version: ann.version + 1, ..ann });
    app.store.transact(vec![Write::Put { record: suspended, condition: Condition::None }]).await.unwrap();
    assert_eq!(open(app, ann_link).await.unwrap_err(), ApiError::NotFound("page"));
}

#[tokio::test]
async fn links_go_only_to_parties_and_only_while_they_are() {
    let (desk, agent, _, key) = desk_with_request().await;
    let app = &desk.app;
    let wrong = MintInput { emails: Some(vec!["eve@example.com".into()]) };
    assert_eq!(mint(app, &agent, &key, Ok(wrong)).await.unwrap_err().code(), "not_a_party");
    let link = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap().remove(0);
    let payload = signing::verify(app, PURPOSE, &link.token).await.unwrap().unwrap();
    let parsed = PublicLink::parse(&payload).unwrap();
    assert_eq!(parsed.request, key);
    // The token names neither the address nor the account (its payload is only base64),
    // nor anything a guess of the address could be tested against offline.
    let ann = open(app, &link.token).await.unwrap().recipient;
    assert!(!payload.contains("ann@example.com") && !payload.contains(&ann.id), "{payload}");
    assert!(!link.token.contains("YW5uQGV4YW1wbGUuY29t"), "{}", link.token);
    assert_eq!(payload.split('\n').count(), 4, "request, recipient signature, expiry, generation: {payload}");
    // Another party's signature in the same place is not this link.
    let bob = PublicLink { recipient: "k1.aaaaaaaaaaaaaaaa".into(), ..parsed.clone() };
    assert!(!bob.names(app, &ann.id).await.unwrap());
    assert!(parsed.names(app, &ann.id).await.unwrap());
    assert!(!parsed.names(app, "01OTHERUSER").await.unwrap());
    assert_eq!(PublicLink::parse(&format!("{}\nextra", parsed.payload())), None);
}

#[tokio::test]
async fn a_lock_stops_every_reader_but_the_reply_that_proved_the_address() {
    let (desk, agent, _, key) = desk_with_request().await;
    let app = &desk.app;
    let token = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap().remove(0).token;
    // A parallel wrong guess locks the link while a right one is being answered.
    lock(app, &open(app, &token).await.unwrap()).await.unwrap();
    assert_eq!(open(app, &token).await.unwrap_err(), ApiError::NotFound("page"));
    assert!(load(app, &token, Lock::Passed).await.is_ok(), "the answer to the reply still shows");
}

#[tokio::test]
async fn a_mint_names_1_to_100_addresses() {
    let (desk, agent, _, key) = desk_with_request().await;
    let app = &desk.app;
    let mint_to = |count: usize| MintInput { emails: Some(vec!["ann@example.com".to_string(); count]) };
    for count in [0, 101] {
        let refused = mint(app, &agent, &key, Ok(mint_to(count))).await.unwrap_err();
        assert_eq!(refused.code(), "invalid_field", "{count} addresses");
    }
    // The same party named 100 times: one link.
    assert_eq!(mint(app, &agent, &key, Ok(mint_to(100))).await.unwrap().len(), 1);
}

/// The address typed on a link must be its recipient's: the one the request names them
/// by, their account's primary, or a verified secondary; never another party's address.
#[tokio::test]
async fn a_link_takes_only_its_recipients_own_addresses() {
    let (desk, agent, ann, key) = desk_with_request().await;
    let app = &desk.app;
    desk.sign_in("bob@example.com").await;
    let share = crate::participants::ShareInput { emails: vec!["bob@example.com".into()] };
    let (request, _) = crate::participants::share(app, &agent, &key, Ok(share)).await.unwrap();
    let email = |raw: &str| EmailAddress::parse(raw).unwrap();
    let mut ann = crate::auth::me(app, &ann).await.unwrap();
    assert!(sent_to(&ann, &request, &email("ann@example.com")));
    assert!(!sent_to(&ann, &request, &email("bob@example.com")), "another party's address");
    ann.secondary_emails = vec![
        crate::model::SecondaryEmail { email: email("ann.home@example.org"), verified: true, added_at: 0 },
        crate::model::SecondaryEmail { email: email("ann.new@example.org"), verified: false, added_at: 0 },
    ];
    assert!(sent_to(&ann, &request, &email("ann.home@example.org")), "a verified secondary address");
    assert!(!sent_to(&ann, &request, &email("ann.new@example.org")), "a pending one");
    assert!(!sent_to(&ann, &request, &email("eve@example.com")));
    // An account whose primary is no longer the address the request names: both count.
    let moved = User { email: email("ann@new.example"), ..ann };
    assert!(sent_to(&moved, &request, &email("ann@example.com")), "the request's address");
    assert!(sent_to(&moved, &request, &email("ann@new.example")), "the account's primary");
}

/// A reply that typed the address leaves a proof that stands for it on the recipient's links
/// (and nobody else's) until it expires; a forged or altered one is nothing.
#[tokio::test]
async fn a_remembered_proof_stands_for_the_typed_address_and_nothing_else() {
    let (desk, agent, _, key) = desk_with_request().await;
    let app = &desk.app;
    desk.sign_in("bob@example.com").await;
    let share = crate::participants::ShareInput { emails: vec!["bob@example.com".into()] };
    crate::participants::share(app, &agent, &key, Ok(share)).await.unwrap();
    let links = mint(app, &agent, &key, Ok(MintInput::default())).await.unwrap();
    let (ann_link, bob_link) = (&links[0].token, &links[1].token);
    let page = open(app, ann_link).await.unwrap();
    assert_eq!(remember(app, &page, "bob@example.com").await.unwrap(), None, "not the recipient's");
    let proof = remember(app, &page, "ANN@example.com").await.unwrap().unwrap();
    let address = remembered_address(app, &page, Some(&proof)).await.unwrap();
    assert_eq!(address.as_ref().map(|a| a.as_str()), Some("ann@example.com"));
    let (_, posted) = reply(app, ann_link, "", Some(&proof), Ok("again".into()), &[], Ok(None)).await.unwrap();
    assert!(matches!(posted, requests::Posted::Comment(_)));
    // On Bob's link it is nothing: the address is asked for.
    let bobs = open(app, bob_link).await.unwrap();
    assert_eq!(remembered_address(app, &bobs, Some(&proof)).await.unwrap(), None);
    let refused = reply(app, bob_link, "", Some(&proof), Ok("x".into()), &[], Ok(None)).await.unwrap_err();
    assert_eq!(refused.code(), "invalid_email");
    // Altered, signed for something else, or unsigned: nothing.
    let mut altered = proof.clone();
    altered.insert(altered.len() - 3, 'x');
    let other_purpose =
        signing::sign(app, PURPOSE, &format!("{}\nann@example.com\n9999999999", page.recipient.id)).await.unwrap();
    for forged in [altered, other_purpose, "ann@example.com".to_string()] {
        assert_eq!(remembered_address(app, &page, Some(&forged)).await.unwrap(), None, "{forged}");
    }
    // Stale: nothing from its expiry second on.
    app.clock.advance(REMEMBER_SECS - 1);
    assert!(remembered_address(app, &page, Some(&proof)).await.unwrap().is_some(), "a second before");
    app.clock.advance(1);
    assert_eq!(remembered_address(app, &page, Some(&proof)).await.unwrap(), None);
}
