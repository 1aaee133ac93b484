//! Search through HTTP on DynamoDB Local and moto: the stream's automations hand changed
//! requests to the indexer, which commits tantivy segments to the bucket and swaps the
//! pointer in the table; agents and customers search through the intake routes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use helpdesk::store::Store;
use helpdesk_tests::Harness;
use serde_json::{json, Value};
use std::collections::BTreeSet;

async fn raise(h: &Harness, token: &str, summary: &str, description: &str) -> String {
    let body = json!({"summary": summary, "description": description});
    let made = h.ok("POST", "/projects/HD/requests", Some(token), Some(body)).await;
    made.body["key"].as_str().unwrap().to_string()
}

async fn comment(h: &Harness, token: &str, key: &str, body: &str, internal: bool) {
    h.ok("POST", &format!("/requests/{key}/comments"), Some(token), Some(json!({"body": body, "internal": internal})))
        .await;
}

fn query(q: &str) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair("q", q).finish()
}

/// The keys an agent's search of project HD finds, sorted.
async fn agent_finds(h: &Harness, token: &str, q: &str) -> Vec<String> {
    let found = h.ok("GET", &format!("/projects/HD/search?{}", query(q)), Some(token), None).await.body;
    keys_of(&found)
}

async fn customer_finds(h: &Harness, token: &str, q: &str) -> Value {
    h.ok("GET", &format!("/requests/search?{}", query(q)), Some(token), None).await.body
}

