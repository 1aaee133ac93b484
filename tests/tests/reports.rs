//! Reports and ratings through HTTP on DynamoDB Local and moto: counts kept from the table's
//! stream (the automations function), read as JSON and CSV; a rating given through the link
//! of the close email.

use helpdesk_tests::Harness;
use serde_json::{json, Value};

async fn raise(h: &Harness, token: &str, summary: &str) -> String {
    let made = h.ok("POST", "/projects/HD/requests", Some(token), Some(json!({"summary": summary}))).await;
    made.body["key"].as_str().unwrap().to_string()
}

/// Closes or reopens, as the reporter or an agent may.
async fn set_status(h: &Harness, token: &str, key: &str, status: &str) {
    let action = if status == "closed" { "close" } else { "reopen" };
    h.ok("POST", &format!("/requests/{key}/{action}"), Some(token), None).await;
}

/// Today's period of a one-day report.
async fn today(h: &Harness, token: &str, query: &str) -> Value {
    let report = h.ok("GET", &format!("/projects/HD/reports?by=day{query}"), Some(token), None).await.body;
    report["periods"].as_array().unwrap().last().unwrap().clone()
}

#[tokio::test]
async fn reports_count_what_the_stream_delivered_once_as_json_and_csv_for_agents_only() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;

    let keys = [raise(&h, &ann, "Printer").await, raise(&h, &ann, "Invoice").await, raise(&h, &ann, "Login").await];
    h.ok("POST", &format!("/requests/{}/comments", keys[0]), Some(&agent), Some(json!({"body": "On it."}))).await;
    h.ok("PATCH", &format!("/requests/{}", keys[1]), Some(&agent), Some(json!({"assignee": agent_email}))).await;
    set_status(&h, &agent, &keys[0], "closed").await;
    set_status(&h, &ann, &keys[2], "closed").await;
    set_status(&h, &ann, &keys[2], "open").await;
    // The stream as Lambda delivers it: one batch, then the same batch again.
    let event = h.poll_stream().await;
    assert!(!event.records.is_empty());
    h.run_stream_event(event.clone()).await;
    let once = today(&h, &agent, "").await;
    h.run_stream_event(event).await;
    h.settle_stream().await;
    let twice = today(&h, &agent, "").await;
    assert_eq!(once, twice, "a redelivered batch counts nothing");
    assert_eq!(
        (&once["created"], &once["closed"], &once["reopened"], &once["backlog"]),
        (&json!(3), &json!(2), &json!(1), &json!(2)),
        "{once}"
    );
    assert_eq!(once["first_reply"]["count"], 1);
    assert!(once["first_reply"]["median"].as_i64().unwrap() < 120, "{once}");
    assert_eq!(once["resolution"]["count"], 2);
    assert_eq!(once["csat"], json!({"good": 0, "bad": 0}));
    // The agent's own share: the one request assigned to them, still open.
    let mine = today(&h, &agent, "&assignee=me").await;
    assert_eq!((&mine["created"], &mine["backlog"]), (&json!(0), &json!(1)), "{mine}");
    let by_address = today(&h, &agent, &format!("&assignee={agent_email}")).await;
    assert_eq!(by_address, mine);

    // CSV: the same numbers, one row per period.
    let from = once["start"].as_str().unwrap();
    let csv = reqwest::Client::new()
        .get(format!("{}/projects/HD/reports?from={from}&to={from}", h.base))
        .bearer_auth(&agent)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("start,created,closed,reopened,backlog,first_reply_median"), "{text}");
    assert!(lines[1].starts_with(&format!("{from},3,2,1,2,")), "{text}");

    // Rebuilt from the table (DynamoDB Local: the queue index, the ledgers, the counts written
    // whole), the report is what the stream counted; a lost count item comes back.
    let streamed = h.ok("GET", "/projects/HD/reports", Some(&agent), None).await.body;
    let rebuilt = helpdesk::domain::reports::rebuild_stats(&h.app, "HD", |_, _| {}).await.unwrap();
    assert_eq!((rebuilt.requests, rebuilt.caught_up), (3, 0), "{rebuilt:?}");
    assert_eq!(h.ok("GET", "/projects/HD/reports", Some(&agent), None).await.body, streamed);
    let lost = helpdesk::items::stats_counts_key("HD", "ALL", from);
    h.app
        .store
        .transact(vec![helpdesk::store::Write::Delete { key: lost, condition: helpdesk::store::Condition::None }])
        .await
        .unwrap();
    assert_ne!(h.ok("GET", "/projects/HD/reports", Some(&agent), None).await.body, streamed);
    helpdesk::domain::reports::rebuild_stats(&h.app, "HD", |_, _| {}).await.unwrap();
    assert_eq!(h.ok("GET", "/projects/HD/reports", Some(&agent), None).await.body, streamed);

    // Agents only; a bad range is a 400 with its code.
    assert_eq!(h.call("GET", "/projects/HD/reports", Some(&ann), None).await.status, 403);
    assert_eq!(h.call("GET", "/projects/HD/reports", None, None).await.status, 401);
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    let other_email = h.email("other");
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": other_email, "role": "admin"}))).await;
    let other = h.sign_in(&other_email).await;
    assert_eq!(h.call("GET", "/projects/HD/reports", Some(&other), None).await.status, 403);
    for bad in
        ["from=2026-13-01", "from=2026-12-02&to=2026-12-01", "from=2020-01-01&to=2026-01-01", "by=month", "assignee=x"]
    {
        let answer = h.call("GET", &format!("/projects/HD/reports?{bad}"), Some(&agent), None).await;
        assert_eq!((answer.status, answer.code()), (400, "invalid_report"), "{bad}: {answer:?}");
    }
}

