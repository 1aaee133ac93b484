//! The team by email: each agent gets the mail their choice asks for, and answers by email.

use super::*;

/// The subjects and texts of the mail moto recorded for `to`, oldest first.
async fn mail_to(h: &Harness, to: &str) -> Vec<(String, String, String)> {
    h.raw_mail_to(to)
        .await
        .iter()
        .map(|raw| {
            let mail = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
            let reply_to = mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("").to_string();
            let text = mail.body_text(0).unwrap_or_default().replace("\r\n", "\n");
            (mail.subject().unwrap_or("").to_string(), text, reply_to)
        })
        .collect()
}

#[tokio::test]
async fn agents_get_the_email_their_choice_asks_for_and_answer_by_email() {
    let t = team().await;
    let ann_email = t.h.email("ann");
    let admin_email = t.h.email("admin");
    let kim_id = t.id_of(&t.kim_email).await;
    t.h.ok("PUT", &format!("/projects/HD/agents/{kim_id}"), Some(&t.kim), Some(json!({"notify": "all"}))).await;
    let stream = || async {
        let (event, answer) = t.h.run_stream().await;
        assert_eq!(answer, json!({"batchItemFailures": []}));
        event
    };
    stream().await;

    // A new unassigned request: Kim (all activity) hears; Gus and the admin (assigned) do not.
    let key = t.raise(&t.ann, "Printer on fire").await;
    stream().await;
    let to_kim = mail_to(&t.h, &t.kim_email).await;
    assert_eq!(to_kim.len(), 1, "{to_kim:?}");
    assert!(to_kim[0].1.contains(&format!("{ann_email} opened {key}")), "{}", to_kim[0].1);
    assert!(to_kim[0].1.contains(&format!("/desk/requests/{key}")), "agents get the console link");
    assert!(mail_to(&t.h, &t.gus_email).await.is_empty() && mail_to(&t.h, &admin_email).await.is_empty());

    // The admin gives it to Gus: Gus hears once, even when the batch comes again.
    t.patch(&key, &t.admin, json!({"assignee": t.gus_email})).await;
    let batch = stream().await;
    t.h.run_stream_event(batch).await;
    let to_gus = mail_to(&t.h, &t.gus_email).await;
    assert_eq!(to_gus.len(), 1, "{to_gus:?}");
    assert!(to_gus[0].1.contains(&format!("{admin_email} assigned {key} to you")), "{}", to_gus[0].1);
    // Taking one yourself tells nobody.
    let own = t.raise(&t.ann, "Second").await;
    t.patch(&own, &t.gus, json!({"assignee": "me"})).await;
    stream().await;
    assert_eq!(mail_to(&t.h, &t.gus_email).await.len(), 1);

    // Ann answers on Gus's request: Gus hears (it is his); Kim does not (it has an owner).
    let kim_before = mail_to(&t.h, &t.kim_email).await.len();
    t.h.ok("POST", &format!("/requests/{key}/comments"), Some(&t.ann), Some(json!({"body": "It smokes more"}))).await;
    stream().await;
    let to_gus = mail_to(&t.h, &t.gus_email).await;
    assert_eq!(to_gus.len(), 2);
    assert!(to_gus[1].1.contains("It smokes more") && to_gus[1].1.contains("#note"), "{}", to_gus[1].1);
    assert_eq!(kim_before, 2, "Kim heard of both new requests");
    assert_eq!(mail_to(&t.h, &t.kim_email).await.len(), kim_before, "not of a reply on an owned request");

    // Gus answers that email: a public reply, which Ann gets; then an internal note by `#note`.
    let reply_to = to_gus[1].2.clone();
    let ann_before = mail_to(&t.h, &ann_email).await.len();
    let mail = |id: &str, body: &str| {
        format!(
            "From: {}\r\nTo: {reply_to}\r\nSubject: Re: [{key}]\r\nMessage-ID: <{id}@example.com>\r\n\r\n{body}\r\n",
            t.gus_email
        )
    };
    let answered = t.h.inbound_email(mail("g1", "Unplug it now."), "message_id=ses-g1").await;
    assert_eq!(answered.body, json!({"outcome": "appended", "request": key}), "{answered:?}");
    let noted = t.h.inbound_email(mail("g2", "#NOTE\r\nShe sounds worried; call her."), "message_id=ses-g2").await;
    assert_eq!(noted.body, json!({"outcome": "appended", "request": key}));
    stream().await;
    let thread = t.get(&key, &t.admin).await["comments"].clone();
    let last_two: Vec<(bool, String)> = thread.as_array().unwrap()[thread.as_array().unwrap().len() - 2..]
        .iter()
        .map(|c| (c["internal"].as_bool().unwrap(), c["body"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(last_two, [(false, "Unplug it now.".to_string()), (true, "She sounds worried; call her.".to_string())]);
    let to_ann = mail_to(&t.h, &ann_email).await;
    assert_eq!(to_ann.len(), ann_before + 1, "the note reached no customer");
    assert!(to_ann.last().unwrap().1.contains("Unplug it now.") && !to_ann.iter().any(|m| m.1.contains("worried")));
    // Gus's own reply told no agent, and nobody got anything twice.
    assert_eq!(mail_to(&t.h, &t.gus_email).await.len(), 2);
    assert_eq!(mail_to(&t.h, &t.kim_email).await.len(), kim_before);
}
