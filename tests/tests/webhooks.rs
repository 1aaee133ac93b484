//! Webhooks through HTTP on DynamoDB Local: targets kept by project admins, deliveries made
//! from the table's stream (the automations function) and posted by the sender function to a
//! test server on 127.0.0.1, retried through the scheduler's alarms, refused where they must be.

use helpdesk::domain::webhooks::deliveries::signature;
use helpdesk_tests::receiver::Receiver;
use helpdesk_tests::Harness;
use serde_json::{json, Value};

async fn run_scheduler(h: &Harness, at: i64) -> Value {
    let time = helpdesk::text::rfc3339(at);
    let run = h.call_raw("POST", "/_local/scheduler", None, Some(json!({"time": time}).to_string()), &[]).await;
    assert_eq!(run.status, 200, "{run:?}");
    run.body
}

async fn add_target(h: &Harness, admin: &str, url: &str, events: Value) -> (String, String) {
    let made = h.ok("POST", "/projects/HD/webhooks", Some(admin), Some(json!({"url": url, "events": events}))).await;
    assert_eq!(made.status, 201);
    (made.body["id"].as_str().unwrap().to_string(), made.body["secret"].as_str().unwrap().to_string())
}

async fn deliveries(h: &Harness, admin: &str, target: &str) -> Vec<Value> {
    let path = format!("/projects/HD/webhooks/{target}/deliveries");
    h.ok("GET", &path, Some(admin), None).await.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn admins_keep_targets_and_see_the_secret_once() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let body = json!({"url": "https://hooks.example.com/in", "events": ["request.created"], "format": "slack"});
    assert_eq!(h.call("POST", "/projects/HD/webhooks", Some(&agent), Some(body.clone())).await.status, 403);
    assert_eq!(h.call("GET", "/projects/HD/webhooks", Some(&agent), None).await.status, 403);
    let made = h.ok("POST", "/projects/HD/webhooks", Some(&admin), Some(body)).await.body;
    assert_eq!(made["secret"].as_str().map(str::len), Some(43), "{made}");
    let listed = h.ok("GET", "/projects/HD/webhooks", Some(&admin), None).await.body;
    assert_eq!(listed["items"][0]["format"], "slack");
    assert!(!listed.to_string().contains(made["secret"].as_str().unwrap()), "the secret is shown once: {listed}");
    for (bad, says) in [
        (json!({"url": "http://169.254.169.254/latest", "events": ["request.created"]}), "https://"),
        (json!({"url": "https://user:pw@hooks.example.com/", "events": ["request.created"]}), "without a user"),
        (json!({"url": "https://hooks.example.com/", "events": []}), "events"),
        (json!({"url": "https://hooks.example.com/", "events": ["time"]}), "events"),
    ] {
        let refused = h.call("POST", "/projects/HD/webhooks", Some(&admin), Some(bad)).await;
        assert_eq!((refused.status, refused.code()), (422, "invalid_webhook"), "{refused:?}");
        assert!(refused.body["error"]["message"].as_str().unwrap().contains(says), "{refused:?}");
    }
    let id = made["id"].as_str().unwrap();
    // A rule may now name it; once removed, it may not, and its log is gone.
    let rule = json!({"name": "tell", "on": "sla.breach", "actions": [{"type": "webhook", "id": id}]});
    h.ok("POST", "/projects/HD/automations", Some(&admin), Some(rule.clone())).await;
    assert_eq!(h.call("DELETE", &format!("/projects/HD/webhooks/{id}"), Some(&admin), None).await.status, 204);
    assert_eq!(h.call("GET", &format!("/projects/HD/webhooks/{id}/deliveries"), Some(&admin), None).await.status, 404);
    assert_eq!(h.call("POST", "/projects/HD/automations", Some(&admin), Some(rule)).await.status, 422);
}

