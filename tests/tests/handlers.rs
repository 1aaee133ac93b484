//! The functions as Lambda runs them: each `bootstrap` binary polling a Runtime API on
//! loopback, with the template's environment, answering the events in `events/` (API
//! Gateway, SES receipts, DynamoDB stream: the files `cargo lambda invoke` uses) against
//! DynamoDB Local and moto. Placeholders are filled per test.

use helpdesk_tests::events::filled;
use helpdesk_tests::runtime::{Answer, Function};
use helpdesk_tests::Harness;
use serde_json::{json, Value};

async fn start(h: &Harness, binary: &str) -> Function {
    Function::start(binary, &h.function_env(binary)).await
}

#[tokio::test]
async fn the_functions_answer_their_events() {
    let h = Harness::start().await;
    let mut auth = start(&h, "auth").await;
    let mut intake = start(&h, "intake").await;
    let mut sharing = start(&h, "sharing").await;
    let mut organizations = start(&h, "organizations").await;
    let mut moderation = start(&h, "moderation").await;
    let ann = h.email("ann");
    let ann_fill = [("ann@example.com", ann.as_str())];

    let (status, _) = auth.invoke_http(&filled("magic-link", &ann_fill)).await;
    assert_eq!(status, 202);
    let link = h.magic_token(&ann).await.expect("the link was emailed");
    let (status, session) =
        auth.invoke_http(&filled("create-session", &[("REPLACE_WITH_MAGIC_LINK_TOKEN", &link)])).await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    let as_ann = [("REPLACE_WITH_SESSION_TOKEN", token.as_str())];

    let (status, me) = auth.invoke_http(&filled("me", &as_ann)).await;
    assert_eq!((status, me["email"].as_str()), (200, Some(ann.as_str())));

    helpdesk_tools::local::seed_demo(&h.app).await.unwrap();
    let (status, created) = intake.invoke_http(&filled("raise-request", &as_ann)).await;
    assert_eq!((status, created["key"].as_str()), (201, Some("DEMO-1")), "{created}");
    // The same event delivered again (a client retry with its Idempotency-Key): same request.
    let (status, again) = intake.invoke_http(&filled("raise-request", &as_ann)).await;
    assert_eq!((status, again["key"].as_str()), (200, Some("DEMO-1")));

    let (status, first) = intake.invoke_http(&filled("reply", &as_ann)).await;
    assert_eq!(status, 201);
    // Delivered twice: the Idempotency-Key makes it one comment.
    let (status, again) = intake.invoke_http(&filled("reply", &as_ann)).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]));
    let (status, detail) = intake.invoke_http(&filled("get-request", &as_ann)).await;
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
        let (status, shared) = sharing.invoke_http(&filled("share", &share_fill)).await;
        assert_eq!((status, &shared["items"]), (200, &serde_json::json!([{"email": bob}])));
    }
    let (_, detail) = intake.invoke_http(&filled("get-request", &as_ann)).await;
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);

    let (status, refused) = intake.invoke_http(&filled("project-queue", &as_ann)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")));
    let admin = h.sign_in(helpdesk_tools::local::DEMO_ADMIN).await;
    let (status, queue) = intake.invoke_http(&filled("project-queue", &[("REPLACE_WITH_SESSION_TOKEN", &admin)])).await;
    assert_eq!(status, 200);
    assert_eq!(queue["items"][0]["key"], "DEMO-1");

    // Organizations: create one, set it on the request, read the checklist for Bob.
    let as_admin = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str())];
    let (status, org) = organizations.invoke_http(&filled("create-organization", &as_admin)).await;
    assert_eq!(status, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let with_org = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("REPLACE_WITH_ORG_ID", org_id.as_str())];
    let (status, set) = organizations.invoke_http(&filled("set-organization", &with_org)).await;
    assert_eq!((status, set["organization"].as_str()), (200, Some(org_id.as_str())));
    let for_bob = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("bob@example.com", bob.as_str())];
    let (status, checklist) = organizations.invoke_http(&filled("visibility", &for_bob)).await;
    assert_eq!(
        (status, checklist["verdict"].as_str(), checklist["participant"].as_bool()),
        (200, Some("visible"), Some(true))
    );

    // Moderation: a blocklist rule, then Ann suspended (twice: at-least-once delivery).
    let (status, rule) = moderation.invoke_http(&filled("add-block-rule", &as_admin)).await;
    assert_eq!((status, rule["rule"].as_str()), (201, Some("reject:*@spam.example")));
    let ann_id = me["id"].as_str().unwrap().to_string();
    let suspend_ann = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("REPLACE_WITH_USER_ID", ann_id.as_str())];
    for _ in 0..2 {
        let (status, done) = moderation.invoke_http(&filled("suspend", &suspend_ann)).await;
        assert_eq!((status, done["suspended"].as_bool()), (200, Some(true)), "{done}");
    }
    let (status, _) = auth.invoke_http(&filled("me", &as_ann)).await;
    assert_eq!(status, 401, "the suspended user's session is gone");
}

