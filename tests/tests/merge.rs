//! Merging duplicates, end to end through the gateway (DynamoDB Local, moto's S3 and SES):
//! a request with replies, a note, a file and participants merged into another; what each
//! party sees after; mail to the merged one landing on the other; its public link refused;
//! a retry (and a resume after a crash between steps) changing nothing; the refused merges;
//! the console's confirmation page.

use helpdesk::caller::Caller;
use helpdesk::requests::{self, MergeInput, MergeStep};
use helpdesk_tests::Harness;
use serde_json::{json, Value};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/email/attachment.eml");

/// Ann's emailed request with a PDF, as HD-1; the Message-ID it came with.
async fn emailed_request(h: &Harness, ann: &str) -> (String, String) {
    let message_id = format!("att-{}@mail.example.com", ulid::Ulid::new());
    let raw = std::fs::read_to_string(FIXTURE)
        .unwrap()
        .replace("{ann}", ann)
        .replace("{support}", "hd@desk.test")
        .replace("att-{id}@mail.example.com", &message_id);
    let answer = h.inbound_email(raw, "").await;
    assert_eq!(answer.body["outcome"], "created", "{answer:?}");
    (answer.body["request"].as_str().unwrap().to_string(), message_id)
}

/// The text of every email sent to `to` (notifications go out as raw MIME).
async fn mail_texts(h: &Harness, to: &str) -> Vec<String> {
    let parser = mail_parser::MessageParser::default();
    let raw = h.raw_mail_to(to).await;
    raw.iter().filter_map(|m| parser.parse(m.as_bytes())?.body_text(0).map(|t| t.into_owned())).collect()
}

fn bodies(request: &Value) -> Vec<(String, bool, Option<String>)> {
    request["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["body"].as_str().unwrap().to_string(), c["internal"] == true, c["merged_from"].as_str().map(Into::into))
        })
        .collect()
}