fn keys_of(found: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        found["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap().to_string()).collect();
    keys.sort();
    keys
}

struct Desk {
    h: Harness,
    agent: String,
    agent_email: String,
    ann: String,
    ann_email: String,
    cat: String,
}

async fn desk() -> Desk {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let cat = h.sign_in(&h.email("cat")).await;
    Desk { h, agent, agent_email, ann, ann_email, cat }
}

#[tokio::test]
async fn agents_find_words_stems_phrases_prefixes_cjk_and_filters_customers_their_public_text_only() {
    let Desk { h, agent, agent_email, ann, ann_email, cat } = desk().await;
    let printer = raise(&h, &ann, "Printer jammed on floor 3", "The printers on floor three keep jamming.").await;
    let invoice = raise(&h, &ann, "Invoice 2291 is wrong", "Billed twice in November.").await;
    let cjk = raise(&h, &cat, "打印机坏了", "办公室的打印机不能用").await;
    comment(&h, &agent, &printer, "Try the paper tray first.", false).await;
    comment(&h, &agent, &invoice, "Refund approved by zebrafish finance.", true).await;
    h.ok("PUT", &format!("/requests/{invoice}/tags/billing"), Some(&agent), None).await;
    let triage = json!({"assignee": agent_email, "priority": "urgent"});
    h.ok("PATCH", &format!("/requests/{printer}"), Some(&agent), Some(triage)).await;
    h.ok("POST", &format!("/requests/{cjk}/close"), Some(&agent), None).await;
    h.ok("PUT", &format!("/requests/{cjk}/form"), Some(&agent), Some(json!({"form": "support-ops"}))).await;
    let org = h.ok("POST", "/projects/HD/organizations", Some(&agent), Some(json!({"name": "Acme"}))).await;
    let org = org.body["id"].as_str().unwrap().to_string();
    h.ok("PUT", &format!("/requests/{invoice}/organization"), Some(&agent), Some(json!({"organization_id": org})))
        .await;
    h.settle_search().await;

    // Words, stems, phrases, prefixes, CJK.
    assert_eq!(agent_finds(&h, &agent, "printers").await, one(&printer));
    assert_eq!(agent_finds(&h, &agent, "jam").await, one(&printer), "jammed and jamming stem to jam");
    assert_eq!(agent_finds(&h, &agent, "\"paper tray\"").await, one(&printer));
    assert!(agent_finds(&h, &agent, "\"tray paper\"").await.is_empty());
    assert_eq!(agent_finds(&h, &agent, "invoi*").await, one(&invoice));
    assert_eq!(agent_finds(&h, &agent, "打印机").await, one(&cjk));
    assert_eq!(agent_finds(&h, &agent, "floor printer").await, one(&printer), "all words must match");
    assert!(agent_finds(&h, &agent, "floor invoice").await.is_empty());
    // The agent finds an internal note's words, and requesters by address.
    assert_eq!(agent_finds(&h, &agent, "zebrafish").await, one(&invoice));
    assert_eq!(agent_finds(&h, &agent, &ann_email).await, sorted([&printer, &invoice]));
    // Filters.
    assert_eq!(agent_finds(&h, &agent, "tag:billing").await, one(&invoice));
    assert_eq!(agent_finds(&h, &agent, "status:closed").await, one(&cjk));
    assert_eq!(agent_finds(&h, &agent, "status:open priority:urgent").await, one(&printer));
    assert_eq!(agent_finds(&h, &agent, "assignee:me").await, one(&printer));
    assert_eq!(agent_finds(&h, &agent, &format!("assignee:{agent_email}")).await, one(&printer));
    assert_eq!(agent_finds(&h, &agent, "assignee:none").await, sorted([&invoice, &cjk]));
    assert_eq!(agent_finds(&h, &agent, &format!("requester:{ann_email}")).await, sorted([&printer, &invoice]));
    assert_eq!(agent_finds(&h, &agent, "form:support-ops").await, one(&cjk));
    assert_eq!(agent_finds(&h, &agent, "form:default").await, sorted([&printer, &invoice]));
    assert_eq!(agent_finds(&h, &agent, &format!("org:{org}")).await, one(&invoice));
    assert_eq!(agent_finds(&h, &agent, "created>2000-01-01").await.len(), 3);
    assert!(agent_finds(&h, &agent, "created<2000-01-01 updated>2000-01-01").await.is_empty());

    // An answer names the match in its snippet and carries the request as it is now.
    let found = h.ok("GET", &format!("/projects/HD/search?{}", query("zebrafish")), Some(&agent), None).await.body;
    assert_eq!(found["total"], 1);
    let item = &found["items"][0];
    assert!(item["snippet"].as_str().unwrap().contains("<mark>zebrafish</mark>"), "{item}");
    assert_eq!((&item["status"], &item["summary"]), (&json!("open"), &json!("Invoice 2291 is wrong")));
    // Newest change first with sort=updated.
    let by_updated = h.ok("GET", "/projects/HD/search?sort=updated", Some(&agent), None).await.body;
    let times: Vec<&str> =
        by_updated["items"].as_array().unwrap().iter().map(|i| i["updated_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // The customer: public text of their own requests, never a note's word, not even a count.
    let mine = customer_finds(&h, &ann, "invoice").await;
    assert_eq!(keys_of(&mine), one(&invoice));
    assert!(mine["items"][0].get("assignee").is_none(), "customers see no assignee: {mine}");
    let note = customer_finds(&h, &ann, "zebrafish").await;
    assert_eq!((keys_of(&note).len(), &note["total"]), (0, &json!(0)), "{note}");
    let others = customer_finds(&h, &ann, "打印机").await;
    assert_eq!((keys_of(&others).len(), &others["total"]), (0, &json!(0)), "another customer's request: {others}");
    assert_eq!(keys_of(&customer_finds(&h, &cat, "打印机").await), one(&cjk));
    // Requester addresses are agents' search terms only, and so are agents' own filters.
    assert_eq!(customer_finds(&h, &cat, &ann_email).await["total"], 0);
    for q in ["tag:billing", "status:held", "assignee:me", "assignee:none", &format!("requester:{ann_email}")] {
        let refused = h.call("GET", &format!("/requests/search?{}", query(q)), Some(&ann), None).await;
        assert_eq!((refused.status, refused.body["error"]["code"].as_str()), (400, Some("invalid_query")), "{q}");
    }
    assert_eq!(keys_of(&customer_finds(&h, &ann, "status:open invoice").await), one(&invoice));

    // Refusals: who, then what.
    assert_eq!(h.call("GET", "/projects/HD/search?q=invoice", Some(&ann), None).await.status, 403);
    assert_eq!(h.call("GET", "/projects/HD/search?q=invoice", None, None).await.status, 401);
    assert_eq!(h.call("GET", "/requests/search?q=invoice", None, None).await.status, 401);
    for (q, code) in [("status:lost", "invalid_query"), ("created>soon", "invalid_query"), ("\"open", "invalid_query")]
    {
        let refused = h.call("GET", &format!("/projects/HD/search?{}", query(q)), Some(&agent), None).await;
        assert_eq!((refused.status, refused.body["error"]["code"].as_str()), (400, Some(code)), "{q}");
    }
    let bad_sort = h.call("GET", "/projects/HD/search?sort=stars", Some(&agent), None).await;
    assert_eq!(bad_sort.body["error"]["code"], "invalid_sort");
    let forged = h.call("GET", "/projects/HD/search?cursor=bm9wZQ", Some(&agent), None).await;
    assert_eq!(forged.body["error"]["code"], "invalid_cursor");
}

fn one(key: &str) -> Vec<String> {
    vec![key.to_string()]
}

fn sorted<'a>(keys: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    keys.into_iter().cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

#[tokio::test]
async fn a_customer_finds_an_organizations_request_only_while_it_is_shared_with_them() {
    let Desk { h, agent, ann, cat, .. } = desk().await;
    let admin = h.sign_in(&h.email("admin")).await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"org_sharing": true}))).await;
    let org = h.ok("POST", "/projects/HD/organizations", Some(&agent), Some(json!({"name": "Acme"}))).await;
    let org = org.body["id"].as_str().unwrap().to_string();
    for email in [h.email("ann"), h.email("cat")] {
        h.ok("POST", &format!("/organizations/{org}/members"), Some(&agent), Some(json!({"email": email}))).await;
    }
    // A member's request is the organization's from the start.
    let cats = raise(&h, &cat, "Projector flickers", "In room B").await;
    h.settle_search().await;
    assert_eq!(keys_of(&customer_finds(&h, &ann, "projector").await), one(&cats));

    h.ok("DELETE", &format!("/requests/{cats}/organization"), Some(&agent), None).await;
    h.settle_search().await;
    let gone = customer_finds(&h, &ann, "projector").await;
    assert_eq!((keys_of(&gone).len(), &gone["total"]), (0, &json!(0)), "{gone}");

    h.ok("PUT", &format!("/requests/{cats}/organization"), Some(&agent), Some(json!({"organization_id": org}))).await;
    h.settle_search().await;
    assert_eq!(keys_of(&customer_finds(&h, &ann, "projector").await), one(&cats));
    // Sharing off in the project: not even counted.
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"org_sharing": false}))).await;
    let off = customer_finds(&h, &ann, "projector").await;
    assert_eq!((keys_of(&off).len(), &off["total"]), (0, &json!(0)), "{off}");
    assert_eq!(keys_of(&customer_finds(&h, &cat, "projector").await), one(&cats), "the reporter still does");
}

