//! What merging and files cost: a merge of a source with 3, 100 and 500 public replies (the
//! copy is a Query of the source and BatchWriteItems of the copies), an upload's grant, and a
//! reply that names one uploaded file (HeadObject, CopyObject and DeleteObject on moto's S3).

use helpdesk::model::{AuthorRole, Comment, Record};
use helpdesk_tests::forms::send_upload;
use helpdesk_tests::Harness;
use serde_json::json;
use std::time::Instant;

const FILES: usize = 30;

pub async fn merge_and_upload_costs(h: &Harness, admin: &str) {
    let made = h.call("POST", "/projects", Some(admin), Some(json!({"key": "MRG", "name": "Merges"}))).await;
    assert_eq!(made.status, 201, "{made:?}");
    let customer = h.sign_in(&h.email("merge-customer")).await;
    let raise = |summary: String| {
        let (h, customer) = (h, customer.clone());
        async move {
            let made =
                h.call("POST", "/projects/MRG/requests", Some(&customer), Some(json!({"summary": summary}))).await;
            made.body["key"].as_str().unwrap().to_string()
        }
    };
    println!("\nMerges (POST /requests/{{key}}/merge; each reply ~300 bytes, written directly):");
    println!(
        "{:<40} {:>11} {:>10} {:>11} {:>10} {:>9}",
        "source", "round trips", "read units", "batch WCU", "tx WCU", "ms"
    );
    for replies in [3usize, 100, 500] {
        let source = raise(format!("source with {replies} replies")).await;
        let target = raise(format!("target of {replies}")).await;
        let stored = h.ok("GET", &format!("/requests/{source}"), Some(admin), None).await.body;
        let reporter = stored["reporter_id"].as_str().unwrap().to_string();
        let email = helpdesk::model::EmailAddress::stored(stored["reporter"].as_str().unwrap());
        let comments: Vec<Record> = (0..replies)
            .map(|i| {
                Record::Comment(Comment {
                    request_key: source.clone(),
                    id: helpdesk::text::new_ulid(),
                    author_id: reporter.clone(),
                    author_email: email.clone(),
                    body: format!("reply {i}: {}", "the printer on the third floor jams again; ".repeat(6)),
                    internal: false,
                    created_at: h.app.now(),
                    author_role: Some(AuthorRole::Customer),
                    author_name: None,
                    merged_from: None,
                })
            })
            .collect();
        h.app.store.put_all(comments).await.unwrap();
        h.store.take_metrics();
        let started = Instant::now();
        let merged =
            h.call("POST", &format!("/requests/{source}/merge"), Some(admin), Some(json!({"into": target}))).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(merged.status, 200, "{merged:?}");
        assert_eq!(merged.body["comments"], replies + 1);
        let m = h.store.take_metrics();
        println!(
            "{:<40} {:>11} {:>10.1} {:>11.1} {:>10.1} {:>9.1}",
            format!("{replies} public replies"),
            m.round_trips,
            m.read_units,
            m.write_units,
            m.transaction_units,
            ms
        );
    }

    println!("\nFiles ({FILES} each; S3 is moto on loopback):");
    println!("{:<52} {:>11} {:>10} {:>10} {:>9}", "operation", "round trips", "read units", "tx WCU", "ms");
    let key = raise("files".into()).await;
    let body = json!({"name": "shot.png", "type": "image/png", "size": 2048});
    let row = |name: &str, ms: f64| {
        let m = h.store.take_metrics();
        let per = |x: f64| x / FILES as f64;
        println!(
            "{:<52} {:>11.2} {:>10.2} {:>10.2} {:>9.2}",
            name,
            per(m.round_trips as f64),
            per(m.read_units),
            per(m.transaction_units + m.write_units),
            per(ms)
        );
    };
    h.store.take_metrics();
    let (mut grants, mut ms) = (vec![], 0.0);
    for _ in 0..FILES {
        let started = Instant::now();
        let granted =
            h.call("POST", &format!("/requests/{key}/attachments"), Some(&customer), Some(body.clone())).await;
        ms += started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(granted.status, 201, "{granted:?}");
        grants.push(granted.body);
    }
    row("grant an upload (a signed POST form)", ms);
    for granted in &grants {
        send_upload(granted, |f| f, ("shot.png", "image/png", &[7u8; 2048])).await;
    }
    h.store.take_metrics();
    let mut ms = 0.0;
    for granted in &grants {
        let reply = json!({"body": "see the file", "attachments": [granted["id"]]});
        let started = Instant::now();
        let made = h.call("POST", &format!("/requests/{key}/comments"), Some(&customer), Some(reply)).await;
        ms += started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(made.status, 201, "{made:?}");
    }
    row("reply naming one uploaded file (+3 S3 calls)", ms);
}
