//! Real mail is messier than the fixtures above (issue 30): machine mail that marks itself only
//! by a vendor header, its sender or its words; `From:` lines that are slightly broken or
//! missing; raw 8-bit headers in legacy charsets; bodies split over several parts; files
//! without usable names. Each fixture goes through `POST /_local/inbound-email` (S3 in moto,
//! the inbound function, DynamoDB Local), and the request must read as a person reading the
//! email would state it.

use super::*;

/// Ann's request, the agent's answer, and the notification Ann got: (key, her reply address,
/// the notification's Message-ID). Machine mail below answers that notification.
async fn answered(d: &Desk) -> (String, String, String) {
    let fill = [("ann", d.ann.as_str()), ("support", &d.support), ("bob", &d.bob), ("carl", &d.bob)];
    let key = created(&d.deliver(fixture("plain.eml", &fill), "").await);
    let reply = json!({"body": "Turn it off and on again."});
    d.h.ok("POST", &format!("/requests/{key}/comments"), Some(&d.admin), Some(reply)).await;
    d.notify().await;
    let mail = d.mail_to(&d.ann).await.pop().expect("Ann's notification");
    (key, reply_to(&mail), mail.message_id().unwrap().to_string())
}

#[tokio::test]
async fn machine_mail_opens_nothing_but_a_person_whose_subject_looks_automatic_is_heard() {
    let d = desk().await;
    let (key, ann_reply_to, in_reply_to) = answered(&d).await;
    let fill = [
        ("ann", d.ann.as_str()),
        ("support", &d.support),
        ("reply_to", &ann_reply_to),
        ("key", &key),
        ("in_reply_to", &in_reply_to),
    ];
    let before = d.h.item_count().await;
    for (name, reason) in [
        // Vacation replies marked only by a vendor header, or by their subject and words.
        ("machine-apple-vacation.eml", "apple_vacation"),
        ("machine-lotus-out-of-office.eml", "autoreply_subject"),
        // Challenge-response: a filter asking the helpdesk to prove it is human.
        ("machine-challenge-verify.eml", "challenge_subject"),
        ("machine-boxbe-guest-list.eml", "challenge_service"),
        // Bounces that are not `multipart/report`.
        ("machine-mixed-bounce.eml", "bounce_subject"),
        ("machine-sns-bounce.eml", "notification_service"),
        ("machine-kddi-bounce.eml", "bounce_subject"),
    ] {
        let answer = d.deliver(fixture(name, &fill), "").await;
        assert_eq!(answer, json!({"outcome": "dropped", "reason": reason}), "{name}");
    }
    assert_eq!(d.h.item_count().await, before, "nothing written");
    // Ann's own reply, from Thunderbird, answering the notification, with a subject that starts
    // "Auto reply:": the subject alone does not make it a machine's.
    let answer = d.deliver(fixture("human-auto-reply-subject.eml", &fill), "").await;
    assert_eq!(answer, json!({"outcome": "appended", "request": key}));
    let request = d.request(&key).await;
    let last = request["comments"].as_array().unwrap().iter().rev().find(|c| c["internal"] == false).unwrap();
    assert_eq!(last["author"], d.ann.as_str());
    assert_eq!(last["body"], "I switched my auto reply off, sorry about that. The printer is still smoking.");
    // A new question about auto-replies, from Outlook: a request like any other.
    let question = format!(
        "From: Ann Example <{}>\r\nTo: {}\r\nSubject: Auto-reply: not working since the update\r\nMessage-ID: <q-{}@mail.example.com>\r\nX-Mailer: Microsoft Outlook 16.0\r\n\r\nMy out of office rule no longer sends anything.\r\n",
        d.ann,
        d.support,
        ulid::Ulid::new()
    );
    let asked = created(&d.deliver(question.into_bytes(), "").await);
    assert_eq!(d.request(&asked).await["summary"], "Auto-reply: not working since the update");
}