#[tokio::test]
async fn pages_follow_one_commit_without_repeats_or_gaps_while_requests_change() {
    let Desk { h, agent, ann, .. } = desk().await;
    let mut all = BTreeSet::new();
    for n in 0..7 {
        all.insert(raise(&h, &ann, &format!("Widget {n} broke"), "widget").await);
    }
    h.settle_search().await;
    let first = h.ok("GET", "/projects/HD/search?q=widget&limit=3&sort=updated", Some(&agent), None).await.body;
    assert_eq!(first["total"], 7);
    let mut seen: Vec<String> = keys_of(&first);
    // A request not shown yet changes (its updated_at moves it to the top) and a new one
    // matches: the pages already begun neither repeat nor skip.
    let later = all.iter().find(|k| !seen.contains(k)).unwrap().clone();
    h.ok("POST", &format!("/requests/{later}/close"), Some(&agent), None).await;
    raise(&h, &ann, "Widget 8 broke", "widget").await;
    h.settle_search().await;
    let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
    loop {
        let page = h
            .ok(
                "GET",
                &format!("/projects/HD/search?q=widget&limit=3&sort=updated&cursor={cursor}"),
                Some(&agent),
                None,
            )
            .await
            .body;
        seen.extend(keys_of(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);
    // The closed request shows as it is now.
    let fresh = h.ok("GET", "/projects/HD/search?q=widget", Some(&agent), None).await.body;
    assert_eq!(fresh["total"], 8);
    let closed = fresh["items"].as_array().unwrap().iter().find(|i| i["key"] == later.as_str()).unwrap();
    assert_eq!(closed["status"], "closed");
    // A cursor whose offset was made up past the deepest page: refused, nothing ranked.
    let first_cursor = first["next_cursor"].as_str().unwrap();
    let mut parts: Vec<String> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(first_cursor).unwrap()).unwrap();
    parts[1] = "1000000000000".into();
    let deep = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&parts).unwrap());
    let refused = h
        .call("GET", &format!("/projects/HD/search?q=widget&limit=3&sort=updated&cursor={deep}"), Some(&agent), None)
        .await;
    assert_eq!((refused.status, refused.body["error"]["code"].as_str()), (400, Some("invalid_cursor")));
    // A cursor continues its own search only.
    let other = h
        .call("GET", &format!("/projects/HD/search?q=broke&limit=3&sort=updated&cursor={cursor}"), Some(&agent), None)
        .await;
    assert_eq!(other.body["error"]["code"], "invalid_cursor");
}

