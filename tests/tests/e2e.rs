//! The helpdesk through HTTP: local gateway -> handlers -> DynamoDB Local and moto's SES.

use futures::future::join_all;
use helpdesk::items::{magic_link_key, session_key};
use helpdesk::model::{MagicLink, Record};
use helpdesk::store::{Condition, Store, Write};
use helpdesk::text::sha256_hex;
use helpdesk_tests::Harness;
use serde_json::json;

#[tokio::test]
async fn customer_raises_replies_and_closes_and_the_agent_sees_it() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    let added =
        h.call("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    assert_eq!(added.status, 201, "{added:?}");
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;

    let me = h.call("GET", "/me", Some(&ann), None).await;
    assert_eq!((me.status, me.body["email"].as_str()), (200, Some(h.email("ann").as_str())));

    let created = h
        .call(
            "POST",
            "/projects/HD/requests",
            Some(&ann),
            Some(json!({"summary": "Printer on fire", "description": "Smoke"})),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.body["key"], "HD-1");
    assert_eq!(created.body["status"], "open");
    assert_eq!(created.body["reporter"], h.email("ann"));

    let reply = h.call("POST", "/requests/HD-1/comments", Some(&ann), Some(json!({"body": "Still smoking"}))).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let note = h
        .call(
            "POST",
            "/requests/HD-1/comments",
            Some(&agent),
            Some(json!({"body": "call fire dept", "internal": true})),
        )
        .await;
    assert_eq!(note.status, 201, "{note:?}");
    let answer = h.call("POST", "/requests/HD-1/comments", Some(&agent), Some(json!({"body": "On our way"}))).await;
    assert_eq!(answer.status, 201);

    let queue = h.call("GET", "/projects/HD/requests", Some(&agent), None).await;
    assert_eq!(queue.status, 200);
    assert_eq!(queue.body["items"][0]["key"], "HD-1");
    let open = h.call("GET", "/projects/HD/requests?status=open", Some(&agent), None).await;
    assert_eq!(open.body["items"].as_array().unwrap().len(), 1);

    // The customer sees the public conversation, never the internal note.
    let seen = h.call("GET", "/requests/HD-1", Some(&ann), None).await;
    let bodies: Vec<_> =
        seen.body["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Still smoking", "On our way"]);
    let seen_by_agent = h.call("GET", "/requests/HD-1", Some(&agent), None).await;
    assert_eq!(seen_by_agent.body["comments"].as_array().unwrap().len(), 3);

    let closed = h.call("POST", "/requests/HD-1/close", Some(&ann), None).await;
    assert_eq!((closed.status, closed.body["status"].as_str()), (200, Some("closed")));
    let again = h.call("POST", "/requests/HD-1/close", Some(&ann), None).await;
    assert_eq!((again.status, again.body["status"].as_str()), (200, Some("closed")));
    let open = h.call("GET", "/projects/HD/requests?status=open", Some(&agent), None).await;
    assert!(open.body["items"].as_array().unwrap().is_empty());
    let closed = h.call("GET", "/projects/HD/requests?status=closed", Some(&agent), None).await;
    assert_eq!(closed.body["items"][0]["key"], "HD-1");
    let mine = h.call("GET", "/requests?view=mine", Some(&ann), None).await;
    assert_eq!(mine.body["items"][0]["status"], "closed");
    let reopened = h.call("POST", "/requests/HD-1/reopen", Some(&agent), None).await;
    assert_eq!(reopened.body["status"], "open");

    let logout = h.call("DELETE", "/auth/session", Some(&ann), None).await;
    assert_eq!(logout.status, 204);
    assert_eq!(h.call("GET", "/me", Some(&ann), None).await.status, 401);
}

