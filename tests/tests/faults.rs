//! Faults DynamoDB Local never makes, injected by a proxy: stopped, slow, throttling, and a
//! write whose answer is lost. The API answers 503 `storage_unavailable`, never a 500, and
//! nothing is half-written or duplicated.

use helpdesk_tests::fault::Fault;
use helpdesk_tests::{Answer, Harness};
use serde_json::json;
use std::time::{Duration, Instant};

fn assert_unavailable(answer: &Answer) {
    assert_eq!((answer.status, answer.code()), (503, "storage_unavailable"), "{answer:?}");
    assert_eq!(answer.body["error"]["message"], "storage is unavailable, try again");
}

async fn setup() -> (Harness, helpdesk_tests::fault::FaultProxy, String) {
    let (h, proxy) = Harness::start_with_faults().await;
    h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let created = h.call("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "before"}))).await;
    assert_eq!(created.status, 201);
    (h, proxy, ann)
}

#[tokio::test]
async fn storage_stopped_answers_503_and_recovers_with_nothing_half_written() {
    let (h, proxy, ann) = setup().await;
    let items = h.item_count().await;
    proxy.set(Fault::Down);
    assert_unavailable(&h.call("GET", "/requests/HD-1", Some(&ann), None).await);
    assert_unavailable(&h.call("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "during"}))).await);
    assert_unavailable(&h.call("POST", "/requests/HD-1/comments", Some(&ann), Some(json!({"body": "during"}))).await);
    assert_unavailable(&h.call("GET", "/requests", Some(&ann), None).await);
    proxy.set(Fault::Pass);
    assert_eq!(h.item_count().await, items, "nothing was written while storage was down");
    let after = h.call("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "after"}))).await;
    assert_eq!((after.status, after.body["key"].as_str()), (201, Some("HD-2")));
}

#[tokio::test]
async fn slow_storage_times_out_as_503_within_the_call_budget() {
    let (h, proxy, ann) = setup().await;
    proxy.set(Fault::Slow(Duration::from_secs(5)));
    let started = Instant::now();
    assert_unavailable(&h.call("GET", "/requests/HD-1", Some(&ann), None).await);
    assert!(started.elapsed() < Duration::from_secs(5), "gave up in {:?}", started.elapsed());
    proxy.set(Fault::Pass);
    assert_eq!(h.call("GET", "/requests/HD-1", Some(&ann), None).await.status, 200);
}

#[tokio::test]
async fn throttling_and_conflicts_are_retried_then_surfaced_as_503() {
    let (h, proxy, ann) = setup().await;
    for kind in ["ProvisionedThroughputExceededException", "ThrottlingException", "TransactionConflictException"] {
        proxy.take_calls();
        proxy.set(Fault::Error(kind));
        assert_unavailable(&h.call("GET", "/requests/HD-1", Some(&ann), None).await);
        assert!(proxy.take_calls() >= 3, "{kind} was retried");
    }
    proxy.set(Fault::Pass);
    assert_eq!(h.call("GET", "/requests/HD-1", Some(&ann), None).await.status, 200);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_not_duplicated() {
    let (h, proxy, ann) = setup().await;
    let headers = [("idempotency-key", "lost-answer")];
    let body = r#"{"summary":"exactly once"}"#;
    proxy.set(Fault::CutAfterForward("TransactWriteItems"));
    let first = h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(body.into()), &headers).await;
    assert!(matches!(first.status, 200 | 201 | 503), "{first:?}");
    // The client does not know whether it worked, so it retries with the same key.
    let again = h.call_raw("POST", "/projects/HD/requests", Some(&ann), Some(body.into()), &headers).await;
    assert!(matches!(again.status, 200 | 201), "{again:?}");
    let mine = h.call("GET", "/requests?view=mine", Some(&ann), None).await;
    let summaries: Vec<_> =
        mine.body["items"].as_array().unwrap().iter().map(|r| r["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries, ["exactly once", "before"], "one request, not two");
    if first.status != 503 {
        assert_eq!(first.body["key"], again.body["key"]);
    }
    // The same for a reply.
    proxy.set(Fault::CutAfterForward("TransactWriteItems"));
    let reply_headers = [("idempotency-key", "lost-reply")];
    let reply = r#"{"body":"once"}"#;
    h.call_raw("POST", "/requests/HD-1/comments", Some(&ann), Some(reply.into()), &reply_headers).await;
    let again = h.call_raw("POST", "/requests/HD-1/comments", Some(&ann), Some(reply.into()), &reply_headers).await;
    assert!(matches!(again.status, 200 | 201), "{again:?}");
    let detail = h.call("GET", "/requests/HD-1", Some(&ann), None).await;
    assert_eq!(detail.body["comments"].as_array().unwrap().len(), 1);
    assert_eq!(detail.body["comment_count"], 1);
}