#[tokio::test]
async fn a_duplicate_merges_with_its_thread_files_and_people_once() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"participant_cap": 2}))).await;
    let [ann_email, bob_email, carol_email, dan_email, erin_email] =
        ["ann", "bob", "carol", "dan", "erin"].map(|n| h.email(n));
    let (ann, bob, dan) = (h.sign_in(&ann_email).await, h.sign_in(&bob_email).await, h.sign_in(&dan_email).await);
    h.sign_in(&carol_email).await;
    h.sign_in(&erin_email).await;

    // The source: emailed with a file, shared with two, a reply each way and a note.
    let (source, message_id) = emailed_request(&h, &ann_email).await;
    let share = json!({"emails": [bob_email, carol_email]});
    h.ok("POST", &format!("/requests/{source}/participants"), Some(&ann), Some(share)).await;
    let reply = |body: &str, internal: bool| json!({"body": body, "internal": internal});
    h.ok("POST", &format!("/requests/{source}/comments"), Some(&ann), Some(reply("It prints blank pages", false)))
        .await;
    h.ok("POST", &format!("/requests/{source}/comments"), Some(&admin), Some(reply("Secret: firmware bug", true)))
        .await;
    h.ok("POST", &format!("/requests/{source}/comments"), Some(&admin), Some(reply("Try a new cartridge", false)))
        .await;
    let minted = h.ok("POST", &format!("/requests/{source}/public-links"), Some(&admin), None).await;
    let link = minted.body["items"][0]["url"].as_str().unwrap().strip_prefix(&h.base).unwrap().to_string();
    assert_eq!(h.page("GET", &link, "", None).await.status, 200);
    // The target: Dan's, shared with Erin (the cap of 2 leaves room for one more).
    let made = h.ok("POST", "/projects/HD/requests", Some(&dan), Some(json!({"summary": "Printer broken"}))).await;
    let target = made.body["key"].as_str().unwrap().to_string();
    h.ok("POST", &format!("/requests/{target}/participants"), Some(&dan), Some(json!({"emails": [erin_email]}))).await;
    h.settle_stream().await;
    let mails_before = h.sent_count().await;

    let merge = json!({"into": target, "note": "Same printer, same floor"});
    let merged = h.ok("POST", &format!("/requests/{source}/merge"), Some(&admin), Some(merge.clone())).await.body;
    assert_eq!((merged["comments"].as_u64(), merged["attachments"].as_u64()), (Some(3), Some(1)), "{merged}");
    let skipped = merged["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "Bob and Carol are over the cap: {merged}");
    assert!(skipped.iter().all(|s| s.as_str().unwrap().contains("at most 2 participants")), "{merged}");
    assert_eq!(
        (merged["source"]["status"].as_str(), merged["source"]["merged_into"].as_str()),
        (Some("closed"), Some(target.as_str()))
    );

    // The agent's view of the target: the source's first message and public replies in time
    // order, each marked; the agent's note and the helpdesk's note of who was left out; never
    // the source's internal note.
    let seen = h.ok("GET", &format!("/requests/{target}"), Some(&admin), None).await.body;
    let from = Some(source.clone());
    let public: Vec<_> = bodies(&seen).into_iter().filter(|c| !c.1).collect();
    assert_eq!(
        public,
        vec![
            ("Screenshot attached\n\nSee the attached report.".to_string(), false, from.clone()),
            ("It prints blank pages".to_string(), false, from.clone()),
            ("Try a new cartridge".to_string(), false, from.clone()),
        ],
        "{seen}"
    );
    let notes: Vec<_> = bodies(&seen).into_iter().filter(|c| c.1).map(|c| c.0).collect();
    assert!(notes.contains(&"Same printer, same floor".to_string()), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains(&bob_email) && n.contains(&carol_email)), "{notes:?}");
    assert!(!notes.iter().any(|n| n.contains("firmware")), "a source's note stays there: {notes:?}");
    assert_eq!(seen["comment_count"], 3);
    assert_eq!(seen["participants"], json!([erin_email, ann_email]));
    let file = &seen["attachments"][0];
    assert_eq!((file["name"].as_str(), file["merged_from"].as_str()), (Some("report.pdf"), Some(source.as_str())));
    let history: Vec<_> = seen["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(history.contains(&"merged_from"), "{history:?}");

    // Each customer party of the target reads the same public thread and downloads the file
    // (its bytes stay under the source); Bob, left out, cannot see the target but still sees
    // where his request went.
    for (who, token) in [("ann", &ann), ("dan", &dan)] {
        let view = h.ok("GET", &format!("/requests/{target}"), Some(token), None).await.body;
        assert_eq!(bodies(&view), public, "{who}: {view}");
        let url = view["attachments"][0]["url"].as_str().unwrap();
        let answer = h.page("GET", url, &format!("hd_session={token}"), None).await;
        assert_eq!(answer.status, 303, "{who}");
        let bytes = reqwest::get(answer.header("location")).await.unwrap().bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-1.4"), "{who}");
    }
    assert_eq!(h.call("GET", &format!("/requests/{target}"), Some(&bob), None).await.status, 404);
    let old = h.ok("GET", &format!("/requests/{source}"), Some(&bob), None).await.body;
    assert_eq!((old["status"].as_str(), old["merged_into"].as_str()), (Some("closed"), Some(target.as_str())));
    let portal = h.page("GET", &format!("/portal/requests/{source}"), &format!("hd_session={ann}"), None).await;
    assert!(
        portal.text.contains(&format!("merged into <a href=\"/portal/requests/{target}\">{target}</a>")),
        "{}",
        portal.text
    );
    assert!(!portal.text.contains("/comments\""), "no reply form on a merged request");

    // The source's people are told where it went.
    h.settle_stream().await;
    assert!(h.sent_count().await > mails_before, "the close of the source is told");
    let told = mail_texts(&h, &ann_email).await;
    assert!(told.iter().any(|body| body.contains(&format!("merged {source} into {target}"))), "{told:?}");

    // Writing on the source: refused over the API; by email, the reply lands on the target.
    let refused =
        h.call("POST", &format!("/requests/{source}/comments"), Some(&ann), Some(reply("hello?", false))).await;
    assert_eq!((refused.status, refused.code()), (409, "request_merged"));
    let reopen = h.call("POST", &format!("/requests/{source}/reopen"), Some(&ann), None).await;
    assert_eq!((reopen.status, reopen.code()), (409, "request_merged"));
    let mail = format!(
        "From: {ann_email}\r\nTo: hd@desk.test\r\nSubject: Re: Screenshot attached\r\nMessage-ID: <re-{}@mail.example.com>\r\nIn-Reply-To: <{message_id}>\r\n\r\nStill blank after the new cartridge.\r\n",
        ulid::Ulid::new()
    );
    let answer = h.inbound_email(mail, "").await;
    assert_eq!(
        (answer.body["outcome"].as_str(), answer.body["request"].as_str()),
        (Some("appended"), Some(target.as_str())),
        "{answer:?}"
    );
    let seen = h.ok("GET", &format!("/requests/{target}"), Some(&dan), None).await.body;
    assert!(bodies(&seen).iter().any(|c| c.0 == "Still blank after the new cartridge." && c.2.is_none()), "{seen}");
    // Dan hears of that reply, and never heard of the copies as replies.
    h.settle_stream().await;
    let dan_mail = mail_texts(&h, &dan_email).await;
    assert!(dan_mail.iter().any(|body| body.contains("Still blank after the new cartridge.")), "{dan_mail:?}");
    assert!(!dan_mail.iter().any(|body| body.contains("blank pages")), "{dan_mail:?}");
    // The source's public link shows nothing any more.
    assert_eq!(h.page("GET", &link, "", None).await.status, 404);

    // A retry changes nothing: no second copy, note or participant.
    let before = h.ok("GET", &format!("/requests/{target}"), Some(&admin), None).await.body;
    let again = h.ok("POST", &format!("/requests/{source}/merge"), Some(&admin), Some(merge)).await.body;
    assert_eq!(again["skipped"].as_array().unwrap().len(), 2);
    let after = h.ok("GET", &format!("/requests/{target}"), Some(&admin), None).await.body;
    for field in ["comments", "attachments", "participants", "comment_count", "note_count", "history"] {
        assert_eq!(before[field], after[field], "{field}");
    }

    // Search finds the thread on the target only.
    h.settle_search().await;
    let found = h.ok("GET", "/projects/HD/search?q=cartridge", Some(&admin), None).await.body;
    let keys: Vec<_> = found["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec![target.as_str()], "{found}");
}

#[tokio::test]
async fn merges_are_refused_where_they_make_no_sense_and_resume_after_a_crash() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "XY", "name": "Other"}))).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let eve = h.sign_in(&h.email("eve")).await;
    let new = |project: &'static str, summary: &'static str| {
        let (h, ann) = (&h, &ann);
        async move {
            let made = h
                .ok("POST", &format!("/projects/{project}/requests"), Some(ann), Some(json!({"summary": summary})))
                .await;
            made.body["key"].as_str().unwrap().to_string()
        }
    };
    let (a, b, c, closed, other) =
        (new("HD", "a").await, new("HD", "b").await, new("HD", "c").await, new("HD", "d").await, new("XY", "x").await);
    h.ok("POST", &format!("/requests/{closed}/close"), Some(&admin), None).await;
    let merge = |token: &str, key: &str, body: Value| {
        let (h, token, path) = (&h, token.to_string(), format!("/requests/{key}/merge"));
        async move { h.call("POST", &path, Some(&token), Some(body)).await }
    };
    for (token, key, body, status, code) in [
        (&admin, &a, json!({"into": a}), 422, "merge_into_itself"),
        (&admin, &a, json!({"into": other}), 422, "merge_across_projects"),
        (&admin, &a, json!({"into": "HD-999"}), 422, "unknown_request"),
        (&admin, &a, json!({"into": "nonsense"}), 422, "invalid_field"),
        (&admin, &a, json!({"into": closed}), 409, "target_closed"),
        (&admin, &a, json!({}), 400, "invalid_body"),
        (&admin, &a, json!({"into": b, "extra": 1}), 400, "invalid_body"),
        // A customer of the request on an agent's route; someone who cannot see it at all.
        (&ann, &a, json!({"into": b}), 403, "forbidden"),
        (&eve, &a, json!({"into": b}), 404, "not_found"),
    ] {
        let answer = merge(token, key, body.clone()).await;
        assert_eq!((answer.status, answer.code()), (status, code), "{body}: {answer:?}");
    }
    let unsigned = h.call("POST", &format!("/requests/{a}/merge"), None, Some(json!({"into": b}))).await;
    assert_eq!(unsigned.status, 401);

    // A crash right after the source was marked: the retry finishes the copy and the sharing.
    let caller = Caller::session(Some(&admin));
    let input = || Ok(MergeInput { into: b.clone(), note: None });
    let marked = requests::merge(&h.app, &caller, &a, input(), Some(MergeStep::Marked)).await.unwrap();
    assert_eq!(marked.source.merged_into.as_deref(), Some(b.as_str()));
    assert_eq!(h.ok("GET", &format!("/requests/{b}"), Some(&admin), None).await.body["comment_count"], 0);
    let copied = requests::merge(&h.app, &caller, &a, input(), Some(MergeStep::Copied)).await.unwrap();
    assert_eq!(copied.comments, 1);
    let done = merge(&admin, &a, json!({"into": b})).await;
    assert_eq!(done.status, 200, "{done:?}");
    let target = h.ok("GET", &format!("/requests/{b}"), Some(&admin), None).await.body;
    assert_eq!(target["comment_count"], 1, "{target}");
    assert_eq!(target["comments"].as_array().unwrap().len(), 1, "{target}");

    // Into a merged request, or the merged one elsewhere: 409.
    let into_merged = merge(&admin, &c, json!({"into": a})).await;
    assert_eq!((into_merged.status, into_merged.code()), (409, "target_merged"));
    let elsewhere = merge(&admin, &a, json!({"into": c})).await;
    assert_eq!((elsewhere.status, elsewhere.code()), (409, "already_merged"));
    // A merged request stays closed, whatever path would change it.
    let reopened = h.call("PATCH", &format!("/requests/{a}"), Some(&admin), Some(json!({"status": "open"}))).await;
    assert_eq!((reopened.status, reopened.code()), (409, "request_merged"));

    // Two agents merge a pair into each other at once: one wins, the other is told.
    let (d, e) = (new("HD", "d2").await, new("HD", "e2").await);
    let (one, two) = tokio::join!(merge(&admin, &d, json!({"into": e})), merge(&admin, &e, json!({"into": d})));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{one:?} {two:?}");
    let merged: Vec<_> = [&d, &e].iter().map(|k| k.to_string()).collect();
    let mut still_open = 0;
    for key in &merged {
        let r = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
        still_open += usize::from(r["merged_into"].is_null());
    }
    assert_eq!(still_open, 1, "exactly one of them was merged");

    // A held request (a suspend: rule matched its reporter) is released before it merges.
    let rule = json!({"rule": format!("suspend:{}", h.email("mallory"))});
    h.ok("POST", "/blocklist?project=HD", Some(&admin), Some(rule)).await;
    let mallory = h.sign_in(&h.email("mallory")).await;
    let held = h.ok("POST", "/projects/HD/requests", Some(&mallory), Some(json!({"summary": "held"}))).await;
    let held = held.body["key"].as_str().unwrap().to_string();
    let open = new("HD", "open one").await;
    let refused = merge(&admin, &held, json!({"into": open})).await;
    assert_eq!((refused.status, refused.code()), (409, "source_held"), "{refused:?}");
    let refused = merge(&admin, &open, json!({"into": held})).await;
    assert_eq!((refused.status, refused.code()), (409, "target_held"), "{refused:?}");
}