#[tokio::test]
async fn replayed_and_racing_indexer_invocations_lose_nothing_and_duplicate_nothing() {
    let Desk { h, agent, ann, .. } = desk().await;
    let a = raise(&h, &ann, "Kettle leaks", "kitchen").await;
    let b = raise(&h, &ann, "Kettle whistles", "kitchen").await;
    h.settle_stream().await;
    let invocations = h.take_index_invocations().await;
    assert!(!invocations.is_empty());
    // Delivered twice, as Lambda may.
    for payload in invocations.iter().chain(invocations.iter()) {
        let answer = helpdesk_tools::invoke::index(&h.app, payload.clone()).await;
        assert!(answer.get("error").is_none(), "{answer}");
    }
    let found = h.ok("GET", "/projects/HD/search?q=kettle", Some(&agent), None).await.body;
    assert_eq!((found["total"].as_u64(), keys_of(&found)), (Some(2), sorted([&a, &b])));

    // Two indexers, each with its own local files (two Lambda environments), at once.
    let other = h.other_environment("race");
    let (mut keys, mut retries) = (vec![], 0);
    for n in 0..4 {
        let (x, y) = (
            raise(&h, &ann, &format!("Kettle {n} hums"), "").await,
            raise(&h, &ann, &format!("Kettle {n} rattles"), "").await,
        );
        let (one, two) = tokio::join!(
            helpdesk::domain::search::index_requests(&h.app, std::slice::from_ref(&x)),
            helpdesk::domain::search::index_requests(&other, std::slice::from_ref(&y)),
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_ne!(one.version, two.version, "each commit its own version");
        retries += one.retries + two.retries;
        keys.extend([x, y]);
    }
    assert!(retries > 0, "the indexers never raced: nothing was shown");
    let found = h.ok("GET", "/projects/HD/search?q=kettle&limit=50", Some(&agent), None).await.body;
    assert_eq!(found["total"], 10, "{found}");
    for key in &keys {
        assert!(keys_of(&found).contains(key), "{key} lost");
    }

    // A deleted request leaves the index when the indexer sees its key.
    h.store
        .transact(vec![helpdesk::store::Write::Delete {
            key: helpdesk::items::request_key(&a),
            condition: helpdesk::store::Condition::None,
        }])
        .await
        .unwrap();
    helpdesk::domain::search::index_requests(&h.app, std::slice::from_ref(&a)).await.unwrap();
    assert!(!agent_finds(&h, &agent, "kettle leaks").await.contains(&a));
}

#[tokio::test]
async fn reindex_rebuilds_a_project_from_the_table() {
    let Desk { h, agent, ann, .. } = desk().await;
    let a = raise(&h, &ann, "Toaster smokes", "").await;
    let b = raise(&h, &ann, "Toaster sparks", "").await;
    // The stream never ran: nothing is indexed yet.
    assert!(agent_finds(&h, &agent, "toaster").await.is_empty());
    let client = aws_sdk_dynamodb::Client::new(
        &helpdesk_tests::sdk_config(&std::env::var("HELPDESK_TEST_DYNAMODB").unwrap()).await,
    );
    let projects = helpdesk_tools::local::project_keys(&client, &h.table).await.unwrap();
    assert_eq!(projects, ["HD"]);
    let mut seen = vec![];
    let done = helpdesk::domain::search::reindex(&h.app, "HD", |n, total| seen.push((n, total))).await.unwrap();
    assert_eq!((done.requests, done.removed, done.commits), (2, 0, 1));
    assert_eq!(seen, [(2, 2)]);
    assert_eq!(agent_finds(&h, &agent, "toaster").await, sorted([&a, &b]));
    // A request gone from the table leaves the index with the next rebuild.
    let delete = helpdesk::store::Write::Delete {
        key: helpdesk::items::request_key(&b),
        condition: helpdesk::store::Condition::None,
    };
    h.store.transact(vec![delete]).await.unwrap();
    let done = helpdesk::domain::search::reindex(&h.app, "HD", |_, _| {}).await.unwrap();
    assert_eq!((done.requests, done.removed), (1, 1));
    assert_eq!(agent_finds(&h, &agent, "toaster").await, one(&a));
}
