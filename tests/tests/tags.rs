//! Tags through HTTP against DynamoDB Local: adding and removing, who may, and the queue
//! filtered by tag, paged, over 120 requests.

use futures::future::join_all;
use helpdesk_tests::Harness;
use serde_json::json;

#[tokio::test]
async fn the_queue_filters_by_tag_across_pages() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    // One after another, so creation order (which lists sort by) is the order of `keys`.
    let mut keys = vec![];
    for i in 0..120 {
        let answer = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": format!("r{i}")}))).await;
        keys.push(answer.body["key"].as_str().unwrap().to_string());
    }
    // Every third request is tagged `billing`; the first tagged ones are closed.
    let tagged: Vec<String> = keys.iter().step_by(3).cloned().collect();
    let paths: Vec<String> = tagged.iter().map(|key| format!("/requests/{key}/tags/Billing")).collect();
    let tagging = paths.iter().map(|path| h.call("PUT", path, Some(&admin), None));
    for answer in join_all(tagging).await {
        assert_eq!((answer.status, &answer.body["tags"]), (200, &json!(["billing"])), "{answer:?}");
    }
    // Tagging twice changes nothing; customers may not tag, and do not see tags.
    let again = h.ok("PUT", &format!("/requests/{}/tags/billing", tagged[0]), Some(&admin), None).await;
    assert_eq!(again.body["tags"], json!(["billing"]));
    let refused = h.call("PUT", &format!("/requests/{}/tags/x", tagged[0]), Some(&ann), None).await;
    assert_eq!(refused.status, 403);
    let seen = h.ok("GET", &format!("/requests/{}", tagged[0]), Some(&ann), None).await;
    assert!(seen.body.get("tags").is_none(), "{seen:?}");
    assert!(!seen.body["history"].to_string().contains("billing"), "tag history is agents' only");
    let bad = h.call("PUT", &format!("/requests/{}/tags/two%20words", tagged[0]), Some(&admin), None).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_tag"));
    for key in &tagged[..5] {
        h.ok("POST", &format!("/requests/{key}/close"), Some(&admin), None).await;
    }

    let mut found = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = h.ok("GET", &format!("/projects/HD/requests?tag=billing&limit=25{after}"), Some(&admin), None).await;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 25);
        found.extend(items.iter().map(|r| r["key"].as_str().unwrap().to_string()));
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    let mut expected = tagged.clone();
    expected.reverse();
    assert_eq!(found, expected, "every tagged request once, newest first");
    let closed = h.ok("GET", "/projects/HD/requests?tag=billing&status=closed", Some(&admin), None).await;
    assert_eq!(closed.body["items"].as_array().unwrap().len(), 5);

    // Untagged: gone from the tag's queue at once.
    h.ok("DELETE", &format!("/requests/{}/tags/billing", tagged[1]), Some(&admin), None).await;
    let open = h.ok("GET", "/projects/HD/requests?tag=billing&status=open&limit=100", Some(&admin), None).await;
    let open: Vec<_> = open.body["items"].as_array().unwrap().iter().map(|r| r["key"].clone()).collect();
    assert_eq!(open.len(), tagged.len() - 5);
    assert!(!open.contains(&json!(tagged[1])));
    assert_eq!(h.call("GET", "/projects/HD/requests?tag=billing", Some(&ann), None).await.status, 403);

    // The whole queue merges the open and closed partitions: every request once, newest
    // first, across pages of 7 (whose boundaries fall between open and closed ones).
    let mut whole = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..30 {
        let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = h.ok("GET", &format!("/projects/HD/requests?limit=7{after}"), Some(&admin), None).await;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        whole.extend(items.iter().map(|r| (r["key"].as_str().unwrap().to_string(), r["status"].clone())));
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    let mut expected = keys.clone();
    expected.reverse();
    assert_eq!(whole.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), expected);
    let closed: Vec<_> = whole.iter().filter(|(_, s)| s == "closed").map(|(k, _)| k.clone()).collect();
    let mut first_closed = tagged[..5].to_vec();
    first_closed.reverse();
    assert_eq!(closed, first_closed);
}
