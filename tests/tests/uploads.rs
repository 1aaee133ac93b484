//! Files from the API and the pages, end to end through the gateway (DynamoDB Local, moto's
//! S3): an upload by presigned POST named by a comment; the refusals (too large, a wrong key
//! in the form, an expired form, another request's or another person's upload, one used
//! twice); a file never named (the lifecycle rule, the record's TTL); an HTML file served as
//! an attachment of bytes; files posted with the pages' forms (portal, console, public link).
//!
//! moto takes any POST to the bucket without checking its policy: in AWS, S3 refuses a form
//! that breaks the policy (key, type, size, expiry); here the checks a comment makes when it
//! names the upload (which hold even if the policy were bypassed) are what the tests show,
//! and the policy document itself is checked in `files::post_policy`'s unit test.

use helpdesk::items::upload_key;
use helpdesk::model::Record;
use helpdesk_tests::forms::{self, multipart, send_upload};
use helpdesk_tests::{Answer, Harness};
use serde_json::{json, Value};

/// Asks for an upload and sends the file with its form (as a client would, straight to S3).
async fn upload(h: &Harness, token: &str, key: &str, name: &str, content_type: &str, bytes: &[u8]) -> String {
    let granted = grant(h, token, key, name, content_type, bytes.len()).await;
    assert_eq!(granted.status, 201, "{granted:?}");
    post_form(&granted.body, |fields| fields, name, content_type, bytes).await;
    granted.body["id"].as_str().unwrap().to_string()
}

async fn grant(h: &Harness, token: &str, key: &str, name: &str, content_type: &str, size: usize) -> Answer {
    let body = json!({"name": name, "type": content_type, "size": size});
    h.call("POST", &format!("/requests/{key}/attachments"), Some(token), Some(body)).await
}

async fn post_form(
    granted: &Value,
    change: impl FnOnce(Vec<(String, String)>) -> Vec<(String, String)>,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) {
    send_upload(granted, change, (name, content_type, bytes)).await
}

async fn reply(h: &Harness, token: &str, key: &str, body: &str, ids: &[&str]) -> Answer {
    let body = json!({"body": body, "attachments": ids});
    h.call("POST", &format!("/requests/{key}/comments"), Some(token), Some(body)).await
}

async fn download(h: &Harness, token: &str, url: &str) -> reqwest::Response {
    let answer = h.page("GET", url, &format!("hd_session={token}"), None).await;
    assert_eq!(answer.status, 303, "{}", answer.text);
    reqwest::get(answer.header("location")).await.unwrap()
}

