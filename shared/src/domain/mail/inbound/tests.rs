use super::*;
use crate::domain::requests::read_thread;
use crate::testing::Desk;

fn mail(from: &str, to: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\n{extra}Subject: Printer\r\nMessage-ID: <{}@client.example>\r\n\r\n{body}\r\n",
        ulid::Ulid::new()
    )
    .into_bytes()
}

fn delivery<'a>(id: &'a str, to: &str, raw: &'a [u8]) -> Delivery<'a> {
    Delivery {
        ses_message_id: id,
        recipients: vec![to.to_string()],
        verdicts: Verdicts::pass(),
        envelope_from: Some("someone@example.com".into()),
        raw,
    }
}

async fn desk() -> Desk {
    let desk = Desk::new().await;
    desk.project("HD").await;
    desk
}

fn key_of(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Created { request } | Outcome::Appended { request } => request.clone(),
        other => panic!("not a request: {other:?}"),
    }
}

#[tokio::test]
async fn a_new_message_opens_one_request_even_when_delivered_twice() {
    let desk = desk().await;
    let raw = mail("Ann <ann@example.com>", "hd@desk.example", "", "It smokes");
    let first = receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
    let again = receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(first, Outcome::Created { request: "HD-1".into() });
    assert_eq!(again, first);
    let thread = read_thread(&desk.app, "HD-1").await.unwrap();
    let request = thread.request.unwrap();
    assert_eq!((request.summary.as_str(), request.description.as_str()), ("Printer", "It smokes"));
    assert_eq!(request.reporter_email.as_str(), "ann@example.com");
    assert!(thread.comments.is_empty());
    let ann = find_user_by_email(&desk.app, &EmailAddress::parse("ann@example.com").unwrap()).await.unwrap().unwrap();
    assert_eq!(ann.id, request.reporter_id);
    assert!(matches!(
        receive(&desk.app, delivery("ses-2", "nobody@desk.example", &raw)).await.unwrap(),
        Outcome::Dropped { reason } if reason == "no_project"
    ));
}

#[tokio::test]
async fn a_reply_attaches_by_its_reply_address_only_for_its_recipient() {
    let desk = desk().await;
    let raw = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let key = key_of(&receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap());
    let Some(Record::Request(request)) = desk.app.store.get(&crate::items::request_key(&key)).await.unwrap() else {
        panic!()
    };
    let to =
        reply_address::reply_address(&desk.app, &request, &request.reporter_id, desk.app.now() + 86_400).await.unwrap();
    let reply = mail("ann@example.com", &to, "", "Still smoking");
    for _ in 0..2 {
        let outcome = receive(&desk.app, delivery("ses-2", &to, &reply)).await.unwrap();
        assert_eq!(outcome, Outcome::Appended { request: key.clone() });
    }
    let thread = read_thread(&desk.app, &key).await.unwrap();
    assert_eq!(thread.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["Still smoking"]);
    // Bob holds Ann's reply address: it grants him nothing; his mail opens his own request.
    let stranger = mail("bob@example.com", &to, "", "Let me in");
    let outcome = receive(&desk.app, delivery("ses-3", &to, &stranger)).await.unwrap();
    assert_eq!(outcome, Outcome::Created { request: "HD-2".into() });
    assert_eq!(read_thread(&desk.app, &key).await.unwrap().comments.len(), 1);
}

#[tokio::test]
async fn a_reply_attaches_by_in_reply_to_when_its_sender_may_see_the_request() {
    let desk = desk().await;
    let first = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let key = key_of(&receive(&desk.app, delivery("ses-1", "hd@desk.example", &first)).await.unwrap());
    let first_id = incoming::parse(&first, None).unwrap().message_id.unwrap();
    let header = format!("In-Reply-To: <{first_id}>\r\n");
    let reply = mail("ann@example.com", "hd@desk.example", &header, "More smoke");
    assert_eq!(
        receive(&desk.app, delivery("ses-2", "hd@desk.example", &reply)).await.unwrap(),
        Outcome::Appended { request: key.clone() }
    );
    let stranger = mail("eve@example.com", "hd@desk.example", &header, "Me too");
    assert_eq!(
        receive(&desk.app, delivery("ses-3", "hd@desk.example", &stranger)).await.unwrap(),
        Outcome::Created { request: "HD-2".into() }
    );
}

