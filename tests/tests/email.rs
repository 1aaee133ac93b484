//! Email both ways, end to end: raw .eml fixtures through `POST /_local/inbound-email` (S3 in
//! moto, the inbound function, DynamoDB Local), and the table's stream through the notifier to
//! moto's SES.

use helpdesk_tests::Harness;
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/email");

fn replace_bytes(haystack: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// A fixture with its `{placeholders}` filled; `{id}` makes each Message-ID unique.
fn fixture(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let mut raw = std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let id = ulid::Ulid::new().to_string();
    for (key, value) in fill.iter().copied().chain([("id", id.as_str())]) {
        raw = replace_bytes(&raw, &format!("{{{key}}}"), value);
    }
    raw
}

struct Desk {
    h: Harness,
    admin: String,
    ann: String,
    bob: String,
    support: String,
}

/// Project HD (support address hd@desk.test) with its admin; Bob has an account.
async fn desk() -> Desk {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let (ann, bob) = (h.email("ann"), h.email("bob"));
    h.sign_in(&bob).await;
    Desk { h, admin, ann, bob, support: "hd@desk.test".into() }
}

impl Desk {
    async fn deliver(&self, raw: Vec<u8>, query: &str) -> Value {
        let answer = self.h.inbound_email(raw, query).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body
    }

    async fn request(&self, key: &str) -> Value {
        self.h.ok("GET", &format!("/requests/{key}"), Some(&self.admin), None).await.body
    }

    /// Runs the stream through the notifier, which must report no failure.
    async fn notify(&self) -> aws_lambda_events::dynamodb::Event {
        let (event, answer) = self.h.run_stream().await;
        assert_eq!(answer, json!({"batchItemFailures": []}));
        event
    }

    async fn mail_to(&self, to: &str) -> Vec<mail_parser::Message<'static>> {
        let raw = self.h.raw_mail_to(to).await;
        raw.iter().map(|r| mail_parser::MessageParser::default().parse(r.as_bytes()).unwrap().into_owned()).collect()
    }
}

fn created(answer: &Value) -> String {
    assert_eq!(answer["outcome"], "created", "{answer}");
    answer["request"].as_str().unwrap().to_string()
}

fn reply_to(mail: &mail_parser::Message) -> String {
    mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string()
}