#[tokio::test]
async fn a_file_goes_straight_to_the_bucket_and_a_comment_attaches_it_once() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let (ann, bob, eve) =
        (h.sign_in(&h.email("ann")).await, h.sign_in(&h.email("bob")).await, h.sign_in(&h.email("eve")).await);
    let new = |summary: &'static str| {
        let (h, ann) = (&h, &ann);
        async move {
            let made = h.ok("POST", "/projects/HD/requests", Some(ann), Some(json!({"summary": summary}))).await;
            made.body["key"].as_str().unwrap().to_string()
        }
    };
    let (key, other) = (new("Screen flickers").await, new("Another").await);
    h.ok("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [h.email("bob")]}))).await;
    let png = b"\x89PNG\r\n\x1a\n fake screenshot";

    // Granted: a form for one key, type and size, 15 minutes.
    let granted = grant(&h, &ann, &key, "shot.png", "image/png", png.len()).await;
    assert_eq!(granted.status, 201, "{granted:?}");
    let fields = &granted.body["fields"];
    let id = granted.body["id"].as_str().unwrap().to_string();
    assert_eq!(fields["key"], format!("uploads/{key}/{id}"));
    assert_eq!(fields["Content-Type"], "image/png");
    for field in ["policy", "x-amz-signature", "x-amz-credential", "x-amz-date", "x-amz-algorithm"] {
        assert!(fields[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {fields}");
    }
    assert_eq!(granted.body["max_size"], png.len());
    // Its record waits a day (TTL), as the lifecycle rule keeps the file.
    let Some(Record::Upload(record)) = h.app.store.get(&upload_key(&id)).await.unwrap() else { panic!("the upload") };
    assert!((record.expires_at - h.app.now() - 86_400).abs() < 60, "{record:?}");
    post_form(&granted.body, |f| f, "shot.png", "image/png", png).await;

    // Named by a comment: the file is the comment's, for everyone who sees the request.
    let made = reply(&h, &ann, &key, "Here is what I see", &[&id]).await;
    assert_eq!(made.status, 201, "{made:?}");
    let seen = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    let file = &seen["attachments"][0];
    assert_eq!(
        (file["name"].as_str(), file["type"].as_str(), file["size"].as_u64()),
        (Some("shot.png"), Some("image/png"), Some(png.len() as u64))
    );
    assert_eq!(file["comment_id"], made.body["id"]);
    for token in [&admin, &bob] {
        let got = download(&h, token, file["url"].as_str().unwrap()).await;
        assert_eq!(got.headers()["content-type"], "image/png");
        assert!(got.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
        assert_eq!(got.bytes().await.unwrap().as_ref(), png);
    }
    // Used once: named again, it is nobody's.
    let again = reply(&h, &ann, &key, "again", &[&id]).await;
    assert_eq!((again.status, again.code()), (422, "unknown_upload"));
    assert!(h.app.store.get(&upload_key(&id)).await.unwrap().is_none(), "the record is consumed");

    // A file alone needs no words.
    let only = upload(&h, &ann, &key, "log.txt", "text/plain", b"line 1\n").await;
    assert_eq!(reply(&h, &ann, &key, "", &[&only]).await.status, 201);
    assert_eq!(reply(&h, &ann, &key, "", &[]).await.code(), "invalid_field");

    // Someone else's upload, or one for another request: refused, nothing written.
    let anns = upload(&h, &ann, &key, "a.txt", "text/plain", b"a").await;
    assert_eq!(reply(&h, &bob, &key, "mine now", &[&anns]).await.code(), "unknown_upload");
    assert_eq!(reply(&h, &ann, &other, "moved", &[&anns]).await.code(), "unknown_upload");
    assert_eq!(reply(&h, &ann, &key, "made up", &["01J00000000000000000000000"]).await.code(), "unknown_upload");
    assert_eq!(reply(&h, &ann, &key, "not an id", &["../../etc"]).await.code(), "unknown_upload");
    let count = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body["attachments"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, 2);

    // Who may not write there may not upload; no session, no form.
    assert_eq!(grant(&h, &eve, &key, "x.png", "image/png", 10).await.status, 404);
    let anonymous = h
        .call(
            "POST",
            &format!("/requests/{key}/attachments"),
            None,
            Some(json!({"name": "x", "type": "image/png", "size": 1})),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    for (body, code) in [
        (
            json!({"name": "big.iso", "type": "application/octet-stream", "size": 10 * 1024 * 1024 + 1}),
            "upload_too_large",
        ),
        (json!({"name": "x", "type": "image/png", "size": 0}), "invalid_field"),
        (json!({"name": "x", "type": "Image/PNG; x=1", "size": 5}), "invalid_field"),
        (json!({"name": "", "type": "image/png", "size": 5}), "invalid_field"),
    ] {
        let refused = h.call("POST", &format!("/requests/{key}/attachments"), Some(&ann), Some(body.clone())).await;
        assert_eq!((refused.status, refused.code()), (422, code), "{body}");
    }
    // A whole number written as a float is a whole number (JSON Schema's integer).
    let float = json!({"name": "x.png", "type": "image/png", "size": 5.0});
    assert_eq!(h.call("POST", &format!("/requests/{key}/attachments"), Some(&ann), Some(float)).await.status, 201);
    // Who is asked before what: a request nobody may see is 404 whatever the body.
    let garbage = h.call("POST", "/requests/HD-999/attachments", Some(&ann), Some(json!({"size": "big"}))).await;
    assert_eq!(garbage.status, 404);
}

#[tokio::test]
async fn what_the_form_did_not_allow_is_refused_when_a_comment_names_it() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Files"}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();

    // More bytes than the form allowed (S3 refuses it in AWS; here the comment does).
    let granted = grant(&h, &ann, &key, "small.txt", "text/plain", 10).await.body;
    post_form(&granted, |f| f, "small.txt", "text/plain", &[b'x'; 20]).await;
    let id = granted["id"].as_str().unwrap();
    assert_eq!(reply(&h, &ann, &key, "too big", &[id]).await.code(), "upload_too_large");
    // A wrong key in the form: the file is not where the upload is.
    let granted = grant(&h, &ann, &key, "b.txt", "text/plain", 5).await.body;
    let elsewhere = |fields: Vec<(String, String)>| {
        fields
            .into_iter()
            .map(|(k, v)| if k == "key" { (k, format!("uploads/{key}/01J00000000000000000000000")) } else { (k, v) })
            .collect()
    };
    post_form(&granted, elsewhere, "b.txt", "text/plain", b"hello").await;
    let id = granted["id"].as_str().unwrap();
    assert_eq!(reply(&h, &ann, &key, "wrong key", &[id]).await.code(), "upload_missing");
    // The form had expired when the file came (its record says until when the form held).
    let granted = grant(&h, &ann, &key, "late.txt", "text/plain", 4).await.body;
    let id = granted["id"].as_str().unwrap();
    let Some(Record::Upload(record)) = h.app.store.get(&upload_key(id)).await.unwrap() else { panic!("the upload") };
    let expired = helpdesk::model::Upload { post_until: h.app.now() - 60, ..record };
    h.app.store.put_all(vec![Record::Upload(expired)]).await.unwrap();
    post_form(&granted, |f| f, "late.txt", "text/plain", b"late").await;
    assert_eq!(reply(&h, &ann, &key, "late", &[id]).await.code(), "upload_expired");
    let seen = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    assert_eq!(
        (seen["attachments"].as_array().unwrap().len(), seen["comment_count"].as_u64()),
        (0, Some(0)),
        "nothing written"
    );

    // An HTML file is served as an attachment of bytes: a browser downloads, never renders it.
    let html = upload(&h, &ann, &key, "page.html", "text/html", b"<script>alert(document.cookie)</script>").await;
    assert_eq!(reply(&h, &ann, &key, "a page", &[&html]).await.status, 201);
    let seen = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    let got = download(&h, &admin, seen["attachments"][0]["url"].as_str().unwrap()).await;
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
    let disposition = got.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;") && disposition.contains("page.html"), "{disposition}");

    // A file never named is deleted a day later by the bucket's lifecycle rule on uploads/.
    let template: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml")).unwrap(),
    )
    .unwrap();
    let rules = &template["Resources"]["MailBucket"]["Properties"]["LifecycleConfiguration"]["Rules"];
    let rule = rules.as_sequence().unwrap().iter().find(|r| r["Prefix"] == "uploads/").expect("a rule for uploads/");
    assert_eq!((rule["Status"].as_str(), rule["ExpirationInDays"].as_u64()), (Some("Enabled"), Some(1)));
}

#[tokio::test]
async fn the_pages_take_files_with_a_reply_without_script() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer"}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();
    let post = |path: String,
                cookies: String,
                fields: Vec<(&'static str, String)>,
                file: (&'static str, &'static str, &'static [u8])| {
        let url = format!("{}{path}", h.base);
        let fields: Vec<(String, String)> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        async move { forms::post(&url, &cookies, multipart(&fields, file)).await }
    };

    // The portal's reply form.
    let cookies = format!("hd_session={ann}");
    let page = h.page("GET", &format!("/portal/requests/{key}"), &cookies, None).await;
    assert!(page.text.contains("enctype=\"multipart/form-data\""), "{}", page.text);
    let nonce = page.text.split("name=\"nonce\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap();
    let fields = vec![("csrf", page.csrf()), ("nonce", nonce.to_string()), ("body", "The error screen".to_string())];
    // Sent twice (a double click, a retry): one reply, one file.
    for _ in 0..2 {
        let sent = post(
            format!("/portal/requests/{key}/comments"),
            cookies.clone(),
            fields.clone(),
            ("error.png", "image/png", b"\x89PNG one"),
        )
        .await;
        assert_eq!(sent.0, 303, "{sent:?}");
    }
    // The console's reply form: an internal note with a file (customers never see it).
    let desk = format!("hd_session={admin}");
    let page = h.page("GET", &format!("/desk/requests/{key}"), &desk, None).await;
    let fields = vec![("csrf", page.csrf()), ("body", "Driver log".to_string()), ("internal", "true".to_string())];
    let sent =
        post(format!("/desk/requests/{key}/reply"), desk.clone(), fields, ("driver.log", "text/plain", b"E42")).await;
    assert_eq!(sent.0, 303, "{sent:?}");
    // A public link's reply: the file is taken only once the address is proven.
    let minted = h.ok("POST", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    let link = minted.body["items"][0]["url"].as_str().unwrap().strip_prefix(&h.base).unwrap().to_string();
    let page = h.page("GET", &link, "", None).await;
    let anon = format!("hd_anon={}", page.cookie("hd_anon").unwrap());
    let wrong = vec![("csrf", page.csrf()), ("email", "eve@example.com".to_string()), ("body", "hi".to_string())];
    assert_eq!(post(format!("{link}/reply"), anon.clone(), wrong, ("evil.png", "image/png", b"evil")).await.0, 403);
    let right = vec![("csrf", page.csrf()), ("email", ann_email.clone()), ("body", "From my phone".to_string())];
    assert_eq!(post(format!("{link}/reply"), anon, right, ("phone.jpg", "image/jpeg", b"\xff\xd8jpeg")).await.0, 303);

    let seen = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    let names: Vec<_> = seen["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["error.png", "driver.log", "phone.jpg"], "{seen}");
    let theirs = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await.body;
    let names: Vec<_> = theirs["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["error.png", "phone.jpg"], "the note's file is the agents' alone");
    assert_eq!(theirs["comment_count"], 2, "{theirs}");
    // Nor does its download answer her, whoever told her its address.
    let note_file = seen["attachments"][1]["url"].as_str().unwrap();
    assert_eq!(h.page("GET", note_file, &format!("hd_session={ann}"), None).await.status, 404);
    assert_eq!(h.page("GET", note_file, &desk, None).await.status, 303);
    // The console lists them for download.
    let page = h.page("GET", &format!("/desk/requests/{key}"), &desk, None).await;
    assert!(page.text.contains("download>error.png</a>"), "{}", page.text);
}
