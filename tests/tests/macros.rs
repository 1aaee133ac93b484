//! Macros in the console over HTTP on DynamoDB Local: the preview says what a macro will do
//! and changes nothing, its confirmation applies it once, a macro's note is not added twice,
//! and a form move that dropped values can be undone from the history.

use helpdesk_tests::{Harness, PageAnswer};
use serde_json::{json, Value};

fn session(token: &str) -> String {
    format!("hd_session={token}")
}

/// Posts a console form as the signed-in `token`, with a CSRF token of theirs.
async fn submit(h: &Harness, token: &str, path: &str, fields: &[(&str, &str)]) -> PageAnswer {
    let csrf = h.page("GET", "/desk", &session(token), None).await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    h.page("POST", path, &session(token), Some(&all)).await
}

/// Posts a console form as customer `token`, with their portal's CSRF token.
async fn as_customer(h: &Harness, token: &str, path: &str, fields: &[(&str, &str)]) -> PageAnswer {
    let csrf = h.page("GET", "/portal", &session(token), None).await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    h.page("POST", path, &session(token), Some(&all)).await
}

/// The value of the first hidden input `name` on a page.
fn hidden(page: &PageAnswer, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    page.text
        .split(&marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no {name}: {}", page.text))
        .split('"')
        .next()
        .unwrap()
        .into()
}

/// A project HD with an admin, an agent and a customer (cy) with one request (HD-1).
async fn desk(h: &Harness) -> (String, String, String) {
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("agent"), "role": "agent"}))).await;
    let agent = h.sign_in(&h.email("agent")).await;
    let cy = h.sign_in(&h.email("cy")).await;
    h.ok("POST", "/projects/HD/requests", Some(&cy), Some(json!({"summary": "Printer on fire"}))).await;
    (admin, agent, cy)
}