/// A new request reaches a target once, signed with its secret, even when the stream delivers
/// the record twice; a rule's `webhook` action posts a status change; the log lists both.
#[tokio::test]
async fn a_signed_delivery_arrives_once() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let receiver = Receiver::start(&[204]).await;
    let (target, secret) = add_target(&h, &admin, &receiver.url, json!(["request.created"])).await;
    let rule = json!({"name": "closed", "on": "status.changed", "conditions": [{"field": "status", "op": "is", "value": "closed"}],
                      "actions": [{"type": "webhook", "id": target}]});
    h.ok("POST", "/projects/HD/automations", Some(&admin), Some(rule)).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer on fire"}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();
    let (batch, _) = h.run_stream().await;
    h.run_stream_event(batch).await;
    let answers = h.run_webhooks().await;
    assert_eq!(answers, [json!({"outcome": "delivered", "detail": 204})], "one delivery for a record seen twice");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let posted: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(
        (posted["event"].as_str(), posted["request"]["key"].as_str()),
        (Some("request.created"), Some(key.as_str()))
    );
    assert_eq!(posted["request"]["url"], format!("{}/desk/requests/{key}", h.base));
    // The receiver checks the signature as the documentation says: HMAC-SHA256 of "t.body".
    let header = got[0].header("helpdesk-signature");
    let t: i64 = header.strip_prefix("t=").and_then(|r| r.split(',').next()).unwrap().parse().unwrap();
    assert_eq!(header, signature(&secret, t, &got[0].body));
    assert_eq!(got[0].header("helpdesk-event"), "request.created");
    assert!(!got[0].header("helpdesk-delivery").is_empty());

    h.ok("POST", &format!("/requests/{key}/close"), Some(&admin), None).await;
    h.settle_stream().await;
    assert_eq!(h.run_webhooks().await.len(), 1);
    let got = receiver.received();
    assert_eq!(serde_json::from_str::<Value>(&got[1].body).unwrap()["request"]["status"], "closed");
    let log = deliveries(&h, &admin, &target).await;
    let states: Vec<_> = log.iter().map(|d| (d["event"].as_str().unwrap(), d["state"].as_str().unwrap())).collect();
    assert_eq!(states, [("status.changed", "delivered"), ("request.created", "delivered")], "newest first");
    assert_eq!(log[1]["attempts"][0]["status"], 204);
    assert_eq!(run_scheduler(&h, h.app.now() + 600).await["webhook_retries"], 0, "nothing left to retry");
}

/// A target answering 500 is tried again by the scheduler, with a longer wait each time, until
/// it answers 200; the log lists every attempt.
#[tokio::test]
async fn a_failing_target_is_retried_with_backoff_until_it_answers() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let receiver = Receiver::start(&[500, 503, 200]).await;
    let (target, _) = add_target(&h, &admin, &receiver.url, json!(["request.created"])).await;
    let ann = h.sign_in(&h.email("ann")).await;
    h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Flaky"}))).await;
    h.settle_stream().await;
    let start = h.app.now();
    assert_eq!(h.run_webhooks().await[0]["outcome"], "retry");
    let first = deliveries(&h, &admin, &target).await.remove(0);
    let wait = |d: &Value| {
        helpdesk::text::parse_rfc3339(d["next_attempt_at"].as_str().unwrap()).unwrap()
            - helpdesk::text::parse_rfc3339(d["attempts"].as_array().unwrap().last().unwrap()["at"].as_str().unwrap())
                .unwrap()
    };
    assert_eq!(wait(&first), 60, "{first}");
    // Not due yet: nothing handed on.
    assert_eq!(run_scheduler(&h, start + 30).await["webhook_retries"], 0);
    assert_eq!(run_scheduler(&h, start + 90).await["webhook_retries"], 1);
    assert_eq!(h.run_webhooks().await[0]["outcome"], "retry");
    let second = deliveries(&h, &admin, &target).await.remove(0);
    assert_eq!(wait(&second), 120, "the wait doubles: {second}");
    // A hand-off that never reaches the sender (a failed invoke) is found again: the scheduler
    // moved the alarm on before handing it over.
    assert_eq!(run_scheduler(&h, start + 300).await["webhook_retries"], 1);
    assert_eq!(h.take_webhooks().await.len(), 1, "handed on, then lost");
    assert_eq!(run_scheduler(&h, start + 300).await["webhook_retries"], 0, "the moved alarm is not due yet");
    assert_eq!(run_scheduler(&h, start + 700).await["webhook_retries"], 1, "found again");
    assert_eq!(h.run_webhooks().await[0]["outcome"], "delivered");
    let done = deliveries(&h, &admin, &target).await.remove(0);
    let statuses: Vec<_> = done["attempts"].as_array().unwrap().iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(503), json!(200)]);
    assert_eq!((done["state"].as_str(), done["next_attempt_at"].is_null()), (Some("delivered"), true));
    assert_eq!(receiver.received().len(), 3);
    assert_eq!(run_scheduler(&h, start + 3600).await["webhook_retries"], 0);
}