#[tokio::test]
async fn verdicts_and_machines_open_nothing() {
    let desk = desk().await;
    let raw = mail("ann@example.com", "hd@desk.example", "", "Buy now");
    for (verdicts, reason) in [
        (Verdicts { spam: "FAIL".into(), ..Verdicts::pass() }, "spam"),
        (Verdicts { virus: "FAIL".into(), ..Verdicts::pass() }, "virus"),
        (Verdicts { dmarc: "FAIL".into(), ..Verdicts::pass() }, "dmarc_fail"),
    ] {
        let outcome = receive(&desk.app, Delivery { verdicts, ..delivery("ses-1", "hd@desk.example", &raw) });
        assert_eq!(outcome.await.unwrap(), dropped(reason));
    }
    let auto = mail("ann@example.com", "hd@desk.example", "Auto-Submitted: auto-replied\r\n", "Away");
    assert_eq!(
        receive(&desk.app, delivery("ses-2", "hd@desk.example", &auto)).await.unwrap(),
        dropped("auto_submitted")
    );
    // The helpdesk's From address, and any other address of its support domain.
    for from in ["helpdesk@desk.example", "someone@desk.example"] {
        let ours = mail(from, "hd@desk.example", "", "Loop");
        let outcome = receive(&desk.app, delivery("ses-3", "hd@desk.example", &ours)).await.unwrap();
        assert_eq!(outcome, dropped("from_helpdesk"), "{from}");
    }
    assert_eq!(receive(&desk.app, delivery("ses-4", "hd@desk.example", b"")).await.unwrap(), dropped("unparseable"));
    let nobody = b"To: hd@desk.example\r\nSubject: hi\r\n\r\nhello";
    // No header names a sender and neither does the envelope.
    let unnamed = Delivery { envelope_from: None, ..delivery("ses-5", "hd@desk.example", nobody) };
    assert_eq!(receive(&desk.app, unnamed).await.unwrap(), dropped("no_sender"));
    assert!(desk.app.store.get(&crate::items::request_key("HD-1")).await.unwrap().is_none());
}

#[tokio::test]
async fn without_a_from_the_sender_is_read_from_sender_reply_to_or_the_envelope_and_is_not_authenticated() {
    let desk = desk().await;
    desk.sign_in("ann@example.com").await;
    // The envelope sender SES reports, when no header names one: a request of theirs.
    let nobody = b"To: hd@desk.example\r\nSubject: No from\r\nMessage-ID: <nf1@x>\r\n\r\nhello";
    let outcome = receive(&desk.app, delivery("ses-1", "hd@desk.example", nobody)).await.unwrap();
    let thread = read_thread(&desk.app, &key_of(&outcome)).await.unwrap();
    assert_eq!(thread.request.unwrap().reporter_email.as_str(), "someone@example.com");
    // Ann has an account: mail naming her in Reply-To only (no From for DMARC to check) is
    // held for an agent, as any mail SES could not authenticate as hers.
    let reply_to =
        b"Reply-To: Ann <ann@example.com>\r\nTo: hd@desk.example\r\nSubject: Mine?\r\nMessage-ID: <nf2@x>\r\n\r\nhello";
    let outcome = receive(&desk.app, delivery("ses-2", "hd@desk.example", reply_to)).await.unwrap();
    let request = read_thread(&desk.app, &key_of(&outcome)).await.unwrap().request.unwrap();
    assert_eq!((request.reporter_email.as_str(), request.held), ("ann@example.com", true));
    // Her own From, exactly as written and DMARC PASS, is hers.
    let from = mail("Ann <ann@example.com>", "hd@desk.example", "", "hello");
    let outcome = receive(&desk.app, delivery("ses-3", "hd@desk.example", &from)).await.unwrap();
    let request = read_thread(&desk.app, &key_of(&outcome)).await.unwrap().request.unwrap();
    assert_eq!((request.reporter_email.as_str(), request.held), ("ann@example.com", false));
}

