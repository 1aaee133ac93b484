//! Least privilege, checked: a tour of every route through the local gateway records which
//! DynamoDB and SES actions each function performs, and each function's policy in the
//! template must allow exactly those (plus the init-time warm-up calls).

use futures::future::join_all;
use helpdesk_tests::Harness;
use serde_json::json;
use std::collections::BTreeSet;

/// Called once per cold start to warm connections, outside any request.
const WARM_UP: [&str; 2] = ["dynamodb:DescribeTable", "ses:GetAccount"];

#[tokio::test]
async fn every_function_policy_allows_exactly_what_it_calls() {
    let (h, observed) = Harness::start_recording().await;
    let admin = h.admin_with_project("HD").await;
    let (ann_email, bob_email, agent_email) = (h.email("ann"), h.email("bob"), h.email("agent"));
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let ann = h.sign_in(&ann_email).await;
    let bob = h.sign_in(&bob_email).await;
    let ann_id = h.call("GET", "/me", Some(&ann), None).await.body["id"].as_str().unwrap().to_string();
    let ok = |status: u16| assert!(status < 300 || status == 303, "{status}");

    // intake: create (and a replay), contended creates, reads, lists, replies, status, release.
    let headers = [("idempotency-key", "tour")];
    for _ in 0..2 {
        ok(h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(r#"{"summary":"tour"}"#.into()), &headers)
            .await
            .status);
    }
    let creates =
        (0..8).map(|i| h.call("POST", "/projects/HD/requests", Some(&bob), Some(json!({"summary": format!("c{i}")}))));
    for answer in join_all(creates).await {
        ok(answer.status);
    }
    for (method, path, token, body) in [
        ("GET", "/projects/HD", &admin, None),
        ("PATCH", "/projects/HD", &admin, Some(json!({"org_sharing": true}))),
        // A new support address claims it and frees the old one (a Delete).
        ("PATCH", "/projects/HD", &admin, Some(json!({"support_address": "help-hd@desk.test"}))),
        ("GET", "/requests/HD-1", &ann, None),
        ("GET", "/requests?view=all", &ann, None),
        ("GET", "/projects/HD/requests?status=open", &admin, None),
        ("GET", "/projects/HD/requests", &admin, None),
        ("POST", "/requests/HD-1/comments", &ann, Some(json!({"body": "hi"}))),
        ("POST", "/requests/HD-1/close", &ann, None),
        ("POST", "/requests/HD-1/reopen", &ann, None),
        ("POST", "/requests/HD-1/release", &admin, None),
        // ownership: assign (a load moves on the team item), the owner queue, the team.
        ("PATCH", "/requests/HD-1", &admin, Some(json!({"assignee": "me", "priority": "high", "status": "pending"}))),
        ("GET", "/projects/HD/requests?assignee=me", &admin, None),
        ("GET", "/projects/HD/agents", &admin, None),
        ("PATCH", "/projects/HD", &admin, Some(json!({"assignment": {"mode": "round_robin", "cap": 5}}))),
        ("POST", "/projects/HD/requests", &ann, Some(json!({"summary": "auto-assigned"}))),
        // sharing
        ("PUT", "/admin/managed-domains", &admin, Some(json!({"domains": ["inst.example"]}))),
        ("GET", "/admin/managed-domains", &admin, None),
        ("POST", "/requests/HD-1/participants", &ann, Some(json!({"emails": [bob_email]}))),
        ("GET", "/requests/HD-1/participants", &ann, None),
        ("DELETE", &format!("/requests/HD-1/participants/{bob_email}"), &ann, None),
        ("POST", "/projects/HD/customers", &admin, Some(json!({"email": h.email("new")}))),
        ("POST", "/projects/HD/customers", &admin, Some(json!({"email": bob_email}))),
        // a merge: copies in batches, the reporter shared on the target.
        ("POST", "/requests/HD-3/merge", &admin, Some(json!({"into": "HD-4", "note": "same printer"}))),
    ] {
        let answer = h.call(method, path, Some(token), body).await;
        assert!(answer.status < 300, "{method} {path}: {answer:?}");
    }
    // organizations
    let org = h.call("POST", "/projects/HD/organizations", Some(&admin), Some(json!({"name": "Acme"}))).await;
    let org_id = org.body["id"].as_str().unwrap().to_string();
    for (method, path, body) in [
        ("POST", format!("/organizations/{org_id}/members"), Some(json!({"email": bob_email}))),
        ("DELETE", format!("/organizations/{org_id}/members/{bob_email}"), None),
        ("PUT", format!("/organizations/{org_id}/members"), Some(json!({"emails": [ann_email]}))),
        ("PUT", "/requests/HD-2/organization".to_string(), Some(json!({"organization_id": org_id}))),
        ("GET", format!("/requests/HD-2/visibility?email={ann_email}"), None),
        ("GET", "/projects/HD/organizations".to_string(), None),
        ("GET", format!("/organizations/{org_id}/members"), None),
        ("DELETE", "/requests/HD-2/organization".to_string(), None),
    ] {
        let answer = h.call(method, &path, Some(&admin), body).await;
        assert!(answer.status < 300, "{method} {path}: {answer:?}");
    }
    ok(h.call("GET", &format!("/requests?view=organization&organization={org_id}"), Some(&ann), None).await.status);
    // moderation
    for (method, path, body) in [
        ("POST", "/blocklist".to_string(), Some(json!({"rule": "suspend:x@spam.example"}))),
        ("GET", "/blocklist".to_string(), None),
        ("DELETE", "/blocklist".to_string(), Some(json!({"rule": "suspend:x@spam.example"}))),
        ("POST", format!("/users/{ann_id}/notes"), Some(json!({"body": "watch"}))),
        ("POST", format!("/users/{ann_id}/suspend"), Some(json!({"reason": "tour"}))),
        ("GET", format!("/users/{ann_id}/audit"), None),
        ("POST", format!("/users/{ann_id}/unsuspend"), None),
    ] {
        let answer = h.call(method, &path, Some(&admin), body).await;
        assert!(answer.status < 300, "{method} {path}: {answer:?}");
    }
    // web: sign-in by pages, the portal, public links.
    let login = h.page("GET", "/login", "", None).await;
    let anon = format!("hd_anon={}", login.cookie("hd_anon").unwrap());
    let carol_email = h.email("carol");
    ok(h.page("POST", "/login", &anon, Some(&[("csrf", &login.csrf()), ("email", &carol_email)])).await.status);
    let token = h.magic_token(&carol_email).await.unwrap();
    let done = h.page("POST", "/login/confirm", &anon, Some(&[("csrf", &login.csrf()), ("token", &token)])).await;
    let carol = format!("hd_session={}", done.cookie("hd_session").unwrap());
    let csrf = h.page("GET", "/portal", &carol, None).await.csrf();
    let made = h
        .page("POST", "/portal/requests", &carol, Some(&[("csrf", &csrf), ("project", "HD"), ("summary", "web")]))
        .await;
    let page = made.header("location").to_string();
    assert!(page.starts_with("/portal/requests/") && page.ends_with("?done=created"), "{made:?}");
    let page = page.trim_end_matches("?done=created").to_string();
    for (path, field) in [("/comments", ("body", "hi")), ("/participants", ("email", bob_email.as_str()))] {
        let answer = h.page("POST", &format!("{page}{path}"), &carol, Some(&[("csrf", &csrf), field])).await;
        assert_eq!(answer.status, 303, "{path}: {}", answer.text);
    }
    // files: a page's reply with a file (web stages it, the reply copies it to attachments/
    // and deletes the waiting copy); an upload's form (intake signs it), the file straight to
    // the bucket, a reply naming it (HeadObject, CopyObject, DeleteObject).
    let fields = vec![("csrf".to_string(), csrf.clone()), ("body".to_string(), "a file".to_string())];
    let form = helpdesk_tests::forms::multipart(&fields, ("a.txt", "text/plain", b"file"));
    let (status, _) = helpdesk_tests::forms::post(&format!("{}{page}/comments", h.base), &carol, form).await;
    assert_eq!(status, 303);
    let key = page.rsplit('/').next().unwrap().to_string();
    let upload = json!({"name": "b.txt", "type": "text/plain", "size": 4});
    let granted =
        h.ok("POST", &format!("/requests/{key}/attachments"), Some(&bearer_of(&carol)), Some(upload)).await.body;
    helpdesk_tests::forms::send_upload(&granted, |f| f, ("b.txt", "text/plain", b"file")).await;
    let named = json!({"body": "named", "attachments": [granted["id"]]});
    ok(h.call("POST", &format!("/requests/{key}/comments"), Some(&bearer_of(&carol)), Some(named)).await.status);
    let removed = [("csrf", csrf.as_str()), ("email", bob_email.as_str())];
    ok(h.page("POST", &format!("{page}/participants/remove"), &carol, Some(&removed)).await.status);
    ok(h.page("POST", &format!("{page}/close"), &carol, Some(&[("csrf", &csrf)])).await.status);
    // ratings (web): the closed request's page offers one; the link's page, then its form.
    let shown = h.page("GET", &page, &carol, None).await;
    let rate = shown.text.split("href=\"/csat/").nth(1).and_then(|r| r.split('?').next()).expect("a rating link");
    let rating_page = h.page("GET", &format!("/csat/{rate}"), &carol, None).await;
    let rated = [("csrf", rating_page.csrf()), ("rating", "good".to_string())];
    let rated: Vec<(&str, &str)> = rated.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ok(h.page("POST", &format!("/csat/{rate}"), &carol, Some(&rated)).await.status);
    // merges from the console (web): the confirmation page, then the merge.
    let desk = format!("hd_session={admin}");
    let confirm = h.page("GET", "/desk/requests/HD-5/merge?into=HD-6", &desk, None).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    let merge = [("csrf", confirm.csrf()), ("into", "HD-6".to_string())];
    let merge: Vec<(&str, &str)> = merge.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(h.page("POST", "/desk/requests/HD-5/merge", &desk, Some(&merge)).await.status, 303);
    // reports: the API (intake) and the console's page (web).
    ok(h.call("GET", "/projects/HD/reports", Some(&admin), None).await.status);
    ok(h.page("GET", "/desk/projects/HD/reports", &format!("hd_session={admin}"), None).await.status);
    let minted = h.call("POST", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    let link = minted.body["items"][0]["url"].as_str().unwrap().strip_prefix(&h.base).unwrap().to_string();
    ok(h.page("GET", &link, "", None).await.status);
    // Wrong addresses count; the last one locks the link, so its answer is the 404 page.
    let limit = helpdesk::domain::public_links::MAX_WRONG_EMAILS;
    for attempt in 1..=limit {
        let (csrf, eve) = (login.csrf(), h.email("eve"));
        let wrong = [("csrf", csrf.as_str()), ("email", eve.as_str()), ("body", "x")];
        let status = h.page("POST", &format!("{link}/reply"), &anon, Some(&wrong)).await.status;
        assert_eq!(status, if attempt < limit { 403 } else { 404 }, "attempt {attempt}");
    }
    assert_eq!(h.page("GET", &link, "", None).await.status, 404, "locked");
    ok(h.call("DELETE", &format!("/requests/{key}/public-links"), Some(&admin), None).await.status);
    // inbound: a new request by email (an unknown sender gets an account, a copied address is
    // shared or noted), then a reply by its reply address; notifier: the stream since the start.
    let dave = h.email("dave");
    let mail = format!(
        "From: {dave}\r\nTo: help-hd@desk.test\r\nCc: {bob_email}, {}\r\nSubject: mail\r\nMessage-ID: <tour@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nfile\r\n--b--\r\n",
        h.email("zed")
    );
    let opened = h.inbound_email(mail, "").await;
    assert_eq!(opened.body["outcome"], "created", "{opened:?}");
    let by_mail = opened.body["request"].as_str().unwrap().to_string();
    let attachment = h.ok("GET", &format!("/requests/{by_mail}"), Some(&admin), None).await.body["attachments"][0]
        ["url"]
        .as_str()
        .expect("the attachment is listed")
        .to_string();
    assert_eq!(h.page("GET", &attachment, &format!("hd_session={admin}"), None).await.status, 303);
    let minted = h.ok("POST", &format!("/requests/{by_mail}/public-links"), Some(&admin), None).await;
    let link = minted.body["items"][0]["url"].as_str().unwrap().strip_prefix(&h.base).unwrap().to_string();
    let file_id = attachment.rsplit('/').next().unwrap();
    assert_eq!(h.page("GET", &format!("{link}/attachments/{file_id}"), "", None).await.status, 303);
    // Mail arriving at once contends for request numbers (an UpdateItem takes the next one).
    let burst = (0..8).map(|i| {
        let from = h.email(&format!("burst{i}"));
        h.inbound_email(format!("From: {from}\r\nTo: help-hd@desk.test\r\nSubject: b{i}\r\n\r\nhi\r\n"), "")
    });
    for answer in join_all(burst).await {
        assert_eq!(answer.body["outcome"], "created", "{answer:?}");
    }
    ok(h.call("POST", &format!("/requests/{by_mail}/comments"), Some(&admin), Some(json!({"body": "answer"})))
        .await
        .status);
    let (_, answer) = h.run_stream().await;
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let notice = h.raw_mail_to(&dave).await.pop().expect("dave was told of the answer");
    let notice = mail_parser::MessageParser::default().parse(notice.as_bytes()).unwrap();
    let reply_to = notice.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string();
    let reply = format!("From: {dave}\r\nTo: {reply_to}\r\nSubject: re\r\nMessage-ID: <tour2@x>\r\n\r\nthanks\r\n");
    assert_eq!(h.inbound_email(reply, "").await.body["outcome"], "appended");
    // An agent's settings, then their removal (their requests unassigned through the owner index).
    let team = h.ok("GET", "/projects/HD/agents", Some(&admin), None).await.body;
    let agent = team["items"].as_array().unwrap().iter().find(|m| m["email"] == agent_email.as_str()).cloned();
    let agent_id = agent.expect("on the team")["id"].as_str().unwrap().to_string();
    let agent_path = format!("/projects/HD/agents/{agent_id}");
    ok(h.call("PUT", &agent_path, Some(&admin), Some(json!({"notify": "all"}))).await.status);
    ok(h.call("DELETE", &agent_path, Some(&admin), None).await.status);
    // automations: rules (intake) fired from the stream (the automations function): an
    // assignment moves a load on the team, tags come and go, a note and an email are written;
    // time rules fire in the scheduler's hourly sweep (a Query of the pending queue).
    let rules = [
        json!({"name": "route", "on": "request.created",
               "conditions": [{"field": "text", "op": "contains", "value": "automate"}],
               "actions": [{"type": "assign", "auto": true}, {"type": "add_tag", "tag": "auto"},
                           {"type": "add_internal_note", "body": "routed"},
                           {"type": "send_acknowledgement", "body": "thanks"}]}),
        json!({"name": "answered", "on": "comment.customer", "conditions": [{"field": "tag", "op": "is", "value": "auto"}],
               "actions": [{"type": "remove_tag", "tag": "auto"}]}),
        json!({"name": "idle", "on": "time", "status": "pending", "idle": "1h",
               "actions": [{"type": "remove_tag", "tag": "idle"}, {"type": "set_status", "status": "closed"}]}),
    ];
    for rule in rules {
        ok(h.call("POST", "/projects/HD/automations", Some(&admin), Some(rule)).await.status);
    }
    let no_cap = json!({"assignment": {"mode": "manual", "cap": null}});
    ok(h.call("PATCH", "/projects/HD", Some(&admin), Some(no_cap)).await.status);
    let listed = h.ok("GET", "/projects/HD/automations", Some(&admin), None).await.body;
    let first = listed["items"][0]["id"].as_str().unwrap().to_string();
    ok(h.call("DELETE", &format!("/projects/HD/automations/{first}"), Some(&admin), None).await.status);
    let automated = h.ok("POST", "/projects/HD/requests", Some(&bob), Some(json!({"summary": "automate me"}))).await;
    let automated = automated.body["key"].as_str().unwrap().to_string();
    h.run_stream().await;
    ok(h.call("POST", &format!("/requests/{automated}/comments"), Some(&bob), Some(json!({"body": "more"})))
        .await
        .status);
    ok(h.call("PUT", &format!("/requests/{automated}/tags/idle"), Some(&admin), None).await.status);
    ok(h.call("PATCH", &format!("/requests/{automated}"), Some(&admin), Some(json!({"status": "pending"})))
        .await
        .status);
    h.run_stream().await;
    let routed = h.ok("GET", &format!("/requests/{automated}"), Some(&admin), None).await.body;
    let fired = h.ok("GET", "/projects/HD/automations", Some(&admin), None).await.body;
    assert!(routed["tags"] == json!(["idle"]) && !routed["assignee"].is_null(), "{routed} {fired}");
    // webhooks: a target (intake), a delivery made from the stream and handed to the sender
    // (automations: an invoke), a failed attempt (the sender), its retry (the scheduler, below).
    let receiver = helpdesk_tests::receiver::Receiver::start(&[500, 200]).await;
    let hook = json!({"url": receiver.url, "events": ["request.created"]});
    let target =
        h.ok("POST", "/projects/HD/webhooks", Some(&admin), Some(hook)).await.body["id"].as_str().unwrap().to_string();
    ok(h.call("GET", "/projects/HD/webhooks", Some(&admin), None).await.status);
    ok(h.call("POST", "/projects/HD/requests", Some(&bob), Some(json!({"summary": "hooked"}))).await.status);
    h.run_stream().await;
    assert_eq!(h.run_webhooks().await[0]["outcome"], "retry");
    // scheduler: two requests on a project with service levels, run past their first-reply
    // targets (the cursor is made on the first run, moved on the next hour's).
    let sla = json!({"timezone": "UTC", "hours": {"mon": ["00:00", "24:00"], "tue": ["00:00", "24:00"],
        "wed": ["00:00", "24:00"], "thu": ["00:00", "24:00"], "fri": ["00:00", "24:00"], "sat": ["00:00", "24:00"],
        "sun": ["00:00", "24:00"]}, "targets": {"normal": {"first_reply": "1h"}}});
    ok(h.call("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": sla}))).await.status);
    for summary in ["clock 1", "clock 2"] {
        ok(h.call("POST", "/projects/HD/requests", Some(&bob), Some(json!({"summary": summary}))).await.status);
    }
    let later = helpdesk::text::rfc3339(h.app.now() + 3 * 3600);
    let run = h.call_raw("POST", "/_local/scheduler", None, Some(json!({"time": later}).to_string()), &[]).await;
    assert_eq!(run.body["breaches"].as_array().map(Vec::len), Some(2), "{run:?}");
    assert_eq!(run.body["webhook_retries"], 1, "{run:?}");
    assert_eq!(h.run_webhooks().await[0]["outcome"], "delivered");
    ok(h.call("GET", &format!("/projects/HD/webhooks/{target}/deliveries"), Some(&admin), None).await.status);
    ok(h.call("DELETE", &format!("/projects/HD/webhooks/{target}"), Some(&admin), None).await.status);
    // The same run swept the time rules: the tour's pending request was idle.
    assert_eq!(run.body["automations"].as_array().map(Vec::len), Some(1), "{run:?}");
    assert_eq!(h.ok("GET", &format!("/requests/{automated}"), Some(&admin), None).await.body["status"], "closed");
    // search: the automations handed each batch's changed requests to the indexer; it reads
    // them and the pointer, commits files and swaps the pointer, and (as every 64th commit
    // does, here three hours on) deletes what no commit names; agents and customers search.
    h.settle_search().await;
    // A new environment's indexer fetches the commit's files before writing the next one.
    let cold = h.other_environment("cold");
    let answer = helpdesk_tools::invoke::index(&cold, json!({"requests": ["HD-1"]})).await;
    assert!(answer.get("error").is_none(), "{answer}");
    // What an indexer that lost the pointer race leaves behind: a pack no commit names.
    let files = h.app.search.as_ref().unwrap().files.clone();
    files.put("packs/01LOSTRACE0000000000000000", b"lost".to_vec()).await.unwrap();
    let gc = helpdesk_tools::function::FUNCTION
        .scope("indexer", helpdesk::domain::search::collect_garbage(&h.app, h.app.now() + 3 * 3600));
    assert!(gc.await.unwrap() > 0, "the indexer's garbage collection found nothing to delete");
    ok(h.call("GET", "/projects/HD/search?q=tour", Some(&admin), None).await.status);
    let searcher = h.sign_in(&h.email("searcher")).await;
    ok(h.call("GET", "/requests/search?q=tour", Some(&searcher), None).await.status);
    // auth: logout
    ok(h.call("DELETE", "/auth/session", Some(&bob), None).await.status);

    let mut observed = observed.lock().unwrap().clone();
    // The inbound function reads the raw message from S3 itself, outside the recorded store.
    observed.entry("inbound".into()).or_default().insert("s3:GetObject".into());
    let policies = helpdesk_tools::template::policies(&helpdesk_tools::template::load());
    assert_eq!(
        observed.keys().filter(|f| !f.starts_with('(')).cloned().collect::<BTreeSet<_>>(),
        policies.keys().cloned().collect::<BTreeSet<_>>(),
        "the tour reached every function"
    );
    for (function, (allowed, indexes)) in &policies {
        let used = &observed[function];
        let needs_indexes = used.contains("dynamodb:Query (index)");
        let used: BTreeSet<String> = used.iter().map(|a| a.replace(" (index)", "")).collect();
        let missing: Vec<_> = used.difference(allowed).collect();
        assert!(missing.is_empty(), "{function} calls {missing:?} but its policy does not allow it");
        let unused: Vec<_> = allowed.iter().filter(|a| !used.contains(*a) && !WARM_UP.contains(&a.as_str())).collect();
        assert!(unused.is_empty(), "{function}'s policy allows {unused:?}, which it never calls");
        assert_eq!(*indexes, needs_indexes, "{function}: index permission should be {needs_indexes}");
    }
}

/// The bearer token of a page session cookie (`hd_session=<token>`).
fn bearer_of(cookie: &str) -> String {
    cookie.trim_start_matches("hd_session=").to_string()
}
