//! A customer's reply to a closed request, through HTTP on DynamoDB Local and moto: within the
//! project's `reopen_days` of the close it opens the request again, by any channel (portal,
//! email, API); later it stays on the closed request. The public page offers Reopen.

use helpdesk::model::{Record, Request};
use helpdesk_tests::Harness;
use serde_json::json;

async fn status_of(h: &Harness, token: &str, key: &str) -> String {
    h.ok("GET", &format!("/requests/{key}"), Some(token), None).await.body["status"].as_str().unwrap().to_string()
}

async fn closed_request(h: &Harness, customer: &str, agent: &str, summary: &str) -> String {
    let made = h.ok("POST", "/projects/HD/requests", Some(customer), Some(json!({"summary": summary}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();
    h.ok("POST", &format!("/requests/{key}/close"), Some(agent), None).await;
    assert_eq!(status_of(h, agent, &key).await, "closed");
    key
}

#[tokio::test]
async fn a_customer_reply_reopens_a_recently_closed_request_by_any_channel() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    assert_eq!(h.ok("GET", "/projects/HD", Some(&admin), None).await.body["reopen_days"], 14);

    // The portal's reply form; Bob shares the request.
    let bob_email = h.email("bob");
    h.sign_in(&bob_email).await;
    let key = closed_request(&h, &ann, &admin, "Printer").await;
    h.ok("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [bob_email]}))).await;
    h.settle_stream().await;
    let cookies = format!("hd_session={ann}");
    let page = h.page("GET", &format!("/portal/requests/{key}"), &cookies, None).await;
    let form = [("csrf", page.csrf()), ("body", "It jammed again".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = h.page("POST", &format!("/portal/requests/{key}/comments"), &cookies, Some(&form)).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(status_of(&h, &admin, &key).await, "open");
    // Reports count it as reopened, once.
    h.settle_stream().await;
    let report = h.ok("GET", "/projects/HD/reports", Some(&admin), None).await.body;
    assert_eq!(report["total"]["reopened"], 1);
    // Bob hears of it once: the reply's email, not also a "reopened" one.
    let told = h.raw_mail_to(&bob_email).await;
    let about = |needle: String| told.iter().filter(|m| m.contains(&needle)).count();
    assert_eq!(about("It jammed again".into()), 1, "{told:?}");
    assert_eq!(about(format!("reopened {key}")), 0, "{told:?}");

    // Email: a reply to the close email's reply address.
    let key = closed_request(&h, &ann, &admin, "Invoice").await;
    h.settle_stream().await;
    let parser = mail_parser::MessageParser::default();
    let raw = h.raw_mail_to(&ann_email).await;
    let close_mail = raw
        .iter()
        .rev()
        .map(|m| parser.parse(m.as_bytes()).unwrap())
        .find(|m| m.subject().is_some_and(|s| s.contains(&key)))
        .expect("the close email");
    let reply_to = close_mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string();
    let reply = format!(
        "From: {ann_email}\r\nTo: {reply_to}\r\nSubject: Re: {key}\r\nMessage-ID: <re-{key}@x>\r\n\r\nStill wrong.\r\n"
    );
    assert_eq!(h.inbound_email(reply, "").await.body["outcome"], "appended");
    assert_eq!(status_of(&h, &admin, &key).await, "open");

    // The public page of a closed request offers Reopen, and it works.
    let key = closed_request(&h, &ann, &admin, "Login").await;
    let minted = h.ok("POST", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    let link = minted.body["items"][0]["url"].as_str().unwrap().strip_prefix(&h.base).unwrap().to_string();
    let page = h.page("GET", &link, "", None).await;
    assert!(page.text.contains(&format!("action=\"{link}/reopen\"")), "{}", page.text);
    let anon = format!("hd_anon={}", page.cookie("hd_anon").unwrap());
    let reopened = h.page("POST", &format!("{link}/reopen"), &anon, Some(&[("csrf", &page.csrf())])).await;
    assert_eq!(reopened.status, 303, "{}", reopened.text);
    assert!(h
        .page("GET", &format!("{link}?done=reopened"), &anon, None)
        .await
        .text
        .contains("The request is open again."));
    assert_eq!(status_of(&h, &admin, &key).await, "open");
}

/// Moves the request's close `days` back, as if it had been closed then.
async fn closed_days_ago(h: &Harness, key: &str, days: i64) {
    let Some(Record::Request(stored)) = h.app.store.get(&helpdesk::items::request_key(key)).await.unwrap() else {
        panic!("the request")
    };
    assert!(stored.closed_at.is_some(), "the close time is kept");
    let old = Request { closed_at: Some(h.app.now() - days * 86_400), ..stored };
    h.app.store.put_all(vec![Record::Request(old)]).await.unwrap();
}

#[tokio::test]
async fn a_reply_after_the_reopen_window_opens_a_follow_up_by_any_channel() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let bob = h.sign_in(&h.email("bob")).await;

    // The API, sent twice with one Idempotency-Key: one follow-up, answered twice.
    let key = closed_request(&h, &ann, &admin, "Old problem").await;
    closed_days_ago(&h, &key, 15).await;
    let body = json!({"body": "It is back."}).to_string();
    let path = format!("/requests/{key}/comments");
    let send = || h.call_raw("POST", &path, Some(&ann), Some(body.clone()), &[("idempotency-key", "late-1")]);
    let first = send().await;
    assert_eq!(first.status, 201, "{}", first.body);
    let follow_up = first.body["key"].as_str().unwrap().to_string();
    assert_ne!(follow_up, key);
    assert_eq!(first.body["follow_up_of"], key.as_str());
    assert_eq!(first.body["summary"], format!("Follow-up to {key}: Old problem"));
    assert_eq!(
        (first.body["description"].as_str(), first.body["status"].as_str()),
        (Some("It is back."), Some("open"))
    );
    let again = send().await;
    assert_eq!((again.status, again.body["key"].as_str()), (200, Some(follow_up.as_str())));
    // The old request stays as it was closed; others may not see the follow-up.
    let old = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    assert_eq!((old["status"].as_str(), old["comment_count"].as_u64()), (Some("closed"), Some(0)));
    assert_eq!(h.call("GET", &format!("/requests/{follow_up}"), Some(&bob), None).await.status, 404);
    let seen = h.ok("GET", &format!("/requests/{follow_up}"), Some(&admin), None).await.body;
    assert_eq!(seen["reporter"], ann_email.as_str());

    // The portal's reply form with a file: the follow-up has the words and the file, and the
    // page says what happened.
    let key = closed_request(&h, &ann, &admin, "Scanner").await;
    closed_days_ago(&h, &key, 30).await;
    let cookies = format!("hd_session={ann}");
    let page = h.page("GET", &format!("/portal/requests/{key}"), &cookies, None).await;
    let fields = vec![("csrf".to_string(), page.csrf()), ("body".to_string(), "Streaks again".to_string())];
    let url = format!("{}/portal/requests/{key}/comments", h.base);
    let form = helpdesk_tests::forms::multipart(&fields, ("scan.png", "image/png", b"\x89PNG scan"));
    let (status, location) = helpdesk_tests::forms::post(&url, &cookies, form).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    let follow_up = location.strip_prefix("/portal/requests/").unwrap().split('?').next().unwrap().to_string();
    assert!(location.ends_with("?done=follow-up"), "{location}");
    let shown = h.page("GET", &location, &cookies, None).await;
    assert!(shown.text.contains(&format!("{key} was closed")), "{}", shown.text);
    assert!(shown.text.contains(&format!("href=\"/portal/requests/{key}\"")), "links the old one: {}", shown.text);
    let seen = h.ok("GET", &format!("/requests/{follow_up}"), Some(&ann), None).await.body;
    assert_eq!(seen["description"], "Streaks again");
    let files = &seen["attachments"];
    assert_eq!(files[0]["name"], "scan.png", "{files}");
    assert_eq!(status_of(&h, &admin, &key).await, "closed");

    // Email: a reply to the old close email opens a follow-up, and the mail's thread goes there.
    let key = closed_request(&h, &ann, &admin, "Invoice").await;
    h.settle_stream().await;
    closed_days_ago(&h, &key, 20).await;
    let reply = format!(
        "From: {ann_email}\r\nTo: {}\r\nSubject: Re: {key}\r\nMessage-ID: <late-{key}@x>\r\n\r\nWrong again.\r\n",
        reply_address(&h, &ann_email, &key).await
    );
    let landed = h.inbound_email(reply.clone(), "message_id=ses-late-1").await.body;
    assert_eq!(landed["outcome"], "created", "{landed}");
    let follow_up = landed["request"].as_str().unwrap().to_string();
    assert_eq!(
        h.ok("GET", &format!("/requests/{follow_up}"), Some(&admin), None).await.body["follow_up_of"],
        key.as_str()
    );
    // Delivered again, by SES or by a relay under a new id: the same follow-up, nothing new.
    for ses_id in ["ses-late-1", "ses-late-relayed"] {
        let again = h.inbound_email(reply.clone(), &format!("message_id={ses_id}")).await.body;
        assert_eq!(again["request"], follow_up.as_str(), "{again}");
    }
    assert_eq!(status_of(&h, &admin, &key).await, "closed");

    // The reporter is told by email where the message went (the page says the same).
    h.settle_stream().await;
    let told = h.raw_mail_to(&ann_email).await;
    assert!(told.iter().any(|m| m.contains(&format!("so your message opened a new request, {follow_up}"))));

    // A value the form no longer has stays behind; files that cannot be taken open nothing.
    let key = closed_request(&h, &ann, &admin, "Badge").await;
    closed_days_ago(&h, &key, 20).await;
    let Some(Record::Request(stored)) = h.app.store.get(&helpdesk::items::request_key(&key)).await.unwrap() else {
        panic!("the request")
    };
    let fields = std::collections::BTreeMap::from([("removed_since".to_string(), "x".to_string())]);
    h.app.store.put_all(vec![Record::Request(Request { fields, ..stored })]).await.unwrap();
    let before = h.ok("GET", "/projects/HD/requests?status=open", Some(&admin), None).await.body["items"].clone();
    let unknown = json!({"body": "See file", "attachments": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]});
    let refused = h.call("POST", &format!("/requests/{key}/comments"), Some(&ann), Some(unknown)).await;
    assert_eq!((refused.status, refused.code()), (422, "unknown_upload"));
    let after = h.ok("GET", "/projects/HD/requests?status=open", Some(&admin), None).await.body["items"].clone();
    assert_eq!(before, after, "no follow-up was opened");
    let made =
        h.ok("POST", &format!("/requests/{key}/comments"), Some(&ann), Some(json!({"body": "Badge again"}))).await;
    assert_eq!((made.body["follow_up_of"].as_str(), made.body["fields"].clone()), (Some(key.as_str()), json!({})));

    // Someone the old request was shared with follows up with only the link: its summary and
    // values stay with the people who could see it.
    let key = closed_request(&h, &ann, &admin, "Ann's salary question").await;
    h.ok("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [h.email("bob")]}))).await;
    closed_days_ago(&h, &key, 20).await;
    let made = h.ok("POST", &format!("/requests/{key}/comments"), Some(&bob), Some(json!({"body": "Me too"}))).await;
    assert_eq!(made.body["summary"], format!("Follow-up to {key}"));
    assert_eq!(made.body["reporter"], h.email("bob").as_str());

    // A project that never reopens by reply: every reply to a closed request follows up.
    let key = closed_request(&h, &ann, &admin, "Another").await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"reopen_days": 0}))).await;
    let made = h.ok("POST", &format!("/requests/{key}/comments"), Some(&ann), Some(json!({"body": "Hello?"}))).await;
    assert_eq!(made.body["follow_up_of"], key.as_str());
    assert_eq!(status_of(&h, &admin, &key).await, "closed");
    let refused = h.call("PATCH", "/projects/HD", Some(&admin), Some(json!({"reopen_days": 400}))).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_field"));
    // An agent's reply never reopens nor follows up.
    let made =
        h.ok("POST", &format!("/requests/{key}/comments"), Some(&admin), Some(json!({"body": "Closing note."}))).await;
    assert_eq!(made.body["body"], "Closing note.");
    assert!(made.body.get("follow_up_of").is_none(), "{}", made.body);
    assert_eq!(status_of(&h, &admin, &key).await, "closed");
}

/// The reply address of the newest email to `to` about `key`.
async fn reply_address(h: &Harness, to: &str, key: &str) -> String {
    let parser = mail_parser::MessageParser::default();
    let raw = h.raw_mail_to(to).await;
    let mail = raw
        .iter()
        .rev()
        .map(|m| parser.parse(m.as_bytes()).unwrap())
        .find(|m| m.subject().is_some_and(|s| s.contains(key)))
        .expect("an email about the request");
    mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string()
}