#[tokio::test]
async fn copied_addresses_join_where_the_rules_allow_and_the_rest_are_noted() {
    let desk = desk().await;
    desk.sign_in("bob@example.com").await;
    let cc = "Cc: bob@example.com, carl@example.com, hd@desk.example\r\n";
    let raw = mail("ann@example.com", "hd@desk.example", cc, "It smokes");
    for _ in 0..2 {
        receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
    }
    let thread = read_thread(&desk.app, "HD-1").await.unwrap();
    assert_eq!(thread.request.unwrap().participants, vec![EmailAddress::parse("bob@example.com").unwrap()]);
    assert_eq!(thread.comments.len(), 1, "one note, even delivered twice");
    let note = &thread.comments[0];
    assert!(note.internal && note.author_id == crate::domain::requests::HELPDESK_AUTHOR);
    assert!(note.body.contains("\n- carl@example.com: ") && !note.body.contains("- hd@desk.example"), "{}", note.body);
}

#[test]
fn message_keys_fold_ses_ids() {
    assert_eq!(message_key("<ABC@email.amazonses.com>"), "abc");
    assert_eq!(message_key(" <M1@Client.Example> "), "m1@client.example");
}

#[tokio::test]
async fn mail_opens_a_request_on_the_default_form_even_when_it_has_required_fields() {
    let desk = desk().await;
    let form: crate::domain::forms::FormInput = serde_json::from_value(serde_json::json!({
        "name": "Default", "public": true,
        "fields": [{"key": "serial", "label": "Serial number", "type": "text", "required": true}]
    }))
    .unwrap();
    crate::domain::forms::save_form(&desk.app, &desk.admin, "HD", Some("default"), Ok(form)).await.unwrap();
    let raw = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let outcome = receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(outcome, Outcome::Created { request: "HD-1".into() });
    let request = read_thread(&desk.app, "HD-1").await.unwrap().request.unwrap();
    assert_eq!((request.form.as_deref(), request.fields.len()), (Some("default"), 0));
}

#[tokio::test]
async fn mail_from_a_stranger_in_a_managed_domain_is_held_for_an_agent_not_lost() {
    let desk = desk().await;
    let domains = crate::domain::participants::DomainsInput { domains: vec!["inst.example".into()] };
    crate::domain::participants::put_managed_domains(&desk.app, &desk.admin, Ok(domains)).await.unwrap();
    let raw = mail("prof@inst.example", "hd@desk.example", "Cc: ann@example.com\r\n", "Grant question");
    for _ in 0..2 {
        let outcome = receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
        assert_eq!(outcome, Outcome::Created { request: "HD-1".into() });
    }
    let prof = EmailAddress::parse("prof@inst.example").unwrap();
    assert_eq!(find_user_by_email(&desk.app, &prof).await.unwrap(), None, "no account was made");
    let thread = read_thread(&desk.app, "HD-1").await.unwrap();
    let request = thread.request.unwrap();
    assert!(request.held);
    assert_eq!(
        (request.reporter_email.as_str(), request.description.as_str()),
        ("prof@inst.example", "Grant question")
    );
    assert!(request.participants.is_empty());
    assert_eq!(thread.comments.len(), 1, "one note, even delivered twice");
    assert!(thread.comments[0].internal && thread.comments[0].body.contains("managed domain"));
}