#[tokio::test]
async fn every_shape_of_mail_opens_a_readable_request() {
    let d = desk().await;
    let fill =
        [("ann", d.ann.as_str()), ("support", d.support.as_str()), ("bob", &d.bob), ("carl", "carl@example.org")];
    let cases: [(&str, &str, &[&str], &[&str]); 8] = [
        ("plain.eml", "Printer on fire", &["The printer on floor 2 is smoking.\nPlease send someone."], &[]),
        ("alternative.eml", "Invoice question", &["Why was I charged twice?"], &["html part"]),
        (
            "html-only.eml",
            "Only HTML here",
            &["Hello team,", "the VPN", "drops every hour."],
            &["<p>", "<b>", "alert", "color: red"],
        ),
        ("latin1.eml", "Café froid", &["Le café est froid. Ça ne va pas."], &[]),
        ("windows-1252.eml", "Smart “quotes”", &["Price is €10 – “quoted”"], &[]),
        ("iso-2022-jp.eml", "印刷できません", &["こんにちは、助けてください。"], &[]),
        ("attachment.eml", "Screenshot attached", &["See the attached report."], &["PDF-1.4"]),
        ("reply-quoted.eml", "Re: [HD-0] Printer on fire", &["It is still smoking.", "> Turn it off"], &[]),
    ];
    for (name, summary, has, lacks) in cases {
        let mut fill = fill.to_vec();
        fill.extend([("reply_to", d.support.as_str()), ("key", "HD-0"), ("in_reply_to", "unknown@elsewhere")]);
        let key = created(&d.deliver(fixture(name, &fill), "").await);
        let request = d.request(&key).await;
        assert_eq!(request["summary"], summary, "{name}");
        assert_eq!(request["reporter"], d.ann.as_str(), "{name}");
        let text = request["description"].as_str().unwrap();
        for want in has {
            assert!(text.contains(want), "{name}: {want:?} missing from {text:?}");
        }
        for unwanted in lacks {
            assert!(!text.contains(unwanted), "{name}: {unwanted:?} in {text:?}");
        }
    }
    // The attachment is listed, and downloads (from S3, by a short-lived URL) for those who
    // may see the request; anyone else gets the same 404 as for the request.
    let with_file = d.request("HD-7").await;
    let file = &with_file["attachments"][0];
    assert_eq!(
        (file["name"].as_str(), file["type"].as_str()),
        (Some("report.pdf"), Some("application/pdf")),
        "{with_file}"
    );
    assert_eq!(file["size"], 30 * 20, "the decoded bytes");
    let url = file["url"].as_str().unwrap();
    let answer = d.h.page("GET", url, &format!("hd_session={}", d.admin), None).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("cache-control"), "no-store");
    let bytes = reqwest::get(answer.header("location")).await.unwrap().bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-1.4\n% fake pdf for tests"), "{:?}", &bytes[..20.min(bytes.len())]);
    let eve = d.h.sign_in(&d.h.email("eve")).await;
    let refused = d.h.page("GET", url, &format!("hd_session={eve}"), None).await;
    assert_eq!(refused.status, 404);
    let made_up = d
        .h
        .page("GET", "/requests/HD-7/attachments/01J0000000000000000000000X", &format!("hd_session={}", d.admin), None)
        .await;
    assert_eq!(made_up.status, 404);
    // A public link's page lists it too, with its own download route.
    let minted = d.h.ok("POST", "/requests/HD-7/public-links", Some(&d.admin), None).await;
    let link = minted.body["items"][0]["url"].as_str().unwrap().strip_prefix(&d.h.base).unwrap().to_string();
    let page = d.h.page("GET", &link, "", None).await;
    let file_id = file["id"].as_str().unwrap();
    assert!(
        page.text.contains(&format!("href=\"{link}/attachments/{file_id}\" download>report.pdf</a>")),
        "{}",
        page.text
    );
    let answer = d.h.page("GET", &format!("{link}/attachments/{file_id}"), "", None).await;
    assert_eq!(answer.status, 303);
    let bytes = reqwest::get(answer.header("location")).await.unwrap().bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-1.4"));
    let forged = d.h.page("GET", &format!("/p/k1.AAAA.BBBB/attachments/{file_id}"), "", None).await;
    assert_eq!(forged.status, 404);
    // Several To/Cc: Bob (who has an account) shares the first request; Carl (who has none)
    // is listed in an internal note, as customers cannot create accounts for others.
    let first = d.request("HD-1").await;
    assert_eq!(first["participants"], json!([d.bob]));
    let notes: Vec<&Value> = first["comments"].as_array().unwrap().iter().filter(|c| c["internal"] == true).collect();
    assert_eq!(notes.len(), 1, "{first}");
    assert!(notes[0]["body"].as_str().unwrap().contains("- carl@example.org:"), "{}", notes[0]);
    // Bob sees it in his list, as a participant.
    let bob = d.h.sign_in(&d.bob).await;
    let listed = d.h.ok("GET", "/requests?view=participating", Some(&bob), None).await.body;
    assert_eq!(listed["items"][0]["key"], "HD-1", "{listed}");
}

#[tokio::test]
async fn huge_and_broken_messages_never_fail_the_function() {
    let d = desk().await;
    let body = "All work and no play makes Jack a dull boy.\n".repeat(240_000);
    assert!(body.len() > 10_000_000);
    let huge = format!("From: {}\r\nTo: {}\r\nSubject: Big\r\nMessage-ID: <big@x>\r\n\r\n{body}", d.ann, d.support);
    let key = created(&d.deliver(huge.into_bytes(), "").await);
    let text = d.request(&key).await["description"].as_str().unwrap().to_string();
    assert_eq!(text.chars().count(), 32_000);
    assert!(text.ends_with("[… cut: the message was longer than a request can hold]"));
    // Cut in the middle of its headers, of its MIME parts, or no message at all.
    let plain = fixture("attachment.eml", &[("ann", &d.ann), ("support", &d.support)]);
    for cut in [40, 200, plain.len() - 300] {
        let answer = d.h.inbound_email(plain[..cut].to_vec(), "").await;
        assert_eq!(answer.status, 200, "cut at {cut}: {answer:?}");
        // Cuts that keep the Message-ID are copies of one message: a duplicate after the first.
        assert!(["created", "dropped", "duplicate"].contains(&answer.body["outcome"].as_str().unwrap()), "{answer:?}");
    }
    let nothing = d.h.inbound_email(b"\x00\xff garbage".to_vec(), "").await;
    assert_eq!(nothing.body["outcome"], "dropped", "{nothing:?}");
}

