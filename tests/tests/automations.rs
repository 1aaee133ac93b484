//! Automations through HTTP on DynamoDB Local and moto: rules kept by project admins, fired
//! from the table's stream (the automations function) once per request and event, time rules
//! swept by the scheduler (`POST /_local/scheduler`), emails sent by the notifier.

use helpdesk_tests::Harness;
use serde_json::{json, Value};

const DAY: i64 = 24 * 3600;

/// Switches one of the initial rules on (a PUT replaces the rule whole).
async fn switch_on(h: &Harness, admin: &str, id: &str) -> Value {
    let list = h.ok("GET", "/projects/HD/automations", Some(admin), None).await.body;
    let mut rule = list["items"].as_array().unwrap().iter().find(|r| r["id"] == id).expect("an initial rule").clone();
    let rule = rule.as_object_mut().unwrap();
    for field in ["id", "last_fired"] {
        rule.remove(field);
    }
    rule.insert("enabled".into(), json!(true));
    h.ok("PUT", &format!("/projects/HD/automations/{id}"), Some(admin), Some(Value::Object(rule.clone()))).await.body
}

async fn request(h: &Harness, token: &str, key: &str) -> Value {
    h.ok("GET", &format!("/requests/{key}"), Some(token), None).await.body
}

async fn run_scheduler(h: &Harness, at: i64) -> Value {
    let time = helpdesk::text::rfc3339(at);
    let run = h.call_raw("POST", "/_local/scheduler", None, Some(json!({"time": time}).to_string()), &[]).await;
    assert_eq!(run.status, 200, "{run:?}");
    run.body
}

/// The subjects and first lines of the mail `to` got, oldest first.
async fn mail_texts(h: &Harness, to: &str) -> Vec<String> {
    let parser = mail_parser::MessageParser::default();
    let mut texts = vec![];
    for raw in h.raw_mail_to(to).await {
        let message = parser.parse(raw.as_bytes()).expect("a message");
        texts.push(format!("{} | {}", message.subject().unwrap_or(""), message.body_text(0).unwrap_or_default()));
    }
    texts
}

#[tokio::test]
async fn admins_keep_rules_agents_read_them_and_nobody_else_does() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;

    // Every project starts with three rules, switched off, never fired.
    let initial = h.ok("GET", "/projects/HD/automations", Some(&agent), None).await.body;
    let ids: Vec<_> = initial["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["acknowledge-new-requests", "remind-after-3-days-pending", "close-after-7-days-pending"]);
    assert!(initial["items"].as_array().unwrap().iter().all(|r| r["enabled"] == false && r["last_fired"].is_null()));
    assert_eq!(initial["items"][1]["idle"], "3d");

    let rule = json!({"name": "Urgent to the top", "on": "request.created",
        "conditions": [{"field": "text", "op": "contains", "value": "outage"}],
        "actions": [{"type": "set_priority", "priority": "urgent"}]});
    // A customer is no agent; an agent reads but does not write.
    assert_eq!(h.call("GET", "/projects/HD/automations", Some(&ann), None).await.status, 403);
    assert_eq!(h.call("POST", "/projects/HD/automations", Some(&agent), Some(rule.clone())).await.status, 403);
    assert_eq!(h.call("POST", "/projects/HD/automations", None, Some(rule.clone())).await.status, 401);
    // Another project's admin acts outside their project.
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    let other_email = h.email("other");
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": other_email, "role": "admin"}))).await;
    let other = h.sign_in(&other_email).await;
    assert_eq!(h.call("POST", "/projects/OT/automations", Some(&other), Some(rule.clone())).await.status, 201);
    let outside = h.call("POST", "/projects/HD/automations", Some(&other), Some(rule.clone())).await;
    assert!(matches!(outside.status, 403 | 404), "{outside:?}");

    let made = h.ok("POST", "/projects/HD/automations", Some(&admin), Some(rule.clone())).await;
    assert_eq!(made.status, 201);
    assert_eq!(made.body["enabled"], true, "enabled defaults to true");
    let id = made.body["id"].as_str().unwrap().to_string();
    // Wrong rules: each refused with its reason, nothing saved.
    for (bad, says) in [
        (json!({"name": "x", "on": "time", "actions": [{"type": "set_status", "status": "closed"}]}), "names a status"),
        (json!({"name": "x", "on": "request.created", "actions": []}), "actions: 1 to"),
        (json!({"name": "x", "on": "request.created", "actions": [{"type": "webhook", "id": "nope"}]}), "no webhook"),
        (
            json!({"name": "x", "on": "request.created",
                   "conditions": [{"field": "priority", "op": "is", "value": "asap"}],
                   "actions": [{"type": "add_tag", "tag": "x"}]}),
            "condition 1 (priority)",
        ),
    ] {
        let refused = h.call("POST", "/projects/HD/automations", Some(&admin), Some(bad)).await;
        assert_eq!((refused.status, refused.code()), (422, "invalid_automation"), "{refused:?}");
        assert!(refused.body["error"]["message"].as_str().unwrap().contains(says), "{refused:?}");
    }
    let unknown = h
        .call(
            "POST",
            "/projects/HD/automations",
            Some(&admin),
            Some(json!({"name": "x", "on": "ticket.created", "actions": []})),
        )
        .await;
    assert_eq!(unknown.status, 400, "{unknown:?}");

    // Replaced whole (switched off here), then removed; a second removal finds nothing.
    let off = json!({"name": "Urgent, later", "enabled": false, "on": "request.created",
        "actions": [{"type": "set_priority", "priority": "high"}]});
    let path = format!("/projects/HD/automations/{id}");
    let replaced = h.ok("PUT", &path, Some(&admin), Some(off)).await.body;
    assert_eq!((replaced["id"].as_str(), &replaced["enabled"]), (Some(id.as_str()), &json!(false)));
    assert_eq!(h.call("PUT", "/projects/HD/automations/nope", Some(&admin), Some(rule.clone())).await.status, 404);
    let listed = h.ok("GET", "/projects/HD/automations", Some(&admin), None).await.body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
    assert_eq!(listed["items"][3]["name"], "Urgent, later");
    assert_eq!(h.call("DELETE", &path, Some(&agent), None).await.status, 403);
    assert_eq!(h.call("DELETE", &path, Some(&admin), None).await.status, 204);
    assert_eq!(h.call("DELETE", &path, Some(&admin), None).await.status, 404);
    assert_eq!(
        h.ok("GET", "/projects/HD/automations", Some(&admin), None).await.body["items"].as_array().unwrap().len(),
        3
    );
}

