//! Sharing requests with participants (seeds 000 and 001), through HTTP on DynamoDB Local.

use helpdesk_tests::{Answer, Harness};
use serde_json::{json, Value};

fn keys(answer: &Answer) -> Vec<String> {
    answer.body["items"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

fn emails(answer: &Answer) -> Vec<String> {
    answer.body["items"].as_array().unwrap().iter().map(|p| p["email"].as_str().unwrap().to_string()).collect()
}

async fn raise(h: &Harness, token: &str, summary: &str) -> String {
    let r = h.call("POST", "/projects/HD/requests", Some(token), Some(json!({"summary": summary}))).await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body["key"].as_str().unwrap().to_string()
}

async fn history(h: &Harness, token: &str, key: &str) -> Vec<Value> {
    h.call("GET", &format!("/requests/{key}"), Some(token), None).await.body["history"].as_array().unwrap().clone()
}

#[tokio::test]
async fn customers_share_with_people_who_have_accounts_and_hear_why_not_otherwise() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let (ann_email, bob_email) = (h.email("ann"), h.email("bob"));
    let ann = h.sign_in(&ann_email).await;
    let bob = h.sign_in(&bob_email).await;
    let mallory = h.sign_in(&h.email("mallory")).await;
    let shared = raise(&h, &ann, "shared").await;
    let private = raise(&h, &ann, "private").await;

    // Case and spaces normalised, duplicates folded, the reporter a no-op.
    let body = json!({"emails": [format!(" {} ", bob_email.to_uppercase()), bob_email, ann_email]});
    let first = h.call("POST", &format!("/requests/{shared}/participants"), Some(&ann), Some(body.clone())).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(emails(&first), vec![bob_email.clone()]);
    let items = h.item_count().await;
    let again = h.call("POST", &format!("/requests/{shared}/participants"), Some(&ann), Some(body)).await;
    assert_eq!((again.status, emails(&again)), (200, vec![bob_email.clone()]));
    assert_eq!(h.item_count().await, items, "a retried share writes nothing");
    let entries = history(&h, &ann, &shared).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0]["action"].as_str(), entries[0]["by"].as_str()),
        (Some("participants_added"), Some(ann_email.as_str()))
    );
    assert_eq!(entries[0]["emails"], json!([bob_email]));

    // Unknown people: a clear, actionable error, and nothing written, even for a mixed list.
    let carol = h.email("carol");
    for list in [json!([carol]), json!([h.email("dan"), carol])] {
        let refused = h
            .call("POST", &format!("/requests/{shared}/participants"), Some(&ann), Some(json!({"emails": list})))
            .await;
        assert_eq!((refused.status, refused.code()), (422, "participant_unknown"));
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&carol) && message.contains("open a request first") && message.contains("hd@desk.test"),
            "{message}"
        );
    }
    let _dan = h.sign_in(&h.email("dan")).await;
    let before = h.item_count().await;
    let mixed = json!({"emails": [h.email("dan"), carol]});
    let refused = h.call("POST", &format!("/requests/{shared}/participants"), Some(&ann), Some(mixed)).await;
    assert_eq!(refused.status, 422);
    assert_eq!(h.item_count().await, before, "a partly valid list writes nothing");
    let listed = h.call("GET", &format!("/requests/{shared}/participants"), Some(&ann), None).await;
    assert_eq!(emails(&listed), vec![bob_email.clone()]);

    // The participant sees it, finds it in their lists, replies and closes; nothing else of Ann's.
    assert_eq!(h.call("GET", &format!("/requests/{shared}"), Some(&bob), None).await.status, 200);
    for view in ["participating", "all"] {
        let list = h.call("GET", &format!("/requests?view={view}"), Some(&bob), None).await;
        assert_eq!(keys(&list), vec![shared.clone()], "{view}");
    }
    assert!(keys(&h.call("GET", "/requests?view=mine", Some(&bob), None).await).is_empty());
    let reply =
        h.call("POST", &format!("/requests/{shared}/comments"), Some(&bob), Some(json!({"body": "me too"}))).await;
    assert_eq!(reply.status, 201);
    assert_eq!(h.call("POST", &format!("/requests/{shared}/close"), Some(&bob), None).await.body["status"], "closed");
    assert_eq!(h.call("GET", &format!("/requests/{private}"), Some(&bob), None).await.status, 404);
    // A participant may share further.
    let further = json!({"emails": [h.email("dan")]});
    assert_eq!(
        h.call("POST", &format!("/requests/{shared}/participants"), Some(&bob), Some(further)).await.status,
        200
    );

    // A stranger cannot add themselves, list, or remove anyone.
    let sneak = json!({"emails": [h.email("mallory")]});
    assert_eq!(
        h.call("POST", &format!("/requests/{shared}/participants"), Some(&mallory), Some(sneak)).await.status,
        404
    );
    assert_eq!(h.call("GET", &format!("/requests/{shared}/participants"), Some(&mallory), None).await.status, 404);
    let evict = format!("/requests/{shared}/participants/{bob_email}");
    assert_eq!(h.call("DELETE", &evict, Some(&mallory), None).await.status, 404);

    // Removing ends access at once; removing again is a no-op.
    let removed = h.call("DELETE", &evict, Some(&ann), None).await;
    assert_eq!((removed.status, emails(&removed)), (200, vec![h.email("dan")]));
    assert_eq!(h.call("GET", &format!("/requests/{shared}"), Some(&bob), None).await.status, 404);
    assert!(keys(&h.call("GET", "/requests?view=participating", Some(&bob), None).await).is_empty());
    assert_eq!(h.call("DELETE", &evict, Some(&ann), None).await.status, 200);
    let actions: Vec<_> =
        history(&h, &ann, &shared).await.iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions, ["participants_added", "participants_added", "participants_removed"]);
}

