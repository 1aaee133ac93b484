//! The Lambda handlers on the events in `events/` (API Gateway, SES receipts, DynamoDB stream:
//! the files `cargo lambda invoke` uses), against DynamoDB Local and moto. Placeholders are filled per test.

use helpdesk_tests::events::{event, invoke, invoke_page, typed_event};
use helpdesk_tests::Harness;
use serde_json::json;

#[tokio::test]
async fn the_handlers_answer_their_events() {
    let h = Harness::start().await;
    let ann = h.email("ann");
    let ann_fill = [("ann@example.com", ann.as_str())];

    let (status, _) = invoke(helpdesk_auth::handle, &h.app, event("magic-link", &ann_fill)).await;
    assert_eq!(status, 202);
    let link = h.magic_token(&ann).await.expect("the link was emailed");
    let (status, session) =
        invoke(helpdesk_auth::handle, &h.app, event("create-session", &[("REPLACE_WITH_MAGIC_LINK_TOKEN", &link)]))
            .await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    let as_ann = [("REPLACE_WITH_SESSION_TOKEN", token.as_str())];

    let (status, me) = invoke(helpdesk_auth::handle, &h.app, event("me", &as_ann)).await;
    assert_eq!((status, me["email"].as_str()), (200, Some(ann.as_str())));

    helpdesk_tools::local::seed_demo(&h.app).await.unwrap();
    let (status, created) = invoke(helpdesk_intake::handle, &h.app, event("raise-request", &as_ann)).await;
    assert_eq!((status, created["key"].as_str()), (201, Some("DEMO-1")), "{created}");
    // The same event delivered again (a client retry with its Idempotency-Key): same request.
    let (status, again) = invoke(helpdesk_intake::handle, &h.app, event("raise-request", &as_ann)).await;
    assert_eq!((status, again["key"].as_str()), (200, Some("DEMO-1")));

    let (status, first) = invoke(helpdesk_intake::handle, &h.app, event("reply", &as_ann)).await;
    assert_eq!(status, 201);
    // Delivered twice: the Idempotency-Key makes it one comment.
    let (status, again) = invoke(helpdesk_intake::handle, &h.app, event("reply", &as_ann)).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]));
    let (status, detail) = invoke(helpdesk_intake::handle, &h.app, event("get-request", &as_ann)).await;
    assert_eq!(status, 200);
    assert_eq!(detail["comments"][0]["body"], "Any news?");
    assert_eq!(detail["comments"].as_array().unwrap().len(), 1);

    // Sharing, delivered twice: one participant, one history entry.
    let bob = h.email("bob");
    h.sign_in(&bob).await;
    let share_fill = [
        ("REPLACE_WITH_SESSION_TOKEN", token.as_str()),
        ("bob@example.com", bob.as_str()),
        ("Bob@Example.com", bob.as_str()),
    ];
    for _ in 0..2 {
        let (status, shared) = invoke(helpdesk_sharing::handle, &h.app, event("share", &share_fill)).await;
        assert_eq!((status, &shared["items"]), (200, &serde_json::json!([{"email": bob}])));
    }
    let (_, detail) = invoke(helpdesk_intake::handle, &h.app, event("get-request", &as_ann)).await;
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);

    let (status, refused) = invoke(helpdesk_intake::handle, &h.app, event("project-queue", &as_ann)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")));
    let admin = h.sign_in(helpdesk_tools::local::DEMO_ADMIN).await;
    let (status, queue) =
        invoke(helpdesk_intake::handle, &h.app, event("project-queue", &[("REPLACE_WITH_SESSION_TOKEN", &admin)]))
            .await;
    assert_eq!(status, 200);
    assert_eq!(queue["items"][0]["key"], "DEMO-1");

    // Organizations: create one, set it on the request, read the checklist for Bob.
    let as_admin = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str())];
    let (status, org) = invoke(helpdesk_organizations::handle, &h.app, event("create-organization", &as_admin)).await;
    assert_eq!(status, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let with_org = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("REPLACE_WITH_ORG_ID", org_id.as_str())];
    let (status, set) = invoke(helpdesk_organizations::handle, &h.app, event("set-organization", &with_org)).await;
    assert_eq!((status, set["organization"].as_str()), (200, Some(org_id.as_str())));
    let for_bob = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("bob@example.com", bob.as_str())];
    let (status, checklist) = invoke(helpdesk_organizations::handle, &h.app, event("visibility", &for_bob)).await;
    assert_eq!(
        (status, checklist["verdict"].as_str(), checklist["participant"].as_bool()),
        (200, Some("visible"), Some(true))
    );

    // Moderation: a blocklist rule, then Ann suspended (twice: at-least-once delivery).
    let (status, rule) = invoke(helpdesk_moderation::handle, &h.app, event("add-block-rule", &as_admin)).await;
    assert_eq!((status, rule["rule"].as_str()), (201, Some("reject:*@spam.example")));
    let ann_id = me["id"].as_str().unwrap().to_string();
    let suspend_ann = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("REPLACE_WITH_USER_ID", ann_id.as_str())];
    for _ in 0..2 {
        let (status, done) = invoke(helpdesk_moderation::handle, &h.app, event("suspend", &suspend_ann)).await;
        assert_eq!((status, done["suspended"].as_bool()), (200, Some(true)), "{done}");
    }
    let (status, _) = invoke(helpdesk_auth::handle, &h.app, event("me", &as_ann)).await;
    assert_eq!(status, 401, "the suspended user's session is gone");
}