#[tokio::test]
async fn a_conversation_by_email_threads_both_ways() {
    let d = desk().await;
    let fill = [("ann", d.ann.as_str()), ("support", d.support.as_str()), ("bob", &d.bob), ("carl", &d.bob)];
    let plain = fixture("plain.eml", &fill);
    // The same SES message delivered twice: one request.
    let first = d.deliver(plain.clone(), "message_id=ses-first").await;
    assert_eq!(d.deliver(plain, "message_id=ses-first").await, first);
    let key = created(&first);
    d.notify().await;
    assert!(d.mail_to(&d.ann).await.is_empty(), "the author hears nothing of their own request");

    // The agent answers through the API: Ann and Bob each get one email.
    let reply = json!({"body": "Turn it off and on again."});
    d.h.ok("POST", &format!("/requests/{key}/comments"), Some(&d.admin), Some(reply)).await;
    d.h.ok(
        "POST",
        &format!("/requests/{key}/comments"),
        Some(&d.admin),
        Some(json!({"body": "Secret: customer is rude", "internal": true})),
    )
    .await;
    let batch = d.notify().await;
    let to_ann = d.mail_to(&d.ann).await;
    assert_eq!((to_ann.len(), d.mail_to(&d.bob).await.len()), (1, 1));
    // The same batch again sends nothing twice.
    let (_, again) = d.h.run_stream_event(batch).await;
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert_eq!((d.mail_to(&d.ann).await.len(), d.mail_to(&d.bob).await.len()), (1, 1));
    let mail = &to_ann[0];
    assert_eq!(mail.subject(), Some(format!("[{key}] Printer on fire").as_str()));
    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("Turn it off and on again.") && !text.contains("rude"), "{text}");
    assert_eq!(mail.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
    // Its public link opens the request for Ann.
    let link = text.lines().find(|l| l.contains("/p/")).unwrap().trim().to_string();
    let path = link.trim_start_matches(&d.h.base);
    let page = d.h.page("GET", path, "", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Turn it off and on again.") && !page.text.contains("rude"));

    // Ann answers the notification: the reply address attaches it; twice delivered, once kept.
    let ann_reply_to = reply_to(mail);
    let in_reply_to = mail.message_id().unwrap().to_string();
    let fill = [
        ("ann", d.ann.as_str()),
        ("reply_to", &ann_reply_to),
        ("key", &key),
        ("in_reply_to", &in_reply_to),
        ("link", &link),
    ];
    let answer = fixture("reply-quoted.eml", &fill);
    for _ in 0..2 {
        let outcome = d.deliver(answer.clone(), "message_id=ses-reply").await;
        assert_eq!(outcome, json!({"outcome": "appended", "request": key}));
    }
    let comments = d.request(&key).await["comments"].clone();
    let public: Vec<&Value> = comments.as_array().unwrap().iter().filter(|c| c["internal"] == false).collect();
    assert_eq!(public.len(), 2, "{comments}");
    assert_eq!(public[1]["author"], d.ann.as_str());
    let body = public[1]["body"].as_str().unwrap();
    assert!(body.starts_with("It is still smoking."));
    // Ann's personal link, quoted in her reply, is not handed to everyone else on the thread.
    assert!(body.contains("> Open the request: [link removed]") && !body.contains("/p/"), "{body}");
    // That reply reaches Bob (not Ann, its author).
    d.notify().await;
    assert_eq!((d.mail_to(&d.ann).await.len(), d.mail_to(&d.bob).await.len()), (1, 2));

    // By In-Reply-To alone: the id SES gave the notification Bob got.
    let bob_mail = d.mail_to(&d.bob).await.pop().unwrap();
    let ses_id = d.h.sent_message_ids(&d.bob).await.pop().unwrap();
    let by_header = format!(
        "From: {}\r\nTo: {}\r\nSubject: Re: hi\r\nMessage-ID: <b1@x>\r\nIn-Reply-To: <{ses_id}@email.amazonses.com>\r\n\r\nBob here\r\n",
        d.bob, d.support
    );
    assert_eq!(d.deliver(by_header.into_bytes(), "").await, json!({"outcome": "appended", "request": key}));
    assert!(bob_mail.message_id().is_some());

    // Eve holds Ann's reply address and Bob's thread: neither lets her in.
    let eve = d.h.email("eve");
    let fill = [("ann", eve.as_str()), ("reply_to", &ann_reply_to), ("key", &key), ("in_reply_to", &in_reply_to)];
    let stranger = created(&d.deliver(fixture("reply-quoted.eml", &fill), "").await);
    assert_ne!(stranger, key);
    // A forged signature, and an altered request key, from Ann herself: not attached.
    let (local, domain) = ann_reply_to.split_once('@').unwrap();
    let forged = format!("{}{}@{domain}", &local[..local.len() - 1], if local.ends_with('a') { "b" } else { "a" });
    let other =
        ann_reply_to.replacen(&format!(".{}.", key.to_lowercase()), &format!(".{}.", stranger.to_lowercase()), 1);
    for address in [forged, other] {
        let fill = [("ann", d.ann.as_str()), ("reply_to", &address), ("key", &key), ("in_reply_to", "none@x")];
        let outcome = d.deliver(fixture("reply-quoted.eml", &fill), "").await;
        assert_eq!(outcome["outcome"], "created", "{address}: {outcome}");
    }
    // Ann's own reply address, correctly signed but expired: it grants nothing any more.
    let Some(helpdesk::model::Record::Request(request)) =
        d.h.app.store.get(&helpdesk::items::request_key(&key)).await.unwrap()
    else {
        panic!("the request")
    };
    let yesterday = d.h.app.now() - 2 * 24 * 3600;
    let expired = helpdesk::domain::reply_address::reply_address(&d.h.app, &request, &request.reporter_id, yesterday)
        .await
        .unwrap();
    let fill = [("ann", d.ann.as_str()), ("reply_to", &expired), ("key", &key), ("in_reply_to", "none@x")];
    let outcome = d.deliver(fixture("reply-quoted.eml", &fill), "").await;
    assert_eq!(outcome["outcome"], "created", "{outcome}");
    let public_count = d.request(&key).await["comment_count"].clone();
    assert_eq!(public_count, 3, "Turn it off, Ann's reply, Bob's reply");
    // On Ann's portal page, the quoted history under her emailed reply is folded.
    let session = d.h.sign_in(&d.ann).await;
    let page = d.h.page("GET", &format!("/portal/requests/{key}"), &format!("hd_session={session}"), None).await;
    assert_eq!(page.status, 200);
    let folded = "<div class=\"body\">It is still smoking.</div>\n<details class=\"quoted\"><summary>Show quoted text</summary><div class=\"body\">On Mon, 23 Nov 2026, Help Desk wrote:\n&#62; Turn it off and on again.";
    assert!(page.text.contains(folded), "{}", page.text);
}

/// A URL as Outlook SafeLinks wraps it: percent-encoded, in its `url` parameter.
fn safelinks(url: &str) -> String {
    let encoded: String = url
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("https://eur01.safelinks.protection.outlook.com/?url={encoded}&data=05%7C02%7C%7Cc0ffee%7C0%7C0&reserved=0")
}

#[tokio::test]
async fn a_participants_link_and_reply_address_quoted_in_gateway_wrappers_reach_no_one_else() {
    let d = desk().await;
    let fill = [("ann", d.ann.as_str()), ("support", d.support.as_str()), ("bob", &d.bob), ("carl", &d.bob)];
    let key = created(&d.deliver(fixture("plain.eml", &fill), "").await);
    let reply = json!({"body": "Turn it off and on again."});
    d.h.ok("POST", &format!("/requests/{key}/comments"), Some(&d.admin), Some(reply)).await;
    d.notify().await;
    // Bob's notification: his own public link and reply address.
    let to_bob = d.mail_to(&d.bob).await.pop().unwrap();
    let text = to_bob.body_text(0).unwrap().replace("\r\n", "\n");
    let link = text.lines().find(|l| l.contains("/p/")).unwrap().trim().to_string();
    let token = link.rsplit("/p/").next().unwrap().to_string();
    let bob_reply_to = reply_to(&to_bob);
    let (local, domain) = bob_reply_to.split_once('@').unwrap();
    // Bob answers from behind a security gateway that rewrote both in the quoted history.
    let raw = format!(
        "From: {bob}\r\nTo: {bob_reply_to}\r\nSubject: Re: [{key}] Printer on fire\r\nMessage-ID: <wrapped@x>\r\n\r\nStill smoking here.\r\n\r\n> Open the request: {wrapped}\r\n> Or answer <mailto:{local}%40{domain}>\r\n",
        bob = d.bob,
        wrapped = safelinks(&link),
    );
    assert_eq!(d.deliver(raw.into_bytes(), "").await, json!({"outcome": "appended", "request": key}));
    let comments = d.request(&key).await["comments"].clone();
    let stored = comments.as_array().unwrap().iter().rev().find(|c| c["author"] == d.bob.as_str()).unwrap();
    let body = stored["body"].as_str().unwrap();
    assert_eq!(
        body, "Still smoking here.\n\n> Open the request: [link removed]\n> Or answer <[address removed]>",
        "{comments}"
    );
    // Ann, who gets Bob's reply, gets neither of his keys.
    d.notify().await;
    let to_ann = d.mail_to(&d.ann).await.pop().unwrap();
    let text = to_ann.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("Still smoking here."), "{text}");
    assert!(!text.contains(&token) && !text.contains(local) && !text.contains("safelinks"), "{text}");
}

