//! Malicious users (seed 002): suspension, blocklist, sessions, audit trail, through HTTP on
//! DynamoDB Local and moto.

use helpdesk::caller::Caller;
use helpdesk::moderation::{self, SuspendInput, SuspendStep};
use helpdesk_tests::{Answer, Harness};
use serde_json::{json, Value};

async fn user_id(h: &Harness, token: &str) -> String {
    h.call("GET", "/me", Some(token), None).await.body["id"].as_str().unwrap().to_string()
}

fn actions(audit: &Answer) -> Vec<String> {
    audit.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

fn rules(list: &Answer) -> Vec<String> {
    list.body["items"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_string()).collect()
}

async fn raise(h: &Harness, token: &str, summary: &str) -> Answer {
    h.call("POST", "/projects/HD/requests", Some(token), Some(json!({"summary": summary}))).await
}

#[tokio::test]
async fn one_suspend_does_every_step_and_a_retry_duplicates_nothing() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let mal_email = h.email("mal");
    let mal = h.sign_in(&mal_email).await;
    let mal_again = h.sign_in(&mal_email).await;
    let id = user_id(&h, &mal).await;
    for i in 0..3 {
        assert_eq!(raise(&h, &mal, &format!("phish {i}")).await.status, 201);
    }
    h.ok("POST", "/requests/HD-3/close", Some(&mal), None).await;

    let body = json!({"reason": "phishing links in HD-1", "request": "HD-1"});
    let done = h.call("POST", &format!("/users/{id}/suspend"), Some(&admin), Some(body.clone())).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["requests_closed"], json!(["HD-2", "HD-1"]));
    assert_eq!(done.body["sessions_ended"], 2);
    assert_eq!(done.body["rules"], json!([format!("reject:{mal_email}")]));
    for token in [&mal, &mal_again] {
        assert_eq!(h.call("GET", "/me", Some(token), None).await.status, 401);
    }
    for key in ["HD-1", "HD-2", "HD-3"] {
        assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&admin), None).await.body["status"], "closed");
    }
    // No new magic link: the answer is still 202.
    let mails = h.mail_to(&mal_email).await.len();
    assert_eq!(h.call("POST", "/auth/magic-link", None, Some(json!({"email": mal_email}))).await.status, 202);
    assert_eq!(h.mail_to(&mal_email).await.len(), mails);

    let audit = h.call("GET", &format!("/users/{id}/audit"), Some(&admin), None).await;
    let expected = ["suspended", "note", "rule_added", "request_closed", "request_closed", "sessions_ended"];
    assert_eq!(actions(&audit), expected);
    assert_eq!(audit.body["items"][1]["detail"], "phishing links in HD-1");
    assert_eq!(audit.body["items"][1]["request"], "HD-1");
    assert_eq!(rules(&h.call("GET", "/blocklist", Some(&admin), None).await), [format!("reject:{mal_email}")]);

    // Retried whole: same state, nothing duplicated.
    let items = h.item_count().await;
    let again = h.call("POST", &format!("/users/{id}/suspend"), Some(&admin), Some(body)).await;
    assert_eq!(again.status, 200);
    assert_eq!(actions(&h.call("GET", &format!("/users/{id}/audit"), Some(&admin), None).await), expected);
    assert_eq!(h.item_count().await, items);
}