/// The acknowledgement: once per request, by API and by email, even when the stream delivers
/// its batch twice; the console's list says when the rule last fired.
#[tokio::test]
async fn new_requests_are_acknowledged_once_each() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    switch_on(&h, &admin, "acknowledge-new-requests").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer jam"}))).await.body;
    let key = made["key"].as_str().unwrap().to_string();
    let dave = h.email("dave");
    let mail = format!("From: {dave}\r\nTo: hd@desk.test\r\nSubject: By mail\r\nMessage-ID: <ack@x>\r\n\r\nHello\r\n");
    assert_eq!(h.inbound_email(mail, "").await.body["outcome"], "created");

    // The first batch: the requests (the rule fires, writing its emails); the second: the emails.
    let (first, _) = h.run_stream().await;
    h.run_stream_event(first).await;
    h.settle_stream().await;
    for to in [&ann_email, &dave] {
        let texts = mail_texts(&h, to).await;
        assert_eq!(texts.len(), 1, "{to}: {texts:?}");
        assert!(texts[0].contains("Thank you for writing to us"), "{texts:?}");
    }
    assert!(mail_texts(&h, &ann_email).await[0].starts_with(&format!("[{key}] Printer jam")));
    let listed = h.ok("GET", "/projects/HD/automations", Some(&admin), None).await.body;
    let fired = &listed["items"][0]["last_fired"];
    assert!(fired["at"].is_string() && fired["request"].is_string(), "{listed}");
    // Agents see that it fired in the history; the customer sees none of it.
    let seen = request(&h, &admin, &key).await;
    assert!(seen["history"].as_array().unwrap().iter().any(|e| e["action"] == "automation"), "{seen}");
    let theirs = request(&h, &ann, &key).await;
    assert!(!theirs["history"].as_array().unwrap().iter().any(|e| e["action"] == "automation"), "{theirs}");
}