#[tokio::test]
async fn machines_verdicts_and_strangers_to_nowhere_open_nothing() {
    let d = desk().await;
    let fill = [
        ("ann", d.ann.as_str()),
        ("support", d.support.as_str()),
        ("reply_to", d.support.as_str()),
        ("key", "HD-1"),
        ("bob", &d.bob),
        ("carl", "carl@example.org"),
    ];
    let before = d.h.item_count().await;
    for (raw, query, reason) in [
        (fixture("auto-reply.eml", &fill), "", "auto_submitted"),
        (fixture("bounce.eml", &fill), "", "delivery_report"),
        (fixture("plain.eml", &fill), "spam=FAIL", "spam"),
        (fixture("plain.eml", &fill), "virus=FAIL", "virus"),
        (fixture("plain.eml", &fill), "dmarc=FAIL", "dmarc_fail"),
        (
            fixture(
                "plain.eml",
                &[("ann", &d.ann), ("support", "nobody@desk.test"), ("bob", "x@y.z"), ("carl", "x@y.z")],
            ),
            "",
            "no_project",
        ),
    ] {
        let answer = d.deliver(raw, query).await;
        assert_eq!(answer, json!({"outcome": "dropped", "reason": reason}));
    }
    assert_eq!(d.h.item_count().await, before, "nothing written");
    // SPF or DKIM failing alone is not DMARC failing: SES's DMARC verdict decides.
    assert_eq!(d.deliver(fixture("plain.eml", &fill), "spf=FAIL&dkim=FAIL").await["outcome"], "created");
}