#[tokio::test]
async fn a_crash_between_steps_is_finished_by_a_retry() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let mal_email = h.email("mal");
    let mal = h.sign_in(&mal_email).await;
    let id = user_id(&h, &mal).await;
    for i in 0..130 {
        assert_eq!(raise(&h, &mal, &format!("spam {i}")).await.status, 201);
    }
    let input = || SuspendInput { reason: "spam".into(), request: None };
    // Crash after marking: suspended (sessions refused), requests still open.
    let marked =
        moderation::suspend(&h.app, &Caller::session(Some(&admin)), &id, Ok(input()), Some(SuspendStep::Marked))
            .await
            .unwrap();
    assert!(marked.user.suspended && marked.closed.is_empty());
    assert_eq!(h.call("GET", "/me", Some(&mal), None).await.status, 401);
    let open = h.call("GET", "/projects/HD/requests?status=open&limit=100", Some(&admin), None).await;
    assert_eq!(open.body["items"].as_array().unwrap().len(), 100);
    // Crash after closing: more than 100 items' worth, in batches under the transaction limit.
    let closed = moderation::suspend(
        &h.app,
        &Caller::session(Some(&admin)),
        &id,
        Ok(input()),
        Some(SuspendStep::RequestsClosed),
    )
    .await
    .unwrap();
    assert_eq!(closed.closed.len(), 130);
    // The retry through HTTP finishes: sessions end; nothing is closed twice.
    let done = h.call("POST", &format!("/users/{id}/suspend"), Some(&admin), Some(json!({"reason": "spam"}))).await;
    assert_eq!(
        (done.status, &done.body["requests_closed"], &done.body["sessions_ended"]),
        (200, &json!([]), &json!(1))
    );
    let open = h.call("GET", "/projects/HD/requests?status=open", Some(&admin), None).await;
    assert!(open.body["items"].as_array().unwrap().is_empty());
    let trail = actions(&h.call("GET", &format!("/users/{id}/audit"), Some(&admin), None).await);
    assert_eq!(trail.iter().filter(|a| *a == "suspended").count(), 1);
    assert_eq!(trail.iter().filter(|a| *a == "note").count(), 1);
    assert_eq!(trail.iter().filter(|a| *a == "rule_added").count(), 1);
    assert_eq!(trail.iter().filter(|a| *a == "request_closed").count(), 130);
    assert_eq!(trail.iter().filter(|a| *a == "sessions_ended").count(), 1);
}

#[tokio::test]
async fn only_admins_suspend_and_project_admins_cannot_suspend_app_admins() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let admin_id = user_id(&h, &admin).await;
    let (agent_email, lead_email) = (h.email("agent"), h.email("lead"));
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": lead_email, "role": "admin"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let lead = h.sign_in(&lead_email).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let ann_id = user_id(&h, &ann).await;
    // A customer of HD, which the lead administers: the lead may moderate her.
    assert_eq!(raise(&h, &ann, "hello").await.status, 201);
    let body = json!({"reason": "x"});
    for token in [&agent, &ann] {
        let refused = h.call("POST", &format!("/users/{ann_id}/suspend"), Some(token), Some(body.clone())).await;
        assert_eq!(refused.status, 403);
        assert_eq!(h.call("GET", &format!("/users/{ann_id}/audit"), Some(token), None).await.status, 403);
        assert_eq!(
            h.call("POST", "/blocklist", Some(token), Some(json!({"rule": "reject:x@y.com"}))).await.status,
            403
        );
        assert_eq!(h.call("GET", "/blocklist", Some(token), None).await.status, 403);
    }
    let refused = h.call("POST", &format!("/users/{admin_id}/suspend"), Some(&lead), Some(body.clone())).await;
    assert_eq!(refused.status, 403);
    assert_eq!(h.call("GET", "/me", Some(&admin), None).await.status, 200);
    let by_lead = h.call("POST", &format!("/users/{ann_id}/suspend"), Some(&lead), Some(body)).await;
    assert_eq!(by_lead.status, 200);
    let missing = h.call("POST", "/users/NOBODY/suspend", Some(&lead), Some(json!({"reason": "x"}))).await;
    assert_eq!(missing.status, 404);
    let note =
        h.call("POST", &format!("/users/{ann_id}/notes"), Some(&lead), Some(json!({"body": "called them"}))).await;
    assert_eq!(note.status, 201);
    assert_eq!(
        actions(&h.call("GET", &format!("/users/{ann_id}/audit"), Some(&lead), None).await).last().unwrap(),
        "note"
    );
}