#[tokio::test]
async fn the_console_merges_after_a_confirmation_that_shows_both_requests() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let new = |summary: &'static str| {
        let (h, ann) = (&h, &ann);
        async move {
            let made = h.ok("POST", "/projects/HD/requests", Some(ann), Some(json!({"summary": summary}))).await;
            made.body["key"].as_str().unwrap().to_string()
        }
    };
    let (dup, kept) = (new("VPN drops every hour").await, new("VPN disconnects").await);
    let cookies = format!("hd_session={admin}");
    let page = h.page("GET", &format!("/desk/requests/{dup}"), &cookies, None).await;
    assert!(page.text.contains(&format!("action=\"/desk/requests/{dup}/merge\"")), "the merge form");

    // Named wrongly: said in place, with the key as typed.
    let wrong = h.page("GET", &format!("/desk/requests/{dup}/merge?into={dup}"), &cookies, None).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text.contains("cannot be merged into itself"), "{}", wrong.text);
    // The confirmation shows both, and says what will happen.
    let confirm =
        h.page("GET", &format!("/desk/requests/{dup}/merge?into={}", kept.to_lowercase()), &cookies, None).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    for text in ["VPN drops every hour", "VPN disconnects", &format!("Merge {dup} into {kept}?"), "Closes:", "Stays:"] {
        assert!(confirm.text.contains(text), "{text}: {}", confirm.text);
    }
    // A customer sees no such page.
    let customer =
        h.page("GET", &format!("/desk/requests/{dup}/merge?into={kept}"), &format!("hd_session={ann}"), None).await;
    assert_eq!(customer.status, 403);

    let form = [("csrf", confirm.csrf()), ("into", kept.clone()), ("note", "Same VPN".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = h.page("POST", &format!("/desk/requests/{dup}/merge"), &cookies, Some(&form)).await;
    assert_eq!((done.status, done.header("location")), (303, format!("/desk/requests/{kept}?done=merged").as_str()));
    let shown = h.page("GET", done.header("location"), &cookies, None).await;
    assert!(shown.text.contains(&format!("from {dup}")), "{}", shown.text);
    let old = h.page("GET", &format!("/desk/requests/{dup}"), &cookies, None).await;
    assert!(old.text.contains(&format!("Merged into <a href=\"/desk/requests/{kept}\">{kept}</a>")), "{}", old.text);
    assert!(!old.text.contains("id=\"reply-box\""), "no reply box on a merged request");
    // Confirmed again (a double submit): the merge is done already; the same page.
    let twice = h.page("POST", &format!("/desk/requests/{dup}/merge"), &cookies, Some(&form)).await;
    assert_eq!(twice.status, 303);
}
