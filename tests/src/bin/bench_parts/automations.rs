//! What automations cost: the automations function's DynamoDB work per stream event (a new
//! request, a customer's reply) with no rule on, with an email-only rule, and with a rule that
//! changes the request; and what they add to the create and reply themselves (nothing: the
//! rules are read from the stream, not on the request path).

use helpdesk::domain::automations::{events_of, on_event};
use helpdesk_tests::Harness;
use serde_json::json;
use std::time::Instant;

const EVENTS: usize = 50;

pub async fn automation_costs(h: &Harness, admin: &str) {
    let created = h.call("POST", "/projects", Some(admin), Some(json!({"key": "AUTO", "name": "Rules"}))).await;
    assert_eq!(created.status, 201, "{created:?}");
    let customer = h.sign_in(&h.email("auto-customer")).await;
    println!("\nAutomations per stream event (the automations function; {EVENTS} events each):");
    println!("{:<52} {:>11} {:>10} {:>10} {:>9}", "event and rules", "round trips", "read units", "tx WCU", "ms");
    let ack = json!({"name": "ack", "on": "request.created", "actions": [{"type": "send_acknowledgement", "body": "Thanks"}]});
    let route = json!({"name": "route", "on": "request.created",
        "conditions": [{"field": "text", "op": "contains", "value": "printer"}],
        "actions": [{"type": "set_priority", "priority": "high"}, {"type": "add_tag", "tag": "printer"},
                    {"type": "add_internal_note", "body": "Routed"}]});
    let answered =
        json!({"name": "answered", "on": "comment.customer", "actions": [{"type": "add_tag", "tag": "answered"}]});
    let cases: [(&str, Option<serde_json::Value>, bool); 5] = [
        ("request.created, no rule on (the initial three, off)", None, false),
        ("request.created, one rule that only emails", Some(ack), false),
        ("request.created, one rule: priority, tag, note", Some(route), false),
        ("comment.customer, no rule for it", None, true),
        ("comment.customer, one rule: a tag", Some(answered), true),
    ];
    let mut rule_ids = vec![];
    for (name, rule, reply) in cases {
        for id in rule_ids.drain(..) {
            let path = format!("/projects/AUTO/automations/{id}");
            assert_eq!(h.call("DELETE", &path, Some(admin), None).await.status, 204);
        }
        if let Some(rule) = rule {
            let made = h.call("POST", "/projects/AUTO/automations", Some(admin), Some(rule)).await;
            assert_eq!(made.status, 201, "{made:?}");
            rule_ids.push(made.body["id"].as_str().unwrap().to_string());
        }
        let mut events = vec![];
        for n in 0..EVENTS {
            let body = json!({"summary": format!("printer {n}"), "description": "It smokes"});
            let made = h.call("POST", "/projects/AUTO/requests", Some(&customer), Some(body)).await;
            let key = made.body["key"].as_str().unwrap().to_string();
            let record = if reply {
                let path = format!("/requests/{key}/comments");
                let comment = h.call("POST", &path, Some(&customer), Some(json!({"body": "more"}))).await;
                let id = comment.body["id"].as_str().unwrap().to_string();
                h.app.store.get(&helpdesk::items::comment_key(&key, &id)).await.unwrap().unwrap()
            } else {
                h.app.store.get(&helpdesk::items::request_key(&key)).await.unwrap().unwrap()
            };
            events.extend(events_of(None, Some(&record)));
        }
        assert_eq!(events.len(), EVENTS);
        h.store.take_metrics();
        let started = Instant::now();
        let mut fired = 0;
        for event in &events {
            fired += on_event(&h.app, event).await.expect("automations").len();
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let m = h.store.take_metrics();
        let expected = if name.contains("one rule") { EVENTS } else { 0 };
        assert_eq!(fired, expected, "{name}");
        let per = |x: f64| x / EVENTS as f64;
        println!(
            "{:<52} {:>11.2} {:>10.2} {:>10.2} {:>9.2}",
            name,
            per(m.round_trips as f64),
            per(m.read_units),
            per(m.transaction_units),
            per(ms)
        );
    }
    println!("Added to the create and the reply themselves: 0 round trips, 0 write units (rules run from the stream).");
    webhook_latency(h, admin).await;
}

/// From a request's create (its answer) to the webhook target's receipt: the stream read, the
/// automations function making the delivery, the sender posting it. Locally the stream is
/// polled at once; in AWS the event source mapping adds its batching window (1 s here).
async fn webhook_latency(h: &Harness, admin: &str) {
    use helpdesk_tools::stream::Consumer;
    let receiver = helpdesk_tests::receiver::Receiver::start(&[200]).await;
    let hook = json!({"url": receiver.url, "events": ["request.created"]});
    let made = h.call("POST", "/projects/AUTO/webhooks", Some(admin), Some(hook)).await;
    assert_eq!(made.status, 201, "{made:?}");
    while !h.poll_stream().await.records.is_empty() {}
    let mut samples = vec![];
    for n in 0..EVENTS {
        let body = json!({"summary": format!("hook {n}")});
        let made = h.call("POST", "/projects/AUTO/requests", Some(admin), Some(body)).await;
        assert_eq!(made.status, 201);
        let started = Instant::now();
        loop {
            let event = h.poll_stream().await;
            Consumer::Automations.handle(&h.app, event).await;
            if !h.run_webhooks().await.is_empty() {
                break;
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    assert_eq!(receiver.received().len(), EVENTS);
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "Webhook delivery from the event ({EVENTS} requests; stream read, delivery made, posted to a target on loopback): p50 {:.1} ms, p99 {:.1} ms",
        at(0.5),
        at(0.99)
    );
}