#[tokio::test]
async fn attachments_are_kept_once_and_listed_with_their_message() {
    let desk = desk().await;
    let raw = b"From: ann@example.com\r\nTo: hd@desk.example\r\nSubject: Logs\r\nMessage-ID: <att@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee log\r\n--b\r\nContent-Type: text/plain; name=\"../app.log\"\r\nContent-Disposition: attachment; filename=\"../app.log\"\r\n\r\nline 1\r\n--b--\r\n";
    for _ in 0..2 {
        receive(&desk.app, delivery("ses-1", "hd@desk.example", raw)).await.unwrap();
    }
    let thread = read_thread(&desk.app, "HD-1").await.unwrap();
    assert_eq!(thread.attachments.len(), 1, "delivered twice, kept once");
    let file = &thread.attachments[0];
    assert_eq!(
        (file.name.as_str(), file.content_type.as_str(), file.comment_id.as_ref()),
        ("app.log", "text/plain", None)
    );
    let files = desk.app.files.clone();
    let url = files
        .download_url(&crate::items::attachment_file_key("HD-1", &file.id), "app.log", "text/plain", Default::default())
        .await;
    assert!(url.unwrap().starts_with("memory://attachments/HD-1/"));
}

fn unauthenticated<'a>(id: &'a str, to: &str, raw: &'a [u8]) -> Delivery<'a> {
    Delivery { verdicts: Verdicts { dmarc: "GRAY".into(), ..Verdicts::pass() }, ..delivery(id, to, raw) }
}

#[tokio::test]
async fn a_from_that_ses_could_not_authenticate_acts_as_nobody() {
    let desk = desk().await;
    desk.staff("agent@example.com", "HD", crate::model::ProjectRole::Agent).await;
    desk.sign_in("bob@example.com").await;
    // Someone writes as the agent, copying Bob and a stranger: held, nothing shared, no account made.
    let forged = mail("agent@example.com", "hd@desk.example", "Cc: bob@example.com, new@example.org\r\n", "Click here");
    let outcome = receive(&desk.app, unauthenticated("ses-1", "hd@desk.example", &forged)).await.unwrap();
    assert_eq!(outcome, Outcome::Created { request: "HD-1".into() });
    let thread = read_thread(&desk.app, "HD-1").await.unwrap();
    let request = thread.request.unwrap();
    assert!(request.held && request.participants.is_empty());
    assert_eq!(request.reporter_id, crate::domain::requests::HELPDESK_AUTHOR, "in nobody's account while held");
    assert_eq!(request.reporter_email.as_str(), "agent@example.com", "but under the address it came from");
    assert!(thread.comments[0].internal && thread.comments[0].body.contains("could not authenticate"));
    let new = EmailAddress::parse("new@example.org").unwrap();
    assert_eq!(find_user_by_email(&desk.app, &new).await.unwrap(), None);

    // Ann's real request; then a forged reply by In-Reply-To does not attach...
    let first = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let key = key_of(&receive(&desk.app, delivery("ses-2", "hd@desk.example", &first)).await.unwrap());
    let first_id = incoming::parse(&first, None).unwrap().message_id.unwrap();
    let header = format!("In-Reply-To: <{first_id}>\r\n");
    let reply = mail("ann@example.com", "hd@desk.example", &header, "Forged");
    let outcome = receive(&desk.app, unauthenticated("ses-3", "hd@desk.example", &reply)).await.unwrap();
    assert_ne!(outcome, Outcome::Appended { request: key.clone() });
    // ...but one to Ann's own signed reply address does: it proves she reads her mail.
    let Some(Record::Request(request)) = desk.app.store.get(&crate::items::request_key(&key)).await.unwrap() else {
        panic!()
    };
    let to =
        reply_address::reply_address(&desk.app, &request, &request.reporter_id, desk.app.now() + 86_400).await.unwrap();
    let signed = mail("ann@example.com", &to, "", "Real reply");
    let outcome = receive(&desk.app, unauthenticated("ses-4", &to, &signed)).await.unwrap();
    assert_eq!(outcome, Outcome::Appended { request: key });
    // Several senders: nobody can say who wrote it.
    let two = mail("ann@example.com, eve@example.com", "hd@desk.example", "", "Hi");
    assert_eq!(
        receive(&desk.app, delivery("ses-5", "hd@desk.example", &two)).await.unwrap(),
        dropped("several_senders")
    );
}