#[tokio::test]
async fn two_auto_responders_stop_at_the_rate_limit() {
    let d = desk().await;
    let limit = 5;
    d.h.ok("PATCH", "/projects/HD", Some(&d.admin), Some(json!({"notify_per_hour": limit}))).await;
    let fill = [("ann", d.ann.as_str()), ("support", d.support.as_str()), ("bob", &d.bob), ("carl", &d.bob)];
    let key = created(&d.deliver(fixture("plain.eml", &fill), "").await);
    d.h.ok("POST", &format!("/requests/{key}/comments"), Some(&d.admin), Some(json!({"body": "Hello both"}))).await;
    // Ann and Bob both run a careless auto-responder (no Auto-Submitted header): each answers
    // every notification it gets, which notifies the other.
    let mut answered = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..40 {
        d.notify().await;
        let mut replied = false;
        for who in [&d.ann, &d.bob] {
            let mails = d.mail_to(who).await;
            let seen = answered.entry(who.to_string()).or_default();
            for mail in &mails[*seen..] {
                let raw = format!(
                    "From: {who}\r\nTo: {}\r\nSubject: Re: away\r\nMessage-ID: <away-{round}-{}@x>\r\n\r\nI am away.\r\n",
                    reply_to(mail),
                    ulid::Ulid::new()
                );
                d.deliver(raw.into_bytes(), "").await;
                replied = true;
            }
            *seen = mails.len();
        }
        if !replied {
            break;
        }
    }
    assert!(answered[&d.ann] <= limit && answered[&d.bob] <= limit, "{answered:?}");
    assert_eq!((answered[&d.ann], answered[&d.bob]), (limit, limit), "the loop ran until the limit stopped it");
}

#[tokio::test]
async fn a_stranger_in_a_managed_domain_is_held_for_agents() {
    let d = desk().await;
    d.h.ok("PUT", "/admin/managed-domains", Some(&d.admin), Some(json!({"domains": ["inst.example"]}))).await;
    let raw = format!(
        "From: prof@inst.example\r\nTo: {}\r\nSubject: Grant\r\nMessage-ID: <g1@inst.example>\r\n\r\nA question\r\n",
        d.support
    );
    let key = created(&d.deliver(raw.into_bytes(), "").await);
    let held = d.h.ok("GET", "/projects/HD/requests?status=held", Some(&d.admin), None).await.body;
    assert_eq!(held["items"][0]["key"], key.as_str(), "{held}");
    let request = d.request(&key).await;
    assert_eq!((request["reporter"].as_str(), request["held"].as_bool()), (Some("prof@inst.example"), Some(true)));
    d.notify().await;
    assert!(d.mail_to("prof@inst.example").await.is_empty(), "no mail to an address without an account");
}

#[path = "email/addresses.rs"]
mod addresses;
#[path = "email/real_mail.rs"]
mod real_mail;