#[tokio::test]
async fn agents_create_customers_on_the_spot_except_in_managed_domains() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.call("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let key = raise(&h, &ann, "needs colleagues").await;

    let domain = format!("inst-{}.edu", h.suffix);
    assert_eq!(
        h.call("PUT", "/admin/managed-domains", Some(&agent), Some(json!({"domains": [domain]}))).await.status,
        403
    );
    let set = h
        .call("PUT", "/admin/managed-domains", Some(&admin), Some(json!({"domains": [domain.to_uppercase(), domain]})))
        .await;
    assert_eq!((set.status, &set.body["domains"]), (200, &json!([domain])));
    assert_eq!(h.call("GET", "/admin/managed-domains", Some(&admin), None).await.body["domains"], json!([domain]));
    assert_eq!(h.call("GET", "/admin/managed-domains", Some(&ann), None).await.status, 403);
    let bad = h.call("PUT", "/admin/managed-domains", Some(&admin), Some(json!({"domains": ["not a domain"]}))).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_domain"));

    // An agent creates an outside customer on the spot; that person can sign in and see it.
    let newcomer = h.email("newcomer");
    let shared = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&agent), Some(json!({"emails": [newcomer]})))
        .await;
    assert_eq!(shared.status, 200, "{shared:?}");
    let newcomer_token = h.sign_in(&newcomer).await;
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&newcomer_token), None).await.status, 200);

    // Not in a managed domain: 403 managed_domain saying who can, and nothing written.
    let insider = format!("prof-{}@mail.{domain}", h.suffix);
    let before = h.item_count().await;
    let refused = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&agent), Some(json!({"emails": [insider]})))
        .await;
    assert_eq!((refused.status, refused.code()), (403, "managed_domain"));
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("app admin"));
    let refused = h.call("POST", "/projects/HD/customers", Some(&agent), Some(json!({"email": insider}))).await;
    assert_eq!((refused.status, refused.code()), (403, "managed_domain"));
    assert_eq!(h.item_count().await, before);

    // The app admin may; adding an existing customer again is fine.
    let created =
        h.call("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": insider, "name": "Prof"}))).await;
    assert_eq!((created.status, created.body["created"].as_bool()), (201, Some(true)));
    let again = h.call("POST", "/projects/HD/customers", Some(&agent), Some(json!({"email": insider}))).await;
    assert_eq!((again.status, again.body["created"].as_bool()), (200, Some(false)));
    let now_known = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&agent), Some(json!({"emails": [insider]})))
        .await;
    assert_eq!(now_known.status, 200);
    // Customers cannot add customers; agents of other projects cannot share here.
    assert_eq!(
        h.call("POST", "/projects/HD/customers", Some(&ann), Some(json!({"email": h.email("x")}))).await.status,
        403
    );
    h.call("POST", "/projects", Some(&admin), Some(json!({"key": "OPS", "name": "Ops"}))).await;
    let ops_email = h.email("ops");
    h.call("POST", "/projects/OPS/agents", Some(&admin), Some(json!({"email": ops_email, "role": "agent"}))).await;
    let ops = h.sign_in(&ops_email).await;
    let foreign = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&ops), Some(json!({"emails": [ops_email]})))
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn the_participant_cap_refuses_the_whole_call() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    assert_eq!(h.call("PATCH", "/projects/HD", Some(&admin), Some(json!({"participant_cap": 2}))).await.status, 200);
    let ann = h.sign_in(&h.email("ann")).await;
    let people: Vec<String> = (0..3).map(|i| h.email(&format!("p{i}"))).collect();
    for p in &people {
        h.sign_in(p).await;
    }
    let key = raise(&h, &ann, "capped").await;
    let before = h.item_count().await;
    let over =
        h.call("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": people}))).await;
    assert_eq!((over.status, over.code()), (422, "participant_cap"));
    assert_eq!(h.item_count().await, before);
    let two = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": &people[..2]})))
        .await;
    assert_eq!(two.status, 200);
    let third = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [people[2]]})))
        .await;
    assert_eq!((third.status, third.code()), (422, "participant_cap"));
}

#[tokio::test]
async fn view_all_merges_own_and_participating_pages_without_gaps_or_repeats() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let bob = h.sign_in(&h.email("bob")).await;
    let mut expected = vec![];
    for i in 0..14 {
        if i % 2 == 0 {
            expected.push(raise(&h, &ann, &format!("ann {i}")).await);
        } else {
            let key = raise(&h, &bob, &format!("bob {i}")).await;
            if i % 3 != 0 {
                let shared = h
                    .call(
                        "POST",
                        &format!("/requests/{key}/participants"),
                        Some(&bob),
                        Some(json!({"emails": [ann_email]})),
                    )
                    .await;
                assert_eq!(shared.status, 200);
                expected.push(key);
            }
        }
    }
    expected.reverse();
    let mut seen = vec![];
    let mut path = "/requests?view=all&limit=4".to_string();
    for page in 0.. {
        assert!(page < 100, "paging never ends");
        let page = h.call("GET", &path, Some(&ann), None).await;
        assert_eq!(page.status, 200, "{page:?}");
        seen.extend(keys(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/requests?view=all&limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let closed_filter = h.call("GET", "/requests?view=participating&status=closed", Some(&ann), None).await;
    assert!(keys(&closed_filter).is_empty());
}