#[tokio::test]
async fn a_message_id_belongs_to_the_first_message_that_had_it() {
    let desk = desk().await;
    let first = mail("ann@example.com", "hd@desk.example", "", "Mine");
    let id = incoming::parse(&first, None).unwrap().message_id.unwrap();
    receive(&desk.app, delivery("ses-1", "hd@desk.example", &first)).await.unwrap();
    // Eve sends her own mail with Ann's Message-ID, then Ann follows up on her first mail.
    let copy = String::from_utf8(mail("eve@example.com", "hd@desk.example", "", "Hijack")).unwrap();
    let copy = copy.replacen("Message-ID: <", &format!("Message-ID: <{id}> <"), 1);
    let copy = format!(
        "Message-ID: <{id}>\r\n{}",
        copy.split_once("\r\nMessage-ID").map(|(a, b)| format!("{a}\r\nX-Old{b}")).unwrap()
    );
    assert_eq!(
        key_of(&receive(&desk.app, delivery("ses-2", "hd@desk.example", copy.as_bytes())).await.unwrap()),
        "HD-2"
    );
    let follow_up = mail("ann@example.com", "hd@desk.example", &format!("In-Reply-To: <{id}>\r\n"), "Also");
    let outcome = receive(&desk.app, delivery("ses-3", "hd@desk.example", &follow_up)).await.unwrap();
    assert_eq!(outcome, Outcome::Appended { request: "HD-1".into() });
}

#[tokio::test]
async fn mail_takes_the_default_form_even_when_it_is_not_public() {
    let desk = desk().await;
    let form: crate::domain::forms::FormInput =
        serde_json::from_value(serde_json::json!({"name": "Internal default", "public": false})).unwrap();
    crate::domain::forms::save_form(&desk.app, &desk.admin, "HD", Some("default"), Ok(form)).await.unwrap();
    let raw = mail("ann@example.com", "hd@desk.example", "", "Hello");
    let outcome = receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(outcome, Outcome::Created { request: "HD-1".into() });
}