#[tokio::test]
async fn attackers_get_404_on_other_requests_and_403_on_agent_routes() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let mallory = h.sign_in(&h.email("mallory")).await;
    let created = h.call("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "private"}))).await;
    assert_eq!(created.status, 201);

    for (method, path, body) in [
        ("GET", "/requests/HD-1", None),
        ("POST", "/requests/HD-1/comments", Some(json!({"body": "hi"}))),
        ("POST", "/requests/HD-1/close", None),
        ("POST", "/requests/HD-1/reopen", None),
        ("GET", "/requests/HD-999", None),
    ] {
        let answer = h.call(method, path, Some(&mallory), body).await;
        assert_eq!((answer.status, answer.code()), (404, "not_found"), "{method} {path}");
    }
    let mine = h.call("GET", "/requests", Some(&mallory), None).await;
    assert!(mine.body["items"].as_array().unwrap().is_empty());

    for (method, path, body) in [
        ("GET", "/projects/HD/requests", None),
        ("GET", "/projects/HD", None),
        ("PATCH", "/projects/HD", Some(json!({"org_sharing": true}))),
        ("POST", "/projects/HD/agents", Some(json!({"email": h.email("mallory"), "role": "admin"}))),
        ("POST", "/projects", Some(json!({"key": "EVIL", "name": "x"}))),
    ] {
        let answer = h.call(method, path, Some(&mallory), body).await;
        assert_eq!((answer.status, answer.code()), (403, "forbidden"), "{method} {path}");
    }
    // A customer cannot slip an internal note in.
    let note =
        h.call("POST", "/requests/HD-1/comments", Some(&ann), Some(json!({"body": "x", "internal": true}))).await;
    assert_eq!(note.status, 403);
    // An agent of another project is a stranger here.
    let other = h.call("POST", "/projects", Some(&admin), Some(json!({"key": "OPS", "name": "Ops"}))).await;
    assert_eq!(other.status, 201);
    let ops_agent = h.email("ops");
    h.ok("POST", "/projects/OPS/agents", Some(&admin), Some(json!({"email": ops_agent, "role": "agent"}))).await;
    let ops = h.sign_in(&ops_agent).await;
    assert_eq!(h.call("GET", "/requests/HD-1", Some(&ops), None).await.status, 404);
    assert_eq!(h.call("GET", "/projects/HD/requests", Some(&ops), None).await.status, 403);
}

#[tokio::test]
async fn missing_bad_expired_and_reused_tokens_get_401() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    for token in [None, Some("garbage"), Some("01ABC.0000000000000000000000000000000000000000000")] {
        let answer = h.call("GET", "/me", token, None).await;
        assert_eq!((answer.status, answer.code()), (401, "unauthorized"), "{token:?}");
        assert_eq!(h.call("GET", "/requests", token, None).await.status, 401);
        let raised = h.call("POST", "/projects/HD/requests", token, Some(json!({"summary": "x"}))).await;
        assert_eq!(raised.status, 401);
    }

    // A magic link works once.
    h.ok("POST", "/auth/magic-link", None, Some(json!({"email": ann_email}))).await;
    let link = h.magic_token(&ann_email).await.unwrap();
    assert_eq!(h.call("POST", "/auth/session", None, Some(json!({"token": link}))).await.status, 201);
    let reused = h.call("POST", "/auth/session", None, Some(json!({"token": link}))).await;
    assert_eq!((reused.status, reused.code()), (401, "unauthorized"));

    // An expired link still in the table (TTL deletes lazily) is refused.
    let stale = "stale-token-stale-token-stale-token-stale-token";
    let email = helpdesk::model::EmailAddress::parse(&ann_email).unwrap();
    let link = MagicLink { token_hash: sha256_hex(stale), email, expires_at: h.app.now() - 1 };
    h.store.transact(vec![Write::Put { record: Record::MagicLink(link), condition: Condition::None }]).await.unwrap();
    assert_eq!(h.call("POST", "/auth/session", None, Some(json!({"token": stale}))).await.status, 401);
    assert!(
        h.store.get(&magic_link_key(&sha256_hex(stale))).await.unwrap().is_some(),
        "a refused link is not consumed"
    );

    // An expired session still in the table is refused.
    let token = h.sign_in(&ann_email).await;
    assert_eq!(h.call("GET", "/me", Some(&token), None).await.status, 200);
    let Some(Record::Session(mut session)) = h.store.get(&session_key(&sha256_hex(&token))).await.unwrap() else {
        panic!("session stored under the hash of its token")
    };
    session.expires_at = h.app.now() - 1;
    h.store.transact(vec![Write::Put { record: Record::Session(session), condition: Condition::None }]).await.unwrap();
    assert_eq!(h.call("GET", "/me", Some(&token), None).await.status, 401);
}