async fn add_macro(h: &Harness, admin: &str, made: Value) -> String {
    h.ok("POST", "/projects/HD/macros", Some(admin), Some(made)).await.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_macro_is_previewed_in_plain_words_then_applied_once() {
    let h = Harness::start().await;
    let (admin, agent, cy) = desk(&h).await;
    let eve = h.email("eve");
    assert_eq!(submit(&h, &agent, "/desk/requests/HD-1/share", &[("email", &eve)]).await.status, 303);
    let solved = json!({"name": "Solved", "actions": [
        {"type": "add_public_reply", "body": "Fixed: the printer is replaced."},
        {"type": "add_internal_note", "body": "Replaced under warranty."},
        {"type": "set_status", "status": "closed"}]});
    let id = add_macro(&h, &admin, solved).await;
    let path = format!("/desk/requests/HD-1/macro?macro={id}");

    // The preview: the reply and to whom, the note, the status; nothing changes.
    let before = h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body;
    let preview = h.page("GET", &path, &session(&agent), None).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    for said in [
        "Fixed: the printer is replaced.",
        &format!("emailed to {}, {eve}", h.email("cy")),
        "Replaced under warranty.",
        "Sets the status to Closed (it is Open now).",
        "Apply macro",
        r#"href="/desk/requests/HD-1">Cancel"#,
    ] {
        assert!(preview.text.contains(said), "{said}: {}", preview.text);
    }
    // The API's preview says the same, in data.
    let api = h.ok("GET", &format!("/requests/HD-1/macros/{id}/preview"), Some(&agent), None).await.body;
    assert_eq!((&api["applies"], &api["recipients"]), (&json!(true), &json!([h.email("cy"), eve])));
    assert_eq!(
        api["steps"][0]["action"],
        json!({"type": "add_public_reply", "body": "Fixed: the printer is replaced."})
    );
    assert_eq!(h.call("GET", &format!("/requests/HD-1/macros/{id}/preview"), Some(&cy), None).await.status, 403);
    let after = h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body;
    assert_eq!((&after["version"], &after["status"]), (&before["version"], &json!("open")), "a preview spends nothing");

    // Who may not see it: the customer (403), another project's admin (404); no such macro: 404.
    assert_eq!(h.page("GET", &path, &session(&cy), None).await.status, 403);
    let applied_by_cy = as_customer(&h, &cy, "/desk/requests/HD-1/macro", &[("macro", &id)]).await;
    assert_eq!(applied_by_cy.status, 403, "{}", applied_by_cy.text);
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": h.email("ot"), "role": "admin"}))).await;
    let ot = h.sign_in(&h.email("ot")).await;
    assert_eq!(h.page("GET", &path, &session(&ot), None).await.status, 404);
    assert_eq!(submit(&h, &ot, "/desk/requests/HD-1/macro", &[("macro", &id)]).await.status, 404);
    let missing = h.page("GET", "/desk/requests/HD-1/macro?macro=nope", &session(&agent), None).await;
    assert_eq!(missing.status, 404);

    // Changed by an admin after the preview: the confirm refuses it and shows what it does now.
    let nonce = hidden(&preview, "nonce");
    let previewed = hidden(&preview, "previewed");
    let changed = json!({"name": "Solved", "actions": [
        {"type": "add_public_reply", "body": "Fixed: the printer is replaced."},
        {"type": "add_internal_note", "body": "Replaced under warranty (vendor ticket 7)."},
        {"type": "set_status", "status": "closed"}]});
    h.ok("PUT", &format!("/projects/HD/macros/{id}"), Some(&admin), Some(changed)).await;
    let stale = [("macro", id.as_str()), ("nonce", &nonce), ("previewed", &previewed)];
    let refused = submit(&h, &agent, "/desk/requests/HD-1/macro", &stale).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(
        refused.text.contains("changed since you opened it") && refused.text.contains("vendor ticket 7"),
        "{}",
        refused.text
    );
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body["version"], before["version"]);
    let preview = refused;

    // Confirmed twice with the page's token: applied once.
    let previewed = hidden(&preview, "previewed");
    for _ in 0..2 {
        let fields = [("macro", id.as_str()), ("nonce", &nonce), ("previewed", &previewed)];
        let done = submit(&h, &agent, "/desk/requests/HD-1/macro", &fields).await;
        assert_eq!((done.status, done.header("location")), (303, "/desk/requests/HD-1?done=macro"), "{}", done.text);
    }
    let applied = h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body;
    assert_eq!(
        (&applied["status"], &applied["comment_count"], &applied["note_count"]),
        (&json!("closed"), &json!(1), &json!(1))
    );
    let page = h.page("GET", "/desk/requests/HD-1?done=macro", &session(&agent), None).await.text;
    assert!(page.contains("The macro was applied.") && page.contains("applied the macro Solved"), "{page}");

    // Applied again: the reply goes again, the note (still the newest) is not added twice,
    // and the preview says so first.
    let again = h.page("GET", &path, &session(&agent), None).await;
    assert!(again.text.contains("already the newest note on the request"), "{}", again.text);
    let nonce = hidden(&again, "nonce");
    submit(&h, &agent, "/desk/requests/HD-1/macro", &[("macro", &id), ("nonce", &nonce)]).await;
    let twice = h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body;
    assert_eq!((&twice["comment_count"], &twice["note_count"]), (&json!(2), &json!(1)));
    // After someone else's note it is the newest no more: the macro's note is added again.
    h.ok("POST", "/requests/HD-1/comments", Some(&agent), Some(json!({"body": "Called them", "internal": true}))).await;
    h.ok("POST", &format!("/requests/HD-1/macros/{id}"), Some(&agent), None).await;
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body["note_count"], 3);

    // A macro with a step that cannot apply: the preview names it and offers no Apply.
    let broken = json!({"name": "Broken", "actions": [
        {"type": "add_tag", "tag": "escalated"}, {"type": "set_field", "key": "no_such_field", "value": "x"}]});
    let id = add_macro(&h, &admin, broken).await;
    let refused = h.page("GET", &format!("/desk/requests/HD-1/macro?macro={id}"), &session(&agent), None).await;
    assert_eq!(refused.status, 200);
    assert!(refused.text.contains("Cannot apply:") && !refused.text.contains("Apply macro"), "{}", refused.text);
    let forced = submit(&h, &agent, "/desk/requests/HD-1/macro", &[("macro", &id)]).await;
    assert_eq!(forced.status, 422, "{}", forced.text);
    assert!(forced.text.contains("action 2 (set_field)"), "{}", forced.text);
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body["tags"], json!([]));
}