/// Each condition field and action through the stream; a rule whose status change another
/// rule watches does not chain; a request that does not match is left alone.
#[tokio::test]
async fn conditions_route_and_actions_act_without_chaining() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let org = h.ok("POST", "/projects/HD/organizations", Some(&admin), Some(json!({"name": "Acme"}))).await.body;
    let org_id = org["id"].as_str().unwrap().to_string();
    let rules = [
        json!({"name": "Printers to the agent", "on": "request.created",
            "conditions": [
                {"field": "text", "op": "contains", "value": "printer"},
                {"field": "channel", "op": "is", "value": "api"},
                {"field": "requester_domain", "op": "is", "value": "example.com"},
                {"field": "form", "op": "is", "value": "default"},
                {"field": "assignee", "op": "is", "value": "none"},
                {"field": "status", "op": "is", "value": "open"},
                {"field": "priority", "op": "is_not", "value": "urgent"}],
            "actions": [
                {"type": "assign", "agent": agent_email},
                {"type": "set_priority", "priority": "high"},
                {"type": "add_tag", "tag": "printer"},
                {"type": "add_internal_note", "body": "Routed to the printer person"}]}),
        json!({"name": "Customer answered", "on": "comment.customer",
            "conditions": [{"field": "tag", "op": "is", "value": "printer"},
                           {"field": "assignee", "op": "is", "value": agent_email},
                           {"field": "organization", "op": "is", "value": org_id}],
            "actions": [{"type": "remove_tag", "tag": "printer"}, {"type": "add_tag", "tag": "answered"}]}),
        json!({"name": "Agent answered", "on": "comment.agent",
            "conditions": [{"field": "tag", "op": "is", "value": "answered"}],
            "actions": [{"type": "set_status", "status": "pending"}]}),
        // Watches status changes: the one the rule above makes must not reach it.
        json!({"name": "Watch pending", "on": "status.changed",
            "conditions": [{"field": "status", "op": "is", "value": "pending"}],
            "actions": [{"type": "add_tag", "tag": "watched"}]}),
        json!({"name": "Auto assign the rest", "on": "request.created",
            "conditions": [{"field": "text", "op": "contains", "value": "scanner"}],
            "actions": [{"type": "assign", "auto": true}]}),
    ];
    for rule in rules {
        h.ok("POST", "/projects/HD/automations", Some(&admin), Some(rule)).await;
    }
    let ann = h.sign_in(&h.email("ann")).await;
    let printer = json!({"summary": "Printer on fire", "description": "It smokes"});
    let key = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(printer)).await.body["key"]
        .as_str()
        .unwrap()
        .to_string();
    let other = json!({"summary": "Password reset"});
    let plain =
        h.ok("POST", "/projects/HD/requests", Some(&ann), Some(other)).await.body["key"].as_str().unwrap().to_string();
    let scanner = json!({"summary": "Scanner is slow"});
    let scanned = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(scanner)).await.body["key"]
        .as_str()
        .unwrap()
        .to_string();
    h.settle_stream().await;

    let routed = request(&h, &admin, &key).await;
    assert_eq!(routed["assignee"]["email"], agent_email.as_str(), "{routed}");
    assert_eq!((routed["priority"].as_str(), routed["tags"].clone()), (Some("high"), json!(["printer"])));
    assert_eq!(routed["channel"], "api");
    let notes: Vec<_> = routed["comments"].as_array().unwrap().iter().filter(|c| c["internal"] == true).collect();
    assert_eq!(notes.len(), 1, "{routed}");
    assert_eq!(notes[0]["body"], "Routed to the printer person");
    let theirs = request(&h, &ann, &key).await;
    assert!(theirs["comments"].as_array().unwrap().is_empty(), "the note never reaches the customer: {theirs}");
    assert_eq!(theirs["priority"], "high", "customers see priority");
    let untouched = request(&h, &admin, &plain).await;
    assert_eq!((untouched["priority"].as_str(), untouched["assignee"].is_null()), (Some("normal"), true));
    assert!(untouched["tags"].as_array().unwrap().is_empty());
    // The only available agent under no cap: the admin or the agent (least open first).
    assert!(!request(&h, &admin, &scanned).await["assignee"].is_null(), "auto-assigned");

    // The customer answers: the organization condition holds only once the request has one.
    let path = format!("/requests/{key}");
    h.ok("POST", &format!("{path}/comments"), Some(&ann), Some(json!({"body": "Still smoking"}))).await;
    h.settle_stream().await;
    assert_eq!(request(&h, &admin, &key).await["tags"], json!(["printer"]), "no organization yet");
    h.ok("PUT", &format!("{path}/organization"), Some(&admin), Some(json!({"organization_id": org_id}))).await;
    h.ok("POST", &format!("{path}/comments"), Some(&ann), Some(json!({"body": "Now in flames"}))).await;
    h.settle_stream().await;
    assert_eq!(request(&h, &admin, &key).await["tags"], json!(["answered"]));
    // The agent answers: the rule sets pending; the rule watching status changes stays quiet.
    h.ok("POST", &format!("{path}/comments"), Some(&agent), Some(json!({"body": "Unplug it"}))).await;
    h.settle_stream().await;
    let after = request(&h, &admin, &key).await;
    assert_eq!(after["status"], "pending", "{after}");
    assert_eq!(after["tags"], json!(["answered"]), "an automation's change triggers no automation");
    // A person's status change does reach it.
    h.ok("PATCH", &path, Some(&agent), Some(json!({"status": "open"}))).await;
    h.ok("PATCH", &path, Some(&agent), Some(json!({"status": "pending"}))).await;
    h.settle_stream().await;
    assert_eq!(request(&h, &admin, &key).await["tags"], json!(["answered", "watched"]));
}

