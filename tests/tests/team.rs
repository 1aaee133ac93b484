//! A team sharing the queue, through HTTP against DynamoDB Local and moto: PATCH of owner,
//! priority and status (If-Match), pending back to open by a customer's reply on every
//! channel, the Mine / Unassigned queues paged, auto-assignment under concurrent creates,
//! agents' availability and removal.

use futures::future::join_all;
use futures::{stream, StreamExt};
use helpdesk::store::Store;
use helpdesk_tests::{Answer, Harness};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Project HD with its admin, two more agents and a customer with a request.
struct Team {
    h: Harness,
    admin: String,
    gus: String,
    gus_email: String,
    kim: String,
    kim_email: String,
    ann: String,
}

async fn team() -> Team {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let (gus_email, kim_email) = (h.email("gus"), h.email("kim"));
    for email in [&gus_email, &kim_email] {
        h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": email, "role": "agent"}))).await;
    }
    let (gus, kim) = (h.sign_in(&gus_email).await, h.sign_in(&kim_email).await);
    let ann = h.sign_in(&h.email("ann")).await;
    Team { h, admin, gus, gus_email, kim, kim_email, ann }
}

impl Team {
    async fn raise(&self, who: &str, summary: &str) -> String {
        let made = self.h.ok("POST", "/projects/HD/requests", Some(who), Some(json!({"summary": summary}))).await;
        made.body["key"].as_str().unwrap().to_string()
    }
    async fn patch(&self, key: &str, who: &str, body: Value) -> Answer {
        self.h.call("PATCH", &format!("/requests/{key}"), Some(who), Some(body)).await
    }
    async fn patch_if(&self, key: &str, who: &str, version: &str, body: Value) -> Answer {
        let headers = [("if-match", version)];
        self.h.call_raw("PATCH", &format!("/requests/{key}"), Some(who), Some(body.to_string()), &headers).await
    }
    async fn get(&self, key: &str, who: &str) -> Value {
        self.h.ok("GET", &format!("/requests/{key}"), Some(who), None).await.body
    }
    /// Every key of a queue, paged `limit` at a time.
    async fn queue(&self, who: &str, query: &str, limit: usize) -> Vec<String> {
        let mut keys = vec![];
        let mut cursor: Option<String> = None;
        for _ in 0..50 {
            let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
            let path = format!("/projects/HD/requests?{query}&limit={limit}{after}");
            let page = self.h.ok("GET", &path, Some(who), None).await;
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= limit, "{path}");
            keys.extend(items.iter().map(|r| r["key"].as_str().unwrap().to_string()));
            cursor = page.body["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                return keys;
            }
        }
        panic!("the queue did not end");
    }
    /// Agent email -> open load, as the team item keeps it.
    async fn loads(&self) -> BTreeMap<String, u64> {
        let team = self.h.ok("GET", "/projects/HD/agents", Some(&self.admin), None).await.body;
        team["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["email"].as_str().unwrap().to_string(), m["open"].as_u64().unwrap()))
            .collect()
    }
    async fn id_of(&self, email: &str) -> String {
        let team = self.h.ok("GET", "/projects/HD/agents", Some(&self.admin), None).await.body;
        let member = team["items"].as_array().unwrap().iter().find(|m| m["email"] == email).cloned();
        member.expect("on the team")["id"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn agents_change_owner_priority_and_status_in_one_call() {
    let t = team().await;
    let key = t.raise(&t.ann, "Printer on fire").await;
    let before = t.get(&key, &t.admin).await;
    assert_eq!((before["priority"].as_str(), &before["assignee"]), (Some("normal"), &Value::Null));

    // Three fields at once: one change, one history entry each.
    let body = json!({"assignee": t.gus_email, "priority": "urgent", "status": "pending"});
    let changed = t.patch(&key, &t.admin, body).await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["assignee"]["email"], t.gus_email.as_str());
    assert_eq!((changed.body["priority"].as_str(), changed.body["status"].as_str()), (Some("urgent"), Some("pending")));
    assert_eq!(changed.body["version"].as_u64(), before["version"].as_u64().map(|v| v + 1));
    let history = t.get(&key, &t.admin).await["history"].clone();
    let actions: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["assigned", "priority_changed", "status_changed"]);
    // The same patch again changes nothing and moves no version.
    let again = t.patch(&key, &t.admin, json!({"priority": "urgent", "status": "pending"})).await;
    assert_eq!(again.body["version"], changed.body["version"]);

    // The customer sees priority and "pending", never the owner nor the assignment's history.
    let seen = t.get(&key, &t.ann).await;
    assert_eq!((seen["status"].as_str(), seen["priority"].as_str()), (Some("pending"), Some("urgent")));
    assert!(seen.get("assignee").is_none(), "{seen}");
    assert!(!seen.to_string().contains(&t.gus_email), "{seen}");
    let kinds: Vec<&str> = seen["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["priority_changed", "status_changed"]);

    // `me`, then null: unassigned.
    let mine = t.patch(&key, &t.kim, json!({"assignee": "me"})).await;
    assert_eq!(mine.body["assignee"]["email"], t.kim_email.as_str());
    let none = t.patch(&key, &t.kim, json!({"assignee": null})).await;
    assert_eq!(none.body["assignee"], Value::Null);

    // Wrong values: a 4xx with a stable code, nothing written.
    let version = t.get(&key, &t.admin).await["version"].clone();
    let ann_email = t.h.email("ann");
    for (body, status, code) in [
        (json!({"assignee": ann_email}), 422, "not_an_agent"),
        (json!({"assignee": "nobody@elsewhere.example"}), 422, "not_an_agent"),
        (json!({"assignee": "not an address"}), 422, "invalid_email"),
        (json!({"priority": "whenever"}), 400, "invalid_body"),
        (json!({"status": "held"}), 400, "invalid_body"),
        (json!({"owner": "me"}), 400, "invalid_body"),
        (json!({"priority": 3}), 400, "invalid_body"),
    ] {
        let refused = t.patch(&key, &t.admin, body.clone()).await;
        assert_eq!((refused.status, refused.code()), (status, code), "{body}: {refused:?}");
    }
    assert_eq!(t.get(&key, &t.admin).await["version"], version);

    // Who may: a customer (even the reporter) 403; a stranger 404; nobody 401.
    let customer = t.patch(&key, &t.ann, json!({"priority": "low"})).await;
    assert_eq!((customer.status, customer.code()), (403, "forbidden"));
    let eve = t.h.sign_in(&t.h.email("eve")).await;
    assert_eq!(t.patch(&key, &eve, json!({"priority": "low"})).await.status, 404);
    assert_eq!(t.h.call("PATCH", &format!("/requests/{key}"), None, Some(json!({}))).await.status, 401);
    // An agent of another project: 404, as for anything they may not see.
    t.h.ok("POST", "/projects", Some(&t.admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    let other_email = t.h.email("otto");
    t.h.ok("POST", "/projects/OT/agents", Some(&t.admin), Some(json!({"email": other_email, "role": "admin"}))).await;
    let otto = t.h.sign_in(&other_email).await;
    assert_eq!(t.patch(&key, &otto, json!({"priority": "low"})).await.status, 404);
    // ... and cannot be assigned here.
    let outsider = t.patch(&key, &t.admin, json!({"assignee": other_email})).await;
    assert_eq!((outsider.status, outsider.code()), (422, "not_an_agent"));
}

#[tokio::test]
async fn if_match_refuses_a_stale_version_with_the_current_request() {
    let t = team().await;
    let key = t.raise(&t.ann, "Invoice").await;
    let seen = t.get(&key, &t.gus).await["version"].as_u64().unwrap();
    // Kim changes it first; Gus's change, made on what he saw, is refused with what is there now.
    let kim = t.patch_if(&key, &t.kim, &format!("\"{seen}\""), json!({"assignee": "me"})).await;
    assert_eq!(kim.status, 200, "{kim:?}");
    // Kim's call again (a retry): it changes nothing, so the old If-Match does not matter.
    let again = t.patch_if(&key, &t.kim, &format!("\"{seen}\""), json!({"assignee": "me"})).await;
    assert_eq!((again.status, &again.body["version"]), (200, &kim.body["version"]));
    let stale = t.patch_if(&key, &t.gus, &format!("\"{seen}\""), json!({"assignee": "me", "priority": "high"})).await;
    assert_eq!((stale.status, stale.code()), (412, "stale_request"));
    assert_eq!(stale.body["request"]["assignee"]["email"], t.kim_email.as_str());
    assert_eq!(stale.body["request"]["version"].as_u64(), Some(seen + 1));
    let now = t.get(&key, &t.admin).await;
    assert_eq!(
        (now["priority"].as_str(), now["assignee"]["email"].as_str()),
        (Some("normal"), Some(t.kim_email.as_str()))
    );
    // With the current version it goes through; a bare number and `*` are taken too.
    let current = (seen + 1).to_string();
    assert_eq!(t.patch_if(&key, &t.gus, &current, json!({"priority": "high"})).await.status, 200);
    assert_eq!(t.patch_if(&key, &t.gus, "*", json!({"priority": "low"})).await.status, 200);
    let bad = t.patch_if(&key, &t.gus, "yesterday", json!({"priority": "low"})).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_if_match"));
    // A customer learns nothing from a stale version: 403 before any comparison.
    let customer = t.patch_if(&key, &t.ann, "\"1\"", json!({"priority": "low"})).await;
    assert_eq!(customer.status, 403);
}

#[tokio::test]
async fn a_customer_reply_moves_pending_back_to_open_by_api_portal_and_email() {
    let t = team().await;
    let ann_email = t.h.email("ann");
    let key = t.raise(&t.ann, "Where is my order").await;
    let pending = || t.patch(&key, &t.gus, json!({"status": "pending"}));
    let status = || async { t.get(&key, &t.admin).await["status"].as_str().unwrap().to_string() };

    // An agent's reply leaves it pending; the customer's reply opens it again.
    assert_eq!(pending().await.body["status"], "pending");
    t.h.ok("POST", &format!("/requests/{key}/comments"), Some(&t.gus), Some(json!({"body": "Which order?"}))).await;
    t.h.ok("POST", &format!("/requests/{key}/comments"), Some(&t.gus), Some(json!({"body": "x", "internal": true})))
        .await;
    assert_eq!(status().await, "pending");
    t.h.ok("POST", &format!("/requests/{key}/comments"), Some(&t.ann), Some(json!({"body": "Order 42"}))).await;
    assert_eq!(status().await, "open");

    // From the portal page (the customer's session cookie and the form's CSRF token).
    pending().await;
    let cookie = format!("hd_session={}", t.ann);
    let page = t.h.page("GET", &format!("/portal/requests/{key}"), &cookie, None).await;
    assert!(page.text.contains("Waiting for your reply"), "the customer reads what pending means");
    let form = [("csrf", page.csrf()), ("body", "Still nothing".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let posted = t.h.page("POST", &format!("/portal/requests/{key}/comments"), &cookie, Some(&form)).await;
    assert_eq!(posted.status, 303, "{}", posted.text);
    assert_eq!(status().await, "open");

    // By email: Ann answers the notification of Gus's reply at its signed reply address.
    pending().await;
    t.h.run_stream().await;
    t.h.ok("POST", &format!("/requests/{key}/comments"), Some(&t.gus), Some(json!({"body": "Any news?"}))).await;
    let (_, answer) = t.h.run_stream().await;
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let raw = t.h.raw_mail_to(&ann_email).await;
    let mail = mail_parser::MessageParser::default().parse(raw.last().unwrap().as_bytes()).unwrap();
    assert!(mail.body_text(0).unwrap().contains("Any news?"));
    let reply_to = mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string();
    let reply = format!(
        "From: {ann_email}\r\nTo: {reply_to}\r\nSubject: Re: [{key}]\r\nMessage-ID: <ann-1@example.com>\r\n\r\nHere it is.\r\n"
    );
    let outcome = t.h.inbound_email(reply, "message_id=ses-ann-1").await;
    assert_eq!(outcome.body, json!({"outcome": "appended", "request": key}), "{outcome:?}");
    assert_eq!(status().await, "open");
    // Open <-> pending sends nobody a status email: only the replies themselves were mailed.
    let to_ann: Vec<String> = t.h.raw_mail_to(&ann_email).await;
    assert!(to_ann.iter().all(|m| !m.contains("reopened")), "no reopen notice for pending -> open");
}

#[tokio::test]
async fn mine_and_unassigned_queues_page_over_120_requests_with_filters() {
    let t = team().await;
    let mut keys = vec![];
    for i in 0..120 {
        keys.push(t.raise(&t.ann, &format!("r{i}")).await);
    }
    // Every third to Gus, every third + 1 to Kim, the rest unassigned; some pending, some
    // closed, some urgent.
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let t = &t;
    let changes = keys.iter().enumerate().map(|(i, key)| {
        let owner = match i % 3 {
            0 => json!(t.gus_email),
            1 => json!(t.kim_email),
            _ => Value::Null,
        };
        let status = match i % 5 {
            0 => "pending",
            1 => "closed",
            _ => "open",
        };
        let priority = if i % 4 == 0 { "urgent" } else { "normal" };
        let bucket = match (i % 3, status, priority) {
            (0, "open", _) => "gus-open",
            (0, _, _) => "gus-other",
            (1, _, _) => "kim",
            (_, "open", "urgent") => "none-open-urgent",
            (_, "open", _) => "none-open",
            _ => "none-other",
        };
        expected.entry(bucket).or_default().push(key.clone());
        async move {
            let answer =
                t.patch(key, &t.admin, json!({"assignee": owner, "status": status, "priority": priority})).await;
            assert_eq!(answer.status, 200, "{answer:?}");
        }
    });
    // A few at a time, as a team works: changes that move loads of one project serialize on
    // its team item (see docs/access-patterns.md).
    stream::iter(changes).buffer_unordered(6).collect::<Vec<_>>().await;
    let newest_first = |buckets: &[&str]| {
        let mut all: Vec<String> = buckets.iter().flat_map(|b| expected.get(b).cloned().unwrap_or_default()).collect();
        all.sort_by_key(|k| std::cmp::Reverse(k.trim_start_matches("HD-").parse::<u32>().unwrap()));
        all
    };
    // Gus's open requests, 7 a page; all of his (open, pending and closed merged).
    assert_eq!(t.queue(&t.gus, "assignee=me&status=open", 7).await, newest_first(&["gus-open"]));
    assert_eq!(t.queue(&t.gus, "assignee=me", 9).await, newest_first(&["gus-open", "gus-other"]));
    // Kim's, asked for by address (by Gus).
    let kims = format!("assignee={}", t.kim_email.replace('+', "%2B").replace('@', "%40"));
    assert_eq!(t.queue(&t.gus, &kims, 25).await, newest_first(&["kim"]));
    // Unassigned and open, and of those the urgent ones.
    assert_eq!(t.queue(&t.kim, "assignee=none&status=open", 6).await, newest_first(&["none-open-urgent", "none-open"]));
    assert_eq!(
        t.queue(&t.kim, "assignee=none&status=open&priority=urgent", 4).await,
        newest_first(&["none-open-urgent"])
    );
    // The whole queue with three statuses merged still has every request once.
    assert_eq!(t.queue(&t.admin, "status=pending", 10).await.len(), 24);
    assert_eq!(t.queue(&t.admin, "x=1", 25).await.len(), 120);
    // Filters that make no sense are refused, to agents only.
    for (query, code) in [
        ("assignee=someone", "invalid_assignee"),
        ("priority=soon", "invalid_priority"),
        ("sort=updated", "invalid_sort"),
        ("sort=due&tag=x", "invalid_sort"),
        ("status=held&assignee=me", "invalid_status"),
    ] {
        let bad = t.h.call("GET", &format!("/projects/HD/requests?{query}"), Some(&t.gus), None).await;
        assert_eq!((bad.status, bad.code()), (400, code), "{query}");
        let customer = t.h.call("GET", &format!("/projects/HD/requests?{query}"), Some(&t.ann), None).await;
        assert_eq!(customer.status, 403, "{query}");
    }
    // A customer never reads an agent's queue.
    assert_eq!(t.h.call("GET", "/projects/HD/requests?assignee=me", Some(&t.ann), None).await.status, 403);
    // Loads: the team item counts each agent's open and pending requests.
    let loads = t.loads().await;
    let active = |who: &str| newest_first(&[who]).len() as u64;
    assert_eq!(loads[&t.gus_email], active("gus-open") + 8, "open + pending of 40: {loads:?}");
    assert_eq!(loads[&t.kim_email], 40 - 8, "{loads:?}");
}

#[tokio::test]
async fn auto_assignment_never_passes_the_cap_under_concurrent_creates() {
    for mode in ["round_robin", "least_open"] {
        let t = team().await;
        let settings = json!({"assignment": {"mode": mode, "cap": 2}});
        t.h.ok("PATCH", "/projects/HD", Some(&t.admin), Some(settings)).await;
        let admin_email = t.h.email("admin");
        let t = &t;
        // Three agents take requests: Gus, Kim and the admin.
        let creates =
            (0..20).map(|i| {
                let summary = format!("burst {i}");
                async move {
                    t.h.call("POST", "/projects/HD/requests", Some(&t.ann), Some(json!({"summary": summary}))).await
                }
            });
        let answers = join_all(creates).await;
        let mut per_agent: BTreeMap<String, usize> = BTreeMap::new();
        let mut unassigned = 0;
        for answer in &answers {
            assert_eq!(answer.status, 201, "{mode}: {answer:?}");
            let key = answer.body["key"].as_str().unwrap();
            // The creator (a customer) is not told who; an agent reads it.
            assert!(answer.body.get("assignee").is_none());
            match t.get(key, &t.admin).await["assignee"]["email"].as_str() {
                Some(email) => *per_agent.entry(email.to_string()).or_default() += 1,
                None => unassigned += 1,
            }
        }
        let expected: BTreeMap<String, usize> =
            [(admin_email.clone(), 2), (t.gus_email.clone(), 2), (t.kim_email.clone(), 2)].into_iter().collect();
        assert_eq!((per_agent, unassigned), (expected, 14), "{mode}");
        let loads = t.loads().await;
        assert!(loads.values().all(|open| *open == 2), "{mode}: {loads:?}");

        // Gus closes one: his place goes to the next new request.
        let gus_queue = t.queue(&t.gus, "assignee=me", 25).await;
        t.h.ok("POST", &format!("/requests/{}/close", gus_queue[0]), Some(&t.gus), None).await;
        assert_eq!(t.loads().await[&t.gus_email], 1);
        let next = t.raise(&t.ann, "after the close").await;
        assert_eq!(t.get(&next, &t.admin).await["assignee"]["email"], t.gus_email.as_str(), "{mode}");

        // An agent who is away gets nothing; only they or an admin may say so.
        let kim_id = t.id_of(&t.kim_email).await;
        let path = format!("/projects/HD/agents/{kim_id}");
        let by_gus = t.h.call("PUT", &path, Some(&t.gus), Some(json!({"available": true}))).await;
        assert_eq!(by_gus.status, 403);
        let away = t.h.ok("PUT", &path, Some(&t.kim), Some(json!({"available": false, "notify": "all"}))).await;
        assert_eq!((away.body["available"].as_bool(), away.body["notify"].as_str()), (Some(false), Some("all")));
        t.h.ok("POST", &format!("/requests/{}/close", t.queue(&t.kim, "assignee=me", 25).await[0]), Some(&t.kim), None)
            .await;
        let later = t.raise(&t.ann, "while Kim is away").await;
        assert_eq!(t.get(&later, &t.admin).await["assignee"], Value::Null, "{mode}");
    }
}

#[tokio::test]
async fn removing_an_agent_unassigns_their_open_requests() {
    let t = team().await;
    let mut gus_keys = vec![];
    for i in 0..4 {
        let key = t.raise(&t.ann, &format!("g{i}")).await;
        t.patch(&key, &t.gus, json!({"assignee": "me"})).await;
        gus_keys.push(key);
    }
    t.patch(&gus_keys[0], &t.gus, json!({"status": "closed"})).await;
    t.patch(&gus_keys[1], &t.gus, json!({"status": "pending"})).await;
    let gus_id = t.id_of(&t.gus_email).await;
    let path = format!("/projects/HD/agents/{gus_id}");
    // Only a project admin removes an agent.
    assert_eq!(t.h.call("DELETE", &path, Some(&t.kim), None).await.status, 403);
    let removed = t.h.ok("DELETE", &path, Some(&t.admin), None).await;
    let mut unassigned: Vec<String> =
        removed.body["unassigned"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect();
    unassigned.sort();
    assert_eq!(unassigned, gus_keys[1..].to_vec());
    for key in &gus_keys[1..] {
        assert_eq!(t.get(key, &t.admin).await["assignee"], Value::Null);
    }
    // The closed one keeps its history of who owned it.
    assert_eq!(t.get(&gus_keys[0], &t.admin).await["assignee"]["email"], t.gus_email.as_str());
    // Gus is no agent there any more: the queue and the request are closed to him.
    assert_eq!(t.h.call("GET", "/projects/HD/requests", Some(&t.gus), None).await.status, 403);
    assert_eq!(t.h.call("GET", &format!("/requests/{}", gus_keys[1]), Some(&t.gus), None).await.status, 404);
    assert!(!t.loads().await.contains_key(&t.gus_email));
    // Again: nothing left to do.
    assert_eq!(t.h.call("DELETE", &path, Some(&t.admin), None).await.status, 404);
    let reassign = t.patch(&gus_keys[2], &t.admin, json!({"assignee": t.gus_email})).await;
    assert_eq!((reassign.status, reassign.code()), (422, "not_an_agent"));
}

#[tokio::test]
async fn seen_version_holds_a_reply_when_someone_else_wrote_since() {
    let t = team().await;
    let key = t.raise(&t.ann, "Refund").await;
    let seen = t.get(&key, &t.gus).await["version"].as_u64().unwrap();
    let t = &t;
    let comment = |who: &str, body: Value| {
        let path = format!("/requests/{key}/comments");
        let who = who.to_string();
        async move { t.h.call("POST", &path, Some(&who), Some(body)).await }
    };
    // Gus's own note and reply since do not hold him; without seen_version nothing is checked.
    assert_eq!(comment(&t.gus, json!({"body": "note", "internal": true, "seen_version": seen})).await.status, 201);
    assert_eq!(comment(&t.gus, json!({"body": "On it", "seen_version": seen})).await.status, 201);
    // Kim answers meanwhile: Gus's reply on the old version is held, the API says why.
    assert_eq!(comment(&t.kim, json!({"body": "Refunded"})).await.status, 201);
    let held = comment(&t.gus, json!({"body": "We will look", "seen_version": seen})).await;
    assert_eq!((held.status, held.code()), (409, "stale_view"), "{held:?}");
    // So is a close on that version; the current version passes.
    let close = t.h.call("POST", &format!("/requests/{key}/close"), Some(&t.gus), None).await;
    assert_eq!(close.status, 200, "no seen_version: no check");
    let now = t.get(&key, &t.gus).await["version"].as_u64().unwrap();
    let reopen = |seen: u64| {
        let path = format!("/requests/{key}/reopen?seen_version={seen}");
        async move { t.h.call("POST", &path, Some(&t.kim), None).await }
    };
    let stale = reopen(seen).await;
    assert_eq!((stale.status, stale.code()), (409, "stale_view"), "Gus wrote since");
    assert_eq!(reopen(now).await.status, 200);
    let bad = t.h.call("POST", &format!("/requests/{key}/close?seen_version=x"), Some(&t.gus), None).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_seen_version"));
    let now = t.get(&key, &t.gus).await["version"].as_u64().unwrap();
    assert_eq!(comment(&t.gus, json!({"body": "Closed it", "seen_version": now})).await.status, 201);
    // An internal note by Kim is nobody's public reply: it holds no one.
    assert_eq!(comment(&t.kim, json!({"body": "fyi", "internal": true})).await.status, 201);
    assert_eq!(comment(&t.gus, json!({"body": "Anything else?", "seen_version": now + 1})).await.status, 201);
    // Customers never see the version (internal notes move it): not in the body, not as an
    // ETag; agents see both.
    let as_customer = t.h.call("GET", &format!("/requests/{key}"), Some(&t.ann), None).await;
    assert!(as_customer.body.get("version").is_none(), "{:?}", as_customer.body);
    let raw =
        reqwest::Client::new().get(format!("{}/requests/{key}", t.h.base)).bearer_auth(&t.ann).send().await.unwrap();
    assert!(raw.headers().get("etag").is_none());
    let raw =
        reqwest::Client::new().get(format!("{}/requests/{key}", t.h.base)).bearer_auth(&t.gus).send().await.unwrap();
    assert!(raw.headers().get("etag").is_some());
    // A bad seen_version is reported only to whoever may see the request.
    let eve = t.h.sign_in(&t.h.email("eve")).await;
    let stranger = t.h.call("POST", &format!("/requests/{key}/close?seen_version=x"), Some(&eve), None).await;
    assert_eq!(stranger.status, 404);
}

/// A request written before the owner and activity indexes existed is in no Mine /
/// Unassigned queue and no queue by activity until `helpdesk-admin index-requests` rewrites
/// it (as it was: no event, no version change).
#[tokio::test]
async fn index_requests_puts_older_requests_in_the_owner_and_activity_queues() {
    let t = team().await;
    let key = t.raise(&t.ann, "From before").await;
    // Make it look as written by the earlier code: no gsi5 or gsi6 keys, no priority.
    let mut item =
        helpdesk::items::dynamo::to_item(&t.h.store.get(&helpdesk::items::request_key(&key)).await.unwrap().unwrap());
    for old in ["gsi5pk", "gsi5sk", "gsi6pk", "gsi6sk", "priority"] {
        item.remove(old);
    }
    t.h.store.client().put_item().table_name(&t.h.table).set_item(Some(item)).send().await.unwrap();
    assert!(t.queue(&t.gus, "assignee=none", 25).await.is_empty(), "not in the owner index yet");
    assert!(t.queue(&t.gus, "sort=activity", 25).await.is_empty(), "nor in the activity index");
    assert_eq!(t.queue(&t.gus, "x=1", 25).await, vec![key.clone()], "in the whole queue all the same");
    let before = t.get(&key, &t.admin).await;
    assert_eq!(helpdesk::domain::requests::index_requests(&t.h.app, "HD").await.unwrap(), 1);
    assert_eq!(t.queue(&t.gus, "assignee=none", 25).await, vec![key.clone()]);
    assert_eq!(t.queue(&t.gus, "sort=activity", 25).await, vec![key.clone()]);
    let after = t.get(&key, &t.admin).await;
    assert_eq!((after["version"].clone(), after["priority"].as_str()), (before["version"].clone(), Some("normal")));
    assert_eq!(helpdesk::domain::requests::index_requests(&t.h.app, "HD").await.unwrap(), 1, "again: the same");
}

#[path = "team/mail.rs"]
mod mail;