#[tokio::test]
async fn a_form_move_keeps_the_values_it_dropped_and_can_be_undone() {
    let h = Harness::start().await;
    let (admin, agent, cy) = desk(&h).await;
    let hardware = json!({"name": "Hardware fault", "public": true, "fields": [
        {"key": "asset", "label": "Asset tag", "type": "text", "required": true}]});
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(hardware)).await;
    let raised = json!({"summary": "VPN", "form": "hardware-fault", "fields": {"asset": "LT-0042"}});
    h.ok("POST", "/projects/HD/requests", Some(&cy), Some(raised)).await;

    // The wrong-form macro moves HD-2 to Support Ops: the preview names the value it drops.
    let path = "/desk/requests/HD-2/macro?macro=incorrect-form-used";
    let preview = h.page("GET", path, &session(&agent), None).await;
    assert!(preview.text.contains("<dt>Asset tag</dt><dd>LT-0042</dd>"), "{}", preview.text);
    let nonce = hidden(&preview, "nonce");
    submit(&h, &agent, "/desk/requests/HD-2/macro", &[("macro", "incorrect-form-used"), ("nonce", &nonce)]).await;
    let moved = h.ok("GET", "/requests/HD-2", Some(&agent), None).await.body;
    assert_eq!((&moved["form"], &moved["fields"]), (&json!("support-ops"), &json!({})));

    // The history keeps it, with an Undo; the customer sees neither.
    let page = h.page("GET", "/desk/requests/HD-2", &session(&agent), None).await;
    assert!(page.text.contains("Asset tag: “LT-0042”") && page.text.contains("Undo the move"), "{}", page.text);
    let entry = hidden(&page, "entry");
    let theirs = h.ok("GET", "/requests/HD-2", Some(&cy), None).await.body.to_string();
    assert!(!theirs.contains("LT-0042") && !theirs.contains("form_changed"), "{theirs}");
    let by_cy = as_customer(&h, &cy, "/desk/requests/HD-2/undo-form", &[("entry", &entry)]).await;
    assert_eq!(by_cy.status, 403, "{}", by_cy.text);

    // Undone twice at once (a double click): both are answered as done, the second changes
    // nothing; back on its form with the value.
    let fields = [("entry", entry.as_str())];
    let undo = || submit(&h, &agent, "/desk/requests/HD-2/undo-form", &fields);
    let (first, second) = tokio::join!(undo(), undo());
    for undone in [first, second] {
        assert_eq!((undone.status, undone.header("location")), (303, "/desk/requests/HD-2?done=undo-form"));
    }
    let api_again = h.ok("POST", &format!("/requests/HD-2/history/{entry}/undo"), Some(&agent), None).await.body;
    assert_eq!(api_again["version"], h.ok("GET", "/requests/HD-2", Some(&agent), None).await.body["version"]);
    let back = h.ok("GET", "/requests/HD-2", Some(&agent), None).await.body;
    assert_eq!((&back["form"], &back["fields"]), (&json!("hardware-fault"), &json!({"asset": "LT-0042"})));
    let page = h.page("GET", "/desk/requests/HD-2?done=undo-form", &session(&agent), None).await.text;
    assert!(page.contains("The form move is undone") && !page.contains("Undo the move"), "{page}");
    assert!(page.contains("undid a form move: back from Support Ops to Hardware fault"), "{page}");

    // The console's own move drops it again; moved on since, the undo is refused in place.
    let moved = submit(&h, &agent, "/desk/requests/HD-2/form", &[("form", "support-ops")]).await;
    assert_eq!(moved.status, 303, "{}", moved.text);
    let page = h.page("GET", "/desk/requests/HD-2", &session(&agent), None).await;
    let entry = hidden(&page, "entry");
    h.ok("PUT", "/requests/HD-2/form", Some(&agent), Some(json!({"form": "default"}))).await;
    let stale = submit(&h, &agent, "/desk/requests/HD-2/undo-form", &[("entry", &entry)]).await;
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert!(stale.text.contains("no longer on Support Ops"), "{}", stale.text);
    let other = submit(&h, &agent, "/desk/requests/HD-1/undo-form", &[("entry", &entry)]).await;
    assert_eq!(other.status, 404, "an entry of another request");
}

async fn updated_for(h: &Harness, token: &str) -> Value {
    h.ok("GET", "/requests/HD-1", Some(token), None).await.body["updated_at"].clone()
}

/// A macro that, on this request, only tags and notes (its form move finds the request already
/// there) moves no time customers see: the note's time stays the agents'.
#[tokio::test]
async fn a_macro_that_changes_nothing_customers_see_moves_no_customer_time() {
    let h = Harness::start().await;
    let (admin, agent, cy) = desk(&h).await;
    let made = json!({"name": "Triage", "actions": [
        {"type": "set_form", "form": "support-ops"},
        {"type": "add_tag", "tag": "triage"},
        {"type": "add_internal_note", "body": "moved for triage"},
    ]});
    let id = add_macro(&h, &admin, made).await;
    let before = updated_for(&h, &cy).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.ok("POST", &format!("/requests/HD-1/macros/{id}"), Some(&agent), None).await;
    let moved = updated_for(&h, &cy).await;
    assert_ne!(moved, before, "the form move is the customer's to see");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.ok("POST", "/requests/HD-1/comments", Some(&agent), Some(json!({"body": "a second look", "internal": true})))
        .await;
    h.ok("POST", &format!("/requests/HD-1/macros/{id}"), Some(&agent), None).await;
    let shown = h.ok("GET", "/requests/HD-1", Some(&cy), None).await.body;
    assert_eq!(shown["updated_at"], moved, "only a tag and a note: {shown}");
    let notes = h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body["comments"].clone();
    assert_eq!(notes.as_array().unwrap().iter().filter(|c| c["body"] == "moved for triage").count(), 2, "{notes}");
}