/// The initial time rules: pending 3 days -> a reminder mailed once; 7 days -> closed (and
/// the customer told); a request pending one day, or open, is left alone.
#[tokio::test]
async fn pending_requests_are_reminded_then_closed() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    switch_on(&h, &admin, "remind-after-3-days-pending").await;
    switch_on(&h, &admin, "close-after-7-days-pending").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let mut keys = vec![];
    for summary in ["Quiet customer", "Busy customer", "Still open"] {
        let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": summary}))).await;
        keys.push(made.body["key"].as_str().unwrap().to_string());
    }
    let start = h.app.now();
    for key in &keys[..2] {
        h.ok("PATCH", &format!("/requests/{key}"), Some(&admin), Some(json!({"status": "pending"}))).await;
    }
    h.settle_stream().await;
    let before = mail_texts(&h, &ann_email).await.len();

    // Three days and an hour on: the quiet one is reminded, once, however often the run comes.
    let run = run_scheduler(&h, start + 3 * DAY + 3600).await;
    assert_eq!(run["automations"].as_array().unwrap().len(), 2, "both pending ones: {run}");
    assert_eq!(run_scheduler(&h, start + 3 * DAY + 2 * 3600).await["automations"], json!([]), "once per quiet spell");
    h.settle_stream().await;
    let texts = mail_texts(&h, &ann_email).await;
    assert_eq!(texts.len(), before + 2, "{texts:?}");
    assert!(texts[before].contains("still waiting for your answer"), "{texts:?}");
    // The busy one answers: open again, its clock starts over.
    h.ok("POST", &format!("/requests/{}/comments", keys[1]), Some(&ann), Some(json!({"body": "Here you go"}))).await;

    let run = run_scheduler(&h, start + 7 * DAY + 3600).await;
    let closed: Vec<_> = run["automations"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(closed, ["close-after-7-days-pending"], "{run}");
    let quiet = request(&h, &admin, &keys[0]).await;
    assert_eq!(quiet["status"], "closed");
    assert_eq!(request(&h, &admin, &keys[1]).await["status"], "open");
    assert_eq!(request(&h, &admin, &keys[2]).await["status"], "open");
    h.settle_stream().await;
    let texts = mail_texts(&h, &ann_email).await;
    assert!(texts.last().unwrap().contains(&format!("closed {}", keys[0])), "the customer is told: {texts:?}");
}

/// A service-level breach is an event rules can act on.
#[tokio::test]
async fn a_breach_raises_the_priority() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let day = json!(["00:00", "24:00"]);
    let sla = json!({"timezone": "UTC", "hours": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
        "targets": {"normal": {"first_reply": "1h"}}});
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": sla}))).await;
    let rule = json!({"name": "Breached", "on": "sla.breach",
        "actions": [{"type": "set_priority", "priority": "urgent"}, {"type": "add_tag", "tag": "breached"}]});
    h.ok("POST", "/projects/HD/automations", Some(&admin), Some(rule)).await;
    let warned = json!({"name": "Warned", "on": "sla.warning", "actions": [{"type": "add_tag", "tag": "warned"}]});
    h.ok("POST", "/projects/HD/automations", Some(&admin), Some(warned)).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Slow"}))).await.body;
    let key = made["key"].as_str().unwrap().to_string();
    let start = h.app.now();
    run_scheduler(&h, start + 50 * 60).await;
    h.settle_stream().await;
    assert_eq!(request(&h, &admin, &key).await["tags"], json!(["warned"]));
    run_scheduler(&h, start + 2 * 3600).await;
    h.settle_stream().await;
    let breached = request(&h, &admin, &key).await;
    assert_eq!(
        (breached["priority"].as_str(), breached["tags"].clone()),
        (Some("urgent"), json!(["breached", "warned"]))
    );
}