async fn agent_view(h: &Harness, agent: &str, key: &str) -> Value {
    h.ok("GET", &format!("/requests/{key}"), Some(agent), None).await.body
}

/// The rating link of the last close email `to` got.
async fn rating_link(h: &Harness, to: &str) -> String {
    let parser = mail_parser::MessageParser::default();
    let texts: Vec<String> = h
        .raw_mail_to(to)
        .await
        .iter()
        .map(|raw| parser.parse(raw.as_bytes()).expect("a message").body_text(0).unwrap_or_default().to_string())
        .collect();
    let text = texts.iter().rev().find(|text| text.contains("/csat/")).expect("a close email with a rating link");
    let line = text.lines().find(|l| l.starts_with("Good: ")).expect("a Good link");
    line.trim_start_matches("Good: ").split(&h.base).nth(1).expect("a link to this helpdesk").to_string()
}

#[tokio::test]
async fn a_rating_given_through_the_close_email_counts_and_only_its_holder_gives_it() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "Printer jammed").await;
    // A colleague she shares it with is told of the close, and is not asked to rate it.
    let carol_email = h.email("carol");
    let carol = h.sign_in(&carol_email).await;
    h.ok("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [carol_email]}))).await;
    h.settle_stream().await;
    set_status(&h, &admin, &key, "closed").await;
    h.settle_stream().await;
    let carol_mail = h.raw_mail_to(&carol_email).await;
    assert!(carol_mail.iter().any(|m| m.contains("closed")), "carol was told");
    assert!(carol_mail.iter().all(|m| !m.contains("/csat/")), "one rating per request: the requester's");
    let good = rating_link(&h, &ann_email).await;
    assert!(good.starts_with("/csat/") && good.ends_with("?rating=good"), "{good}");
    let path = good.trim_end_matches("?rating=good").to_string();

    // Opening the link (a mail scanner does) records nothing.
    let page = h.page("GET", &good, "", None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("How did we do?") && page.text.contains(&key));
    assert!(page.text.contains("value=\"good\" checked"), "the link's choice is preselected");
    assert_eq!(agent_view(&h, &admin, &key).await["csat"], Value::Null);

    // The page's form records it.
    let cookies = format!("hd_anon={}", page.cookie("hd_anon").expect("a visitor cookie"));
    let form = [
        ("csrf", page.csrf()),
        ("rating", "good".into()),
        ("reason", String::new()),
        ("comment", "Quick, thanks".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = h.page("POST", &path, &cookies, Some(&form)).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("your rating of") && saved.text.contains("Your rating: <strong>good</strong>"));
    let csat = &agent_view(&h, &admin, &key).await["csat"];
    assert_eq!((&csat["rating"], &csat["comment"]), (&json!("good"), &json!("Quick, thanks")));
    // Customers never see it in the API, not even the rater.
    let seen_by_ann = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await.body;
    assert!(seen_by_ann.get("csat").is_none(), "{seen_by_ann}");

    // Changed once, by JSON, with a reason; a reason with a good rating is refused.
    let json_headers = [("accept", "application/json")];
    let refused = h
        .call_raw("POST", &path, None, Some(json!({"rating": "good", "reason": "too_slow"}).to_string()), &json_headers)
        .await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_rating"));
    let changed = h
        .call_raw("POST", &path, None, Some(json!({"rating": "bad", "reason": "too_slow"}).to_string()), &json_headers)
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["rating"]["rating"], "bad");
    assert_eq!(agent_view(&h, &admin, &key).await["csat"]["reason"], "too_slow");
    h.settle_stream().await;
    let report = h.ok("GET", "/projects/HD/reports", Some(&admin), None).await.body;
    assert_eq!(report["total"]["csat"], json!({"good": 0, "bad": 1}), "a changed rating moves its count");

    // A forged token, another purpose's token and a stale one give nothing.
    let token = path.trim_start_matches("/csat/");
    let mut forged = token.to_string();
    forged.replace_range(forged.len() - 3.., if forged.ends_with("AAA") { "BBB" } else { "AAA" });
    assert_eq!(h.call_raw("GET", &format!("/csat/{forged}"), None, None, &json_headers).await.status, 404);
    let me = h.ok("GET", "/me", Some(&ann), None).await.body;
    let ann_id = me["id"].as_str().unwrap();
    let day = 86_400;
    let stale = helpdesk::domain::csat::rating_token(&h.app, &key, ann_id, h.app.now() - 29 * day).await.unwrap();
    let old = h.call_raw("GET", &format!("/csat/{stale}"), None, None, &json_headers).await;
    assert_eq!((old.status, old.code()), (403, "rating_link_expired"));
    let fresh = helpdesk::domain::csat::rating_token(&h.app, &key, ann_id, h.app.now() - 27 * day).await.unwrap();
    assert_eq!(h.call_raw("GET", &format!("/csat/{fresh}"), None, None, &json_headers).await.status, 200);
    let other_purpose =
        helpdesk::domain::signing::sign(&h.app, "public-link", &format!("{key}\n{ann_id}\n0")).await.unwrap();
    assert_eq!(h.call_raw("GET", &format!("/csat/{other_purpose}"), None, None, &json_headers).await.status, 404);
    // Another person's token for this request: someone who cannot see it rates nothing.
    let bob = h.sign_in(&h.email("bob")).await;
    let bob_id = h.ok("GET", "/me", Some(&bob), None).await.body["id"].as_str().unwrap().to_string();
    let bobs = helpdesk::domain::csat::rating_token(&h.app, &key, &bob_id, h.app.now()).await.unwrap();
    assert_eq!(h.call_raw("GET", &format!("/csat/{bobs}"), None, None, &json_headers).await.status, 404);

    // The colleague's own token: she sees the request but does not rate it (she cannot
    // replace the requester's rating).
    let carol_id = h.ok("GET", "/me", Some(&carol), None).await.body["id"].as_str().unwrap().to_string();
    let carols = helpdesk::domain::csat::rating_token(&h.app, &key, &carol_id, h.app.now()).await.unwrap();
    let refused = h
        .call_raw("POST", &format!("/csat/{carols}"), None, Some(json!({"rating": "good"}).to_string()), &json_headers)
        .await;
    assert_eq!(refused.status, 404);
    assert_eq!(agent_view(&h, &admin, &key).await["csat"]["rating"], "bad");

    // Reopened: no rating until it is closed again.
    set_status(&h, &ann, &key, "open").await;
    let reopened = h.call_raw("POST", &path, None, Some(json!({"rating": "good"}).to_string()), &json_headers).await;
    assert_eq!((reopened.status, reopened.code()), (409, "request_not_closed"));
}