#[tokio::test]
async fn blocklist_rules_apply_to_every_channel() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let domain = format!("spam-{}.example", h.suffix);
    let (spammer, insider) = (format!("bot@{domain}"), format!("x@mail.{domain}"));
    let spammer_token = h.sign_in(&spammer).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let key = raise(&h, &ann, "mine").await.body["key"].as_str().unwrap().to_string();
    let bad = h.call("POST", "/blocklist", Some(&admin), Some(json!({"rule": "block:everyone"}))).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_rule"));
    let rule = json!({"rule": format!("reject:*@{}", domain.to_uppercase())});
    assert_eq!(h.call("POST", "/blocklist", Some(&admin), Some(rule.clone())).await.status, 201);

    // Sign-in, API intake, adding customers and participants: all refused for the domain.
    let mails = h.mail_to(&insider).await.len();
    assert_eq!(h.call("POST", "/auth/magic-link", None, Some(json!({"email": insider}))).await.status, 202);
    assert_eq!(h.mail_to(&insider).await.len(), mails);
    let before = h.item_count().await;
    let refused = raise(&h, &spammer_token, "buy now").await;
    assert_eq!((refused.status, refused.code()), (403, "blocked"));
    let refused = h.call("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": insider}))).await;
    assert_eq!((refused.status, refused.code()), (403, "blocked"));
    // A customer is not told of the rule: the answer for an address that cannot be shared with.
    let refused =
        h.call("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [spammer]}))).await;
    assert_eq!((refused.status, refused.code()), (422, "participant_unknown"));
    assert_eq!(h.item_count().await, before, "refused calls wrote nothing");

    // Removing the rule lets them in again.
    assert_eq!(h.call("DELETE", "/blocklist", Some(&admin), Some(rule)).await.status, 204);
    assert_eq!(raise(&h, &spammer_token, "hello").await.status, 201);

    // suspend: the request is taken but held, out of the queue until an agent releases it.
    let held_email = h.email("held");
    let held_token = h.sign_in(&held_email).await;
    let rule = json!({"rule": format!("suspend:{held_email}")});
    assert_eq!(h.call("POST", "/blocklist", Some(&admin), Some(rule)).await.status, 201);
    let held = raise(&h, &held_token, "please review").await;
    assert_eq!(held.status, 201);
    let held_key = held.body["key"].as_str().unwrap().to_string();
    let seen_by_agent = h.call("GET", &format!("/requests/{held_key}"), Some(&admin), None).await;
    assert_eq!(seen_by_agent.body["held"], Value::Bool(true));
    let queue = h.call("GET", "/projects/HD/requests", Some(&admin), None).await;
    assert!(!queue.body["items"].as_array().unwrap().iter().any(|r| r["key"] == held_key.as_str()));
    let review = h.call("GET", "/projects/HD/requests?status=held", Some(&admin), None).await;
    assert_eq!(review.body["items"][0]["key"], held_key.as_str());
    assert_eq!(h.call("POST", &format!("/requests/{held_key}/release"), Some(&held_token), None).await.status, 403);
    let released = h.call("POST", &format!("/requests/{held_key}/release"), Some(&admin), None).await;
    assert_eq!(released.body["held"], false);
    let queue = h.call("GET", "/projects/HD/requests", Some(&admin), None).await;
    assert_eq!(queue.body["items"][0]["key"], held_key.as_str());
}

#[tokio::test]
async fn unsuspend_lifts_the_suspension_and_its_rule_but_not_the_closes() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let id = user_id(&h, &ann).await;
    raise(&h, &ann, "one").await;
    h.ok("POST", &format!("/users/{id}/suspend"), Some(&admin), Some(json!({"reason": "mistake"}))).await;
    let lifted = h.call("POST", &format!("/users/{id}/unsuspend"), Some(&admin), None).await;
    assert_eq!((lifted.status, &lifted.body["suspended"]), (200, &Value::Bool(false)));
    assert!(rules(&h.call("GET", "/blocklist", Some(&admin), None).await).is_empty());
    let again = h.sign_in(&ann_email).await;
    assert_eq!(h.call("GET", "/requests/HD-1", Some(&again), None).await.body["status"], "closed");
    assert_eq!(h.call("POST", &format!("/users/{id}/unsuspend"), Some(&admin), None).await.status, 200);
    let trail = actions(&h.call("GET", &format!("/users/{id}/audit"), Some(&admin), None).await);
    assert_eq!(&trail[trail.len() - 2..], ["unsuspended", "rule_removed"]);
}