#[tokio::test]
async fn magic_links_never_enumerate_accounts_and_are_rate_limited() {
    let h = Harness::start().await;
    let nobody = h.email("nobody");
    for _ in 0..8 {
        let answer = h.call("POST", "/auth/magic-link", None, Some(json!({"email": nobody}))).await;
        assert_eq!(answer.status, 202);
    }
    let sent = h.mail_to(&nobody).await;
    assert_eq!(sent.len(), helpdesk::auth::MAGIC_LINK_LIMIT as usize, "the limit caps emails per address");
    assert!(sent[0].1.contains(&format!("{}/login?token=", h.base)));
    let bad = h.call("POST", "/auth/magic-link", None, Some(json!({"email": "not-an-address"}))).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_email"));
}

#[tokio::test]
async fn bad_input_gets_a_stable_4xx_and_writes_nothing() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    // The deployment's signing key is made on the first page served (its forms' tokens are
    // signed with it): made here, so the count below sees only what refused input wrote.
    assert_eq!(h.page("GET", "/login", "", None).await.status, 200);
    let before = h.item_count().await;
    let huge = format!(r#"{{"summary":"{}"}}"#, "x".repeat(1024 * 1024));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/projects/HD/requests", "{".into(), 400, "invalid_json"),
        ("/projects/HD/requests", "".into(), 400, "invalid_json"),
        ("/projects/HD/requests", "[]".into(), 400, "invalid_body"),
        ("/projects/HD/requests", r#"{"summary": 42}"#.into(), 400, "invalid_body"),
        ("/projects/HD/requests", r#"{"description": "no summary"}"#.into(), 400, "invalid_body"),
        ("/projects/HD/requests", r#"{"summary": "x", "surprise": 1}"#.into(), 400, "invalid_body"),
        ("/projects/HD/requests", huge, 413, "payload_too_large"),
        ("/projects/NOPE/requests", r#"{"summary": "x"}"#.into(), 404, "not_found"),
        ("/projects/HD/requests", format!(r#"{{"summary": "{}"}}"#, "x".repeat(256)), 422, "invalid_field"),
        ("/projects/HD/requests", r#"{"summary": "bell\u0007"}"#.into(), 422, "invalid_field"),
        ("/projects/HD/requests", r#"{"summary": "   "}"#.into(), 422, "invalid_field"),
        // A field takes a string, a boolean or a number (typed as the field says), never a list.
        ("/projects/HD/requests", r#"{"summary": "ok", "fields": {"a": [1]}}"#.into(), 400, "invalid_body"),
        // Who may reply is settled before the body is: there is no HD-1 to reply to.
        ("/requests/HD-1/comments", r#"{"body": ""}"#.into(), 404, "not_found"),
        ("/auth/session", r#"{"token": 1}"#.into(), 400, "invalid_body"),
    ];
    for (path, body, status, code) in cases {
        let answer = h.call_raw("POST", path, Some(&ann), Some(body.clone()), &[]).await;
        assert_eq!((answer.status, answer.code()), (status, code), "{path} {}", &body[..body.len().min(60)]);
        assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let bad_key = h
        .call_raw(
            "POST",
            "/projects/HD/requests",
            Some(&ann),
            Some(r#"{"summary":"x"}"#.into()),
            &[("idempotency-key", "")],
        )
        .await;
    assert_eq!(bad_key.status, 400);
    for (path, code) in [
        ("/requests?status=snoozed", "invalid_status"),
        ("/requests?view=everything", "invalid_view"),
        ("/requests?limit=0", "invalid_limit"),
        ("/requests?cursor=%21%21", "invalid_cursor"),
        // Empty is a wrong value too, not "absent" (schemathesis sent `view=&view=...`).
        ("/requests?view=&view=mine", "invalid_view"),
        ("/requests?status=", "invalid_status"),
        ("/requests?limit=", "invalid_limit"),
    ] {
        let answer = h.call("GET", path, Some(&ann), None).await;
        assert_eq!((answer.status, answer.code()), (400, code), "{path}");
    }
    assert_eq!(h.call("GET", "/nowhere", Some(&ann), None).await.code(), "route_not_found");
    let wrong_method = h.page("PUT", "/requests/HD-1", &format!("hd_session={ann}"), None).await;
    assert_eq!((wrong_method.status, wrong_method.header("allow")), (405, "GET, PATCH"));
    let wrong_page = h.page("DELETE", "/portal/requests/HD-1/close", "", None).await;
    assert_eq!((wrong_page.status, wrong_page.header("allow")), (405, "POST"));
    assert_eq!(h.item_count().await, before, "refused input wrote nothing");
}

#[tokio::test]
async fn concurrent_creates_never_share_a_key() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let bob = h.sign_in(&h.email("bob")).await;
    let calls = (0..24).map(|i| {
        let token = if i % 2 == 0 { &ann } else { &bob };
        h.call("POST", "/projects/HD/requests", Some(token), Some(json!({"summary": format!("r{i}")})))
    });
    let answers = join_all(calls).await;
    let mut keys: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 201, "{a:?}");
            a.body["key"].as_str().unwrap().to_string()
        })
        .collect();
    keys.sort_by_key(|k| k[3..].parse::<u32>().unwrap());
    let expected: Vec<String> = (1..=24).map(|n| format!("HD-{n}")).collect();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_makes_one_request() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let body = r#"{"summary":"once please"}"#;
    let headers = [("idempotency-key", "retry-1")];
    let first = h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(body.into()), &headers).await;
    assert_eq!(first.status, 201);
    let items = h.item_count().await;
    let again = h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(body.into()), &headers).await;
    assert_eq!((again.status, &again.body["key"]), (200, &first.body["key"]));
    assert_eq!(h.item_count().await, items, "the replay wrote nothing");
    let changed =
        h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(r#"{"summary":"other"}"#.into()), &headers).await;
    assert_eq!((changed.status, changed.code()), (422, "idempotency_key_reused"));

    // Concurrent retries of one key: all answer the same request.
    let headers = [("idempotency-key", "retry-2")];
    let racing = (0..6).map(|_| h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(body.into()), &headers));
    let answers = join_all(racing).await;
    let keys: std::collections::BTreeSet<_> = answers.iter().map(|a| a.body["key"].to_string()).collect();
    assert_eq!(keys.len(), 1, "{answers:?}");
    let mine = h.call("GET", "/requests", Some(&ann), None).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn lists_page_with_a_stable_cursor() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    for i in 1..=23 {
        let r = h.call("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": format!("r{i}")}))).await;
        assert_eq!(r.status, 201);
    }
    for (path, token) in [("/requests?limit=5", &ann), ("/projects/HD/requests?limit=5", &admin)] {
        let mut seen = vec![];
        let mut next = path.to_string();
        for page in 0.. {
            assert!(page < 100, "paging never ends");
            let page = h.call("GET", &next, Some(token), None).await;
            assert_eq!(page.status, 200, "{page:?}");
            seen.extend(page.body["items"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()));
            match page.body["next_cursor"].as_str() {
                Some(c) => next = format!("{path}&cursor={c}"),
                None => break,
            }
        }
        let expected: Vec<String> = (1..=23).rev().map(|n| format!("HD-{n}")).collect();
        assert_eq!(seen, expected, "{path}");
    }
}

#[tokio::test]
async fn project_settings_belong_to_its_admins() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let patch = json!({"org_sharing": true, "portal": {"public": false, "link_days": 7}, "participant_cap": 5});
    assert_eq!(h.call("PATCH", "/projects/HD", Some(&agent), Some(patch.clone())).await.status, 403);
    let patched = h.call("PATCH", "/projects/HD", Some(&admin), Some(patch)).await;
    assert_eq!(patched.status, 200, "{patched:?}");
    let read = h.call("GET", "/projects/HD", Some(&agent), None).await;
    assert_eq!(read.body["org_sharing"], true);
    assert_eq!(read.body["portal"], json!({"private": true, "public": false, "link_days": 7}));
    assert_eq!(read.body["participant_cap"], 5);
    assert_eq!(read.body["support_address"], "hd@desk.test");
    let bad = h.call("PATCH", "/projects/HD", Some(&admin), Some(json!({"participant_cap": 0}))).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_field"));
    for days in [0, 366] {
        let bad = h.call("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"link_days": days}}))).await;
        assert_eq!((bad.status, bad.code()), (422, "invalid_field"), "link_days {days}");
    }
    let dup = h.call("POST", "/projects", Some(&admin), Some(json!({"key": "HD", "name": "again"}))).await;
    assert_eq!((dup.status, dup.code()), (409, "project_exists"));
    let me = h.call("GET", "/me", Some(&agent), None).await;
    assert_eq!(me.body["roles"], json!({"HD": "agent"}));
}

#[tokio::test]
async fn a_retried_reply_with_the_same_idempotency_key_makes_one_comment() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "x"}))).await;
    let headers = [("idempotency-key", "reply-1")];
    let body = r#"{"body":"hello"}"#;
    let first = h.call_raw("POST", "/requests/HD-1/comments", Some(&ann), Some(body.into()), &headers).await;
    assert_eq!(first.status, 201);
    let items = h.item_count().await;
    let again = h.call_raw("POST", "/requests/HD-1/comments", Some(&ann), Some(body.into()), &headers).await;
    assert_eq!((again.status, &again.body["id"]), (200, &first.body["id"]));
    assert_eq!(h.item_count().await, items);
    let other =
        h.call_raw("POST", "/requests/HD-1/comments", Some(&ann), Some(r#"{"body":"bye"}"#.into()), &headers).await;
    assert_eq!((other.status, other.code()), (422, "idempotency_key_reused"));
    // Concurrent duplicates: one comment; the losers answer the same comment or ask to retry.
    let headers = [("idempotency-key", "reply-2")];
    let racing = (0..5).map(|_| h.call_raw("POST", "/requests/HD-1/comments", Some(&ann), Some(body.into()), &headers));
    let answers = join_all(racing).await;
    for a in &answers {
        assert!(matches!(a.status, 200 | 201 | 409), "{a:?}");
    }
    let detail = h.call("GET", "/requests/HD-1", Some(&ann), None).await;
    assert_eq!(detail.body["comment_count"], 2);
    assert_eq!(detail.body["comments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_finished_test_leaves_no_table_behind() {
    let h = Harness::start().await;
    let (table, client) = (h.table.clone(), h.store.client().clone());
    assert!(client.describe_table().table_name(&table).send().await.is_ok());
    drop(h);
    let gone = client.describe_table().table_name(&table).send().await.unwrap_err();
    assert!(gone.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()), "{gone:?}");
}

/// The store on DynamoDB Local: a one-write "transaction" is a plain conditional PutItem or
/// DeleteItem that reports a failed condition with the item as it was, as a transaction
/// would; `put_all` writes every record across BatchWriteItem's 25-item calls.
#[tokio::test]
async fn single_writes_and_batches_on_dynamodb_local() {
    use helpdesk::domain::inbound::message_key;
    use helpdesk::model::MessageRef;
    let h = Harness::start().await;
    // A store of its own on the test's table, so its counters see only this test's calls.
    let store = helpdesk::store::DynamoStore::new(h.store.client().clone(), h.table.clone());
    let reference = |id: &str, key: &str| {
        Record::MessageRef(MessageRef {
            message_id: message_key(id),
            request_key: key.into(),
            expires_at: 4_000_000_000,
            ses_id: None,
        })
    };
    let first = reference("<a@x.example>", "HD-1");
    let put = |r: &Record| Write::Put { record: r.clone(), condition: Condition::NotExists };
    store.transact(vec![put(&first)]).await.unwrap();
    store.take_metrics();
    let refused = store.transact(vec![put(&reference("<a@x.example>", "HD-2"))]).await.unwrap_err();
    assert!(refused.failed_at(0), "{refused:?}");
    assert_eq!(refused.failed_old(0), Some(&first));
    let delete = |condition| Write::Delete { key: first.key(), condition };
    let refused = store.transact(vec![delete(Condition::NotExists)]).await.unwrap_err();
    assert_eq!(refused.failed_old(0), Some(&first));
    store.transact(vec![delete(Condition::Exists)]).await.unwrap();
    assert_eq!(store.get(&first.key()).await.unwrap(), None);
    let spent = store.take_metrics();
    assert_eq!((spent.round_trips, spent.transaction_units), (4, 0.0), "one call each, no transaction");

    let many: Vec<Record> = (0..60).map(|i| reference(&format!("<m{i}@x.example>"), &format!("HD-{i}"))).collect();
    store.put_all(many.clone()).await.unwrap();
    let keys: Vec<_> = many.iter().map(Record::key).collect();
    let mut read = store.get_many(&keys).await.unwrap();
    read.sort_by_key(|r| r.key().pk);
    let mut expected = many;
    expected.sort_by_key(|r| r.key().pk);
    assert_eq!(read, expected);
}