#[tokio::test]
async fn the_web_handler_answers_its_events() {
    let h = Harness::start().await;
    helpdesk_tools::local::seed_demo(&h.app).await.unwrap();
    let ann = h.sign_in(&h.email("ann")).await;
    let as_ann = [("REPLACE_WITH_SESSION_TOKEN", ann.as_str())];
    let (status, _) = invoke(helpdesk_intake::handle, &h.app, event("raise-request", &as_ann)).await;
    assert_eq!(status, 201);

    // The session arrives in API Gateway's `cookies` field.
    let (status, headers, page) = invoke_page(helpdesk_web::handle, &h.app, event("portal-page", &as_ann)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("DEMO-1"), "{page}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let with_csrf = [("REPLACE_WITH_SESSION_TOKEN", ann.as_str()), ("REPLACE_WITH_CSRF", csrf.as_str())];
    // The same form delivered twice (its nonce): one comment.
    for _ in 0..2 {
        let (status, headers, _) = invoke_page(helpdesk_web::handle, &h.app, event("portal-reply", &with_csrf)).await;
        assert_eq!(status, 303);
        assert!(headers["location"].to_str().unwrap().starts_with("/portal/requests/DEMO-1#c-"));
    }
    let (_, detail) = invoke(helpdesk_intake::handle, &h.app, event("get-request", &as_ann)).await;
    assert_eq!(detail["comments"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail["comments"][0]["body"], "Sent from the portal");

    // Minting is for agents: a customer's event is refused.
    let (status, refused) = invoke(helpdesk_web::handle, &h.app, event("mint-public-links", &as_ann)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")));
    let admin = h.sign_in(helpdesk_tools::local::DEMO_ADMIN).await;
    let (status, minted) =
        invoke(helpdesk_web::handle, &h.app, event("mint-public-links", &[("REPLACE_WITH_SESSION_TOKEN", &admin)]))
            .await;
    assert_eq!(status, 201, "{minted}");
    assert!(minted["items"][0]["url"].as_str().unwrap().starts_with(&format!("{}/p/", h.base)));
}

#[tokio::test]
async fn the_mail_handlers_answer_their_events() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.email("ann");
    // SES stored the message in S3, then invokes the inbound function with its receipt record.
    let raw = format!("From: {ann}\r\nTo: hd@desk.test\r\nSubject: Printer on fire\r\nMessage-ID: <client-1@mail.example.com>\r\n\r\nIt smokes.\r\n");
    let key = format!("{}ses-message-1", h.local_mail.mail.prefix);
    h.local_mail
        .s3
        .put_object()
        .bucket(&h.local_mail.mail.bucket)
        .key(&key)
        .body(raw.into_bytes().into())
        .send()
        .await
        .unwrap();
    let receipt = [("__FROM__", ann.as_str()), ("__TO__", "hd@desk.test"), ("__MESSAGE_ID__", "ses-message-1")];
    let inbound =
        helpdesk_inbound::Inbound { app: h.app.clone(), s3: h.local_mail.s3.clone(), mail: h.local_mail.mail.clone() };
    for _ in 0..2 {
        let outcomes = helpdesk_inbound::handle(&inbound, typed_event("ses-receipt", &receipt)).await.unwrap();
        assert_eq!(outcomes, vec![helpdesk::domain::inbound::Outcome::Created { request: "HD-1".into() }]);
    }
    // A receipt whose message is not in S3: dropped, not retried.
    let missing = [("__FROM__", ann.as_str()), ("__TO__", "hd@desk.test"), ("__MESSAGE_ID__", "never-stored")];
    let outcomes = helpdesk_inbound::handle(&inbound, typed_event("ses-receipt", &missing)).await.unwrap();
    assert_eq!(outcomes, vec![helpdesk::domain::inbound::Outcome::Dropped { reason: "raw_message_missing".into() }]);

    // The stream delivers a signing-keys change (never decoded), an internal note and a reply.
    let reply =
        h.ok("POST", "/requests/HD-1/comments", Some(&admin), Some(json!({"body": "Turn it off and on again."}))).await;
    let agent = h.call("GET", "/me", Some(&admin), None).await.body;
    let fill = [
        ("__REQUEST__", "HD-1"),
        ("__NOTE_ID__", "01J0000000000000000000000N"),
        ("__COMMENT_ID__", reply.body["id"].as_str().unwrap()),
        ("__AUTHOR_ID__", agent["id"].as_str().unwrap()),
        ("__AUTHOR_EMAIL__", agent["email"].as_str().unwrap()),
    ];
    // SES refuses: the batch reports the reply's record (sequence 300) as failed, not the
    // whole batch, and nothing counts as sent.
    let mut refusing = h.app.clone();
    refusing.mailer = std::sync::Arc::new(helpdesk::mailer::NoMail);
    let answer = helpdesk_notifier::handle(&refusing, typed_event("stream-comments", &fill)).await;
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "300"}]}));
    for _ in 0..2 {
        let answer = helpdesk_notifier::handle(&h.app, typed_event("stream-comments", &fill)).await;
        assert_eq!(answer, json!({"batchItemFailures": []}));
    }
    let mail = h.raw_mail_to(&ann).await;
    assert_eq!(mail.len(), 1, "one email for the reply, none for the note, none twice");
    assert!(mail[0].contains("Turn it off and on again.") && !mail[0].contains("rude"));
}