/// Where a delivery may not go: a private address, a name that resolves to loopback, a
/// redirect (not followed). Each attempt is logged with why, and nothing is reached.
#[tokio::test]
async fn private_addresses_and_redirects_are_refused() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let redirecting = Receiver::start(&[302]).await;
    let port = redirecting.url.rsplit(':').next().unwrap().trim_end_matches("/hook").to_string();
    let events = json!(["request.created"]);
    let (private, _) = add_target(&h, &admin, "https://10.0.0.1/hook", events.clone()).await;
    let (named, _) = add_target(&h, &admin, &format!("https://localhost:{port}/hook"), events.clone()).await;
    let (redirect, _) = add_target(&h, &admin, &redirecting.url, events).await;
    let ann = h.sign_in(&h.email("ann")).await;
    h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Where to?"}))).await;
    h.settle_stream().await;
    let answers = h.run_webhooks().await;
    assert_eq!(answers.len(), 3);
    assert!(answers.iter().all(|a| a["outcome"] == "retry"), "{answers:?}");
    let attempt = |log: Vec<Value>| log[0]["attempts"][0].clone();
    let to_private = attempt(deliveries(&h, &admin, &private).await);
    assert_eq!(
        (to_private["status"].clone(), to_private["error"].as_str()),
        (Value::Null, Some("10.0.0.1 is not a public address"))
    );
    let to_named = attempt(deliveries(&h, &admin, &named).await);
    assert!(to_named["error"].as_str().unwrap().contains("resolves to no public address"), "{to_named}");
    let to_redirect = attempt(deliveries(&h, &admin, &redirect).await);
    assert_eq!(
        (to_redirect["status"].clone(), to_redirect["error"].as_str()),
        (json!(302), Some("a redirect, not followed"))
    );
    assert_eq!(redirecting.received().len(), 1, "the redirect was not followed");
}

/// A target every attempt has failed for 24 hours is switched off, its admins are told by
/// email, and new events make no deliveries for it. (The day is set on the target's item: the
/// sender's clock is the real one.)
#[tokio::test]
async fn a_target_failing_for_a_day_is_switched_off_and_the_admins_told() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let admin_email = h.email("admin");
    let receiver = Receiver::start(&[500]).await;
    let (target, _) = add_target(&h, &admin, &receiver.url, json!(["request.created"])).await;
    let key = helpdesk::items::project_webhooks_key("HD");
    let Some(helpdesk::model::Record::ProjectWebhooks(mut hooks)) = h.app.store.get(&key).await.unwrap() else {
        panic!()
    };
    hooks.targets[0].failing_since = Some(h.app.now() - 24 * 3600 - 60);
    hooks.targets[0].last_failed_at = Some(h.app.now() - 60);
    hooks.version += 1;
    h.app.store.put_all(vec![helpdesk::model::Record::ProjectWebhooks(hooks)]).await.unwrap();
    let ann = h.sign_in(&h.email("ann")).await;
    h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "One more"}))).await;
    h.settle_stream().await;
    assert_eq!(h.run_webhooks().await[0]["outcome"], "retry");
    let listed = h.ok("GET", "/projects/HD/webhooks", Some(&admin), None).await.body;
    assert_eq!(
        (listed["items"][0]["enabled"].clone(), listed["items"][0]["disabled_at"].is_string()),
        (json!(false), true)
    );
    h.settle_stream().await;
    let told = h.mail_to(&admin_email).await;
    let notice =
        told.iter().find(|(subject, _)| subject.contains("A webhook was switched off")).expect("the admin is told");
    assert!(notice.1.contains(&receiver.url), "{notice:?}");
    // The retry finds the target off: the delivery ends; a new request makes none.
    assert_eq!(run_scheduler(&h, h.app.now() + 120).await["webhook_retries"], 1);
    assert_eq!(h.run_webhooks().await[0]["outcome"], "nothing");
    assert_eq!(deliveries(&h, &admin, &target).await[0]["state"], "failed");
    h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "After"}))).await;
    h.settle_stream().await;
    assert!(h.run_webhooks().await.is_empty());
    assert_eq!(receiver.received().len(), 1);
}