/// One messy message and the request a person reading it would describe.
struct Case {
    fixture: &'static str,
    query: &'static str,
    summary: &'static str,
    description: &'static str,
    /// (name, type) of each file, in order.
    files: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        fixture: "messy-from-trailing-dot.eml",
        query: "",
        summary: "Badge does not open the door",
        description: "My badge stopped opening the side door this morning.",
        files: &[],
    },
    Case {
        fixture: "messy-from-spaces.eml",
        query: "",
        summary: "Monitor flickers",
        description: "The second monitor flickers every few seconds.",
        files: &[],
    },
    Case {
        fixture: "messy-from-no-brackets.eml",
        query: "",
        summary: "Password reset link expired",
        description: "The reset link says it expired although I clicked it at once.",
        files: &[],
    },
    Case {
        fixture: "messy-sender-only.eml",
        query: "",
        summary: "Cannot print in colour",
        description: "Everything comes out in grey.",
        files: &[],
    },
    Case {
        fixture: "messy-no-sender-at-all.eml",
        query: "envelope_from={ann}",
        summary: "Scanner sends blank pages",
        description: "Every scan arrives as a blank PDF.",
        files: &[],
    },
    Case {
        fixture: "messy-spaces-before-headers.eml",
        query: "",
        summary: "Laptop will not charge",
        description: "The charger light is on but the battery stays at 3%.",
        files: &[],
    },
    Case {
        fixture: "messy-gb2312-subject.eml",
        query: "",
        summary: "打印机卡纸了",
        description: "二楼的打印机一直卡纸。",
        files: &[],
    },
    Case {
        fixture: "messy-shift-jis-file.eml",
        query: "",
        summary: "請求書について",
        description: "請求書を添付します。",
        files: &[("請求書.pdf", "application/pdf")],
    },
    Case {
        fixture: "messy-latin1-undeclared.eml",
        query: "",
        summary: "Problème d'accès à l'intranet",
        description: "Bonjour, je n'arrive plus à me connecter à l'intranet depuis la mise à jour de vendredi. Merci de votre aide, Anne-Sophie Lefèvre",
        files: &[],
    },
    Case {
        fixture: "messy-empty-plain-alternative.eml",
        query: "",
        summary: "VPN drops",
        description: "Hello team,\nthe VPN drops every hour since Monday.",
        files: &[],
    },
    Case {
        fixture: "messy-mixed-text-parts.eml",
        query: "",
        summary: "Error after update",
        description: "This is the error I get:\n\nAnd this is what it shows after a restart.",
        files: &[("error.png", "image/png")],
    },
    Case {
        fixture: "messy-folded-file-name.eml",
        query: "",
        summary: "Invoice and log",
        description: "The invoice and the error log are attached.",
        files: &[("Facture n°12 – décembre.pdf", "application/pdf"), ("error-log.txt", "text/plain")],
    },
    Case {
        fixture: "messy-unnamed-files.eml",
        query: "",
        summary: "Forwarding the confirmation",
        description: "The confirmation never arrived in the portal; here it is with a screenshot.",
        files: &[
            ("Order 1234 confirmation.eml", "message/rfc822"),
            ("screenshot1.png", "image/png"),
            ("attachment.pdf", "application/pdf"),
        ],
    },
];

#[tokio::test]
async fn messy_human_mail_arrives_whole() {
    let d = desk().await;
    let (local, domain) = d.ann.split_once('@').unwrap();
    let fill = [("ann", d.ann.as_str()), ("ann_local", local), ("ann_domain", domain), ("support", &d.support)];
    for case in CASES {
        let query = case.query.replace("{ann}", &d.ann);
        let key = created(&d.deliver(fixture(case.fixture, &fill), &query).await);
        let request = d.request(&key).await;
        let name = case.fixture;
        assert_eq!(request["summary"], case.summary, "{name}");
        assert_eq!(request["reporter"], d.ann.as_str(), "{name}");
        assert_eq!(request["description"], case.description, "{name}");
        let files: Vec<(&str, &str)> = request["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
            .collect();
        assert_eq!(files, case.files, "{name}");
    }
    // The enclosed message downloads as the message it was.
    let request = d.request("HD-13").await;
    let eml = &request["attachments"][0];
    assert_eq!(eml["name"], "Order 1234 confirmation.eml", "{request}");
    let answer = d.h.page("GET", eml["url"].as_str().unwrap(), &format!("hd_session={}", d.admin), None).await;
    let bytes = reqwest::get(answer.header("location")).await.unwrap().bytes().await.unwrap();
    assert!(bytes.starts_with(b"From: Shop <orders@shop.example>"), "{:?}", String::from_utf8_lossy(&bytes));
}

#[tokio::test]
async fn without_any_sender_the_local_route_passes_no_envelope_sender() {
    let d = desk().await;
    let fill = [("support", d.support.as_str())];
    // Nothing names a sender and no envelope sender is given: dropped, not taken for a bounce.
    let answer = d.deliver(fixture("messy-no-sender-at-all.eml", &fill), "").await;
    assert_eq!(answer, json!({"outcome": "dropped", "reason": "no_sender"}));
    // An empty envelope sender is a bounce's `MAIL FROM:<>`.
    let answer = d.deliver(fixture("messy-no-sender-at-all.eml", &fill), "envelope_from=").await;
    assert_eq!(answer, json!({"outcome": "dropped", "reason": "empty_return_path"}));
    // Return-Path is what an MTA recorded as the envelope sender: passed on when present.
    let mut raw = format!("Return-Path: <{}>\r\n", d.ann).into_bytes();
    raw.extend(fixture("messy-no-sender-at-all.eml", &fill));
    let key = created(&d.deliver(raw, "").await);
    assert_eq!(d.request(&key).await["reporter"], d.ann.as_str());
}