#[tokio::test]
async fn the_web_function_answers_its_events() {
    let h = Harness::start().await;
    let mut intake = start(&h, "intake").await;
    let mut web = start(&h, "web").await;
    helpdesk_tools::local::seed_demo(&h.app).await.unwrap();
    let ann = h.sign_in(&h.email("ann")).await;
    let as_ann = [("REPLACE_WITH_SESSION_TOKEN", ann.as_str())];
    let (status, _) = intake.invoke_http(&filled("raise-request", &as_ann)).await;
    assert_eq!(status, 201);

    // The session arrives in API Gateway's `cookies` field.
    let (status, headers, page) = web.invoke_page(&filled("portal-page", &as_ann)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("DEMO-1"), "{page}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let with_csrf = [("REPLACE_WITH_SESSION_TOKEN", ann.as_str()), ("REPLACE_WITH_CSRF", csrf.as_str())];
    // The same form delivered twice (its nonce): one comment.
    for _ in 0..2 {
        let (status, headers, _) = web.invoke_page(&filled("portal-reply", &with_csrf)).await;
        assert_eq!(status, 303);
        assert!(headers["location"].starts_with("/portal/requests/DEMO-1?done=replied"));
    }
    let (_, detail) = intake.invoke_http(&filled("get-request", &as_ann)).await;
    assert_eq!(detail["comments"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail["comments"][0]["body"], "Sent from the portal");

    // Minting is for agents: a customer's event is refused.
    let (status, refused) = web.invoke_http(&filled("mint-public-links", &as_ann)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")));
    let admin = h.sign_in(helpdesk_tools::local::DEMO_ADMIN).await;
    let (status, minted) =
        web.invoke_http(&filled("mint-public-links", &[("REPLACE_WITH_SESSION_TOKEN", &admin)])).await;
    assert_eq!(status, 201, "{minted}");
    assert!(minted["items"][0]["url"].as_str().unwrap().starts_with(&format!("{}/p/", h.base)));
}

#[tokio::test]
async fn the_mail_functions_answer_their_events() {
    let h = Harness::start().await;
    let mut inbound = start(&h, "inbound").await;
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
    // Delivered twice (SES retries): one request.
    for _ in 0..2 {
        assert_eq!(inbound.invoke(&filled("ses-receipt", &receipt)).await, Answer::Response(json!({"handled": 1})));
    }
    let queue = h.ok("GET", "/projects/HD/requests", Some(&admin), None).await;
    let keys: Vec<&str> = queue.body["items"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["HD-1"]);
    let request = h.ok("GET", "/requests/HD-1", Some(&admin), None).await;
    assert_eq!(request.body["summary"], "Printer on fire");
    // A receipt whose message is not in S3: handled (dropped, logged), not an error to retry.
    let missing = [("__FROM__", ann.as_str()), ("__TO__", "hd@desk.test"), ("__MESSAGE_ID__", "never-stored")];
    assert_eq!(inbound.invoke(&filled("ses-receipt", &missing)).await, Answer::Response(json!({"handled": 1})));
    assert!(inbound.logs().contains("raw_message_missing"), "{}", inbound.logs());

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
    // SES unreachable: the batch reports the reply's record (sequence 300) as failed, not the
    // whole batch, and nothing counts as sent.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let unreachable = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut env = h.function_env("notifier");
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL_SESV2");
    env.push(("AWS_ENDPOINT_URL_SESV2".into(), unreachable));
    let mut refusing = Function::start("notifier", &env).await;
    let answer = refusing.invoke(&filled("stream-comments", &fill)).await;
    assert_eq!(answer, Answer::Response(json!({"batchItemFailures": [{"itemIdentifier": "300"}]})));
    let mut notifier = start(&h, "notifier").await;
    for _ in 0..2 {
        let answer = notifier.invoke(&filled("stream-comments", &fill)).await;
        assert_eq!(answer, Answer::Response(json!({"batchItemFailures": []})));
    }
    let mail = h.raw_mail_to(&ann).await;
    assert_eq!(mail.len(), 1, "one email for the reply, none for the note, none twice");
    assert!(mail[0].contains("Turn it off and on again.") && !mail[0].contains("rude"));

    // The automations function takes the same batch: the agent's reply (not the note) fires a
    // rule, once however often the batch comes.
    let rule = json!({"name": "Answered", "on": "comment.agent", "actions": [{"type": "add_tag", "tag": "answered"}]});
    h.ok("POST", "/projects/HD/automations", Some(&admin), Some(rule)).await;
    let mut automations = start(&h, "automations").await;
    for _ in 0..2 {
        let answer = automations.invoke(&filled("stream-comments", &fill)).await;
        assert_eq!(answer, Answer::Response(json!({"batchItemFailures": []})));
    }
    // Each batch's changed requests went to the indexer, an asynchronous invoke.
    let handed: Vec<_> =
        h.lambda.received().into_iter().filter(|r| r.header("x-amz-invocation-type") == "Event").collect();
    assert_eq!(handed.len(), 2, "one hand-off per batch");
    assert_eq!(serde_json::from_str::<Value>(&handed[0].body).unwrap(), json!({"requests": ["HD-1"]}));
    let request = h.ok("GET", "/requests/HD-1", Some(&admin), None).await.body;
    assert_eq!(request["tags"], json!(["answered"]));
    let fired = request["history"].as_array().unwrap().iter().filter(|e| e["action"] == "automation").count();
    assert_eq!(fired, 1, "{request}");
    assert!(automations.logs().contains("\"outcome\":\"fired\""), "{}", automations.logs());
}

/// A function whose environment is missing or wrong says so through the Runtime API's
/// `/init/error` and exits, before any event: no panic, no event taken.
#[tokio::test]
async fn a_function_with_a_bad_environment_reports_an_init_error() {
    let h = Harness::start().await;
    let template = helpdesk_tools::template::load();
    for binary in helpdesk_tools::template::binaries(&template) {
        let mut env = h.function_env(&binary);
        env.retain(|(k, _)| k != "TABLE_NAME");
        let (reported, code) = Function::start(&binary, &env).await.init_failure().await;
        let (error_type, body) = reported.unwrap_or_else(|| panic!("{binary} reported no init error"));
        assert_eq!(error_type, "Runtime.InitError", "{binary}");
        assert_eq!(body, json!({"errorType": "InitError", "errorMessage": "configuration: TABLE_NAME must be set"}));
        assert_eq!(code, Some(1), "{binary} exits with an error");
    }
    let bad = [("PUBLIC_BASE_URL", "desk.example.com", "configuration: PUBLIC_BASE_URL must be an http(s) URL")];
    let missing_bucket = [("INBOUND_BUCKET", "", "INBOUND_BUCKET must be set")];
    for (binary, (name, value, message)) in [("web", bad[0]), ("inbound", missing_bucket[0])] {
        let mut env = h.function_env(binary);
        env.retain(|(k, _)| k != name);
        env.push((name.into(), value.into()));
        let mut function = Function::start(binary, &env).await;
        let (reported, code) = function.init_failure().await;
        assert_eq!(reported.map(|(_, body)| body["errorMessage"].clone()), Some(json!(message)), "{binary}");
        assert_eq!(code, Some(1));
        assert!(!function.logs().contains("panicked"), "{}", function.logs());
    }
}

/// The scheduler binary takes EventBridge's scheduled event (any content) and answers what
/// its run did; a second run for the same time does nothing more.
#[tokio::test]
async fn the_scheduler_answers_its_scheduled_event() {
    let h = Harness::start().await;
    let mut scheduler = start(&h, "scheduler").await;
    let Answer::Response(first) = scheduler.invoke(&filled("scheduled", &[])).await else { panic!("no answer") };
    assert_eq!((first["alarms"].as_u64(), first["breaches"].as_array().map(Vec::len)), (Some(0), Some(0)), "{first}");
    assert!(first["hours"].as_u64().unwrap() > 24, "a new deployment's first run looks back: {first}");
    let Answer::Response(again) = scheduler.invoke(&filled("scheduled", &[])).await else { panic!("no answer") };
    assert!(again["hours"].as_u64().unwrap() <= 2, "then it starts where it stopped: {again}");
}

/// The webhook sender binary takes the asynchronous invocation's payload (events/
/// webhook-delivery.json), posts the delivery signed, and answers what it did; the same
/// invocation again finds nothing to do.
#[tokio::test]
async fn the_webhook_sender_answers_its_invocation() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let receiver = helpdesk_tests::receiver::Receiver::start(&[200]).await;
    let hook = json!({"url": receiver.url, "events": ["request.created"]});
    h.ok("POST", "/projects/HD/webhooks", Some(&admin), Some(hook)).await;
    h.ok("POST", "/projects/HD/requests", Some(&admin), Some(json!({"summary": "Hook me"}))).await;
    h.run_stream().await;
    let invocation = h.take_webhooks().await.pop().expect("a delivery handed to the sender");
    let fill = |name: &str| invocation[name].as_str().unwrap().to_string();
    let (project, target, delivery) = (fill("project"), fill("target"), fill("delivery"));
    let event =
        filled("webhook-delivery", &[("__PROJECT__", &project), ("__TARGET__", &target), ("__DELIVERY__", &delivery)]);
    let mut sender = start(&h, "webhooks").await;
    assert_eq!(sender.invoke(&event).await, Answer::Response(json!({"outcome": "delivered", "detail": 200})));
    assert_eq!(sender.invoke(&event).await, Answer::Response(json!({"outcome": "nothing", "detail": null})));
    assert_eq!(receiver.received().len(), 1);
    assert!(receiver.received()[0].header("helpdesk-signature").starts_with("t="));
}

/// The indexer binary takes the automations' hand-off (events/index-requests.json), commits
/// the request's document (a pack in the bucket, the pointer in the table) and answers the
/// version; the same invocation again commits again and finds the request once.
#[tokio::test]
async fn the_indexer_answers_its_invocation() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let body = json!({"summary": "Kettle descaling", "description": "Limescale everywhere"});
    h.ok("POST", "/projects/HD/requests", Some(&admin), Some(body)).await;
    let mut indexer = start(&h, "indexer").await;
    for version in [1, 2] {
        let answer = indexer.invoke(&filled("index-requests", &[("__REQUEST__", "HD-1")])).await;
        assert_eq!(answer, Answer::Response(json!({"version": version, "requests": 1, "retries": 0})));
    }
    let found = h.ok("GET", "/projects/HD/search?q=limescale", Some(&admin), None).await.body;
    assert_eq!((found["total"].as_u64(), found["items"][0]["key"].as_str()), (Some(1), Some("HD-1")));
    assert!(indexer.logs().contains("\"function\":\"indexer\""), "{}", indexer.logs());
    // Not the automations' hand-off: an error Lambda retries, then drops to the failed-events queue.
    let answer = indexer.invoke(r#"{"requests": ["not a key"]}"#).await;
    assert!(matches!(answer, Answer::Error(_)), "{answer:?}");
}
