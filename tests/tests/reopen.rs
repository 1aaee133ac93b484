//! A customer's reply to a closed request, through HTTP on DynamoDB Local and moto: within the
//! project's `reopen_days` of the close it opens the request again, by any channel (portal,
//! email, API); later it stays on the closed request. The public page offers Reopen.

use helpdesk::model::{Record, Request};
use helpdesk_tests::Harness;
use serde_json::json;

async fn status(h: &Harness, token: &str, key: &str) -> String {
    h.ok("GET", &format!("/requests/{key}"), Some(token), None).await.body["status"].as_str().unwrap().to_string()
}

async fn closed_request(h: &Harness, customer: &str, agent: &str, summary: &str) -> String {
    let made = h.ok("POST", "/projects/HD/requests", Some(customer), Some(json!({"summary": summary}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();
    h.ok("POST", &format!("/requests/{key}/close"), Some(agent), None).await;
    assert_eq!(status(h, agent, &key).await, "closed");
    key
}

#[tokio::test]
async fn a_customer_reply_reopens_a_recently_closed_request_by_any_channel() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    assert_eq!(h.ok("GET", "/projects/HD", Some(&admin), None).await.body["reopen_days"], 14);

    // The portal's reply form.
    let key = closed_request(&h, &ann, &admin, "Printer").await;
    let cookies = format!("hd_session={ann}");
    let page = h.page("GET", &format!("/portal/requests/{key}"), &cookies, None).await;
    let form = [("csrf", page.csrf()), ("body", "It jammed again".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = h.page("POST", &format!("/portal/requests/{key}/comments"), &cookies, Some(&form)).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(status(&h, &admin, &key).await, "open");
    // Reports count it as reopened, once.
    h.settle_stream().await;
    let report = h.ok("GET", "/projects/HD/reports", Some(&admin), None).await.body;
    assert_eq!(report["total"]["reopened"], 1);

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
    assert_eq!(status(&h, &admin, &key).await, "open");

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
    assert_eq!(status(&h, &admin, &key).await, "open");
}

#[tokio::test]
async fn a_reply_after_the_reopen_window_stays_on_the_closed_request() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let key = closed_request(&h, &ann, &admin, "Old problem").await;
    // Closed 15 days ago (the default window is 14).
    let Some(Record::Request(stored)) = h.app.store.get(&helpdesk::items::request_key(&key)).await.unwrap() else {
        panic!("the request")
    };
    assert!(stored.closed_at.is_some(), "the close time is kept");
    let old = Request { closed_at: Some(h.app.now() - 15 * 86_400), ..stored.clone() };
    h.app.store.put_all(vec![Record::Request(old)]).await.unwrap();
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&ann), Some(json!({"body": "Any news?"}))).await;
    let seen = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    assert_eq!((seen["status"].as_str(), seen["comment_count"].as_u64()), (Some("closed"), Some(1)));

    // A project that never reopens by reply; a window out of range is refused.
    let key = closed_request(&h, &ann, &admin, "Another").await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"reopen_days": 0}))).await;
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&ann), Some(json!({"body": "Hello?"}))).await;
    assert_eq!(status(&h, &admin, &key).await, "closed");
    let refused = h.call("PATCH", "/projects/HD", Some(&admin), Some(json!({"reopen_days": 400}))).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_field"));
    // An agent's reply never reopens.
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"reopen_days": 14}))).await;
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&admin), Some(json!({"body": "Closing note."}))).await;
    assert_eq!(status(&h, &admin, &key).await, "closed");
}
