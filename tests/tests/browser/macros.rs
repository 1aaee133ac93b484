//! A macro in the console: the agent picks one that replies and closes, reads what it will do
//! (at a desk and on a phone), confirms, and sees the result.

use super::{raise, sign_in_in};
use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;
use serde_json::json;

#[tokio::test]
async fn an_agent_previews_a_macro_that_replies_and_closes_then_applies_it() {
    let h = Harness::start().await;
    let admin_token = h.admin_with_project("HD").await;
    let admin = h.email("admin");
    let solved = json!({"name": "Solved: printer replaced", "actions": [
        {"type": "add_public_reply", "body": "Good news: we replaced the printer on the 3rd floor.\n\nReply here if it acts up again."},
        {"type": "add_internal_note", "body": "Replaced under warranty, ticket with the vendor closed."},
        {"type": "add_tag", "tag": "hardware"},
        {"type": "set_status", "status": "closed"}]});
    let made = h.ok("POST", "/projects/HD/macros", Some(&admin_token), Some(solved)).await;
    let id = made.body["id"].as_str().unwrap().to_string();
    let cy = h.sign_in(&h.email("cy")).await;
    let key = raise(&h, &cy, "The printer on the 3rd floor is on fire").await;
    h.ok(
        "POST",
        &format!("/requests/{key}/participants"),
        Some(&admin_token),
        Some(json!({"emails": [h.email("dee")]})),
    )
    .await;

    let b = Browser::start("macro").await;
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    b.choose("#macro-choice", &id).await;
    b.click("#macros form button").await;
    assert_eq!(b.path().await, format!("/desk/requests/{key}/macro?macro={id}"));
    let preview = b.text().await;
    for said in [
        "Nothing has changed yet.",
        "Good news: we replaced the printer",
        &format!("emailed to {}, {}", h.email("cy"), h.email("dee")),
        "Replaced under warranty",
        "Adds the tag hardware.",
        "Sets the status to Closed (it is Open now).",
    ] {
        assert!(preview.contains(said), "{said}: {preview}");
    }
    b.shot("preview-desktop").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("preview-phone").await;
    b.client.execute("document.querySelector('form[action$=\"/macro\"]').scrollIntoView()", vec![]).await.unwrap();
    b.shot("preview-phone-confirm").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    assert_eq!(h.ok("GET", &format!("/requests/{key}"), Some(&admin_token), None).await.body["status"], "open");

    b.click("form[action$='/macro'] button").await;
    assert_eq!(b.path().await, format!("/desk/requests/{key}?done=macro"));
    let done = b.text().await;
    assert!(done.contains("The macro was applied.") && done.contains("Good news: we replaced the printer"), "{done}");
    assert!(done.contains("applied the macro Solved: printer replaced"), "{done}");
    b.shot("applied").await;
    let after = h.ok("GET", &format!("/requests/{key}"), Some(&admin_token), None).await.body;
    assert_eq!(
        (&after["status"], &after["comment_count"], &after["note_count"]),
        (&json!("closed"), &json!(1), &json!(1))
    );

    // A form move that dropped a value: the history shows it with an Undo, which restores it.
    let hardware = json!({"name": "Hardware fault", "public": true, "fields": [
        {"key": "asset", "label": "Asset tag", "type": "text", "required": true}]});
    h.ok("POST", "/projects/HD/forms", Some(&admin_token), Some(hardware)).await;
    let raised = json!({"summary": "Laptop will not boot", "form": "hardware-fault", "fields": {"asset": "LT-0042"}});
    let other =
        h.ok("POST", "/projects/HD/requests", Some(&cy), Some(raised)).await.body["key"].as_str().unwrap().to_string();
    h.ok("POST", &format!("/requests/{other}/macros/incorrect-form-used"), Some(&admin_token), None).await;
    b.goto(&format!("{}/desk/requests/{other}", h.base)).await;
    b.client.execute("document.querySelector('ol.history').scrollIntoView()", vec![]).await.unwrap();
    let history = b.client.find(fantoccini::Locator::Css("ol.history")).await.unwrap().text().await.unwrap();
    assert!(history.contains("Asset tag: “LT-0042”") && history.contains("Undo the move"), "{history}");
    b.shot("history-undo").await;
    b.click("form[action$='/undo-form'] button").await;
    let undone = b.text().await;
    assert!(undone.contains("The form move is undone") && undone.contains("LT-0042"), "{undone}");
    b.shot("undone").await;
    b.close().await;
}