/// Issue 22: the same message under another SES id (sent to two support addresses of a
/// project, resent by a relay) is a duplicate for 7 days; not in another project, not from
/// another sender (a known Message-ID is no key), not after the window.
#[tokio::test]
async fn a_copy_of_a_message_under_a_new_ses_id_is_a_duplicate_for_seven_days() {
    let desk = desk().await;
    desk.project("OT").await;
    let raw = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let first = receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(first, Outcome::Created { request: "HD-1".into() });
    let copy = receive(&desk.app, delivery("ses-2", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(copy, Outcome::Duplicate { request: "HD-1".into() });
    // A retry of the first delivery is not a copy: it answers as the first did.
    assert_eq!(receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap(), first);
    // Another project gets its own request.
    let other = receive(&desk.app, delivery("ses-3", "ot@desk.example", &raw)).await.unwrap();
    assert_eq!(other, Outcome::Created { request: "OT-1".into() });
    // Someone else reusing the id is not a copy of Ann's message.
    let id_line = String::from_utf8_lossy(&raw).lines().find(|l| l.starts_with("Message-ID")).unwrap().to_string();
    let forged = format!("From: eve@example.com\r\nTo: hd@desk.example\r\nSubject: x\r\n{id_line}\r\n\r\nHi\r\n");
    let eve = receive(&desk.app, delivery("ses-4", "hd@desk.example", forged.as_bytes())).await.unwrap();
    assert_eq!(eve, Outcome::Created { request: "HD-2".into() });
    // On the window's last second a copy is still one; a second later, the same id opens a
    // new request.
    desk.app.clock.advance(threads::DUPLICATE_WINDOW_DAYS * 24 * 3600);
    let last = receive(&desk.app, delivery("ses-6", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(last, Outcome::Duplicate { request: "HD-1".into() });
    desk.app.clock.advance(1);
    let late = receive(&desk.app, delivery("ses-5", "hd@desk.example", &raw)).await.unwrap();
    assert_eq!(late, Outcome::Created { request: "HD-3".into() });
}

/// A reply sent to two of the helpdesk's addresses arrives twice under two SES ids: it is one
/// comment, the copy a duplicate.
#[tokio::test]
async fn a_copy_of_a_reply_under_a_new_ses_id_is_a_duplicate_not_a_second_comment() {
    let desk = desk().await;
    let first = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let key = key_of(&receive(&desk.app, delivery("ses-1", "hd@desk.example", &first)).await.unwrap());
    let first_id = incoming::parse(&first, None).unwrap().message_id.unwrap();
    let reply = mail("ann@example.com", "hd@desk.example", &format!("In-Reply-To: <{first_id}>\r\n"), "More smoke");
    let appended = receive(&desk.app, delivery("ses-2", "hd@desk.example", &reply)).await.unwrap();
    assert_eq!(appended, Outcome::Appended { request: key.clone() });
    let copy = receive(&desk.app, delivery("ses-3", "hd@desk.example", &reply)).await.unwrap();
    assert_eq!(copy, Outcome::Duplicate { request: key.clone() });
    assert_eq!(read_thread(&desk.app, &key).await.unwrap().comments.len(), 1);
}

/// Ann's first mail, opened as a request: its key and a header that answers it.
async fn answered(desk: &Desk) -> (String, String) {
    let first = mail("ann@example.com", "hd@desk.example", "", "It smokes");
    let key = key_of(&receive(&desk.app, delivery("ses-1", "hd@desk.example", &first)).await.unwrap());
    let first_id = incoming::parse(&first, None).unwrap().message_id.unwrap();
    (key, format!("In-Reply-To: <{first_id}>\r\n"))
}

/// Mail from a verified secondary address is its account's, under the rules that match that
/// address itself.
#[tokio::test]
async fn a_reply_from_a_secondary_address_answers_to_the_rules_of_that_address() {
    let desk = desk().await;
    let ann = desk.sign_in("ann@example.com").await;
    for address in ["ann.home@example.org", "ann.work@example.org"] {
        let input = crate::domain::emails::NewEmail { email: address.into() };
        crate::domain::emails::add_email(&desk.app, &ann, Ok(input)).await.unwrap();
        let sent = desk.outbox.sent().into_iter().rev().find(|m| m.to == address).unwrap();
        let token = sent.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        let input = crate::domain::emails::VerifyEmail { token };
        crate::domain::emails::verify_email(&desk.app, &ann, Ok(input)).await.unwrap();
    }
    let rule = crate::rules::RuleInput { rule: "reject:ann.work@example.org".into() };
    crate::rules::add_rule(&desk.app, &desk.admin, None, Ok(rule)).await.unwrap();
    let (key, header) = answered(&desk).await;
    let home = mail("ann.home@example.org", "hd@desk.example", &header, "From home");
    let outcome = receive(&desk.app, delivery("ses-2", "hd@desk.example", &home)).await.unwrap();
    assert_eq!(outcome, Outcome::Appended { request: key.clone() });
    let work = mail("ann.work@example.org", "hd@desk.example", &header, "From work");
    assert_eq!(receive(&desk.app, delivery("ses-3", "hd@desk.example", &work)).await.unwrap(), dropped("blocked"));
    let bodies: Vec<_> = read_thread(&desk.app, &key).await.unwrap().comments.into_iter().map(|c| c.body).collect();
    assert_eq!(bodies, ["From home"]);
}

#[tokio::test]
async fn an_agents_mail_that_starts_with_note_is_an_internal_note_and_a_customers_is_not() {
    let desk = desk().await;
    desk.staff("agent@example.com", "HD", crate::model::ProjectRole::Agent).await;
    let (key, header) = answered(&desk).await;
    let note = mail("agent@example.com", "hd@desk.example", &header, "#note\nCustomer is rude");
    assert_eq!(
        receive(&desk.app, delivery("ses-2", "hd@desk.example", &note)).await.unwrap(),
        Outcome::Appended { request: key.clone() }
    );
    let reply = mail("ann@example.com", "hd@desk.example", &header, "#NOTE\nMe too");
    assert_eq!(
        receive(&desk.app, delivery("ses-3", "hd@desk.example", &reply)).await.unwrap(),
        Outcome::Appended { request: key.clone() }
    );
    let comments = read_thread(&desk.app, &key).await.unwrap().comments;
    let seen: Vec<_> = comments.iter().map(|c| (c.body.as_str(), c.internal)).collect();
    assert_eq!(seen, [("Customer is rude", true), ("#NOTE\nMe too", false)]);
}

/// A project's support address outside the support domain, copied on a mail to another
/// project, is still the helpdesk's own: never a participant, never a skipped one.
#[tokio::test]
async fn a_custom_support_address_copied_on_a_mail_never_becomes_a_participant() {
    let desk = desk().await;
    let other = crate::projects::NewProject {
        key: "OT".into(),
        name: "Other".into(),
        support_address: Some("help@partner.example".into()),
    };
    crate::projects::create_project(&desk.app, &desk.admin, Ok(other)).await.unwrap();
    desk.sign_in("bob@example.com").await;
    let raw = mail("ann@example.com", "hd@desk.example", "Cc: bob@example.com, help@partner.example\r\n", "It smokes");
    assert_eq!(
        receive(&desk.app, delivery("ses-1", "hd@desk.example", &raw)).await.unwrap(),
        Outcome::Created { request: "HD-1".into() }
    );
    let thread = read_thread(&desk.app, "HD-1").await.unwrap();
    assert_eq!(thread.request.unwrap().participants, vec![EmailAddress::parse("bob@example.com").unwrap()]);
    assert!(thread.comments.is_empty(), "nothing skipped: {:?}", thread.comments);
}

/// A Message-ID threads replies for `MESSAGE_REF_DAYS`, to the second.
#[tokio::test]
async fn a_message_id_threads_replies_until_its_reference_expires() {
    let desk = desk().await;
    let (key, header) = answered(&desk).await;
    desk.app.clock.advance(MESSAGE_REF_DAYS * 24 * 3600 - 1);
    let reply = mail("ann@example.com", "hd@desk.example", &header, "Still there?");
    assert_eq!(
        receive(&desk.app, delivery("ses-2", "hd@desk.example", &reply)).await.unwrap(),
        Outcome::Appended { request: key }
    );
    desk.app.clock.advance(1);
    let late = mail("ann@example.com", "hd@desk.example", &header, "Hello again");
    assert_eq!(
        receive(&desk.app, delivery("ses-3", "hd@desk.example", &late)).await.unwrap(),
        Outcome::Created { request: "HD-2".into() }
    );
}

/// Received mail never names a Message-ID of the helpdesk's own shape (in its support domain)
/// nor one without a domain: only other ids are remembered for threading.
#[tokio::test]
async fn received_mail_keeps_no_message_id_of_the_helpdesks_shape() {
    let desk = desk().await;
    let ids = ["<x1@desk.example>", "<x2@mail.desk.example>", "<x3>", "<x4@client.example>"];
    for (n, id) in ids.iter().enumerate() {
        let raw =
            format!("From: ann@example.com\r\nTo: hd@desk.example\r\nSubject: x\r\nMessage-ID: {id}\r\n\r\nHi\r\n");
        receive(&desk.app, delivery(&format!("ses-{n}"), "hd@desk.example", raw.as_bytes())).await.unwrap();
    }
    let mut kept = vec![];
    for id in ids {
        if desk.app.store.get(&crate::items::message_ref_key(&message_key(id))).await.unwrap().is_some() {
            kept.push(id);
        }
    }
    assert_eq!(kept, ["<x4@client.example>"]);
}
